"""FPI2xx: coroutines and asyncio misuse.

The shared question of FPI201/FPI202 is "what happens to this coroutine?": it is fine when
awaited, passed on (an argument, a yield, a sync function's return value), or stored and
used later; it is a bug when dropped, returned from an `async def`, stored and never used,
or tested for truth. Which calls make coroutines comes from the project index (FPI201) and
from `catalogs/asyncio.py` (FPI202).
"""

from __future__ import annotations

import ast
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from fastapi_lint.catalogs import asyncio as catalog
from fastapi_lint.diagnostics import SAFE, UNSAFE
from fastapi_lint.model.fastapi import BASE_HTTP_MIDDLEWARE, DEPENDS, keyword, positional, string_value
from fastapi_lint.model.facts import DEPENDS_LAST, offload_spellings, terminal_name
from fastapi_lint.model.flow import enclosing_class, function_assignments, local_classes, module_assignments
from fastapi_lint.model.gating import (Callees, ProjectCallees, function_callees, origin_qualnames,
                                       qualnames, spellings)
from fastapi_lint.model.imports import decorator_callee, dotted_name
from fastapi_lint.model.index import FunctionSummary, ProjectIndex, project_index_for
from fastapi_lint.model.receivers import ANY, ModuleReceivers, own_kind, own_names
from fastapi_lint.registry import FixSpec, Rule, hint, register
from fastapi_lint.rules.blocking import awaited, inside_generator_expression
from fastapi_lint.traverse import visit_readonly

# ---------------------------------------------------------------------------- model helpers


def _prefix(ctx) -> str:
    return f"{ctx.module_name}." if ctx.module_name else ""


def _first_param(func: cst.FunctionDef) -> Optional[str]:
    params = list(func.params.posonly_params) + list(func.params.params)
    if not params:
        return None
    for dec in func.decorators:
        if dotted_name(dec.decorator) == "staticmethod":
            return None
    return params[0].name.value


def receiver_class(ctx, expr: cst.BaseExpression) -> Optional[str]:
    """The project class of the object `expr` (self/cls, constructor, annotation, module instance)."""
    index = project_index_for(ctx)
    if isinstance(expr, cst.Name):
        func = ctx.enclosing_functiondef()
        cls = enclosing_class(ctx)
        if func is not None and cls is not None and _first_param(func) == expr.value:
            if local_classes(ctx).get(cls.name.value) is cls:
                return index.class_qualname(_prefix(ctx) + cls.name.value)
            return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
        found = index.class_qualname(ctx.project_qualname(expr.func))
        if found:
            return found
    origin = ctx.origin_of(expr)
    if origin and origin.endswith("()") and not origin.startswith("await "):
        found = index.class_qualname(origin[:-2])
        if found:
            return found
    q = ctx.project_qualname(expr)
    if q is not None:
        found = index.instance_class(q)
        if found:
            return found
    if isinstance(expr, cst.Name):
        values = _binding_values(ctx, expr.value)
        if values is not None and len(values) == 1 and isinstance(values[0], cst.Call):
            return index.class_qualname(ctx.project_qualname(values[0].func))
    return None


def _binding_values(ctx, name: str) -> Optional[list]:
    """The values assigned to `name` in the innermost scope that binds it (None: a parameter or unknown)."""
    stack = ctx.scope_stack
    for i in range(len(stack) - 1, -1, -1):
        scope = stack[i]
        if isinstance(scope, cst.ClassDef) and i != len(stack) - 1:
            continue
        if isinstance(scope, cst.Lambda):
            if any(p.name.value == name for p in scope.params.params):
                return None
            continue
        if isinstance(scope, cst.FunctionDef):
            p = scope.params
            if any(x.name.value == name for x in (*p.posonly_params, *p.params, *p.kwonly_params)):
                return None
            values = function_assignments(ctx, scope).get(name)
            if values:
                return values
            if name in ctx.bindings(scope):
                return None
        elif isinstance(scope, cst.Module):
            return module_assignments(ctx).get(name)
    return None


def project_function(ctx, func: cst.BaseExpression) -> Tuple[Optional[str], Optional[FunctionSummary]]:
    """(label, summary) of the project function or method `func` names, if the index knows it."""
    index = project_index_for(ctx)
    q = ctx.project_qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    found = index.function(q) if q else None
    if found is not None:
        return dotted_name(func), found
    if isinstance(func, cst.Attribute):
        cls = receiver_class(ctx, func.value)
        if cls is not None:
            found = index.method(cls, func.attr.value)
            if found is not None:
                return f"{cls.rpartition('.')[2]}.{func.attr.value}", found
    return None, None


def may_return_callable(summary: FunctionSummary) -> bool:
    """What a call of the project function may give is a callable: it defines a nested def or is
    annotated `-> Callable` (`factory`), or a decorator may return anything."""
    return bool(summary.facts.get("factory") or summary.facts.get("decorated"))


def _strip_await(origin: Optional[str]) -> Optional[str]:
    return origin.replace("await ", "") if origin else origin


def framework_async(ctx, call: cst.Call) -> Optional[Tuple[str, bool]]:
    """(label, is_async_iterator) when `call` makes a framework coroutine (or async generator)."""
    func = call.func
    if isinstance(func, cst.Attribute):
        origin = _strip_await(ctx.origin_of(func.value))
        if origin:
            name = func.attr.value
            if name in catalog.ASYNC_METHODS.get(origin, ()):
                return f"{_type_label(origin)}.{name}()", False
            if name in catalog.ASYNC_ITERATOR_METHODS.get(origin, ()):
                return f"{_type_label(origin)}.{name}()", True
    q = ctx.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    if q in catalog.COROUTINE_FUNCTIONS:
        return f"{q}()", False
    if isinstance(func, cst.Name) and func.value == call_next_name(ctx):
        return "call_next()", False
    return None


def _type_label(origin: str) -> str:
    """"fastapi.Request()" -> "Request", "sqlalchemy.ext.asyncio.async_sessionmaker()()" -> "AsyncSession"."""
    if "sessionmaker" in origin or "AsyncSession" in origin:
        return "AsyncSession"
    if "redis" in origin:
        return "Redis"
    if origin.startswith("asyncpg."):
        return "asyncpg pool" if "pool" in origin.lower() and "acquire" not in origin else "asyncpg connection"
    if origin.startswith("aiofiles."):
        return "aiofiles file"
    return origin.split("(")[0].rpartition(".")[2]


def call_next_name(ctx) -> Optional[str]:
    """The `call_next` parameter's name in an HTTP middleware function or BaseHTTPMiddleware.dispatch."""
    func = ctx.enclosing_functiondef()
    if func is None:
        return None

    def compute() -> Optional[str]:
        params = [p.name.value for p in (*func.params.posonly_params, *func.params.params)]
        for dec in func.decorators:
            d = dec.decorator
            if isinstance(d, cst.Call) and isinstance(d.func, cst.Attribute) and d.func.attr.value == "middleware":
                arg = keyword(d, "middleware_type") or positional(d, 0)
                if arg is not None and string_value(arg.value) == "http" and len(params) >= 2:
                    return params[1]
        cls = enclosing_class(ctx)
        if cls is not None and func.name.value == "dispatch" and len(params) >= 3:
            for base in cls.bases:
                if ctx.qualname(base.value) in BASE_HTTP_MIDDLEWARE:
                    return params[2]
        return None

    return ctx.memo(("coroutines.call_next", id(func)), compute)


def _coroutine_names(ctx) -> Set[str]:
    """Last name parts of the project's coroutine functions: a cheap filter before resolving receivers."""
    return project_index_for(ctx).coroutine_names()


def is_project_coroutine(ctx, call: cst.Call) -> Optional[str]:
    if isinstance(call.func, cst.Attribute) and call.func.attr.value not in _coroutine_names(ctx):
        return None
    label, summary = project_function(ctx, call.func)
    if summary is not None and summary.facts.get("coroutine"):
        return label
    return None


def makes_coroutine(ctx, call: cst.Call) -> bool:
    if is_project_coroutine(ctx, call):
        return True
    found = framework_async(ctx, call)
    return found is not None and not found[1]


# ---------------------------------------------------------------------------- the facts gate

#: `framework_async`'s first case: a method of an object whose origin the catalogue lists (the
#: call spells the method; the origin starts from an import or a class of the module).
_FRAMEWORK_METHODS = Callees(
    [(m, q) for table in (catalog.ASYNC_METHODS, catalog.ASYNC_ITERATOR_METHODS) for origin, methods in table.items()
     for q in origin_qualnames([origin]) for m in methods], local_classes=True)
_FRAMEWORK_METHOD_NAMES = frozenset(m for table in (catalog.ASYNC_METHODS, catalog.ASYNC_ITERATOR_METHODS)
                                    for methods in table.values() for m in methods)
#: Its second: a coroutine function by qualified name (imports only).
_FRAMEWORK_FUNCTIONS = function_callees(catalog.COROUTINE_FUNCTIONS)
_MIDDLEWARE_BASES = qualnames(BASE_HTTP_MIDDLEWARE)


def may_call_next(facts) -> bool:
    """`call_next_name` can name a parameter: a `@x.middleware(...)` decorator, or a `dispatch`
    method of a class whose base resolves (by import) to BaseHTTPMiddleware."""
    return "middleware" in facts.decorators or ("dispatch" in facts.function_defs and _MIDDLEWARE_BASES.met(facts))


def may_be_framework_async(facts, methods, functions) -> bool:
    """Whether `framework_async` can hold for some call in the file: `methods` are the names a
    call on an object may spell, `functions` those a call by qualified name may (aliases
    included); a `call_next` parameter can be called by any name."""
    return (_FRAMEWORK_METHODS.met(facts, methods) or _FRAMEWORK_FUNCTIONS.met(facts, functions)
            or (bool(functions) and may_call_next(facts)))


def project_coroutine_names(facts, index) -> frozenset:
    """Names by which a project coroutine function can be called from this file: the file's
    own `async def`s (without an index the rule sees only this file), and with the index every
    coroutine function's name and the names it is re-exported as."""
    if index is None:
        return facts.async_defs
    return facts.async_defs | spellings(index, "coroutines", lambda i: i.coroutine_names(), nameless=False)


def _coroutine_targets(index: ProjectIndex) -> List[str]:
    return [q for q, f in index.functions.items() if f.facts.get("coroutine")]


def may_call_project_coroutine(facts, index: ProjectIndex) -> bool:
    """FPI201's gate with the index, for calls whose value is lost: a bare call of a
    module-level `async def` of the file, or a call that can reach a project coroutine
    (`ProjectCallees`: by an import, through a receiver of a class that carries the method,
    or `self` in such a class). On a project whose services all have an `async def get`, a
    `dict.get(...)` alone no longer sends a file to libcst."""
    calls = facts.lost_calls
    if not calls:
        return False
    if not (facts.unawaited_names & calls).isdisjoint(facts.module_async_defs):
        return True
    reach = ProjectCallees.of(index, "coroutines", _coroutine_targets, inherited=True)
    return reach.met(facts, _with_aliases(facts, calls), facts.unawaited_methods & calls, facts.async_defs,
                     [c for c in facts.self_calls if c.rpartition(".")[2] in calls])


def may_call_project_coroutine_in(tree, facts, index: ProjectIndex, module) -> bool:
    """FPI201's third gate, for a file `may_call_project_coroutine` lets through, on its `ast`
    tree: a lost call (`receivers.ModuleReceivers.lost_calls`) that `project_function` may
    resolve to a coroutine: by a bare name the module's imports or defs bind, or on a receiver
    that may be of a class whose method is one (`ModuleReceivers.kinds`), or a module or class
    with such a function. The second gate tests names the file spells anywhere instead."""
    name, is_package = module
    own = own_names(facts, index, module)
    if own is None:
        return True  # the rule reads another index (`project_index_for`)
    reach = ProjectCallees.of(index, "coroutines", _coroutine_targets, inherited=True)
    if not reach.ambiguous_classes.isdisjoint(facts.class_defs):
        return True
    names = index.coroutine_names()
    receivers = ModuleReceivers.of(tree, name, is_package)
    calls = receivers.lost_calls()
    # a bare name reaches a coroutine only if it spells one (or a re-export of one), is a def
    # of the module, or an import's `as` name: resolving the others would read their defs' bindings
    spelled = reach.function_spellings() | project_coroutine_names(facts, index) | facts.alias_origins.keys()
    for call, func in calls:
        callee = call.func
        if (callee.id not in spelled if type(callee) is ast.Name else callee.attr not in names):
            continue  # (a method: as `is_project_coroutine`)
        if _may_name_project_coroutine(receivers, callee, func, index, own):
            return True
    return False


def _may_name_project_coroutine(receivers: ModuleReceivers, expr, func, index: ProjectIndex,
                                own: FrozenSet[str]) -> bool:
    """Whether `project_function` may find a coroutine function for `expr` (an `ast.Name` or
    `ast.Attribute` in `func`): a bare name the module's imports or defs bind to one, or a
    function or method of what the receiver may be (`ModuleReceivers.kinds`). `own`: names of
    a file without a module name (`receivers.own_names`), taken as maybe."""
    if type(expr) is ast.Name:
        kinds = receivers.function_kinds(expr.id, func)
        return kinds is ANY or own_kind(kinds, own) or any(_is_coroutine(index.function(q)) for q in kinds)
    kinds = receivers.kinds(expr.value, func)
    return kinds is ANY or own_kind(kinds, own) or any(_coroutine_of(index, q, expr.attr) for q in kinds)


def _is_coroutine(found: Optional[FunctionSummary]) -> bool:
    return found is not None and bool(found.facts.get("coroutine"))


def _coroutine_of(index: ProjectIndex, qualname: str, method: str) -> bool:
    """`project_function` on `qualname` and a method name: the function `qualname.method`, or
    the method of the class `qualname` is, or is an instance of."""
    found = [index.function(f"{qualname}.{method}")]
    for cls in (index.class_qualname(qualname), index.instance_class(qualname)):
        if cls is not None:
            found.append(index.method(cls, method))
    return any(_is_coroutine(f) for f in found)


def _function_names(index: ProjectIndex):
    return (q.rpartition(".")[2] for q in index.functions)


def _with_aliases(facts, calls) -> frozenset:
    """Call names plus, for a name an import binds with `as`, the name it hides
    (`from m import f as g`: a call spelled "g" may be "f"): what a call resolved by `qualname`
    (imports, not assignments) may spell."""
    if not calls or not facts.import_aliases:
        return calls
    origins = facts.alias_origins
    hidden = [origins[c] for c in calls if c in origins]
    return calls.union(*hidden) if hidden else calls


# ---------------------------------------------------------------------------- usage analysis

DROPPED, RETURNED, UNUSED, TRUTH, AS_RESULT = "dropped", "returned", "unused", "truth", "result"


def load_counts(ctx, func: cst.FunctionDef) -> Dict[str, int]:
    """name -> how often the function (nested scopes included) reads it; over-counts, never under-counts."""
    return _loads(ctx, func)[0]


def returned_counts(ctx, func: cst.FunctionDef) -> Dict[str, int]:
    """name -> how often the function's own body does `return name`."""
    return _loads(ctx, func)[1]


#: What a coroutine object offers: any other attribute means the code wanted the awaited result.
COROUTINE_ATTRIBUTES = frozenset({"send", "throw", "close", "cr_await", "cr_code", "cr_frame", "cr_running",
                                  "cr_origin", "cr_suspended", "__await__", "__name__", "__qualname__"})


def result_uses(ctx, func: cst.FunctionDef) -> Dict[str, int]:
    """name -> uses in the function's own body that need the awaited result (`x.attr`, `x[i]`, `for _ in x`)."""
    return _loads(ctx, func)[2]


def awaited_names(ctx, func: cst.FunctionDef) -> Dict[str, int]:
    return _loads(ctx, func)[3]


def _loads(ctx, func: cst.FunctionDef) -> Tuple[Dict[str, int], ...]:
    def compute() -> Tuple[Dict[str, int], ...]:
        v = _Loads()
        visit_readonly(func.body, v)
        return v.counts, v.returned, v.as_result, v.awaited

    return ctx.memo(("coroutines.loads", id(func)), compute)


class _Loads(cst.CSTVisitor):
    """`_loads`' walk of a function's body: how each name is used (a class of the module; one
    made per call lives in a reference cycle until a full garbage collection)."""

    def __init__(self) -> None:
        super().__init__()
        self.stores: Set[int] = set()
        self.counts: Dict[str, int] = {}
        self.returned: Dict[str, int] = {}
        self.as_result: Dict[str, int] = {}
        self.awaited: Dict[str, int] = {}
        self.depth = 0

    def _bump(self, table: Dict[str, int], node: cst.BaseExpression) -> None:
        if self.depth == 0 and isinstance(node, cst.Name):
            table[node.value] = table.get(node.value, 0) + 1

    def _mark(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.stores.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._mark(el.value)
        elif isinstance(target, cst.StarredElement):
            self._mark(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._mark(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._mark(node.target)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.stores.add(id(node.attr))
        if node.attr.value not in COROUTINE_ATTRIBUTES:
            self._bump(self.as_result, node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._bump(self.as_result, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bump(self.as_result, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bump(self.as_result, node.iter)

    def visit_Await(self, node: cst.Await) -> None:
        self._bump(self.awaited, node.expression)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.stores.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.stores:
            self.counts[node.value] = self.counts.get(node.value, 0) + 1

    def visit_Global(self, node: cst.Global) -> None:
        for n in node.names:
            self.counts[n.name.value] = self.counts.get(n.name.value, 0) + 1

    visit_Nonlocal = visit_Global

    def visit_Return(self, node: cst.Return) -> None:
        if self.depth == 0 and isinstance(node.value, cst.Name):
            self.returned[node.value.value] = self.returned.get(node.value.value, 0) + 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.depth -= 1


def misuse(ctx, call: cst.Call) -> Optional[Tuple[str, bool]]:
    """(kind, fixable) when the coroutine made by `call` is never awaited or passed on, else None.

    `fixable`: the call itself is the statement's value (expression statement, return,
    assignment), so `await` can be inserted in front of it.
    """
    value: cst.CSTNode = call
    direct = True
    target_name: Optional[str] = None
    while True:
        parent = ctx.parent(value)
        if isinstance(parent, cst.IfExp) and value is not parent.test:
            value, direct = parent, False
            continue
        if isinstance(parent, cst.Element):
            coll = ctx.parent(parent)
            if isinstance(coll, (cst.List, cst.Tuple, cst.Set)):
                assign = ctx.parent(coll)
                if isinstance(assign, cst.Assign) and assign.value is coll and len(assign.targets) == 1 \
                        and isinstance(assign.targets[0].target, (cst.Tuple, cst.List)):
                    targets = assign.targets[0].target.elements
                    pos = [i for i, el in enumerate(coll.elements) if el is parent][0]
                    if len(targets) == len(coll.elements) and isinstance(targets[pos].value, cst.Name) \
                            and not any(isinstance(el, cst.StarredElement) for el in coll.elements):
                        target_name = targets[pos].value.value
                        value, direct = coll, False
                        parent = assign
                        break
                value, direct = coll, False
                continue
            return None
        break
    if isinstance(parent, cst.Expr):
        if _expects_raise(ctx):
            return None  # the call is meant to raise (TypeError for a bad argument) before any coroutine
        return DROPPED, direct
    if isinstance(parent, cst.Return):
        func = ctx.enclosing_functiondef()
        if func is not None and func.asynchronous is not None and ctx.current_function() is func:
            return RETURNED, direct
        return None
    if isinstance(parent, (cst.If, cst.While)) and parent.test is value:
        return TRUTH, False
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        return TRUTH, False
    if isinstance(parent, (cst.Assign, cst.AnnAssign)):
        if target_name is None:
            if isinstance(parent, cst.Assign):
                if len(parent.targets) != 1 or not isinstance(parent.targets[0].target, cst.Name):
                    return None
                target_name = parent.targets[0].target.value
            else:
                if not isinstance(parent.target, cst.Name) or parent.value is not value:
                    return None
                target_name = parent.target.value
        func = ctx.current_function()
        if not isinstance(func, cst.FunctionDef):
            return None  # module and class level: may be used anywhere
        loads = load_counts(ctx, func).get(target_name, 0)
        if loads == 0:
            return UNUSED, direct
        if func.asynchronous is not None and returned_counts(ctx, func).get(target_name, 0) == loads:
            return RETURNED, direct
        if result_uses(ctx, func).get(target_name, 0) and not awaited_names(ctx, func).get(target_name, 0) \
                and len(function_assignments(ctx, func).get(target_name, [])) == 1:
            return AS_RESULT, direct
    return None


#: Context managers of tests that expect the statements they wrap to raise.
_RAISES_CONTEXTS = frozenset({"raises", "assertRaises", "assertRaisesRegex"})


def _expects_raise(ctx) -> bool:
    """The statement being visited is directly in the body of `with pytest.raises(...)` (or
    unittest's `self.assertRaises(...)`): if the call does not raise, the test fails, so a
    coroutine it would make does not go unnoticed."""
    for anc in ctx.ancestors():
        if isinstance(anc, cst.With):
            return any(isinstance(item.item, cst.Call)
                       and (dotted_name(item.item.func) or "").rpartition(".")[2] in _RAISES_CONTEXTS
                       for item in anc.items)
        if isinstance(anc, (cst.BaseCompoundStatement, cst.Lambda)):
            return False
    return False


MESSAGES = {
    DROPPED: "is never awaited: its body never runs",
    RETURNED: "is returned from an `async def` without `await`: the caller gets a coroutine, not the result",
    UNUSED: "is stored in `{name}` and never awaited or passed on: its body never runs",
    TRUTH: "is tested for truth: a coroutine object is always true and its body never runs",
    AS_RESULT: "is stored in `{name}` and then used as if it were the result (attribute, item or iteration) "
               "without ever being awaited",
}


def await_fix(ctx, call: cst.Call, kind: str, fixable: bool) -> Optional[FixSpec]:
    if not fixable or kind == TRUTH or not ctx.in_async() or inside_generator_expression(ctx):
        return None
    return FixSpec(SAFE, "Insert `await`", {call: awaited(ctx, call, call)})


def _stored_name(ctx, call: cst.Call) -> str:
    for anc in ctx.ancestors():
        if isinstance(anc, cst.Assign):
            t = anc.targets[0].target
            if isinstance(t, cst.Name):
                return t.value
            if isinstance(t, (cst.Tuple, cst.List)):
                return ", ".join(dotted_name(e.value) or "?" for e in t.elements)
        if isinstance(anc, cst.AnnAssign):
            return dotted_name(anc.target) or "?"
        if isinstance(anc, cst.BaseSmallStatement):
            break
    return "?"


# ---------------------------------------------------------------------------- FPI201 / FPI202


class _NotAwaited(Rule):
    """Shared by FPI201 and FPI202: report a coroutine-making call whose coroutine is lost."""

    def target(self, call: cst.Call) -> Optional[Tuple[str, bool]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def visit_Call(self, node: cst.Call) -> None:
        found = self.target(node)
        if found is None:
            return
        label, iterator = found
        use = misuse(self.ctx, node)
        if use is None:
            return
        kind, fixable = use
        if iterator and kind != DROPPED:
            return  # async generators may be returned or stored for `async for` elsewhere
        if iterator:
            message = f"`{label}` makes an async generator that is dropped: iterate it with `async for`"
        else:
            message = f"the coroutine of `{label}` " + MESSAGES[kind].format(name=_stored_name(self.ctx, node))
        fix = None if iterator else await_fix(self.ctx, node, kind, fixable)
        self.report(node, message, fix)


@register
class CoroutineNotAwaited(_NotAwaited):
    code = "FPI201"
    name = "coroutine-not-awaited"
    summary = ("A call to an `async def` of the checked tree whose coroutine is dropped, returned from an "
               "`async def`, or stored and never awaited, passed on or scheduled.")
    fix = SAFE
    needs_index = True

    @classmethod
    def index_tokens(cls, index):
        """A file can only call a project coroutine function by one of their names (or one
        they are re-exported as: `ProjectIndex.function` follows re-exports), or, in a file
        without a module name, by the name of one of its own functions (the merged index may
        hold another such file's function of the same qualified name)."""
        return spellings(index, "coroutines+nameless", lambda i: i.coroutine_names())

    @classmethod
    def wants(cls, facts, index):
        """A call whose value is lost (`FileFacts.lost_calls`) by the name of a coroutine
        function of this file, or (with the index) one that can reach a project coroutine: see
        `may_call_project_coroutine`."""
        if index is None:
            return not facts.async_defs.isdisjoint(_with_aliases(facts, facts.lost_calls))
        return may_call_project_coroutine(facts, index)

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree, receivers read: see
        `may_call_project_coroutine_in`."""
        return index is None or may_call_project_coroutine_in(tree, facts, index, module)

    docs = """
    ## What it does
    Reports calls to the project's own `async def` functions and async methods whose coroutine
    is lost: dropped as an expression statement, returned from another `async def`, stored in a
    variable that is never used again, or tested for truth (`if is_admin(user):`). Functions are
    resolved across the modules of the checked tree (imports, re-exports from `__init__.py`);
    methods when the receiver's class is known: `self`/`cls`, a constructor call, an annotation,
    or a module-level instance imported from another module. Inherited methods are found
    through the project's base classes.

    A coroutine that is awaited, passed as an argument (`asyncio.gather`, `create_task`,
    `wait_for`, a TaskGroup, any helper), returned from a plain `def`, yielded, or stored and
    used later is fine, and so is a call directly inside `with pytest.raises(...)` or
    `self.assertRaises(...)` (the test fails unless the call raises, `TypeError` for a bad
    argument, before any coroutine exists). `async def`s that yield (async generators) and
    `async def`s with decorators that may change what the call returns (other than
    `staticmethod`, `classmethod`, `abstractmethod` and FastAPI route registration) are not
    considered.

    ## Why is this bad?
    Calling an `async def` only creates a coroutine object; nothing of its body runs until it is
    awaited. A forgotten `await` silently skips the write, the notification or the check, and
    Python only prints `RuntimeWarning: coroutine ... was never awaited` when the object is
    garbage-collected, usually far from the cause. A coroutine is always truthy, so
    `if await_me():` takes the branch every time.

    ## Example
    ```python
    async def save_audit(event: str) -> None: ...

    @app.post("/items")
    async def create_item(item: Item):
        save_audit("created")
        return item
    ```

    ## Use instead
    ```python
    @app.post("/items")
    async def create_item(item: Item):
        await save_audit("created")
        return item
    ```

    ## Fix safety
    Safe: `await` is inserted in front of the call when it is in async context and the call is
    the statement's value (an expression statement, `return` in an `async def`, or the value of
    an assignment), parenthesised where needed. Awaiting runs the body the author wrote and
    meant to run. No fix inside a sync function, a generator expression, or when the call is
    tested for truth (the author must decide what to test).
    """

    def target(self, call: cst.Call) -> Optional[Tuple[str, bool]]:
        label = is_project_coroutine(self.ctx, call)
        return (f"{label}()", False) if label else None


@register
class FrameworkCoroutineNotAwaited(_NotAwaited):
    code = "FPI202"
    wants_index = False
    name = "framework-coroutine-not-awaited"
    summary = ("A known async API (`Request.json`, `UploadFile.read`, `WebSocket.send_*`, `call_next`, "
               "`AsyncSession`, `httpx.AsyncClient`, asyncpg, aiofiles, redis.asyncio, `asyncio.sleep`) "
               "whose coroutine is never awaited.")
    fix = SAFE
    tokens = ("Request", "UploadFile", "WebSocket", "AsyncSession", "async_sessionmaker", "AsyncClient",
              "asyncpg", "aiofiles", "redis", "call_next", "sleep", "asyncio", "anyio", "run_in_threadpool")
    docs = """
    ## What it does
    Reports calls to known async APIs whose coroutine is dropped, returned from an `async def`,
    stored and never used, or tested for truth: `Request.json/body/form`, `UploadFile.read/write/
    seek/close`, `WebSocket.accept/receive_*/send_*/close`, `call_next(request)` in
    `@app.middleware("http")` functions and `BaseHTTPMiddleware.dispatch`, `AsyncSession`
    methods (`execute`, `commit`, `refresh`, ...), `httpx.AsyncClient` methods, asyncpg
    connection and pool methods, `aiofiles` file handles, `redis.asyncio` clients and
    `asyncio.sleep`. The object's type comes from its annotation or from what built it
    (`AsyncClient()`, `async_sessionmaker(...)()`, `await asyncpg.connect()`,
    `async with aiofiles.open(...) as f`). The list of methods per type is data in
    `catalogs/asyncio.py`. `Request.stream()` and `WebSocket.iter_*()` are async generators:
    only dropping them is reported.

    ## Why is this bad?
    These methods are coroutines: without `await` nothing happens. `await db.commit()` written
    as `db.commit()` loses the transaction; `request.json()` gives a coroutine object instead of
    the body; `asyncio.sleep(1)` does not wait at all.

    ## Example
    ```python
    @app.post("/items")
    async def create(item: Item, db: AsyncSession = Depends(get_db)):
        db.add(Row(**item.model_dump()))
        db.commit()
    ```

    ## Use instead
    ```python
    @app.post("/items")
    async def create(item: Item, db: AsyncSession = Depends(get_db)):
        db.add(Row(**item.model_dump()))
        await db.commit()
    ```

    ## Fix safety
    Safe: `await` is inserted in front of the call when it is in async context and the call is
    the statement's value (expression statement, `return` in an `async def`, assignment). No fix
    for async generators, in sync functions, in generator expressions or for truth tests.
    """

    @classmethod
    def wants(cls, facts, index):
        """A call whose value is lost and that may make a framework coroutine: a catalogue method
        with an import (or class of the module) from which its object's origin can be met, a
        catalogue coroutine function reached by import, or a `call_next` parameter."""
        calls = facts.lost_calls
        return may_be_framework_async(facts, calls, _with_aliases(facts, calls))

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree: a lost call by a catalogue function's name or
        a `call_next` as before, or a catalogue method on a receiver whose origin
        (`receivers.ModuleReceivers.origins`) the catalogue may list for it."""
        calls = facts.lost_calls
        functions = _with_aliases(facts, calls)
        if _FRAMEWORK_FUNCTIONS.met(facts, functions) or (functions and may_call_next(facts)):
            return True
        receivers = ModuleReceivers.of(tree, *module)
        for call, func in receivers.lost_method_calls():
            method = call.func.attr
            if method not in _FRAMEWORK_METHOD_NAMES:
                continue
            if receivers.in_class_body(call):
                return True  # read in the class body's own scope, which `origins` does not follow
            origins = receivers.origins(call.func.value, func)
            if origins is ANY or any(method in table.get(o, ()) for o in origins
                                     for table in (catalog.ASYNC_METHODS, catalog.ASYNC_ITERATOR_METHODS)):
                return True
        return False

    def target(self, call: cst.Call) -> Optional[Tuple[str, bool]]:
        return framework_async(self.ctx, call)


# ---------------------------------------------------------------------------- FPI203


@register
class BackgroundTaskCalled(Rule):
    code = "FPI203"
    name = "background-task-called"
    summary = ("`add_task(f(...))` on `BackgroundTasks`: `f` runs now, inside the request, and the task "
               "fails with TypeError after the response.")
    fix = SAFE
    needs_index = True
    tokens = ("add_task", "BackgroundTask")
    docs = """
    ## What it does
    Reports `background_tasks.add_task(f(...))` (on a `BackgroundTasks` object, known by its
    annotation or construction) and `BackgroundTask(f(...))` where `f` is a project function
    or method that does not return a callable (no nested `def`/`lambda`/`class`, no `Callable`
    return annotation), a coroutine function or a known async API. `functools.partial(...)`
    and factories are fine.

    ## Why is this bad?
    `f(...)` is evaluated before `add_task` is called: the work runs now, inside the request,
    delaying the response (or, for an `async def`, not at all: only a coroutine is made).
    `add_task` stores the result as the task; after the response Starlette calls it and fails
    with `TypeError: 'NoneType' object is not callable` (or a never-awaited coroutine).

    ## Example
    ```python
    @app.post("/signup")
    async def signup(user: User, background_tasks: BackgroundTasks):
        background_tasks.add_task(send_welcome_email(user.email))
    ```

    ## Use instead
    ```python
    @app.post("/signup")
    async def signup(user: User, background_tasks: BackgroundTasks):
        background_tasks.add_task(send_welcome_email, user.email)
    ```

    ## Fix safety
    Safe: `add_task(f(a, k=v))` becomes `add_task(f, a, k=v)`; `add_task` forwards positional
    and keyword arguments to `f` unchanged. Only offered when the call is `add_task`'s only
    argument.
    """

    _tasks = qualnames(origin_qualnames(catalog.BACKGROUND_TASKS_ORIGINS), local_classes=True)
    _task_classes = function_callees(catalog.BACKGROUND_TASK_CLASSES)

    @classmethod
    def wants(cls, facts, index):
        """`add_task` called, with an import (or class of the module) from which a
        BackgroundTasks origin can be met, or a call reaching `BackgroundTask` by import; given
        a call as an argument that may be a project function or method (with an index: by one
        of their names) or make a framework coroutine."""
        if not facts.arg_calls:
            return False
        if not ("add_task" in facts.calls and cls._tasks.met(facts)) \
                and not cls._task_classes.met(facts, _with_aliases(facts, facts.calls)):
            return False
        inner = _with_aliases(facts, facts.arg_calls)
        return index is None or not spellings(index, "functions", _function_names, nameless=False).isdisjoint(inner) \
            or may_be_framework_async(facts, facts.arg_calls, inner)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_task":
            if _strip_await(ctx.origin_of(func.value)) not in catalog.BACKGROUND_TASKS_ORIGINS:
                return
        elif ctx.qualname(func) not in catalog.BACKGROUND_TASK_CLASSES:
            return
        first = keyword(node, "func") or positional(node, 0)
        if first is None or not isinstance(first.value, cst.Call):
            return
        inner = first.value
        label = self._runs_now(inner)
        if label is None:
            return
        fix = None
        if len(node.args) == 1 and first.keyword is None:
            args = [cst.Arg(value=inner.func)] + [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in inner.args]
            fix = FixSpec(SAFE, f"Pass `{label}` and its arguments to `add_task`", {node: node.with_changes(args=args)})
        self.report(inner, f"`{label}(...)` runs now, inside the request; the background task then gets its "
                           f"result instead of a function and fails after the response", fix)

    def _runs_now(self, inner: cst.Call) -> Optional[str]:
        ctx = self.ctx
        if not isinstance(inner.func, (cst.Name, cst.Attribute)):
            return None
        if ctx.qualname(inner.func) in catalog.CALLABLE_FACTORIES:
            return None
        label, summary = project_function(ctx, inner.func)
        if summary is not None:
            if may_return_callable(summary):
                return None
            return dotted_name(inner.func)
        if framework_async(ctx, inner) is not None:
            return dotted_name(inner.func)
        return None


# ---------------------------------------------------------------------------- FPI204


@register
class DependencyCalled(Rule):
    code = "FPI204"
    name = "dependency-called"
    summary = ("`Depends(f())`/`Security(f())` where `f` is a project function that is not a factory: "
               "FastAPI raises TypeError at import.")
    fix = SAFE
    needs_index = True
    tokens = ("Depends", "Security")
    docs = """
    ## What it does
    Reports `Depends(f())` and `Security(f())` where `f` is a function of the checked tree whose
    result is provably not callable: a generator or async generator (`get_db` with `yield`), an
    `async def`, a function that itself takes `Depends(...)` parameters, a function also used
    as `Depends(f)` elsewhere, or one whose return annotation is a plain value, a session, or a
    project class without `__call__` (Pydantic models and settings). Classes
    (`Depends(RateLimiter(10))`, `Depends(HTTPBearer())`) and factories that return a callable
    (`Depends(require_role("admin"))`: a nested `def`, `lambda` or `class`, or a `Callable`
    return annotation) are fine.

    ## Why is this bad?
    `Depends` takes the dependency itself, not its result. `Depends(get_db())` passes a
    generator object; FastAPI cannot inspect its signature and raises `TypeError` when the
    route is declared, or worse, the single object made at import is shared by every request.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    @app.get("/users")
    def users(db: Session = Depends(get_db())): ...
    ```

    ## Use instead
    ```python
    @app.get("/users")
    def users(db: Session = Depends(get_db)): ...
    ```

    ## Fix safety
    Safe: `Depends(f())` becomes `Depends(f)` when the call has no arguments; FastAPI then
    calls `f` per request, as intended. With arguments (`Depends(f(x))`) no fix is offered.
    """

    _depends = function_callees(DEPENDS)

    @staticmethod
    def _maybe_not_callable(index: ProjectIndex):
        """Names of project functions `_not_callable` may hold for. Its class test is relaxed to
        "returns a project class": whether the class has `__call__` depends on the index the
        rule sees, which for a file without a module name is this one without other such files
        (`project_index_for`), so it could say "plain" where this index does not."""
        for q, f in index.functions.items():
            facts = f.facts
            if facts.get("factory"):
                continue
            returns = facts.get("returns")
            if facts.get("generator") or facts.get("asyncgen") or (f.is_async and not facts.get("decorated")) \
                    or facts.get("depends_params") or q in index.dependencies or (isinstance(returns, str) and (
                        returns in catalog.NON_CALLABLE_RETURNS or index.class_qualname(returns) is not None)):
                yield q.rpartition(".")[2]

    @classmethod
    def wants(cls, facts, index):
        """A call reaching `Depends`/`Security` by import, given a call as its dependency; with an
        index, that call by a name of a project function whose result may not be callable (or
        one it is re-exported as, or an import alias of one)."""
        # imported under another name, `Depends` may be called by any name
        arg_calls = facts.arg_calls if not facts.aliased.isdisjoint(DEPENDS_LAST) else facts.depends_arg_calls
        if not arg_calls or not cls._depends.met(facts, _with_aliases(facts, facts.calls)):
            return False
        return index is None or not spellings(index, "FPI204", cls._maybe_not_callable).isdisjoint(
            _with_aliases(facts, arg_calls))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not isinstance(node.func, (cst.Name, cst.Attribute)) or ctx.qualname(node.func) not in DEPENDS:
            return
        arg = keyword(node, "dependency") or positional(node, 0)
        if arg is None or not isinstance(arg.value, cst.Call):
            return
        inner = arg.value
        if not isinstance(inner.func, (cst.Name, cst.Attribute)):
            return
        q = ctx.project_qualname(inner.func)
        index = project_index_for(ctx)
        summary = index.function(q) if q else None
        if summary is None:
            return
        why = self._not_callable(index, summary)
        if why is None:
            return
        fix = None
        if not inner.args:
            fix = FixSpec(SAFE, f"Pass `{dotted_name(inner.func)}` itself",
                          {inner: inner.func.with_changes(lpar=inner.lpar, rpar=inner.rpar)})
        name = dotted_name(inner.func)
        self.report(inner, f"`{name}()` is called here: `Depends` receives its result ({why}) instead of "
                           f"the dependency; pass `{name}` itself", fix)

    def _not_callable(self, index: ProjectIndex, summary: FunctionSummary) -> Optional[str]:
        facts = summary.facts
        if facts.get("factory"):
            return None
        if facts.get("generator") or facts.get("asyncgen"):
            return "a generator"
        if summary.is_async and not facts.get("decorated"):
            return "a coroutine"
        if facts.get("depends_params") or index.is_dependency(summary.qualname):
            return "the value of a dependency"
        returns = facts.get("returns")
        if isinstance(returns, str):
            if returns in catalog.NON_CALLABLE_RETURNS:
                return f"a `{returns.rpartition('.')[2]}`"
            cls = index.class_qualname(returns)
            if cls is not None and self._plain_class(index, cls):
                return f"a `{cls.rpartition('.')[2]}` instance"
        return None

    @staticmethod
    def _plain_class(index: ProjectIndex, cls: str) -> bool:
        """A project class whose instances are not callable: no `__call__`, only known non-callable bases."""
        if index.method(cls, "__call__") is not None:
            return False
        seen, todo = set(), [cls]
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            for base in index.classes.get(c, []):
                if index.class_qualname(base):
                    todo.append(index.class_qualname(base))
                elif base not in catalog.NON_CALLABLE_BASES:
                    return False
        return True


# ---------------------------------------------------------------------------- FPI205


def _asyncio_name(ctx) -> Tuple[Optional[str], list]:
    alias = ctx.module_alias("asyncio")
    if alias is not None:
        return alias, []
    if ctx.is_bound("asyncio"):
        return None, []
    return "asyncio", [("asyncio", None, None)]


#: Methods that schedule a coroutine as a task (a loop's, a TaskGroup's, `asyncio`'s).
_TASK_METHODS = frozenset({"create_task", "ensure_future"})
#: How a task creator may be spelled at a call (FPI205's tree gate): those methods, or the last
#: name of a catalogue function imported bare.
_TASK_SPELLINGS = _TASK_METHODS | {q.rpartition(".")[2] for q in catalog.TASK_CREATORS}


def _is_task_call(ctx, expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)) and (
        ctx.qualname(expr.func) in catalog.TASK_CREATORS
        or (isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _TASK_METHODS))


@register
class AsyncioWaitCoroutines(Rule):
    code = "FPI205"
    wants_index = False
    name = "asyncio-wait-coroutines"
    summary = ("`asyncio.wait` given coroutines (a list literal of calls, or a name bound to one): "
               "TypeError since Python 3.11.")
    fix = SAFE
    needs_index = True
    tokens = ("wait",)
    requires = ("async",)
    docs = """
    ## What it does
    Reports `asyncio.wait(...)` whose first argument is a list, set or tuple literal, or a list
    comprehension, containing calls that make coroutines (project `async def`s or known async
    APIs), directly or through a local name bound to such a literal.

    ## Why is this bad?
    `asyncio.wait` only accepts tasks and futures. Passing coroutines was deprecated in Python
    3.8 and raises `TypeError: Passing coroutines is forbidden, use tasks explicitly` since 3.11:
    code that worked on 3.10 breaks on upgrade.

    ## Example
    ```python
    done, pending = await asyncio.wait([fetch(u) for u in urls], timeout=5)
    ```

    ## Use instead
    ```python
    done, pending = await asyncio.wait([asyncio.create_task(fetch(u)) for u in urls], timeout=5)
    ```

    ## Fix safety
    Safe: each coroutine call is wrapped in `asyncio.create_task(...)` (importing asyncio when
    needed), which is what `asyncio.wait` did itself before 3.11. Only offered in async context
    (a running loop is needed) and, for a name, when the literal is bound in the same function.
    """

    _wait = function_callees({"asyncio.wait"})

    @classmethod
    def wants(cls, facts, index):
        """A call reaching `asyncio.wait` by import."""
        return cls._wait.met(facts, _with_aliases(facts, facts.calls))

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree: a call that may be `asyncio.wait` (an
        attribute `.wait`, a bare `wait` or an import's `as` name for it) given, as `fs`, what
        `_coroutine_calls` reads: a list, set or tuple display or a comprehension holding a call
        that is not a task creator, or a name some assignment of the file binds to one. The
        usual `asyncio.wait({task, timer})` or `asyncio.wait(pending)` stays away from libcst."""
        aliases = facts.alias_origins
        bound: Optional[Dict[str, List[ast.expr]]] = None
        receivers = ModuleReceivers.of(tree, *module)
        for call, _ in receivers.calls():
            callee = call.func
            if not (type(callee) is ast.Attribute and callee.attr == "wait") and not (
                    type(callee) is ast.Name and (callee.id == "wait" or "wait" in aliases.get(callee.id, ()))):
                continue
            arg = next((k.value for k in call.keywords if k.arg == "fs"), None) or (
                call.args[0] if call.args and type(call.args[0]) is not ast.Starred else None)
            if type(arg) is ast.Name:
                if bound is None:
                    bound = _assigned_values(tree)
                if any(_holds_untasked_call(v) for v in bound.get(arg.id, ())):
                    return True
            elif arg is not None and _holds_untasked_call(arg):
                return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not isinstance(node.func, (cst.Name, cst.Attribute)) or ctx.qualname(node.func) != "asyncio.wait":
            return
        arg = keyword(node, "fs") or positional(node, 0)
        if arg is None:
            return
        literal, local = arg.value, True
        if isinstance(literal, cst.Name):
            values = _binding_values(ctx, literal.value)
            if not values or len(values) != 1 or not isinstance(values[0], cst.BaseExpression):
                return
            literal = values[0]
            func = ctx.current_function()
            local = isinstance(func, cst.FunctionDef) and any(v is literal for v in _function_values(ctx, func))
        coros = self._coroutine_calls(literal)
        if not coros:
            return
        fix = None
        alias, imports = _asyncio_name(ctx)
        if ctx.in_async() and local and alias is not None:
            make = cst.Attribute(value=cst.Name(alias), attr=cst.Name("create_task"))
            fix = FixSpec(SAFE, "Wrap each coroutine in `asyncio.create_task(...)`",
                          {c: cst.Call(func=make, args=[cst.Arg(value=c)]) for c in coros}, imports)
        self.report(arg.value, "`asyncio.wait` is given coroutines: TypeError since Python 3.11 "
                               "(it only accepts tasks and futures)", fix)

    def _coroutine_calls(self, literal: cst.BaseExpression) -> List[cst.Call]:
        ctx = self.ctx
        if isinstance(literal, (cst.List, cst.Set, cst.Tuple)):
            elements = [el.value for el in literal.elements if isinstance(el, cst.Element)]
        elif isinstance(literal, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            elements = [literal.elt]
        else:
            return []
        return [e for e in elements if isinstance(e, cst.Call) and not _is_task_call(ctx, e) and makes_coroutine(ctx, e)]


def _holds_untasked_call(expr: ast.expr) -> bool:
    """FPI205's tree gate: a display or comprehension (what `_coroutine_calls` reads) with a
    call among its elements that is spelled as no task creator (`create_task`, `ensure_future`)."""
    kind = type(expr)
    if kind is ast.List or kind is ast.Set or kind is ast.Tuple:
        elements = expr.elts
    elif kind is ast.ListComp or kind is ast.SetComp or kind is ast.GeneratorExp:
        elements = [expr.elt]
    else:
        return False
    return any(type(e) is ast.Call and terminal_name(e.func) not in _TASK_SPELLINGS for e in elements)


def _assigned_values(tree: ast.Module) -> Dict[str, List[ast.expr]]:
    """name -> every value an assignment anywhere in the module binds it to (`=`, `: T =`)."""
    out: Dict[str, List[ast.expr]] = {}
    for node in ast.walk(tree):
        if type(node) is ast.Assign:
            for target in node.targets:
                if type(target) is ast.Name:
                    out.setdefault(target.id, []).append(node.value)
        elif type(node) is ast.AnnAssign and type(node.target) is ast.Name and node.value is not None:
            out.setdefault(node.target.id, []).append(node.value)
    return out


def _function_values(ctx, func: cst.FunctionDef) -> List[object]:
    return [v for values in function_assignments(ctx, func).values() for v in values]


# ---------------------------------------------------------------------------- FPI206


@register
class TaskNotReferenced(Rule):
    code = "FPI206"
    wants_index = False
    name = "task-not-referenced"
    summary = ("`asyncio.create_task`/`ensure_future`/`loop.create_task` result dropped: the task may be "
               "garbage-collected mid-flight.")
    fix = "display-only"
    tokens = ("create_task", "ensure_future")

    docs = """
    ## What it does
    Reports `asyncio.create_task(...)`, `asyncio.ensure_future(...)` and `loop.create_task(...)`
    (a loop from `asyncio.get_event_loop()`/`get_running_loop()`/`new_event_loop()`) used as an
    expression statement, so no reference to the task is kept. `TaskGroup.create_task` is not
    reported: the group keeps its tasks.

    ## Why is this bad?
    The event loop keeps only a weak reference to tasks. A task nobody references can be
    garbage-collected before it finishes, silently cancelling the work ("fire and forget"
    background jobs that sometimes never complete), and its exceptions are never seen.

    ## Example
    ```python
    @app.post("/events")
    async def ingest(event: Event):
        asyncio.create_task(process(event))
    ```

    ## Use instead
    ```python
    background: set[asyncio.Task] = set()

    @app.post("/events")
    async def ingest(event: Event):
        task = asyncio.create_task(process(event))
        background.add(task)
        task.add_done_callback(background.discard)
    ```

    ## Fix safety
    A hint only: where to keep the reference (a module set, `app.state`, a TaskGroup, FastAPI's
    `BackgroundTasks`) is a design choice.
    """

    _creators = function_callees(catalog.TASK_CREATORS)
    _loops = qualnames(origin_qualnames(catalog.LOOP_ORIGINS), local_classes=True)

    @classmethod
    def wants(cls, facts, index):
        """A call that is an expression statement (`FileFacts.statement_calls`) reaching
        `asyncio.create_task`/`ensure_future` by import, or a `create_task` method with an
        import (or class of the module) from which an event loop origin can be met. A task
        assigned, passed on or awaited is no concern."""
        calls = facts.statement_calls
        return cls._creators.met(facts, _with_aliases(facts, calls)) \
            or ("create_task" in calls and cls._loops.met(facts))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not isinstance(ctx.parent(node), cst.Expr) or not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        q = ctx.qualname(node.func)
        if q in catalog.TASK_CREATORS:
            label = q
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "create_task" \
                and _strip_await(ctx.origin_of(node.func.value)) in catalog.LOOP_ORIGINS:
            label = "loop.create_task"
        else:
            return
        self.report(node, f"the task from `{label}()` is not referenced: it may be garbage-collected "
                          "before it finishes",
                    hint("Keep a reference: add it to a set and `task.add_done_callback(tasks.discard)`, "
                         "or use a TaskGroup"))


# ---------------------------------------------------------------------------- FPI207


@register
class CachedCoroutineFunction(Rule):
    code = "FPI207"
    wants_index = False
    name = "cached-coroutine-function"
    summary = ("`functools.lru_cache`/`cache` on an `async def`: the second await of the cached coroutine "
               "raises RuntimeError.")
    fix = "display-only"
    tokens = ("cache",)
    requires = ("async",)
    docs = """
    ## What it does
    Reports `@functools.lru_cache`, `@functools.cache`, `@functools.cached_property` and
    `cachetools` decorators (any import form, with or without arguments) on an `async def`.

    ## Why is this bad?
    These decorators cache what the call returns: for an `async def` that is the coroutine
    object, not its result. The first caller awaits it; every later caller gets the same,
    already-awaited coroutine and fails with
    `RuntimeError: cannot reuse already awaited coroutine`.

    ## Example
    ```python
    @lru_cache
    async def get_settings() -> Settings:
        return await load_settings()
    ```

    ## Use instead
    ```python
    from async_lru import alru_cache

    @alru_cache
    async def get_settings() -> Settings:
        return await load_settings()
    ```

    ## Fix safety
    A hint only: use `async-lru`'s `alru_cache`, or cache the awaited value yourself.
    """

    _caches = function_callees(catalog.COROUTINE_CACHES)

    @classmethod
    def wants(cls, facts, index):
        """A decorator of an `async def` reaching a caching decorator by import."""
        return cls._caches.met(facts, _with_aliases(facts, facts.async_decorators))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        for dec in node.decorators:
            d = decorator_callee(dec)
            q = self.ctx.qualname(d) if isinstance(d, (cst.Name, cst.Attribute)) else None
            if q in catalog.COROUTINE_CACHES:
                self.report(dec, f"`@{q.rpartition('.')[2]}` on `async def {node.name.value}` caches the "
                                 "coroutine object: the second await raises RuntimeError",
                            hint("Use `async_lru.alru_cache`, or cache the awaited value"))


# ---------------------------------------------------------------------------- FPI208


@register
class NestedEventLoop(Rule):
    code = "FPI208"
    wants_index = False
    name = "nested-event-loop"
    summary = "`asyncio.run`, `loop.run_until_complete`, `anyio.run` in async context."
    fix = "display-only"
    tokens = ("run",)
    requires = ("async",)
    docs = """
    ## What it does
    Reports `asyncio.run(...)`, `anyio.run(...)`, `trio.run(...)` and
    `<loop>.run_until_complete(...)` called in async context (the body of an `async def`, not
    nested `def`s or lambdas).

    ## Why is this bad?
    The code already runs inside an event loop. `asyncio.run` raises
    `RuntimeError: asyncio.run() cannot be called from a running event loop`, and
    `run_until_complete` raises `RuntimeError: This event loop is already running`; with
    `nest_asyncio` patched in, it blocks every other request until it returns.

    ## Example
    ```python
    @app.get("/report")
    async def report():
        return asyncio.run(build_report())
    ```

    ## Use instead
    ```python
    @app.get("/report")
    async def report():
        return await build_report()
    ```

    ## Fix safety
    A hint only: `await` the coroutine instead. The call may have been meant for a sync helper
    run in a thread, which is a different change.
    """

    _runners = function_callees(catalog.LOOP_RUNNERS)

    @classmethod
    def wants(cls, facts, index):
        """A call in async context: a `run_until_complete` method, or one reaching a loop
        runner (`asyncio.run`, ...) by import."""
        calls = facts.async_calls
        return not catalog.LOOP_RUN_METHODS.isdisjoint(calls) or cls._runners.met(facts, _with_aliases(facts, calls))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async() or not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        q = ctx.qualname(node.func)
        if q in catalog.LOOP_RUNNERS:
            label = q
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in catalog.LOOP_RUN_METHODS \
                and q is None:
            label = f"loop.{node.func.attr.value}"
        else:
            return
        self.report(node, f"`{label}()` inside a coroutine: an event loop is already running here "
                          "(RuntimeError, or every request blocked with nest_asyncio)", hint("`await` it"))


# ---------------------------------------------------------------------------- FPI209


def sessions_used(ctx, expr: cst.BaseExpression) -> Set[str]:
    """Dotted names of AsyncSession objects that `expr` uses (not looking into lambdas)."""
    found: Set[str] = set()
    if isinstance(expr, cst.Call):
        # the callee's own name (`session.execute`) and every argument
        if isinstance(expr.func, cst.Attribute):
            visit_readonly(expr.func.value, _SessionsUsed(ctx, found))
        elif not isinstance(expr.func, cst.Name):
            visit_readonly(expr.func, _SessionsUsed(ctx, found))
        for arg in expr.args:
            visit_readonly(arg.value, _SessionsUsed(ctx, found))
    else:
        visit_readonly(expr, _SessionsUsed(ctx, found))
    return found


class _SessionsUsed(cst.CSTVisitor):
    """`sessions_used`' walk (a class of the module: one made per call would live, with the
    context it closes over, in a reference cycle until a full garbage collection)."""

    def __init__(self, ctx, found: Set[str]) -> None:
        super().__init__()
        self.ctx, self.found = ctx, found

    def _session(self, node: cst.BaseExpression) -> bool:
        return _strip_await(self.ctx.origin_of(node)) in catalog.ASYNC_SESSION_ORIGINS

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        name = dotted_name(node)
        if name and name.count(".") == 1 and self._session(node):
            self.found.add(name)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if self._session(node):
            self.found.add(node.value)


class _TaskGroupSessions(cst.CSTVisitor):
    """Appends to `groups[tg]` the sessions each task started by the task group `tg` uses (in
    the body of the `with`, not in nested defs or lambdas)."""

    def __init__(self, ctx, groups: Dict[str, List[Set[str]]]) -> None:
        super().__init__()
        self.ctx, self.groups = ctx, groups

    def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, n: cst.Lambda) -> bool:
        return False

    def visit_Call(self, n: cst.Call) -> None:
        f, groups = n.func, self.groups
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value in groups:
            if f.attr.value == "create_task" and n.args:
                groups[f.value.value].append(sessions_used(self.ctx, n.args[0].value))
            elif f.attr.value == "start_soon" and n.args:
                used: Set[str] = set()
                for a in n.args:
                    used |= sessions_used(self.ctx, a.value)
                groups[f.value.value].append(used)


def _shared(groups: List[Set[str]]) -> Optional[str]:
    seen: Dict[str, int] = {}
    for g in groups:
        for name in g:
            seen[name] = seen.get(name, 0) + 1
    shared = sorted(n for n, c in seen.items() if c >= 2)
    return shared[0] if shared else None


@register
class ConcurrentSessionUse(Rule):
    code = "FPI209"
    wants_index = False
    name = "concurrent-session-use"
    summary = ("`asyncio.gather`/`TaskGroup` over two or more awaitables using the same `AsyncSession`: "
               "unsupported, fails or corrupts state depending on timing.")
    fix = UNSAFE
    tokens = ("gather", "TaskGroup", "create_task_group")
    requires = ("async",)
    docs = """
    ## What it does
    Reports `asyncio.gather(...)` whose awaitables use the same `AsyncSession` object (by
    name, in two or more of them: `gather(repo.a(db), repo.b(db))`, `gather(db.execute(q1),
    db.execute(q2))`), and `async with asyncio.TaskGroup() as tg` / `anyio.create_task_group()`
    bodies whose `tg.create_task(...)`/`tg.start_soon(...)` calls share one. The session is
    known by its annotation (`db: AsyncSession`, `Annotated[AsyncSession, Depends(...)]`) or
    by construction (`AsyncSession(engine)`, `async_sessionmaker(...)()`). Different sessions,
    or one session used by a single awaitable, are fine.

    ## Why is this bad?
    An `AsyncSession` (like its connection) is not safe for concurrent use: SQLAlchemy raises
    `InvalidRequestError: This session is provisioning a new connection; concurrent operations
    are not permitted`, `IllegalStateChangeError`, or, depending on timing, interleaves two
    transactions' statements on one connection. It passes in tests and fails under load.

    ## Example
    ```python
    @app.get("/dashboard")
    async def dashboard(db: AsyncSession = Depends(get_db)):
        users, orders = await asyncio.gather(count_users(db), count_orders(db))
    ```

    ## Use instead
    ```python
    @app.get("/dashboard")
    async def dashboard(db: AsyncSession = Depends(get_db)):
        users = await count_users(db)
        orders = await count_orders(db)
    ```

    ## Fix safety
    Unsafe: for a simple `a, b = await asyncio.gather(x(...), y(...))` (or a bare
    `await asyncio.gather(...)` statement) the awaitables are awaited one after the other.
    That is what the session needs, but it is slower, and an exception in the first now
    prevents the second from starting. Alternatively give each task its own session.
    """

    _runs_concurrently = function_callees(catalog.GATHER_FUNCTIONS | catalog.TASK_GROUPS)
    _sessions = qualnames(origin_qualnames(catalog.ASYNC_SESSION_ORIGINS), local_classes=True)

    @classmethod
    def wants(cls, facts, index):
        """A call reaching `asyncio.gather` or a task group by import, and an import (or class
        of the module) from which an AsyncSession origin can be met."""
        return cls._runs_concurrently.met(facts, _with_aliases(facts, facts.calls)) and cls._sessions.met(facts)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not isinstance(node.func, (cst.Name, cst.Attribute)) or ctx.qualname(node.func) not in \
                catalog.GATHER_FUNCTIONS:
            return
        awaitables: List[cst.BaseExpression] = []
        for arg in node.args:
            if arg.keyword is not None:
                continue
            if arg.star == "*" and isinstance(arg.value, (cst.List, cst.Tuple)):
                awaitables += [el.value for el in arg.value.elements if isinstance(el, cst.Element)]
            elif not arg.star:
                awaitables.append(arg.value)
        name = _shared([sessions_used(ctx, a) for a in awaitables])
        if name is None:
            return
        self.report(node, f"`{name}` (one AsyncSession) is used by several awaitables run concurrently by "
                          "`asyncio.gather`: sessions do not support concurrent operations",
                    self._fix(node, awaitables))

    def _fix(self, node: cst.Call, awaitables: List[cst.BaseExpression]) -> Optional[FixSpec]:
        ctx = self.ctx
        if any(a.star or a.keyword is not None for a in node.args):
            return None
        aw = ctx.parent(node)
        if not isinstance(aw, cst.Await) or not ctx.in_async():
            return None
        stmt = ctx.parent(aw)
        line = ctx.parent(stmt)
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        new_stmts: List[cst.BaseSmallStatement] = []
        if isinstance(stmt, cst.Expr) and stmt.value is aw:
            new_stmts = [cst.Expr(cst.Await(a)) for a in awaitables]
        elif isinstance(stmt, cst.Assign) and stmt.value is aw and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0].target, (cst.Tuple, cst.List)):
            names = stmt.targets[0].target.elements
            if len(names) != len(awaitables) or not all(isinstance(n, cst.Element) and isinstance(
                    n.value, (cst.Name, cst.Attribute, cst.Subscript)) for n in names):
                return None
            new_stmts = [cst.Assign([cst.AssignTarget(n.value.with_changes(lpar=(), rpar=()))], cst.Await(a))
                         for n, a in zip(names, awaitables)]
        else:
            return None
        lines = [line.with_changes(body=[new_stmts[0]])] + [
            cst.SimpleStatementLine([s]) for s in new_stmts[1:]]
        return FixSpec(UNSAFE, "Await them one after the other", {line: cst.FlattenSentinel(lines)})

    def visit_With(self, node: cst.With) -> None:
        ctx = self.ctx
        groups: Dict[str, List[Set[str]]] = {}
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and isinstance(call.func, (cst.Name, cst.Attribute)) \
                    and ctx.qualname(call.func) in catalog.TASK_GROUPS and item.asname is not None \
                    and isinstance(item.asname.name, cst.Name):
                groups[item.asname.name.value] = []
        if not groups:
            return

        visit_readonly(node.body, _TaskGroupSessions(ctx, groups))
        for tg, used in groups.items():
            name = _shared(used)
            if name is not None:
                self.report(node, f"`{name}` (one AsyncSession) is used by several tasks of the task group "
                                  f"`{tg}`: sessions do not support concurrent operations",
                            hint("Await them one after the other, or give each task its own session"))


# ---------------------------------------------------------------------------- FPI210


@register
class CoroutineFunctionOffloaded(Rule):
    code = "FPI210"
    name = "coroutine-function-offloaded"
    summary = ("An `async def` passed to `run_in_threadpool`/`asyncio.to_thread`/`run_sync`: the thread "
               "returns an un-awaited coroutine.")
    fix = SAFE
    needs_index = True
    tokens = ("run_in_threadpool", "to_thread", "run_sync", "run_in_executor")
    docs = """
    ## What it does
    Reports a project `async def` (or a known async method such as `request.json`) passed as
    the callable to `run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync` or
    `loop.run_in_executor`.

    ## Why is this bad?
    Those functions call their argument in a worker thread and return what it returns. Calling
    an `async def` only creates a coroutine: the thread hands back a coroutine object that
    nobody awaits, so the work never happens (and the thread hop was for nothing).

    ## Example
    ```python
    result = await run_in_threadpool(fetch_profile, user_id)
    ```

    ## Use instead
    ```python
    result = await fetch_profile(user_id)
    ```

    ## Fix safety
    Safe: `await run_in_threadpool(f, a, k=v)` becomes `await f(a, k=v)`, where the offload call
    is awaited directly and forwards keyword arguments (`run_in_threadpool`, `asyncio.to_thread`);
    for `anyio.to_thread.run_sync` and `run_in_executor` only when no keyword arguments are given.
    """

    _offloads = function_callees(catalog.OFFLOAD_FUNCTIONS)

    @classmethod
    def wants(cls, facts, index):
        """An offload call (a `run_in_executor` method, or a call reaching an offload function
        by import), and a name or attribute passed as a positional argument that may be an
        async callable: a project coroutine function (or a name it is re-exported as), or a
        framework coroutine method/function."""
        calls = facts.calls
        if catalog.RUN_IN_EXECUTOR not in calls and not cls._offloads.met(facts, _with_aliases(facts, calls)):
            return False
        # the callable is a positional argument, a name or an attribute (or an import's `as` name)
        names = _with_aliases(facts, facts.name_args)
        return not project_coroutine_names(facts, index).isdisjoint(names) \
            or may_be_framework_async(facts, names, names)

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again on the file's `ast` tree: a name or attribute passed positionally to
        a call spelled like an offload (`FileFacts.name_args`) that `project_function` may
        resolve to a coroutine function, receivers read as FPI201's gate reads them; or one
        that may be a framework coroutine method (the facts alone decide that)."""
        name, is_package = module
        own = own_names(facts, index, module)
        if own is None:
            return True  # the rule reads another index (`project_index_for`)
        names = _with_aliases(facts, facts.name_args)
        if may_be_framework_async(facts, names, names):
            return True
        offloads = offload_spellings(facts.import_aliases)
        receivers = ModuleReceivers.of(tree, name, is_package)
        for call, func in receivers.calls():
            callee = call.func
            if terminal_name(callee) not in offloads:
                continue
            for arg in call.args:
                if (type(arg) is ast.Name or type(arg) is ast.Attribute) \
                        and _may_name_project_coroutine(receivers, arg, func, index, own):
                    return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        q = ctx.qualname(func)
        if q in catalog.OFFLOAD_FUNCTIONS:
            index, forwards = catalog.OFFLOAD_FUNCTIONS[q]
            label = q.rpartition(".")[2]
        elif isinstance(func, cst.Attribute) and func.attr.value == catalog.RUN_IN_EXECUTOR:
            index, forwards, label = 1, False, "run_in_executor"
        else:
            return
        pos = [a for a in node.args if a.keyword is None and not a.star]
        if len(pos) <= index or any(a.star for a in node.args[:index + 1]):
            return
        target = pos[index].value
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return
        name = self._async_callable(target)
        if name is None:
            return
        self.report(target, f"`{name}` is an `async def`: `{label}` calls it in a thread and gets back a "
                            "coroutine that is never awaited", self._fix(node, index, forwards, target))

    def _async_callable(self, target: cst.BaseExpression) -> Optional[str]:
        ctx = self.ctx
        label, summary = project_function(ctx, target)
        if summary is not None and summary.facts.get("coroutine"):
            return label
        found = framework_async(ctx, cst.Call(func=target))
        if found is not None and not found[1]:
            return found[0][:-2]
        return None

    def _fix(self, node: cst.Call, index: int, forwards: bool, target: cst.BaseExpression) -> Optional[FixSpec]:
        ctx = self.ctx
        if not isinstance(ctx.parent(node), cst.Await):
            return None
        rest = list(node.args)[index + 1:]
        if any(a.keyword is not None or a.star == "**" for a in rest) and not forwards:
            return None
        args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in rest]
        new = cst.Call(func=target, args=args, lpar=node.lpar, rpar=node.rpar)
        return FixSpec(SAFE, "Await the coroutine function directly", {node: new})
