"""FastAPI facts of one module: apps, routers, routes and dependencies.

Computed on first use (one extra pass over the module) and shared by every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Union

import libcst as cst

from fastapi_lint.model.imports import dotted_name

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.context import ModuleContext

APP_CLASSES = frozenset({
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
})
ROUTER_CLASSES = frozenset({
    "fastapi.APIRouter",
    "fastapi.routing.APIRouter",
    "starlette.routing.Router",
})
APP_OR_ROUTER = APP_CLASSES | ROUTER_CLASSES

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head", "trace")
ROUTE_DECORATORS = frozenset(HTTP_METHODS + ("api_route", "websocket", "route", "websocket_route"))

DEPENDS = frozenset({
    "fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security",
    "fastapi.param_functions.Depends", "fastapi.param_functions.Security",
})


@dataclass
class Route:
    func: cst.FunctionDef
    owner: str  # the app/router expression as written: "app", "router", "self.router"
    methods: List[str]
    path: Optional[str]
    registration: cst.CSTNode  # the decorator or the add_api_route call
    websocket: bool = False


def string_value(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a plain string literal (no f-string interpolation), else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call, index: int) -> Optional[cst.Arg]:
    pos = [a for a in call.args if a.keyword is None and not a.star]
    return pos[index] if index < len(pos) else None


class FastAPIModel:
    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        #: dotted names bound to apps/routers: "app", "router", "self.router", "api"
        self.app_names: Set[str] = set()
        self.app_kinds: Dict[str, str] = {}
        self.routes: List[Route] = []
        self._routes_by_func: Dict[int, List[Route]] = {}
        #: dotted names passed to Depends()/Security(): "get_db", "deps.get_user"
        self.dependency_names: Set[str] = set()
        self.depends_calls: List[cst.Call] = []
        _Collector(self).collect(ctx.module)

    def routes_of(self, func: cst.FunctionDef) -> List[Route]:
        return self._routes_by_func.get(id(func), [])

    def is_route(self, func: cst.FunctionDef) -> bool:
        return id(func) in self._routes_by_func

    def is_dependency(self, func: cst.FunctionDef) -> bool:
        name = func.name.value
        if name in self.dependency_names:
            return True
        index = self.ctx.index
        if index is not None and self.ctx.module_name:
            return index.is_dependency(f"{self.ctx.module_name}.{name}")
        return False

    def is_endpoint(self, func: cst.FunctionDef) -> bool:
        """A route or a dependency: FastAPI calls it, awaiting it or running it in the threadpool."""
        return self.is_route(func) or self.is_dependency(func)


class _Collector(cst.CSTVisitor):
    """One pass: app/router bindings first (module statements), then routes and Depends."""

    def __init__(self, model: FastAPIModel) -> None:
        super().__init__()
        self.model = model
        self.ctx = model.ctx
        self.funcs_by_name: Dict[str, List[cst.FunctionDef]] = {}
        self._pending_add_route: List = []

    def collect(self, module: cst.Module) -> None:
        # Names are resolved as the module sees them, wherever the main traversal is now.
        saved, self.ctx.scope_stack = self.ctx.scope_stack, [module]
        try:
            module.visit(self)
        finally:
            self.ctx.scope_stack = saved
        # add_api_route(path, endpoint) names a function defined anywhere in the module.
        for owner, call in self._pending_add_route:
            endpoint = keyword(call, "endpoint") or positional(call, 1)
            path = keyword(call, "path") or positional(call, 0)
            methods_arg = keyword(call, "methods")
            methods = _methods_of(methods_arg.value if methods_arg else None) or ["GET"]
            name = dotted_name(endpoint.value) if endpoint else None
            for func in self.funcs_by_name.get(name or "", []):
                self._add(Route(func, owner, methods, string_value(path.value) if path else None, call))

    def _is_app_factory(self, call: cst.BaseExpression) -> Optional[str]:
        if isinstance(call, cst.Call):
            q = self.ctx.qualname(call.func) if not isinstance(call.func, cst.Call) else None
            if q in APP_CLASSES:
                return "app"
            if q in ROUTER_CLASSES:
                return "router"
        return None

    def _annotation_kind(self, ann: Optional[cst.Annotation]) -> Optional[str]:
        if ann is None:
            return None
        q = self.ctx.qualname(ann.annotation)
        if q in APP_CLASSES:
            return "app"
        if q in ROUTER_CLASSES:
            return "router"
        return None

    def _bind(self, target: cst.BaseExpression, kind: Optional[str]) -> None:
        name = dotted_name(target)
        if kind and name:
            self.model.app_names.add(name)
            self.model.app_kinds[name] = kind

    def visit_Assign(self, node: cst.Assign) -> None:
        kind = self._is_app_factory(node.value)
        for t in node.targets:
            self._bind(t.target, kind)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        kind = self._is_app_factory(node.value) or self._annotation_kind(node.annotation)
        self._bind(node.target, kind)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name, self._annotation_kind(node.annotation))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs_by_name.setdefault(node.name.value, []).append(node)
        for dec in node.decorators:
            route = self._route_from_decorator(node, dec)
            if route is not None:
                self._add(route)

    def _owner_is_app(self, owner: cst.BaseExpression) -> Optional[str]:
        name = dotted_name(owner)
        if name is None:
            return None
        if name in self.model.app_names:
            return name
        # app.router.get(...) / self.app.router.get(...)
        if name.endswith(".router") and name[: -len(".router")] in self.model.app_names:
            return name
        return None

    def _route_from_decorator(self, func: cst.FunctionDef, dec: cst.Decorator) -> Optional[Route]:
        call = dec.decorator
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return None
        method = call.func.attr.value
        if method not in ROUTE_DECORATORS:
            return None
        owner = self._owner_is_app(call.func.value)
        if owner is None:
            return None
        path_arg = keyword(call, "path") or positional(call, 0)
        path = string_value(path_arg.value) if path_arg else None
        if method in ("api_route", "route"):
            methods_arg = keyword(call, "methods")
            methods = _methods_of(methods_arg.value if methods_arg else None) or ["GET"]
        elif method in ("websocket", "websocket_route"):
            methods = []
        else:
            methods = [method.upper()]
        return Route(func, owner, methods, path, dec, websocket=method.startswith("websocket"))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("add_api_route", "add_route",
                                                                   "add_api_websocket_route"):
            owner = self._owner_is_app(func.value)
            if owner is not None:
                self._pending_add_route.append((owner, node))
            return
        if isinstance(func, (cst.Name, cst.Attribute)) and self.ctx.qualname(func) in DEPENDS:
            self.model.depends_calls.append(node)
            dep = keyword(node, "dependency") or positional(node, 0)
            name = dotted_name(dep.value) if dep else None
            if name:
                self.model.dependency_names.add(name)

    def _add(self, route: Route) -> None:
        self.model.routes.append(route)
        self.model._routes_by_func.setdefault(id(route.func), []).append(route)


def _methods_of(node: Optional[cst.BaseExpression]) -> List[str]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for el in node.elements:
            s = string_value(el.value)
            if s:
                out.append(s.upper())
        return out
    return []


def function_awaits(func: Union[cst.FunctionDef]) -> bool:
    """Whether an async def's own body has `await`, `async for` or `async with` (nested defs excluded)."""
    found = False

    class _V(cst.CSTVisitor):
        def visit_Await(self, node: cst.Await) -> bool:
            nonlocal found
            found = True
            return False

        def visit_For(self, node: cst.For) -> None:
            nonlocal found
            if node.asynchronous is not None:
                found = True

        def visit_With(self, node: cst.With) -> None:
            nonlocal found
            if node.asynchronous is not None:
                found = True

        def visit_CompFor(self, node: cst.CompFor) -> None:
            nonlocal found
            if node.asynchronous is not None:
                found = True

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    func.body.visit(_V())
    return found
