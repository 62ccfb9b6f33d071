"""The command line end to end: exit codes, formats, --fix/--diff, stdin, config, noqa, errors."""

import json
import os
import subprocess
import sys

import pytest

BAD = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
GOOD = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"


def write(path, text):
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def test_clean_project_exits_zero(run_cli, tmp_path):
    write(tmp_path / "app.py", GOOD)
    status, out, _ = run_cli("check", ".")
    assert status == 0
    assert "All checks passed!" in out


def test_findings_exit_one_with_text_format(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, out, _ = run_cli()  # no command, no path: `check .`
    assert status == 1
    assert "app.py:5:5: FPI101" in out
    assert "    time.sleep(1)" in out
    assert "^^^^^^^^^^^^^" in out
    assert "Replace with `await asyncio.sleep(...)`" in out
    assert "Found 1 problem (1 fixable with --fix)." in out


def test_quiet_prints_only_problems(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, out, _ = run_cli("-q", "app.py")
    assert status == 1
    assert out.strip().splitlines() == [out.strip().splitlines()[0]]
    assert out.startswith("app.py:5:5: FPI101")


def test_exit_zero(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    assert run_cli("--exit-zero", "app.py")[0] == 0


def test_missing_path_is_usage_error(run_cli):
    status, _, err = run_cli("check", "nope.py")
    assert status == 2
    assert "nope.py" in err and "no such file" in err


def test_unknown_selector_is_usage_error(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, _, err = run_cli("--select", "XYZ1", "app.py")
    assert status == 2 and "unknown rule selector" in err


def test_json_shape_and_order(run_cli, tmp_path):
    write(tmp_path / "b.py", BAD)
    write(tmp_path / "a.py", BAD + "\n\nasync def other():\n    time.sleep(2)\n")
    status, out, _ = run_cli("--format", "json", ".")
    assert status == 1
    data = json.loads(out)
    assert [(d["path"], d["line"]) for d in data] == [("a.py", 5), ("a.py", 9), ("b.py", 5)]
    item = data[0]
    assert set(item) == {"code", "name", "message", "path", "line", "column", "end_line", "end_column",
                         "severity", "fix"}
    assert (item["code"], item["name"], item["line"], item["column"], item["end_line"], item["end_column"]) == \
        ("FPI101", "blocking-sleep", 5, 5, 5, 18)
    assert item["severity"] == "error"
    fix = item["fix"]
    assert fix["applicability"] == "safe"
    assert fix["edits"], "json fixes carry their edits"
    for e in fix["edits"]:
        assert set(e) == {"line", "column", "end_line", "end_column", "content"}


def test_json_edits_reproduce_the_fix(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    _, out, _ = run_cli("--format", "json", "app.py")
    edits = json.loads(out)[0]["fix"]["edits"]
    lines = BAD.splitlines(keepends=True)

    def offset(line, col):
        return sum(len(l) for l in lines[: line - 1]) + col - 1

    text = BAD
    for e in sorted(edits, key=lambda e: (e["line"], e["column"]), reverse=True):
        text = text[: offset(e["line"], e["column"])] + e["content"] + text[offset(e["end_line"], e["end_column"]):]
    run_cli("--fix", "app.py")
    assert text == (tmp_path / "app.py").read_text()


def test_fix_writes_and_exits_zero(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, out, _ = run_cli("--fix", "app.py")
    assert status == 0
    assert "1 fixed, 0 remaining" in out
    text = (tmp_path / "app.py").read_text()
    assert "await asyncio.sleep(1)" in text and "import asyncio" in text
    assert run_cli("app.py")[0] == 0


def test_diff_writes_nothing(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, out, err = run_cli("--diff", "app.py")
    assert status == 1
    assert "-    time.sleep(1)" in out and "+    await asyncio.sleep(1)" in out
    assert "+import asyncio" in out
    assert (tmp_path / "app.py").read_text() == BAD
    assert "Would fix 1 problem" in err
    write(tmp_path / "good.py", GOOD)
    assert run_cli("--diff", "good.py")[0] == 0


def test_stdin(run_cli):
    status, out, _ = run_cli("--stdin-filename", "app/main.py", "-", input=BAD)
    assert status == 1
    assert "app/main.py:5:5: FPI101" in out
    assert "    time.sleep(1)" in out


def test_stdin_fix_prints_fixed_source(run_cli):
    status, out, err = run_cli("--fix", "-", input=BAD)
    assert status == 0
    assert "await asyncio.sleep(1)" in out and "import asyncio" in out


def test_select_and_ignore(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    assert run_cli("--ignore", "FPI101", "app.py")[0] == 0
    assert run_cli("--ignore", "FPI1", "app.py")[0] == 0
    assert run_cli("--select", "FPI1", "--ignore", "FPI", "app.py")[0] == 1  # more specific select wins
    assert run_cli("--select", "ALL", "app.py")[0] == 1
    assert run_cli("--select", "FPI000", "app.py")[0] == 0
    assert run_cli("--select", "FPI000", "--extend-select", "fpi101", "app.py")[0] == 1


def test_statistics(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD + "\n\nasync def other():\n    time.sleep(2)\n")
    status, out, _ = run_cli("--statistics", "app.py")
    assert status == 1
    assert out.split() == ["2", "FPI101", "[*]", "blocking-sleep"]


def test_output_file(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    status, out, _ = run_cli("--format", "json", "--output-file", "report.json", "app.py")
    assert status == 1 and out == ""
    assert json.loads((tmp_path / "report.json").read_text())[0]["code"] == "FPI101"


def test_noqa(run_cli, tmp_path):
    write(tmp_path / "a.py", BAD.replace("time.sleep(1)", "time.sleep(1)  # noqa"))
    write(tmp_path / "b.py", BAD.replace("time.sleep(1)", "time.sleep(1)  # noqa: FPI101"))
    write(tmp_path / "c.py", BAD.replace("time.sleep(1)", "time.sleep(1)  # noqa: E501"))
    write(tmp_path / "d.py", "# fastapi-lint: noqa\n" + BAD)
    write(tmp_path / "e.py", "# fastapi-lint: noqa: FPI101\n" + BAD)
    write(tmp_path / "f.py", BAD.replace("time.sleep(1)", "time.sleep(1)  # noqa:FPI1"))
    _, out, _ = run_cli("-q", ".")
    assert sorted(l.split(":")[0] for l in out.splitlines()) == ["c.py"]


def test_parse_error_is_one_diagnostic_and_run_goes_on(run_cli, tmp_path):
    write(tmp_path / "broken.py", "async def handler(:\n    pass\n")
    write(tmp_path / "app.py", BAD)
    status, out, _ = run_cli("-q", "--format", "json", ".")
    data = json.loads(out)
    assert status == 1
    assert [(d["path"], d["code"]) for d in data] == [("app.py", "FPI101"), ("broken.py", "FPI000")]
    err = data[1]
    assert err["name"] == "parse-error" and err["line"] in (1, 2) and "syntax error" in err["message"]


def test_undecodable_file(run_cli, tmp_path):
    (tmp_path / "bad.py").write_bytes(b"x = '\xff\xfe'\n")
    status, out, _ = run_cli("-q", "bad.py")
    assert status == 1
    assert "FPI000" in out and "cannot decode as utf-8" in out


def test_latin1_coding_line_is_honoured(run_cli, tmp_path):
    (tmp_path / "l1.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n"
                                     b"    s = '\xe9'\n    time.sleep(1)\n")
    status, out, _ = run_cli("-q", "l1.py")
    assert status == 1 and "l1.py:5:5: FPI101" in out
    assert run_cli("--fix", "l1.py")[0] == 0
    data = (tmp_path / "l1.py").read_bytes()
    assert b"'\xe9'" in data and b"await asyncio.sleep(1)" in data


def test_fix_keeps_crlf_and_bom(run_cli, tmp_path):
    (tmp_path / "w.py").write_bytes(b"\xef\xbb\xbf" + BAD.replace("\n", "\r\n").encode())
    assert run_cli("--fix", "w.py")[0] == 0
    data = (tmp_path / "w.py").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"await asyncio.sleep(1)\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_config_in_pyproject(run_cli, tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.fastapi-lint]\nignore = ["FPI101"]\n')
    write(tmp_path / "app.py", BAD)
    assert run_cli("app.py")[0] == 0
    assert run_cli("--select", "FPI101", "app.py")[0] == 1  # CLI wins


def test_config_per_file_ignores_and_exclude(run_cli, tmp_path):
    write(tmp_path / "pyproject.toml",
          '[tool.fastapi-lint]\nextend-exclude = ["legacy"]\n'
          '[tool.fastapi-lint.per-file-ignores]\n"tests/*" = ["FPI1"]\n')
    write(tmp_path / "tests" / "test_app.py", BAD)
    write(tmp_path / "legacy" / "old.py", BAD)
    write(tmp_path / "app" / "main.py", BAD)
    _, out, _ = run_cli("-q", ".")
    assert [l.split(":")[0] for l in out.splitlines()] == ["app/main.py"]
    # an excluded file named explicitly is linted, unless --force-exclude
    assert run_cli("-q", "legacy/old.py")[0] == 1
    assert run_cli("-q", "--force-exclude", "legacy/old.py")[0] == 0


def test_config_found_walking_up(run_cli, tmp_path, monkeypatch):
    write(tmp_path / "pyproject.toml", '[tool.fastapi-lint]\nignore = ["FPI101"]\n')
    write(tmp_path / "pkg" / "app.py", BAD)
    monkeypatch.chdir(tmp_path / "pkg")
    assert run_cli("app.py")[0] == 0


@pytest.mark.parametrize("body,needle", [
    ('selct = ["FPI"]\n', "did you mean 'select'"),
    ('select = "FPI"\n', "must be a list of strings"),
    ('ignore = ["NOPE1"]\n', "unknown rule selector"),
    ('unsafe-fixes = "yes"\n', "must be true or false"),
    ('per-file-ignores = ["x"]\n', "per-file-ignores"),
    ('select = [\n', "invalid TOML"),
])
def test_bad_config_is_a_clear_error(run_cli, tmp_path, body, needle):
    write(tmp_path / "pyproject.toml", "[tool.fastapi-lint]\n" + body)
    write(tmp_path / "app.py", BAD)
    status, out, err = run_cli("app.py")
    assert status == 2
    assert needle in err
    assert "Traceback" not in err + out


def test_gitignore_and_default_excludes(run_cli, tmp_path):
    write(tmp_path / ".gitignore", "generated/\n*_pb2.py\n")
    write(tmp_path / "generated" / "x.py", BAD)
    write(tmp_path / "api_pb2.py", BAD)
    write(tmp_path / ".venv" / "lib" / "x.py", BAD)
    write(tmp_path / "env2" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "env2" / "lib" / "y.py", BAD)
    write(tmp_path / "node_modules" / "z.py", BAD)
    write(tmp_path / "src" / "ok.py", BAD)
    _, out, _ = run_cli("-q", ".")
    assert [l.split(":")[0] for l in out.splitlines()] == ["src/ok.py"]


def test_gitignore_lines_git_skips_do_not_stop_the_run(run_cli, tmp_path):
    """A lone `!` or `\\` is no pattern to git, which skips it; pathspec raises on it. The
    other lines still apply; a .gitignore of comments ignores nothing."""
    write(tmp_path / ".gitignore", "# generated code\n!\n\\\n\ngenerated/\n!generated/keep.py\n")
    write(tmp_path / "generated" / "x.py", BAD)
    write(tmp_path / "sub" / ".gitignore", "# nothing\n\n")
    write(tmp_path / "sub" / "y.py", BAD)
    status, out, err = run_cli("-q", "--no-cache", ".")
    assert status == 1 and "Traceback" not in out + err
    assert [l.split(":")[0] for l in out.splitlines()] == ["sub/y.py"]


def test_one_regex_for_a_gitignore_matches_where_pathspec_does(tmp_path):
    """`_any_pattern`, built from pathspec's regex of each line without compiling them, is a
    prefilter: it matches every path that pathspec's own matcher matches."""
    from fastapi_lint import discovery

    lines = ["*.py[cod]", "__pycache__/", "/build", "docs/_build/", "**/node_modules", "a/**/b.py", "!keep.py",
             ".env", "*.egg-info/", "[Bb]in/", "foo\\ ", "# comment", "", "!", "cov*.xml", "dir/*.py"]
    write(tmp_path / ".gitignore", "\n".join(lines) + "\n")
    ignore = discovery._load_gitignore(str(tmp_path))
    paths = ["x.pyc", "a/__pycache__/", "build", "src/build", "docs/_build/", "n/node_modules", "a/q/b.py", "a/b.py",
             "keep.py", ".env", "p.egg-info/", "Bin/", "bin/", "foo ", "cov1.xml", "dir/x.py", "dir/s/x.py", "ok.py"]
    matched = [p for p in paths if ignore.spec.match_file(p)]
    assert len(matched) > 10
    assert all(ignore.any_pattern.search(p) for p in matched)
    assert not ignore.any_pattern.search("ok.py")
    # exactly where one of pathspec's own regexes matches (the shared start said once)
    import re

    _, sources = discovery._patterns(lines)
    for p in paths + ["x/y/.env", "a/b/c/node_modules/", "sub/p.egg-info/x", "q/bin/", "zbuild"]:
        assert bool(ignore.any_pattern.search(p)) == any(re.search(s, p) for s in sources), p


def test_unsafe_fixes_flag_changes_summary(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    _, out, _ = run_cli("--unsafe-fixes", "app.py")
    assert "fixable with --fix" in out


def test_cache_answers_unchanged_files(run_cli, tmp_path):
    write(tmp_path / "app.py", BAD)
    first = run_cli("--format", "json", ".")
    assert os.path.isdir(tmp_path / ".fastapi_lint_cache")
    assert (tmp_path / ".fastapi_lint_cache" / ".gitignore").read_text().strip().endswith("*")
    second = run_cli("--format", "json", ".")
    assert first == second
    write(tmp_path / "app.py", GOOD)
    assert run_cli(".")[0] == 0  # a changed file is re-linted


def test_cache_notices_a_package_appearing_or_going(run_cli, tmp_path):
    """An `__init__.py` added or removed renames the modules below it (`svc` becomes
    `app.svc`), which decides what imports resolve to: unchanged files are not answered
    from the cache with their old names."""
    write(tmp_path / "app" / "svc.py", "async def save(x):\n    return x\n")
    write(tmp_path / "app" / "routes.py", "from app.svc import save\n\n\nasync def handler():\n    save(1)\n")
    assert run_cli(".")[0] == 0  # `app.svc` is no module of the tree
    write(tmp_path / "app" / "__init__.py", "")
    status, out, _ = run_cli(".")
    assert status == 1 and "FPI201" in out
    os.remove(tmp_path / "app" / "__init__.py")
    assert run_cli(".")[0] == 0


def test_cache_notices_a_re_export_appearing(run_cli, tmp_path):
    """`app/__init__.py` starting to re-export a coroutine function changes what
    `from app import save` in another, unchanged, file calls."""
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "svc.py", "async def save(x):\n    return x\n")
    write(tmp_path / "app" / "routes.py", "from app import save\n\n\nasync def handler():\n    save(1)\n")
    assert run_cli(".")[0] == 0
    write(tmp_path / "app" / "__init__.py", "from .svc import save\n")
    status, out, _ = run_cli(".")
    assert status == 1 and "FPI201" in out


def test_cached_facts_gate_the_files_a_changed_index_relints(run_cli, tmp_path, monkeypatch):
    """A file whose summary changes changes the index: every other file is linted again,
    gated by the facts its cached summary holds (decoded only then)."""
    from fastapi_lint import engine

    decoded = []
    real = engine._facts_at
    monkeypatch.setattr(engine, "_facts_at", lambda facts, path: decoded.append(type(facts.get(path))) or real(facts, path))
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "svc.py", "async def save(x):\n    return x\n")
    write(tmp_path / "app" / "routes.py", "from app.svc import save\n\n\nasync def handler():\n    save(1)\n")
    assert "FPI201" in run_cli(".")[1]
    for body, found in (("def save(x):\n    return x\n", False), ("async def save(x):\n    return x\n", True)):
        write(tmp_path / "app" / "svc.py", body)
        decoded.clear()
        assert ("FPI201" in run_cli(".")[1]) is found
        assert list in decoded  # routes.py: its facts as the cache stores them


def test_nothing_changed_answers_without_the_index_summaries(run_cli, tmp_path):
    """A warm run where no file changed answers from the results and the last index's digest,
    without reading the summaries (most of the cache's size); a changed file needs them."""
    import glob
    import json

    write(tmp_path / "app.py", BAD)
    write(tmp_path / "other.py", "x = 1\n")
    cold = run_cli("--format", "json", ".")
    (summaries,) = glob.glob(str(tmp_path / ".fastapi_lint_cache" / "*.index.json"))
    with open(summaries, "w") as fh:
        fh.write("not read")
    assert run_cli("--format", "json", ".") == cold
    assert open(summaries).read() == "not read"
    write(tmp_path / "other.py", "x = 2\n")  # changed: the index is built, the summaries read
    assert run_cli("--format", "json", ".") == cold
    with open(summaries) as fh:
        assert sorted(os.path.basename(p) for p in json.load(fh)) == ["app.py", "other.py"]
    write(tmp_path / "more.py", "y = 1\n")  # a file more: another index
    assert run_cli("--format", "json", ".")[0] == cold[0]


def _damage(kind, results, summaries):
    """Damage the cache files in place, the ways a hand edit or a broken run could."""
    data, index = json.load(open(results)), json.load(open(summaries))
    if kind == "results":
        data = {k: (5 if k.startswith(("/", "\\")) or ":" in k else v) for k, v in data.items()}
        data["__index__"] = {"digest": "x", "files": {k: 3 for k in index}}
    elif kind == "manifest":
        data["__index__"]["files"] = {k: [None] for k in data["__index__"]["files"]}
        for v in data.values():
            if isinstance(v, dict) and "diagnostics" in v:
                v["index"] = "stale"  # the results alone would not answer
    elif kind == "summaries":
        index = {k: [1, 2] for k in index}
    elif kind == "summary fields":
        for v in index.values():
            v["summary"] = {"module": 1}
    elif kind == "facts":
        for v in index.values():
            if v["summary"] is not None:
                v["summary"]["gate_facts"] = [[1]] * len(v["summary"]["gate_facts"])
    for path, value in ((results, data), (summaries, index)):
        with open(path, "w") as fh:
            json.dump(value, fh)
    if kind == "not json":
        for path in (results, summaries):
            with open(path, "w") as fh:
                fh.write("{not json")


@pytest.mark.parametrize("kind", ["results", "manifest", "summaries", "summary fields", "facts", "not json"])
def test_a_damaged_cache_is_a_miss_not_a_crash(run_cli, tmp_path, kind):
    import glob

    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "svc.py", "async def save(x):\n    return x\n")
    write(tmp_path / "app" / "routes.py", "from app.svc import save\n\n\nasync def handler():\n    save(1)\n")
    write(tmp_path / "app" / "main.py", BAD)
    cold = run_cli("--no-cache", "--format", "json", ".")
    assert run_cli("--format", "json", ".") == cold
    (summaries,) = glob.glob(str(tmp_path / ".fastapi_lint_cache" / "*.index.json"))
    results = summaries.replace(".index.json", ".json")
    _damage(kind, results, summaries)
    assert run_cli("--format", "json", ".") == cold
    write(tmp_path / "app" / "svc.py", "async def save(x):\n    return x + 1\n")  # the index is built again
    assert run_cli("--format", "json", ".") == cold
    assert run_cli("--format", "json", ".") == cold


def test_same_output_whatever_the_worker_count(run_cli, tmp_path):
    for i in range(30):
        write(tmp_path / f"m{i:02}.py", BAD if i % 3 else GOOD)
    one = run_cli("--no-cache", "--format", "json", "--jobs", "1", ".")
    two = run_cli("--no-cache", "--format", "json", "--jobs", "2", ".")
    assert one == two
    assert len(json.loads(one[1])) == 20


def test_workers_forked_before_the_rules_are_loaded_find_the_same(tmp_path):
    """With workers, the scan's children fork before the parent loads libcst and the rules
    (it loads them while the children scan, then scans too): a program
    run on 2 workers prints what it prints on 1, files that need libcst in the scan
    (newer syntax, syntax errors) included."""
    for i in range(30):
        write(tmp_path / f"m{i:02}.py", BAD if i % 3 else GOOD)
    write(tmp_path / "broken.py", "async def f(:\n")
    write(tmp_path / "newer.py", "import time\ntype Alias = int\n\nasync def f():\n    time.sleep(1)\n")

    def program(jobs):
        return subprocess.run([sys.executable, "-m", "fastapi_lint", "check", "--no-cache", "--format", "json",
                               "--jobs", jobs, "."], capture_output=True, text=True, cwd=str(tmp_path))

    one, two = program("1"), program("2")
    assert (one.returncode, one.stdout, one.stderr) == (two.returncode, two.stdout, two.stderr)
    codes = [d["code"] for d in json.loads(one.stdout)]
    assert codes.count("FPI101") >= 20 and "FPI000" in codes


def test_version_and_module_entry_point(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fastapi_lint", "--version"], capture_output=True, text=True,
                         cwd=str(tmp_path))
    assert out.returncode == 0 and out.stdout.startswith("fastapi-lint ")


def test_program_exit_codes_and_output_survive_the_fast_exit(tmp_path):
    """`run` (the console script and `python -m`) leaves with os._exit once the output is
    flushed: the exit codes, the whole output and the cache are those of `main`."""
    write(tmp_path / "app.py", BAD)

    def program(*args):
        return subprocess.run([sys.executable, "-m", "fastapi_lint", *args], capture_output=True, text=True,
                              cwd=str(tmp_path))

    found = program("check", "app.py")
    assert found.returncode == 1 and "FPI101" in found.stdout and found.stdout.rstrip().endswith("--fix).")
    assert program("check", "--exit-zero", "app.py").returncode == 0
    usage = program("check", "--select", "NOPE", "app.py")
    assert usage.returncode == 2 and "unknown rule selector" in usage.stderr
    assert os.path.isdir(tmp_path / ".fastapi_lint_cache")
    assert program("check", "app.py").stdout == found.stdout  # from the cache


def test_a_run_answered_from_the_cache_does_not_import_libcst_or_the_rules(tmp_path):
    """libcst and the rule modules are 0.15-0.2 s of imports: a warm run (every file cached,
    nothing to parse) must not load them, and must still print the same findings. That
    includes a file that is not Python: the scan found no summary for it once."""
    write(tmp_path / "app.py", BAD)
    write(tmp_path / "other.py", "x = 1\n")
    write(tmp_path / "template.py", "{% if x %}\nimport {{ name }}\n{% endif %}\n")
    probe = ("import sys\nfrom fastapi_lint.cli import main\nsys.argv = ['fastapi-lint', 'check', '.']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "loaded = [m for m in sys.modules if m == 'libcst' or m.startswith('fastapi_lint.rules')]\n"
             "print('LOADED', sorted(loaded))\n")

    def program():
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=str(tmp_path))
        body, _, loaded = out.stdout.rpartition("LOADED ")
        return body, loaded.strip()

    cold, cold_loaded = program()
    assert "FPI101" in cold and "FPI000" in cold and "libcst" in cold_loaded
    warm, warm_loaded = program()
    assert warm == cold and warm_loaded == "[]"
    write(tmp_path / "app.py", BAD + "\n")  # touched: parsed again, with libcst
    assert "libcst" in program()[1]


def test_config_of_the_linted_project_when_the_working_directory_has_none(run_cli, tmp_path):
    write(tmp_path / "proj" / "pyproject.toml", '[tool.fastapi-lint]\nignore = ["FPI101"]\n')
    write(tmp_path / "proj" / "app.py", BAD)
    assert run_cli("-q", "proj")[0] == 0
    assert os.path.isdir(tmp_path / "proj" / ".fastapi_lint_cache")


def test_stdin_fix_reports_what_remains_against_the_fixed_text(run_cli):
    source = BAD + "\n\nasync def other():\n    import requests\n    return requests.get('https://x')\n"
    status, out, err = run_cli("--fix", "--stdin-filename", "app.py", "-", input=source)
    assert "await asyncio.sleep(1)" in out
    for line in err.splitlines():
        if line.startswith("app.py:") and "FPI102" in line:
            lineno = int(line.split(":")[1])
            assert "requests.get" in out.splitlines()[lineno - 1]
            break
    else:
        raise AssertionError(err)


def test_statistics_marks_only_what_fix_would_fix(run_cli, tmp_path):
    write(tmp_path / "app.py", "import requests\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
                               "@app.get('/')\nasync def f():\n    return requests.get('https://x', timeout=5)\n")
    _, out, _ = run_cli("--statistics", "--select", "FPI102", "app.py")
    assert out.split() == ["1", "FPI102", "blocking-http-call"]  # its fix is unsafe: --fix alone does not apply it
    _, out, _ = run_cli("--statistics", "--unsafe-fixes", "--select", "FPI102", "app.py")
    assert out.split() == ["1", "FPI102", "[*]", "blocking-http-call"]
