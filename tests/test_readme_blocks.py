"""Every fenced code block of README.md runs here, each with the handler HANDLERS names for it.

A block is known by the heading it sits under and its ordinal there (from 0), the key of
HANDLERS; each entry also names how the block's first line starts, so a block that moved is
reported as such. A block without a handler fails ``test_block``, and a handler whose block
is gone fails ``test_every_handler_has_its_block``: a new README block needs a handler.

Adding one: write ``def my_block(block, ctx)`` (``block`` is a ``readme_blocks.Block``:
``text``, ``lang``, ``section``, ``index``, ``line``; ``ctx`` gives ``tmp`` (a fresh
directory), ``env`` (``python3`` is this interpreter, the checkout on PYTHONPATH) and
``monkeypatch``), run the block the way a reader would, assert on what it really does, and
register it with ``@handles("Section heading", index, "start of its first line")``
(``interop=True`` when it needs a peer that scripts/test installs). Its docstring says what
is exercised and what is not.

Conventions: ``python3`` is the test's interpreter (a shim first on PATH); a server the README
puts on port 8000 gets a free port (0, or the one it reports); ``/abs/path/to/...`` placeholders
become real paths; servers listen on 127.0.0.1 only; every process started is stopped by its
PID. Under MCPLITE_VENDORED (scripts/test_vendored) the checkout holds the one file instead of
the package: the two blocks that need the package itself (``pip install .``, ``vendor``) skip.
"""

import contextlib
import http.client
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple

import pytest

from mcplite import Client, Context, MCPError, Server, __version__
from readme_blocks import (ROOT, VENDORED, Background, Block, bash, block_at, exec_block, line_pattern,
                           parse_blocks, read_blocks, run, serve_url, shell_env, Transcript)

EXAMPLES = os.path.join(ROOT, "examples")
PLACEHOLDER = "/abs/path/to/"
FORECAST_PARIS = {"city": "Paris", "days": 3, "sky": "clear"}
TIMEOUT_START = 15  # seconds for a server process to start (or fail to)


class Handler(NamedTuple):
    first_line: str
    run: Callable[[Block, Any], None]
    interop: bool


HANDLERS = {}  # type: Dict[Tuple[str, int], Handler]


def handles(section, index, first_line, interop=False):
    # type: (str, int, str, bool) -> Callable[[Callable[[Block, Any], None]], Callable[[Block, Any], None]]
    def register(function):
        # type: (Callable[[Block, Any], None]) -> Callable[[Block, Any], None]
        assert (section, index) not in HANDLERS, (section, index)
        HANDLERS[(section, index)] = Handler(first_line, function, interop)
        return function
    return register


class Ctx:
    def __init__(self, tmp, monkeypatch):
        # type: (str, Any) -> None
        self.tmp = tmp
        self.monkeypatch = monkeypatch
        self.env = shell_env(tmp)

    def directory(self, name):
        # type: (str) -> str
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        return path


# --- shared pieces -----------------------------------------------------------------------------------

def weather_file(directory):
    # type: (str) -> str
    """The README's first server, saved as weather.py in ``directory``."""
    path = os.path.join(directory, "weather.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block_at("A first server", 0).text)
    return path


def weather_app():
    # type: () -> Server
    namespace = {"__name__": "weather"}  # type: Dict[str, Any]
    exec_block(block_at("A first server", 0).text, namespace)
    return namespace["app"]


def commands(block):
    # type: (Block) -> List[str]
    return [line for line in block.text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def without_comment(line):
    # type: (str) -> str
    return re.sub(r"\s+#.*$", "", line)


def free_port():
    # type: () -> int
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_line_server(line, ctx, cwd=ROOT):
    # type: (str, Ctx, str) -> Background
    """``python3 -m mcplite serve FILE --http 127.0.0.1:8000`` as a README line writes it,
    started on a free port instead (``&`` dropped: it is left running until stopped)."""
    argv = shlex.split(without_comment(line).rstrip("& "))
    assert argv[:4] == ["python3", "-m", "mcplite", "serve"] and argv[-2:] == ["--http", "127.0.0.1:8000"], argv
    return Background([sys.executable] + argv[1:-1] + ["127.0.0.1:0"], cwd, ctx.env)


def handshake(peer, capabilities=None):
    # type: (Background, Optional[Dict[str, Any]]) -> Dict[str, Any]
    """initialize and notifications/initialized over raw JSON lines; the initialize result."""
    peer.send_line(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities or {},
        "clientInfo": {"name": "readme", "version": "1"}}}))
    answer = json.loads(peer.receive())
    assert answer["id"] == 0 and "result" in answer, answer
    peer.send_line('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    return answer["result"]


def request(peer, id, method, params=None):
    # type: (Background, Any, str, Optional[Dict[str, Any]]) -> Dict[str, Any]
    peer.send_line(json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}}))
    while True:
        message = json.loads(peer.receive())
        if message.get("id") == id and "method" not in message:
            return message


def check_weather_over_stdio(peer):
    # type: (Background) -> None
    """What a host does first: the handshake, tools/list, one call."""
    result = handshake(peer)
    assert result["serverInfo"]["name"] == "weather" and result["instructions"] == "Forecasts for cities.", result
    tools = request(peer, 1, "tools/list")["result"]["tools"]
    assert [tool["name"] for tool in tools] == ["forecast"], tools
    call = request(peer, 2, "tools/call", {"name": "forecast", "arguments": {"city": "Paris"}})
    assert call["result"]["structuredContent"] == FORECAST_PARIS, call


def dollar_commands(block):
    # type: (Block) -> List[Tuple[str, List[str]]]
    """``$ command`` lines, each with the output lines the README shows under it."""
    pairs = []  # type: List[Tuple[str, List[str]]]
    for line in block.text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            assert pairs, "output before any $ command: %r" % line
            pairs[-1][1].append(line)
    assert pairs, "no $ command in " + block.describe()
    return pairs


def one_file_prog(text):
    # type: (str) -> str
    """The one-file build calls itself "mcplite.py", the package "python -m mcplite"."""
    if not VENDORED:
        return text
    return re.sub(r"^mcplite\.py (\w+): error:", r"python -m mcplite \1: error:", text, flags=re.M)


def check_dollar_block(block, cwd, env):
    # type: (Block, str, Dict[str, str]) -> None
    """Each ``$`` command, run by bash in ``cwd``: what it prints (stdout, then stderr, as a
    terminal would show the one it writes) is exactly the lines shown under it."""
    for command, expected in dollar_commands(block):
        done = run(["bash", "-c", command], cwd, env)
        shown = one_file_prog(done.out + done.err).rstrip("\n").split("\n")
        assert shown == expected, "$ %s\nexit %d; the README shows:\n%s\nit printed:\n%s" % (
            command, done.status, "\n".join(expected), "\n".join(shown))


def placeholders(directory):
    # type: (str) -> Dict[str, str]
    """What the README's /abs/path/to/... stand for, here."""
    return {PLACEHOLDER + "python3": sys.executable, PLACEHOLDER + "weather.py": weather_file(directory),
            PLACEHOLDER + "mcplite-checkout": ROOT}


def substitute(value, mapping):
    # type: (Any, Dict[str, str]) -> Any
    if isinstance(value, dict):
        return {key: substitute(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, mapping) for item in value]
    if isinstance(value, str):
        for placeholder, real in mapping.items():
            value = value.replace(placeholder, real)
        assert PLACEHOLDER not in value, "a placeholder the handler does not know: " + value
    return value


def requires_the_package(what):
    # type: (str) -> None
    if VENDORED:
        pytest.skip("MCPLITE_VENDORED: the checkout holds the one file, not the package %s needs" % what)


# --- the first screen ----------------------------------------------------------------------------------

@handles("Install", 0, "pip install .")
def install(block, ctx):
    # type: (Block, Ctx) -> None
    """Both ways in. ``pip install .`` is run as ``python -m pip install .`` from a copy of the
    checkout's package files, with ``--target`` (the test interpreter's site-packages stay
    untouched) and ``--no-build-isolation --no-index --no-deps`` (no network: setuptools >= 61
    must be in this interpreter, which scripts/test installs); then, with only that directory
    on the path, ``import mcplite`` finds it there and its ``mcplite`` command lists
    weather.py's tool. Not exercised: an install into a real site-packages, and PyPI.
    ``vendor myproject`` runs as written; then weather.py beside the file it wrote starts as
    a host starts it (cwd /, an empty environment) and answers a host's first requests."""
    lines = commands(block)
    assert [without_comment(line) for line in lines] == ["pip install .", "python3 -m mcplite vendor myproject"], lines
    requires_the_package("pip install . and vendor")

    # pip install .
    # Building a wheel offline takes setuptools >= 70.1 (which has bdist_wheel built in), or an
    # older one >= 61 with the wheel package beside it.
    probe = run([sys.executable, "-c", "import importlib.util, setuptools; print(setuptools.__version__, "
                 "importlib.util.find_spec('wheel') is not None)"], ctx.tmp, ctx.env)
    found = probe.out.split()
    version = tuple(int(part) for part in re.findall(r"\d+", found[0])[:2]) if probe.status == 0 and found else (0,)
    if version < (61,) or (version < (70, 1) and found[1:] != ["True"]):
        pytest.skip("pip install . needs setuptools >= 70.1 (or >= 61 and wheel) in %s to build without network "
                    "(scripts/test installs it); found: %s"
                    % (sys.executable, probe.out.strip() or probe.err.strip()[-200:]))
    source = ctx.directory("checkout")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        if os.path.exists(os.path.join(ROOT, name)):
            shutil.copy(os.path.join(ROOT, name), source)
    shutil.copytree(os.path.join(ROOT, "mcplite"), os.path.join(source, "mcplite"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    site = os.path.join(ctx.tmp, "site")
    installed = run([sys.executable, "-m", "pip", "install", "--target", site, "--no-build-isolation", "--no-index",
                     "--no-deps", "--disable-pip-version-check", "."], source, ctx.env, timeout=120)
    assert installed.status == 0, installed.out[-3000:] + installed.err[-3000:]
    bare = {"PYTHONPATH": site, "PATH": os.environ.get("PATH", "")}
    found = run([sys.executable, "-c", "import mcplite; print(mcplite.__file__); print(mcplite.__version__)"], "/",
                bare)
    assert found.status == 0, found.err
    where, version_found = found.out.split()
    assert where == os.path.join(site, "mcplite", "__init__.py") and version_found == __version__, found.out
    weather_file(ctx.tmp)
    listed = run([os.path.join(site, "bin", "mcplite"), "ls", "weather.py"], ctx.tmp, bare)
    assert listed.status == 0 and "forecast(city: string, days?: integer = 3)" in listed.out, listed

    # python3 -m mcplite vendor myproject
    done = bash(lines[1], ctx.tmp, ctx.env)
    assert done.status == 0, done.err
    bundle = os.path.join(ctx.tmp, "myproject", "mcplite.py")
    assert os.path.isfile(bundle) and "wrote myproject/mcplite.py" in done.out + done.err, done
    script = weather_file(os.path.dirname(bundle))
    with Background([sys.executable, script], "/", {}) as host:
        check_weather_over_stdio(host)


@handles("A first server", 0, "from mcplite import Server")
def first_server(block, ctx):
    # type: (Block, Ctx) -> None
    """Saved as weather.py and run as ``python3 weather.py`` (the README's "point any MCP
    client at it"), mcplite's client over stdio: its name, instructions, one tool, a call
    with and without the default. The block stays within twelve lines."""
    assert len(block.text.splitlines()) <= 12, block.text
    path = weather_file(ctx.tmp)
    with Client.stdio([sys.executable, path], env={"PYTHONPATH": ROOT}, cwd=ctx.tmp) as client:
        assert client.server_info["name"] == "weather" and client.server_info["version"] == "1.0.0"
        assert client.instructions == "Forecasts for cities."
        assert [tool["name"] for tool in client.list_tools()] == ["forecast"]
        assert client.call_tool("forecast", {"city": "Paris"})["structuredContent"] == FORECAST_PARIS
        assert client.call_tool("forecast", {"city": "Oslo", "days": 5})["structuredContent"]["days"] == 5


@handles("A first server", 1, "$ python3 -m mcplite call weather.py forecast city=Paris")
def first_server_cli(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``$`` commands, run by bash beside weather.py: their output exactly as shown."""
    weather_file(ctx.tmp)
    check_dollar_block(block, ctx.tmp, ctx.env)


@handles("A first server", 2, '{"name": "forecast"')
def first_server_tool_entry(block, ctx):
    # type: (Block, Ctx) -> None
    """The JSON is exactly the tool's ``tools/list`` entry, in both eras."""
    shown = json.loads(block.text)
    app = weather_app()
    for era in ("modern", "legacy"):
        with Client(app, era=era) as client:
            assert client.list_tools() == [shown], era


def desktop_config(block, ctx, top, entry_keys):
    # type: (Block, Ctx, str, List[str]) -> None
    document = json.loads(block.text)
    assert list(document) == [top], document
    entry = document[top]["weather"]
    assert sorted(entry) == sorted(entry_keys), entry
    assert isinstance(entry["command"], str) and isinstance(entry["args"], list), entry
    assert all(isinstance(value, str) for value in entry["env"].values()), entry
    for path in [entry["command"]] + entry["args"] + list(entry["env"].values()):
        assert path.startswith("/"), "a host needs absolute paths: %r" % path
    real = substitute(entry, placeholders(ctx.tmp))
    # As the host starts it: that command and those arguments, that environment and no other,
    # and a working directory that is not the script's.
    with Background([real["command"]] + real["args"], "/", dict(real["env"])) as host:
        check_weather_over_stdio(host)
    # Without the entry's env the same command fails to import mcplite (unless this Python has
    # it installed, when there is nothing to show).
    if run([sys.executable, "-c", "import mcplite"], "/", {}).status != 0:
        with Background([real["command"]] + real["args"], "/", {}) as host:
            assert host.wait(TIMEOUT_START) == 1
            assert "No module named 'mcplite'" in host.stderr_tail(), host.stderr_tail()


@handles("Open it in a desktop host", 1, "{")
def claude_desktop_and_cursor(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``mcpServers`` file of Claude Desktop and Cursor: parsed, its one entry's shape
    checked (``command``, ``args``, ``env``; absolute paths), and the server launched exactly
    as a host launches it, placeholders made real: that argv, that env alone, cwd /; it
    answers initialize, tools/list and a call over stdio. Without ``env`` it cannot import
    mcplite. Not exercised: the hosts themselves (the Inspector's ``--config`` reads this file
    in the "Look at it" handler)."""
    desktop_config(block, ctx, "mcpServers", ["command", "args", "env"])


@handles("Open it in a desktop host", 2, "{")
def vscode(block, ctx):
    # type: (Block, Ctx) -> None
    """VS Code's ``.vscode/mcp.json``: top key ``servers``, entry ``type`` ``stdio``; launched
    as the Claude Desktop one is. Not exercised: VS Code."""
    assert json.loads(block.text)["servers"]["weather"]["type"] == "stdio"
    desktop_config(block, ctx, "servers", ["type", "command", "args", "env"])


@handles("Open it in a desktop host", 0, "python3 -m mcplite install claude-desktop weather.py")
def install_and_discover(block, ctx):
    # type: (Block, Ctx) -> None
    """Each line run by bash beside weather.py, HOME a fresh directory holding the hosts' own
    directories (``~/.config/Claude``, ``~/.cursor``: without them ``install`` asks for
    ``--config``), XDG_CONFIG_HOME unset. Each file written is parsed: its one entry runs
    ``PYTHON -m mcplite serve /abs/weather.py[:app]`` with the checkout in ``env``'s
    PYTHONPATH (the one file under MCPLITE_VENDORED: ``PYTHON /abs/mcplite.py serve ...``, no
    env), and launched as a host launches it (that argv, that env alone, cwd /) it
    answers a host's first requests. ``discover`` lists the three files a host reads (not
    path/to/mcp.json) with env names and no values. The first line run again changes
    nothing; a file that is not JSON is refused and left as it is. Not exercised: the hosts,
    macOS and Windows paths, ``--user``."""
    lines = commands(block)
    assert len(lines) == 5 and [shlex.split(without_comment(line))[3] for line in lines[:4]] == \
        ["install"] * 4 and "discover" in lines[4], lines
    home = ctx.directory("home")
    os.makedirs(os.path.join(home, ".config", "Claude"))
    os.makedirs(os.path.join(home, ".cursor"))
    env = dict(ctx.env, HOME=home)
    env.pop("XDG_CONFIG_HOME", None)
    project = ctx.directory("project")
    weather = weather_file(project)
    written = [os.path.join(home, ".config", "Claude", "claude_desktop_config.json"),
               os.path.join(home, ".cursor", "mcp.json"), os.path.join(project, ".vscode", "mcp.json"),
               os.path.join(project, "path", "to", "mcp.json")]
    for line, path, top, target in zip(lines, written, ["mcpServers", "mcpServers", "servers", "mcpServers"],
                                       [weather, weather + ":app", weather, weather]):
        done = bash(line, project, env)
        assert done.status == 0, (line, done.err)
        assert "added server 'weather' in %s" % path in done.out, done.out
        with open(path, encoding="utf-8") as f:
            entry = json.load(f)[top]["weather"]
        assert os.path.isabs(entry["command"]) and (top == "servers") == (entry.get("type") == "stdio"), entry
        if VENDORED:  # the one file runs itself, and finds itself beside it: no env needed
            assert entry["args"] == [os.path.join(ROOT, "mcplite.py"), "serve", target] and "env" not in entry, entry
        else:
            assert entry["args"] == ["-m", "mcplite", "serve", target], entry
            assert entry["env"]["PYTHONPATH"].split(os.pathsep)[0] == ROOT, entry
        with Background([entry["command"]] + entry["args"], "/", dict(entry.get("env", {}))) as host:
            check_weather_over_stdio(host)
    listed = bash(lines[4], project, env)
    assert listed.status == 0, listed.err
    assert [line.split()[:2] for line in listed.out.splitlines() if not line.startswith(" ")] == [
        ["claude-desktop", written[0]], ["cursor", written[1]], ["vscode", written[2]]], listed.out
    servers = [line.split() for line in listed.out.splitlines() if line.startswith(" ")]
    assert len(servers) == 3 and all(s[0] == "weather" and (VENDORED or s[-1] == "PYTHONPATH]") for s in servers), \
        listed.out
    assert "PYTHONPATH=" not in listed.out and ":" + ROOT not in listed.out, "an env value shown: " + listed.out
    with open(written[0], "rb") as f:
        before = f.read()
    again = bash(lines[0], project, env)
    assert again.status == 0, again.err
    with open(written[0], "rb") as f:
        assert f.read() == before
    with open(written[1], "w") as f:
        f.write("{not json")
    refused = bash(lines[1], project, env)
    assert refused.status != 0 and "not valid JSON" in refused.err, refused
    with open(written[1]) as f:
        assert f.read() == "{not json"

@handles("Look at it", 0, "python3 -m mcplite --trace call weather.py")
def look_at_it(block, ctx):
    # type: (Block, Ctx) -> None
    """Each command beside weather.py: the traced call prints the result on stdout and the
    messages on stderr; explain adds notes; the shell, fed a line on stdin, calls the tool;
    the inspector (``--no-open`` added) as the Inspector section's block is checked."""
    weather_file(ctx.tmp)
    lines = commands(block)
    assert len(lines) == 4, lines
    run_the_inspector(lines[3], ctx)
    traced = bash(lines[0], ctx.tmp, ctx.env)
    assert traced.status == 0 and json.loads(traced.out) == FORECAST_PARIS, traced
    arrows = [line.split(" ", 2)[1] for line in traced.err.splitlines()]
    assert arrows.count("->") == 3 and arrows.count("<-") == 3, traced.err
    assert '"method":"tools/call","params":{"name":"forecast","arguments":{"city":"Paris"}' in traced.err
    explained = bash(lines[1], ctx.tmp, ctx.env)
    assert explained.status == 0 and "forecast(city: string, days?: integer = 3)" in explained.out, explained
    notes = [line.strip() for line in explained.err.splitlines() if line.startswith(" ")]
    assert len(notes) >= 4 and all(note.startswith("# ") for note in notes), explained.err
    shell = bash(lines[2], ctx.tmp, ctx.env, stdin="call forecast city=Rome\n")
    assert shell.status == 0 and '"city": "Rome"' in shell.out, shell


@handles("Look at it", 1, "npx @modelcontextprotocol/inspector", interop=True)
def inspector(block, ctx):
    # type: (Block, Ctx) -> None
    """The MCP Inspector 2.12.0 that scripts/test installs (``$MCPLITE_INSPECTOR``) stands in
    for ``npx @modelcontextprotocol/inspector`` (which would fetch the latest). The first line
    opens a web UI in a browser: it runs here in the Inspector's CLI mode instead, with the
    same ``-e`` and server command, plus ``--method tools/list``; the second runs as written
    in a directory holding the README's claude_desktop_config.json (placeholders made real).
    Both without PYTHONPATH in the Inspector's own environment, so ``-e`` and ``env`` are
    what make mcplite importable. Not exercised: the web UI."""
    from interop_support import peer_env, unusable
    raw = os.environ.get("MCPLITE_INSPECTOR", "")
    if not raw:
        unusable("MCPLITE_INSPECTOR", "MCPLITE_INSPECTOR is not set (scripts/test sets it to a command running "
                                      "@modelcontextprotocol/inspector@2.12.0 under Node >= 22.19)")
    inspector_argv = shlex.split(raw)
    lines = commands(block)
    assert len(lines) == 2 and all(line.startswith("npx @modelcontextprotocol/inspector ") for line in lines), lines
    mapping = placeholders(ctx.tmp)
    desktop = json.loads(block_at("Open it in a desktop host", 1).text)
    with open(os.path.join(ctx.tmp, "claude_desktop_config.json"), "w") as f:
        json.dump(substitute(desktop, mapping), f)
    env = peer_env()
    env.update({"HOME": ctx.directory("home"), "NO_COLOR": "1"})  # its catalog goes in that HOME
    web, cli = [shlex.split(line)[2:] for line in lines]
    assert web[0] != "--cli" and cli[0] == "--cli", (web, cli)
    for args in (["--cli"] + web + ["--method", "tools/list"], cli):
        done = run(inspector_argv + substitute(args, mapping), ctx.tmp, env, timeout=60)
        assert done.status == 0, (args, done.out[-2000:], done.err[-2000:])
        tools = json.loads(done.out)["tools"]
        assert [tool["name"] for tool in tools] == ["forecast"], done.out
        assert tools[0]["inputSchema"]["required"] == ["city"], tools


@handles("Look at it", 2, "python3 examples/quickstart.py")
def quickstart(block, ctx):
    # type: (Block, Ctx) -> None
    """Run from the checkout as written: both eras, every line a message that parses."""
    done = bash(block.text, ROOT, ctx.env)
    assert done.status == 0, done.err
    lines = [line for line in done.out.splitlines() if line.strip()]
    headings = [line for line in lines if line.startswith("# ")]
    assert len(headings) == 2 and "Legacy era" in headings[0] and "Modern era" in headings[1], headings
    assert lines[1].startswith('-> {"jsonrpc":"2.0","id":1,"method":"initialize"'), lines[1]
    for line in lines:
        if not line.startswith("# "):
            assert line[:3] in ("-> ", "<- ") and json.loads(line[3:])["jsonrpc"] == "2.0", line
    assert sum(line.startswith("<- ") for line in lines) >= 8


# --- the long sections -----------------------------------------------------------------------------------

@handles("One file to copy", 0, "python3 -m mcplite vendor onefile")
def one_file(block, ctx):
    # type: (Block, Ctx) -> None
    """Run as written by bash in an empty directory: the build, the copy into a folder it
    makes, the import there printing the version; that import is the copied file, even with
    the checkout on PYTHONPATH."""
    requires_the_package("vendor")
    done = bash(block.text, ctx.tmp, ctx.env)
    assert done.status == 0, done.err
    assert done.out.strip().splitlines()[-1] == __version__, done.out
    copied = os.path.join(ctx.tmp, "myproject", "mcplite.py")
    with open(os.path.join(ctx.tmp, "onefile", "mcplite.py"), "rb") as a, open(copied, "rb") as b:
        assert a.read() == b.read()
    where = run([sys.executable, "-c", "import mcplite; print(mcplite.__file__)"], os.path.dirname(copied), ctx.env)
    assert os.path.realpath(where.out.strip()) == os.path.realpath(copied), where


def png_bytes():
    # type: () -> bytes
    def chunk(kind, data):
        # type: (bytes, bytes) -> bytes
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


@handles("Tools, resources, prompts", 0, "from typing import List, Literal, Optional")
def tools_resources_prompts(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed as is; then through ``Client(app)``: the schemas the comments promise (docstring
    descriptions, defaults, the Literal, no ``ctx``), the annotations, each tool called, the
    resource, the template (and its None), the prompt."""
    namespace = {}  # type: Dict[str, Any]
    exec_block(block.text, namespace)
    app = namespace["app"]
    picture = os.path.join(ctx.tmp, "picture.png")
    with open(picture, "wb") as f:
        f.write(png_bytes())
    with Client(app) as client:
        tools = {tool["name"]: tool for tool in client.list_tools()}
        search = tools["search"]
        assert search["inputSchema"]["properties"] == {
            "query": {"type": "string", "description": "words to look for"},
            "limit": {"type": "integer", "default": 10, "description": "at most this many results"},
            "order": {"type": "string", "enum": ["new", "old"], "default": "new"}}, search
        assert search["annotations"] == {"readOnlyHint": True}, search
        assert search["description"].startswith("Search the archive."), search
        assert search["outputSchema"]["properties"]["result"] == {"type": "array", "items": {"type": "string"}}
        assert client.call_tool("search", {"query": "mcp"})["structuredContent"] == {"result": ["result for mcp"]}
        assert list(tools["thumbnail"]["inputSchema"]["properties"]) == ["path"]
        content = client.call_tool("thumbnail", {"path": picture})["content"]
        assert content[0] == {"type": "text", "text": "here it is"}
        assert (content[1]["type"], content[1]["mimeType"]) == ("image", "image/png"), content
        config = client.read_resource("config://app")["contents"][0]
        assert config["mimeType"] == "application/json" and json.loads(config["text"]) == {"debug": False}
        assert [t["uriTemplate"] for t in client.list_resource_templates()] == ["notes://{note_id}"]
        assert client.read_resource("notes://7")["contents"][0]["text"] == "note 7"
        with pytest.raises(MCPError) as missing:
            client.read_resource("notes://101")
        assert "Resource not found" in missing.value.message
        prompt = client.get_prompt("review", {"code": "x = 1"})
        assert prompt["messages"] == [{"role": "user", "content": {"type": "text",
                                                                   "text": "Review this python code:\nx = 1"}}]


def normalised_source(text):
    # type: (str) -> str
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    out = []  # type: List[str]
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def jobs_file_as_shown():
    # type: () -> str
    """examples/jobs_server.py without what the README says it leaves out: the docstring and
    the two lines that let it run from a checkout."""
    import ast
    with open(os.path.join(EXAMPLES, "jobs_server.py"), encoding="utf-8") as f:
        source = f.read()
    first = ast.parse(source).body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant), "the example lost its docstring"
    lines = source.split("\n")[first.end_lineno:]
    assert lines.count("import os") == 1 and sum("sys.path.insert(" in line for line in lines) == 1, lines
    lines = [line.replace("  # noqa: E402", "") for line in lines
             if line != "import os" and "sys.path.insert(" not in line]
    return normalised_source("\n".join(lines))


def jobs_server_file(ctx):
    # type: (Ctx) -> str
    path = os.path.join(ctx.tmp, "jobs.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block_at("Progress, cancellation, asking the client", 0).text)
    return path


@handles("Progress, cancellation, asking the client", 0, "import sys")
def jobs_server(block, ctx):
    # type: (Block, Ctx) -> None
    """The block is examples/jobs_server.py but for what the README says (compared line by
    line, blank lines aside), and runs as a file by itself: over stdio, progress reported,
    the question answered both ways, the branches changed."""
    assert normalised_source(block.text) == jobs_file_as_shown(), "the block and examples/jobs_server.py differ"
    answers = [{"action": "decline"}, {"action": "accept", "content": {"confirm": True}}]
    with Client.stdio([sys.executable, jobs_server_file(ctx)], env={"PYTHONPATH": ROOT},
                      elicitation=lambda params: answers.pop(0)) as client:
        assert client.call_tool("list_branches")["structuredContent"] == {"result": ["main", "old-feature", "spike"]}
        seen = []  # type: List[Any]
        result = client.call_tool("crunch", {"files": 3}, progress=lambda *args: seen.append(args))
        assert result["content"][0]["text"] == "processed 3 files"
        assert seen == [(1, 3, "file 1 of 3"), (2, 3, "file 2 of 3"), (3, 3, "file 3 of 3")]
        assert client.call_tool("delete_branch", {"branch": "spike"})["content"][0]["text"] == "kept spike"
        assert client.call_tool("delete_branch", {"branch": "spike"})["content"][0]["text"] == "deleted spike"
        assert client.call_tool("list_branches")["structuredContent"] == {"result": ["main", "old-feature"]}


def no_response_check(peer):
    # type: (Background) -> Callable[[str], None]
    def check(line):
        # type: (str) -> None
        """"(no response to request N)": for 1.5 s nothing answers N, and the progress stops
        (nothing in the last half of that time, where a running crunch sends 15); the server
        still answers a ping."""
        number = int(re.search(r"no response to request (\d+)", line).group(1))
        arrived = peer.lines_for(1.5)
        messages = [(when, json.loads(text)) for when, text in arrived]
        assert not [m for _, m in messages if m.get("id") == number], arrived
        assert not [when for when, _ in messages if when > 0.75], "the work went on after the cancel: %s" % arrived
        assert request(peer, "after", "ping")["result"] == {}
    return check


@handles("Progress, cancellation, asking the client", 1, '→ {"jsonrpc":"2.0","id":4,"method":"tools/call"')
def progress_transcript(block, ctx):
    # type: (Block, Ctx) -> None
    """Against the block's server over stdio, in a session (initialize first, not shown):
    each → line sent as written, each ← line the next message, exactly; then the annotation."""
    with Background([sys.executable, jobs_server_file(ctx)], ctx.tmp, ctx.env) as peer:
        handshake(peer)
        Transcript(peer).play(block.text, {"(no response to request": no_response_check(peer)})


@handles("Progress, cancellation, asking the client", 2, '→ {"jsonrpc":"2.0","id":7,"method":"tools/call"')
def session_question_transcript(block, ctx):
    # type: (Block, Ctx) -> None
    """Against the block's server over stdio, in a session declaring elicitation: exactly the
    messages shown, the server's request id included."""
    with Background([sys.executable, jobs_server_file(ctx)], ctx.tmp, ctx.env) as peer:
        handshake(peer, {"elicitation": {}})
        Transcript(peer).play(block.text)


@handles("Progress, cancellation, asking the client", 3, '→ {"jsonrpc":"2.0","id":7,"method":"tools/call"')
def modern_question_transcript(block, ctx):
    # type: (Block, Ctx) -> None
    """Against the block's server over stdio, no handshake: the → lines with their ``_meta``
    filled in (version, client info, the capabilities shown) and the requestState the server
    sent; each ← line matched with ``…`` standing for what it abridges. The same abridged
    string must be the same value wherever it appears."""
    with Background([sys.executable, jobs_server_file(ctx)], ctx.tmp, ctx.env) as peer:
        transcript = Transcript(peer)
        transcript.play(block.text)
        assert len(set(transcript.values.values())) == 1, transcript.values  # one requestState


TASKS_SECTION = "Tasks (2026-07-28: the `io.modelcontextprotocol/tasks` extension)"


def tasks_app(**options):
    # type: (Any) -> Server
    namespace = {"app": Server("renderer", **options), "Context": Context}  # type: Dict[str, Any]
    exec_block(block_at(TASKS_SECTION, 0).text, namespace)
    return namespace["app"]


def accept_ok(params):
    # type: (Dict[str, Any]) -> Dict[str, Any]
    assert params["message"].startswith("Render "), params
    return {"action": "accept", "content": {"ok": True}}


@handles(TASKS_SECTION, 0, '@app.tool(task="optional")')
def tasks_tool(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` and ``Context`` given; through ``Client(app)``: a task with the
    extension declared (its question answered), an ordinary call without (tasks are optional);
    the server advertises the extension."""
    app = tasks_app(task_poll_interval_ms=50)
    with Client(app, tasks=True, elicitation=accept_ok) as client:
        task = client.call_tool("render", {"frames": 4}, wait=False)
        assert task["resultType"] == "task" and task["status"] == "working", task
        assert client.wait_task(task["taskId"], timeout=10)["content"][0]["text"] == "rendered 4 frames"
        assert "io.modelcontextprotocol/tasks" in client.server_capabilities["extensions"], client.server_capabilities
    with Client(app, era="legacy", elicitation=accept_ok) as client:
        assert client.call_tool("render", {"frames": 2})["content"][0]["text"] == "rendered 2 frames"


@handles(TASKS_SECTION, 1, "with Client.http(url, tasks=True, elicitation=ask_the_user)")
def tasks_client(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``url`` a server of the previous block over HTTP and ``ask_the_user``
    accepting; the values the block's statements drop are recorded: the waited result, the
    CreateTaskResult, the result waited for later."""
    with tasks_app(task_poll_interval_ms=50).run_in_thread("http", port=0) as handle:
        namespace = {"Client": Client, "url": handle.url, "ask_the_user": accept_ok}  # type: Dict[str, Any]
        recorded = exec_block(block.text, namespace)
    assert [r.source.split("(")[0].strip() for r in recorded] == ["client.call_tool", "client.wait_task"], recorded
    assert recorded[0].value["content"][0]["text"] == "rendered 500 frames"
    assert namespace["task"]["resultType"] == "task" and namespace["task"]["status"] == "working"
    assert recorded[1].value["content"][0]["text"] == "rendered 500 frames"


@handles(TASKS_SECTION, 2, '→ {"jsonrpc":"2.0","id":1,"method":"tools/call"')
def tasks_transcript(block, ctx):
    # type: (Block, Ctx) -> None
    """Against the first block's tool served over stdio (default settings): the → lines with
    their ``_meta`` filled in and the taskId the server chose, the ← lines matched with ``…``
    for what they abridge and any timestamp for theirs; a ``tasks/get`` answered ``working``
    where the README shows a later status is sent again, as a client polls."""
    server = os.path.join(ctx.tmp, "render.py")
    with open(server, "w", encoding="utf-8") as f:
        f.write("from mcplite import Context, Server\n\napp = Server('renderer')\n\n" + block_at(TASKS_SECTION, 0).text
                + "\napp.run()\n")
    with Background([sys.executable, server], ctx.tmp, ctx.env) as peer:
        transcript = Transcript(peer)
        transcript.play(block.text)
        assert len(set(transcript.values.values())) == 1, transcript.values  # one taskId throughout


EXT_SECTION = "Extensions, your own methods, middleware"


@handles(EXT_SECTION, 0, 'app.add_extension("com.example/search", {"maxResults": 50})')
def extension_declared(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given: the extension and its settings are in ``app.extensions``
    and in the capabilities a client sees, through ``server/discover`` (2026-07-28) and
    ``initialize`` (legacy); a name without a vendor prefix and the tasks extension are
    refused; ``remove_extension`` takes it out again."""
    app = Server("search")
    exec_block(block.text, {"app": app})
    assert app.extensions == {"com.example/search": {"maxResults": 50}}
    for era in ("modern", "legacy"):
        with Client(app, era=era) as client:
            assert client.server_capabilities["extensions"] == {"com.example/search": {"maxResults": 50}}, era
    for bad in ("search", "io.modelcontextprotocol/tasks"):
        with pytest.raises(ValueError):
            app.add_extension(bad)
    app.remove_extension("com.example/search")
    with Client(app) as client:
        assert "com.example/search" not in client.server_capabilities.get("extensions", {})


class _Cache:
    def __init__(self):
        # type: () -> None
        self.cleared = threading.Event()

    def clear(self):
        # type: () -> None
        self.cleared.set()


@handles(EXT_SECTION, 1, '@app.method("com.example/search", params_schema=')
def own_method(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app``, ``Context``, a ``find`` that records its arguments and a
    ``cache``; in both eras through ``Client(app)`` and over HTTP: ``client.request`` gets the
    method's result, params without ``query`` get -32602 before the function runs, and
    ``client.notify`` reaches the notification handler. Registering MCP's own method name is
    a ValueError."""
    found = []  # type: List[Any]

    def find(query, limit):
        # type: (str, int) -> List[str]
        found.append((query, limit))
        return ["hit for " + query]

    for era in ("modern", "legacy"):
        cache = _Cache()
        app = Server("search")
        exec_block(block.text, {"app": app, "Context": Context, "find": find, "cache": cache})
        with app.run_in_thread("http", port=0) as served:
            for client in (Client(app, era=era), Client.http(served.url, era=era)):
                with client:
                    del found[:]
                    result = client.request("com.example/search", {"query": "mcp"})
                    own = {k: v for k, v in result.items() if k not in ("_meta", "resultType")}  # 2026-07-28's
                    assert own == {"hits": ["hit for mcp"]}, result
                    assert found == [("mcp", 10)], found
                    with pytest.raises(MCPError) as refused:
                        client.request("com.example/search", {"q": "mcp"})
                    assert refused.value.code == -32602 and len(found) == 1, refused.value
                    cache.cleared.clear()
                    client.notify("com.example/reindexed", {})
                    assert cache.cleared.wait(5), era
    with pytest.raises(ValueError):
        app.method("tools/list")(lambda params: {})


@handles(EXT_SECTION, 2, "@app.middleware")
def timing_middleware(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` (a tool ``add``), ``Context``, ``time`` and ``log`` a logger whose
    records are kept: a tool call and a ``tools/list``, in both eras, are each logged once
    with the method, the request id and the milliseconds, and their results are unchanged."""
    import logging
    import time
    records = []  # type: List[str]

    class Keep(logging.Handler):
        def emit(self, record):
            # type: (logging.LogRecord) -> None
            records.append(record.getMessage())

    log = logging.getLogger("readme.middleware")
    log.setLevel(logging.INFO)
    log.propagate = False
    keeper = Keep()
    log.addHandler(keeper)
    try:
        namespace = {"app": Server("timed"), "Context": Context, "time": time, "log": log}  # type: Dict[str, Any]
        exec_block(ADD_SERVER.split("\n", 1)[1].replace('app = Server("adder")\n', ""), namespace)
        exec_block(block.text, namespace)
        for era in ("modern", "legacy"):
            del records[:]
            with Client(namespace["app"], era=era) as client:
                assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
                assert [tool["name"] for tool in client.list_tools()] == ["add"]
            calls = [r for r in records if r.startswith(("tools/call ", "tools/list "))]
            assert len(calls) == 2, records
            for record in calls:
                assert re.fullmatch(r"tools/(call|list) \S+ took \d+\.\d ms", record), record
    finally:
        log.removeHandler(keeper)

APPS_SECTION = "MCP Apps: a view for a tool's results"
VIEW_HTML = "<!DOCTYPE html><html><body><p id=sky>?</p></body></html>\n"


@handles(APPS_SECTION, 0, "from mcplite import Server")
def apps_view(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed in a directory holding a ``view.html``: the server declares
    ``io.modelcontextprotocol/ui``; the view is listed and read as
    ``text/html;profile=mcp-app`` with its ``_meta.ui`` (the CSP and prefersBorder given),
    the page's text unchanged; ``forecast`` carries ``_meta.ui.resourceUri`` and the flat
    ``ui/resourceUri`` (2025-11-25 and 2026-07-28), ``refresh`` its ``visibility``; both answer
    with text and structured content. Under 2025-03-26 the tools have no ``_meta``. A ``Host``
    in front of it over HTTP offers the model ``forecast`` only. Not exercised: a host drawing
    the view."""
    from mcplite import APP_MIME_TYPE, UI_EXTENSION, Host
    with open(os.path.join(ctx.tmp, "view.html"), "w", encoding="utf-8") as f:
        f.write(VIEW_HTML)
    ctx.monkeypatch.chdir(ctx.tmp)
    namespace = {"__name__": "weather"}  # type: Dict[str, Any]
    exec_block(block.text, namespace)
    app = namespace["app"]
    view_ui = {"csp": {"connectDomains": ["https://api.example.com"]}, "prefersBorder": True}
    for era in ("modern", "legacy"):
        with Client(app, era=era) as client:
            assert UI_EXTENSION in client.server_capabilities.get("extensions", {}), client.server_capabilities
            listed = [r for r in client.list_resources() if r["uri"] == "ui://weather/view"]
            assert len(listed) == 1 and listed[0]["mimeType"] == APP_MIME_TYPE, listed
            assert listed[0]["_meta"]["ui"] == view_ui, listed
            content = client.read_resource("ui://weather/view")["contents"][0]
            assert content["text"] == VIEW_HTML and content["mimeType"] == APP_MIME_TYPE, content
            assert content["_meta"]["ui"] == view_ui, content
            tools = {tool["name"]: tool for tool in client.list_tools()}
            assert tools["forecast"]["_meta"]["ui"] == {"resourceUri": "ui://weather/view"}, tools
            assert tools["forecast"]["_meta"]["ui/resourceUri"] == "ui://weather/view", tools
            assert tools["refresh"]["_meta"]["ui"] == {"resourceUri": "ui://weather/view", "visibility": ["app"]}
            for name in ("forecast", "refresh"):
                result = client.call_tool(name, {"city": "Paris"})
                assert result["structuredContent"] == {"city": "Paris", "sky": "clear"}, result
                assert result["content"][0]["type"] == "text", result
    with Client(app, era="legacy", protocol_version="2025-03-26") as client:
        assert client.protocol_version == "2025-03-26"
        assert all("_meta" not in tool for tool in client.list_tools())
    with app.run_in_thread("http", port=0) as served:
        with Host.from_config({"mcpServers": {"weather": {"url": served.url}}}) as host:
            assert host.failures == [], host.failures
            assert [tool["name"] for tool in host.tools()] == ["weather__forecast"], host.tools()


@handles(APPS_SECTION, 1, "from mcplite import Client, apps_extension, read_app_view, t")
def apps_host_side(block, ctx):
    # type: (Block, Ctx) -> None
    """Run from the checkout (the block's relative path), ``python3`` this interpreter: the
    example server starts over stdio, and the one tool with a view that the model sees is
    printed once, with the dice page's length, the spec's default policy (the example
    declares no csp) and an empty ``allow``. Not exercised: drawing the view."""
    ctx.monkeypatch.setenv("PATH", ctx.env["PATH"])
    ctx.monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec_block(block.text, {"__name__": "host"})
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1, lines
    uri, size, policy = re.match(r"^(\S+) (\d+) (.*)$", lines[0]).groups()  # type: ignore[union-attr]
    assert uri == "ui://dice/view" and int(size) > 500, lines
    assert policy.startswith("default-src 'none'; script-src 'self' 'unsafe-inline';"), policy
    assert "connect-src 'none'" in policy and policy.endswith("base-uri 'self' "), policy


SKILLS_SECTION = "Skills (SEP-2640)"
PDF_SKILL_MD = ("---\nname: pdf-processing\ndescription: Extract text and fill forms in PDF files.\n"
                "metadata:\n  version: \"1.2\"\n---\n# PDF processing\n\nSee references/FORMS.md.\n")
PDF_FORMS_MD = "# Forms\n\nFill each field, then flatten.\n"
REFUNDS_SKILL_MD = "---\nname: refunds\ndescription: How refunds are approved.\n---\nAsk finance.\n"


def skill_directories(directory):
    # type: (str) -> None
    """skills/pdf-processing (SKILL.md and references/FORMS.md) and skills/refunds."""
    files = {"skills/pdf-processing/SKILL.md": PDF_SKILL_MD,
             "skills/pdf-processing/references/FORMS.md": PDF_FORMS_MD,
             "skills/refunds/SKILL.md": REFUNDS_SKILL_MD}
    for relative, text in files.items():
        path = os.path.join(directory, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


@handles(SKILLS_SECTION, 0, 'app.skill("skills/pdf-processing")')
def skills_served(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given, in a directory holding the two skills: the extension is
    declared with ``directoryRead``; ``skills/list`` has both entries at the URIs the comments
    give, each file with its sha256 digest and size and the frontmatter as JSON; every file is
    a resource, SKILL.md ``text/markdown``; ``skills/get`` of an unknown skill is -32602;
    ``resources/directory/read`` lists ``references`` as ``inode/directory``. A frontmatter
    with an anchor is refused at registration (ValueError)."""
    import hashlib
    from mcplite import SKILLS_EXTENSION
    skill_directories(ctx.tmp)
    ctx.monkeypatch.chdir(ctx.tmp)
    app = Server("docs")
    exec_block(block.text, {"app": app})
    with Client(app) as client:
        settings = client.server_capabilities["extensions"][SKILLS_EXTENSION]
        assert settings.get("directoryRead") is True, settings
        entries = {entry["uri"]: entry for entry in client.list_skills()}
        assert sorted(entries) == ["skill://acme/billing/refunds/SKILL.md", "skill://pdf-processing/SKILL.md"]
        pdf = entries["skill://pdf-processing/SKILL.md"]
        assert pdf["frontmatter"] == {"name": "pdf-processing",
                                      "description": "Extract text and fill forms in PDF files.",
                                      "metadata": {"version": "1.2"}}, pdf
        files = {item["uri"]: item for item in pdf["resources"]}
        forms = files["skill://pdf-processing/references/FORMS.md"]
        data = PDF_FORMS_MD.encode("utf-8")
        assert forms["digest"] == "sha256:" + hashlib.sha256(data).hexdigest() and forms["size"] == len(data)
        resources = {r["uri"]: r for r in client.list_resources()}
        assert resources["skill://pdf-processing/SKILL.md"]["mimeType"] == "text/markdown", resources
        assert "skill://acme/billing/refunds/SKILL.md" in resources
        assert client.get_skill("skill://pdf-processing/SKILL.md")["uri"] == "skill://pdf-processing/SKILL.md"
        with pytest.raises(MCPError) as refused:
            client.get_skill("skill://nobody/SKILL.md")
        assert refused.value.code == -32602
        children = {child["uri"]: child for child in client.read_directory("skill://pdf-processing")}
        assert "skill://pdf-processing/SKILL.md" in children, children
        directories = [uri for uri, child in children.items() if child.get("mimeType") == "inode/directory"]
        assert directories == ["skill://pdf-processing/references"], children
    bad = ctx.directory("skills/bad")
    with open(os.path.join(bad, "SKILL.md"), "w", encoding="utf-8") as f:
        f.write("---\nname: bad\ndescription: &d anchored\n---\nx\n")
    with pytest.raises(ValueError):
        Server("other").skill(bad)


SKILLS_SERVER = '''from mcplite import Server

app = Server("docs")
app.skill("skills/pdf-processing")
app.run()
'''


@handles(SKILLS_SECTION, 1, "from mcplite import Client")
def skills_client(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed in a directory holding ``server.py`` (the pdf-processing skill over stdio,
    ``python3`` the test's interpreter): it prints the description and the body, and
    ``forms`` is FORMS.md. In memory, with a middleware recording each method: listing fetches
    no file, loading reads SKILL.md only; an entry whose digest or frontmatter differs, and a
    file the entry does not list, raise ``SkillVerificationError``; an entry without digests
    loads only with ``allow_unverified=True``."""
    from mcplite import SkillVerificationError
    skill_directories(ctx.tmp)
    with open(os.path.join(ctx.tmp, "server.py"), "w", encoding="utf-8") as f:
        f.write(SKILLS_SERVER)
    ctx.monkeypatch.chdir(ctx.tmp)
    for name in ("PATH", "PYTHONPATH"):
        ctx.monkeypatch.setenv(name, ctx.env[name])
    namespace = {}  # type: Dict[str, Any]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec_block(block.text, namespace)
    assert printed.getvalue() == ("Extract text and fill forms in PDF files. # PDF processing\n\n"
                                  "See references/FORMS.md.\n\n"), printed.getvalue()
    assert namespace["forms"] == PDF_FORMS_MD
    app = Server("docs")
    app.skill("skills/pdf-processing")
    methods = []  # type: List[str]

    @app.middleware
    def record(method, params, context, call_next):
        # type: (str, Dict[str, Any], Context, Any) -> Dict[str, Any]
        methods.append(method if method != "resources/read" else "read " + params["uri"])
        return call_next()

    with Client(app) as client:
        del methods[:]
        entries = client.list_skills()
        assert methods == ["skills/list"], methods
        skill = client.load_skill(entries[0])
        assert methods == ["skills/list", "read skill://pdf-processing/SKILL.md"], methods
        with pytest.raises(SkillVerificationError):
            skill.read("references/OTHER.md")
        tampered = json.loads(json.dumps(entries[0]))
        for item in tampered["resources"]:
            if item["uri"].endswith("/SKILL.md"):
                item["digest"] = "sha256:" + "0" * 64
        with pytest.raises(SkillVerificationError):
            client.load_skill(tampered)
        changed = json.loads(json.dumps(entries[0]))
        changed["frontmatter"]["description"] = "Something else."
        with pytest.raises(SkillVerificationError):
            client.load_skill(changed)
        dynamic = dict(entries[0], resources="dynamic")
        with pytest.raises(SkillVerificationError):
            client.load_skill(dynamic)
        assert client.load_skill(dynamic, allow_unverified=True).frontmatter["name"] == "pdf-processing"


TRACE_SECTION = "Trace context and OpenTelemetry"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = "00-%s-%s-01" % (TRACE_ID, CALLER_SPAN)


@contextlib.contextmanager
def kept_log(name):
    # type: (str) -> Any
    """A logger whose formatted records are kept in the list yielded (none propagated)."""
    import logging
    records = []  # type: List[str]

    class Keep(logging.Handler):
        def emit(self, record):
            # type: (logging.LogRecord) -> None
            records.append(record.getMessage())

    log = logging.getLogger(name)
    log.setLevel(logging.INFO)
    log.propagate = False
    keeper = Keep()
    log.addHandler(keeper)
    try:
        yield log, records
    finally:
        log.removeHandler(keeper)


def trace_search_app(log):
    # type: (Any) -> Server
    """The section's first block, executed with ``app``, ``Context`` and ``log`` given."""
    namespace = {"app": Server("search"), "Context": Context, "log": log}  # type: Dict[str, Any]
    exec_block(block_at(TRACE_SECTION, 0).text, namespace)
    return namespace["app"]


@handles(TRACE_SECTION, 0, "@app.tool()")
def trace_in_handler(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app``, ``Context`` and ``log`` (a logger whose records are kept);
    through ``Client(app)`` in both eras and over HTTP: a call made inside ``use_trace`` logs
    the trace id, the caller's span and a span of the server's own (16 hex digits, not the
    caller's); a call without a trace logs nothing; a malformed ``traceparent`` (upper-case
    hex) in ``_meta`` is ignored and the call served."""
    from mcplite import use_trace
    with kept_log("readme.trace.search") as (log, records):
        app = trace_search_app(log)
        with app.run_in_thread("http", port=0) as served:
            for era in ("modern", "legacy"):
                for client in (Client(app, era=era), Client.http(served.url, era=era)):
                    with client:
                        del records[:]
                        with use_trace(TRACEPARENT):
                            result = client.call_tool("search", {"query": "mcp"})
                        assert result["content"] == [{"type": "text", "text": "result for mcp"}], result
                        assert len(records) == 1, records
                        found = re.fullmatch(r"trace (\w+), caller's span (\w+), ours ([0-9a-f]{16})", records[0])
                        assert found and found.group(1, 2) == (TRACE_ID, CALLER_SPAN), records
                        assert found.group(3) != CALLER_SPAN, records
                        client.call_tool("search", {"query": "mcp"})
                        bad = {"traceparent": TRACEPARENT.upper()}
                        served_anyway = client.request("tools/call", {"name": "search", "arguments": {"query": "x"},
                                                                      "_meta": bad})
                        assert served_anyway["content"] == [{"type": "text", "text": "result for x"}], served_anyway
                        assert len(records) == 1, (era, records)


class _Request:
    def __init__(self, headers):
        # type: (Dict[str, str]) -> None
        self.headers = headers


@handles(TRACE_SECTION, 1, "from mcplite import Client, use_trace")
def trace_from_client(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``url`` the first block's server over HTTP and ``request`` an incoming
    request whose ``headers`` hold a ``traceparent``: the call the block drops returns the
    search result, and the server logged that trace id with the caller's span; a malformed
    ``traceparent`` given to ``use_trace`` is a ValueError."""
    from mcplite import use_trace
    with kept_log("readme.trace.client") as (log, records):
        with trace_search_app(log).run_in_thread("http", port=0) as served:
            namespace = {"url": served.url, "request": _Request({"traceparent": TRACEPARENT})}  # type: Dict[str, Any]
            recorded = exec_block(block.text, namespace)
    assert [r.source.strip().split("(")[0] for r in recorded] == ["client.call_tool"], recorded
    assert recorded[0].value["content"] == [{"type": "text", "text": "result for mcp"}], recorded
    assert len(records) == 1 and records[0].startswith("trace %s, caller's span %s, ours " % (TRACE_ID, CALLER_SPAN)), \
        records
    with pytest.raises(ValueError):
        use_trace("00-%s-%s-01" % (TRACE_ID.upper(), CALLER_SPAN))


@handles(TRACE_SECTION, 2, "from opentelemetry import trace", interop=True)
def trace_opentelemetry(block, ctx):
    # type: (Block, Ctx) -> None
    """The block, then a server (the ``add`` tool, ``app.run()``), as one file run by
    ``$MCPLITE_OTEL_PYTHON`` (opentelemetry-api/-sdk 1.45.2, which scripts/test installs)
    with the checkout on PYTHONPATH. Over its stdin: initialize, then a ``tools/call`` whose
    ``_meta`` carries a traceparent, then end of input. stdout holds nothing but the three
    answers (the call's result 5); stderr has the console exporter's spans, among them a
    SERVER span ``tools/call add`` in that trace, whose parent is the caller's span, with
    the MCP attributes."""
    from test_trace_context import _otel_python
    python = _otel_python()
    server = os.path.join(ctx.tmp, "traced.py")
    with open(server, "w", encoding="utf-8") as f:
        f.write(block.text + "\n" + ADD_SERVER + "app.run()\n")
    lines = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                 "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "readme", "version": "1"}}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                 "name": "add", "arguments": {"a": 2, "b": 3}, "_meta": {"traceparent": TRACEPARENT}}}]
    env = dict(ctx.env, PYTHONPATH=ROOT)
    done = run([python, server], ctx.tmp, env, "".join(json.dumps(line) + "\n" for line in lines))
    assert done.status == 0, done.err
    answers = [json.loads(line) for line in done.out.splitlines()]
    assert [a.get("id") for a in answers] == [0, 1], done.out
    assert answers[1]["result"]["structuredContent"] == {"result": 5}, answers[1]
    spans = []  # type: List[Dict[str, Any]]
    piece = []  # type: List[str]
    for line in done.err.splitlines():
        if line == "{" or piece:
            piece.append(line)
            if line == "}":
                spans.append(json.loads("\n".join(piece)))
                piece = []
    calls = [span for span in spans if span["name"] == "tools/call add"]
    assert len(calls) == 1, done.err
    (call,) = calls
    assert call["kind"] == "SpanKind.SERVER", call
    assert call["context"]["trace_id"] == "0x" + TRACE_ID and call["parent_id"] == "0x" + CALLER_SPAN, call
    attributes = call["attributes"]
    assert attributes["mcp.method.name"] == "tools/call" and attributes["gen_ai.tool.name"] == "add", attributes
    assert attributes["jsonrpc.request.id"] == "1" and attributes["mcp.protocol.version"] == "2025-11-25", attributes


@handles(TRACE_SECTION, 3, "@app.middleware")
def trace_audit_middleware(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` (a tool ``add``), ``Context``, ``time`` and ``log`` (records
    kept), in both eras through ``Client(app)``: a call inside ``use_trace`` is logged with
    that trace id and a span of the server's own; one without, with ``-`` for both; the
    results are unchanged."""
    import time
    from mcplite import use_trace
    with kept_log("readme.trace.audit") as (log, records):
        namespace = {"app": Server("audited"), "Context": Context, "time": time, "log": log}  # type: Dict[str, Any]
        exec_block(ADD_SERVER.split("\n", 1)[1].replace('app = Server("adder")\n', ""), namespace)
        exec_block(block.text, namespace)
        for era in ("modern", "legacy"):
            with Client(namespace["app"], era=era) as client:
                del records[:]
                with use_trace(TRACEPARENT):
                    assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
                assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
            calls = [r for r in records if r.startswith("tools/call ")]
            assert len(calls) == 2, records
            traced = re.fullmatch(r"tools/call trace=%s span=([0-9a-f]{16}) \d+\.\d ms" % TRACE_ID, calls[0])
            assert traced and traced.group(1) != CALLER_SPAN, calls
            assert re.fullmatch(r"tools/call trace=- span=- \d+\.\d ms", calls[1]), calls


@handles("Completion, pagination, changes at run time", 0, '@app.completion("language", prompt="review")')
def completion(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` holding the ``review`` prompt of "Tools, resources, prompts";
    completions asked through ``Client(app)``."""
    namespace = {}  # type: Dict[str, Any]
    exec_block(block_at("Tools, resources, prompts", 0).text, namespace)
    exec_block(block.text, namespace)
    with Client(namespace["app"]) as client:
        assert "completions" in client.server_capabilities
        ref = {"type": "ref/prompt", "name": "review"}
        assert client.complete(ref, "language", "p")["values"] == ["python", "perl", "php"]
        assert client.complete(ref, "language", "py")["values"] == ["python"]



CACHE_SECTION = "Caching (2026-07-28)"


def caching_app():
    # type: () -> Server
    namespace = {"Server": Server}  # type: Dict[str, Any]
    exec_block(block_at(CACHE_SECTION, 0).text, namespace)
    return namespace["app"]


def hints(result):
    # type: (Dict[str, Any]) -> Tuple[Any, Any]
    return result.get("ttlMs"), result.get("cacheScope")


@handles(CACHE_SECTION, 0, 'app = Server("docs", cache_ttl_ms=0, cache_scope="private",')
def caching_hints(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``Server`` given; through ``Client(app)`` in 2026-07-28 the hints the
    comments promise: ``tools/list`` 5 min but private (the private tool), the resource lists
    5 min and public, ``docs://index`` read for a minute and public, a profile for 10 s and
    private, ``server/discover`` 0 and private; in a legacy session no hints at all. The
    handlers answer."""
    namespace = {"Server": Server}  # type: Dict[str, Any]
    exec_block(block.text, namespace)
    app = namespace["app"]
    with Client(app, era="modern") as client:
        assert hints(client.request("tools/list")) == (300000, "private")
        for method in ("resources/list", "resources/templates/list"):
            assert hints(client.request(method)) == (300000, "public"), method
        index = client.request("resources/read", {"uri": "docs://index"})
        assert hints(index) == (60000, "public") and index["contents"][0]["text"] == "# Docs", index
        profile = client.request("resources/read", {"uri": "users://7/profile"})
        assert hints(profile) == (10000, "private") and profile["contents"][0]["text"] == "profile of 7", profile
        assert hints(client.request("server/discover")) == (0, "private")
        assert client.call_tool("admin_reset")["content"][0]["text"] == "reset"
    with Client(app, era="legacy") as client:
        for method, params in (("tools/list", {}), ("resources/list", {}), ("resources/read", {"uri": "docs://index"})):
            assert hints(client.request(method, params)) == (None, None), method


@handles(CACHE_SECTION, 1, "from mcplite import Client, ResultCache")
def caching_client(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed in a directory holding ``server.py`` (the previous block and ``app.run()``),
    ``python3`` the test's interpreter, and ``URL`` the previous block's server over HTTP
    (which ignores the tokens): the two ``list_tools()`` give the same tools, the first a
    miss and the second a hit of that client's cache. Then with the block's ``alice`` and
    ``bob``: a public read by one is a hit for the other; a private read is not, and is
    dropped from the shared cache when its client closes."""
    with open(os.path.join(ctx.tmp, "server.py"), "w", encoding="utf-8") as f:
        f.write("from mcplite import Server\n\n" + block_at(CACHE_SECTION, 0).text + "\napp.run()\n")
    ctx.monkeypatch.chdir(ctx.tmp)
    ctx.monkeypatch.setenv("PATH", ctx.env["PATH"])
    ctx.monkeypatch.setenv("PYTHONPATH", ctx.env["PYTHONPATH"])
    with caching_app().run_in_thread("http", port=0) as served:
        namespace = {"URL": served.url}  # type: Dict[str, Any]
        try:
            recorded = exec_block(block.text, namespace)
            assert [r.source.strip() for r in recorded][:1] == ["client.list_tools()            # from the server"]
            assert len(recorded) == 2 and recorded[0].value == recorded[1].value, recorded
            assert [tool["name"] for tool in recorded[0].value] == ["admin_reset"], recorded
            own = namespace["client"].cache
            assert (own.misses, own.hits) == (1, 1), (own.misses, own.hits)
            alice, bob, shared = namespace["alice"], namespace["bob"], namespace["shared"]
            assert alice.cache is shared and bob.cache is shared
            assert alice.read_resource("docs://index")["contents"][0]["text"] == "# Docs"
            assert (shared.misses, shared.hits) == (1, 0)
            assert bob.read_resource("docs://index")["contents"][0]["text"] == "# Docs"
            assert (shared.misses, shared.hits) == (1, 1)          # public: fetched by alice, served to bob
            alice.read_resource("users://1/profile")
            bob.read_resource("users://1/profile")
            assert (shared.misses, shared.hits) == (3, 1)          # private: each fetched its own
            alice.read_resource("users://1/profile")
            assert (shared.misses, shared.hits) == (3, 2)
            assert len(shared) == 3
            alice.close()
            assert len(shared) == 2                                # alice's private read is gone
        finally:
            for name in ("alice", "bob"):
                if name in namespace:
                    namespace[name].close()


ADD_SERVER = '''from mcplite import Server

app = Server("adder")

@app.tool()
def add(a: int, b: int) -> int:
    return a + b

'''


@handles("Streamable HTTP", 0, 'app.run("http", host="127.0.0.1", port=8000, path="/mcp")')
def http_run(block, ctx):
    # type: (Block, Ctx) -> None
    """The line at the end of a server file (a free port for 8000), run as a process: it serves
    a call at the URL it says, and Ctrl-C (SIGINT) stops it: status 0, no traceback."""
    port = free_port()
    assert block.text.count("port=8000") == 1
    path = os.path.join(ctx.tmp, "adder.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ADD_SERVER + block.text.replace("port=8000", "port=%d" % port))
    with Background([sys.executable, path], ctx.tmp, ctx.env) as server:
        url = server.stderr_until(r"http://127\.0\.0\.1:\d+/mcp").group(0)
        assert url == "http://127.0.0.1:%d/mcp" % port
        with Client.http(url) as client:
            assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        server.signal(signal.SIGINT)
        assert server.wait(10) == 0, "Ctrl-C did not stop the server cleanly"
        assert "Traceback" not in server.stderr_tail(), server.stderr_tail()


@handles("Streamable HTTP", 1, 'with app.run_in_thread("http", port=0) as server:')
def http_in_thread(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given and ``print`` recording what it prints and pinging it: the
    URL has the commented shape, serves while the block runs, and no longer after it."""
    printed = []  # type: List[Any]

    def print_and_ping(*values):
        # type: (Any) -> None
        printed.append(values)
        with Client.http(values[0]) as client:
            client.ping()
        printed.append("pinged")

    exec_block(block.text, {"app": Server("embedded"), "print": print_and_ping})
    comment = re.search(r"# (http://\S+)", block.text).group(1)
    assert len(printed) == 2 and printed[1] == "pinged", printed
    url = printed[0][0]
    shape = r"http://127\.0\.0\.1:\d+/mcp"
    assert re.fullmatch(shape, comment) and re.fullmatch(shape, url), (comment, url)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(url).port), timeout=2).close()


def http_request(port, method, path, host, body=None, headers=None):
    # type: (int, str, str, str, Optional[Dict[str, Any]], Optional[Dict[str, str]]) -> Tuple[int, Dict[str, str], bytes]
    """One request to 127.0.0.1:``port`` naming ``host`` in its Host header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sent = {"Host": host, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        sent.update(headers or {})
        conn.request(method, path, json.dumps(body) if body is not None else None, sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def fine() -> str:
    """A tool for the protected server."""
    return "fine"


@handles("Streamable HTTP", 2, "from mcplite import AccessToken, BearerAuth")
def bearer_tokens(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given, its ``app.run("http", host="0.0.0.0", ...)`` made
    ``app.run_in_thread("http", host="127.0.0.1", port=0, ...)`` (same options: servers here
    listen on loopback only, so the public bind is not exercised). Requests name the Host
    ``mcp.example.com``: without a token, or with a wrong one, 401 and the metadata URL; with
    the token, tools; the metadata names the resource and authorization server; another Host
    is refused."""
    call = 'app.run("http", host="0.0.0.0", '
    assert block.text.count(call) == 1
    code = block.text.replace(call, 'app.run_in_thread("http", host="127.0.0.1", port=0, ')
    app = Server("secure")
    app.tool()(fine)
    recorded = exec_block(code, {"app": app})
    (handle,) = [r.value for r in recorded if "run_in_thread" in r.source]
    try:
        port = urllib.parse.urlsplit(handle.url).port
        listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}}
        modern = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}
        for token in (None, "wrong"):
            headers = dict(modern, **({"Authorization": "Bearer " + token} if token else {}))
            status, got, _ = http_request(port, "POST", "/mcp", "mcp.example.com", listing, headers)
            assert status == 401, (token, status)
            assert got["www-authenticate"].startswith("Bearer ") and \
                'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"' in \
                got["www-authenticate"], got
        status, _, body = http_request(port, "POST", "/mcp", "mcp.example.com", listing,
                                       dict(modern, Authorization="Bearer s3cret"))
        assert status == 200 and [t["name"] for t in json.loads(body)["result"]["tools"]] == ["fine"], body
        status, _, body = http_request(port, "GET", "/.well-known/oauth-protected-resource/mcp", "mcp.example.com")
        metadata = json.loads(body)
        assert status == 200 and metadata["resource"] == "https://mcp.example.com/mcp", metadata
        assert metadata["authorization_servers"] == ["https://auth.example.com"], metadata
        status, _, _ = http_request(port, "POST", "/mcp", "127.0.0.1:%d" % port, listing,
                                    dict(modern, Authorization="Bearer s3cret"))
        assert status == 421
    finally:
        handle.stop()


def whoami(ctx: Context) -> str:
    """The tool the JWT block's server serves: who the token says the caller is."""
    return "%s %s" % (ctx.principal.subject, ",".join(sorted(ctx.principal.scopes)))


@handles("Streamable HTTP", 3, "from mcplite import BearerAuth")
def jwt_tokens(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given (a tool reading ``ctx.principal``), its ``app.run`` made
    ``run_in_thread`` on 127.0.0.1 as for the bearer block, and its ``jwks_url`` a JWKS served
    on 127.0.0.1 (``http://`` is allowed on loopback) holding a fresh ES256 key; the issuer
    and audience stay as written. Tokens signed with that key: a good one reaches the tool
    (its ``sub`` and scopes as the principal); without the ``mcp`` scope 403; another
    audience, another issuer, expired, another key, ``alg: none``: 401 ``invalid_token``.
    The key set is fetched once. Not exercised: RS256 here (tests/test_jwt.py), https."""
    import base64
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from mcplite.es256 import ES256Key, jws

    key, stranger = ES256Key.generate(kid="k1"), ES256Key.generate(kid="k1")
    fetched = []  # type: List[str]

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            # type: () -> None
            fetched.append(self.path)
            body = json.dumps({"keys": [key.public_jwk()]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            # type: (Any) -> None
            pass

    jwks_server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=jwks_server.serve_forever, daemon=True).start()
    written = "https://auth.example.com/.well-known/jwks.json"
    call = 'app.run("http", host="0.0.0.0", '
    assert block.text.count(written) == 1 and block.text.count(call) == 1
    code = block.text.replace(written, "http://127.0.0.1:%d/.well-known/jwks.json" % jwks_server.server_port)
    code = code.replace(call, 'app.run_in_thread("http", host="127.0.0.1", port=0, ')
    app = Server("secure")
    app.tool()(whoami)
    try:
        recorded = exec_block(code, {"app": app})
        (handle,) = [r.value for r in recorded if "run_in_thread" in r.source]
        try:
            port = urllib.parse.urlsplit(handle.url).port
            now = int(time.time())
            good = {"iss": "https://auth.example.com", "aud": "https://mcp.example.com/mcp", "sub": "ann",
                    "scope": "mcp read", "iat": now, "exp": now + 300}
            modern = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "whoami"}
            calling = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "whoami", "arguments": {}, "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}}}}

            def send(token):
                # type: (str) -> Tuple[int, Dict[str, str], bytes]
                return http_request(port, "POST", "/mcp", "mcp.example.com", calling,
                                    dict(modern, Authorization="Bearer " + token))

            status, _, body = send(jws({"typ": "JWT"}, good, key))
            assert status == 200, (status, body)
            assert json.loads(body)["result"]["content"][0]["text"] == "ann mcp,read", body
            status, headers, _ = send(jws({"typ": "JWT"}, dict(good, scope="read"), key))
            assert status == 403 and "insufficient_scope" in headers["www-authenticate"], (status, headers)
            unsigned = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                                for part in ({"alg": "none", "kid": "k1"}, good)) + "."
            for bad in (jws({}, dict(good, aud="https://other.example.com/mcp"), key),
                        jws({}, dict(good, iss="https://evil.example.com"), key),
                        jws({}, dict(good, exp=now - 3600), key), jws({}, good, stranger), unsigned):
                status, headers, _ = send(bad)
                assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"], (bad, status, headers)
            assert fetched == ["/.well-known/jwks.json"], fetched
            status, _, body = http_request(port, "GET", "/.well-known/oauth-protected-resource/mcp", "mcp.example.com")
            metadata = json.loads(body)
            assert metadata["resource"] == "https://mcp.example.com/mcp", metadata
            assert metadata["authorization_servers"] == ["https://auth.example.com"], metadata
        finally:
            handle.stop()
    finally:
        jwks_server.shutdown()
        jwks_server.server_close()

CURL_SECTION = "Talking to it with curl"


def covered_by_curl_test(block, ctx):
    # type: (Block, Ctx) -> None
    """Run by tests/test_readme_curl.py, which extracts this section's blocks itself: checked
    here is that it reads this very block and that a test of it uses that ordinal."""
    import test_readme_curl
    assert test_readme_curl.section_blocks()[block.index] == (block.lang, block.text)
    with open(test_readme_curl.__file__, encoding="utf-8") as f:
        source = f.read()
    ordinal = "section_blocks()[%d]" % block.index
    assert ordinal in source, "tests/test_readme_curl.py does not use %s" % ordinal


for _index, _first in enumerate(["python3 -m mcplite serve examples/notes_server.py --http 127.0.0.1:8000 &",
                                 "curl -s http://127.0.0.1:8000/mcp", "URL=http://127.0.0.1:8000/mcp",
                                 '{"jsonrpc":"2.0","id":2,"error":{"code":-32600']):
    handles(CURL_SECTION, _index, _first)(covered_by_curl_test)


WSGI_SECTION = "A production WSGI server"
WORKERS_SECTION = "Several worker processes"
MACHINES_SECTION = "Many machines"


def myserver_file(directory):
    # type: (str) -> str
    """The production WSGI server's myserver.py, saved in ``directory``."""
    path = os.path.join(directory, "myserver.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block_at(WSGI_SECTION, 0).text)
    return path


def wait_for_port(port, server, timeout=TIMEOUT_START):
    # type: (int, Background, float) -> None
    import time
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert server.proc.poll() is None, "%s exited: %s" % (server.argv, server.stderr_tail())
            assert time.monotonic() < deadline, "%s did not listen within %ss: %s" % (
                server.argv, timeout, server.stderr_tail())
            time.sleep(0.1)


def check_adder_url(url):
    # type: (str) -> None
    """A tools/call through the server at ``url``, in a 2026-07-28 request and in a session."""
    for era in ("modern", "legacy"):
        with Client.http(url, era=era) as client:
            assert [tool["name"] for tool in client.list_tools()] == ["add"], era
            assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}, era


@handles(WSGI_SECTION, 0, "# myserver.py")
def wsgi_application(block, ctx):
    # type: (Block, Ctx) -> None
    """Saved as myserver.py and imported from its directory: ``application`` is a WSGI
    callable; served here by the standard library's ``wsgiref`` with a thread per request
    (the next block runs gunicorn and waitress) on a free port, a call goes through it in
    both eras; a Host header that is not loopback gets 421; ``application.close()``."""
    import importlib
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            # type: (Any) -> None
            pass

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    myserver_file(ctx.tmp)
    ctx.monkeypatch.syspath_prepend(ctx.tmp)
    sys.modules.pop("myserver", None)
    try:
        application = importlib.import_module("myserver").application
    finally:
        sys.modules.pop("myserver", None)
    httpd = make_server("127.0.0.1", 0, application, server_class=Threaded, handler_class=Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        check_adder_url("http://127.0.0.1:%d/mcp" % httpd.server_port)
        status, _, _ = http_request(httpd.server_port, "POST", "/mcp", "mcp.example.com", {})
        assert status == 421, status
    finally:
        application.close()
        httpd.shutdown()
        httpd.server_close()


@handles(WSGI_SECTION, 1, "pip install gunicorn", interop=True)
def wsgi_servers(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``pip install`` lines are not run (no network): gunicorn 27.0.1 and waitress 3.0.2
    come from ``$MCPLITE_WSGI_PYTHON``'s venv, which scripts/test builds, and are checked to be
    there. Each server line runs as written with that venv's script, beside myserver.py, the
    checkout on PYTHONPATH and a free port for 8000: a call goes through it in both eras,
    and it is stopped by its PID."""
    from test_wsgi import _wsgi_python
    python = _wsgi_python()
    bin_dir = os.path.dirname(python)
    lines = commands(block)
    assert [line.split()[:2] for line in lines] == [["pip", "install"], ["gunicorn", "-k"],
                                                   ["pip", "install"], ["waitress-serve", "--listen=127.0.0.1:8000"]]
    for package in (lines[0].split()[2], lines[2].split()[2]):
        assert run([python, "-c", "import " + package], ctx.tmp, ctx.env).status == 0, package
    myserver_file(ctx.tmp)
    for line in (lines[1], lines[3]):
        port = free_port()
        assert line.count("127.0.0.1:8000") == 1, line
        argv = shlex.split(line.replace("127.0.0.1:8000", "127.0.0.1:%d" % port))
        # The venv's own script, run by the venv's Python (as its #! line says; a venv copied
        # from elsewhere keeps a #! line naming the old place).
        argv[:1] = [python, os.path.join(bin_dir, argv[0])]
        with Background(argv, ctx.tmp, ctx.env) as server:
            wait_for_port(port, server)
            check_adder_url("http://127.0.0.1:%d/mcp" % port)
            assert server.proc.poll() is None, server.stderr_tail()

STATE_DB = "/var/lib/notes/mcp-state.db"


def shared_server_text(directory):
    # type: (str) -> str
    """The several-workers myserver.py with its database in ``directory``."""
    text = block_at(WORKERS_SECTION, 0).text
    assert text.count(STATE_DB) == 1, text
    return text.replace(STATE_DB, os.path.join(directory, "mcp-state.db"))


def modern_adds(port, count):
    # type: (int, int) -> None
    """``count`` 2026-07-28 calls of ``add``, each from a client of its own (a connection of
    its own, so gunicorn's workers share them out)."""
    for n in range(count):
        with Client.http("http://127.0.0.1:%d/mcp" % port, era="modern") as client:
            assert client.call_tool("add", {"a": n, "b": 3})["structuredContent"] == {"result": n + 3}


@handles(WORKERS_SECTION, 0, "# myserver.py")
def shared_store_server(block, ctx):
    # type: (Block, Ctx) -> None
    """Run in this process twice, as two workers would import it (a key ring of two from
    MCP_STATE_KEYS, the SQLite file in a temp directory): each has the ring and a SqliteStore,
    and nothing stops several workers (``multiprocess_problem()`` is None, where the
    production server's myserver.py names the missing key and the unshared tasks); a cursor
    sealed by one worker opens on the other; ``add`` is called through each, and run as a task
    (the tasks extension) made on one and waited for through the other. gunicorn with
    several workers runs it in the next block."""
    from mcplite import SqliteStore
    keys = [os.urandom(32).hex(), os.urandom(32).hex()]
    ctx.monkeypatch.setenv("MCP_STATE_KEYS", ",".join(keys))
    text = shared_server_text(ctx.tmp)
    workers = []
    for name in ("one", "two"):
        namespace = {"__name__": "myserver"}  # type: Dict[str, Any]
        exec_block(text, namespace)
        workers.append(namespace)
    try:
        one, two = workers[0]["app"], workers[1]["app"]
        for app in (one, two):
            assert isinstance(app.store, SqliteStore) and app.store.shared
            assert app.multiprocess_problem() is None
        plain = {"__name__": "plain"}  # type: Dict[str, Any]
        exec_block(block_at(WSGI_SECTION, 0).text, plain)
        assert "state_keys" in (plain["app"].multiprocess_problem() or "")
        unshared = Server("tasks")
        unshared.add_tool(lambda: 1, name="t", task="optional")
        unshared.sealer = one.sealer
        assert "store=SqliteStore" in (unshared.multiprocess_problem() or "")
        # Sealed with the first key of the ring, opened by the other worker's ring (any key).
        token = one.sealer.seal({"offset": 3})
        assert two.sealer.open(token) == {"offset": 3}
        for app in (one, two):
            with Client(app) as client:
                assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        with Client(one, tasks=True, era="modern") as client:
            created = client.call_tool("add", {"a": 4, "b": 5}, wait=False)
        task_id = created.get("task", created)["taskId"]
        with Client(two, tasks=True, era="modern") as client:
            assert client.wait_task(task_id, timeout=10)["structuredContent"] == {"result": 9}
    finally:
        for namespace in workers:
            namespace["application"].close()
            namespace["app"].store.close()


@handles(WORKERS_SECTION, 1, "export MCP_STATE_KEYS=$(python3 -c", interop=True)
def several_workers(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``export`` line runs in bash (its key is 32 random bytes in hex); the gunicorn line
    runs as written (4 workers, gunicorn from ``$MCPLITE_WSGI_PYTHON``'s venv, a free port for
    8000) beside the previous block's myserver.py: 2026-07-28 calls from 16 connections of
    their own are all answered. Beside it, the production server's myserver.py (no key, no
    store) under the same line but ``-w 2`` answers 500 with the message naming
    ``state_keys``, as the WSGI section says."""
    from test_wsgi import _wsgi_python
    python = _wsgi_python()
    lines = commands(block)
    assert len(lines) == 2 and lines[0].startswith("export MCP_STATE_KEYS=") and lines[1].startswith("gunicorn -w 4")
    made = run(["bash", "-c", lines[0] + '\nprintf %s "$MCP_STATE_KEYS"'], ctx.tmp, ctx.env)
    assert made.status == 0 and re.match(r"^[0-9a-f]{64}$", made.out), made
    env = dict(ctx.env, MCP_STATE_KEYS=made.out)
    with open(os.path.join(ctx.tmp, "myserver.py"), "w", encoding="utf-8") as f:
        f.write(shared_server_text(ctx.tmp))
    plain_dir = ctx.directory("plain")
    myserver_file(plain_dir)
    for cwd, line in ((ctx.tmp, lines[1]), (plain_dir, lines[1].replace("-w 4", "-w 2"))):
        port = free_port()
        argv = shlex.split(line.replace("127.0.0.1:8000", "127.0.0.1:%d" % port))
        argv[:1] = [python, os.path.join(os.path.dirname(python), argv[0])]
        with Background(argv, cwd, env) as server:
            wait_for_port(port, server)
            if cwd == ctx.tmp:
                modern_adds(port, 16)
            else:
                status, _, body = http_request(port, "POST", "/mcp", "127.0.0.1:%d" % port, {
                    "jsonrpc": "2.0", "id": 1, "method": "ping"})
                assert status == 500 and b"state_keys" in body, (status, body)
            assert server.proc.poll() is None, server.stderr_tail()


# Many machines: the README's addresses, and what the tests put in their place.
PG_CONNECT = 'host="db.internal", user="mcp", database="mcp"'
PUBLIC_HOST = 'allowed_hosts=["mcp.example.com"]'
MACHINES = {"a": "10.0.0.1:8000", "b": "10.0.0.2:8000"}


def machines_server_text(database):
    # type: (Any) -> str
    """The many-machines myserver.py, connecting to the test's PostgreSQL and answering the
    loopback Host the tests send (the README's database and public name replaced)."""
    text = block_at(MACHINES_SECTION, 0).text
    assert text.count(PG_CONNECT) == 1 and text.count(PUBLIC_HOST) == 1, text
    return text.replace(PG_CONNECT, 'host="127.0.0.1", port=%d, user="%s", database="postgres"'
                        % (database.port, database.user)).replace(PUBLIC_HOST, 'allowed_hosts=["127.0.0.1:*"]')


@contextlib.contextmanager
def pg_cluster():
    # type: () -> Any
    from pg_support import Postgres
    try:
        database = Postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield database
    finally:
        database.stop()


@contextlib.contextmanager
def two_machines(ctx):
    # type: (Ctx) -> Any
    """A PostgreSQL cluster of the test's own and the README's gunicorn line run twice (as
    machine a and, with INSTANCE=b, machine b), each on a free port: {name: "127.0.0.1:port"}."""
    from test_wsgi import _wsgi_python
    python = _wsgi_python()
    lines = commands(block_at(MACHINES_SECTION, 1))
    assert len(lines) == 1 and lines[0].startswith("INSTANCE=a MCP_STATE_KEY=$KEY gunicorn "), lines
    key = os.urandom(32).hex()
    with pg_cluster() as database, contextlib.ExitStack() as stack:
        with open(os.path.join(ctx.tmp, "myserver.py"), "w", encoding="utf-8") as f:
            f.write(machines_server_text(database))
        addresses = {}  # type: Dict[str, str]
        servers = {}  # type: Dict[str, Tuple[int, Background]]
        for name in ("a", "b"):
            port = free_port()
            line = lines[0].replace("INSTANCE=a", "INSTANCE=" + name).replace("$KEY", key)
            assert line.count(MACHINES["a"]) == 1, line
            words = shlex.split(line.replace(MACHINES["a"], "127.0.0.1:%d" % port))
            env = dict(ctx.env)
            while "=" in words[0]:
                variable, _, value = words.pop(0).partition("=")
                env[variable] = value
            words[:1] = [python, os.path.join(os.path.dirname(python), words[0])]
            servers[name] = (port, stack.enter_context(Background(words, ctx.tmp, env)))
        # Both start at once on the new database, each making the store's tables (the store
        # takes a lock for that: PostgreSQL's CREATE TABLE IF NOT EXISTS alone can collide).
        for name, (port, server) in servers.items():
            wait_for_port(port, server)
            wait_answering(port)
            addresses[name] = "127.0.0.1:%d" % port
        yield addresses


def wait_answering(port):
    # type: (int) -> None
    from http_peer import Http
    deadline = time.monotonic() + 30
    while True:
        peer = Http(_At(port))
        try:
            if peer.modern("tools/call", {"name": "whoami", "arguments": {}}, id=1).status == 200:
                return
        except (OSError, AssertionError):
            pass
        finally:
            peer.close()
        assert time.monotonic() < deadline, "the instance on port %d never answered" % port
        time.sleep(0.2)


def whoami_of(peer, rid):
    # type: (Any, int) -> str
    reply = peer.call("tools/call", {"name": "whoami", "arguments": {}}, id=rid)
    messages = reply.messages()
    assert reply.status == 200 and len(messages) == 1, reply
    return messages[0]["result"]["content"][0]["text"]


class _At:
    def __init__(self, port):
        # type: (int) -> None
        self.port = port


def check_routing(port):
    # type: (int) -> None
    """Through the balancer on ``port``: 6 legacy sessions, each answered only by the instance
    its id names (both instances minting some), and 2026-07-28 calls answered by both."""
    from http_peer import Http
    owners = set()
    for _ in range(6):
        peer = Http(_At(port))
        try:
            peer.initialize("2025-11-25")
            owner = (peer.session_id or "").split(".", 1)[0]
            assert owner in MACHINES, peer.session_id
            owners.add(owner)
            assert [whoami_of(peer, rid) for rid in range(1, 5)] == [owner] * 4
        finally:
            peer.close()
    assert owners == {"a", "b"}, owners
    peer = Http(_At(port))
    try:
        answered = set()
        for rid in range(10):
            reply = peer.modern("tools/call", {"name": "whoami", "arguments": {}}, id=rid)
            assert reply.status == 200 and "mcp-session-id" not in reply.headers, reply
            answered.add(reply.messages()[0]["result"]["content"][0]["text"])
        assert answered == {"a", "b"}, answered
    finally:
        peer.close()


def machines_config(text, addresses, replacements):
    # type: (str, Dict[str, str], Dict[str, str]) -> str
    for name, address in MACHINES.items():
        assert address in text, address
        text = text.replace(address, addresses[name])
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@handles(MACHINES_SECTION, 0, "# myserver.py, on every machine", interop=True)
def machines_server(block, ctx):
    # type: (Block, Ctx) -> None
    """Run in this process as machine a, with pg8000 connecting to a PostgreSQL cluster of the
    test's own (the README's host, user and database replaced, and the public Host name by
    loopback): its store is a PostgresStore whose tables are made, its session ids start with
    ``a.``, ``whoami`` names it, and nothing stops several processes."""
    from mcplite import PostgresStore
    ctx.monkeypatch.setenv("INSTANCE", "a")
    ctx.monkeypatch.setenv("MCP_STATE_KEY", os.urandom(32).hex())
    with pg_cluster() as database:
        namespace = {"__name__": "myserver"}  # type: Dict[str, Any]
        exec_block(machines_server_text(database), namespace)
        app, application = namespace["app"], namespace["application"]
        try:
            assert isinstance(app.store, PostgresStore) and app.multiprocess_problem() is None
            assert application.app.session_prefix == "a."
            with Client(app) as client:
                assert client.call_tool("whoami", {})["content"][0]["text"] == "a"
        finally:
            application.close()
            app.store.close()


@handles(MACHINES_SECTION, 1, "# machine a (10.0.0.1)", interop=True)
def machines_gunicorn(block, ctx):
    # type: (Block, Ctx) -> None
    """The gunicorn line runs as written for a and, with INSTANCE=b, for b (free ports for
    the addresses; gunicorn from ``$MCPLITE_WSGI_PYTHON``), beside the previous block's
    myserver.py and a PostgreSQL cluster of the test's own: a session made on a has an id
    starting with ``a.`` and gets 404 from b; a 2026-07-28 call is answered by each."""
    from http_peer import Http
    with two_machines(ctx) as addresses:
        ports = {name: int(address.rsplit(":", 1)[1]) for name, address in addresses.items()}
        peer = Http(_At(ports["a"]))
        other = Http(_At(ports["b"]))
        try:
            peer.initialize("2025-11-25")
            assert (peer.session_id or "").startswith("a."), peer.session_id
            assert whoami_of(peer, 1) == "a"
            other.session_id = peer.session_id
            refused = other.call("tools/call", {"name": "whoami", "arguments": {}}, id=2)
            assert refused.status == 404, refused
            for name, port in ports.items():
                with Client.http("http://127.0.0.1:%d/mcp" % port, era="modern") as client:
                    assert client.call_tool("whoami", {})["content"][0]["text"] == name
        finally:
            peer.close()
            other.close()


@handles(MACHINES_SECTION, 2, 'map "$http_mcp_session_id$arg_session_id" $mcp_upstream {', interop=True)
def machines_nginx(block, ctx):
    # type: (Block, Ctx) -> None
    """The config as written inside an ``http {}`` of the test's (its pid, logs and temp
    paths in a temp directory), the two addresses replaced by the two gunicorn instances of
    the block above, ``listen 443 ssl`` by a free port on 127.0.0.1 (no certificate here):
    nginx (``$MCPLITE_PGNGINX``) starts on it, legacy sessions are answered only by the
    instance that minted them, 2026-07-28 calls by both."""
    from pg_support import Proxy
    with two_machines(ctx) as addresses:
        port = free_port()  # (chosen just before the balancer starts on it)
        body = machines_config(block.text, addresses, {"listen 443 ssl;": "listen 127.0.0.1:%d;" % port})

        def config(prefix):
            # type: (str) -> str
            temp = "".join("    %s_temp_path %s;\n" % (kind, os.path.join(prefix, kind))
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            return ("worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log notice;\n"
                    "events { worker_connections 512; }\nhttp {\n    access_log %s/access.log;\n%s%s}\n"
                    % (prefix, prefix, prefix, temp, body))
        try:
            proxy = Proxy(port, config, "nginx")
        except RuntimeError as exc:
            pytest.fail(str(exc))
        try:
            check_routing(port)
        finally:
            proxy.stop()


@handles(MACHINES_SECTION, 3, "defaults", interop=True)
def machines_haproxy(block, ctx):
    # type: (Block, Ctx) -> None
    """The config as written, after a ``global`` section of the test's (its pid file in a
    temp directory), the two addresses replaced by two gunicorn instances as above and the
    TLS ``bind`` by a free port on 127.0.0.1: HAProxy (``$MCPLITE_PGNGINX``) starts on it,
    legacy sessions are answered only by the instance that minted them, 2026-07-28 calls by
    both."""
    from pg_support import Proxy
    with two_machines(ctx) as addresses:
        port = free_port()  # (chosen just before the balancer starts on it)
        body = machines_config(block.text, addresses,
                               {"bind :443 ssl crt /etc/haproxy/mcp.pem": "bind 127.0.0.1:%d" % port})
        try:
            proxy = Proxy(port, lambda prefix: "global\n    maxconn 256\n    pidfile %s/haproxy.pid\n\n%s"
                          % (prefix, body), "haproxy")
        except RuntimeError as exc:
            pytest.fail(str(exc))
        try:
            check_routing(port)
        finally:
            proxy.stop()


@handles("A client", 0, "python3 -m mcplite serve examples/notes_server.py --http 127.0.0.1:8000")
def client_server(block, ctx):
    # type: (Block, Ctx) -> None
    """Started from the checkout as written (a free port for 8000): it says its URL, and
    serves the notes tools there."""
    (line,) = commands(block)
    with serve_line_server(line, ctx) as server:
        with Client.http(serve_url(server)) as client:
            assert [tool["name"] for tool in client.list_tools()] == ["add_note", "search_notes", "delete_note"]


@handles("A client", 1, "from mcplite import Client")
def client_script(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed from the checkout, with the previous block's server running (its port for
    8000) and ``"python3"`` this interpreter: it prints the stdio call's result and the HTTP
    server's tools. (tests/test_readme_client.py runs it too, against a server in-process.)"""
    (line,) = commands(block_at("A client", 0))
    with serve_line_server(line, ctx) as server:
        url = serve_url(server)
        assert block.text.count('"python3"') == 1 and block.text.count("http://127.0.0.1:8000/mcp") == 1
        code = block.text.replace('"python3"', repr(sys.executable)).replace("http://127.0.0.1:8000/mcp", url)
        ctx.monkeypatch.chdir(ROOT)
        ctx.monkeypatch.setenv("PYTHONPATH", ROOT)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec_block(code, {})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert "'structuredContent': {'id': 1, 'title': 'hi'}" in lines[0], lines[0]
    assert lines[1] == "['add_note', 'search_notes', 'delete_note']", lines[1]


@handles("A client", 2, "from mcplite import Client, FileTokenStorage, OAuth")
def oauth_client(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed as written against a protected server of tests/oauth_support.py (its URL for
    mcp.example.com's) and its authorization server, with HOME a temporary directory (so
    ``~/.mcp-tokens.json`` lands there) and ``webbrowser.open`` a stand-in browser that
    follows the sign-in and lands on the default TerminalAuthorizer's loopback redirect:
    dynamic registration, the code flow, the call; the tokens file (mode 0600); run again,
    no second sign-in. Not exercised: a real browser, a real remote server."""
    from oauth_support import AuthServer, McpServer
    import webbrowser

    ctx.monkeypatch.setenv("HOME", ctx.tmp)
    opened = []  # type: List[str]
    threads = []  # type: List[threading.Thread]

    def browse(url):
        # type: (str) -> None
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", parts.path + "?" + parts.query)
        location = conn.getresponse().getheader("Location")
        conn.close()
        back = urllib.parse.urlsplit(location)
        conn = http.client.HTTPConnection(back.hostname, back.port, timeout=10)
        conn.request("GET", back.path + "?" + back.query)
        conn.getresponse().read()
        conn.close()

    def open_browser(url, *args, **kwargs):
        # type: (str, Any, Any) -> bool
        opened.append(url)
        thread = threading.Thread(target=browse, args=(url,), daemon=True)
        thread.start()
        threads.append(thread)
        return True

    ctx.monkeypatch.setattr(webbrowser, "open", open_browser)
    ctx.monkeypatch.setattr(sys, "stderr", io.StringIO())  # where the TerminalAuthorizer prints the URL
    auth = AuthServer()
    mcp = McpServer(auth.verify, [auth.issuer])
    try:
        mcp.app.tool()(search)
        url = "https://mcp.example.com/mcp"
        assert block.text.count(url) == 1
        code = block.text.replace(url, mcp.url)
        for attempt in range(2):
            recorded = exec_block(code, {})
            (call,) = [r.value for r in recorded if "call_tool" in r.source]
            assert call["structuredContent"] == {"result": ["found mcp"]}, call
        for thread in threads:
            thread.join(10)
        assert len(opened) == 1 and "/authorize?" in opened[0], opened  # one sign-in for both runs
        assert len(auth.hits("register")) == 1
        tokens = os.path.join(ctx.tmp, ".mcp-tokens.json")
        assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
        with open(tokens) as f:
            assert "access_token" in f.read()
    finally:
        mcp.stop()
        auth.stop()


def search(q: str) -> List[str]:
    """The tool the OAuth block calls."""
    return ["found " + q]


class ScriptedModel:
    """An OpenAI- and Anthropic-compatible endpoint on 127.0.0.1 (``/v1/chat/completions``,
    ``/v1/messages``) standing in for the model: while the conversation holds no tool result
    it asks for the offered tool ending in ``__forecast`` with ``{"city": "Paris"}``, then it
    answers in words. Every request body is kept in ``requests``."""

    def __init__(self):
        # type: () -> None
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        self.requests = []  # type: List[Tuple[str, Dict[str, Any]]]
        model = self

        class Endpoint(BaseHTTPRequestHandler):
            def do_POST(self):
                # type: () -> None
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model.requests.append((self.path, body))
                answer = model.answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(200 if answer else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                # type: (Any) -> None
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_port

    def answer(self, path, body):
        # type: (str, Dict[str, Any]) -> Dict[str, Any]
        if path == "/v1/chat/completions":
            (tool,) = [t["function"]["name"] for t in body["tools"] if t["function"]["name"].endswith("__forecast")]
            if any(m["role"] == "tool" for m in body["messages"]):
                message = {"role": "assistant", "content": "Clear skies in Paris."}  # type: Dict[str, Any]
            else:
                message = {"role": "assistant", "content": None, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": tool, "arguments": json.dumps({"city": "Paris"})}}]}
            return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": message,
                                 "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}]}
        if path == "/v1/messages":
            (tool,) = [t["name"] for t in body["tools"] if t["name"].endswith("__forecast")]
            answered = any(isinstance(m["content"], list) and any(c.get("type") == "tool_result" for c in m["content"])
                           for m in body["messages"])
            content = [{"type": "text", "text": "Clear skies in Paris."}] if answered else [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": tool, "input": {"city": "Paris"}}]
            return {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                    "content": content, "stop_reason": "end_turn" if answered else "tool_use",
                    "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
        return {}

    def stop(self):
        # type: () -> None
        self.httpd.shutdown()
        self.httpd.server_close()


def providers_python():
    # type: () -> str
    """``$MCPLITE_PROVIDERS_PYTHON`` (a venv scripts/test builds), once it has shown that it has
    the ``openai`` and ``anthropic`` SDKs at the versions tests/test_host_formats.py pins."""
    from interop_support import unusable
    from test_host_formats import PROVIDER_PINS, PROVIDERS_VARIABLE
    path = os.environ.get(PROVIDERS_VARIABLE, "")
    if not path:
        unusable(PROVIDERS_VARIABLE, "MCPLITE_PROVIDERS_PYTHON is not set (scripts/test sets it to a venv with "
                                     "the providers' SDKs)")
    wanted = {name: PROVIDER_PINS[name] for name in ("openai", "anthropic")}
    probe = run([path, "-c", "import json, importlib.metadata as m, openai, anthropic; "
                             "print(json.dumps({n: m.version(n) for n in %r}))" % sorted(wanted)], ROOT, None)
    if probe.status != 0 or json.loads(probe.out) != wanted:
        unusable(PROVIDERS_VARIABLE, "MCPLITE_PROVIDERS_PYTHON=%s does not have %s: %s"
                 % (path, wanted, (probe.out + probe.err)[-2000:]))
    return path


def run_host_snippet(ctx, code, stdin):
    # type: (Ctx, str, str) -> Tuple[ScriptedModel, Any, List[Dict[str, Any]]]
    """``code`` run by the providers' Python in a directory holding weather.py and an
    mcp.json starting it (``weather``), HOME that directory; ``RESULT`` (a JSON file) is
    where the code leaves what it ends with."""
    weather = weather_file(ctx.tmp)
    with open(os.path.join(ctx.tmp, "mcp.json"), "w") as f:
        json.dump({"mcpServers": {"weather": {"command": sys.executable, "args": [weather],
                                              "env": {"PYTHONPATH": ROOT}}}}, f)
    model = ScriptedModel()
    try:
        env = dict(ctx.env, HOME=ctx.tmp, MODEL_URL=model.url, RESULT=os.path.join(ctx.tmp, "result.json"))
        for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            env.pop(name, None)
        script = os.path.join(ctx.tmp, "loop.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(code)
        done = run([providers_python(), script], ctx.tmp, env, stdin=stdin, timeout=60)
        assert done.status == 0, done.out[-3000:] + done.err[-3000:]
        with open(env["RESULT"]) as f:
            return model, done, json.load(f)
    finally:
        model.stop()


HOST_SETUP = '''import json, os
MODEL = "test-model"
messages = [{"role": "user", "content": "What is the weather in Paris?"}]
'''

HOST_RESULT = '''
def plain(value):
    return value.model_dump() if hasattr(value, "model_dump") else value
with open(os.environ["RESULT"], "w") as f:
    json.dump(json.loads(json.dumps(messages, default=plain)), f)
'''


def check_audit_and_pins(ctx, done, calls):
    # type: (Ctx, Any, int) -> None
    """``audit=print`` printed one record per call, ok; the pins file was written in HOME."""
    records = [line for line in done.out.splitlines() if "'outcome'" in line]
    assert len(records) == calls and all("'outcome': 'ok'" in r and "'tool': 'forecast'" in r for r in records), \
        done.out
    assert done.out.count("allow weather__forecast(") == calls, done.out
    with open(os.path.join(ctx.tmp, ".mcp-pins.json")) as f:
        assert "forecast" in f.read()


@handles("Host", 0, "from mcplite import Host", interop=True)
def host_openai_loop(block, ctx):
    # type: (Block, Ctx) -> None
    """The block as written, run twice (two turns of the loop) by the providers' Python (the
    ``openai`` 3.63.0 SDK), after a setup defining ``MODEL``, ``messages`` and
    ``openai_client = OpenAI(base_url=...)`` pointing at a scripted OpenAI-compatible endpoint
    on 127.0.0.1; mcp.json starts weather.py; the ``input()`` of ``approve`` gets ``y``.
    Turn one: the model asks for ``weather__forecast``, ``host.call`` answers with the
    ``role: tool`` message (the forecast as text); turn two the endpoint sees that result and
    answers in words. ``audit=print`` printed one ok record, the pins file is in HOME. Not
    exercised: a real model."""
    setup = HOST_SETUP + ('from openai import OpenAI\nopenai_client = OpenAI(base_url=os.environ["MODEL_URL"] + "/v1", '
                          'api_key="test", max_retries=0)\n')
    model, done, messages = run_host_snippet(ctx, setup + block.text + block.text + HOST_RESULT, "y\n")
    assert [path for path, _ in model.requests] == ["/v1/chat/completions"] * 2, model.requests
    offered = [tool["function"]["name"] for tool in model.requests[0][1]["tools"]]
    assert offered == ["weather__forecast"], offered
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"], messages
    assert messages[1]["tool_calls"][0]["function"]["name"] == "weather__forecast", messages[1]
    assert messages[2]["tool_call_id"] == "call_1" and json.loads(messages[2]["content"]) == FORECAST_PARIS, messages
    assert model.requests[1][1]["messages"][2] == messages[2], model.requests[1][1]["messages"]
    assert messages[3]["content"] == "Clear skies in Paris.", messages[3]
    check_audit_and_pins(ctx, done, 1)


@handles("Host", 1, "    reply = anthropic_client.messages.create(model=MODEL", interop=True)
def host_anthropic_loop(block, ctx):
    # type: (Block, Ctx) -> None
    """The block as written, as the body of the first block's ``with Host.from_config(...)``
    (its import and ``approve`` taken from there), repeated for two turns, by the providers'
    Python (the ``anthropic`` 2.17.0 SDK) against a scripted Anthropic-compatible endpoint on
    127.0.0.1: turn one the model asks for ``weather__forecast`` and the host's
    ``tool_result`` goes back in a user message; turn two the endpoint sees it and answers in
    words, with no tool call (nothing appended). Audit and pins as for the first block."""
    first = block_at("Host", 0).text
    head = first[:first.index("with Host.from_config(")]
    opening = re.search(r"^with Host\.from_config\(.*:\n", first, re.M)
    assert opening and "def approve" in head, first
    body = "\n".join(("    " + line) if line else line for line in block.text.split("\n"))
    setup = HOST_SETUP + ('from anthropic import Anthropic\nanthropic_client = Anthropic('
                          'base_url=os.environ["MODEL_URL"], api_key="test", max_retries=0)\n')
    code = setup + head + opening.group(0) + "    for turn in range(2):\n" + body + HOST_RESULT
    model, done, messages = run_host_snippet(ctx, code, "y\n")
    assert [path for path, _ in model.requests] == ["/v1/messages"] * 2, model.requests
    assert [tool["name"] for tool in model.requests[0][1]["tools"]] == ["weather__forecast"], model.requests[0]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"], messages
    use = [c for c in messages[1]["content"] if c["type"] == "tool_use"]
    assert len(use) == 1 and use[0]["name"] == "weather__forecast", messages[1]
    (result,) = messages[2]["content"]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1" and not result.get("is_error"), result
    texts = [c["text"] for c in result["content"]] if isinstance(result["content"], list) else [result["content"]]
    assert json.loads(texts[0]) == FORECAST_PARIS, result
    assert model.requests[1][1]["messages"][2]["content"][0]["tool_use_id"] == "toolu_1", model.requests[1]
    assert [c["text"] for c in messages[3]["content"]] == ["Clear skies in Paris."], messages[3]
    check_audit_and_pins(ctx, done, 1)

def web_server_with_token(token):
    # type: (str) -> Any
    """A protected mcplite server on loopback (the ``add`` tool), for the config's ``web``."""
    from mcplite import AccessToken, BearerAuth
    app = Server("web")
    exec_block(ADD_SERVER.split("\n", 1)[1].replace('app = Server("adder")\n', ""), {"app": app})
    auth = BearerAuth(lambda got: AccessToken(scopes=[]) if got == token else None,
                      resource="https://example.com/mcp", authorization_servers=["https://auth.example.com"])
    return app.run_in_thread("http", host="127.0.0.1", port=0, auth=auth)


@handles("Host", 2, '{"mcpServers": {')
def host_config(block, ctx):
    # type: (Block, Ctx) -> None
    """Saved as mcp.json beside a copy of examples/notes_server.py and loaded with
    ``Host.from_config("mcp.json")`` from that directory: ``python3`` is the test's
    interpreter (the checkout on PYTHONPATH), HOME the directory (so ``${HOME}/notes.db`` is
    made there), the ``web`` URL a protected mcplite server on loopback taking the token in
    ``WEB_TOKEN``. Both servers start, ``old`` is only listed as disabled, ``delete_*`` is not
    offered, a call reaches each server and the notes land in $HOME/notes.db. With
    WEB_TOKEN unset, only ``web`` fails, saying which variable."""
    from mcplite import Host
    shutil.copy(os.path.join(EXAMPLES, "notes_server.py"), ctx.tmp)
    for name in ("PATH", "PYTHONPATH"):
        ctx.monkeypatch.setenv(name, ctx.env[name])
    ctx.monkeypatch.setenv("HOME", ctx.tmp)
    ctx.monkeypatch.chdir(ctx.tmp)
    url = "https://example.com/mcp"
    assert block.text.count(url) == 1
    with web_server_with_token("s3cret") as web:
        with open("mcp.json", "w") as f:
            f.write(block.text.replace(url, web.url))
        ctx.monkeypatch.setenv("WEB_TOKEN", "s3cret")
        with Host.from_config("mcp.json") as host:
            assert host.failures == [] and host.disabled == ["old"], (host.failures, host.disabled)
            names = sorted(tool["name"] for tool in host.tools())
            assert names == ["notes__add_note", "notes__search_notes", "web__add"], names
            added = host.call(("notes__add_note", {"title": "hi", "body": "there"}))
            assert not added.get("isError") and added["structuredContent"]["title"] == "hi", added
            assert host.call(("web__add", {"a": 2, "b": 3}))["structuredContent"] == {"result": 5}
            refused = host.call(("notes__delete_note", {"id": 1}))
            assert refused.get("isError"), refused
        assert os.path.isfile(os.path.join(ctx.tmp, "notes.db"))
        ctx.monkeypatch.delenv("WEB_TOKEN")
        with Host.from_config("mcp.json") as host:
            assert [failure.name for failure in host.failures] == ["web"], host.failures
            assert "WEB_TOKEN" in host.failures[0].reason, host.failures
            assert sorted(tool["name"] for tool in host.tools()) == ["notes__add_note", "notes__search_notes"]

BRIDGE_SECTION = "Gateway and bridges"


@handles(BRIDGE_SECTION, 0, "{")
def bridge_stdio_config(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``notes`` entry's command run as a host would: ``python3`` the test's interpreter
    (found on PATH), its ``args``, its ``env`` with the real token instead of ``...``, the URL
    a protected mcplite server on loopback taking that token. Over its stdin and stdout: the
    handshake and one ``tools/call``; stdin closed, the bridge exits 0. With NOTES_TOKEN
    unset it exits at once, naming the variable, and answers nothing."""
    entry = json.loads(block.text)["mcpServers"]["notes"]
    url = "https://notes.example.com/mcp"
    assert entry["args"].count(url) == 1 and entry["env"] == {"NOTES_TOKEN": "..."}, entry
    with web_server_with_token("s3cret") as web:
        argv = [entry["command"]] + [web.url if arg == url else arg for arg in entry["args"]]
        env = dict(ctx.env, NOTES_TOKEN="s3cret")
        with Background(argv, ctx.tmp, env) as bridge:
            result = handshake(bridge)
            assert result["serverInfo"]["name"] == "web", result
            call = request(bridge, 1, "tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
            assert call["result"]["structuredContent"] == {"result": 5}, call
            bridge.proc.stdin.close()
            assert bridge.wait(15) == 0, bridge.stderr_tail()
        with Background(argv, ctx.tmp, ctx.env) as bridge:
            status = bridge.wait(15)
            assert status not in (None, 0), status
            assert "NOTES_TOKEN" in bridge.stderr_tail(), bridge.stderr_tail()


BRIDGED_SERVER = '''import os

from mcplite import Server

app = Server("adder")

@app.tool()
def add(a: int, b: int) -> int:
    return a + b

@app.tool()
def pid() -> int:
    return os.getpid()

app.run()
'''


@handles(BRIDGE_SECTION, 1, "python3 -m mcplite bridge --http 127.0.0.1:8000 -- python3 server.py")
def bridge_http_command(block, ctx):
    # type: (Block, Ctx) -> None
    """The line run in a directory holding a stdio ``server.py`` (``add``, and ``pid``: its
    process's id), on a free port instead of 8000, ``python3`` the test's interpreter: the
    URL it prints ends in /mcp; two session clients each get a process of their own (two
    pids, neither the bridge's) and ``add`` answers through each; a 2026-07-28 client is
    served too. The bridge is stopped by its PID. Not exercised: ``npx``."""
    line = commands(block)
    assert len(line) == 1, line
    argv = shlex.split(line[0])
    assert argv[:6] == ["python3", "-m", "mcplite", "bridge", "--http", "127.0.0.1:8000"], argv
    with open(os.path.join(ctx.tmp, "server.py"), "w", encoding="utf-8") as f:
        f.write(BRIDGED_SERVER)
    argv = [sys.executable] + argv[1:5] + ["127.0.0.1:0"] + argv[6:]
    with Background(argv, ctx.tmp, ctx.env) as bridge:
        url = serve_url(bridge)
        pids = []
        with Client.http(url, era="legacy", timeout=20) as first, Client.http(url, era="legacy", timeout=20) as second:
            for client in (first, second):
                assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
                pids.append(client.call_tool("pid", {})["structuredContent"]["result"])
        assert len(set(pids)) == 2 and bridge.proc.pid not in pids, pids
        with Client.http(url, era="modern", timeout=20) as client:
            assert client.protocol_version == "2026-07-28", client.protocol_version
            assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}


MOUNT_SECTION = "Mounting other servers"
HOST_APP = os.path.join(ROOT, "tests", "servers", "host_app.py")


@handles(MOUNT_SECTION, 0, "from mcplite import Client, Server")
def mount_example(block, ctx):
    # type: (Block, Ctx) -> None
    """The block saved as front.py beside a copy of examples/notes_server.py, the search URL
    a real mcplite server on loopback (a ``find`` tool) instead of search.example, and run as
    ``python3 front.py`` (a stdio server; ``python3`` the test's interpreter). Over its stdin
    and stdout: the handshake, ``tools/list`` holding ``double``, the notes server's tools as
    ``notes__*`` and ``search__find``, each with its upstream's input schema; ``double``,
    ``notes__add_note`` and ``search__find`` answered (the last two by the upstreams). The
    front (and the notes process it started, in its process group) is stopped by its PID."""
    url = "https://search.example/mcp"
    assert block.text.count(url) == 1 and block.text.rstrip().endswith("app.run()"), block.text
    shutil.copy(os.path.join(EXAMPLES, "notes_server.py"), ctx.tmp)
    search = Server("search")

    @search.tool()
    def find(query: str) -> str:
        return "found " + query

    with search.run_in_thread("http", host="127.0.0.1", port=0) as web:
        with open(os.path.join(ctx.tmp, "front.py"), "w", encoding="utf-8") as f:
            f.write(block.text.replace(url, web.url))
        with Background(["python3", "front.py"], ctx.tmp, ctx.env) as front:
            assert handshake(front)["serverInfo"]["name"] == "front"
            tools = {tool["name"]: tool for tool in request(front, 1, "tools/list", {})["result"]["tools"]}
            assert {"double", "notes__add_note", "notes__search_notes", "notes__delete_note",
                    "search__find"} <= set(tools), sorted(tools)
            assert "title" in tools["notes__add_note"]["inputSchema"]["properties"], tools["notes__add_note"]
            assert tools["search__find"]["inputSchema"]["required"] == ["query"], tools["search__find"]
            call = request(front, 2, "tools/call", {"name": "double", "arguments": {"x": 21}})
            assert call["result"]["structuredContent"] == {"result": 42}, call
            call = request(front, 3, "tools/call", {"name": "notes__add_note",
                                                     "arguments": {"title": "t", "body": "b"}})
            assert call["result"]["structuredContent"]["title"] == "t", call
            call = request(front, 4, "tools/call", {"name": "search__find", "arguments": {"query": "q"}})
            assert call["result"]["content"][0]["text"] == "found q", call


@handles(MOUNT_SECTION, 1, "mcplite proxy mcp.json")
def proxy_commands(block, ctx):
    # type: (Block, Ctx) -> None
    """Both lines run (``mcplite`` as ``python3 -m mcplite``) in a directory whose mcp.json has
    two real upstreams (tests/servers/host_app.py A and B, started by ``python3``) and one that
    cannot start. The stdio line: over its stdin and stdout, the handshake, ``tools/list``
    holding ``a__echo`` and ``b__echo`` and nothing of the broken one (named on stderr), and
    ``b__echo`` answered by B. The HTTP line, on a free port instead of 8000: the URL it prints
    ends in /mcp and a client of either era calls ``a__add`` and ``b__echo`` through it. Each
    proxy (and its upstreams, in its process group) is stopped by its PID."""
    lines = [without_comment(line) for line in commands(block)]
    assert len(lines) == 2, lines
    with open(os.path.join(ctx.tmp, "mcp.json"), "w", encoding="utf-8") as f:
        json.dump({"mcpServers": {"a": {"command": "python3", "args": [HOST_APP, "A"]},
                                  "b": {"command": "python3", "args": [HOST_APP, "B"]},
                                  "broken": {"command": ""}}}, f)
    stdio_argv = shlex.split(lines[0])
    assert stdio_argv == ["mcplite", "proxy", "mcp.json"], stdio_argv
    with Background([sys.executable, "-m"] + stdio_argv, ctx.tmp, ctx.env) as proxy:
        assert handshake(proxy)["serverInfo"]["name"] == "mcplite-proxy"
        names = {tool["name"] for tool in request(proxy, 1, "tools/list", {})["result"]["tools"]}
        assert {"a__echo", "b__echo", "a__add"} <= names and not any(n.startswith("broken") for n in names), names
        call = request(proxy, 2, "tools/call", {"name": "b__echo", "arguments": {"text": "hi"}})
        assert call["result"]["content"][0]["text"] == "B: hi", call
        # Waited for: the proxy wrote it as it started, but the thread that reads its stderr may
        # not have got to it yet on a loaded machine (stderr_tail takes only what was read).
        proxy.stderr_until(r"server 'broken' left out")
    http_argv = shlex.split(lines[1])
    assert http_argv == ["mcplite", "proxy", "mcp.json", "--http", "127.0.0.1:8000"], http_argv
    with Background([sys.executable, "-m"] + http_argv[:-1] + ["127.0.0.1:0"], ctx.tmp, ctx.env) as proxy:
        url = serve_url(proxy)
        for era in ("legacy", "modern"):
            with Client.http(url, era=era, timeout=20) as client:
                assert client.call_tool("a__add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
                assert client.call_tool("b__echo", {"text": era})["content"][0]["text"] == "B: " + era


CLI_SECTION = "The command line"

OTHER_SERVER = '''from mcplite import Server

app = Server("other")

@app.tool()
def add(a: int, b: int) -> int:
    return a + b

app.run()
'''


@handles(CLI_SECTION, 0, "python3 -m mcplite ls examples/notes_server.py")
def cli_examples(block, ctx):
    # type: (Block, Ctx) -> None
    """Each line run by bash in a directory holding ``examples`` (a link to the checkout's),
    and an ``other_server.py`` with an ``add`` tool; the URL is a notes server started as
    "A client" starts it, on a free port, holding note 1."""
    os.symlink(EXAMPLES, os.path.join(ctx.tmp, "examples"))
    with open(os.path.join(ctx.tmp, "other_server.py"), "w") as f:
        f.write(OTHER_SERVER)
    (serve_line,) = commands(block_at("A client", 0))
    with serve_line_server(serve_line, ctx) as server:
        url = serve_url(server)
        with Client.http(url) as client:
            client.call_tool("add_note", {"title": "Groceries", "body": "Milk."})
        lines = commands(block)
        assert len(lines) == 4, lines
        results = []
        for line in lines:
            done = bash(line.replace("http://127.0.0.1:8000/mcp", url), ctx.tmp, ctx.env)
            assert done.status == 0, (line, done.err)
            results.append(done)
    assert "add_note(title: string, body: string" in results[0].out, results[0]
    assert results[1].out.strip() == "3", results[1]
    assert results[2].out.strip() == "# Groceries\n\nMilk.", results[2]
    assert results[3].out.strip() == "processed 3 files", results[3]
    assert "notifications/progress" in results[3].err and "\n                # " in results[3].err, results[3].err


@handles(CLI_SECTION, 1, "$ python3 -m mcplite ls examples/notes_server.py")
def cli_listing(block, ctx):
    # type: (Block, Ctx) -> None
    """The ``$`` commands run by bash in the checkout: their output exactly as shown."""
    check_dollar_block(block, ROOT, ctx.env)


@handles(CLI_SECTION, 2, "$ python3 -m mcplite --trace=explain call examples/notes_server.py")
def cli_trace(block, ctx):
    # type: (Block, Ctx) -> None
    """The command run by bash in the checkout; its stderr matches the lines shown, in order:
    any time for each time, ``...`` in a line for anything, a line of ``...`` for any lines
    after."""
    ((command, expected),) = dollar_commands(block)
    done = bash(command, ROOT, ctx.env)
    assert done.status == 5 and done.out.strip().lower() == "there is no note 1", done  # the tool's isError result
    actual = done.err.splitlines()
    position = 0
    for number, line in enumerate(expected):
        if line == "...":
            assert number == len(expected) - 1, "a line of ... only at the end"
            break
        clock = re.match(r"\d\d:\d\d:\d\d\.\d{3} ", line)
        pattern, _ = line_pattern(line[clock.end():] if clock else line, "...")
        assert position < len(actual), "the trace ended before: " + line
        got = actual[position]
        if clock:
            assert re.match(r"\d\d:\d\d:\d\d\.\d{3} ", got), got
            got = got[clock.end():]
        assert pattern.match(got), "the README shows\n%s\nthe trace has\n%s" % (line, actual[position])
        position += 1
    else:
        assert position == len(actual), actual[position:]


# --- the inspector -----------------------------------------------------------------------------------

INSPECTOR_LINE = re.compile(r"mcplite inspector: http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{32})\Z")


def inspector_get(port, path, token=None):
    # type: (int, str, Optional[str]) -> Tuple[int, str]
    """GET ``path`` from the inspector on ``port``, with ``?token=`` when given, as a browser would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if token is not None:
            path += ("&" if "?" in path else "?") + "token=" + token
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def inspector_connected(port, token, server_name):
    # type: (int, str, str) -> Dict[str, Any]
    """The state once the inspector is connected to ``server_name`` (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        status, body = inspector_get(port, "/api/state", token)
        assert status == 200, (status, body)
        state = json.loads(body)
        if state["status"] == "connected" or time.monotonic() > deadline:
            break
        assert state["status"] in ("idle", "connecting"), state
        time.sleep(0.1)
    assert state["status"] == "connected", state
    assert state["server"]["serverInfo"]["name"] == server_name, state
    return state


def check_inspector_page(port, token):
    # type: (int, str) -> None
    """The page with the token (200, the inspector's page, its headers); without it, or with
    another one, 403 and nothing of the page."""
    status, page = inspector_get(port, "/", token)
    assert status == 200 and 'data-testid="timeline"' in page and page.startswith("<!DOCTYPE html>"), status
    for wrong in (None, token[:-1] + ("A" if token[-1] != "A" else "B")):
        status, body = inspector_get(port, "/", wrong)
        assert status == 403 and "timeline" not in body and token not in body, (wrong, status, body)


def inspector_children(pid):
    # type: (int) -> List[int]
    """The PIDs of ``pid``'s children (Linux: /proc)."""
    found = []  # type: List[int]
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                found += [int(child) for child in f.read().split()]
        except FileNotFoundError:
            pass  # (a thread that ended since the listing: it has no children now)
    return found


def process_gone(pid):
    # type: (int) -> bool
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # (a zombie has stopped)
    except OSError:
        return True


@handles("Inspector", 0, "$ python3 -m mcplite inspect weather.py")
def inspector_command(block, ctx):
    # type: (Block, Ctx) -> None
    """The command run beside weather.py with ``--no-open`` added (no browser here): one line on
    stdout of the form shown; the page answers with the token (200) and without it (403); the
    inspector connects to weather.py by itself; SIGTERM to its PID ends it with status 0 and
    ends the server it started. Not exercised: the page in a browser
    (tests/test_inspector_browser.py) and opening one."""
    ((command, expected),) = dollar_commands(block)
    assert len(expected) == 1 and re.match(
        r"mcplite inspector: http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+\.\.\.\Z", expected[0]), expected
    weather_file(ctx.tmp)
    run_the_inspector(command, ctx)


def run_the_inspector(line, ctx):
    # type: (str, Ctx) -> None
    """``python3 -m mcplite inspect weather.py`` as a README line writes it, beside weather.py,
    with ``--no-open`` added; checked as ``inspector_command`` says."""
    argv = shlex.split(without_comment(line))
    assert argv == ["python3", "-m", "mcplite", "inspect", "weather.py"], argv
    with Background([sys.executable] + argv[1:] + ["--no-open"], ctx.tmp, ctx.env) as inspector:
        line = inspector.receive(timeout=TIMEOUT_START)
        found = INSPECTOR_LINE.match(line)
        assert found, line
        port, token = int(found.group(1)), found.group(2)
        check_inspector_page(port, token)
        inspector_connected(port, token, "weather")
        proc = os.path.isdir("/proc/self/task")  # (Linux: the server started is looked for there)
        children = inspector_children(inspector.proc.pid) if proc else []
        assert not proc or len(children) == 1, children  # the weather server
        inspector.signal(signal.SIGTERM)
        assert inspector.wait(10) == 0, inspector.stderr_tail()
        assert inspector.lines_for(1) == [], "more than one line on stdout"
        assert all(process_gone(child) for child in children), children


@handles("Inspector", 1, "import mcplite")
def inspector_in_python(block, ctx):
    # type: (Block, Ctx) -> None
    """Run in this process beside weather.py (``python3`` the test's interpreter, the checkout
    importable): the URL line on stdout, the line the block prints; while it runs (at the
    ``...``) the page answers with the token and not without, and the inspector is connected
    to weather; after ``close()`` its port is closed and the server it started is gone."""
    weather_file(ctx.tmp)
    ctx.monkeypatch.chdir(ctx.tmp)
    ctx.monkeypatch.setenv("PATH", ctx.env["PATH"])
    ctx.monkeypatch.setenv("PYTHONPATH", ctx.env["PYTHONPATH"])
    before, after = block.text.split("\n...\n")
    namespace = {"__name__": "__readme__"}  # type: Dict[str, Any]
    proc = os.path.isdir("/proc/self/task")  # (Linux: the server started is looked for there)
    before_children = set(inspector_children(os.getpid())) if proc else set()
    out = io.StringIO()
    started = set()  # type: Set[int]
    try:
        with contextlib.redirect_stdout(out):
            exec_block(before, namespace)
        inspector = namespace["inspector"]
        assert out.getvalue() == "mcplite inspector: %s\nopen %s\n" % (inspector.url, inspector.url), out.getvalue()
        found = INSPECTOR_LINE.match(out.getvalue().splitlines()[0])
        assert found and int(found.group(1)) == inspector.port and found.group(2) == inspector.token, out.getvalue()
        check_inspector_page(inspector.port, inspector.token)
        inspector_connected(inspector.port, inspector.token, "weather")
        if proc:
            started = set(inspector_children(os.getpid())) - before_children
            assert len(started) == 1, started  # the weather server
        exec_block(after, namespace)
        # The block's close(), not the one below: the port is closed, the server gone.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", inspector.port), timeout=2).close()
        assert all(process_gone(child) for child in started), started
    finally:
        if "inspector" in namespace:
            namespace["inspector"].close()


@handles("Threading model", 0, "@app.tool(inline=True)")
def inline_tool(block, ctx):
    # type: (Block, Ctx) -> None
    """Executed with ``app`` given, then served over stdio in this process (``serve_stdio``
    on a byte stream: initialize, three calls, end of input) with a profiler on the reading
    thread alone: ``add`` ran there, every call answered. With a pass-through middleware
    registered the same calls are answered from the worker pool (``add`` never on the reading
    thread). The refusals the README lists: a ``Context`` parameter, ``async def``, ``task=``
    are each a TypeError at registration."""
    from mcplite.stdio import serve_stdio

    def served_on_reading_thread(app):
        # type: (Server) -> Tuple[bool, List[Any]]
        lines = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                     "protocolVersion": "2025-11-25", "capabilities": {},
                     "clientInfo": {"name": "readme", "version": "1"}}},
                 {"jsonrpc": "2.0", "method": "notifications/initialized"}]
        lines += [{"jsonrpc": "2.0", "id": i, "method": "tools/call",
                   "params": {"name": "add", "arguments": {"a": i, "b": 10}}} for i in (1, 2, 3)]
        stdin = io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode("utf-8"))
        stdout = io.BytesIO()
        seen = []  # type: List[bool]

        def profile(frame, event, arg):
            # type: (Any, str, Any) -> None
            if event == "call" and frame.f_code.co_name == "add" and frame.f_code.co_filename == "README.md":
                seen.append(True)

        sys.setprofile(profile)
        try:
            serve_stdio(app, stdin=stdin, stdout=stdout, watch_parent=False)
        finally:
            sys.setprofile(None)
        answers = sorted((json.loads(line) for line in stdout.getvalue().decode("utf-8").splitlines()),
                         key=lambda m: m["id"])
        return bool(seen), [a["result"].get("structuredContent") for a in answers if a["id"] != 0]

    namespace = {"app": Server("calc")}  # type: Dict[str, Any]
    exec_block(block.text, namespace)
    app = namespace["app"]
    assert app.registry.tools["add"].inline is True
    assert served_on_reading_thread(app) == (True, [{"result": 11}, {"result": 12}, {"result": 13}])

    @app.middleware
    def passthrough(method, params, ctx, call_next):
        # type: (str, Dict[str, Any], Context, Any) -> Any
        return call_next()

    assert served_on_reading_thread(app) == (False, [{"result": 11}, {"result": 12}, {"result": 13}])

    def with_context(a: int, ctx: Context) -> int:
        return a

    async def asynchronous(a: int) -> int:
        return a

    def quick(a: int) -> int:
        return a

    for fn, options in ((with_context, {}), (asynchronous, {}), (quick, {"task": "optional"})):
        with pytest.raises(TypeError):
            Server("refused").add_tool(fn, inline=True, **options)


@handles("Tests", 0, "bash scripts/test")
def the_test_script(block, ctx):
    # type: (Block, Ctx) -> None
    """Not run (it installs the peers and runs the whole suite): checked that the script
    exists, prints its usage for ``--help``, and parses the options the section names
    (``--python``, ``--jobs``, ``--no-interop``): each reaches a check after the parsing that
    stops it with status 2 before anything is installed, while an unknown option is refused
    as such."""
    assert commands(block) == ["bash scripts/test"]
    script = ["bash", os.path.join(ROOT, "scripts", "test")]
    usage = run(script + ["--help"], ROOT, ctx.env)
    assert usage.status == 0 and "bash scripts/test --python /path/to/python" in usage.out, usage
    unknown = run(script + ["--no-such-option"], ROOT, ctx.env)
    assert unknown.status == 2 and "unknown argument '--no-such-option'" in unknown.err, unknown
    jobs = run(script + ["--no-interop", "--jobs", "0"], ROOT, ctx.env)
    assert jobs.status == 2 and "--jobs takes a number of workers" in jobs.err, jobs
    python = run(script + ["--jobs", "2", "--python", os.path.join(ctx.tmp, "no-python")], ROOT, ctx.env)
    assert python.status == 2 and "interpreter not found" in python.err, python


# --- the tests ---------------------------------------------------------------------------------------

BLOCKS = read_blocks()


def _param(block):
    # type: (Block) -> Any
    handler = HANDLERS.get((block.section, block.index))
    marks = [pytest.mark.interop] if handler is not None and handler.interop else []
    return pytest.param(block, marks=marks, id="%s#%d" % (block.section[:40], block.index))


@pytest.mark.parametrize("block", [_param(block) for block in BLOCKS])
def test_block(block, tmp_path, monkeypatch):
    handler = HANDLERS.get((block.section, block.index))
    if handler is None:
        pytest.fail("%s has no handler: add one to tests/test_readme_blocks.py with @handles(%r, %d, %r) "
                    "(see the module's docstring)" % (block.describe(), block.section, block.index,
                                                      block.first_line[:60]), pytrace=False)
    if not block.first_line.startswith(handler.first_line):
        pytest.fail("%s starts with %r, but its handler %s expects %r: did blocks move?"
                    % (block.describe(), block.first_line, handler.run.__name__, handler.first_line), pytrace=False)
    handler.run(block, Ctx(str(tmp_path), monkeypatch))


def test_every_handler_has_its_block():
    keys = {(block.section, block.index) for block in BLOCKS}
    assert sorted(set(HANDLERS) - keys) == [], "handlers for blocks README.md no longer has"


def test_the_block_reader():
    blocks = parse_blocks("# T\n\nIntro.\n\n```sh\n# not a heading\nls\n```\n\n## A\n\n```\nx\n```\n\n"
                          "~~~~python\n```\ny = 1\n~~~~\n\n### B\n```json\n{}\n```\n")
    assert [(b.section, b.index, b.lang, b.text, b.line) for b in blocks] == [
        ("T", 0, "sh", "# not a heading\nls\n", 5), ("A", 0, "", "x\n", 12), ("A", 1, "python", "```\ny = 1\n", 16),
        ("B", 0, "json", "{}\n", 22)]
    with pytest.raises(ValueError, match="line 3: a code block that is never closed"):
        parse_blocks("# T\n\n```\nopen\n")
    assert len(BLOCKS) >= 30 and {b.lang for b in BLOCKS} >= {"", "sh", "python", "json"}
