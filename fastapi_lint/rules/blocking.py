"""FPI1xx: blocking the event loop."""

from __future__ import annotations

import ast
from typing import ClassVar, List, Optional, Tuple

import libcst as cst

from fastapi_lint.catalogs.blocking import (ANY, BLOCKING_SLEEP, CALLABLE_FACTORIES, FUNCTIONS, OBJECTS, OFFLOAD,
                                            match_blocking, offload_spec)
from fastapi_lint.diagnostics import SAFE, UNSAFE
from fastapi_lint.model.fastapi import function_awaits, may_be_lifecycle
from fastapi_lint.model.gating import (Callees, ProjectCallees, function_callees, last_part, origin_qualnames,
                                       spellings)
from fastapi_lint.model.index import project_index_for
from fastapi_lint.model.receivers import ANY as ANY_KIND, ModuleReceivers, own_kind, own_names
from fastapi_lint.registry import FixSpec, Rule, hint, register


def function_label(ctx) -> str:
    func = ctx.enclosing_functiondef()
    return f"`{func.name.value}`" if func is not None else "this coroutine"


def needs_parens_for_await(ctx, node: cst.BaseExpression) -> bool:
    """`await x` must be parenthesised where `x` is the object of `.attr`, `[...]` or `(...)`."""
    parent = ctx.parent(node)
    if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is node:
        return True
    if isinstance(parent, cst.Call) and parent.func is node:
        return True
    return False


def inside_generator_expression(ctx) -> bool:
    """An `await` in a generator expression would turn it into an async generator."""
    for node in ctx.ancestors():
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(node, cst.GeneratorExp):
            return True
    return False


def awaited(ctx, node: cst.Call, new_call: cst.Call) -> cst.Await:
    """`await <new_call>` in place of `node`, keeping node's own parentheses."""
    lpar, rpar = list(node.lpar), list(node.rpar)
    if not lpar and needs_parens_for_await(ctx, node):
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=new_call.with_changes(lpar=(), rpar=()), lpar=lpar, rpar=rpar)


# ---------------------------------------------------------------------------- the facts gate


def async_unawaited(facts) -> frozenset:
    """Names of calls in async context that are not awaited: every FPI102-106/FPI110 report is one."""
    return facts.async_calls & facts.unawaited_calls


def spelled(facts, calls) -> frozenset:
    """How a call among `calls` may spell what it calls: its own name, or, through a name
    bound to it (`fetch = requests.get`, `with ... as`, a dependency's return value, an import
    alias), the name it was bound from."""
    return calls | facts.aliased | facts.bound_values if calls else calls


def _blocking_callees(code: str) -> Callees:
    """What a call must be for `match_blocking` to give `code`: a function of FUNCTIONS (by its
    last part; any name for `module.*`), or a method of an OBJECTS origin (any name for `ANY`)."""
    entries = [(None if last_part(q) == "*" else last_part(q), q) for q in FUNCTIONS.get(code, ())]
    for origin, (c, methods, _safe, _deep) in OBJECTS.items():
        if c != code:
            continue
        (qual,) = origin_qualnames([origin])
        entries += [(None, qual)] if methods == ANY else [(m, qual) for m in methods]
    # call_origin: a class of the module itself is `<module>.<Class>` (linting the library)
    return Callees(entries, local_classes=True)


class _OnRequestPath(Rule):
    """FPI101-FPI106 and FPI110 report what stalls requests: not the body of a lifespan
    function or a startup/shutdown handler, which run before the first request is served
    and after the last (a blocking migration at startup delays startup, nothing else)."""

    def report(self, node, message, fix=None) -> None:
        func = self.ctx.enclosing_functiondef()
        if func is not None and self.ctx.memo(("blocking.lifecycle", id(func)),
                                              lambda: may_be_lifecycle(self.ctx.source, func)
                                              and self.ctx.fastapi.is_lifecycle(func)):
            return
        super().report(node, message, fix)


@register
class BlockingSleep(_OnRequestPath):
    code = "FPI101"
    wants_index = False
    name = "blocking-sleep"
    summary = "`time.sleep` (any import form or alias) in async context."
    fix = SAFE
    tokens = ("sleep",)
    requires = ("async",)
    docs = """
    ## What it does
    Reports `time.sleep(...)` called in async context: the body of an `async def` route,
    dependency, middleware or helper (coroutines, async generators and async methods), under
    any import form: `import time`, `import time as t`, `from time import sleep`,
    `from time import sleep as pause`. Bodies of nested `def`, `lambda` and `class` are not
    async context (they run wherever they are called), and a name that is shadowed locally
    or belongs to another object (`self.time.sleep`, `clock.sleep`) is not `time.sleep`.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    An `async def` runs on the event loop, and `time.sleep` stops the whole thread: while
    it sleeps, no other request on this worker makes progress, health checks time out, and
    latency of every concurrent request grows by the sleep. FastAPI runs `async def` routes
    directly on the loop, so one `time.sleep(1)` under load serialises the worker.

    ## Example
    ```python
    import time

    @app.get("/retry")
    async def retry():
        time.sleep(1)
        return await fetch()
    ```

    ## Use instead
    ```python
    import asyncio

    @app.get("/retry")
    async def retry():
        await asyncio.sleep(1)
        return await fetch()
    ```

    ## Fix safety
    Safe: the call becomes `await asyncio.sleep(<same arguments>)`, adding `import asyncio`
    when it is missing (or using the name asyncio is already imported as), and removes the
    `time`/`sleep` import when nothing uses it any more. It suspends the
    coroutine for the same time instead of blocking the thread; arguments and comments are
    kept. No fix is offered inside a generator expression (an `await` there would make it an
    async generator) or when the name `asyncio` is bound to something else.
    """

    _callees = function_callees(BLOCKING_SLEEP)

    @classmethod
    def wants(cls, facts, index):
        """A call in async context spelling `sleep` (or an alias of it), and an import that
        reaches `time.sleep` (call_qualname resolves imports only)."""
        calls = facts.async_calls
        return cls._callees.met(facts, calls | facts.aliased if calls else calls)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        qual = ctx.call_qualname(node)
        if qual not in BLOCKING_SLEEP:
            return
        self.report(
            node,
            f"`{qual}()` in async function {function_label(ctx)} blocks the event loop: "
            "no other request on this worker runs while it sleeps",
            self._fix(node),
        )

    def _fix(self, node: cst.Call) -> Optional[FixSpec]:
        ctx = self.ctx
        if inside_generator_expression(ctx):
            return None
        alias = ctx.module_alias("asyncio")
        imports = []
        if alias is None:
            if ctx.is_bound("asyncio"):
                return None
            alias, imports = "asyncio", [("asyncio", None, None)]
        new_call = node.with_changes(func=cst.Attribute(value=cst.Name(alias), attr=cst.Name("sleep")))
        return FixSpec(SAFE, "Replace with `await asyncio.sleep(...)`", {node: awaited(ctx, node, new_call)},
                       imports, remove_imports=self._import_of(node.func))

    def _import_of(self, func: cst.BaseExpression) -> list:
        """The module-level import the call went through (`from time import sleep as pause`,
        `import time as t`): the fix removes it if nothing else uses it afterwards."""
        head = func.value if isinstance(func, cst.Attribute) else func
        if not isinstance(head, cst.Name):
            return []
        name = head.value
        qual = self.ctx.bindings(self.ctx.module).get(name)
        if qual is None or self.ctx.resolve_name(name) != qual:
            return []  # not a module-level import, or shadowed here
        if isinstance(func, cst.Attribute):  # `time.sleep` / `t.sleep`: the module import
            return [(qual, None, name if name != qual.split(".")[0] else None)]
        module, _, obj = qual.rpartition(".")
        return [(module, obj, name if name != obj else None)]


# ---------------------------------------------------------------------------- shared analysis

def offload_of(ctx, call: cst.Call) -> Optional[Tuple[int, bool]]:
    """(callable position, forwards keywords) if `call` runs a callable in a worker thread."""
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
    return offload_spec(ctx.call_qualname(call) or ctx.call_origin(call), method)


def offloaded_argument(ctx, node: cst.Call) -> bool:
    """`node` is the callable argument of an offload call (`run_in_threadpool(f(x))`): FPI107's case."""
    parent = ctx.parent(node)
    if not isinstance(parent, cst.Arg):
        return False
    call = ctx.parent(parent)
    if not isinstance(call, cst.Call):
        return False
    spec = offload_of(ctx, call)
    if spec is None:
        return False
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return len(positional) > spec[0] and positional[spec[0]] is parent


def _flag_off(node: cst.Call):
    def check(position: int, keyword: str) -> bool:
        for arg in node.args:
            if arg.keyword is not None and isinstance(arg.value, (cst.Name, cst.Integer)):
                if arg.keyword.value == keyword and isinstance(arg.value, cst.Name) and arg.value.value == "False":
                    return True
                if arg.keyword.value == "timeout" and isinstance(arg.value, cst.Integer) and arg.value.value == "0":
                    return True
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) > position:
            v = positional[position].value
            return isinstance(v, cst.Name) and v.value == "False"
        return False

    return check


def blocking_call(ctx, node: cst.Call) -> Optional[Tuple[str, str]]:
    """(code, label) when this call, in async context, blocks the event loop (FPI102-106)."""

    def compute() -> Optional[Tuple[str, str]]:
        if isinstance(ctx.parent(node), cst.Await) or offloaded_argument(ctx, node):
            return None
        callee = ctx.call_origin(node)
        if not callee or callee.startswith("await "):
            return None
        return match_blocking(callee, _flag_off(node))

    return ctx.memo(("blocking.call", id(node)), compute)


def make_def_fix(ctx) -> Optional[FixSpec]:
    """Unsafe: `async def` -> `def` for a route/dependency that never awaits."""
    func = ctx.enclosing_functiondef()
    if func is None or func.asynchronous is None:
        return None
    ok = ctx.memo(("blocking.make_def", id(func)),
                  lambda: not function_awaits(func) and ctx.fastapi.is_endpoint(func))  # the cheaper first
    if not ok:
        return None
    return FixSpec(UNSAFE, f"Make `{func.name.value}` a `def` (FastAPI runs it in the threadpool)",
                   {func: func.with_changes(asynchronous=None)})


_FIX_SAFETY = """
    ## Fix safety
    A hint, except in a route or dependency whose body never uses `await`, `async for` or
    `async with`: there the unsafe fix turns `async def` into `def`, and FastAPI then runs it
    in its threadpool. It is unsafe because code that calls or awaits the function directly
    (tests, other modules) would need to change too.
    """


class _BlockingCallRule(_OnRequestPath):
    """FPI102-106: one catalogue, one analysis per call (memoised), one rule per kind."""

    what: ClassVar[str] = ""
    advice: ClassVar[str] = ""
    fix = "unsafe"

    @classmethod
    def wants(cls, facts, index):
        """A call in async context, not awaited, that may call one of the code's catalogue
        entries (by name, or through a name bound to it), and an import (or builtin, or class
        of the module) from which the entry's qualified name or origin can be met."""
        callees = cls.__dict__.get("_callees")
        if callees is None:
            callees = cls._callees = _blocking_callees(cls.code)
        return callees.met(facts, spelled(facts, async_unawaited(facts)))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        found = blocking_call(ctx, node)
        if found is None or found[0] != self.code:
            return
        self.report(node, f"`{found[1]}` in async function {function_label(ctx)} blocks the event loop "
                          f"({self.what}): {self.advice}",
                    make_def_fix(ctx) or hint(self.advice[:1].upper() + self.advice[1:]))


def _tokens(code: str, extra=()) -> Tuple[str, ...]:
    roots = {n.split(".")[0] for n in FUNCTIONS.get(code, ())}
    roots.discard("builtins")
    return tuple(sorted(roots | set(extra)))


@register
class BlockingHttpCall(_BlockingCallRule):
    code = "FPI102"
    wants_index = False
    name = "blocking-http-call"
    summary = ("`requests`/`httpx` sync calls, `requests.Session()`/`httpx.Client()` objects, `urllib`, "
               "`urllib3` and `http.client` in async context.")
    what = "sync HTTP call"
    advice = "use a shared `httpx.AsyncClient` (created in the lifespan) and `await` it"
    tokens = _tokens("FPI102", ("http.client", "HTTPConnection", "Client", "Session"))
    requires = ("async",)
    docs = """
    ## What it does
    Reports sync HTTP calls in async context: `requests.get/post/...`, methods of
    `requests.Session()` and `httpx.Client()` objects (bound to a name, a module-level
    object, `self.client` set in `__init__`, a `with` target or an annotated parameter),
    `httpx.get/post/...`, `urllib.request.urlopen`, `urllib3` pools and `http.client`
    connections. `httpx.AsyncClient` calls, awaited calls, and calls handed to an offload
    function are not reported.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    A sync HTTP call waits for the network on the event loop's thread: every other request
    on the worker waits for the remote server too. One slow upstream stalls the whole app.

    ## Example
    ```python
    @app.get("/weather")
    async def weather(city: str):
        return requests.get(f"https://api.example.com/{city}").json()
    ```

    ## Use instead
    ```python
    @app.get("/weather")
    async def weather(city: str, request: Request):
        client: httpx.AsyncClient = request.state.http
        return (await client.get(f"https://api.example.com/{city}")).json()
    ```
    """ + _FIX_SAFETY


@register
class BlockingDatabaseCall(_BlockingCallRule):
    code = "FPI103"
    wants_index = False
    name = "blocking-database-call"
    summary = ("Sync database drivers (sqlite3, psycopg2, pymysql, pymongo, redis, ...) and sync SQLAlchemy "
               "sessions, engines and connections in async context.")
    what = "sync database call"
    advice = ("use an async driver (asyncpg, aiosqlite, redis.asyncio, SQLAlchemy `AsyncSession`) "
              "or make the route a `def`")
    tokens = _tokens("FPI103", ("sqlalchemy", "sqlmodel", "pymongo", "redis", "Session", "psycopg"))
    requires = ("async",)
    docs = """
    ## What it does
    Reports calls to sync database drivers in async context: `sqlite3`, `psycopg2`, sync
    `psycopg`, `pymysql`, `MySQLdb`, `mysql.connector` (connecting, and `execute`/`fetch*`/
    `commit` on their connections and cursors), `pymongo.MongoClient` databases and
    collections, `redis.Redis`/`StrictRedis` commands, and sync SQLAlchemy `Session`,
    `Engine` and `Connection` objects, known by annotation (`db: Session`, also through
    `Annotated` aliases), by origin (`sessionmaker(...)()`, `create_engine()`,
    `with SessionLocal() as db`) or from a sync `Depends` dependency that yields one.
    `AsyncSession`, `redis.asyncio`, `sessionmaker(class_=AsyncSession)` and awaited calls
    are not reported.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    A sync driver waits for the database on the event loop's thread: while a query runs,
    no other request on the worker makes progress, and a slow query becomes an outage.

    ## Example
    ```python
    @app.get("/users/{user_id}")
    async def get_user(user_id: int, db: Session = Depends(get_db)):
        return db.get(User, user_id)
    ```

    ## Use instead
    ```python
    @app.get("/users/{user_id}")
    def get_user(user_id: int, db: Session = Depends(get_db)):
        return db.get(User, user_id)
    ```
    """ + _FIX_SAFETY


@register
class BlockingFileIO(_BlockingCallRule):
    code = "FPI104"
    wants_index = False
    name = "blocking-file-io"
    summary = "`open`, pathlib I/O methods, `os` filesystem calls, `os.path` I/O predicates and `shutil` in async context."
    what = "file I/O"
    advice = "use `aiofiles` or `anyio.Path`, or offload with `run_in_threadpool`"
    tokens = ("open", "os.", "from os", "shutil", "Path", "glob", "pathlib")
    requires = ("async",)
    docs = """
    ## What it does
    Reports file-system calls in async context: `open()`/`io.open()` and reads/writes on the
    file objects they return, pathlib I/O methods (`read_text`, `write_bytes`, `open`,
    `exists`, `mkdir`, `iterdir`, `unlink`, ... on `Path(...)` objects and `Path`-annotated
    parameters), `os` file-system calls (`listdir`, `remove`, `stat`, `makedirs`, ...), the
    I/O predicates of `os.path` (`exists`, `isfile`, `getsize`, ...; not pure string helpers
    like `os.path.join`) and `shutil.*`.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    Disk I/O blocks the thread; on network file systems, containers with throttled I/O or
    large files it takes long enough to stall every request on the worker.

    ## Example
    ```python
    @app.get("/report")
    async def report():
        with open("report.csv") as fh:
            return fh.read()
    ```

    ## Use instead
    ```python
    @app.get("/report")
    async def report():
        async with aiofiles.open("report.csv") as fh:
            return await fh.read()
    ```
    """ + _FIX_SAFETY


@register
class BlockingSubprocess(_BlockingCallRule):
    code = "FPI105"
    wants_index = False
    name = "blocking-subprocess"
    summary = "`subprocess.*`, `os.system`, `os.popen`, `os.spawn*`, `os.wait*`, `os.posix_spawn*` in async context."
    what = "subprocess"
    advice = "use `asyncio.create_subprocess_exec` and `await` it"
    tokens = ("subprocess", "os.", "from os")
    requires = ("async",)
    docs = """
    ## What it does
    Reports process management that waits in async context: `subprocess.run/call/
    check_output/Popen/...`, `communicate()`/`wait()` on `Popen` objects, `os.system`,
    `os.popen`, `os.spawn*`, `os.wait*` and `os.posix_spawn*`.
    `asyncio.create_subprocess_exec/shell` are the async way and are not reported.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    Starting a process and waiting for it takes milliseconds to minutes; the event loop
    serves nothing meanwhile.

    ## Example
    ```python
    @app.post("/thumbnail")
    async def thumbnail(path: str):
        subprocess.run(["convert", path, "thumb.png"], check=True)
    ```

    ## Use instead
    ```python
    @app.post("/thumbnail")
    async def thumbnail(path: str):
        proc = await asyncio.create_subprocess_exec("convert", path, "thumb.png")
        await proc.wait()
    ```
    """ + _FIX_SAFETY


@register
class BlockingCall(_BlockingCallRule):
    code = "FPI106"
    wants_index = False
    name = "blocking-call"
    summary = ("Other blocking calls in async context: `input()`, sockets, `smtplib`, `ftplib`, blocking "
               "`queue.Queue.get/put`, `Thread.join`, `Lock.acquire`.")
    what = "blocking call"
    advice = "use the asyncio equivalent, or offload with `run_in_threadpool`"
    tokens = ("input", "socket", "smtplib", "ftplib", "queue", "Queue", "threading", "Thread", "Lock", "Event")
    requires = ("async",)
    docs = """
    ## What it does
    Reports other calls that wait in async context: `input()`, `socket` connect/recv/send/
    accept and `socket.create_connection`/`getaddrinfo`, `smtplib.SMTP` and its commands,
    `ftplib`, `queue.Queue.get/put` in their blocking form (`get(block=False)`,
    `get_nowait()` and `timeout=0` are fine), `threading.Thread.join`, and
    `Lock/Semaphore.acquire` and `Event.wait` in their blocking form.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    Each of them can wait indefinitely on the event loop's thread, freezing every request
    of the worker until it returns.

    ## Example
    ```python
    @app.post("/mail")
    async def mail(msg: Message):
        with smtplib.SMTP("mail.example.com") as smtp:
            smtp.send_message(msg.to_email())
    ```

    ## Use instead
    ```python
    @app.post("/mail")
    async def mail(msg: Message):
        await aiosmtplib.send(msg.to_email(), hostname="mail.example.com")
    ```
    """ + _FIX_SAFETY


@register
class OffloadEvaluatedTooEarly(Rule):
    code = "FPI107"
    wants_index = False
    needs_index = True  # whether a project function returns a callable
    name = "offload-evaluated-too-early"
    summary = ("`run_in_threadpool(f(x))`, `asyncio.to_thread(f(x))`, `anyio.to_thread.run_sync(f(x))`, "
               "`loop.run_in_executor(None, f(x))`: the call runs on the loop before the offload.")
    fix = SAFE
    tokens = ("run_in_threadpool", "to_thread", "run_sync", "run_in_executor")
    requires = ("async",)
    docs = """
    ## What it does
    Reports an offload function given the *result* of a call instead of a callable:
    `run_in_threadpool(f(x))`, `asyncio.to_thread(f(x))`, `anyio.to_thread.run_sync(f(x))`,
    `loop.run_in_executor(None, f(x))`. A `functools.partial(...)` (or another call known to
    return a callable: a project function that defines a nested def, is annotated `->
    Callable` or is decorated) is what these functions expect and is not reported, nor is a
    call followed by arguments for what it returns (`to_thread(make_handler(kind), payload)`).

    ## Why is this bad?
    Python evaluates arguments first: `f(x)` runs on the event loop, blocking it, and the
    offload function then receives its result, which is not callable (a `TypeError` at
    best, after the damage is done).

    ## Example
    ```python
    data = await run_in_threadpool(load_report(path, fmt="csv"))
    ```

    ## Use instead
    ```python
    data = await run_in_threadpool(load_report, path, fmt="csv")
    ```

    ## Fix safety
    Safe: the call is split into the callable and its arguments, which the offload function
    passes on. Where it does not forward keyword arguments (`anyio.to_thread.run_sync`,
    `loop.run_in_executor`) and the call has some, or a keyword would clash with the offload
    function's own, it becomes `functools.partial(f, x, key=value)`, importing functools. No
    fix when that needs `functools` and the module binds the name to something else.
    """

    _callees = function_callees((q for q in OFFLOAD if not q.startswith(".")), local_classes=True)
    _methods = frozenset(q[1:] for q in OFFLOAD if q.startswith("."))

    @classmethod
    def wants(cls, facts, index):
        """An offload call in async context given a call as a positional argument: a method
        named like `run_in_executor`, or a call that may reach an offload function (by name or
        through a name bound to it) with an import (or class of the module: call_origin) from
        which it can be met."""
        calls = facts.async_calls & facts.call_arg_callers
        return not cls._methods.isdisjoint(calls) or cls._callees.met(facts, spelled(facts, calls))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        spec = offload_of(ctx, node)
        if spec is None:
            return
        pos, forwards = spec
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) <= pos:
            return
        arg = positional[pos]
        inner = arg.value
        if not isinstance(inner, cst.Call) or isinstance(inner.func, (cst.Call, cst.Subscript)):
            return
        inner_q = ctx.call_qualname(inner) or ctx.call_origin(inner)
        if inner_q in CALLABLE_FACTORIES:
            return
        if any(a.keyword is None for a in node.args[list(node.args).index(arg) + 1:]):
            return  # `to_thread(make_handler(kind), payload)`: what it returns is called with `payload`
        if self._returns_callable(inner):
            return
        code = ctx.code_for(inner.func)
        self.report(inner, f"`{code}(...)` runs on the event loop before `{ctx.code_for(node.func)}` gets it: "
                           f"pass the callable and its arguments instead", self._fix(node, arg, inner, forwards))

    def _returns_callable(self, inner: cst.Call) -> bool:
        """A project function the index says may return a callable (`factory`: a nested def or
        a `-> Callable` annotation), or whose decorator may return anything."""
        if not isinstance(inner.func, (cst.Name, cst.Attribute)):
            return False
        from fastapi_lint.rules.coroutines import may_return_callable, project_function  # (it imports this module)

        _, summary = project_function(self.ctx, inner.func)
        return summary is not None and may_return_callable(summary)

    def _fix(self, node: cst.Call, arg: cst.Arg, inner: cst.Call, forwards: bool) -> Optional[FixSpec]:
        ctx = self.ctx
        index = list(node.args).index(arg)
        after = node.args[index + 1:]  # keywords only: positional arguments after it are not reported
        imports: List[Tuple[str, Optional[str], Optional[str]]] = []
        has_keywords = any(a.keyword is not None or a.star == "**" for a in inner.args)
        own = {a.keyword.value for a in node.args if a.keyword is not None}
        clash = any(a.keyword is not None and (a.keyword.value in own or a.keyword.value == "func")
                    for a in inner.args)
        if has_keywords and (not forwards or clash):
            alias = ctx.module_alias("functools")
            if alias is None:
                if ctx.is_bound("functools"):
                    return None
                alias, imports = "functools", [("functools", None, None)]
            partial_args = _commas([cst.Arg(inner.func)] + list(inner.args))
            new_args = [arg.with_changes(value=cst.Call(
                func=cst.Attribute(value=cst.Name(alias), attr=cst.Name("partial")), args=partial_args))]
        else:
            new_args = [arg.with_changes(value=inner.func)] + list(inner.args)
        args = list(node.args[:index]) + new_args + list(after)
        return FixSpec(SAFE, "Pass the callable and its arguments to the offload function",
                       {node: node.with_changes(args=_commas(args))}, imports)


def _commas(args: List[cst.Arg]) -> List[cst.Arg]:
    """Every argument but the last followed by a comma; the last keeps a trailing comma only if it had one."""
    out = []
    for i, a in enumerate(args):
        if i < len(args) - 1:
            if a.comma is cst.MaybeSentinel.DEFAULT or not isinstance(a.comma, cst.Comma):
                a = a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            if isinstance(a.comma, cst.Comma) and i == 0:
                a = a.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        out.append(a)
    return out


@register
class BlockingCallInHelper(_OnRequestPath):
    code = "FPI110"
    name = "blocking-call-in-helper"
    summary = ("A call, in async context, to a project function or method that reaches an FPI101-106 call "
               "through sync calls (same module or another module); the message shows the chain.")
    fix = "unsafe"
    tokens = ("async",)
    needs_index = True
    requires = ("async",)

    @staticmethod
    def _blocking_targets(index):
        """The sync project functions and methods that reach a blocking call."""
        return index.memo("FPI110.targets", lambda: [
            q for q, f in index.functions.items() if not f.is_async and index.blocking_chain(q)])

    @classmethod
    def _blocking_helpers(cls, index):
        """Names of the sync project functions that reach a blocking call (their class's name
        for a constructor that blocks)."""
        names = set()
        for q in cls._blocking_targets(index):
            owner, _, name = q.rpartition(".")
            names.add(owner.rpartition(".")[2] if name == "__init__" else name)
        # a project subclass's constructor reaches an inherited `__init__` that blocks: the
        # classes `ProjectCallees` finds carrying one (`SubVault()` for `Vault.__init__`)
        reach = ProjectCallees.of(index, "FPI110", cls._blocking_targets, inherited=True)
        return names | reach.function_spellings()

    @classmethod
    def index_tokens(cls, index):
        """A file can only reach a blocking project helper by its name (or its class's name,
        for a constructor that blocks), or by a name it is re-exported as."""
        return spellings(index, "FPI110", cls._blocking_helpers)

    @classmethod
    def wants(cls, facts, index):
        """A call in async context, not awaited, that can reach a blocking sync project
        function (`project_targets`): by a bare name, a def of the file that is one; else
        (`ProjectCallees`, methods looked up in their own class only, as `blocking_chain`
        does) through an import, a receiver of the method's class or `self` in it. Without
        an index, the rule only knows this file's functions: any such call."""
        calls = async_unawaited(facts)
        if index is None or not calls:
            return bool(calls)
        if not cls.index_tokens(index).isdisjoint(calls & facts.unawaited_names & facts.function_defs):
            return True
        reach = ProjectCallees.of(index, "FPI110", cls._blocking_targets, inherited=True)
        return reach.met(facts, spelled(facts, calls), facts.unawaited_methods & calls, facts.function_defs)

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree: a call in the body of an `async def` (a lambda's in
        one too: a superset) whose `project_targets` may have a blocking chain. A bare
        name as the module's imports and defs bind it (`ModuleReceivers.function_kinds`); a
        method on what its receiver may be (`ModuleReceivers.kinds`: a qualified name, the
        class of a constructor, annotation or `with`, or of a module-level instance), plus
        the method's own class for `self.method()`, as `blocking_chain` looks them up."""
        name, is_package = module
        own = own_names(facts, index, module)
        if own is None:
            return True  # the rule reads another index (`project_index_for`)
        reach = ProjectCallees.of(index, "FPI110", cls._blocking_targets, inherited=True)
        if not reach.ambiguous_classes.isdisjoint(facts.class_defs):
            return True
        # what a target can be called by: its name, a re-export's, its class's or a subclass's
        # (a constructor: `index_tokens`), an import's `as` name, a def of the module
        tokens, defs, aliases = cls.index_tokens(index), facts.function_defs, facts.alias_origins

        def may_spell(name: str) -> bool:
            return name in tokens or name in defs or name in aliases

        receivers = ModuleReceivers.of(tree, name, is_package)
        for call, func in receivers.calls():
            if func is None or type(func.node) is not ast.AsyncFunctionDef:  # `ctx.in_async()`
                continue
            callee = call.func
            if type(callee) is ast.Name:
                if not may_spell(callee.id):
                    continue
                kinds = receivers.function_kinds(callee.id, func)
                if kinds is ANY_KIND or own_kind(kinds, own) or any(index.blocking_chain(q) for q in kinds):
                    return True
            elif type(callee) is ast.Attribute and may_spell(callee.attr):
                kinds = receivers.kinds(callee.value, func)
                if kinds is ANY_KIND:
                    return True
                owners = set(kinds)
                if type(callee.value) is ast.Name and func.receiver and func.receiver[1] == callee.value.id:
                    owners.add(receivers.prefix + func.receiver[0])  # `self.m()`: the class's, nested or not
                    # ... or what the class assigns `self.m` (`call_origin`: `Repo().load`)
                    held = receivers.held_by_self(func, callee.attr)
                    if held is ANY_KIND or any(index.blocking_chain(q) for q in held):
                        return True
                if own_kind(owners, own) or any(index.blocking_chain(f"{q}.{callee.attr}") for q in owners):
                    return True
        return False

    docs = """
    ## What it does
    Reports a call, in async context, to a sync function or method of the project that
    reaches a blocking call (FPI101-FPI106) directly or through other sync project
    functions, in the same module or in any other checked module:
    `from .storage import read_settings`, `storage.fetch()`, `self.repo.load()` when the
    class of `self.repo` is known, `db.connection()` on a module-level instance of a project
    class, methods and constructors inherited from project base classes (`self.load()` in a
    subclass, `Vault()` whose `__init__` comes from a base that opens a file). The message
    shows the chain, e.g. `load_settings() -> open()`. A helper handed to
    an offload function (`await run_in_threadpool(helper, x)`) is fine and not reported.
    The body of a lifespan function or a startup/shutdown handler is not reported: it runs
    before the first request is served or after the last.

    ## Why is this bad?
    The blocking call is one function away from the route, so reviews and flat API lists
    miss it, yet it stalls the event loop exactly as if it were written in the route.

    ## Example
    ```python
    # storage.py
    def load_settings():
        with open("settings.json") as fh:
            return json.load(fh)

    # api.py
    @app.get("/settings")
    async def settings():
        return load_settings()
    ```

    ## Use instead
    ```python
    @app.get("/settings")
    async def settings():
        return await run_in_threadpool(load_settings)
    ```
    """ + _FIX_SAFETY

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        if isinstance(ctx.parent(node), cst.Await) or offloaded_argument(ctx, node):
            return
        if blocking_call(ctx, node) is not None or ctx.call_qualname(node) in BLOCKING_SLEEP:
            return
        index = project_index_for(ctx)
        chain = None
        for target in project_targets(ctx, node):
            chain = index.blocking_chain(target)
            if chain:
                break
        if not chain:
            return
        self.report(node, f"`{chain[0]}` in async function {function_label(ctx)} blocks the event loop: "
                          f"{' -> '.join(chain)}",
                    make_def_fix(ctx) or hint("Offload it: `await run_in_threadpool(helper, *args)`"))


def project_targets(ctx, node: cst.Call) -> List[str]:
    """The qualified names this call may call in the project: `helper` (this module),
    `storage.fetch` (imported), `self.method`, `self.repo.load` (known class)."""
    out: List[str] = []
    prefix = f"{ctx.module_name}." if ctx.module_name else ""
    func = node.func
    if isinstance(func, cst.Name):
        q = ctx.resolve_name(func.value)
        if q is not None:
            out.append(q)
        elif _module_level_def(ctx, func.value):
            out.append(f"{prefix}{func.value}")
    elif isinstance(func, cst.Attribute):
        q = ctx.qualname(func)
        if q is not None:
            out.append(q)
        from fastapi_lint.model.flow import _first_param, enclosing_class

        cls = enclosing_class(ctx)
        fdef = ctx.enclosing_functiondef()
        if cls is not None and fdef is not None and isinstance(func.value, cst.Name) \
                and _first_param(fdef) == func.value.value:
            out.append(f"{prefix}{cls.name.value}.{func.attr.value}")
        o = ctx.call_origin(node)
        if o and o not in out:
            head, sep, tail = o.rpartition("().")
            if sep and "(" not in head and "[" not in head and "." not in tail:
                out.append(f"{head}.{tail}")
    return out


def _module_level_def(ctx, name: str) -> bool:
    for scope in ctx.scope_stack[1:]:
        if not isinstance(scope, cst.ClassDef) and name in ctx.bindings(scope):
            return False
    from fastapi_lint.model.flow import module_assignments

    values = module_assignments(ctx).get(name)
    return bool(values) and all(v == "<unknown>" for v in values) and any(
        isinstance(s, cst.FunctionDef) and s.name.value == name for s in ctx.module.body)
