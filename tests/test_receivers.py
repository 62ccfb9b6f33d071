"""FPI201's third gate: what a lost method call's receiver may be, read from `ast`
(`model/receivers.py`), and the files it keeps away from libcst."""

import ast
import os

import pytest

from fastapi_lint import engine
from fastapi_lint.discovery import discover
from fastapi_lint.model.facts import facts_of_source
from fastapi_lint.model.receivers import ANY, ModuleReceivers
from fastapi_lint.registry import all_rules
from fastapi_lint.settings import Settings

MODULE = '''
from typing import Any, Optional
from fastapi import Depends
from pkg.repo import Repo, service
import pkg.svc as svc
FACTORY = make()
LABELS = {"a": 1}


class Local:
    async def get(self): ...

    def __init__(self, repo: Repo, other):
        self.repo = repo
        self.cache = {}
        self.other = other
        self.kind = Repo

    def run(self):
        self.get()  # self
        self.repo.get()  # self attribute
        self.cache.get()  # self attribute holding a literal
        self.never.get()  # self attribute the class never assigns
        self.other.get()  # self attribute holding a bare parameter
        made = self.factory()
        made.get()  # made by a self attribute
        built = self.kind()
        built.get()  # made by a self attribute holding a class
        held = self.repo
        held.get()  # a self attribute held
        self.repo.db.get()  # attribute of a self attribute
        (self.repo / "x").get()  # division of a self attribute
        (self.repo + 1).get()  # sum of a self attribute

        def callback():
            self.repo.get()  # self attribute in a nested def
        if True:
            def inner(this):
                this.get()  # inner parameter


async def f(a, b: Repo, c: "Optional[Repo]", d=Depends(x), *args, e: dict = None, g: Repo | None = None, **opts: Repo):
    a.get()  # bare parameter
    b.get()  # annotated parameter
    c.get()  # string annotation
    d.get()  # dependency
    args.get()  # star parameter
    opts.get()  # annotated star parameter
    e.get()  # builtin annotation
    g.get()  # union with None
    h = {}
    h.get(1)  # literal
    i = Repo()
    i.get()  # constructor
    j = await Repo.load()
    j.get()  # awaited
    k = Repo.from_session(a)
    k.get()  # classmethod result
    for m in range(3):
        m.get()  # loop variable
    n = a
    n.get()  # another name
    o = i
    o.get()  # another name holding a constructor call
    p = p
    p.get()  # a name bound to itself
    from pkg.svc import Client, make_client
    Client().get()  # constructor of a class imported in the def
    Client.get()  # class imported in the def
    make_client()  # function imported in the def
    import pkg.jobs
    pkg.jobs.queue.get()  # module imported in the def
    a.db.get()  # attribute of a parameter
    service.get()  # imported instance
    svc.client.get()  # module attribute
    Repo().get()  # call
    a["k"].get()  # subscript
    FACTORY.get()  # module-level value
    Local.get()  # class of the module
    undefined.get()  # unknown name
    len.get()  # builtin
    q: Repo = load()
    q.get()  # annotated local
    r, t = Repo(), Repo()
    r.get()  # unpacked
    with Repo() as u:
        u.get()  # with target
    with open(a) as fh:
        fh.read()  # with target of a builtin
    with pair() as (p1, p2):
        p1.get()  # with target unpacked
    made = a()
    made.get()  # made by a bare parameter
    built = b()
    built.get()  # made by an annotated parameter
    sub = LABELS["a"]()
    sub.get()  # made by a subscript
    LABELS.get("a")  # module-level literal
    v = a.build()
    v.get()  # made by a parameter's method
    w = a.repo
    w.get()  # a parameter's attribute held
    helper(1)  # call of an unknown name
    Local(1)  # call of a class of the module
    a(1)  # call of a parameter

    def closure():
        b.get()  # closure variable
        h.get()  # closure variable holding a literal
        i.get()  # closure variable holding a constructor call


def anything(x: Any, y: Any = Depends(get_repo), z: object = None):
    x.get()  # parameter annotated Any
    y.get()  # parameter annotated Any with a dependency
    z.get()  # parameter annotated object
'''

EXPECTED = {
    "self": {"m.Local"},
    "self attribute": {"pkg.repo.Repo"},
    "self attribute holding a literal": set(),
    "self attribute the class never assigns": set(),
    "self attribute holding a bare parameter": set(),
    "constructor of a class imported in the def": {"pkg.svc.Client"},
    "class imported in the def": {"pkg.svc.Client"},
    "module imported in the def": {"pkg.jobs.queue"},
    "inner parameter": set(),
    "bare parameter": set(),
    "annotated parameter": {"pkg.repo.Repo"},
    "string annotation": {"typing.Optional", "pkg.repo.Repo"},
    "dependency": ANY,
    "star parameter": set(),
    "annotated star parameter": {"pkg.repo.Repo"},
    "closure variable holding a literal": set(),
    "closure variable holding a constructor call": {"pkg.repo.Repo"},
    "builtin annotation": set(),
    "union with None": {"pkg.repo.Repo"},
    "literal": set(),
    "constructor": {"pkg.repo.Repo"},
    "awaited": set(),
    "classmethod result": {"pkg.repo.Repo.from_session"},
    "loop variable": set(),
    "another name": set(),
    "another name holding a constructor call": {"pkg.repo.Repo"},
    "a name bound to itself": ANY,
    "attribute of a parameter": set(),
    "imported instance": {"pkg.repo.service"},
    "module attribute": {"pkg.svc.client"},
    "call": {"pkg.repo.Repo"},
    "subscript": set(),
    "module-level value": ANY,
    "class of the module": {"m.Local"},
    "unknown name": ANY,
    "builtin": set(),
    "annotated local": {"pkg.repo.Repo"},
    "unpacked": set(),
    "with target": {"pkg.repo.Repo"},
    "with target of a builtin": set(),
    "with target unpacked": ANY,
    "module-level literal": set(),
    "made by a self attribute": set(),
    "made by a self attribute holding a class": {"pkg.repo.Repo"},
    "a self attribute held": ANY,
    "attribute of a self attribute": set(),
    "division of a self attribute": {"pkg.repo.Repo"},
    "sum of a self attribute": set(),
    "self attribute in a nested def": set(),
    "made by a parameter's method": set(),
    "made by a bare parameter": set(),
    "made by an annotated parameter": ANY,
    "made by a subscript": set(),
    "a parameter's attribute held": set(),
    "closure variable": {"pkg.repo.Repo"},
    "parameter annotated Any": set(),
    "parameter annotated Any with a dependency": ANY,
    "parameter annotated object": set(),
}


def test_what_each_receiver_may_be():
    source = MODULE.lstrip("\n")
    tree = ast.parse(source)
    lines = source.splitlines()
    receivers = ModuleReceivers(tree, "m", False)
    found, calls = {}, {}
    for call, func in receivers.lost_calls():
        label = lines[call.lineno - 1].partition("# ")[2]
        if not label:
            continue  # `Repo.from_session(a)`, `make()`: what the test is not about
        if type(call.func) is ast.Name:
            kinds = receivers.function_kinds(call.func.id, func)
            calls[label] = kinds if kinds is ANY else set(kinds)
            continue
        kinds = receivers.kinds(call.func.value, func)
        found[label] = kinds if kinds is ANY else set(kinds)
    assert found == EXPECTED
    assert calls == {"call of an unknown name": ANY, "call of a class of the module": {"m.Local"},
                     "call of a parameter": set(), "function imported in the def": {"pkg.svc.make_client"}}


def test_only_lost_calls_are_read():
    source = ("async def f(repo: Repo):\n    await repo.get()\n    x = [repo.get()]\n    use(repo.get())\n"
              "    repo.get()\n    return repo.get()\n")
    tree = ast.parse(source)
    lines = [call.lineno for call, _ in ModuleReceivers(tree, "m", False).lost_method_calls()]
    assert sorted(lines) == [3, 5, 6]


def _write(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


PROJECT = {
    "app/__init__.py": "",
    "app/repo.py": "class Repo:\n    async def get(self, key):\n        ...\n\n\nclass Cache:\n"
                   "    def get(self, key):\n        ...\n",
    # the facts gate lets it through (a lost `.get()`, `Repo` imported), the tree says no
    "app/lookalike.py": "from app.repo import Repo, Cache\n\n\nasync def read(claims: dict, cache: Cache):\n"
                        "    email = claims.get('email')\n    hit = cache.get(email)\n"
                        "    return await Repo().get(email), hit\n",
    "app/found.py": "from app.repo import Repo\n\n\nasync def read(key):\n    repo = Repo()\n"
                    "    repo.get(key)  # error: FPI201\n",
    # attributes of `self` the class assigns no Repo, a name a def imports from elsewhere
    "app/holder.py": "from app.repo import Repo, Cache\n\n\nclass Holder:\n    registry: dict\n\n"
                     "    def __init__(self, repo: Repo, cache: Cache) -> None:\n        self.repo = repo\n"
                     "        self.cache = cache\n        self.seen = {}\n\n    async def run(self) -> None:\n"
                     "        await self.repo.get(1)\n        self.cache.get(2)\n        self.seen.get(3)\n"
                     "        self.registry.get(4)\n        self.unknown.get(5)\n\n\n"
                     "async def imported() -> None:\n    from app.repo import Cache\n    Cache().get(6)\n",
    "app/holder_found.py": "from app.repo import Repo\n\n\nclass Holder:\n    def __init__(self) -> None:\n"
                           "        self.made = Repo()\n\n    async def run(self) -> None:\n"
                           "        self.made.get(1)  # error: FPI201\n\n\nasync def imported() -> None:\n"
                           "    from app.repo import Repo\n    Repo().get(2)  # error: FPI201\n",
    # `self.repo` around a nested def, an attribute of an attribute: no origin; a division of
    # `self.repo` (`Path(...) / x`) has its origin
    "app/nested.py": "from app.repo import Repo\n\n\nclass Holder:\n    def __init__(self, repo: Repo) -> None:\n"
                     "        self.repo = repo\n        self.inner = self\n\n    async def run(self) -> None:\n"
                     "        self.inner.repo.get(1)\n\n        def callback() -> None:\n"
                     "            self.repo.get(2)\n\n        callback()\n        await self.repo.get(3)\n",
    "app/divided_found.py": "from app.repo import Repo\n\n\nclass Holder:\n    def __init__(self, repo: Repo) -> None:\n"
                            "        self.repo = repo\n\n    async def run(self) -> None:\n"
                            "        (self.repo / 'x').get(1)  # error: FPI201\n",
    # `self / x` of an annotated `self`: the annotation's class, as `origin` reads it
    "app/annotated_self_found.py": "from app.repo import Repo\n\n\nclass Holder:\n"
                                   "    async def run(self: Repo, name: str) -> None:\n"
                                   "        (self / name).get(1)  # error: FPI201\n",
    # FPI210: a `.get` passed to an offload, on a Cache (no coroutine) or on a Repo
    "app/offload.py": "import asyncio\nfrom app.repo import Repo, Cache\n\n\nasync def read(cache: Cache, claims: dict):\n"
                      "    await asyncio.to_thread(cache.get, 1)\n    await asyncio.to_thread(claims.get, 2)\n"
                      "    return Repo\n",
    # FPI110: a `.load()` in an async def, on a dict or on a Store whose `load` blocks
    "app/storage.py": "class Store:\n    def load(self):\n        with open('s.json') as fh:\n"
                      "            return fh.read()\n\n\nclass Vault(Store):\n    pass\n",
    "app/blocking.py": "from app.storage import Store\n\n\nasync def read(claims: dict):\n"
                       "    claims.load()\n    return Store\n",
    "app/blocking_found.py": "from app.storage import Vault\n\n\nasync def read():\n"
                             "    vault = Vault()\n    return vault.load()  # error: FPI110\n",
    "app/offload_found.py": "from asyncio import to_thread as in_thread\nfrom app.repo import Repo\n\n\n"
                            "async def read(repo: Repo):\n    await in_thread(repo.get, 1)  # error: FPI210\n",
    # files without a module name (an alembic revision's file name is no identifier): the
    # rule's index holds their own defs unprefixed; an imported module's calls are not the
    # project's `Repo.get`
    "migrations/versions/2024_01_01-a1_rev.py": "from alembic import op\nfrom app.repo import Repo\n\n\n"
                                                "def upgrade():\n    op.get('x')\n    return Repo\n",
    "migrations/versions/2024_01_02-a2_rev.py": "async def get(key):\n    ...\n\n\nasync def upgrade():\n"
                                                "    get(1)  # error: FPI201\n",
    "migrations/versions/2024_01_03-a3_rev.py": "class Rev:\n    async def get(self):\n        ...\n\n"
                                                "    async def run(self):\n        self.get()  # error: FPI201\n",
    "migrations/versions/2024_01_04-a4_rev.py": "def load():\n    with open('x') as fh:\n        return fh.read()\n\n\n"
                                                "async def upgrade():\n    return load()  # error: FPI110\n",
    # other nameless files defining the same names, sync: the merged index keeps theirs (the
    # later path), the rule's index for a2/a3 their own
    "migrations/versions/2024_01_06-a6_rev.py": "def get(key):\n    return key\n\n\ndef load():\n    return 1\n",
    "migrations/versions/2024_01_07-a7_rev.py": "class Rev:\n    def get(self):\n        return 1\n",
    "migrations/versions/2024_01_05-a5_rev.py": "import asyncio\nfrom alembic import op\n\n\nasync def upgrade():\n"
                                                "    await asyncio.to_thread(op.get, 1)\n",
}


@pytest.mark.parametrize("rel, code, wanted", [
    ("app/lookalike.py", "FPI201", False), ("app/found.py", "FPI201", True), ("app/holder.py", "FPI201", False),
    ("app/holder_found.py", "FPI201", True), ("app/nested.py", "FPI201", False),
    ("app/divided_found.py", "FPI201", True), ("app/annotated_self_found.py", "FPI201", True),
    ("app/offload.py", "FPI210", False),
    ("app/offload_found.py", "FPI210", True), ("app/blocking.py", "FPI110", False),
    ("app/blocking_found.py", "FPI110", True),
    ("migrations/versions/2024_01_01-a1_rev.py", "FPI201", False),
    ("migrations/versions/2024_01_02-a2_rev.py", "FPI201", True),
    ("migrations/versions/2024_01_03-a3_rev.py", "FPI201", True),
    ("migrations/versions/2024_01_04-a4_rev.py", "FPI110", True),
    ("migrations/versions/2024_01_05-a5_rev.py", "FPI210", False)])
def test_the_tree_gate_on_a_project(tmp_path, rel, code, wanted):
    root = str(tmp_path)
    _write(root, PROJECT)
    settings = Settings(enabled=frozenset({code}), root=root, jobs=1, cache=False)
    files = discover([root], settings).files
    index, facts, _ = engine.scan(files, settings)
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    rule = all_rules()[code]
    assert rule.wants(facts[path], index)  # the second gate alone lets both through
    module = engine.module_name_for(path, root)
    assert bool(engine.gate([rule], text, index, facts[path], module)) is wanted
    run = engine.lint_paths(files, settings)
    got = {(os.path.relpath(r.path, root), d.code) for r in run.results for d in r.diagnostics}
    assert (rel, code) in got if wanted else (rel, code) not in got


def test_a_tree_that_cannot_be_read_keeps_the_rule(tmp_path):
    root = str(tmp_path)
    _write(root, PROJECT)
    settings = Settings(enabled=frozenset({"FPI201"}), root=root, jobs=1, cache=False)
    index, facts, _ = engine.scan(discover([root], settings).files, settings)
    path = os.path.join(root, "app/lookalike.py")
    rule = all_rules()["FPI201"]
    broken = PROJECT["app/lookalike.py"] + "def (:\n"
    assert facts_of_source(broken) is None
    assert engine.gate([rule], broken, index, facts[path], ("app.lookalike", False)) == [rule]


FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(FIXTURES)
                                        if n.startswith(("FPI201", "FPI202", "FPI110", "FPI205", "FPI210", "FPI307",
                                                         "FPI404"))
                                        and not n.endswith(".fixed.py")))
def test_fixture_findings_with_the_index_do_not_depend_on_the_tree_gate(name, tmp_path, monkeypatch):
    """The single-file fixtures are linted without an index, where no tree gate applies: here
    each is a module of a project, with the index, with and without `wants_tree`."""
    root = str(tmp_path)
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        _write(root, {"app/__init__.py": "", "app/fixture.py": fh.read()})
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1, cache=False)
    files = discover([root], settings).files

    def findings():
        return sorted((d.line, d.column, d.code, d.message) for r in engine.lint_paths(files, settings).results
                      for d in r.diagnostics)

    gated = findings()
    real_gate = engine.gate
    monkeypatch.setattr(engine, "gate", lambda rules, text, index=None, facts=None, module=None:
                        real_gate(rules, text, index, facts))
    assert gated == findings()
    assert any(f[2] == name[:6] for f in gated)


ORIGINS_MODULE = '''
from typing import Annotated
import httpx
from fastapi import Depends
import asyncpg
from fastapi import Request
from sqlalchemy.orm import sessionmaker
from app.models import Base
SessionLocal = make_factory()
Db = Annotated["httpx.AsyncClient", Depends(get_client)]


class Service:
    pool: "asyncpg.Pool"

    def __init__(self):
        self.client = httpx.AsyncClient()
        self.factory = make_factory()

    async def fetch(self):
        return 1

    async def run(self, request: Request, client, db: Db):
        request.json()  # annotated parameter
        client.get("/")  # bare parameter
        db.get("/")  # alias of an annotation
        self.http.get("/")  # self attribute the class never assigns
        self.client.get("/")  # self attribute assigned in __init__
        self.pool.fetch("x")  # self attribute annotated in the class body
        (await self.fetch()).json()  # awaited result of a method
        self.factory().commit()  # call of an assigned self attribute
        open("x").read()  # builtin
        c = httpx.AsyncClient()
        c.get("/")  # imported constructor
        response = await c.get("/")
        response.json()  # method result of a local
        pool = await asyncpg.create_pool()
        conn = pool.acquire()
        conn.execute("x")  # chained catalogue origin
        session = SessionLocal()
        session.commit()  # call of a module-level value
        s = sessionmaker(class_=Base)
        s.commit()  # session factory class
        httpx.AsyncClient().get("/")  # constructor receiver
        (await client.stream()).close()  # awaited call of a parameter
'''

ORIGINS = {
    "annotated parameter": {"fastapi.Request()"},
    "bare parameter": set(),
    "alias of an annotation": {"typing.Annotated()", "httpx.AsyncClient()"},  # the wrapper too: a superset
    "self attribute the class never assigns": set(),
    "self attribute assigned in __init__": {"httpx.AsyncClient()"},
    "self attribute annotated in the class body": {"asyncpg.Pool()"},
    "awaited result of a method": set(),
    "call of an assigned self attribute": ANY,
    "builtin": {"builtins.open()"},
    "imported constructor": {"httpx.AsyncClient()"},
    "method result of a local": set(),
    "chained catalogue origin": ANY,
    "call of a module-level value": ANY,
    "session factory class": ANY,
    "constructor receiver": {"httpx.AsyncClient()"},
    "awaited call of a parameter": set(),
}


def test_what_origins_each_receiver_may_have():
    """FPI202's reading: origins ending with "()", the only ones the catalogue lists."""
    source = ORIGINS_MODULE.lstrip("\n")
    lines = source.splitlines()
    receivers = ModuleReceivers(ast.parse(source), "app.svc", False)
    found = {}
    for call, func in receivers.lost_method_calls():
        label = lines[call.lineno - 1].partition("# ")[2]
        if label:
            origins = receivers.origins(call.func.value, func)
            found[label] = origins if origins is ANY else set(origins)
    assert found == ORIGINS


@pytest.mark.parametrize("source, wanted", [
    ("from httpx import AsyncClient\nfrom pytest_mock import MockerFixture\n\n\nasync def f(client: AsyncClient, mocker: MockerFixture):\n"
     "    mocker.patch('x')\n    response = await client.get('/')\n    return response.json()\n", False),
    ("from httpx import AsyncClient\n\n\nasync def f(client: AsyncClient):\n    client.get('/')\n", True),
    # a framework object held by `self`, however the class gives it one
    ("import httpx\n\n\nclass Api:\n    def __init__(self):\n        self.client = httpx.AsyncClient()\n\n"
     "    async def ping(self):\n        self.client.get('/')\n", True),
    ("import httpx\n\n\nclass Api:\n    client = httpx.AsyncClient()\n\n"
     "    async def ping(self):\n        self.client.get('/')\n", True),
    ("from redis.asyncio import Redis\n\n\nclass Cache:\n    redis: Redis\n\n"
     "    async def drop(self, key):\n        self.redis.delete(key)\n", True),
    ("from sqlalchemy.ext.asyncio import async_sessionmaker\n\n\nclass Store:\n    def __init__(self, engine):\n"
     "        self.make = async_sessionmaker(engine)\n\n    async def save(self):\n        session = self.make()\n"
     "        session.commit()\n", True),
    # a class body inside a def: its names are its own first (an import there), and no def
    # encloses it for the rule (`self` is the def's, read through its default)
    ("class Svc:\n    async def go(self):\n        class Q:\n            from aiofiles import open\n"
     "            open('f').read()\n", True),
    ("import asyncpg\nfrom fastapi import Depends\n\n\ndef get_pool():\n    return asyncpg.create_pool('dsn')\n\n\n"
     "class Svc:\n    async def go(self=Depends(get_pool)):\n        class Q:\n"
     "            self.acquire().fetch('select 1')\n", True),
    # look-alikes (the facts let them through): what the class never assigns, a method's
    # result, a builtin's, a sync client held by `self`
    ("from httpx import AsyncClient\n\n\nclass Api:\n    async def ping(self, c: AsyncClient):\n"
     "        await c.get('/')\n        self.client.get('/')\n", False),
    ("from fastapi import Request\n\n\nclass Api:\n    async def fetch(self):\n        return 1\n\n"
     "    async def ping(self, request: Request):\n        await request.json()\n        r = await self.fetch()\n"
     "        r.json()\n", False),
    ("import aiofiles\n\n\nasync def f():\n    async with aiofiles.open('y') as g:\n        await g.read()\n"
     "    with open('x') as fp:\n        fp.read()\n", False),
    ("import httpx\n\n\nclass Api:\n    def __init__(self):\n        self.client = httpx.Client()\n\n"
     "    async def ping(self, c: httpx.AsyncClient):\n        await c.get('/')\n        self.client.get('/')\n", False),
])
def test_fpi202_tree_gate(source, wanted):
    _tree_gate_case("FPI202", source, wanted)


def _tree_gate_case(code, source, wanted):
    """The facts gate lets the source through; the tree gate says `wanted`, as the rule does."""
    rule = all_rules()[code]
    facts = facts_of_source(source, "app.m", False, resolve=True)
    assert rule.wants(facts, None)  # the facts alone let both through
    assert rule.wants_tree(ast.parse(source), facts, None, ("app.m", False)) is wanted
    found = engine.lint_source(source, "app/m.py", Settings(enabled=frozenset({code}))).diagnostics
    assert bool(found) is wanted


@pytest.mark.parametrize("source,wanted", [
    # what a dependency returns that the rule reports: a factory's session, one built from an
    # import, a connection of an engine (directly or through a local), an annotated parameter
    ("from fastapi import Depends\nfrom sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\n"
     "def get_db():\n    return SessionLocal()\n\n\n"
     "def route(db=Depends(get_db)):\n    return db\n", True),
    ("from fastapi import Depends\nfrom sqlalchemy.orm import Session\nfrom app.db import engine\n\n\ndef get_db():\n"
     "    return Session(engine)\n\n\ndef route(db=Depends(get_db)):\n    return 1\n", True),
    ("from fastapi import Depends\nfrom sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n\n\n"
     "def get_conn():\n    conn = engine.connect()\n    return conn\n\n\ndef route(c=Depends(get_conn)):\n    return 1\n", True),
    ("from fastapi import Depends\nfrom sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n\n\n"
     "def get_conn():\n    return engine.connect()\n\n\ndef route(c=Depends(get_conn)):\n    return 1\n", True),
    # a review's cases: `Optional` under another name; a module-level comprehension's name
    # that the rule does not see bind (it reads the import)
    ("from fastapi import Depends, FastAPI\nfrom typing import Optional as Opt\nfrom sqlalchemy.orm import Session\n"
     "app = FastAPI()\n\n\ndef get_db(db: Opt[Session] = None):\n    return db\n\n\n@app.get('/')\n"
     "def r(x=Depends(get_db)):\n    return 1\n", True),
    ("from fastapi import Depends, FastAPI\nfrom sqlalchemy import orm\napp = FastAPI()\n"
     "ORMS = [orm for orm in ('a', 'b')]\n\n\ndef get_db():\n    return orm.Session()\n\n\n@app.get('/')\n"
     "def r(x=Depends(get_db)):\n    return 1\n", True),
    # look-alikes the facts let through: sessions built and closed, other things returned
    ("from fastapi import Depends\nfrom sqlalchemy.orm import Session\nfrom app.db import engine\n\n\ndef get_db():\n"
     "    with Session(engine) as s:\n        yield s\n\n\ndef count(db=Depends(get_db)):\n    n = db.query(1).count()\n"
     "    return {'n': n}\n\n\ndef one(db=Depends(get_db)):\n    return db.get(object, 1)\n", False),
    ("from fastapi import Depends\nimport sqlite3\n\n\ndef settings():\n    return {'dsn': 'x'}\n\n\n"
     "def route(s=Depends(settings)):\n    conn = sqlite3.connect(s['dsn'])\n    conn.close()\n    return 'ok'\n", False),
])
def test_fpi404_tree_gate(source, wanted):
    _tree_gate_case("FPI404", source, wanted)


@pytest.mark.parametrize("source,wanted", [
    # each way the rule reports: a requests function, a session's method, urlopen without its
    # third argument, httpx given None through a constant or a local
    ("import requests\n\n\ndef f(url, d):\n    d.get('k')\n    requests.get(url, timeout=10)\n"
     "    return requests.post(url)\n", True),
    ("import requests\n\n\ndef f(url):\n    with requests.Session() as s:\n        return s.get(url)\n", True),
    ("from urllib.request import urlopen\n\n\ndef f(url):\n    return urlopen(url, None)\n", True),
    ("import httpx\n\nNO_LIMIT = None\n\n\nasync def f(url):\n    async with httpx.AsyncClient(timeout=10) as c:\n"
     "        return await c.get(url, timeout=NO_LIMIT)\n", True),
    ("import requests as r\n\n\ndef f(url):\n    t = None\n    return r.get(url, timeout=t)\n", True),
    ("import httpx\n\n\ndef f(url, d):\n    d.get('k')\n    return httpx.post(url, timeout=None)\n", True),
    # a review's cases: in a lambda the rule reads the module's `T`; a session's method held by
    # `self`; `Optional` under another name; `global` sends the rule to the import
    ("import requests\n\nT = None\n\n\ndef f(u, d, T=10):\n    d.get('k')\n"
     "    return (lambda: requests.get(u, timeout=T))()\n", True),
    ("import requests\n\n\nclass C:\n    def __init__(self):\n        self.session = requests.Session()\n"
     "        self.request = self.session.request\n\n    def go(self, u):\n        return self.request('GET', u)\n", True),
    ("from typing import Optional as Opt\nimport requests\n\n\ndef go(u, s: Opt[requests.Session] = None):\n"
     "    return s.get(u)\n", True),
    ("import requests\n\n\ndef f(u):\n    global requests\n    return requests.get(u)\n", True),
    # calls evaluated where a def or class stands: annotations, class keywords
    ("import requests\n\n\ndef f(d, x: requests.get('http://a')):\n    return d.get('k')\n", True),
    ("import requests\n\n\ndef f(d) -> requests.post('http://a'):\n    return d.get('k')\n", True),
    ("import requests\n\n\nclass C(dict, data=requests.get('http://a')):\n    pass\n\n\nd = {}\nd.get('k')\n", True),
    # look-alikes the facts let through: timed calls beside a dict's `get`, a timeout passed in,
    # urlopen's positional timeout, httpx's own default, a timeout of `**kwargs`
    ("import requests\n\n\ndef f(url, d):\n    d.get('k', {}).get('j')\n    return requests.get(url, timeout=10)\n", False),
    ("import requests\n\nTIMEOUT = 10\n\n\ndef f(url, d):\n    d.get('k')\n    return requests.get(url, timeout=TIMEOUT)\n",
     False),
    ("import requests\n\n\ndef f(url, rows):\n    names = [r.get('name') for r in rows]\n"
     "    return requests.get(url, timeout=10), names\n", False),
    ("import requests\n\ncache = None\n\n\ndef f(url, timeout=None):\n    return requests.head(url, timeout=timeout)\n",
     False),
    ("from urllib.request import urlopen\n\n\ndef f(url, d):\n    d.get('k')\n    return urlopen(url, None, 10)\n",
     False),
    ("import httpx\n\nfallback = None\n\n\ndef f(url, d, kw, limit):\n    d.get('k', fallback)\n    httpx.get(url)\n"
     "    httpx.get(url, timeout=limit)\n    return httpx.Client(**kw)\n", False),
])
def test_fpi307_tree_gate(source, wanted):
    _tree_gate_case("FPI307", source, wanted)


@pytest.mark.parametrize("code", ["FPI307", "FPI404"])
def test_a_string_annotation_too_deep_to_parse_opens_the_tree_gate(code):
    """`ast.parse` of a deeply nested string annotation raises what `engine.gate` catches
    (MemoryError, RecursionError): the reading gives up (ANY) instead of failing the file."""
    deep = "-" * 6000 + "1"
    source = (f"import requests\nfrom fastapi import Depends\nfrom sqlalchemy.orm import Session\n"
              f"s = requests.Session()\n\n\ndef go(s: \"{deep}\", u):\n    return s.get(u)\n\n\n"
              f"def get_db(db: \"{deep}\"):\n    return db\n\n\ndef r(x=Depends(get_db)):\n    return 1\n")
    facts = facts_of_source(source, "app.m", False, resolve=True)
    assert all_rules()[code].wants_tree(ast.parse(source), facts, None, ("app.m", False)) is True


@pytest.mark.parametrize("source,wanted", [
    # what `_coroutine_calls` reads: a display or comprehension of calls, or a name bound to one
    ("import asyncio\n\n\nasync def job():\n    return 1\n\n\nasync def main():\n"
     "    await asyncio.wait([job(), job()])\n", True),
    ("import asyncio\n\n\nasync def job(i):\n    return i\n\n\nasync def main():\n"
     "    await asyncio.wait({job(i) for i in range(3)})\n", True),
    ("from asyncio import wait as wait_all\n\n\nasync def job():\n    return 1\n\n\nasync def main():\n"
     "    jobs = [job(), job()]\n    await wait_all(jobs, timeout=1)\n", True),
    ("import asyncio\n\n\nasync def job():\n    return 1\n\n\nasync def main():\n"
     "    await asyncio.wait(fs=(job(),))\n", True),
    # look-alikes: tasks, names bound to tasks or to what a call returns, a set of names
    ("import asyncio\n\n\nasync def job():\n    return 1\n\n\nasync def main():\n"
     "    a = asyncio.create_task(job())\n    b = asyncio.ensure_future(job())\n"
     "    done, pending = await asyncio.wait({a, b}, return_when=asyncio.FIRST_COMPLETED)\n"
     "    await asyncio.wait(pending)\n", False),
    ("import asyncio\n\n\nasync def job(i):\n    return i\n\n\nasync def main(loop):\n"
     "    tasks = [loop.create_task(job(i)) for i in range(3)]\n    await asyncio.wait(tasks)\n"
     "    more = make_tasks()\n    await asyncio.wait(more)\n", False),
])
def test_fpi205_tree_gate(source, wanted):
    _tree_gate_case("FPI205", source, wanted)
