"""Rule modules. Importing this package registers every rule (see registry.all_rules)."""

from fastapi_lint.rules import blocking, file  # noqa: F401
from fastapi_lint.rules import security  # noqa: F401
from fastapi_lint.rules import lifecycle  # noqa: F401
from fastapi_lint.rules import correctness  # noqa: F401
