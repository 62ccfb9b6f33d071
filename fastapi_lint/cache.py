"""Results of unchanged files, answered without parsing.

`.fastapi_lint_cache/<settings digest>.json` under the project root maps each file's
absolute path to the sha256 of its content, the module name the lint gives it (which
`__init__.py` files around it decide: adding one renames every module below), the
project-index digest it was linted with, and its diagnostics. The settings digest covers the tool version and every setting that
can change a file's result, so a new version or config simply starts a new cache file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Dict, Optional, Tuple

from fastapi_lint.diagnostics import Diagnostic, FileResult
from fastapi_lint.model.index import ModuleSummary, module_name_for
from fastapi_lint.settings import Settings, display_path

CACHE_DIR = ".fastapi_lint_cache"
SUMMARIES_KEY = "__index_summaries__"


class Cache:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.root
        self.dir = os.path.join(settings.root, CACHE_DIR)
        self.file = os.path.join(self.dir, f"{settings.digest()}.json")
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
        self._summaries: Dict[str, dict] = self.entries.pop(SUMMARIES_KEY, {}) \
            if isinstance(self.entries.get(SUMMARIES_KEY), dict) else {}
        self._summaries_used: Dict[str, dict] = {}

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
        if entry is None or entry.get("hash") != self._hash(path) or entry.get("module") != self._module(path):
            return False, None
        self._summaries_used[self._key(path)] = entry
        data = entry.get("summary")
        return True, (ModuleSummary.from_dict(data) if data is not None else None)

    def put_summary(self, path: str, summary: Optional[ModuleSummary]) -> None:
        digest = self._hash(path)
        if digest is None:
            return
        self._summaries_used[self._key(path)] = {"hash": digest, "module": self._module(path),
                                                 "summary": summary.to_dict() if summary is not None else None}
        self.dirty = True

    def get(self, path: str, index_digest: Optional[str] = None) -> Optional[FileResult]:
        entry = self.entries.get(self._key(path))
        if entry is None or entry.get("index") != index_digest:
            return None
        if entry.get("hash") != self._hash(path) or entry.get("module") != self._module(path):
            return None
        display = display_path(path)
        diags = []
        for d in entry["diagnostics"]:
            diag = Diagnostic.from_dict(d)
            diag.path = display
            diags.append(diag)
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
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
            data = dict(self.entries)
            # summaries of files no longer linted are dropped; results are kept per config file
            data[SUMMARIES_KEY] = self._summaries_used or self._summaries
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only tree just runs uncached
