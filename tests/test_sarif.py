"""`--format sarif`: SARIF 2.1.0 validated against the OASIS schema (tests/sarif/, see NOTICE.md)."""

import json
import os
import textwrap

import jsonschema
import pytest

from fastapi_lint import __version__
from fastapi_lint.diagnostics import Diagnostic, Edit, Fix
from fastapi_lint.registry import all_rules
from fastapi_lint.report.sarif import sarif_log
from fixture_support import FIXTURES, fixture_files

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sarif", "sarif-schema-2.1.0.json")

BAD = textwrap.dedent("""\
    import time


    async def handler():
        time.sleep(1)
        return 1
""")


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        schema = json.load(fh)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def assert_valid(validator, log):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])


def test_the_validator_rejects_bad_sarif(validator):
    log = sarif_log([], root=os.getcwd())
    assert_valid(validator, log)
    log["runs"][0]["results"] = [{"ruleId": "FPI101", "level": "fatal", "message": {"text": "m"}}]
    assert list(validator.iter_errors(log))
    log["runs"][0]["results"] = [{"ruleId": "FPI101", "message": {"text": "m"},
                                  "locations": [{"physicalLocation": {"region": {"startLine": 0}}}]}]
    assert list(validator.iter_errors(log))


def _copy_fixtures(tmp_path):
    os.mkdir(tmp_path / ".git")  # the repository root that URIs are relative to
    os.mkdir(tmp_path / "src")
    for name in fixture_files():
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
            (tmp_path / "src" / name).write_text(fh.read(), encoding="utf-8")


def test_sarif_for_every_fixture_is_valid(tmp_path, run_cli, validator):
    _copy_fixtures(tmp_path)
    status, out, _ = run_cli("check", "--no-cache", "--select", "ALL", "--format", "sarif", "src")
    assert status == 1
    log = json.loads(out)
    assert_valid(validator, log)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fastapi-lint" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == list(all_rules())
    for entry in driver["rules"]:
        rule = all_rules()[entry["id"]]
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.summary
        assert entry["fullDescription"]["text"]
        assert "## Why is this bad?" in entry["help"]["markdown"]
        assert entry["defaultConfiguration"] == {"level": "error", "enabled": rule.default}
    assert run["results"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["artifactLocation"]["uri"].startswith("src/FPI")
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_uri_relative_to_repo_root_from_a_subdirectory(tmp_path, run_cli, monkeypatch, validator):
    _copy_fixtures(tmp_path)
    (tmp_path / "src" / "app.py").write_text(BAD)
    monkeypatch.chdir(tmp_path / "src")
    status, out, _ = run_cli("check", "--no-cache", "--format", "sarif", "app.py")
    log = json.loads(out)
    assert_valid(validator, log)
    result, = log["runs"][0]["results"]
    assert result["ruleId"] == "FPI101" and result["level"] == "error"
    assert result["message"]["text"].startswith("`time.sleep()` in async function `handler`")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 18},
    }


def _apply(text, replacements):
    """Apply SARIF replacements (1-based, end exclusive), last first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line, col):
        return starts[line - 1] + col - 1

    for rep in sorted(replacements, key=lambda r: (r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"]),
                      reverse=True):
        reg = rep["deletedRegion"]
        a, b = offset(reg["startLine"], reg["startColumn"]), offset(reg["endLine"], reg["endColumn"])
        text = text[:a] + rep["insertedContent"]["text"] + text[b:]
    return text


def test_sarif_fix_is_what_fix_writes(tmp_path, run_cli):
    (tmp_path / "app.py").write_text(BAD)
    _, out, _ = run_cli("check", "--no-cache", "--format", "sarif", "app.py")
    result, = json.loads(out)["runs"][0]["results"]
    fix, = result["fixes"]
    change, = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app.py"
    fixed_by_sarif = _apply(BAD, change["replacements"])
    status, _, _ = run_cli("check", "--no-cache", "--fix", "app.py")
    assert status == 0
    assert fixed_by_sarif == (tmp_path / "app.py").read_text()
    assert "await asyncio.sleep(1)" in fixed_by_sarif


def test_hints_have_no_fixes_and_unsafe_fixes_say_so(validator, tmp_path):
    hint = Diagnostic("FPI101", "blocking-sleep", "m", "a.py", 1, 1, 1, 2, "error", Fix("display-only", "use X", []))
    unsafe = Diagnostic("FPI101", "blocking-sleep", "m", "a.py", 2, 1, 2, 2, "error",
                        Fix("unsafe", "make it a def", [Edit(2, 1, 2, 7, "")]))
    log = sarif_log([hint, unsafe], root=str(tmp_path), home="https://example.invalid/fastapi-lint")
    assert_valid(validator, log)
    first, second = log["runs"][0]["results"]
    assert "fixes" not in first
    assert "unsafe" in second["fixes"][0]["description"]["text"]
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.invalid/fastapi-lint"
    assert all(r["helpUri"].startswith("https://example.invalid/fastapi-lint") for r in driver["rules"])


def test_paths_outside_the_root_become_file_uris(validator, tmp_path):
    d = Diagnostic("FPI000", "parse-error", "syntax error", "/elsewhere/x y.py", 1, 1, 1, 1)
    log = sarif_log([d], root=str(tmp_path))
    assert_valid(validator, log)
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "file:///elsewhere/x%20y.py"}


def test_output_file(tmp_path, run_cli, validator):
    (tmp_path / "app.py").write_text(BAD)
    status, out, _ = run_cli("check", "--no-cache", "--format", "sarif", "--output-file", "report.sarif", "app.py")
    assert status == 1 and out == ""
    assert_valid(validator, json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8")))
