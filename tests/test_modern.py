"""Syntax newer than the interpreter's `ast` (Python 3.12-3.14), rewritten line for line so
that the scan reads such files with `ast` instead of a libcst skeleton (`model/modern.py`)."""

import ast
import sys

import pytest

from fastapi_lint.model.facts import facts_of_source
from fastapi_lint.model.index import summarize_text
from fastapi_lint.model.modern import for_older_ast
from fastapi_lint.settings import Settings, resolve_selection

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 14), reason="the interpreter reads all of it")

#: Each line of a module with newer syntax, and what the rewrite makes of it.
LINES = [
    ("import time\n", None),
    ("type Seconds = float\n", "Seconds = float\n"),
    ("type Pair[K: dict[str, int], V = int] = tuple[K, V]\n", "Pair = tuple[K, V]\n"),
    ("type = 3\n", None),  # `type` is a soft keyword
    ("x = type(1); type Y = int\n", "x = type(1); Y = int\n"),
    ("def wait[T](s: Seconds, t: T) -> T:  # generic\n", "def wait(s: Seconds, t: T) -> T:  # generic\n"),
    ("    time.sleep(s)\n", None),
    ("    return t\n", None),
    ("class Box[T](list[T]):\n", "class Box(list[T]):\n"),
    ("    async def get[U](self) -> U:\n", "    async def get(self) -> U:\n"),
    ("        try:\n", None),
    ("            pass\n", None),
    ("        except ValueError, KeyError:\n", "        except (ValueError, KeyError):\n"),
    ('            note = """\n', None),
    ("type Fake = 1\n", None),  # in a string
    ("except A, B:\n", None),
    ("def f[T](): pass\n", None),
    ('"""\n', None),
    ("        except (A, B) as e:\n", None),
    ("            pass\n", None),
    ("        try:\n", None),
    ("            pass\n", None),
    ("        except* (OSError, EOFError) as e:\n", None),
    ("            pass\n", None),
    ("        except* TypeError, NameError:\n", "        except* (TypeError, NameError):\n"),
    ("            pass\n", None),
]
MODERN = "".join(line for line, _ in LINES)
EXPECTED = "".join(line if new is None else new for line, new in LINES)


def test_the_three_constructs_are_rewritten_and_nothing_else():
    with pytest.raises(SyntaxError):
        ast.parse(MODERN)
    out = for_older_ast(MODERN)
    assert out == EXPECTED
    ast.parse(out)
    assert out.count("\n") == MODERN.count("\n")


@pytest.mark.parametrize("source", [
    "x = 1\n",  # nothing to rewrite
    "def f[\n    T,\n](x: T): pass\n",  # type parameters over lines: left to libcst
    "type X[\n  T\n] = list[T]\n",
    "try:\n    pass\nexcept A, \\\n        B:\n    pass\n",  # the types over lines
    "f'{x!r:>{w}}' + f\"{'a'}\"\ndef f[T](): pass\n'unterminated\n",  # tokens that cannot be read
])
def test_what_is_not_rewritten(source):
    assert for_older_ast(source) is None


def test_the_scan_reads_modern_files_with_ast():
    """Full summaries (per-function facts) and second-gate facts, where a libcst skeleton
    had neither."""
    summary = summarize_text(MODERN, "m.py", "m", False)
    wait = summary.functions["m.wait"]
    assert wait.line == 6 and wait.facts.get("blocks")
    assert summary.functions["m.Box.get"].is_async and summary.classes["m.Box"] == []
    facts = facts_of_source(MODERN)
    assert facts is not None and "sleep" in facts.names


def test_a_blocking_helper_in_a_modern_module_is_seen_from_a_route(tmp_path):
    """FPI110 knows that `wait` blocks, though its module uses 3.12 syntax; the lint itself
    reads the original text with libcst (positions in the modern file are its own)."""
    from fastapi_lint.engine import lint_paths

    (tmp_path / "helpers.py").write_text(MODERN)
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\nfrom helpers import wait\n\napp = FastAPI()\n\n\n"
        "@app.get('/')\nasync def handler():\n    wait(1, 2)\n")
    settings = Settings(enabled=resolve_selection(None, (), ()), root=str(tmp_path), jobs=1, cache=False)
    run = lint_paths([str(tmp_path / "app.py"), str(tmp_path / "helpers.py")], settings)
    found = {(r.path.rsplit("/", 1)[-1], d.code, d.line) for r in run.results for d in r.diagnostics}
    assert ("app.py", "FPI110", 9) in found
    assert not run.errors
