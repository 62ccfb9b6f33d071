"""The second gate (`Rule.wants` on the scan pass's `ast` facts) must never change a finding.

Every fixture and golden, linted with every rule, gives the same diagnostics with and without
the facts; so do the project fixtures through `lint_paths`. The facts themselves are checked
on a small program, and a file no rule wants is shown not to reach libcst.
"""

import ast
import os

import pytest

from fixture_support import FIXTURES, expected_markers
from fastapi_lint import engine
from fastapi_lint.discovery import discover
from fastapi_lint.engine import lint_paths, lint_source
from fastapi_lint.model.facts import FileFacts, facts_of_source, file_facts
from fastapi_lint.model.index import ProjectIndex, module_name_for, summarize_text
from fastapi_lint.registry import all_rules
from fastapi_lint.settings import Settings

ALL = Settings(enabled=frozenset(all_rules()))
PROGRAMS = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".py"))
PROJECTS = os.path.join(FIXTURES, "projects")


def _key(result):
    return sorted((d.line, d.column, d.code, d.message) for d in result.diagnostics), result.errors


def _own_index(source, path):
    """The project index of a run on this one file: rules whose `wants` reads the index take
    their other path (e.g. FPI201's carriers of coroutine methods)."""
    module, is_package = module_name_for(path)
    return ProjectIndex([summarize_text(source, path, module, is_package)])


def _same_with_and_without_gate(source, path):
    """The same findings without facts, with the facts a host without the module's name
    reads (the flake8 plugin: relative imports unresolved, no `references`), and with those
    of the scan, resolved in the module the lint names the file."""
    unresolved = facts_of_source(source)
    if unresolved is None:
        return True
    resolved = facts_of_source(source, *module_name_for(path, ALL.root), resolve=True)
    index = _own_index(source, path)
    open_ = _key(lint_source(source, path, ALL))
    if _key(lint_source(source, path, ALL, index=index)) != open_:
        return False
    return all(_key(lint_source(source, path, ALL, facts=facts)) == open_
               and _key(lint_source(source, path, ALL, index=index, facts=facts)) == open_
               for facts in (unresolved, resolved))


@pytest.mark.parametrize("name", PROGRAMS)
def test_fixture_findings_do_not_depend_on_the_gate(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        source = fh.read()
    path = os.path.join(FIXTURES, name)
    assert facts_of_source(source) is not None
    assert _same_with_and_without_gate(source, path)


def _project_keys(root, gated, monkeypatch):
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    files = discover([root], settings).files
    with monkeypatch.context() as patch:
        if not gated:
            real_gate = engine.gate
            patch.setattr(engine, "gate", lambda rules, text, index=None, facts=None, module=None: real_gate(rules, text, index))
            patch.setattr(engine, "_wanted", lambda rules, facts, index, **kw: True)
        return {os.path.relpath(r.path, root): _key(r) for r in lint_paths(files, settings).results}


@pytest.mark.parametrize("project", sorted(os.listdir(PROJECTS)))
def test_project_findings_do_not_depend_on_the_gate(project, monkeypatch):
    root = os.path.join(PROJECTS, project)
    gated = _project_keys(root, True, monkeypatch)
    assert gated == _project_keys(root, False, monkeypatch)
    assert sum(len(diagnostics) for diagnostics, _ in gated.values()) > 0


@pytest.mark.parametrize("project", sorted(os.listdir(PROJECTS)))
def test_each_project_finding_alone_does_not_depend_on_the_gate(project, tmp_path, monkeypatch):
    """As `test_each_finding_alone_does_not_depend_on_the_gate`, in a copy of each project:
    one file at a time keeps one top-level statement with findings and loses the others, so
    a gate that lets a file through for the wrong reason shows (`Vault()` reaching an
    inherited constructor, `self.load()` an inherited method)."""
    import shutil

    root = str(tmp_path / project)
    shutil.copytree(os.path.join(PROJECTS, project), root)
    found = _project_keys(root, True, monkeypatch)
    for rel, (diagnostics, _) in sorted(found.items()):
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        lines = source.splitlines(keepends=True)
        spans = [s for s in _statement_spans(source) if any(s[0] <= d[0] <= s[1] for d in diagnostics)]
        if len(spans) < 2:
            continue  # the file as it is: test_project_findings_do_not_depend_on_the_gate
        try:
            for keep in spans:
                drop = {ln for s in spans if s != keep for ln in range(s[0], s[1] + 1)}
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write("".join(line for i, line in enumerate(lines, 1) if i not in drop))
                assert _project_keys(root, True, monkeypatch) == _project_keys(root, False, monkeypatch), \
                    f"{rel}: keeping lines {keep[0]}-{keep[1]}"
        finally:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(source)


def test_gate_project_reports_every_marker():
    """projects/gates holds what only a careful gate lets through: relative imports inside a
    package named like a library (`from .requests import Request` in `starlette`), a library's
    own class (`smtplib.SMTP` in smtplib.py), and functions called by the names they are
    re-exported as. Through the gate (lint_paths), every marker is reported."""
    root = os.path.join(PROJECTS, "gates")
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    files = discover([root], settings).files
    run = lint_paths(files, settings)
    assert not run.errors, run.errors
    got = sorted((os.path.relpath(r.path, root), d.line, d.code) for r in run.results for d in r.diagnostics)
    expected = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            expected += [(os.path.relpath(f, root), line, code)
                         for (line, code), n in expected_markers(fh.read()).items() for _ in range(n)]
    assert got == sorted(expected)


SAMPLE = '''
import os.path
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from . import models
from ..core.db import engine as eng

SessionLocal = sessionmaker(bind=eng)
router = APIRouter(prefix="/x")

@router.get("/items", response_model=list)
async def items(db: Session = Depends(get_db)):
    await db.execute(q)
    fire_and_forget()
    def inner():
        helper()
    return [x async for x in stream()]

class Repo(Base):
    table = make_table()

    @staticmethod
    def load(path):
        try:
            return open(path).read()
        except OSError as err:
            raise Problem(err)
'''


def test_facts_of_a_small_program():
    f = file_facts(ast.parse(SAMPLE))
    assert f.bindings == {"os", "sqlalchemy", "sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker",
                          ".models", "..core.db.engine"}
    assert {"execute", "fire_and_forget", "helper", "stream", "open", "read", "Depends", "get", "sessionmaker",
            "APIRouter", "make_table", "Problem"} == f.calls
    assert "execute" not in f.unawaited_calls and "fire_and_forget" in f.unawaited_calls
    # decorators, defaults and class bodies run at import time
    assert f.scope_calls == {"sessionmaker", "APIRouter", "get", "Depends", "make_table"}
    assert f.async_calls == {"execute", "fire_and_forget", "helper", "stream"}
    assert f.decorators == {"get", "staticmethod"}
    assert f.keywords == {"bind", "prefix", "response_model"}
    assert {"SessionLocal", "db", "err", "eng", "path", "inner", "Repo", "sa", "os", "models"} <= f.names
    assert f.aliased == {"engine", "sqlalchemy"}
    assert f.async_defs == {"items"}
    assert f.type_string_names == set() and f.operators == set()
    assert f.class_defs == {"Repo"} and f.function_defs == {"items", "inner", "load"}
    assert FileFacts.from_data(f.to_data()) == f
    assert FileFacts.from_data(f.to_data()[:-1]) is None  # another layout: no facts, no gate


SCOPES_SAMPLE = '''
import sqlalchemy.orm as orm

Dep = Annotated["orm.Session", Depends(get_db)]
factory = orm.sessionmaker(class_="AsyncSession")

def build(db: "Optional[Connection]") -> "engine.Engine":
    class Local:
        conn = open_conn()
        def method(self):
            return inner_call()
    with pool.acquire as grab, lock:
        x: "Cursor" = make()
    x += f"{x}" + f"plain" % 2
    return d["not a type"] / 2
'''


def test_facts_of_scopes_type_strings_and_with_aliases():
    f = file_facts(ast.parse(SCOPES_SAMPLE))
    # a class body in a function is a scope of its own for the engine (ctx.current_function())
    assert f.scope_calls == {"Depends", "sessionmaker", "open_conn"}
    assert {"inner_call", "make"} <= f.calls
    # strings flow.py may parse as types: annotations, subscripts, class_= values
    assert {"orm", "Session", "Optional", "Connection", "engine", "Engine", "Cursor", "AsyncSession",
            "not", "a", "type"} == f.type_string_names
    assert "acquire" in f.bound_values  # `with pool.acquire() as conn`-like items reach conn
    assert f.class_defs == {"Local"} and f.function_defs == {"build", "method"}
    assert f.operators == {"Add", "Mod", "Div", "JoinedStr"}
    assert file_facts(ast.parse('x = f"plain" + "a"')).operators == {"Add"}


def test_facts_bindings_values_and_argument_calls():
    f = facts_of_source(
        "import os.path\nimport a.b as c\nfrom m import n as o\nfrom .. import p\nfrom q import *\n"
        "def dep():\n    return requests.get\n"
        "def gen() -> \"Optional['Session']\":\n    \"the docs, not a type.\"\n    with x.y as z:\n        yield u.v\n"
        "ann: 'a.b'\nlit: \"Literal['x y'] | c\" = 'not a type'\nAlias = Annotated['T', 'U']\n"
        "S = sessionmaker(class_=AsyncSession)\n"
        "D = Depends(get_db())\nadd(*rest, func=send(1), other=skip())\nBackgroundTask(*a, make(), later())\n")
    assert f.bindings == {"os", "a.b", "m.n", "..p"}
    assert f.bound_values == {"get", "y", "v", "AsyncSession"}
    assert f.arg_calls == {"get_db", "send", "make"}
    assert f.type_string_names == {"Optional", "Session", "a", "b", "Literal", "x", "y", "c", "T", "U"}
    assert FileFacts.from_data(f.to_data()) == f
    assert FileFacts.from_data(f.to_data()[:-1]) is None  # a cache from before the last fact: no gate


@pytest.mark.parametrize("source, repeated", [
    # one app per test, same path: another scope each time
    ("def t1():\n    @app.get('/')\n    def a(): ...\ndef t2():\n    @app.get('/')\n    def b(): ...\n", False),
    ("@app.get('/')\ndef a(): ...\ndef t():\n    @app.get('/')\n    def b(): ...\n", False),
    ("def t():\n    @app.get('/')\n    def a(): ...\n    def inner():\n        app.add_api_route('/', a)\n", False),
    ("def t():\n    @app.get('/')\n    def a(): ...\n    @app.post('/')\n    def b(): ...\n", False),
    # the same scope: a block (if, for) is not told apart, as the model would
    ("def t():\n    @app.get('/')\n    def a(): ...\n    if x:\n        @app.get('/')\n        def b(): ...\n", True),
    ("def t():\n    @app.get('/')\n    def a(): ...\n    app.add_api_route('/', a)\n", True),
    ("@app.get('/')\ndef a(): ...\nclass V:\n    @app.get('/')\n    def b(self): ...\n", True),
    # where the walk cannot tell the model's scope: any scope
    ("def t():\n    @app.get('/')\n    def a(): ...\n    class V:\n        @app.get('/')\n        def b(self): ...\n",
     True),
    ("@app.get('/')\ndef a(): ...\n@d(app.add_api_route('/', a))\ndef b(): ...\n", True),
    ("def t():\n    @app.get('/')\n    def a(): ...\n    f = lambda: app.add_api_route('/', a)\n", True),
    # two owners with the same path do not collide; an app and its router are one owner
    ("other = FastAPI()\n@app.get('/')\ndef a(): ...\n@other.get('/')\ndef b(): ...\n", False),
    ("@app.get('/')\ndef a(): ...\n@app.router.get('/')\ndef b(): ...\n", True),
    ("@app.get('/')\ndef a(): ...\napp.router.add_api_route('/', a)\n", True),
    # a test client's requests are no registrations
    ("@app.get('/')\ndef a(): ...\ndef test():\n    client.get('/')\n    client.get('/')\n", False),
    ("@app.get('/')\ndef a(): ...\napp.get('/')(a)\n", False),
    # a callee that is no dotted name registers nothing in the model
    ("@app.get('/')\ndef a(): ...\n@apps[0].get('/')\ndef b(): ...\n", False),
])
def test_facts_compare_route_registrations_within_a_scope(source, repeated):
    """FPI507's key holds the innermost def around a registration (`Route.scope`): the facts
    may merge scopes the model tells apart, never the reverse."""
    assert facts_of_source(source).routes_may_collide is repeated
    if not repeated:  # and the model, ungated, agrees that nothing collides
        src = "from fastapi import FastAPI\napp = FastAPI()\n" + source
        assert lint_source(src, "app.py", Settings(enabled=frozenset({"FPI507"}))).diagnostics == []


def test_gating_meets_qualified_names_as_qualname_resolves_them():
    from fastapi_lint.model.gating import qualnames

    f = facts_of_source("import os.path\nfrom .requests import Request\nfrom . import rmtree\nclass SMTP: ...\n"
                        "os.system('ls')\n")
    assert qualnames(frozenset({"os.system"})).met(f)  # `import os.path` binds `os`
    assert not qualnames(frozenset({"os.getcwd"})).met(f)  # the last part is spelled somewhere
    assert qualnames(frozenset({"os.getcwd"})).met(facts_of_source("import os\nx: 'Optional[os.getcwd]'\n"))
    assert qualnames(frozenset({"starlette.requests.Request"})).met(f)  # in a package named starlette
    assert qualnames(frozenset({"shutil.*"})).met(f)  # `from . import rmtree` in a package named shutil
    assert not qualnames(frozenset({"requests.get", "sqlite3.connect", "shutil.copy"})).met(f)
    assert not qualnames(frozenset({"builtins.open"})).met(f)
    assert qualnames(frozenset({"builtins.open"})).met(facts_of_source("reader = open\n"))
    assert qualnames(frozenset({"smtplib.SMTP"}), local_classes=True).met(f)  # the module's own class
    assert not qualnames(frozenset({"smtplib.SMTP"})).met(f)


def test_facts_without_async():
    f = facts_of_source("def f():\n    return g()\n")
    assert not f.async_defs and not f.async_calls and f.unawaited_calls == {"g"} and not f.scope_calls
    assert facts_of_source("def f(:\n") is None


def _statement_spans(source):
    """(first, last) line of each top-level statement, decorators included."""
    spans = []
    for stmt in ast.parse(source).body:
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        spans.append((first, stmt.end_lineno))
    return spans


@pytest.mark.parametrize("name", sorted(n for n in PROGRAMS if not n.endswith(".fixed.py")))
def test_each_finding_alone_does_not_depend_on_the_gate(name):
    """A fixture with many positives opens the gate if any one of them does. Here each
    top-level statement that has findings is kept alone: every other statement with findings
    is removed (the rest stays as context), and the variant must still give the same findings
    with and without the gate."""
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        source = fh.read()
    path = os.path.join(FIXTURES, name)
    lines = source.splitlines(keepends=True)
    found = {d.line for d in lint_source(source, path, ALL).diagnostics}
    spans = [s for s in _statement_spans(source) if any(s[0] <= ln <= s[1] for ln in found)]
    for keep in spans:
        drop = {ln for s in spans if s != keep for ln in range(s[0], s[1] + 1)}
        variant = "".join(line for i, line in enumerate(lines, 1) if i not in drop)
        # (a variant CPython cannot parse, e.g. an emptied block, has no facts and no gate)
        assert _same_with_and_without_gate(variant, path), f"keeping lines {keep[0]}-{keep[1]}"


# ---------------------------------------------------------------------------- rule gates, one path each
#
# Each snippet is linted alone, so the one way it reaches the rule is the only reason its gate
# can let it through: a `wants` too tight for that way loses the marked finding.

GATE_CASES = {
    # FPI402: openers under other names, cursors and sessions reached through assignments,
    # annotations (string ones too), `with` names, class bodies in functions, relative imports
    "FPI402_import_as": '''
import fastapi
from sqlite3 import connect as open_db
conn = open_db("app.db")  # error: FPI402
''',
    "FPI402_module_alias": '''
import fastapi
import sqlite3 as db
from mysql import connector
conn = db.connect("app.db")  # error: FPI402
other = connector.connect(host="db")  # error: FPI402
''',
    "FPI402_relative_import": '''
import fastapi
from .sqlite3 import connect
conn = connect("app.db")  # error: FPI402
''',
    "FPI402_cursor_of_annotated": '''
import fastapi
import pymysql.connections
conn: "pymysql.connections.Connection" = get_conn()
new_cursor = conn.cursor
cur = new_cursor()  # error: FPI402
''',
    "FPI402_cursor_with_name": '''
import fastapi
import pymysql.connections
conn: pymysql.connections.Connection = get_conn()
with conn.cursor as make_cursor:
    cur = make_cursor()  # error: FPI402
''',
    "FPI402_annotated_factory": '''
import fastapi
from sqlalchemy import orm
SessionLocal: "orm.sessionmaker" = build_factory()
db = SessionLocal()  # error: FPI402
''',
    "FPI402_session_class_alias": '''
import fastapi
import sqlmodel
Make = sqlmodel.Session
db = Make(engine)  # error: FPI402
''',
    "FPI402_class_in_function": '''
import fastapi
from sqlalchemy import create_engine
engine = create_engine("sqlite://")


def factory():
    class Repository:
        conn = engine.connect()  # error: FPI402
    return Repository
''',
    # FPI403: client factories under other names, in each kind of endpoint
    "FPI403_import_as_route": '''
from fastapi import FastAPI
from httpx import AsyncClient as HttpClient
app = FastAPI()


@app.get("/")
async def index():
    async with HttpClient() as c:  # error: FPI403
        return await c.get("https://example.com")
''',
    "FPI403_add_api_route": '''
import redis
from fastapi import APIRouter
router = APIRouter()


def cached():
    return redis.Redis().get("k")  # error: FPI403


router.add_api_route("/cached", cached)
''',
    "FPI403_middleware_class": '''
import boto3
from starlette.middleware import base


class Audit(base.BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        boto3.client("s3")  # error: FPI403
        return await call_next(request)
''',
    # FPI404: dependencies named through an aliased Depends, sessions from string annotations
    "FPI404_string_annotation": '''
import sqlalchemy.orm
from fastapi import Depends as Inject


def get_db(db: "sqlalchemy.orm.Session"):
    return db  # error: FPI404


def route(db=Inject(get_db)):
    return db
''',
    "FPI404_opener_alias": '''
from fastapi import Depends
from sqlite3 import connect as open_db


def get_conn():
    conn = open_db("app.db")
    return conn  # error: FPI404


def route(conn=Depends(get_conn)):
    return conn
''',
    # FPI401 / FPI405: each way of registering a handler
    "FPI401_add_event_handler": '''
from fastapi import FastAPI
app = FastAPI()


async def connect():
    pass


app.add_event_handler("startup", connect)  # error: FPI401
''',
    "FPI401_constructor": '''
import fastapi


def connect():
    pass


app = fastapi.FastAPI(on_startup=[connect])  # error: FPI401
''',
    "FPI405_add_event_handler": '''
from fastapi import FastAPI
app = FastAPI(lifespan=lifespan)


async def connect():
    pass


app.add_event_handler("startup", connect)  # error: FPI401, FPI405
''',
    # FPI301: sink functions under other names; each way of building the text
    "FPI301_text_alias": '''
from sqlalchemy import text as sql_text


def find(name):
    return sql_text(f"SELECT * FROM users WHERE name = '{name}'")  # error: FPI301
''',
    "FPI301_statement_after_braces": '''
def table_info(cur, name):
    cur.execute("{} PRAGMA table_info({})".format("", name))  # error: FPI301
''',
    "FPI301_fstring_part": '''
def tables(cur, prefix, name):
    cur.execute(f"{prefix}SHOW TABLES LIKE '{name}'")  # error: FPI301
''',
    "FPI301_lowercase": '''
def find(cur, name):
    cur.execute(f"select * from users where name = '{name}'")  # error: FPI301
''',
    "FPI301_format": '''
def find(cur, name):
    cur.execute("SELECT * FROM users WHERE name = '{}'".format(name))  # error: FPI301
''',
    "FPI301_augmented": '''
def find(cur, name):
    q = "SELECT * FROM users WHERE name = '"
    q += name
    cur.execute(q)  # error: FPI301
''',
    "FPI301_join": '''
def find(cur, base, condition):
    cur.fetchall(" WHERE ".join([base, condition]))  # error: FPI301
''',
    # FPI207: a cache on an async def, a method too, under an alias
    "FPI207_method_alias": '''
from functools import lru_cache as memo


class Repo:
    @memo(maxsize=8)  # error: FPI207
    async def load(self, key):
        return key
''',
    # FPI206: a dropped task by each spelling
    "FPI206_alias": '''
from asyncio import create_task as spawn


async def run(job):
    spawn(job())  # error: FPI206
''',
    "FPI206_loop": '''
import asyncio


async def run(job):
    loop = asyncio.get_running_loop()
    loop.create_task(job())  # error: FPI206
''',
    "FPI206_ensure_future": '''
import asyncio


def run(job):
    asyncio.ensure_future(job())  # error: FPI206
''',
    # FPI303: each way a `/` or a path method reaches the gate
    "FPI303_divide_in_route": '''
from fastapi import FastAPI
from app.settings import upload_path
app = FastAPI()


@app.get("/files")
def read(name: str):
    dest = upload_path / name  # error: FPI303
    return dest
''',
    "FPI303_divide_on_filename": '''
from fastapi import UploadFile
from app.settings import upload_path


async def store(file: UploadFile):
    dest = upload_path / file.filename  # error: FPI303
    return dest
''',
    "FPI303_divide_in_added_route": '''
from fastapi import APIRouter
from app.settings import upload_path
router = APIRouter()


def download(name: str):
    dest = upload_path / name  # error: FPI303
    return dest


router.add_api_route("/files", download)
''',
    "FPI303_pathlib_method": '''
from pathlib import Path
from fastapi import FastAPI
app = FastAPI()


@app.get("/read")
def read(target: Path):
    return target.open().read()  # error: FPI303
''',
    # FPI301: sinks in what a function holds (its own body with no sink call is not read)
    "FPI301_in_lambda": '''
def deferred(cur, name):
    return lambda: cur.execute(f"SELECT * FROM users WHERE name = '{name}'")  # error: FPI301
''',
    "FPI301_in_nested_def": '''
def outer(cur):
    prefix = "x"

    def find(name):
        cur.execute(f"SELECT * FROM users WHERE name = '{name}'")  # error: FPI301
    return find
''',
    "FPI301_in_class_in_def": '''
def outer(cur, name):
    class Query:
        found = cur.execute(f"SELECT * FROM users WHERE name = '{name}'")  # error: FPI301
    return Query
''',
    # FPI301: the built text reaches the sink through names of the function
    "FPI301_through_names": '''
def find(cur, name):
    where = f"WHERE name = '{name}'"
    query: str = "SELECT * FROM users " + where
    sql = query
    cur.execute(sql)  # error: FPI301
''',
    "FPI301_loop_variable": '''
def purge(cur, tables):
    for statement in [f"DELETE FROM {t}" for t in tables]:
        cur.execute(statement)  # error: FPI301
''',
    "FPI301_keyword": '''
import pandas


def load(engine, table):
    text = "SELECT * FROM %s" % table
    return pandas.read_sql(sql=text, con=engine)  # error: FPI301
''',
    "FPI301_module_text": '''
base = "SELECT * FROM users WHERE name = '"


def find(cur, name):
    cur.execute(base + name + "'")  # error: FPI301
''',
    "FPI301_method_of_a_class": '''
class Repo:
    def find(self, name):
        q = "SELECT * FROM users WHERE name = '%s'"
        q %= name
        return self.cur.execute(q)  # error: FPI301
''',
    # FPI303: each kind of client input, each kind of sink
    "FPI303_upload_list_string_annotation": '''
from fastapi import APIRouter


def save(files: "List[UploadFile]"):
    for f in files:
        open(f.filename, "wb")  # error: FPI303
''',
    "FPI303_request_params": '''
import fastapi
settings = {}.get("files")  # the text gate wants a route token


def read(request: fastapi.Request):
    return open(request.query_params["p"])  # error: FPI303
''',
    "FPI303_division": '''
from fastapi import FastAPI
from pathlib import Path
app = FastAPI()
BASE = Path("/data")


@app.get("/files")
def read(name: str):
    return (BASE / name).read_text()  # error: FPI303
''',
    "FPI303_file_sink_alias": '''
from fastapi import FastAPI
from shutil import rmtree as remove_tree
app = FastAPI()


@app.delete("/dirs")
def drop(name: str):
    remove_tree(name)  # error: FPI303
''',
    # FPI304 / FPI305 / FPI302 / FPI306 / FPI307: names under other spellings
    "FPI304_alias": '''
from jwt import decode as jwt_decode


def user(token):
    return jwt_decode(token, "k", options={"verify_signature": False})  # error: FPI304
''',
    "FPI305_alias": '''
from fastapi import FastAPI as App
app = App(debug=True)  # error: FPI305
''',
    "FPI302_module_attribute": '''
from fastapi import FastAPI
from starlette.middleware import cors
app = FastAPI()
app.add_middleware(cors.CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # error: FPI302
''',
    "FPI306_module_attribute": '''
import fastapi.middleware.trustedhost as th
from fastapi import FastAPI
app = FastAPI()
app.add_middleware(th.TrustedHostMiddleware, allowed_hosts=["*"])  # error: FPI306
''',
    "FPI307_alias": '''
from requests import get as fetch
from urllib.request import urlopen as open_url


def load(url):
    fetch(url)  # error: FPI307
    return open_url(url)  # error: FPI307
''',
    "FPI307_session_annotation": '''
import requests


def load(s: requests.Session, url):
    return s.post(url)  # error: FPI307
''',
    # FPI5xx: names reached through a submodule import, aliases, prefixes
    "FPI502_submodule_import": '''
import starlette.responses


def load(item):
    try:
        if item is None:
            raise starlette.exceptions.HTTPException(404)  # error: FPI502
    except Exception:
        return None
''',
    "FPI503_prefix_only": '''
import fastapi.routing

router = fastapi.routing.APIRouter(prefix="/orgs/{org}")


@router.get("/items")  # error: FPI503
def items():
    return []
''',
    "FPI503_aliased_parameter": '''
from fastapi import FastAPI, Path

app = FastAPI()


@app.get("/items/{item_id}")  # error: FPI503
def item(item_id: int = Path(alias="id")):
    return item_id
''',
    "FPI503_add_api_route": '''
from fastapi import APIRouter

router = APIRouter()


def item():
    return 1


router.add_api_route("/items/{item_id}", item)  # error: FPI503
''',
    "FPI505_upload_alias": '''
from fastapi import UploadFile as Upload


async def store(file: Upload):
    return await file.read()  # error: FPI505
''',
    "FPI507_after_rename": '''
import fastapi as fa

app = fa.FastAPI()


@app.get("/a/{x}")
def one(x): ...


@app.api_route("/a/{y}")  # error: FPI507
def two(y): ...
''',
    "FPI307_httpx_client_method": '''
import httpx


async def load(client: "httpx.AsyncClient", url):
    return await client.get(url, timeout=None)  # error: FPI307
''',
}


@pytest.mark.parametrize("name", sorted(GATE_CASES))
def test_each_way_to_a_finding_passes_the_gate(name):
    from fixture_support import expected_markers

    source = GATE_CASES[name].lstrip("\n")
    path = os.path.join(FIXTURES, name + ".py")
    facts = facts_of_source(source)
    code = name.split("_")[0]
    assert all_rules()[code].wants(facts, None)
    gated = lint_source(source, path, ALL, facts=facts)
    assert _key(gated) == _key(lint_source(source, path, ALL))
    got = {(d.line, d.code) for d in gated.diagnostics if d.code[:4] == code[:4]}
    assert got == set(expected_markers(source)), got


LOOK_ALIKES = {
    # spelled like what the rules look for, but nothing of it can be reported: the gate says no
    # FPI207: caches on sync defs of a module that has async ones
    "FPI207_sync_caches": '''
from functools import cached_property, lru_cache


@lru_cache
def settings():
    return {}


class Service:
    @cached_property
    def client(self):
        return object()

    async def run(self):
        return self.client
''',
    # FPI206: tasks kept in a list, awaited, passed on
    "FPI206_kept": '''
import asyncio


async def run(jobs):
    tasks = []
    task = asyncio.create_task(jobs[3]())
    tasks.append(asyncio.create_task(jobs[0]()))
    await asyncio.create_task(jobs[1]())
    return await asyncio.gather(*tasks, task, asyncio.ensure_future(jobs[2]()))
''',
    # FPI303: a route with client input, a `str.replace`, a division in a def that reads none
    "FPI303_replace_and_division": '''
from fastapi import FastAPI, Request
app = FastAPI()


@app.get("/items")
def items(name: str, request: Request):
    return {"label": name.replace("_", " "), "share": ratio(3, 4)}


def ratio(part, total):
    return sum([part, 1]) / total
''',
    "FPI402": '''
import fastapi
from myapp.db import SessionLocal, connect
conn = connect()
socket.connect(("h", 1))


def get_db():
    db: Session = SessionLocal()
    return db.cursor()
''',
    "FPI404": '''
from sqlalchemy.orm import Session, sessionmaker


def get_items(db: Session):
    return db.query(Item).all()


def new_session():
    return sessionmaker()()
''',
    "FPI403": '''
from fastapi import FastAPI
from myapp.clients import Client
app = FastAPI()


@app.get("/")
def index():
    return Client().get()
''',
    "FPI301": '''
def run(cur, name):
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
''',
    "FPI301_statement_object": '''
from sqlalchemy import select


async def count(session, org_id, since, label):
    statement = select(Order).where(Order.org_id == org_id, Order.created > since + 1)
    result = await session.execute(statement)
    log(f"counted {label}: SELECT done")
    return result
''',
    "FPI301_built_elsewhere": '''
def report(cur, name):
    title = f"Report for {name} WHERE it matters"
    query = "SELECT * FROM reports"
    cur.execute(query)
    return title


def other(cur, query):
    query = query + " ORDER BY id"
    return query
''',
    "FPI301_sql_words_elsewhere": '''
HELP = "SELECT the step WHERE the runner can find it"


def run(cur, step):
    cur.execute(f"step-{step}")
    return HELP
''',
    "FPI301_not_sql": '''
def run(cur, step):
    """SELECT the step to run, WHERE the runner can find it."""
    cur.execute(f"step-{step}")
''',
    "FPI303": '''
import os


def cleanup(path: str):
    os.remove(path)
''',
    "FPI305": '''
import logging
logging.basicConfig(debug=True)
''',
    "FPI307": '''
import httpx
from fastapi import FastAPI
app = FastAPI()


@app.get("/")
def index(requests: dict):
    return requests.get("x"), httpx.get("https://example.com")
''',
}


@pytest.mark.parametrize("name", sorted(LOOK_ALIKES))
def test_look_alikes_stay_away_from_libcst(name):
    source = LOOK_ALIKES[name]
    code = name.split("_")[0]
    facts = facts_of_source(source)
    assert not all_rules()[code].wants(facts, None)
    assert not [d for d in lint_source(source, "x.py", ALL).diagnostics if d.code == code]


def test_dependencies_only_the_index_knows_pass_the_gate():
    """projects/lifecycle: `svc/deps.py` defines dependencies that only `svc/routes.py` names in
    Depends; their FPI403/FPI404 findings need the gate to ask the project index."""
    from fixture_support import expected_markers

    root = os.path.join(PROJECTS, "lifecycle")
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    files = discover([root], settings).files
    got = {(os.path.abspath(r.path), d.line, d.code) for r in lint_paths(files, settings).results
           for d in r.diagnostics}
    expected = set()
    for f in files:
        with open(f, encoding="utf-8") as fh:
            expected |= {(os.path.abspath(f), line, code) for (line, code) in expected_markers(fh.read())}
    assert len(expected) == 2 and got == expected


def test_project_methods_need_a_receiver_of_their_class():
    """projects/gates/crm: `Repo.get` and `UserService.list_users` are project coroutines.
    Files that can reach a carrier of them (the class, a subclass, an instance, a re-export of
    any) pass FPI201's gate; `crm/cache.py` spells `.get(...)` and `.list_users()` on objects
    that cannot be one, and stays out (a gate by method name alone let it in)."""
    root = os.path.join(PROJECTS, "gates")
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    files = discover([root], settings).files
    index, facts, _ = engine.scan(files, settings)
    rule = all_rules()["FPI201"]
    wanted = {os.path.relpath(p, root) for p, f in facts.items() if rule.wants(f, index)}
    assert wanted == {"audit/handlers.py", "crm/api.py", "crm/admin.py", "crm/holders.py", "crm/makers.py", "crm/sessions.py",
                      "shop/aliases.py", "shop/api.py", "shop/reexported_module.py"}
    assert {"get", "list_users"} <= facts[os.path.join(root, "crm", "cache.py")].unawaited_calls
    # FPI110 the same way: blocking methods, constructors (inherited ones too), instances
    rule = all_rules()["FPI110"]
    wanted = {os.path.relpath(p, root) for p, f in facts.items() if rule.wants(f, index)}
    assert wanted == {"crm/handlers.py", "crm/makers.py", "crm/sessions.py", "crm/vaults.py", "shop/api.py"}
    assert {"get", "load"} <= facts[os.path.join(root, "crm", "tasks.py")].unawaited_methods


def test_too_many_reexports_open_the_gate(monkeypatch):
    """Past `ALIAS_LIMIT` names for one callee, `ProjectCallees` stops narrowing: a call that
    spells the name passes, and findings stay the same."""
    from fastapi_lint.model import gating

    monkeypatch.setattr(gating, "ALIAS_LIMIT", 1)
    root = os.path.join(PROJECTS, "gates")
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    index, facts, _ = engine.scan(discover([root], settings).files, settings)
    assert gating.project_aliases(index, "crm.services.UserService") is None
    assert all_rules()["FPI201"].wants(facts[os.path.join(root, "crm", "cache.py")], index)
    assert _project_keys(root, True, monkeypatch) == _project_keys(root, False, monkeypatch)


FPI201_LOOK_ALIKES = '''
class Repo:
    async def fetch(self, key):
        return key


class SyncRepo:
    def fetch(self, key):
        return key

    def refresh(self):
        self.fetch(1)


def look_alikes(settings: dict):
    settings.get("fetch")
    fetch(4)
    return [x.get(1) for x in settings.values()]
'''


def test_coroutine_method_look_alikes_stay_away_from_libcst():
    """With the index, `self.fetch()` in a class whose `fetch` is sync and a bare `fetch()`
    (no module-level `async def fetch`) do not send the file to libcst, although the module
    defines `async def fetch` in another class: by names alone, FPI201 would want it. Any
    other `.fetch()` would (its receiver may be a `Repo`)."""
    path = os.path.join(FIXTURES, "fpi201_look_alikes.py")
    facts = facts_of_source(FPI201_LOOK_ALIKES)
    rule = all_rules()["FPI201"]
    assert facts.self_calls == {"SyncRepo.fetch"} and facts.unawaited_names == {"fetch"}
    assert facts.unawaited_methods == {"get", "values"} and facts.module_async_defs == set()
    assert rule.wants(facts, None)  # without the index: the file's async def names
    assert not rule.wants(facts, _own_index(FPI201_LOOK_ALIKES, path))
    for call in ("other.fetch(", "Repo.fetch(Repo(), "):
        variant = FPI201_LOOK_ALIKES.replace("settings.get(", call)
        assert rule.wants(facts_of_source(variant), _own_index(variant, path)), call


def test_a_class_of_the_linted_module_reaches_catalogue_names(tmp_path):
    """Linting the library itself: in `starlette/requests.py`, `request: Request` is an instance
    of the module's own class, "starlette.requests.Request()", with no import to reach it."""
    package = tmp_path / "starlette"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = '''
class Request:
    pass


def read(request: Request):
    return open(request.query_params["p"])  # error: FPI303


settings = {}.get("k")
'''.lstrip("\n")
    path = str(package / "requests.py")
    facts = facts_of_source(source)
    gated = lint_source(source, path, ALL, facts=facts)
    assert _key(gated) == _key(lint_source(source, path, ALL))
    assert [(d.line, d.code) for d in gated.diagnostics if d.code == "FPI303"] == [(6, "FPI303")]


def test_rules_marked_index_free_do_not_read_the_index():
    """`wants_index = False` rules are asked by the scan workers with `index=None`: their `wants`
    must not look at it (else the parent must ask them, with the index)."""
    import inspect
    import re

    from fastapi_lint.registry import Rule

    for code, rule in all_rules().items():
        func = rule.wants.__func__
        if rule.wants_index or func is Rule.wants.__func__:
            continue
        body = inspect.getsource(func).split("def wants", 1)[1].split("\n", 1)[1]
        body = re.sub(r'""".*?"""', "", body, flags=re.S)
        assert not re.search(r"\bindex\b", body), f"{code} reads the index in wants: set wants_index = True"


_ROUTER = "router = APIRouter(prefix='/items')\n"
_INCLUDE = "app.include_router(router, prefix='/v1')\n"


@pytest.mark.parametrize("source, nested, reported", [
    # a router's full path is the prefixes, then its literal path: it ends with the literal
    (_ROUTER + "@router.get('/{id}')\ndef a(): ...\n@app.get('/v1/items/{item_id}')\ndef b(): ...\n" + _INCLUDE,
     True, True),
    (_ROUTER + "@router.get('')\ndef a(): ...\n@app.get('/v1/items')\ndef b(): ...\n" + _INCLUDE, True, True),
    (_ROUTER + "@router.get('/a')\ndef a(): ...\n@app.get('/items/a')\ndef b(): ...\n" + _INCLUDE, True, False),
    # routers included in different owners: roots apart
    ("r1 = APIRouter()\nr2 = APIRouter()\nother = FastAPI()\n@r1.get('/a')\ndef a(): ...\n@r2.get('/a')\ndef b(): ...\n"
     "app.include_router(r1)\nother.include_router(r2)\n", False, False),
    # ... in the same one, through a chain, or in both (the model may know one owner only)
    ("r1 = APIRouter()\nr2 = APIRouter()\n@r1.get('/a')\ndef a(): ...\n@r2.get('/a')\ndef b(): ...\n"
     "app.include_router(r1)\nr1.include_router(r2)\n", True, True),
    ("r1 = APIRouter()\nr2 = APIRouter()\nother = FastAPI()\n@r1.get('/a')\ndef a(): ...\n@r2.get('/a')\ndef b(): ...\n"
     "app.include_router(r1)\nother.include_router(r2)\napp.include_router(router=r2)\n", True, False),
    # included twice by one owner: the model follows neither include
    ("r1 = APIRouter()\nr2 = APIRouter()\n@r1.get('/a')\ndef a(): ...\n@r2.get('/a')\ndef b(): ...\n"
     "app.include_router(r1)\napp.include_router(r1, prefix='/x')\napp.include_router(r2)\n"
     "app.include_router(r2, prefix='/y')\n", False, False),
    # an app's own routes and its router's are one owner
    ("@app.get('/a')\ndef a(): ...\n@app.router.get('/a')\ndef b(): ...\napp.include_router(x)\n", True, True),
    (_ROUTER + "@router.get('/a')\ndef a(): ...\n@app.get('/v1/items/b')\ndef b(): ...\n" + _INCLUDE, False, False),
    (_ROUTER + "@router.get('/a')\ndef a(): ...\n@app.post('/v1/items/a')\ndef b(): ...\n" + _INCLUDE,
     False, False),
    (_ROUTER + "@router.get('/a')\ndef a(): ...\ndef t():\n    @app.get('/v1/items/a')\n    def b(): ...\n"
     + _INCLUDE, False, False),
    # an include without prefixes is followed too
    ("router = APIRouter()\n@router.get('/a')\ndef a(): ...\n@app.get('/a')\ndef b(): ...\n"
     "app.include_router(router)\n", True, True),
    # no include: owners stay apart, whatever their prefixes
    ("router = APIRouter(prefix='/items')\n@router.get('/a')\ndef a(): ...\n@app.get('/items/a')\ndef b(): ...\n",
     False, False),
    # a brace outside a {param} may pair across pieces: no comparison
    ("router = APIRouter(prefix='/{')\n@router.get('x}')\ndef a(): ...\n@app.get('/y')\ndef b(): ...\n"
     "app.include_router(router)\n", True, False),
])
def test_facts_compare_router_paths_by_their_ends(source, nested, reported):
    """Owners that `include_router` can make one root compare by the ends of their paths: a
    full path ends with the route's own literal path."""
    facts = facts_of_source(source)
    assert facts.routes_may_collide is nested
    src = "from fastapi import APIRouter, FastAPI\napp = FastAPI()\n" + source
    found = lint_source(src, "app.py", Settings(enabled=frozenset({"FPI507"}))).diagnostics
    assert [d.code for d in found] == (["FPI507"] if reported else [])
    assert nested or not reported


def test_facts_status_codes_spell_what_fpi504_can_resolve():
    f = facts_of_source("app.get('/', status_code=204)\napp.get('/', status_code=0x130)\n"
                        "app.get('/', status_code=status.HTTP_101_SWITCHING_PROTOCOLS)\n"
                        "Response(status_code=NO_CONTENT)\nx(status_code=code())\nx(status_code=True)\n")
    assert f.status_codes == {"204", "304", "HTTP_101_SWITCHING_PROTOCOLS", "NO_CONTENT"}


@pytest.mark.parametrize("source, unreceived", [
    ("@app.get('/items/{item_id}')\ndef a(item_id: int): ...\n", False),
    ("@app.get('/items/{item_id}')\ndef a(id: int): ...\n", True),
    ("@app.get('/items/{item_id}')\ndef a(**kw): ...\n", False),
    # an alias may rename what receives a path parameter, ...
    ("@app.get('/items/{item_id}')\ndef a(item_id: int, q: str = Query(alias='x')): ...\n", True),
    # ... but a path with no parameter has nothing to receive
    ("@app.get('/items')\ndef a(q: str = Query(alias='x')): ...\n", False),
    ("router = APIRouter(prefix='/{org}')\n@router.get('/items')\ndef a(q: str = Query(alias='x')): ...\n", True),
    ("def a(): ...\napp.add_api_route('/items/{item_id}', a)\n", True),
    ("def a(): ...\napp.add_api_route('/items/{item_id}', endpoint=a)\n", True),
    # an endpoint that is no def of the file makes no route in the model
    ("app.add_api_route('/items/{item_id}', a)\n", False),
    ("def a(): ...\napp.add_api_route('/items/{item_id}', handlers.a)\n", False),
])
def test_facts_path_parameters_unreceived(source, unreceived):
    assert facts_of_source(source).path_param_unreceived is unreceived


@pytest.mark.parametrize("source, may_repeat", [
    ("@app.get('/')\ndef a() -> Item: ...\n", False),
    ("@app.get('/', response_model=Item)\ndef a(): ...\n", False),
    ("@app.get('/', response_model=Item)\ndef a() -> Item: ...\n", True),
    ("@app.get('/', response_model=list[ Item ])\ndef a() -> 'list[Item]': ...\n", False),
    ("@app.get('/', response_model=list[ Item ])\ndef a() -> (list[Item]): ...\n", True),
    ("@app.get('/', response_model=models.Item)\ndef a() -> Item: ...\n", True),
    ("@app.get('/', response_model=ItemOut)\ndef a() -> Item: ...\n", False),
    # an import's `as` name is one qualified name under two spellings
    ("from m import Item as Out\n@app.get('/', response_model=m.Item)\ndef a() -> Out: ...\n", True),
    ("def a(): ...\napp.add_api_route('/', a, response_model=Item)\n", True),
    ("def get(self, path, endpoint, response_model=None):\n"
     "    self.router.add_api_route(path, endpoint=endpoint, response_model=response_model)\n", False),
])
def test_facts_response_model_may_repeat_the_annotation(source, may_repeat):
    assert facts_of_source(source).response_model_annotated is may_repeat
    src = "from fastapi import FastAPI\napp = FastAPI()\n" + source
    found = lint_source(src, "app.py", Settings(enabled=frozenset({"FPI506"}))).diagnostics
    assert may_repeat or found == []


def test_the_walks_shortcuts_change_no_fact(monkeypatch):
    """`file_facts` sends node classes in `_PLAIN` straight to their children and skips
    `_LEAF_FIELDS`: without either shortcut, every fixture has the same facts."""
    from fastapi_lint.model import facts as facts_module

    sources = []
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".py"):
            with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
                sources.append(fh.read())
    fast = [facts_of_source(src) for src in sources]
    monkeypatch.setattr(facts_module, "_PLAIN", frozenset())
    monkeypatch.setattr(facts_module, "_LEAF_FIELDS", frozenset())
    monkeypatch.setattr(facts_module, "_CHILD_FIELDS", {})
    assert [facts_of_source(src) for src in sources] == fast
    assert sum(f is not None for f in fast) > 50


@pytest.mark.parametrize("source, registers", [
    ("app = FastAPI(on_startup=[connect])\n", True),
    ("app = FastAPI(on_shutdown=None)\n", False),
    ("def make(on_startup=None):\n    return FastAPI(on_startup=on_startup)\n", False),
    ("def make(*, hooks):\n    return FastAPI(on_startup=hooks)\n", False),
    ("def make(hooks):\n    return FastAPI(on_startup=[hooks])\n", True),
    ("def make():\n    return FastAPI(on_startup=hooks)\n", True),
    # a lambda or class in between: the walk does not know the model's scope
    ("def make(hooks):\n    return lambda: FastAPI(on_startup=hooks)\n", True),
])
def test_facts_event_keywords_forwarded_register_nothing(source, registers):
    assert facts_of_source(source).event_keywords is registers
    src = "from fastapi import FastAPI\n" + source
    found = lint_source(src, "app.py", Settings(enabled=frozenset({"FPI401"}))).diagnostics
    assert registers or found == []


@pytest.mark.parametrize("source, wanted", [
    ("import requests\nrequests.get(url)\n", True),
    ("import requests\nrequests.get(url, timeout=5)\n", False),
    ("import requests\nrequests.get(url, **options)\n", False),
    ("import requests\nrequests.get(url, timeout=None)\n", True),
    ("import requests\nrequests.get(url, timeout=TIMEOUT)\nTIMEOUT = None\n", True),
    ("import httpx\nTIMEOUT = 5.0\nhttpx.get(url, timeout=TIMEOUT)\n", False),
    ("import httpx\nT = None\nTIMEOUT = T\nhttpx.get(url, timeout=TIMEOUT)\n", True),
    ("import httpx\ndef f(t=None):\n    httpx.get(url, timeout=t)\n", False),
    ("import requests\nrequests.get(url, timeout=settings.timeout)\n", False),
    ("import httpx\nhttpx.get(url)\n", False),
    ("import httpx\nhttpx.get(url, timeout=None)\n", True),
    ("import httpx\nclient = httpx.Client()\nclient.get(url, timeout=None)\n", True),
    ("import requests\ns = requests.Session()\ns.get(url)\n", True),
    ("import requests\ns = requests.Session()\ns.get(url, timeout=3)\n", False),
])
def test_fpi307_wants_a_call_without_a_timeout_or_one_that_may_be_none(source, wanted):
    rule = all_rules()["FPI307"]
    assert rule.wants(facts_of_source(source), None) is wanted
    found = lint_source(source, "app.py", Settings(enabled=frozenset({"FPI307"}))).diagnostics
    assert wanted or found == []


@pytest.mark.parametrize("source, wanted", [
    ("from starlette.concurrency import run_in_threadpool\nasync def f():\n    await run_in_threadpool(load(x))\n",
     True),
    ("from starlette.concurrency import run_in_threadpool\nasync def f():\n    await run_in_threadpool(load, x)\n",
     False),
    ("from starlette.concurrency import run_in_threadpool as offload\nasync def f():\n    await offload(load(x))\n",
     True),
    ("import asyncio\nasync def f():\n    await asyncio.get_running_loop().run_in_executor(None, load(x))\n", True),
    ("import asyncio\nasync def f():\n    await asyncio.get_running_loop().run_in_executor(None, load, x)\n", False),
    # a call among the arguments, not where the callable goes
    ("import asyncio\nasync def f():\n    await asyncio.to_thread(load, bytes(x))\n", False),
    ("import asyncio\nasync def f():\n    await asyncio.to_thread(*args, load(x))\n", True),
    ("import asyncio\nasync def f():\n    await asyncio.get_running_loop().run_in_executor(None, load, g(x))\n",
     False),
])
def test_fpi107_wants_an_offload_given_a_call(source, wanted):
    rule = all_rules()["FPI107"]
    assert rule.wants(facts_of_source(source), None) is wanted
    found = lint_source(source, "app.py", Settings(enabled=frozenset({"FPI107"}))).diagnostics
    assert [d.code for d in found] == (["FPI107"] if wanted else [])


@pytest.mark.parametrize("source, words", [
    ("x = 'SELECT * FROM t WHERE id = ' + i\n", True),
    ("x = f'update {t} set a = 1'\n", True),
    ("x = 'Order not found: ' + oid\n", False),  # a clause word alone
    ("x = 'order' + ' ' + 'by ' + col\n", True),  # a clause across literals
    ("x = 'Use the ' + name\n", True),  # a statement word first
    ("def f():\n    'SELECT * FROM t WHERE a'\n    return name + x\n", False),  # a docstring
])
def test_facts_sql_words_need_a_statement_word_or_a_whole_clause(source, words):
    assert facts_of_source(source).sql_words is words


@pytest.mark.parametrize("source, wanted", [
    ("from starlette.concurrency import run_in_threadpool\nasync def fetch(): ...\n"
     "async def f():\n    await run_in_threadpool(fetch)\n", True),
    ("from starlette.concurrency import run_in_threadpool\nasync def fetch(): ...\n"
     "async def f():\n    await run_in_threadpool(load)\n", False),
    # an import's `as` name hides the coroutine function's own
    ("from starlette.concurrency import run_in_threadpool\nfrom svc import fetch as get_it\n"
     "async def f():\n    await run_in_threadpool(get_it)\n", True),
    ("from starlette.concurrency import run_in_threadpool\nfrom fastapi import Request\n"
     "async def f(request: Request):\n    await run_in_threadpool(request.json)\n", True),
])
def test_fpi210_wants_a_positional_argument_that_may_be_async(source, wanted):
    rule = all_rules()["FPI210"]
    facts = facts_of_source(source)
    svc = "async def fetch(): ...\n"
    index = ProjectIndex([summarize_text(source, "app.py", "app", False), summarize_text(svc, "svc.py", "svc", False)])
    assert rule.wants(facts, index) is wanted
    found = lint_source(source, "app.py", Settings(enabled=frozenset({"FPI210"})), index=index).diagnostics
    assert [d.code for d in found] == (["FPI210"] if wanted else [])


LOST_CALLS = '''
async def lost(repo, items, flag):
    repo.dropped()
    stored = repo.stored()
    a, b = repo.first(), repo.second()
    picked = repo.left() if flag else repo.right(flag)
    listed = [repo.listed(), *repo.starred()]
    if repo.tested():
        pass
    while not repo.negated():
        pass
    if [repo.in_display()]:
        pass
    return repo.returned()


async def kept(repo, items):
    await repo.awaited()
    use(repo.passed())
    value = repo.receiver().attr
    key = items[repo.index()]
    total = 1 + repo.operand()
    self_attr.value = repo.attribute_target()
    x = y = repo.chained()
    if (repo.flag_expr() if repo.condition() else 0):
        pass
    return [len(x)]


def plain(repo):
    return repo.returned_from_def()


class Config:
    setting = repo.class_level()
'''


def test_lost_calls_are_the_positions_misuse_reports():
    """`lost_calls` (FPI201/FPI202's gate) holds the calls whose value a statement loses as
    `coroutines.misuse` climbs to it, and none of the calls whose value goes on elsewhere."""
    f = facts_of_source(LOST_CALLS)
    assert f.lost_calls == {"dropped", "stored", "first", "second", "left", "right", "listed", "tested",
                            "negated", "in_display", "returned", "flag_expr", "use", "len"}
    assert {"awaited", "passed", "receiver", "index", "operand", "attribute_target", "chained", "starred",
            "condition", "returned_from_def", "class_level"}.isdisjoint(f.lost_calls)


def test_coroutines_passed_on_keep_the_file_away_from_libcst():
    """A project coroutine that is only awaited, passed on or used as a receiver cannot be
    reported by FPI201: the file is not parsed with libcst for it."""
    source = ("async def save(x):\n    return x\n\n\nasync def handler(items):\n"
              "    await save(1)\n    gather(save(2))\n    return [await save(3)]\n")
    rule = all_rules()["FPI201"]
    path = os.path.join(FIXTURES, "passed_on.py")
    assert not rule.wants(facts_of_source(source), None)
    assert not rule.wants(facts_of_source(source), _own_index(source, path))
    dropped = source.replace("    gather(save(2))\n", "    save(2)\n")
    assert rule.wants(facts_of_source(dropped), None)
    assert rule.wants(facts_of_source(dropped), _own_index(dropped, path))
    assert [d.code for d in lint_source(dropped, path).diagnostics] == ["FPI201"]


def test_relative_imports_resolve_in_the_module_the_lint_names():
    """In the scan the module's name is known: `from . import copy` in `shop.orders` binds
    `shop.copy`, not any name ending in `copy` (`shutil.copy`, were this the stdlib)."""
    tree = ast.parse("from . import copy\nfrom ..core.db import engine\nfrom .x import y as z\n")
    assert file_facts(tree).bindings == {".copy", "..core.db.engine", ".x.y"}
    assert file_facts(tree).references is None
    assert file_facts(tree, module=("shop.orders", False)).bindings == {"shop.copy", "core.db.engine", "shop.x.y"}
    assert file_facts(tree, module=("shop.orders", True)).bindings == {"shop.orders.copy", "shop.core.db.engine",
                                                                        "shop.orders.x.y"}
    # as the lint resolves them in a top-level module: beyond it, or no module, binds nothing
    assert file_facts(tree, module=("orders", False)).bindings == {"x.y"}
    fpi104 = all_rules()["FPI104"]
    source = "from . import copy\n\nasync def f(x):\n    copy(x)\n"
    assert fpi104.wants(facts_of_source(source), None)  # unresolved: `shutil.copy` cannot be ruled out
    assert not fpi104.wants(facts_of_source(source, "shop.orders", False, resolve=True), None)


REFERENCES = '''
import os
import httpx as hx
import sqlalchemy.orm
from fastapi import Depends as D, APIRouter
from .db import session as s


async def f(request, items: "os.PathLike"):
    client = hx.AsyncClient()
    value = items.get("x")
    sqlalchemy.orm.Session(s.bind).query(f()).all()
    return D(APIRouter), print
'''


def test_references_are_what_names_resolve_to():
    """With the module's name, the facts hold what each name or dotted name resolves to
    through the imports (and the prefixes of those): a call spelled `get` on a non-module
    receiver reaches no `httpx.get`."""
    f = facts_of_source(REFERENCES, "app.views", False, resolve=True)
    # `os` is named in a string annotation: its names resolve as bare names do
    assert f.references == {"httpx", "httpx.AsyncClient", "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.orm.Session",
                            "fastapi.Depends", "fastapi.APIRouter", "app.db.session", "app.db.session.bind", "os"}
    assert {"print", "D", "APIRouter", "sqlalchemy", "hx", "items", "f"} <= f.bare_names
    fpi102 = all_rules()["FPI102"]
    assert fpi102.wants(facts_of_source(REFERENCES), None)  # by names: `get` and an httpx import
    assert not fpi102.wants(f, None)
    called = REFERENCES.replace('items.get("x")', 'hx.get("x")')
    assert fpi102.wants(facts_of_source(called, "app.views", False, resolve=True), None)


def test_a_builtin_is_reached_by_a_bare_name_only():
    """`aiofiles.open(...)` spells `open` but cannot be the builtin `open` (FPI104)."""
    rule = all_rules()["FPI104"]
    source = "import aiofiles\n\nasync def f(p):\n    async with aiofiles.open(p) as fh:\n        return await fh.read()\n"
    assert not rule.wants(facts_of_source(source), None)
    assert rule.wants(facts_of_source(source.replace("aiofiles.open(p)", "open(p)")), None)


def test_dependency_called_wants_calls_given_to_depends():
    """FPI204 looks at calls passed to `Depends`/`Security`, not at every call's argument;
    `Depends` imported under another name may be any call."""
    rule = all_rules()["FPI204"]
    base = ("from fastapi import Depends{alias}\n\ndef get_db():\n    return 1\n\n"
            "def route(db=Depends(get_db), n=int(get_db())):\n    return {call}\n")
    f = facts_of_source(base.format(alias="", call="D(get_db())"))
    assert f.depends_arg_calls == set() and "get_db" in f.arg_calls
    assert not rule.wants(f, None)
    assert rule.wants(facts_of_source(base.format(alias="", call="Depends(dependency=get_db())")), None)
    assert rule.wants(facts_of_source(base.format(alias=", Depends as D", call="D(get_db())")), None)


@pytest.mark.parametrize("files", [
    # a string annotation names an import's `as` name: `Req` is `fastapi.Request`
    {"m.py": 'from fastapi import Request as Req\n\n\nasync def forward(request: "Req"):\n    request.json()\n'},
    {"pkg/__init__.py": "", "pkg/svc.py": "class Service:\n    async def save(self):\n        return 1\n",
     "pkg/user.py": 'from pkg.svc import Service as S\n\n\ndef handler(svc: "S"):\n    svc.save()\n'},
], ids=["string-alias", "string-alias-receiver"])
def test_names_the_lint_resolves_keep_their_files_through_the_gate(files, tmp_path, monkeypatch):
    """Found by review: each reports one finding, with and without the facts gate."""
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    gated = _project_keys(str(tmp_path), True, monkeypatch)
    assert gated == _project_keys(str(tmp_path), False, monkeypatch)
    assert sum(len(diagnostics) for diagnostics, _ in gated.values()) == 1


@pytest.mark.parametrize("source, wanted", [
    ("import asyncio\nasync def work(): ...\nasync def f():\n    await asyncio.to_thread(work)\n", True),
    ("from asyncio import to_thread as t\nasync def work(): ...\nasync def f():\n    await t(work)\n", True),
    # `work` passed to another call, an offload given something else
    ("import asyncio\nasync def work(): ...\nasync def f():\n    log(work)\n    await asyncio.to_thread(load)\n",
     False),
])
def test_fpi210_wants_a_coroutine_function_passed_to_an_offload(source, wanted):
    rule = all_rules()["FPI210"]
    assert rule.wants(facts_of_source(source), None) is wanted
    found = lint_source(source, "app.py", Settings(enabled=frozenset({"FPI210"}))).diagnostics
    assert [d.code for d in found] == (["FPI210"] if wanted else [])
