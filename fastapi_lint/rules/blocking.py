"""FPI1xx: blocking the event loop."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_lint.catalogs.blocking import BLOCKING_SLEEP
from fastapi_lint.diagnostics import SAFE
from fastapi_lint.registry import FixSpec, Rule, register


def function_label(ctx) -> str:
    func = ctx.enclosing_functiondef()
    return f"`{func.name.value}`" if func is not None else "this coroutine"


def needs_parens_for_await(ctx, node: cst.BaseExpression) -> bool:
    """`await x` must be parenthesised where `x` is the object of `.attr`, `[...]` or `(...)`."""
    parent = ctx.parent(node)
    if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is node:
        return True
    if isinstance(parent, cst.Call) and parent.func is node:
        return True
    return False


def inside_generator_expression(ctx) -> bool:
    """An `await` in a generator expression would turn it into an async generator."""
    for node in ctx.ancestors():
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(node, cst.GeneratorExp):
            return True
    return False


def awaited(ctx, node: cst.Call, new_call: cst.Call) -> cst.Await:
    """`await <new_call>` in place of `node`, keeping node's own parentheses."""
    lpar, rpar = list(node.lpar), list(node.rpar)
    if not lpar and needs_parens_for_await(ctx, node):
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=new_call.with_changes(lpar=(), rpar=()), lpar=lpar, rpar=rpar)


@register
class BlockingSleep(Rule):
    code = "FPI101"
    name = "blocking-sleep"
    summary = "`time.sleep` (any import form or alias) in async context."
    fix = SAFE
    tokens = ("sleep",)
    docs = """
    ## What it does
    Reports `time.sleep(...)` called in async context: the body of an `async def` route,
    dependency, middleware or helper (coroutines, async generators and async methods), under
    any import form: `import time`, `import time as t`, `from time import sleep`,
    `from time import sleep as pause`. Bodies of nested `def`, `lambda` and `class` are not
    async context (they run wherever they are called), and a name that is shadowed locally
    or belongs to another object (`self.time.sleep`, `clock.sleep`) is not `time.sleep`.

    ## Why is this bad?
    An `async def` runs on the event loop, and `time.sleep` stops the whole thread: while
    it sleeps, no other request on this worker makes progress, health checks time out, and
    latency of every concurrent request grows by the sleep. FastAPI runs `async def` routes
    directly on the loop, so one `time.sleep(1)` under load serialises the worker.

    ## Example
    ```python
    import time

    @app.get("/retry")
    async def retry():
        time.sleep(1)
        return await fetch()
    ```

    ## Use instead
    ```python
    import asyncio

    @app.get("/retry")
    async def retry():
        await asyncio.sleep(1)
        return await fetch()
    ```

    ## Fix safety
    Safe: the call becomes `await asyncio.sleep(<same arguments>)`, adding `import asyncio`
    when it is missing (or using the name asyncio is already imported as). It suspends the
    coroutine for the same time instead of blocking the thread; arguments and comments are
    kept. No fix is offered inside a generator expression (an `await` there would make it an
    async generator) or when the name `asyncio` is bound to something else.
    """

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        qual = ctx.call_qualname(node)
        if qual not in BLOCKING_SLEEP:
            return
        self.report(
            node,
            f"`{qual}()` in async function {function_label(ctx)} blocks the event loop: "
            "no other request on this worker runs while it sleeps",
            self._fix(node),
        )

    def _fix(self, node: cst.Call) -> Optional[FixSpec]:
        ctx = self.ctx
        if inside_generator_expression(ctx):
            return None
        alias = ctx.module_alias("asyncio")
        imports = []
        if alias is None:
            if ctx.is_bound("asyncio"):
                return None
            alias, imports = "asyncio", [("asyncio", None, None)]
        new_call = node.with_changes(func=cst.Attribute(value=cst.Name(alias), attr=cst.Name("sleep")))
        return FixSpec(SAFE, "Replace with `await asyncio.sleep(...)`", {node: awaited(ctx, node, new_call)},
                       imports)
