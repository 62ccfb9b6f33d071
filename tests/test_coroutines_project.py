"""FPI201 across modules: a small package whose async defs and classes are used from another module."""

import collections
import os

from fixture_support import FIXTURES, expected_markers
from fastapi_lint.engine import lint_paths
from fastapi_lint.settings import Settings, resolve_selection

PROJECT = os.path.join(FIXTURES, "projects", "coroutines")


def _files():
    out = []
    for base, _, names in os.walk(PROJECT):
        out += [os.path.join(base, n) for n in names if n.endswith(".py")]
    return sorted(out)


def _settings(**kw):
    return Settings(enabled=resolve_selection(["FPI2"], [], []), root=PROJECT, **kw)


def test_cross_module_markers():
    files = _files()
    run = lint_paths(files, _settings())
    assert not run.errors, run.errors
    got = collections.Counter((d.path, d.line, d.code) for d in run.diagnostics)
    expected = collections.Counter()
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for (line, code), n in expected_markers(fh.read()).items():
                expected[(f, line, code)] += n
    assert sum(expected.values()) == 6
    got = collections.Counter({(os.path.abspath(p), l, c): n for (p, l, c), n in got.items()})
    assert got == expected, {"missing": expected - got, "unexpected": got - expected}


def test_alone_the_module_knows_nothing_of_the_others():
    routes = os.path.join(PROJECT, "shop", "api", "routes.py")
    run = lint_paths([routes], _settings())
    # every finding in routes.py needs another module's async defs: alone, none is known
    assert [d for d in run.diagnostics if d.code == "FPI201"] == []


def test_fix_inserts_await_across_modules():
    routes = os.path.join(PROJECT, "shop", "api", "routes.py")
    run = lint_paths(_files(), _settings(fix=True))
    fixed = next(r for r in run.results if os.path.abspath(r.path) == routes or r.path.endswith("routes.py"))
    text = fixed.fixed_source.decode("utf-8")
    assert "    await send_receipt(order_id)  # error: FPI201" in text
    assert "    await services.orders.get(order_id)  # error: FPI201" in text
    assert "    return send_receipt(1)" in text
