"""`[tool.fastapi-lint]` in the nearest pyproject.toml, merged with the CLI's flags.

The nearest pyproject.toml (walking up from the working directory) that has a
`[tool.fastapi-lint]` table is the configuration; its folder is the project root
(per-file-ignores and exclude patterns are relative to it, the cache lives there).
Without one, the nearest pyproject.toml's folder (or the working directory) is the root.
CLI flags win over the file. Every problem is a ConfigError with a clear message.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from fastapi_lint.settings import DEFAULT_EXCLUDE, SelectionError, Settings, check_selector, resolve_selection

SECTION = "fastapi-lint"

LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude")
BOOL_KEYS = ("unsafe-fixes", "force-exclude", "respect-gitignore")
KNOWN_KEYS = LIST_KEYS + BOOL_KEYS + ("per-file-ignores",)


class ConfigError(Exception):
    pass


@dataclass
class FileConfig:
    path: Optional[str] = None
    root: str = field(default_factory=os.getcwd)
    values: Dict[str, Any] = field(default_factory=dict)


def find_config(start: Optional[str] = None) -> FileConfig:
    directory = os.path.abspath(start or os.getcwd())
    first_pyproject: Optional[str] = None
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            first_pyproject = first_pyproject or candidate
            data = _read_toml(candidate)
            table = data.get("tool", {}).get(SECTION)
            if table is not None:
                return FileConfig(candidate, directory, _validate(table, candidate))
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    root = os.path.dirname(first_pyproject) if first_pyproject else os.path.abspath(start or os.getcwd())
    return FileConfig(None, root, {})


def load_config_file(path: str) -> FileConfig:
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} does not exist")
    data = _read_toml(path)
    table = data.get("tool", {}).get(SECTION, {}) if path.endswith("pyproject.toml") else data
    return FileConfig(path, os.path.dirname(os.path.abspath(path)), _validate(table, path))


def _read_toml(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}")


def _validate(table: Any, path: str) -> Dict[str, Any]:
    where = f"[tool.{SECTION}] in {path}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    out: Dict[str, Any] = {}
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where}{hint}; known keys: {', '.join(KNOWN_KEYS)}")
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key!r} in {where} must be a list of strings, got {value!r}")
            if key in ("select", "extend-select", "ignore"):
                value = [_selector(v, key, where) for v in value]
        elif key in BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{key!r} in {where} must be true or false, got {value!r}")
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"'per-file-ignores' in {where} must be a table of glob = [codes]")
            checked = {}
            for pattern, codes in value.items():
                if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                    raise ConfigError(f"per-file-ignores[{pattern!r}] in {where} must be a list of codes")
                checked[pattern] = [_selector(c, f"per-file-ignores[{pattern!r}]", where) for c in codes]
            value = checked
        out[key] = value
    return out


def _selector(value: str, key: str, where: str) -> str:
    try:
        return check_selector(value)
    except SelectionError as exc:
        raise ConfigError(f"{key!r} in {where}: {exc}")


@dataclass
class CliOptions:
    select: Optional[List[str]] = None
    extend_select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    fix: bool = False
    unsafe_fixes: Optional[bool] = None
    diff: bool = False
    force_exclude: Optional[bool] = None
    want_edits: bool = False
    cache: bool = True
    config: Optional[str] = None
    jobs: Optional[int] = None


def build_settings(cli: CliOptions, start: Optional[str] = None,
                   paths: Sequence[str] = ()) -> Tuple[Settings, FileConfig]:
    """Settings from the CLI and the configuration: `--config`, else the nearest configured
    pyproject.toml above the working directory, else the one above the first linted path
    (`fastapi-lint check ../other-project` uses that project's configuration)."""
    if cli.config:
        fc = load_config_file(cli.config)
    else:
        fc = find_config(start)
        first = next((p for p in paths if p != "-" and os.path.exists(p)), None)
        if fc.path is None and first is not None:
            near = find_config(first if os.path.isdir(first) else os.path.dirname(os.path.abspath(first)))
            if near.path is not None:
                fc = near
    v = fc.values
    select = cli.select if cli.select is not None else v.get("select")
    extend = list(v.get("extend-select", [])) + list(cli.extend_select)
    ignore = list(v.get("ignore", []))
    if cli.select is not None:
        # Config ignores still apply, but the CLI's own selectors win on equal specificity.
        ignore = [s for s in ignore if s not in cli.select]
    ignore += list(cli.ignore)
    enabled = resolve_selection(select, extend, ignore)
    pfi = tuple((pattern, frozenset(codes)) for pattern, codes in v.get("per-file-ignores", {}).items())
    settings = Settings(
        enabled=enabled,
        per_file_ignores=pfi,
        exclude=tuple(v.get("exclude", DEFAULT_EXCLUDE)),
        extend_exclude=tuple(v.get("extend-exclude", ())),
        force_exclude=cli.force_exclude if cli.force_exclude is not None else v.get("force-exclude", False),
        respect_gitignore=v.get("respect-gitignore", True),
        fix=cli.fix,
        unsafe_fixes=cli.unsafe_fixes if cli.unsafe_fixes is not None else v.get("unsafe-fixes", False),
        diff=cli.diff,
        want_edits=cli.want_edits,
        root=fc.root,
        cache=cli.cache,
        jobs=cli.jobs,
    )
    return settings, fc


def parse_cli_selectors(values: Sequence[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        for part in v.replace(" ", ",").split(","):
            if part.strip():
                try:
                    out.append(check_selector(part))
                except SelectionError as exc:
                    raise ConfigError(str(exc))
    return out
