"""Applying fixes: libcst node replacements plus imports, checked to parse.

A fix never produces code that does not parse: the result of every application is
re-parsed with libcst (not the running interpreter's `ast`, which rejects newer syntax),
and a fix whose result does not parse is dropped.
"""

from __future__ import annotations

import difflib
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import libcst as cst
from fastapi_lint.diagnostics import Edit
from fastapi_lint.registry import FixSpec


_IMPORTS = (cst.Import, cst.ImportFrom)


class _Replacer(cst.CSTTransformer):
    def __init__(self, replacements: Dict[int, object]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        new = self.replacements.get(id(original_node))
        if new is not None:
            return new
        return updated_node


class _Unsupported(Exception):
    pass


def replace_nodes(module: cst.Module, replacements: Dict[int, object]) -> cst.Module:
    """`module.visit(_Replacer(replacements))` without rebuilding the whole tree (libcst's
    transform copies every node: a second of a 6,000-line file): only the ancestors of the
    replaced nodes are rebuilt, with `with_changes`; everything else is shared. A node inside
    a replaced one is left alone (the outer replacement wins, as with the transformer).
    Removals from a field that is not a sequence go through the transformer."""
    import dataclasses

    from fastapi_lint.traverse import walk_with_ancestors

    paths: List[List[cst.CSTNode]] = []

    def visit(node: cst.CSTNode, ancestors: List[cst.CSTNode]) -> bool:
        if id(node) in replacements:
            paths.append(ancestors[:])
            return False
        return True

    walk_with_ancestors(module, visit)
    depth: Dict[int, int] = {}
    parents: Dict[int, cst.CSTNode] = {}
    for path in paths:
        for i, node in enumerate(path):
            depth[id(node)] = i
            parents[id(node)] = node
    new: Dict[int, object] = dict(replacements)
    try:
        for parent in sorted(parents.values(), key=lambda n: -depth[id(n)]):
            changes = {}
            for f in dataclasses.fields(parent):
                value = getattr(parent, f.name)
                if isinstance(value, (tuple, list)):
                    if any(id(v) in new for v in value):
                        items: List[object] = []
                        for v in value:
                            r = new.get(id(v), v)
                            if r is cst.RemovalSentinel.REMOVE:
                                continue
                            if isinstance(r, cst.FlattenSentinel):
                                items.extend(r.nodes)
                            else:
                                items.append(r)
                        changes[f.name] = type(value)(items)
                elif id(value) in new:
                    r = new[id(value)]
                    if not isinstance(r, cst.CSTNode):
                        raise _Unsupported
                    changes[f.name] = r
            new[id(parent)] = parent.with_changes(**changes) if changes else parent
    except _Unsupported:
        return module.visit(_Replacer(replacements))
    found = new.get(id(module), module)
    return found if isinstance(found, cst.Module) else module.visit(_Replacer(replacements))


def apply_specs(module: cst.Module, specs: Sequence[FixSpec]) -> Optional[cst.Module]:
    """The module with every spec applied (they must not overlap), or None if it fails to parse."""
    replacements: Dict[int, object] = {}
    imports: List[Tuple[str, Optional[str], Optional[str]]] = []
    unused: List[Tuple[str, Optional[str], Optional[str]]] = []
    for spec in specs:
        for node, new in spec.replacements.items():
            replacements[id(node)] = new
        imports.extend(spec.imports)
        unused.extend(spec.remove_imports)
    try:
        new_module = replace_nodes(module, replacements) if replacements else module
        if imports or unused:
            # Imported here: libcst.codemod pulls in libcst.matchers (0.2 s), which a run
            # answered from the cache, or with nothing to fix, never needs.
            from libcst.codemod import CodemodContext
            from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
        # removed only where nothing uses the name any more (libcst checks the scopes, which
        # costs seconds on a big file: skipped for names certainly still used)
        unused = [entry for entry in unused if not still_used(new_module, _bound_name(*entry))]
        if unused:
            context = CodemodContext()
            for mod, obj, asname in unused:
                RemoveImportsVisitor.remove_unused_import(context, mod, obj, asname)
            new_module = RemoveImportsVisitor(context).transform_module(new_module)
        if imports:
            context = CodemodContext()
            for mod, obj, asname in imports:
                AddImportsVisitor.add_needed_import(context, mod, obj, asname)
            new_module = add_imports(new_module, context)
        data = new_module.bytes
        return cst.parse_module(data)
    except Exception:  # a fix that cannot be rendered or re-parsed is dropped
        return None


def add_imports(module: cst.Module, context) -> cst.Module:
    """libcst's AddImportsVisitor, run on the head of the module only: it reads and edits the
    leading block of imports (after a docstring) and the statement after it, but visits the
    whole tree through its matchers, 2.5 s on a 6,000-line file. The rest of the body is
    spliced back unchanged. `tests/test_engine.py` compares it with the whole-module run."""
    from libcst.codemod.visitors import AddImportsVisitor

    try:
        from libcst.codemod.visitors._add_imports import _skip_first
    except ImportError:  # another libcst: the whole module
        return AddImportsVisitor(context).transform_module(module)
    body = module.body
    end = 1 if _skip_first(module) else 0
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    head = AddImportsVisitor(context).transform_module(module.with_changes(body=body[:end + 1]))
    return module.with_changes(body=(*head.body, *body[end + 1:]))


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1 and type(stmt.body[0]) in _IMPORTS


def _bound_name(mod: str, obj: Optional[str], asname: Optional[str]) -> str:
    """The name an import binds: `import a.b` binds `a`, `from a import b as c` binds `c`."""
    return asname or obj or mod.split(".")[0]


def still_used(module: cst.Module, name: str) -> bool:
    """Whether `name`, bound by one top-level import, is certainly read somewhere: libcst's
    RemoveImportsVisitor (a scope analysis of the whole module, 5 s on a 6,000-line file) would
    keep the import. True only when `name` is read as `name.attr` or `name(...)` at least once,
    is bound by exactly one top-level import, and appears nowhere else (as an attribute's or a
    keyword's name it is not the binding): no parameter, assignment, `def`, nested import or
    other binding that could shadow it, no `import *`. Otherwise False, and libcst decides."""
    from fastapi_lint.traverse import SYNTAX_ONLY, walk_with_ancestors

    reads = imported = 0
    safe = True

    def visit(node: cst.CSTNode, stack: List[cst.CSTNode]) -> bool:
        nonlocal reads, imported, safe
        kind = type(node)
        if kind is cst.ImportStar:
            safe = False
        elif kind is cst.Name and node.value == name:
            parent = stack[-1]
            if any(type(n) in _IMPORTS for n in stack):
                if len(stack) > 2 and type(stack[1]) is cst.SimpleStatementLine and type(stack[2]) in _IMPORTS:
                    imported += 1
                else:
                    safe = False  # an import inside a def, class or `if`: it may shadow
            elif (type(parent) is cst.Attribute and parent.value is node) or (
                    type(parent) is cst.Call and parent.func is node):
                reads += 1
            elif not ((type(parent) is cst.Attribute and parent.attr is node)
                      or (type(parent) is cst.Arg and parent.keyword is node)):
                safe = False
        return safe

    walk_with_ancestors(module, visit, SYNTAX_ONLY)
    return safe and reads > 0 and imported == 1


def _offset_to_position(text: str, offset: int) -> Tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def text_edits(old: str, new: str) -> List[Edit]:
    """The minimal edits (1-based positions in `old`) that turn `old` into `new`."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    a_offsets = [0]
    for line in a:
        a_offsets.append(a_offsets[-1] + len(line))
    edits: List[Edit] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1 and i2 - i1 > 1:
            # as many lines replaced as added: one edit per line, so that fixes on
            # neighbouring lines keep edits of their own
            opcodes.extend(("replace", i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1))
        else:
            opcodes.append((tag, i1, i2, j1, j2))
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        old_chunk = "".join(a[i1:i2])
        new_chunk = "".join(b[j1:j2])
        prefix = 0
        limit = min(len(old_chunk), len(new_chunk))
        while prefix < limit and old_chunk[prefix] == new_chunk[prefix]:
            prefix += 1
        suffix = 0
        while (suffix < limit - prefix
               and old_chunk[len(old_chunk) - 1 - suffix] == new_chunk[len(new_chunk) - 1 - suffix]):
            suffix += 1
        start = a_offsets[i1] + prefix
        end = a_offsets[i1] + len(old_chunk) - suffix
        line, col = _offset_to_position(old, start)
        end_line, end_col = _offset_to_position(old, end)
        edits.append(Edit(line, col, end_line, end_col, new_chunk[prefix: len(new_chunk) - suffix]))
    return edits


def spans_overlap(a: Tuple[Tuple[int, int], Tuple[int, int]], b: Tuple[Tuple[int, int], Tuple[int, int]]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def choose_non_overlapping(candidates: Iterable[Tuple[FixSpec, List[Tuple[Tuple[int, int], Tuple[int, int]]]]]
                           ) -> List[FixSpec]:
    """Greedy, in the given (source) order: keep each spec whose replaced spans touch no kept one."""
    kept: List[FixSpec] = []
    taken: List[Tuple[Tuple[int, int], Tuple[int, int]]] = []
    for spec, spans in candidates:
        if any(spans_overlap(s, t) for s in spans for t in taken):
            continue
        kept.append(spec)
        taken.extend(spans)
    return kept
