"""Check on real trees that the engine's second gate (`Rule.wants`) changes no finding.

    python bench/gate_check.py DIR [DIR ...] [--jobs N]

Lints each tree twice with every rule enabled (no cache): with the facts gate, and with it
open (the text gate only). Prints, per tree, the files each run parsed with libcst, the time
of each run, and every finding only one of them made. Exit 1 if any finding differs.
"""

from __future__ import annotations

import argparse
import sys
import time

from fastapi_lint import engine
from fastapi_lint.discovery import discover
from fastapi_lint.registry import all_rules
from fastapi_lint.settings import Settings


def _run(files, settings, gated: bool):
    real_gate, real_wanted = engine.gate, engine._wanted
    real_parse = engine.parse_source
    parsed = [0]

    def counting_parse(data):
        parsed[0] += 1
        return real_parse(data)

    if not gated:
        engine.gate = lambda rules, text, index=None, facts=None, module=None: real_gate(rules, text, index)
        engine._wanted = lambda rules, facts, index, **kw: True
    engine.parse_source = counting_parse
    try:
        start = time.perf_counter()
        run = engine.lint_paths(files, settings)
        elapsed = time.perf_counter() - start
    finally:
        engine.gate, engine._wanted = real_gate, real_wanted
        engine.parse_source = real_parse
    found = {(r.path, d.line, d.column, d.code, d.message) for r in run.results for d in r.diagnostics}
    return found, run.errors, parsed[0], elapsed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--jobs", type=int, default=1, help="workers (1: parse counts are exact)")
    args = ap.parse_args(argv)
    status = 0
    for root in args.dirs:
        settings = Settings(enabled=frozenset(all_rules()), root=root, jobs=args.jobs)
        files = discover([root], settings).files
        gated, gated_errors, gated_parsed, gated_s = _run(files, settings, True)
        open_, open_errors, open_parsed, open_s = _run(files, settings, False)
        parsed = (f"libcst parsed {gated_parsed} with the facts gate, {open_parsed} without" if args.jobs == 1
                  else "parse counts need --jobs 1 (workers parse in other processes)")
        print(f"{root}: {len(files)} files; {parsed}; {gated_s:.2f} s vs {open_s:.2f} s; {len(gated)} findings")
        for label, extra in (("only with the gate", gated - open_), ("only without the gate", open_ - gated)):
            for f in sorted(extra):
                print(f"  {label}: {f[0]}:{f[1]}:{f[2]}: {f[3]} {f[4]}")
                status = 1
        for err in sorted(set(gated_errors) ^ set(open_errors)):
            print(f"  internal error in one run only: {err}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
