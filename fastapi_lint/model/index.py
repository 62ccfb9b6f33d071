"""The project index: what each module of the checked tree defines, for rules that look
across modules (a helper in `storage.py` that blocks, an `async def` in `services.py`).

The engine builds it in a first pass over every checked file when an enabled rule sets
`needs_index`, from one `ModuleSummary` per file (plain data: cached and sent between
processes), then hands the merged `ProjectIndex` to every file's ModuleContext.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

import libcst as cst

from fastapi_lint.model.imports import dotted_name, iter_block_statements, scope_bindings


@dataclass
class FunctionSummary:
    qualname: str  # "pkg.mod.func" or "pkg.mod.Class.method"
    is_async: bool
    line: int = 0
    #: Free-form facts that rule families add (e.g. "blocks": "open()"). Plain JSON data.
    facts: Dict[str, object] = field(default_factory=dict)


@dataclass
class ModuleSummary:
    module: Optional[str]
    path: str
    functions: Dict[str, FunctionSummary] = field(default_factory=dict)
    #: Qualified names this module passes to Depends()/Security().
    dependencies: Set[str] = field(default_factory=set)
    #: Local name -> qualified name for the module's top-level imports.
    imports: Dict[str, str] = field(default_factory=dict)
    #: Qualified names of module-level `X = Annotated[T, Depends(f)]` aliases.
    depends_aliases: Set[str] = field(default_factory=set)


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, FunctionSummary] = {}
        self.dependencies: Set[str] = set()
        self.depends_aliases: Set[str] = set()
        for s in summaries:
            self.add(s)

    def add(self, summary: ModuleSummary) -> None:
        if summary.module:
            self.modules[summary.module] = summary
        self.functions.update(summary.functions)
        self.dependencies |= summary.dependencies
        self.depends_aliases |= getattr(summary, "depends_aliases", set())

    def digest(self) -> str:
        """Changes whenever any module's summary changes (cached results depend on it)."""
        h = hashlib.sha256()
        for name in sorted(self.functions):
            f = self.functions[name]
            h.update(repr((name, f.is_async, sorted(f.facts.items(), key=str))).encode())
        for dep in sorted(self.dependencies):
            h.update(dep.encode())
        for alias in sorted(self.depends_aliases):
            h.update(b"alias:" + alias.encode())
        return h.hexdigest()[:16]

    def function(self, qualname: Optional[str]) -> Optional[FunctionSummary]:
        if not qualname:
            return None
        found = self.functions.get(qualname)
        if found is None:
            # `from pkg import func` where pkg/__init__.py re-exports func from a submodule
            mod, _, name = qualname.rpartition(".")
            summary = self.modules.get(mod)
            if summary is not None and name in summary.imports and summary.imports[name] != qualname:
                return self.function(summary.imports[name])
        return found

    def is_dependency(self, qualname: str) -> bool:
        return qualname in self.dependencies


def module_name_for(path: str, root: Optional[str] = None) -> Tuple[Optional[str], bool]:
    """(dotted module name, is_package) of a file, walking up while `__init__.py` exists."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else os.path.splitext(filename)[0]
    if not stem.isidentifier():
        return None, False
    is_package = stem == "__init__"
    parts: List[str] = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, pkg = os.path.split(directory)
        if not pkg.isidentifier():
            break
        parts.insert(0, pkg)
        if root and os.path.abspath(directory) == os.path.abspath(root):
            break
    if not parts:
        return None, is_package
    return ".".join(parts), is_package


DEPENDS_NAMES = ("Depends", "Security")


def summarize_module(module: cst.Module, source: str, path: str, module_name: Optional[str],
                     is_package: bool) -> ModuleSummary:
    summary = ModuleSummary(module_name, path)
    bindings = scope_bindings(module.body, module_name, is_package)
    summary.imports = {k: v for k, v in bindings.items() if v}
    prefix = f"{module_name}." if module_name else ""

    def add_functions(body, owner: str) -> None:
        for stmt in iter_block_statements(body):
            if isinstance(stmt, cst.FunctionDef):
                q = f"{prefix}{owner}{stmt.name.value}"
                summary.functions[q] = FunctionSummary(q, stmt.asynchronous is not None)
            elif isinstance(stmt, cst.ClassDef) and not owner:
                add_functions(stmt.body.body, f"{stmt.name.value}.")

    add_functions(module.body, "")

    class _Deps(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = dotted_name(node.func)
            if not name or name.rpartition(".")[2] not in DEPENDS_NAMES or not node.args:
                return
            arg = node.args[0]
            if arg.keyword is not None and arg.keyword.value != "dependency":
                return
            target = dotted_name(arg.value)
            if not target:
                return
            head, _, rest = target.partition(".")
            if head in summary.imports:
                resolved = summary.imports[head] + (f".{rest}" if rest else "")
            else:
                resolved = f"{prefix}{target}"
            summary.dependencies.add(resolved)

    if any(n in source for n in DEPENDS_NAMES):
        module.visit(_Deps())
        for stmt in iter_block_statements(module.body):
            if isinstance(stmt, cst.Assign) and isinstance(stmt.value, cst.Subscript) \
                    and any(n in module.code_for_node(stmt.value) for n in DEPENDS_NAMES):
                for t in stmt.targets:
                    if isinstance(t.target, cst.Name):
                        summary.depends_aliases.add(f"{prefix}{t.target.value}")
    return summary
