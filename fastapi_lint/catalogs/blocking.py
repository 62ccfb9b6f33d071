"""Blocking APIs, by qualified name (as `ModuleContext.qualname` resolves them)."""

#: FPI101: sleeping threads. The fix replaces these with `await asyncio.sleep(...)`.
BLOCKING_SLEEP = frozenset({
    "time.sleep",
})
