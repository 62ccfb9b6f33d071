"""FPI110 across modules: a small package linted with the project index (lint_paths)."""

import os

from fastapi_lint.engine import lint_paths
from fastapi_lint.model.index import ProjectIndex, summarize_source
from fastapi_lint.settings import Settings, resolve_selection

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "projects", "blocking_helpers")


def _files():
    out = []
    for root, _, names in os.walk(PROJECT):
        out += [os.path.join(root, n) for n in names if n.endswith(".py")]
    return sorted(out)


def test_cross_module_helpers_are_reported_with_their_chain():
    settings = Settings(enabled=resolve_selection(["FPI1"], [], []), root=PROJECT)
    run = lint_paths(_files(), settings)
    assert not run.errors
    found = sorted((os.path.basename(d.path), d.line, d.code, d.message.split(": ", 1)[1])
                   for d in run.diagnostics)
    assert found == [
        ("api.py", 18, "FPI110", "Repo.load() -> fetch() -> read_settings() -> open()"),
        ("api.py", 23, "FPI110", "read_settings() -> open()"),
        ("api.py", 24, "FPI110", "fetch() -> read_settings() -> open()"),
        ("api.py", 25, "FPI110", "Database.connection() -> subprocess.run()"),
        ("api.py", 28, "FPI110", "Repo.directory() -> fetch() -> read_settings() -> open()"),
    ]


def test_without_the_index_cross_module_calls_are_unknown():
    settings = Settings(enabled=resolve_selection(["FPI110"], [], []), root=PROJECT)
    from fastapi_lint.engine import lint_file

    result = lint_file(os.path.join(PROJECT, "app", "api.py"), settings, None)
    assert result.diagnostics == []


def test_summaries_are_plain_data_and_cycles_end():
    import pickle

    source = "def a():\n    return b()\n\ndef b():\n    return a()\n\ndef c():\n    return open('x')\n"
    summary = summarize_source(source, "m.py", "m", False)
    pickle.loads(pickle.dumps(summary))
    index = ProjectIndex([summary])
    assert index.blocking_chain("m.a") is None
    assert index.blocking_chain("m.c") == ["c()", "open()"]
