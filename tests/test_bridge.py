"""``mcplite bridge``: real processes on 127.0.0.1, each stopped by its PID.

``--stdio URL``: mcplite's own client runs ``python -m mcplite bridge --stdio URL`` as its
stdio server, and the bridge relays to an mcplite HTTP server in this process (both eras:
tools, progress, an elicitation answered through the bridge, cancellation; a remote that goes
away or was never there gives errors, not hangs; a 401 without credentials, success with -H).

``--http HOST:PORT -- CMD``: the bridge serves tests/bridge_app.py (stdio) over Streamable
HTTP, and mcplite's HTTP client uses it (tools, progress, elicitation; a process per session;
the Origin check; --bearer).
"""

import os
import signal
import subprocess
import sys
import time
from typing import Any, List

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bridge_app import make_bridge_app  # noqa: E402
from mcplite import Client, MCPError  # noqa: E402
from mcplite.auth import AccessToken, BearerAuth  # noqa: E402
from mcplite.errors import RequestTimeout, TransportError  # noqa: E402

BRIDGE = [sys.executable, "-m", "mcplite", "bridge"]
APP_FILE = os.path.join(HERE, "bridge_app.py")


def _env(**extra: str) -> dict:
    env = {"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.update(extra)
    return env


def _answer_name(params: dict) -> dict:
    assert params["message"] == "Your name?"
    return {"action": "accept", "content": {"name": "Ann"}}


@pytest.fixture
def remote():
    """An mcplite HTTP server in this process; stopped afterwards."""
    started = []

    def start(**options: Any) -> Any:
        app = make_bridge_app()
        handle = app.run_in_thread(**options)
        handle.bridge_app = app
        started.append(handle)
        return handle
    yield start
    for handle in started:
        handle.stop()


def _bridged(url: str, *extra: str, env: Any = None, **options: Any) -> Client:
    options.setdefault("timeout", 20.0)
    return Client.stdio(BRIDGE + ["--stdio", url] + list(extra), env=_env(**(env or {})), **options)


# --- bridge --stdio ---------------------------------------------------------------------------

@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_stdio_bridge_relays_tools_progress_and_elicitation(remote: Any, era: str) -> None:
    server = remote()
    with _bridged(server.url, era=era, elicitation=_answer_name) as client:
        assert client.era == era
        assert client.server_info["name"] == "bridged"
        assert [tool["name"] for tool in client.list_tools()] == ["add", "pid", "count", "ask_name", "wait"]
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        seen = []  # type: List[Any]
        result = client.call_tool("count", {"n": 3}, progress=lambda *args: seen.append(args))
        assert result["content"][0]["text"] == "counted 3"
        assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        # Legacy: the server's elicitation/create crosses the bridge and the answer goes back;
        # 2026-07-28: an input_required round and the retried call.
        assert client.call_tool("ask_name")["content"][0]["text"] == "hello Ann"


def test_stdio_bridge_passes_cancellation_on(remote: Any) -> None:
    server = remote()
    with _bridged(server.url, era="legacy") as client:
        with pytest.raises(RequestTimeout):
            client.call_tool("wait", {"seconds": 20}, timeout=1.0)
        deadline = time.monotonic() + 10
        while not server.bridge_app.cancelled_waits and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.bridge_app.cancelled_waits == [20]
        # The session goes on.
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}


def test_stdio_bridge_remote_going_away_gives_errors_not_hangs(remote: Any) -> None:
    server = remote()
    with _bridged(server.url, era="legacy") as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        server.stop()
        started = time.monotonic()
        with pytest.raises(MCPError) as failure:
            client.call_tool("add", {"a": 1, "b": 2}, timeout=15)
        assert time.monotonic() - started < 10
        assert failure.value.code == -32000
        assert "did not answer" in failure.value.message
        # Still a working bridge: the next request fails as clearly.
        with pytest.raises(MCPError):
            client.list_tools(timeout=15)


def test_stdio_bridge_unreachable_remote_fails_the_handshake_quickly() -> None:
    import socket
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises((MCPError, TransportError)) as failure:
        _bridged("http://127.0.0.1:%d/mcp" % port, era="legacy", timeout=15)
    assert time.monotonic() - started < 10
    assert "did not answer" in str(failure.value)


def _token_auth() -> BearerAuth:
    def verify(token: str) -> Any:
        return AccessToken(subject="ann") if token == "s3cret" else None
    return BearerAuth(verify, "http://127.0.0.1/mcp", ["https://auth.example.com"])


def test_stdio_bridge_401_without_credentials_and_success_with_a_header(remote: Any) -> None:
    server = remote(auth=_token_auth())
    with pytest.raises(MCPError) as failure:
        _bridged(server.url, era="legacy")
    assert failure.value.code == -32000
    assert failure.value.data["status"] == 401
    # The token from the environment, as a desktop host's configuration passes it.
    with _bridged(server.url, "-H", "Authorization: Bearer ${MY_TOKEN}", env={"MY_TOKEN": "s3cret"},
                  era="legacy") as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    with _bridged(server.url, "--bearer", "s3cret") as client:  # (auto: 2026-07-28 here)
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}


def test_stdio_bridge_usage_errors_go_to_stderr() -> None:
    for argv, said in ((["--stdio", "http://127.0.0.1:1/mcp", "-H", "X: ${MCPLITE_NOT_SET_ANYWHERE}"],
                        "MCPLITE_NOT_SET_ANYWHERE"),
                       (["--stdio", "ftp://example.com/"], "http"),
                       ([], "--stdio URL or --http")):
        done = subprocess.run(BRIDGE + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=dict(os.environ, **_env()), timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stdout == b""
        assert said in done.stderr.decode()
