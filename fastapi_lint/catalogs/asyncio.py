"""Async APIs of the framework and its usual libraries, as data (FPI2xx).

Objects are named by their origin path (see model/flow.py): "fastapi.Request()" is an
instance of `fastapi.Request` (by annotation or construction), "sqlalchemy.ext.asyncio.
async_sessionmaker()()" a session made by an `async_sessionmaker`. An origin starting with
"await " (the awaited result of a call) is looked up without that prefix where the awaited
call is what builds the object (`conn = await asyncpg.connect()`).
"""

from typing import Dict, FrozenSet

# ---------------------------------------------------------------------------- methods

_REQUEST = frozenset({"json", "body", "form", "is_disconnected", "send_push_promise", "close"})
_UPLOAD = frozenset({"read", "write", "seek", "close"})
_WEBSOCKET = frozenset({
    "accept", "receive", "send", "receive_text", "receive_bytes", "receive_json", "send_text",
    "send_bytes", "send_json", "close", "send_denial_response",
})
_ASYNC_SESSION = frozenset({
    "execute", "scalar", "scalars", "get", "get_one", "commit", "rollback", "flush", "refresh", "delete",
    "close", "merge", "stream", "stream_scalars", "run_sync", "connection", "invalidate", "reset",
})
_HTTPX_ASYNC = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "aclose"})
_ASYNCPG_CONN = frozenset({
    "execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "close", "prepare",
    "copy_from_table", "copy_from_query", "copy_to_table", "copy_records_to_table", "set_type_codec",
    "reset", "reload_schema_state",
})
_ASYNCPG_POOL = frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval", "close", "release",
                           "expire_connections", "copy_from_table", "copy_to_table"})
_AIOFILES = frozenset({"read", "write", "readline", "readlines", "writelines", "seek", "tell", "truncate",
                       "flush", "close"})
_REDIS_ASYNC = frozenset({
    "get", "set", "delete", "exists", "expire", "ttl", "incr", "incrby", "decr", "mget", "mset", "setex",
    "hget", "hset", "hgetall", "hdel", "hincrby", "lpush", "rpush", "lpop", "rpop", "lrange", "sadd", "srem",
    "smembers", "sismember", "zadd", "zrange", "zrem", "zscore", "publish", "keys", "scan", "ping",
    "flushdb", "flushall", "aclose", "close", "getdel", "setnx", "xadd", "xread", "eval", "evalsha",
})

_REDIS_ORIGINS = ("redis.asyncio.Redis()", "redis.asyncio.StrictRedis()", "redis.asyncio.from_url()",
                  "redis.asyncio.Redis.from_url()", "redis.asyncio.client.Redis()",
                  "redis.asyncio.client.Redis.from_url()")

#: origin path of an object -> its coroutine methods (calling one makes a coroutine).
ASYNC_METHODS: Dict[str, FrozenSet[str]] = {
    **{f"{m}.Request()": _REQUEST for m in ("fastapi", "fastapi.requests", "starlette.requests")},
    **{f"{m}.UploadFile()": _UPLOAD for m in ("fastapi", "fastapi.datastructures", "starlette.datastructures")},
    **{f"{m}.WebSocket()": _WEBSOCKET for m in ("fastapi", "fastapi.websockets", "starlette.websockets")},
    "sqlalchemy.ext.asyncio.AsyncSession()": _ASYNC_SESSION,
    "sqlalchemy.ext.asyncio.session.AsyncSession()": _ASYNC_SESSION,
    "sqlalchemy.ext.asyncio.async_sessionmaker()()": _ASYNC_SESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession()": _ASYNC_SESSION | {"exec"},
    "httpx.AsyncClient()": _HTTPX_ASYNC,
    "asyncpg.connect()": _ASYNCPG_CONN,
    "asyncpg.Connection()": _ASYNCPG_CONN,
    "asyncpg.connection.Connection()": _ASYNCPG_CONN,
    "asyncpg.create_pool()": _ASYNCPG_POOL,
    "asyncpg.Pool()": _ASYNCPG_POOL,
    "asyncpg.pool.Pool()": _ASYNCPG_POOL,
    "asyncpg.create_pool().acquire()": _ASYNCPG_CONN,
    "aiofiles.open()": _AIOFILES,
    "aiofiles.threadpool.open()": _AIOFILES,
    **{o: _REDIS_ASYNC for o in _REDIS_ORIGINS},
}

#: Methods that return async generators: not awaited but iterated with `async for`.
#: Dropping one is reported; no `await` fix is offered.
ASYNC_ITERATOR_METHODS: Dict[str, FrozenSet[str]] = {
    **{f"{m}.Request()": frozenset({"stream"}) for m in ("fastapi", "fastapi.requests", "starlette.requests")},
    **{f"{m}.WebSocket()": frozenset({"iter_text", "iter_bytes", "iter_json"})
       for m in ("fastapi", "fastapi.websockets", "starlette.websockets")},
}

#: Origins of AsyncSession objects (FPI209: one session must not be used concurrently).
ASYNC_SESSION_ORIGINS = frozenset({
    "sqlalchemy.ext.asyncio.AsyncSession()",
    "sqlalchemy.ext.asyncio.session.AsyncSession()",
    "sqlalchemy.ext.asyncio.async_sessionmaker()()",
    "sqlmodel.ext.asyncio.session.AsyncSession()",
})

#: Coroutine functions by qualified name (calling one makes a coroutine).
COROUTINE_FUNCTIONS = frozenset({
    "asyncio.sleep", "asyncio.wait_for", "asyncio.wait", "asyncio.open_connection",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "asyncio.to_thread",
    "anyio.sleep", "starlette.concurrency.run_in_threadpool", "fastapi.concurrency.run_in_threadpool",
})

# ---------------------------------------------------------------------------- offloading

#: Functions that run a sync callable in a worker thread: qualified name -> index of the
#: callable among the positional arguments, and whether keyword arguments reach the callable.
OFFLOAD_FUNCTIONS: Dict[str, tuple] = {
    "starlette.concurrency.run_in_threadpool": (0, True),
    "fastapi.concurrency.run_in_threadpool": (0, True),
    "asyncio.to_thread": (0, True),
    "anyio.to_thread.run_sync": (0, False),
}
#: `loop.run_in_executor(executor, func, *args)`: the callable is the second argument.
RUN_IN_EXECUTOR = "run_in_executor"

# ---------------------------------------------------------------------------- tasks and loops

#: Functions that schedule a coroutine as a task (FPI206 when the result is dropped).
TASK_CREATORS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
#: Origins of event loop objects (their `create_task` schedules a task).
LOOP_ORIGINS = frozenset({
    "asyncio.get_event_loop()", "asyncio.get_running_loop()", "asyncio.new_event_loop()",
})
#: Running a new event loop (FPI208 in async context).
LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run"})
LOOP_RUN_METHODS = frozenset({"run_until_complete"})

#: Caching decorators that cache the coroutine object of an async def (FPI207).
COROUTINE_CACHES = frozenset({
    "functools.lru_cache", "functools.cache", "functools.cached_property",
    "cachetools.cached", "cachetools.func.ttl_cache", "cachetools.func.lru_cache",
})

#: asyncio.gather and friends (FPI209: awaitables run concurrently).
GATHER_FUNCTIONS = frozenset({"asyncio.gather"})
TASK_GROUPS = frozenset({"asyncio.TaskGroup", "anyio.create_task_group"})

# ---------------------------------------------------------------------------- FastAPI

#: BackgroundTasks (FPI203): `add_task(f(...))` runs `f` now.
BACKGROUND_TASKS_ORIGINS = frozenset({
    "fastapi.BackgroundTasks()", "fastapi.background.BackgroundTasks()", "starlette.background.BackgroundTasks()",
})
BACKGROUND_TASK_CLASSES = frozenset({"starlette.background.BackgroundTask"})
#: Calls that return a callable: `add_task(partial(f, x))`, `Depends(partial(...))` are fine.
CALLABLE_FACTORIES = frozenset({
    "functools.partial", "operator.methodcaller", "operator.attrgetter", "operator.itemgetter",
    "builtins.getattr",
})
#: Return types that are never callable (FPI204: `Depends(f())` with `f() -> Session`).
NON_CALLABLE_RETURNS = frozenset({
    "builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.bytes", "builtins.dict",
    "builtins.list", "builtins.set", "builtins.tuple", "builtins.None",
    "sqlalchemy.orm.Session", "sqlalchemy.ext.asyncio.AsyncSession", "sqlmodel.Session",
    "typing.Generator", "typing.AsyncGenerator", "typing.Iterator", "typing.AsyncIterator",
    "collections.abc.Generator", "collections.abc.AsyncGenerator", "collections.abc.Iterator",
    "collections.abc.AsyncIterator",
})
#: Base classes whose instances are not callable (a project class deriving only from these,
#: with no `__call__` of its own, is not a dependency).
NON_CALLABLE_BASES = frozenset({
    "pydantic.BaseModel", "pydantic_settings.BaseSettings", "pydantic.BaseSettings",
})
