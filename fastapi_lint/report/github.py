"""GitHub Actions workflow commands (`--format github`): one annotation per diagnostic.

    ::error file=app.py,line=9,col=5,endLine=9,endColumn=18,title=FPI101::<message>

Escaping follows @actions/core: in the message `%`, `\\r`, `\\n` become `%25`, `%0D`, `%0A`;
in property values `:` and `,` also become `%3A` and `%2C`. Columns are 1-based and
`endColumn` is exclusive, as in our other formats. `file` is relative to the repository root
(the nearest folder with `.git`), as GitHub resolves it, even when fastapi-lint runs in a
subfolder (`working-directory: backend`).
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.report.sarif import find_repo_root
from fastapi_lint.settings import relpath_under

COMMANDS = {"error": "error", "warning": "warning"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic, root: Optional[str] = None) -> str:
    path = d.path if root is None or d.path in ("-", "<stdin>") else relpath_under(d.path, root)
    props = [("file", path.replace(os.sep, "/")), ("line", str(d.line)), ("col", str(d.column)),
             ("endLine", str(d.end_line)), ("endColumn", str(d.end_column)), ("title", d.code)]
    command = COMMANDS.get(d.severity, "notice")
    return f"::{command} " + ",".join(f"{k}={escape_property(v)}" for k, v in props) + \
        f"::{escape_data(d.message)}"


def render_github(diags: Sequence[Diagnostic], root: Optional[str] = None) -> str:
    root = root or find_repo_root()
    return "".join(annotation(d, root) + "\n" for d in sorted(diags, key=Diagnostic.sort_key))
