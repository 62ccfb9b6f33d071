"""FPI000: the file itself could not be read or parsed. Produced by the engine, not a visitor."""

from fastapi_lint.registry import Rule, register


@register
class ParseError(Rule):
    code = "FPI000"
    name = "parse-error"
    summary = "The file could not be read, decoded or parsed; always reported, one per file."
    docs = """
    ## What it does
    Reports a file that fastapi-lint could not check: a syntax error (judged by libcst, which
    reads Python 3.0-3.14 syntax), bytes that are not valid in the file's encoding (PEP 263
    coding lines and UTF-8 BOMs are honoured), a null byte, or a path that cannot be read.
    The message carries the parser's own message and position.

    ## Why is this bad?
    Nothing else in the file was checked. A silent skip would make a clean run mean
    nothing, so the problem is reported and the rest of the run goes on.

    ## Example
    ```python
    async def handler(:
        ...
    ```

    ## Use instead
    ```python
    async def handler():
        ...
    ```

    ## Fix safety
    No fix. FPI000 is always reported, whatever is selected; `# fastapi-lint: noqa` on a line
    of its own skips a file entirely.
    """
