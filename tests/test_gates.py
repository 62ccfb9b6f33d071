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
    monkeypatch.setattr(engine, "_wanted", lambda rules, facts, index: True)
    open_ = lint_paths(files, settings)
    assert [_key(r) for r in gated.results] == [_key(r) for r in open_.results]
    assert sum(len(r.diagnostics) for r in gated.results) > 0


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
    assert FileFacts.from_data(f.to_data()) == f


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
    assert f.string_names == {"Optional", "Session", "a", "b", "Literal", "x", "y", "c", "T", "U"}
    assert FileFacts.from_data(f.to_data()) == f
    assert FileFacts.from_data(f.to_data()[:-1]) is None  # a cache from before the last fact: no gate


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
    assert not f.has_async and f.unawaited_calls == {"g"} and not f.module_calls
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
        facts = facts_of_source(variant)
        if facts is None:
            continue  # removing a statement broke the program (e.g. an emptied block)
        assert _key(lint_source(variant, path, ALL, facts=facts)) == _key(lint_source(variant, path, ALL)), \
            f"keeping lines {keep[0]}-{keep[1]}"
