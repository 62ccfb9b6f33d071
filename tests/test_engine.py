"""Engine behaviour: crashing rules, the public API, the token gate, the model's name resolution."""

import os
import libcst as cst
import pytest

from fastapi_lint import lint_source
from fastapi_lint import engine
from fastapi_lint.registry import RULES, Rule, all_rules
from fastapi_lint.settings import Settings, resolve_selection

BAD = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


class Crashy(Rule):
    code = "FPI199"
    name = "crashy"
    summary = "A rule that raises, to test isolation."
    docs = "\n".join(f"## {s}\nx" for s in ("What it does", "Why is this bad?", "Example", "Use instead",
                                               "Fix safety"))

    def visit_Call(self, node):
        raise ZeroDivisionError("boom")


@pytest.fixture
def crashy(monkeypatch):
    monkeypatch.setitem(RULES, "FPI199", Crashy)


def test_crashing_rule_is_isolated(crashy):
    result = lint_source(BAD, "app.py", Settings(enabled=frozenset({"FPI101", "FPI199"})))
    assert [d.code for d in result.diagnostics] == ["FPI101"]
    assert len(result.errors) == 1
    assert "FPI199" in result.errors[0] and "ZeroDivisionError" in result.errors[0]


def test_crashing_rule_exits_two_and_other_files_still_run(crashy, run_cli, tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text(BAD)
    status, out, err = run_cli("--select", "FPI101,FPI199", "--no-cache", "-q", ".")
    assert status == 2
    assert out.count("FPI101") == 2
    assert "rule FPI199 failed" in err and "a.py" in err and "b.py" in err


def test_token_gate_skips_rules_but_still_reports_syntax_errors():
    result = lint_source("def f(:\n", "x.py")
    assert [d.code for d in result.diagnostics] == ["FPI000"]
    assert lint_source("x = 1\n", "x.py").diagnostics == []


def test_newer_syntax_is_not_a_parse_error():
    # CPython 3.11's ast rejects these; libcst reads them: no FPI000.
    src = "type Alias = int\n\nclass Box[T]:\n    pass\n\ntry:\n    pass\nexcept ValueError, TypeError:\n    pass\n"
    assert lint_source(src, "x.py").diagnostics == []


def test_lint_source_accepts_str_and_bytes():
    s = lint_source(BAD, "app.py")
    b = lint_source(BAD.encode(), "app.py")
    assert [d.to_dict() for d in s.diagnostics] == [d.to_dict() for d in b.diagnostics]


def test_selection_specificity():
    assert "FPI101" in resolve_selection(None, [], [])
    assert "FPI101" not in resolve_selection(None, [], ["FPI1"])
    assert "FPI101" in resolve_selection(["FPI101"], [], ["FPI1"])
    assert "FPI101" not in resolve_selection(["FPI1"], [], ["FPI101"])
    assert "FPI101" not in resolve_selection(["FPI101"], [], ["FPI101"])
    assert resolve_selection(["ALL"], [], []) == frozenset(RULES)


def test_fix_that_would_not_parse_is_dropped(monkeypatch):
    from fastapi_lint import fixes

    module = cst.parse_module("x = 1\n")
    bad = cst.parse_module("y = 2\n").body[0].body[0].with_changes(
        targets=[cst.AssignTarget(cst.Integer("3"))])  # `3 = 2` renders but does not parse
    from fastapi_lint.registry import FixSpec

    spec = FixSpec("safe", "t", {module.body[0].body[0]: bad})
    assert fixes.apply_specs(module, [spec]) is None


def test_index_summaries_from_ast_and_the_libcst_skeleton():
    from fastapi_lint.model.index import summarize_module, summarize_source

    src = ("from fastapi import Depends\nfrom .db import Base\n\n\nclass Repo(Base):\n    async def load(self):\n"
           "        return 1\n\n\nasync def get_repo():\n    return Repo()\n\n\nrepo = Repo()\n"
           "Dep = Annotated[Repo, Depends(get_repo)]\n")
    full = summarize_source(src, "pkg/svc.py", "pkg.svc", False)
    assert full.functions["pkg.svc.Repo.load"].facts.get("coroutine") is True
    assert full.classes == {"pkg.svc.Repo": ["pkg.db.Base"]}
    assert full.dependencies == {"pkg.svc.get_repo"} and full.depends_aliases == {"pkg.svc.Dep"}
    assert full.instances == {"repo": "pkg.svc.Repo"}
    skeleton = summarize_module(cst.parse_module(src), src, "pkg/svc.py", "pkg.svc", False)
    assert set(skeleton.functions) == set(full.functions)
    assert skeleton.functions["pkg.svc.get_repo"].is_async and not skeleton.functions["pkg.svc.get_repo"].facts
    assert skeleton.classes == full.classes


def test_index_summaries_of_unchanged_files_come_from_the_cache(tmp_path, monkeypatch):
    from fastapi_lint import engine
    from fastapi_lint.cache import Cache

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "svc.py").write_text("async def fetch():\n    return 1\n")
    (tmp_path / "pkg" / "api.py").write_text("from .svc import fetch\n\n\nasync def route():\n    fetch()\n")
    settings = Settings(root=str(tmp_path))
    paths = [str(tmp_path / "pkg" / n) for n in ("__init__.py", "svc.py", "api.py")]
    cache = Cache(settings)
    first = engine.lint_paths(paths, settings, cache)
    cache.save()
    assert [d.code for d in first.diagnostics] == ["FPI201"]

    summarized = []
    real = engine._summary_work
    monkeypatch.setattr(engine, "_summary_work", lambda p: summarized.append(p) or real(p))
    (tmp_path / "pkg" / "api.py").write_text("from .svc import fetch\n\n\nasync def route():\n    await fetch()\n")
    second = engine.lint_paths(paths, settings, Cache(settings))
    assert second.diagnostics == []
    assert summarized == [paths[2]], "only the changed file is summarised again"


def _tree_of_odd_files(root):
    files = {
        "app.py": "import time\n\n\nasync def h():\n    time.sleep(1)\n",
        "clean.py": "x = 1\n",
        "broken.py": "def f(:\n",  # no rule's tokens: the syntax check alone must catch it
        "broken_async.py": "import time\nasync def h(:\n    time.sleep(1)\n",
        "newer.py": "type Alias = int\n",  # libcst reads it; CPython 3.11 does not
        "latin.py": "x = 'caf\xe9'\n",
        "asleep.py": "import asyncio\n\n\nasync def h():\n    await asyncio.sleep(1)\n",
    }
    for name, text in files.items():
        (root / name).write_bytes(text.encode("latin-1" if name == "latin.py" else "utf-8"))
    return sorted(str(root / n) for n in files)


@pytest.mark.parametrize("select", [["FPI101"], ["FPI101", "FPI102", "FPI104", "FPI301", "FPI302", "FPI304"],
                                    ["FPI4", "FPI501", "FPI507"]])
def test_a_selection_without_index_rules_scans_only_what_its_tokens_call_for(tmp_path, monkeypatch, select):
    """No enabled rule needs the project index: no summaries are made, cached results need no
    scan, and every file's result is what linting it alone gives (syntax errors included)."""
    from fastapi_lint import engine
    from fastapi_lint.cache import Cache

    paths = _tree_of_odd_files(tmp_path)
    settings = Settings(enabled=resolve_selection(select, (), ()), root=str(tmp_path))
    assert not engine.needs_index(settings)
    alone = {p: engine.lint_file(p, settings).diagnostics for p in paths}
    assert [d.code for d in alone[str(tmp_path / "broken.py")]] == ["FPI000"]
    assert [d.code for d in alone[str(tmp_path / "latin.py")]] == ["FPI000"]
    monkeypatch.setattr(engine, "_summary_work", lambda p: pytest.fail("summarised without an index rule"))
    cache = Cache(settings)
    run = engine.lint_paths(paths, settings, cache)
    assert {r.path: r.diagnostics for r in run.results} == {engine.display_path(p): d for p, d in alone.items()}
    cache.save()

    scanned = []
    real = engine._facts_work
    monkeypatch.setattr(engine, "_facts_work", lambda p: scanned.append(p) or real(p))
    again = engine.lint_paths(paths, settings, Cache(settings))
    assert again.diagnostics == run.diagnostics and scanned == []
    (tmp_path / "clean.py").write_text("y = 2\n")
    engine.lint_paths(paths, settings, Cache(settings))
    assert scanned == [str(tmp_path / "clean.py")]


def test_shipped_rule_metadata_is_what_the_rules_say():
    """`_rule_meta.py` lets a run select rules and ask for the project index without importing
    the rules; regenerate it with `python -m fastapi_lint.registry > fastapi_lint/_rule_meta.py`."""
    from pathlib import Path

    from fastapi_lint import _rule_meta, registry

    shipped = Path(_rule_meta.__file__).read_text(encoding="utf-8")
    assert shipped == registry.render_rule_meta()
    assert set(_rule_meta.RULES) == set(registry.all_rules())
    assert {c: tuple(m) for c, m in registry.rule_meta().items()} == _rule_meta.RULES


def test_shipped_child_orders_are_what_libcst_source_says():
    """`_cst_order.py` spares every process reading libcst's source for the child order of
    each node type; for the libcst it was generated with, it must say what the source says
    (another version reads the source: `traverse._preload`)."""
    import libcst as cst

    from fastapi_lint import _cst_order, traverse

    if _cst_order.LIBCST_VERSION != traverse._libcst_version():
        pytest.skip("libcst differs from the one _cst_order.py was generated with")
    assert _cst_order.ORDER == traverse.order_table()
    assert traverse._ORDER[cst.FunctionDef] == _cst_order.ORDER["FunctionDef"]
    # and walking gives libcst's own visiting order
    module = cst.parse_module("@d(x)\nasync def f(a: int = 1, *, b) -> str:\n    return f'{a!r:>{b}}' + g[1:2]\n")
    seen, theirs = [], []

    class Order(cst.CSTVisitor):
        def on_visit(self, node):
            theirs.append(type(node).__name__)
            return True

    module.visit(Order())
    traverse.walk(module, lambda n: seen.append(type(n).__name__) or True, lambda n: None)
    assert seen == theirs


def test_walk_visits_every_fixture_node_as_libcst_does():
    """`traverse.children` tells nodes from other field values by a table of node classes
    (cheaper than `isinstance` through ABCMeta): the walk must still meet the very nodes,
    in the very order, that libcst's own `visit` meets, on every fixture."""
    import libcst as cst

    from fastapi_lint import traverse
    from fixture_support import FIXTURES

    class Order(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_visit(self, node):
            self.seen.append(node)
            return True

    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
            module = cst.parse_module(fh.read())
        theirs = Order()
        module.visit(theirs)
        seen = []
        traverse.walk(module, lambda n: seen.append(n) or True, lambda n: None)
        assert len(seen) == len(theirs.seen) and all(a is b for a, b in zip(seen, theirs.seen)), name


def test_children_of_a_node_subclass_made_after_the_table():
    import libcst as cst

    from fastapi_lint import traverse

    class MyName(cst.Name):
        pass

    node = cst.Call(func=MyName("f"), args=[cst.Arg(MyName("x"))])
    assert traverse.children(node)[0] is node.func
    assert any(n is node.args[0].value for n in traverse.children(node.args[0]))
    assert MyName in traverse._NODE_TYPES


def _damaged(source, rng):
    """Copies of `source` with a few characters cut out, or a line's indentation dropped."""
    lines = source.splitlines(True)
    for _ in range(4):
        i = rng.randrange(len(source))
        yield source[:i] + source[i + rng.randrange(1, 12):]
        k = rng.randrange(len(lines))
        yield "".join(lines[:k] + [lines[k].lstrip()] + lines[k:])


def test_the_unvalidated_parse_accepts_and_rejects_what_libcst_does():
    """`parse_source` skips libcst's per-node validation while parsing: on every fixture and
    damaged copies of them, it must accept exactly what the validating parse accepts, giving
    the same code back; afterwards nodes are validated again."""
    import random

    import libcst as cst

    from fastapi_lint.engine import SourceError, parse_source
    from fixture_support import FIXTURES

    rng = random.Random(7)
    checked = rejected = 0
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
            source = fh.read()
        for variant in [source, *_damaged(source, rng)]:
            try:
                expected = cst.parse_module(variant).code
            except Exception:
                expected = None
            try:
                got = parse_source(variant).code
            except SourceError:
                got = None
            assert got == expected, (name, variant)
            checked += 1
            rejected += expected is None
    assert checked > 500 and rejected > 50
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(SourceError):
        parse_source("def f(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


STILL_USED = {
    "import time\nasync def f():\n    await asyncio.sleep(1)\n    time.time()\n": True,
    "import time\nimport datetime\nx = datetime.time(1)\ny = time.time()\nf(time=1)\n": True,
    "from time import sleep\nsleep(1)\n": True,
    "import os.path\nos.getcwd()\n": True,
    "import time\nasync def f():\n    await asyncio.sleep(1)\n": False,  # no read left
    "import time\ndef g(time):\n    time.x()\n": False,  # the read is of a parameter
    "import time\nfrom m import *\nx = time.time()\n": False,
    "import time\ndef g():\n    import time\n    time.time()\n": False,
    "import time\nx: 'time.struct_time'\n": False,  # a read libcst may see, we do not
    "import time\nfor time in []: pass\ny = time.time()\n": False,
    "import time\nprint(time)\n": False,
}


@pytest.mark.parametrize("source,expected", sorted(STILL_USED.items()))
def test_still_used_is_sure_or_leaves_it_to_libcst(source, expected):
    from fastapi_lint.fixes import still_used

    name = "sleep" if "from time" in source else "os" if "os.path" in source else "time"
    assert still_used(cst.parse_module(source), name) is expected


def test_still_used_never_says_used_where_libcst_would_remove_the_import():
    """`apply_specs` skips libcst's RemoveImportsVisitor (seconds on a big file) when
    `still_used` says so: for every top-level import of every fixture, libcst must then keep
    the import (one import per fixture: libcst's check is the slow part)."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import RemoveImportsVisitor

    from fastapi_lint.fixes import still_used
    from fixture_support import FIXTURES

    sure = 0
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".py") or sure >= 25:
            continue
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
            module = cst.parse_module(fh.read())
        checked = 0
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.Import):
                    continue
                for alias in small.names:
                    dotted = module.code_for_node(alias.name)
                    bound = alias.asname.name.value if alias.asname else dotted.split(".")[0]
                    if still_used(module, bound) and not checked:
                        sure += 1
                        checked = 1
                        context = CodemodContext()
                        asname = alias.asname.name.value if alias.asname else None
                        RemoveImportsVisitor.remove_unused_import(context, dotted, None, asname)
                        kept = RemoveImportsVisitor(context).transform_module(module)
                        assert kept.code == module.code, (name, dotted)
    assert sure > 20


@pytest.mark.parametrize("imports", [[("asyncio", None, None)], [("contextlib", "asynccontextmanager", None)],
                                     [("anyio", None, None), ("typing", "Any", "A"), ("__future__", "annotations", None)]])
def test_adding_imports_to_the_head_equals_libcst_on_the_whole_module(imports):
    """`fixes.add_imports` runs AddImportsVisitor on the leading statements only: on every
    fixture (docstrings, `__future__`, existing `from x import`, none at all) the result
    must be libcst's own, and the odd sources too."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    from fastapi_lint.fixes import add_imports
    from fixture_support import FIXTURES

    sources = []
    if len(imports) > 1:  # libcst's whole-module run is slow: every other fixture, once
        for name in sorted(os.listdir(FIXTURES))[::2]:
            if name.endswith(".py"):
                with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as fh:
                    sources.append(fh.read())
    sources += ['"""doc"""\n', "", "import os\n", '"""doc"""\nfrom typing import List\nx = 1\n',
                "# only a comment\n", "from contextlib import contextmanager\n\n\ndef f():\n    pass\n",
                "__strict__ = True\nimport os\n", "import os; import sys\nx = 1\n"]
    for source in sources:
        module = cst.parse_module(source)
        contexts = []
        for _ in range(2):
            context = CodemodContext()
            for mod, obj, asname in imports:
                AddImportsVisitor.add_needed_import(context, mod, obj, asname)
            contexts.append(context)
        expected = AddImportsVisitor(contexts[0]).transform_module(module).code
        assert add_imports(module, contexts[1]).code == expected, source[:200]


def test_replacing_only_the_ancestors_equals_libcst_transformer():
    """`fixes.replace_nodes` rebuilds only the ancestors of the replaced nodes: for random
    replacements (names, removed and flattened statements, nested replaced nodes, removed
    optional parts) in every fixture, the code must be what libcst's transformer gives."""
    import random

    from fastapi_lint.fixes import _Replacer, replace_nodes
    from fastapi_lint.traverse import walk
    from fixture_support import FIXTURES

    rng = random.Random(3)
    checked = 0
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as fh:
            module = cst.parse_module(fh.read())
        nodes = []
        walk(module, lambda n: nodes.append(n) or True, lambda n: None)
        names = [n for n in nodes if type(n) is cst.Name]
        statements = [n for n in nodes if isinstance(n, cst.SimpleStatementLine)]
        optional = [n for n in nodes if type(n) is cst.Param and n.annotation is not None]
        for _ in range(4):
            replacements = {}
            for n in rng.sample(names, min(3, len(names))):
                replacements[id(n)] = cst.Name("renamed")
            if len(statements) > 3:
                a, b = rng.sample(statements, 2)
                replacements[id(a)] = cst.RemovalSentinel.REMOVE
                replacements[id(b)] = cst.FlattenSentinel([b, cst.parse_statement("pass\n")])
            if optional and rng.random() < 0.25:
                param = rng.choice(optional)
                replacements[id(param.annotation)] = cst.RemovalSentinel.REMOVE  # optional field: the fallback
            expected = module.visit(_Replacer(dict(replacements))).code
            assert replace_nodes(module, dict(replacements)).code == expected, name
            checked += 1
    assert checked > 100


def test_no_reference_cycle_keeps_a_files_tree_alive(tmp_path):
    """The engine raises the collector's threshold while it lints (`engine.GC_THRESHOLD`): that
    is only cheap if every file's `ast` and libcst trees are freed by reference counting when
    its work is done, not left in a cycle (a class made per call, a recursive closure, a model
    pointing back at its context) for a full collection to find."""
    import ast
    import gc
    import shutil

    from fixture_support import FIXTURES, fixture_files

    from fastapi_lint.engine import lint_paths

    for name in fixture_files():
        shutil.copy(os.path.join(FIXTURES, name), tmp_path / name)
    paths = sorted(str(p) for p in tmp_path.iterdir())
    settings = Settings(enabled=resolve_selection(None, (), ()), root=str(tmp_path), jobs=1, cache=False)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run = lint_paths(paths, settings)
        gc.collect()
        kept = sorted({type(o).__name__ for o in gc.garbage if isinstance(o, (cst.CSTNode, ast.AST))})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
        gc.collect()
    assert sum(len(r.diagnostics) for r in run.results) > 100  # the rules did run
    assert kept == []


def _thirty_files(tmp_path):
    for i in range(30):
        (tmp_path / f"m{i:02}.py").write_text(BAD)
    return sorted(str(p) for p in tmp_path.glob("m*.py"))


def test_a_lint_worker_that_dies_costs_its_files_not_the_run(tmp_path, monkeypatch):
    """A forked child killed while it lints (out of memory, say): the files it had claimed
    get an internal error naming the signal, every other file its findings."""
    import signal
    import time

    from fastapi_lint import engine, forkmap

    if not forkmap.available():
        pytest.skip("forks on Linux only")
    paths = _thirty_files(tmp_path)
    marker = tmp_path / "child-claimed"
    parent, real = os.getpid(), engine.lint_file

    def dying(path, *args, **kwargs):
        if os.getpid() != parent:
            marker.write_text(path)
            os.kill(os.getpid(), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:  # let the child claim a chunk
            time.sleep(0.005)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(engine, "lint_file", dying)
    settings = Settings(enabled=resolve_selection(None, (), ()), root=str(tmp_path), jobs=2, cache=False)
    run = engine.lint_paths(paths, settings)
    assert [os.path.basename(r.path) for r in run.results] == [os.path.basename(p) for p in paths]
    lost = [r for r in run.results if r.errors]
    assert lost and len(lost) <= len(forkmap.chunked(paths, 2)[0])
    assert any(r.path.endswith(os.path.basename(marker.read_text())) for r in lost)
    assert all(f"the worker process linting it died (killed by signal {signal.SIGKILL})" in r.errors[0]
               for r in lost)
    assert all([d.code for d in r.diagnostics] == ["FPI101"] for r in run.results if not r.errors)
    assert len(run.results) == 30


@pytest.mark.parametrize("how", ["fork", "pool"])
def test_several_workers_find_what_one_finds(tmp_path, monkeypatch, how):
    """The forked children of Linux and the process pool used elsewhere give what one
    process gives, in the same order."""
    from fastapi_lint import engine, forkmap

    if how == "fork" and not forkmap.available():
        pytest.skip("forks on Linux only")
    paths = _thirty_files(tmp_path)
    (tmp_path / "m07.py").write_text("async def f(:\n")

    def run(jobs):
        settings = Settings(enabled=resolve_selection(None, (), ()), root=str(tmp_path), jobs=jobs, cache=False)
        return [(r.path, [(d.code, d.line) for d in r.diagnostics], r.errors)
                for r in engine.lint_paths(paths, settings).results]

    one = run(1)
    if how == "pool":
        monkeypatch.setattr(forkmap, "available", lambda: False)
    assert run(2) == one
    assert sum(len(codes) for _, codes, _ in one) == 30 and one[7][1][0][0] == "FPI000"


def test_token_gate_reads_tokens_as_substrings_of_the_text():
    """`_gate` looks identifier-like tokens up among the text's identifiers: the same answer as
    searching the text, for tokens inside longer names, after digits or before non-ASCII."""
    rules = engine.rules_for(frozenset(all_rules()))

    def by_substring(text):
        return [r.code for r in rules if (r.requires is None or any(t in text for t in r.requires))
                and (r.tokens is None or any(t in text for t in r.tokens))]

    texts = ["", "async def f(): pass", "x = AsyncSessionLocal()", "async 1Session", "async reopen\u00f1",
             "async def f():\n    shutil_x = 0  # Paths", "async x.get(1) '/{x}' os.path", "9sleep async",
             "asyncio.to_thread(f)", "async_ = 1\nsleepy = 2"]
    fixtures = os.path.join(os.path.dirname(__file__), "fixtures")
    texts += [open(os.path.join(fixtures, n), encoding="utf-8").read() for n in sorted(os.listdir(fixtures))
              if n.endswith(".py")][:40]
    for text in texts:
        assert [r.code for r in engine._gate(rules, text, None, None)] == by_substring(text), text[:60]
