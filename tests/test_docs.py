"""Docs live with code: README rule table, `rule CODE`, `rules`."""

import os

import pytest

from fastapi_lint.cli import rule_docs, rules_markdown_table
from fastapi_lint.registry import DOC_SECTIONS, all_rules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_rule_table_matches_registry():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    start = readme.index("\n", readme.index("<!-- rules-table:")) + 1
    end = readme.index("<!-- rules-table end -->")
    assert readme[start:end] == rules_markdown_table(), (
        "README rule table is stale: regenerate it with `fastapi-lint rules --format markdown`")


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_rule_docs_have_every_section(code, run_cli):
    rule = all_rules()[code]
    sections = rule.doc_sections()
    for title in DOC_SECTIONS:
        assert sections.get(title, "").strip(), f"{code}: empty section {title!r}"
    status, out, _ = run_cli("rule", code.lower())
    assert status == 0
    assert out == rule_docs(rule) + "\n"
    assert f"# {code} {rule.name}" in out
    for title in DOC_SECTIONS:
        assert f"## {title}" in out


def test_rules_lists_every_rule(run_cli):
    status, out, _ = run_cli("rules")
    assert status == 0
    for code, rule in all_rules().items():
        line = next(l for l in out.splitlines() if l.startswith(code))
        assert rule.name in line and rule.family() in line
        assert ("on" if rule.default else "off") in line.split()


def test_unknown_rule_is_a_usage_error(run_cli):
    status, _, err = run_cli("rule", "FPI999")
    assert status == 2 and "unknown rule" in err
