"""Fuzzing: lint never raises (and no rule crashes), the facts gate changes no finding, every fix
parses, fixing twice changes nothing.

hypothesmith generates valid Python from the grammar; a few snippets every rule family cares
about (async defs, blocking calls under several import forms) are mixed in so that fixes
actually run. The quick suite runs a bounded number of examples; the `slow` variants run
many more (`.ci/run` runs them: `python -m pytest -m slow tests/test_fuzz.py`).
"""

from __future__ import annotations

import os

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fastapi_lint.engine import lint_source
from fastapi_lint.model.facts import facts_of_source
from fastapi_lint.settings import Settings

#: Programs per run of the quick suite and of the long run (`.ci/run`: all tests).
QUICK = int(os.environ.get("FPI_FUZZ_QUICK", "30"))
LONG = int(os.environ.get("FPI_FUZZ_LONG", "300"))

SNIPPETS = [
    "import time\n\nasync def handler():\n    time.sleep(1)\n",
    "import time as t\n\nasync def handler(x):\n    return t.sleep(x).real\n",
    "from time import sleep\n\nasync def handler():\n    sleep(0.1)\n    return [sleep(1) for _ in range(2)]\n",
    "from time import sleep as pause\nclass A:\n    async def m(self):\n        pause(1)\n        def inner():\n            pause(2)\n",
    "import time\n\nasync def gen():\n    yield time.sleep(1)\n    x = (time.sleep(2))\n    y = time.sleep(3)[0]\n",
    "import asyncio, time\n\nasync def h():\n    await asyncio.sleep(0)\n    time.sleep(1); time.sleep(2)\n",
]

ALL = Settings(fix=True, unsafe_fixes=True)


#: hypothesmith's strategy, built once: `from_grammar()` builds a Lark parser of Python's
#: grammar (1.3 s, 3 s on a loaded machine); made inside `_program`, every example paid it.
_GENERATED = st.deferred(hypothesmith.from_grammar)


def _program(draw) -> str:
    generated = draw(_GENERATED)
    parts = [generated]
    for snippet in draw(st.lists(st.sampled_from(SNIPPETS), max_size=3)):
        parts.insert(draw(st.integers(0, len(parts))), snippet)
    return "\n".join(p if p.endswith("\n") else p + "\n" for p in parts)


#: hypothesmith compiles what it generates (`compile(code, "<string>", ...)`), and CPython
#: warns about some of it (`1()`: "'int' object is not callable"): its warnings, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

programs = st.composite(_program)()


def check_program(source: str) -> None:
    try:
        cst.parse_module(source)
    except Exception:
        return  # hypothesmith produces a few programs libcst itself does not accept
    plain = lint_source(source, "fuzz.py")
    assert plain.errors == [], plain.errors
    facts = facts_of_source(source)
    if facts is not None:  # the facts gate changes no finding (tests/test_gates.py)
        gated = lint_source(source, "fuzz.py", facts=facts)
        assert [(d.line, d.column, d.code) for d in gated.diagnostics] == \
            [(d.line, d.column, d.code) for d in plain.diagnostics]
    fixed = lint_source(source, "fuzz.py", ALL)
    assert fixed.errors == [], fixed.errors
    if fixed.fixed_source is None:
        return
    cst.parse_module(fixed.fixed_source)  # every fix parses (libcst is the judge)
    again = lint_source(fixed.fixed_source, "fuzz.py", ALL)
    assert again.errors == []
    assert again.fixed_source is None, "fixing a fixed file changed it again"


def check_bytes(data: bytes) -> None:
    res = lint_source(data, "fuzz.py", ALL)
    assert res.errors == [], res.errors
    for d in res.diagnostics:
        assert d.line >= 1 and d.column >= 1


@settings(max_examples=QUICK, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs)
def test_fuzz_programs_quick(source):
    check_program(source)


def test_the_snippets_exercise_fixes():
    """Guard against a fuzzer that never reaches the fix path: every snippet is fixed, once."""
    for snippet in SNIPPETS:
        res = lint_source(snippet, "fuzz.py", ALL)
        assert res.fixed_source is not None, snippet
        check_program(snippet)


@settings(max_examples=QUICK * 15, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_fuzz_bytes_quick(data):
    check_bytes(data)


@pytest.mark.slow
@settings(max_examples=LONG, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs)
def test_fuzz_programs_long(source):
    check_program(source)


@pytest.mark.slow
@settings(max_examples=LONG * 4, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_fuzz_bytes_long(data):
    check_bytes(data)
