"""Results of unchanged files, answered without parsing.

`.fastapi_lint_cache/<settings digest>.json` under the project root maps each file's
absolute path to the sha256 of its content, the module name the lint gives it (which
`__init__.py` files around it decide: adding one renames every module below), the
project-index digest it was linted with, and its diagnostics. It also keeps the last run's
index digest with the content hash and module name of each file it was built from: when
none of them changed, the index is the same, and a warm run answers every file without
reading the index summaries at all. Those (most of the cache's size) are kept beside it in
`<settings digest>.index.json`, read only when the index has to be built. The settings
digest covers the tool version and every setting that can change a file's result, so a new
version or config simply starts a new cache file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Dict, Optional, Sequence, Tuple

from fastapi_lint.diagnostics import Diagnostic, FileResult
from fastapi_lint.model.index import ModuleSummary, module_name_for
from fastapi_lint.settings import Settings, display_path

CACHE_DIR = ".fastapi_lint_cache"
SUMMARIES_KEY = "__index_summaries__"  # where older versions kept the summaries, in the results file
MANIFEST_KEY = "__index__"
#: What decoding a damaged entry raises (a file edited by hand, or written by a broken run).
_DAMAGED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class Cache:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.root
        self.dir = os.path.join(settings.root, CACHE_DIR)
        self.file = os.path.join(self.dir, f"{settings.digest()}.json")
        self.index_file = os.path.join(self.dir, f"{settings.digest()}.index.json")
        self.entries: Dict[str, dict] = {}
        self.dirty = False
        try:
            with open(self.file, encoding="utf-8") as fh:
                data = json.load(fh)
            if isinstance(data, dict):
                self.entries = data
        except (OSError, ValueError):
            self.entries = {}

        self._hashes: Dict[str, Optional[str]] = {}
        self._keys: Dict[str, str] = {}
        self._modules: Dict[str, list] = {}
        self._inits: Dict[str, bool] = {}  # directory -> holds an __init__.py (asked once per run)
        self.entries.pop(SUMMARIES_KEY, None)
        manifest = self.entries.pop(MANIFEST_KEY, None)
        self._manifest: Optional[dict] = manifest if isinstance(manifest, dict) else None
        self._loaded: Optional[Dict[str, dict]] = None  # the summaries file, once read
        self._summaries_used: Dict[str, dict] = {}
        self._summaries_dirty = False

    @property
    def _summaries(self) -> Dict[str, dict]:
        if self._loaded is None:
            try:
                with open(self.index_file, encoding="utf-8") as fh:
                    data = json.load(fh)
                self._loaded = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._loaded = {}
        return self._loaded

    def _key(self, path: str) -> str:
        """The absolute path entries are kept under (asked 3-4 times per file: memoised)."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = os.path.abspath(path)
        return key

    def _hash(self, path: str) -> Optional[str]:
        """sha256 of the file's content, read once per run."""
        key = self._key(path)
        if key not in self._hashes:
            try:
                with open(path, "rb") as fh:
                    self._hashes[key] = hashlib.sha256(fh.read()).hexdigest()
            except OSError:
                self._hashes[key] = None
        return self._hashes[key]

    def _module(self, path: str) -> list:
        """[module name, is_package] as the lint names the file now (JSON keeps lists)."""
        key = self._key(path)
        found = self._modules.get(key)
        if found is None:
            found = self._modules[key] = list(module_name_for(path, self.root, self._inits))
        return found

    # ---------------------------------------------------------------- index summaries
    def get_summary(self, path: str) -> Tuple[bool, Optional[ModuleSummary]]:
        """(found, the project-index summary) of an unchanged file (summaries do not depend on
        settings). A file the scan could not read as Python has None: found, it is not tried
        again (the libcst parse that proves it costs more than the rest of a warm run)."""
        entry = self._summaries.get(self._key(path))
        if not self._current(entry, path):
            return False, None
        data = entry.get("summary")
        try:
            summary = ModuleSummary.from_dict(data) if data is not None else None
        except _DAMAGED:  # a damaged cache is a miss, never a crash
            return False, None
        self._summaries_used[self._key(path)] = entry
        return True, summary

    def _current(self, entry: object, path: str) -> bool:
        """An entry (of whatever a damaged file holds) for this content and module name."""
        return isinstance(entry, dict) and entry.get("hash") == self._hash(path) \
            and entry.get("module") == self._module(path)

    def put_summary(self, path: str, summary: Optional[ModuleSummary]) -> None:
        digest = self._hash(path)
        if digest is None:
            return
        self._summaries_used[self._key(path)] = {"hash": digest, "module": self._module(path),
                                                 "summary": summary.to_dict() if summary is not None else None}
        self._summaries_dirty = self.dirty = True

    # ---------------------------------------------------------------- the last index
    def unchanged_index(self, paths: Sequence[str]) -> Optional[str]:
        """The digest of the last run's index when it was built from exactly these files, none
        of which has changed content or module name since: this run's index is the same."""
        manifest = self._manifest
        if manifest is None or not isinstance(manifest.get("files"), dict) or len(manifest["files"]) != len(paths):
            return None
        files = manifest["files"]
        for p in paths:
            entry = files.get(self._key(p))
            if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == self._hash(p)
                    and entry[1] == self._module(p)):
                return None
        digest = manifest.get("digest")
        return digest if isinstance(digest, str) else None

    def put_index(self, paths: Sequence[str], digest: str) -> None:
        files = {}
        for p in paths:
            h = self._hash(p)
            if h is None:
                return  # a file that cannot be read: no manifest
            files[self._key(p)] = [h, self._module(p)]
        manifest = {"digest": digest, "files": files}
        if manifest != self._manifest:
            self._manifest = manifest
            self.dirty = True

    def get(self, path: str, index_digest: Optional[str] = None) -> Optional[FileResult]:
        entry = self.entries.get(self._key(path))
        if not self._current(entry, path) or entry.get("index") != index_digest:
            return None
        display = display_path(path)
        diags = []
        try:
            for d in entry["diagnostics"]:
                diag = Diagnostic.from_dict(d)
                diag.path = display
                diags.append(diag)
        except _DAMAGED:
            return None
        return FileResult(display, diags)

    def put(self, path: str, result: FileResult, index_digest: Optional[str] = None) -> None:
        digest = self._hash(path)
        if digest is None:
            return
        self.entries[self._key(path)] = {
            "hash": digest,
            "module": self._module(path),
            "index": index_digest,
            "diagnostics": [d.to_dict() for d in result.diagnostics],
        }
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            os.makedirs(self.dir, exist_ok=True)
            gitignore = os.path.join(self.dir, ".gitignore")
            if not os.path.exists(gitignore):
                with open(gitignore, "w", encoding="utf-8") as fh:
                    fh.write("# Created by fastapi-lint automatically.\n*\n")
            if self._summaries_dirty:
                # summaries of files no longer linted are dropped
                self._write(self.index_file, self._summaries_used)
            data = dict(self.entries)
            if self._manifest is not None:
                data[MANIFEST_KEY] = self._manifest
            self._write(self.file, data)
        except OSError:
            pass  # a read-only tree just runs uncached

    def _write(self, path: str, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
