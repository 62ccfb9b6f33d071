"""Blocking summaries for the project index (FPI110), from CPython's `ast`.

The index pass reads every checked file, so it must be cheap: `ast` parses about ten
times faster than libcst, which keeps a run with the index within a small factor of a run
without it. This module mirrors, for sync functions only, the part of `model/flow.py` that
blocking needs: what a name or attribute holds (imports, local and module assignments,
`with ... as x`, annotated parameters, `self.x` set in any method) as the same origin
paths, matched against the same catalogue (`catalogs/blocking.py`).

Per sync function or method it stores, in `FunctionSummary.facts`:
    "blocks": [code, label, line]   the first direct blocking call ("FPI104", "open()", 12)
    "calls":  ["pkg.storage.read_settings", "pkg.repo.Repo.load", ...]  what it calls
and, per module, `ModuleSummary.instances`: module-level `name = ProjectClass(...)`.
`ProjectIndex.blocking_chain(qualname)` follows the calls across modules.
"""

from __future__ import annotations

import ast
import builtins
from typing import TYPE_CHECKING, Dict, List, Optional

from fastapi_lint.model.facts import first_parameter
from fastapi_lint.model.names import resolve_relative_name
from fastapi_lint.model.index import ast_block_statements as _walk_body
from fastapi_lint.catalogs.blocking import BLOCKING_SLEEP, OFFLOAD, divided_origin, match_blocking

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.facts import OwnBody

BUILTINS = frozenset(dir(builtins))
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated", "typing.Optional",
                        "typing_extensions.Optional"})
_SESSION_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker",
                                "sqlalchemy.ext.asyncio.async_sessionmaker"})
_OFFLOAD_METHODS = frozenset(k[1:] for k in OFFLOAD if k.startswith("."))


class _Scope:
    def __init__(self, names: Dict[str, list], params: Dict[str, Optional[ast.expr]],
                 parent: Optional["_Scope"] = None) -> None:
        self.names = names
        self.params = params
        self.parent = parent


def _bindings(body, module: Optional[str], is_package: bool) -> Dict[str, list]:
    """name -> list of ("import", qual) / ("value", expr) / ("ann", expr) / ("with", expr) / ("unknown",)."""
    out: Dict[str, list] = {}

    def add(name, v):
        out.setdefault(name, []).append(v)

    def targets(t, v):
        # not recursive: a nested function that calls itself lives in a reference cycle, with
        # `out` and the tree, until a full garbage collection
        todo = [(t, v)]
        while todo:
            t, v = todo.pop()
            if isinstance(t, ast.Name):
                add(t.id, v)
            elif isinstance(t, (ast.Tuple, ast.List)):
                todo.extend((el, ("unknown",)) for el in reversed(t.elts))
            elif isinstance(t, ast.Starred):
                todo.append((t.value, ("unknown",)))

    for stmt in _walk_body(body):
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    add(a.asname, ("import", a.name))
                else:
                    head = a.name.split(".")[0]
                    add(head, ("import", head))
        elif isinstance(stmt, ast.ImportFrom):
            base = resolve_relative_name(stmt.module, stmt.level, module, is_package)
            for a in stmt.names:
                if a.name == "*":
                    continue
                add(a.asname or a.name, ("import", f"{base}.{a.name}") if base else ("unknown",))
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                targets(t, ("value", stmt.value))
        elif isinstance(stmt, ast.AnnAssign):
            if isinstance(stmt.target, ast.Name):
                add(stmt.target.id, ("ann", stmt.annotation))
        elif isinstance(stmt, ast.AugAssign):
            targets(stmt.target, ("unknown",))
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            targets(stmt.target, ("unknown",))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars, ("with", item.context_expr) if isinstance(stmt, ast.With)
                            else ("unknown",))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            add(stmt.name, ("def", stmt))
        elif isinstance(stmt, (ast.Global, ast.Nonlocal)):
            for n in stmt.names:
                out.pop(n, None)
        elif isinstance(stmt, ast.Try):
            for h in stmt.handlers:
                if h.name:
                    add(h.name, ("unknown",))
    return out


class _AstFlow:
    def __init__(self, tree: ast.Module, module: Optional[str], is_package: bool) -> None:
        self.module = module
        self.prefix = f"{module}." if module else ""
        self.is_package = is_package
        self.top = _Scope(_bindings(tree.body, module, is_package), {})
        self.classes: Dict[str, ast.ClassDef] = {
            s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
        self._self_attrs: Dict[str, Dict[str, list]] = {}
        self._scopes: Dict[int, _Scope] = {}

    # ----------------------------------------------------------------- scopes
    def scope_of(self, func, cls: Optional[ast.ClassDef]) -> _Scope:
        found = self._scopes.get(id(func))
        if found is None:
            args = func.args
            params = {a.arg: a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            for a in (args.vararg, args.kwarg):
                if a is not None:
                    params[a.arg] = None
            found = _Scope(_bindings(func.body, self.module, self.is_package), params, self.top)
            found.func, found.cls = func, cls  # type: ignore[attr-defined]
            self._scopes[id(func)] = found
        return found

    def self_attrs(self, cls: ast.ClassDef) -> Dict[str, list]:
        found = self._self_attrs.get(cls.name)
        if found is not None:
            return found
        found = {}
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                found.setdefault(stmt.target.id, []).append((None, ("ann", stmt.annotation)))
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = first_parameter(stmt)
                if first is None:
                    continue
                for inner in _walk_body(stmt.body):
                    pairs = []
                    if isinstance(inner, ast.Assign):
                        pairs = [(t, ("value", inner.value)) for t in inner.targets]
                    elif isinstance(inner, ast.AnnAssign):
                        pairs = [(inner.target, ("ann", inner.annotation))]
                    for t, v in pairs:
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == first:
                            found.setdefault(t.attr, []).append((stmt, v))
        self._self_attrs[cls.name] = found
        return found

    # ----------------------------------------------------------------- origins
    def annotation(self, ann: Optional[ast.expr], scope: _Scope, depth: int = 0) -> Optional[str]:
        if ann is None or depth > 5:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                return self.annotation(ast.parse(ann.value, mode="eval").body, scope, depth + 1)
            except SyntaxError:
                return None
        if isinstance(ann, ast.Subscript):
            base = self.origin(ann.value, scope, depth + 1)
            if base in _ANNOTATED:
                first = ann.slice.elts[0] if isinstance(ann.slice, ast.Tuple) and ann.slice.elts else ann.slice
                return self.annotation(first, scope, depth + 1)
            return base
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            sides = [s for s in (ann.left, ann.right) if not (isinstance(s, ast.Constant) and s.value is None)]
            return self.annotation(sides[0], scope, depth + 1) if len(sides) == 1 else None
        if isinstance(ann, ast.Name):
            values = self.top.names.get(ann.id)
            if values and len(values) == 1 and values[0][0] == "value" and isinstance(values[0][1], ast.Subscript):
                return self.annotation(values[0][1], scope, depth + 1)  # Dep = Annotated[Session, ...]
        t = self.origin(ann, scope, depth + 1)
        return t if t and not t.endswith(")") else None

    def origin(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> Optional[str]:
        if depth > 8:
            return None
        if isinstance(expr, ast.Name):
            return self.name_origin(expr.id, scope, depth)
        if isinstance(expr, ast.Attribute):
            cls = getattr(scope, "cls", None)
            func = getattr(scope, "func", None)
            if isinstance(expr.value, ast.Name) and cls is not None and func is not None \
                    and first_parameter(func) == expr.value.id:
                if any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == expr.attr
                       for s in cls.body):
                    return f"{self.prefix}{cls.name}.{expr.attr}"
                return self.attr_origin(cls, expr.attr, depth)
            inner = self.origin(expr.value, scope, depth + 1)
            return f"{inner}.{expr.attr}" if inner else None
        if isinstance(expr, ast.Call):
            func = self.origin(expr.func, scope, depth + 1)
            if func in _SESSION_FACTORIES:
                for kw in expr.keywords:
                    if kw.arg == "class_":
                        return self.origin(kw.value, scope, depth + 1)
            return f"{func}()" if func else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            return divided_origin(self.origin(expr.left, scope, depth + 1))
        if isinstance(expr, ast.Subscript):
            inner = self.origin(expr.value, scope, depth + 1)
            return f"{inner}[]" if inner and ")" in inner else None
        return None

    def name_origin(self, name: str, scope: _Scope, depth: int) -> Optional[str]:
        while scope is not None:
            if name in scope.params:
                t = self.annotation(scope.params[name], scope, depth + 1)
                return f"{t}()" if t else None
            values = scope.names.get(name)
            if values:
                return self.values_origin(values, scope, depth)
            scope = scope.parent
        return f"builtins.{name}" if name in BUILTINS else None

    def values_origin(self, values: list, scope: _Scope, depth: int) -> Optional[str]:
        anns = [v for v in values if v[0] == "ann"]
        if anns:
            values = anns
        found = set()
        for v in values:
            kind = v[0]
            if kind == "import":
                found.add(v[1])
            elif kind == "def":
                found.add(f"{self.prefix}{v[1].name}" if scope is self.top else None)
            elif kind == "ann":
                t = self.annotation(v[1], scope, depth + 1)
                found.add(f"{t}()" if t else None)
            elif kind in ("value", "with"):
                found.add(self.origin(v[1], scope, depth + 1))
            else:
                return None
            if len(found) > 1:
                return None
        return found.pop() if len(found) == 1 else None

    def attr_origin(self, cls: ast.ClassDef, attr: str, depth: int) -> Optional[str]:
        values = self.self_attrs(cls).get(attr)
        if not values:
            return None
        if any(v[1][0] == "ann" for v in values):
            values = [v for v in values if v[1][0] == "ann"]
        found = set()
        for method, v in values:
            scope = self.scope_of(method, cls) if method is not None else self.top
            if v[0] == "ann":
                t = self.annotation(v[1], scope, depth + 1)
                found.add(f"{t}()" if t else None)
            else:
                found.add(self.origin(v[1], scope, depth + 1))
            if len(found) > 1:
                return None
        return found.pop() if found else None


#: Decorators that leave a sync function sync and calling it in place.
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod", "property", "cached_property", "lru_cache",
                                    "cache", "override", "abstractmethod", "setter", "wraps"})


def _decorator_name(dec) -> str:
    if isinstance(dec, ast.Call):
        dec = dec.func
    if isinstance(dec, ast.Attribute):
        return dec.attr
    return dec.id if isinstance(dec, ast.Name) else ""


def _flag_off(call: ast.Call):
    def check(position: int, keyword: str) -> bool:
        for kw in call.keywords:
            if kw.arg in (keyword, "timeout") and isinstance(kw.value, ast.Constant):
                if kw.arg == keyword and kw.value.value is False:
                    return True
                if kw.arg == "timeout" and kw.value.value == 0:
                    return True
        if len(call.args) > position and isinstance(call.args[position], ast.Constant):
            return call.args[position].value is False
        return False

    return check


def _as_function(callee: str) -> str:
    """`pkg.repo.Repo().load` (a method of an instance) -> `pkg.repo.Repo.load`."""
    head, sep, tail = callee.rpartition("().")
    if sep and "(" not in head and "[" not in head and "." not in tail:
        return f"{head}.{tail}"
    return callee


def add_blocking_facts(summary, tree: ast.Module, is_package: bool, bodies: Dict[int, OwnBody]) -> None:
    """Fill `facts["blocks"]`/`facts["calls"]` of the summary's sync functions, and its instances.
    `bodies`: the calls of each function's own body, from `file_facts`."""
    flow = _AstFlow(tree, summary.module, is_package)
    prefix = flow.prefix

    def visit(func, cls: Optional[ast.ClassDef]) -> None:
        q = f"{prefix}{cls.name + '.' if cls else ''}{func.name}"
        fs = summary.functions.get(q)
        if fs is None or fs.is_async:
            return
        if any(_decorator_name(d) not in TRANSPARENT_DECORATORS for d in func.decorator_list):
            return  # @sync_compatible, @async_dispatch(...), @some_executor: what it does is unknown
        scope = flow.scope_of(func, cls)
        calls: List[str] = []
        for call in bodies[id(func)].calls:
            callee = flow.origin(call.func, scope)
            if not callee:
                continue
            found = ("FPI101", f"{callee}()") if callee in BLOCKING_SLEEP else match_blocking(callee, _flag_off(call))
            if found is not None:
                if "blocks" not in fs.facts:
                    fs.facts["blocks"] = [found[0], found[1], call.lineno]
                continue
            callee = _as_function(callee)
            if callee not in calls and not callee.startswith("builtins.") and "(" not in callee:
                calls.append(callee)
        if calls:
            fs.facts["calls"] = calls

    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            visit(stmt, None)
        elif isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:
                if isinstance(inner, ast.FunctionDef):
                    visit(inner, stmt)
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            t = flow.origin(stmt.value, flow.top)
            if t and t.endswith("()") and t.count("(") == 1:
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        summary.instances[target.id] = t[:-2]
