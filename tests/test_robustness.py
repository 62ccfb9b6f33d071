"""Hostile inputs, generated here (nothing downloaded): every file gives a result or one clear
FPI000 diagnostic, the run goes on, no internal error, and the exit code is the documented one
(1: problems found; 2 only for usage errors and internal errors, which must not happen here).
`--fix` keeps a file's BOM, line endings and encoding."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from fastapi_lint import engine
from fastapi_lint.discovery import discover
from fastapi_lint.engine import lint_paths, lint_source
from fastapi_lint.settings import Settings

SLEEPY = b"import time\n\nasync def f():\n    time.sleep(1)\n"
# `import time` is left unused by the fix, so it goes
FIXED = b"import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n"


def _corpus(root) -> dict:
    """name -> what must come out: "FPI101" (linted normally), "FPI000:<text>" or "clean"."""
    files = {
        "syntax_error.py": (b"def f(:\n    pass\n", "FPI000:syntax error"),
        "python2.py": (b'print "hello"\nexec "x = 1"\n', "FPI000:syntax error"),
        "python2_sleepy.py": (b'import time\nasync def f():\n    print "x"\n    time.sleep(1)\n',
                              "FPI000:syntax error"),
        "null_byte.py": (b"import time\nx = 1\x00\n", "FPI000:null byte"),
        "bad_utf8.py": (b"import time\nname = '\xff\xfe'\n", "FPI000:cannot decode"),
        "unknown_coding.py": (b"# coding: klingon\nx = 1\n", "FPI000:unknown encoding"),
        "bom.py": (b"\xef\xbb\xbf" + SLEEPY, "FPI101"),
        "only_bom.py": (b"\xef\xbb\xbf", "clean"),
        "latin1.py": (b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + SLEEPY, "FPI101"),
        "crlf.py": (SLEEPY.replace(b"\n", b"\r\n"), "FPI101"),
        "mixed_endings.py": (b"import time\r\n\nasync def f():\r\n    time.sleep(1)\n    return 1\r\n", "FPI101"),
        "cr_only.py": (SLEEPY.replace(b"\n", b"\r"), "FPI101"),
        "tabs.py": (SLEEPY.replace(b"    ", b"\t"), "FPI101"),
        "no_final_newline.py": (SLEEPY.rstrip(b"\n"), "FPI101"),
        "empty.py": (b"", "clean"),
        "form_feed.py": (b"x = 1\n\x0c\n" + SLEEPY, "FPI101"),
        # 1,000-deep nesting: parentheses, lists, a left-leaning chain of `+`, an attribute chain.
        "deep_parens.py": (b"x = " + b"(" * 1000 + b"1" + b")" * 1000 + b"\n", "clean"),
        "deep_lists.py": (b"x = " + b"[" * 1000 + b"]" * 1000 + b"\n", "clean"),
        "deep_parens_sleepy.py": (b"import time\nasync def f():\n    x = " + b"(" * 1000 + b"time.sleep(1)"
                                  + b")" * 1000 + b"\n", "FPI101"),
        "deep_binop_sleepy.py": (b"import time\nasync def f():\n    x = "
                                 + b" + ".join([b"time.sleep(1)"] * 1000) + b"\n", "FPI101"),
        "deep_attr_sleepy.py": (b"import time\nasync def f():\n    time.sleep(1)" + b".a" * 1000 + b"\n",
                                "FPI101"),
        # 5 MB: one gated out (never parsed by libcst) and one that goes through the whole pipeline.
        "big_plain.py": (b"DATA = [\n" + b"    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',\n" * 84000
                         + b"]\n", "clean"),
        "big_sleepy.py": (b"DATA = '" + b"x" * (5 * 1024 * 1024) + b"'\n" + SLEEPY, "FPI101"),
    }
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    expected = {name: want for name, (_, want) in files.items()}
    # A directory whose name ends in .py: walked as a directory, never read as a file.
    (root / "pkg.py").mkdir()
    (root / "pkg.py" / "inner.py").write_bytes(SLEEPY)
    expected["pkg.py/inner.py"] = "FPI101"
    # Symbolic links: a file linking to itself, one to nowhere, a directory linking to its parent.
    os.symlink("self_loop.py", root / "self_loop.py")
    expected["self_loop.py"] = "FPI000:cannot read"
    os.symlink("no_such_target.py", root / "dangling.py")
    expected["dangling.py"] = "FPI000:cannot read"
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    return expected


def _by_file(diags) -> dict:
    out: dict = {}
    for d in diags:
        out.setdefault(d["path"].replace(os.sep, "/"), []).append(d)
    return out


def _parse_quiet(text: str) -> list:
    """`path:line:col: CODE message` lines of `--quiet` text output, as dicts like the JSON's."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(.+?):(\d+):(\d+): (FPI\d{3}) (?:\[\*\] )?(.*)$", line)
        if m:
            out.append({"path": m[1], "line": int(m[2]), "column": int(m[3]), "code": m[4], "message": m[5]})
    return out


def test_hostile_corpus_cli(run_cli, tmp_path):
    expected = _corpus(tmp_path)
    # Text output: JSON computes every fix's edits, one whole-module fix application per
    # finding, which is quadratic on the 1,000-finding line here (see bench/RESULTS.md).
    code, out, err = run_cli("check", "--no-cache", "--quiet", ".")
    assert "internal error" not in err and "failed" not in err, err
    assert code == 1  # problems found, and nothing went wrong
    got = _by_file(_parse_quiet(out))
    for name, want in expected.items():
        diags = got.get(name, [])
        codes = sorted({d["code"] for d in diags})
        if want == "clean":
            assert diags == [], (name, diags)
        elif want == "FPI101":
            assert codes == ["FPI101"], (name, diags)
        else:
            code_, text = want.split(":", 1)
            assert len(diags) == 1 and diags[0]["code"] == code_, (name, diags)  # one, not several
            assert text in diags[0]["message"], (name, diags[0]["message"])
            assert diags[0]["line"] >= 1 and diags[0]["column"] >= 1
    # Nothing reported for a path that was not in the corpus (the loop sub/up was not followed).
    assert set(got) <= set(expected), set(got) - set(expected)


def test_syntax_error_positions_are_where_the_mistake_is():
    res = lint_source("x = 1\ndef f(:\n    pass\n", "bad.py")
    [d] = res.diagnostics
    assert (d.code, d.line, d.column) == ("FPI000", 2, 7)
    res = lint_source(b"ok = 1\nname = '\xff'\n", "bad.py")
    [d] = res.diagnostics
    assert (d.code, d.line, d.column) == ("FPI000", 2, 9) and "\\xff" in d.message


FIX_CASES = {
    "bom.py": (b"\xef\xbb\xbf" + SLEEPY, b"\xef\xbb\xbf" + FIXED),
    "crlf.py": (SLEEPY.replace(b"\n", b"\r\n"), FIXED.replace(b"\n", b"\r\n")),
    "tabs.py": (SLEEPY.replace(b"    ", b"\t"), FIXED.replace(b"    ", b"\t")),
    "latin1.py": (b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + SLEEPY, None),
    "mixed.py": (b"import time\r\n\nasync def f():\r\n    time.sleep(1)\n    return 1\r\n",
                 b"import asyncio\r\n\nasync def f():\r\n    await asyncio.sleep(1)\n    return 1\r\n"),
}


@pytest.mark.parametrize("name", sorted(FIX_CASES))
def test_fix_keeps_encoding_bom_and_line_endings(run_cli, tmp_path, name):
    before, want = FIX_CASES[name]
    path = tmp_path / name
    path.write_bytes(before)
    code, _, err = run_cli("check", "--fix", "--no-cache", name)
    assert code == 0, err
    after = path.read_bytes()
    if want is not None:
        assert after == want
    else:  # latin-1: still latin-1 (é is one byte), still declared, and fixed
        assert after.startswith(b"# -*- coding: latin-1 -*-\n")
        assert b"'\xe9t\xe9'" in after and b"await asyncio.sleep(1)" in after
        after.decode("latin-1")
        with pytest.raises(UnicodeDecodeError):
            after.decode("utf-8")


def test_fix_leaves_files_libcst_cannot_round_trip(run_cli, tmp_path):
    """libcst drops the final `\\r` of a CR-only file: such a file is reported, never rewritten."""
    data = SLEEPY.replace(b"\n", b"\r")
    (tmp_path / "cr.py").write_bytes(data)
    code, _, _ = run_cli("check", "--fix", "--no-cache", "cr.py")
    assert code == 1
    assert (tmp_path / "cr.py").read_bytes() == data


def test_file_deleted_during_the_run(tmp_path):
    for i in range(15):  # enough files for the process pool
        (tmp_path / f"m{i}.py").write_bytes(SLEEPY)
    settings = Settings(root=str(tmp_path))
    files = discover([str(tmp_path)], settings).files
    os.unlink(tmp_path / "m3.py")  # discovered, then gone before it is read
    run = lint_paths(files, settings)
    assert run.errors == []
    by_name = {os.path.basename(r.path): r for r in run.results}
    [d] = by_name["m3.py"].diagnostics
    assert d.code == "FPI000" and "disappeared" in d.message
    assert all([x.code for x in by_name[f"m{i}.py"].diagnostics] == ["FPI101"] for i in range(15) if i != 3)


def test_file_deleted_during_the_run_cli(run_cli, tmp_path, monkeypatch):
    """The same through the CLI, with the cache on: the vanished file is not cached, the run goes on."""
    import fastapi_lint.cli as cli

    for i in range(3):
        (tmp_path / f"m{i}.py").write_bytes(SLEEPY)
    real = cli.discover

    def discover_then_delete(paths, settings):
        found = real(paths, settings)
        os.unlink(tmp_path / "m1.py")
        return found

    monkeypatch.setattr(cli, "discover", discover_then_delete)
    code, out, err = run_cli("check", "--format", "json", ".")
    assert code == 1 and "error" not in err
    got = _by_file(json.loads(out))
    assert [d["code"] for d in got["m1.py"]] == ["FPI000"]
    assert [d["code"] for d in got["m0.py"]] == ["FPI101"]


def test_unreadable_file_simulated(run_cli, tmp_path, monkeypatch):
    """Tests run as root here, and root reads a chmod-000 file, so the PermissionError that a normal
    user gets is simulated at the engine's one read of the file: it must become one FPI000."""
    (tmp_path / "secret.py").write_bytes(SLEEPY)
    (tmp_path / "ok.py").write_bytes(SLEEPY)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(engine, "open", guarded_open, raising=False)
    code, out, err = run_cli("check", "--no-cache", "--format", "json", ".")
    assert code == 1 and "error" not in err
    got = _by_file(json.loads(out))
    assert [(d["code"], d["message"]) for d in got["secret.py"]] == [("FPI000", "permission denied")]
    assert [d["code"] for d in got["ok.py"]] == ["FPI101"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read a chmod-000 file; see test_unreadable_file_simulated")
def test_unreadable_file_real(run_cli, tmp_path):
    (tmp_path / "secret.py").write_bytes(SLEEPY)
    os.chmod(tmp_path / "secret.py", 0)
    try:
        code, out, err = run_cli("check", "--no-cache", "--format", "json", ".")
    finally:
        os.chmod(tmp_path / "secret.py", 0o644)
    assert code == 1
    assert [d["code"] for d in json.loads(out)] == ["FPI000"]


def test_unreadable_directory_simulated(run_cli, tmp_path, monkeypatch):
    """A directory that cannot be listed: one FPI000 for it, the rest of the tree is linted."""
    import fastapi_lint.discovery as discovery

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.py").write_bytes(SLEEPY)
    (tmp_path / "b.py").write_bytes(SLEEPY)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    code, out, err = run_cli("check", "--no-cache", "--format", "json", ".")
    got = _by_file(json.loads(out))
    assert code == 1 and "error" not in err
    assert [d["code"] for d in got["locked"]] == ["FPI000"]
    assert [d["code"] for d in got["b.py"]] == ["FPI101"]


def test_a_crashing_rule_is_an_internal_error_and_the_run_goes_on(tmp_path, monkeypatch):
    """The documented exit 2 path: one rule raising on one file is reported, everything else runs."""
    from fastapi_lint.rules.blocking import BlockingSleep

    def boom(self, node):
        if "boom" in self.ctx.path:
            raise ValueError("boom")
        return original(self, node)

    original = BlockingSleep.visit_Call
    monkeypatch.setattr(BlockingSleep, "visit_Call", boom)
    (tmp_path / "boom.py").write_bytes(SLEEPY)
    (tmp_path / "fine.py").write_bytes(SLEEPY)
    settings = Settings(root=str(tmp_path))
    run = lint_paths(sorted(str(p) for p in tmp_path.iterdir()), settings)
    assert len(run.errors) == 1 and "FPI101" in run.errors[0] and "ValueError" in run.errors[0]
    fine = [r for r in run.results if r.path.endswith("fine.py")][0]
    assert [d.code for d in fine.diagnostics] == ["FPI101"]


def test_recursion_limit_is_restored():
    before = sys.getrecursionlimit()
    lint_source(b"import time\nasync def f():\n    x = " + b" + ".join([b"time.sleep(1)"] * 1000) + b"\n", "d.py")
    assert sys.getrecursionlimit() == before
