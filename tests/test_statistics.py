"""`--statistics`: a count per code, most frequent first, then by code; `--output-file` for every format."""

import json
import textwrap

import pytest

BAD = textwrap.dedent("""\
    import time


    async def handler():
        time.sleep(1)
        time.sleep(2)
        return 1
""")


def test_count_per_code_sorted(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text(BAD)
    (tmp_path / "broken.py").write_text("async def f(:\n")
    status, out, _ = run_cli("check", "--no-cache", "--statistics", ".")
    assert status == 1
    assert out.splitlines() == ["    4\tFPI101\t[*] blocking-sleep", "    1\tFPI000\t    parse-error"]


def test_ties_sorted_by_code(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(BAD.replace("    time.sleep(2)\n", ""))
    (tmp_path / "b.py").write_text("async def f(:\n")
    _, out, _ = run_cli("check", "--no-cache", "--statistics", ".")
    assert [l.split("\t")[1] for l in out.splitlines()] == ["FPI000", "FPI101"]


def test_statistics_to_output_file_and_clean_run(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(BAD)
    status, out, _ = run_cli("check", "--no-cache", "--statistics", "-o", "stats.txt", "a.py")
    assert status == 1 and out == ""
    assert (tmp_path / "stats.txt").read_text() == "    2\tFPI101\t[*] blocking-sleep\n"
    (tmp_path / "c.py").write_text("x = 1\n")
    assert run_cli("check", "--no-cache", "--statistics", "c.py") == (0, "", "")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_output_file_for_every_format(tmp_path, run_cli, fmt):
    (tmp_path / "a.py").write_text(BAD)
    _, to_stdout, _ = run_cli("check", "--no-cache", "--format", fmt, "a.py")
    status, out, _ = run_cli("check", "--no-cache", "--format", fmt, "--output-file", "out/report", "a.py")
    assert status == 1 and out == ""
    written = (tmp_path / "out" / "report").read_text(encoding="utf-8")
    assert written == to_stdout
    if fmt in ("json", "sarif"):
        json.loads(written)


def test_unwritable_output_file_is_a_usage_error(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "blocker").write_text("a file, not a directory")
    status, out, err = run_cli("check", "--no-cache", "-o", "blocker/report.txt", "a.py")
    assert status == 2 and "cannot write --output-file" in err
