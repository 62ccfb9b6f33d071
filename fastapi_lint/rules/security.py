"""FPI3xx: security."""

from __future__ import annotations

import ast
import re
from typing import List, Optional, Tuple

import libcst as cst

from fastapi_lint.catalogs import security as cat
from fastapi_lint.diagnostics import UNSAFE
from fastapi_lint.model.fastapi import ROUTE_TOKENS, keyword, positional
from fastapi_lint.model.facts import terminal_name
from fastapi_lint.model.gates import calls_any, may_register_routes, names_any, origin_possible
from fastapi_lint.model.index import ast_dotted
from fastapi_lint.model.receivers import ANY as ANY_KIND, NOTHING, ModuleReceivers
from fastapi_lint.model.taint import PATH_SEGMENT_PARAMETER, Unknown, literal_value
from fastapi_lint.registry import FixSpec, Rule, hint, register

_SQL_START = re.compile(r"^[\s(]*(%s)\b" % "|".join(cat.SQL_STATEMENT_WORDS), re.I)
_SQL_CLAUSE = re.compile("|".join(cat.SQL_CLAUSES), re.I)


def looks_like_sql(text: str) -> bool:
    """SQL by its keywords: a statement keyword first (after leading holes) or a clause keyword."""
    stripped = re.sub(r"^(\s|\{\})+", "", text)
    return bool(_SQL_START.match(stripped) or _SQL_CLAUSE.search(text))


def _kw(call: cst.Call, name: str) -> Optional[cst.Arg]:
    return keyword(call, name)


def _has_star_kwargs(call: cst.Call) -> bool:
    return any(a.star == "**" for a in call.args)


def _value(ctx, expr: Optional[cst.BaseExpression]):
    if expr is None:
        raise Unknown()
    return literal_value(ctx, expr)


_SQL_SINK_FUNCTIONS = tuple(sorted(cat.SQL_SINK_FUNCTIONS))
_REQUEST_TYPES = tuple(o[:-2] for o in cat.REQUEST_ORIGINS)


def _mentions(facts, part: str) -> bool:
    """An identifier of the file (or of a string annotation) contains `part`."""
    return any(part in n for n in facts.names) or any(part in n for n in facts.type_string_names)


def _describe(holes) -> str:
    items = sorted(holes)
    if len(items) > 3:
        items = items[:3] + ["..."]
    return ", ".join(items)


def _sql_advice(risky, names) -> str:
    """What FPI301 tells the user to do: bind the values; names (`names`, a subset of `risky`)
    cannot be bound, so check them against an allow-list or quote them as identifiers."""
    if not names:
        return "pass the values as bound parameters"
    if names == risky:
        it = "them" if len(names) > 1 else "it"
        return (f"a bound parameter cannot stand for a name: check {it} against an allow-list or quote {it} "
                "as an identifier")
    return (f"check the names ({_describe(names)}) against an allow-list or quote them as identifiers, "
            "and pass the values as bound parameters")


def middleware_call(ctx, node: cst.Call, classes) -> Optional[List[cst.Arg]]:
    """The keyword args configuring a middleware of `classes`, however it is added:
    `app.add_middleware(C, ...)`, `Middleware(C, ...)` or `C(app, ...)`; else None."""
    q = ctx.call_qualname(node)
    if q in classes:
        return list(node.args)
    first = positional(node, 0)
    if first is None or ctx.qualname(first.value) not in classes:
        return None
    if q in cat.MIDDLEWARE_WRAPPERS or (isinstance(node.func, cst.Attribute)
                                        and node.func.attr.value == "add_middleware"):
        return [a for a in node.args if a is not first]
    return None


# ============================================================================ FPI301

@register
class SqlBuiltFromStrings(Rule):
    code = "FPI301"
    wants_index = False
    name = "sql-built-from-strings"
    summary = ("SQL text built with f-strings, `+`, `+=`, `%` or `.format` from non-constant values and "
               "run by `execute`/`fetch*`/`text()`/`read_sql`.")
    fix = UNSAFE
    tokens = ("execute", "fetch", "text", "read_sql", "iterate", "mogrify", "copy_expert", "raw")

    @classmethod
    def wants(cls, facts, index):
        """A sink: a call spelled with a sink method's name (`x.execute(...)`) or resolving to a
        sink function (`text`, `read_sql`), given text that may be built from parts (taint
        `builds`) out of literals that hold SQL words (`looks_like_sql` reads their text):
        `FileFacts.sql_sink_built`."""
        return facts.sql_sink_built \
            and (not facts.calls.isdisjoint(cat.SQL_SINK_METHODS) or calls_any(facts, _SQL_SINK_FUNCTIONS))

    docs = """
    ## What it does
    Reports SQL text that is built from non-constant values (f-string, `+`, `+=`, `%`,
    `.format`, `str.join`), directly or through local variables of the same function, and
    reaches a sink: `execute`, `executemany`, `executescript`, `fetch`, `fetchrow`,
    `fetchval`, `fetchone`/`fetch_one`/`fetch_all` given SQL, `exec_driver_sql`,
    `sqlalchemy.text` or `pandas.read_sql*`. One report per built string.

    Not reported: text that is not SQL (`runner.execute(f"step-{n}")`; SQL is recognised by
    its keywords), values that are constants (literals, module constants, ALL_CAPS names and
    attributes, class attributes assigned a literal, numbers, `int(...)`, parameters annotated
    `int`/`float`/`bool`/`UUID`/dates), placeholder lists such as `", ".join("?" for _ in ids)`,
    SQL passed in from elsewhere without being built here, names checked against a literal
    allow-list (`if field not in ("a", "b"): return`, or against a name the module binds once to
    one: `SORTABLE = {"a", "b"}`), and fragments the code computes itself
    in structural positions (`WHERE {filters.where()}`, `DEFAULT {db.timestamp_now}`). What is
    reported: client input anywhere, any value inside an SQL string literal (`'{row.slug}'`),
    and parameters of the function (they may carry anything, table names included).

    Where the value stands for a name (after a keyword naming an object: `SCHEMA`, `TABLE`,
    `DATABASE`, `VIEW`, `INDEX`, `SEQUENCE`, `ROLE`, `USER`, `EXTENSION`, optionally `IF [NOT]
    EXISTS`; after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TRUNCATE`, `SET search_path TO`/`=`,
    `ORDER BY`, `GROUP BY`; the kind of object after `DROP`/`CREATE`/`ALTER`; or after `name.`;
    quoted or not, outside a string literal), a bound parameter cannot replace it, and the
    message says so: check the name against an allow-list, or quote it with the driver's
    identifier quoting (psycopg's `sql.Identifier`, SQLAlchemy's
    `dialect.identifier_preparer.quote()`).

    ## Why is this bad?
    A value pasted into SQL text is parsed as SQL: `name = "x' OR '1'='1"` turns a lookup into
    a dump of the table, and stacked statements can change or delete data. Bound parameters
    are sent apart from the SQL text and never parsed.

    ## Example
    ```python
    @app.get("/users")
    def users(name: str):
        return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()
    ```

    ## Use instead
    ```python
    @app.get("/users")
    def users(name: str):
        return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()

    SORTABLE = {"name", "created_at"}

    @app.get("/users/sorted")
    def sorted_users(order: str):
        if order not in SORTABLE:  # a name cannot be a bound parameter: allow-list it
            raise HTTPException(422)
        return conn.execute(f"SELECT * FROM users ORDER BY {order}").fetchall()
    ```

    ## Fix safety
    Unsafe, offered only when the f-string is passed straight to the sink, every interpolation
    is a plain value in a value position (after `=`, `<`, `>`, `LIKE`, `LIMIT`, `OFFSET`, or in
    `VALUES (...)`, quoted or not) and the driver is known from the receiver's origin: `?` plus
    a tuple for sqlite3/aiosqlite, `%s` plus a tuple for psycopg/psycopg2/pymysql/MySQLdb,
    `$1, $2` plus arguments for asyncpg, and `text("... :name").bindparams(name=...)` for
    SQLAlchemy `text()`. It changes how values are typed and compared (a quoted number becomes
    a number parameter), so review it. Nothing is offered when a name is built in.
    """

    def _sink_arg(self, node: cst.Call) -> Tuple[Optional[cst.BaseExpression], str]:
        ctx = self.ctx
        q = ctx.call_qualname(node)
        if q in cat.SQL_SINK_FUNCTIONS:
            arg = positional(node, 0) or next((keyword(node, k) for k in cat.SQL_KEYWORDS if keyword(node, k)), None)
            return (arg.value if arg else None), q.rsplit(".", 1)[-1]
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in cat.SQL_SINK_METHODS and q is None:
            arg = positional(node, 0) or next((keyword(node, k) for k in cat.SQL_KEYWORDS if keyword(node, k)), None)
            return (arg.value if arg else None), node.func.attr.value
        return None, ""

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        sql, sink = self._sink_arg(node)
        if sql is None or isinstance(sql, (cst.SimpleString, cst.ConcatenatedString)):
            return
        taint = ctx.taint.value(sql)
        if not taint.builds or not taint.holes or not looks_like_sql(taint.text):
            return
        # Client input anywhere, any value where SQL expects data, or a parameter of the function
        # (identifiers such as table names included). Fragments the code computes itself in
        # structural positions (`{db.timestamp_now}`, `WHERE {filters.where()}`) are query building.
        risky = taint.user | taint.data | taint.params
        if not risky:
            return
        reported = ctx.memo("FPI301.reported", set)
        if taint.builds <= reported:
            return
        reported |= taint.builds
        who = ("any client" if taint.user else "whoever controls those values")
        # a hole where SQL expects a name (`CREATE SCHEMA "{x}"`, `FROM {x}`, `ORDER BY {x}`)
        # cannot become a bound parameter: say what can be done there instead
        names = (risky & taint.names) - taint.data
        self.report(
            node,
            f"SQL text built from {_describe(risky)} reaches `{sink}()`: {who} can rewrite the "
            f"query to read or change any data the database user can; {_sql_advice(risky, names)}",
            self._fix(node, sql, bool(names)),
        )

    # ------------------------------------------------------------------ fix
    def _fix(self, node: cst.Call, sql: cst.BaseExpression, names: bool = False) -> FixSpec:
        ctx = self.ctx
        if names:  # `_placeholders` binds values only: no fix either way
            return hint("Check names against an allow-list or quote them as identifiers; "
                        "pass values as bound parameters")
        no_fix = hint("Pass the values as bound parameters of the driver instead of formatting them into SQL")
        # text(f"...") (standalone or as the argument of execute): SQLAlchemy named binds
        text_call = None
        if ctx.call_qualname(node) in cat.SQLALCHEMY_TEXT:
            text_call = node
        elif isinstance(sql, cst.Call) and ctx.call_qualname(sql) in cat.SQLALCHEMY_TEXT:
            text_call = sql
        if text_call is not None:
            if len(text_call.args) != 1 or text_call.args[0].keyword is not None:
                return no_fix
            fstring = text_call.args[0].value
            if not isinstance(fstring, cst.FormattedString):
                return no_fix
            built = _placeholders(ctx, fstring, "named")
            if built is None:
                return no_fix
            literal, params = built
            binds = ", ".join(f"{n}={code}" for n, code in params)
            new = f"{ctx.code_for(text_call.func)}({literal}).bindparams({binds})"
            return self._spec(text_call, new, "Use `text()` bind parameters")
        if not isinstance(sql, cst.FormattedString) or not isinstance(node.func, cst.Attribute):
            return no_fix
        if len(node.args) != 1 or node.args[0].keyword is not None or node.func.attr.value in (
                "executemany", "executescript", "exec_driver_sql", "mogrify", "copy_expert", "raw"):
            return no_fix
        style = _paramstyle(ctx.origin_of(node.func.value))
        if style is None:
            return no_fix
        built = _placeholders(ctx, sql, style)
        if built is None:
            return no_fix
        literal, params = built
        codes = [code for _, code in params]
        if style == "numeric_dollar":
            rest = ", ".join(codes)
        else:
            rest = "(" + ", ".join(codes) + ("," if len(codes) == 1 else "") + ")"
        new = f"{ctx.code_for(node.func)}({literal}, {rest})"
        return self._spec(node, new, f"Use `{ {'qmark': '?', 'format': '%s', 'numeric_dollar': '$1'}[style] }` "
                                     "placeholders and pass the values as parameters")

    def _spec(self, node: cst.Call, code: str, title: str) -> FixSpec:
        try:
            new = cst.parse_expression(code)
        except Exception:
            return hint(title)
        if isinstance(new, cst.Call):
            new = new.with_changes(lpar=node.lpar, rpar=node.rpar)
        return FixSpec(UNSAFE, title, {node: new})


def _paramstyle(origin: Optional[str]) -> Optional[str]:
    if not origin:
        return None
    origin = origin.replace("await ", "")
    for module, style in cat.DRIVER_PARAMSTYLES.items():
        if origin.startswith(module + "."):
            return style
    return None


_VALUE_POSITION = re.compile(r"(=|<|>|\bLIKE|\bILIKE|\bLIMIT|\bOFFSET|\bVALUES\s*\((?:[^()']|'[^']*')*?,?)\s*$", re.I)
_SIMPLE = (cst.Name, cst.Attribute, cst.Subscript)


def _placeholders(ctx, fstring: cst.FormattedString, style: str) -> Optional[Tuple[str, List[Tuple[str, str]]]]:
    """The f-string as a plain literal with placeholders, and (name, expression code) per value."""
    prefix = fstring.start.replace("f", "").replace("F", "")
    if "r" in prefix.lower():
        return None
    quote = fstring.end
    parts = list(fstring.parts)
    texts: List[str] = []
    params: List[Tuple[str, str]] = []
    names = {}
    for i, part in enumerate(parts):
        if isinstance(part, cst.FormattedStringText):
            texts.append(part.value.replace("{{", "{").replace("}}", "}"))
            continue
        if part.conversion is not None or part.format_spec is not None or not isinstance(part.expression, _SIMPLE):
            return None
        before = "".join(texts)
        after = parts[i + 1].value if i + 1 < len(parts) and isinstance(parts[i + 1], cst.FormattedStringText) else ""
        quoted = before.endswith("'") and after.startswith("'")
        if quoted:
            before = before[:-1]
        if not _VALUE_POSITION.search(before):
            return None
        code = ctx.code_for(part.expression)
        if style == "named":
            name = names.get(code)
            if name is None:
                base = part.expression.value if isinstance(part.expression, cst.Name) else (
                    part.expression.attr.value if isinstance(part.expression, cst.Attribute) else "p")
                name = base
                n = 2
                while name in names.values():
                    name = f"{base}_{n}"
                    n += 1
                names[code] = name
                params.append((name, code))
            mark = f":{name}"
        else:
            params.append(("", code))
            mark = {"qmark": "?", "format": "%s"}.get(style) or f"${len(params)}"
        texts = [before + mark]
        if quoted:
            parts[i + 1] = parts[i + 1].with_changes(value=after[1:])
    text = "".join(texts)
    forbidden = {"qmark": "?", "format": "%", "numeric_dollar": "$"}.get(style)
    constant_text = "".join(p.value for p in fstring.parts if isinstance(p, cst.FormattedStringText))
    if forbidden and forbidden in constant_text:
        return None
    if style == "named" and re.search(r"(?<![:\w]):\w", constant_text):
        return None
    if not params:
        return None
    return prefix + text + quote, params


# ============================================================================ FPI302

@register
class CorsAnyOriginWithCredentials(Rule):
    code = "FPI302"
    wants_index = False
    name = "cors-any-origin-with-credentials"
    summary = ("`CORSMiddleware` with `allow_origins` containing `\"*\"` (or an `allow_origin_regex` matching "
               "everything) and `allow_credentials=True`.")
    fix = "display-only"
    tokens = ("CORSMiddleware",)

    @classmethod
    def wants(cls, facts, index):
        """`allow_credentials=` given, and a name resolving to CORSMiddleware."""
        return "allow_credentials" in facts.keywords and names_any(facts, cat.CORS_MIDDLEWARE)

    docs = """
    ## What it does
    Reports `CORSMiddleware` (from `fastapi.middleware.cors` or `starlette.middleware.cors`)
    configured with `allow_credentials=True` and either `allow_origins` containing `"*"` or an
    `allow_origin_regex` that matches any origin (`.*`, `.+`, `^.*$`, `https?://.*`: the regex
    is tried on made-up origins). Every way of adding it is checked: `app.add_middleware(...)`,
    `Middleware(CORSMiddleware, ...)` in `FastAPI(middleware=[...])`/`Starlette(...)`, and
    wrapping `CORSMiddleware(app=..., ...)`. Module constants and local variables bound once
    to a literal are resolved; values read from settings are not guessed.

    ## Why is this bad?
    With credentials allowed, Starlette answers a wildcard by echoing the request's `Origin`
    together with `Access-Control-Allow-Credentials: true`. Any web site a logged-in user
    visits can then call the API with the user's cookies and read the answers.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    ```

    ## Use instead
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True)
    ```

    ## Fix safety
    No automatic fix (a hint): only you know which origins should be trusted.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        args = middleware_call(ctx, node, cat.CORS_MIDDLEWARE)
        if args is None:
            return
        by_kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            if _value(ctx, by_kw.get("allow_credentials")) is not True:
                return
        except Unknown:
            return
        what = None
        try:
            origins = _value(ctx, by_kw.get("allow_origins"))
            if isinstance(origins, (list, str)) and "*" in origins:
                what = '`allow_origins` contains `"*"`'
        except Unknown:
            pass
        if what is None:
            try:
                regex = _value(ctx, by_kw.get("allow_origin_regex"))
                if isinstance(regex, str) and all(re.fullmatch(regex, o) for o in cat.PROBE_ORIGINS):
                    what = f"`allow_origin_regex={regex!r}` matches every origin"
            except (Unknown, re.error):
                pass
        if what is None:
            return
        self.report(node, f"CORS {what} with `allow_credentials=True`: any web site can send requests with the "
                          "visitor's cookies and read the responses; list the trusted origins instead",
                    hint("List the trusted origins in `allow_origins`"))


# ============================================================================ FPI303

@register
class UserControlledFilePath(Rule):
    code = "FPI303"
    wants_index = False
    needs_index = True  # whether a project function checks a path it is given (`path_checks`)
    name = "user-controlled-file-path"
    summary = ("`UploadFile.filename` or a route's path/query parameter flowing into a filesystem path "
               "without `basename`/`Path(...).name`/`secure_filename` or a `resolve()` + `is_relative_to` check.")
    fix = "display-only"
    tokens = ("filename", "open", "Path", "path", "FileResponse", "shutil", "remove", "unlink")
    requires = ROUTE_TOKENS + ("UploadFile",)

    @classmethod
    def wants(cls, facts, index):
        """Client input (a parameter of a route of this module, an UploadFile's name, a
        Request's query/path params, headers or cookies) and a sink (a file function, a path
        I/O method: a pathlib one only if the file can name a pathlib or anyio path, a `/` in
        a def that may read client input: `FileFacts.user_divide`)."""
        user = (may_register_routes(facts) or _mentions(facts, "UploadFile")  # taint.upload_file reads code
                or names_any(facts, _REQUEST_TYPES))
        path_io = not facts.calls.isdisjoint(cat.PATH_IO_BY_NAME) or (
            not facts.calls.isdisjoint(cat.PATH_IO_METHODS) and names_any(facts, cat.PATH_CLASSES))
        return user and (facts.user_divide or path_io or calls_any(facts, cat.FILE_SINKS))

    docs = """
    ## What it does
    Reports client input reaching a filesystem path inside a route: `UploadFile.filename`,
    the route's string path/query/header/form parameters and `request.query_params[...]`,
    through assignments, f-strings, `+`, `os.path.join`, `Path(...)` and `/` joins, into `open`,
    `aiofiles.open`, `Path(...)`, `os.path.join`, `FileResponse`, `shutil.*`, `os.remove` and
    friends, or pathlib I/O methods. One report per input. Not reported when the value went
    through `os.path.basename`, `Path(...).name`/`.stem`/`.suffix` or `secure_filename`, when
    the path is checked with `resolve()` + `is_relative_to(...)`, `base in
    path.resolve().parents`, `os.path.commonpath([...])` (or a `".." in name` test) in an `if`
    of the same function, or passed there to a function of the project that checks it so (`if
    not is_inside(path, root): raise`, the function in any module of the tree), for parameters
    annotated with numbers, UUIDs or models, and for plain `{name}` path parameters: they match
    one URL segment and cannot hold a `/` (a `{name:path}` parameter can, and is reported).

    ## Why is this bad?
    Starlette passes the client's filename through untouched, and a query parameter is any
    string: `../../etc/cron.d/job` or an absolute path lets a client write, read or delete
    files outside the directory you meant.

    ## Example
    ```python
    @app.post("/upload")
    async def upload(file: UploadFile):
        with open(f"uploads/{file.filename}", "wb") as out:
            out.write(await file.read())
    ```

    ## Use instead
    ```python
    @app.post("/upload")
    async def upload(file: UploadFile):
        name = os.path.basename(file.filename or "upload")
        with open(os.path.join("uploads", name), "wb") as out:
            out.write(await file.read())
    ```

    ## Fix safety
    No automatic fix (a hint): the right sanitising depends on what the path is for.
    """

    def _path_args(self, node: cst.Call) -> Optional[Tuple[str, List[cst.BaseExpression]]]:
        ctx = self.ctx
        q = ctx.call_qualname(node)
        if q in cat.FILE_SINKS:
            parent = ctx.parent(node)
            if q.endswith("Path") and isinstance(parent, cst.Attribute) and parent.value is node \
                    and parent.attr.value in cat.SANITISING_ATTRIBUTES:
                return None  # Path(file.filename).suffix
            short = q[len("builtins."):] if q.startswith("builtins.") else (
                q if q.startswith(("os.", "shutil.", "aiofiles.")) else q.rsplit(".", 1)[-1])
            return short, [a.value for a in node.args if a.keyword is None or a.keyword.value in (
                "path", "file", "src", "dst", "filename")]
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in cat.PATH_IO_METHODS and q is None:
            origin = ctx.origin_of(node.func.value) or ""
            if origin.startswith(("pathlib.", "anyio.Path")) or node.func.attr.value in cat.PATH_IO_BY_NAME:
                return node.func.attr.value, [node.func.value]
        return None

    def visit_Call(self, node: cst.Call) -> None:
        found = self._path_args(node)
        if found is None:
            return
        sink, args = found
        for arg in args:
            self._check(node, sink, arg)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Divide):
            return
        if isinstance(node.left, (cst.Integer, cst.Float)):
            return
        self._check(node, "/", node.right)

    def _check(self, node: cst.CSTNode, sink: str, arg: cst.BaseExpression) -> None:
        ctx = self.ctx
        if ctx.enclosing_functiondef() is None:
            return
        if self._assigned_to_checked(node):
            return
        taint = ctx.taint.value(arg)
        # a one-segment path parameter cannot carry `/`: it cannot leave the directory
        user = {u for u in taint.user if not u.startswith(PATH_SEGMENT_PARAMETER + " ")}
        if not user:
            return
        reported = ctx.memo("FPI303.reported", set)
        if taint.entries <= reported:
            return
        reported |= taint.entries
        where = "a path join" if sink == "/" else f"`{sink}()`"
        self.report(node, f"{_describe(user)} reaches {where}: a client can send `../` or an absolute path "
                          "to read, write or delete files outside the intended directory; keep only "
                          "`os.path.basename(...)` or check `resolve().is_relative_to(base)`",
                    hint("Use `os.path.basename`/`Path(...).name`, or `resolve()` + `is_relative_to(base)`"))

    def _assigned_to_checked(self, node: cst.CSTNode) -> bool:
        """`target = (BASE / name).resolve()` where `target` is then checked with is_relative_to."""
        for anc in self.ctx.ancestors():
            if isinstance(anc, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in anc.targets] if isinstance(anc, cst.Assign) else [anc.target]
                return any(isinstance(t, cst.Name) and self.ctx.taint.is_checked(t.value) for t in targets)
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return False
        return False


# ============================================================================ FPI304

@register
class InsecureJwtDecode(Rule):
    code = "FPI304"
    wants_index = False
    name = "insecure-jwt-decode"
    summary = ("`jwt.decode` with signature verification off, `\"none\"` among `algorithms`, or python-jose "
               "`jwt.decode` without `algorithms`.")
    fix = "display-only"
    tokens = ("jwt",)

    @classmethod
    def wants(cls, facts, index):
        """A call resolving to a JWT decode function."""
        return calls_any(facts, cat.PYJWT_DECODE | cat.JOSE_DECODE)

    docs = """
    ## What it does
    Reports `jwt.decode` (PyJWT, or `jose.jwt.decode` from python-jose) called with
    `options={"verify_signature": False}` (also through a module constant), PyJWT 1's
    `verify=False`, an `algorithms` list containing `"none"`, or python-jose's `jwt.decode`
    without `algorithms`.

    ## Why is this bad?
    A token whose signature is not checked is whatever the client wrote: anyone can sign in
    as any user by editing the payload. `"none"` accepts unsigned tokens, and without an
    algorithm list python-jose takes the algorithm from the token header.

    ## Example
    ```python
    payload = jwt.decode(token, SECRET, options={"verify_signature": False})
    ```

    ## Use instead
    ```python
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    ```

    ## Fix safety
    No automatic fix (a hint): the key and algorithm are yours to choose.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        q = ctx.call_qualname(node)
        if q not in cat.PYJWT_DECODE and q not in cat.JOSE_DECODE:
            return
        problem = None
        options = _kw(node, "options")
        if options is not None:
            try:
                opts = literal_value(ctx, options.value)
                if isinstance(opts, dict) and opts.get("verify_signature") is False:
                    problem = "signature verification turned off"
            except Unknown:
                pass
        verify = _kw(node, "verify")
        if problem is None and verify is not None:
            try:
                if literal_value(ctx, verify.value) is False:
                    problem = "`verify=False`"
            except Unknown:
                pass
        algorithms = _kw(node, "algorithms") or positional(node, 2)
        if problem is None and algorithms is not None:
            try:
                algs = literal_value(ctx, algorithms.value)
                algs = [algs] if isinstance(algs, str) else algs
                if any(isinstance(a, str) and a.lower() == "none" for a in algs or ()):
                    problem = '`"none"` among the accepted algorithms'
            except Unknown:
                pass
        if problem is None and q in cat.JOSE_DECODE and algorithms is None and not _has_star_kwargs(node):
            problem = "no `algorithms` (python-jose then trusts the token's own header)"
        if problem is None:
            return
        self.report(node, f"`jwt.decode` with {problem}: a client can forge a token and act as any user; "
                          "verify the signature with an explicit `algorithms=[...]` list",
                    hint('Verify the signature: `jwt.decode(token, key, algorithms=["HS256"])`'))


# ============================================================================ FPI305

#: Words of an `if` test that make its body a development-only branch (`if settings.DEBUG:`,
#: `if in_debug_mode():`, `if ENV == "development":`), and of one whose `else` is (`if is_prod:`).
_DEVELOPMENT_WORDS = frozenset({"debug", "dev", "devel", "develop", "development", "local", "test", "testing"})
_PRODUCTION_WORDS = frozenset({"prod", "production"})


def _test_words(ctx, test: cst.BaseExpression) -> frozenset:
    """The words of a test's code: identifiers split at `_` and camelCase, and string contents."""
    code = re.sub(r"([a-z])([A-Z])", r"\1_\2", ctx.code_for(test))
    return frozenset(re.split(r"[^a-z]+", code.lower()))


def _development_branch(ctx) -> bool:
    """The node being visited is in a branch only a development setup takes: the body of an
    `if` (or conditional expression) testing for debug, development, local or test, or
    `__name__ == "__main__"`; or the `else` of one testing for production."""
    stack = ctx.node_stack
    for i in range(len(stack) - 2, -1, -1):
        node, child = stack[i], stack[i + 1]
        if type(node) is not cst.If and type(node) is not cst.IfExp:
            continue
        if child is node.test:
            continue
        words = _test_words(ctx, node.test)
        if child is node.body and (not words.isdisjoint(_DEVELOPMENT_WORDS) or "__main__" in ctx.code_for(node.test)):
            return True
        if child is node.orelse and not words.isdisjoint(_PRODUCTION_WORDS):
            return True
    return False


@register
class DebugEnabled(Rule):
    code = "FPI305"
    wants_index = False
    name = "debug-enabled"
    summary = "`FastAPI(debug=True)` / `Starlette(debug=True)`: tracebacks served to clients."
    fix = UNSAFE
    tokens = ("debug",)

    @classmethod
    def wants(cls, facts, index):
        """A `debug=` argument, and a call resolving to an app class."""
        return "debug" in facts.keywords and calls_any(facts, cat.APP_CLASSES)

    docs = """
    ## What it does
    Reports `FastAPI(debug=True)` and `Starlette(debug=True)`, the value given literally or
    through a module constant. `debug=settings.DEBUG` is left alone, and so is a call in a
    branch only development takes: the body of an `if` (or `... if ... else ...`) whose test
    speaks of debug, development, local or test (`if in_debug_mode():`,
    `if ENV == "development":`), or `if __name__ == "__main__":`, or the `else` of a test for
    production.

    ## Why is this bad?
    In debug mode an unhandled exception is answered with the full traceback: source lines,
    local file paths and often secrets or SQL from the failing frame, to whoever sent the
    request.

    ## Example
    ```python
    app = FastAPI(title="shop", debug=True)
    ```

    ## Use instead
    ```python
    app = FastAPI(title="shop", debug=settings.DEBUG)  # off in production
    ```

    ## Fix safety
    Unsafe: the fix removes `debug=True`, which changes error responses (a plain 500 instead
    of the traceback page) for anyone relying on them while developing.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if ctx.call_qualname(node) not in cat.APP_CLASSES:
            return
        arg = _kw(node, "debug")
        if arg is None:
            return
        try:
            if literal_value(ctx, arg.value) is not True:
                return
        except Unknown:
            return
        if _development_branch(ctx):
            return  # `if settings.DEBUG: app = FastAPI(debug=True)`: on where the team means it
        args = list(node.args)
        i = args.index(arg)
        new_args = args[:i] + args[i + 1:]
        if new_args and i == len(args) - 1:
            new_args[-1] = new_args[-1].with_changes(comma=arg.comma)
        new_call = node.with_changes(args=new_args)
        if not new_args:
            new_call = new_call.with_changes(whitespace_before_args=cst.SimpleWhitespace(""))
        fix = FixSpec(UNSAFE, "Remove `debug=True`", {node: new_call})
        self.report(arg, "`debug=True` serves full tracebacks to clients: anyone who triggers an error reads "
                         "your source, file paths and the values in the failing frame; leave it off in "
                         "production", fix)


# ============================================================================ FPI306

@register
class TrustedHostAny(Rule):
    code = "FPI306"
    wants_index = False
    name = "trusted-host-any"
    summary = "`TrustedHostMiddleware(allowed_hosts=[\"*\"])` (or no `allowed_hosts`, which means the same)."
    fix = "display-only"
    tokens = ("TrustedHostMiddleware",)

    @classmethod
    def wants(cls, facts, index):
        """A name resolving to TrustedHostMiddleware."""
        return names_any(facts, cat.TRUSTED_HOST_MIDDLEWARE)

    docs = """
    ## What it does
    Reports `TrustedHostMiddleware` added (through `add_middleware`, `Middleware(...)` or
    wrapping) with `allowed_hosts` containing `"*"`, or without `allowed_hosts`, whose default
    is `["*"]`. Patterns such as `"*.example.com"` are fine.

    ## Why is this bad?
    The middleware then accepts any `Host` header, so it protects nothing: host-header
    injection into password-reset links, cache poisoning and DNS-rebinding attacks go through
    as if it were not there.

    ## Example
    ```python
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    ```

    ## Use instead
    ```python
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com", "*.example.com"])
    ```

    ## Fix safety
    No automatic fix (a hint): list the host names the service is reached by.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        args = middleware_call(ctx, node, cat.TRUSTED_HOST_MIDDLEWARE)
        if args is None:
            return
        if any(a.star for a in args):
            return
        hosts_arg = next((a for a in args if a.keyword is not None and a.keyword.value == "allowed_hosts"), None)
        if hosts_arg is None:
            positional_hosts = [a for a in args if a.keyword is None]
            direct = ctx.call_qualname(node) in cat.TRUSTED_HOST_MIDDLEWARE
            if len(positional_hosts) > (1 if direct else 0):
                hosts_arg = positional_hosts[1 if direct else 0]
        if hosts_arg is None:
            what = "without `allowed_hosts` (the default is `[\"*\"]`)"
        else:
            try:
                hosts = literal_value(ctx, hosts_arg.value)
            except Unknown:
                return
            if not (isinstance(hosts, (list, str)) and "*" in hosts):
                return
            what = 'with `"*"` in `allowed_hosts`'
        self.report(node, f"`TrustedHostMiddleware` {what} accepts any `Host` header: attackers can poison "
                          "links and caches built from it; list the host names you serve",
                    hint("List the host names in `allowed_hosts`"))


# ============================================================================ FPI307

#: What a call the rule reports can end with: a requests/httpx function, urlopen, a client class.
_HTTP_NAMES = frozenset(q.rpartition(".")[2] for q in (
    cat.REQUESTS_FUNCTIONS | cat.URLOPEN | cat.HTTPX_FUNCTIONS | cat.HTTPX_CLIENTS))
_HTTPX_INSTANCES = frozenset(f"{c}()" for c in cat.HTTPX_CLIENTS)
#: A call's `timeout=` as the tree gate reads it: not given; given and maybe None (`None`, or
#: a name `literal_value` may follow to it); given and not None as `literal_value` reads it.
_TIMEOUT_MISSING, _TIMEOUT_MAYBE_NONE, _TIMEOUT_SET = "missing", "maybe None", "set"


def _timeout_state(value: Optional[ast.expr], func, receivers: ModuleReceivers, depth: int = 0) -> str:
    """What `literal_value` may make of a `timeout=` value: it follows a name bound in the def
    (or, bound nowhere in it and not a parameter, at module level) to what is assigned to it;
    a parameter, an import or any other expression it cannot read. In a lambda or class body
    inside the def it reads the module only: both readings are taken."""
    if value is None:
        return _TIMEOUT_MISSING
    if type(value) is ast.Constant:
        return _TIMEOUT_MAYBE_NONE if value.value is None else _TIMEOUT_SET
    if type(value) is not ast.Name:
        return _TIMEOUT_SET
    if depth > 8:
        return _TIMEOUT_MAYBE_NONE
    name = value.id
    readings = [names for names in (func.names if func is not None else None, receivers.names)
                if names is not None and names.binds(name)]  # (a parameter not rebound: Unknown)
    for names in readings:
        if name in names.other or name in names.annotations or name in names.unknown:
            return _TIMEOUT_MAYBE_NONE
        if any(_timeout_state(v, func, receivers, depth + 1) is not _TIMEOUT_SET for v in names.values.get(name, ())):
            return _TIMEOUT_MAYBE_NONE
    return _TIMEOUT_SET  # imported, bound nowhere, or a parameter: Unknown; or never None


@register
class HttpCallWithoutTimeout(Rule):
    code = "FPI307"
    wants_index = False
    name = "http-call-without-timeout"
    summary = "`requests` calls without `timeout` (or `timeout=None`), `httpx` with `timeout=None`, `urlopen` without `timeout`."
    fix = "display-only"
    tokens = ("requests", "httpx", "urlopen")

    @classmethod
    def wants(cls, facts, index):
        """A call with no `timeout=` (nor `**kwargs`) resolving to a `requests` function or
        `urlopen`, or a `requests` session method call (`s.get(...)`); or a `timeout=` that may
        be None (`FileFacts.timeout_maybe_none`) and a call resolving to one of those or to an
        httpx function, client or client method."""
        untimed = facts.untimed_calls
        if calls_any(facts, cat.REQUESTS_FUNCTIONS, untimed) or calls_any(facts, cat.URLOPEN, untimed):
            return True
        if not untimed.isdisjoint(cat.REQUESTS_SESSION_METHODS) and any(
                origin_possible(facts, o) for o in cat.REQUESTS_SESSIONS):
            return True
        if not facts.timeout_maybe_none:
            return False
        if calls_any(facts, cat.REQUESTS_FUNCTIONS | cat.URLOPEN | cat.HTTPX_FUNCTIONS | cat.HTTPX_CLIENTS):
            return True
        return not facts.calls.isdisjoint(cat.REQUESTS_SESSION_METHODS) and any(
            origin_possible(facts, o) for o in cat.REQUESTS_SESSIONS) or any(
            origin_possible(facts, f"{c}()") for c in cat.HTTPX_CLIENTS)

    @classmethod
    def wants_tree(cls, tree, facts, index, module):
        """`wants` again, call by call, on the file's `ast` tree: a call without `**kwargs` whose
        timeout may be missing (requests, urlopen) or None (any of them), and whose callee may
        resolve to one of the functions (`ModuleReceivers.origins` of the call: an import, or
        ANY for a name bound otherwise, spelled like one or like an alias) or may be a method of
        a requests session or httpx client (`origins` of its receiver). The facts gate takes
        `requests.get(url, timeout=10)` and `cache.get(key)` in one file for an untimed call."""
        name, is_package = module
        receivers = ModuleReceivers.of(tree, name, is_package)
        spelled = _HTTP_NAMES | facts.alias_origins.keys()
        # what `wants` asks of the whole file, for a callee or receiver this reading cannot tell
        functions = calls_any(facts, cat.REQUESTS_FUNCTIONS | cat.URLOPEN | cat.HTTPX_FUNCTIONS | cat.HTTPX_CLIENTS)
        sessions = any(origin_possible(facts, o) for o in cat.REQUESTS_SESSIONS)
        clients = any(origin_possible(facts, o) for o in _HTTPX_INSTANCES)
        for call, func in receivers.calls():
            if any(k.arg is None for k in call.keywords):
                continue  # `**kwargs` may hold a timeout: the rule leaves it alone
            callee = call.func
            last = terminal_name(callee)
            if last is None:
                continue
            timeout = next((k.value for k in call.keywords if k.arg == "timeout"), None)
            state = _timeout_state(timeout, func, receivers)
            if state is _TIMEOUT_SET:
                continue
            # a session's or client's method, on a receiver this reading cannot tell (or held
            # by a name: `self.request = session.request`)
            method_possible = last in cat.REQUESTS_SESSION_METHODS and sessions \
                or state is _TIMEOUT_MAYBE_NONE and clients
            if last in spelled and ast_dotted(callee) is not None:  # what `call_qualname` can name
                found = receivers.origins(call, func)
                if found is ANY_KIND:
                    if functions or method_possible:
                        return True
                    found = NOTHING
                quals = {q[:-2] for q in found}
                if not quals.isdisjoint(cat.URLOPEN):
                    # urlopen(url, data, timeout): the third positional argument when no keyword
                    positional = [a for a in call.args if type(a) is not ast.Starred]
                    if state is not _TIMEOUT_MISSING or len(positional) < 3 \
                            or _timeout_state(positional[2], func, receivers) is not _TIMEOUT_SET:
                        return True
                if not quals.isdisjoint(cat.REQUESTS_FUNCTIONS):
                    return True
                if state is _TIMEOUT_MAYBE_NONE and not quals.isdisjoint(cat.HTTPX_FUNCTIONS | cat.HTTPX_CLIENTS):
                    return True
            if type(callee) is ast.Attribute:
                held = receivers.origins(callee.value, func)
                if held is ANY_KIND:
                    if method_possible:
                        return True
                elif last in cat.REQUESTS_SESSION_METHODS and not held.isdisjoint(cat.REQUESTS_SESSIONS):
                    return True
                elif state is _TIMEOUT_MAYBE_NONE and not held.isdisjoint(_HTTPX_INSTANCES):
                    return True
        return False

    docs = """
    ## What it does
    Reports `requests.get/post/...` and methods of `requests.Session()` objects called
    without `timeout` or with `timeout=None`; `httpx` functions, `httpx.Client`/`AsyncClient`
    and their methods given `timeout=None` (httpx has a 5 second default otherwise); and
    `urllib.request.urlopen` without a timeout. Calls passing `**kwargs` are left alone.

    ## Why is this bad?
    `requests` and `urlopen` wait forever by default. A slow or malicious upstream (or one a
    client can point you at) holds the worker thread or request for good; a handful of
    such requests exhausts the threadpool and the service stops answering.

    ## Example
    ```python
    r = requests.get(url)
    ```

    ## Use instead
    ```python
    r = requests.get(url, timeout=10)
    ```

    ## Fix safety
    No automatic fix (a hint): the right timeout depends on the upstream.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if _has_star_kwargs(node):
            return
        q = ctx.call_qualname(node)
        timeout = _kw(node, "timeout")
        name = None
        missing_counts = False
        if q in cat.REQUESTS_FUNCTIONS:
            name, missing_counts = q, True
        elif q in cat.URLOPEN:
            name, missing_counts = q, True
            if timeout is None:
                timeout = positional(node, 2)
        elif q in cat.HTTPX_FUNCTIONS or q in cat.HTTPX_CLIENTS:
            name = q
        elif q is None and isinstance(node.func, cst.Attribute):
            origin = ctx.call_origin(node) or ""
            method = node.func.attr.value
            base = origin[: -len(method) - 1] if origin.endswith("." + method) else ""
            if base.replace("await ", "") in cat.REQUESTS_SESSIONS and method in cat.REQUESTS_SESSION_METHODS:
                name, missing_counts = f"requests.Session().{method}", True
            elif any(base.replace("await ", "") == f"{c}()" for c in cat.HTTPX_CLIENTS):
                name = f"{base}.{method}"
        if name is None:
            return
        if timeout is None:
            if not missing_counts:
                return
            problem = "without a timeout"
        else:
            try:
                if literal_value(ctx, timeout.value) is not None:
                    return
            except Unknown:
                return
            problem = "with `timeout=None`"
        self.report(node, f"`{name}()` {problem} waits forever on a slow or hostile server: a few such requests tie "
                          "up every worker; pass `timeout=` (seconds)",
                    hint("Pass `timeout=` in seconds"))
