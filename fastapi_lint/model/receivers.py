"""What a method call's receiver can be, read from CPython's `ast`: the third gate of FPI201.

The facts gate (`coroutines.may_call_project_coroutine`) knows which method names a file
calls without `await` and which project classes it imports, not which object each call is
on: on a project whose repositories all have an `async def get`, every `claims.get("email")`
of a file that imports one sends it to libcst. For such a file the engine parses the text
with `ast` (a few milliseconds, against tens for libcst) and asks, per lost method call
(`facts._mark_lost` positions), what `coroutines.receiver_class` could make of its receiver:

- ANY: it may be a project object this reading does not follow (`self.repo`, a name bound
  by `with`, a local bound to another name...): the file goes to libcst;
- a set of qualified names the receiver may be an instance of (a parameter's annotation, a
  local bound to a constructor call `Repo(...)`), of a module-level instance it may be
  (`from svc import service`), or whose method it may call (`Repo.get`);
- nothing: the flow model gives it no project class (a literal, an awaited value, a
  parameter without annotation or default, an attribute of a local, a subscript).

Every branch must stay a superset of what `receiver_class`/`project_function` can find:
tests/test_gates.py lints the fixtures with and without the gate.
"""

from __future__ import annotations

import ast
import builtins
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple, Union

from fastapi_lint.catalogs import asyncio as catalog
from fastapi_lint.catalogs import lifecycle as lifecycle_catalog
from fastapi_lint.model.facts import _CHILD_FIELDS, _FUNCTIONS, _MATCH_CAPTURES, _mark_lost, first_parameter, node_fields
from fastapi_lint.model.index import _import_bindings, ast_block_statements, ast_dotted


class _Any:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "ANY"


#: The receiver may be what this reading does not follow.
ANY = _Any()
Kinds = Union[_Any, FrozenSet[str]]
NOTHING: FrozenSet[str] = frozenset()

_BUILTINS = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
#: Values whose origin (`flow._Resolver.origin`) is None or starts with "await ".
_NO_ORIGIN = (ast.Dict, ast.List, ast.Set, ast.Tuple, ast.DictComp, ast.ListComp, ast.SetComp, ast.GeneratorExp,
              ast.Constant, ast.JoinedStr, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.IfExp, ast.Lambda, ast.Await)
_WRAPPERS = frozenset({"Optional", "Annotated"})
_TYPING_ANY = frozenset({"typing.Any"})
#: Nodes the walk of `_lost_calls` need not enter.
_NO_CHILDREN = frozenset({ast.Name, ast.Constant})
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler) + tuple(
    getattr(ast, n) for n in ("TryStar", "Match", "match_case") if hasattr(ast, n))


def _chained_methods() -> FrozenSet[str]:
    """Methods whose call on an object makes a catalogue origin: "acquire" for
    "asyncpg.create_pool().acquire()" (FPI202's catalogue), "connect" for
    "sqlalchemy.create_engine().connect()" (FPI404's)."""
    out = set()
    for table in (catalog.ASYNC_METHODS, catalog.ASYNC_ITERATOR_METHODS, lifecycle_catalog.LEAKED_ORIGINS):
        for origin in table:
            before, dot, last = origin[:-2].rpartition(".")
            if dot and ")" in before and last.isidentifier():
                out.add(last)
    return frozenset(out)


_CHAINED_METHODS = _chained_methods()


class _Function:
    """A def's own parameters and bindings (not nested scopes')."""

    def __init__(self, node, method_of: Optional[Tuple[str, bool, ast.ClassDef]], outer: Optional["_Function"],
                 module: Tuple[Optional[str], bool] = (None, False)) -> None:
        self.node = node
        self.outer = outer
        self.module = module
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        first = first_parameter(node) if method_of else None
        #: (class name, first parameter, whether the class is a module-level one) for a method
        #: directly in a class body, not `@staticmethod`
        self.receiver = (method_of[0], first, method_of[1]) if method_of and first else None
        defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults))
        defaults.update((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
        self.params = {a.arg: (a.annotation, defaults.get(a.arg)) for a in (*positional, *args.kwonlyargs)}
        #: `*args` and `**kwargs`: name -> annotation
        self.star_params = {a.arg: a.annotation for a in (args.vararg, args.kwarg) if a is not None}
        #: the class node of a method of a module-level class (`ModuleReceivers._self_attribute`)
        self.top_class = method_of[2] if method_of and method_of[1] else None
        self._names: Optional[_Bindings] = None

    @property
    def names(self) -> "_Bindings":
        """Computed when a receiver asks: most defs hold no call these gates look at."""
        if self._names is None:
            self._names = _Bindings(_own_nodes(self.node), self.module)
        return self._names

    def binds(self, name: str) -> bool:
        return name in self.params or name in self.star_params or self.names.binds(name)


class _Bindings:
    """How a scope's own statements bind names, sorted the way `flow._assignments` and
    `_Resolver.values_origin` read them: plain assignments (`values`), annotations (they win),
    bindings the flow model marks unknown (a `for` target, a name unpacked from a tuple, `+=`,
    a def or class, an `except` name: the origin is then None), and `other` ways it follows
    otherwise or that this reading does not sort (`with`, walrus, imports, `global`...).
    With the `module` (name, is_package) the statements are in, `imported` holds the names
    the scope binds by imports alone, all to one module or name, as `imports.scope_bindings`
    resolves them (`from m import f` in a def: "f" -> "m.f")."""

    def __init__(self, nodes: Iterator[ast.AST], module: Optional[Tuple[Optional[str], bool]] = None) -> None:
        self.values: Dict[str, List[ast.expr]] = {}
        self.annotations: Dict[str, List[ast.expr]] = {}
        self.unknown: Set[str] = set()
        self.other: Set[str] = set()
        stores: Set[str] = set()
        imports: Dict[str, Optional[str]] = {}
        for node in nodes:
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Store:
                    stores.add(node.id)
            elif kind is ast.Assign:
                for t in node.targets:
                    if type(t) is ast.Name:
                        self.values.setdefault(t.id, []).append(node.value)
                    elif type(t) is ast.Tuple or type(t) is ast.List:
                        for el in t.elts:
                            el = el.value if type(el) is ast.Starred else el
                            if type(el) is ast.Name:
                                self.unknown.add(el.id)
            elif kind is ast.AnnAssign:
                if type(node.target) is ast.Name:
                    self.annotations.setdefault(node.target.id, []).append(node.annotation)
            elif kind is ast.AugAssign:
                if type(node.target) is ast.Name:
                    self.unknown.add(node.target.id)
            elif kind is ast.For or kind is ast.AsyncFor:
                self.unknown.update(n.id for n in ast.walk(node.target) if type(n) is ast.Name)
            elif kind in _SCOPES and kind is not ast.Lambda:
                self.unknown.add(node.name)
            elif kind is ast.ExceptHandler:
                if node.name:
                    self.unknown.add(node.name)
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in node.items:
                    target = item.optional_vars
                    if type(target) is ast.Name:
                        # `with X as name`: `flow._assignments` reads the origin of X as its value
                        self.values.setdefault(target.id, []).append(item.context_expr)
                    elif target is not None:
                        self.other.update(n.id for n in ast.walk(target) if type(n) is ast.Name)
            elif kind is ast.NamedExpr:
                self.other.add(node.target.id)
            elif kind is ast.Import or kind is ast.ImportFrom:
                if module is not None:
                    for name, qual in _import_bindings(node, *module):
                        imports[name] = qual if imports.get(name, qual) == qual else None
                else:
                    self.other.update((a.asname or a.name).partition(".")[0] for a in node.names)
            elif kind is ast.Global or kind is ast.Nonlocal:
                self.other.update(node.names)
            elif kind in _MATCH_CAPTURES:
                captured = getattr(node, "name", None) or getattr(node, "rest", None)
                if captured:
                    self.other.add(captured)
        # what a comprehension or a nested target binds, and anything not sorted above
        self.other |= stores - self.values.keys() - self.annotations.keys() - self.unknown
        otherwise = self.other | self.values.keys() | self.annotations.keys() | self.unknown
        self.imported: Dict[str, str] = {
            n: q for n, q in imports.items() if q is not None and n not in otherwise}
        self.import_names = set(imports)
        self.other.update(imports)

    def binds(self, name: str) -> bool:
        return name in self.values or name in self.annotations or name in self.unknown or name in self.other


def _own_nodes(func) -> Iterator[ast.AST]:
    """The nodes of a def's body, not inside nested defs, classes or lambdas (their names and
    the parts evaluated where they stand, decorators and defaults, are the def's own)."""
    todo: List[ast.AST] = list(func.body)
    while todo:
        node = todo.pop()
        yield node
        kind = type(node)
        if kind in _FUNCTIONS:
            todo.extend(node.decorator_list)
            todo.extend(node.args.defaults)
            todo.extend(d for d in node.args.kw_defaults if d is not None)
            continue
        if kind is ast.ClassDef:
            todo.extend(node.decorator_list)
            todo.extend(node.bases)
            continue
        if kind is ast.Lambda:
            todo.extend(node.args.defaults)
            continue
        todo.extend(ast.iter_child_nodes(node))


class ModuleReceivers:
    """The lost method calls of a module and what their receivers may be."""

    def __init__(self, tree: ast.Module, module: Optional[str], is_package: bool) -> None:
        self.prefix = f"{module}." if module else ""
        self.module = (module, is_package)
        self.imports: Dict[str, Optional[str]] = {}
        self.defs: Dict[str, int] = {}  # module-level def/class name -> how many
        #: classes `flow.local_classes` knows: a method's `self` is an instance of one of them
        self.top_classes: Set[int] = set()
        conflicting: Set[str] = set()  # imported twice, to different names
        for stmt in ast_block_statements(tree.body):
            kind = type(stmt)
            if kind is ast.Import or kind is ast.ImportFrom:
                for name, qual in _import_bindings(stmt, module, is_package):
                    if name in self.imports and self.imports[name] != qual:
                        conflicting.add(name)
                    self.imports[name] = qual
            elif kind in _FUNCTIONS or kind is ast.ClassDef:
                self.defs[stmt.name] = self.defs.get(stmt.name, 0) + 1
                if kind is ast.ClassDef:
                    self.top_classes.add(id(stmt))
        #: the module's own bindings other than imports (defs and classes are `unknown` there)
        self.names = _Bindings(n for n in _own_nodes(tree) if type(n) not in (ast.Import, ast.ImportFrom))
        self.names.other |= conflicting
        # the module's statements, not the tree: the tree holds this object (`of`), and a
        # reference back would keep it in a cycle until a full garbage collection
        self._body = tree.body
        self._lost: Optional[List[Tuple[ast.Call, Optional[_Function]]]] = None
        self._calls: List[Tuple[ast.Call, Optional[_Function]]] = []
        self._returns: List[Tuple[ast.Return, _Function]] = []
        self._in_class_body: Set[int] = set()  # ids of lost calls in a class body inside a def
        self._attributes: Dict[int, Dict[str, Tuple[list, list]]] = {}  # id(class) -> `_class_attributes`
        self._methods: Dict[int, _Function] = {}
        self._reading: Set[Tuple[int, str]] = set()  # (id(class), attribute) being read
        self._following: Set[Tuple[int, str]] = set()  # (id(def), name) being read (`_followed`)

    @classmethod
    def of(cls, tree: ast.Module, module: Optional[str], is_package: bool) -> "ModuleReceivers":
        """One per tree, for every gate that reads it (FPI201 and FPI202)."""
        found = getattr(tree, "_fastapi_lint_receivers", None)
        if found is None:
            found = cls(tree, module, is_package)
            tree._fastapi_lint_receivers = found  # type: ignore[attr-defined]
        return found

    def lost_calls(self) -> List[Tuple[ast.Call, Optional[_Function]]]:
        """`_lost_calls`, once."""
        if self._lost is None:
            self._lost = list(self._lost_calls())
        return self._lost

    def calls(self) -> List[Tuple[ast.Call, Optional[_Function]]]:
        """(call, its innermost def) for every call of the module (the walk of `_lost_calls`)."""
        self.lost_calls()
        return self._calls

    def returns(self) -> List[Tuple[ast.Return, _Function]]:
        """(`return <value>`, its innermost def) for every such statement of the module (the
        walk of `_lost_calls`)."""
        self.lost_calls()
        return self._returns

    def in_class_body(self, call: ast.Call) -> bool:
        """A lost call in the body of a class inside a def: the rules resolve its names in the
        class body first, and no def encloses it (`enclosing_functiondef`), where `func` (the
        def around the class) says otherwise."""
        return id(call) in self._in_class_body

    def lost_method_calls(self) -> Iterator[Tuple[ast.Call, Optional[_Function]]]:
        """The lost calls on an attribute (`x.m(...)`)."""
        return ((call, func) for call, func in self.lost_calls() if type(call.func) is ast.Attribute)

    def _lost_calls(self) -> Iterator[Tuple[ast.Call, Optional[_Function]]]:
        """(call, its innermost def) for each call by a name or on an attribute whose value
        is lost where `facts._mark_lost` looks: an expression statement, a `return` in an
        `async def` (and defs nested in one), an assignment to names in a function, an
        `if`/`while` test, a `not` operand."""
        todo: List[Tuple[ast.AST, Optional[_Function], bool, Optional[Tuple[str, bool]]]] = [
            (stmt, None, False, None) for stmt in reversed(self._body)]
        pop, push = todo.pop, todo.append
        child_fields = _CHILD_FIELDS
        AST = ast.AST
        add_call = self._calls.append
        while todo:
            node, func, in_async, class_name = pop()
            kind = type(node)
            if kind is ast.Call:
                add_call((node, func))
            elif kind in _FUNCTIONS:
                inner = _Function(node, class_name, func, self.module)
                for stmt in node.body:
                    push((stmt, inner, in_async or kind is ast.AsyncFunctionDef, None))
                args = node.args
                for part in (*node.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d is not None),
                             # annotations are evaluated where the def stands too
                             *(a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                                      args.vararg, args.kwarg) if a is not None and a.annotation),
                             *((node.returns,) if node.returns is not None else ())):
                    push((part, func, in_async, None))
                continue
            if kind is ast.ClassDef:
                method_of = (node.name, id(node) in self.top_classes, node)
                for stmt in node.body:
                    push((stmt, func, in_async, method_of))
                for part in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
                    push((part, func, in_async, None))
                continue
            value = None
            if kind is ast.Expr:
                if type(node.value) is not ast.Constant:
                    value = node.value
            elif kind is ast.Return:
                if in_async:
                    value = node.value
                if node.value is not None and func is not None:
                    self._returns.append((node, func))
            elif kind is ast.Assign or kind is ast.AnnAssign:
                target = node.targets[0] if kind is ast.Assign and len(node.targets) == 1 else \
                    node.target if kind is ast.AnnAssign else None
                if type(target) in (ast.Name, ast.Tuple, ast.List) and func is not None:
                    value = node.value
            elif kind is ast.If or kind is ast.While:
                value = node.test
            elif kind is ast.UnaryOp:
                if type(node.op) is ast.Not:
                    value = node.operand
            if value is not None:
                lost: List[ast.Call] = []
                _mark_lost(value, None, lost)
                for call in lost:
                    if type(call.func) is ast.Attribute or type(call.func) is ast.Name:
                        if class_name is not None and func is not None:
                            self._in_class_body.add(id(call))
                        yield call, func
            # a def in a block of a class body is still its method (`enclosing_class`)
            inherited = class_name if kind in _BLOCKS else None
            for field in child_fields.get(kind) or node_fields(kind):
                child = getattr(node, field, None)
                for item in child if type(child) is list else (child,):
                    if isinstance(item, AST) and type(item) not in _NO_CHILDREN:
                        push((item, func, in_async, inherited))

    # ------------------------------------------------------------------ receivers
    def kinds(self, receiver: ast.expr, func: Optional[_Function]) -> Kinds:
        """What `receiver_class` may find for `receiver` in `func` (see the module docs)."""
        kind = type(receiver)
        if kind is ast.Name:
            return self._name(receiver.id, func)
        if kind is ast.Attribute:
            head = receiver
            while type(head) is ast.Attribute:
                head = head.value
            if type(head) is not ast.Name:
                return NOTHING if type(head) in (ast.Subscript, ast.Await, ast.Constant) else ANY
            scope = self._binder(head.id, func)
            if scope is not None:
                # an attribute of a local: "Repo().db" never ends with "()"; `self.repo` may
                if head.id in scope.names.import_names:
                    return self._imported_in(scope, ast_dotted(receiver))
                if not (scope.receiver and scope.receiver[1] == head.id):
                    return NOTHING
                if scope is func:
                    if receiver.value is not head:
                        return NOTHING  # `self.a.b`: "<origin of self.a>.b" or None, no class's name
                    if func.top_class is not None:
                        return self._self_attribute_kinds(func.top_class, receiver.attr, func)
                elif type(func.node) is not ast.Lambda:  # type: ignore[union-attr]
                    # `self` of the method around a nested def: `enclosing_class` is None there
                    # (the innermost def is not a method), and `self` a parameter with no origin
                    return NOTHING
                return ANY
            return self._global(ast_dotted(receiver))
        if kind is ast.Call:
            return ANY if _makes_class_(receiver) else self._called(receiver.func, func)
        if kind is ast.BinOp:
            # `Path(...) / name` has the origin of its left side (if it ends with "()"); no
            # other operation has one
            if type(receiver.op) is not ast.Div:
                return NOTHING
            left = receiver.left
            if type(left) is ast.Name and func is not None and func.receiver and func.receiver[1] == left.id:
                # `self / x`: `origin` reads `self` as the parameter it is (`self: Repo`), not
                # as `receiver_class` does (the class of the method)
                return self._parameter(left.id, func)
            return self.kinds(left, func)
        if kind is ast.Subscript or kind in _NO_ORIGIN:
            return NOTHING
        return ANY

    def held_by_self(self, func: _Function, attr: str) -> Kinds:
        """What `self.attr` may hold in a method (`func`): `_self_attribute_kinds` for a
        module-level class, ANY for another (not read here)."""
        if func.top_class is None:
            return ANY
        return self._self_attribute_kinds(func.top_class, attr, func)

    def _self_attribute_kinds(self, cls: ast.ClassDef, attr: str, func: _Function) -> Kinds:
        """What `receiver_class` may find for `self.attr` in a method of a module-level class:
        `flow.self_attributes` read as `_Resolver.values_origin` reads them. The annotations of
        `attr` (in the class body or on `self.attr` in a method) win, read where the call is;
        else each value assigned to it in the class body (read where the call is) or to
        `self.attr` in a method (read in that method). An attribute the class assigns nowhere
        has no origin: nothing."""
        return self._read_self_attribute(cls, attr, func, lambda a: self._annotation(a, func), self.kinds)

    def _read_self_attribute(self, cls: ast.ClassDef, attr: str, func: _Function,
                             annotated: Callable[[ast.expr], Kinds],
                             assigned: Callable[[ast.expr, _Function], Kinds]) -> Kinds:
        """The union of `annotated(annotation)` over the annotations of `self.attr` if any,
        else of `assigned(value, where it is read)` over the values assigned to it."""
        key = (id(cls), attr)
        if key in self._reading:
            return ANY  # `self.a = self.b` and back: `values_origin` stops; so does this reading
        annotations, values = self._class_attributes(cls).get(attr, ((), ()))
        self._reading.add(key)
        try:
            out: Set[str] = set()
            for found in ([annotated(a) for a in annotations] if annotations else
                          (assigned(v, func if m is None else self._method(m, cls)) for v, m in values)):
                if found is ANY:
                    return ANY
                out |= found  # type: ignore[arg-type]
            return frozenset(out)
        finally:
            self._reading.discard(key)

    def _class_attributes(self, cls: ast.ClassDef) -> Dict[str, Tuple[list, list]]:
        """attr -> (annotations, [(value, the method assigning it or None)]), as
        `flow.self_attributes` collects them: the class body's `attr: T` and `attr = v`,
        and `self.attr = v` / `self.attr: T = v` in its methods' own statements."""
        found = self._attributes.get(id(cls))
        if found is not None:
            return found
        out: Dict[str, Tuple[list, list]] = {}

        def add(name: str, annotation=None, value=None, method=None) -> None:
            anns, values = out.setdefault(name, ([], []))
            if annotation is not None:
                anns.append(annotation)
            if value is not None:
                values.append((value, method))

        for stmt in ast_block_statements(cls.body):
            kind = type(stmt)
            if kind is ast.AnnAssign:
                if type(stmt.target) is ast.Name:
                    add(stmt.target.id, annotation=stmt.annotation)
            elif kind is ast.Assign:
                for t in stmt.targets:
                    if type(t) is ast.Name:
                        add(t.id, value=stmt.value)
            elif kind in _FUNCTIONS:
                first = first_parameter(stmt)
                if first is None:
                    continue
                for inner in ast_block_statements(stmt.body):
                    if type(inner) is ast.Assign:
                        targets = [(t, None, inner.value) for t in inner.targets]
                    elif type(inner) is ast.AnnAssign:
                        targets = [(inner.target, inner.annotation, inner.value)]
                    else:
                        continue
                    for target, annotation, value in targets:
                        if type(target) is ast.Attribute and type(target.value) is ast.Name \
                                and target.value.id == first:
                            add(target.attr, annotation, value, stmt)
        self._attributes[id(cls)] = out
        return out

    def _method(self, method, cls: ast.ClassDef) -> _Function:
        """The `_Function` of a method of a module-level class."""
        found = self._methods.get(id(method))
        if found is None:
            found = self._methods[id(method)] = _Function(method, (cls.name, True, cls), None, self.module)
        return found

    def function_kinds(self, name: str, func: Optional[_Function]) -> Kinds:
        """What `project_qualname` may make of a call by a bare name: a name the module binds
        by an import or a def, resolved; one a def binds otherwise (a parameter, a local) is
        nothing (the lint resolves only imports and the module's own defs); a name the def
        binds by imports alone, resolved as well; one it binds by an import and otherwise,
        `global`: ANY."""
        scope = self._binder(name, func)
        if scope is None:
            return self._global(name)
        if name in scope.names.import_names:
            return self._imported_in(scope, name)
        return ANY if name in scope.names.other else NOTHING

    @staticmethod
    def _imported_in(scope: _Function, dotted: Optional[str]) -> Kinds:
        """What `ctx.qualname` makes of a dotted name whose head a def binds by an import
        (`from m import f` in the def: "f.x" -> "m.f.x"): ANY when the def binds it otherwise
        too (`scope_bindings` then knows no target)."""
        if not dotted:
            return ANY
        head, _, rest = dotted.partition(".")
        qual = scope.names.imported.get(head)
        if qual is None or head in scope.params or head in scope.star_params:
            return ANY
        return frozenset({qual + (f".{rest}" if rest else "")})

    def _binder(self, name: str, func: Optional[_Function]) -> Optional[_Function]:
        while func is not None:
            if func.binds(name):
                return func
            func = func.outer
        return None

    def _name(self, name: str, func: Optional[_Function]) -> Kinds:
        scope = self._binder(name, func)
        if scope is None:
            return self._global(name)
        if scope is func and func.receiver and func.receiver[1] == name:
            # `receiver_class`: an instance of the class if the module's; else the origin of
            # a parameter without annotation: nothing
            return frozenset({self.prefix + func.receiver[0]}) if func.receiver[2] else NOTHING
        # a closure's variable too: `name_origin` reads the def that binds it (its parameter's
        # annotation where the call is, its values in that def)
        if name in scope.star_params and scope.names.binds(name):
            return ANY  # `*args` bound again: `_binding_values` reads the body's values
        if name in scope.star_params or name in scope.params:
            return self._parameter(name, scope, func)
        if name in scope.names.import_names:
            return self._imported_in(scope, name)
        return self._bound(scope.names, name, scope)  # values are read in the def that binds them

    def _parameter(self, name: str, func: _Function, at: Optional[_Function] = None) -> Kinds:
        """The classes `name_origin` may give a parameter of `func`: its annotation's (read in
        `at`, the def the call is in: a closure's), or (without one, or `Any`) what a
        `Depends(...)` default may give. `*args`/`**kwargs` the same way: `name_origin` reads
        their annotation as the parameter's type."""
        at = at or func
        annotation, default = (func.star_params[name], None) if name in func.star_params else func.params[name]
        if annotation is None or self._is_any(annotation, at):
            # `name_origin` reads the default then: Depends(...) may type it
            return ANY if isinstance(default, ast.Call) else NOTHING
        if isinstance(default, ast.Call) and not _plain_type(annotation):
            return ANY  # `A | B`, `Union[...]`: `unwrap_annotation` may give nothing, and the default is read
        return self._annotation(annotation, at)

    def _is_any(self, annotation: ast.expr, func: _Function) -> bool:
        """`typing.Any` (or `object`) by the module's imports: `name_origin` passes over it."""
        dotted = ast_dotted(annotation)
        if dotted is None or self._binder(dotted.partition(".")[0], func) is not None:
            return False
        return dotted == "object" or self._global(dotted) == _TYPING_ANY

    def _annotated(self, names: "_Bindings", name: str, func: Optional[_Function]) -> Kinds:
        """The classes of a name's annotations in a scope (they win over its values)."""
        out: Set[str] = set()
        for ann in names.annotations[name]:
            found = self._annotation(ann, func)
            if found is ANY:
                return ANY
            out |= found  # type: ignore[arg-type]
        return frozenset(out)

    def _bound(self, names: "_Bindings", name: str, func: Optional[_Function]) -> Kinds:
        """What `values_origin` (and `_binding_values`) can make of a name bound in a scope."""
        if name in names.other:
            return ANY
        if name in names.annotations:  # a declared type wins over the assigned values
            return self._annotated(names, name, func)
        if name in names.unknown:
            return NOTHING  # `values_origin` gives None for any unknown value
        out: Set[str] = set()
        for value in names.values.get(name, ()):
            if type(value) in _NO_ORIGIN or type(value) is ast.Subscript:  # "x[]" is no instance
                continue
            if type(value) is ast.Attribute and _head(value) is not None \
                    and self._binder(_head(value), func) is not None:  # type: ignore[arg-type]
                if self._self_attribute(value, func):
                    return ANY
                continue  # "<origin of a local>.x" ends with no "()"
            if type(value) is ast.Name:
                found = self._followed(value.id, func)  # `values_origin` reads that name's origin
            elif type(value) is ast.Call:
                found = ANY if _makes_class_(value) else self._called(value.func, func)
            else:
                return ANY
            if found is ANY:
                return ANY
            out |= found  # type: ignore[arg-type]
        return frozenset(out)

    def _followed(self, name: str, func: Optional[_Function]) -> Kinds:
        """`_name` for a name another one is bound to; ANY for a name met again on the way."""
        key = (id(func), name)
        if key in self._following:
            return ANY
        self._following.add(key)
        try:
            return self._name(name, func)
        finally:
            self._following.discard(key)

    def _called(self, callee: ast.expr, func: Optional[_Function]) -> Kinds:
        """Classes a call of `callee` may construct (or functions it may be)."""
        dotted = ast_dotted(callee)
        if dotted is None:
            # `x[0]()`, `f()()`, `a[k].get()`, `(await f)()`: the origin of such a callee holds
            # "(" ("<origin>[]", "<origin>()", "<origin>.get") or is None or awaited, and
            # `project_qualname` names none of them: no class's name. Except a session
            # factory's `class_=`: `async_sessionmaker(class_=S)()` is an S
            inner = callee
            while type(inner) in (ast.Call, ast.Attribute, ast.Subscript, ast.Await):
                if type(inner) is ast.Call and _makes_class_(inner):
                    return ANY
                inner = inner.func if type(inner) is ast.Call else inner.value
            return NOTHING
        scope = self._binder(dotted.partition(".")[0], func)
        if scope is not None:
            if dotted.partition(".")[0] in scope.names.import_names:
                return self._imported_in(scope, dotted)
            cls = _own_class(callee, func) if type(callee) is ast.Attribute else None
            if cls is not None:
                # `self.factory()` in a method: `origin` reads what the class assigns `factory`
                return self._self_attribute_kinds(cls, callee.attr, func)
            if "." not in dotted and scope is func and dotted in func.params \
                    and not (func.receiver and func.receiver[1] == dotted) and self._parameter(dotted, func) is NOTHING:
                return NOTHING  # `make()` of a parameter with no origin (`pytest.mark.parametrize`)
            # `factory()`: what the local holds. `a.b()`: "<origin of a>.b()" (or None), no
            # class's name, except `self.factory()`, which a method may assign a class
            return ANY if "." not in dotted or self._self_attribute(callee, func) else NOTHING
        return self._global(dotted)

    @staticmethod
    def _self_attribute(expr: ast.expr, func: Optional[_Function]) -> bool:
        """`self.x` in a method (`_Resolver.origin` reads what the methods assign it), or an
        attribute of a name an enclosing def binds (not followed here)."""
        head = _head(expr)
        if type(expr) is not ast.Attribute or head is None or func is None:
            return False
        if not func.binds(head):
            return True
        return type(expr.value) is ast.Name and bool(func.receiver and func.receiver[1] == head)

    def _annotation(self, ann: ast.expr, func: Optional[_Function], depth: int = 0) -> Kinds:
        if depth > 4:
            return ANY
        if type(ann) is ast.Constant and type(ann.value) is str:
            try:
                return self._annotation(ast.parse(ann.value, mode="eval").body, func, depth + 1)
            except (SyntaxError, ValueError, RecursionError, MemoryError):  # as `engine.gate` parses
                return ANY
        if type(ann) is ast.Subscript:
            dotted = ast_dotted(ann.value)
            if not dotted or self._binder(dotted.partition(".")[0], func) is not None:
                return ANY
            base = self._global(dotted)  # `Repo[T]` is a Repo
            if base is ANY:
                return base
            if dotted.rpartition(".")[2] not in _WRAPPERS and not any(  # `Optional as Opt` too
                    q.rpartition(".")[2].rstrip("()") in _WRAPPERS for q in base):
                return base
            first = ann.slice.elts[0] if type(ann.slice) is ast.Tuple and ann.slice.elts else ann.slice
            inner = self._annotation(first, func, depth + 1)
            return ANY if inner is ANY else base | inner  # type: ignore[operator]
        if type(ann) is ast.BinOp and type(ann.op) is ast.BitOr:
            out: Set[str] = set()
            for side in (ann.left, ann.right):
                if type(side) is ast.Constant and side.value is None:
                    continue
                found = self._annotation(side, func, depth + 1)
                if found is ANY:
                    return ANY
                out |= found  # type: ignore[arg-type]
            return frozenset(out)
        dotted = ast_dotted(ann)
        if dotted is None:
            return ANY
        if dotted in ("Any", "object") or dotted.endswith((".Any", ".object")):
            return ANY  # `dependency_origin` reads the default instead
        head = dotted.partition(".")[0]
        if self._binder(head, func) is not None:
            return ANY  # a local class or type variable: `dependency_origin` may read the default
        if self._assigned(head) and head not in self.imports:
            # `unwrap_annotation`: a module-level alias `Db = Annotated[Session, Depends(f)]`
            values = self.names.values.get(head, [])
            if dotted == head and len(values) == 1 and type(values[0]) is ast.Subscript \
                    and head not in self.names.annotations and head not in self.names.other:
                return self._annotation(values[0], None, depth + 1)
            return ANY
        return self._global(dotted)

    def _global(self, dotted: Optional[str]) -> Kinds:
        """The qualified name a dotted name spells at module level (imports, the module's
        own defs and classes), or NOTHING for an unshadowed builtin, or ANY. A module-level
        value is read at module level, as `name_origin` reads it."""
        if not dotted:
            return ANY
        head, _, rest = dotted.partition(".")
        names = self.names
        assigned = self._assigned(head)
        if head in self.imports:
            qual = self.imports[head]
            if qual is None or assigned or head in self.defs:
                return ANY
            return frozenset({qual + (f".{rest}" if rest else "")})
        if head in self.defs:
            return frozenset({self.prefix + dotted}) if self.defs[head] == 1 and not assigned else ANY
        if assigned:
            if rest:
                # an attribute of a module-level value: "Repo().db" never ends with "()", and
                # `project_qualname` names only the module's defs
                return ANY if head in names.other else NOTHING
            return self._bound(names, head, None)
        if head in _BUILTINS:
            return NOTHING
        return ANY

    # ------------------------------------------------------------------ origins (FPI202)
    def origins(self, receiver: ast.expr, func: Optional[_Function], depth: int = 0) -> Kinds:
        """The origins (`flow._Resolver.origin`, "await " taken off as `framework_async`
        does) `receiver` may have that end with "()", the only ones a catalogue of framework
        methods can list: `httpx.AsyncClient()` from a parameter's annotation, a call of an
        imported name, the awaited result of one; ANY for what this reading does not follow
        (calls of calls, `self.client`, values of other names)."""
        if depth > 8:
            return ANY
        kind = type(receiver)
        if kind is ast.Await:
            return self.origins(receiver.value, func, depth + 1)
        if kind is ast.Call:
            dotted = ast_dotted(receiver.func)
            if dotted is None or any(k.arg == "class_" for k in receiver.keywords):
                return ANY  # a call's call; `sessionmaker(class_=C)` gives C
            head, _, rest = dotted.partition(".")
            scope = self._binder(head, func)
            if scope is not None and head in scope.names.import_names:
                found = self._imported_in(scope, dotted)  # `import httpx` in the def
                return found if found is ANY else frozenset(q + "()" for q in found)  # type: ignore[union-attr]
            if scope is not None and scope.receiver and scope.receiver[1] == head and rest and "." not in rest:
                # `self.factory()`: what the methods assign it (`async_sessionmaker()()`); in a
                # method of a class that assigns it nothing (`self.load()` of a def), no origin
                return NOTHING if self._unassigned_on_self(receiver.func, func) else ANY
            if head in (scope.names if scope is not None else self.names).other and self._imported_anywhere(head, func):
                return ANY  # `global`, walrus, a comprehension's or `match`'s name: the rules may read the import
            if scope is not None or self._assigned(head):
                # a method of a local or module-level value: "<its origin>.m()", which only
                # catalogue origins such as "asyncpg.create_pool().acquire()" can be
                return ANY if not rest or dotted.rpartition(".")[2] in _CHAINED_METHODS else NOTHING
            if head in self.defs:
                return frozenset({self.prefix + dotted + "()"})
            qual = self.imports.get(head)
            if qual is None:
                # in a def, a name no scope binds is a builtin (`ModuleContext.resolve_name`):
                # `open(p)` is "builtins.open()" (a class body, where `func` is None, may bind it)
                return frozenset({f"builtins.{dotted}()"}) if func is not None and head in _BUILTINS else ANY
            return frozenset({qual + (f".{rest}" if rest else "") + "()"})
        if kind is ast.Attribute:
            head = _head(receiver)
            if head is not None and type(receiver.value) is ast.Name:
                scope = self._binder(head, func)
                if scope is not None and scope.receiver and scope.receiver[1] == head:
                    # `self.client`: what the class assigns it (`_Resolver.values_origin`)
                    if scope is func and func.top_class is not None:
                        return self._self_attribute_origins(func.top_class, receiver.attr, func, depth)
                    return ANY
            return NOTHING  # "<origin>.attr" or a qualified name: neither ends with "()"
        if kind is ast.Name:
            return self._name_origins(receiver.id, func, depth)
        if kind is ast.Subscript or kind in _NO_ORIGIN:
            return NOTHING
        return ANY

    def _self_attribute_origins(self, cls: ast.ClassDef, attr: str, func: _Function, depth: int) -> Kinds:
        """`origins` of `self.attr` in a method of a module-level class, read as
        `_self_attribute_kinds` reads it: the annotations win (instances of them), else each
        value assigned (read in the method assigning it); nothing for an attribute the class
        assigns nowhere."""
        return self._read_self_attribute(cls, attr, func, lambda a: _instances(self._annotation(a, func)),
                                         lambda v, where: self.origins(v, where, depth + 1))

    def _unassigned_on_self(self, attribute: ast.Attribute, func: Optional[_Function]) -> bool:
        """`self.attr` read in the method `func` itself, of a module-level class that assigns
        `attr` nowhere (`_class_attributes`): `flow._Resolver.origin` finds no value, no origin."""
        cls = _own_class(attribute, func)
        return cls is not None and attribute.attr not in self._class_attributes(cls)

    def _imported_anywhere(self, name: str, func: Optional[_Function]) -> bool:
        """An import binds `name` at module level or in a def around `func`."""
        while func is not None:
            if name in func.names.import_names:
                return True
            func = func.outer
        return name in self.imports

    def _assigned(self, head: str) -> bool:
        names = self.names
        return head in names.values or head in names.annotations or head in names.other \
            or (head in names.unknown and head not in self.defs)

    def _name_origins(self, name: str, func: Optional[_Function], depth: int) -> Kinds:
        scope = self._binder(name, func)
        if scope is None:
            if name in self.imports or name in self.defs or name in _BUILTINS:
                # an import's or a def's qualified name, "builtins.x": no "()" at the end
                return ANY if self._assigned(name) else NOTHING
            if not self._assigned(name):
                return ANY
            return self._values_origins(self.names, name, None, depth)
        if scope is not func:
            return ANY
        if name in func.star_params or name in func.params:
            return _instances(self._parameter(name, func))
        return self._values_origins(func.names, name, func, depth)

    def _values_origins(self, names: _Bindings, name: str, func: Optional[_Function], depth: int) -> Kinds:
        if name in names.other:
            return ANY
        if name in names.annotations:
            return _instances(self._annotated(names, name, func))
        if name in names.unknown:
            return NOTHING
        out: Set[str] = set()
        for value in names.values.get(name, ()):
            found = self.origins(value, func, depth + 1)
            if found is ANY:
                return ANY
            out |= found  # type: ignore[arg-type]
        return frozenset(out)


def own_names(facts, index, module) -> Optional[FrozenSet[str]]:
    """What a tree gate reading the project index must take as maybe anything, or None when it
    cannot read the index as the rule will (no index; a module the index does not hold: the
    rule reads another, `project_index_for`). A file without a module name (a script, an
    alembic revision) is in the index unprefixed, and the rule's index holds its own summary
    over any other's of the same names: a name of its own defs and classes, or a qualified
    name headed by one, may be what the rule finds (the gate takes it as maybe). A named
    module: nothing (its names are prefixed, and the index is the rule's)."""
    name, _ = module
    if index is None:
        return None
    if name:
        return frozenset() if name in index.modules else None
    return facts.function_defs | facts.class_defs


def own_kind(kinds, own: FrozenSet[str]) -> bool:
    """`kinds` (qualified names) may name something of a nameless file's own (`own_names`)."""
    return bool(own) and any(q.partition(".")[0] in own for q in kinds)


def _own_class(attribute: ast.Attribute, func: Optional[_Function]) -> Optional[ast.ClassDef]:
    """For `self.attr` read in the method `func` itself (on its own first parameter), the
    module-level class the method is of: where `flow._Resolver.origin` reads what the class
    assigns `attr` (`self_attributes`). None elsewhere."""
    if func is not None and func.top_class is not None and func.receiver is not None \
            and type(attribute.value) is ast.Name and func.receiver[1] == attribute.value.id:
        return func.top_class
    return None


def _makes_class_(call: ast.Call) -> bool:
    """`sessionmaker(..., class_=S)`: `flow.origin` gives the factory the class S, so what
    calling it makes is an S, whatever the factory's name (this reading does not follow it)."""
    return any(k.arg == "class_" for k in call.keywords)


def _plain_type(annotation: ast.expr) -> bool:
    """`T`, `T | None`, `Optional[T]`, `Annotated[T, ...]` for a dotted `T`: what
    `unwrap_annotation` reads as `T` (it may read nothing of other forms)."""
    if type(annotation) is ast.BinOp and type(annotation.op) is ast.BitOr:
        sides = [annotation.left, annotation.right]
        if not any(type(s) is ast.Constant and s.value is None for s in sides):
            return False
        annotation = next(s for s in sides if not (type(s) is ast.Constant and s.value is None))
    elif type(annotation) is ast.Subscript:
        base = ast_dotted(annotation.value)
        if not base or base.rpartition(".")[2] not in _WRAPPERS:
            return False
        inner = annotation.slice
        annotation = inner.elts[0] if type(inner) is ast.Tuple and inner.elts else inner
    return ast_dotted(annotation) is not None


def _instances(classes: Kinds) -> Kinds:
    """The origins of instances of `classes`: "httpx.AsyncClient" -> "httpx.AsyncClient()"."""
    return classes if classes is ANY else frozenset(q + "()" for q in classes)  # type: ignore[union-attr]


def _head(expr: ast.expr) -> Optional[str]:
    """The name an attribute chain starts from."""
    while type(expr) is ast.Attribute:
        expr = expr.value
    return expr.id if type(expr) is ast.Name else None
