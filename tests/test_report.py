"""The text report: written directly where rich would print it without style, and then
character for character what rich prints; the paths it shows."""

import io
import os

import pytest

from fixture_support import FIXTURES, fixture_files

from fastapi_lint import lint_source, report
from fastapi_lint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE, Diagnostic, Fix
from fastapi_lint.settings import Settings, resolve_selection


def _fixture_diagnostics():
    settings = Settings(enabled=resolve_selection(None, (), ()))
    diags, sources = [], {}
    for name in fixture_files():
        with open(os.path.join(FIXTURES, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        diags += lint_source(text, name, settings).diagnostics
        sources[name] = text.splitlines(keepends=True)
    return diags, sources


ODD = [
    Diagnostic("FPI101", "x", "tab\there, bell\a, cr\r, vt\v, ff\f, bs\b, esc\x1b[31m, [bold]markup[/]", "dir\t/a b.py",
               3, 2, 3, 9, fix=Fix(UNSAFE, "unsafe\tfix\r")),
    Diagnostic("FPI102", "y", ":smile: emoji, wide 表表\tafter", "a b.py", 1, 1, 2, 1, fix=Fix(DISPLAY_ONLY, "help [link]")),
    Diagnostic("FPI103", "z", "past the end", "a b.py", 99, 1, 99, 2, fix=Fix(SAFE, "safe")),
]
ODD_SOURCE = {"dir\t/a b.py": ["x\n", "y\r\n", "\tif  a:\tb\x07\r\n"], "a b.py": ["é = 'ü'  # ✓\n", "z\n"]}


def _both(diags, sources, quiet, unsafe, monkeypatch):
    plain, rich = io.StringIO(), io.StringIO()
    report.render_text(diags, plain, sources.get, color=False, quiet=quiet, unsafe_enabled=unsafe)
    monkeypatch.setattr(report, "styled", lambda out, color: True)  # rich, told not to style
    report.render_text(diags, rich, sources.get, color=False, quiet=quiet, unsafe_enabled=unsafe)
    return plain.getvalue(), rich.getvalue()


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("unsafe", [False, True])
def test_plain_text_is_what_rich_prints(quiet, unsafe, monkeypatch):
    diags, sources = _fixture_diagnostics()
    plain, rich = _both(diags + ODD, {**sources, **ODD_SOURCE}, quiet, unsafe, monkeypatch)
    assert len(diags) > 100 and plain.count("\n") >= len(diags)
    assert plain == rich


def test_rich_styles_a_terminal_and_what_forces_it(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    for var in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)
    assert report.styled(Tty(), None) and not report.styled(io.StringIO(), None)
    assert not report.styled(Tty(), False) and report.styled(io.StringIO(), True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert report.styled(io.StringIO(), None)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert not report.styled(Tty(), None)
    out = Tty()
    report.render_text(ODD[2:], out, ODD_SOURCE.get, color=True)
    assert "\x1b[" in out.getvalue()


@pytest.mark.parametrize("path", ["a.py", "./a.py", "sub/../a.py", "sub/b.py", ".", "sub", "sub/", "../x/a.py",
                                  "/", "/tmp", "./sub//b.py", "sub/./b.py"])
def test_relpath_under_is_os_relpath_below_the_root(path, tmp_path, monkeypatch):
    from fastapi_lint.settings import relpath_under

    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    for root in (str(tmp_path), str(tmp_path) + "/", ".", "/"):
        absolute = os.path.abspath(path)
        under = absolute == os.path.abspath(root) or absolute.startswith(os.path.abspath(root).rstrip("/") + "/")
        assert relpath_under(path, root) == (os.path.relpath(absolute, root) if under else path)
