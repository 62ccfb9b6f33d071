"""Rule modules. Importing this package registers every rule (see registry.all_rules)."""

from fastapi_lint.rules import blocking, coroutines, correctness, file, lifecycle, security  # noqa: F401
