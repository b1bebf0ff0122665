"""The command line with a host configuration file as TARGET (``mcp.json``): ``ls`` lists every
server's tools under the host's names (``--tokens``: with their size), every other command
talks to the server ``--server NAME`` picks. Run as a user runs it: ``python -m mcplite`` in a
subprocess; the servers are ``tests/servers/host_app.py`` over stdio and the same app over
HTTP in this process, on 127.0.0.1.
"""

import json
import math
import os
import subprocess
import sys
from typing import Any, Dict, Iterator, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOST_APP = os.path.join(HERE, "servers", "host_app.py")
PY = sys.executable
TIMEOUT = 60
sys.path.insert(0, os.path.join(HERE, "servers"))

from host_app import make_host_app  # noqa: E402


def cli(*args):
    # type: (str) -> Tuple[int, str, str]
    """Run the command line; (status, stdout, stderr). Never a traceback."""
    proc = subprocess.run([PY, "-m", "mcplite"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def http_url():
    # type: () -> Iterator[str]
    handle = make_host_app("web").run_in_thread("http", port=0)
    try:
        yield handle.url
    finally:
        handle.stop()


def write_config(tmp_path, servers, name="mcp.json"):
    # type: (Any, Dict[str, Any], str) -> str
    path = tmp_path / name
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return str(path)


def app(name, **extra):
    # type: (str, Any) -> Dict[str, Any]
    entry = {"command": PY, "args": [HOST_APP, name]}  # type: Dict[str, Any]
    entry.update(extra)
    return entry


def test_ls_lists_every_server_under_host_names(tmp_path, http_url):
    config = write_config(tmp_path, {"one": app("one"), "two": app("two", allow=["echo", "add"]),
                                     "web": {"url": http_url, "headers": {"X-Test": "1"}},
                                     "off": dict(app("off"), disabled=True)})
    status, out, err = cli("ls", config)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "one: tools (10)"
    assert "  one__echo(text: string)" in lines
    assert "two: tools (2)" in lines and "  two__add(a: integer, b: integer) -> integer" in lines
    assert "web: tools (10)" in lines and "  web__echo(text: string)" in lines
    assert "off: disabled" in lines
    assert err == ""


def test_ls_reports_failures_and_warnings(tmp_path):
    config = write_config(tmp_path, {"good": app("good", colour="blue"), "bad": {"command": "/nonexistent/server"}})
    status, out, err = cli("ls", config)
    assert status == 3
    assert out.splitlines()[0] == "good: tools (10)"
    lines = err.splitlines()
    # ("python -m mcplite ls: ..." from the package, "mcplite.py ls: ..." from the one file)
    assert lines[0].endswith(" ls: warning: server 'good': unknown keys ignored: colour")
    assert " ls: error: bad: cannot start the server" in lines[1]


def test_ls_tokens(tmp_path):
    config = write_config(tmp_path, {"one": app("one", allow=["echo", "add"])})
    status, out, err = cli("ls", config, "--tokens")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("one: tools (2)  ") and "tokens" in lines[0]
    assert lines[-1] == "(tokens estimated as characters / 4; as MCP tool definitions)"
    assert lines[-2].startswith("total: ") and "search mode" in lines[-2]
    status, out, err = cli("ls", config, "--tokens", "--json", "--provider", "anthropic")
    assert status == 0, err
    document = json.loads(out)
    size = document["size"]
    assert size["provider"] == "anthropic"
    echo = size["servers"]["one"]["tools"]["one__echo"]
    assert echo["tokens"] == math.ceil(echo["chars"] / 4)
    assert [tool["name"] for tool in document["servers"]["one"]["tools"]] == ["one__echo", "one__add"]
    assert document["failures"] == [] and document["disabled"] == []


def test_every_target_command_takes_server(tmp_path, http_url, monkeypatch):
    monkeypatch.setenv("CLI_HOST_SECRET", "s3cret")
    config = write_config(tmp_path, {"one": app("one", env={"FROM_CONFIG": "${CLI_HOST_SECRET}"}),
                                     "web": {"type": "http", "url": http_url}})
    assert cli("call", config, "--server", "one", "echo", "text=hi")[1] == "one: hi\n"
    assert cli("call", config, "env", "variable=FROM_CONFIG", "--server", "one")[1] == "s3cret\n"
    assert cli("call", config, "--server", "web", "add", "a=2", "b=3")[1] == "5\n"
    status, out, err = cli("read", config, "--server", "web", "note://web/hello")
    assert (status, out) == (0, "hello from web\n"), err
    status, out, err = cli("prompt", config, "--server", "one", "greet", "who=Ada")
    assert status == 0 and "Say hello to Ada from one." in out, err
    status, out, err = cli("ls", config, "--server", "one")
    assert status == 0 and "echo(text: string)" in out, err  # one server: its own names


def test_choosing_a_server(tmp_path):
    two = write_config(tmp_path, {"a": app("a"), "b": app("b"), "off": dict(app("off"), disabled=True),
                                  "broken": {"command": "x", "env": {"V": "${CLI_HOST_UNSET_VARIABLE}"}}})
    status, _, err = cli("call", two, "echo", "text=x")
    assert status == 2 and "has 3 servers: choose one with --server NAME (a, b, broken)" in err
    status, _, err = cli("call", two, "--server", "c", "echo", "text=x")
    assert status == 2 and "has no server 'c' (the servers: a, b, broken)" in err
    status, _, err = cli("call", two, "--server", "off", "echo", "text=x")
    assert status == 2 and "it is disabled" in err
    status, _, err = cli("call", two, "--server", "broken", "echo", "text=x")
    assert status == 2 and "CLI_HOST_UNSET_VARIABLE is not set" in err
    one = write_config(tmp_path, {"only": app("only")}, "one.json")
    assert cli("call", one, "echo", "text=x")[1] == "only: x\n"  # one server: no --server needed
    status, _, err = cli("call", HOST_APP, "--server", "a", "echo", "text=x")
    assert status == 2 and "not one" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    status, _, err = cli("ls", str(bad))
    assert status == 2 and "is not JSON" in err

