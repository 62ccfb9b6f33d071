"""Suppression comments.

- `# noqa` / `# noqa: FPI101, FPI102` on the reported line (flake8's syntax; a listed code
  also matches codes it is a prefix of, as in flake8).
- `# fastapi-lint: noqa` on a line of its own: the whole file is skipped.
- `# fastapi-lint: noqa: FPI101` on a line of its own: those codes are off for the file.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Optional, Tuple

_CODE = r"[A-Z]+[0-9]+"
NOQA_INLINE = re.compile(
    rf"#\s*noqa(?::[\s]?(?P<codes>{_CODE}(?:[,\s]+{_CODE})*))?",
    re.IGNORECASE,
)
NOQA_FILE = re.compile(
    rf"^[ \t]*#[ \t]*fastapi-lint[ \t]*:[ \t]*noqa(?:[ \t]*:[ \t]*(?P<codes>{_CODE}(?:[ \t,]+{_CODE})*))?[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_SPLIT = re.compile(r"[,\s]+")

ALL = None  # codes value meaning "every code"


def file_exemption(source: str) -> Tuple[bool, FrozenSet[str]]:
    """(skip whole file, codes exempted for the whole file)."""
    if "fastapi-lint" not in source:
        return False, frozenset()
    codes = set()
    for m in NOQA_FILE.finditer(source):
        if m.group("codes") is None:
            return True, frozenset()
        codes.update(c.upper() for c in _SPLIT.split(m.group("codes").strip()) if c)
    return False, frozenset(codes)


def line_noqa(line: str) -> Optional[Tuple[Optional[FrozenSet[str]]]]:
    """None if the line has no noqa; (None,) for a bare noqa; (codes,) for `noqa: codes`."""
    if "noqa" not in line.lower():
        return None
    m = NOQA_INLINE.search(line)
    if m is None:
        return None
    if m.group("codes") is None:
        return (ALL,)
    return (frozenset(c.upper() for c in _SPLIT.split(m.group("codes").strip()) if c),)


def code_matches(code: str, listed: FrozenSet[str]) -> bool:
    return code in listed or any(code.startswith(c) for c in listed)


class NoqaIndex:
    """Answers "is this code suppressed on this line" for one file."""

    def __init__(self, source: str) -> None:
        self._lines = source.splitlines()
        self._memo: Dict[int, Optional[Tuple[Optional[FrozenSet[str]]]]] = {}
        _, self.file_codes = file_exemption(source)

    def suppressed(self, code: str, line: int) -> bool:
        if self.file_codes and code_matches(code, self.file_codes):
            return True
        if line not in self._memo:
            text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
            self._memo[line] = line_noqa(text)
        found = self._memo[line]
        if found is None:
            return False
        codes = found[0]
        return codes is ALL or code_matches(code, codes)
