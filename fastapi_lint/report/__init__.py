"""Reporters: text (rich), json, and the summary line shared by them."""

from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, TextIO

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


def render_text(diags: Sequence[Diagnostic], out: TextIO, source_lines: SourceLines, *, color: Optional[bool],
                quiet: bool = False, unsafe_enabled: bool = False) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, force_terminal=color, no_color=(color is False), highlight=False,
                      soft_wrap=True, emoji=False, markup=False)
    for d in sorted(diags, key=Diagnostic.sort_key):
        head = Text()
        head.append(d.path, style="bold")
        head.append(f":{d.line}:{d.column}: ", style="cyan")
        head.append(d.code, style="bold red")
        fixable = d.fix is not None and (d.fix.applicability == SAFE or
                                         (d.fix.applicability == UNSAFE and unsafe_enabled))
        if fixable:
            head.append(" [*]", style="cyan")
        head.append(f" {d.message}")
        console.print(head)
        if quiet:
            continue
        lines = source_lines(d.path)
        if lines and 0 < d.line <= len(lines):
            text = lines[d.line - 1].rstrip("\r\n").expandtabs(1)
            gutter = f"{d.line:>4} | "
            console.print(Text(gutter, style="blue") + Text(text))
            start = max(d.column - 1, 0)
            end = d.end_column - 1 if d.end_line == d.line else len(text)
            width = max(1, end - start)
            console.print(Text(" " * 5 + "| ", style="blue") + Text(" " * start + "^" * width, style="bold red"))
        if d.fix is not None:
            label = {SAFE: "fix", UNSAFE: "unsafe fix", DISPLAY_ONLY: "help"}[d.fix.applicability]
            console.print(Text(" " * 5 + "= ", style="blue") + Text(f"{label}: ", style="bold") + Text(d.fix.message))
        console.print()


def render_statistics(diags: Sequence[Diagnostic], names: Dict[str, str], fixable_codes: Dict[str, bool]) -> str:
    counts = Counter(d.code for d in diags)
    lines = []
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable_codes.get(code) else "   "
        lines.append(f"{count:>5}\t{code}\t{mark} {names.get(code, '')}")
    return "\n".join(lines) + ("\n" if lines else "")
