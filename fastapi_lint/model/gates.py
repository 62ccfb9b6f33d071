"""Helpers for `Rule.wants`: what the scan pass's facts (model/facts.py) say a file can resolve.

Every qualified name `ModuleContext.qualname` gives is an import binding of the file plus the
attributes spelled after it (or `builtins.<name>`), and every origin (model/flow.py) starts
with one. Two facts follow, and the rules' second gates are built on them:

* `reaches(facts, q)`: an import binding of the file can be the head of `q` (model/gating.py
  works out which: `import a.b` binds `a`; a relative import `from .x import y`, resolved
  against a package the facts do not know, reaches any name in which `x.y` occurs as whole
  dotted parts). Builtins need no import.
* the last part of `q` is an identifier of the file (`FileFacts.names`, or a string the flow
  model parses as a type: `type_string_names`): it is spelled at the use (`orm.Session`), or
  it is the imported name (`from sqlalchemy.orm import Session as S`), or a string annotation
  holds it.

A call reaches `q` by the spelling `terminal(q)` (the last part) unless the file gives it a
second name: an import `as`, an assignment, or a `with ... as` (`FileFacts.aliased`,
`bound_values`).

One more head: flow.py names an instance of a class defined in the module after the module
itself (`pkg.mod.Session()`, when linting the library that defines it), so a class of the file
reaches every name ending with it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import FrozenSet, Iterable, Optional, Tuple

from fastapi_lint.catalogs.fastapi import (ADD_ROUTE_METHODS, APP_CLASSES, BASE_HTTP_MIDDLEWARE, DEPENDS,
                                           ROUTE_DECORATORS, ROUTER_CLASSES)
from fastapi_lint.model.facts import FileFacts
from fastapi_lint.model.gating import last_part as terminal
from fastapi_lint.model.gating import qualnames


def terminals(qualnames: Iterable[str]) -> FrozenSet[str]:
    return frozenset(terminal(q) for q in qualnames)


def reaches(facts: FileFacts, qualname: str) -> bool:
    """Whether a name of this file can resolve to `qualname`: an import binding, a builtin or a
    class of the module can be its head, and the file spells its last part (model/gating.py,
    which the catalogue gates of the FPI1xx/FPI2xx rules use too)."""
    return names_any(facts, (qualname,))


def known(facts: FileFacts, name: str) -> bool:
    """Whether a qualified name or origin of this file can have `name` as a part."""
    return name in facts.names or name in facts.type_string_names


def called(facts: FileFacts, name: str, calls: Optional[FrozenSet[str]] = None) -> bool:
    """Whether a call (among `calls`, default all) can reach something whose last name part is
    `name`: spelled so, or through a second name the file gives it."""
    return name in (facts.calls if calls is None else calls) or name in facts.aliased or name in facts.bound_values


def calls_any(facts: FileFacts, qualnames: Iterable[str], calls: Optional[FrozenSet[str]] = None) -> bool:
    """A call can resolve to one of these qualified names (`ctx.call_qualname`)."""
    return any(called(facts, terminal(q), calls) and reaches(facts, q) for q in qualnames)


def names_any(facts: FileFacts, names: Iterable[str]) -> bool:
    """A name or annotation of the file can resolve to one of these qualified names (`reaches`
    for any of them, with one compiled test for the whole set)."""
    return qualnames(frozenset(names), local_classes=True).met(facts)


@lru_cache(maxsize=4096)
def origin_parts(origin: str) -> Tuple[str, Tuple[str, ...], Optional[str]]:
    """An origin path (model/flow.py) as (qualified name it starts from, attribute names after
    it, the name the last call is spelled with: None when it calls a call's result).

    "sqlalchemy.orm.sessionmaker()()" -> ("sqlalchemy.orm.sessionmaker", (), None)
    "sqlalchemy.create_engine().connect()" -> ("sqlalchemy.create_engine", ("connect",), "connect")
    "sqlmodel.Session()" -> ("sqlmodel.Session", (), "Session")
    """
    base = origin.split("()")[0]
    rest = origin[len(base):]
    attrs = tuple(re.findall(r"\.(\w+)", rest))
    if rest == "()":
        last = terminal(base)
    elif rest.endswith(")()"):
        last = None
    else:
        last = attrs[-1]
    return base, attrs, last


def origin_possible(facts: FileFacts, origin: str) -> bool:
    """The file can build a value of this origin: its qualified name is reached and every name
    in it is an identifier of the file."""
    base, attrs, _ = origin_parts(origin)
    return parts_possible(facts, base, attrs)


def parts_possible(facts: FileFacts, base: str, attrs: Tuple[str, ...]) -> bool:
    """`origin_possible` for an origin already split by `origin_parts`."""
    return all(known(facts, a) for a in attrs) and reaches(facts, base)


# ---------------------------------------------------------------------------- FastAPI model

OWNER_CLASSES = APP_CLASSES | ROUTER_CLASSES


def may_register_routes(facts: FileFacts) -> bool:
    """`FastAPIModel.is_route` can hold for a function of this file: a route decorator
    (`@router.get(...)`) or an `add_api_route`-style call, and an app or router class the
    file can name (the model knows owners only as built from, or annotated with, one)."""
    if facts.decorators.isdisjoint(ROUTE_DECORATORS) and facts.calls.isdisjoint(ADD_ROUTE_METHODS):
        return False
    return names_any(facts, OWNER_CLASSES)


def may_have_middleware(facts: FileFacts) -> bool:
    """`FastAPIModel.is_middleware`: `@app.middleware("http")`, or `dispatch` of a
    BaseHTTPMiddleware subclass."""
    if "middleware" in facts.decorators:
        return True
    return "dispatch" in facts.function_defs and names_any(facts, BASE_HTTP_MIDDLEWARE)


def dependency_names(index: object) -> FrozenSet[str]:
    """Last name parts of the project's dependencies (functions named in Depends anywhere)."""
    return index.memo("gates.dependency_names", lambda: terminals(index.dependencies))  # type: ignore[attr-defined]


def may_have_dependencies(facts: FileFacts, index: object) -> bool:
    """`FastAPIModel.is_dependency` can hold for a function of this file: a `Depends`/
    `Security` call here, or (with the project index) a function named like a dependency of
    the project."""
    if calls_any(facts, DEPENDS):
        return True
    return index is not None and not dependency_names(index).isdisjoint(facts.function_defs)


def may_be_endpoint(facts: FileFacts, index: object) -> bool:
    """A route, a dependency or an HTTP middleware can be defined in this file."""
    return may_register_routes(facts) or may_have_dependencies(facts, index) or may_have_middleware(facts)
