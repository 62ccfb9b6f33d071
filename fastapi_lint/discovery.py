"""Paths -> the Python files to lint.

Directories are walked honouring `.gitignore` files (each relative to its own folder),
`exclude`/`extend-exclude` patterns and the default excludes (VCS folders, virtualenvs,
build output). A file named explicitly is linted even when excluded, unless
`force_exclude` is set (what pre-commit needs, as it always passes file names).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import pathspec

from fastapi_lint.settings import Settings, relpath_under

PY_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    """A path the user named does not exist (a usage error: exit 2)."""


@dataclass
class _Ignore:
    base: str
    lines: List[str]
    #: every pattern of the file in one regex (a fast "no pattern matches"), or None
    any_pattern: "Optional[re.Pattern[str]]" = None
    #: the absolute base folder with a trailing separator: the paths the file can ignore
    prefix: str = ""
    _spec: Optional[pathspec.PathSpec] = None

    @property
    def spec(self) -> pathspec.PathSpec:
        """pathspec's own matcher, compiled (a regex per line: 6 ms for GitHub's 200-line
        Python template) only once `any_pattern` matches a path."""
        if self._spec is None:
            self._spec = _gitignore_spec(self.lines)
        return self._spec


@dataclass
class Discovered:
    files: List[str] = field(default_factory=list)
    #: Paths that could not be walked (permission denied, symlink loops): one diagnostic each.
    unreadable: List[Tuple[str, str]] = field(default_factory=list)


def _matches(patterns: Sequence[str], path: str, root: str) -> bool:
    """ruff's exclude semantics: a pattern matches the path (relative to the project root or
    absolute) or any one of its components."""
    if not patterns:
        return False
    return _matches_at(patterns, relpath_under(path, root), os.path.abspath(path))


def _matches_at(patterns: Sequence[str], rel: str, abs_path: str) -> bool:
    """`_matches` for a path already made relative to the root (`relpath_under`) and absolute."""
    whole, component, below = _compiled(tuple(patterns))
    rel = rel.replace(os.sep, "/")
    if whole.match(rel) or whole.match(abs_path.replace(os.sep, "/")):
        return True
    if component is not None:
        # Components below the project root only: a project under /srv/build/ is not "build".
        parts = rel.split("/") if not os.path.isabs(rel) else [os.path.basename(rel)]
        if any(component.match(part) for part in parts if part not in (".", "")):
            return True
    return below is not None and below.match(rel) is not None


@functools.lru_cache(maxsize=16)
def _compiled(patterns: Tuple[str, ...]) -> Tuple["re.Pattern[str]", Optional["re.Pattern[str]"],
                                                   Optional["re.Pattern[str]"]]:
    """The patterns as three regexes (one per way to match), compiled once: the whole path;
    any one component (patterns without `/`); anything below (patterns with `/`)."""
    stripped = [pat.rstrip("/") for pat in patterns]
    whole = re.compile("|".join(fnmatch.translate(p) for p in stripped))
    names = [fnmatch.translate(p) for p in stripped if "/" not in p]
    below = [f"{re.escape(p)}/.*|{fnmatch.translate(p + '/*')}" for p in stripped if "/" in p]
    return (whole, re.compile("|".join(names)) if names else None,
            re.compile("|".join(below), re.S) if below else None)


def _gitignore_spec(lines: List[str]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines(_pattern_class(), lines)


@functools.lru_cache(maxsize=None)
def _pattern_class():
    try:  # pathspec >= 0.12 names git's own semantics "gitignore"
        return pathspec.util.lookup_pattern("gitignore")
    except (KeyError, LookupError):
        return pathspec.util.lookup_pattern("gitwildmatch")


def _load_gitignore(directory: str) -> Optional[_Ignore]:
    path = os.path.join(directory, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    lines, sources = _patterns(lines)
    if sources == []:
        return None  # comments and blank lines: it ignores nothing
    return _Ignore(directory, lines, _any_pattern(sources), os.path.abspath(directory).rstrip(os.sep) + os.sep)


def _patterns(lines: List[str]) -> Tuple[List[str], Optional[List[str]]]:
    """The lines that are patterns pathspec can read, and the regex each would compile to
    (None: not known). git skips a pattern it cannot read (a lone `!` or `\\`), where pathspec
    raises: such a line is dropped."""
    to_regex = getattr(_pattern_class(), "pattern_to_regex", None)
    if to_regex is None:
        return lines, None
    kept: List[str] = []
    sources: Optional[List[str]] = []
    for line in lines:
        try:
            regex, include = to_regex(line)
        except Exception:
            continue
        kept.append(line)
        if include is None:
            continue  # a comment or a blank line
        if not isinstance(regex, str):
            sources = None
        elif sources is not None:
            sources.append(regex)
    return kept, sources


#: How a pattern without a slash starts in pathspec's regex: in any folder.
_ANY_FOLDER = "^(?:.+/)?"


def _any_pattern(sources: Optional[List[str]]) -> "Optional[re.Pattern[str]]":
    """One regex that matches where any pattern of the file matches (None if it cannot be
    built): a path it does not match is not ignored, without asking each pattern in turn.
    pathspec anchors each regex: one anchor for all, and their shared start (`(?:.+/)?`)
    said once rather than tried again for each (five times faster on GitHub's template)."""
    if not sources:
        return None
    sources = [re.sub(r"[(][?]P<[^>]+>", "(?:", s) for s in sources]
    if all(s.startswith("^") for s in sources):
        shared = [s[len(_ANY_FOLDER):] for s in sources if s.startswith(_ANY_FOLDER)]
        alternatives = [f"(?:{s[1:]})" for s in sources if not s.startswith(_ANY_FOLDER)]
        if shared:
            alternatives.insert(0, "(?:.+/)?(?:" + "|".join(f"(?:{s})" for s in shared) + ")")
        regex = "^(?:" + "|".join(alternatives) + ")"
    else:
        regex = "|".join(f"(?:{s})" for s in sources)
    try:
        return re.compile(regex)
    except re.error:
        return None


def _git_ignored(ignores: List[_Ignore], path: str, is_dir: bool, abs_path: Optional[str] = None) -> bool:
    abs_path = abs_path or os.path.abspath(path)
    for ig in ignores:
        if not abs_path.startswith(ig.prefix):
            continue  # not below the folder of this .gitignore
        rel = abs_path[len(ig.prefix):].replace(os.sep, "/")
        rel += "/" if is_dir else ""
        if ig.any_pattern is not None and not ig.any_pattern.search(rel):
            continue  # no pattern of this file matches: it cannot ignore the path
        if ig.spec.match_file(rel):
            return True
    return False


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def _gitignores_above(directory: str, root: str) -> List[_Ignore]:
    """.gitignore files from the project root down to `directory` (exclusive)."""
    out: List[_Ignore] = []
    directory = os.path.abspath(directory)
    root = os.path.abspath(root)
    chain = []
    cur = os.path.dirname(directory)
    while cur.startswith(root) and len(cur) >= len(root):
        chain.append(cur)
        if cur == root:
            break
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    for d in reversed(chain):
        ig = _load_gitignore(d)
        if ig:
            out.append(ig)
    return out


def discover(paths: Sequence[str], settings: Settings) -> Discovered:
    found = Discovered()
    seen = set()
    patterns = tuple(settings.exclude) + tuple(settings.extend_exclude)
    root = settings.root

    def add(path: str) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            found.files.append(path)

    for given in paths:
        if not os.path.lexists(given):
            raise DiscoveryError(f"{given}: no such file or directory")
        if os.path.isdir(given):
            ignores = _gitignores_above(given, root) if settings.respect_gitignore else []
            if os.path.abspath(given) != os.path.abspath(root) and settings.force_exclude \
                    and _matches_or_parent(patterns, given, root):
                continue
            for f in _walk(given, patterns, root, ignores, settings, found):
                add(f)
        else:
            if settings.force_exclude:
                if _matches_or_parent(patterns, given, root):
                    continue
                if settings.respect_gitignore and _git_ignored(
                        _gitignores_above(given, root) + _own_gitignore(given), given, False):
                    continue
            add(given)
    return found


def _matches_or_parent(patterns: Sequence[str], path: str, root: str) -> bool:
    """`path` or one of its folders below `root` is excluded: with --force-exclude, a file
    pre-commit names inside an excluded folder (`generated/client.py`) is skipped too."""
    if _matches(patterns, path, root):
        return True
    root_abs = os.path.abspath(root)
    probe = os.path.dirname(os.path.abspath(path))
    while probe != root_abs and probe.startswith(root_abs.rstrip(os.sep) + os.sep):
        if _matches(patterns, probe, root):
            return True
        probe = os.path.dirname(probe)
    return False


def _own_gitignore(path: str) -> List[_Ignore]:
    ig = _load_gitignore(os.path.dirname(os.path.abspath(path)))
    return [ig] if ig else []


def _walk(top: str, patterns: Tuple[str, ...], root: str, ignores: List[_Ignore], settings: Settings,
          found: Discovered) -> Iterator[str]:
    visited = set()
    root_abs = os.path.abspath(root)
    root_prefix = root_abs.rstrip(os.sep) + os.sep

    def walk(directory: str, ignores: List[_Ignore], directory_abs: str) -> Iterator[str]:
        try:
            st = os.stat(directory)  # (device, inode): a symlink back up the tree is seen twice
            if (st.st_dev, st.st_ino) in visited:
                return
            visited.add((st.st_dev, st.st_ino))
            if settings.respect_gitignore:
                own = _load_gitignore(directory)
                if own:
                    ignores = ignores + [own]
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            found.unreadable.append((directory, exc.strerror or str(exc)))
            return
        for entry in entries:
            path = entry.path
            abs_path = os.path.join(directory_abs, entry.name)
            rel = abs_path[len(root_prefix):] if abs_path.startswith(root_prefix) else path
            try:
                is_dir = entry.is_dir()
                if not is_dir and not entry.name.endswith(PY_SUFFIXES):
                    continue  # neither Python nor a folder: no need to ask the exclude patterns
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                found.unreadable.append((path, exc.strerror or str(exc)))
                continue
            if patterns and _matches_at(patterns, rel, abs_path):
                continue
            if ignores and _git_ignored(ignores, path, is_dir, abs_path):
                continue
            if is_dir:
                if _is_virtualenv(path):
                    continue
                yield from walk(path, ignores, abs_path)
            elif is_file and entry.name.endswith(PY_SUFFIXES):
                yield path
            elif not is_file and not is_dir and entry.name.endswith(PY_SUFFIXES) and entry.is_symlink():
                found.unreadable.append((path, "broken symbolic link"))

    yield from walk(top, ignores, os.path.abspath(top))
