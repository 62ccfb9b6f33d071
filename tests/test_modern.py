"""Syntax newer than the interpreter's `ast` (Python 3.12-3.14), rewritten line for line so
that the scan reads such files with `ast` instead of a libcst skeleton (`model/modern.py`)."""

import ast
import sys

import pytest

from fastapi_lint.model.facts import facts_of_source
from fastapi_lint.model.index import summarize_text
from fastapi_lint.model import modern
from fastapi_lint.model.modern import for_older_ast, parse
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


def test_parse_gives_the_tree_of_the_rewrite():
    assert ast.dump(parse(MODERN)) == ast.dump(ast.parse(EXPECTED))
    assert ast.dump(parse("x = 1\n")) == ast.dump(ast.parse("x = 1\n"))
    with pytest.raises(SyntaxError):
        parse("def f[\n    T,\n](x: T): pass\n")  # what neither rewrite reads: the caller's libcst


#: Constructs on their own lines, none inside a string: the statements alone are tokenized.
PLAIN = ("import time\n\nclass Repo[M](Base[M]):  # generic\n    async def get[T](\n        self, x: T\n"
         "    ) -> T:\n        try:\n            return x\n        except KeyError, IndexError:\n"
         "            raise\n\ntype Alias = dict[str, int]\n")


def test_only_the_candidate_statements_are_tokenized(monkeypatch):
    expected = ast.dump(ast.parse(for_older_ast(PLAIN)))
    monkeypatch.setattr(modern, "for_older_ast", lambda text: pytest.fail("the whole file was tokenized"))
    assert ast.dump(parse(PLAIN)) == expected


def test_a_candidate_inside_a_string_falls_back_to_the_whole_file():
    """`type Fake = 1` at the start of a line of a string looks like a statement to the
    windowed rewrite: no statement of the tree starts there, so the whole file's tokens decide,
    and the string is left as written."""
    source = 'x = """\ntype Fake = 1\n"""\ntype Real = int\n'
    rewritten, places = modern._windowed(source)
    assert places == [(2, 0), (4, 0)] and "Fake = 1" in rewritten.splitlines()
    tree = parse(source)
    assert tree.body[0].value.value == "\ntype Fake = 1\n"
    assert ast.dump(tree) == ast.dump(ast.parse('x = """\ntype Fake = 1\n"""\nReal = int\n'))


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


def test_a_selection_without_the_index_checks_modern_files_with_ast(tmp_path, monkeypatch):
    """`--select FPI101` (no rule needs the index): a file of newer syntax without the rule's
    tokens is checked for syntax errors on its rewrite, not sent to libcst; a real syntax
    error still is, and is reported."""
    from fastapi_lint import engine

    (tmp_path / "modern.py").write_text("type Alias = int\n\n\nclass Box[T]:\n    item: T\n")
    (tmp_path / "broken.py").write_text("type Alias = int\n\ndef f(:\n    pass\n")
    parsed = []
    real = engine.parse_source
    monkeypatch.setattr(engine, "parse_source", lambda data: parsed.append(data) or real(data))
    settings = Settings(enabled=frozenset({"FPI101"}), root=str(tmp_path), jobs=1, cache=False)
    run = engine.lint_paths([str(tmp_path / "modern.py"), str(tmp_path / "broken.py")], settings)
    found = {(r.path.rsplit("/", 1)[-1], d.code) for r in run.results for d in r.diagnostics}
    assert found == {("broken.py", "FPI000")}
    assert len(parsed) == 1 and b"def f(:" in parsed[0]
