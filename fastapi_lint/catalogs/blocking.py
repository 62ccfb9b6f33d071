"""Blocking APIs, as data. Names are qualified names (as `ModuleContext.qualname` resolves
them); objects are origin paths (as `model/flow.py` writes them: "requests.Session()").

Adding a library is a line here:
- `FUNCTIONS[code]`: module functions (and classes whose constructor blocks) by qualified
  name; a trailing `.*` means every function of that module (`shutil.*`).
- `OBJECTS[origin]`: (code, methods that block, flags) for calls on an object with that
  origin; methods may be `ANY` (every method except those in `safe`). Flag `deep`: the
  method may be reached through attributes/subscripts/calls (`client.db.users.find_one()`,
  `db.query(User).filter(...).first()`).
- `DERIVED`: origin suffixes that give back an object of the same kind (`Path().parent`).
- `OFFLOAD`: functions that run a callable in a worker thread, with whether they forward
  keyword arguments to it (FPI107's fix uses `functools.partial` when they do not).
"""

import functools
from typing import Dict, FrozenSet, Optional, Tuple

#: FPI101: sleeping threads. The fix replaces these with `await asyncio.sleep(...)`.
BLOCKING_SLEEP = frozenset({
    "time.sleep",
})

HTTP, DB, FILE, PROC, OTHER = "FPI102", "FPI103", "FPI104", "FPI105", "FPI106"
ANY = frozenset({"*"})

_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
_CONN = frozenset({"execute", "executemany", "executescript", "commit", "rollback", "backup", "iterdump",
                   "fetchone", "fetchall", "fetchmany"})
_CURSOR = frozenset({"execute", "executemany", "executescript", "fetchone", "fetchall", "fetchmany", "callproc",
                     "copy_expert", "copy_from", "copy_to", "scroll", "nextset"})
_SA_SESSION = frozenset({"execute", "exec", "scalar", "scalars", "get", "get_one", "commit", "flush", "refresh",
                         "merge", "rollback", "connection", "bulk_save_objects", "bulk_insert_mappings",
                         "bulk_update_mappings",
                         # terminals of a legacy `session.query(...)...` chain
                         "all", "first", "one", "one_or_none", "count", "update", "paginate"})
_SA_ENGINE = frozenset({"connect", "begin", "execute", "raw_connection", "scalar"})
_SA_CONNECTION = frozenset({"execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback"})
_MONGO = frozenset({"find_one", "find", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                    "delete_one", "delete_many", "count_documents", "estimated_document_count", "aggregate",
                    "distinct", "find_one_and_update", "find_one_and_delete", "find_one_and_replace",
                    "bulk_write", "create_index", "create_indexes", "drop", "drop_index", "list_database_names",
                    "list_collection_names", "server_info", "command", "drop_database", "drop_collection",
                    "create_collection"})
_REDIS_SAFE = frozenset({"pipeline", "pubsub", "lock", "close", "register_script", "get_encoder",
                         "get_connection_kwargs", "set_response_callback"})
_FILE = frozenset({"read", "readline", "readlines", "write", "writelines", "flush", "truncate"})
_PATH_IO = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open", "exists", "is_file",
                      "is_dir", "is_symlink", "mkdir", "iterdir", "unlink", "rmdir", "rename", "replace", "touch",
                      "stat", "lstat", "glob", "rglob", "chmod", "samefile", "symlink_to", "hardlink_to",
                      "owner", "group", "readlink", "walk"})
_SOCKET = frozenset({"connect", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto", "accept",
                     "sendfile", "makefile"})
_SMTP = frozenset({"sendmail", "send_message", "login", "starttls", "ehlo", "helo", "connect", "quit", "noop",
                   "verify"})
_FTP = frozenset({"login", "connect", "retrbinary", "retrlines", "storbinary", "storlines", "nlst", "dir",
                  "cwd", "delete", "mkd", "rmd", "rename", "size", "quit", "mlsd", "sendcmd"})

FUNCTIONS: Dict[str, FrozenSet[str]] = {
    HTTP: frozenset({
        *(f"requests.{v}" for v in _HTTP_VERBS), *(f"requests.api.{v}" for v in _HTTP_VERBS),
        *(f"httpx.{v}" for v in _HTTP_VERBS), "httpx.stream",
        "urllib.request.urlopen", "urllib.request.urlretrieve", "urllib3.request",
    }),
    DB: frozenset({
        "sqlite3.connect", "psycopg2.connect", "psycopg.connect", "psycopg.Connection.connect",
        "pymysql.connect", "pymysql.Connect", "MySQLdb.connect", "mysql.connector.connect",
    }),
    FILE: frozenset({
        "builtins.open", "io.open", "gzip.open", "bz2.open", "lzma.open", "glob.glob",
        *(f"os.{f}" for f in ("listdir", "remove", "unlink", "rename", "renames", "replace", "stat", "lstat",
                              "makedirs", "mkdir", "rmdir", "removedirs", "scandir", "walk", "chmod", "chown",
                              "link", "symlink", "readlink", "truncate", "utime", "access", "fsync", "open",
                              "read", "write", "sendfile", "statvfs", "mkfifo")),
        *(f"os.path.{f}" for f in ("exists", "lexists", "isfile", "isdir", "islink", "ismount", "getsize",
                                   "getmtime", "getatime", "getctime", "samefile", "realpath")),
        "shutil.*",
    }),
    PROC: frozenset({
        "subprocess.*", "subprocess.Popen",
        "os.system", "os.popen", "os.wait", "os.waitpid", "os.wait3", "os.wait4", "os.waitid",
        "os.posix_spawn", "os.posix_spawnp",
        *(f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
    }),
    OTHER: frozenset({
        "builtins.input", "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.getfqdn",
        "smtplib.SMTP", "smtplib.SMTP_SSL", "ftplib.FTP", "ftplib.FTP_TLS",
    }),
}

#: Constructors named here do not block themselves; only FUNCTIONS above are reported as calls.
OBJECTS: Dict[str, Tuple[str, FrozenSet[str], FrozenSet[str], bool]] = {}


def _obj(origins, code, methods, safe=frozenset(), deep=False):
    for o in origins:
        OBJECTS[o] = (code, frozenset(methods), frozenset(safe), deep)


_verbs = _HTTP_VERBS | {"send", "stream"}
_obj(("requests.Session()", "requests.session()", "requests.sessions.Session()"), HTTP, _verbs)
_obj(("httpx.Client()",), HTTP, _verbs)
_obj(("urllib3.PoolManager()", "urllib3.HTTPConnectionPool()", "urllib3.HTTPSConnectionPool()",
      "urllib3.connection_from_url()", "urllib3.ProxyManager()"), HTTP, {"request", "urlopen"})
_obj(("http.client.HTTPConnection()", "http.client.HTTPSConnection()"), HTTP,
     {"request", "getresponse", "connect", "send", "endheaders"})

_drivers = ("sqlite3.connect()", "psycopg2.connect()", "psycopg.connect()", "psycopg.Connection.connect()",
            "pymysql.connect()", "pymysql.Connect()", "MySQLdb.connect()", "mysql.connector.connect()",
            "sqlite3.Connection()", "psycopg2.extensions.connection()", "psycopg.Connection()")
_obj(_drivers, DB, _CONN)
_obj(tuple(f"{d}.cursor()" for d in _drivers) + ("sqlite3.Cursor()", "psycopg2.extensions.cursor()",
                                                  "psycopg.Cursor()"), DB, _CURSOR)
_obj(("psycopg2.pool.SimpleConnectionPool()", "psycopg2.pool.ThreadedConnectionPool()"), DB, {"getconn"})
_obj(("pymongo.MongoClient()", "pymongo.mongo_client.MongoClient()", "pymongo.database.Database()",
      "pymongo.collection.Collection()"), DB, _MONGO, deep=True)
_obj(("redis.Redis()", "redis.StrictRedis()", "redis.from_url()", "redis.Redis.from_url()",
      "redis.StrictRedis.from_url()", "redis.client.Redis()", "redis.client.StrictRedis()"), DB, ANY, _REDIS_SAFE)
_obj(tuple(f"{r}.pipeline()" for r in ("redis.Redis()", "redis.StrictRedis()", "redis.from_url()",
                                       "redis.Redis.from_url()", "redis.client.Redis()")), DB, {"execute"})
_sessions = ("sqlalchemy.orm.Session()", "sqlalchemy.orm.session.Session()", "sqlalchemy.orm.sessionmaker()()",
             "sqlalchemy.orm.session.sessionmaker()()", "sqlalchemy.orm.scoped_session()",
             "sqlalchemy.orm.scoping.scoped_session()", "sqlalchemy.orm.scoped_session()()",
             "sqlmodel.Session()", "sqlmodel.orm.session.Session()", "flask_sqlalchemy.SQLAlchemy().session")
_obj(_sessions, DB, _SA_SESSION, deep=("query()",))
_engines = ("sqlalchemy.create_engine()", "sqlalchemy.engine.create_engine()", "sqlmodel.create_engine()",
            "sqlalchemy.engine.Engine()", "sqlalchemy.Engine()", "sqlalchemy.engine.base.Engine()")
_obj(_engines, DB, _SA_ENGINE)
_obj(tuple(f"{e}.{m}()" for e in _engines for m in ("connect", "begin")) + (
    "sqlalchemy.engine.Connection()", "sqlalchemy.Connection()", "sqlalchemy.engine.base.Connection()"),
    DB, _SA_CONNECTION)

_obj(("builtins.open()", "io.open()", "gzip.open()", "bz2.open()", "lzma.open()", "pathlib.Path().open()",
      "os.fdopen()"), FILE, _FILE)
_obj(("pathlib.Path()", "pathlib.PosixPath()", "pathlib.WindowsPath()", "pathlib.Path.home()",
      "pathlib.Path.cwd()"), FILE, _PATH_IO)

_obj(("subprocess.Popen()",), PROC, {"communicate", "wait"})

_obj(("socket.socket()", "socket.create_connection()", "socket.socket().accept()"), OTHER, _SOCKET)
_obj(("smtplib.SMTP()", "smtplib.SMTP_SSL()"), OTHER, _SMTP)
_obj(("ftplib.FTP()", "ftplib.FTP_TLS()"), OTHER, _FTP)
_obj(("queue.Queue()", "queue.LifoQueue()", "queue.PriorityQueue()", "queue.SimpleQueue()",
      "multiprocessing.Queue()"), OTHER, {"get", "put", "join"})
_obj(("threading.Thread()",), OTHER, {"join"})
_obj(("threading.Lock()", "threading.RLock()", "threading.Semaphore()", "threading.BoundedSemaphore()",
      "threading.Condition()"), OTHER, {"acquire", "wait"})
_obj(("threading.Event()", "threading.Barrier()"), OTHER, {"wait"})

#: Methods whose blocking form can be turned off by an argument: (positional index, keyword).
#: `q.get(False)`, `q.put(x, block=False)`, `lock.acquire(blocking=False)` do not block.
NON_BLOCKING_FLAG = {
    "get": (0, "block"),
    "put": (1, "block"),
    "acquire": (0, "blocking"),
}
NON_BLOCKING_FLAG_CODES = frozenset({OTHER})

#: Attribute/method suffixes that give back an object of the same kind: `path.parent.exists()`.
DERIVED = {
    "pathlib.Path()": ("parent", "with_suffix()", "with_name()", "with_stem()", "joinpath()", "absolute()",
                       "resolve()", "expanduser()", "relative_to()"),
}
for _p in ("pathlib.PosixPath()", "pathlib.Path.home()", "pathlib.Path.cwd()"):
    DERIVED[_p] = DERIVED["pathlib.Path()"]

#: Offload functions: qualified name (or `.method` for a method of any object) ->
#: (index of the callable argument, forwards keyword arguments to it).
OFFLOAD = {
    "starlette.concurrency.run_in_threadpool": (0, True),
    "fastapi.concurrency.run_in_threadpool": (0, True),
    "asyncio.to_thread": (0, True),
    "asyncio.threads.to_thread": (0, True),
    "anyio.to_thread.run_sync": (0, False),
    ".run_in_executor": (1, False),
}

#: Calls that return a callable: passing their result to an offload function is right.
CALLABLE_FACTORIES = frozenset({"functools.partial", "operator.methodcaller", "operator.attrgetter",
                                "operator.itemgetter", "contextvars.copy_context().run"})


def divided_origin(left: Optional[str]) -> Optional[str]:
    """The origin of `left / name` from the origin of `left` (the flow models' notation, on
    libcst and on `ast`): a call's result divided is of its kind (`Path("/data") / name`); an
    object derived from a path by `DERIVED` suffixes gives that path's kind
    (`Path(__file__).parent / "x.json"` -> `pathlib.Path()`); anything else, None."""
    if not left or left.endswith("()"):
        return left
    reduced = _same_kind(left + ".x")
    return next((kind for kind in DERIVED if reduced == kind + ".x"), None)


def _same_kind(callee: str) -> str:
    """`pathlib.Path().parent.with_suffix().exists` -> `pathlib.Path().exists`."""
    for root, suffixes in DERIVED.items():
        if not callee.startswith(root + "."):
            continue
        rest = callee[len(root) + 1:]
        changed = True
        while changed:
            changed = False
            for s in suffixes:
                if rest.startswith(s + "."):
                    rest, changed = rest[len(s) + 1:], True
        return f"{root}.{rest}"
    return callee


def _segments(rest: str):
    return rest.split(".")


def match_blocking(callee: str, flag_off=None) -> "Tuple[str, str] | None":
    """(code, label) when calling `callee` (a qualified name or origin path) blocks, else None.

    `flag_off(position, keyword)` says whether the call passes a false `block`/`blocking`
    argument (`q.get(block=False)`), for the methods in NON_BLOCKING_FLAG.
    """
    if not callee:
        return None
    found = _match_callee(callee)
    if found is None:
        return None
    code, label, flag = found
    if flag is not None and flag_off is not None and flag_off(*flag):
        return None
    return code, label


@functools.lru_cache(maxsize=8192)
def _match_callee(callee: str) -> "Tuple[str, str, Optional[Tuple[int, str]]] | None":
    """`match_blocking` without the call's arguments: (code, label, the (position, keyword) of
    a `block=` flag that may turn it off, or None). The same callee recurs across a project."""
    label = (callee[len("builtins."):] if callee.startswith("builtins.") else callee) + "()"
    for code, names in FUNCTIONS.items():
        if callee in names:
            return code, label, None
        module, _, name = callee.rpartition(".")
        if module and f"{module}.*" in names and name[:1].islower() and not name.startswith("_"):
            return code, label, None
    callee = _same_kind(callee)
    best = None
    for root in OBJECTS:
        if callee.startswith(root) and callee[len(root):len(root) + 1] in (".", "[") \
                and (best is None or len(root) > len(best)):
            best = root
    if best is None:
        return None
    code, methods, safe, deep = OBJECTS[best]
    rest = callee[len(best):]
    parts = _segments(rest[1:] if rest.startswith(".") else rest)
    method = parts[-1]
    if len(parts) > 1:
        if not deep:
            return None
        if isinstance(deep, tuple) and parts[0] not in deep:
            return None
        if isinstance(deep, tuple) and not all(p.endswith("()") for p in parts[:-1]):
            return None
    if not method.isidentifier():
        return None
    if methods == ANY:
        if method in safe or method.startswith("_") or len(parts) > 1:
            return None
    elif method not in methods:
        return None
    flag = NON_BLOCKING_FLAG[method] if code in NON_BLOCKING_FLAG_CODES and method in NON_BLOCKING_FLAG else None
    return code, label, flag


def offload_spec(qualname, method_name=None):
    """(callable position, forwards keywords) when the call is an offload function, else None."""
    if qualname in OFFLOAD:
        return OFFLOAD[qualname]
    if method_name is not None and f".{method_name}" in OFFLOAD:
        return OFFLOAD[f".{method_name}"]
    return None
