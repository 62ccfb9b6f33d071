"""Where a string came from, within one function: a small value/taint tracker.

`ctx.taint.value(expr)` describes the value of `expr` at the point of the traversal:

* `holes`: the non-constant inputs it was built from ("parameter `name`", "`get_table()`").
  Literals, module constants, ALL_CAPS names and attributes (configuration by convention),
  class attributes assigned a literal, numbers, `int(...)`/`len(...)`, parameters annotated
  `int`/`float`/`bool`/`UUID`/dates, loop variables over literal collections and placeholder
  lists (`", ".join("?" for _ in ids)`) are constants and leave no hole.
* `user`: the subset an HTTP client controls: a route's scalar parameters (path, query,
  header, cookie, form), `UploadFile.filename`, `request.query_params[...]` and friends.
  `os.path.basename`, `Path(...).name`/`.stem`/`.suffix`, `secure_filename` remove it
  (the value is still not constant); so does a `resolve()` + `is_relative_to` check, or a
  `".." in x` test, on the same name.
* `builds`: the f-strings, `+`, `+=`, `%`, `.format` and `str.join` nodes that put a hole
  into a string: "report once per built string" keys on them.
* `text`: the literal text that flowed in, holes as `{}` (to recognise SQL by its keywords).

Names are followed through assignments flow-sensitively enough for real code: a use sees
the last assignment that dominates it (same or enclosing block, earlier), plus the
assignments in branches and loops after it. Unknown values are holes, never constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import re

import libcst as cst

from fastapi_lint.catalogs import security as cat
from fastapi_lint.model.flow import module_assignments, unwrap_annotation
from fastapi_lint.model.imports import dotted_name, find_param
from fastapi_lint.traverse import visit_readonly

if TYPE_CHECKING:  # pragma: no cover
    from fastapi_lint.model.context import ModuleContext


#: A hole right after a single quote (`'{x}'`, `'%{x}%'`) is a string value of SQL: data, not
#: an identifier or a fragment the code computes (`{db.timestamp_now}`, `"{schema}"`).
_VALUE_CONTEXT = re.compile(r"'%?$")


def value_context(text: str) -> bool:
    """Whether text ending here puts what follows inside an SQL string literal (`= '{x}'`)."""
    return bool(_VALUE_CONTEXT.search(text[-8:]))


#: Where SQL names an object rather than taking a value: after a keyword that names a schema,
#: table, database, role... (`CREATE SCHEMA IF NOT EXISTS`, `FROM`, `INTO`, `SET search_path
#: TO`, `ORDER BY`), or after a name and a dot (`"{schema}"."{table}"`); the name may be
#: quoted (`"`, a backquote, `[`). Right after `DROP`/`CREATE`/`ALTER` comes the kind of object
#: (`DROP {kind} IF EXISTS`): no value either.
_NAME_CONTEXT = re.compile(
    r"(?:\b(?:SCHEMA|TABLE|DATABASE|VIEW|INDEX|SEQUENCE|ROLE|USER|EXTENSION|FROM|JOIN|INTO|UPDATE|TRUNCATE|DROP|CREATE|ALTER"
    r"|ORDER\s+BY|GROUP\s+BY|search_path\s+TO|search_path\s*=)(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s*"
    r"|[\w\"`\]}]\.)[\"`\[]?$", re.I)


def identifier_context(text: str) -> bool:
    """Whether text ending here puts what follows where SQL expects a name (a schema, a table,
    a column to sort by), not inside an SQL string literal: a bound parameter cannot stand
    there."""
    return text.count("'") % 2 == 0 and bool(_NAME_CONTEXT.search(text[-80:]))


@dataclass(frozen=True)
class Taint:
    holes: FrozenSet[str] = frozenset()
    user: FrozenSet[str] = frozenset()
    entries: FrozenSet[int] = frozenset()  # ids of the nodes where user input entered
    builds: FrozenSet[int] = frozenset()
    text: str = ""
    params: FrozenSet[str] = frozenset()  # holes that are parameters of the function
    data: FrozenSet[str] = frozenset()  # holes interpolated where SQL expects a value (`= '{x}'`)
    #: holes interpolated where SQL expects a name (`CREATE SCHEMA "{x}"`, `FROM {x}`)
    names: FrozenSet[str] = frozenset()

    @property
    def constant(self) -> bool:
        return not self.holes

    def _merge(self, other: "Taint", text: str) -> "Taint":
        return Taint(self.holes | other.holes, self.user | other.user, self.entries | other.entries,
                     self.builds | other.builds, text, self.params | other.params, self.data | other.data,
                     self.names | other.names)

    def __or__(self, other: "Taint") -> "Taint":
        return self._merge(other, (self.text + " " + other.text).strip())

    def concat(self, other: "Taint", node: Optional[cst.CSTNode] = None) -> "Taint":
        if other.holes and other.text.startswith("{}"):
            if value_context(self.text):
                other = other.as_data()
            elif identifier_context(self.text):
                other = other.replace(names=other.names | other.holes)
        return self._merge(other, self.text + other.text).built(node)

    def replace(self, **changes) -> "Taint":
        from dataclasses import replace

        return replace(self, **changes)

    def as_data(self) -> "Taint":
        return self.replace(data=self.data | self.holes)

    def built(self, node: Optional[cst.CSTNode]) -> "Taint":
        if node is None or not self.holes:
            return self
        return self.replace(builds=self.builds | {id(node)})

    def sanitised(self) -> "Taint":
        return self.replace(user=frozenset(), entries=frozenset())

    def as_hole(self) -> "Taint":
        """The value interpolated somewhere: its text becomes one `{}`."""
        return self.replace(text=self.text if not self.holes else "{}")


CONST = Taint()


def literal(text: str) -> Taint:
    return Taint(text=text)


#: Route inputs taken from the URL path. A plain `{name}` matches one segment: it cannot hold
#: a `/` (Starlette routes on the decoded path, so `..%2F` does not match either); a
#: `{name:path}` parameter can hold any number of segments, `../` included.
PATH_SEGMENT_PARAMETER = "path parameter"
PATH_CONVERTER_PARAMETER = "`:path` parameter"


def hole(desc: str, user: bool = False, node: Optional[cst.CSTNode] = None, param: bool = False) -> Taint:
    return Taint(frozenset({desc}), frozenset({desc}) if user else frozenset(),
                 frozenset({id(node)}) if user and node is not None else frozenset(), frozenset(), "{}",
                 frozenset({desc}) if param else frozenset())


@dataclass
class _Def:
    order: int
    path: Tuple
    kind: str  # "assign", "aug", "for", "unknown"
    value: Optional[cst.BaseExpression] = None
    op: Optional[cst.BaseAugOp] = None
    node: Optional[cst.CSTNode] = None


@dataclass
class FunctionFlow:
    func: cst.FunctionDef
    defs: Dict[str, List[_Def]] = field(default_factory=dict)
    where: Dict[int, Tuple[int, Tuple]] = field(default_factory=dict)  # id(stmt) -> (order, path)
    checked: Set[str] = field(default_factory=set)  # names checked by is_relative_to / ".." in x
    allowlisted: Set[str] = field(default_factory=set)  # `if x not in ("a", "b"): return/raise`
    #: `if x not in ALLOWED: return/raise`: x -> the names it was checked against (`name` asks
    #: whether the module binds each, once, to a literal collection)
    allowlisted_by: Dict[str, Set[str]] = field(default_factory=dict)
    dict_keys: Dict[str, List[cst.BaseExpression]] = field(default_factory=dict)  # d["k"] = ... keys
    #: calls in `if` tests given a bare name: `if not is_inside(path, root)` checks `path` when
    #: the project function checks that parameter (`path_checks` of the index)
    check_calls: List[cst.Call] = field(default_factory=list)


def _target_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _target_names(el.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


class _PathChecks(cst.CSTVisitor):
    """`_FlowBuilder._checks`: adds to `flow.checked` the names whose path a test checks. A class
    of the module, not one per call: a class made in a function lives in a reference cycle that
    would keep the file's tree alive until a full garbage collection."""

    def __init__(self, flow: "FunctionFlow") -> None:
        super().__init__()
        self.flow = flow

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if any(isinstance(a.value, cst.Name) for a in node.args):
            self.flow.check_calls.append(node)  # a project helper may check it (`TaintModel.flow`)
        if isinstance(f, cst.Attribute) and f.attr.value in ("is_relative_to", "startswith"):
            self._checked(f.value)
        elif (dotted_name(f) or "").rpartition(".")[2] == "commonpath":  # os.path.commonpath([base, p])
            for arg in node.args:
                if isinstance(arg.value, (cst.List, cst.Tuple)):
                    for el in arg.value.elements:
                        self._checked(el.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if not isinstance(target.operator, (cst.In, cst.NotIn)):
                continue
            if isinstance(node.left, cst.SimpleString):
                if node.left.evaluated_value in ("..", "/", "\\") and isinstance(target.comparator, cst.Name):
                    self.flow.checked.add(target.comparator.value)
            elif isinstance(target.comparator, cst.Attribute) and target.comparator.attr.value == "parents":
                self._checked(target.comparator.value)  # base in p.resolve().parents

    def _checked(self, expr: cst.BaseExpression) -> None:
        name = path_of(expr)
        if name is not None:
            self.flow.checked.add(name)


def path_of(expr: cst.BaseExpression) -> Optional[str]:
    """The name a path expression is made of: `p`, `p.resolve()`, `Path(p).absolute()`, `str(p)`,
    `os.path.realpath(p)`; else None (`index._path_of` reads the same on `ast`)."""
    while isinstance(expr, cst.Call):
        f = expr.func
        if isinstance(f, cst.Attribute) and f.attr.value in ("resolve", "absolute", "expanduser") and not expr.args:
            expr = f.value
        elif (dotted_name(f) or "").rpartition(".")[2] in cat.PATH_WRAPPERS and len(expr.args) == 1 \
                and expr.args[0].keyword is None and not expr.args[0].star:
            expr = expr.args[0].value
        else:
            return None
    return expr.value if isinstance(expr, cst.Name) else None


class _FlowBuilder:
    def __init__(self, flow: FunctionFlow) -> None:
        self.flow = flow
        self.order = 0

    def block(self, body: Sequence[cst.CSTNode], path: Tuple) -> None:
        for stmt in body:
            self.stmt(stmt, path)

    def _def(self, name: str, d: _Def) -> None:
        self.flow.defs.setdefault(name, []).append(d)

    def stmt(self, stmt: cst.CSTNode, path: Tuple) -> None:
        self.order += 1
        order = self.order
        self.flow.where[id(stmt)] = (order, path)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.flow.where[id(small)] = (order, path)
                self.small(small, order, path)
            return
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self._def(stmt.name.value, _Def(order, path, "unknown"))
            return
        if isinstance(stmt, cst.If):
            self._if(stmt, path)
            return
        if isinstance(stmt, (cst.For, cst.While)):
            loop = path + (("loop", id(stmt)),)
            if isinstance(stmt, cst.For):
                for n in _target_names(stmt.target):
                    value = stmt.target if isinstance(stmt.target, cst.Name) else None
                    self._def(n, _Def(order, loop, "for" if value is not None else "unknown", stmt.iter))
            self.block(stmt.body.body, loop)
            if stmt.orelse is not None:
                self.block(stmt.orelse.body.body, path + (("else", id(stmt)),))
            return
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    for n in _target_names(item.asname.name):
                        self._def(n, _Def(order, path, "unknown"))
            self.block(stmt.body.body, path)
            return
        if isinstance(stmt, cst.Try) or isinstance(stmt, getattr(cst, "TryStar", cst.Try)):
            self.block(stmt.body.body, path + (("try", id(stmt)),))
            for i, h in enumerate(stmt.handlers):
                if h.name is not None:
                    for n in _target_names(h.name.name):
                        self._def(n, _Def(order, path, "unknown"))
                self.block(h.body.body, path + (("except", id(h)),))
            if stmt.orelse is not None:
                self.block(stmt.orelse.body.body, path + (("tryelse", id(stmt)),))
            if stmt.finalbody is not None:
                self.block(stmt.finalbody.body.body, path)
            return
        if isinstance(stmt, cst.Match):
            for case in stmt.cases:
                self.block(case.body.body, path + (("case", id(case)),))
            return
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            self.block(body.body, path)

    def _if(self, stmt: cst.If, path: Tuple) -> None:
        self._checks(stmt.test)
        self._allowlist(stmt)
        self.block(stmt.body.body, path + (("if", id(stmt)),))
        if isinstance(stmt.orelse, cst.If):
            self.order += 1
            self.flow.where[id(stmt.orelse)] = (self.order, path + (("else", id(stmt)),))
            self._if(stmt.orelse, path + (("else", id(stmt)),))
        elif stmt.orelse is not None:
            self.block(stmt.orelse.body.body, path + (("else", id(stmt)),))

    def _allowlist(self, stmt: cst.If) -> None:
        """`if x not in ("a", "b"): return|raise`: afterwards `x` is one of the literals. Against a
        name (`if x not in ALLOWED`), `TaintModel` asks the module what the name holds."""
        test = stmt.test
        if not (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and len(test.comparisons) == 1):
            return
        comp = test.comparisons[0]
        if not isinstance(comp.operator, cst.NotIn):
            return
        body = stmt.body.body
        last = body[-1] if body else None
        if not (isinstance(last, cst.SimpleStatementLine) and last.body
                and isinstance(last.body[-1], (cst.Return, cst.Raise))):
            return
        if isinstance(comp.comparator, cst.Name):
            self.flow.allowlisted_by.setdefault(test.left.value, set()).add(comp.comparator.value)
        elif literal_collection(comp.comparator):
            self.flow.allowlisted.add(test.left.value)

    def _checks(self, test: cst.BaseExpression) -> None:
        """Names whose path is checked in an `if` test: `x.is_relative_to(...)`, `".." in x`."""
        visit_readonly(test, _PathChecks(self.flow))

    def small(self, small: cst.CSTNode, order: int, path: Tuple) -> None:
        if isinstance(small, cst.Assign):
            for t in small.targets:
                if isinstance(t.target, cst.Name):
                    self._def(t.target.value, _Def(order, path, "assign", small.value, node=small))
                elif isinstance(t.target, cst.Subscript) and isinstance(t.target.value, cst.Name) \
                        and len(t.target.slice) == 1 and isinstance(t.target.slice[0].slice, cst.Index):
                    self.flow.dict_keys.setdefault(t.target.value.value, []).append(t.target.slice[0].slice.value)
                else:
                    for n in _target_names(t.target):
                        self._def(n, _Def(order, path, "unknown"))
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
            self._def(small.target.value, _Def(order, path, "assign", small.value, node=small))
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            self._def(small.target.value, _Def(order, path, "aug", small.value, small.operator, small))
        elif isinstance(small, cst.Expr):
            self._checks(small.value)  # e.g. assert target.is_relative_to(base)
        elif isinstance(small, cst.Assert):
            self._checks(small.test)


def _dominates(def_path: Tuple, use_path: Tuple) -> bool:
    return use_path[: len(def_path)] == def_path


def _shares_loop(a: Tuple, b: Tuple) -> bool:
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return any(tok[0] == "loop" for tok in a[:common])


class TaintModel:
    """Per-module entry point (`ctx.taint`)."""

    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        self._flows: Dict[int, FunctionFlow] = {}

    # -------------------------------------------------------------- structure
    def flow(self, func: cst.FunctionDef) -> FunctionFlow:
        found = self._flows.get(id(func))
        if found is None:
            found = FunctionFlow(func)
            _FlowBuilder(found).block(func.body.body, ())
            self._helper_checks(found)
            self._flows[id(func)] = found
        return found

    def _helper_checks(self, flow: FunctionFlow) -> None:
        """Adds to `flow.checked` the names passed to a project function that checks that
        parameter's path for containment (`path_checks`, read by the scan from its `ast`)."""
        if not flow.check_calls:
            return
        from fastapi_lint.model.index import project_index_for

        index = project_index_for(self.ctx)
        for call in flow.check_calls:
            summary = index.function(self.ctx.project_qualname(call.func))
            checks = summary.facts.get("path_checks") if summary is not None else None
            if not checks:
                continue
            positional = [a for a in call.args if a.keyword is None]
            if any(a.star for a in positional):
                continue
            for position, param in checks:  # type: ignore[misc]
                arg = positional[position] if 0 <= position < len(positional) else next(
                    (a for a in call.args if a.keyword is not None and a.keyword.value == param), None)
                if arg is not None and isinstance(arg.value, cst.Name):
                    flow.checked.add(arg.value.value)

    def _position(self, flow: FunctionFlow) -> Tuple[int, Tuple]:
        """(order, path) of the statement being visited in `flow.func`."""
        for node in reversed(self.ctx.node_stack):
            w = flow.where.get(id(node))
            if w is not None:
                return w
        return (10 ** 9, ())

    # -------------------------------------------------------------- queries
    def value(self, expr: cst.BaseExpression) -> Taint:
        """What `expr` is built from, at the current point of the traversal."""
        func = self.ctx.enclosing_functiondef()
        ev = _Evaluator(self, func)
        pos = self._position(ev.flow) if ev.flow is not None else (10 ** 9, ())
        return ev.eval(expr, pos, 0)

    def is_checked(self, name: str) -> bool:
        func = self.ctx.enclosing_functiondef()
        return func is not None and name in self.flow(func).checked

    def route_input(self, func: cst.FunctionDef, param: cst.Param) -> Optional[str]:
        """How a client controls `param` of a route ("path parameter", "query parameter", ...), else None."""
        routes = self.ctx.fastapi.routes_of(func)
        if not routes:
            return None
        ann_type = None
        marker = None
        if param.annotation is not None:
            ann = param.annotation.annotation
            ann_type = unwrap_annotation(self.ctx, ann)
            if isinstance(ann, cst.Subscript) and self.ctx.qualname(ann.value) in (
                    "typing.Annotated", "typing_extensions.Annotated"):
                for el in list(ann.slice)[1:]:
                    if isinstance(el.slice, cst.Index) and isinstance(el.slice.value, cst.Call):
                        marker = self.ctx.qualname(el.slice.value.func) or marker
        if isinstance(param.default, cst.Call):
            marker = self.ctx.qualname(param.default.func) or marker
        if marker in cat.NON_INPUT_MARKERS:
            return None
        if ann_type not in (None, "builtins.str") and not (ann_type or "").endswith(".Path"):
            return None  # models, Request, sessions, numbers...: not a raw string
        name = param.name.value
        if any(r.path and "{" + name + ":path}" in r.path for r in routes):
            return PATH_CONVERTER_PARAMETER
        if any(r.path and ("{" + name + "}" in r.path or "{" + name + ":" in r.path) for r in routes):
            return PATH_SEGMENT_PARAMETER
        kind = (marker or "").rsplit(".", 1)[-1].lower()
        return f"{kind} parameter" if kind in ("header", "cookie", "form", "body", "query") else "query parameter"


def literal_collection(expr: cst.BaseExpression) -> bool:
    """A list, tuple or set display of string and integer literals, or `frozenset`/`set` of one."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("frozenset", "set") \
            and len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star:
        expr = expr.args[0].value
    return isinstance(expr, (cst.List, cst.Tuple, cst.Set)) and all(
        isinstance(el, cst.Element) and isinstance(el.value, (cst.SimpleString, cst.Integer)) for el in expr.elements)


def _is_constant_name(name: str) -> bool:
    return name.isupper() and any(c.isalpha() for c in name)


class _Evaluator:
    def __init__(self, model: TaintModel, func: Optional[cst.FunctionDef]) -> None:
        self.model = model
        self.ctx = model.ctx
        self.func = func
        self.flow = model.flow(func) if func is not None else None
        self.active: Set[int] = set()
        self.env: Dict[str, Taint] = {}  # comprehension variables

    def eval(self, expr: cst.BaseExpression, pos: Tuple[int, Tuple], depth: int) -> Taint:
        if depth > 30:
            return hole("a value built too deeply to follow")
        if isinstance(expr, cst.SimpleString):
            v = expr.evaluated_value
            return literal(v if isinstance(v, str) else "")
        if isinstance(expr, cst.ConcatenatedString):
            return self.eval(expr.left, pos, depth + 1).concat(self.eval(expr.right, pos, depth + 1), expr)
        if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary)):
            return CONST
        if isinstance(expr, cst.FormattedString):
            out = CONST
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    out = out.concat(literal(part.value))
                elif isinstance(part, cst.FormattedStringExpression):
                    out = out.concat(self.eval(part.expression, pos, depth + 1).as_hole())
            return out.built(expr)
        if isinstance(expr, cst.Name):
            return self.name(expr, pos, depth)
        if isinstance(expr, cst.Attribute):
            return self.attribute(expr, pos, depth)
        if isinstance(expr, cst.BinaryOperation):
            left = self.eval(expr.left, pos, depth + 1)
            right = self.eval(expr.right, pos, depth + 1)
            if isinstance(expr.operator, (cst.Add, cst.Modulo, cst.Divide)):
                if isinstance(expr.operator, cst.Modulo) and not isinstance(
                        expr.left, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Name,
                                    cst.Attribute, cst.Call)):
                    return CONST  # arithmetic
                if isinstance(expr.operator, cst.Modulo):
                    right = right.as_hole()
                    if _template_has_value_slot(left.text, r"%[-+ #0]*\d*(?:\.\d+)?[sdifr]|%\(\w+\)s"):
                        right = right.as_data()
                    return left._merge(right, left.text).built(expr)
                return left.concat(right.as_hole() if not isinstance(expr.operator, cst.Add) else right, expr)
            if isinstance(expr.operator, cst.Multiply):
                return left | right if (left.text or right.text) else CONST  # "?, " * n
            return CONST  # other arithmetic yields numbers
        if isinstance(expr, cst.Call):
            return self.call(expr, pos, depth)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            out = CONST
            for el in expr.elements:
                out = out | self.eval(el.value, pos, depth + 1)
            return out
        if isinstance(expr, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self.comprehension(expr, pos, depth)
        if isinstance(expr, cst.Subscript):
            base = self.eval(expr.value, pos, depth + 1)
            req = self.request_input(expr.value)
            if req:
                return hole(f"`{self.ctx.code_for(expr)}`", True, expr)
            return base
        if isinstance(expr, cst.IfExp):
            return self.eval(expr.body, pos, depth + 1) | self.eval(expr.orelse, pos, depth + 1)
        if isinstance(expr, cst.BooleanOperation):
            return self.eval(expr.left, pos, depth + 1) | self.eval(expr.right, pos, depth + 1)
        if isinstance(expr, (cst.Comparison, cst.UnaryOperation)):
            return CONST
        if isinstance(expr, cst.Await):
            return self.eval(expr.expression, pos, depth + 1)
        if isinstance(expr, cst.StarredElement):
            return self.eval(expr.value, pos, depth + 1)
        return hole(f"`{_short(self.ctx.code_for(expr))}`")

    # -------------------------------------------------------------- names
    def name(self, expr: cst.Name, pos: Tuple[int, Tuple], depth: int) -> Taint:
        name = expr.value
        if name in self.env:
            return self.env[name]
        if name in ("True", "False", "None"):
            return CONST
        flow = self.flow
        if flow is not None and (name in flow.allowlisted or any(
                self.literal_collection_name(n) for n in flow.allowlisted_by.get(name, ()))):
            return CONST
        if flow is not None and name in flow.defs:
            t = self.reaching(name, flow.defs[name], pos, depth)
            if t is not None:
                return t.sanitised() if name in flow.checked else t
        if self.func is not None:
            param = find_param(self.func, name)
            if param is not None:
                t = self.parameter(param)
                return t.sanitised() if flow is not None and name in flow.checked else t
        return self.outer_name(name, depth)

    def reaching(self, name: str, defs: List[_Def], pos: Tuple[int, Tuple], depth: int) -> Optional[Taint]:
        order, path = pos
        before = [d for d in defs if d.order < order]
        dominating = None
        for d in before:
            if _dominates(d.path, path):
                dominating = d
        chosen = [d for d in before if dominating is None or d.order >= dominating.order]
        chosen += [d for d in defs if d.order >= order and _shares_loop(d.path, path)]
        if not chosen:
            return None
        out: Optional[Taint] = None
        for d in chosen:
            t = self.definition(name, d, depth)
            if t is None:
                continue
            out = t if out is None else out | t
        if dominating is None and self.func is not None:
            param = find_param(self.func, name)
            if param is not None:
                p = self.parameter(param)
                out = p if out is None else out | p
        return out if out is not None else CONST

    def definition(self, name: str, d: _Def, depth: int) -> Optional[Taint]:
        key = id(d)
        if key in self.active:
            return None  # a loop back to itself adds nothing new
        self.active.add(key)
        try:
            here = (d.order, d.path)
            if d.kind == "assign":
                return self.eval(d.value, here, depth + 1)
            if d.kind == "aug":
                prior_defs = self.flow.defs.get(name, [])
                prior = self.reaching(name, [p for p in prior_defs if p is not d], here, depth + 1)
                if prior is None and self.func is not None and find_param(self.func, name) is not None:
                    prior = self.parameter(find_param(self.func, name))
                right = self.eval(d.value, here, depth + 1)
                if isinstance(d.op, (cst.AddAssign, cst.ModuloAssign)):
                    return (prior or CONST).concat(right, d.node)
                return CONST if isinstance(d.op, (cst.SubtractAssign, cst.MultiplyAssign)) and not (
                    prior and prior.text) else (prior or CONST) | right
            if d.kind == "for":
                return self.element(d.value, here, depth + 1)
            return hole(f"`{name}`")
        finally:
            self.active.discard(key)

    def element(self, iterable: cst.BaseExpression, pos: Tuple[int, Tuple], depth: int) -> Taint:
        """The value of one element of an iterable (a loop variable)."""
        if isinstance(iterable, cst.Call):
            q = self.ctx.qualname(iterable.func)
            if q in ("builtins.range",):
                return CONST
            if q == "builtins.enumerate" and iterable.args:
                return self.element(iterable.args[0].value, pos, depth + 1)
            if isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value == "keys":
                return self.keys(iterable.func.value, pos, depth + 1)
            if isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value in ("items", "values"):
                return self.eval(iterable.func.value, pos, depth + 1)
        return self.eval(iterable, pos, depth + 1)

    def keys(self, mapping: cst.BaseExpression, pos: Tuple[int, Tuple], depth: int) -> Taint:
        """The keys of a dict: literal dicts bound to a name, plus `d[key] = ...` keys in the function."""
        if isinstance(mapping, cst.Dict):
            out = CONST
            for el in mapping.elements:
                if not isinstance(el, cst.DictElement):
                    return hole(f"`{_short(self.ctx.code_for(mapping))}`")
                out = out | self.eval(el.key, pos, depth + 1)
            return out
        if isinstance(mapping, cst.Name) and self.flow is not None and mapping.value in self.flow.defs:
            name = mapping.value
            order, path = pos
            out = CONST
            for d in self.flow.defs[name]:
                if d.kind != "assign":
                    return hole(f"`{name}`")
                out = out | self.keys(d.value, (d.order, d.path), depth + 1)
            for key in self.flow.dict_keys.get(name, []):
                out = out | self.eval(key, pos, depth + 1)
            return out
        return self.eval(mapping, pos, depth + 1)

    def comprehension(self, expr: cst.BaseExpression, pos: Tuple[int, Tuple], depth: int) -> Taint:
        saved = dict(self.env)
        try:
            comp = expr.for_in
            while comp is not None:
                value = self.element(comp.iter, pos, depth + 1)
                for n in _target_names(comp.target):
                    self.env[n] = value
                comp = comp.inner_for_in
            return self.eval(expr.elt, pos, depth + 1)
        finally:
            self.env = saved

    def parameter(self, param: cst.Param) -> Taint:
        name = param.name.value
        if param.annotation is not None:
            t = unwrap_annotation(self.ctx, param.annotation.annotation)
            if t in cat.SAFE_ANNOTATIONS:
                return CONST
        kind = self.model.route_input(self.func, param) if self.func is not None else None
        if kind is not None:
            return hole(f"{kind} `{name}`", True, param, param=True)
        return hole(f"parameter `{name}`", param=True)

    def literal_collection_name(self, name: str) -> bool:
        """A name the function does not bind, that the module binds once, to a literal collection
        (`ALLOWED = {"a", "b"}`): what an allow-list check (`if x not in ALLOWED`) compares with."""
        if (self.flow is not None and name in self.flow.defs) or (
                self.func is not None and find_param(self.func, name) is not None):
            return False
        values = module_assignments(self.ctx).get(name)
        return bool(values) and len(values) == 1 and isinstance(values[0], cst.BaseExpression) \
            and literal_collection(values[0])

    def outer_name(self, name: str, depth: int) -> Taint:
        """A name not bound in the function: module constant, import, closure."""
        if _is_constant_name(name):
            return CONST
        values = module_assignments(self.ctx).get(name)
        if values and len(values) == 1 and isinstance(values[0], cst.BaseExpression):
            inner = _Evaluator(self.model, None)
            inner.active = self.active
            t = inner.eval(values[0], (10 ** 9, ()), depth + 1)
            if t.constant:
                return t
        return hole(f"`{name}`")

    # -------------------------------------------------------------- attributes
    def upload_file(self, expr: cst.BaseExpression) -> bool:
        origin = self.ctx.origin_of(expr)
        if origin in cat.UPLOAD_FILE_ORIGINS:
            return True
        # for f in files: (files: list[UploadFile])
        if isinstance(expr, cst.Name) and self.flow is not None:
            for d in self.flow.defs.get(expr.value, []):
                if d.kind == "for" and isinstance(d.value, cst.Name) and self.func is not None:
                    param = find_param(self.func, d.value.value)
                    if param is not None and param.annotation is not None:
                        code = self.ctx.code_for(param.annotation.annotation)
                        if "UploadFile" in code and ("List" in code or "list" in code):
                            return True
        return False

    def request_input(self, expr: cst.BaseExpression) -> bool:
        """`request.query_params` / `.path_params` / `.headers` / `.cookies` of a Request."""
        if isinstance(expr, cst.Attribute) and expr.attr.value in cat.REQUEST_INPUT_ATTRIBUTES:
            return self.ctx.origin_of(expr.value) in cat.REQUEST_ORIGINS
        return False

    def attribute(self, expr: cst.Attribute, pos: Tuple[int, Tuple], depth: int) -> Taint:
        attr = expr.attr.value
        if attr == "filename" and self.upload_file(expr.value):
            return hole(f"`{self.ctx.code_for(expr)}`", True, expr)
        if attr in cat.SANITISING_ATTRIBUTES:
            return self.eval(expr.value, pos, depth + 1).sanitised()
        if _is_constant_name(attr) or attr == "__tablename__":
            return CONST
        if attr in ("parent", "parents"):
            return self.eval(expr.value, pos, depth + 1)
        base = expr.value
        if isinstance(base, cst.Name) and self.class_constant(base.value, attr):
            return CONST
        q = self.ctx.qualname(expr)
        if q is not None and not q.startswith("builtins."):
            return CONST if q.split(".")[0] in ("os", "sys", "string") else hole(f"`{q}`")
        return hole(f"`{_short(self.ctx.code_for(expr))}`")

    def class_constant(self, base: str, attr: str) -> bool:
        """`self.attr`/`cls.attr`/`Class.attr` where the class body assigns `attr` a literal."""
        from fastapi_lint.model.flow import enclosing_class, local_classes

        cls = None
        if base in ("self", "cls"):
            cls = enclosing_class(self.ctx)
        else:
            cls = local_classes(self.ctx).get(base)
        if cls is None:
            return False
        for stmt in cls.body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    target = value = None
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target, value = small.targets[0].target, small.value
                    elif isinstance(small, cst.AnnAssign):
                        target, value = small.target, small.value
                    if isinstance(target, cst.Name) and target.value == attr and value is not None:
                        return isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float))
        return False

    # -------------------------------------------------------------- calls
    def call(self, expr: cst.Call, pos: Tuple[int, Tuple], depth: int) -> Taint:
        ctx = self.ctx
        q = ctx.qualname(expr.func) if isinstance(expr.func, (cst.Name, cst.Attribute)) else None
        args = [a for a in expr.args]
        if q in cat.SAFE_CONVERSIONS:
            return CONST
        if q in cat.FILENAME_SANITISERS:
            out = CONST
            for a in args:
                out = out | self.eval(a.value, pos, depth + 1)
            return out.sanitised()
        if q in cat.PASS_THROUGH_CALLS:
            out = CONST
            for a in args:
                if a.keyword is None:
                    out = out.concat(self.eval(a.value, pos, depth + 1))
            return out
        if isinstance(expr.func, cst.Attribute):
            method = expr.func.attr.value
            receiver = expr.func.value
            if method == "join" and len(args) == 1 and q is None:
                sep = self.eval(receiver, pos, depth + 1)
                items = self.element(args[0].value, pos, depth + 1) if not isinstance(
                    args[0].value, (cst.GeneratorExp, cst.ListComp, cst.SetComp)) else self.eval(
                    args[0].value, pos, depth + 1)
                return sep.concat(items.as_hole() if items.holes else items, expr)
            if method == "format" and q is None:
                out = self.eval(receiver, pos, depth + 1)
                data = _template_has_value_slot(out.text, r"\{[^{}]*\}")
                for a in args:
                    value = self.eval(a.value, pos, depth + 1).as_hole()
                    out = out._merge(value.as_data() if data else value, out.text)
                return out.built(expr)
            if method == "get" and self.request_input(receiver):
                return hole(f"`{_short(ctx.code_for(expr))}`", True, expr)
            if method in cat.PASS_THROUGH_METHODS and q is None:
                out = self.eval(receiver, pos, depth + 1)
                for a in args:
                    if method in ("joinpath",):
                        out = out.concat(self.eval(a.value, pos, depth + 1))
                return out
        return hole(f"`{_callee(ctx, expr.func)}()`")


def _template_has_value_slot(template: str, slot: str) -> bool:
    """Whether a `%`/`.format` template has a slot in a data position (`= '%s'`, `LIKE {}`)."""
    return any(value_context(template[: m.start()]) for m in re.finditer(slot, template))


def _callee(ctx: "ModuleContext", func: cst.BaseExpression) -> str:
    """A callee as a hole names it: its code, short; a method of what a call returned as that
    call's callee, `(...)` and the method (`bind.execute(...).fetchall`), not the whole call."""
    methods: List[str] = []
    while isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
        methods.append(func.attr.value)
        func = func.value.func
    return _short(_short(ctx.code_for(func)) + "".join(f"(...).{m}" for m in reversed(methods)), 60)


def _short(code: str, limit: int = 40) -> str:
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 3] + "..."


__all__ = ["Taint", "TaintModel", "CONST"]


class Unknown(Exception):
    """A value `literal_value` cannot know statically."""


def literal_value(ctx: "ModuleContext", expr: cst.BaseExpression, depth: int = 0):
    """The Python value of a literal expression, following names bound once to literals in the
    current function or at module level (`ORIGINS = ["*"]`). Raises Unknown otherwise."""
    if depth > 8:
        raise Unknown()
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        v = expr.evaluated_value
        if v is None:
            raise Unknown()
        return v
    if isinstance(expr, cst.Integer):
        return int(expr.value.replace("_", ""), 0) if not expr.value.startswith("0") or expr.value == "0" else 0
    if isinstance(expr, cst.Name):
        if expr.value in ("True", "False", "None"):  # keywords: never rebound
            return {"True": True, "False": False, "None": None}[expr.value]
        func = ctx.enclosing_functiondef()
        from fastapi_lint.model.flow import function_assignments

        if func is not None:
            local = function_assignments(ctx, func).get(expr.value)
            if local:
                if len(local) == 1 and isinstance(local[0], cst.BaseExpression):
                    return literal_value(ctx, local[0], depth + 1)
                raise Unknown()
            if find_param(func, expr.value) is not None:
                raise Unknown()
        values = module_assignments(ctx).get(expr.value)
        if values and len(values) == 1 and isinstance(values[0], cst.BaseExpression):
            return literal_value(ctx, values[0], depth + 1)
        raise Unknown()
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                out.extend(literal_value(ctx, el.value, depth + 1))
            else:
                out.append(literal_value(ctx, el.value, depth + 1))
        return out
    if isinstance(expr, cst.Dict):
        d = {}
        for el in expr.elements:
            if not isinstance(el, cst.DictElement):
                raise Unknown()
            d[literal_value(ctx, el.key, depth + 1)] = literal_value(ctx, el.value, depth + 1)
        return d
    if isinstance(expr, cst.Call) and ctx.qualname(expr.func) == "builtins.dict" and all(
            a.keyword is not None for a in expr.args):
        return {a.keyword.value: literal_value(ctx, a.value, depth + 1) for a in expr.args}
    raise Unknown()
