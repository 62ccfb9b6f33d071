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
    #: Module-level instances: name -> qualified name of the class (`db = Database()`).
    instances: Dict[str, str] = field(default_factory=dict)


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, FunctionSummary] = {}
        self.dependencies: Set[str] = set()
        self.depends_aliases: Set[str] = set()
        self._chains: Dict[str, Optional[List[str]]] = {}
        for s in summaries:
            self.add(s)

    def add(self, summary: ModuleSummary) -> None:
        if summary.module:
            self.modules[summary.module] = summary
        self.functions.update(summary.functions)
        self.dependencies |= summary.dependencies
        self.depends_aliases |= getattr(summary, "depends_aliases", set())
        self._chains = {}

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

    def project_function(self, qualname: Optional[str]) -> Optional[FunctionSummary]:
        """`function()` that also sees constructors (`pkg.Repo` -> `pkg.Repo.__init__`) and
        methods of module-level instances (`pkg.db.db.connect` with `db = Database()`)."""
        if not qualname:
            return None
        found = self.function(qualname)
        if found is None:
            found = self.function(f"{qualname}.__init__")
        if found is None:
            owner, _, attr = qualname.rpartition(".")
            mod, _, name = owner.rpartition(".")
            summary = self.modules.get(mod)
            if summary is not None and name in summary.instances:
                found = self.function(f"{summary.instances[name]}.{attr}")
            elif summary is not None and name in summary.imports:  # re-exported instance
                target = summary.imports[name]
                tmod, _, tname = target.rpartition(".")
                tsum = self.modules.get(tmod)
                if tsum is not None and tname in tsum.instances:
                    found = self.function(f"{tsum.instances[tname]}.{attr}")
        return found

    def blocking_chain(self, qualname: Optional[str]) -> Optional[List[str]]:
        """For a sync project function that reaches a blocking call through sync project
        calls: the chain of labels, e.g. ["load_settings()", "open()"]; else None."""
        f = self.project_function(qualname)
        if f is None or f.is_async:
            return None
        key = f.qualname
        if key in self._chains:
            return self._chains[key]
        self._chains[key] = None  # a cycle reaches nothing new
        mod_prefix = next((m + "." for m in _prefixes(key) if m in self.modules), "")
        label = f"{key[len(mod_prefix):]}()"
        chain: Optional[List[str]] = None
        blocks = f.facts.get("blocks")
        if blocks:
            chain = [label, str(blocks[1])]
        else:
            for callee in f.facts.get("calls", ()):  # type: ignore[union-attr]
                sub = self.blocking_chain(callee)
                if sub:
                    chain = [label] + sub
                    break
        self._chains[key] = chain
        return chain


def _prefixes(qualname: str) -> List[str]:
    parts = qualname.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


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


def summarize_source(source: str, path: str, module_name: Optional[str], is_package: bool) -> ModuleSummary:
    """The same summary as `summarize_module`, from CPython's `ast` (about ten times faster
    than a libcst parse), plus the blocking facts of `model/blocking_index.py`.
    Raises SyntaxError/ValueError when `ast` cannot read the file."""
    import ast

    from fastapi_lint.model.blocking_index import add_blocking_facts

    tree = ast.parse(source)
    summary = ModuleSummary(module_name, path)
    prefix = f"{module_name}." if module_name else ""
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for name, qual in _ast_import_bindings(stmt, module_name, is_package):
                if qual:
                    summary.imports[name] = qual
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            q = f"{prefix}{stmt.name}"
            summary.functions[q] = FunctionSummary(q, isinstance(stmt, ast.AsyncFunctionDef), stmt.lineno)
        elif isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    q = f"{prefix}{stmt.name}.{inner.name}"
                    summary.functions[q] = FunctionSummary(q, isinstance(inner, ast.AsyncFunctionDef), inner.lineno)
    if any(n in source for n in DEPENDS_NAMES):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _ast_dotted(node.func)
            if not name or name.rpartition(".")[2] not in DEPENDS_NAMES:
                continue
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "dependency"),
                                                        None)
            target = _ast_dotted(arg) if arg is not None else None
            if not target:
                continue
            head, _, rest = target.partition(".")
            if head in summary.imports:
                summary.dependencies.add(summary.imports[head] + (f".{rest}" if rest else ""))
            else:
                summary.dependencies.add(f"{prefix}{target}")
    add_blocking_facts(summary, tree, is_package)
    return summary


def _ast_dotted(node) -> Optional[str]:
    import ast

    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _ast_import_bindings(stmt, module_name: Optional[str], is_package: bool):
    import ast

    from fastapi_lint.model.blocking_index import _resolve_relative

    if isinstance(stmt, ast.Import):
        for a in stmt.names:
            if a.asname:
                yield a.asname, a.name
            else:
                head = a.name.split(".")[0]
                yield head, head
        return
    base = _resolve_relative(stmt.module, stmt.level, module_name, is_package)
    for a in stmt.names:
        if a.name != "*":
            yield a.asname or a.name, (f"{base}.{a.name}" if base else None)
