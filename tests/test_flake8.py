"""The flake8 plugin (entry point `FPI`): same findings as the CLI, flake8's own selection and noqa."""

import ast
import os
import subprocess
import sys
import textwrap

import pytest

from fastapi_lint.engine import lint_source
from fastapi_lint.flake8_plugin import Plugin
from fastapi_lint.registry import RULES, Rule, all_rules, register
from fastapi_lint.settings import Settings, resolve_selection
from fixture_support import FIXTURES, fixture_files, lint_fixture, selector_of

BAD = textwrap.dedent("""\
    import time


    async def handler():
        time.sleep(1)
        return 1
""")


def plugin_findings(source, filename="app.py"):
    lines = source.splitlines(keepends=True)
    return {(line, col + 1, text.split(" ", 1)[0])
            for line, col, text, _ in Plugin(ast.parse(source), lines, filename).run()}


def engine_findings(source, filename, enabled):
    res = lint_source(source, filename, Settings(enabled=enabled, cache=False))
    return {(d.line, d.column, d.code) for d in res.diagnostics}


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def flake8(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def parse_flake8(out):
    found = set()
    for row in out.splitlines():
        path, line, col, rest = row.split(":", 3)
        found.add((os.path.basename(path), int(line), int(col), rest.split()[0]))
    return found


@pytest.mark.parametrize("name", fixture_files())
def test_plugin_matches_engine_on_fixture(name):
    """All rules on both sides; and, filtered to the fixture's selector, its own selection."""
    path = os.path.join(FIXTURES, name)
    source = read(path)
    got = plugin_findings(source, path)
    assert got == engine_findings(source, path, frozenset(all_rules()))
    selected = {f for f in got if f[2].startswith(selector_of(name))}
    assert selected == {(d.line, d.column, d.code) for d in lint_fixture(name).diagnostics}
    assert selected, f"{name}: no findings at all: the comparison would prove nothing"


def test_real_flake8_matches_cli_on_every_fixture(tmp_path):
    names = fixture_files()
    out = flake8("--isolated", "--select", "FPI", *[os.path.join(FIXTURES, n) for n in names], cwd=str(tmp_path))
    expected = set()
    for name in names:
        path = os.path.join(FIXTURES, name)
        for line, col, code in engine_findings(read(path), path, resolve_selection(["FPI"], [], [])):
            expected.add((name, line, col, code))
    assert parse_flake8(out) == expected
    assert expected


def test_flake8_output_format_and_columns(tmp_path):
    (tmp_path / "app.py").write_text(BAD)
    out = flake8("--isolated", "--select", "FPI", "app.py", cwd=str(tmp_path))
    assert out.startswith("app.py:5:5: FPI101 `time.sleep()` in async function `handler`")
    assert len(out.splitlines()) == 1


@pytest.mark.parametrize("config", ["setup.cfg", ".flake8", "tox.ini"])
def test_extend_ignore_in_config_files(tmp_path, config):
    (tmp_path / "app.py").write_text(BAD)
    if config == "setup.cfg":
        assert "FPI101" in flake8("app.py", cwd=str(tmp_path))  # on by default
    (tmp_path / config).write_text("[flake8]\nextend-ignore = FPI101\n")
    assert "FPI101" not in flake8("app.py", cwd=str(tmp_path))


def test_noqa_is_flake8s(tmp_path):
    (tmp_path / "app.py").write_text(BAD.replace("time.sleep(1)", "time.sleep(1)  # noqa: FPI101"))
    assert flake8("--isolated", "--select", "FPI", "app.py", cwd=str(tmp_path)) == ""
    # Inline noqa is left to flake8, so its --disable-noqa shows the finding again.
    assert "FPI101" in flake8("--isolated", "--select", "FPI", "--disable-noqa", "app.py", cwd=str(tmp_path))
    # The file-level comment is ours, and honoured in flake8 too.
    (tmp_path / "app.py").write_text("# fastapi-lint: noqa: FPI101\n" + BAD)
    assert flake8("--isolated", "--select", "FPI", "app.py", cwd=str(tmp_path)) == ""


def test_plugin_uses_flake8s_lines_and_never_reads_the_file(tmp_path):
    on_disk = tmp_path / "app.py"
    on_disk.write_text("x = 1\n")  # different content: the plugin must not look at it
    assert plugin_findings(BAD, str(on_disk)) == {(5, 5, "FPI101")}
    assert plugin_findings(BAD, str(tmp_path / "missing.py")) == {(5, 5, "FPI101")}


def test_stdin_and_non_ascii_columns(tmp_path):
    source = "# -*- coding: latin-1 -*-\nimport time\n\n\nasync def f():\n    x = 'é'; time.sleep(1)\n"
    (tmp_path / "app.py").write_bytes(source.encode("latin-1"))
    out = flake8("--isolated", "--select", "FPI", "app.py", cwd=str(tmp_path))
    cli = lint_source(source.encode("latin-1"), "app.py")
    assert [(d.line, d.column) for d in cli.diagnostics] == [(6, 14)]
    assert out.startswith("app.py:6:14: FPI101")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "FPI", "-"], input=BAD,
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.stdout.startswith("stdin:5:5: FPI101")


def test_syntax_error_left_to_flake8(tmp_path):
    (tmp_path / "app.py").write_text("async def f(:\n    pass\n")
    out = flake8("--isolated", "--select", "E9,FPI", "app.py", cwd=str(tmp_path))
    assert "E999" in out and "FPI" not in out


class _OptInProbe(Rule):
    code = "FPI699"
    name = "opt-in-probe"
    summary = "Test-only rule that is off by default."
    default = False
    tokens = ("opt_in_probe",)
    docs = """
    ## What it does
    Test only.
    ## Why is this bad?
    Test only.
    ## Example
    `opt_in_probe()`
    ## Use instead
    Nothing.
    ## Fix safety
    None.
    """

    def visit_Call(self, node):
        if getattr(node.func, "value", None) == "opt_in_probe":
            self.report(node, "probe")


@pytest.fixture
def opt_in_rule():
    register(_OptInProbe)
    Plugin._settings = None
    try:
        yield _OptInProbe.code
    finally:
        del RULES[_OptInProbe.code]
        Plugin._settings = None


def _style_guide_codes(tmp_path, **options):
    from flake8.api import legacy

    path = tmp_path / "probe.py"
    path.write_text("opt_in_probe()\n" + BAD)
    guide = legacy.get_style_guide(**options)
    report = guide.check_files([str(path)])
    return {code for code in ("FPI101", "FPI699") if report.get_statistics(code)}


def test_opt_in_rules_off_by_default_in_flake8(tmp_path, opt_in_rule, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _style_guide_codes(tmp_path) == {"FPI101"}
    assert _style_guide_codes(tmp_path, extend_select=["FPI699"]) == {"FPI101", "FPI699"}
    assert _style_guide_codes(tmp_path, extend_ignore=["FPI101"], extend_select=["FPI699"]) == {"FPI699"}


def test_readme_flake8_config_works(tmp_path):
    with open(os.path.join(os.path.dirname(FIXTURES), os.pardir, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    section = readme[readme.index("## Integrations"):readme.index("## Design")]
    ini = section[section.index("```ini\n") + 7:]
    ini = ini[:ini.index("```")]
    assert "extend-ignore = FPI101" in ini
    (tmp_path / "app.py").write_text(BAD.replace("return 1", "time.sleep(2)\n    return 1"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(BAD)
    assert parse_flake8(flake8("--select", "FPI", ".", cwd=str(tmp_path))) == {
        ("app.py", 5, 5, "FPI101"), ("app.py", 6, 5, "FPI101"), ("test_app.py", 5, 5, "FPI101")}
    (tmp_path / "setup.cfg").write_text(ini)
    assert flake8("--select", "FPI", ".", cwd=str(tmp_path)) == ""
