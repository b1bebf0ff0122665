"""The layers of mcplite, and a check that every import keeps to them.

LAYERS (in mcplite/vendor.py, whose one-file build follows it) is the living architecture
(docs/architecture.md explains it): each module belongs to one layer, and may import (at
import time or lazily, inside a function) only modules of its own layer or of a layer below.
The imports form no cycle. The few exceptions are listed in ALLOWED with the reason for each.
A new module must be given a layer there.
"""

import ast
import os
from typing import Dict, List, Set, Tuple

import pytest

# The layer table, bottom up (each layer knows only itself and what is below it), is the
# builder's: the one file puts its sections in that order, so there is one table to keep.
try:
    from mcplite.vendor import LAYERS
except ImportError:  # MCPLITE_VENDORED: the one file has no builder (and these tests are skipped)
    LAYERS = ()  # type: ignore[assignment]

# They read the package's sources, which the copy scripts/test_vendored tests has not (the one
# file is checked there); the package runs them in every other CI step.
pytestmark = pytest.mark.skipif(bool(os.environ.get("MCPLITE_VENDORED")),
                                reason="MCPLITE_VENDORED: the package's sources are not in the vendored copy")

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "mcplite")

# (importer, imported): the upward or circular imports that are allowed, and why.
ALLOWED = {
    # Server.run / run_in_thread / wsgi: a server starts itself on a transport, and the
    # transports serve a Server. Imported inside those three methods only.
    ("server", "stdio"): "Server.run",
    ("server", "httpserver"): "Server.run_in_thread",
    ("server", "wsgi"): "Server.wsgi",
    ("server", "gateway"): "Server.mount",
    # The trace context runs a request in an OpenTelemetry span when the application uses
    # OpenTelemetry: the spans' module, imported then, reads the trace context.
    ("tracecontext", "otelspans"): "serve_traced, send_traced",
    # The command line registers its commands by importing their modules when a command runs;
    # those modules use the command line's shared helpers.
    ("cli", "clientcmds"): "command registration",
    ("cli", "probe"): "command registration",
    ("cli", "recording"): "command registration",
    ("cli", "vendor"): "command registration",
    ("cli", "installcmds"): "command registration",
    ("cli", "bridge"): "command registration",
    ("cli", "inspector"): "command registration",
    ("clientcmds", "rawcmd"): "command registration",
    ("clientcmds", "shell"): "command registration",
}


def _imports(module: str) -> List[Tuple[str, int, bool]]:
    """The package modules ``module`` imports: (name, line, lazy?)."""
    path = os.path.join(PACKAGE, module + ".py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found = []  # type: List[Tuple[str, int, bool]]

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and child.level == 1:
                # (``from . import client``: only the package's own lazy __getattr__ does that)
                targets = [child.module] if child.module else [alias.name for alias in child.names]
                found.extend((target, child.lineno, lazy) for target in targets)
            elif isinstance(child, ast.Import) and any(a.name.split(".")[0] == "mcplite" for a in child.names):
                raise AssertionError("%s:%d: imports the package by name (a vendored copy may be renamed)"
                                     % (module, child.lineno))
            visit(child, lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))
    visit(tree, False)
    return found


def _modules() -> List[str]:
    return sorted(name[:-3] for name in os.listdir(PACKAGE) if name.endswith(".py"))


def _layer_of() -> Dict[str, int]:
    rank = {}  # type: Dict[str, int]
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            assert member not in rank, "%s is in two layers" % member
            rank[member] = index
    return rank


def test_every_module_has_a_layer():
    rank = _layer_of()
    assert sorted(set(_modules()) - set(rank)) == [], "give these modules a layer in mcplite/vendor.py:LAYERS"
    assert sorted(set(rank) - set(_modules())) == [], "these modules in LAYERS no longer exist"


def test_imports_go_down_or_stay_in_their_layer():
    rank = _layer_of()
    upward = []
    for module in _modules():
        for target, line, lazy in _imports(module):
            if rank[target] > rank[module] and (module, target) not in ALLOWED:
                upward.append("mcplite/%s.py:%d imports %s (%s) from below, in %s%s" % (
                    module, line, target, LAYERS[rank[target]][0], LAYERS[rank[module]][0],
                    " (lazily)" if lazy else ""))
    assert upward == []


def test_no_import_cycles():
    graph = {}  # type: Dict[str, Set[str]]
    for module in _modules():
        graph[module] = {target for target, _, _ in _imports(module)
                         if (module, target) not in ALLOWED and target != module}
    # Depth-first search for a back edge; the first cycle found is the message.
    state = {}  # type: Dict[str, int]   # 1 on the path, 2 done
    path = []  # type: List[str]

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == 1:
                cycle = path[path.index(following):] + [following]
                pytest.fail("an import cycle: %s" % " -> ".join(cycle))
            if following not in state:
                walk(following)
        path.pop()
        state[node] = 2
    for module in sorted(graph):
        if module not in state:
            walk(module)


def test_every_allowed_exception_is_still_needed():
    imports = {(module, target) for module in _modules() for target, _, _ in _imports(module)}
    assert sorted(set(ALLOWED) - imports) == [], "these ALLOWED imports no longer exist: drop them"


def test_the_checks_can_fail(tmp_path, monkeypatch):
    # The same checks on a made-up package with an upward import and a cycle.
    (tmp_path / "errors.py").write_text("from .server import Server\n")
    (tmp_path / "server.py").write_text("def f():\n    from .errors import X\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", str(tmp_path))
    monkeypatch.setattr(__import__(__name__), "LAYERS", [("low", {"errors"}), ("high", {"server"})])
    monkeypatch.setattr(__import__(__name__), "ALLOWED", {})
    with pytest.raises(AssertionError) as info:
        test_imports_go_down_or_stay_in_their_layer()
    assert "mcplite/errors.py:1 imports server (high) from below, in low" in str(info.value)
    with pytest.raises(pytest.fail.Exception) as failed:
        test_no_import_cycles()
    assert "errors -> server -> errors" in str(failed.value)


# --- every exception in errors.py -----------------------------------------------------------------

# The public exceptions that are not in errors.py, and why (errors.py's docstring says the same).
# Private ones (a leading underscore: control flow inside one module) are not checked.
EXCEPTIONS_ELSEWHERE = {
    # The command line's failure: raised and caught by the tools layer only, which no build
    # without the cli part holds.
    ("cli", "CliFailure"): "the command line's",
    # The one-file builder's: vendor.py is in no one-file build (vendor.LEFT_OUT).
    ("vendor", "VendorError"): "the builder's",
    # A warning category, issued (warnings.warn) rather than raised: it stays with the host
    # configuration whose problems it names, in the host part.
    ("hostconfig", "ConfigWarning"): "a warning category",
}


def _base_name(node: ast.expr, aliases: Dict[str, str]) -> str:
    """A base class as the name it is defined under: ``MCPError`` for ``MCPError`` or an
    alias of it, ``module.Name`` (dotted) for an attribute such as ``socket.timeout``."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        return _base_name(node.value, aliases) + "." + node.attr
    return ""


def _is_stdlib_exception(name: str) -> bool:
    import builtins
    import importlib
    owner, _, attr = name.rpartition(".")
    try:
        value = getattr(importlib.import_module(owner) if owner else builtins, attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(value, type) and issubclass(value, BaseException)


def _exception_classes() -> List[Tuple[str, str, int]]:
    """Every class of the package that derives from an exception: (module, name, line). A
    base is an exception when it is the standard library's or a class of the package that
    derives from one (class names are distinct across modules: the one-file build needs it)."""
    classes = []  # type: List[Tuple[str, str, int, List[str]]]
    for module in _modules():
        path = os.path.join(PACKAGE, module + ".py")
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        aliases = {alias.asname: alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for alias in node.names if alias.asname}
        classes.extend((module, node.name, node.lineno, [_base_name(base, aliases) for base in node.bases])
                       for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
    exceptions = set()  # type: Set[str]
    while True:
        found = {name for _, name, _, bases in classes
                 if any(base in exceptions or _is_stdlib_exception(base) for base in bases)}
        if found <= exceptions:
            return [(module, name, line) for module, name, line, _ in classes if name in exceptions]
        exceptions |= found


def test_every_public_exception_is_in_errors():
    elsewhere = ["mcplite/%s.py:%d: %s" % (module, line, name) for module, name, line in _exception_classes()
                 if module != "errors" and not name.startswith("_") and (module, name) not in EXCEPTIONS_ELSEWHERE]
    assert elsewhere == [], ("public exceptions outside mcplite/errors.py (move them there, and import them back): %s"
                             % elsewhere)


def test_every_exception_said_to_be_elsewhere_is_there():
    found = {(module, name) for module, name, _ in _exception_classes()}
    assert sorted(set(EXCEPTIONS_ELSEWHERE) - found) == [], "drop these from EXCEPTIONS_ELSEWHERE"


def test_the_exception_check_can_fail(tmp_path, monkeypatch):
    # Through a class of another module, an alias and a standard library module's attribute.
    (tmp_path / "errors.py").write_text("class BaseFailure(Exception):\n    pass\n")
    (tmp_path / "low.py").write_text("import socket\nfrom .errors import BaseFailure as _F\n\n\n"
                                     "class Refused(_F):\n    pass\n\n\nclass Late(socket.timeout):\n    pass\n\n\n"
                                     "class _Private(ValueError):\n    pass\n\n\nclass Plain(object):\n    pass\n")
    (tmp_path / "high.py").write_text("from .low import Refused\n\n\nclass Worse(Refused):\n    pass\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", str(tmp_path))
    with pytest.raises(AssertionError) as info:
        test_every_public_exception_is_in_errors()
    assert "['mcplite/high.py:4: Worse', 'mcplite/low.py:5: Refused', 'mcplite/low.py:9: Late']" in str(info.value)
