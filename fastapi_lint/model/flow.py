"""What a value is, within one module: a small, flow-insensitive origin tracker.

`origin_of(ctx, expr)` answers with an *origin path*: the qualified name of the callable
that produced the value, with `()` for each call, or of the type an annotation gives it:

    s = requests.Session()            -> "requests.Session()"
    conn = sqlite3.connect(p)         -> "sqlite3.connect()"
    cur = conn.cursor()               -> "sqlite3.connect().cursor()"
    db = sessionmaker(bind=e)()       -> "sqlalchemy.orm.sessionmaker()()"
    def f(req: Request)               -> req: "fastapi.Request()"    (an instance of the type)
    def f(db: Annotated[Session, Depends(get_db)])  -> "sqlalchemy.orm.Session()"
    with open(p) as fh                -> "builtins.open()"
    self.client (self.client = httpx.Client() in any method)  -> "httpx.Client()"
    requests (the module)             -> "requests"

A name assigned several different origins in one scope has none (None): precision first.
Catalogues (`catalogs/`) list origins and methods, so `s.get(...)` with `s` from
`requests.Session()` is the call "requests.Session().get".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Union

import libcst as cst

from fastapi_lint.catalogs.blocking import divided_origin
from fastapi_lint.model.imports import dotted_name, find_param, iter_block_statements, own_nodes

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.context import ModuleContext

WRAPPERS = frozenset({"typing.Optional", "typing_extensions.Optional"})
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_UNKNOWN = "<unknown>"
#: Factories whose `class_=` argument names what calling them makes.
SESSION_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker",
                               "sqlalchemy.ext.asyncio.async_sessionmaker"})
DEPENDS_CALLS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.param_functions.Depends",
                           "fastapi.Security", "fastapi.params.Security"})
GENERATOR_TYPES = frozenset({"typing.Generator", "typing.Iterator", "typing.Iterable", "typing.ContextManager",
                             "collections.abc.Generator", "collections.abc.Iterator", "collections.abc.Iterable",
                             "contextlib.AbstractContextManager"})


def unwrap_annotation(ctx: "ModuleContext", ann: cst.BaseExpression, depth: int = 0) -> Optional[str]:
    """The qualified type of an annotation, seeing through Annotated[T, ...], Optional[T],
    `T | None` and module-level aliases `Dep = Annotated[T, Depends(f)]`."""
    if depth > 5:
        return None
    if isinstance(ann, (cst.SimpleString, cst.ConcatenatedString)):
        value = ann.evaluated_value if isinstance(ann, cst.SimpleString) else None
        if isinstance(value, str):
            try:
                return unwrap_annotation(ctx, cst.parse_expression(value), depth + 1)
            except Exception:
                return None
        return None
    if isinstance(ann, cst.Subscript):
        base = ctx.qualname(ann.value)
        elements = [e.slice.value for e in ann.slice if isinstance(e.slice, cst.Index)]
        if base in ANNOTATED or base in WRAPPERS:
            return unwrap_annotation(ctx, elements[0], depth + 1) if elements else None
        return base  # e.g. AsyncGenerator[Session, None] stays the generic's own name
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        sides = [s for s in (ann.left, ann.right) if not (isinstance(s, cst.Name) and s.value == "None")]
        return unwrap_annotation(ctx, sides[0], depth + 1) if len(sides) == 1 else None
    qual = ctx.qualname(ann)
    if qual is None and isinstance(ann, cst.Name):
        # a module-level alias: SessionDep = Annotated[Session, Depends(get_db)]
        alias = module_assignments(ctx).get(ann.value)
        if alias is not None and len(alias) == 1 and isinstance(alias[0], cst.Subscript):
            return unwrap_annotation(ctx, alias[0], depth + 1)
        if ann.value in local_classes(ctx) and ctx.module_name:
            return f"{ctx.module_name}.{ann.value}"
    return qual


def local_classes(ctx: "ModuleContext") -> Dict[str, cst.ClassDef]:
    def compute() -> Dict[str, cst.ClassDef]:
        return {s.name.value: s for s in iter_block_statements(ctx.module.body) if isinstance(s, cst.ClassDef)}

    return ctx.memo("flow.classes", compute)


def _assignments(body: Sequence[cst.CSTNode]) -> Dict[str, List[Union[cst.BaseExpression, tuple]]]:
    """name -> the values bound to it in a scope (annotations as ("ann", expr), with-items as ("with", expr))."""
    out: Dict[str, List] = {}
    for stmt in iter_block_statements(body):
        if isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                if isinstance(t.target, cst.Name):
                    out.setdefault(t.target.value, []).append(stmt.value)
                elif isinstance(t.target, (cst.Tuple, cst.List)):
                    for el in t.target.elements:
                        if isinstance(el.value, cst.Name):
                            out.setdefault(el.value.value, []).append(_UNKNOWN)
        elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
            out.setdefault(stmt.target.value, []).append(("ann", stmt.annotation.annotation))
            if stmt.value is not None:
                out[stmt.target.value].append(stmt.value)
        elif isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name):
            out.setdefault(stmt.target.value, []).append(_UNKNOWN)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    out.setdefault(item.asname.name.value, []).append(("with", item.item))
        elif isinstance(stmt, cst.For):
            for name in _names(stmt.target):
                out.setdefault(name, []).append(_UNKNOWN)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            out.setdefault(stmt.name.value, []).append(_UNKNOWN)
        elif isinstance(stmt, (cst.ExceptHandler,)) and stmt.name is not None \
                and isinstance(stmt.name.name, cst.Name):
            out.setdefault(stmt.name.name.value, []).append(_UNKNOWN)
    return out


def _names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names(el.value)]
    return []


def module_assignments(ctx: "ModuleContext") -> Dict[str, List]:
    return ctx.memo("flow.module_assignments", lambda: _assignments(ctx.module.body))


def function_assignments(ctx: "ModuleContext", func: cst.FunctionDef) -> Dict[str, List]:
    return ctx.memo(("flow.assignments", id(func)), lambda: _assignments(func.body.body))


def self_attributes(ctx: "ModuleContext", cls: cst.ClassDef) -> Dict[str, List]:
    """attr -> values assigned to `self.attr` in any method, plus class-level annotations."""

    def compute() -> Dict[str, List]:
        out: Dict[str, List] = {}
        for stmt in iter_block_statements(cls.body.body):
            if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
                out.setdefault(stmt.target.value, []).append(("ann", stmt.annotation.annotation))
            elif isinstance(stmt, cst.Assign):
                for t in stmt.targets:
                    if isinstance(t.target, cst.Name):
                        out.setdefault(t.target.value, []).append(stmt.value)
            if isinstance(stmt, cst.FunctionDef):
                self_name = _first_param(stmt)
                if self_name is None:
                    continue
                for inner in iter_block_statements(stmt.body.body):
                    targets = []
                    if isinstance(inner, cst.Assign):
                        targets = [(t.target, inner.value) for t in inner.targets]
                    elif isinstance(inner, cst.AnnAssign):
                        targets = [(inner.target, ("ann", inner.annotation.annotation))]
                        if inner.value is not None:
                            targets.append((inner.target, inner.value))
                    for target, value in targets:
                        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                                and target.value.value == self_name:
                            out.setdefault(target.attr.value, []).append((id(stmt), value))
        return out

    return ctx.memo(("flow.self", id(cls)), compute)


def _first_param(func: cst.FunctionDef) -> Optional[str]:
    params = list(func.params.posonly_params) + list(func.params.params)
    if not params:
        return None
    for dec in func.decorators:
        if isinstance(dec.decorator, cst.Name) and dec.decorator.value == "staticmethod":
            return None
    return params[0].name.value


def enclosing_class(ctx: "ModuleContext") -> Optional[cst.ClassDef]:
    """The class whose method we are in (the innermost FunctionDef's direct owner)."""
    stack = ctx.scope_stack
    for i in range(len(stack) - 1, 0, -1):
        if isinstance(stack[i], cst.FunctionDef):
            return stack[i - 1] if isinstance(stack[i - 1], cst.ClassDef) else None
    return None


class _Resolver:
    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        self.active: set = set()

    def origin(self, expr: cst.BaseExpression, depth: int = 0) -> Optional[str]:
        if depth > 8:
            return None
        ctx = self.ctx
        if isinstance(expr, cst.Name):
            return self.name_origin(expr.value, depth)
        if isinstance(expr, cst.Attribute):
            base = expr.value
            if isinstance(base, cst.Name):
                cls = enclosing_class(ctx)
                func = ctx.enclosing_functiondef()
                if cls is not None and func is not None and _first_param(func) == base.value:
                    return self.values_origin(self_attributes(ctx, cls).get(expr.attr.value, []), depth, cls)
            q = ctx.qualname(expr)
            if q is not None:
                return q
            inner = self.origin(base, depth + 1)
            # an object's attribute, at any depth: "pymongo.MongoClient().app.users"
            return f"{inner}.{expr.attr.value}" if inner and ")" in inner else None
        if isinstance(expr, cst.Call):
            func = self.origin(expr.func, depth + 1)
            if func in SESSION_FACTORIES:
                # sessionmaker(engine, class_=AsyncSession) makes AsyncSessions
                for arg in expr.args:
                    if arg.keyword is not None and arg.keyword.value == "class_":
                        t = ctx.qualname(arg.value) or unwrap_annotation(ctx, arg.value)
                        return t
            return f"{func}()" if func else None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            return divided_origin(self.origin(expr.left, depth + 1))  # Path("/data") / name is a Path
        if isinstance(expr, cst.Subscript):
            inner = self.origin(expr.value, depth + 1)
            return f"{inner}[]" if inner and ")" in inner else None
        if isinstance(expr, cst.Await):
            inner = self.origin(expr.expression, depth + 1)
            return f"await {inner}" if inner else None
        return None

    def name_origin(self, name: str, depth: int) -> Optional[str]:
        ctx = self.ctx
        stack = ctx.scope_stack
        for i in range(len(stack) - 1, -1, -1):
            scope = stack[i]
            if isinstance(scope, cst.ClassDef) and i != len(stack) - 1:
                continue
            if isinstance(scope, cst.Lambda):
                if any(p.name.value == name for p in scope.params.params):
                    return None
                continue
            if isinstance(scope, cst.FunctionDef):
                param = find_param(scope, name)
                if param is not None:
                    t = unwrap_annotation(ctx, param.annotation.annotation) if param.annotation else None
                    if t is not None and t not in ("typing.Any", "builtins.object"):
                        return f"{t}()"
                    return self.dependency_origin(param, depth)
                values = function_assignments(ctx, scope).get(name)
                if values:
                    # read where they are evaluated: in that def, not in a closure of it
                    with ctx.scopes(*stack[:i + 1]):
                        return self.values_origin(values, depth, scope)
                if name in ctx.bindings(scope):  # bound another way (import, global...)
                    q = ctx.bindings(scope)[name]
                    return q
            elif isinstance(scope, cst.Module):
                values = module_assignments(ctx).get(name)
                if values and len(values) == 1 and name in local_classes(ctx) and ctx.module_name \
                        and ctx.bindings(scope).get(name, "") is None:
                    return f"{ctx.module_name}.{name}"  # a class of this module
                if values:
                    # module-level values are evaluated at module level: a def's own names
                    # (`async def h(service: UserService)`) do not change what they hold
                    with ctx.scopes(scope):
                        return self.values_origin(values, depth, scope)
        return ctx.resolve_name(name)

    def dependency_origin(self, param: cst.Param, depth: int) -> Optional[str]:
        """What a sync `Depends(f)` of this module gives: f's return/yield type, or the
        origin of what it returns/yields (`db = SessionLocal(); yield db`)."""
        ctx = self.ctx
        dep = None
        candidates = [param.default] if param.default is not None else []
        if param.annotation is not None:
            ann = param.annotation.annotation
            if isinstance(ann, cst.Name):
                alias = module_assignments(ctx).get(ann.value)
                ann = alias[0] if alias and len(alias) == 1 and isinstance(alias[0], cst.Subscript) else ann
            if isinstance(ann, cst.Subscript) and ctx.qualname(ann.value) in ANNOTATED:
                candidates += [e.slice.value for e in ann.slice[1:] if isinstance(e.slice, cst.Index)]
        for c in candidates:
            if isinstance(c, cst.Call) and ctx.qualname(c.func) in DEPENDS_CALLS and c.args \
                    and c.args[0].keyword is None and isinstance(c.args[0].value, cst.Name):
                dep = c.args[0].value.value
        if dep is None:
            return None
        funcs = [s for s in iter_block_statements(ctx.module.body)
                 if isinstance(s, cst.FunctionDef) and s.name.value == dep]
        if len(funcs) != 1 or funcs[0].asynchronous is not None:
            return None
        return self.function_result_origin(funcs[0], depth)

    def function_result_origin(self, func: cst.FunctionDef, depth: int) -> Optional[str]:
        ctx = self.ctx
        if func.returns is not None:
            ann = func.returns.annotation
            if isinstance(ann, cst.Subscript) and ctx.qualname(ann.value) in GENERATOR_TYPES:
                first = ann.slice[0].slice if ann.slice else None
                t = unwrap_annotation(ctx, first.value) if isinstance(first, cst.Index) else None
            else:
                t = unwrap_annotation(ctx, ann)
            if t is not None and t not in GENERATOR_TYPES:
                return f"{t}()"
        found = set()
        for node in _results(func):
            with ctx.scopes(ctx.module, func):
                found.add(self.origin(node, depth + 1))
        return found.pop() if len(found) == 1 else None

    def values_origin(self, values: List, depth: int, scope: object) -> Optional[str]:
        key = (id(scope), id(values))
        if key in self.active:
            return None
        self.active.add(key)
        try:
            annotated = [v for v in values if _is_annotation(v)]
            if annotated:  # a declared type wins over what the assigned expressions look like
                values = annotated
            found = set()
            for v in values:
                if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int):
                    method = _method_by_id(scope, v[0]) if isinstance(scope, cst.ClassDef) else None
                    v = v[1]  # (method id, value) from self_attributes
                    if method is not None and not _is_annotation(v) and v != _UNKNOWN:
                        found.add(self.origin_in_method(scope, method, v, depth))
                        continue
                if v == _UNKNOWN:
                    return None
                if isinstance(v, tuple) and v[0] == "ann":
                    t = unwrap_annotation(self.ctx, v[1])
                    found.add(f"{t}()" if t else None)
                elif isinstance(v, tuple) and v[0] == "with":
                    found.add(self.origin(v[1], depth + 1))
                else:
                    found.add(self.origin(v, depth + 1))
            return found.pop() if len(found) == 1 else None
        finally:
            self.active.discard(key)

    def origin_in_method(self, cls: cst.ClassDef, method: cst.FunctionDef, value, depth: int) -> Optional[str]:
        """The origin of a value assigned in `method` (`self.db = db` in __init__), seen from there."""
        ctx = self.ctx
        stack = ctx.scope_stack
        if any(s is method for s in stack):
            return self.origin(value, depth + 1)
        at = [i for i, s in enumerate(stack) if s is cls]
        outer = stack[: at[-1] + 1] if at else [ctx.module, cls]
        ctx.scope_stack = outer + [method]
        try:
            return self.origin(value, depth + 1)
        finally:
            ctx.scope_stack = stack


def _method_by_id(cls: cst.ClassDef, ident: int) -> Optional[cst.FunctionDef]:
    for stmt in iter_block_statements(cls.body.body):
        if isinstance(stmt, cst.FunctionDef) and id(stmt) == ident:
            return stmt
    return None


def _results(func: cst.FunctionDef) -> List[cst.BaseExpression]:
    """The values a function returns or yields (not in nested functions)."""
    return [n.value for n in own_nodes(func.body, (cst.Return, cst.Yield))
            if isinstance(n.value, cst.BaseExpression)]


def _is_annotation(v: object) -> bool:
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int):
        v = v[1]
    return isinstance(v, tuple) and v[0] == "ann"


def origin_of(ctx: "ModuleContext", expr: cst.BaseExpression) -> Optional[str]:
    """The origin path of `expr` at the current point of the traversal (see module docs)."""
    return _Resolver(ctx).origin(expr)


def call_origin(ctx: "ModuleContext", call: cst.Call) -> Optional[str]:
    """The origin path of what a call calls: `s.get` with `s = requests.Session()` -> "requests.Session().get"."""
    return _Resolver(ctx).origin(call.func)


__all__ = ["origin_of", "call_origin", "unwrap_annotation", "enclosing_class", "dotted_name"]
