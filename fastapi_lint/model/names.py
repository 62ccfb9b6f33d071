"""Module names, without libcst: the scan pass (CPython's `ast`) and the libcst model share them."""

from __future__ import annotations

from typing import Optional


def resolve_relative_name(name: Optional[str], level: int, current_module: Optional[str],
                          is_package: bool) -> Optional[str]:
    """The absolute module of `from <level dots><name> import ...` in `current_module`."""
    if level == 0:
        return name
    if not current_module:
        return None
    parts = current_module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if name:
        base = base + name.split(".")
    return ".".join(base) or None
