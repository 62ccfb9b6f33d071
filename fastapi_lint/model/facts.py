"""What a file contains, read from CPython's `ast` in the scan pass: the facts of the engine's
second gate.

The first gate (`Rule.tokens`/`requires`) looks for strings in the text. It cannot tell
`db_session` from `Session()` or `dispatch.x` in an import from a call to a coroutine named
`dispatch`, so on a real project it lets most files through to libcst, whose parse costs
about three times CPython's. The scan pass already parses every file with `ast` for the
project index; these facts come from the same tree (one walk), and a rule's `wants(facts,
index)` keeps a file away from libcst when nothing in it can be what the rule reports.

The facts are over-approximations by construction: names of calls as they are spelled at the
call (the last identifier of `a.b.c()`), wherever the call is. A rule's `wants` must be a
necessary condition of every report it can make; `tests/test_gates.py` checks that every
fixture and generated program gives the same findings with and without the gate.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
# The node kinds `file_facts` tests, as globals: one lookup each rather than `ast` and then
# its attribute (every file of a run goes through that walk: 10-18% of its time on polar).
from ast import (
    AnnAssign, Assign, AsyncFunctionDef, Attribute, AugAssign, Await, BinOp, Call, ClassDef,
    Constant, Div, ExceptHandler, Expr, FormattedValue, Global, If, Import, ImportFrom, JoinedStr,
    Lambda, Module, Name, NamedExpr, Nonlocal, Not, Raise, Return, Starred, Subscript, UnaryOp,
    While, Yield, YieldFrom,
)
from dataclasses import dataclass, fields
from typing import AbstractSet, Dict, FrozenSet, Iterable, List, Optional, Tuple

from fastapi_lint.catalogs.security import (SQL_KEYWORDS, SQL_SINK_FUNCTIONS, SQL_SINK_METHODS, USER_INPUT_ATTRIBUTES,
                                            sql_words_possible)
from fastapi_lint.catalogs.fastapi import (ADD_ROUTE_METHODS, DEPENDS, HTTP_METHODS, ROUTE_DECORATORS, normalise_path,
                                           path_parameters, stray_brace)
from fastapi_lint.catalogs.asyncio import OFFLOAD_FUNCTIONS, RUN_IN_EXECUTOR
from fastapi_lint.model.names import resolve_relative_name

#: What FPI210's offload calls end with (`name_args`).
_OFFLOAD_NAMES = frozenset({q.rpartition(".")[2] for q in OFFLOAD_FUNCTIONS} | {RUN_IN_EXECUTOR})


def offload_spellings(import_aliases: Iterable[str]) -> FrozenSet[str]:
    """What a call of an offload function may end with: its own name, or an import's `as`
    name hiding one (`import_aliases` as `FileFacts.import_aliases` spells them: "alias name")."""
    return _OFFLOAD_NAMES.union(alias for alias, _, name in (pair.partition(" ") for pair in import_aliases)
                                if name in _OFFLOAD_NAMES)

_IN_ASYNC = 2
#: In a function or lambda body, and not in a class body nested in it: the engine's
#: `ctx.current_function()` is not None there.
_IN_FUNCTION_SCOPE = 4
#: In an annotation, or where flow.py reads an expression as a type (subscripts, `class_=`).
_IN_TYPE = 8
#: In the body of a `try` that has handlers.
_IN_TRY = 16
#: Inside a `def` or lambda: its body, decorators, parameters or return annotation (class
#: bodies do not clear it, unlike _IN_FUNCTION_SCOPE).
_IN_DEF = 32
#: A route registration's scope as the FastAPI model compares them (`Route.scope`, the
#: innermost `def` around it): that def's OwnBody, MODULE outside every def, ANY_SCOPE where
#: this walk cannot tell (a class body or lambda in a def, a def's own decorators or defaults).
_MODULE, _ANY_SCOPE = "module", "*"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What `Depends`/`Security` calls spell (`depends_arg_calls`).
DEPENDS_LAST = frozenset(q.rpartition(".")[2] for q in DEPENDS)
#: Keyword arguments that take a callable (see `arg_calls`).
_CALLABLE_KEYWORDS = ("dependency", "func")

ROUTE_CALLS = ROUTE_DECORATORS | ADD_ROUTE_METHODS
#: The one method a registration's name implies (others take `methods=`).
_METHOD_OF = {**{m: m for m in HTTP_METHODS},
              **dict.fromkeys(("websocket", "websocket_route", "add_api_websocket_route", "add_websocket_route"),
                              "websocket")}

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
#: Frequent node classes no branch of `file_facts`'s walk handles (it only visits their children).
_PLAIN = frozenset(getattr(ast, n) for n in (
    "For", "AsyncFor", "With", "AsyncWith", "Compare", "BoolOp", "Dict", "List",
    "Tuple", "Set", "Starred", "comprehension", "ListComp", "SetComp", "DictComp", "GeneratorExp",
    "FormattedValue", "arguments", "Delete", "Assert", "Pass", "Break", "Continue", "Slice", "IfExp", "Module",
    "Match", "match_case") if hasattr(ast, n))
#: Pattern nodes that bind a name (Python 3.10+).
_MATCH_CAPTURES = tuple(getattr(ast, n) for n in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(ast, n))


@dataclass(frozen=True)
class FileFacts:
    #: Every identifier: names, attributes, imported names and their aliases, definitions,
    #: parameters, keyword arguments.
    names: FrozenSet[str]
    #: The last identifier of every callee: `f()` -> "f", `a.b.c()` -> "c".
    calls: FrozenSet[str]
    #: The same, for calls lexically inside an `async def` (nested functions included).
    async_calls: FrozenSet[str]
    #: The last identifier of every decorator (of its callee when it is a call).
    decorators: FrozenSet[str]
    #: Keyword argument names at calls (`status_code=`, `response_model=`).
    keywords: FrozenSet[str]
    #: Names that get a second name: imported `as` something else (`from m import save as s`
    #: -> "save"), or assigned to another name (`s = repo.save` -> "save"). A call by the
    #: new name reaches them although its spelling does not say so.
    aliased: FrozenSet[str]
    #: Names of the file's `async def`s (methods and nested ones included).
    async_defs: FrozenSet[str]
    #: Two route registrations (function decorators named like FastAPI's route decorators, and
    #: `add_*_route` calls of an endpoint route (see `path_param_unreceived`), on a dotted name,
    #: with a literal path as first argument or `path=`) may
    #: collide: the same method (or a registration whose methods are not in its name), the
    #: same scope (the innermost `def` around the registration, or none; for a decorator,
    #: around the decorated `def`), and the same path once parameter names are dropped, on
    #: the same owner (`app` and `app.router` count as one) or on owners `include_router`
    #: can make one, with prefixes (see `_routes_may_collide`).
    routes_may_collide: bool
    #: Literal `prefix=` keyword arguments (`APIRouter(prefix=...)`, `include_router(..., prefix=...)`).
    prefixes: FrozenSet[str]
    #: What `raise` statements inside the body of a `try` with handlers raise: the last
    #: identifier of the exception (or of its constructor call).
    raised_in_try: FrozenSet[str]
    #: Call names (as in `calls`) whose innermost scope is a module or class body, as the
    #: engine's scope stack sees it: module and class bodies (classes defined in functions
    #: included), decorators and default values.
    scope_calls: FrozenSet[str]
    #: Identifiers inside string constants that flow.py may parse as a type: in annotations,
    #: in subscripts (`Dep = Annotated["Session", ...]`), in `class_=` values.
    type_string_names: FrozenSet[str]
    #: The last identifier of values that reach a name otherwise than by assignment or import:
    #: `with` items bound by `as` (`with a.b as c` -> "b"), returned and yielded values
    #: (`return requests.get` in a dependency), and `class_=` arguments (a session factory's
    #: class). With `aliased`, every way a name can come to hold what another name spells.
    bound_values: FrozenSet[str]
    #: `ast` class names of the binary operators used, in `a + b` and `a += b` alike ("Add",
    #: "Mod", "Div", ...), and "JoinedStr" for an f-string with a replacement field: how strings
    #: get built.
    operators: FrozenSet[str]
    #: Names of the file's classes (nested ones included): flow.py names an instance of a class
    #: of the module after the module (`pkg.mod.Session()`), without an import.
    class_defs: FrozenSet[str]
    #: Names of the file's functions, `def` and `async def` (methods and nested ones included).
    function_defs: FrozenSet[str]
    #: A route path parameter may reach no parameter of its function: a route decorator whose
    #: literal path (with any literal `prefix=` of the file) has a `{name}` that is not a
    #: parameter of the decorated function, or has one while the function has no `**kwargs`
    #: but a parameter with `alias=`/`validation_alias=`; or an endpoint route with a `{` in
    #: its literal path or in a prefix (its endpoint is elsewhere). An endpoint route is an
    #: `add_*_route` call whose endpoint (`endpoint=` or the second positional argument) is
    #: a bare name of a def of the file: the model takes no other for a route.
    path_param_unreceived: bool
    #: A function's return annotation may be the `response_model=` of its route decorator
    #: (`_may_be_same_type`), or an endpoint route passes `response_model=`.
    response_model_annotated: bool
    #: What each import binds its name to, as `ModuleContext.qualname` resolves it:
    #: `import a.b` -> "a", `import a.b as c` -> "a.b", `from a.b import c [as d]` -> "a.b.c";
    #: relative imports keep their dots ("..core.db.engine"); `from m import *` binds nothing.
    #: A qualified name can only be met through one of these (or a builtin): see model/gating.py.
    bindings: FrozenSet[str]
    #: The last identifier of calls passed directly where a callable is expected: as the first
    #: positional argument (not counting `*args`) of another call, or as its `dependency=` or
    #: `func=` (Depends, Security, add_task, BackgroundTask): `Depends(get_db())`,
    #: `add_task(func=send(x))` -> "get_db", "send".
    arg_calls: FrozenSet[str]
    #: As `calls`, for calls that are not the operand of `await` and whose callee is a bare
    #: name (`save(x)`).
    unawaited_names: FrozenSet[str]
    #: The same, for callees that are attributes (`x.save()`), except `self_calls`.
    unawaited_methods: FrozenSet[str]
    #: "Class.method" for unawaited calls on a method's first parameter (`self.save()` in a
    #: method of `Class`): in the innermost function (no lambda in between), which is defined
    #: directly in the body of `Class` and is not `@staticmethod`. The engine resolves such a
    #: receiver to that class or to nothing (`receiver_class`).
    self_calls: FrozenSet[str]
    #: As `unawaited_calls`, for calls whose value is lost the ways FPI201/FPI202 report
    #: (`coroutines.misuse`): the value of an expression statement, of a `return` in an
    #: `async def` (nested functions included), of an assignment to a name or to names in a
    #: function, or tested by `if`/`while`/`not`; through the branches of `a if c else b` and
    #: the items of a list, tuple or set display. A call passed on, awaited or used as a
    #: receiver is none of these.
    lost_calls: FrozenSet[str]
    #: Identifiers spelled as bare names (`ast.Name`, not attributes, imports or definitions):
    #: the only way to reach a builtin without an import (`open(...)`, not `aiofiles.open`).
    bare_names: FrozenSet[str]
    #: As `arg_calls`, for calls whose callee spells `Depends` or `Security` (FPI204).
    depends_arg_calls: FrozenSet[str]
    #: The qualified names the file's names and dotted names resolve to through its imports,
    #: as `ModuleContext.qualname` resolves them (a name bound by an import, then the
    #: attributes spelled after it; every prefix of such a chain too): `import httpx` and
    #: `httpx.AsyncClient()` give "httpx" and "httpx.AsyncClient", not "httpx.get". None when
    #: the module's name is unknown (relative imports unresolved; see `file_facts`).
    references: Optional[FrozenSet[str]]
    #: Names of `async def`s of the module's own scope (its body, and `if`/`try`/`with`/loop
    #: blocks in it): the only coroutine functions a bare name resolves to without an import.
    module_async_defs: FrozenSet[str]
    #: The string literals, other than statements of their own (docstrings), hold SQL words:
    #: a statement word first on a line, or every word of one clause (`ORDER` and `BY`), see
    #: `catalogs.security.sql_words_possible`. Text built in this module can only look like
    #: SQL then.
    sql_words: bool
    #: What `status_code=` keyword arguments spell: the value of an integer literal ("204"),
    #: or the last identifier of a name or attribute (`status.HTTP_204_NO_CONTENT` ->
    #: "HTTP_204_NO_CONTENT"). Other values resolve to no status code.
    status_codes: FrozenSet[str]
    #: An `on_startup=`/`on_shutdown=` argument that may register handlers: not `None`, nor
    #: a parameter of the function whose own body holds the call (a factory forwarding its
    #: caller's handlers, which the model does not count).
    event_keywords: bool
    #: As `calls`, for calls with neither a `timeout=` argument nor `**kwargs`.
    untimed_calls: FrozenSet[str]
    #: A `timeout=` argument that may be None as FPI307 reads it (`literal_value`): `None`, or
    #: a name in a file that assigns None to some name (`literal_value` follows a name bound
    #: once to a literal, or to a name so bound, in the module); a number, an attribute or a
    #: call is not.
    timeout_maybe_none: bool
    #: As `calls`, for calls given a call as their first positional argument, not counting
    #: starred ones (`run_in_threadpool(f(x))`), or `run_in_executor` as its second
    #: (`loop.run_in_executor(None, f(x))`): where FPI107 reads an offload's callable.
    call_arg_callers: FrozenSet[str]
    #: The last identifier of names and attributes passed as positional arguments of calls
    #: spelled like an offload function (`run_in_threadpool(fetch, x)` -> "fetch", "x";
    #: `to_thread`, `run_sync`, `run_in_executor`, or an import's `as` name for one).
    name_args: FrozenSet[str]
    #: `sql_words`, and a call whose callee is spelled as an SQL sink's (`x.execute`, `text`)
    #: is given SQL text that may be built from parts: see `_sql_sink_built`.
    sql_sink_built: bool
    #: A `/` (not on a number literal) in a def that FPI303's taint may read client input in:
    #: one with a route decorator, one an `add_api_route`-style call names, or one whose own
    #: body reads `.filename` or a Request's `.query_params`/`.path_params`/`.headers`/
    #: `.cookies`; or in a lambda or a class body inside a def (not followed).
    user_divide: bool
    #: "as_name name" for each import with `as` (`from m import save as s`: "s save";
    #: `import a.b as c`: "c b"), in any scope.
    import_aliases: FrozenSet[str]
    #: As `decorators`, for those of `async def`s.
    async_decorators: FrozenSet[str]
    #: As `calls`, for calls that are a whole expression statement (`f(x)` alone on its line).
    statement_calls: FrozenSet[str]

    @functools.cached_property
    def alias_origins(self) -> Dict[str, FrozenSet[str]]:
        """as-name -> the names imports bound under it hide."""
        out: Dict[str, set] = {}
        for pair in self.import_aliases:
            alias, _, name = pair.partition(" ")
            out.setdefault(alias, set()).add(name)
        return {k: frozenset(v) for k, v in out.items()}

    @functools.cached_property
    def reference_modules(self) -> FrozenSet[str]:
        """What the references are attributes of: "shutil" for "shutil.copy"."""
        return frozenset(r.rpartition(".")[0] for r in self.references or ())

    @functools.cached_property
    def unawaited_calls(self) -> FrozenSet[str]:
        """As `calls`, for calls that are not the operand of `await`, whatever their callee."""
        return self.unawaited_names | self.unawaited_methods | {c.rpartition(".")[2] for c in self.self_calls}

    def to_data(self) -> List[object]:
        return [sorted(v) if isinstance(v, frozenset) else v for v in (getattr(self, f.name) for f in fields(self))]

    @classmethod
    def from_data(cls, data: List[object]) -> Optional["FileFacts"]:
        """None for data of another layout (a cache written by an older version, or damaged):
        the file is then linted without the facts gate."""
        kinds = _FIELD_KINDS or _field_kinds(cls)
        if not isinstance(data, list) or len(data) != len(kinds):
            return None
        values = []
        for v, (is_set, optional) in zip(data, kinds):
            if is_set and isinstance(v, list) and all(type(x) is str for x in v):
                values.append(frozenset(v))
            elif (not is_set and type(v) is bool) or (optional and v is None):
                values.append(v)
            else:
                return None
        return cls(*values)


#: Per field of FileFacts: (a set of names, may be None), read from the annotations once.
_FIELD_KINDS: List[Tuple[bool, bool]] = []


def _field_kinds(cls) -> List[Tuple[bool, bool]]:
    _FIELD_KINDS[:] = [("FrozenSet" in str(f.type), str(f.type).startswith("Optional")) for f in fields(cls)]
    return _FIELD_KINDS


def _add_type_names(expr: ast.expr, out: set) -> None:
    """What a type expression (`class_=` of a session factory) can name, as the origin tracker
    reads it: the last identifier of `a.b`, of `a.b[...]`, of either side of `|`, and every
    identifier of a string annotation."""
    if isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.BinOp):
        _add_type_names(expr.left, out)
        _add_type_names(expr.right, out)
    elif isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        out.update(_IDENTIFIER.findall(expr.value))
    else:
        name = terminal_name(expr)
        if name is not None:
            out.add(name)


def first_parameter(func) -> Optional[str]:
    """A method's first parameter (its `self`), None for a `@staticmethod` or a def without
    positional parameters (`flow._first_param`, read from `ast`)."""
    if any(type(d) is ast.Name and d.id == "staticmethod" for d in func.decorator_list):
        return None
    first = [*func.args.posonlyargs, *func.args.args][:1]
    return first[0].arg if first else None


def terminal_name(expr: ast.expr) -> Optional[str]:
    """The last identifier of a callee or dotted name: `f` -> "f", `a.b.c` -> "c"; else None."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


#: Fields the walk in `file_facts` does not descend into: expression contexts (`Load`),
#: operators (read from their node where needed) and fields that hold no node.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "conversion", "level", "is_async"})
#: node class -> its fields that may hold nodes (filled as the walk meets classes)
_CHILD_FIELDS: Dict[type, tuple] = {}


def node_fields(kind: type) -> tuple:
    """The fields of a node class that may hold nodes (not contexts, operators, flags)."""
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
    return fields


#: Above this many route registrations in a file, `routes_may_collide` holds without comparing
#: every pair.
_MAX_ROUTE_PAIRS = 400
_WHITESPACE = re.compile(r"\s+")


def _routes_may_collide(registrations: List[tuple], includes: List[tuple], prefixes: AbstractSet[str]) -> bool:
    """`FileFacts.routes_may_collide`, from the registrations (owner, literal path, scope,
    method) and the `include_router` calls (owner, router) of the file.

    The model keys a route by its root owner: from the route's owner, while that router is
    included exactly once in the module (into an app or router it knows, with literal
    prefixes), it goes on to the owner it is included in, and prepends the prefixes. Here an
    include may be followed when its owner includes that router once (the model may not know
    the others for apps); the owners a registration may end on are all those reachable so.
    Two registrations of one owner compare their literal paths (the same prefixes come
    before both); of two owners that may end on one root, by their ends: equal full paths end
    with one another's literal paths (once normalised, which works piece by piece unless a
    brace is left outside a `{param}`)."""
    counts: Dict[str, Dict[str, int]] = {}
    for owner, router in includes:
        into = counts.setdefault(router, {})
        into[owner] = into.get(owner, 0) + 1
    reach: Dict[str, FrozenSet[str]] = {}

    def reachable(owner: str) -> FrozenSet[str]:
        if owner not in reach:
            found = {owner}
            todo = [owner]
            while todo:
                for t, n in counts.get(todo.pop(), {}).items():
                    if n == 1 and t not in found:
                        found.add(t)
                        todo.append(t)
            reach[owner] = frozenset(found)
        return reach[owner]

    if len(registrations) > _MAX_ROUTE_PAIRS:
        return True
    keyed = [(owner, normalise_path(path), scope, method) for owner, path, scope, method in registrations]
    stray = bool(includes) and any(stray_brace(p) for p in (*prefixes, *(r[1] for r in registrations)))
    for i, a in enumerate(keyed):
        for b in keyed[i + 1:]:
            if not (a[3] == b[3] or a[3] == "*" or b[3] == "*"):
                continue  # `get` and `post` do not meet; `api_route`/`add_api_route` meet any
            if not (a[2] is b[2] or a[2] is _ANY_SCOPE or b[2] is _ANY_SCOPE):
                continue
            if a[0] == b[0]:
                if a[1] == b[1]:
                    return True
            elif not reachable(a[0]).isdisjoint(reachable(b[0])) and (
                    stray or a[1].endswith(b[1]) or b[1].endswith(a[1])):
                return True
    return False


def _dotted(expr: ast.expr) -> Optional[str]:
    parts = []
    while type(expr) is ast.Attribute:
        parts.append(expr.attr)
        expr = expr.value
    if type(expr) is not ast.Name:
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def _may_be_same_type(a: ast.expr, b: ast.expr, import_as: bool) -> bool:
    """FPI506's `_same` may hold: the code of both, without whitespace, is the same (compared
    here as unparsed, which also merges quotes and parentheses), or both are dotted names of
    one qualified name: with the same last part, or (a bare name may be an import's `as`
    name) in a file with such an import."""
    da, db = _dotted(a), _dotted(b)
    if da is not None and db is not None:
        if da.rpartition(".")[2] == db.rpartition(".")[2]:
            return True
        if import_as and ("." not in da or "." not in db):
            return True
    return _WHITESPACE.sub("", ast.unparse(a)) == _WHITESPACE.sub("", ast.unparse(b))


def _forwarded(value: ast.expr, args: Optional[ast.arguments]) -> bool:
    if type(value) is ast.Constant and value.value is None:
        return True
    return type(value) is ast.Name and args is not None and any(
        a.arg == value.id for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))


def _owner_name(expr: ast.expr) -> Optional[str]:
    """An app or router as the model names it: a dotted name, with `app.router` as `app` (the
    model does so for an app's router; merging more owners only makes more paths collide).
    None: no dotted name, which the model does not take for an app or router."""
    name = _dotted(expr)
    if name is not None and name.endswith(".router"):
        return name[: -len(".router")]
    return name


def _registration_scope(own: Optional["OwnBody"], flags: int) -> object:
    """The scope of a route registration at a node walked with `own` and `flags` (see _MODULE)."""
    if own is not None:
        return own
    return _ANY_SCOPE if flags & _IN_DEF else _MODULE


def _route_path(call: ast.Call) -> Optional[str]:
    """The literal path of a registration, found as the model finds it: `path=`, else the first
    positional argument that is not `*args`."""
    arg = next((k.value for k in call.keywords if k.arg == "path"), None)
    if arg is None:
        arg = next((a for a in call.args if type(a) is not ast.Starred), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


class OwnBody:
    """What a function's own body holds (not nested functions, lambdas or classes, nor its
    decorators, defaults and annotations): read by the project index in the same walk."""

    __slots__ = ("calls", "yields", "nested", "owner", "receiver", "name", "user", "divides")

    def __init__(self, owner: Optional[str] = None, receiver: Optional[str] = None, name: str = "") -> None:
        self.calls: List[ast.Call] = []
        self.yields = False
        self.nested = False
        self.name = name
        #: what FPI303's taint may read client input in (`taint.TaintModel.route_input`,
        #: `upload_file`, `request_input`): a route decorator on the def, or a `.filename` or
        #: a Request's `.query_params`... read in its own body; and a `/` of its own body
        self.user = False
        self.divides = False
        #: For a method defined directly in a class body: the class's name and the method's
        #: first parameter (None for a `@staticmethod` or a method without parameters).
        self.owner = owner
        self.receiver = receiver


def _received(args: ast.arguments) -> Optional[FrozenSet[str]]:
    """The names a route function receives path parameters under: its parameters (positional
    only, positional, keyword only); None when one has `alias=`/`validation_alias=` (FastAPI
    then reads another name)."""
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    for value in [*args.defaults, *args.kw_defaults, *(p.annotation for p in params)]:
        if value is not None:
            for node in ast.walk(value):
                if type(node) is ast.keyword and node.arg in ("alias", "validation_alias"):
                    return None
    return frozenset(p.arg for p in params)


def file_facts(tree: Module, bodies: Optional[Dict[int, OwnBody]] = None,
               named_calls: Optional[Dict[str, List[Call]]] = None,
               module: Optional[Tuple[Optional[str], bool]] = None) -> FileFacts:
    """One walk over the tree. With `bodies`, also fills it: id(def node) -> its OwnBody
    (calls in source order). With `named_calls`, also appends to each of its lists the calls
    whose callee's last identifier is that key (`Depends(...)`, `fastapi.Depends(...)`).
    `module`: (name, is_package) of the module as the lint names it (`module_name_for`):
    relative imports are then resolved as the lint resolves them (`from .x import y` in
    `pkg.sub.m` binds "pkg.sub.x.y"; one that resolves to no module binds nothing) and the
    facts hold `references`. Unresolved, `gating` must take ".x.y" for any name in which
    `x.y` occurs, and any name spelled `y` for one an import may reach."""
    names = set()
    calls = set()
    async_calls = set()
    decorators = set()
    keywords = set()
    status_codes = set()
    aliased = set()
    async_defs = set()
    registrations: List[tuple] = []  # (owner, literal path, scope, method)
    includes: List[tuple] = []  # (owner, router)
    decorator_scopes: Dict[int, object] = {}  # id(decorator call) -> the scope of its def statement
    prefixes = set()
    raised_in_try = set()
    scope_calls = set()
    type_string_names = set()
    bound_values = set()
    bindings = set()
    arg_calls = set()
    operators = set()
    class_defs = set()
    function_defs = set()
    route_params: List[tuple] = []  # (path parameters, the function's parameter names; None: aliased)
    add_routes: List[tuple] = []  # (endpoint name, literal path, response_model=?, registration)
    annotated_models: List[tuple] = []  # (response_model= of a route decorator, the def's return annotation)
    import_as = False
    untimed_calls = set()
    call_arg_callers = set()
    passed_names: List[Tuple[str, str]] = []  # (callee, a name or attribute passed positionally)
    timeout_maybe_none = False
    timeout_name = none_bound = False  # `timeout=name`; `name = None` somewhere
    event_keywords = False
    own_args: Dict[int, ast.arguments] = {}  # id(OwnBody) -> the parameters of its function
    unawaited_names = set()
    lost_calls = set()
    imported: List[Tuple[str, str]] = []  # (name bound by an import, what it binds: see `bindings`)
    chains: List[str] = []  # dotted names: "a.b.c" for the expression `a.b.c`
    depends_arg_calls = set()
    bare_names = set()
    lost: set = set()  # ids of the calls in a position `lost_calls` describes
    unawaited_methods = set()
    self_calls = set()
    methods: Dict[int, str] = {}  # id(def directly in a class body) -> the class's name
    strings: List[str] = []
    awaited = set()
    own_bodies: Dict[int, OwnBody] = bodies if bodies is not None else {}
    loose_divide = loose_user = False
    import_pairs = set()
    async_decorators = set()
    statement_calls = set()
    stack = [(tree, 0, None)]
    pop, push = stack.pop, stack.append
    child_fields = _CHILD_FIELDS
    AST = ast.AST
    while stack:
        node, flags, own = pop()
        kind = type(node)
        if kind is Name:
            names.add(node.id)
            bare_names.add(node.id)
            continue
        if kind in _PLAIN:
            pass  # no branch below: straight to the children
        elif kind is Attribute:
            names.add(node.attr)
            parts = [node.attr]
            inner = node.value
            while type(inner) is Attribute:
                parts.append(inner.attr)
                inner = inner.value
            # (every part: `request.query_params.get`, `file.filename.lower` read input too)
            if not USER_INPUT_ATTRIBUTES.isdisjoint(parts):
                if own is not None:
                    own.user = True
                elif flags & _IN_DEF:
                    loose_user = True
            if type(inner) is Name:
                # a dotted name: its inner attributes add only their names; the head is walked
                names.update(parts)
                parts.append(inner.id)
                chains.append(".".join(reversed(parts)))
                push((inner, flags, own))
                continue
        elif kind is Call:
            if own is not None:
                own.calls.append(node)
            args = node.args
            name = terminal_name(node.func)
            if args:
                first = args[0]
                if type(first) is Starred:
                    first = next((a for a in args if type(a) is not Starred), None)
                if type(first) is Call:
                    inner = terminal_name(first.func)
                    if inner is not None:
                        arg_calls.add(inner)
                        if name in DEPENDS_LAST:
                            depends_arg_calls.add(inner)
            if name in DEPENDS_LAST:
                for k in node.keywords:
                    if k.arg == "dependency" and type(k.value) is Call:
                        inner = terminal_name(k.value.func)
                        if inner is not None:
                            depends_arg_calls.add(inner)
            if name is not None:
                calls.add(name)
                if named_calls is not None and name in named_calls:
                    named_calls[name].append(node)
                if not any(k.arg is None or k.arg == "timeout" for k in node.keywords):
                    untimed_calls.add(name)
                if args:
                    position = 0  # among the positional arguments that are not starred
                    for a in args:
                        kind_of_arg = type(a)
                        if kind_of_arg is Starred:
                            continue
                        position += 1
                        if kind_of_arg is Call:
                            # an offload's callable: the first, or `run_in_executor`'s second
                            if position == 1 or (position == 2 and name == RUN_IN_EXECUTOR):
                                call_arg_callers.add(name)
                        elif kind_of_arg is Name:
                            passed_names.append((name, a.id))
                        elif kind_of_arg is Attribute:
                            passed_names.append((name, a.attr))
                if name == "include_router" and type(node.func) is Attribute:
                    router = next((k.value for k in node.keywords if k.arg == "router"), None) or next(
                        (a for a in node.args if type(a) is not Starred), None)
                    owner = _owner_name(node.func.value)
                    router = _owner_name(router) if router is not None else None
                    if owner is not None and router is not None:
                        includes.append((owner, router))
                elif name in ROUTE_CALLS:
                    path = _route_path(node)
                    owner = _owner_name(node.func.value) if type(node.func) is Attribute else None
                    if name in ADD_ROUTE_METHODS:
                        # the model takes it for a route when its endpoint is a bare name of a
                        # def of the module (known once the walk is over)
                        endpoint = next((k.value for k in node.keywords if k.arg == "endpoint"), None)
                        if endpoint is None:
                            endpoint = ([a for a in node.args if type(a) is not Starred][1:2] or [None])[0]
                        if type(endpoint) is Name:
                            add_routes.append((endpoint.id, path, any(k.arg == "response_model" for k in node.keywords),
                                               (owner, path, _registration_scope(own, flags), _METHOD_OF.get(name, "*"))))
                    elif path is not None and owner is not None and id(node) in decorator_scopes:
                        # a route decorator registers only as a function's decorator
                        # (`client.get("/")` in a test registers nothing)
                        registrations.append((owner, path, decorator_scopes[id(node)], _METHOD_OF.get(name, "*")))
                if id(node) not in awaited:
                    if id(node) in lost:
                        lost_calls.add(name)
                    func = node.func
                    if type(func) is Name:
                        unawaited_names.add(name)
                    elif own is not None and own.receiver is not None and type(func.value) is Name \
                            and func.value.id == own.receiver:
                        self_calls.add(f"{own.owner}.{name}")
                    else:
                        unawaited_methods.add(name)
                if flags & _IN_ASYNC:
                    async_calls.add(name)
                if not flags & _IN_FUNCTION_SCOPE:
                    scope_calls.add(name)
        elif kind is Constant:
            if type(node.value) is str:
                strings.append(node.value)
                if flags & _IN_TYPE:
                    type_string_names.update(_IDENTIFIER.findall(node.value))
            continue
        elif kind is Expr:
            if type(node.value) is Constant:
                continue  # a docstring: no value reaches anything
            _mark_lost(node.value, lost)
            if type(node.value) is Call:
                name = terminal_name(node.value.func)
                if name is not None:
                    statement_calls.add(name)
        elif kind is If or kind is While:
            _mark_lost(node.test, lost)
        elif kind is UnaryOp:
            if type(node.op) is Not:
                _mark_lost(node.operand, lost)
        elif kind is ast.keyword:
            if node.arg:
                names.add(node.arg)
                keywords.add(node.arg)
                if node.arg == "prefix" and isinstance(node.value, Constant) and isinstance(node.value.value, str):
                    prefixes.add(node.value.value)
                elif node.arg == "on_startup" or node.arg == "on_shutdown":
                    if not _forwarded(node.value, own_args.get(id(own)) if own is not None else None):
                        event_keywords = True
                elif node.arg == "timeout":
                    value = node.value
                    if type(value) is Constant and value.value is None:
                        timeout_maybe_none = True
                    elif type(value) is Name:
                        timeout_name = True
                elif node.arg == "status_code":
                    value = node.value
                    if type(value) is Constant and type(value.value) is int:
                        status_codes.add(str(value.value))
                    else:
                        name = terminal_name(value)
                        if name is not None:
                            status_codes.add(name)
                elif node.arg == "class_":  # sessionmaker(class_=...): flow.py reads a type
                    _add_type_names(node.value, bound_values)
                    push((node.value, flags | _IN_TYPE, own))
                    continue
                elif node.arg in _CALLABLE_KEYWORDS and type(node.value) is Call:
                    name = terminal_name(node.value.func)
                    if name is not None:
                        arg_calls.add(name)
        elif kind is Await:
            if type(node.value) is Call:
                awaited.add(id(node.value))
        elif kind is ast.arg:
            names.add(node.arg)
            if node.annotation is not None:
                push((node.annotation, flags | _IN_TYPE, own))
            continue
        elif kind in _FUNCTIONS or kind is Lambda:
            if own is not None:
                own.nested = True
            inner = flags | _IN_FUNCTION_SCOPE | _IN_DEF
            if kind is not Lambda:
                names.add(node.name)
                function_defs.add(node.name)
                if kind is AsyncFunctionDef:
                    async_defs.add(node.name)
                    inner |= _IN_ASYNC
                routed = False
                for d in node.decorator_list:
                    target = d.func if isinstance(d, Call) else d
                    name = terminal_name(target)
                    if name is not None:
                        decorators.add(name)
                        if kind is AsyncFunctionDef:
                            async_decorators.add(name)
                        if name in ROUTE_DECORATORS and target is not d:
                            routed = True
                            # evaluated where the def statement is
                            decorator_scopes[id(d)] = _registration_scope(own, flags)
                            path = _route_path(d)
                            if path is not None and node.args.kwarg is None:  # **kwargs takes any
                                route_params.append((path_parameters(path), _received(node.args)))
                            if node.returns is not None:
                                model = next((k.value for k in d.keywords if k.arg == "response_model"), None)
                                if model is not None:
                                    annotated_models.append((model, node.returns))
                    push((d, flags | _IN_DEF, None))
                if node.returns is not None:
                    push((node.returns, flags | _IN_TYPE | _IN_DEF, None))
                owner = methods.get(id(node))
                receiver = first_parameter(node) if owner is not None else None
                body = OwnBody(owner, receiver, node.name)
                body.user = routed
                own_args[id(body)] = node.args
                own_bodies[id(node)] = body
                for stmt in node.body:
                    push((stmt, inner, body))
            else:
                push((node.body, inner, None))
            push((node.args, flags | _IN_DEF, None))
            continue
        elif kind is ClassDef:
            if own is not None:
                own.nested = True  # and nothing of the class is the function's own body
            names.add(node.name)
            class_defs.add(node.name)
            for d in node.decorator_list:
                name = terminal_name(d.func if isinstance(d, Call) else d)
                if name is not None:
                    decorators.add(name)
            for stmt in node.body:  # a class body is a scope of its own, even in a function
                if type(stmt) in _FUNCTIONS:
                    methods[id(stmt)] = node.name
                push((stmt, flags & ~_IN_FUNCTION_SCOPE, None))
            for field in ("bases", "keywords", "decorator_list", "type_params"):
                for item in getattr(node, field, ()):
                    push((item, flags, None))
            continue
        elif kind is ExceptHandler:
            if node.name:
                names.add(node.name)
        elif kind is Import:
            for alias in node.names:
                names.update(alias.name.split("."))
                if alias.asname:
                    import_as = True
                    names.add(alias.asname)
                    aliased.add(alias.name.rpartition(".")[2])
                    import_pairs.add(f"{alias.asname} {alias.name.rpartition('.')[2]}")
                    bindings.add(alias.name)
                    imported.append((alias.asname, alias.name))
                else:
                    head = alias.name.partition(".")[0]
                    bindings.add(head)
                    imported.append((head, head))
            continue
        elif kind is ImportFrom:
            base = "." * (node.level or 0) + (node.module or "")
            if node.module:
                names.update(node.module.split("."))
            for alias in node.names:
                if alias.name == "*":  # binds no name `qualname` resolves
                    continue
                binding = f"{base}.{alias.name}" if base and not base.endswith(".") else base + alias.name
                bindings.add(binding)
                imported.append((alias.asname or alias.name, binding))
                names.add(alias.name)
                if alias.asname:
                    import_as = True
                    names.add(alias.asname)
                    aliased.add(alias.name)
                    import_pairs.add(f"{alias.asname} {alias.name}")
            continue
        elif kind is Assign or kind is AnnAssign or kind is NamedExpr:
            if type(node.value) is Constant and node.value.value is None:
                none_bound = True
            name = terminal_name(node.value) if node.value is not None else None
            if name is not None:
                aliased.add(name)
            if kind is Assign:
                target = node.targets[0] if len(node.targets) == 1 else None
            else:
                target = node.target if kind is AnnAssign else None  # not a walrus
            if type(target) in _STORE_TARGETS and node.value is not None and flags & _IN_FUNCTION_SCOPE:
                _mark_lost(node.value, lost)
            if kind is AnnAssign:
                push((node.target, flags, own))
                push((node.annotation, flags | _IN_TYPE, own))
                if node.value is not None:
                    push((node.value, flags, own))
                continue
        elif kind in _TRIES:
            if node.handlers:
                for stmt in node.body:
                    push((stmt, flags | _IN_TRY, own))
                for part in (node.handlers, node.orelse, node.finalbody):
                    for stmt in part:
                        push((stmt, flags, own))
                continue
        elif kind is Yield or kind is YieldFrom:
            if own is not None:
                own.yields = True
            name = terminal_name(node.value) if node.value is not None else None
            if name is not None:
                bound_values.add(name)
        elif kind is Return:
            name = terminal_name(node.value) if node.value is not None else None
            if name is not None:
                bound_values.add(name)
            if flags & _IN_ASYNC and node.value is not None:
                _mark_lost(node.value, lost)
        elif kind is Raise:
            if flags & _IN_TRY and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, Call) else node.exc
                name = terminal_name(exc)
                if name is not None:
                    raised_in_try.add(name)
        elif kind is BinOp or kind is AugAssign:
            operators.add(type(node.op).__name__)
            if kind is BinOp and type(node.op) is Div and flags & _IN_DEF and not (
                    type(node.left) is Constant and type(node.left.value) in (int, float)):
                if own is None:
                    loose_divide = True  # a lambda's, a class body's in a def: not followed
                else:
                    own.divides = True
        elif kind is JoinedStr:
            if "JoinedStr" not in operators and any(type(v) is FormattedValue for v in node.values):
                operators.add("JoinedStr")
        elif kind is Subscript:
            push((node.value, flags, own))
            push((node.slice, flags | _IN_TYPE, own))  # `Annotated["Session", ...]` in a type alias
            continue
        elif kind is ast.withitem:
            if node.optional_vars is not None:
                name = terminal_name(node.context_expr)
                if name is not None:
                    bound_values.add(name)
        elif kind is Global or kind is Nonlocal:
            names.update(node.names)
        elif kind in _MATCH_CAPTURES:
            for attr in ("name", "rest"):
                captured = getattr(node, attr, None)
                if captured:
                    names.add(captured)
        for field in child_fields.get(kind) or node_fields(kind):
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        push((item, flags, own))
            elif isinstance(value, AST):
                push((value, flags, own))
    add_routes = [a for a in add_routes if a[0] in function_defs]
    for _, path, _, registration in add_routes:
        if path is not None and registration[0] is not None:
            registrations.append(registration)
    prefix_params = {n for p in prefixes for n in path_parameters(p)}
    path_param_unreceived = (
        any(path is not None and "{" in path for _, path, _, _ in add_routes) or (bool(prefix_params) and bool(add_routes))
        or any((params or prefix_params) and (received is None or not (set(params) | prefix_params) <= received)
               for params, received in route_params))
    if bodies:
        for body in bodies.values():
            body.calls.sort(key=lambda c: (c.lineno, c.col_offset))
    references = None
    if module is not None:
        resolved = {b: _resolve_binding(b, *module) for b in bindings}
        bindings = {r for r in resolved.values() if r}
        # a string annotation's names resolve as bare names do (`request: "Req"`)
        references = _references([(n, resolved[b]) for n, b in imported if resolved[b]], chains,
                                 bare_names | type_string_names)
    endpoints = {a[0] for a in add_routes}
    user_divide = loose_divide or any(b.divides and (b.user or loose_user or b.name in endpoints)
                                      for b in own_bodies.values())
    sql_words = sql_words_possible("\n".join(strings))
    # a name's literal value (`taint.literal_value`) is None only through an assignment of None
    timeout_maybe_none = timeout_maybe_none or (timeout_name and none_bound)
    offloads = offload_spellings(import_pairs)
    name_args = {n for callee, n in passed_names if callee in offloads}
    return FileFacts(frozenset(names), frozenset(calls),
                     frozenset(async_calls), frozenset(decorators), frozenset(keywords),
                     frozenset(aliased), frozenset(async_defs),
                     _routes_may_collide(registrations, includes, prefixes), frozenset(prefixes), frozenset(raised_in_try), frozenset(scope_calls),
                     frozenset(type_string_names), frozenset(bound_values), frozenset(operators),
                     frozenset(class_defs), frozenset(function_defs), path_param_unreceived,
                     any(a[2] for a in add_routes) or any(_may_be_same_type(m, r, import_as) for m, r in annotated_models),
                     frozenset(bindings), frozenset(arg_calls),
                     frozenset(unawaited_names), frozenset(unawaited_methods), frozenset(self_calls),
                     frozenset(lost_calls), frozenset(bare_names), frozenset(depends_arg_calls), references,
                     frozenset(_module_async_defs(tree.body)), sql_words,
                     frozenset(status_codes), event_keywords, frozenset(untimed_calls), timeout_maybe_none,
                     frozenset(call_arg_callers), frozenset(name_args),
                     sql_words and not (operators.isdisjoint(_BUILDING_OPERATORS) and calls.isdisjoint(_BUILDING_METHODS))
                     and _sql_sink_built(tree, calls, imported, own_bodies), user_divide,
                     frozenset(import_pairs), frozenset(async_decorators), frozenset(statement_calls))


#: How taint (model/taint.py) builds a string: an f-string with a field, `+`, `%`, `/` (and
#: `+=`, `%=`), `.join(...)`, `.format(...)`; the names of FPI301's sinks as a call spells them.
_BUILDING_OPERATORS = frozenset({"JoinedStr", "Add", "Mod", "Div"})
_BUILDING_METHODS = frozenset({"join", "format"})
_SQL_SINK_NAMES = SQL_SINK_METHODS | {q.rpartition(".")[2] for q in SQL_SINK_FUNCTIONS}


def _sql_sink_built(tree: ast.Module, calls: AbstractSet[str], imported: List[Tuple[str, str]],
                    bodies: Dict[int, OwnBody]) -> bool:
    """Whether a call spelled as an SQL sink (`x.execute(...)`, `text(...)`, or a name an
    import binds to a sink function: `from sqlalchemy import text as t`) is given SQL text
    (its first positional argument, else its first keyword of `SQL_KEYWORDS`, as FPI301 reads
    it) that is no string literal, may be built the ways taint records a build (`.built`),
    and may look like SQL. Built: a node of `_BUILDING_OPERATORS`/`_BUILDING_METHODS` in the
    argument or, in a function, in what one of its names is given by the function's own
    statements (`=`, `: T =`, `+=`, a `for` target's iterable, `name[key] = ...` keys), name
    after name; outside functions taint follows no name for a build (`outer_name` keeps
    constants). Like SQL: the string literals met on the way, and in what module-level
    assignments give the names the function does not bind (`outer_name`'s text), hold the
    words `sql_words_possible` asks for. Class bodies and lambdas are read with the function
    around them; nested functions are scopes of their own. A function whose own body
    (`bodies`, from the walk of `file_facts`) holds no def, class or lambda and no call spelled
    as a sink has nothing to give: it is not read."""
    sinks = _SQL_SINK_NAMES | {n for n, bound in imported if bound.rpartition(".")[2] in _SQL_SINK_NAMES}
    if calls.isdisjoint(sinks):
        return False
    module_values: Dict[str, List[ast.AST]] = {}
    scopes: List[Tuple[List[ast.stmt], bool]] = [(tree.body, False)]
    while scopes:
        body, in_function = scopes.pop()
        values: Dict[str, List[ast.AST]] = {} if in_function else module_values
        built_names = set()
        args: List[ast.expr] = []
        todo: List[ast.AST] = list(body)
        while todo:
            node = todo.pop()
            kind = type(node)
            if kind in _FUNCTIONS:
                own = bodies.get(id(node))
                if own is None or own.nested or any(terminal_name(c.func) in sinks for c in own.calls):
                    scopes.append((node.body, True))
                todo.extend(node.decorator_list)
                todo.extend(node.args.defaults)
                todo.extend(d for d in node.args.kw_defaults if d is not None)
                continue
            if kind is ast.Assign:
                for t in node.targets:
                    if type(t) is ast.Name:
                        values.setdefault(t.id, []).append(node.value)
                    elif type(t) is ast.Subscript and type(t.value) is ast.Name:
                        values.setdefault(t.value.id, []).append(t.slice)
            elif kind is ast.AnnAssign:
                if type(node.target) is ast.Name and node.value is not None:
                    values.setdefault(node.target.id, []).append(node.value)
            elif kind is ast.AugAssign:
                if type(node.target) is ast.Name:
                    values.setdefault(node.target.id, []).append(node.value)
                    if type(node.op) is ast.Add or type(node.op) is ast.Mod:
                        built_names.add(node.target.id)
            elif kind is ast.For or kind is ast.AsyncFor:
                if type(node.target) is ast.Name:
                    values.setdefault(node.target.id, []).append(node.iter)
            elif kind is ast.Call:
                if terminal_name(node.func) in sinks:
                    arg = next((a for a in node.args if type(a) is not ast.Starred), None)
                    if arg is None:
                        given = {k.arg: k.value for k in node.keywords if k.arg}
                        arg = next((given[k] for k in SQL_KEYWORDS if k in given), None)
                    if arg is not None and not (type(arg) is ast.Constant and type(arg.value) is str):
                        args.append(arg)
            todo.extend(ast.iter_child_nodes(node))
        for arg in args:
            if in_function:
                built, strings = _reaches(arg, values, built_names, module_values)
            else:
                built, strings = _reaches(arg, {}, set(), module_values)
            if built and sql_words_possible("\n".join(strings)):
                return True
    return False


def _reaches(expr: ast.AST, values: Dict[str, List[ast.AST]], built_names: set,
             module_values: Dict[str, List[ast.AST]]) -> Tuple[bool, List[str]]:
    """Whether a build node is in `expr` or, through the function's names, in their `values`;
    and the string literals met there, and through the other names in `module_values`."""
    built = False
    strings: List[str] = []
    seen = set()
    todo = [(expr, True)]  # (node, whether a build there reaches the text)
    while todo:
        node, local = todo.pop()
        kind = type(node)
        if kind is ast.Constant:
            if type(node.value) is str:
                strings.append(node.value)
            continue
        if kind is ast.JoinedStr:
            built = built or local
        elif kind is ast.BinOp:
            op = type(node.op)
            if op is ast.Add or op is ast.Mod or op is ast.Div:
                built = built or local
        elif kind is ast.Call:
            if type(node.func) is ast.Attribute and node.func.attr in _BUILDING_METHODS:
                built = built or local
        elif kind is ast.Name:
            name = node.id
            if (name, local) in seen:
                continue
            seen.add((name, local))
            if local:
                built = built or name in built_names
                todo.extend((v, True) for v in values.get(name, ()))
            # a name no definition reaches yet is the module's (`reaching` -> `outer_name`)
            todo.extend((v, False) for v in module_values.get(name, ()))
            continue
        todo.extend((child, local) for child in ast.iter_child_nodes(node))
    return built, strings


#: Assignment targets through which `coroutines.misuse` follows a stored coroutine: a name,
#: or names unpacked from a display (`a, b = f(), g()`).
_STORE_TARGETS = (ast.Name, ast.Tuple, ast.List)
_DISPLAYS = (ast.List, ast.Tuple, ast.Set)


def _mark_lost(expr: ast.expr, lost: Optional[set], nodes: Optional[list] = None) -> None:
    """Add to `lost` the ids of the calls whose value `expr` is (or, given `nodes`, the calls
    to it), as `coroutines.misuse` climbs from a call to the statement that loses it: through
    the branches (not the test) of `a if c else b` and the items (not starred) of list, tuple
    and set displays."""
    todo = [expr]
    while todo:
        e = todo.pop()
        kind = type(e)
        if kind is ast.Call:
            if nodes is None:
                lost.add(id(e))  # type: ignore[union-attr]
            else:
                nodes.append(e)
        elif kind is ast.IfExp:
            todo.append(e.body)
            todo.append(e.orelse)
        elif kind in _DISPLAYS:
            todo.extend(item for item in e.elts if type(item) is not ast.Starred)


def _module_async_defs(body: List[ast.stmt]) -> set:
    found = set()
    for stmt in body:
        kind = type(stmt)
        if kind is ast.AsyncFunctionDef:
            found.add(stmt.name)
        elif kind not in _FUNCTIONS and kind is not ast.ClassDef:
            for attr in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(stmt, attr, None)
                if inner:
                    found |= _module_async_defs(inner)
    return found


def _resolve_binding(binding: str, module_name: Optional[str], is_package: bool) -> Optional[str]:
    """A binding of `FileFacts.bindings` as the lint resolves it in module `module_name`
    (`imports.import_bindings`): a relative one becomes absolute, or None (it binds nothing)."""
    if binding[0] != ".":
        return binding
    rest = binding.lstrip(".")
    package, _, name = rest.rpartition(".")
    base = resolve_relative_name(package or None, len(binding) - len(rest), module_name, is_package)
    return f"{base}.{name}" if base else None


def _references(imported: List[Tuple[str, str]], chains: List[str], bare_names: AbstractSet[str]) -> FrozenSet[str]:
    """`FileFacts.references`: each dotted name whose head an import binds, resolved through
    every import binding that name (the scopes are not told apart), with its prefixes."""
    by_name: Dict[str, List[str]] = {}
    for name, qual in imported:
        by_name.setdefault(name, []).append(qual)
    out = set()
    for name in bare_names:
        out.update(by_name.get(name, ()))
    for chain in set(chains):
        head, _, rest = chain.partition(".")
        for qual in by_name.get(head, ()):
            full = qual
            for part in rest.split("."):
                full = f"{full}.{part}"
                out.add(full)
            out.add(qual)
    return frozenset(out)


def facts_of_source(source: str, module_name: Optional[str] = None, is_package: bool = False,
                    resolve: bool = False) -> Optional[FileFacts]:
    """The facts of source text (None if CPython cannot parse it, nor its rewrite of syntax
    newer than the interpreter's: `modern.py`); with `resolve`, resolved in the module
    `module_name` (see `file_facts`); CPython's SyntaxWarnings (`1()`, invalid
    escapes) are not the reader's business here, as in the scan pass."""
    from fastapi_lint.model.modern import parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = parse(source)
        return file_facts(tree, module=(module_name, is_package) if resolve else None)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


FactsByPath = Dict[str, FileFacts]
