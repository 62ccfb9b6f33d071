"""`--format github`: GitHub Actions workflow commands, escaped as @actions/core escapes them."""

import textwrap

from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.report.github import annotation, escape_data, escape_property, render_github

BAD = textwrap.dedent("""\
    import time


    async def handler():
        time.sleep(1)
        return 1
""")


def test_annotation_line(tmp_path, run_cli):
    (tmp_path / "app.py").write_text(BAD)
    status, out, _ = run_cli("check", "--no-cache", "--format", "github", "app.py")
    assert status == 1
    line, = out.splitlines()
    assert line.startswith("::error file=app.py,line=5,col=5,endLine=5,endColumn=18,title=FPI101::"
                           "`time.sleep()` in async function `handler` blocks the event loop")


def test_clean_file_prints_nothing(tmp_path, run_cli):
    (tmp_path / "app.py").write_text("x = 1\n")
    assert run_cli("check", "--no-cache", "--format", "github", "app.py") == (0, "", "")


def test_escaping():
    assert escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert escape_property("dir,a:b/100%.py") == "dir%2Ca%3Ab/100%25.py"
    d = Diagnostic("FPI101", "blocking-sleep", "two\nlines, 50%: x", "we:ird,name.py", 3, 1, 4, 2)
    assert annotation(d) == ("::error file=we%3Aird%2Cname.py,line=3,col=1,endLine=4,endColumn=2,"
                             "title=FPI101::two%0Alines, 50%25: x")


def test_sorted_and_one_per_line():
    a = Diagnostic("FPI101", "n", "m", "b.py", 1, 1, 1, 2)
    b = Diagnostic("FPI101", "n", "m", "a.py", 9, 1, 9, 2)
    c = Diagnostic("FPI000", "parse-error", "m", "a.py", 2, 1, 2, 1)
    out = render_github([a, b, c]).splitlines()
    assert [l.split(",")[0:2] for l in out] == [["::error file=a.py", "line=2"], ["::error file=a.py", "line=9"],
                                                 ["::error file=b.py", "line=1"]]


def test_output_file(tmp_path, run_cli):
    (tmp_path / "app.py").write_text(BAD)
    status, out, _ = run_cli("check", "--no-cache", "--format", "github", "-o", "gh.txt", "app.py")
    assert status == 1 and out == ""
    assert (tmp_path / "gh.txt").read_text().startswith("::error file=app.py,line=5,")


def test_file_is_relative_to_the_repository_root(tmp_path, run_cli, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "app.py").write_text(BAD)
    monkeypatch.chdir(tmp_path / "backend")
    _, out, _ = run_cli("check", "--no-cache", "--format", "github", "app.py")
    assert out.startswith("::error file=backend/app.py,line=5,col=5,")
