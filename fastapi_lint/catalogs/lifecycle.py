"""Resources and lifecycle (FPI4xx) and FastAPI correctness (FPI5xx): APIs as data.

Origins use model/flow.py's notation: the qualified callable with `()` per call.
"""

#: FPI402: calls that open one DB connection (or cursor) -- never a pool or an engine.
CONNECTION_OPENERS = frozenset({
    "sqlite3.connect",
    "psycopg2.connect",
    "psycopg.connect",
    "psycopg.Connection.connect",
    "pymysql.connect",
    "pymysql.connections.Connection",
    "MySQLdb.connect",
    "mysql.connector.connect",
    "pyodbc.connect",
    "cx_Oracle.connect",
    "oracledb.connect",
    "duckdb.connect",
})

#: FPI402 / FPI404: origin suffixes of a single connection, cursor or session built from an engine/factory.
SESSION_ORIGINS = frozenset({
    "sqlalchemy.orm.sessionmaker()()",
    "sqlalchemy.orm.session.sessionmaker()()",
    "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.session.Session()",
    "sqlmodel.Session()",
    "sqlalchemy.create_engine().connect()",
    "sqlalchemy.engine.create_engine().connect()",
    "sqlmodel.create_engine().connect()",
})
ASYNC_SESSION_ORIGINS = frozenset({
    "sqlalchemy.ext.asyncio.async_sessionmaker()()",
    "sqlalchemy.ext.asyncio.AsyncSession()",
    "sqlmodel.ext.asyncio.session.AsyncSession()",
})
#: FPI404: what a dependency must not return (a connection, a session).
LEAKED_ORIGINS = SESSION_ORIGINS | ASYNC_SESSION_ORIGINS | frozenset(f"{q}()" for q in CONNECTION_OPENERS)

#: FPI403: engines, pools and clients: built once (lifespan), shared by every request.
CLIENT_FACTORIES = frozenset({
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlmodel.create_engine",
    "sqlalchemy.ext.asyncio.create_async_engine",
    "asyncpg.create_pool",
    "asyncpg.pool.create_pool",
    "psycopg_pool.ConnectionPool",
    "psycopg_pool.AsyncConnectionPool",
    "aiomysql.create_pool",
    "httpx.AsyncClient",
    "httpx.Client",
    "aiohttp.ClientSession",
    "redis.Redis",
    "redis.StrictRedis",
    "redis.ConnectionPool",
    "redis.from_url",
    "redis.Redis.from_url",
    "redis.asyncio.Redis",
    "redis.asyncio.ConnectionPool",
    "redis.asyncio.from_url",
    "redis.asyncio.Redis.from_url",
    "pymongo.MongoClient",
    "motor.motor_asyncio.AsyncIOMotorClient",
    "boto3.client",
    "boto3.resource",
    "aioboto3.Session",
    "elasticsearch.Elasticsearch",
    "elasticsearch.AsyncElasticsearch",
})

#: Decorators that make a function build its value once (FPI403 look-alike).
CACHING_DECORATORS = frozenset({"functools.lru_cache", "functools.cache", "async_lru.alru_cache"})

#: FPI501: the CORS middleware, and middleware that never answer a request themselves
#: (so being outside CORS changes nothing the browser sees).
CORS_MIDDLEWARE = frozenset({
    "fastapi.middleware.cors.CORSMiddleware",
    "starlette.middleware.cors.CORSMiddleware",
})
PASS_THROUGH_MIDDLEWARE = frozenset({
    "fastapi.middleware.gzip.GZipMiddleware",
    "starlette.middleware.gzip.GZipMiddleware",
})

#: FPI502 / FPI504 / FPI505
HTTP_EXCEPTIONS = frozenset({
    "fastapi.HTTPException",
    "fastapi.exceptions.HTTPException",
    "starlette.exceptions.HTTPException",
    "fastapi.WebSocketException",
    "fastapi.exceptions.WebSocketException",
})
BROAD_EXCEPTIONS = frozenset({"builtins.Exception", "builtins.BaseException"})
UPLOAD_FILE_ORIGINS = frozenset({
    "fastapi.UploadFile()",
    "fastapi.datastructures.UploadFile()",
    "starlette.datastructures.UploadFile()",
})
RESPONSE_CLASSES_PREFIXES = ("fastapi.responses.", "starlette.responses.", "fastapi.Response")
#: status codes that carry no body: 1xx, 204, 304
NO_BODY_STATUS_NAMES = ("HTTP_204_NO_CONTENT", "HTTP_304_NOT_MODIFIED", "HTTP_100_CONTINUE",
                        "HTTP_101_SWITCHING_PROTOCOLS", "HTTP_102_PROCESSING", "HTTP_103_EARLY_HINTS")
STATUS_MODULES = ("fastapi.status", "starlette.status")
