"""The per-module model every rule asks: names, async context, parents, FastAPI facts.

One ModuleContext per linted file. The engine's traversal keeps its node stack and
frame stack up to date, so during a visitor call `ctx.in_async()`, `ctx.parent(node)` and
`ctx.qualname(expr)` answer for the node being visited.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Set, Tuple, Union

import libcst as cst

from fastapi_lint.model.imports import BUILTIN_NAMES, Bindings, dotted_name, scope_bindings

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.fastapi import FastAPIModel
    from fastapi_lint.model.index import ProjectIndex
    from fastapi_lint.model.taint import TaintModel
    from fastapi_lint.registry import FixSpec, Rule

Scope = Union[cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef]


@dataclass
class RawFinding:
    rule: "Rule"
    node: cst.CSTNode
    message: str
    fix: Optional["FixSpec"]
    #: The nodes open in the traversal when it was reported, the Module first: where
    #: `positions.NodePositions` looks for it first.
    ancestors: Tuple[cst.CSTNode, ...] = ()


class ModuleContext:
    def __init__(self, module: cst.Module, path: str, module_name: Optional[str] = None,
                 is_package: bool = False, index: Optional["ProjectIndex"] = None,
                 source: Optional[str] = None) -> None:
        self.module = module
        self._source = source
        self.path = path
        self.module_name = module_name
        self.is_package = is_package
        self.index = index
        self.findings: List[RawFinding] = []
        # Traversal state, maintained by the engine's dispatcher.
        self.node_stack: List[cst.CSTNode] = []
        self.scope_stack: List[Scope] = [module]
        self._bindings: Dict[int, Bindings] = {}
        self._fastapi: Optional["FastAPIModel"] = None
        self._cache: Dict[Any, Any] = {}

    @property
    def source(self) -> str:
        """The module's text (decoded; without a BOM)."""
        if self._source is None:
            self._source = self.module.code
        return self._source

    # ------------------------------------------------------------------ reporting
    def report(self, rule: "Rule", node: cst.CSTNode, message: str, fix: Optional["FixSpec"] = None) -> None:
        self.findings.append(RawFinding(rule, node, message, fix, tuple(self.node_stack)))

    # ------------------------------------------------------------------ traversal
    def parent(self, node: Optional[cst.CSTNode] = None) -> Optional[cst.CSTNode]:
        """The parent of `node` (default: of the node being visited), if it is on the stack."""
        stack = self.node_stack
        if node is None:
            return stack[-2] if len(stack) >= 2 else None
        for i in range(len(stack) - 1, 0, -1):
            if stack[i] is node:
                return stack[i - 1]
        return None

    def ancestors(self) -> List[cst.CSTNode]:
        """The nodes above the one being visited, innermost first."""
        return self.node_stack[-2::-1]

    def current_function(self) -> Optional[Union[cst.FunctionDef, cst.Lambda]]:
        """The innermost function or lambda whose body we are in, or None at module/class level."""
        scope = self.scope_stack[-1]
        return scope if isinstance(scope, (cst.FunctionDef, cst.Lambda)) else None

    def enclosing_functiondef(self) -> Optional[cst.FunctionDef]:
        scope = self.scope_stack[-1]
        return scope if isinstance(scope, cst.FunctionDef) else None

    def in_async(self) -> bool:
        """True in the body of an `async def`, not in nested def/lambda/class bodies."""
        scope = self.scope_stack[-1]
        return isinstance(scope, cst.FunctionDef) and scope.asynchronous is not None

    # ------------------------------------------------------------------ names
    def bindings(self, scope: Scope) -> Bindings:
        key = id(scope)
        found = self._bindings.get(key)
        if found is None:
            if isinstance(scope, cst.Module):
                found = scope_bindings(scope.body, self.module_name, self.is_package)
            elif isinstance(scope, cst.FunctionDef):
                found = scope_bindings(scope.body.body, self.module_name, self.is_package, scope.params)
            elif isinstance(scope, cst.Lambda):
                found = scope_bindings((), self.module_name, self.is_package, scope.params)
            else:
                found = scope_bindings(scope.body.body, self.module_name, self.is_package)
            self._bindings[key] = found
        return found

    def resolve_name(self, name: str) -> Optional[str]:
        """The qualified name `name` refers to at the current point, or None if unknown.

        Imports give their target (`sleep` -> `time.sleep`), unshadowed builtins give
        `builtins.<name>`; names bound otherwise (locals, parameters, defs) give None.
        """
        stack = self.scope_stack
        innermost = len(stack) - 1
        for i in range(innermost, -1, -1):
            scope = stack[i]
            if isinstance(scope, cst.ClassDef) and i != innermost:
                continue  # class bodies do not enclose their methods
            bound = self.bindings(scope)
            if name in bound:
                return bound[name]
        if name in BUILTIN_NAMES:
            return f"builtins.{name}"
        return None

    @contextlib.contextmanager
    def scopes(self, *scopes: Scope) -> Iterator[None]:
        """Resolve names as seen from `scopes` (outermost first), wherever the traversal is now:
        `with ctx.scopes(ctx.module): ...` answers as module-level code would."""
        saved, self.scope_stack = self.scope_stack, list(scopes)
        try:
            yield
        finally:
            self.scope_stack = saved

    def module_qualname(self, node: cst.BaseExpression) -> Optional[str]:
        """`qualname` as the module's top level sees the name (locals do not shadow it)."""
        with self.scopes(self.module):
            return self.qualname(node)

    def qualname(self, node: cst.BaseExpression) -> Optional[str]:
        """Qualified name of a Name/Attribute chain: `t.sleep` -> `time.sleep` after `import time as t`."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        resolved = self.resolve_name(head)
        if resolved is None:
            return None
        return f"{resolved}.{rest}" if rest else resolved

    def call_qualname(self, call: cst.Call) -> Optional[str]:
        return self.qualname(call.func)

    def project_qualname(self, expr: cst.BaseExpression) -> Optional[str]:
        """Like `qualname`, but a module-level `def`/`class` of this module gives
        `<module>.<name>` (how the project index names it)."""
        q = self.qualname(expr)
        if q is not None:
            return q
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head = dotted.partition(".")[0]
        stack = self.scope_stack
        for i in range(len(stack) - 1, -1, -1):
            scope = stack[i]
            if isinstance(scope, cst.ClassDef) and i != len(stack) - 1:
                continue
            if head in self.bindings(scope):
                if isinstance(scope, cst.Module) and head in self._module_defs():
                    return (f"{self.module_name}." if self.module_name else "") + dotted
                return None
        return None

    def _module_defs(self) -> Set[str]:
        """The module's top-level defs and classes whose name no assignment also binds."""
        def compute() -> Set[str]:
            from fastapi_lint.model.flow import module_assignments

            defs = {s.name.value for s in self.module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
            assigned = module_assignments(self)
            # a name also bound by assignment is not reliably the def
            return {d for d in defs if len(assigned.get(d, [])) == 1}

        return self.memo("context.module_defs", compute)

    def origin_of(self, expr: cst.BaseExpression) -> Optional[str]:
        """What produced this value: "requests.Session()", "fastapi.Request()", "sqlite3.connect().cursor()".

        See model/flow.py for the notation."""
        from fastapi_lint.model.flow import origin_of

        return origin_of(self, expr)

    def call_origin(self, call: cst.Call) -> Optional[str]:
        """The origin path of the callee: `s.get(...)` with `s = requests.Session()` -> "requests.Session().get"."""
        from fastapi_lint.model.flow import call_origin

        return call_origin(self, call)

    def module_alias(self, module: str) -> Optional[str]:
        """A name under which `module` is imported (`import module [as x]`) at the current point."""
        for name, qual in self.bindings(self.module).items():
            if qual == module and self.resolve_name(name) == module:
                return name
        return None

    def is_bound(self, name: str) -> bool:
        """Whether `name` is bound anywhere visible from the current point (import or otherwise)."""
        stack = self.scope_stack
        return any(name in self.bindings(s) for s in stack) or False

    # ------------------------------------------------------------------ FastAPI
    @property
    def fastapi(self) -> "FastAPIModel":
        if self._fastapi is None:
            from fastapi_lint.model.fastapi import FastAPIModel

            self._fastapi = FastAPIModel(self)
        return self._fastapi

    @property
    def taint(self) -> "TaintModel":
        """Where strings come from within a function (model/taint.py): SQL and file-path rules."""
        from fastapi_lint.model.taint import TaintModel

        return self.memo("taint.model", lambda: TaintModel(self))

    def memo(self, key: Any, compute: Any) -> Any:
        """Per-module memo for facts several rules share: `ctx.memo(("x", id(node)), lambda: ...)`."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def release(self) -> None:
        """Drops what the traversal built: the models (which point back here), the memo and the
        findings list (whose findings point back through their rules). The file's tree is then
        freed by reference counting as soon as its last user lets go, instead of waiting, in a
        reference cycle, for a full garbage collection (see `engine.GC_THRESHOLD`)."""
        self._fastapi = None
        self._cache = {}
        self._bindings = {}
        self.findings = []
        self.node_stack = []
        self.scope_stack = []
