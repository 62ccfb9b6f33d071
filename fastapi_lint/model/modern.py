"""Newer syntax rewritten for the running interpreter's `ast`, line for line.

The scan reads every file with CPython's `ast`, which only knows the running interpreter's
grammar. A project on Python 3.12-3.14 uses constructs 3.11 cannot read, and those files
used to go to libcst in the scan (a skeleton summary, no facts) and again in the lint: 83 of
polar's files, 34% of its scan. Three constructs cover nearly all of them, and each has a
3.11 spelling that means the same to the scan:

- `type Alias[T] = value` (PEP 695) -> `Alias = value`;
- `def f[T: Bound](...)`, `class C[T](...)` (PEP 695) -> without the type parameters;
- `except A, B:` (PEP 758) -> `except (A, B):`.

The rewrite works on tokens (`tokenize`), so strings and comments are never touched; it
keeps every line where it was (type parameters are removed only when they sit on one line),
so line numbers in summaries stay true, and columns only move within a rewritten line. When
anything else stands in the way (PEP 701 f-strings, a construct spread over lines), the
text is not rewritten and the file goes to libcst as before. The lint itself always parses
the original text with libcst.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import List, Optional, Set, Tuple

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = set(_OPEN.values())
_SKIP = (tokenize.COMMENT, tokenize.NL)
#: Tokens after which a new statement starts (at bracket depth 0).
_STARTS = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)

Edit = Tuple[int, int, int, str]  # row, start column, end column, replacement


def for_older_ast(text: str) -> Optional[str]:
    """`text` with the constructs above rewritten, or None when there is nothing to rewrite
    or the tokens cannot be read."""
    if sys.version_info >= (3, 14) or ("type" not in text and "except" not in text and "[" not in text):
        return None
    lines = io.StringIO(text).readlines()
    try:
        tokens = [t for t in tokenize.generate_tokens(iter(lines).__next__) if t.type not in _SKIP]
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return None
    edits: List[Edit] = []
    start = True
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.ERRORTOKEN:  # what the tokenizer could not read: no rewrite
            return None
        at_start, start = start, tok.type in _STARTS or (tok.type == tokenize.OP and tok.string == ";")
        if at_start and tok.type == tokenize.NAME:
            edits += _edits_at(tokens, i)
    return _apply(lines, edits)


def _edits_at(tokens, i: int) -> List[Edit]:
    """The rewrite of the statement whose first token is `tokens[i]` (a NAME)."""
    word = tokens[i].string
    if word == "type":
        return _type_alias(tokens, i)
    if word in ("def", "class") or (word == "async" and _is(tokens, i + 1, tokenize.NAME, "def")):
        return _type_params(tokens, i + (2 if word == "async" else 1))
    if word == "except":
        return _except_tuple(tokens, i + 1)
    return []


def _apply(lines: List[str], edits: List[Edit]) -> Optional[str]:
    if not edits:
        return None
    for row, begin, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:begin] + new + line[end:]
    return "".join(lines)


#: A line that may begin one of the constructs (the tokens decide): the first step of `parse`,
#: which tokenizes only these lines' statements instead of the whole file.
_CANDIDATE = re.compile(
    r"^[ \t]*(?:type[ \t]+\w+[ \t]*[\[=]|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\[|class[ \t]+\w+[ \t]*\["
    r"|except\b[^\n:]*,)", re.M)


def _windowed(text: str) -> Optional[Tuple[str, List[Tuple[int, int]]]]:
    """The rewrite of the statements that start a `_CANDIDATE` line, each tokenized from its
    first line to its end, and the (row, column) where each rewritten statement starts; None
    when there is none. A candidate inside a multi-line string is tokenized as if it were
    code: `parse` checks that each rewritten row starts a statement of the tree."""
    if sys.version_info >= (3, 14):
        return None
    found = list(_CANDIDATE.finditer(text))
    if not found:
        return None
    lines = io.StringIO(text).readlines()
    starts: List[int] = []  # offset of each line
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line)
    edits: List[Edit] = []
    places: List[Tuple[int, int]] = []
    row = 0
    for m in found:
        while row + 1 < len(starts) and starts[row + 1] <= m.start():
            row += 1
        window = _statement_tokens(lines, row)
        if not window:
            continue
        shift = row  # the window's row 1 is the file's row + 1
        more = [(r + shift, b, e, new) for r, b, e, new in _edits_at(window, 0)]
        if more:
            edits += more
            places.append((row + 1, window[0].start[1]))
    rewritten = _apply(lines, edits)
    return (rewritten, places) if rewritten is not None else None


def _statement_tokens(lines: List[str], row: int) -> list:
    """The tokens of the logical line that starts at `lines[row]` (without comments, blank
    continuations and the indentation); [] when they cannot be read."""
    out = []
    source = iter(lines[row:])
    try:
        for t in tokenize.generate_tokens(lambda: next(source, "")):
            if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                break
            if t.type == tokenize.ERRORTOKEN:
                return []
            if t.type not in _SKIP and t.type not in (tokenize.INDENT, tokenize.DEDENT):
                out.append(t)
    except (tokenize.TokenError, SyntaxError):
        return []
    return out


def _statement_starts(tree: ast.Module) -> Set[Tuple[int, int]]:
    """(line, column) of every statement and `except` clause of the tree."""
    out: Set[Tuple[int, int]] = set()
    todo: List[list] = [tree.body]
    while todo:
        for stmt in todo.pop():
            out.add((stmt.lineno, stmt.col_offset))
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(stmt, field, None)
                if inner and type(inner) is list:
                    todo.append(inner)
            todo.extend(case.body for case in getattr(stmt, "cases", ()))  # `case` clauses have no line
    return out


def parse(text: str) -> ast.Module:
    """`ast.parse` of `text`, or else of its rewrite (the constructs above): first of the
    candidate statements alone (`_windowed`: the tokenizer is slow, a file is long), and
    when that does not give a tree in which every rewritten statement is one, of the
    whole file's tokens (`for_older_ast`). Raises what `ast.parse(text)` raises when no
    rewrite can be read."""
    try:
        return ast.parse(text)
    except SyntaxError as error:
        first = error
    windowed = _windowed(text)
    if windowed is not None:
        rewritten, places = windowed
        try:
            tree = ast.parse(rewritten)
        except SyntaxError:
            tree = None
        if tree is not None and _statement_starts(tree).issuperset(places):
            return tree
    rewritten = for_older_ast(text)
    if rewritten is None:
        raise first
    try:
        return ast.parse(rewritten)
    except SyntaxError:
        raise first from None


def _is(tokens, i: int, kind: int, string: Optional[str] = None) -> bool:
    return i < len(tokens) and tokens[i].type == kind and (string is None or tokens[i].string == string)


def _outermost(tokens, i: int):
    """(index, token) from `i` to the end of the logical line, for the tokens outside any
    bracket opened from `i` on, and the brackets' closing tokens."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j]
        if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            return
        if t.type == tokenize.OP and t.string in _OPEN:
            depth += 1
        elif t.type == tokenize.OP and t.string in _CLOSE:
            depth -= 1
            if depth == 0:
                yield j, t
        elif depth == 0:
            yield j, t


def _bracket_end(tokens, i: int) -> Optional[int]:
    """The index of the token closing the bracket opened at `i`, if it is on the same row."""
    for j, t in _outermost(tokens, i):
        return j if t.start[0] == tokens[i].start[0] else None
    return None


def _params_span(tokens, i: int) -> Tuple[Optional[Edit], int]:
    """`[T, ...]` opening at `i` (if it does): its removal, and the index after it; (None, i)
    when there is none; (None, -1) when it cannot be removed."""
    if not _is(tokens, i, tokenize.OP, "["):
        return None, i
    end = _bracket_end(tokens, i)
    if end is None:
        return None, -1
    return (tokens[i].start[0], tokens[i].start[1], tokens[end].end[1], ""), end + 1


def _type_alias(tokens, i: int) -> List[Edit]:
    """`type Name[...] = ...` at a statement start (`type` is a soft keyword: `type = 3` and
    `type(x)` are left alone)."""
    if not _is(tokens, i + 1, tokenize.NAME):
        return []
    params, after = _params_span(tokens, i + 2)
    if after < 0 or not _is(tokens, after, tokenize.OP, "="):
        return []
    kw, name = tokens[i], tokens[i + 1]
    if kw.start[0] != name.start[0]:
        return []
    return [(kw.start[0], kw.start[1], name.start[1], "")] + ([params] if params else [])


def _type_params(tokens, i: int) -> List[Edit]:
    """The type parameters of `def name[...]` / `class name[...]`, the name at `i`."""
    if not _is(tokens, i, tokenize.NAME):
        return []
    params, after = _params_span(tokens, i + 1)
    return [params] if params is not None and after > 0 else []


def _except_tuple(tokens, i: int) -> List[Edit]:
    """`except A, B:` (or `except* A, B:`): parentheses around the types, on one line."""
    if _is(tokens, i, tokenize.OP, "*"):
        i += 1
    comma = False
    for j, t in _outermost(tokens, i):
        if t.type == tokenize.NAME and t.string == "as":
            return []
        if t.type == tokenize.OP and t.string == ",":
            comma = True
        elif t.type == tokenize.OP and t.string == ":":
            first, last = tokens[i], tokens[j - 1]
            if not comma or j == i or first.start[0] != last.end[0]:
                return []
            row = first.start[0]
            return [(row, first.start[1], first.start[1], "("), (row, last.end[1], last.end[1], ")")]
    return []
