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
    #: Top-level classes: qualified name -> qualified names of their bases (as resolvable).
    classes: Dict[str, List[str]] = field(default_factory=dict)
    #: Module-level instances: qualified name -> qualified name of the callable that built it
    #: (`service = UserService()` -> {"pkg.mod.service": "pkg.mod.UserService"}).
    instances: Dict[str, str] = field(default_factory=dict)


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, FunctionSummary] = {}
        self.dependencies: Set[str] = set()
        self.classes: Dict[str, List[str]] = {}
        self.instances: Dict[str, str] = {}
        for s in summaries:
            self.add(s)

    def add(self, summary: ModuleSummary) -> None:
        if summary.module:
            self.modules[summary.module] = summary
        self.functions.update(summary.functions)
        self.dependencies |= summary.dependencies
        self.classes.update(summary.classes)
        self.instances.update(summary.instances)

    def digest(self) -> str:
        """Changes whenever any module's summary changes (cached results depend on it)."""
        h = hashlib.sha256()
        for name in sorted(self.functions):
            f = self.functions[name]
            h.update(repr((name, f.is_async, sorted(f.facts.items(), key=str))).encode())
        for dep in sorted(self.dependencies):
            h.update(dep.encode())
        for name in sorted(self.classes):
            h.update(repr((name, self.classes[name])).encode())
        for name in sorted(self.instances):
            h.update(repr((name, self.instances[name])).encode())
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

    def _reexported(self, qualname: str) -> Optional[str]:
        mod, _, name = qualname.rpartition(".")
        summary = self.modules.get(mod)
        if summary is not None and name in summary.imports and summary.imports[name] != qualname:
            return summary.imports[name]
        return None

    def class_qualname(self, qualname: Optional[str], depth: int = 0) -> Optional[str]:
        """The project class `qualname` names (following re-exports), or None."""
        if not qualname or depth > 5:
            return None
        if qualname in self.classes:
            return qualname
        return self.class_qualname(self._reexported(qualname), depth + 1)

    def instance_class(self, qualname: Optional[str], depth: int = 0) -> Optional[str]:
        """The project class of a module-level instance (`from svc import service`), or None."""
        if not qualname or depth > 5:
            return None
        if qualname in self.instances:
            return self.class_qualname(self.instances[qualname])
        return self.instance_class(self._reexported(qualname), depth + 1)

    def method(self, class_qualname: str, name: str) -> Optional[FunctionSummary]:
        """`name` defined in the project class or, first found, in its project bases (MRO-ish, depth first)."""
        seen: Set[str] = set()
        todo = [class_qualname]
        while todo:
            cls = self.class_qualname(todo.pop(0))
            if cls is None or cls in seen:
                continue
            seen.add(cls)
            found = self.functions.get(f"{cls}.{name}")
            if found is not None:
                return found
            todo[:0] = self.classes.get(cls, [])
        return None


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

    def resolve(expr: cst.BaseExpression) -> Optional[str]:
        name = dotted_name(expr)
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in summary.imports:
            return summary.imports[head] + (f".{rest}" if rest else "")
        if head in local_names:
            return f"{prefix}{name}"
        return None

    local_names = {s.name.value for s in iter_block_statements(module.body)
                   if isinstance(s, (cst.FunctionDef, cst.ClassDef))}

    def add_functions(body, owner: str) -> None:
        for stmt in iter_block_statements(body):
            if isinstance(stmt, cst.FunctionDef):
                q = f"{prefix}{owner}{stmt.name.value}"
                summary.functions[q] = FunctionSummary(q, stmt.asynchronous is not None)
                summary.functions[q].facts.update(function_facts(stmt, resolve))
            elif isinstance(stmt, cst.ClassDef) and not owner:
                bases = [resolve(b.value) for b in stmt.bases if b.keyword is None]
                summary.classes[f"{prefix}{stmt.name.value}"] = [b for b in bases if b]
                add_functions(stmt.body.body, f"{stmt.name.value}.")

    add_functions(module.body, "")
    for stmt in iter_block_statements(module.body):
        value, targets = None, []
        if isinstance(stmt, cst.Assign):
            value, targets = stmt.value, [t.target for t in stmt.targets]
        elif isinstance(stmt, cst.AnnAssign) and stmt.value is not None:
            value, targets = stmt.value, [stmt.target]
        if isinstance(value, cst.Call):
            built = resolve(value.func)
            for t in targets:
                if isinstance(t, cst.Name) and built:
                    summary.instances[f"{prefix}{t.value}"] = built

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
    return summary


#: Decorators that return the decorated function itself (its calls still make coroutines).
TRANSPARENT_DECORATORS = frozenset({
    "staticmethod", "classmethod", "abstractmethod", "override", "final",
})
#: `@app.get(...)`, `@router.middleware("http")`...: FastAPI/Starlette registration returns the function.
REGISTERING_DECORATORS = frozenset({
    "get", "post", "put", "patch", "delete", "options", "head", "trace", "api_route", "websocket",
    "route", "websocket_route", "middleware", "exception_handler", "on_event",
})


def _own_nodes(func: cst.FunctionDef):
    """Yield, delete... found in the function's own body (not nested defs/lambdas/classes)."""
    found = {"yield": False, "nested": False}

    class _V(cst.CSTVisitor):
        def visit_Yield(self, node: cst.Yield) -> None:
            found["yield"] = True

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            found["nested"] = True
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            found["nested"] = True
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            found["nested"] = True
            return False

    func.body.visit(_V())
    return found


def function_facts(func: cst.FunctionDef, resolve) -> Dict[str, object]:
    """Facts of one function for the coroutine rules (FPI2xx): plain JSON data.

    coroutine: calling it makes a coroutine (async, no yield, only transparent decorators);
    asyncgen / generator: it yields; factory: it may return a callable (nested def, lambda or
    class, or a `Callable` return annotation); depends_params: a parameter is `Depends(...)`;
    returns: the resolved return annotation.
    """
    own = _own_nodes(func)
    facts: Dict[str, object] = {}
    transparent = True
    for dec in func.decorators:
        d = dec.decorator
        if isinstance(d, cst.Call):
            if isinstance(d.func, cst.Attribute) and d.func.attr.value in REGISTERING_DECORATORS:
                continue
            transparent = False
        else:
            name = dotted_name(d) or ""
            if name.rpartition(".")[2] not in TRANSPARENT_DECORATORS and not name.startswith("pytest.mark"):
                transparent = False
    if func.asynchronous is not None:
        if own["yield"]:
            facts["asyncgen"] = True
        elif transparent:
            facts["coroutine"] = True
    elif own["yield"]:
        facts["generator"] = True
    if not transparent:
        facts["decorated"] = True
    returns = func.returns.annotation if func.returns is not None else None
    ret_name = resolve(returns.value if isinstance(returns, cst.Subscript) else returns) \
        if returns is not None else None
    if own["nested"] or (ret_name or "").rpartition(".")[2] == "Callable":
        facts["factory"] = True
    if ret_name:
        facts["returns"] = ret_name
    elif isinstance(returns, cst.Name) and returns.value in ("str", "int", "float", "bool", "bytes", "dict",
                                                              "list", "set", "tuple", "None"):
        facts["returns"] = f"builtins.{returns.value}"
    p = func.params
    for param in (*p.posonly_params, *p.params, *p.kwonly_params):
        code = cst.Module([]).code_for_node(param)
        if "Depends(" in code or "Security(" in code:
            facts["depends_params"] = True
            break
    return facts
