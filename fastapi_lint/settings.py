"""Effective settings of a run, and rule selection by code or prefix (ruff's semantics)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import FrozenSet, Optional, Sequence, Tuple

from fastapi_lint import __version__
from fastapi_lint.registry import rule_meta


class SelectionError(ValueError):
    pass


def check_selector(selector: str) -> str:
    """Normalise a selector (`ALL`, `FPI`, `FPI1`, `FPI101`) or raise SelectionError."""
    sel = selector.strip().upper()
    if sel == "ALL":
        return sel
    codes = rule_meta()
    if not sel.startswith("FPI") or not any(code.startswith(sel) for code in codes):
        known = ", ".join(sorted(codes))
        raise SelectionError(f"unknown rule selector {selector!r} (known codes: {known}; prefixes like FPI, FPI1; ALL)")
    return sel


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def resolve_selection(select: Optional[Sequence[str]], extend_select: Sequence[str],
                      ignore: Sequence[str]) -> FrozenSet[str]:
    """The enabled codes. Each code takes the verdict of the most specific selector that
    matches it; on a tie `ignore` wins. Without `select`, the default-on rules are the base."""
    rules = rule_meta()
    enabled = set()
    for code, rule in rules.items():
        best_sel, best_on = -1, False
        if select is None:
            if rule.default:
                best_sel, best_on = 0, True
        for s in list(select or ()) + list(extend_select):
            if s == "ALL" or code.startswith(s):
                spec = _specificity(s)
                if spec >= best_sel:
                    best_sel, best_on = spec, True
        for s in ignore:
            if s == "ALL" or code.startswith(s):
                spec = _specificity(s)
                if spec >= best_sel:
                    best_sel, best_on = spec, False
        if best_on:
            enabled.add(code)
    return frozenset(enabled)


DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
    ".vscode", "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules",
    "site-packages", "venv", ".fastapi_lint_cache",
)


@dataclass
class Settings:
    enabled: FrozenSet[str] = field(default_factory=lambda: resolve_selection(None, (), ()))
    per_file_ignores: Tuple[Tuple[str, FrozenSet[str]], ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    force_exclude: bool = False
    respect_gitignore: bool = True
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    #: Compute each fix's text edits (JSON/SARIF output need them; text output does not).
    want_edits: bool = False
    root: str = field(default_factory=os.getcwd)
    cache: bool = True
    jobs: Optional[int] = None

    @property
    def fixing(self) -> bool:
        return self.fix or self.diff

    def ignored_for(self, path: str) -> FrozenSet[str]:
        """Selectors that per-file-ignores turns off for `path` (absolute or relative)."""
        if not self.per_file_ignores:
            return frozenset()
        rel = relpath_under(path, self.root).replace(os.sep, "/")
        base = os.path.basename(path)
        out = set()
        for pattern, selectors in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(base, pattern) or \
                    fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"):
                out |= selectors
        return frozenset(out)

    def enabled_for(self, path: str) -> FrozenSet[str]:
        ignored = self.ignored_for(path)
        if not ignored:
            return self.enabled
        return frozenset(c for c in self.enabled if not any(s == "ALL" or c.startswith(s) for s in ignored))

    def digest(self) -> str:
        """Changes whenever a setting that can change a file's result changes."""
        data = {
            "version": __version__,
            "enabled": sorted(self.enabled),
            "pfi": [(p, sorted(s)) for p, s in self.per_file_ignores],
            "edits": self.want_edits,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def relpath_under(path: str, root: str) -> str:
    """`path` relative to `root` when it lies under it, else `path` unchanged."""
    abspath = os.path.abspath(path)
    root = os.path.abspath(root)
    if abspath == root:
        return os.curdir
    prefix = root.rstrip(os.sep) + os.sep
    # both are normalised: what follows the root's prefix is `os.path.relpath(abspath, root)`
    return abspath[len(prefix):] if abspath.startswith(prefix) else path


def display_path(path: str) -> str:
    """The path as the user would type it: relative to the working directory when under it."""
    return relpath_under(path, os.getcwd())
