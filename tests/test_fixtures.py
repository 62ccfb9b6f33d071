"""Every rule fixture: exactly the marked lines are reported; fixes match goldens, parse and are idempotent."""

import os

import libcst as cst
import pytest

from fixture_support import (FIXTURES, MARKER, expected_markers, fixture_files, lint_fixture, read, reported,
                             selector_of)
from fastapi_lint.registry import all_rules

FILES = fixture_files()


def test_every_rule_has_a_fixture():
    covered = set()
    for name in FILES:
        sel = selector_of(name)
        covered |= {code for code in all_rules() if code.startswith(sel)}
        covered |= {code for (_, code) in expected_markers(read(name))}
    missing = [c for c in all_rules() if c not in covered and c != "FPI000"]
    assert not missing, f"rules without a fixture: {missing}"


def test_every_rule_has_positive_cases():
    marked = set()
    for name in FILES:
        marked |= {code for (_, code) in expected_markers(read(name))}
    missing = [c for c in all_rules() if c not in marked and c != "FPI000"]
    assert not missing, f"rules with no `# error:` marker in any fixture: {missing}"


@pytest.mark.parametrize("name", FILES)
def test_reports_exactly_the_markers(name):
    source = read(name)
    result = lint_fixture(name)
    assert not result.errors, result.errors
    expected = expected_markers(source)
    got = reported(result)
    missing = sorted((expected - got).elements())
    unexpected = sorted((got - expected).elements())
    details = {(d.line, d.code): d.message for d in result.diagnostics}
    assert not missing and not unexpected, (
        f"missing (line, code): {missing}\nunexpected: {[(u, details.get(u)) for u in unexpected]}")


@pytest.mark.parametrize("name", FILES)
def test_noqa_silences_every_marker(name):
    source = read(name)
    silenced = "\n".join(MARKER.sub(lambda m: "# noqa: " + m.group("codes"), line)
                         for line in source.splitlines()) + "\n"
    result = lint_fixture(name, silenced)
    assert not result.diagnostics, [(d.line, d.code) for d in result.diagnostics]


def _golden_cases():
    cases = []
    for name in FILES:
        base = name[:-3]
        for unsafe, suffix in ((False, ".fixed.py"), (True, ".unsafe.fixed.py")):
            if os.path.exists(os.path.join(FIXTURES, base + suffix)):
                cases.append((name, unsafe, base + suffix))
    return cases


def test_every_fixable_rule_has_a_golden():
    fixable = {c for c, r in all_rules().items() if r.fix in ("safe", "unsafe")}
    with_golden = set()
    for name, unsafe, _ in _golden_cases():
        codes = {code for (_, code) in expected_markers(read(name))}
        with_golden |= {c for c in codes if unsafe or all_rules()[c].fix == "safe"}
    assert fixable <= with_golden, f"fixable rules without a golden: {sorted(fixable - with_golden)}"


@pytest.mark.parametrize("name,unsafe,golden", _golden_cases())
def test_fix_matches_golden_parses_and_is_idempotent(name, unsafe, golden):
    result = lint_fixture(name, fix=True, unsafe_fixes=unsafe)
    assert not result.errors
    assert result.fixed_source is not None, "the fixture has fixable findings, so --fix must change it"
    fixed = result.fixed_source.decode("utf-8")
    cst.parse_module(fixed)  # the fix must parse (libcst, any supported syntax)
    assert fixed == read(golden)
    again = lint_fixture(name, fixed, fix=True, unsafe_fixes=unsafe)
    assert again.fixed_source is None, "applying the fixes a second time must change nothing"


@pytest.mark.parametrize("name", FILES)
def test_json_edits_from_one_batch_equal_edits_fix_by_fix(name, monkeypatch):
    """The engine computes every fix's edits from one application of all fixes; they must be
    exactly the edits of applying each fix alone."""
    from fastapi_lint import engine

    batched = lint_fixture(name, want_edits=True, unsafe_fixes=True)
    monkeypatch.setattr(engine, "_batch_edits", lambda analysis: {})
    one_by_one = lint_fixture(name, want_edits=True, unsafe_fixes=True)
    assert [d.to_dict() for d in batched.diagnostics] == [d.to_dict() for d in one_by_one.diagnostics]


def test_json_edits_of_many_fixes_sharing_an_import_come_from_one_batch(monkeypatch):
    """Twelve `time.sleep` fixes each may leave `import time` unused, but none does alone (the
    others still use it): their edits come from one batch, not one transform each (minutes
    on a file with hundreds), and equal the edits of each fix applied alone."""
    from fastapi_lint import engine
    from fastapi_lint.engine import lint_source
    from fastapi_lint.settings import Settings, resolve_selection

    source = "import time\n\n" + "".join(f"async def f{i}():\n    time.sleep({i})\n\n\n" for i in range(12))
    sizes = []
    real = engine._batch_edits
    monkeypatch.setattr(engine, "_batch_edits", lambda analysis: sizes.append(len(real(analysis))) or real(analysis))
    settings = Settings(enabled=resolve_selection(["FPI101"], [], []), want_edits=True)
    batched = lint_source(source, "m.py", settings)
    assert sizes == [12] and len(batched.diagnostics) == 12
    monkeypatch.setattr(engine, "_batch_edits", lambda analysis: {})
    one_by_one = lint_source(source, "m.py", settings)
    assert [d.to_dict() for d in batched.diagnostics] == [d.to_dict() for d in one_by_one.diagnostics]
    assert all(d.fix.edits and not any("import time" in (e.content or "") for e in d.fix.edits)
               for d in batched.diagnostics)
