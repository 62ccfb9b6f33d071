"""Positions of nodes, computed only for the nodes findings and fixes point at.

libcst's `PositionProvider` generates the code of the whole module while tracking the line and
column of every token and recording a range for every node: about twice the cost of the parse
itself, for every file with one finding. Here one plain code generation of the module (several
times cheaper) runs, and the position tracking switches on only inside the subtrees of the
nodes asked for (a finding's node, the nodes its fix replaces): on entering one, the line and
column are counted from the tokens generated since the last such subtree; the generation stops
after the last one. A node outside those subtrees (a fix that edits a node no finding named)
makes the whole module's positions computed once, as libcst would.

The ranges are libcst's own (`CodeRange`, same rules for where a node starts and ends, the
same state class doing the recording): `tests/test_positions.py` compares every node of every
fixture with `PositionProvider`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, Optional

import libcst as cst
from libcst._position import CodePosition
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState


class _Sink:
    """What PositionProvidingCodegenState writes to: `provider._computed[node] = range`."""

    def __init__(self) -> None:
        self._computed: Dict[cst.CSTNode, object] = {}


class _Done(Exception):
    """Raised once the last asked-for subtree has been generated: the rest is not needed."""


class _TargetedState(PositionProvidingCodegenState):
    """PositionProvidingCodegenState whose tracking is on only inside the subtrees of `targets`
    (`_depth` > 0); outside them it generates tokens as the plain CodegenState does."""

    def start(self, targets: Dict[int, cst.CSTNode]) -> None:
        self._targets = targets
        self._left = len(targets)
        self._depth = 0
        self._mark = 0  # tokens before this index are counted in line/column

    def _sync(self) -> None:
        """Bring line/column up to date with the tokens generated while tracking was off,
        token by token as `_update_position` counts them."""
        tokens = self.tokens
        line, column = self.line, self.column
        for i in range(self._mark, len(tokens)):
            value = tokens[i]
            if "\n" in value or "\r" in value:
                segments = NEWLINE_RE.split(value)
                line += len(segments) - 1
                column = len(segments[-1])
            else:
                column += len(value)
        self.line, self.column = line, column
        self._mark = len(tokens)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if self._depth:
            self._update_position(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        if self._depth:
            for token in self.indent_tokens:
                self._update_position(token)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if not self._depth:
            if id(node) not in self._targets:
                return
            self._sync()
        self._depth += 1
        self._stack.append(CodePosition(self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if not self._depth:
            return
        super().after_codegen(node)
        if id(node) in self._targets:
            self._left -= 1
        self._depth -= 1
        if not self._depth:
            self._mark = len(self.tokens)
            if self._left <= 0:
                raise _Done

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> Iterator[None]:
        if not self._depth:  # outside every asked-for subtree: nothing to record
            yield
            return
        with PositionProvidingCodegenState.record_syntactic_position(
                self, node, start_node=start_node, end_node=end_node):
            yield


class NodePositions:
    """A mapping node -> CodeRange (`.get`) for the nodes given (and everything inside them),
    computed on the first `get`; any other node: the whole module's, once."""

    def __init__(self, module: cst.Module, nodes: Iterable[Optional[cst.CSTNode]]) -> None:
        self.module = module
        self._sink = _Sink()
        self._pending: Optional[Dict[int, cst.CSTNode]] = {id(n): n for n in nodes if n is not None}
        self._whole = False

    def get(self, node: cst.CSTNode, default=None):
        computed = self._sink._computed
        if self._pending:
            self._targeted(self._pending)
        self._pending = None
        found = computed.get(node)
        if found is None and not self._whole:
            self._whole = True
            computed.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
            found = computed.get(node)
        return default if found is None else found

    def _targeted(self, targets: Dict[int, cst.CSTNode]) -> None:
        module = self.module
        state = _TargetedState(default_indent=module.default_indent, default_newline=module.default_newline,
                               provider=self._sink)
        state.start(targets)
        try:
            module._codegen(state)
        except _Done:
            pass
