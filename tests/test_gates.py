"""The second gate (`Rule.wants` on the scan pass's `ast` facts) must never change a finding.

Every fixture and golden, linted with every rule, gives the same diagnostics with and without
the facts; so do the project fixtures through `lint_paths`. The facts themselves are checked
on a small program, and a file no rule wants is shown not to reach libcst.
"""

import ast
import os

import pytest

from fixture_support import FIXTURES
from fastapi_lint import engine
from fastapi_lint.discovery import discover
from fastapi_lint.engine import lint_paths, lint_source
from fastapi_lint.model.facts import FileFacts, facts_of_source, file_facts
from fastapi_lint.registry import all_rules
from fastapi_lint.settings import Settings

ALL = Settings(enabled=frozenset(all_rules()))
PROGRAMS = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".py"))
PROJECTS = os.path.join(FIXTURES, "projects")


def _key(result):
    return sorted((d.line, d.column, d.code, d.message) for d in result.diagnostics), result.errors


@pytest.mark.parametrize("name", PROGRAMS)
def test_fixture_findings_do_not_depend_on_the_gate(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        source = fh.read()
    path = os.path.join(FIXTURES, name)
    facts = facts_of_source(source)
    assert facts is not None
    gated = lint_source(source, path, ALL, facts=facts)
    open_ = lint_source(source, path, ALL)
    assert _key(gated) == _key(open_)


@pytest.mark.parametrize("project", sorted(os.listdir(PROJECTS)))
def test_project_findings_do_not_depend_on_the_gate(project, monkeypatch):
    root = os.path.join(PROJECTS, project)
    settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=1)
    files = discover([root], settings).files
    gated = lint_paths(files, settings)
    real_gate = engine.gate
    monkeypatch.setattr(engine, "gate", lambda rules, text, index=None, facts=None: real_gate(rules, text, index))
    open_ = lint_paths(files, settings)
    assert [_key(r) for r in gated.results] == [_key(r) for r in open_.results]
    assert sum(len(r.diagnostics) for r in gated.results) > 0


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
    assert f.imports == {"os.path", "sqlalchemy", "sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker",
                         ".models", "..core.db.engine"}
    assert {"execute", "fire_and_forget", "helper", "stream", "open", "read", "Depends", "get", "sessionmaker",
            "APIRouter", "make_table", "Problem"} == f.calls
    assert "execute" not in f.unawaited_calls and "fire_and_forget" in f.unawaited_calls
    # decorators, defaults and class bodies run at import time
    assert f.module_calls == {"sessionmaker", "APIRouter", "get", "Depends", "make_table"}
    assert f.async_calls == {"execute", "fire_and_forget", "helper", "stream"}
    assert f.decorators == {"get", "staticmethod"}
    assert f.keywords == {"bind", "prefix", "response_model"}
    assert {"SessionLocal", "db", "err", "eng", "path", "inner", "Repo", "sa", "os", "models"} <= f.names
    assert f.aliased == {"engine", "sqlalchemy"}
    assert f.async_defs == {"items"}
    assert f.has_async
    assert f.imports_any(["sqlalchemy.orm"]) and f.imports_any(["os.path.join"]) and f.imports_any(["os"])
    assert not f.imports_any(["sqlite3"]) and not f.imports_any(["sqlalchemyx", "osx.path"])
    assert f.scope_calls == f.module_calls
    assert f.type_string_names == set() and f.with_aliased == set()
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
    return d["not a type"]
'''


def test_facts_of_scopes_type_strings_and_with_aliases():
    f = file_facts(ast.parse(SCOPES_SAMPLE))
    # a class body in a function is a scope of its own for the engine (ctx.current_function())
    assert f.module_calls == {"Depends", "sessionmaker"}
    assert f.scope_calls == {"Depends", "sessionmaker", "open_conn"}
    assert {"inner_call", "make"} <= f.calls
    # strings flow.py may parse as types: annotations, subscripts, class_= values
    assert {"orm", "Session", "Optional", "Connection", "engine", "Engine", "Cursor", "AsyncSession",
            "not", "a", "type"} == f.type_string_names
    assert f.with_aliased == {"acquire"}


def test_facts_without_async():
    f = facts_of_source("def f():\n    return g()\n")
    assert not f.has_async and f.unawaited_calls == {"g"} and not f.module_calls
    assert facts_of_source("def f(:\n") is None
