"""Names and what they are bound to, without libcst's (slow) scope providers.

A scope's bindings are found by a statement-level scan of its body that does not enter
nested functions or classes. Each bound name maps to the qualified name it imports
(`sleep` -> `time.sleep`) or to None when it is bound to anything else (an assignment,
a parameter, a `def`), which shadows any import or builtin of the same name.
"""

from __future__ import annotations

import builtins
from typing import Dict, Iterator, List, Optional, Sequence, Union

import libcst as cst

from fastapi_lint.model.names import resolve_relative_name  # noqa: F401  (imported from here too)

BUILTIN_NAMES = frozenset(dir(builtins))

Bindings = Dict[str, Optional[str]]


def dotted_name(node: Union[cst.BaseExpression, cst.ImportFrom, None]) -> Optional[str]:
    """`a.b.c` (Name/Attribute chain) as a string, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def resolve_relative(module: Optional[cst.BaseExpression], level: int, current_module: Optional[str],
                     is_package: bool) -> Optional[str]:
    """`resolve_relative_name` for libcst's ImportFrom.module."""
    name = dotted_name(module) if module is not None else None
    return resolve_relative_name(name, level, current_module, is_package)


def iter_block_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement in `body`, entering compound statements but not function or class bodies.

    Yields simple statements' small statements (Assign, Import, ...) and compound statements
    themselves (FunctionDef, ClassDef, For, With, ...).
    """
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
            continue
        yield stmt
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        yield from _compound_children(stmt)


def _suite_body(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body  # IndentedBlock.body or SimpleStatementSuite.body


def _compound_children(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield from iter_block_statements(_suite_body(body))
    for handler in getattr(stmt, "handlers", ()) or ():
        yield handler
        yield from iter_block_statements(_suite_body(handler.body))
    for case in getattr(stmt, "cases", ()) or ():
        yield from iter_block_statements(_suite_body(case.body))
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield orelse
        yield from _compound_children(orelse)
    elif orelse is not None:
        yield from iter_block_statements(_suite_body(orelse.body))
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield from iter_block_statements(_suite_body(final.body))


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


def import_bindings(stmt: Union[cst.Import, cst.ImportFrom], current_module: Optional[str],
                    is_package: bool) -> Iterator[tuple]:
    """(bound name, qualified name or None) pairs of one import statement."""
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None:
                yield alias.asname.name.value, full
            else:
                first = full.split(".")[0]
                yield first, first
        return
    if isinstance(stmt.names, cst.ImportStar):
        return
    base = resolve_relative(stmt.module, len(stmt.relative), current_module, is_package)
    for alias in stmt.names:
        name = alias.name.value if isinstance(alias.name, cst.Name) else dotted_name(alias.name)
        bound = alias.asname.name.value if alias.asname is not None else name
        yield bound, (f"{base}.{name}" if base else None)


def scope_bindings(body: Sequence[cst.CSTNode], current_module: Optional[str], is_package: bool,
                   params: Optional[cst.Parameters] = None) -> Bindings:
    """The names a function or module body binds, each to its import or to None."""
    bound: Bindings = {}
    declared_outer = set()

    def bind(name: str, qual: Optional[str] = None) -> None:
        # A name bound both by an import and otherwise is not reliably the import.
        if name in bound and bound[name] != qual:
            bound[name] = None
        else:
            bound[name] = qual

    if params is not None:
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            bind(p.name.value)
        for p in (params.star_arg, params.star_kwarg):
            if isinstance(p, cst.Param):
                bind(p.name.value)

    for stmt in iter_block_statements(body):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)):
            for name, qual in import_bindings(stmt, current_module, is_package):
                bind(name, qual)
        elif isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                for n in _target_names(t.target):
                    bind(n)
        elif isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
            for n in _target_names(stmt.target):
                bind(n)
        elif isinstance(stmt, (cst.For,)):
            for n in _target_names(stmt.target):
                bind(n)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    for n in _target_names(item.asname.name):
                        bind(n)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bind(stmt.name.value)
        elif isinstance(stmt, (cst.ExceptHandler, cst.ExceptStarHandler)):
            if stmt.name is not None and isinstance(stmt.name.name, cst.Name):
                bind(stmt.name.name.value)
        elif isinstance(stmt, (cst.Global, cst.Nonlocal)):
            for n in stmt.names:
                declared_outer.add(n.name.value)
    for name in declared_outer:
        bound.pop(name, None)
    return bound


def find_param(func: Union[cst.FunctionDef, cst.Lambda], name: str) -> Optional[cst.Param]:
    """The parameter of `func` called `name` (any kind: positional-only, keyword-only, *args, **kw)."""
    p = func.params
    for param in (*p.posonly_params, *p.params, *p.kwonly_params):
        if param.name.value == name:
            return param
    for param in (p.star_arg, p.star_kwarg):
        if isinstance(param, cst.Param) and param.name.value == name:
            return param
    return None


def own_nodes(root: cst.CSTNode, types: tuple) -> List[cst.CSTNode]:
    """Nodes of the given types under `root` (a function, or a block) that belong to it: not
    inside nested defs, lambdas or classes."""
    from fastapi_lint.traverse import SYNTAX_ONLY, visit_readonly

    found: List[cst.CSTNode] = []
    syntax = any(issubclass(t, tuple(SYNTAX_ONLY)) for t in types)
    visit_readonly(root, (_OwnNodesWithSyntax if syntax else _OwnNodes)(root, types, found))
    return found


class _OwnNodes(cst.CSTVisitor):
    """`own_nodes`' walk. Classes of the module, not one made per call: such a class lives in
    a reference cycle with what its methods close over, the nodes included, until a full
    garbage collection."""

    SKIPS_SYNTAX = True

    def __init__(self, root: cst.CSTNode, types: tuple, found: List[cst.CSTNode]) -> None:
        super().__init__()
        self.root, self.types, self.found = root, types, found

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.types):
            self.found.append(node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not self.root:
            return False
        return True


class _OwnNodesWithSyntax(_OwnNodes):
    SKIPS_SYNTAX = False


def decorator_callee(dec: cst.Decorator) -> cst.BaseExpression:
    """What a decorator names: `cache` for `@cache`, `lru_cache` for `@lru_cache(maxsize=1)`."""
    return dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
