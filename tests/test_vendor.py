"""The one-file build (``mcplite/vendor.py``, ``python -m mcplite vendor DIR``).

The file is used the way a user would: in a fresh interpreter run with ``-S -E`` (no
site-packages, no PYTHONPATH) whose path holds its directory alone, imported as ``mcplite``,
renamed, and inside another package; it serves a tool in memory, over stdio and over HTTP,
and nothing but the standard library gets loaded. Under ``MCPLITE_VENDORED`` (scripts/test_vendored)
those tests check the vendored file itself, and the builder's own tests are skipped: the
builder is not part of the one file.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import mcplite

try:
    from mcplite.vendor import BUNDLE_FILE, VendorError, build, is_generated, make_bundle, read_package
except ImportError:  # MCPLITE_VENDORED: mcplite is the one file, which has no builder
    build = None  # type: ignore[assignment]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDORED = os.environ.get("MCPLITE_VENDORED", "")
needs_builder = pytest.mark.skipif(build is None, reason="MCPLITE_VENDORED: the builder is not in the one file")
TIMEOUT = 60


@pytest.fixture(scope="module")
def one_file(tmp_path_factory):
    """A directory holding mcplite.py: built from the package, or under MCPLITE_VENDORED a
    copy of the vendored file."""
    directory = tmp_path_factory.mktemp("one_file")
    if build is None:
        shutil.copyfile(mcplite.__file__, str(directory / "mcplite.py"))
    else:
        build(str(directory))
    return directory


# Run in the child after its path is set: a server with a tool, and the checks every
# isolated run makes. ``M`` is the module under test.
CHILD_COMMON = '''
import json, os, sys, sysconfig

def make_app(M, name="one-file"):
    app = M.Server(name)

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b
    return app

def three(client):
    result = client.call_tool("add", {"a": 1, "b": 2})
    assert result.get("structuredContent") == {"result": 3}, result
    return client.list_tools()[0]["name"]

def foreign_modules(*allowed):
    stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
    allowed = {os.path.realpath(p) for p in allowed}
    return sorted(n for n, m in list(sys.modules.items())
                  if n != "__main__" and getattr(m, "__file__", None)
                  and os.path.realpath(m.__file__) not in allowed
                  and not any(os.path.realpath(m.__file__).startswith(p + os.sep) for p in stdlib))

def report(**fields):
    fields["no_site"] = bool(sys.flags.no_site and sys.flags.ignore_environment)
    print(json.dumps(fields))
'''


def isolated(code, path, cwd, args=()):
    """Run ``code`` with ``python -S -E`` in ``cwd``, ``path`` (a list of directories) first on
    sys.path; returns the JSON object it printed last."""
    program = "import sys\nsys.path[:0] = %r\n" % [str(p) for p in path] + CHILD_COMMON + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-S", "-E", "-c", program] + list(args), cwd=str(cwd),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, "exit %s\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, out, err)
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer.pop("no_site") is True
    return answer


@pytest.fixture
def empty_dir(tmp_path):
    directory = tmp_path / "cwd"
    directory.mkdir()
    return directory


# --- the file, as a user gets it ------------------------------------------------------------------

def test_the_file_compiles_on_this_python(one_file):
    text = (one_file / "mcplite.py").read_text(encoding="utf-8")
    compile(text, "mcplite.py", "exec", dont_inherit=True)
    first = text.splitlines()[0]
    assert first.startswith("# mcplite %s in one file, generated from the mcplite package" % mcplite.__version__)
    assert "python -m mcplite vendor DIR" in first


def test_imported_alone_it_has_the_packages_api_and_needs_only_the_stdlib(one_file, empty_dir):
    answer = isolated('''
        import mcplite as M
        missing = [n for n in M.__all__ if not hasattr(M, n)]
        with M.Client(make_app(M)) as client:
            tool = three(client)
        report(file=M.__file__, all=M.__all__, missing=missing, version=M.__version__, doc=M.__doc__,
               tool=tool, foreign=foreign_modules(M.__file__))
    ''', [one_file], empty_dir)
    assert answer["file"] == str(one_file / "mcplite.py")
    assert answer["all"] == mcplite.__all__
    assert answer["missing"] == []
    assert answer["version"] == mcplite.__version__
    assert answer["doc"] == mcplite.__doc__
    assert answer["tool"] == "add"
    assert answer["foreign"] == []


def test_stdio_server_and_client_both_from_the_one_file(one_file, empty_dir, tmp_path):
    server = tmp_path / "server.py"
    server.write_text("import sys\nsys.path.insert(0, %r)\n" % str(one_file) + CHILD_COMMON
                      + "import mcplite\nmake_app(mcplite, 'over-stdio').run()\n", encoding="utf-8")
    answer = isolated('''
        import mcplite as M
        results = {}
        for era in ("modern", "legacy"):
            with M.Client.stdio([sys.executable, "-S", "-E", sys.argv[1]], era=era) as client:
                results[era] = [three(client), client.era, client.server_info.get("name")]
        report(results=results, foreign=foreign_modules(M.__file__))
    ''', [one_file], empty_dir, [str(server)])
    assert answer["results"] == {"modern": ["add", "modern", "over-stdio"], "legacy": ["add", "legacy", "over-stdio"]}
    assert answer["foreign"] == []


def test_renamed_it_still_works_and_never_imports_mcplite(one_file, empty_dir, tmp_path):
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copyfile(str(one_file / "mcplite.py"), str(renamed / "mcp_vendored.py"))
    answer = isolated('''
        import mcp_vendored as M
        with M.Client(make_app(M)) as client:
            three(client)
        with make_app(M, "over-http").run_in_thread("http", port=0) as handle:
            with M.Client.http(handle.url) as client:
                tool = three(client)
        report(name=M.__name__, tool=tool, server_class=M.Server.__module__,
               mcplite_imported=any(n == "mcplite" or n.startswith("mcplite.") for n in sys.modules),
               foreign=foreign_modules(M.__file__))
    ''', [renamed], empty_dir)
    assert answer == {"name": "mcp_vendored", "tool": "add", "server_class": "mcp_vendored",
                      "mcplite_imported": False, "foreign": []}


def test_inside_another_package(one_file, empty_dir, tmp_path):
    root = tmp_path / "site"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(str(one_file / "mcplite.py"), str(root / "pkg" / "_mcplite.py"))
    answer = isolated('''
        from pkg import _mcplite as M
        with M.Client(make_app(M)) as client:
            tool = three(client)
        with make_app(M, "over-http").run_in_thread("http", port=0) as handle:
            with M.Client.http(handle.url) as client:
                three(client)
        report(name=M.__name__, tool=tool,
               mcplite_imported=any(n == "mcplite" or n.startswith("mcplite.") for n in sys.modules),
               foreign=foreign_modules(M.__file__, sys.modules["pkg"].__file__))
    ''', [root], empty_dir)
    assert answer == {"name": "pkg._mcplite", "tool": "add", "mcplite_imported": False, "foreign": []}


@pytest.mark.needs_parts("cli")  # (running the file is the command line: nothing the test imports says so)
def test_run_as_a_script_it_is_the_command_line(one_file, tmp_path):
    script = tmp_path / "mcp_tool.py"
    shutil.copyfile(str(one_file / "mcplite.py"), str(script))

    def run(*args):
        proc = subprocess.run([sys.executable, "-S", "-E", str(script)] + list(args), cwd=str(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    status, out, err = run("--help")
    assert status == 0 and "usage: mcp_tool.py" in out and "vendor" in out
    status, out, err = run("frobnicate")
    assert status == 2 and err.startswith("usage: mcp_tool.py") and "invalid choice" in err
    assert "Traceback" not in err
    status, out, err = run()
    assert status == 2 and err.startswith("usage:") and "Traceback" not in err
    # The builder reads the package's sources, which the one file does not have.
    status, out, err = run("vendor", str(tmp_path / "again"))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "already the one-file mcplite" in err
    assert not (tmp_path / "again" / "mcplite.py").exists()


def test_the_suite_imports_the_one_file_under_mcplite_vendored():
    if not VENDORED:
        pytest.skip("only under MCPLITE_VENDORED (scripts/test_vendored)")
    expected = os.path.realpath(os.path.join(VENDORED, "mcplite.py"))
    assert os.path.realpath(mcplite.__file__) == expected
    assert importlib.import_module("mcplite.schema") is mcplite and importlib.import_module("mcplite.stdio") is mcplite
    assert not os.path.isdir(os.path.join(ROOT, "mcplite"))
    # What the processes the tests start do: the checkout first on sys.path, then import
    # mcplite (only ever as ``mcplite``: ``mcplite.<module>`` names exist in this process alone).
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import mcplite; "
                           "print(mcplite.__file__); print(hasattr(mcplite, '_VENDORED_MODULES'))" % ROOT],
                          cwd=ROOT, stdout=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0
    file, same = proc.stdout.decode().split()
    assert (os.path.realpath(file), same) == (expected, "True")


# --- the builder ------------------------------------------------------------------------------------

INIT = '"""The package."""\n\n__version__ = "9.9"\n__all__ = []\n'


def bundle_of(**modules):
    sources = {"__init__": INIT}
    sources.update({name: textwrap.dedent(text) for name, text in modules.items()})
    return make_bundle(sources)


def run_bundle(text, load_all=True):
    """Run a bundle; with ``load_all``, its sections that run on first use too (the modules
    of these small packages are all lazy: their __init__ imports none of them)."""
    namespace = {"__name__": "bundle_under_test"}
    exec(compile(text, "bundle.py", "exec"), namespace)
    if load_all and "_vendored_load_all" in namespace:
        namespace["_vendored_load_all"]()
    return namespace


@needs_builder
def test_two_builds_are_byte_identical(one_file, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    build(str(first))
    build(str(second))
    assert (first / BUNDLE_FILE).read_bytes() == (second / BUNDLE_FILE).read_bytes()
    assert (first / BUNDLE_FILE).read_bytes() == (one_file / BUNDLE_FILE).read_bytes()


@needs_builder
def test_the_package_is_read_whole_but_the_builder():
    sources = read_package(os.path.join(ROOT, "mcplite"))
    names = {f[:-3] for f in os.listdir(os.path.join(ROOT, "mcplite")) if f.endswith(".py")}
    assert set(sources) == names - {"vendor"}


@needs_builder
def test_the_sections_follow_the_import_order(one_file):
    text = (one_file / BUNDLE_FILE).read_text(encoding="utf-8")
    namespace = run_bundle(text)
    order = list(namespace["_VENDORED_MODULES"])
    assert order[-2:] == ["__init__", "__main__"]
    assert order.index("jsonrpc") < order.index("server") < order.index("connection") < order.index("stdio")
    assert text.count("\nfrom __future__") <= 1
    assert "\nfrom ." not in text and "    from ." not in text


@needs_builder
def test_a_name_two_modules_define_stops_the_build():
    with pytest.raises(VendorError) as info:
        bundle_of(a="def helper():\n    return 1\n", b="helper = 2\n")
    message = str(info.value)
    assert "mcplite/a.py:1" in message and "mcplite/b.py:1" in message and "helper" in message


@needs_builder
def test_one_import_in_two_modules_is_fine_but_a_different_binding_is_not():
    bundle_of(a="import json\nfrom typing import Any\n", b="import json\nfrom typing import Any\n")
    with pytest.raises(VendorError, match="loads"):
        bundle_of(a="from json import loads\n", b="def loads():\n    pass\n")
    with pytest.raises(VendorError, match="path"):
        bundle_of(a="import os.path as path\n", b="from os import path\npath = None\n")


@needs_builder
def test_a_module_level_builtin_name_stops_the_build():
    with pytest.raises(VendorError, match="builtin open"):
        bundle_of(a="def open(path):\n    return path\n")


@needs_builder
def test_a_lazy_import_of_a_name_also_local_stops_the_build():
    with pytest.raises(VendorError, match=r"mcplite/b\.py:2: f\(\) imports X lazily"):
        bundle_of(a="X = 1\n", b="\ndef f(X=None):\n    from .a import X\n    return X\n")
    with pytest.raises(VendorError, match="enclosing"):
        bundle_of(a="X = 1\n", b="def outer():\n    X = 2\n    def inner():\n        from .a import X\n"
                                 "        return X\n    return inner\n")


@needs_builder
def test_lazy_imports_become_globals_and_aliases_assignments():
    text = bundle_of(
        a="X = 1\n",
        b='''
        def f():
            from .a import X
            return X

        def g():
            from .a import X as Y  # an alias
            return Y + 1

        def h():
            from .a import X
        ''',
        c="from .b import f\n\nclass K:\n    from .a import X\n\nZ = f() + K.X\n")
    assert "from ." not in text and "Y = X" in text
    namespace = run_bundle(text)
    assert (namespace["f"](), namespace["g"](), namespace["h"](), namespace["Z"]) == (1, 2, None, 2)


@needs_builder
def test_import_time_order_and_future_imports():
    text = bundle_of(
        a='"""A."""\nfrom __future__ import generator_stop\nfrom .b import B\nA = B + 1\n',
        b='from __future__ import generator_stop\nB = 1\n')
    assert text.count("from __future__ import generator_stop") == 1
    assert text.index("B = 1") < text.index("A = B + 1")
    assert run_bundle(text)["A"] == 2
    # `annotations` is left out: at the top of the file it would keep a Python older than 3.7
    # from reading the sentence that says it is too old. The annotations are evaluated.
    future = "from __future__ import annotations\n"
    text = bundle_of(a=future + "def f(x: int): pass\n")
    assert future not in text and run_bundle(text)["f"].__annotations__ == {"x": int}
    # Another feature that changes what code means must be in every module.
    barry = "from __future__ import barry_as_FLUFL\n"
    with pytest.raises(VendorError, match=r"import barry_as_FLUFL` would apply to the whole file, but mcplite/__init__"):
        bundle_of(a=barry + "A = 1\n")


@needs_builder
def test_cycles_missing_names_and_module_imports_stop_the_build():
    with pytest.raises(VendorError, match="import each other"):
        bundle_of(a="from .b import B\nA = 1\n", b="from .a import A\nB = 1\n")
    with pytest.raises(VendorError, match=r"imports nope from \.a"):
        bundle_of(a="A = 1\n", b="from .a import nope\n")
    with pytest.raises(VendorError, match="module object"):
        bundle_of(a="A = 1\n", b="def f():\n    from . import a\n    return a.A\n")
    with pytest.raises(VendorError, match="no module zzz"):
        bundle_of(a="from .zzz import Z\n")
    with pytest.raises(VendorError, match=r"mcplite/a\.py:1: a module-level __getattr__ outside __init__"):
        bundle_of(a="def __getattr__(name):\n    raise AttributeError(name)\n")


@needs_builder
def test_the_package_getattr_goes_and_left_out_modules_raise_import_error():
    init = INIT.replace("__all__ = []", "__all__ = ['Lazy']") + textwrap.dedent('''
        # Loaded on first use.
        _LAZY = ("Lazy",)


        def __getattr__(name):
            if name in _LAZY:
                from . import a
                return getattr(a, name)
            raise AttributeError(name)
        ''')
    text = make_bundle({"__init__": init, "a": "class Lazy:\n    pass\n",
                        "b": "def builder():\n    from .vendor import build\n    return build\n"})
    assert "_LAZY = (" not in text and "Loaded on first use" not in text and "if name in _LAZY" not in text
    namespace = run_bundle(text, load_all=False)
    # The one file's own __getattr__ runs a's section for Lazy, as the package's loaded a.
    assert namespace["__all__"] == ["Lazy"] and "Lazy" not in namespace
    lazy = namespace["__getattr__"]("Lazy")
    assert lazy.__name__ == "Lazy" and namespace["Lazy"] is lazy
    with pytest.raises(AttributeError):
        namespace["__getattr__"]("Nothing")
    namespace["_vendored_load_all"]()
    with pytest.raises(ImportError, match="not part of the one-file mcplite"):
        namespace["builder"]()
    with pytest.raises(VendorError, match="__all__ names Gone"):
        make_bundle({"__init__": INIT.replace("__all__ = []", "__all__ = ['Gone']")})


@needs_builder
def test_modules_the_package_imports_on_first_use_run_on_first_use():
    init = INIT + "\nfrom .a import A\n"
    text = make_bundle({
        "__init__": init,
        "a": "A = 1\n\ndef use_b():\n    from .b import B\n    return B\n",
        "b": textwrap.dedent('''
            """Module b."""
            import json
            from .c import C

            RUNS = []
            RUNS.append(1)
            B = C + 1
            TEXT = """first
                indented, then blank:

            last"""
            COMPACT = json.dumps([1])
            '''),
        "c": "C = 10\n"})
    namespace = run_bundle(text, load_all=False)
    assert namespace["A"] == 1
    assert "B" not in namespace and "C" not in namespace and "json" not in namespace  # nothing of b or c yet
    assert namespace["use_b"]() == 11  # the lazy import ran b's section, which ran c's first
    assert namespace["RUNS"] == [1] and namespace["use_b"]() == 11 and namespace["RUNS"] == [1]  # once
    # A string spanning lines is what it was: the section's indentation did not get into it.
    assert namespace["TEXT"] == "first\n    indented, then blank:\n\nlast" and namespace["COMPACT"] == "[1]"


@needs_builder
def test_a_section_runs_once_whichever_threads_ask_first():
    import threading
    text = make_bundle({"__init__": INIT, "a": "import time\nRUNS = []\ntime.sleep(0.2)\nRUNS.append(1)\nA = 1\n"})
    namespace = run_bundle(text, load_all=False)
    got = []
    threads = [threading.Thread(target=lambda: got.append(namespace["__getattr__"]("A"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert got == [1] * 8 and namespace["RUNS"] == [1]


# What ``import mcplite`` must not load: the HTTP and command-line modules (a server-only
# script never uses them), and ``logging`` with what it pulls in (traceback, linecache,
# tokenize: about 3 ms of a 10 ms import budget on 3.11, paid by a server that never logs;
# mcplite's loggers are ``logs.LazyLogger``).
_NOT_AT_IMPORT = ("http.client", "http.server", "subprocess", "argparse", "ssl", "cmd", "socket", "asyncio",
                  "email", "logging", "traceback", "inspect", "urllib.parse", "ipaddress", "tempfile")


def test_importing_the_one_file_loads_no_http_client_command_line_or_logging(one_file, empty_dir):
    answer = isolated('''
        import mcplite
        before = sorted(n for n in NOT_AT_IMPORT if n in sys.modules)
        with mcplite.Client(make_app(mcplite)) as client:
            three(client)
        report(before=before, after_client="subprocess" in sys.modules, loaded=sorted(mcplite._VENDORED_LOADED))
    '''.replace("NOT_AT_IMPORT", repr(_NOT_AT_IMPORT)), [one_file], empty_dir)
    assert answer["before"] == []
    assert answer["after_client"] is True and "client" in answer["loaded"] and "httpclient" not in answer["loaded"]


# Modules of mcplite itself that ``import mcplite`` must not load, nor a server's set-up (a
# Server and a tool) nor a plain call it serves: each is loaded by the feature that uses it
# (bearer tokens over HTTP, MCP Apps, a traceparent received, a question to the client, a
# task, a cursor or requestState sealed, arguments a tool's schema refused). Each is named with a name of its own, in the one
# file's namespace once that module's section ran. ``base64`` and ``contextvars`` are
# standard modules only those features need.
_PACKAGE_NOT_AT_IMPORT = {"auth": "BearerAuth", "apps": "APP_MIME_TYPE", "tracecontext": "TraceContext",
                          "asking": "load_answers", "tasks": "TaskStore", "sealing": "Sealer",
                          "coercion": "compile_coercer"}


def test_a_server_and_its_plain_calls_load_no_module_of_a_feature_they_do_not_use():
    code = textwrap.dedent('''
        import importlib, json, sys
        import mcplite

        def loaded():
            return sorted([module for module, name in MODULES.items()
                           if "mcplite." + module in sys.modules or name in vars(mcplite)]
                          + [module for module in ("base64", "contextvars") if module in sys.modules])

        at_import = loaded()
        app = mcplite.Server("lazy")

        @app.tool()
        def add(a: int, b: int) -> int:
            return a + b

        at_setup = loaded()
        port = getattr(mcplite, "DETACHED_PORT", None) or importlib.import_module("mcplite.ports").DETACHED_PORT
        meta = {"io.modelcontextprotocol/protocolVersion": mcplite.LATEST_VERSION,
                "io.modelcontextprotocol/clientCapabilities": {}}
        call = app.begin_call({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                               "params": {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": meta}},
                              port, modern=True)
        response = app.handle_request(call)
        print(json.dumps([at_import, at_setup, loaded(), response["result"]["content"]]))
        mcplite.TraceContext, mcplite.BearerAuth, mcplite.APP_MIME_TYPE  # (served on first use)
        assert app.sealer.open(app.sealer.seal([1])) == [1]
        refused = app.begin_call({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                  "params": {"name": "add", "arguments": {"a": "1", "b": 2}, "_meta": meta}},
                                 port, modern=True)
        assert app.handle_request(refused)["result"]["isError"] is True
        print(json.dumps(loaded()))
    ''').replace("MODULES", repr(_PACKAGE_NOT_AT_IMPORT))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr.decode()
    first, then = proc.stdout.decode().splitlines()
    assert json.loads(first) == [[], [], [], [{"type": "text", "text": "3"}]]
    assert json.loads(then) == ["apps", "auth", "base64", "coercion", "contextvars", "sealing", "tracecontext"]


# --- the command line -------------------------------------------------------------------------------

def mcplite_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "mcplite"] + list(args), cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@needs_builder
def test_cli_vendor_writes_the_file(tmp_path):
    target = tmp_path / "new" / "dir"
    status, out, err = mcplite_cli("vendor", str(target))
    path = target / "mcplite.py"
    assert (status, err) == (0, "")
    assert out == "wrote %s (%d bytes, %d lines)\n" % (path, path.stat().st_size,
                                                      path.read_bytes().count(b"\n"))
    assert is_generated(str(path))
    status, out, err = mcplite_cli("vendor", str(target))  # its own file: replaced
    assert status == 0 and err == ""


@needs_builder
def test_cli_vendor_refuses_a_file_it_did_not_write(tmp_path):
    path = tmp_path / "mcplite.py"
    path.write_text("print('my own mcplite')\n", encoding="utf-8")
    status, out, err = mcplite_cli("vendor", str(tmp_path))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "refusing to overwrite" in err and "--force" in err
    assert path.read_text(encoding="utf-8") == "print('my own mcplite')\n"
    status, out, err = mcplite_cli("vendor", "--force", str(tmp_path))
    assert status == 0 and is_generated(str(path))


@needs_builder
def test_cli_bad_input_is_a_line_and_a_status_never_a_traceback(tmp_path):
    status, out, err = mcplite_cli("frobnicate")
    assert status == 2 and err.startswith("usage: python -m mcplite") and "invalid choice: 'frobnicate'" in err
    status, out, err = mcplite_cli()
    assert status == 2 and err.startswith("usage: python -m mcplite") and "a command is needed" in err
    status, out, err = mcplite_cli("vendor")
    assert status == 2 and "usage:" in err
    a_file = tmp_path / "plain"
    a_file.write_text("x", encoding="utf-8")
    status, out, err = mcplite_cli("vendor", str(a_file))
    assert status == 1 and err.count("\n") == 1 and "not a directory" in err
    for text in (out, err):
        assert "Traceback" not in text


def old_pythons():
    """The pyenv installs older than 3.8 on this machine (CI's has 3.6 and 3.7)."""
    try:
        root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, timeout=TIMEOUT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for minor in ("3.6", "3.7"):
        versions = sorted(v for v in os.listdir(os.path.join(root, "versions"))
                          if v.startswith(minor + ".")) if root and os.path.isdir(os.path.join(root, "versions")) else []
        if versions:
            found.append(os.path.join(root, "versions", versions[-1], "bin", "python" + minor))
    return found


@pytest.mark.parametrize("what", ["package", "one file"])
def test_an_older_python_is_told_in_one_sentence(what, one_file, empty_dir):
    pythons = old_pythons()
    if not pythons:
        pytest.skip("no Python older than 3.8 installed by pyenv here")
    if what == "package" and VENDORED:
        pytest.skip("MCPLITE_VENDORED: the package is not what is under test")
    where = ROOT if what == "package" else str(one_file)
    for python in pythons:
        done = subprocess.run([python, "-S", "-E", "-c", "import sys; sys.path.insert(0, %r); import mcplite" % where],
                              cwd=str(empty_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT)
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 stdout=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT).stdout.strip()
        assert done.returncode == 1, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last == "ImportError: mcplite needs Python 3.8 or newer; this is Python %s" % version, done.stderr
