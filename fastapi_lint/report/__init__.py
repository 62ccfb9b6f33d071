"""Reporters: text (rich), json, and the summary line shared by them."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Callable, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

from fastapi_lint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE, Diagnostic

SourceLines = Callable[[str], Optional[List[str]]]


def fix_counts(diags: Sequence[Diagnostic]) -> Dict[str, int]:
    c = Counter(d.fix.applicability for d in diags if d.fix is not None)
    return {SAFE: c[SAFE], UNSAFE: c[UNSAFE], DISPLAY_ONLY: c[DISPLAY_ONLY]}


def summary_line(diags: Sequence[Diagnostic], fixed: int = 0, unsafe_enabled: bool = False) -> str:
    n = len(diags)
    if n == 0 and fixed == 0:
        return "All checks passed!"
    noun = "problem" if n == 1 else "problems"
    if fixed:
        return f"Found {n + fixed} {'problem' if n + fixed == 1 else 'problems'} ({fixed} fixed, {n} remaining)."
    counts = fix_counts(diags)
    parts = []
    safe = counts[SAFE] + (counts[UNSAFE] if unsafe_enabled else 0)
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if counts[UNSAFE] and not unsafe_enabled:
        parts.append(f"{counts[UNSAFE]} with --unsafe-fixes")
    extra = f" ({', '.join(parts)})" if parts else ""
    return f"Found {n} {noun}{extra}."


def render_json(diags: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in sorted(diags, key=Diagnostic.sort_key)], indent=2) + "\n"


Segments = List[Tuple[str, Optional[str]]]  # one printed line: (text, rich style) pieces


def _text_lines(diags: Sequence[Diagnostic], source_lines: SourceLines, quiet: bool,
                unsafe_enabled: bool) -> Iterator[Segments]:
    for d in sorted(diags, key=Diagnostic.sort_key):
        fixable = d.fix is not None and (d.fix.applicability == SAFE or
                                         (d.fix.applicability == UNSAFE and unsafe_enabled))
        yield [(d.path, "bold"), (f":{d.line}:{d.column}: ", "cyan"), (d.code, "bold red"),
               *([(" [*]", "cyan")] if fixable else []), (f" {d.message}", None)]
        if quiet:
            continue
        lines = source_lines(d.path)
        if lines and 0 < d.line <= len(lines):
            text = lines[d.line - 1].rstrip("\r\n").expandtabs(1)
            yield [(f"{d.line:>4} | ", "blue"), (text, None)]
            start = max(d.column - 1, 0)
            end = d.end_column - 1 if d.end_line == d.line else len(text)
            yield [(" " * 5 + "| ", "blue"), (" " * start + "^" * max(1, end - start), "bold red")]
        if d.fix is not None:
            label = {SAFE: "fix", UNSAFE: "unsafe fix", DISPLAY_ONLY: "help"}[d.fix.applicability]
            yield [(" " * 5 + "= ", "blue"), (f"{label}: ", "bold"), (d.fix.message, None)]
        yield []


#: What rich removes from printed text (bell, backspace, vertical tab, form feed, carriage
#: return): the plain writer removes it too, so that both print the same characters.
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))


def _plain(segments: Segments) -> str:
    line = "".join(text for text, _ in segments).translate(_CONTROL)
    if "\t" in line:  # rare (source lines have their tabs expanded): rich's tab stops count cells
        from rich.text import Text

        text = Text(line)
        text.expand_tabs(8)  # rich's default tab size
        line = text.plain
    return line


def styled(out: TextIO, color: Optional[bool]) -> bool:
    """Whether rich would style what it prints to `out` (`color` None: it decides, as rich
    does, from TTY_COMPATIBLE, FORCE_COLOR and whether `out` is a terminal)."""
    if color is not None:
        return color
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def render_text(diags: Sequence[Diagnostic], out: TextIO, source_lines: SourceLines, *, color: Optional[bool],
                quiet: bool = False, unsafe_enabled: bool = False) -> None:
    """Rich prints to a terminal; to a pipe or a file, where rich would print the same
    characters without a style, they are written directly (importing rich costs 15-25 ms,
    a tenth of a run answered from the cache)."""
    lines = _text_lines(diags, source_lines, quiet, unsafe_enabled)
    if not styled(out, color):
        out.write("".join(_plain(segments) + "\n" for segments in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, force_terminal=color, no_color=(color is False), highlight=False,
                      soft_wrap=True, emoji=False, markup=False)
    for segments in lines:
        line = Text()
        for text, style in segments:
            line.append(text, style=style)
        console.print(line)


def render_statistics(diags: Sequence[Diagnostic], names: Dict[str, str], fixable_codes: Dict[str, bool]) -> str:
    counts = Counter(d.code for d in diags)
    lines = []
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable_codes.get(code) else "   "
        lines.append(f"{count:>5}\t{code}\t{mark} {names.get(code, '')}")
    return "\n".join(lines) + ("\n" if lines else "")
