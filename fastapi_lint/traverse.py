"""A read-only traversal of a libcst tree, without libcst's per-node rebuild.

`node.visit(visitor)` with a plain `CSTVisitor` still calls `_visit_and_replace_children`,
which constructs (and validates) a new copy of every node of the tree: on real code that
costs about as much as the parse itself. A linter only reads the tree, so `walk` goes down
the same children in the same order (source order, exactly as libcst visits them) and
hands out the original nodes, with no copy and no recursion (a 1,000-deep expression
does not hit Python's recursion limit).

The child order of each node type is read once from the field names its
`_visit_and_replace_children` passes to libcst's `visit_*` helpers; a node type whose
order cannot be read that way falls back to libcst's own `node.children`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import weakref
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional, Tuple

import libcst as cst

_VISIT_HELPERS = {"visit_required", "visit_optional", "visit_sentinel", "visit_iterable",
                  "visit_sequence", "visit_body_iterable", "visit_body_sequence"}

#: node type -> its child fields in visiting order (None: use libcst's `children`).
_ORDER: Dict[type, Optional[Tuple[str, ...]]] = {}


def _libcst_version() -> str:
    try:
        from libcst._version import __version__
    except ImportError:  # pragma: no cover - every libcst 1.x has it
        return ""
    return str(__version__)


def order_table() -> Dict[str, Optional[Tuple[str, ...]]]:
    """`_read_order` of every node type libcst exports, by name: what `_cst_order.py` holds."""
    return {name: _read_order(cls) for name, cls in sorted(vars(cst).items())
            if isinstance(cls, type) and issubclass(cls, cst.CSTNode) and not inspect.isabstract(cls)}


def _preload() -> None:
    """Reading the orders from libcst's source costs about 40 ms per process (the first walk
    of each run); `_cst_order.py` holds them for the libcst version it was generated with
    (`python -m fastapi_lint.traverse > fastapi_lint/_cst_order.py`). Another version reads
    them from the source, as before."""
    try:
        from fastapi_lint._cst_order import LIBCST_VERSION, ORDER
    except ImportError:  # pragma: no cover
        return
    if LIBCST_VERSION != _libcst_version():
        return
    for name, order in ORDER.items():
        cls = getattr(cst, name, None)
        if isinstance(cls, type):
            _ORDER[cls] = order


def _read_order(cls: type) -> Optional[Tuple[str, ...]]:
    method = getattr(cls, "_visit_and_replace_children", None)
    if method is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    names: List[str] = []

    class _Calls(ast.NodeVisitor):
        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if fname in _VISIT_HELPERS and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                if node.args[1].value not in names:  # `a if x else b` visits one field twice
                    names.append(node.args[1].value)
            self.generic_visit(node)

    _Calls().visit(tree)
    # A method that visits children some other way (none in libcst 1.x) is not guessed at.
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.FunctionDef) else []
    mentions_visitor = "visitor" in ast.unparse(ast.Module(body=body, type_ignores=[])) if body else True
    if not names and mentions_visitor:
        return None
    return tuple(names)


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The children of `node`, in the order libcst visits them, without copying anything."""
    cls = type(node)
    try:
        order = _ORDER[cls]
    except KeyError:
        order = _ORDER[cls] = _read_order(cls)
    if order is None:
        return list(node.children)
    out: List[cst.CSTNode] = []
    for name in order:
        value = getattr(node, name)
        kind = type(value)
        if kind in _NODE_TYPES:
            out.append(value)
        elif kind is tuple or kind is list:
            out.extend([v for v in value if type(v) in _NODE_TYPES or _is_node(v)])
        elif value is not None and kind is not _MAYBE and _is_node(value):
            out.append(value)
    return out


def _node_types() -> set:
    found = set()
    todo = [cst.CSTNode]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(c for c in cls.__subclasses__() if c not in found)
    return found


#: Every CSTNode class: `type(v) in _NODE_TYPES` is several times cheaper than
#: `isinstance(v, cst.CSTNode)`, which goes through ABCMeta's `__instancecheck__`.
_NODE_TYPES = _node_types()
_MAYBE = type(cst.MaybeSentinel.DEFAULT)


def _is_node(value: object) -> bool:
    """A node of a class defined after the table was made (a subclass): learnt once."""
    if isinstance(value, cst.CSTNode):
        _NODE_TYPES.add(type(value))
        return True
    return False


#: Nodes that only hold whitespace, comments and newlines: no rule reads inside them.
TRIVIA = frozenset({cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace,
                    cst.EmptyLine, cst.Newline, cst.Comment})


def _syntax_nodes() -> frozenset:
    operators = (cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp)
    found = set(TRIVIA)
    for name in dir(cst):
        cls = getattr(cst, name)
        if isinstance(cls, type) and issubclass(cls, operators) and not inspect.isabstract(cls):
            found.add(cls)
    found |= {cst.Dot, cst.Comma, cst.AssignEqual, cst.Colon, cst.Semicolon, cst.LeftParen, cst.RightParen,
              cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
              cst.Asynchronous}
    return frozenset(found)


#: Trivia plus punctuation and operator tokens (a quarter of a typical tree): a rule reads
#: them as attributes of their parent (`node.operator`), so a walk need not visit them
#: unless some visitor has a method for their type.
SYNTAX_ONLY = _syntax_nodes()


def skipped_types(method_names) -> frozenset:
    """The SYNTAX_ONLY types that no `visit_X`/`leave_X` in `method_names` asks for."""
    wanted = {name.partition("_")[2] for name in method_names if name.startswith(("visit_", "leave_"))}
    return frozenset(t for t in SYNTAX_ONLY if t.__name__ not in wanted)


_SKIPPED_BY_CLASS: "weakref.WeakKeyDictionary[type, frozenset]" = weakref.WeakKeyDictionary()


def _skipped_for(cls: type) -> frozenset:
    """What `visit_readonly` leaves out for a visitor class: the SYNTAX_ONLY types it has no
    method for. libcst's own classes (CSTVisitor has a no-op method for every type) do not
    count. A class that overrides `on_visit`/`on_leave` sees every node, unless it says
    `SKIPS_SYNTAX = True` (it reads no punctuation, operator or trivia node there)."""
    found = _SKIPPED_BY_CLASS.get(cls)
    if found is None:
        own = {name for c in cls.__mro__ if not c.__module__.startswith("libcst") for name in vars(c)}
        if ("on_visit" in own or "on_leave" in own) and not getattr(cls, "SKIPS_SYNTAX", False):
            found = frozenset()
        else:
            found = skipped_types(own)
        _SKIPPED_BY_CLASS[cls] = found
    return found


def handlers(cls: type, prefix: str) -> Dict[str, Callable]:
    """type name -> the class's `visit_<type>` (or `leave_<type>`) function, computed once per
    class: libcst's `on_visit` formats and looks up the method name at every node."""
    table = cls.__dict__.get(f"_handlers_{prefix}")
    if table is None:
        table = {name[len(prefix):]: getattr(cls, name) for name in dir(cls)
                 if name.startswith(prefix) and callable(getattr(cls, name))}
        setattr(cls, f"_handlers_{prefix}", table)
    return table


def walk(root: cst.CSTNode, on_visit: Callable[[cst.CSTNode], bool],
         on_leave: Callable[[cst.CSTNode], None], skip: FrozenSet[type] = frozenset()) -> None:
    """Depth-first, in source order: on_visit(node) (False: skip its children), then on_leave(node).

    Nodes whose type is in `skip` (e.g. TRIVIA) are left out with everything under them.
    """
    stack: List[Tuple[cst.CSTNode, bool]] = [(root, False)]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node, leaving = pop()
        if leaving:
            on_leave(node)
            continue
        if on_visit(node):
            push((node, True))
            kids = children(node)
            if skip:
                kids = [k for k in kids if type(k) not in skip]
            if kids:
                extend([(k, False) for k in reversed(kids)])
        else:
            on_leave(node)


def preorder(root: cst.CSTNode, skip: FrozenSet[type] = frozenset()) -> Iterator[cst.CSTNode]:
    """The nodes `walk` visits, in its order, without the callbacks."""
    stack = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        yield node
        kids = children(node)
        extend([k for k in reversed(kids) if type(k) not in skip] if skip else reversed(kids))


def walk_with_ancestors(root: cst.CSTNode, visit: Callable[[cst.CSTNode, List[cst.CSTNode]], bool],
                        skip: FrozenSet[type] = frozenset()) -> None:
    """`walk`, calling `visit(node, ancestors)` (root first, the parent last; the list changes
    as the walk goes on: copy it to keep it). False: skip the node's children."""
    stack: List[cst.CSTNode] = []

    def on_visit(node: cst.CSTNode) -> bool:
        if visit(node, stack):
            stack.append(node)
            return True
        return False

    def on_leave(node: cst.CSTNode) -> None:
        if stack and stack[-1] is node:  # else its children were skipped: it was never pushed
            stack.pop()

    walk(root, on_visit, on_leave, skip)


def visit_readonly(root: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`root.visit(visitor)` for a visitor that only reads: same calls (`visit_X`, `leave_X`,
    `on_visit`/`on_leave` overrides), same order, no copy of the tree. Trivia and punctuation
    are skipped unless the visitor has a method for one of their types (see `_skipped_for`)."""
    walk(root, visitor.on_visit, visitor.on_leave, _skipped_for(type(visitor)))


_preload()


if __name__ == "__main__":
    print('"""Generated by `python -m fastapi_lint.traverse`: the child order of each libcst node type'
          ' (traverse.py)."""\n')
    print(f"LIBCST_VERSION = {_libcst_version()!r}")
    print("ORDER = {")
    for _name, _order in order_table().items():
        print(f"    {_name!r}: {_order!r},")
    print("}")
