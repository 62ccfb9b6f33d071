"""FPI3xx data: SQL sinks and paramstyles, file sinks, sanitisers, CORS/host/JWT/HTTP APIs.

Qualified names as `ModuleContext.qualname` resolves them; origin prefixes as
`ModuleContext.origin_of` spells them ("sqlite3.connect().cursor()").
"""

import re

#: SQL text starts with one of these statement words (after blanks, parentheses and holes)...
SQL_STATEMENT_WORDS = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "DROP", "ALTER", "TRUNCATE", "REPLACE", "MERGE",
    "UPSERT", "GRANT", "REVOKE", "PRAGMA", "SET", "SHOW", "EXPLAIN", "CALL", "EXEC", "BEGIN", "COPY", "VACUUM",
    "ANALYZE", "COMMENT", "DECLARE", "LOCK", "REFRESH", "REINDEX", "LISTEN", "NOTIFY", "ATTACH", "DETACH", "USE",
    "DESCRIBE",
)
#: ...or holds one of these clauses anywhere (case-insensitive both).
SQL_CLAUSES = (
    r"\bSELECT\b[\s\S]*\bFROM\b", r"\bINSERT\s+INTO\b", r"\bUPDATE\b[\s\S]*\bSET\b", r"\bDELETE\s+FROM\b",
    r"\bWHERE\b", r"\bORDER\s+BY\b", r"\bGROUP\s+BY\b", r"\bVALUES\s*\(", r"\bJOIN\b",
)
#: The words SQL text can only get from the string literals of the module that builds it: a
#: statement word first on a line of a literal (after blanks, parentheses and braces), or
#: every word of one clause (in one literal or several: text is built from them), is
#: necessary for text that looks like SQL (`sql_words_possible`).
SQL_START_WORDS = re.compile(r"^[\s(){}]*(?:%s)\b" % "|".join(SQL_STATEMENT_WORDS), re.I | re.M)
_CLAUSE_WORD_SETS = tuple(frozenset(w.lower() for w in re.findall(r"[A-Z]{2,}", c)) for c in SQL_CLAUSES)
SQL_CLAUSE_WORDS = re.compile(r"\b(?:%s)\b" % "|".join(sorted(set().union(*_CLAUSE_WORD_SETS))), re.I)


def sql_words_possible(text: str) -> bool:
    """Whether text built from these literals (joined by newlines) can look like SQL."""
    if SQL_START_WORDS.search(text):
        return True
    words = {w.lower() for w in SQL_CLAUSE_WORDS.findall(text)}
    return any(clause <= words for clause in _CLAUSE_WORD_SETS)

#: Methods whose first argument (or `query=`/`sql=`/...) is SQL text, whatever the receiver:
#: the SQL keywords of the text decide, so `runner.execute(f"step-{n}")` is not SQL.
SQL_SINK_METHODS = frozenset({
    "execute", "executemany", "executescript", "exec_driver_sql",
    "fetch", "fetchrow", "fetchval", "fetchone", "fetchall", "fetchmany",
    "fetch_all", "fetch_one", "fetch_val", "iterate",  # encode/databases
    "mogrify", "copy_expert", "raw",
})
#: Functions whose first argument is SQL text.
SQL_SINK_FUNCTIONS = frozenset({
    "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text",
    "sqlmodel.text", "sqlalchemy.sql.expression.TextClause",
    "pandas.read_sql", "pandas.read_sql_query", "pandas.io.sql.read_sql", "pandas.io.sql.read_sql_query",
})
#: `text()` constructors: the fix rewrites them to `text("... :name").bindparams(name=...)`.
SQLALCHEMY_TEXT = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text",
                             "sqlmodel.text"})
#: Keyword names under which sinks take the SQL text.
SQL_KEYWORDS = ("query", "sql", "statement", "operation", "sql_script", "text")

#: Driver (origin prefix of the receiver) -> DB-API paramstyle used by the fix.
#: "qmark": `?` + a tuple; "format": `%s` + a tuple; "numeric_dollar": `$1` + extra arguments.
DRIVER_PARAMSTYLES = {
    "sqlite3": "qmark",
    "aiosqlite": "qmark",
    "psycopg2": "format",
    "psycopg": "format",
    "pymysql": "format",
    "MySQLdb": "format",
    "mysql.connector": "format",
    "aiomysql": "format",
    "asyncpg": "numeric_dollar",
}

#: Calls whose result is a number or other value that cannot carry SQL or a path.
SAFE_CONVERSIONS = frozenset({
    "builtins.int", "builtins.float", "builtins.bool", "builtins.len", "builtins.abs", "builtins.round",
    "builtins.hash", "builtins.min", "builtins.max", "builtins.sum", "uuid.UUID", "uuid.uuid4",
    "builtins.id", "builtins.ord", "decimal.Decimal",
})
#: Calls that pass their (first) argument's value through unchanged for our purposes.
PASS_THROUGH_CALLS = frozenset({
    "builtins.str", "os.fspath", "os.path.join", "os.path.abspath", "os.path.realpath", "os.path.normpath",
    "os.path.expanduser", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath",
    "anyio.Path", "aiofiles.os.path.join",
}) | SQLALCHEMY_TEXT
#: String/path methods whose result carries the receiver's value (and their arguments').
PASS_THROUGH_METHODS = frozenset({
    "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "replace", "encode", "decode",
    "resolve", "absolute", "expanduser", "joinpath", "with_suffix", "with_name", "as_posix",
    "removeprefix", "removesuffix", "format_map",
})
#: What a path checked for containment may be wrapped in (FPI303: `Path(p).resolve()`, `str(p)`,
#: `os.path.realpath(p)`), by the callee's last name; read on libcst (taint.py) and `ast` (index.py).
PATH_WRAPPERS = frozenset({"str", "Path", "PurePath", "realpath", "abspath", "normpath", "fspath"})
#: Calls that strip directory parts from a file name (FPI303).
FILENAME_SANITISERS = frozenset({
    "os.path.basename", "posixpath.basename", "ntpath.basename",
    "werkzeug.utils.secure_filename", "werkzeug.secure_filename",
    "pathvalidate.sanitize_filename", "pathvalidate.sanitize_filepath",
})
#: Attributes of a path that cannot contain a directory separator.
SANITISING_ATTRIBUTES = frozenset({"name", "stem", "suffix", "suffixes"})
#: Parameter annotations FastAPI validates into values that carry no SQL or path.
SAFE_ANNOTATIONS = frozenset({
    "builtins.int", "builtins.float", "builtins.bool", "uuid.UUID", "datetime.datetime", "datetime.date",
    "datetime.time", "datetime.timedelta", "decimal.Decimal", "pydantic.PositiveInt",
    "pydantic.NonNegativeInt", "pydantic.conint", "typing.Literal", "typing_extensions.Literal",
})
#: FastAPI parameter markers whose value is not client input the function reads as a string.
NON_INPUT_MARKERS = frozenset({
    "fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security",
    "fastapi.param_functions.Depends", "fastapi.param_functions.Security",
})
UPLOAD_FILE_ORIGINS = ("fastapi.UploadFile()", "fastapi.datastructures.UploadFile()",
                       "starlette.datastructures.UploadFile()")
REQUEST_ORIGINS = ("fastapi.Request()", "starlette.requests.Request()", "fastapi.requests.Request()")
REQUEST_INPUT_ATTRIBUTES = frozenset({"query_params", "path_params", "headers", "cookies"})
#: FPI303's facts: attributes through which client input reaches a function that is no route
#: (`UploadFile.filename`, a Request's inputs).
USER_INPUT_ATTRIBUTES = REQUEST_INPUT_ATTRIBUTES | {"filename"}

#: FPI303: calls that touch the filesystem at the path given as their first argument (or any argument).
FILE_SINKS = frozenset({
    "builtins.open", "io.open", "aiofiles.open", "codecs.open",
    "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.mkdir", "os.makedirs", "os.rename",
    "os.replace", "os.listdir", "os.scandir", "os.stat", "os.chmod", "os.chown", "os.truncate",
    "aiofiles.os.remove", "aiofiles.os.unlink", "aiofiles.os.rename", "aiofiles.os.replace",
    "aiofiles.os.makedirs", "aiofiles.os.mkdir", "aiofiles.os.rmdir", "aiofiles.os.stat",
    "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree",
    "shutil.make_archive", "shutil.unpack_archive",
    "fastapi.responses.FileResponse", "starlette.responses.FileResponse",
    "os.path.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "anyio.Path",
    "aiofiles.os.path.join",
})
#: Path methods that read, write or delete the file they are called on.
PATH_IO_METHODS = frozenset({
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "mkdir", "touch",
    "rename", "replace", "iterdir", "glob", "rglob",
})
#: Of those, the ones FPI303 takes for path I/O on any receiver; the others only on one whose
#: origin is a pathlib or anyio path (`str.replace` is not one).
PATH_IO_BY_NAME = frozenset({"write_bytes", "write_text", "read_text", "read_bytes", "unlink"})
#: What such an origin starts from: a file that can name none of them has none.
PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath",
                          "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "anyio.Path"})

CORS_MIDDLEWARE = frozenset({"fastapi.middleware.cors.CORSMiddleware", "starlette.middleware.cors.CORSMiddleware"})
TRUSTED_HOST_MIDDLEWARE = frozenset({"fastapi.middleware.trustedhost.TrustedHostMiddleware",
                                     "starlette.middleware.trustedhost.TrustedHostMiddleware"})
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.applications.Starlette"})
#: Origins the CORS rule tries an `allow_origin_regex` on: a regex matching all of them matches any site.
PROBE_ORIGINS = ("https://attacker.example", "http://evil-site.invalid:8080", "https://x.y.zz")

PYJWT_DECODE = frozenset({"jwt.decode", "jwt.api_jwt.decode", "jwt.decode_complete"})
JOSE_DECODE = frozenset({"jose.jwt.decode"})

#: FPI307
REQUESTS_FUNCTIONS = frozenset({f"requests.{m}" for m in
                                ("get", "post", "put", "patch", "delete", "head", "options", "request")} |
                               {f"requests.api.{m}" for m in ("get", "post", "put", "patch", "delete", "head",
                                                              "options", "request")})
REQUESTS_SESSIONS = ("requests.Session()", "requests.session()", "requests.sessions.Session()")
REQUESTS_SESSION_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
HTTPX_FUNCTIONS = frozenset({f"httpx.{m}" for m in
                             ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")})
HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
URLOPEN = frozenset({"urllib.request.urlopen"})
