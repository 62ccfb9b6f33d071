"""One traversal of a parsed file by every enabled rule: the part of the pipeline that needs
libcst. The engine imports it on the first file it parses, so that a run answered from the
cache never loads libcst."""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple, Type

import libcst as cst

from fastapi_lint.model.context import ModuleContext
from fastapi_lint.model.index import ProjectIndex, module_name_for
from fastapi_lint.positions import NodePositions
from fastapi_lint.registry import Rule
from fastapi_lint.traverse import skipped_types, walk

_SCOPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})


@functools.lru_cache(maxsize=64)
def _skipped(visits: FrozenSet[str], leaves: FrozenSet[str]) -> FrozenSet[type]:
    return skipped_types([f"visit_{t}" for t in visits] + [f"leave_{t}" for t in leaves])


class _Dispatcher(cst.CSTVisitor):
    """Runs every rule's visitor methods in one traversal, keeping the context's stacks.

    A rule that raises is disabled for the rest of this file and reported as an internal
    error; the other rules go on.
    """

    def __init__(self, ctx: ModuleContext, rules: Sequence[Rule]) -> None:
        super().__init__()
        self.ctx = ctx
        self.visits: Dict[str, List[Tuple[Rule, Callable]]] = {}
        self.leaves: Dict[str, List[Tuple[Rule, Callable]]] = {}
        self.crashed: Dict[str, str] = {}
        for rule in rules:
            for name in type(rule).visitor_methods():
                kind, _, node_type = name.partition("_")
                table = self.visits if kind == "visit" else self.leaves
                table.setdefault(node_type, []).append((rule, getattr(rule, name)))
        #: Whitespace, comment, punctuation and operator nodes no rule asked for are not walked.
        self.skip = _skipped(frozenset(self.visits), frozenset(self.leaves))

    def _call(self, handlers: List[Tuple[Rule, Callable]], node: cst.CSTNode) -> None:
        for rule, fn in handlers:
            if rule.code in self.crashed:
                continue
            try:
                fn(node)
            except Exception:
                self.crashed[rule.code] = traceback.format_exc(limit=-3)

    def on_visit(self, node: cst.CSTNode) -> bool:
        ctx = self.ctx
        stack = ctx.node_stack
        if stack:
            parent = stack[-1]
            if type(parent) in _SCOPES and node is parent.body:
                ctx.scope_stack.append(parent)
        stack.append(node)
        handlers = self.visits.get(type(node).__name__)
        if handlers:
            self._call(handlers, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        ctx = self.ctx
        handlers = self.leaves.get(type(original_node).__name__)
        if handlers:
            self._call(handlers, original_node)
        ctx.node_stack.pop()
        scope = ctx.scope_stack[-1]
        if len(ctx.scope_stack) > 1 and original_node is getattr(scope, "body", None):
            ctx.scope_stack.pop()


@dataclass
class Analysis:
    module: cst.Module
    ctx: ModuleContext
    findings: list
    positions: Optional[object]
    crashed: Dict[str, str] = field(default_factory=dict)


def analyse(module: cst.Module, path: str, rule_classes: Sequence[Type[Rule]],
             index: Optional[ProjectIndex], root: Optional[str], text: Optional[str] = None) -> Analysis:
    module_name, is_package = module_name_for(path, root) if path not in ("-", "<stdin>") else (None, False)
    ctx = ModuleContext(module, path, module_name, is_package, index, text)
    rules = [cls(ctx) for cls in rule_classes]
    dispatcher = _Dispatcher(ctx, rules)
    # Not `module.visit(dispatcher)`: libcst rebuilds every node even for a read-only visitor.
    walk(module, dispatcher.on_visit, dispatcher.on_leave, dispatcher.skip)
    positions = None
    if ctx.findings:
        # Positions only for what the diagnostics and fixes will ask (fastapi_lint/positions.py).
        near = [(f.ancestors, (f.node, *(f.fix.replacements if f.fix else ()))) for f in ctx.findings]
        positions = NodePositions(module, [n for _, nodes in near for n in nodes], text, near)
    findings = ctx.findings
    ctx.release()
    return Analysis(module, ctx, findings, positions, dispatcher.crashed)


