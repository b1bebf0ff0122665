"""One-file builds of some parts only (``python -m mcplite vendor DIR --parts server,stdio``).

Built from the package here, or under ``MCPLITE_VENDORED`` (``scripts/test_vendored --parts
P``) the file that script built: used as a user would, with ``python -S -E``, renamed and
inside another package, serving over stdio a client that speaks raw JSON lines (a build
without the client part has no ``Client``). Its public names are the package's for the parts
it holds, and the names of the other parts say where they are.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import mcplite

try:
    from mcplite.vendor import (ALL_PARTS, LAYERS, PARTS, VendorError, build, make_bundle, part_modules,
                                read_package)
except ImportError:  # MCPLITE_VENDORED: the builder is not in the one file
    build = None  # type: ignore[assignment]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDORED = os.environ.get("MCPLITE_VENDORED", "")
PACKAGE = os.path.join(ROOT, "mcplite")
needs_builder = pytest.mark.skipif(build is None, reason="MCPLITE_VENDORED: the builder is not in the one file")
TIMEOUT = 60
# The build these tests use when they build one: what a stdio server needs. Under
# MCPLITE_VENDORED they test the file built, whatever its parts: scripts/test_vendored runs
# this file whatever its tests' code names (they name other parts' names on purpose), but for
# their needs_parts marks (tests/parts_needs.py --always): a build without a stdio server
# leaves those tests out.
SERVER_STDIO = ["server", "stdio"]


@pytest.fixture(scope="module")
def part_file(tmp_path_factory):
    """A directory holding a parts build's mcplite.py: built here (server,stdio), or under
    MCPLITE_VENDORED a copy of the file under test."""
    directory = tmp_path_factory.mktemp("part_file")
    if build is None:
        shutil.copyfile(mcplite.__file__, str(directory / "mcplite.py"))
    else:
        build(str(directory), parts=SERVER_STDIO)
    return directory


def run_isolated(code, path, cwd, stdin=b""):
    """``code`` under ``python -S -E`` in ``cwd``, with ``path`` first on sys.path: (exit
    status, stdout, stderr)."""
    program = "import sys\nsys.path[:0] = %r\n" % [str(p) for p in path] + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-S", "-E", "-c", program], cwd=str(cwd), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


# A stdio server from the file imported as ``IMPORT`` (its name is M), with one tool; at the end
# (stdin closed) it says on stderr which modules outside the standard library it loaded.
SERVER = '''
import os, sysconfig
%s
app = M.Server("parts")

@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b

app.run()
stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
foreign = sorted(n for n, m in list(sys.modules.items())
                 if n not in ("__main__",) and getattr(m, "__file__", None) and m is not M
                 and not any(os.path.realpath(m.__file__).startswith(p + os.sep) for p in stdlib)
                 and not os.path.realpath(m.__file__).endswith(os.path.join("pkg", "__init__.py")))
sys.stderr.write("FOREIGN %%s PARTS %%s\\n" %% (json.dumps(foreign), json.dumps(list(M._VENDORED_PARTS))))
'''

MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}}


def lines(*messages):
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def serve_and_talk(path, import_line, cwd, messages):
    """Run the stdio server, send ``messages`` and close stdin: (the answers, its report)."""
    status, out, err = run_isolated("import json\n" + SERVER % import_line, path, cwd, lines(*messages))
    assert status == 0, err
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    report = [line for line in err.splitlines() if line.startswith("FOREIGN ")]
    assert report, err
    _, foreign, _, parts = report[-1].split(" ", 3)
    return answers, json.loads(foreign), json.loads(parts)


def check_both_eras(path, import_line, cwd):
    legacy = serve_and_talk(path, import_line, cwd, [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}])
    modern = serve_and_talk(path, import_line, cwd, [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": MODERN_META}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": MODERN_META}}])
    for answers, foreign, parts in (legacy, modern):
        by_id = {a.get("id"): a for a in answers}
        assert by_id[2]["result"]["structuredContent"] == {"result": 3}, answers
        assert foreign == [], "modules from outside the standard library: %s" % foreign
    assert legacy[0][0]["result"]["protocolVersion"] == "2025-11-25"
    assert "2026-07-28" in modern[0][0]["result"]["supportedVersions"]
    return legacy[2]


@pytest.mark.needs_parts("server", "stdio")
def test_a_stdio_server_from_the_file_in_both_eras(part_file, tmp_path):
    parts = check_both_eras([part_file], "import mcplite as M", tmp_path)
    assert "server" in parts and "stdio" in parts


@pytest.mark.needs_parts("server", "stdio")
def test_renamed_and_inside_a_package(part_file, tmp_path):
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copyfile(str(part_file / "mcplite.py"), str(renamed / "mcp_part.py"))
    check_both_eras([renamed], "import mcp_part as M", tmp_path)
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(str(part_file / "mcplite.py"), str(site / "pkg" / "_mcplite.py"))
    check_both_eras([site], "from pkg import _mcplite as M", tmp_path)


@pytest.mark.needs_parts("server")
def test_its_public_names_are_the_packages_for_the_parts_it_holds(part_file, tmp_path):
    status, out, err = run_isolated('''
        import json
        import mcplite as M
        names = {}
        for name in ("Server", "Client", "McpHttpApp", "BearerAuth"):
            try:
                getattr(M, name)
                names[name] = "ok"
            except AttributeError as exc:
                names[name] = str(exc)
        print(json.dumps({"all": M.__all__, "parts": list(M._VENDORED_PARTS), "names": names,
                          "missing": [n for n in M.__all__ if not hasattr(M, n)]}))
    ''', [part_file], tmp_path)
    assert status == 0, err
    found = json.loads(out)
    assert found["missing"] == []
    assert set(found["all"]) <= set(mcplite.__all__)
    assert found["names"]["Server"] == "ok"
    if "client" not in found["parts"]:
        assert found["names"]["Client"] == ("mcplite.Client is in the client part, which this one-file build does "
                                            "not hold (parts: %s); build it with that part too"
                                            % ", ".join(found["parts"]))
        assert "Client" not in found["all"]
    if "http" not in found["parts"]:
        assert found["names"]["McpHttpApp"].startswith("mcplite.McpHttpApp is in the http part")
        assert "BearerAuth" not in found["all"]


@pytest.mark.needs_parts("server")
def test_a_module_of_another_part_says_where_it_is(part_file, tmp_path):
    status, out, err = run_isolated('''
        import json
        import mcplite as M
        app = M.Server("x")
        try:
            app.run_in_thread("http", port=0).stop()
            outcome = "served"
        except ImportError as exc:
            outcome = str(exc)
        print(json.dumps([list(M._VENDORED_PARTS), outcome]))
    ''', [part_file], tmp_path)
    assert status == 0, err
    parts, outcome = json.loads(out)
    if "http" in parts:
        assert outcome == "served"
    else:
        assert outcome == ("mcplite.httpserver is in the http part, which this one-file build does not hold "
                           "(parts: %s); build it with that part too" % ", ".join(parts))


def test_running_a_file_without_the_command_line_says_so(part_file, tmp_path):
    # "Running the file (python3 mcplite.py ls ...) is the command line" (README): a build
    # without the cli part must not exit 0 having done nothing.
    parts = run_isolated("import mcplite as M; print(','.join(M._VENDORED_PARTS))", [part_file], tmp_path)[1].strip()
    proc = subprocess.run([sys.executable, "-S", "-E", str(part_file / "mcplite.py"), "ls", "server.py"],
                          cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    err = proc.stderr.decode("utf-8", "replace")
    if "cli" in parts.split(","):
        assert "Traceback" not in err
        return
    assert (proc.returncode, proc.stdout) == (2, b""), err
    assert err == ("mcplite.py: the command line is in the cli part, which this one-file build does not hold "
                   "(parts: %s); build it with that part too\n" % parts.replace(",", ", "))


# --- the builder ------------------------------------------------------------------------------------

@needs_builder
def test_every_module_is_in_exactly_one_part():
    modules = sorted(name[:-3] for name in os.listdir(PACKAGE) if name.endswith(".py"))
    listed = part_modules(ALL_PARTS)
    assert len(listed) == len(set(listed)), "a module in two parts"
    assert sorted(set(modules) - set(listed) - {"__init__", "vendor"}) == []
    assert sorted(set(listed) - set(modules)) == []


@needs_builder
@pytest.mark.parametrize("part", ["all"] + [name for name, _, _ in PARTS] if build is not None else ["all"])
def test_each_part_builds_on_its_own(part):
    text = make_bundle(read_package(PACKAGE), parts=[part])
    compile(text, "mcplite.py", "exec", dont_inherit=True)
    namespace = {"__name__": "mcplite_part"}
    exec(compile(text, "mcplite.py", "exec", dont_inherit=True), namespace)
    assert namespace["__version__"] == mcplite.__version__
    assert all(name in namespace or name in namespace.get("_VENDORED_LAZY", {}) for name in namespace["__all__"])


@needs_builder
def test_the_sections_follow_the_layers():
    text = make_bundle(read_package(PACKAGE), parts=SERVER_STDIO)
    namespace = {"__name__": "mcplite_part"}
    exec(compile(text, "mcplite.py", "exec", dont_inherit=True), namespace)
    order = [m for m in namespace["_VENDORED_MODULES"] if m != "__init__"]
    rank = {name: index for index, name in enumerate(part_modules(ALL_PARTS))}
    assert order == sorted(order, key=rank.__getitem__)
    assert list(namespace["_VENDORED_PARTS"]) == ["core", "server", "stdio"]
    assert "client" not in order and "httpapp" not in order and "tasks" not in order


# The sections of a one-file build out of layer order that are meant to be, and why. An
# import-time import upward would add its pair here (the import wins: a section never runs
# before what it imports), once tests/test_layers.py's ALLOWED says why the import is needed.
OUT_OF_LAYER_ORDER = {
    # Running the file runs the command line, so __main__ (tools) comes last, after the
    # package's own section (package), which __main__'s --version reads.
    ("__init__", "__main__"),
}


def out_of_layer_order(order, layers):
    """The pairs (earlier, later) of ``order`` where the later module is of a lower layer (of
    ``layers``; a module in none is in no pair)."""
    layer = {module: index for index, (_, members) in enumerate(layers) for module in members}
    return [(first, second) for index, first in enumerate(order) for second in order[index + 1:]
            if first in layer and second in layer and layer[first] > layer[second]]


def section_order(text):
    """The modules of the one file ``text``, in the order of its sections."""
    namespace = {"__name__": "mcplite_part"}
    exec(compile(text, "mcplite.py", "exec", dont_inherit=True), namespace)
    return list(namespace["_VENDORED_MODULES"])


@needs_builder
@pytest.mark.parametrize("parts", [["all"], SERVER_STDIO], ids=",".join)
def test_no_section_comes_before_one_of_a_lower_layer(parts):
    order = section_order(make_bundle(read_package(PACKAGE), parts=parts))
    layer = {module: name for name, members in LAYERS for module in members}
    wrong = ["mcplite/%s.py (%s) before mcplite/%s.py (%s)" % (first, layer[first], second, layer[second])
             for first, second in out_of_layer_order(order, LAYERS) if (first, second) not in OUT_OF_LAYER_ORDER]
    assert wrong == []
    assert {"errors", "jsonrpc", "server", "stdio", "__init__"} <= set(order)
    if parts == ["all"]:
        assert set(order) == set(layer) - {"vendor"}


@needs_builder
def test_the_layers_order_the_sections_but_an_import_time_import_wins(monkeypatch):
    init = '"""The package."""\n\n__version__ = "9.9"\n__all__ = []\n'
    # Two modules importing nothing: the lower layer's first, whatever their names.
    monkeypatch.setattr("mcplite.vendor.LAYERS", (("low", ("b",)), ("high", ("a",))))
    assert section_order(make_bundle({"__init__": init, "a": "A = 1\n", "b": "B = 1\n"})) == ["b", "a", "__init__"]
    # A lower layer's module importing a higher one's at import time: the import wins, and
    # the pair is out of layer order, which the test above would name.
    layers = (("low", ("a",)), ("high", ("b",)))
    monkeypatch.setattr("mcplite.vendor.LAYERS", layers)
    order = section_order(make_bundle({"__init__": init, "a": "from .b import B\nA = B\n", "b": "B = 1\n"}))
    assert order == ["b", "a", "__init__"]
    assert out_of_layer_order(order, layers) == [("b", "a")]


@needs_builder
def test_unknown_parts_and_modules_in_no_part_are_refused():
    with pytest.raises(VendorError) as info:
        make_bundle(read_package(PACKAGE), parts=["server", "bogus"])
    assert str(info.value).startswith("unknown part 'bogus' (the parts: all, core, server")
    sources = read_package(PACKAGE)
    sources["stray"] = "X = 1\n"
    with pytest.raises(VendorError) as info:
        make_bundle(sources, parts=SERVER_STDIO)
    assert str(info.value) == "mcplite/stray.py: in no part of the one-file build (add to vendor.PARTS)"
    make_bundle(sources)  # (a whole build holds it all the same)


@needs_builder
def test_the_command_lines_help_names_every_part():
    out = subprocess.run([sys.executable, "-m", "mcplite", "vendor", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=TIMEOUT).stdout
    listed = " ".join(out.split())  # (argparse wraps the help text)
    missing = [name for name in ALL_PARTS if (" %s," % name) not in listed and (" %s " % name) not in listed]
    assert not missing, "vendor --help does not name the parts %s" % missing


@needs_builder
def test_a_command_line_build_runs_every_command_proxy_included(tmp_path):
    # --parts cli is "the command line": proxy (Server.mount, the gateway part) is one of its
    # commands, so a cli build must not leave every server out of the proxy.
    build(str(tmp_path), parts=["cli"])
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"one": {
        "command": sys.executable, "args": [os.path.join(ROOT, "tests", "servers", "stdio_app.py")]}}}))
    one_file = str(tmp_path / "mcplite.py")
    proxy = subprocess.list2cmdline([sys.executable, one_file, "proxy", str(config)])
    done = subprocess.run([sys.executable, one_file, "--json", "ls", proxy], cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    names = [tool["name"] for tool in json.loads(done.stdout.decode("utf-8"))["tools"]]
    assert "one__add" in names


# A stdio server in an application that uses OpenTelemetry (a tracer provider set), from the
# file in argv[1]: the spans it made, on stderr, when stdin closes. A build without the otel
# part serves it without spans (tracing must never cost a request its answer) and says why.
OTEL_SERVER = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
import mcplite
app = mcplite.Server("otel")

@app.tool()
def add(a: int, b: int) -> int:
    return a + b

app.run()
sys.stderr.write("SPANS %s\\n" % json.dumps([[s.name, s.kind.name] for s in exporter.get_finished_spans()]))
'''


@needs_builder
@pytest.mark.interop
def test_opentelemetry_spans_are_the_otel_part(tmp_path):
    from interop_support import venv_python
    python = venv_python("MCPLITE_OTEL_PYTHON", "import opentelemetry.sdk.trace", "opentelemetry-sdk")
    script = tmp_path / "otel_server.py"
    script.write_text(OTEL_SERVER)
    talk = lines({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": MODERN_META}},
                 {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                  "params": {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": MODERN_META}})
    for parts in (SERVER_STDIO + ["otel"], SERVER_STDIO):
        directory = tmp_path / "_".join(parts)
        build(str(directory), parts=parts)
        proc = subprocess.run([python, "-E", str(script), str(directory)], cwd=str(tmp_path), input=talk,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 0, err
        answers = {a.get("id"): a for a in map(json.loads, proc.stdout.decode().splitlines())}
        spans = json.loads([line for line in err.splitlines() if line.startswith("SPANS ")][-1][6:])
        assert answers[2]["result"]["structuredContent"] == {"result": 3}, err
        warning = ("OpenTelemetry is in use, but mcplite makes no spans: mcplite.otelspans is in the otel part, "
                   "which this one-file build does not hold (parts: core, server, stdio); build it with that part too")
        if "otel" in parts:
            assert ["tools/call add", "SERVER"] in spans and ["server/discover", "SERVER"] in spans
            assert "no spans" not in err
        else:  # served all the same, without spans; the log says why, once
            assert spans == []
            assert err.count(warning) == 1, err
