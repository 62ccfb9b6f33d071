"""SARIF 2.1.0 output (`--format sarif`), shaped for GitHub code scanning.

- `tool.driver`: name, version, informationUri, and every rule (id, name, short and full
  description, help text and markdown from the rule's docs, helpUri, default level,
  whether it is on by default, its family as a tag).
- One result per diagnostic: ruleId/ruleIndex, level, message, a physical location whose
  `artifactLocation.uri` is relative to the repository root (`uriBaseId` `%SRCROOT%`, the
  root given in `originalUriBaseIds`), and a 1-based region (end column exclusive, as SARIF
  defines it; columns count Unicode code points: `columnKind`).
- `fixes` for safe and unsafe fixes, with the exact replacements `--fix` applies.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

from fastapi_lint import __version__
from fastapi_lint.diagnostics import DISPLAY_ONLY, UNSAFE, Diagnostic
from fastapi_lint.registry import DOC_SECTIONS, all_rules

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note", "note": "note"}


def project_url() -> Optional[str]:
    """The project's home page, from the installed package's metadata (`[project.urls]`)."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata
    except ImportError:  # pragma: no cover
        return None
    try:
        md = metadata("fastapi-lint")
    except PackageNotFoundError:
        return None
    urls = {}
    for entry in md.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in ("documentation", "homepage", "repository", "source"):
        if urls.get(label):
            return urls[label]
    return md.get("Home-page") or None


def find_repo_root(start: Optional[str] = None) -> str:
    """The nearest directory at or above `start` (default: the working directory) holding
    `.git`; the working directory itself when there is none."""
    here = os.path.abspath(start or os.getcwd())
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def _file_uri(path: str) -> str:
    path = os.path.abspath(path).replace(os.sep, "/")
    if not path.startswith("/"):
        path = "/" + path  # Windows drive letters: file:///C:/...
    return "file://" + quote(path)


def artifact_location(path: str, root: str) -> Dict[str, str]:
    """A relative URI under `root` (with `uriBaseId`), or an absolute file URI outside it."""
    if path in ("-", "<stdin>"):
        return {"uri": quote(path)}
    abspath = os.path.abspath(path)
    root = os.path.abspath(root)
    if abspath == root or abspath.startswith(root.rstrip(os.sep) + os.sep):
        rel = os.path.relpath(abspath, root).replace(os.sep, "/")
        return {"uri": quote(rel), "uriBaseId": SRCROOT}
    return {"uri": _file_uri(abspath)}


def _region(line: int, column: int, end_line: int, end_column: int) -> Dict[str, int]:
    return {"startLine": max(line, 1), "startColumn": max(column, 1),
            "endLine": max(end_line, line, 1), "endColumn": max(end_column, 1)}


def _rule_markdown(rule) -> str:
    sections = rule.doc_sections()
    parts = [f"**{rule.code} {rule.name}**: {rule.summary}"]
    for title in DOC_SECTIONS:
        if sections.get(title):
            parts.append(f"## {title}\n{sections[title].strip()}")
    return "\n\n".join(parts)


def _rule_text(rule) -> str:
    sections = rule.doc_sections()
    return "\n\n".join(f"{title}\n{sections[title].strip()}" for title in DOC_SECTIONS if sections.get(title))


def _rules(home: Optional[str]) -> List[Dict[str, Any]]:
    out = []
    for code, rule in all_rules().items():
        what = rule.doc_sections().get("What it does", "").strip()
        entry: Dict[str, Any] = {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": " ".join(what.split()) or rule.summary},
            "help": {"text": _rule_text(rule), "markdown": _rule_markdown(rule)},
            "defaultConfiguration": {"level": "error", "enabled": bool(rule.default)},
            "properties": {"tags": [rule.family()], "fix": rule.fix or "none"},
        }
        if home:
            entry["helpUri"] = f"{home.rstrip('/')}#rules"
        out.append(entry)
    return out


def _fixes(d: Diagnostic, location: Dict[str, str]) -> List[Dict[str, Any]]:
    if d.fix is None or d.fix.applicability == DISPLAY_ONLY or not d.fix.edits:
        return []
    text = d.fix.message + (" (unsafe fix: may change behaviour)" if d.fix.applicability == UNSAFE else "")
    replacements = [{"deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                     "insertedContent": {"text": e.content}} for e in d.fix.edits]
    return [{"description": {"text": text},
             "artifactChanges": [{"artifactLocation": dict(location), "replacements": replacements}]}]


def sarif_log(diags: Sequence[Diagnostic], root: Optional[str] = None,
              home: Optional[str] = None) -> Dict[str, Any]:
    root = os.path.abspath(root or find_repo_root())
    home = home if home is not None else project_url()
    rules = _rules(home)
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        location = artifact_location(d.path, root)
        result: Dict[str, Any] = {
            "ruleId": d.code,
            "level": LEVELS.get(d.severity, "warning"),
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": location,
                "region": _region(d.line, d.column, d.end_line, d.end_column),
            }}],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        fixes = _fixes(d, location)
        if fixes:
            result["fixes"] = fixes
        results.append(result)
    driver: Dict[str, Any] = {"name": "fastapi-lint", "version": __version__, "semanticVersion": __version__,
                              "rules": rules}
    if home:
        driver["informationUri"] = home
    root_uri = _file_uri(root)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {SRCROOT: {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render_sarif(diags: Sequence[Diagnostic], root: Optional[str] = None) -> str:
    return json.dumps(sarif_log(diags, root), indent=2, ensure_ascii=False) + "\n"
