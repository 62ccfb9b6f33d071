"""The command line: `fastapi-lint [check] [PATH ...]`, `fastapi-lint rule CODE`, `fastapi-lint rules`.

Exit codes: 0 nothing found (or everything fixed), 1 problems remain, 2 usage error or
internal failure.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, TextIO

import click

from fastapi_lint import __version__
from fastapi_lint.config import CliOptions, ConfigError, build_settings, parse_cli_selectors
from fastapi_lint.diagnostics import DISPLAY_ONLY, Diagnostic, FileResult
from fastapi_lint.discovery import DiscoveryError, discover
from fastapi_lint.engine import PARSE_ERROR, RunResult, decode_source, lint_bytes, lint_paths
from fastapi_lint.registry import DOC_SECTIONS, all_rules, get_rule, rule_meta

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")


class DefaultGroup(click.Group):
    """A group whose default command is `check`: `fastapi-lint app/` means `fastapi-lint check app/`."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check"] + list(args)
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="fastapi-lint", message="%(prog)s %(version)s")
def main() -> None:
    """fastapi-lint: find and fix the mistakes that hurt FastAPI applications in production."""


def run() -> None:
    """The `fastapi-lint` program: `main`, then out of the process without tearing it down.

    Once the output is flushed, nothing is left to do: the workers have exited, the cache
    written and closed. Python's own exit would still free every object of the project index
    and the rules' catalogues one by one (40-50 ms on an 84k-line project, a tenth of a warm
    run). Library callers and tests call `main` itself."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or 1
    os._exit(code)


def _split(values: Sequence[str]) -> List[str]:
    return parse_cli_selectors(values)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set).")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--fix", is_flag=True, help="Apply safe fixes (and unsafe ones with --unsafe-fixes).")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also offer and apply unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--statistics", is_flag=True, help="Print a count of problems per rule instead of each problem.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the problems: no source excerpt, no summary.")
@click.option("--stdin-filename", help="The file name of standard input (with `-` as the path).")
@click.option("--force-exclude", is_flag=True, default=None,
              help="Apply exclusions to paths passed explicitly too (for pre-commit).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this pyproject.toml.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
def check(paths, select, extend_select, ignore, fix, unsafe_fixes, diff, output_format, output_file,
          statistics, exit_zero, no_cache, quiet, stdin_filename, force_exclude, config_path, jobs) -> None:
    """Lint PATHS (default: the current directory)."""
    try:
        opts = CliOptions(
            select=_split(select) if select else None,
            extend_select=_split(extend_select),
            ignore=_split(ignore),
            fix=fix,
            unsafe_fixes=unsafe_fixes,
            diff=diff,
            force_exclude=force_exclude,
            want_edits=output_format in ("json", "sarif"),
            cache=not no_cache,
            config=config_path,
            jobs=jobs,
        )
        settings, _ = build_settings(opts, paths=[stdin_filename] if stdin_filename else list(paths))
    except ConfigError as exc:
        _fail(str(exc))

    use_stdin = list(paths) == ["-"] or (not paths and stdin_filename is not None)
    if use_stdin:
        run = _lint_stdin(settings, stdin_filename)
    else:
        try:
            found = discover(list(paths) or ["."], settings)
        except DiscoveryError as exc:
            _fail(str(exc))
        cache = None
        if settings.cache and not settings.fixing:
            from fastapi_lint.cache import Cache

            cache = Cache(settings)
        run = lint_paths(found.files, settings, cache)
        if cache is not None:
            cache.save()
        for path, why in found.unreadable:
            from fastapi_lint.settings import display_path

            p = display_path(path)
            run.results.append(FileResult(p, [Diagnostic(PARSE_ERROR, "parse-error", f"cannot read: {why}",
                                                         p, 1, 1, 1, 1)]))

    diagnostics = sorted(run.diagnostics, key=Diagnostic.sort_key)
    fixed_total = sum(r.fixed_count for r in run.results)

    if diff:
        code = _print_diff(run, use_stdin, settings.unsafe_fixes)
        for err in run.errors:
            click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_ERROR if run.errors else code)

    if fix and not use_stdin:
        for res in run.results:
            if res.fixed_source is not None:
                _write_atomic(_real_path(res.path), res.fixed_source)

    stream_ctx = _open_output(output_file) if output_file else None
    # With `--fix -`, the fixed source goes to stdout, so the report goes to stderr.
    out: TextIO = stream_ctx or (sys.stderr if (use_stdin and fix) else sys.stdout)
    try:
        _report(diagnostics, run, out, output_format, statistics, quiet, settings.unsafe_fixes, fixed_total,
                color=None if (out is sys.stdout or out is sys.stderr) and not os.environ.get("NO_COLOR") else False)
    finally:
        if stream_ctx:
            stream_ctx.close()
    for err in run.errors:
        click.echo(f"error: {err}", err=True)
    if run.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK if exit_zero or not diagnostics else EXIT_FOUND)


def _open_output(path: str) -> TextIO:
    """The --output-file stream; its directory is created if missing (as ruff does)."""
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        _fail(f"cannot write --output-file {path}: {exc.strerror or exc}")
        raise  # unreachable: _fail exits


_STDIN_SOURCE: Dict[str, bytes] = {}


def _lint_stdin(settings, stdin_filename: Optional[str]) -> RunResult:
    data = sys.stdin.buffer.read()
    name = stdin_filename or "-"
    _STDIN_SOURCE[name] = data
    path = os.path.abspath(stdin_filename) if stdin_filename else "-"
    res = lint_bytes(data, path, settings, None, display=name)
    if res.fixed_source is not None:
        _STDIN_SOURCE[name] = res.fixed_source  # what is left is reported against the fixed text
    if settings.fix and not settings.diff:
        sys.stdout.buffer.write(res.fixed_source if res.fixed_source is not None else data)
        sys.stdout.buffer.flush()
    return RunResult([res], list(res.errors))


def _real_path(display: str) -> str:
    return display if os.path.isabs(display) else os.path.join(os.getcwd(), display)


def _source_lines(path: str) -> Optional[List[str]]:
    data = _STDIN_SOURCE.get(path)
    try:
        if data is None:
            with open(_real_path(path), "rb") as fh:
                data = fh.read()
        try:
            text, _ = decode_source(data)
        except Exception:
            text = data.decode("utf-8", errors="replace")
        return text.splitlines()
    except OSError:
        return None


def _report(diags: List[Diagnostic], run: RunResult, out: TextIO, fmt: str, statistics: bool, quiet: bool,
            unsafe: bool, fixed: int, color: Optional[bool]) -> None:
    from fastapi_lint import report

    if statistics:
        names = {c: m.name for c, m in rule_meta().items()}
        # `[*]`: some of these problems would be fixed by `--fix` with the current settings
        applicable = ("safe", "unsafe") if unsafe else ("safe",)
        fixable = {d.code: True for d in diags if d.fix is not None and d.fix.applicability in applicable}
        out.write(report.render_statistics(diags, names, fixable))
        return
    if fmt == "json":
        out.write(report.render_json(diags))
    elif fmt == "sarif":
        from fastapi_lint.report.sarif import render_sarif

        out.write(render_sarif(diags))
    elif fmt == "github":
        from fastapi_lint.report.github import render_github

        out.write(render_github(diags))
    else:
        lookup = _source_lines
        cache: Dict[str, Optional[List[str]]] = {}

        def cached(path: str) -> Optional[List[str]]:
            if path not in cache:
                cache[path] = lookup(path)
            return cache[path]

        report.render_text(diags, out, cached, color=color, quiet=quiet, unsafe_enabled=unsafe)
        if not quiet:
            out.write(report.summary_line(diags, fixed, unsafe) + "\n")


def _print_diff(run: RunResult, use_stdin: bool, unsafe: bool = False) -> int:
    changed = 0
    fixes = 0
    for res in sorted(run.results, key=lambda r: r.path):
        if res.fixed_source is None or res.original_source is None:
            continue
        old = _decode(res.original_source)
        new = _decode(res.fixed_source)
        lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=res.path, tofile=res.path)
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        sys.stdout.write(text)
        changed += 1
        fixes += res.fixed_count
    more = 0 if unsafe else sum(1 for d in run.diagnostics if d.fix is not None and d.fix.applicability == "unsafe")
    hint = f" ({more} more with --unsafe-fixes)" if more else ""
    if changed:
        click.echo(f"Would fix {fixes} {'problem' if fixes == 1 else 'problems'} in {changed} "
                   f"{'file' if changed == 1 else 'files'}{hint}.", err=True)
        return EXIT_FOUND
    click.echo(f"No fixes available{hint}.", err=True)
    return EXIT_OK


def _decode(data: bytes) -> str:
    try:
        return decode_source(data)[0]
    except Exception:
        return data.decode("utf-8", errors="replace")


def _write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fastapi-lint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@main.command("rule", short_help="Print the documentation of a rule.")
@click.argument("code")
def rule_cmd(code: str) -> None:
    """Print the documentation of rule CODE (e.g. FPI101)."""
    rule = get_rule(code)
    if rule is None:
        _fail(f"unknown rule {code!r}; `fastapi-lint rules` lists them")
    click.echo(rule_docs(rule))


def rule_docs(rule) -> str:
    sections = rule.doc_sections()
    fix = {None: "none", "safe": "safe", "unsafe": "unsafe (applied with --unsafe-fixes)",
           DISPLAY_ONLY: "hint only (never applied)"}[rule.fix]
    head = [f"# {rule.code} {rule.name}", "",
            f"Family: {rule.family()} · Default: {'on' if rule.default else 'off'} · Fix: {fix}", "",
            rule.summary, ""]
    body = []
    for title in DOC_SECTIONS:
        body += [f"## {title}", sections[title].strip(), ""]
    return "\n".join(head + body).rstrip() + "\n"


@main.command("rules", short_help="List every rule.")
@click.option("--format", "output_format", type=click.Choice(("text", "json", "markdown")), default="text")
def rules_cmd(output_format: str) -> None:
    """List every rule: code, name, family, default on/off, fix."""
    rules = all_rules()
    if output_format == "json":
        import json

        click.echo(json.dumps([{"code": r.code, "name": r.name, "family": r.family(), "default": r.default,
                                "fix": r.fix, "summary": r.summary} for r in rules.values()], indent=2))
        return
    if output_format == "markdown":
        click.echo(rules_markdown_table(), nl=False)
        return
    for r in rules.values():
        fix = "hint" if r.fix == DISPLAY_ONLY else (r.fix or "-")
        click.echo(f"{r.code}  {r.name:<36} {r.family():<12} {'on ' if r.default else 'off'}  {fix}")


def rules_markdown_table() -> str:
    fix_label = {None: "", "safe": "safe", "unsafe": "unsafe", DISPLAY_ONLY: "hint"}
    lines = ["| Code | Name | Family | Default | Fix | What it reports |", "|---|---|---|---|---|---|"]
    for r in all_rules().values():
        lines.append(f"| {r.code} | {r.name} | {r.family()} | {'on' if r.default else 'off'} | "
                     f"{fix_label[r.fix]} | {r.summary} |")
    return "\n".join(lines) + "\n"
