#!/usr/bin/env python3
"""Real-world smoke test: lint whole real projects, report crashes, internal errors, time,
peak memory and findings per code.

    python bench/smoke.py DIR [DIR ...] [--select ALL] [--jobs N] [--markdown]

Each DIR is linted by the `fastapi-lint` CLI in a subprocess (`--no-cache --format json`,
`--select` default ALL so opt-in rules run too). A crash is a non-zero exit other than 1 or a
traceback on stderr; internal errors are the CLI's `error:` lines. Exit status 1 if any
project crashed or had an internal error.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import run_measured  # noqa: E402  (same folder)


def count(path: str):
    files = lines = 0
    for d, dirs, fs in os.walk(path):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in fs:
            if f.endswith((".py", ".pyi")):
                files += 1
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        lines += fh.read().count(b"\n")
                except OSError:
                    pass
    return files, lines


def smoke(path: str, fl: str, select: str, jobs: Optional[int]) -> dict:
    out_file = os.path.join(path, ".fastapi-lint-smoke.json")
    cmd = [fl, "check", "--no-cache", "--format", "json", "--select", select, "-o", out_file, "."]
    if jobs:
        cmd[2:2] = ["-j", str(jobs)]
    err_file = out_file + ".err"
    with open(err_file, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=path, stdout=subprocess.DEVNULL, stderr=err)
        seconds = time.perf_counter() - start
    # Peak memory in a second, identical run (the first one's numbers stay free of sampling).
    peak = run_measured(cmd, path).peak_kb
    with open(err_file, encoding="utf-8", errors="replace") as fh:
        stderr = fh.read()
    try:
        with open(out_file, encoding="utf-8") as fh:
            diags = json.load(fh)
    except (OSError, ValueError):
        diags = []
    for f in (out_file, err_file):
        if os.path.exists(f):
            os.unlink(f)
    files, lines = count(path)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    crashed = proc.returncode not in (0, 1, 2) or "Traceback" in stderr or (proc.returncode == 2 and not errors)
    return {
        "path": path, "files": files, "lines": lines, "seconds": round(seconds, 2), "peak_mb": peak // 1024,
        "exit": proc.returncode, "crashed": crashed, "internal_errors": errors,
        "findings": dict(sorted(collections.Counter(d["code"] for d in diags).items())),
        "fpi000": [f"{d['path']}:{d['line']}: {d['message']}" for d in diags if d["code"] == "FPI000"],
    }


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Lint real projects; report crashes, errors, time, findings.")
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--select", default="ALL")
    ap.add_argument("--jobs", type=int)
    ap.add_argument("--fastapi-lint", default=os.path.join(os.path.dirname(sys.executable), "fastapi-lint"))
    ap.add_argument("--markdown", action="store_true", help="print a table for bench/RESULTS.md")
    args = ap.parse_args(argv)
    results = [smoke(os.path.abspath(d), args.fastapi_lint, args.select, args.jobs) for d in args.dirs]
    if args.markdown:
        print("| project | files | lines | seconds | peak MB | exit | crashed | internal errors | findings |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in results:
            found = ", ".join(f"{k} {v}" for k, v in r["findings"].items()) or "none"
            print(f"| {os.path.basename(r['path'])} | {r['files']} | {r['lines']:,} | {r['seconds']} | "
                  f"{r['peak_mb']} | {r['exit']} | {'yes' if r['crashed'] else 'no'} | "
                  f"{len(r['internal_errors'])} | {found} |")
        for r in results:
            for e in r["internal_errors"]:
                print(f"- {os.path.basename(r['path'])}: {e}")
    else:
        print(json.dumps(results, indent=1))
    return 1 if any(r["crashed"] or r["internal_errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
