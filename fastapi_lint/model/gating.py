"""Necessary conditions, on a file's facts (model/facts.py), for meeting a catalogue's names:
the building blocks of the rules' `wants` (the engine's second gate).

A qualified name is met in a module only through one of its imports (`ModuleContext.qualname`
resolves a name by the module's import bindings), as a builtin (an unbound name), or, for an
origin path (model/flow.py), as a class of the module itself (`<module>.<Class>`). And a call
spells the last part of the name it calls: `time.sleep(...)`, `sleep(...)`, or another name
that `aliased`/`bound_values` record (`from time import sleep as nap`, `s = requests.get`,
`with x.y as z`, `return requests.get`).

Soundness details that `FileFacts.imports_any` does not cover:

- `import a.b` binds `a`, so `a.c.d` is reachable from it (the `bindings` fact says "a");
- a relative import `from .x import y` resolves, in a package we do not know here, to
  `<package>.x.y`: it can be any qualified name in which `x.y` appears as consecutive parts.
"""

from __future__ import annotations

import weakref
from functools import lru_cache
from typing import AbstractSet, Dict, FrozenSet, Iterable, Optional, Set, Tuple

from fastapi_lint.model.facts import FileFacts

WILDCARD = "*"


class _Reach:
    """What import bindings can reach a set of qualified names (one last part, see QualNames)."""

    __slots__ = ("prefixes", "wild_modules", "runs", "wild_suffixes")

    def __init__(self, qualnames: Iterable[str]) -> None:
        prefixes: Set[str] = set()  # what an absolute import may bind: a prefix of a name
        wild_modules: Set[str] = set()  # `from shutil import copy` binds "shutil.copy" itself
        runs: Set[str] = set()  # what a relative import may name: consecutive parts of a name
        wild_suffixes: Set[str] = set()  # `from .shutil import copy`: a module's last parts, then any name
        for q in qualnames:
            parts = q.split(".")
            if parts[-1] == WILDCARD:
                parts = parts[:-1]
                wild_modules.add(".".join(parts))
                wild_suffixes.update(".".join(parts[i:]) for i in range(len(parts) + 1))
            prefixes.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            runs.update(".".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1))
        self.prefixes = frozenset(prefixes)
        self.wild_modules = frozenset(wild_modules)
        self.runs = frozenset(runs)
        self.wild_suffixes = frozenset(wild_suffixes)

    def met(self, bindings: AbstractSet[str]) -> bool:
        for bound in bindings:
            if bound[0] != ".":
                if bound in self.prefixes or bound.rpartition(".")[0] in self.wild_modules:
                    return True
                continue
            rest = bound.lstrip(".")
            if not rest:
                continue
            if rest in self.runs or rest.rpartition(".")[0] in self.wild_suffixes:
                return True
        return False


class QualNames:
    """A set of qualified names compiled for `met(facts)`. A last part `*` (`shutil.*`)
    stands for any name of that module."""

    def __init__(self, qualnames: Iterable[str], local_classes: bool = False) -> None:
        self.qualnames = frozenset(qualnames)
        by_last: Dict[str, Set[str]] = {}
        for q in self.qualnames:
            by_last.setdefault(last_part(q), set()).add(q)
        #: last part -> how imports reach the names ending with it
        self.by_last = {last: _Reach(qs) for last, qs in by_last.items()}
        #: origins: a class of the module itself is `<module>.<Class>`, whatever the module
        self.class_names = frozenset(by_last) if local_classes else frozenset()
        #: an unbound name is a builtin: `open` is "builtins.open" without an import
        self.builtins = frozenset(q.split(".")[1] for q in self.qualnames if q.startswith("builtins."))
        #: for facts with `references`: the names themselves, and the modules of `module.*`
        self.exact = frozenset(q for q in self.qualnames if last_part(q) != WILDCARD)
        self.any_of = frozenset(q.rpartition(".")[0] for q in self.qualnames if last_part(q) == WILDCARD)

    def met(self, facts: FileFacts) -> bool:
        """Whether a name of the file can resolve to one of the qualified names (or, with
        `local_classes`, an origin path can start from one of them). Whichever way the name is
        met, the file spells its last part: as the name of an import, of an attribute, of a
        builtin (a bare name) or of the class, or in a string annotation. With the facts'
        `references`, a name or dotted name of the file must resolve to it exactly."""
        if self.builtins and not (self.builtins.isdisjoint(facts.bare_names)
                                  and self.builtins.isdisjoint(facts.type_string_names)):
            return True
        if self.class_names and not self.class_names.isdisjoint(facts.class_defs):
            return True
        names, strings = facts.names, facts.type_string_names
        refs = facts.references
        if refs is not None:
            # the module's name is known: a name or dotted name resolves to one of them (a
            # string that flow.py reads as a type is still matched by its identifiers)
            if not self.exact.isdisjoint(refs) or not self.any_of.isdisjoint(facts.reference_modules):
                return True
            if not strings:
                return False
            names = ()
        for last, reach in self.by_last.items():
            if (last == WILDCARD or last in names or last in strings) and reach.met(facts.bindings):
                return True
        return False


@lru_cache(maxsize=None)
def qualnames(names: FrozenSet[str], local_classes: bool = False) -> QualNames:
    return QualNames(names, local_classes)


def origin_qualnames(origins: Iterable[str]) -> FrozenSet[str]:
    """"sqlite3.connect().cursor()" -> "sqlite3.connect": the qualified name an origin path starts from."""
    return frozenset(o.split("(", 1)[0] for o in origins)


def last_part(qualname: str) -> str:
    return qualname.rpartition(".")[2]


def import_aliased(facts: FileFacts) -> FrozenSet[str]:
    """The names import aliases hide (`from m import save as s`, `import a.b as c`: "save",
    "b"): for a callee resolved by `qualname`, the only second names (an assigned name
    resolves to nothing). A superset: `aliased` names that some import also binds."""
    if not facts.aliased:
        return frozenset()
    return facts.aliased.intersection(b.rpartition(".")[2] for b in facts.bindings)


class Callees:
    """Qualified names a call reaches, keyed by the name the call spells (the last part; None:
    any name, for `shutil.*` or every method of an object). `met(facts, spelled)`: whether
    some entry's spelled name is in `spelled` and its qualified name can be met."""

    def __init__(self, entries: Iterable[Tuple[Optional[str], str]], local_classes: bool = False) -> None:
        by_name: Dict[Optional[str], Set[str]] = {}
        for name, qual in entries:
            by_name.setdefault(name, set()).add(qual)
        self.by_name = {n: QualNames(qs, local_classes) for n, qs in by_name.items()}
        self.names = frozenset(n for n in by_name if n is not None)
        self.local_classes = local_classes

    def met(self, facts: FileFacts, spelled: AbstractSet[str]) -> bool:
        if not spelled:
            return False
        anything = self.by_name.get(None)
        if anything is not None and anything.met(facts):
            return True
        found = self.names.intersection(spelled)
        if not found:
            return False
        if len(found) == 1:
            return self.by_name[next(iter(found))].met(facts)
        merged: Set[str] = set()
        for n in found:
            merged |= self.by_name[n].qualnames
        return qualnames(frozenset(merged), self.local_classes).met(facts)


def function_callees(qualnames_: Iterable[str], local_classes: bool = False) -> Callees:
    """Functions by qualified name (`time.sleep`, `shutil.*`): a call spells the last part.
    `local_classes` when the rule resolves the callee as an origin (`call_origin`), which
    names a class of the module itself `<module>.<Class>`."""
    return Callees(((None if last_part(q) == WILDCARD else last_part(q), q) for q in qualnames_), local_classes)


# ---------------------------------------------------------------------------- the project index


def _closure(seeds: Iterable[str], edges) -> Set[str]:
    """`seeds` and everything reachable from them through `edges` (name -> names)."""
    found = set(seeds)
    todo = list(found)
    while todo:
        for other in edges.get(todo.pop(), ()):
            if other not in found:
                found.add(other)
                todo.append(other)
    return found


def _renames(index) -> Dict[str, FrozenSet[str]]:
    """last part of a re-exported name -> the names it is re-exported as (`from .svc import
    save as persist` in pkg/__init__.py: "save" -> {"persist"}): `ProjectIndex.function`
    follows re-exports, so a call can spell the new name."""
    out: Dict[str, Set[str]] = {}
    for summary in index.modules.values():
        for local, qual in summary.imports.items():
            last = last_part(qual)
            if local != last:
                out.setdefault(last, set()).add(local)
    return {k: frozenset(v) for k, v in out.items()}


def _unprefixed(index) -> FrozenSet[str]:
    """Names of functions (and of the classes of `__init__`s) of files without a module name:
    a rule on such a file sees its own summary, which the merged index may have overwritten
    with another nameless file's function of the same qualified name."""
    out: Set[str] = set()
    for q in index.functions:
        parts = q.split(".")
        if any(".".join(parts[:i]) in index.modules for i in range(1, len(parts))):
            continue
        out.add(parts[-1])
        if parts[-1] == "__init__" and len(parts) > 1:
            out.add(parts[-2])
    return frozenset(out)


def spellings(index, key: str, seeds_of, nameless: bool = True) -> FrozenSet[str]:
    """The names by which a call can reach the project functions whose names `seeds_of(index)`
    gives: those names and the names they are re-exported as (transitively), and with
    `nameless` the names of nameless files' functions (see `_unprefixed`; a rule whose gate
    already admits the file's own functions of interest, e.g. by `async_defs`, does not need
    them). Memoised on the index under `key`."""

    def compute() -> FrozenSet[str]:
        names = set(seeds_of(index))
        if nameless:
            names |= index.memo("gating.unprefixed", lambda: _unprefixed(index))
        return frozenset(_closure(names, index.memo("gating.renames", lambda: _renames(index))))

    return index.memo(("gating.spellings", key), compute)


def _reexports(index) -> Dict[str, Tuple[str, ...]]:
    """qualified name -> the names a module of the project binds it as at top level
    (`pkg/__init__.py`: `from .svc import save as persist` -> "pkg.svc.save": ("pkg.persist",)):
    what `ProjectIndex._reexport_of` follows backwards."""
    out: Dict[str, list] = {}
    for module, summary in index.modules.items():
        for local, qual in summary.imports.items():
            alias = f"{module}.{local}"
            if alias != qual:
                out.setdefault(qual, []).append(alias)
    return {k: tuple(v) for k, v in out.items()}


#: Past this many names, `project_aliases` gives up (None: the caller must not narrow).
ALIAS_LIMIT = 512
#: `ProjectIndex` follows a chain of at most this many re-exports (its `depth > 5` cut-offs);
#: a package that imports itself (`from pkg import sub as alias` in `pkg/sub/x.py`) makes
#: endless chains otherwise.
REEXPORT_DEPTH = 6


def project_aliases(index, qualname: str) -> Optional[FrozenSet[str]]:
    """`qualname` and every name that `ProjectIndex.function`, `class_qualname` and
    `instance_class` may follow to it through re-exports: of the name itself (`pkg.Service`
    for `pkg.services.Service`) or of a module above it (`pkg.svc.Service` with `from . import
    services as svc` in `pkg/__init__.py`), through up to `REEXPORT_DEPTH` of them. None when
    there are more than `ALIAS_LIMIT` names."""
    return index.memo(("gating.aliases", qualname), lambda: _aliases(index, qualname))


def _aliases(index, qualname: str) -> Optional[FrozenSet[str]]:
    reexports = index.memo("gating.reexports", lambda: _reexports(index))
    # top-level packages (`pkg` of `pkg.svc`): a prefix of one part is followed only for a
    # plain module; `import pkg` in many modules would make every name of the package an
    # alias of each (see the README's known gap)
    packages = index.memo("gating.packages",
                          lambda: frozenset(m.partition(".")[0] for m in index.modules if "." in m))
    found = {qualname}
    level = [qualname]
    for _ in range(REEXPORT_DEPTH):
        following = []
        for name in level:
            # each prefix (`svcmod` of a one-part module, `pkg.svc`, `pkg.svc.Service`), and
            # what follows it: `import svcmod` in reex.py makes `reex.svcmod.save` reach
            # `svcmod.save`, as `ProjectIndex._reexport_of` follows it
            dot = 0 if name.partition(".")[0] not in packages else name.find(".")
            while dot != -1:
                end = name.find(".", dot + 1)
                prefix, rest = (name, "") if end == -1 else (name[:end], name[end:])
                for alias in reexports.get(prefix, ()):
                    new = alias + rest
                    if new not in found:
                        if len(found) >= ALIAS_LIMIT:
                            return None
                        found.add(new)
                        following.append(new)
                dot = end
        level = following
    return frozenset(found)


def _instance_classes(index) -> Dict[str, Set[str]]:
    """class qualified name -> the module-level instances of it (`service = Service()`), as
    `class_qualname` resolves what built them."""
    out: Dict[str, Set[str]] = {}
    for q, built in index.instances.items():
        cls = index.class_qualname(built)
        if cls is not None:
            out.setdefault(cls, set()).add(q)
    return out


class ProjectCallees:
    """Which of some project functions and methods (`targets`, qualified names of the index's
    functions) a file's calls can reach: built once per index and rule (`of`).

    The rules find a project callee in three ways, each starting from a name of the file:

    - by qualified name (`ProjectIndex.function`/`project_function`, re-exports followed): an
      import reaches the function, or for `Repo.load(x)` its class, or for `db.load()` a
      module-level instance of it; `Repo()` reaches `Repo.__init__`. A call spells the last
      part of one of those names;
    - by the receiver's class (`receiver_class`, `call_origin`): a constructor call, an
      annotation or an assignment names the class, or an instance, through an import or as a
      class of the module; the call spells the method;
    - `self.load()` in a method of a class: that class.

    With `inherited`, a method is looked up through project bases (`ProjectIndex.method`), so
    every project subclass of a defining class carries it too. Calls by a bare name to a
    function of the file itself are the caller's to test (the facts know its own defs)."""

    def __init__(self, index, targets: Iterable[str], inherited: bool) -> None:
        # weak: the index's memo holds this object, which would otherwise keep a per-file
        # index (`project_index_for`) in a reference cycle until a full garbage collection
        self._index = weakref.ref(index)
        self.inherited = inherited
        functions: Set[str] = set()
        defining: Dict[str, Set[str]] = {}  # method name -> classes that define it as a target
        for q in targets:
            owner, _, name = q.rpartition(".")
            if owner in index.classes:
                defining.setdefault(name, set()).add(owner)
            else:
                functions.add(q)
        self._defining = defining
        self._children: Optional[Dict[str, Set[str]]] = None
        if "__init__" in defining:  # `Repo()` calls `Repo.__init__` (or an inherited one)
            functions |= {c for c in self._carriers("__init__") if c in index.classes}
        #: spelled name -> the qualified names a call spelling it must meet. A call may spell
        #: the name a function is re-exported as (`from shop import persist` for `shop.svc.save`).
        self._functions: Dict[str, Set[str]] = {}
        #: names of functions with too many re-exports to list (and the names those are
        #: re-exported as): a call spelling one passes
        self._loose: Set[str] = set()
        renames = index.memo("gating.renames", lambda: _renames(index))
        for q in functions:
            found = project_aliases(index, q)
            if found is None:
                self._loose |= _closure([last_part(q)], renames)
                continue
            for alias in found:
                self._functions.setdefault(last_part(alias), set()).add(alias)
        #: classes whose own file may see another definition than the merged index holds
        #: (`ProjectIndex.ambiguous`), and their subclasses: what they carry is unknown
        ambiguous = {c for q in index.ambiguous for c in (q, q.rpartition(".")[0]) if c in index.classes}
        self._ambiguous = frozenset(last_part(q) for q in _closure(ambiguous, self._subclasses())) \
            if ambiguous else frozenset()
        self._compiled: Dict[Tuple[str, str], object] = {}

    @property
    def index(self):
        return self._index()

    def function_spellings(self) -> FrozenSet[str]:
        """The names a call by qualified name must spell to reach a target function (`met`'s
        `spelled`), re-exports included."""
        return self._memo(("spellings", ""), lambda: frozenset(self._functions) | frozenset(self._loose))

    @property
    def ambiguous_classes(self) -> FrozenSet[str]:
        """Names of classes whose own file may see other methods than the merged index holds
        (and of their subclasses): what their instances carry is unknown."""
        return self._ambiguous

    @classmethod
    def of(cls, index, key: str, targets, inherited: bool) -> "ProjectCallees":
        """Memoised on the index under `key`; `targets(index)` gives the qualified names."""
        return index.memo(("gating.callees", key), lambda: cls(index, targets(index), inherited))

    def met(self, facts: FileFacts, spelled: AbstractSet[str], methods: AbstractSet[str],
            local_defs: AbstractSet[str], self_calls: Optional[Iterable[str]] = None) -> bool:
        """Whether a call of the file can reach a target: `spelled`, the names a call by
        qualified name may spell (import aliases included); `methods`, the method names of
        calls on a receiver other than `self`; `local_defs`, names of the file's own defs that
        may be targets (for an ambiguous class of the file, whose methods the merged index may
        not show); `self_calls`, those of `facts.self_calls` to consider (default all)."""
        if not self._loose.isdisjoint(spelled):
            return True
        # (`set.intersection(dict)` would walk the dict's keys: thousands on a large project)
        functions, defining = self._functions, self._defining
        if any(self._function_reach(name).met(facts) for name in spelled if name in functions):
            return True
        names = [name for name in methods if name in defining]
        if not self._ambiguous.isdisjoint(facts.class_defs) and (names or not methods.isdisjoint(local_defs)):
            return True
        for name in names:
            reach = self._method_reach(name)
            if reach is None or reach.met(facts):
                return True
        for call in facts.self_calls if self_calls is None else self_calls:
            owner, _, name = call.rpartition(".")
            if owner in self._ambiguous:
                if name in self._defining or name in local_defs:
                    return True
            elif name in self._defining and owner in self._carrier_names(name):
                return True
        return False

    def _memo(self, key: Tuple[str, str], compute):
        if key not in self._compiled:
            self._compiled[key] = compute()
        return self._compiled[key]

    def _function_reach(self, name: str) -> QualNames:
        return self._memo(("function", name), lambda: QualNames(self._functions[name]))

    def _carrier_names(self, method: str) -> FrozenSet[str]:
        """Names of the classes whose `self.method()` may reach a target."""
        return self._memo(("self", method), lambda: frozenset(
            last_part(c) for c in self._carriers(method) if c in self.index.classes))

    def _method_reach(self, method: str) -> Optional[QualNames]:
        """What a receiver of `method` must meet (None: too many names to compile, any call
        spelling the method passes)."""

        def compute() -> Optional[QualNames]:
            aliases: Set[str] = set()
            for target in self._carriers(method):
                more = project_aliases(self.index, target)
                if more is None or len(aliases) + len(more) > ALIAS_LIMIT * 4:
                    return None
                aliases |= more
            return QualNames(aliases, local_classes=True)

        return self._memo(("method", method), compute)

    def _carriers(self, method: str) -> Set[str]:
        """The classes a receiver may be of for `method` to resolve to a target (the defining
        classes, and with `inherited` their project subclasses), and module-level instances
        of those."""
        classes = _closure(self._defining[method], self._subclasses()) if self.inherited \
            else set(self._defining[method])
        index = self.index
        built = index.memo("gating.instance_classes", lambda: _instance_classes(index))
        return classes.union(*(built[c] for c in classes if c in built))

    def _subclasses(self) -> Dict[str, Set[str]]:
        if self._children is None:
            children: Dict[str, Set[str]] = {}
            for name, bases in self.index.classes.items():
                for base in bases:
                    found = self.index.class_qualname(base)
                    if found is not None:
                        children.setdefault(found, set()).add(name)
            self._children = children
        return self._children
