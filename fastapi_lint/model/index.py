"""The project index: what each module of the checked tree defines, for rules that look
across modules (a helper in `storage.py` that blocks, an `async def` in `services.py`).

The engine builds it in a first pass over every checked file when an enabled rule sets
`needs_index`, from one `ModuleSummary` per file (plain data: cached and sent between
processes), then hands the merged `ProjectIndex` to every file's ModuleContext.

Summaries come from CPython's `ast` (`summarize_source`): the index pass reads every file,
and `ast` parses about ten times faster than libcst. Syntax newer than the running
interpreter's is first rewritten for its `ast` where an older spelling means the same to the
scan (`modern.py`). Files that `ast` still cannot read get a skeleton from libcst
(`summarize_module`): their functions, classes and imports, without per-function facts, so
rules that need those facts stay silent there rather than guess.
"""

from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from fastapi_lint.catalogs.security import PATH_WRAPPERS
from fastapi_lint.model.facts import DEPENDS_LAST, FileFacts, OwnBody, file_facts, terminal_name
from fastapi_lint.model.names import resolve_relative_name

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst


@dataclass
class FunctionSummary:
    qualname: str  # "pkg.mod.func" or "pkg.mod.Class.method"
    is_async: bool
    line: int = 0
    #: Free-form facts that rule families add (e.g. "blocks": "open()"). Plain JSON data.
    facts: Dict[str, object] = field(default_factory=dict)


@dataclass
class ModuleSummary:
    module: Optional[str]
    path: str
    functions: Dict[str, FunctionSummary] = field(default_factory=dict)
    #: Qualified names this module passes to Depends()/Security().
    dependencies: Set[str] = field(default_factory=set)
    #: Local name -> qualified name for the module's top-level imports.
    imports: Dict[str, str] = field(default_factory=dict)
    #: Qualified names of module-level `X = Annotated[T, Depends(f)]` aliases.
    depends_aliases: Set[str] = field(default_factory=set)
    #: Top-level classes: qualified name -> qualified names of their bases (as resolvable).
    classes: Dict[str, List[str]] = field(default_factory=dict)
    #: Module-level instances: local name -> qualified name of the callable that built it
    #: (`service = UserService()` -> {"service": "pkg.mod.UserService"}).
    instances: Dict[str, str] = field(default_factory=dict)
    #: The engine's second gate (model/facts.py), read from the same `ast` tree. Not part of
    #: the index: the engine takes it out before the index is built and sent to workers.
    gate_facts: Optional[FileFacts] = None
    #: The same as the cache keeps it (`FileFacts.to_data`): a summary read from the cache
    #: leaves it so, since a warm run needs the facts only of files it lints again.
    gate_data: Optional[list] = None
    #: Set by the scan worker, never cached: whether a rule whose `wants` needs no index wants
    #: this file (the parent then asks only the rules that need the index).
    wanted: Optional[bool] = None

    def to_dict(self) -> Dict[str, object]:
        """Plain JSON data (the cache stores summaries of unchanged files)."""
        return {
            "module": self.module, "path": self.path,
            "functions": {q: [f.is_async, f.line, f.facts] for q, f in self.functions.items()},
            "dependencies": sorted(self.dependencies), "imports": self.imports,
            "depends_aliases": sorted(self.depends_aliases), "classes": self.classes, "instances": self.instances,
            "gate_facts": self.gate_facts.to_data() if self.gate_facts is not None else self.gate_data,
        }

    @classmethod
    def from_dict(cls, data: Dict) -> "ModuleSummary":
        return cls(
            data["module"], data["path"],
            {q: FunctionSummary(q, a, line, dict(facts)) for q, (a, line, facts) in data["functions"].items()},
            set(data["dependencies"]), dict(data["imports"]), set(data["depends_aliases"]),
            {k: list(v) for k, v in data["classes"].items()}, dict(data["instances"]),
            gate_data=data.get("gate_facts"),
        )


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, FunctionSummary] = {}
        self.dependencies: Set[str] = set()
        self.depends_aliases: Set[str] = set()
        self._chains: Dict[str, Optional[List[str]]] = {}
        self._resolved: Dict[str, Optional[FunctionSummary]] = {}  # project_function's answers
        #: rule code -> Rule.index_tokens(self), memoised by the engine's gate
        self.gate_tokens: Dict[str, object] = {}
        self._memo: Dict[object, object] = {}
        self.classes: Dict[str, List[str]] = {}
        self.instances: Dict[str, str] = {}
        #: Qualified names of functions and classes of files without a module name (they
        #: carry no prefix) that another file's summary also defines: the merged index keeps
        #: one of them, while a rule on such a file sees its own (`project_index_for`).
        self.ambiguous: Set[str] = set()
        self._nameless: Set[str] = set()
        for s in summaries:
            self.add(s)

    def add(self, summary: ModuleSummary) -> None:
        if summary.module:
            self.modules[summary.module] = summary
        for defined, known in ((summary.functions, self.functions), (summary.classes, self.classes)):
            if summary.module is None:
                self._nameless.update(defined)
            for q in defined:
                if q in known and (summary.module is None or q in self._nameless):
                    self.ambiguous.add(q)
        self.functions.update(summary.functions)
        self.dependencies |= summary.dependencies
        self.depends_aliases |= summary.depends_aliases
        self._chains, self._memo, self.gate_tokens, self._resolved = {}, {}, {}, {}  # derived: recomputed
        self.classes.update(summary.classes)
        prefix = f"{summary.module}." if summary.module else ""
        for name, built in summary.instances.items():
            self.instances[prefix + name] = built

    def memo(self, key: object, compute):
        """A fact derived from the whole index (e.g. the names of every coroutine function),
        computed once per index instead of once per linted file."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def coroutine_names(self) -> FrozenSet[str]:
        """Last name parts of the project's coroutine functions and methods."""
        return self.memo("coroutine_names", lambda: frozenset(
            q.rpartition(".")[2] for q, f in self.functions.items() if f.facts.get("coroutine")))

    def digest(self) -> str:
        """Changes whenever any module's summary changes (cached results depend on it)."""
        h = hashlib.sha256()
        for name in sorted(self.functions):
            f = self.functions[name]
            h.update(repr((name, f.is_async, sorted(f.facts.items(), key=str))).encode())
        for dep in sorted(self.dependencies):
            h.update(dep.encode())
        for alias in sorted(self.depends_aliases):
            h.update(b"alias:" + alias.encode())
        for name in sorted(self.classes):
            h.update(repr((name, self.classes[name])).encode())
        for name in sorted(self.instances):
            h.update(repr((name, self.instances[name])).encode())
        # which modules there are, and what each imports: re-exports (`function`,
        # `project_function`, gating's aliases) follow them
        for name in sorted(self.modules):
            h.update(repr((name, sorted(self.modules[name].imports.items()))).encode())
        h.update(repr(sorted(self.ambiguous)).encode())
        return h.hexdigest()[:16]

    def function(self, qualname: Optional[str], depth: int = 0) -> Optional[FunctionSummary]:
        """The function or method `qualname` names, following re-exports: `pkg.func` and
        `pkg.Class.method` where `pkg/__init__.py` imports `func`/`Class` from a submodule."""
        if not qualname or depth > 5:
            return None
        found = self.functions.get(qualname)
        if found is None:
            return self.function(self._reexport_of(qualname), depth + 1)
        return found

    def is_dependency(self, qualname: str) -> bool:
        return qualname in self.dependencies

    def project_function(self, qualname: Optional[str]) -> Optional[FunctionSummary]:
        """`function()` that also sees constructors (`pkg.Repo` -> `pkg.Repo.__init__`, an
        inherited one too), methods inherited from project bases (`pkg.Admin.load` defined in
        `pkg.Repo`) and methods of module-level instances (`pkg.db.db.connect` with
        `db = Database()`). Memoised: a project's calls name the same callees (`len`,
        `os.path.join`) thousands of times, each a walk through the re-exports."""
        if not qualname:
            return None
        try:
            return self._resolved[qualname]
        except KeyError:
            found = self._resolved[qualname] = self._project_function(qualname)
            return found

    def _project_function(self, qualname: str) -> Optional[FunctionSummary]:
        found = self.function(qualname)
        if found is None:
            found = self.function(f"{qualname}.__init__")
        if found is None and self.class_qualname(qualname) is not None:
            found = self.method(qualname, "__init__")
        if found is None:
            owner, _, attr = qualname.rpartition(".")
            if self.class_qualname(owner) is not None:
                return self.method(owner, attr)
            mod, _, name = owner.rpartition(".")
            summary = self.modules.get(mod)
            if summary is not None and name in summary.instances:
                found = self.function(f"{summary.instances[name]}.{attr}")
            elif summary is not None and name in summary.imports:  # re-exported instance
                target = summary.imports[name]
                tmod, _, tname = target.rpartition(".")
                tsum = self.modules.get(tmod)
                if tsum is not None and tname in tsum.instances:
                    found = self.function(f"{tsum.instances[tname]}.{attr}")
        return found

    def blocking_chain(self, qualname: Optional[str]) -> Optional[List[str]]:
        """For a sync project function that reaches a blocking call through sync project
        calls: the chain of labels, e.g. ["load_settings()", "open()"]; else None."""
        f = self.project_function(qualname)
        if f is None or f.is_async:
            return None
        key = f.qualname
        if key in self._chains:
            return self._chains[key]
        self._chains[key] = None  # a cycle reaches nothing new
        mod_prefix = next((m + "." for m in _prefixes(key) if m in self.modules), "")
        label = f"{key[len(mod_prefix):]}()"
        chain: Optional[List[str]] = None
        blocks = f.facts.get("blocks")
        if blocks:
            chain = [label, str(blocks[1])]
        else:
            for callee in f.facts.get("calls", ()):  # type: ignore[union-attr]
                sub = self.blocking_chain(callee)
                if sub:
                    chain = [label] + sub
                    break
        self._chains[key] = chain
        return chain

    def _reexport_of(self, qualname: str) -> Optional[str]:
        """What `qualname` names when it, or a module above it, is a name a module of the
        project imports: `pkg.Service` -> `pkg.services.Service` for `from .services import
        Service` in `pkg/__init__.py`, `pkg.svc.Service` for `from . import services as svc`."""
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            target = self._reexported(".".join(parts[: i + 1]))
            if target is not None:
                return ".".join([target] + parts[i + 1:])
        return None

    def _reexported(self, qualname: str) -> Optional[str]:
        mod, _, name = qualname.rpartition(".")
        summary = self.modules.get(mod)
        if summary is not None and name in summary.imports and summary.imports[name] != qualname:
            return summary.imports[name]
        return None

    def class_qualname(self, qualname: Optional[str], depth: int = 0) -> Optional[str]:
        """The project class `qualname` names (following re-exports), or None."""
        if not qualname or depth > 5:
            return None
        if qualname in self.classes:
            return qualname
        return self.class_qualname(self._reexport_of(qualname), depth + 1)

    def instance_class(self, qualname: Optional[str], depth: int = 0) -> Optional[str]:
        """The project class of a module-level instance (`from svc import service`), or None."""
        if not qualname or depth > 5:
            return None
        if qualname in self.instances:
            return self.class_qualname(self.instances[qualname])
        return self.instance_class(self._reexport_of(qualname), depth + 1)

    def method(self, class_qualname: str, name: str) -> Optional[FunctionSummary]:
        """`name` defined in the project class or, first found, in its project bases (MRO-ish, depth first)."""
        seen: Set[str] = set()
        todo = [class_qualname]
        while todo:
            cls = self.class_qualname(todo.pop(0))
            if cls is None or cls in seen:
                continue
            seen.add(cls)
            found = self.functions.get(f"{cls}.{name}")
            if found is not None:
                return found
            todo[:0] = self.classes.get(cls, [])
        return None


def _prefixes(qualname: str) -> List[str]:
    parts = qualname.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def module_name_for(path: str, root: Optional[str] = None,
                    inits: Optional[Dict[str, bool]] = None) -> Tuple[Optional[str], bool]:
    """(dotted module name, is_package) of a file, walking up while `__init__.py` exists.
    `inits`: a memo, directory -> whether it holds an `__init__.py`, for many files at once."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else os.path.splitext(filename)[0]
    if not stem.isidentifier():
        return None, False
    is_package = stem == "__init__"
    parts: List[str] = [] if is_package else [stem]
    while _has_init(directory, inits):
        directory, pkg = os.path.split(directory)
        if not pkg.isidentifier():
            break
        parts.insert(0, pkg)
        if root and os.path.abspath(directory) == os.path.abspath(root):
            break
    if not parts:
        return None, is_package
    return ".".join(parts), is_package


def _has_init(directory: str, memo: Optional[Dict[str, bool]]) -> bool:
    if memo is None:
        return os.path.isfile(os.path.join(directory, "__init__.py"))
    found = memo.get(directory)
    if found is None:
        found = memo[directory] = os.path.isfile(os.path.join(directory, "__init__.py"))
    return found


#: Decorators that return the decorated function itself (its calls still make coroutines).
TRANSPARENT_DECORATORS = frozenset({
    "staticmethod", "classmethod", "abstractmethod", "override", "final",
})
#: `@app.get(...)`, `@router.middleware("http")`...: FastAPI/Starlette registration returns the function.
REGISTERING_DECORATORS = frozenset({
    "get", "post", "put", "patch", "delete", "options", "head", "trace", "api_route", "websocket",
    "route", "websocket_route", "middleware", "exception_handler", "on_event",
})
_BUILTIN_RETURNS = ("str", "int", "float", "bool", "bytes", "dict", "list", "set", "tuple", "None")
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def ast_dotted(node) -> Optional[str]:
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def ast_block_statements(body):
    """Statements of a body, entering compound statements but not defs/classes (as
    `imports.iter_block_statements` does for libcst)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for attr in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                yield from ast_block_statements(inner)
        for h in getattr(stmt, "handlers", ()) or ():
            yield from ast_block_statements(h.body)
        for case in getattr(stmt, "cases", ()) or ():
            yield from ast_block_statements(case.body)


def _import_bindings(stmt, module_name: Optional[str], is_package: bool):
    if isinstance(stmt, ast.Import):
        for a in stmt.names:
            if a.asname:
                yield a.asname, a.name
            else:
                head = a.name.split(".")[0]
                yield head, head
        return
    base = resolve_relative_name(stmt.module, stmt.level or 0, module_name, is_package)
    for a in stmt.names:
        if a.name != "*":
            yield a.asname or a.name, (f"{base}.{a.name}" if base else None)


def _is_depends_call(node) -> bool:
    return isinstance(node, ast.Call) and (ast_dotted(node.func) or "").rpartition(".")[2] in DEPENDS_LAST


#: What a path containment check calls: a sound one normalises the path first (`resolve()`,
#: `realpath`), or asks `is_relative_to`/`commonpath`. A function that calls none of them is not
#: read for `path_checks` (most functions: the scan stays one walk).
_PATH_NORMALISERS = frozenset({"is_relative_to", "commonpath", "resolve", "realpath", "abspath", "normpath"})


def _path_of(expr) -> Optional[str]:
    """The name a path expression is made of: `p`, `p.resolve()`, `Path(p).absolute()`, `str(p)`,
    `os.path.realpath(p)`; else None."""
    while isinstance(expr, ast.Call):
        name = terminal_name(expr.func)
        if isinstance(expr.func, ast.Attribute) and name in ("resolve", "absolute", "expanduser") and not expr.args:
            expr = expr.func.value
        elif name in PATH_WRAPPERS and len(expr.args) == 1 and not expr.keywords:
            expr = expr.args[0]
        else:
            return None
    return expr.id if isinstance(expr, ast.Name) else None


def _path_checked_params(func) -> List[List[object]]:
    """[position, name] of each parameter of a plain function whose path the function checks
    for containment, as FPI303 takes an inline check (`taint._PathChecks`): `p.is_relative_to(base)`,
    `p.startswith(base)` (not a literal prefix), `base in p.resolve().parents`,
    `os.path.commonpath([base, p])`. A route then calling `if not is_inside(path, root): raise`
    has checked `path`."""
    a = func.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    params = set(positional) | {p.arg for p in a.kwonlyargs}
    found: Set[str] = set()
    for node in (n for stmt in func.body for n in ast.walk(stmt)):
        if isinstance(node, ast.Call):
            name = terminal_name(node.func)
            if isinstance(node.func, ast.Attribute) and (name == "is_relative_to" or (
                    name == "startswith" and node.args and not isinstance(node.args[0], ast.Constant))):
                found.add(_path_of(node.func.value) or "")
            elif name == "commonpath":
                for arg in node.args:
                    for el in (arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else ()):
                        found.add(_path_of(el) or "")
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Attribute) and right.attr == "parents":
                    found.add(_path_of(right.value) or "")
    found &= params
    return [[positional.index(n) if n in positional else -1, n] for n in sorted(found)]


def function_facts(func, resolve, own: OwnBody, module_depends: bool = True) -> Dict[str, object]:
    """Facts of one function for the coroutine rules (FPI2xx): plain JSON data.

    coroutine: calling it makes a coroutine (async, no yield, only transparent decorators);
    asyncgen / generator: it yields; decorated: a decorator may change what it returns;
    factory: it may return a callable (nested def, lambda or class, or a `Callable` return
    annotation); depends_params: a parameter is `Depends(...)`; returns: the resolved
    return annotation; path_checks: parameters whose path a plain function checks for
    containment (FPI303, `_path_checked_params`). `module_depends`: the module has a call
    spelled `Depends` or `Security` (`file_facts`' `named_calls`); without one, no parameter
    is searched.
    """
    facts: Dict[str, object] = {}
    transparent = True
    for d in func.decorator_list:
        if isinstance(d, ast.Call):
            if isinstance(d.func, ast.Attribute) and d.func.attr in REGISTERING_DECORATORS:
                continue
            transparent = False
        else:
            name = ast_dotted(d) or ""
            if name.rpartition(".")[2] not in TRANSPARENT_DECORATORS and not name.startswith("pytest.mark"):
                transparent = False
    if isinstance(func, ast.AsyncFunctionDef):
        if own.yields:
            facts["asyncgen"] = True
        elif transparent:
            facts["coroutine"] = True
    elif own.yields:
        facts["generator"] = True
    if not transparent:
        facts["decorated"] = True
    returns = func.returns
    ret_name = resolve(returns.value if isinstance(returns, ast.Subscript) else returns) \
        if returns is not None else None
    if own.nested or (ret_name or "").rpartition(".")[2] == "Callable":
        facts["factory"] = True
    if ret_name:
        facts["returns"] = ret_name
    elif isinstance(returns, ast.Name) and returns.id in _BUILTIN_RETURNS:
        facts["returns"] = f"builtins.{returns.id}"
    elif isinstance(returns, ast.Constant) and returns.value is None:
        facts["returns"] = "builtins.None"
    a = func.args
    if own.owner is None and not _PATH_NORMALISERS.isdisjoint(terminal_name(c.func) for c in own.calls):
        checked = _path_checked_params(func)
        if checked:
            facts["path_checks"] = checked
    params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    defaults = [*a.defaults, *(d for d in a.kw_defaults if d is not None)]
    if module_depends and (
            any(_is_depends_call(n) for p in params if p.annotation is not None for n in ast.walk(p.annotation))
            or any(_is_depends_call(d) for d in defaults)):
        facts["depends_params"] = True
    return facts


def summarize_source(source: str, path: str, module_name: Optional[str], is_package: bool,
                     tree: Optional[ast.Module] = None) -> ModuleSummary:
    """A module's summary from CPython's `ast` (`tree`, if given, is the source's). Raises
    SyntaxError/ValueError when `ast` cannot read the file (then use `summarize_module`)."""
    from fastapi_lint.model.blocking_index import add_blocking_facts

    if tree is None:
        tree = ast.parse(source)
    bodies: Dict[int, OwnBody] = {}
    depends_calls: Dict[str, List[ast.Call]] = {name: [] for name in DEPENDS_LAST}
    summary = ModuleSummary(module_name, path,
                            gate_facts=file_facts(tree, bodies, depends_calls, (module_name, is_package)))
    module_depends = any(depends_calls.values())
    prefix = f"{module_name}." if module_name else ""
    statements = list(ast_block_statements(tree.body))
    for stmt in statements:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for name, qual in _import_bindings(stmt, module_name, is_package):
                if qual:
                    summary.imports[name] = qual
    local_names = {s.name for s in statements if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    def resolve(expr) -> Optional[str]:
        name = ast_dotted(expr)
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in summary.imports:
            return summary.imports[head] + (f".{rest}" if rest else "")
        if head in local_names:
            return f"{prefix}{name}"
        return None

    def add_function(func, owner: str) -> None:
        q = f"{prefix}{owner}{func.name}"
        fs = FunctionSummary(q, isinstance(func, ast.AsyncFunctionDef), func.lineno)
        fs.facts.update(function_facts(func, resolve, bodies[id(func)], module_depends))
        summary.functions[q] = fs

    for stmt in statements:
        if isinstance(stmt, _FUNCS):
            add_function(stmt, "")
        elif isinstance(stmt, ast.ClassDef):
            bases = [resolve(b) for b in stmt.bases]
            summary.classes[f"{prefix}{stmt.name}"] = [b for b in bases if b]
            for inner in ast_block_statements(stmt.body):
                if isinstance(inner, _FUNCS):
                    add_function(inner, f"{stmt.name}.")
    if module_depends:
        for node in (c for calls in depends_calls.values() for c in calls):
            if not _is_depends_call(node):
                continue
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "dependency"),
                                                        None)
            target = ast_dotted(arg) if arg is not None else None
            if target:
                summary.dependencies.add(resolve(arg) or f"{prefix}{target}")
        for stmt in statements:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Subscript) \
                    and any(_is_depends_call(n) for n in ast.walk(stmt.value)):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        summary.depends_aliases.add(f"{prefix}{t.id}")
    add_blocking_facts(summary, tree, is_package, bodies)  # also fills summary.instances
    return summary


def summarize_module(module: cst.Module, source: str, path: str, module_name: Optional[str],
                     is_package: bool) -> ModuleSummary:
    """A skeleton summary from libcst, for files `ast` cannot read: imports, functions (sync or
    async) and classes with their bases; no per-function facts."""
    import libcst as cst

    from fastapi_lint.model.imports import dotted_name, iter_block_statements, scope_bindings

    summary = ModuleSummary(module_name, path)
    bindings = scope_bindings(module.body, module_name, is_package)
    summary.imports = {k: v for k, v in bindings.items() if v}
    prefix = f"{module_name}." if module_name else ""
    for stmt in iter_block_statements(module.body):
        if isinstance(stmt, cst.FunctionDef):
            q = f"{prefix}{stmt.name.value}"
            summary.functions[q] = FunctionSummary(q, stmt.asynchronous is not None)
        elif isinstance(stmt, cst.ClassDef):
            bases = []
            for b in stmt.bases:
                name = dotted_name(b.value) if b.keyword is None else None
                head, _, rest = (name or "").partition(".")
                if head in summary.imports:
                    bases.append(summary.imports[head] + (f".{rest}" if rest else ""))
            summary.classes[f"{prefix}{stmt.name.value}"] = bases
            for inner in iter_block_statements(stmt.body.body):
                if isinstance(inner, cst.FunctionDef):
                    q = f"{prefix}{stmt.name.value}.{inner.name.value}"
                    summary.functions[q] = FunctionSummary(q, inner.asynchronous is not None)
    return summary


def summarize_text(text: str, path: str, module_name: Optional[str], is_package: bool,
                   module: Optional[cst.Module] = None) -> Optional[ModuleSummary]:
    """`summarize_source`; for syntax newer than the interpreter's, of the text rewritten for
    its `ast` (`modern.py`), else the libcst skeleton (parsing `text` if no module is given)."""
    import warnings

    from fastapi_lint.model.modern import parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return summarize_source(text, path, module_name, is_package, parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        if module is None:
            from fastapi_lint.engine import parse_source

            module = parse_source(text)
    except Exception:
        return None
    return summarize_module(module, text, path, module_name, is_package)


def project_index_for(ctx) -> ProjectIndex:
    """The project index as seen from one module, including that module even when it was linted
    alone (stdin, a single file, or the flake8 plugin without an index pass)."""

    def compute() -> ProjectIndex:
        index = ctx.index
        if index is not None and ctx.module_name is not None and ctx.module_name in index.modules:
            return index
        own = summarize_text(ctx.source, ctx.path, ctx.module_name, ctx.is_package, ctx.module)
        summaries = list(index.modules.values()) if index is not None else []
        return ProjectIndex(summaries + ([own] if own is not None else []))

    return ctx.memo("index.project_index_for", compute)
