"""Fixture files: `tests/fixtures/<CODE or prefix>[_anything].py` with `# error: CODE[, CODE]` markers.

The file name's leading code or prefix (`FPI101`, `FPI1`) selects the rules the fixture
is linted with. Goldens: `<name>.fixed.py` (safe fixes) and `<name>.unsafe.fixed.py`
(with --unsafe-fixes) next to the fixture.
"""

import collections
import os
import re

from fastapi_lint.engine import lint_source
from fastapi_lint.model.facts import facts_of_source
from fastapi_lint.settings import Settings, resolve_selection

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
MARKER = re.compile(r"#\s*error:\s*(?P<codes>FPI\d{3}(?:\s*,\s*FPI\d{3})*)")
NAME = re.compile(r"^(?P<sel>FPI\d{1,3})(?:_[\w]+)?\.py$")


def fixture_files():
    out = []
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".fixed.py") or not name.endswith(".py"):
            continue
        if NAME.match(name):
            out.append(name)
    return out


def selector_of(name):
    return NAME.match(name).group("sel")


def read(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        return fh.read()


def expected_markers(source):
    found = collections.Counter()
    for lineno, line in enumerate(source.splitlines(), 1):
        m = MARKER.search(line)
        if m:
            for code in re.split(r"\s*,\s*", m.group("codes")):
                found[(lineno, code)] += 1
    return found


def settings_for(name, **kw):
    return Settings(enabled=resolve_selection([selector_of(name)], [], []), **kw)


def lint_fixture(name, source=None, gated=True, **kw):
    """Lint a fixture as `check` does: through the second gate, with the facts the scan pass
    would read (`gated=False`: without it, for tests/test_gates.py)."""
    source = read(name) if source is None else source
    path = os.path.join(FIXTURES, name)
    facts = facts_of_source(source) if gated else None
    return lint_source(source, path, settings_for(name, **kw), facts=facts)


def reported(result):
    return collections.Counter((d.line, d.code) for d in result.diagnostics)
