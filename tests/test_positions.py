"""Targeted positions (`NodePositions`) equal libcst's PositionProvider for every node."""

import os
import random

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fixture_support import FIXTURES
from fastapi_lint.engine import lint_source
from fastapi_lint.positions import NodePositions
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


def _nodes(root):
    nodes = []
    walk(root, lambda n: nodes.append(n) or True, lambda n: None)
    return nodes


@pytest.mark.parametrize("name,source", list(_sources()))
def test_every_node_asked_for_alone_or_with_others(name, source):
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = _nodes(module)[1:]  # not the Module: that is the whole module's generation
    rng = random.Random(name)
    groups = [[n] for n in rng.sample(nodes, min(len(nodes), 40))]
    groups += [rng.sample(nodes, min(len(nodes), k)) for k in (2, 3, 7, 25) for _ in range(3)]
    groups.append(nodes)  # every node at once: nested asked-for subtrees
    for group in groups:
        lazy = NodePositions(module, group)
        for node in group:
            assert lazy.get(node) == full[node], (name, type(node).__name__)
            # and everything inside it, which the same pass tracked
            for inner in _nodes(node)[:30]:
                assert lazy.get(inner) == full[inner], (name, type(inner).__name__)
        assert not lazy._whole, "the asked-for subtrees alone must have answered"


@pytest.mark.parametrize("name,source", sorted(ODD.items()))
def test_the_module_itself_and_its_last_node(name, source):
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = NodePositions(module, [module])
    assert lazy.get(module) == full[module] and not lazy._whole
    last = _nodes(module)[-1]
    lazy = NodePositions(module, [last])
    assert lazy.get(last) == full[last] and not lazy._whole


def test_a_node_outside_the_asked_for_ones_falls_back_to_the_module():
    module = cst.parse_module("a = 1\nb = 2\n")
    lazy = NodePositions(module, [module.body[0]])
    second = module.body[1]
    assert lazy.get(second) == MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)[second]
    assert lazy._whole


def test_the_generation_stops_after_the_last_asked_for_node(monkeypatch):
    from fastapi_lint import positions

    seen = []
    real = positions._TargetedState.before_codegen
    monkeypatch.setattr(positions._TargetedState, "before_codegen", lambda self, n: seen.append(n) or real(self, n))
    module = cst.parse_module("a = 1\nb = 2\nc = 3\n")
    lazy = NodePositions(module, [module.body[1]])
    assert lazy.get(module.body[1]) is not None
    assert module.body[0] in seen and module.body[1] in seen and module.body[2] not in seen


def test_findings_in_crlf_files_point_at_the_right_place():
    result = lint_source(ODD["crlf"], "m.py", Settings())
    assert [(d.line, d.column, d.code) for d in result.diagnostics] == [(7, 5, "FPI101")]
