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

That generation still runs through every statement before the last asked-for node: on a
tree whose findings sit deep in big files (prefect: 244 files with findings) it costs about
a fifth of the parse. Given the text and, per finding, the nodes that were open when it was
reported (`near`), only the `def` or `class` around the finding is generated, with the
indentation of the blocks around it, and looked for in the text: if that code (or the part
of it generated up to the last asked-for node) occurs exactly once, that occurrence is where
the statement is (the module's code is the text), and the lines counted there are shifted
by the line it starts on. Code that occurs more than once tries the next `def` or `class`
out, then the top-level statement; what is still not found is generated from the module as
above.
"""

from __future__ import annotations

from bisect import bisect_right
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import libcst as cst
from libcst._position import CodePosition, CodeRange
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

    def start(self, targets: Dict[int, cst.CSTNode], stop: bool = True) -> None:
        """`stop`: raise _Done after the last target's subtree (else generate to the end)."""
        self._targets = targets
        self._left = len(targets) if stop else len(targets) + 1
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


#: What `near` tries, innermost first: a def or class around the finding (its code, with its
#: name and decorators, is rarely written twice), then the top-level statement.
_OWN_CODE = (cst.FunctionDef, cst.ClassDef)


def _candidates(ancestors: Sequence[cst.CSTNode]) -> List[Tuple[cst.CSTNode, Tuple[str, ...]]]:
    """(statement, the indent tokens code generation has on entering it) for the defs and
    classes in `ancestors` (the Module first), innermost first, then the top-level statement.
    The indents are those the blocks above push (`IndentedBlock`, and `Match` for its cases)."""
    found = []
    indent: List[Optional[str]] = []
    for i, node in enumerate(ancestors):
        if i == 1 and isinstance(node, cst.BaseStatement) or isinstance(node, _OWN_CODE):
            found.append((node, tuple(indent)))
        if type(node) is cst.IndentedBlock or type(node) is cst.Match:
            indent.append(node.indent)
    found.reverse()
    return found


class NodePositions:
    """A mapping node -> CodeRange (`.get`) for the nodes given (and everything inside them),
    computed on the first `get`; any other node: the whole module's, once. With `text` (the
    module's code) and `near` ((the nodes open when a finding was reported, Module first;
    that finding's nodes) per finding), from the code of the defs around them first."""

    def __init__(self, module: cst.Module, nodes: Iterable[Optional[cst.CSTNode]], text: Optional[str] = None,
                 near: Sequence[Tuple[Sequence[cst.CSTNode], Sequence[Optional[cst.CSTNode]]]] = ()) -> None:
        self.module = module
        self._sink = _Sink()
        self._pending: Optional[Dict[int, cst.CSTNode]] = {id(n): n for n in nodes if n is not None}
        self._whole = False
        self._text = text
        self._near = near if text is not None else ()
        self._line_ends: Optional[List[int]] = None

    def get(self, node: cst.CSTNode, default=None):
        computed = self._sink._computed
        if self._pending:
            if self._near:
                self._from_statements()
            self._pending = {k: n for k, n in self._pending.items() if n not in computed}
            if self._pending:
                self._targeted(self._pending)
        self._pending = None
        found = computed.get(node)
        if found is None and not self._whole:
            self._whole = True
            computed.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
            found = computed.get(node)
        return default if found is None else found

    def _state(self, sink: _Sink) -> _TargetedState:
        module = self.module
        return _TargetedState(default_indent=module.default_indent, default_newline=module.default_newline,
                              provider=sink)

    def _targeted(self, targets: Dict[int, cst.CSTNode]) -> None:
        module = self.module
        state = self._state(self._sink)
        state.start(targets)
        try:
            module._codegen(state)
        except _Done:
            pass

    def _from_statements(self) -> None:
        """The positions `near` can give: rounds in which every finding not yet placed tries its
        next candidate statement (`_candidates`), each statement generated once per round for
        all the nodes that try it."""
        computed = self._sink._computed
        todo = [(_candidates(ancestors), [n for n in nodes if n is not None]) for ancestors, nodes in self._near]
        depth = 0
        while todo:
            tries: Dict[int, Tuple[cst.CSTNode, Tuple[str, ...], Dict[int, cst.CSTNode]]] = {}
            for candidates, nodes in todo:
                if depth < len(candidates):
                    stmt, indent = candidates[depth]
                    wanted = tries.setdefault(id(stmt), (stmt, indent, {}))[2]
                    wanted.update((id(n), n) for n in nodes if n not in computed)
            for stmt, indent, wanted in tries.values():
                if wanted:
                    self._statement(stmt, indent, wanted)
            depth += 1
            todo = [(c, nodes) for c, nodes in todo if depth < len(c) and any(n not in computed for n in nodes)]

    def _statement(self, stmt: cst.CSTNode, indent: Tuple[Optional[str], ...],
                   targets: Dict[int, cst.CSTNode]) -> None:
        """Positions of `targets` from the code of `stmt` alone, if that code is found once in
        the text (first what was generated up to the last target, else all of it)."""
        module = self.module
        complete = False
        while True:
            sink = _Sink()
            state = self._state(sink)
            for value in indent:
                state.increase_indent(module.default_indent if value is None else value)
            state.start(targets, stop=not complete)
            try:
                stmt._codegen(state)
                complete = True
            except _Done:
                pass
            code = "".join(state.tokens)
            start = self._once(code)
            if start is None and complete and state.tokens and state.tokens[-1] in ("\n", "\r\n", "\r"):
                start = self._once(code[: -len(state.tokens[-1])])  # the last line of a file without one
            if start is not None:
                break
            if complete:
                return
            complete = True  # what was generated up to the last target occurs twice: all of it
        shift = self._line_of(start) - 1
        computed = self._sink._computed
        for node, r in sink._computed.items():
            computed[node] = CodeRange(CodePosition(r.start.line + shift, r.start.column),
                                       CodePosition(r.end.line + shift, r.end.column))

    def _once(self, code: str) -> Optional[int]:
        """Where `code` starts in the text, if it occurs there once and at the start of a line."""
        text = self._text
        assert text is not None
        start = text.find(code) if code else -1
        if start < 0 or text.find(code, start + 1) >= 0:
            return None
        if start and text[start - 1] not in "\r\n":
            return None
        return start

    def _line_of(self, offset: int) -> int:
        if self._line_ends is None:
            self._line_ends = [m.end() for m in NEWLINE_RE.finditer(self._text or "")]
        return bisect_right(self._line_ends, offset) + 1
