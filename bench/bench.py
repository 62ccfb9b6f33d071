#!/usr/bin/env python3
"""Benchmark fastapi-lint against its floor (the libcst parse) and the tools users would pick
instead, on one directory, in one session.

    python bench/bench.py PATH [--rounds 3] [--jobs 1,2] [--json out.json] [--skip semgrep,...]

Every round runs every configuration once, in a rotated order (so load from other processes
and warm file-system caches spread over all of them); each configuration's median over the
rounds is reported, with lines per second, the peak resident memory of the whole process
tree (sampled from /proc every 20 ms) and the ratio to fastapi-lint cold and to the floor.

Configurations:
  fastapi-lint cold -jN   `check --no-cache --exit-zero -q -j N` for each N in --jobs
  fastapi-lint warm       the cache filled by an untimed run just before, nothing changed
  fastapi-lint touched    the cache filled, then one file's content changed
  fastapi-lint FPI101 only  cold, `--select FPI101`, default jobs: the rule semgrep runs
  libcst parse floor      `libcst.parse_module` of every file fastapi-lint checks, one process
  fastapi-lint gate open  the engine, one process, with a no-op rule that wants every file
                          (what a rule with a broad token such as `async` will cost)
  ruff                    `ruff check --isolated --no-cache --select ASYNC,FAST,S608`
  flake8 + flake8-async   `flake8 --isolated --select ASYNC` (flake8's default jobs)
  bandit                  `bandit -q`
  semgrep                 one local rule (time.sleep inside async def), when installed,
                          `--max-target-bytes=0`
Each peer is given the files fastapi-lint checks, by name, not the directory: walking it, each
would choose its own (semgrep's default .semgrepignore leaves out every `tests/`).

fastapi-lint's own modules are byte-compiled first (as `pip install` does for every tool).
Tools are looked up on PATH, then in --tools-bin. The tree is modified only by the
`touched` run (a comment appended to one file, restored at the end) and by
fastapi-lint's `.fastapi_lint_cache/` under the working directory, which is the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
SEMGREP_RULE = """\
rules:
  - id: blocking-sleep-in-async
    languages: [python]
    severity: WARNING
    message: time.sleep in async def
    patterns:
      - pattern: time.sleep(...)
      - pattern-inside: |
          async def $F(...):
            ...
"""

FLOOR = r"""
import sys, libcst
n = 0
for path in sys.stdin.read().splitlines():
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        libcst.parse_module(data)
    except Exception:
        n += 1
print(n)
"""

#: The engine with the token gate open: a no-op rule that wants every file (tokens=None) and
#: every call, so every file is parsed and walked. Today's rules have narrow tokens and skip
#: most files; this is the cost a broad rule (token `async`) will bring.
GATE_OPEN = r"""
import sys
from fastapi_lint.engine import lint_paths
from fastapi_lint.registry import Rule, register
from fastapi_lint.settings import Settings

@register
class Probe(Rule):
    code, name, summary, tokens = "FPI599", "bench-probe", "Benchmark probe.", None
    docs = "".join(f"## {t}\nx\n" for t in ("What it does", "Why is this bad?", "Example", "Use instead",
                                              "Fix safety"))
    def visit_Call(self, node):
        pass

files = sys.stdin.read().splitlines()
jobs = int(sys.argv[1])
lint_paths(files, Settings(enabled=frozenset({"FPI000", "FPI101", "FPI599"}), jobs=jobs, cache=False))
"""


# ---------------------------------------------------------------------------- measuring

def _children_of() -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree_rss_kb(pid: int) -> int:
    kids = _children_of()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


@dataclass
class Sample:
    seconds: float
    peak_kb: int
    returncode: int


def run_measured(cmd: List[str], cwd: str, stdin: Optional[bytes] = None) -> Sample:
    """Wall time and the peak RSS summed over the process tree (pool workers included)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if stdin is not None:
        proc.stdin.write(stdin)  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # The sampler sums the tree; ru_maxrss (the biggest single process, including the forked
    # Python before exec) only stands in for runs too short to be sampled.
    return Sample(elapsed, peak[0] or usage.ru_maxrss, proc.returncode)


# ---------------------------------------------------------------------------- setup

def find_tool(name: str, extra_bins: List[str]) -> Optional[str]:
    for d in extra_bins:
        cand = os.path.join(d, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return shutil.which(name)


def version_of(cmd: List[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0].strip() if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def lint_files(target: str) -> List[str]:
    """The files fastapi-lint checks in `target` (its own discovery, so the floor is comparable)."""
    sys.path.insert(0, os.path.dirname(HERE))
    from fastapi_lint.config import CliOptions, build_settings
    from fastapi_lint.discovery import discover

    cwd = os.getcwd()
    os.chdir(target)
    try:
        settings, _ = build_settings(CliOptions(cache=False))
        return [os.path.abspath(p) for p in discover(["."], settings).files]
    finally:
        os.chdir(cwd)


def count_lines(files: List[str]) -> int:
    n = 0
    for p in files:
        try:
            with open(p, "rb") as fh:
                n += fh.read().count(b"\n")
        except OSError:
            pass
    return n


def machine() -> Dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem = f"{int(fh.readline().split()[1]) // 1024} MB"
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": str(cores), "memory": mem, "os": platform.platform(),
            "python": platform.python_version()}


# ---------------------------------------------------------------------------- main

@dataclass
class Config:
    name: str
    cmd: List[str]
    prepare: Optional[object] = None  # callable run untimed before each timed run
    stdin: Optional[bytes] = None
    samples: List[Sample] = field(default_factory=list)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", default="1,2", help="worker counts for the cold runs (comma-separated)")
    ap.add_argument("--tools-bin", action="append", default=[],
                    help="a directory to look for ruff/flake8/bandit/semgrep in (e.g. another venv's bin)")
    ap.add_argument("--fastapi-lint", default=None, help="the fastapi-lint executable (default: next to python)")
    ap.add_argument("--skip", default="", help="configurations to leave out, comma-separated name prefixes")
    ap.add_argument("--json", help="also write the raw samples here")
    args = ap.parse_args(argv)

    target = os.path.abspath(args.path)
    files = lint_files(target)
    lines = count_lines(files)
    python = sys.executable
    fl = args.fastapi_lint or find_tool("fastapi-lint", [os.path.dirname(python)]) or "fastapi-lint"
    extra = args.tools_bin + [os.path.dirname(python)]
    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    base = [fl, "check", "--exit-zero", "-q"]
    # Byte-compile fastapi-lint's own modules, as `pip install` does; an editable install
    # under PYTHONDONTWRITEBYTECODE=1 would otherwise compile them in every timed run (about
    # 70 ms), which the other tools, installed from wheels, never pay.
    tool_python = os.path.join(os.path.dirname(fl), "python") if os.path.dirname(fl) else python
    subprocess.run([tool_python if os.path.exists(tool_python) else python, "-c",
                    "import compileall, os, fastapi_lint; "
                    "compileall.compile_dir(os.path.dirname(fastapi_lint.__file__), quiet=1)"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    touched = _touch_target(files)
    original = open(touched, "rb").read() if touched else b""
    flip = [0]

    def fill_cache() -> None:
        if touched:
            with open(touched, "wb") as fh:
                fh.write(original)
        subprocess.run(base + ["."], cwd=target, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def fill_then_touch() -> None:
        fill_cache()
        flip[0] += 1
        with open(touched, "wb") as fh:
            fh.write(original + f"\n# bench edit {flip[0]}\n".encode())

    configs: List[Config] = []
    for j in [int(x) for x in args.jobs.split(",") if x.strip()]:
        configs.append(Config(f"fastapi-lint cold -j{j}", base + ["--no-cache", "-j", str(j), "."]))
    # the rule semgrep's one rule is (time.sleep in async def), on the default worker count
    configs.append(Config("fastapi-lint FPI101 only", base + ["--no-cache", "--select", "FPI101", "."]))
    configs.append(Config("fastapi-lint warm", base + ["."], prepare=fill_cache))
    if touched:
        configs.append(Config("fastapi-lint touched", base + ["."], prepare=fill_then_touch))
    configs.append(Config("libcst parse floor", [python, "-c", FLOOR], stdin="\n".join(files).encode()))
    configs.append(Config("fastapi-lint gate open -j1", [python, "-c", GATE_OPEN, "1"],
                          stdin="\n".join(files).encode()))
    versions = {"fastapi-lint": version_of([fl, "--version"]),
                "libcst": version_of([python, "-c", "import importlib.metadata as m; print(m.version('libcst'))"])}
    # Every peer gets the files fastapi-lint checks, by name: walking the tree, each would pick
    # its own (semgrep's default .semgrepignore skips `tests/`, 570 of polar's 1,971 files, and
    # files over 1 MB; flake8 and bandit do not read .gitignore).
    same = [os.path.relpath(f, target) for f in files]
    ruff = find_tool("ruff", extra)
    if ruff:
        configs.append(Config("ruff ASYNC,FAST,S608", [ruff, "check", "--isolated", "--no-cache", "--exit-zero",
                                                       "--select", "ASYNC,FAST,S608", "-q", *same]))
        versions["ruff"] = version_of([ruff, "--version"])
    flake8 = find_tool("flake8", extra)
    if flake8:
        configs.append(Config("flake8 + flake8-async", [flake8, "--isolated", "--select", "ASYNC",
                                                        "--exit-zero", *same]))
        versions["flake8"] = version_of([flake8, "--version"])
    bandit = find_tool("bandit", extra)
    if bandit:
        configs.append(Config("bandit", [bandit, "-q", "--exit-zero", *same]))
        versions["bandit"] = version_of([bandit, "--version"])
    semgrep = find_tool("semgrep", extra)
    rule_file = None
    if semgrep:
        fd, rule_file = tempfile.mkstemp(suffix=".yml")
        with os.fdopen(fd, "w") as fh:
            fh.write(SEMGREP_RULE)
        configs.append(Config("semgrep (1 rule)", [semgrep, "scan", "--config", rule_file, "--metrics=off",
                                                   "--disable-version-check", "--quiet", "--max-target-bytes=0",
                                                   *same]))
        # without the flag, `semgrep --version` waits on a network check (120 s offline)
        versions["semgrep"] = version_of([semgrep, "--version", "--disable-version-check"])
    configs = [c for c in configs if not any(c.name.startswith(s) for s in skip)]
    versions = {k: v for k, v in versions.items()
                if k in ("fastapi-lint", "libcst") or any(c.name.startswith(k) for c in configs)}

    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        for r in range(args.rounds):
            order = configs[r % len(configs):] + configs[:r % len(configs)]
            for c in order:
                if c.prepare:
                    c.prepare()  # type: ignore[operator]
                s = run_measured(c.cmd, target, c.stdin)
                c.samples.append(s)
                print(f"round {r + 1}: {c.name:<26} {s.seconds:8.2f} s {s.peak_kb // 1024:6d} MB rc={s.returncode}",
                      file=sys.stderr, flush=True)
    finally:
        if touched:
            with open(touched, "wb") as fh:
                fh.write(original)
        if rule_file:
            os.unlink(rule_file)
    load_after = os.getloadavg()

    med = {c.name: statistics.median(s.seconds for s in c.samples) for c in configs if c.samples}
    ref = next((n for n in med if n.startswith("fastapi-lint cold -j1")), None) or next(iter(med))
    floor = med.get("libcst parse floor")
    out = []
    out.append(f"Target: `{target}`: {len(files)} files, {lines:,} lines (as discovered by fastapi-lint)")
    out.append(f"Started {started}; {args.rounds} rounds, rotated order; load average "
               f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (cores: {machine()['cores']})")
    out.append("")
    out.append(f"| configuration | median s | min s | max s | lines/s | peak MB | vs {ref} | vs parse floor |")
    out.append("|---|---|---|---|---|---|---|---|")
    for c in configs:
        if not c.samples:
            continue
        times = [s.seconds for s in c.samples]
        m = med[c.name]
        peak = max(s.peak_kb for s in c.samples) / 1024
        rcs = {s.returncode for s in c.samples}
        note = "" if rcs <= {0} else f" (exit {sorted(rcs)})"
        out.append(f"| {c.name}{note} | {m:.2f} | {min(times):.2f} | {max(times):.2f} | {lines / m:,.0f} | "
                   f"{peak:.0f} | {m / med[ref]:.2f}x | {(m / floor) if floor else float('nan'):.2f}x |")
    out.append("")
    out.append("Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()))
    out.append("Machine: " + "; ".join(f"{k} {v}" for k, v in machine().items()))
    print("\n".join(out))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"target": target, "files": len(files), "lines": lines, "versions": versions,
                       "machine": machine(), "load": [load_before, load_after],
                       "samples": {c.name: [vars(s) for s in c.samples] for c in configs}}, fh, indent=1)
    return 0


def _touch_target(files: List[str]) -> Optional[str]:
    """A mid-sized file that passes the token gate of most rules (has `async def`)."""
    cands = []
    for p in files:
        try:
            with open(p, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if b"async def" in data:
            cands.append((len(data), p))
    if not cands:
        cands = [(os.path.getsize(p), p) for p in files if os.path.isfile(p)]
    if not cands:
        return None
    cands.sort()
    return cands[len(cands) // 2][1]


if __name__ == "__main__":
    sys.exit(main())
