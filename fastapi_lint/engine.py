"""The per-file pipeline and the run over many files.

    read -> decode check -> token gate -> parse once (libcst) -> ModuleContext
         -> all enabled rules in one traversal -> positions (only if something was found)
         -> noqa / per-file-ignores -> fixes (re-lint until stable) -> FileResult

libcst, the rules and the fixes are imported on the first file that is parsed (`analysis.py`,
`fixes.py`): a run answered from the cache never loads them (0.15-0.2 s of a warm run).
"""

from __future__ import annotations

import ast
import contextlib
import gc
import io
import os
import re
import sys
import tokenize
import traceback
import warnings
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Type, Union

from fastapi_lint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE, Diagnostic, FileResult, Fix
from fastapi_lint.model.facts import FileFacts, facts_of_source
from fastapi_lint.model.index import ModuleSummary, ProjectIndex, module_name_for, summarize_text
from fastapi_lint.noqa import NoqaIndex, code_matches, file_exemption
from fastapi_lint.registry import FixSpec, Rule, all_rules, rule_meta
from fastapi_lint.settings import Settings, display_path

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from fastapi_lint.analysis import Analysis

PARSE_ERROR = "FPI000"
MAX_FIX_ROUNDS = 10
#: Below this many files the run stays in one process: a pool costs more than it saves.
POOL_THRESHOLD = 12


# ---------------------------------------------------------------------------- reading

class SourceError(Exception):
    """The file cannot be read or decoded: becomes one FPI000 diagnostic."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def decode_source(data: bytes) -> Tuple[str, str]:
    """(text, encoding) honouring a BOM and a PEP 263 coding line; SourceError if undecodable."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        msg = exc.msg if hasattr(exc, "msg") else str(exc)
        if "invalid or missing encoding declaration" in msg:
            # detect_encoding says this when the first lines are not UTF-8 and there is no
            # coding line: the decode below names the byte and its position instead.
            encoding = "utf-8"
        else:
            raise SourceError(f"cannot detect encoding: {msg}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(f"cannot decode as {encoding}: invalid byte {data[exc.start:exc.start + 1]!r} "
                          f"(add a PEP 263 coding line if the file is not UTF-8)", line, col)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


_LIBCST_PREFIX = re.compile(r"^(?:parser error: )?(?:error at \d+:\d+: )?")


def _syntax_error(data: Union[bytes, str], exc: Exception) -> SourceError:
    """One clear FPI000 for a file libcst cannot parse.

    libcst's native parser often places the error on a later line than the mistake and
    phrases it as a token list; CPython's parser, when it rejects the file too, gives the
    position of the mistake and a readable message, so that is preferred.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(data)
    except SyntaxError as err:
        if err.lineno and "too many nested" not in (err.msg or ""):
            return SourceError(f"syntax error: {err.msg}", err.lineno, max(1, err.offset or 1))
    except (ValueError, RecursionError, MemoryError):
        pass
    import libcst as cst

    if isinstance(exc, cst.ParserSyntaxError):
        return SourceError(f"syntax error: {_LIBCST_PREFIX.sub('', exc.message)}", exc.raw_line,
                           exc.raw_column + 1)
    if isinstance(exc, RecursionError):
        return SourceError("syntax error: too deeply nested to parse")
    return SourceError(f"syntax error: {type(exc).__name__}: {exc}")


def parse_source(data: Union[bytes, str]) -> cst.Module:
    """libcst parse of the file's bytes (libcst keeps the encoding, BOM and line endings), or
    of source a host already decoded (the flake8 plugin)."""
    nul, nl = (b"\x00", b"\n") if isinstance(data, bytes) else ("\x00", "\n")
    if nul in data:
        pos = data.index(nul)
        line = data.count(nl, 0, pos) + 1
        raise SourceError("source contains a null byte", line, pos - (data.rfind(nl, 0, pos) + 1) + 1)
    import libcst as cst

    try:
        with _unvalidated():
            return cst.parse_module(data)
    except Exception as exc:  # ParserSyntaxError; the native parser raises a few other types on odd input
        raise _syntax_error(data, exc) from None


def _skip_validation(self) -> None:
    pass


@contextlib.contextmanager
def _unvalidated():
    """libcst validates every node it constructs (`CSTNode.__post_init__` -> `_validate`), also
    those its own parser builds, which its grammar already checked: 13% of the parse (libcst's
    source says as much: "It might make more sense to move validation work into the visitor,
    which would allow us to avoid validating the tree when parsing a file"). Skipped while our
    parse runs; nodes built afterwards (fixes) are validated as usual.
    `tests/test_engine.py` parses every fixture, and damaged copies of them, both ways."""
    from libcst._nodes.base import CSTNode

    validate = CSTNode.__dict__.get("__post_init__")
    if validate is None:  # another libcst: leave it alone
        yield
        return
    CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        CSTNode.__post_init__ = validate  # type: ignore[method-assign]


def quick_syntax_ok(text: str) -> bool:
    """A cheap check (CPython's parser, ~10x faster than libcst) for files the token gate skips:
    of the text rewritten for the running interpreter where it uses newer syntax (`modern.py`),
    as the scan reads it (polar: 72 files of Python 3.12 syntax went to libcst to be checked)."""
    from fastapi_lint.model.modern import parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


# ---------------------------------------------------------------------------- rules

def rules_for(enabled: FrozenSet[str]) -> List[Type[Rule]]:
    rules = [r for code, r in all_rules().items() if code in enabled and r.visitor_methods()]
    if not _IDENTIFIER_TOKENS:
        _IDENTIFIER_TOKENS.update(t for r in all_rules().values() for t in (*(r.tokens or ()), *(r.requires or ()))
                                  if _IDENTIFIER.fullmatch(t))
    return rules


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_TOKENS: Set[str] = set()  # the rules' tokens that `_IDENTIFIER` matches whole (`rules_for`)


def gate(rules: Sequence[Type[Rule]], text: str, index: Optional[ProjectIndex] = None,
         facts: Optional[FileFacts] = None, module: Optional[Tuple[Optional[str], bool]] = None) -> List[Type[Rule]]:
    """The rules that can report on this text: one of their tokens (or, with an index, one of
    their index identifiers) appears, and one of their `requires` strings too; with the facts
    of the scan pass, their `wants(facts, index)` holds; with the module's (name,
    is_package) too, their `wants_tree` on the text's `ast` tree."""
    out = _gate(rules, text, index, facts)
    if module is None or facts is None or not out or not all(r.wants_tree for r in out):
        # Some rule without a tree gate has the file parsed by libcst anyway: a tree gate
        # would save only its own rule's visits, for the cost of an `ast` parse. (The rules it
        # would have kept out report nothing: tests/test_gates.py lints with and without it.)
        return out
    from fastapi_lint.model.modern import parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return out
    return [r for r in out if r.wants_tree is None or r.wants_tree(tree, facts, index, module)]


def _gate(rules: Sequence[Type[Rule]], text: str, index: Optional[ProjectIndex],
          facts: Optional[FileFacts]) -> List[Type[Rule]]:
    out = []
    identifiers: Optional[Set[str]] = None
    # Rules share tokens ("async", "Session", ".get(", ...): each is searched for once. A token
    # the text lacks costs a scan of the whole text, unless it is spelled like an identifier:
    # then every place it occurs in is inside one of the text's identifiers (a run of
    # [A-Za-z0-9_] less its leading digits), and their distinct spellings, joined, are searched.
    present: Dict[str, bool] = {}
    spelled = ""

    def holds(tokens: Sequence[str]) -> bool:
        nonlocal identifiers, spelled
        for t in tokens:
            found = present.get(t)
            if found is None:
                if t in _IDENTIFIER_TOKENS:
                    if identifiers is None:
                        identifiers = set(_IDENTIFIER.findall(text))
                    if not spelled:
                        spelled = "\n".join(identifiers)
                    found = t in identifiers or t in spelled
                else:
                    found = t in text
                present[t] = found
            if found:
                return True
        return False

    for r in rules:
        if r.requires is not None and not holds(r.requires):
            continue
        names = _index_tokens(r, index)
        if names is not None:
            if identifiers is None:
                identifiers = set(_IDENTIFIER.findall(text))
            if identifiers.isdisjoint(names):
                continue
        elif r.tokens is not None and not holds(r.tokens):
            continue
        if facts is not None and not r.wants(facts, index):
            continue
        out.append(r)
    return out


def _wanted(rules: Sequence[Type[Rule]], facts: FileFacts, index: Optional[ProjectIndex],
            index_rules: Optional[bool] = None) -> bool:
    """Whether any rule's `wants` holds: the facts gate alone, which the parent can apply before
    sending a file to a worker (the worker applies both gates). `index_rules`: only the rules
    whose `wants` needs the index (True) or only the others (False); the others are asked
    without it."""
    return any(r.wants(facts, index if r.wants_index else None) for r in rules
               if index_rules is None or r.wants_index == index_rules)


def _index_tokens(rule: Type[Rule], index: Optional[ProjectIndex]) -> Optional[FrozenSet[str]]:
    if index is None:
        return None
    memo = index.gate_tokens
    if rule.code not in memo:
        memo[rule.code] = rule.index_tokens(index)
    return memo[rule.code]


# ---------------------------------------------------------------------------- one file

def _spans(spec: FixSpec, positions) -> List[Tuple[Tuple[int, int], Tuple[int, int]]]:
    out = []
    for node in spec.replacements:
        r = positions.get(node)
        if r is not None:
            out.append(((r.start.line, r.start.column), (r.end.line, r.end.column)))
    return out


def _applicable(spec: Optional[FixSpec], unsafe: bool) -> bool:
    if spec is None or spec.applicability == DISPLAY_ONLY:
        return False
    return spec.applicability == SAFE or (unsafe and spec.applicability == UNSAFE)


def _diagnostics(analysis: Analysis, display: str, text: str, want_edits: bool,
                 inline_noqa: bool = True) -> List[Diagnostic]:
    from fastapi_lint.fixes import apply_specs, text_edits

    noqa = NoqaIndex(text)
    out: List[Diagnostic] = []
    seen = set()
    batch: Optional[Dict[int, list]] = None
    for f in analysis.findings:
        r = analysis.positions.get(f.node) if analysis.positions is not None else None
        if r is None:
            continue
        code = f.rule.code
        if inline_noqa and noqa.suppressed(code, r.start.line):
            continue
        if not inline_noqa and noqa.file_codes and code_matches(code, noqa.file_codes):
            continue
        key = (code, r.start.line, r.start.column, f.message)
        if key in seen:
            continue
        seen.add(key)
        fix = None
        if f.fix is not None:
            edits = []
            if want_edits and f.fix.applicability != DISPLAY_ONLY:
                if batch is None:
                    batch = _batch_edits(analysis)
                if id(f.fix) in batch:
                    edits = batch[id(f.fix)]
                else:
                    fixed = apply_specs(analysis.module, [f.fix])
                    if fixed is None:
                        f.fix = None  # would not parse: not offered at all
                    else:
                        edits = text_edits(analysis.module.code, fixed.code)
            if f.fix is not None:
                fix = Fix(f.fix.applicability, f.fix.title, edits)
        out.append(Diagnostic(code, f.rule.name, f.message, display, r.start.line, r.start.column + 1,
                              r.end.line, r.end.column + 1, "error", fix))
    out.sort(key=Diagnostic.sort_key)
    return out


def _batch_edits(analysis: Analysis) -> Dict[int, list]:
    """Each fix's edits, from ONE application of all fixes that do not overlap (one transform,
    one re-parse, one diff per set of imports the fixes add) instead of one per fix: a file
    with hundreds of fixable findings stays linear. A diff hunk is given to the fix whose
    replaced node it falls in; fixes whose hunks cannot be told apart are left out (the
    caller applies those one by one). Shared imports: every fix that needs an import gets the
    edit that adds it.

    Imports a fix may leave unused (`remove_imports`): a fix whose import another chosen fix
    also uses keeps it when applied alone (the other fix's node still uses it), so its edits
    come from a batch applied without removals; a fix that may be the import's last user
    goes one by one."""
    from fastapi_lint.fixes import choose_non_overlapping

    positions = analysis.positions
    candidates = []
    for f in sorted(analysis.findings, key=lambda f: _start(analysis, f)):
        if f.fix is None or f.fix.applicability == DISPLAY_ONLY or not f.fix.replacements:
            continue
        candidates.append((f.fix, _spans(f.fix, positions)))
    if len(candidates) < 2:
        return {}
    chosen = choose_non_overlapping(candidates)
    users: Dict[tuple, int] = {}
    for spec in chosen:
        for entry in set(map(tuple, spec.remove_imports)):
            users[entry] = users.get(entry, 0) + 1
    groups: Dict[tuple, List[FixSpec]] = {}
    for spec in chosen:
        if all(users[tuple(e)] >= 2 for e in spec.remove_imports):
            groups.setdefault(tuple(map(tuple, spec.imports)), []).append(spec)
    out: Dict[int, list] = {}
    for group in groups.values():
        if len(group) >= 2:
            out.update(_group_edits(analysis, group))
    return out


def _group_edits(analysis: Analysis, group: List[FixSpec]) -> Dict[int, list]:
    """`_batch_edits` for fixes that add the same imports and remove none when alone."""
    from fastapi_lint.fixes import apply_specs, text_edits

    applied = [dataclasses.replace(spec, remove_imports=[]) for spec in group]
    fixed = apply_specs(analysis.module, applied)
    if fixed is None:
        return {}
    spans = {id(spec): [((a[0], a[1] + 1), (b[0], b[1] + 1)) for a, b in _spans(spec, analysis.positions)]
             for spec in group}
    owners: Dict[int, list] = {id(spec): [] for spec in group}
    shared: List = []
    for edit in text_edits(analysis.module.code, fixed.code):
        start, end = (edit.line, edit.column), (edit.end_line, edit.end_column)
        hits = [sid for sid, sp in spans.items() if any(a <= start and end <= b for a, b in sp)]
        if len(hits) == 1:
            owners[hits[0]].append(edit)
        elif not hits:
            shared.append(edit)  # an added import, outside every replaced node
        else:
            return {}
    if shared and not group[0].imports:
        return {}  # hunks outside the nodes that are not the shared imports: one by one
    out: Dict[int, list] = {}
    for spec in group:
        own = owners[id(spec)]
        if own:  # else its hunk merged with another's: left to the one-by-one path
            out[id(spec)] = sorted(own + shared, key=lambda e: (e.line, e.column))
    return out


def _error_diag(display: str, exc: SourceError) -> Diagnostic:
    return Diagnostic(PARSE_ERROR, "parse-error", exc.message, display, exc.line, exc.column,
                      exc.line, exc.column, "error", None)


#: libcst's code generation (positions, fixes) recurses once or more per nesting level; a
#: 1,000-deep expression needs more than CPython's default limit of 1,000 frames.
RECURSION_LIMIT = 12_000


@contextlib.contextmanager
def _deep_recursion():
    old = sys.getrecursionlimit()
    if old < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def lint_bytes(data: bytes, path: str, settings: Settings, index: Optional[ProjectIndex] = None,
               display: Optional[str] = None, facts: Optional[FileFacts] = None) -> FileResult:
    """Lint (and with settings.fix/diff, fix) one file's content. `facts`: what the scan pass
    read from this content with `ast` (then it is known to parse with CPython)."""
    display = display or display_path(path)
    try:
        with _deep_recursion():
            return _lint_bytes(data, path, settings, index, display, facts)
    except RecursionError:
        return FileResult(display, [_error_diag(display, SourceError(
            f"nested too deeply to analyse (more than {RECURSION_LIMIT} levels of recursion)"))])


def _lint_bytes(data: bytes, path: str, settings: Settings, index: Optional[ProjectIndex],
                display: str, facts: Optional[FileFacts]) -> FileResult:
    result = FileResult(display)
    try:
        text, _ = decode_source(data)
    except SourceError as exc:
        result.diagnostics.append(_error_diag(display, exc))
        return result
    skip, _ = file_exemption(text)
    if skip:
        return result
    rule_classes = gate(rules_for(settings.enabled_for(path)), text, index, facts,
                        module_name_for(path, settings.root) if facts is not None else None)
    if not rule_classes:
        if facts is None and not quick_syntax_ok(text):
            try:
                parse_source(data)
            except SourceError as exc:
                result.diagnostics.append(_error_diag(display, exc))
        return result
    try:
        module = parse_source(data)
    except SourceError as exc:
        result.diagnostics.append(_error_diag(display, exc))
        return result

    from fastapi_lint.analysis import analyse

    analysis = analyse(module, path, rule_classes, index, settings.root, text)
    if settings.fixing:
        from fastapi_lint.fixes import apply_specs, choose_non_overlapping

        original = data
        for round_no in range(MAX_FIX_ROUNDS):
            noqa = NoqaIndex(text)
            candidates = []
            for f in sorted(analysis.findings, key=lambda f: _start(analysis, f)):
                if not _applicable(f.fix, settings.unsafe_fixes):
                    continue
                r = analysis.positions.get(f.node)
                if r is None or noqa.suppressed(f.rule.code, r.start.line):
                    continue
                candidates.append((f.fix, _spans(f.fix, analysis.positions)))
            if not candidates:
                break
            if round_no == 0 and analysis.module.bytes != data:
                # libcst does not reproduce this file byte for byte (e.g. a final `\r` of a
                # file with old Mac line endings): writing it would change more than the fix.
                break
            chosen = choose_non_overlapping(candidates)
            new_module = apply_specs(analysis.module, chosen)
            if new_module is None:  # together they fail: keep only those that work alone
                chosen = [s for s in chosen if apply_specs(analysis.module, [s]) is not None][:1]
                new_module = apply_specs(analysis.module, chosen) if chosen else None
            if new_module is None or new_module.code == analysis.module.code:
                break
            result.fixed_count += len(chosen)
            data = new_module.bytes
            text, _ = decode_source(data)
            analysis = analyse(new_module, path, gate(rules_for(settings.enabled_for(path)), text, index),
                                index, settings.root, text)
        if data != original:
            result.original_source = original
            result.fixed_source = data
    result.diagnostics = _diagnostics(analysis, display, text, settings.want_edits)
    for code, tb in sorted(analysis.crashed.items()):
        result.errors.append(f"{display}: rule {code} failed: {tb.strip().splitlines()[-1]}")
    return result


def lint_text(text: str, path: str, settings: Settings, index: Optional[ProjectIndex] = None,
              display: Optional[str] = None, *, syntax_ok: bool = False,
              inline_noqa: bool = True, facts: Optional[FileFacts] = None) -> FileResult:
    """Lint source that the caller has already read and decoded; never fixes.

    For hosts that own the file (the flake8 plugin): the text is parsed once, here, and the
    file is not read again. `syntax_ok` says the caller already knows CPython parses it (no
    second `ast` check for files the token gate skips); `inline_noqa=False` leaves `# noqa`
    comments to the host (the file-level `# fastapi-lint: noqa` still applies); `facts` are
    the second gate's, read from the host's `ast` tree.
    """
    display = display or display_path(path)
    result = FileResult(display)
    if text.startswith("\ufeff"):
        text = text[1:]
    skip, _ = file_exemption(text)
    if skip:
        return result
    rule_classes = gate(rules_for(settings.enabled_for(path)), text, index, facts)
    if not rule_classes and (syntax_ok or facts is not None or quick_syntax_ok(text)):
        return result
    try:
        module = parse_source(text)
    except SourceError as exc:
        result.diagnostics.append(_error_diag(display, exc))
        return result
    if not rule_classes:
        return result
    from fastapi_lint.analysis import analyse

    analysis = analyse(module, path, rule_classes, index, settings.root, text)
    result.diagnostics = _diagnostics(analysis, display, text, settings.want_edits, inline_noqa)
    for code, tb in sorted(analysis.crashed.items()):
        result.errors.append(f"{display}: rule {code} failed: {tb.strip().splitlines()[-1]}")
    return result


def _start(analysis: Analysis, finding) -> Tuple[int, int]:
    r = analysis.positions.get(finding.node) if analysis.positions is not None else None
    return (r.start.line, r.start.column) if r is not None else (0, 0)


def lint_source(source, path: str = "<stdin>", settings: Optional[Settings] = None,
                index: Optional[ProjectIndex] = None, facts: Optional[FileFacts] = None) -> FileResult:
    """Lint a string or bytes as if it were the file at `path` (`facts`: see `lint_bytes`)."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    return lint_bytes(source, path, settings or Settings(), index, display=path, facts=facts)


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError:
        raise SourceError("is a directory, not a file")
    except FileNotFoundError:
        raise SourceError("file disappeared before it could be read")
    except PermissionError:
        raise SourceError("permission denied")
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}")


def lint_file(path: str, settings: Settings, index: Optional[ProjectIndex] = None,
              facts: Optional[FileFacts] = None) -> FileResult:
    display = display_path(path)
    try:
        data = read_file(path)
    except SourceError as exc:
        return FileResult(display, [_error_diag(display, exc)])
    try:
        return lint_bytes(data, path, settings, index, display, facts)
    except Exception:  # the engine itself failed on this file: report, go on
        return FileResult(display, errors=[f"{display}: internal error: "
                                           f"{traceback.format_exc(limit=-2).strip().splitlines()[-1]}"])


# ---------------------------------------------------------------------------- index pass

def summarize_file(path: str, settings: Settings) -> Optional[ModuleSummary]:
    try:
        data = read_file(path)
        text, _ = decode_source(data)
    except Exception:
        return None
    name, is_package = module_name_for(path, settings.root)
    return summarize_text(text, path, name, is_package)


# ---------------------------------------------------------------------------- many files

@dataclass
class RunResult:
    results: List[FileResult] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> List[Diagnostic]:
        return [d for r in self.results for d in r.diagnostics]


_worker_state: Dict[str, object] = {}


def _init_worker(settings: Settings, index: Optional[ProjectIndex], scanned=None) -> None:
    _worker_state["settings"] = settings
    _worker_state["index"] = index
    _worker_state["scanned"] = scanned


def _work(task: Tuple[str, Optional[FileFacts]]) -> FileResult:
    path, facts = task
    return lint_file(path, _worker_state["settings"], _worker_state["index"], facts)  # type: ignore[arg-type]


def _index_work(path: str) -> FileResult:
    """A file of a run with the project index: its facts from the scan (which forked children
    inherit with the index, not per task) say whether any enabled rule can report in it; if
    one can, it is linted. Deciding here rather than before the lint keeps the decision,
    0.1-0.3 s on a 100k-line tree, off the run's serial path."""
    settings: Settings = _worker_state["settings"]  # type: ignore[assignment]
    index: ProjectIndex = _worker_state["index"]  # type: ignore[assignment]
    facts, wanted = _worker_state["scanned"]  # type: ignore[misc]
    f = _facts_at(facts, path)
    if f is not None and not wanted.get(path) and not _wanted(
            rules_for(settings.enabled_for(path)), f, index, index_rules=True if path in wanted else None):
        # The scan read and parsed it and no enabled rule wants it: nothing to report.
        return FileResult(display_path(path))
    return lint_file(path, settings, index, f)


def _facts_at(facts: Dict[str, object], path: str) -> Optional[FileFacts]:
    """The facts of `scan` for a file: a summary from the cache holds them as it stores them."""
    f = facts.get(path)
    if type(f) is list:  # None if damaged: linted without the facts gate
        f = facts[path] = FileFacts.from_data(f)  # type: ignore[arg-type]
    return f  # type: ignore[return-value]


def _summary_work(path: str) -> Optional[ModuleSummary]:
    settings: Settings = _worker_state["settings"]  # type: ignore[assignment]
    summary = summarize_file(path, settings)
    if summary is not None and summary.gate_facts is not None and _RULES_LOADED:
        # Once the rules are loaded, those whose `wants` needs no index are asked here.
        # Children forked before they were (`_map(preload=False)`: the parent loads them while
        # the children scan, 0.15 s) leave every rule to the lint (`_index_work`).
        summary.wanted = _wanted(rules_for(settings.enabled_for(path)), summary.gate_facts, None, index_rules=False)
    return summary


def worker_count(settings: Settings, n_files: int) -> int:
    if settings.jobs is not None:
        jobs = max(1, settings.jobs)
    else:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_files < POOL_THRESHOLD:
        return 1
    return min(jobs, n_files)


_RULES_LOADED = False
#: The collector's first threshold while files are read, parsed and linted (see `_map`).
GC_THRESHOLD = 100_000


def _load_rules() -> None:
    global _RULES_LOADED
    import fastapi_lint.analysis  # noqa: F401

    all_rules()
    _RULES_LOADED = True


def _map(fn, tasks: Sequence, settings: Settings, index: Optional[ProjectIndex], preload: bool = True,
         scanned=None) -> list:
    """`[fn(t) for t in tasks]` (a task is a path or a tuple starting with one), on several
    processes when there are enough tasks: on Linux the parent and `jobs - 1` children forked
    for these tasks (`forkmap`), elsewhere a process pool (`_pool_map`). `preload=False`: the
    tasks need no rules; the parent loads them while the children start, for what follows.
    `scanned`: what `_index_work` reads, (facts, wanted) of `scan`."""
    jobs = worker_count(settings, len(tasks))
    if tasks and preload:
        # What every task needs (the rules, libcst): loaded before the freeze below, which must
        # cover it, and shared by forked workers rather than loaded once per worker.
        _load_rules()
    # What the process already holds (the index, every file's facts) lives until the end:
    # frozen, the garbage collector stops walking it at every full collection, which libcst's
    # many allocations per file trigger often. Forked children share it copy-on-write, which a
    # collection in a child would otherwise break by touching every object.
    gc.freeze()
    # A file's trees (libcst's or `ast`'s) hold no reference cycle once its work is done, and
    # are freed as soon as it is (tests/test_engine.py checks): the collector, run every 700
    # allocations by default, would only walk the live trees again and again (6% of a run).
    # It still runs, for any cycle left, every 100,000; forked workers inherit the setting.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    try:
        if jobs <= 1:
            _init_worker(settings, index, scanned)
            return [fn(t) for t in tasks]
        meanwhile = None if preload else _load_rules
        from fastapi_lint import forkmap

        if forkmap.available():
            _init_worker(settings, index, scanned)
            return forkmap.fork_map(fn, tasks, jobs, _by_size(tasks), _LOST[fn.__name__], meanwhile)
        return _pool_map(fn, tasks, settings, index, jobs, meanwhile, scanned)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _pool_map(fn, tasks: Sequence, settings: Settings, index: Optional[ProjectIndex], jobs: int,
              meanwhile=None, scanned=None) -> list:
    """Where processes cannot be forked (macOS, Windows): a pool of spawned workers, each
    given the settings, the index and the facts. It gets the largest files first, in small
    chunks, so that no worker is left with a big file at the end while the others idle;
    results come back in the order of `tasks`."""
    from concurrent.futures import ProcessPoolExecutor  # 11 ms of imports a run on cached files never needs

    from fastapi_lint.forkmap import chunk_size

    order = _by_size(tasks)
    chunk = chunk_size(len(tasks), jobs)

    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                             initargs=(settings, index, scanned)) as pool:
        pending = pool.map(fn, [tasks[i] for i in order], chunksize=chunk)  # the workers start now
        if meanwhile is not None:
            meanwhile()
        done = list(pending)
    results: list = [None] * len(tasks)
    for i, res in zip(order, done):
        results[i] = res
    return results


def _by_size(tasks: Sequence) -> List[int]:
    """Task indices, the largest file first."""
    return sorted(range(len(tasks)), key=lambda i: -_size(_task_path(tasks[i])))


def _task_path(task) -> str:
    return task[0] if isinstance(task, tuple) else task


def _lost_lint(task, dead: List[str]) -> FileResult:
    display = display_path(_task_path(task))
    why = ", ".join(dead) or "no exit status"
    return FileResult(display, errors=[f"{display}: internal error: the worker process linting it died ({why})"])


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def needs_index(settings: Settings) -> bool:
    return any(m.needs_index for code, m in rule_meta().items() if code in settings.enabled)


def scan(paths: Sequence[str], settings: Settings, cache=None) \
        -> Tuple[ProjectIndex, Dict[str, FileFacts], Dict[str, bool]]:
    """The scan pass: every file read with CPython's `ast` (or its summary taken from the
    cache): the project index, per file the facts of the second gate (as the cache stores
    them, for a summary from the cache: see `_facts_at`), and what the scan
    workers found of the rules whose `wants` needs no index (path -> wanted; absent for
    summaries taken from the cache)."""
    summaries = _summaries(paths, settings, cache)
    facts: Dict[str, FileFacts] = {}
    wanted: Dict[str, bool] = {}
    for p, s in summaries.items():
        if s is not None and s.gate_facts is not None:
            facts[p] = s.gate_facts
            s.gate_facts = None  # the index goes to every worker; each file's facts only to its own
            if s.wanted is not None:
                wanted[p] = s.wanted
                s.wanted = None
        elif s is not None and s.gate_data is not None:
            facts[p] = s.gate_data  # from the cache: decoded if the file is linted (`_facts_at`)
            s.gate_data = None
    return ProjectIndex(s for s in (summaries[p] for p in paths) if s is not None), facts, wanted


def _summaries(paths: Sequence[str], settings: Settings, cache) -> Dict[str, Optional[ModuleSummary]]:
    summaries: Dict[str, Optional[ModuleSummary]] = {}
    todo = []
    for p in paths:
        found, hit = cache.get_summary(p) if cache is not None else (False, None)
        if found:
            summaries[p] = hit
        else:
            todo.append(p)
    for p, s in zip(todo, _map(_summary_work, todo, settings, None, preload=False)):
        summaries[p] = s
        if cache is not None:
            cache.put_summary(p, s)
    return summaries


def _facts_work(path: str) -> Tuple[bool, Optional[FileFacts]]:
    """The scan pass when no enabled rule needs the project index (a `--select` of such rules):
    no summary, and no `ast` facts for a file that holds none of the rules' tokens.
    (False, _): CPython parses the file and no enabled rule can report in it. (True, facts):
    lint it; facts are None when the file could not be read or parsed (the lint says why)."""
    settings: Settings = _worker_state["settings"]  # type: ignore[assignment]
    try:
        text, _ = decode_source(read_file(path))
    except SourceError:
        return True, None
    rules = gate(rules_for(settings.enabled_for(path)), text)
    if not rules:
        return not quick_syntax_ok(text), None
    facts = facts_of_source(text, *module_name_for(path, settings.root), resolve=True)
    if facts is None:
        return True, None
    return any(r.wants(facts, None) for r in rules), facts


#: What stands for the result of a task whose forked worker died (see `forkmap`): a file
#: without a summary is left out of the index; a file whose scan was lost is linted.
_LOST = {
    "_summary_work": lambda task, dead: None,
    "_facts_work": lambda task, dead: (True, None),
    "_index_work": _lost_lint,
    "_work": _lost_lint,
}


def lint_paths(paths: Sequence[str], settings: Optional[Settings] = None, cache=None) -> RunResult:
    """Lint files (already discovered: see `discovery.discover`)."""
    settings = settings or Settings()
    if not needs_index(settings):
        return _lint_without_index(paths, settings, cache)
    if cache is not None and not settings.fixing:
        # nothing changed since the last run: its index, and every result, stand
        last = cache.unchanged_index(paths)
        if last is not None:
            hits = [cache.get(p, last) for p in paths]
            if all(h is not None for h in hits):
                return _collect(paths, dict(zip(paths, hits)), {}, cache, last)
    index, facts, wanted = scan(paths, settings, cache)
    index_digest: Optional[str] = None
    if cache is not None:
        index_digest = index.digest()  # what cached results depend on
        cache.put_index(paths, index_digest)
    todo: List[str] = []
    cached: Dict[str, FileResult] = {}
    for p in paths:
        hit = cache.get(p, index_digest) if cache is not None and not settings.fixing else None
        if hit is not None:
            cached[p] = hit
        else:
            todo.append(p)
    fresh = dict(zip(todo, _map(_index_work, todo, settings, index, scanned=(facts, wanted))))
    return _collect(paths, cached, fresh, cache, index_digest)


def _lint_without_index(paths: Sequence[str], settings: Settings, cache) -> RunResult:
    """Each file's result depends on that file alone: cached results need no scan at all, and
    the others only the facts their rules' tokens call for (`_facts_work`)."""
    cached: Dict[str, FileResult] = {}
    todo: List[str] = []
    for p in paths:
        hit = cache.get(p) if cache is not None and not settings.fixing else None
        if hit is not None:
            cached[p] = hit
        else:
            todo.append(p)
    fresh: Dict[str, FileResult] = {}
    sent: List[Tuple[str, Optional[FileFacts]]] = []
    for p, (want, f) in zip(todo, _map(_facts_work, todo, settings, None)):
        if want:
            sent.append((p, f))
        else:
            fresh[p] = FileResult(display_path(p))
    fresh.update(zip([p for p, _ in sent], _map(_work, sent, settings, None)))
    return _collect(paths, cached, fresh, cache, None)


def _collect(paths: Sequence[str], cached: Dict[str, FileResult], fresh: Dict[str, FileResult], cache,
             index_digest: Optional[str]) -> RunResult:
    """The results in the order of `paths`; fresh ones go to the cache."""
    run = RunResult()
    for p in paths:
        res = cached.get(p) or fresh[p]
        if cache is not None and p in fresh and not res.errors and res.fixed_source is None:
            cache.put(p, res, index_digest)
        run.results.append(res)
        run.errors.extend(res.errors)
    return run
