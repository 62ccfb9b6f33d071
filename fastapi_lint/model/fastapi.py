"""FastAPI facts of one module: apps, routers, routes, middleware, event handlers, dependencies.

Computed on first use (one extra pass over the module) and shared by every rule.

Owners (apps and routers) are known by dotted name: a name or attribute bound to
`FastAPI()`/`APIRouter()`/`Starlette()`/`Router()` anywhere in the module (`app`,
`self.app`, a class attribute), a parameter annotated with one of those types, and
`<owner>.router` (an app's own router). Routes are every `get/post/put/patch/delete/
options/head/trace/api_route/websocket/route/websocket_route` decorator, and
`add_api_route/add_api_websocket_route/add_route/add_websocket_route` call, on an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple, Union

import libcst as cst

# The rules import these from here too.
from fastapi_lint.catalogs.fastapi import (  # noqa: F401
    ADD_ROUTE_METHODS, ANNOTATED, APP_CLASSES, BASE_HTTP_MIDDLEWARE, DEPENDS, EVENTS, HTTP_METHODS,
    MIDDLEWARE_WRAPPER, ROUTE_DECORATORS, ROUTE_TOKENS, ROUTER_CLASSES, STARLETTE_STYLE, normalise_path,
    path_parameters,
)
from fastapi_lint.model.imports import dotted_name, iter_block_statements, own_nodes
from fastapi_lint.traverse import handlers, visit_readonly

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.context import ModuleContext


@dataclass
class Route:
    func: cst.FunctionDef
    owner: str  # the app/router expression as written: "app", "router", "self.router"
    methods: List[str]
    path: Optional[str]
    registration: cst.CSTNode  # the decorator or the add_api_route call
    websocket: bool = False
    #: the decorator/method name: "get", "api_route", "add_api_route", "websocket", ...
    kind: str = ""
    #: the registration's call (decorator call or add_api_route call)
    call: Optional[cst.Call] = None
    #: the innermost function the registration runs in (None: module level)
    scope: Optional[cst.FunctionDef] = None
    #: innermost conditional block (if/else/try/except/loop body) of the registration, or None
    block: Optional[cst.CSTNode] = None

    @property
    def starlette_style(self) -> bool:
        return self.kind in STARLETTE_STYLE


@dataclass
class OwnerInfo:
    name: str  # dotted name
    kind: str  # "app" or "router"
    call: Optional[cst.Call]  # the constructor call, if the owner is built in this module
    scope: Optional[cst.FunctionDef]  # where it is built / bound
    #: the statement binding it (for fixes that insert before it)
    statement: Optional[cst.CSTNode] = None
    #: the body (list) that statement sits in, when it is a direct statement of a module/function body
    container: Optional[cst.CSTNode] = None

    @property
    def prefix(self) -> Optional[str]:
        if self.call is None:
            return "" if self.kind == "app" else None
        arg = keyword(self.call, "prefix")
        if arg is None:
            return ""
        return string_value(arg.value)


@dataclass
class MiddlewareRegistration:
    owner: str
    cls: Optional[str]  # qualified class name, "@http" for @app.middleware("http") functions
    node: cst.CSTNode  # the add_middleware Call, the Decorator, or the list element (cst.Element)
    kind: str  # "add", "decorator", "list"
    scope: Optional[cst.FunctionDef] = None
    statement: Optional[cst.CSTNode] = None  # the statement holding the registration
    list_node: Optional[cst.List] = None  # for "list": the middleware=[...] list
    label: str = ""  # as written: "CORSMiddleware", "@app.middleware('http') log_requests"


@dataclass
class EventHandler:
    owner: str  # dotted name as written (may be unknown: not an app/router of this module)
    owner_kind: Optional[str]  # "app", "router" or None (not known in this module)
    event: str  # "startup" / "shutdown"
    handler: cst.BaseExpression  # the handler expression (a Name for decorated functions)
    func: Optional[cst.FunctionDef]  # the decorated function / a local def the handler names
    node: cst.CSTNode  # Decorator, add_event_handler Call, or list cst.Element of on_startup=[...]
    kind: str  # "decorator", "add", "constructor"
    scope: Optional[cst.FunctionDef] = None
    statement: Optional[cst.CSTNode] = None
    block: Optional[cst.CSTNode] = None


@dataclass
class IncludeRouter:
    owner: str
    router: str
    prefix: Optional[str]  # None: not a literal
    call: cst.Call
    scope: Optional[cst.FunctionDef] = None


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


#: What a module must spell for one of its functions to be a startup/shutdown handler
#: (`FastAPIModel.event_handlers`: `@app.on_event`, `add_event_handler`, `on_startup=[...]`).
EVENT_HANDLER_TOKENS = ("on_event", "add_event_handler", "on_startup", "on_shutdown")


def lifespan_shaped(func: cst.FunctionDef) -> bool:
    """An `async def` under `@asynccontextmanager`: what a lifespan function must be."""
    return func.asynchronous is not None and any(
        (dotted_name(d.decorator) or "").endswith("asynccontextmanager") for d in func.decorators)


def may_be_lifecycle(source: str, func: cst.FunctionDef) -> bool:
    """Whether `FastAPIModel.is_lifecycle` can hold for `func` of a module with this source,
    without the model (which walks the whole module twice): a lifespan's shape, or a module
    that can register an event handler."""
    return lifespan_shaped(func) or any(t in source for t in EVENT_HANDLER_TOKENS)


class FastAPIModel:
    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        #: dotted names bound to apps/routers: "app", "router", "self.router", "api"
        self.app_names: Set[str] = set()
        self.app_kinds: Dict[str, str] = {}
        #: dotted name -> constructions/bindings of that owner in this module
        self.owners: Dict[str, List[OwnerInfo]] = {}
        self.routes: List[Route] = []
        self._routes_by_func: Dict[int, List[Route]] = {}
        #: dotted names passed to Depends()/Security(): "get_db", "deps.get_user"
        self.dependency_names: Set[str] = set()
        self.depends_calls: List[cst.Call] = []
        self.middleware: List[MiddlewareRegistration] = []
        self.middleware_funcs: Set[int] = set()
        self.event_handlers: List[EventHandler] = []
        #: names passed as `lifespan=` to an app or router constructor
        self.lifespan_names: Set[str] = set()
        self.includes: List[IncludeRouter] = []
        #: module- and class-level functions by name (for endpoints and dependencies named elsewhere)
        self.functions: Dict[str, List[cst.FunctionDef]] = {}
        self.classes: Dict[str, cst.ClassDef] = {}
        # Without one of these names the module builds no app or router, takes none as a
        # parameter and passes nothing to Depends: every fact below would be empty.
        if any(t in ctx.source for t in _CALL_TOKENS):
            _Collector(self).collect(ctx.module)

    # ------------------------------------------------------------------ routes
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

    def is_lifecycle(self, func: cst.FunctionDef) -> bool:
        """A lifespan function or a startup/shutdown handler: it runs before the app serves its
        first request or after the last, so nothing waits on the event loop while it runs."""
        if any(h.func is func for h in self.event_handlers):
            return True
        if not lifespan_shaped(func):
            return False
        name = func.name.value
        if name in self.lifespan_names or "lifespan" in name.lower():
            return True
        params = [*func.params.posonly_params, *func.params.params]
        ann = params[0].annotation if params else None
        return ann is not None and self.ctx.qualname(ann.annotation) in APP_CLASSES

    def is_middleware(self, func: cst.FunctionDef) -> bool:
        """`@app.middleware("http")` functions and `dispatch` of BaseHTTPMiddleware subclasses."""
        return id(func) in self.middleware_funcs

    def owner_info(self, owner: str, scope: Optional[cst.FunctionDef] = None) -> Optional[OwnerInfo]:
        """The single construction of `owner` visible from `scope` (same function, else module), if unique."""
        infos = self.owners.get(owner, [])
        if owner.endswith(".router") and not infos:
            return None
        same = [i for i in infos if i.scope is scope]
        if len(same) == 1:
            return same[0]
        if not same:
            module_level = [i for i in infos if i.scope is None]
            if len(module_level) == 1 and not owner.startswith("self."):
                return module_level[0]
            if owner.startswith("self.") and len(infos) == 1:
                return infos[0]
        return None

    def owner_kind(self, owner: str) -> Optional[str]:
        if owner in self.app_kinds:
            return self.app_kinds[owner]
        if owner.endswith(".router") and owner[: -len(".router")] in self.app_names:
            return "app"
        return None

    def app_of(self, owner: str) -> str:
        """`app.router` -> `app` (an app's routes, middleware and handlers live on its router)."""
        if owner.endswith(".router") and owner[: -len(".router")] in self.app_names:
            return owner[: -len(".router")]
        return owner

    def full_path(self, route: Route, root_prefix: bool = False) -> Tuple[str, Optional[str]]:
        """(root owner, path as the root sees it), following router prefixes known in this module.

        A router included exactly once (in this module) into another owner, with literal
        prefixes on both the include and the router, is followed up to that owner; routes
        compared under the same root then compare as the client sees them. The path is
        None when it is not a literal.
        """
        owner = self.app_of(route.owner)
        path = route.path
        if path is None:
            return owner, None
        seen = set()
        while owner not in seen:
            seen.add(owner)
            incs = [i for i in self.includes if i.router == owner]
            if len(incs) != 1 or incs[0].prefix is None:
                break
            info = self.owner_info(owner, route.scope)
            own = info.prefix if info is not None else None
            if own is None:
                break
            path = incs[0].prefix + own + path
            owner = incs[0].owner
        if root_prefix:  # the root router's own prefix= too (the path as far as this module knows)
            info = self.owner_info(owner, route.scope)
            if info is not None and info.prefix:
                path = info.prefix + path
        return owner, path

    # ------------------------------------------------------------------ dependencies
    def depends_target(self, call: cst.Call) -> Optional[cst.BaseExpression]:
        dep = keyword(call, "dependency") or positional(call, 0)
        return dep.value if dep is not None else None

    def param_depends(self, param: cst.Param) -> Optional[cst.Call]:
        """The Depends()/Security() call of a parameter (default or Annotated metadata), if any."""
        if isinstance(param.default, cst.Call) and self._is_depends(param.default):
            return param.default
        if param.annotation is not None:
            return self._annotation_depends(param.annotation.annotation, 0)
        return None

    def _is_depends(self, call: cst.Call) -> bool:
        return isinstance(call.func, (cst.Name, cst.Attribute)) and self.ctx.module_qualname(call.func) in DEPENDS

    def _annotation_depends(self, ann: cst.BaseExpression, depth: int) -> Optional[cst.Call]:
        if depth > 5:
            return None
        if isinstance(ann, cst.Subscript) and self.ctx.module_qualname(ann.value) in ANNOTATED:
            for el in list(ann.slice)[1:]:
                v = el.slice.value if isinstance(el.slice, cst.Index) else None
                if isinstance(v, cst.Call) and self._is_depends(v):
                    return v
            return None
        if isinstance(ann, cst.Name):
            from fastapi_lint.model.flow import module_assignments

            values = module_assignments(self.ctx).get(ann.value) or []
            if len(values) == 1 and isinstance(values[0], cst.Subscript):
                return self._annotation_depends(values[0], depth + 1)
        return None

    def resolve_callable(self, expr: Optional[cst.BaseExpression]) -> Union[cst.FunctionDef, cst.ClassDef, None]:
        """The module-level def or class (or `Class.method`) a dependency expression names."""
        name = dotted_name(expr) if expr is not None else None
        if not name:
            return None
        if "." not in name:
            funcs = self.functions.get(name, [])
            if len(funcs) == 1:
                return funcs[0]
            return self.classes.get(name) if not funcs else None
        cls_name, _, meth = name.partition(".")
        cls = self.classes.get(cls_name)
        if cls is not None and "." not in meth:
            for stmt in cls.body.body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value == meth:
                    return stmt
        return None

    def sub_dependencies(self, func: cst.FunctionDef) -> List[Optional[cst.BaseExpression]]:
        """The dependency expressions of a function's parameters (None for `Depends()` with no argument)."""
        out: List[Optional[cst.BaseExpression]] = []
        p = func.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            call = self.param_depends(param)
            if call is None:
                continue
            target = self.depends_target(call)
            if target is None and param.annotation is not None:
                target = _first_type(param.annotation.annotation, self)
            out.append(target)
        return out

    def decorator_dependencies(self, call: Optional[cst.Call]) -> List[Optional[cst.BaseExpression]]:
        """`dependencies=[Depends(f), ...]` of a route decorator or router constructor."""
        out: List[Optional[cst.BaseExpression]] = []
        if call is None:
            return out
        arg = keyword(call, "dependencies")
        if arg is None:
            return out
        if not isinstance(arg.value, (cst.List, cst.Tuple)):
            out.append(None)  # not a literal: unknown dependencies
            return out
        for el in arg.value.elements:
            if isinstance(el.value, cst.Call) and self._is_depends(el.value):
                out.append(self.depends_target(el.value))
            else:
                out.append(None)
        return out


def _first_type(ann: cst.BaseExpression, model: FastAPIModel) -> Optional[cst.BaseExpression]:
    """`Annotated[Foo, Depends()]` -> Foo (Depends() with no argument uses the type)."""
    if isinstance(ann, cst.Subscript) and model.ctx.module_qualname(ann.value) in ANNOTATED:
        first = list(ann.slice)[0].slice
        return first.value if isinstance(first, cst.Index) else None
    return ann


_BLOCKS = (cst.If, cst.Else, cst.Try, cst.ExceptHandler, cst.Finally, cst.For, cst.While, cst.With,
           cst.Match if hasattr(cst, "Match") else cst.If)


_CALL_TOKENS = ("Depends", "Security", "add_", "include_router", "FastAPI", "APIRouter", "Starlette", "Router",
                "Middleware", "middleware")

_KINDS: Dict[type, Tuple[bool, bool, bool]] = {}


def _kind_of(cls: type) -> Tuple[bool, bool, bool]:
    """(statement, conditional block, expression) for a node type; cached (libcst's node
    classes are ABCs, whose isinstance checks are slow on a hot path)."""
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = (issubclass(cls, (cst.SimpleStatementLine, cst.BaseCompoundStatement)),
                              issubclass(cls, _BLOCKS), issubclass(cls, cst.BaseExpression))
    return kind


class _Collector(cst.CSTVisitor):
    """Two passes: owners first (so a route above `app = FastAPI()` in a factory still counts),
    then routes, middleware, handlers, includes and Depends."""

    #: `on_visit` keeps stacks of statements and blocks and dispatches by type: no punctuation,
    #: operator or trivia node matters to it
    SKIPS_SYNTAX = True

    def __init__(self, model: FastAPIModel) -> None:
        super().__init__()
        self.model = model
        self.ctx = model.ctx
        #: name -> [(def, the function it is defined in or None at module/class level)]
        self.funcs_by_name: Dict[str, List[Tuple[cst.FunctionDef, Optional[cst.FunctionDef]]]] = {}
        self._pending_add_route: List = []
        self._pending_handlers: List = []
        self.func_stack: List[cst.FunctionDef] = []
        self.class_stack: List[cst.ClassDef] = []
        self.stmt_stack: List[cst.CSTNode] = []
        self.block_stack: List[cst.CSTNode] = []
        self.second_pass = False
        self._visits = handlers(type(self), "visit_")
        self._leaves = handlers(type(self), "leave_")
        source = model.ctx.source
        #: Whether any call the second pass records (Depends, add_api_route, include_router,
        #: add_middleware, add_event_handler, an app/router constructor) can occur in this module.
        self.calls_possible = any(t in source for t in _CALL_TOKENS)

    def collect(self, module: cst.Module) -> None:
        # Names are resolved as the module sees them, wherever the main traversal is now.
        with self.ctx.scopes(module):
            visit_readonly(module, self)
            self.second_pass = True
            visit_readonly(module, self)
        m = self.model
        for stmt in iter_block_statements(module.body):
            if isinstance(stmt, cst.FunctionDef):
                m.functions.setdefault(stmt.name.value, []).append(stmt)
            elif isinstance(stmt, cst.ClassDef):
                m.classes[stmt.name.value] = stmt
        # add_api_route(path, endpoint) names a function defined anywhere in the module.
        for owner, call, method, scope, block in self._pending_add_route:
            endpoint = keyword(call, "endpoint") or positional(call, 1)
            path = keyword(call, "path") or positional(call, 0)
            methods_arg = keyword(call, "methods")
            websocket = "websocket" in method
            methods = [] if websocket else (_methods_of(methods_arg.value if methods_arg else None) or ["GET"])
            name = dotted_name(endpoint.value) if endpoint else None
            func = self._visible_def(name, scope)
            if func is not None:
                self._add(Route(func, owner, methods, string_value(path.value) if path else None, call,
                                websocket=websocket, kind=method, call=call, scope=scope, block=block))
        for h in self._pending_handlers:
            if h.func is None and isinstance(h.handler, cst.Name):
                funcs = self.funcs_by_name.get(h.handler.value, [])
                if len(funcs) == 1:
                    h.func = funcs[0][0]
            m.event_handlers.append(h)

    def _visible_def(self, name: Optional[str], scope: Optional[cst.FunctionDef]) -> Optional[cst.FunctionDef]:
        """The def a name refers to from `scope`: one defined in that function, else at module level;
        of several, the last (it rebinds the name). None when the name is not a def of this module."""
        defs = self.funcs_by_name.get(name or "", [])
        same = [f for f, where in defs if where is scope]
        if not same and scope is not None:
            same = [f for f, where in defs if where is None]
        return same[-1] if same else None

    # ------------------------------------------------------------------ stacks
    def on_visit(self, node: cst.CSTNode) -> bool:
        is_stmt, is_block, is_expr = _kind_of(type(node))
        if is_stmt:
            self.stmt_stack.append(node)
        if is_block:
            self.block_stack.append((node, len(self.func_stack)))
        fn = self._visits.get(type(node).__name__)  # CSTVisitor.on_visit, without its getattr per node
        descend = fn is None or fn(self, node) is not False
        # The first pass only binds names (assignments, parameters), and the second needs the
        # calls inside expressions only if the module can hold one it looks for.
        return descend and (not is_expr or (self.second_pass and self.calls_possible))

    def on_leave(self, original_node: cst.CSTNode) -> None:
        fn = self._leaves.get(type(original_node).__name__)
        if fn is not None:
            fn(self, original_node)
        is_stmt, is_block, _ = _kind_of(type(original_node))
        if is_stmt:
            self.stmt_stack.pop()
        if is_block:
            self.block_stack.pop()

    def _scope(self) -> Optional[cst.FunctionDef]:
        return self.func_stack[-1] if self.func_stack else None

    def _block(self) -> Optional[cst.CSTNode]:
        """The innermost conditional block inside the current function (None: straight-line code)."""
        if not self.block_stack:
            return None
        block, depth = self.block_stack[-1]
        return block if depth == len(self.func_stack) else None

    def _statement(self) -> Optional[cst.CSTNode]:
        """The outermost statement of the current scope's body holding the current node."""
        scope = self._scope()
        if scope is None:
            return self.stmt_stack[0] if self.stmt_stack else None
        for i, stmt in enumerate(self.stmt_stack):
            if stmt is scope:
                return self.stmt_stack[i + 1] if i + 1 < len(self.stmt_stack) else None
        return None

    # ------------------------------------------------------------------ owners
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
        from fastapi_lint.model.flow import unwrap_annotation

        q = unwrap_annotation(self.ctx, ann.annotation)
        if q in APP_CLASSES:
            return "app"
        if q in ROUTER_CLASSES:
            return "router"
        return None

    def _bind(self, target: cst.BaseExpression, kind: Optional[str], call: Optional[cst.BaseExpression]) -> None:
        name = dotted_name(target)
        if not (kind and name):
            return
        if self.class_stack and not self.func_stack and isinstance(target, cst.Name):
            # a class attribute: reached as `self.<name>` / `cls.<name>` in its methods
            for alias in (f"self.{name}", f"cls.{name}", f"{self.class_stack[-1].name.value}.{name}"):
                self._bind_name(alias, kind, call)
        self._bind_name(name, kind, call)

    def _bind_name(self, name: str, kind: str, call: Optional[cst.BaseExpression]) -> None:
        m = self.model
        m.app_names.add(name)
        if m.app_kinds.get(name, kind) != kind:
            m.app_kinds[name] = "app" if "app" in (kind, m.app_kinds[name]) else kind
        else:
            m.app_kinds[name] = kind
        scope = self._scope()
        stmt = self._statement()
        m.owners.setdefault(name, []).append(OwnerInfo(
            name, kind, call if isinstance(call, cst.Call) else None, scope, stmt,
            scope if scope is not None else self.ctx.module))

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.second_pass:
            return
        kind = self._is_app_factory(node.value)
        if kind is None:  # `self.app = app` with `app` an app/router already
            alias = dotted_name(node.value)
            kind = self.model.app_kinds.get(alias) if alias else None
        for t in node.targets:
            self._bind(t.target, kind, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.second_pass:
            return
        kind = self._is_app_factory(node.value) if node.value is not None else None
        kind = kind or self._annotation_kind(node.annotation)
        self._bind(node.target, kind, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        if self.second_pass:
            return
        kind = self._annotation_kind(node.annotation)
        if kind:
            name = node.name.value
            self.model.app_names.add(name)
            self.model.app_kinds.setdefault(name, kind)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_stack.append(node)
        if self.second_pass:
            for base in node.bases:
                if self.ctx.qualname(base.value) in BASE_HTTP_MIDDLEWARE:
                    for stmt in node.body.body:
                        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "dispatch":
                            self.model.middleware_funcs.add(id(stmt))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.second_pass:
            self.funcs_by_name.setdefault(node.name.value, []).append((node, self._scope()))
            for dec in node.decorators:
                self._decorator(node, dec)
        self.func_stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()

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

    def _decorator(self, func: cst.FunctionDef, dec: cst.Decorator) -> None:
        call = dec.decorator
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return
        method = call.func.attr.value
        owner_expr = call.func.value
        # the decorator is evaluated where the def statement is: the enclosing function
        scope, block = self._scope(), self._block()
        if method == "on_event":
            event = string_value((keyword(call, "event_type") or positional(call, 0) or cst.Arg(cst.Name("x"))).value)
            name = dotted_name(owner_expr)
            if event in EVENTS and name:
                self._pending_handlers.append(EventHandler(
                    name, self.model.owner_kind(name), event, func.name, func, dec, "decorator",
                    scope, self._statement(), block))
            return
        owner = self._owner_is_app(owner_expr)
        if owner is None:
            return
        if method == "middleware":
            self.model.middleware_funcs.add(id(func))
            self.model.middleware.append(MiddlewareRegistration(
                self.model.app_of(owner), "@http", dec, "decorator", scope, self._statement(),
                label=f"@{owner}.middleware(\"http\") `{func.name.value}`"))
            return
        if method not in ROUTE_DECORATORS:
            return
        path_arg = keyword(call, "path") or positional(call, 0)
        path = string_value(path_arg.value) if path_arg else None
        if method in ("api_route", "route"):
            methods_arg = keyword(call, "methods")
            methods = _methods_of(methods_arg.value if methods_arg else None) or ["GET"]
        elif method in ("websocket", "websocket_route"):
            methods = []
        else:
            methods = [method.upper()]
        self._add(Route(func, owner, methods, path, dec, websocket=method.startswith("websocket"),
                        kind=method, call=call, scope=scope, block=block))

    def visit_Call(self, node: cst.Call) -> None:
        if not self.second_pass:
            return
        func = node.func
        m = self.model
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ADD_ROUTE_METHODS:
                owner = self._owner_is_app(func.value)
                if owner is not None:
                    self._pending_add_route.append((owner, node, attr, self._scope(), self._block()))
                return
            if attr == "add_event_handler":
                name = dotted_name(func.value)
                ev = keyword(node, "event_type") or positional(node, 0)
                handler = keyword(node, "func") or positional(node, 1)
                event = string_value(ev.value) if ev else None
                if name and event in EVENTS and handler is not None:
                    self._pending_handlers.append(EventHandler(
                        name, m.owner_kind(name), event, handler.value, None, node, "add",
                        self._scope(), self._statement(), self._block()))
                return
            if attr == "add_middleware":
                owner = self._owner_is_app(func.value)
                arg = keyword(node, "middleware_class") or positional(node, 0)
                if owner is not None and arg is not None:
                    m.middleware.append(MiddlewareRegistration(
                        m.app_of(owner), self.ctx.qualname(arg.value), node, "add", self._scope(),
                        self._statement(), label=f"`{self.ctx.code_for(arg.value)}`"))
                return
            if attr == "include_router":
                owner = self._owner_is_app(func.value)
                router = keyword(node, "router") or positional(node, 0)
                rname = dotted_name(router.value) if router else None
                if owner is not None and rname:
                    pre = keyword(node, "prefix")
                    m.includes.append(IncludeRouter(m.app_of(owner), rname,
                                                    string_value(pre.value) if pre else "", node, self._scope()))
                return
        kind = self._is_app_factory(node)
        if kind is not None:
            self._constructor(node, kind)
            return
        if isinstance(func, (cst.Name, cst.Attribute)) and self.ctx.qualname(func) in DEPENDS:
            m.depends_calls.append(node)
            dep = keyword(node, "dependency") or positional(node, 0)
            name = dotted_name(dep.value) if dep else None
            if name:
                m.dependency_names.add(name)

    def _constructor(self, call: cst.Call, kind: str) -> None:
        """on_startup=/on_shutdown= handlers and middleware=[...] of an app/router construction."""
        m = self.model
        owner = self._owner_for_call(call)
        lifespan = keyword(call, "lifespan")
        if lifespan is not None and dotted_name(lifespan.value):
            m.lifespan_names.add(dotted_name(lifespan.value).rpartition(".")[2])
        for event in EVENTS:
            arg = keyword(call, f"on_{event}")
            if arg is None:
                continue
            if isinstance(arg.value, (cst.List, cst.Tuple)):
                for el in arg.value.elements:
                    self._pending_handlers.append(EventHandler(
                        owner or "?", kind if owner else kind, event, el.value, None, el, "constructor",
                        self._scope(), self._statement(), self._block()))
            elif not self._forwarded(arg.value):
                self._pending_handlers.append(EventHandler(
                    owner or "?", kind, event, arg.value, None, arg, "constructor",
                    self._scope(), self._statement(), self._block()))
        arg = keyword(call, "middleware")
        if arg is not None and isinstance(arg.value, (cst.List, cst.Tuple)) and owner:
            for el in arg.value.elements:
                v = el.value
                cls = None
                label = self.ctx.code_for(v)
                if isinstance(v, cst.Call) and self.ctx.qualname(v.func) in MIDDLEWARE_WRAPPER:
                    first = positional(v, 0) or keyword(v, "cls")
                    if first is not None:
                        cls = self.ctx.qualname(first.value)
                        label = f"`{self.ctx.code_for(first.value)}`"
                m.middleware.append(MiddlewareRegistration(owner, cls, el, "list", self._scope(),
                                                           self._statement(), arg.value, label))

    def _forwarded(self, value: cst.BaseExpression) -> bool:
        """`on_startup=None`, or a parameter of the enclosing function passed through (a wrapper
        or factory forwarding its caller's handlers): nothing is registered at this call."""
        if isinstance(value, cst.Name) and value.value == "None":
            return True
        scope = self._scope()
        if isinstance(value, cst.Name) and scope is not None:
            p = scope.params
            names = {x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
            return value.value in names
        return False

    def _owner_for_call(self, call: cst.Call) -> Optional[str]:
        stmt = self._statement()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is call:
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    for t in targets:
                        name = dotted_name(t)
                        if name:
                            return name
        return None

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


def function_awaits(func: cst.FunctionDef) -> bool:
    """Whether an async def's own body has `await`, `async for` or `async with` (nested defs excluded)."""
    return any(isinstance(n, cst.Await) or n.asynchronous is not None
               for n in own_nodes(func.body, (cst.Await, cst.For, cst.With, cst.CompFor)))


