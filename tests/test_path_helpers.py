"""FPI303 and a project function that checks a path for containment: `if not is_inside(path,
root): raise` checks `path` when the function (in any module of the tree, read by the scan)
checks that parameter as FPI303 takes an inline check."""

import textwrap

import pytest

from fastapi_lint.engine import lint_paths
from fastapi_lint.model.index import summarize_source
from fastapi_lint.settings import Settings, resolve_selection


def _checks(source: str):
    summary = summarize_source(textwrap.dedent(source), "m.py", "m", False)
    return {q.partition("m.")[2]: f.facts.get("path_checks") for q, f in summary.functions.items()}


@pytest.mark.parametrize("body, expected", [
    ("return parent.resolve() in child.resolve().parents", [[0, "child"]]),
    ("return Path(child).resolve().is_relative_to(parent)", [[0, "child"]]),
    ("return os.path.realpath(child).startswith(str(parent))", [[0, "child"]]),
    ("return os.path.commonpath([os.path.abspath(parent), os.path.abspath(child)]) == parent",
     [[0, "child"], [1, "parent"]]),
    ("return child.resolve().exists()", None),  # no containment
    ("return child.startswith('/srv')", None),  # a literal prefix, and nothing normalised
    ("return os.path.abspath(child).startswith('/srv')", None),  # a literal prefix
    ("return other.resolve().is_relative_to(parent)", None),  # not a parameter
])
def test_what_the_scan_takes_for_a_containment_check(body, expected):
    facts = _checks(f"""
    import os
    from pathlib import Path

    def inside(child, parent):
        {body}
    """)
    assert facts["inside"] == expected


def test_methods_are_not_read():
    facts = _checks("""
    class Paths:
        def inside(self, child, parent):
            return parent.resolve() in child.resolve().parents
    """)
    assert facts["Paths.inside"] is None


def _project(tmp_path, helper_body: str):
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "paths.py").write_text(textwrap.dedent(f"""
        from pathlib import Path

        def is_inside(child: Path, parent: Path) -> bool:
            {helper_body}
    """))
    (pkg / "routes.py").write_text(textwrap.dedent("""
        from pathlib import Path

        from fastapi import FastAPI, HTTPException
        from fastapi.responses import FileResponse

        from .paths import is_inside

        app = FastAPI()
        ROOT = Path("public")

        @app.get("/files/{name:path}")
        def serve(name: str):
            target = (ROOT / name).resolve()
            if not is_inside(target, ROOT):
                raise HTTPException(404)
            return FileResponse(target)

        @app.get("/other/{name:path}")
        def serve_other(name: str):
            target = (ROOT / name).resolve()
            if not is_inside(ROOT, target):
                raise HTTPException(404)
            return FileResponse(target)
    """))
    files = [str(pkg / n) for n in ("__init__.py", "paths.py", "routes.py")]
    settings = Settings(enabled=resolve_selection(["FPI303"], [], []), root=str(tmp_path))
    run = lint_paths(files, settings)
    assert not run.errors
    return sorted((d.path.rpartition("/")[2], d.line) for d in run.diagnostics)


def test_a_helper_of_another_module_that_checks_the_path(tmp_path):
    # `serve` passes the joined path where the helper checks it; `serve_other` passes it
    # as the parent: only that one is reported
    assert _project(tmp_path, "return parent.resolve() in child.resolve().parents") == [("routes.py", 21)]


def test_a_helper_of_another_module_that_checks_nothing(tmp_path):
    assert _project(tmp_path, "return child.resolve().exists()") == [("routes.py", 14), ("routes.py", 21)]
