"""docs/architecture.md follows one tools/call through the code as `mcplite/<file>.py:<name>`
stops: each must still name a function, class or method of that module (a rename or a move
that forgets the page fails here)."""

import ast
import os
import re

import pytest

# They read the package's sources, which the copy scripts/test_vendored tests has not (the one
# file is checked there); the package runs them in every other CI step.
pytestmark = pytest.mark.skipif(bool(os.environ.get("MCPLITE_VENDORED")),
                                reason="MCPLITE_VENDORED: the package's sources are not in the vendored copy")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "architecture.md")
STOP = re.compile(r"`mcplite/([a-z_]+)\.py:([A-Za-z_][A-Za-z0-9_.]*)`")


def stops():
    with open(DOC, encoding="utf-8") as f:
        return STOP.findall(f.read())


def defined(module):
    """Every top-level function and class of ``module``, and ``Class.method`` for methods."""
    path = os.path.join(ROOT, "mcplite", module + ".py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update("%s.%s" % (node.name, item.name) for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def test_the_page_names_stops():
    assert len(stops()) >= 30


@pytest.mark.parametrize("module,name", sorted(set(stops())))
def test_each_stop_exists(module, name):
    assert os.path.exists(os.path.join(ROOT, "mcplite", module + ".py")), "no mcplite/%s.py" % module
    assert name in defined(module), "mcplite/%s.py has no %s" % (module, name)


def test_a_missing_stop_is_caught():
    assert "Dispatcher._no_such_step" not in defined("dispatch")
    assert "Dispatcher.handle_request" in defined("dispatch")
