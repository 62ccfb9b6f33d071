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


# ------------------------------------------------------------------ from the code of a statement

NESTED = {
    "methods_in_blocks": ("import os\n\nif os.name:\n    class A:\n        x = 1\n\n        async def f(self):\n"
                          "            return os.getcwd()\n    # block footer\nelse:\n\tdef g():\n\t\treturn 1\n"),
    "match_cases": ("def f(x):\n    match x:\n      case 1:\n            def g():\n                return 1\n"
                    "      case _:\n            pass\n"),
    "twice_the_same_def": ("def f():\n    return 1\n\n\ndef f():\n    return 1\n\n\ndef f():\n    return 1\n\n\n"
                           "class C:\n    def f():\n        return 1\n"),
    "decorated_with_comments": "# c\n\n@app.get('/')\n# between\n@dep\nasync def f():  # t\n    x = 1\n    return x\n",
    "last_without_newline": "import time\n\n\nasync def f():\n    time.sleep(1)",
    "crlf_class": "class C:\r\n    def m(self):\r\n        return 1\r\n\r\n    def n(self):\r\n        return 2\r\n",
    "old_mac_def": "x = 1\rdef f():\r    return x\r",
    "suite_and_elif": "if a:\n    pass\nelif b:\n    def f(): return 1\nelse:\n    def g():\n        return 2\n",
}


def _with_ancestors(module):
    """(node, the nodes open when the dispatcher visits it, the Module first and the node last)."""
    from fastapi_lint.traverse import walk_with_ancestors

    found = []
    walk_with_ancestors(module, lambda n, stack: found.append((n, (*stack, n))) or True)
    return found


def _near_sources():
    yield from _sources()
    yield from sorted(NESTED.items())


@pytest.mark.parametrize("name,source", list(_near_sources()))
def test_positions_from_the_statement_around_equal_libcst(name, source):
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = _with_ancestors(module)[1:]
    rng = random.Random(name)
    groups = [[n] for n in rng.sample(nodes, min(len(nodes), 40))]
    groups += [rng.sample(nodes, min(len(nodes), k)) for k in (2, 7, 25) for _ in range(3)]
    for group in groups:
        # a finding's nodes: its own and, as a fix may name, another one (an ancestor or not)
        near = [(stack, [node, rng.choice(nodes)[0]]) for node, stack in group]
        lazy = NodePositions(module, [n for _, ns in near for n in ns], module.code, near)
        for _, ns in near:
            for node in ns:
                assert lazy.get(node) == full[node], (name, type(node).__name__)
                for inner in _nodes(node)[:20]:
                    assert lazy.get(inner) == full[inner], (name, type(inner).__name__)
        assert not lazy._whole


def _module_generations(monkeypatch):
    from fastapi_lint import positions

    calls = []
    real = positions.NodePositions._targeted
    monkeypatch.setattr(positions.NodePositions, "_targeted", lambda self, t: calls.append(t) or real(self, t))
    return calls


def _call_in(module, source, needle):
    """The first Call whose code is `needle`, with its ancestors."""
    return next((n, stack) for n, stack in _with_ancestors(module)
                if type(n) is cst.Call and module.code_for_node(n) == needle)


@pytest.mark.parametrize("name", ["methods_in_blocks", "match_cases", "decorated_with_comments",
                                  "last_without_newline", "crlf_class", "old_mac_def", "suite_and_elif"])
def test_a_node_in_a_def_written_once_needs_no_module_generation(monkeypatch, name):
    source = NESTED[name]
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    calls = _module_generations(monkeypatch)
    from fastapi_lint import positions

    tried = []
    real = positions.NodePositions._statement
    monkeypatch.setattr(positions.NodePositions, "_statement", lambda self, *a: tried.append(a) or real(self, *a))
    inside = [(n, stack) for n, stack in _with_ancestors(module)
              if any(isinstance(a, (cst.FunctionDef, cst.ClassDef)) for a in stack)]
    assert inside
    for node, stack in inside:
        tried.clear()
        lazy = NodePositions(module, [node], source, [(stack, [node])])
        assert lazy.get(node) == full[node], (name, type(node).__name__)
        # the innermost def or class around it answered (every one is written once)
        innermost = next(a for a in reversed(stack) if isinstance(a, (cst.FunctionDef, cst.ClassDef)))
        assert [t[0] for t in tried] == [innermost], (name, type(node).__name__)
    assert calls == []


def test_code_written_twice_is_placed_by_the_statement_around_it_or_the_module(monkeypatch):
    source = NESTED["twice_the_same_def"]
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    calls = _module_generations(monkeypatch)
    returns = [(n, stack) for n, stack in _with_ancestors(module) if type(n) is cst.Return]
    assert len(returns) == 4
    for node, stack in returns:
        lazy = NodePositions(module, [node], source, [(stack, [node])])
        assert lazy.get(node) == full[node]
    # The code of each top-level `def f` (the last two with the blank lines before them) is
    # written again in another: the module places them. The method is indented: written once.
    assert len(calls) == 3


def test_findings_in_a_linted_file_point_where_libcst_says(monkeypatch):
    source = ("import time\n\n\nclass Jobs:\n    async def run(self):\n        time.sleep(1)\n\n"
              "    async def again(self):\n        time.sleep(1)\n\n\nasync def f():\n    time.sleep(1)\n")
    calls = _module_generations(monkeypatch)
    result = lint_source(source, "m.py", Settings())
    assert [(d.line, d.column, d.code) for d in result.diagnostics] == [
        (6, 9, "FPI101"), (9, 9, "FPI101"), (13, 5, "FPI101")]
    assert calls == []
