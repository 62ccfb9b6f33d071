"""What FastAPI and Starlette call things: the classes, methods and paths the model and the
gates recognise. Plain data (no libcst): the scan pass reads it too."""

from __future__ import annotations

import re
from typing import List, Optional

APP_CLASSES = frozenset({
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
})
ROUTER_CLASSES = frozenset({
    "fastapi.APIRouter",
    "fastapi.routing.APIRouter",
    "starlette.routing.Router",
})

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head", "trace")
ROUTE_DECORATORS = frozenset(HTTP_METHODS + ("api_route", "websocket", "route", "websocket_route"))
ADD_ROUTE_METHODS = frozenset({"add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route"})
#: Starlette-style registrations: the endpoint takes a Request, FastAPI injects nothing.
STARLETTE_STYLE = frozenset({"route", "websocket_route", "add_route", "add_websocket_route"})

#: Strings one of which a module that registers routes contains (a second gate for rules
#: that only matter for route inputs).
ROUTE_TOKENS = (".get(", ".post(", ".put(", ".patch(", ".delete(", ".options(", ".head(", ".trace(",
                ".api_route(", ".websocket(", ".route(", ".websocket_route(", "add_api_route", "add_route",
                "add_api_websocket_route")

DEPENDS = frozenset({
    "fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security",
    "fastapi.param_functions.Depends", "fastapi.param_functions.Security",
})
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
#: Base classes whose `dispatch(self, request, call_next)` gets an async `call_next`.
BASE_HTTP_MIDDLEWARE = frozenset({
    "starlette.middleware.base.BaseHTTPMiddleware",
    "fastapi.middleware.base.BaseHTTPMiddleware",
})
MIDDLEWARE_WRAPPER = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
EVENTS = ("startup", "shutdown")


_PARAM = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")


def path_parameters(path: Optional[str]) -> List[str]:
    """`/items/{item_id}/files/{name:path}` -> ["item_id", "name"]."""
    if not path:
        return []
    names = [m.group(1).strip() for m in _PARAM.finditer(path)]
    # OpenAPI callback paths hold runtime expressions (`{$request.body.id}`), not parameters
    return [n for n in names if n.isidentifier()]


def normalise_path(path: str) -> str:
    """Two paths that match the same requests compare equal: parameter names are dropped,
    converters kept (`/items/{id}` == `/items/{item_id}`, != `/items/{id:int}`)."""
    return _PARAM.sub(lambda m: "{:%s}" % m.group(2).strip() if m.group(2) else "{}", path)


def stray_brace(path: str) -> bool:
    """A brace outside every `{param}`: it may pair with one of a path joined to this one, so
    `normalise_path` of the joined path need not be the normalised pieces joined."""
    if "{" not in path and "}" not in path:
        return False
    rest = _PARAM.sub("", path)
    return "{" in rest or "}" in rest
