"""Statement-by-statement positions equal libcst's PositionProvider for every node."""

import os

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fixture_support import FIXTURES
from fastapi_lint.engine import lint_source
from fastapi_lint.positions import StatementPositions
from fastapi_lint.settings import Settings
from fastapi_lint.traverse import walk

ODD = {
    "crlf": "# header\r\n\r\nimport time\r\n\r\n\r\nasync def f():\r\n    time.sleep(1)\r\n",
    "old_mac": "import time\rasync def f():\r    time.sleep(1)\r",
    "continuation": "x = 1 + \\\n    2\nif x:  # c\n    y = (\n        3)\n\n\n# trailing\n",
    "form_feed_and_tabs": "import os\n\x0c\ndef f():\n\treturn os.getcwd()\n",
    "semicolons_and_decorators": "a = 1; b = 2\n# c\n@d\n# between\n@e(1)\nclass C:\n    pass\n",
    "no_trailing_newline": "def f():\n    return 1",
    "header_only": "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\n\n",
}


def _sources():
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".py"):
            with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as fh:
                yield name, fh.read()
    yield from sorted(ODD.items())


@pytest.mark.parametrize("name,source", list(_sources()))
def test_every_node_of_every_statement(name, source):
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = StatementPositions(module, module.body)
    for stmt in module.body:
        nodes = []
        walk(stmt, lambda n: nodes.append(n) or True, lambda n: None)
        for node in nodes:
            assert lazy.get(node) == full[node], (name, type(node).__name__)
    assert not lazy._whole, "statements alone must have answered"
    assert lazy.get(module) == full[module]  # outside every statement: the whole module, once
    assert lazy._whole


def test_a_node_outside_the_hinted_statements_falls_back_to_the_module():
    module = cst.parse_module("a = 1\nb = 2\n")
    lazy = StatementPositions(module, [module.body[0]])
    second = module.body[1]
    assert lazy.get(second) == MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)[second]


def test_findings_in_crlf_files_point_at_the_right_place():
    result = lint_source(ODD["crlf"], "m.py", Settings())
    assert [(d.line, d.column, d.code) for d in result.diagnostics] == [(7, 5, "FPI101")]
