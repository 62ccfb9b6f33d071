"""The values a run produces: diagnostics, their fixes and the edits of those fixes.

Everything here is plain data that pickles (results cross process boundaries) and
round-trips through JSON (results are cached).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY_ONLY = "display-only"
APPLICABILITIES = (SAFE, UNSAFE, DISPLAY_ONLY)


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions with `content`."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass
class Fix:
    applicability: str
    message: str
    edits: List[Edit] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [asdict(e) for e in self.edits],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Fix":
        return cls(data["applicability"], data["message"], [Edit(**e) for e in data["edits"]])


@dataclass
class Diagnostic:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str = "error"
    fix: Optional[Fix] = None

    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity,
            "fix": self.fix.to_dict() if self.fix else None,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Diagnostic":
        data = dict(data)
        fix = data.pop("fix")
        return cls(fix=Fix.from_dict(fix) if fix else None, **data)


@dataclass
class FileResult:
    """What linting one file produced."""

    path: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    # Internal errors: a rule (or the engine) raised on this file. Reported, exit code 2.
    errors: List[str] = field(default_factory=list)
    # Set when --fix/--diff produced new content for the file.
    fixed_source: Optional[bytes] = None
    original_source: Optional[bytes] = None
    fixed_count: int = 0
