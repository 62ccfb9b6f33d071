"""Rules are declared once, here: code, name, family, message, docs, default, fix.

The CLI (`rules`, `rule CODE`), the README table, SARIF rule metadata and the tests all
read this registry. A rule is a class with libcst visitor methods (`visit_Call`,
`leave_FunctionDef`, ...) that the engine runs together with every other enabled rule in
one traversal of the file.

`rule_meta()` answers what a run needs before any file is parsed (which codes exist, which
are on by default, which need the project index) without importing the rules and libcst:
from `_rule_meta.py`, which `python -m fastapi_lint.registry > fastapi_lint/_rule_meta.py`
writes and tests/test_engine.py checks against the rules.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, ClassVar, Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

from fastapi_lint.diagnostics import APPLICABILITIES, DISPLAY_ONLY

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from fastapi_lint.model.context import ModuleContext
    from fastapi_lint.model.facts import FileFacts

FAMILIES = {
    "FPI0": "file",
    "FPI1": "blocking",
    "FPI2": "coroutines",
    "FPI3": "security",
    "FPI4": "lifecycle",
    "FPI5": "correctness",
    "FPI6": "modernize",
}

DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")

#: An import a fix needs: (module, name or None, alias or None), as libcst's AddImportsVisitor takes it.
ImportSpec = Tuple[str, Optional[str], Optional[str]]


@dataclass
class FixSpec:
    """A fix as a rule builds it: libcst node replacements plus imports to add.

    `replacements` maps an original node (by identity) to its new node, or to
    `cst.RemovalSentinel.REMOVE`. A display-only fix (a hint) has no replacements.
    """

    applicability: str
    title: str
    replacements: Dict[cst.CSTNode, Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]] = field(
        default_factory=dict
    )
    imports: List[ImportSpec] = field(default_factory=list)
    #: Imports the fix may leave unused: removed when, after all fixes applied together,
    #: nothing uses them (e.g. `import time` once every `time.sleep` became `asyncio.sleep`).
    remove_imports: List[ImportSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.applicability in APPLICABILITIES, self.applicability
        if self.applicability == DISPLAY_ONLY:
            assert not self.replacements and not self.imports and not self.remove_imports


def hint(title: str) -> FixSpec:
    return FixSpec(DISPLAY_ONLY, title)


class Rule:
    """Base class of every rule. Subclasses set the class attributes and visitor methods."""

    code: ClassVar[str]
    name: ClassVar[str]
    #: One line: what the rule reports (README table, SARIF shortDescription).
    summary: ClassVar[str]
    #: Markdown with the five DOC_SECTIONS as `## ` headings.
    docs: ClassVar[str]
    #: "safe", "unsafe", "display-only" (a hint) or None: the best fix the rule can offer.
    fix: ClassVar[Optional[str]] = None
    default: ClassVar[bool] = True
    #: A file is only handed to this rule if its source contains one of these strings.
    #: None means every file. Keep them exact: they are the token gate of the engine.
    tokens: ClassVar[Optional[Sequence[str]]] = None
    #: A second gate: when set, the file must also contain one of these strings (e.g. every
    #: FPI1xx rule reports only in async context, so it requires "async").
    requires: ClassVar[Optional[Sequence[str]]] = None
    #: Rules that ask the project index (other modules' functions) set this.
    needs_index: ClassVar[bool] = False

    @classmethod
    def index_tokens(cls, index: object) -> Optional[FrozenSet[str]]:
        """With a project index: identifiers one of which a file must contain for this rule
        to matter (e.g. the names of the project's coroutine functions), replacing `tokens`.
        None: use `tokens`."""
        return None

    @classmethod
    def wants(cls, facts: "FileFacts", index: object) -> bool:
        """The second gate, on what CPython's `ast` read from the file in the scan pass
        (model/facts.py): False when nothing in the file can be what this rule reports, so the
        file is not parsed by libcst for it. Must be a necessary condition of every report:
        tests/test_gates.py checks that fixtures give the same findings without it. `index`
        is the project index or None."""
        return True

    #: A third gate, for a file that passed `wants` in a run with the project index: None, or a
    #: classmethod (tree, facts, index, (module name, is_package)) -> bool on the file's `ast`
    #: tree (`modern.parse`), parsed in the lint worker when a rule that has one is left:
    #: some questions are cheap on a tree and costly to keep as facts for every file.
    wants_tree: ClassVar[Optional[Callable[..., bool]]] = None

    #: Whether `wants` reads its `index` argument. Rules that do not (False) are asked by the
    #: scan workers, in parallel, with `index=None`; the others by the parent, with the index.
    #: tests/test_gates.py checks that a rule marked False does not use it.
    wants_index: ClassVar[bool] = True

    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx

    # The engine replaces this per instance; kept here for type checkers and docs.
    def report(self, node: cst.CSTNode, message: str, fix: Optional[FixSpec] = None) -> None:
        self.ctx.report(self, node, message, fix)

    @classmethod
    def family(cls) -> str:
        return FAMILIES[cls.code[:4]]

    @classmethod
    def doc_sections(cls) -> Dict[str, str]:
        text = textwrap.dedent(cls.docs).strip()
        parts = re.split(r"^## +(.+?) *$", text, flags=re.M)
        sections = {}
        for title, body in zip(parts[1::2], parts[2::2]):
            sections[title.strip()] = body.strip("\n")
        return sections

    @classmethod
    def visitor_methods(cls) -> List[str]:
        found = cls.__dict__.get("_visitor_methods")
        if found is None:
            found = [name for name in dir(cls)
                     if (name.startswith("visit_") or name.startswith("leave_")) and callable(getattr(cls, name))]
            cls._visitor_methods = found  # per class: subclasses compute their own
        return found


RULES: Dict[str, Type[Rule]] = {}


def register(cls: Type[Rule]) -> Type[Rule]:
    code = cls.code
    if not re.fullmatch(r"FPI\d{3}", code):
        raise ValueError(f"bad rule code {code!r}")
    if code in RULES:
        raise ValueError(f"duplicate rule code {code}")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name):
        raise ValueError(f"rule name must be kebab-case: {cls.name!r}")
    missing = [s for s in DOC_SECTIONS if s not in cls.doc_sections()]
    if missing:
        raise ValueError(f"{code} docs lack sections: {missing}")
    RULES[code] = cls
    return cls


def all_rules() -> Dict[str, Type[Rule]]:
    """Every registered rule, by code, in code order (importing the rule modules once)."""
    import fastapi_lint.rules  # noqa: F401  (registers the rules)

    return dict(sorted(RULES.items()))


def get_rule(code: str) -> Optional[Type[Rule]]:
    return all_rules().get(code.upper())


class RuleMeta(NamedTuple):
    name: str
    default: bool
    needs_index: bool


def meta_of(rule: Type[Rule]) -> RuleMeta:
    return RuleMeta(rule.name, rule.default, rule.needs_index)


def rule_meta() -> Dict[str, RuleMeta]:
    """Name, default and `needs_index` of every rule by code, in code order, without importing
    the rules (see the module docstring). Rules already registered (the rule modules were
    imported, or a host or test registered its own) answer for themselves."""
    from fastapi_lint._rule_meta import RULES as table

    meta = {code: RuleMeta(*row) for code, row in table.items()}
    meta.update((code, meta_of(rule)) for code, rule in RULES.items())
    return dict(sorted(meta.items()))


def render_rule_meta() -> str:
    """The text of `_rule_meta.py`, from the rules themselves."""
    lines = ['"""Generated by `python -m fastapi_lint.registry > fastapi_lint/_rule_meta.py` from the rules',
             '(`registry.rule_meta`): what a run needs to know of them before importing them."""',
             "", "#: code -> (name, default, needs_index)", "RULES = {"]
    for code, rule in all_rules().items():
        m = meta_of(rule)
        lines.append(f'    "{code}": ("{m.name}", {m.default}, {m.needs_index}),')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    # Run as a script this file is a second module: the rules register in the package's one.
    from fastapi_lint import registry

    print(registry.render_rule_meta(), end="")
