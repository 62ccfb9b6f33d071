"""Positions of nodes, computed only for the top-level statements that hold findings.

libcst's `PositionProvider` generates the code of the whole module while tracking the line and
column of every token: about twice the cost of the parse itself, for every file with one
finding. Here the plain code generation (several times cheaper) gives the first line of each
top-level statement, and the position-tracking generation runs only for the statements that
hold a finding (the rule reported while the walk was inside them). A node outside those
statements (a rule that reports from `visit_Module`, a fix that edits another statement) makes
the whole module's positions computed once, as libcst would.

The ranges are libcst's own (`CodeRange`, same rules for where a node starts and ends):
`tests/test_positions.py` compares every node of every fixture with `PositionProvider`.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState


class _Sink:
    """What PositionProvidingCodegenState writes to: `provider._computed[node] = range`."""

    def __init__(self) -> None:
        self._computed: Dict[cst.CSTNode, object] = {}


class StatementPositions:
    """A mapping node -> CodeRange (`.get`) filled one top-level statement at a time."""

    def __init__(self, module: cst.Module, statements: Iterable[Optional[cst.CSTNode]]) -> None:
        self.module = module
        self._sink = _Sink()
        self._pending = {id(s): s for s in statements if s is not None}
        self._starts: Optional[Dict[int, int]] = None
        self._whole = False

    def get(self, node: cst.CSTNode, default=None):
        computed = self._sink._computed
        found = computed.get(node)
        if found is None and self._pending:
            for stmt in list(self._pending.values()):
                self._statement(stmt)
            self._pending.clear()
            found = computed.get(node)
        if found is None and not self._whole:
            self._whole = True
            computed.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
            found = computed.get(node)
        return default if found is None else found

    def _statement(self, stmt: cst.CSTNode) -> None:
        starts = self._statement_starts()
        line = starts.get(id(stmt))
        if line is None:  # not a top-level statement: the whole module, once
            return
        module = self.module
        state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                              default_newline=module.default_newline, provider=self._sink)
        state.line = line
        state.column = 0
        stmt._codegen(state)

    def _statement_starts(self) -> Dict[int, int]:
        """id(top-level statement) -> the line its code (leading blank lines and comments
        included) starts on, from the plain code generation of everything before it."""
        if self._starts is None:
            module = self.module
            state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
            tokens: List[str] = state.tokens
            for header in module.header:
                header._codegen(state)
            line = 1 + _newlines(tokens, 0)
            starts: Dict[int, int] = {}
            for stmt in module.body:
                starts[id(stmt)] = line
                mark = len(tokens)
                stmt._codegen(state)
                line += _newlines(tokens, mark)
            self._starts = starts
        return self._starts


def _newlines(tokens: List[str], start: int) -> int:
    return sum(len(NEWLINE_RE.split(t)) - 1 for t in tokens[start:] if "\n" in t or "\r" in t)
