"""FPI401's lifespan fix, proven by running the apps before and after the fix.

Each app records its startup/shutdown handler calls in EVENTS. The original app runs
them through FastAPI's deprecated event machinery; the fixed app through the generated
lifespan. The order must be identical, the fixed app must raise no deprecation warning,
and a second lint finds no FPI401.
"""

import importlib.util
import sys
import textwrap
import warnings

import pytest

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from fastapi_lint.engine import lint_source  # noqa: E402
from fastapi_lint.settings import Settings, resolve_selection  # noqa: E402

HEADER = """\
from fastapi import FastAPI

EVENTS = []
"""

APPS = {
    "async_and_sync": """
        app = FastAPI()


        @app.on_event("startup")
        async def connect():
            EVENTS.append("connect")


        @app.on_event("startup")
        def load():
            EVENTS.append("load")


        @app.on_event("shutdown")
        def close():
            EVENTS.append("close")


        @app.on_event("shutdown")
        async def disconnect():
            EVENTS.append("disconnect")


        @app.get("/")
        def root():
            EVENTS.append("request")
            return {}
    """,
    "two_startups_no_shutdown": """
        app = FastAPI()


        @app.on_event("startup")
        def first():
            EVENTS.append("first")


        @app.on_event("startup")
        async def second():
            EVENTS.append("second")
    """,
    "constructor_args_and_add_event_handler": """
        def warm_cache():
            EVENTS.append("warm_cache")


        async def drain():
            EVENTS.append("drain")


        def flush():
            EVENTS.append("flush")


        # the application
        app = FastAPI(
            title="shop",
            version="1.2",
            on_startup=[warm_cache],
            on_shutdown=[drain],
            docs_url=None,
        )


        @app.on_event("startup")
        async def connect():
            EVENTS.append("connect")


        app.router.add_event_handler("shutdown", flush)
        app.router.add_event_handler("startup", warm_cache)
    """,
    "factory": """
        def create_app():
            application = FastAPI(title="factory")

            @application.on_event("startup")
            async def start():
                EVENTS.append("start")

            async def stop():
                EVENTS.append("stop")

            application.router.add_event_handler("shutdown", stop)
            return application


        app = create_app()
    """,
}


def _lint(source, fix):
    settings = Settings(enabled=resolve_selection(["FPI401"], [], []), fix=fix, unsafe_fixes=fix)
    return lint_source(source, "app_under_test.py", settings)


def _load(source, tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spec.loader.exec_module(module)
            with TestClient(module.app) as client:
                if any(getattr(r, "path", None) == "/" for r in module.app.routes):
                    client.get("/")
                module.EVENTS.append("-- serving --")
    finally:
        sys.modules.pop(name, None)
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)
                    and "on_event" in str(w.message)]
    return module.EVENTS, deprecations


@pytest.mark.parametrize("name", sorted(APPS))
def test_fixed_app_runs_handlers_in_the_same_order(name, tmp_path):
    source = HEADER + "\n\n" + textwrap.dedent(APPS[name]).lstrip("\n")
    before = _lint(source, fix=False)
    assert before.diagnostics and all(d.code == "FPI401" for d in before.diagnostics)
    assert all(d.fix is not None and d.fix.applicability == "unsafe" for d in before.diagnostics)

    fixed = _lint(source, fix=True)
    assert fixed.fixed_source is not None
    fixed_source = fixed.fixed_source.decode("utf-8")
    assert "on_event" not in fixed_source and "add_event_handler" not in fixed_source
    assert "on_startup" not in fixed_source and "lifespan=" in fixed_source
    assert not _lint(fixed_source, fix=False).diagnostics

    events_before, warned_before = _load(source, tmp_path, f"orig_{name}")
    events_after, warned_after = _load(fixed_source, tmp_path, f"fixed_{name}")
    assert events_after == events_before
    assert "-- serving --" in events_after and events_after[-1] != "-- serving --" or "shutdown" not in source
    if "on_event" in source:
        assert warned_before, "the original app should warn (sanity check of the test)"
    assert not warned_after, [str(w.message) for w in warned_after]


def test_handlers_keep_running_once_each(tmp_path):
    """A handler registered twice is called twice, as before."""
    source = HEADER + "\n\n" + textwrap.dedent(APPS["constructor_args_and_add_event_handler"]).lstrip("\n")
    fixed = _lint(source, fix=True).fixed_source.decode("utf-8")
    events, _ = _load(fixed, tmp_path, "fixed_twice")
    assert events.count("warm_cache") == 2
    assert events[:3] == ["warm_cache", "connect", "warm_cache"]
    assert events[-2:] == ["drain", "flush"]
