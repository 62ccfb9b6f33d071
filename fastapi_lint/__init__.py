"""fastapi-lint: find and fix the mistakes that hurt FastAPI applications in production."""

__version__ = "0.1.0"

from fastapi_lint.diagnostics import Diagnostic, Edit, FileResult, Fix  # noqa: E402
from fastapi_lint.engine import lint_paths, lint_source  # noqa: E402

__all__ = ["Diagnostic", "Edit", "FileResult", "Fix", "lint_paths", "lint_source", "__version__"]
