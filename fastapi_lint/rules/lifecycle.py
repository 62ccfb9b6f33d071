"""FPI4xx: resources and lifecycle."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import libcst as cst

from fastapi_lint.catalogs.lifecycle import (ASYNC_SESSION_ORIGINS, CACHING_DECORATORS, CLIENT_FACTORIES,
                                             CONNECTION_OPENERS, LEAKED_ORIGINS, SESSION_ORIGINS)
from fastapi_lint.diagnostics import DISPLAY_ONLY, UNSAFE
from fastapi_lint.model.fastapi import APP_CLASSES, EventHandler, FastAPIModel, keyword
from fastapi_lint.model.flow import SESSION_FACTORIES
from fastapi_lint.model.gates import (called, calls_any, may_be_endpoint, may_have_dependencies, names_any,
                                      origin_parts, origin_possible, parts_possible, reaches, terminal)
from fastapi_lint.model.imports import decorator_callee, iter_block_statements, own_nodes
from fastapi_lint.model.receivers import ANY as ANY_KIND, ModuleReceivers
from fastapi_lint.registry import FixSpec, Rule, hint, register
from fastapi_lint.traverse import SYNTAX_ONLY, preorder

ASYNCCONTEXTMANAGER = "contextlib.asynccontextmanager"


def _may_register_event_handlers(facts) -> bool:
    """`FastAPIModel.event_handlers` can be non-empty: an `@x.on_event(...)` decorator, an
    `x.add_event_handler(...)` call or an `on_startup=`/`on_shutdown=` argument that is not
    forwarded (`FileFacts.event_keywords`)."""
    return "on_event" in facts.decorators or "add_event_handler" in facts.calls or facts.event_keywords


# ---------------------------------------------------------------------------- call editing helpers

def remove_args(call: cst.Call, names: Sequence[str]) -> cst.Call:
    """The call without its keyword arguments `names`, keeping the comma style of what remains."""
    args = list(call.args)
    kept = [a for a in args if not (a.keyword is not None and a.keyword.value in names)]
    if len(kept) == len(args):
        return call
    if kept and kept[-1] is not args[-1]:
        kept[-1] = kept[-1].with_changes(comma=args[-1].comma)
    return call.with_changes(args=kept)


def append_kwarg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`f(a, b=1)` -> `f(a, b=1, name=value)`, one per line when the call is laid out that way."""
    args = list(call.args)
    new = cst.Arg(value=value, keyword=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        sep = cst.Comma(whitespace_after=call.whitespace_before_args)
    elif len(args) > 1 and isinstance(args[0].comma, cst.Comma):
        sep = args[0].comma
    else:
        sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args[-1] = last.with_changes(comma=sep)
    args.append(new.with_changes(comma=last.comma))
    return call.with_changes(args=args)


def _free_name(bound: set, base: str) -> str:
    for candidate in (base, f"app_{base}", f"{base}_handler"):
        if candidate not in bound:
            return candidate
    i = 2
    while f"{base}{i}" in bound:
        i += 1
    return f"{base}{i}"


def _body_of(scope: Optional[cst.CSTNode], module: cst.Module) -> Sequence[cst.CSTNode]:
    if scope is None or isinstance(scope, cst.Module):
        return module.body
    return scope.body.body if isinstance(scope.body, cst.IndentedBlock) else ()


# ---------------------------------------------------------------------------- FPI401

@register
class OnEventHandler(Rule):
    code = "FPI401"
    wants_index = False
    name = "on-event-handler"
    summary = ("`@app.on_event(\"startup\"/\"shutdown\")`, `add_event_handler`, `FastAPI(on_startup=..., "
               "on_shutdown=...)`: deprecated since FastAPI 0.104.")
    fix = UNSAFE
    tokens = ("on_event", "add_event_handler", "on_startup", "on_shutdown")

    @classmethod
    def wants(cls, facts, index):
        """Every report is one of the module's event handlers."""
        return _may_register_event_handlers(facts)

    docs = """
    ## What it does
    Reports startup and shutdown handlers registered the deprecated way: `@app.on_event("startup")`
    and `@app.on_event("shutdown")` (also on routers and `app.router`),
    `app.add_event_handler("startup", f)` and `FastAPI(on_startup=[...], on_shutdown=[...])`.

    ## Why is this bad?
    FastAPI deprecated event handlers in 0.104 in favour of one `lifespan` context manager:
    `on_event` emits a DeprecationWarning at import, and handlers are silently ignored as soon
    as anyone adds `lifespan=` to the app (see FPI405). A lifespan also keeps startup and
    shutdown of one resource together, so a client opened at startup is closed at shutdown,
    and can hand state to requests (`yield {"client": client}`).

    ## Example
    ```python
    app = FastAPI(title="shop")

    @app.on_event("startup")
    async def connect():
        await db.connect()

    @app.on_event("shutdown")
    async def disconnect():
        await db.disconnect()
    ```

    ## Use instead
    ```python
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await connect()
        try:
            yield
        finally:
            await disconnect()

    app = FastAPI(title="shop", lifespan=lifespan)
    ```

    ## Fix safety
    Unsafe. For an app built in the same module and scope as its handlers, the fix writes
    one `@asynccontextmanager` function `lifespan(app: FastAPI)` (a free name) just before the
    app is built: it runs the startup handlers in registration order (constructor
    `on_startup=` first, then decorators and `add_event_handler` calls in source order),
    awaiting `async def` handlers and calling sync ones, `yield`s, then runs the shutdown
    handlers in order inside `finally:` (FastAPI's own event runner also runs them when
    serving ends with an error, and not when a startup handler fails). It passes
    `lifespan=` to the constructor, keeping its other arguments, removes the decorators,
    `add_event_handler` calls and `on_startup=`/`on_shutdown=` arguments, and keeps the
    handler functions. Handler expressions are now evaluated at startup instead of at
    registration. No fix when a handler is registered conditionally or in another
    function, when it is not a plain function of this module whose sync/async nature is
    known, when the app already has `lifespan=`, or when handlers sit on routers or on apps
    built in another module (a hint says where they should go).
    """

    def visit_Module(self, node: cst.Module) -> None:
        model = self.ctx.fastapi
        groups: Dict[str, List[EventHandler]] = {}
        for h in model.event_handlers:
            kind = model.owner_kind(h.owner) or h.owner_kind
            if kind is None and not self._imported(h.owner):
                continue
            groups.setdefault(model.app_of(h.owner), []).append(h)
        for owner, handlers in groups.items():
            kind = model.owner_kind(owner) or handlers[0].owner_kind
            fix = self._fix(model, owner, handlers) if kind == "app" else None
            for h in handlers:
                self.report(h.node, self._message(h, kind), fix or hint(self._hint(kind, owner)))

    def _imported(self, owner: str) -> bool:
        head = owner.split(".")[0]
        return self.ctx.resolve_name(head) is not None and head not in ("self", "cls")

    def _message(self, h: EventHandler, kind: Optional[str]) -> str:
        what = {"decorator": f"`@{h.owner}.on_event(\"{h.event}\")`",
                "add": f"`{h.owner}.add_event_handler(\"{h.event}\", ...)`",
                "constructor": f"`on_{h.event}=`"}[h.kind]
        return f"{what} is deprecated since FastAPI 0.104: run {h.event} code in a lifespan handler"

    def _hint(self, kind: Optional[str], owner: str) -> str:
        if kind == "router":
            return (f"`{owner}` is a router: move the handler into the lifespan of the app that includes it "
                    "(or the router's `lifespan=`)")
        if kind is None:
            return f"`{owner}` is built in another module: move the handler into that app's lifespan"
        return "Move the handlers into one `lifespan` context manager passed as `lifespan=`"

    # ------------------------------------------------------------------ the fix
    def _fix(self, model: FastAPIModel, owner: str, handlers: List[EventHandler]) -> Optional[FixSpec]:
        ctx = self.ctx
        scopes = {id(h.scope) for h in handlers}
        if len(scopes) != 1 or any(h.block is not None for h in handlers):
            return None
        scope = handlers[0].scope
        info = model.owner_info(owner, scope)
        if info is None or info.call is None or info.scope is not scope:
            return None
        call = info.call
        if ctx.qualname(call.func) not in APP_CLASSES or keyword(call, "lifespan") is not None \
                or any(a.star for a in call.args):
            return None
        body = list(_body_of(scope, ctx.module))
        owner_stmt = info.statement
        if not any(s is owner_stmt for s in body) or not isinstance(owner_stmt, cst.SimpleStatementLine):
            return None
        if len(model.owners.get(owner, [])) != 1:
            return None
        # routers of this module included into this app with their own handlers: order would change
        included = {i.router for i in model.includes if i.owner == owner}
        if any(model.owner_kind(h.owner) == "router" and h.owner in included for h in model.event_handlers):
            return None
        names_in_scope = _defs_by_name(body)
        pos = {id(s): i for i, s in enumerate(body)}
        ordered = sorted(handlers, key=lambda h: (0 if h.kind == "constructor" else 1,
                                                  pos.get(id(h.statement), -1)))
        if any(h.kind != "constructor" and id(h.statement) not in pos for h in ordered):
            return None
        calls: Dict[str, List[str]] = {"startup": [], "shutdown": []}
        replacements: Dict[cst.CSTNode, object] = {}
        for h in ordered:
            code = self._handler_call(h, names_in_scope)
            if code is None:
                return None
            calls[h.event].append(code)
            if h.kind == "decorator":
                if not self._only_event_decorators(h):
                    return None
                replacements[h.node] = cst.RemovalSentinel.REMOVE
            elif h.kind == "add":
                stmt = h.statement
                if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                        and isinstance(stmt.body[0], cst.Expr) and stmt.body[0].value is h.node
                        and stmt is not owner_stmt):
                    return None
                replacements[stmt] = cst.RemovalSentinel.REMOVE
        bound = set(ctx.bindings(ctx.module))
        if scope is not None:
            bound |= set(ctx.bindings(scope))
        imports = []
        acm = ctx.bindings(ctx.module).get("asynccontextmanager", ASYNCCONTEXTMANAGER)
        if acm != ASYNCCONTEXTMANAGER:
            return None
        if "asynccontextmanager" not in bound:
            imports.append(("contextlib", "asynccontextmanager", None))
        if "app" in bound - {owner} and any("app" in _names(h.handler) for h in handlers):
            return None
        lifespan = _free_name(bound, "lifespan")
        lines = ["@asynccontextmanager", f"async def {lifespan}(app: {ctx.code_for(call.func)}):"]
        lines += [f"    {c}" for c in calls["startup"]]
        if calls["shutdown"]:
            lines += ["    try:", "        yield", "    finally:"] + [f"        {c}" for c in calls["shutdown"]]
        else:
            lines.append("    yield")
        func_def = cst.parse_statement("\n".join(lines) + "\n")
        blank = 2 if scope is None else 1
        body = ctx.module.body if scope is None else scope.body.body
        first = bool(body) and body[0] is owner_stmt
        # PEP 8 spacing around the new def (none above it when it opens its body)
        func_def = func_def.with_changes(leading_lines=[
            l for l in owner_stmt.leading_lines if l.comment is None][:blank] if first
            else [cst.EmptyLine(indent=False)] * blank)
        new_call = append_kwarg(remove_args(call, ("on_startup", "on_shutdown")), "lifespan", cst.Name(lifespan))
        new_owner = owner_stmt.deep_replace(call, new_call)
        new_owner = new_owner.with_changes(
            leading_lines=[cst.EmptyLine(indent=False)] * blank + [l for l in owner_stmt.leading_lines if l.comment is not None])
        if owner_stmt in replacements:
            return None
        replacements[owner_stmt] = cst.FlattenSentinel([func_def, new_owner])
        return FixSpec(UNSAFE, f"Replace the event handlers with a `{lifespan}` context manager",
                       replacements, imports)

    def _handler_call(self, h: EventHandler, names_in_scope: Dict[str, int]) -> Optional[str]:
        ctx = self.ctx
        expr = h.handler
        if isinstance(expr, cst.Name):
            if names_in_scope.get(expr.value, 0) > 1:
                return None  # redefined: the name no longer means the registered function
            func = h.func
            if func is None:
                summary = ctx.index.function(ctx.qualname(expr)) if ctx.index is not None else None
                if summary is None:
                    return None
                is_async = summary.is_async
            else:
                is_async = func.asynchronous is not None
                if any(_is_generator(func) for _ in (0,)):
                    return None
        elif isinstance(expr, cst.Attribute):
            summary = ctx.index.function(ctx.qualname(expr)) if ctx.index is not None else None
            if summary is None:
                return None
            is_async = summary.is_async
        else:
            return None
        code = ctx.code_for(expr)
        return f"await {code}()" if is_async else f"{code}()"

    def _only_event_decorators(self, h: EventHandler) -> bool:
        func = h.func
        if func is None:
            return False
        for dec in func.decorators:
            call = dec.decorator
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                    and call.func.attr.value == "on_event"):
                return False
        return True


def _defs_by_name(body: Sequence[cst.CSTNode]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for stmt in iter_block_statements(body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            out[stmt.name.value] = out.get(stmt.name.value, 0) + 1
        elif isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                for n in _names(t.target):
                    out[n] = out.get(n, 0) + 2  # any assignment: not reliably the def
    return out


def _names(expr: cst.CSTNode) -> set:
    return {node.value for node in preorder(expr, SYNTAX_ONLY) if type(node) is cst.Name}


def _is_generator(func: cst.FunctionDef) -> bool:
    return bool(own_nodes(func, (cst.Yield,)))


# ---------------------------------------------------------------------------- FPI402

def _at_module_scope(ctx) -> bool:
    """Module or class body (not in a function), and not under `if __name__ == "__main__":`."""
    if ctx.current_function() is not None:
        return False
    for node in ctx.ancestors():
        if isinstance(node, cst.If) and _is_main_guard(node.test):
            return False
    return True


def _is_main_guard(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name)
            and test.left.value == "__name__")


@register
class ModuleLevelConnection(Rule):
    code = "FPI402"
    wants_index = False
    name = "module-level-connection"
    summary = "A DB connection, cursor or session opened at module scope and shared by every request."
    fix = DISPLAY_ONLY
    tokens = ("connect", "cursor", "Session", "session")

    @classmethod
    def wants(cls, facts, index):
        """A call in a module or class body (`scope_calls`) that is a connection opener, the
        `.cursor()` of one, or a session/connection origin; see `_SESSION_GATES`."""
        here = facts.scope_calls
        if not here:
            return False
        for q in CONNECTION_OPENERS:
            if reaches(facts, q) and (called(facts, terminal(q), here) or called(facts, "cursor", here)):
                return True
        factories = None
        for base, attrs, last in _SESSION_GATES:
            if not parts_possible(facts, base, attrs):
                continue
            if last is None or called(facts, last, here):
                return True
            if factories is None:  # sessionmaker(class_=T) makes T: then called by any name
                factories = names_any(facts, SESSION_FACTORIES)
            if factories:
                return True
        return False

    docs = """
    ## What it does
    Reports a single database connection, cursor or ORM session created at module (or class)
    scope: `sqlite3.connect(...)`, `psycopg2.connect(...)`, `pymysql.connect(...)`,
    `mysql.connector.connect(...)`, their `.cursor()`, `engine.connect()`, `SessionLocal()`
    and `Session(engine)`. Engines, pools and clients (`create_engine`, `MongoClient`,
    `redis.Redis`) are fine at module scope: they hand out connections per use. Code under
    `if __name__ == "__main__":` is not reported, nor are standalone scripts (a module
    outside any package that does not import FastAPI or Starlette).

    ## Why is this bad?
    One connection is shared by every request the worker serves, concurrently: DB-API
    connections are not safe to use from several threads (sync routes run in a threadpool),
    a transaction opened by one request is committed or rolled back by another, a session's
    identity map grows forever and serves stale rows, and once the server drops the idle
    connection every request fails until the process restarts.

    ## Example
    ```python
    conn = sqlite3.connect("app.db", check_same_thread=False)

    @app.get("/items")
    def items():
        return conn.execute("SELECT * FROM items").fetchall()
    ```

    ## Use instead
    ```python
    def get_conn():
        conn = sqlite3.connect("app.db")
        try:
            yield conn
        finally:
            conn.close()

    @app.get("/items")
    def items(conn: Annotated[sqlite3.Connection, Depends(get_conn)]):
        return conn.execute("SELECT * FROM items").fetchall()
    ```

    ## Fix safety
    No automatic fix (a hint): moving the connection into a dependency or a pool changes
    every function that uses it.
    """

    def _part_of_app(self) -> bool:
        """A module of a package, or one that imports FastAPI/Starlette: not a standalone script."""
        ctx = self.ctx

        def compute() -> bool:
            if ctx.module_name and ("." in ctx.module_name or ctx.is_package):
                return True
            return any(q and q.split(".")[0] in ("fastapi", "starlette") for q in ctx.bindings(ctx.module).values())

        return ctx.memo("fpi402.app", compute)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not _at_module_scope(ctx) or not self._part_of_app():
            return
        parent = ctx.parent(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return  # `sqlite3.connect(p).cursor()`: reported once, at the outer call
        qual = ctx.call_qualname(node)
        origin = None
        if qual in CONNECTION_OPENERS:
            what = "connection"
        else:
            origin = ctx.origin_of(node)
            if origin is None:
                return
            if origin.endswith(".cursor()") and _base_call(origin) in CONNECTION_OPENERS:
                what = "cursor"
            elif origin in SESSION_ORIGINS or origin in ASYNC_SESSION_ORIGINS:
                what = "connection" if origin.endswith(".connect()") else "session"
            else:
                return
        self.report(node, f"a database {what} opened at module scope is shared by every request "
                          "(and every thread of the threadpool)",
                    hint("Open it per request in a `yield` dependency, or use a pool/engine"))


def _base_call(origin: str) -> str:
    return origin.split("()")[0]


#: FPI402's gate: the session/connection origins as (qualified name, attributes, last call's spelling).
_SESSION_GATES = tuple(origin_parts(o) for o in sorted(SESSION_ORIGINS | ASYNC_SESSION_ORIGINS))


# ---------------------------------------------------------------------------- FPI403

@register
class ClientCreatedPerRequest(Rule):
    code = "FPI403"
    name = "client-created-per-request"
    summary = ("Engines, pools and clients (`create_engine`, `httpx.AsyncClient`, `aiohttp.ClientSession`, "
               "`redis.Redis`, `boto3.client`, ...) built inside a route, dependency or middleware.")
    fix = DISPLAY_ONLY
    tokens = ("create_engine", "create_async_engine", "create_pool", "Client", "ClientSession", "Redis",
              "ConnectionPool", "from_url", "boto3", "Elasticsearch", "aioboto3")

    @classmethod
    def wants(cls, facts, index):
        """A call resolving to a client factory, in a route, dependency or middleware."""
        return calls_any(facts, CLIENT_FACTORIES) and may_be_endpoint(facts, index)

    docs = """
    ## What it does
    Reports engines, connection pools and HTTP/DB clients built in the body of a route, a
    dependency or an HTTP middleware: `create_engine`, `create_async_engine`,
    `asyncpg.create_pool`, `httpx.AsyncClient`/`Client`, `aiohttp.ClientSession`,
    `redis.Redis`/`ConnectionPool`/`from_url`, `MongoClient`, `AsyncIOMotorClient`,
    `boto3.client`/`resource` (the list is `catalogs/lifecycle.py`). Helpers called from a
    route are not followed, and a dependency cached with `lru_cache`/`cache` builds its
    value once, so it is not reported.

    ## Why is this bad?
    These objects own a pool of connections. Built per request, each request pays DNS, TCP
    and TLS handshakes (and for engines, a new pool), keep-alive never helps, sockets pile
    up in TIME_WAIT, and under load the database or upstream runs out of connections.

    ## Example
    ```python
    @app.get("/weather")
    async def weather(city: str):
        async with httpx.AsyncClient() as client:
            return (await client.get(URL, params={"q": city})).json()
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with httpx.AsyncClient() as client:
            yield {"client": client}

    @app.get("/weather")
    async def weather(city: str, request: Request):
        return (await request.state.client.get(URL, params={"q": city})).json()
    ```

    ## Fix safety
    No automatic fix (a hint): create the object once in the lifespan and share it.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        func = ctx.current_function()
        if not isinstance(func, cst.FunctionDef):
            return
        qual = ctx.call_qualname(node)
        if qual not in CLIENT_FACTORIES:
            return
        model = ctx.fastapi
        if model.is_route(func):
            where = f"route `{func.name.value}`"
        elif model.is_middleware(func):
            where = f"middleware `{func.name.value}`"
        elif model.is_dependency(func):
            if any(ctx.qualname(decorator_callee(d))
                   in CACHING_DECORATORS for d in func.decorators):
                return
            where = f"dependency `{func.name.value}`"
        else:
            return
        self.report(node, f"`{ctx.code_for(node.func)}(...)` is built on every request in {where}: "
                          "a new connection pool, handshakes and sockets each time",
                    hint("Create it once in the lifespan and share it (app.state or lifespan state)"))


# ---------------------------------------------------------------------------- FPI404

@register
class DependencyLeaksResource(Rule):
    code = "FPI404"
    name = "dependency-leaks-resource"
    summary = "A dependency that returns a new session/connection instead of yielding it and closing it."
    fix = UNSAFE
    tokens = ("Session", "sessionmaker", "connect")

    @classmethod
    def wants(cls, facts, index):
        """A dependency (a Depends call here, or a def named like one of the project's), and a
        value of one of the reported origins the file can build."""
        return may_have_dependencies(facts, index) and any(origin_possible(facts, o) for o in _LEAKED_ORIGINS)

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree: a def that returns a value whose origin
        (`ModuleReceivers.origins`, a superset of what `origin_of` finds) may be one the rule
        reports. Files that build sessions and return other things stay away from libcst."""
        name, is_package = module
        receivers = ModuleReceivers.of(tree, name, is_package)
        for ret, func in receivers.returns():
            origins = receivers.origins(ret.value, func)
            if origins is ANY_KIND or not origins.isdisjoint(_LEAKED_ORIGINS):
                return True
        return False

    docs = """
    ## What it does
    Reports a dependency (a function named in `Depends()`/`Security()`) that `return`s a
    new ORM session or DB connection: `SessionLocal()`, `Session(engine)`,
    `async_session()`, `engine.connect()`, `sqlite3.connect(...)`, `psycopg2.connect(...)`,
    directly or through a local variable. Generator dependencies (`yield`) are fine.

    ## Why is this bad?
    Nothing ever closes what the dependency returns: each request leaks a connection back
    to nobody, the pool runs dry (`QueuePool limit of size 5 overflow 10 reached`) and the
    app hangs under load; uncommitted transactions stay open and hold locks.

    ## Example
    ```python
    def get_db():
        return SessionLocal()
    ```

    ## Use instead
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    ```

    ## Fix safety
    Unsafe: when the `return` is the last statement of the function, it becomes
    `try: yield x` / `finally: x.close()` (awaited in an `async def` for async sessions), so
    FastAPI closes the resource after the response. Code that calls the dependency directly
    (not through `Depends`) now gets a generator, and a return annotation naming the
    session type no longer matches.
    """

    def visit_Return(self, node: cst.Return) -> None:
        ctx = self.ctx
        func = ctx.enclosing_functiondef()
        if func is None or node.value is None or not ctx.fastapi.is_dependency(func):
            return
        if _is_generator(func):
            return
        origin = ctx.origin_of(node.value)
        if origin is None:
            return
        is_async = origin in ASYNC_SESSION_ORIGINS
        if not (is_async or origin in SESSION_ORIGINS or origin in {f"{q}()" for q in CONNECTION_OPENERS}):
            return
        what = "connection" if "connect" in origin else "session"
        self.report(node, f"dependency `{func.name.value}` returns a new {what} that nothing closes: "
                          "every request leaks one", self._fix(node, func, is_async, what))

    def _fix(self, node: cst.Return, func: cst.FunctionDef, is_async: bool, what: str) -> FixSpec:
        ctx = self.ctx
        title = "Yield it and close it in `finally`"
        if is_async and func.asynchronous is None:
            return hint(title)
        body = func.body.body if isinstance(func.body, cst.IndentedBlock) else ()
        last = body[-1] if body else None
        if not (isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 and last.body[0] is node):
            return hint(title)
        value = node.value
        pre: List[str] = []
        if isinstance(value, cst.Name):
            name = value.value
        else:
            name = "db" if what == "session" else "conn"
            bound = set(ctx.bindings(func)) | set(ctx.bindings(ctx.module))
            if name in bound:
                return hint(title)
            pre.append(f"{name} = {ctx.code_for(value)}")
        close = f"await {name}.close()" if is_async else f"{name}.close()"
        text = "\n".join(pre + ["try:", f"    yield {name}", "finally:", f"    {close}"]) + "\n"
        stmts = list(cst.parse_module(text).body)
        stmts[0] = stmts[0].with_changes(leading_lines=last.leading_lines)
        if isinstance(stmts[0], cst.SimpleStatementLine):  # keep the return line's comment
            stmts[0] = stmts[0].with_changes(trailing_whitespace=last.trailing_whitespace)
        return FixSpec(UNSAFE, title, {last: cst.FlattenSentinel(stmts)})


#: FPI404: what a dependency must not return (in a fixed order for `origin_possible`).
_LEAKED_ORIGINS = tuple(sorted(LEAKED_ORIGINS))


# ---------------------------------------------------------------------------- FPI405

@register
class EventHandlersIgnored(Rule):
    code = "FPI405"
    wants_index = False
    name = "event-handlers-ignored"
    summary = "An app given `lifespan=` that also registers `on_event`/`on_startup`/`on_shutdown` handlers."
    fix = DISPLAY_ONLY
    tokens = ("lifespan",)

    @classmethod
    def wants(cls, facts, index):
        """An event handler, on an app constructed here with `lifespan=`."""
        return "lifespan" in facts.keywords and _may_register_event_handlers(facts)

    docs = """
    ## What it does
    Reports startup/shutdown handlers (`@app.on_event`, `app.router.add_event_handler`,
    `on_startup=`/`on_shutdown=`) registered on an app that is also given `lifespan=`.

    ## Why is this bad?
    When an app has a lifespan, FastAPI and Starlette run only the lifespan: the event
    handlers are silently never called. The connection they open is never opened, the
    cache they warm stays cold, and nothing in the logs says so.

    ## Example
    ```python
    app = FastAPI(lifespan=lifespan)

    @app.on_event("startup")
    async def warm_cache():
        ...
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await warm_cache()
        yield

    app = FastAPI(lifespan=lifespan)
    ```

    ## Fix safety
    No automatic fix (a hint): call the handlers from the lifespan, where they belong.
    """

    def visit_Module(self, node: cst.Module) -> None:
        model = self.ctx.fastapi
        for h in model.event_handlers:
            owner = model.app_of(h.owner)
            if model.owner_kind(owner) != "app" and h.kind != "constructor":
                continue
            info = model.owner_info(owner, h.scope)
            if h.kind == "constructor":
                infos = [i for i in model.owners.get(owner, []) if i.statement is h.statement]
                info = infos[0] if infos else None
            if info is None or info.call is None or keyword(info.call, "lifespan") is None:
                continue
            lifespan = keyword(info.call, "lifespan")
            if isinstance(lifespan.value, cst.Name) and lifespan.value.value == "None":
                continue
            self.report(h.node, f"`{owner}` has `lifespan=`, so this {h.event} handler is never called",
                        hint("Call it from the lifespan function instead"))
