"""FPI5xx: FastAPI API correctness."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from fastapi_lint.catalogs.lifecycle import (BROAD_EXCEPTIONS, CORS_MIDDLEWARE, HTTP_EXCEPTIONS,
                                             NO_BODY_STATUS_NAMES, PASS_THROUGH_MIDDLEWARE, RESPONSE_CLASSES_PREFIXES, STATUS_MODULES, UPLOAD_FILE_ORIGINS)
from fastapi_lint.diagnostics import DISPLAY_ONLY, UNSAFE
from fastapi_lint.model.fastapi import (ROUTE_TOKENS, FastAPIModel, MiddlewareRegistration, Route, keyword, normalise_path,
                                        path_parameters, string_value)
from fastapi_lint.model.gating import import_aliased
from fastapi_lint.model.gates import may_register_routes, names_any, origin_possible, terminals
from fastapi_lint.model.imports import dotted_name, own_nodes
from fastapi_lint.registry import FixSpec, Rule, hint, register
from fastapi_lint.rules.lifecycle import remove_args
from fastapi_lint.traverse import SYNTAX_ONLY, preorder


_HTTP_EXCEPTION_NAMES = terminals(HTTP_EXCEPTIONS)

# ---------------------------------------------------------------------------- FPI501

@register
class CorsMiddlewareNotOutermost(Rule):
    code = "FPI501"
    wants_index = False
    name = "cors-middleware-not-outermost"
    summary = ("`add_middleware(CORSMiddleware)` followed by another `add_middleware` on the same app, or "
               "`Middleware(CORSMiddleware)` not first in `middleware=[...]`.")
    fix = UNSAFE
    tokens = ("CORSMiddleware",)

    @classmethod
    def wants(cls, facts, index):
        """A registration whose class resolves to CORSMiddleware: only an import reaches it."""
        return names_any(facts, CORS_MIDDLEWARE)
    docs = """
    ## What it does
    Reports `app.add_middleware(CORSMiddleware, ...)` when another middleware is added to
    the same app after it (`add_middleware` or `@app.middleware("http")`), and
    `Middleware(CORSMiddleware, ...)` that is not the first item of `middleware=[...]`.
    Middleware that never answers a request itself (`GZipMiddleware`) is not counted.

    ## Why is this bad?
    Starlette's `add_middleware` inserts at position 0: the last one added is the
    outermost, and in `middleware=[...]` the first item is. A middleware outside CORS sees
    requests first and its own responses never pass through CORS: a 401 from an auth
    middleware, a 429 from a rate limiter, a redirect, an error page, or its answer to a
    preflight `OPTIONS` carry no `Access-Control-Allow-Origin`. The browser then blocks
    them, and the frontend sees an opaque "CORS error" instead of the status.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
    app.add_middleware(AuthMiddleware)
    ```

    ## Use instead
    ```python
    app.add_middleware(AuthMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
    ```

    ## Fix safety
    Unsafe: it moves the CORS registration after the last `add_middleware` in the same
    block (or first in the `middleware=` list), which changes the order in which the
    other middleware see requests relative to CORS: CORS now answers preflights before
    they reach them. No fix when the registrations are in different blocks or functions.
    """

    def visit_Module(self, node: cst.Module) -> None:
        model = self.ctx.fastapi
        by_owner: Dict[Tuple[str, int, str], List[MiddlewareRegistration]] = {}
        for m in model.middleware:
            key = (m.owner, id(m.scope), "list" if m.kind == "list" else "add")
            if m.kind == "list":
                key = (m.owner, id(m.list_node), "list")
            by_owner.setdefault(key, []).append(m)
        for (owner, _, kind), regs in by_owner.items():
            if kind == "list":
                self._check_list(owner, regs)
            else:
                self._check_added(owner, regs)

    def _check_added(self, owner: str, regs: List[MiddlewareRegistration]) -> None:
        body_pos = self._positions()
        regs = sorted(regs, key=lambda r: body_pos.get(id(r.statement), (1 << 30,)))
        for i, reg in enumerate(regs):
            if reg.cls not in CORS_MIDDLEWARE:
                continue
            outer = [r for r in regs[i + 1:] if r.cls not in PASS_THROUGH_MIDDLEWARE and r.cls not in CORS_MIDDLEWARE]
            if not outer:
                continue
            names = ", ".join(r.label for r in outer)
            self.report(reg.node, f"{names} added after CORSMiddleware on `{owner}` "
                                  f"{'is' if len(outer) == 1 else 'are'} outside it: responses "
                                  f"{'it makes' if len(outer) == 1 else 'they make'} (errors, rejections, "
                                  "preflight answers) carry no CORS headers, so the browser reports a CORS "
                                  "error instead of the real status", self._move_fix(reg, regs[-1]))

    def _positions(self) -> Dict[int, Tuple[int, ...]]:
        """Statement -> its path of indexes in the module (source order)."""
        def compute() -> Dict[int, Tuple[int, ...]]:
            out: Dict[int, Tuple[int, ...]] = {}
            todo = [(self.ctx.module.body, ())]
            while todo:
                body, prefix = todo.pop()
                for i, stmt in enumerate(body):
                    out[id(stmt)] = prefix + (i,)
                    inner = getattr(stmt, "body", None)
                    if isinstance(inner, cst.IndentedBlock):
                        todo.append((inner.body, prefix + (i,)))
            return out
        return self.ctx.memo("fpi501.positions", compute)

    def _move_fix(self, cors: MiddlewareRegistration, last: MiddlewareRegistration) -> FixSpec:
        title = "Add CORSMiddleware last, so that it is the outermost middleware"
        stmt, anchor = cors.statement, last.statement
        if not (cors.kind == "add" and isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Expr) and stmt.body[0].value is cors.node):
            return hint(title)
        container = self._container_of(stmt)
        if container is None or anchor is None or not any(s is anchor for s in container) or anchor is stmt:
            return hint(title)
        moved = stmt.with_changes(leading_lines=[l for l in stmt.leading_lines if l.comment is not None])
        return FixSpec(UNSAFE, title, {stmt: cst.RemovalSentinel.REMOVE,
                                       anchor: cst.FlattenSentinel([anchor, moved])})

    def _container_of(self, stmt: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
        for node in preorder(self.ctx.module, SYNTAX_ONLY):
            if isinstance(node, (cst.Module, cst.IndentedBlock)) and any(s is stmt for s in node.body):
                return list(node.body)
        return None

    def _check_list(self, owner: str, regs: List[MiddlewareRegistration]) -> None:
        lst = regs[0].list_node
        for i, reg in enumerate(regs):
            if reg.cls not in CORS_MIDDLEWARE:
                continue
            outer = [r for r in regs[:i] if r.cls not in PASS_THROUGH_MIDDLEWARE and r.cls not in CORS_MIDDLEWARE]
            if not outer:
                continue
            names = ", ".join(r.label for r in outer)
            fix = hint("Put `Middleware(CORSMiddleware, ...)` first in the list")
            if lst is not None and len(regs) == len(lst.elements):
                elements = list(lst.elements)
                j = next(k for k, e in enumerate(elements) if e is reg.node)
                moved = [elements[j]] + elements[:j] + elements[j + 1:]
                moved = [e.with_changes(comma=elements[k].comma) for k, e in enumerate(moved)]
                fix = FixSpec(UNSAFE, "Put `Middleware(CORSMiddleware, ...)` first in the list",
                              {lst: lst.with_changes(elements=moved)})
            self.report(reg.node, f"{names} {'comes' if len(outer) == 1 else 'come'} before CORSMiddleware in "
                                  f"`{owner}`'s middleware list, so {'it is' if len(outer) == 1 else 'they are'} "
                                  "outside it: responses made there (errors, rejections, preflight answers) "
                                  "carry no CORS headers, so the browser reports a CORS error instead of the "
                                  "real status", fix)


# ---------------------------------------------------------------------------- FPI502

def _reraises(handler: cst.ExceptHandler, ctx, same: Optional[str]) -> bool:
    """A bare `raise`, or `raise <the caught name>`, anywhere in the handler's own body; or,
    with `same` (the code of what the `try` raises, without whitespace), a `raise` of that
    very expression (`except Exception: raise HTTPException(400, "bad")` after raising it in
    the `try`: the client gets the same response either way)."""
    caught = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) \
        else None
    return any(node.exc is None or (caught and isinstance(node.exc, cst.Name) and node.exc.value == caught)
               or (same is not None and _code_of(ctx, node.exc) == same)
               for node in own_nodes(handler.body, (cst.Raise,)))


def _code_of(ctx, expr: cst.BaseExpression) -> str:
    return re.sub(r"\s+", "", ctx.code_for(expr))


@register
class HttpExceptionSwallowed(Rule):
    code = "FPI502"
    wants_index = False
    name = "http-exception-swallowed"
    summary = ("`raise HTTPException` inside a `try` whose `except Exception`/`BaseException`/bare `except` "
               "does not re-raise it.")
    fix = DISPLAY_ONLY
    tokens = ("HTTPException", "WebSocketException")

    @classmethod
    def wants(cls, facts, index):
        """A `raise` in a `try` body of an HTTP exception (reached from an import) or of a
        class of this file (a local subclass of one)."""
        if not facts.raised_in_try or not names_any(facts, HTTP_EXCEPTIONS):
            return False
        names = _HTTP_EXCEPTION_NAMES | facts.class_defs
        return not (facts.raised_in_try.isdisjoint(names) and facts.aliased.isdisjoint(_HTTP_EXCEPTION_NAMES))
    docs = """
    ## What it does
    Reports `raise HTTPException(...)` (FastAPI's or Starlette's, and subclasses defined in
    the module) in the body of a `try` whose handlers catch `Exception`, `BaseException` or
    everything (bare `except:`) before any `except HTTPException` handler, when that broad
    handler does not re-raise (`raise` or `raise exc`) nor raise the same exception again
    (`raise HTTPException(400, "bad")` in both places: the client gets that response anyway).

    ## Why is this bad?
    The broad handler catches the HTTPException itself: the intended 404 or 403 becomes
    whatever the handler does, usually a logged "unexpected error" and a 500, or a 200 with
    an error body. Clients lose the status they rely on.

    ## Example
    ```python
    try:
        item = repo.get(item_id)
        if item is None:
            raise HTTPException(404, "not found")
    except Exception as exc:
        raise HTTPException(500, "internal error") from exc
    ```

    ## Use instead
    ```python
    try:
        item = repo.get(item_id)
        if item is None:
            raise HTTPException(404, "not found")
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(500, "internal error") from exc
    ```

    ## Fix safety
    No automatic fix (a hint): add `except HTTPException: raise` before the broad handler,
    or move the `raise` out of the `try`.
    """

    def visit_Raise(self, node: cst.Raise) -> None:
        ctx = self.ctx
        exc = node.exc
        if exc is None:
            return
        target = exc.func if isinstance(exc, cst.Call) else exc
        if not self._is_http_exception(target):
            return
        child: cst.CSTNode = node
        for anc in ctx.ancestors():
            if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return
            if isinstance(anc, (cst.Try, cst.TryStar)) and child is anc.body:
                verdict = self._handlers_verdict(anc, _code_of(ctx, exc) if isinstance(exc, cst.Call) else None)
                if verdict == "ok":
                    return
                if verdict is not None:
                    self.report(node, f"this HTTPException is caught by `{verdict}` below, which does not "
                                      "re-raise it: the client gets that handler's response instead of this "
                                      "status", hint("Add `except HTTPException: raise` before it"))
                    return
            child = anc

    def _is_http_exception(self, target: cst.BaseExpression) -> bool:
        ctx = self.ctx
        q = ctx.qualname(target)
        if q in HTTP_EXCEPTIONS:
            return True
        if isinstance(target, cst.Name):
            classes = self._local_subclasses()
            return target.value in classes and ctx.resolve_name(target.value) is None
        return False

    def _local_subclasses(self) -> Set[str]:
        def compute() -> Set[str]:
            out: Set[str] = set()
            changed = True
            classes = [s for s in self.ctx.module.body if isinstance(s, cst.ClassDef)]
            while changed:
                changed = False
                for c in classes:
                    if c.name.value in out:
                        continue
                    for b in c.bases:
                        name = dotted_name(b.value)
                        if name in out or (name and self.ctx.module_qualname(b.value) in HTTP_EXCEPTIONS):
                            out.add(c.name.value)
                            changed = True
            return out

        return self.ctx.memo("fpi502.subclasses", compute)

    def _handlers_verdict(self, node: cst.Try, same: Optional[str] = None) -> Optional[str]:
        """"ok" if an HTTPException handler (or a broad one that re-raises, or raises `same`
        again) comes first, the broad handler's text if another broad handler does, None if no
        handler catches it."""
        for handler in node.handlers:
            types = self._handler_types(handler)
            if types is None or types & BROAD_EXCEPTIONS:
                if _reraises(handler, self.ctx, same):
                    return "ok"
                return "except:" if handler.type is None else f"except {self.ctx.code_for(handler.type)}"
            if types & (HTTP_EXCEPTIONS | {"starlette.exceptions.HTTPException"}) or "local" in types:
                return "ok"
        return None

    def _handler_types(self, handler: cst.ExceptHandler) -> Optional[Set[str]]:
        if handler.type is None:
            return None
        exprs = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
        out: Set[str] = set()
        for e in exprs:
            q = self.ctx.qualname(e)
            if q:
                out.add(q)
            elif isinstance(e, cst.Name) and e.value in self._local_subclasses():
                out.add("local")
        return out


# ---------------------------------------------------------------------------- FPI503

#: A decorator path that is one `:path` parameter: the route catches everything below its prefix.
_CATCH_ALL = re.compile(r"/?\{\s*(\w+)\s*:\s*path\s*\}")

_LIBRARIES = frozenset({"builtins", "typing", "typing_extensions", "fastapi", "starlette", "pydantic", "datetime",
                        "uuid", "decimal", "enum", "pathlib", "sqlalchemy", "sqlmodel", "collections"})

def _all_params(func: cst.FunctionDef) -> List[cst.Param]:
    p = func.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


@register
class PathParameterMissing(Rule):
    code = "FPI503"
    wants_index = False
    name = "path-parameter-missing"
    summary = ("A `{param}` of the route path that no function parameter, alias, dependency or `**kwargs` "
               "receives.")
    fix = UNSAFE
    tokens = ("/{", "\"{", "'{")
    needs_index = True

    @classmethod
    def wants(cls, facts, index):
        """A `{name}` of a literal route path or prefix that the route function does not take
        under that name (see `FileFacts.path_param_unreceived`)."""
        return facts.path_param_unreceived and may_register_routes(facts)
    docs = """
    ## What it does
    Reports a route whose path (including a router `prefix=` known in the module) has a
    `{param}` that nothing receives: no parameter of that name, no `Path(alias="param")`,
    no `**kwargs`, and no dependency at any depth of the route's dependency tree (parameter
    dependencies, `dependencies=[...]` of the decorator and of the router) that takes it.
    A dependency the linter cannot see (imported from elsewhere) counts as receiving it,
    and so does a function that reads `request.path_params`. Starlette-style routes
    (`add_route`, `@app.route`) are not checked, nor is a catch-all route whose decorator
    path is one `:path` parameter (`@app.get("/{full_path:path}")` serving an SPA's index
    page for any URL ignores it on purpose).

    ## Why is this bad?
    The value in the URL is silently thrown away: `/users/{user_id}/orders` with no
    `user_id` parameter returns every user's orders to whoever asks for any user. Usually
    a typo (`{item_id}` vs `itemid`) or a refactor that dropped the parameter.

    ## Example
    ```python
    @app.get("/users/{user_id}/orders")
    def orders(db: DB):
        return db.all_orders()
    ```

    ## Use instead
    ```python
    @app.get("/users/{user_id}/orders")
    def orders(user_id: int, db: DB):
        return db.orders_of(user_id)
    ```

    ## Fix safety
    Unsafe: it adds a parameter `name: str` (before the first parameter with a default), so
    the value reaches the function; the function still has to use it, and you may want a
    more precise type than `str`.
    """

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        model = self.ctx.fastapi
        for route in model.routes_of(node):
            if route.starlette_style:
                continue
            _, full = model.full_path(route, root_prefix=True)
            names = path_parameters(full if full is not None else route.path)
            if not names:
                continue
            missing = [n for n in dict.fromkeys(names) if not self._consumed(model, route, n)]
            catch_all = _CATCH_ALL.fullmatch(route.path or "")
            if catch_all is not None:
                # `@app.get("/{full_path:path}")` answering whatever was asked (an SPA's index
                # page, a custom 404) ignores the path on purpose
                missing = [n for n in missing if n != catch_all.group(1)]
            for name in missing:
                self.report(route.registration,
                            f"path parameter `{{{name}}}` of `{full or route.path}` is not received by "
                            f"`{node.name.value}` or its dependencies: the value in the URL is ignored",
                            self._fix(node, name))

    def _consumed(self, model: FastAPIModel, route: Route, name: str) -> bool:
        func = route.func
        if self._function_takes(model, func, name, set(), 0):
            return True
        deps = list(model.decorator_dependencies(route.call))
        owner = model.app_of(route.owner)
        info = model.owner_info(owner, route.scope)
        if info is not None:
            deps += model.decorator_dependencies(info.call)
        else:
            return True  # the router's own dependencies are unknown
        for inc in model.includes:
            if inc.router == owner:
                deps += model.decorator_dependencies(inc.call)
        return any(self._dependency_takes(model, d, name, set(), 1) for d in deps)

    def _function_takes(self, model: FastAPIModel, func: cst.FunctionDef, name: str, seen: set,
                        depth: int) -> bool:
        if id(func) in seen or depth > 10:
            return False
        seen.add(id(func))
        if isinstance(func.params.star_kwarg, cst.Param) or (
                "path_params" in self.ctx.source and "path_params" in self.ctx.code_for(func.body)):
            return True
        for param in _all_params(func):
            if param.name.value == name and not self._aliased_elsewhere(param, name):
                return True
            if name in self._aliases_of(param) or self._imported_dependency_alias(param):
                return True
        return any(self._dependency_takes(model, d, name, seen, depth + 1) for d in model.sub_dependencies(func))

    def _imported_dependency_alias(self, param: cst.Param) -> bool:
        """`x: CurrentItem` with `CurrentItem = Annotated[Item, Depends(...)]` in another module:
        its dependency is not visible here, so it may take the parameter. Without a project
        index, any imported annotation from outside the known libraries counts."""
        ann = param.annotation.annotation if param.annotation is not None else None
        if not isinstance(ann, (cst.Name, cst.Attribute)):
            return False
        q = self.ctx.qualname(ann)
        if q is None or q.split(".")[0] in _LIBRARIES:
            return False
        index = self.ctx.index
        if index is None:
            return True
        return q in index.depends_aliases

    def _dependency_takes(self, model: FastAPIModel, dep: Optional[cst.BaseExpression], name: str, seen: set,
                          depth: int) -> bool:
        target = model.resolve_callable(dep)
        if target is None:
            return True  # unknown dependency: may take it
        if isinstance(target, cst.ClassDef):
            init = next((s for s in target.body.body if isinstance(s, cst.FunctionDef)
                         and s.name.value == "__init__"), None)
            if init is None:
                return True  # dataclass / pydantic fields: not followed
            return self._function_takes(model, init, name, seen, depth)
        return self._function_takes(model, target, name, seen, depth)

    def _param_call(self, param: cst.Param) -> Optional[cst.Call]:
        if isinstance(param.default, cst.Call):
            return param.default
        if param.annotation is not None and isinstance(param.annotation.annotation, cst.Subscript):
            for el in list(param.annotation.annotation.slice)[1:]:
                v = el.slice.value if isinstance(el.slice, cst.Index) else None
                if isinstance(v, cst.Call):
                    return v
        return None

    def _aliases_of(self, param: cst.Param) -> Set[str]:
        """The names a `Path(alias=..., validation_alias=...)` parameter is received under."""
        call = self._param_call(param)
        if call is None:
            return set()
        found = set()
        for kw in ("alias", "validation_alias"):
            arg = keyword(call, kw)
            value = string_value(arg.value) if arg is not None else None
            if value:
                found.add(value)
        return found

    def _aliased_elsewhere(self, param: cst.Param, name: str) -> bool:
        aliases = self._aliases_of(param)
        return bool(aliases) and name not in aliases

    def _fix(self, func: cst.FunctionDef, name: str) -> FixSpec:
        title = f"Add a parameter `{name}: str`"
        if not name.isidentifier():
            return hint(title)
        params = func.params
        all_params = list(params.params)
        if params.posonly_params or (all_params and all_params[0].name.value in ("self", "cls")):
            return hint(title)
        new_param = cst.Param(name=cst.Name(name), annotation=cst.Annotation(cst.Name("str")))
        idx = next((i for i, p in enumerate(all_params) if p.default is not None), len(all_params))
        if idx < len(all_params) or not all_params:
            new_param = new_param.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) \
                if all_params else new_param
            all_params.insert(idx, new_param)
        else:
            last = all_params[-1]
            all_params[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            all_params.append(new_param.with_changes(comma=last.comma))
        return FixSpec(UNSAFE, title, {params: params.with_changes(params=all_params)})


# ---------------------------------------------------------------------------- FPI504

_NO_BODY_CODES = {204, 304} | set(range(100, 200))
#: How `FileFacts.status_codes` spells a status `_status` resolves to no body.
_NO_BODY_SPELLINGS = frozenset(map(str, _NO_BODY_CODES)) | frozenset(NO_BODY_STATUS_NAMES)


@register
class BodyOnNoContentStatus(Rule):
    code = "FPI504"
    wants_index = False
    name = "body-on-no-content-status"
    summary = ("`status_code` 204/304/1xx with `response_model`, a non-`None` return annotation, "
               "or a returned value.")
    fix = DISPLAY_ONLY
    # Every report is of a `status_code=` keyword; `FileFacts.status_codes` then tells the
    # bodiless ones (`204`, `0xCC`, `HTTP_204_NO_CONTENT`, `status_code = 103`).
    tokens = ("status_code",)

    @classmethod
    def wants(cls, facts, index):
        # a `status_code=` spelling a bodiless status, or a name an import alias may hide one
        # behind (`from fastapi.status import HTTP_204_NO_CONTENT as NO_CONTENT`)
        if facts.status_codes.isdisjoint(_NO_BODY_SPELLINGS) and (
                not facts.status_codes or import_aliased(facts).isdisjoint(NO_BODY_STATUS_NAMES)):
            return False
        return may_register_routes(facts)
    docs = """
    ## What it does
    Reports a route declared with `status_code=204`, `304` or `1xx` (literal or
    `status.HTTP_204_NO_CONTENT`, ...) that also declares `response_model=`, has a return
    annotation other than `None` or a `Response` class (unless `response_model=None` says
    the annotation is not the model), or returns a literal value.

    ## Why is this bad?
    These statuses have no body. With a response model (given or inferred from the return
    annotation) FastAPI raises `AssertionError: Status code 204 must not have a response
    body` at import; a returned value is silently dropped (or, with some servers, corrupts
    the next response on the keep-alive connection).

    ## Example
    ```python
    @app.delete("/items/{item_id}", status_code=204)
    def delete_item(item_id: int) -> dict:
        repo.delete(item_id)
        return {"deleted": item_id}
    ```

    ## Use instead
    ```python
    @app.delete("/items/{item_id}", status_code=204)
    def delete_item(item_id: int) -> None:
        repo.delete(item_id)
    ```

    ## Fix safety
    No automatic fix (a hint): drop the body, or use a status that has one (200).
    """

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for route in self.ctx.fastapi.routes_of(node):
            code = self._status(route.call)
            if code is None:
                continue
            rm = keyword(route.call, "response_model")
            if rm is not None:
                # given, even as `None`: FastAPI does not read the return annotation then
                if not (isinstance(rm.value, cst.Name) and rm.value.value == "None"):
                    self.report(rm, f"status {code} has no body, but `response_model=` is set: FastAPI raises "
                                    "AssertionError at import", hint("Remove `response_model=`"))
            elif node.returns is not None and not self._bodyless_annotation(node.returns.annotation):
                self.report(node.returns, f"status {code} has no body, but the return annotation makes it the "
                                          "response model: FastAPI raises AssertionError at import",
                            hint("Annotate `-> None`"))
            for ret in _returns(node):
                if ret.value is not None and isinstance(ret.value, _LITERALS):
                    self.report(ret, f"route `{node.name.value}` answers with status {code}, which has no body: "
                                     "this value is dropped", hint("Return nothing, or use status 200"))
            return

    def _status(self, call: Optional[cst.Call]) -> Optional[int]:
        if call is None:
            return None
        arg = keyword(call, "status_code")
        if arg is None:
            return None
        v = arg.value
        if isinstance(v, cst.Integer):
            code = int(v.value, 0)  # 0xCC, 1_00
            return code if code in _NO_BODY_CODES else None
        q = self.ctx.qualname(v)
        if q:
            mod, _, attr = q.rpartition(".")
            if mod in STATUS_MODULES and attr in NO_BODY_STATUS_NAMES:
                return int(attr.split("_")[1])
        return None

    def _bodyless_annotation(self, ann: cst.BaseExpression) -> bool:
        if isinstance(ann, cst.Name) and ann.value == "None":
            return True
        q = self.ctx.qualname(ann)
        return bool(q) and (q.startswith(RESPONSE_CLASSES_PREFIXES) or q.endswith("Response"))


_LITERALS = (cst.Dict, cst.List, cst.Tuple, cst.Set, cst.SimpleString, cst.ConcatenatedString,
             cst.FormattedString, cst.Integer, cst.Float, cst.DictComp, cst.ListComp)


def _returns(func: cst.FunctionDef) -> List[cst.Return]:
    return own_nodes(func, (cst.Return,))


# ---------------------------------------------------------------------------- FPI505

_ORDERING = (cst.GreaterThan, cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual)


@register
class UploadReadUnbounded(Rule):
    code = "FPI505"
    wants_index = False
    name = "upload-read-unbounded"
    summary = "`await file.read()` with no size on an `UploadFile`: the whole upload in memory."
    fix = DISPLAY_ONLY
    tokens = ("UploadFile",)

    @classmethod
    def wants(cls, facts, index):
        """`.read()` on an UploadFile, which only an import of the class can give."""
        return "read" in facts.calls and any(origin_possible(facts, o) for o in UPLOAD_FILE_ORIGINS)
    docs = """
    ## What it does
    Reports `await file.read()` (no size argument, or `-1`) where `file` is an `UploadFile`
    (a parameter annotated `UploadFile`, also through `Annotated[UploadFile, File()]`).
    Reading with a size (`await file.read(64 * 1024)`) is fine, and so is a read after the
    function compared the file's `.size` (`if file.size > MAX: raise ...`): the read is then
    bounded by that check.

    ## Why is this bad?
    The whole upload lands in memory at once: one client sending a multi-gigabyte file
    (or a few in parallel) exhausts the worker's memory and the process is killed, taking
    every in-flight request with it.

    ## Example
    ```python
    @app.post("/upload")
    async def upload(file: UploadFile):
        data = await file.read()
        store(data)
    ```

    ## Use instead
    ```python
    @app.post("/upload")
    async def upload(file: UploadFile):
        while chunk := await file.read(1024 * 1024):
            store_chunk(chunk)
    ```

    ## Fix safety
    No automatic fix (a hint): read in chunks, and enforce a maximum size.
    """

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        #: (id of the function, code of the file) whose `.size` the function compared so far
        self._size_checked: Set[Tuple[int, str]] = set()

    def visit_Comparison(self, node: cst.Comparison) -> None:
        """`file.size` compared to a bound (`file.size > MAX`, `MAX < (file.size or 0)`): the
        function checks that file's size, before the reads that come after it."""
        if not any(type(c.operator) in _ORDERING for c in node.comparisons):
            return  # `file.size == 4` bounds nothing
        for part in preorder(node, SYNTAX_ONLY):
            if type(part) is cst.Attribute and part.attr.value == "size":
                self._size_checked.add((id(self.ctx.current_function()), self.ctx.code_for(part.value)))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "read"):
            return
        if (id(self.ctx.current_function()), self.ctx.code_for(func.value)) in self._size_checked:
            return  # read after `if file.size > MAX: ...` in the same function
        if node.args:
            first = node.args[0].value
            if not (isinstance(first, cst.UnaryOperation) and isinstance(first.expression, cst.Integer)
                    and first.expression.value == "1"):
                return
        parent = self.ctx.parent(node)
        if not isinstance(parent, cst.Await):
            return
        if self.ctx.origin_of(func.value) not in UPLOAD_FILE_ORIGINS:
            return
        self.report(node, f"`await {self.ctx.code_for(func.value)}.read()` reads the whole upload into memory: "
                          "one large file can exhaust the worker", hint("Read in chunks: `await file.read(1 << 20)`"))


# ---------------------------------------------------------------------------- FPI506

def _norm(code: str) -> str:
    return re.sub(r"\s+", "", code).rstrip(",").replace(",]", "]")


@register
class RedundantResponseModel(Rule):
    code = "FPI506"
    wants_index = False
    name = "redundant-response-model"
    summary = "`response_model=` equal to the return annotation."
    fix = UNSAFE
    tokens = ("response_model",)

    @classmethod
    def wants(cls, facts, index):
        return facts.response_model_annotated and may_register_routes(facts)
    docs = """
    ## What it does
    Reports `response_model=X` on a route whose return annotation is also `X` (compared as
    written, ignoring whitespace, or as the same qualified name).

    ## Why is this bad?
    Since FastAPI 0.89 the return annotation is the response model. Saying it twice is
    noise, and the two drift apart in the next refactor: then `response_model=` silently
    wins, and the annotation lies to type checkers and readers.

    ## Example
    ```python
    @app.get("/items", response_model=list[Item])
    def items() -> list[Item]:
        ...
    ```

    ## Use instead
    ```python
    @app.get("/items")
    def items() -> list[Item]:
        ...
    ```

    ## Fix safety
    Unsafe: removing `response_model=` keeps the same response model on FastAPI 0.89+,
    but on older versions the annotation is ignored and responses are no longer filtered.
    """

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.returns is None:
            return
        ann = node.returns.annotation
        for route in self.ctx.fastapi.routes_of(node):
            if route.call is None:
                continue
            rm = keyword(route.call, "response_model")
            if rm is None or not self._same(rm.value, ann):
                continue
            fix = FixSpec(UNSAFE, "Remove `response_model=` (the return annotation is the response model)",
                          {route.call: remove_args(route.call, ("response_model",))})
            self.report(rm, f"`response_model=` repeats the return annotation of `{node.name.value}`", fix)

    def _same(self, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
        ctx = self.ctx
        if _norm(ctx.code_for(a)) == _norm(ctx.code_for(b)):
            return True
        qa, qb = ctx.qualname(a), ctx.qualname(b)
        return qa is not None and qa == qb


# ---------------------------------------------------------------------------- FPI507

@register
class DuplicateRoute(Rule):
    code = "FPI507"
    wants_index = False
    name = "duplicate-route"
    summary = "The same method and path registered twice on one app/router: the second is unreachable."
    fix = DISPLAY_ONLY
    tokens = ROUTE_TOKENS

    @classmethod
    def wants(cls, facts, index):
        """Two route registrations that may share a method, a scope and a full path (see
        `FileFacts.routes_may_collide`)."""
        return facts.routes_may_collide and may_register_routes(facts)
    docs = """
    ## What it does
    Reports a route whose method and path were already registered on the same app or
    router (paths compared with parameter names dropped, router prefixes included where
    the module shows them: a router included into the app with a literal prefix, and its
    `prefix=`). `api_route(methods=[...])` counts for each of its methods. Registrations in
    different branches of an `if`/`try` are not compared.

    ## Why is this bad?
    Starlette matches routes in order: the first registration answers every request, and
    the second function is dead code that looks alive. Usually a copy-paste or a merge
    that kept both versions; tests that call the second function directly still pass.

    ## Example
    ```python
    @app.get("/items/{item_id}")
    def get_item(item_id: int): ...

    @app.get("/items/{id}")
    def get_item_v2(id: int): ...
    ```

    ## Use instead
    ```python
    @app.get("/items/{item_id}")
    def get_item(item_id: int): ...

    @app.get("/items/{item_id}/v2")
    def get_item_v2(item_id: int): ...
    ```

    ## Fix safety
    No automatic fix (a hint): remove one of them or give it another path or method.
    """

    def visit_Module(self, node: cst.Module) -> None:
        model = self.ctx.fastapi
        keyed = []
        for route in model.routes:
            root, path = model.full_path(route)
            if path is None:
                continue
            methods = ["WEBSOCKET"] if route.websocket else route.methods
            keys = [(root, id(route.scope), id(route.block), method, normalise_path(path))
                    for method in dict.fromkeys(methods)]
            keyed.append((route, path, keys))
        all_keys = [k for _, _, keys in keyed for k in keys]
        if len(set(all_keys)) == len(all_keys):
            return  # no two registrations share a method and path: nothing to order
        order = {id(r): i for i, r in enumerate(self._ordered([r for r, _, _ in keyed]))}
        keyed.sort(key=lambda item: order[id(item[0])])
        seen: Dict[tuple, Route] = {}
        for route, path, keys in keyed:
            for key in keys:
                method = key[3]
                first = seen.get(key)
                if first is None:
                    seen[key] = route
                    continue
                if first.func is route.func and first.registration is route.registration:
                    continue
                self.report(route.registration,
                            f"{method} {path} is already registered by `{first.func.name.value}`: "
                            f"`{route.func.name.value}` is unreachable",
                            hint("Remove one, or change its path or method"))

    def _ordered(self, routes: List[Route]) -> List[Route]:
        # the order of the nodes it numbers is the same without punctuation and trivia
        positions = {id(node): i for i, node in enumerate(preorder(self.ctx.module, SYNTAX_ONLY))}
        model = self.ctx.fastapi

        def key(route: Route) -> int:
            # a router's routes reach the app when it is included: that is their place in the app
            owner = model.app_of(route.owner)
            incs = [i for i in model.includes if i.router == owner]
            if len(incs) == 1 and model.full_path(route)[0] != owner:
                return positions.get(id(incs[0].call), 0)
            return positions.get(id(route.registration), 0)

        return sorted(routes, key=key)
