"""The flake8 plugin: entry point `FPI` in the `flake8.extension` group.

    flake8 --select FPI app.py      ->  app.py:9:5: FPI101 `time.sleep()` in async ...

What flake8 owns and what we do:

- flake8 reads and decodes the file; the plugin lints the `lines` flake8 hands it (joined,
  parsed once with libcst) and never opens the file. It never fixes.
- flake8 does selection (`--select`, `--extend-ignore = FPI101` in setup.cfg, .flake8 or
  tox.ini, per-file-ignores) and `# noqa`. The plugin runs every rule and tells flake8 which
  codes are off by default (opt-in rules), so `--extend-select FPI601` turns one on, the same
  verdicts as the CLI's selection. Inline `# noqa` is left to flake8 (so `--disable-noqa`
  works); the file-level `# fastapi-lint: noqa[: CODES]` comment is honoured here, as flake8
  does not know it.
- Analysis is module-local: flake8 hands plugins one file at a time, so project-wide facts
  (blocking helpers or `async def`s defined in other modules) are not available. Rules that
  use the project index fall back to what the module itself shows.
"""

from __future__ import annotations

import ast
import logging
from typing import Any, ClassVar, Iterator, Optional, Sequence, Tuple, Type

from fastapi_lint import __version__
from fastapi_lint.engine import lint_text
from fastapi_lint.model.facts import file_facts
from fastapi_lint.registry import all_rules
from fastapi_lint.settings import Settings

LOG = logging.getLogger("flake8.fastapi_lint")

#: (line, 0-based column, "CODE message", plugin type): what flake8 expects from `run()`.
Flake8Result = Tuple[int, int, str, Type[Any]]


class Plugin:
    name = "fastapi-lint"
    version = __version__

    #: Settings shared by every file of a flake8 run (built once, on first use).
    _settings: ClassVar[Optional[Settings]] = None

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "<unknown>") -> None:
        # `tree` also means flake8 runs us once per file, after its own parse succeeded (flake8
        # reports E999 itself otherwise); its facts are the engine's second gate.
        self.tree = tree
        self.lines = lines
        self.filename = filename

    # ------------------------------------------------------------------ options

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        """Keep opt-in rules off unless selected (`--extend-select FPI601` turns one on).

        No rule has options yet; a rule that gains one registers it here with
        `parse_from_config=True`, so it can be set in flake8's config files too.
        """
        off = [code for code, rule in all_rules().items() if not rule.default]
        if off:
            option_manager.extend_default_ignore(off)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls._settings = None

    @classmethod
    def settings(cls) -> Settings:
        if cls._settings is None:
            # Every rule runs; flake8's own select/ignore decides what is shown.
            cls._settings = Settings(enabled=frozenset(all_rules()), cache=False)
        return cls._settings

    # ------------------------------------------------------------------ checking

    def run(self) -> Iterator[Flake8Result]:
        text = "".join(self.lines)
        facts = file_facts(self.tree) if isinstance(self.tree, ast.Module) else None
        result = lint_text(text, self.filename, self.settings(), None, self.filename,
                           syntax_ok=True, inline_noqa=False, facts=facts)
        for err in result.errors:
            LOG.warning("fastapi-lint: %s", err)
        for d in result.diagnostics:
            # flake8 adds 1 to the column a plugin yields: ours are 1-based.
            yield d.line, d.column - 1, f"{d.code} {d.message}", type(self)

