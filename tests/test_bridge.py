"""``mcplite bridge``: real processes on 127.0.0.1, each stopped by its PID.

``--stdio URL``: mcplite's own client runs ``python -m mcplite bridge --stdio URL`` as its
stdio server, and the bridge relays to an mcplite HTTP server in this process (both eras:
tools, progress, an elicitation answered through the bridge, cancellation; a remote that goes
away or was never there gives errors, not hangs; a 401 without credentials, success with -H).

``--http HOST:PORT -- CMD``: the bridge serves tests/bridge_app.py (stdio) over Streamable
HTTP, and mcplite's HTTP client uses it (tools, progress, elicitation; a process per session;
the Origin check; --bearer).
"""

import json
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
from pipe_support import read_slowly  # noqa: E402

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
        assert [tool["name"] for tool in client.list_tools()] == ["add", "pid", "count", "ask_name", "wait", "region", "chatty", "crash"]
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        seen = []  # type: List[Any]
        result = client.call_tool("count", {"n": 3}, progress=lambda *args: seen.append(args))
        assert result["content"][0]["text"] == "counted 3"
        assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        # Legacy: the server's elicitation/create crosses the bridge and the answer goes back;
        # 2026-07-28: an input_required round and the retried call.
        assert client.call_tool("ask_name")["content"][0]["text"] == "hello Ann"
        # 2026-07-28: the bridge's channel learnt the x-mcp-header argument from tools/list,
        # and mirrors it (the server refuses the call without the header).
        header = "Zurich" if era == "modern" else "None"
        assert client.call_tool("region", {"region": "Zurich"})["content"][0]["text"] == "Zurich (header %s)" % header
        if era == "legacy":
            assert server.app.session_count() == 1
        assert client._channel.garbage is None  # type: ignore[attr-defined]   # nothing but JSON on stdout
    # stdin closed: the bridge ends the session (DELETE) before it exits.
    assert server.app.session_count() == 0


def test_stdio_bridge_ends_the_session_on_sigterm_too(remote: Any) -> None:
    server = remote()
    client = _bridged(server.url, era="legacy")
    try:
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        assert server.app.session_count() == 1
        process = client._channel.process  # type: ignore[attr-defined]
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(15) == 0
        assert server.app.session_count() == 0
    finally:
        client.close()


def test_stdio_bridge_answers_what_was_piped_in_before_the_input_ended(remote: Any) -> None:
    # `printf ... | mcplite bridge --stdio URL`: the input ends before the answers come. As a
    # stdio server does (serve_stdio's exit grace), the requests already sent are answered,
    # not failed with "the bridge is closing".
    server = remote()
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"_meta": meta, "name": "add", "arguments": {"a": 1, "b": 2}}}]
    done = subprocess.run(BRIDGE + ["--stdio", server.url], env=dict(os.environ, **_env()), timeout=60,
                          input=b"".join(json.dumps(line).encode("utf-8") + b"\n" for line in lines),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    answers = {message["id"]: message for message in map(json.loads, done.stdout.decode("utf-8").splitlines())}
    assert done.returncode == 0 and sorted(answers) == [1, 2], done.stdout
    assert "result" in answers[1], answers[1]
    assert answers[2]["result"]["structuredContent"] == {"result": 3}


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


def test_stdio_bridge_holds_what_a_host_pipelines_behind_its_initialize(remote: Any) -> None:
    """A host that writes initialize, notifications/initialized and tools/list at once: the
    bridge has no session for the last two until initialize is answered (the server would
    refuse them with 400), so it holds them until then, in order."""
    server = remote()
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pipelining", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 2}}},
    ]
    process = subprocess.Popen(BRIDGE + ["--stdio", server.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=_env())
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
        process.stdin.flush()
        answers = [json.loads(process.stdout.readline()) for _ in range(3)]
        process.stdin.close()
        assert process.wait(15) == 0
        assert process.stdout.read() == b""  # nothing more: no error for the notification
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # initialize's answer first; the two requests held behind it then go out together, and
    # their answers may come in either order.
    assert answers[0]["id"] == 1 and sorted(answer["id"] for answer in answers[1:]) == [2, 3]
    assert all("result" in answer for answer in answers), answers
    call = [answer for answer in answers if answer["id"] == 3][0]
    assert call["result"]["structuredContent"] == {"result": 4}
    assert server.app.session_count() == 0  # one session, ended at the end of input


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_stdio_bridge_timeout_bounds_each_answer(remote: Any, era: str) -> None:
    """No client session in the bridge bounds a request's wait: its --timeout does, as the
    quiet allowed on each answer (the library's client waits by the call's timeout instead)."""
    server = remote()
    with _bridged(server.url, "--timeout", "1", era=era) as client:
        started = time.monotonic()
        with pytest.raises(MCPError) as failure:
            client.call_tool("wait", {"seconds": 20}, timeout=15)
        assert time.monotonic() - started < 10
        assert failure.value.code == -32000 and "timed out" in failure.value.message
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


def test_stdio_bridge_writes_a_large_message_whole_to_a_slow_host(tmp_path: Any) -> None:
    # A host's pipe may be non-blocking (a Node.js host's libuv shares the description):
    # one write then takes what fits and the rest must follow, not be lost mid-line.
    import json
    from mcplite.bridge import StdioBridge

    class Idle:
        def start(self, *handlers: Any) -> None:
            pass
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    out = os.fdopen(write_end, "wb", buffering=0)
    received, reader = read_slowly(read_end, 0.05)
    try:
        text = "x" * (512 * 1024)
        bridge = StdioBridge(lambda legacy: Idle(), out)
        bridge._write({"jsonrpc": "2.0", "id": 1, "result": {"text": text}})
        bridge._write({"jsonrpc": "2.0", "id": 2, "result": {}})
        out.close()
        reader.join(10)
        lines = b"".join(received).split(b"\n")
        assert [json.loads(line)["id"] for line in lines if line] == [1, 2]
        assert json.loads(lines[0])["result"]["text"] == text
    finally:
        if not out.closed:
            out.close()
        os.close(read_end)


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


# --- bridge --http ----------------------------------------------------------------------------

class _HttpBridge:
    """``bridge --http 127.0.0.1:0 -- python bridge_app.py`` in a process of its own; its URL
    read from the line it writes on stderr."""

    def __init__(self, *extra: str, env: Any = None) -> None:
        import re
        import threading
        argv = BRIDGE + ["--http", "127.0.0.1:0"] + list(extra) + ["--", sys.executable, APP_FILE]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=dict(os.environ, **_env(**(env or {}))))
        found = []  # type: List[str]
        reader = threading.Thread(target=lambda: found.append(self.process.stderr.readline().decode()), daemon=True)
        reader.start()
        reader.join(60)
        match = re.search(r" at (http://\S+)", found[0] if found else "")
        if match is None:
            self.stop()
            raise AssertionError("the bridge did not start: %r" % (found,))
        self.url = match.group(1)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(15)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()
        return self.process.returncode


@pytest.fixture
def http_bridge():
    started = []  # type: List[_HttpBridge]

    def start(*extra: str, **options: Any) -> _HttpBridge:
        bridge = _HttpBridge(*extra, **options)
        started.append(bridge)
        return bridge
    yield start
    for bridge in started:
        bridge.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (exited, not yet reaped by the bridge) counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_http_bridge_serves_a_stdio_server(http_bridge: Any, era: str) -> None:
    bridge = http_bridge()
    with Client.http(bridge.url, era=era, elicitation=_answer_name, timeout=20) as client:
        assert client.era == era
        assert client.server_info["name"] == "bridged"
        assert [tool["name"] for tool in client.list_tools()] == ["add", "pid", "count", "ask_name", "wait", "region", "chatty", "crash"]
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        seen = []  # type: List[Any]
        assert client.call_tool("count", {"n": 3}, progress=lambda *args: seen.append(args))["content"][0]["text"] \
            == "counted 3"
        assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        assert client.call_tool("ask_name")["content"][0]["text"] == "hello Ann"
        # (The process behind the bridge never sees HTTP headers.)
        assert client.call_tool("region", {"region": "Zurich"})["content"][0]["text"] == "Zurich (header None)"
        pid = client.call_tool("pid")["structuredContent"]["result"]
    if era == "modern":
        # The bridge checks Mcp-Param-* against the arguments, for the tools a tools/list showed.
        import json
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "region", "arguments": {"region": "Zurich"},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                      "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
        headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "region"}
        status, _, answer = _post(bridge.url, dict(headers, **{"Mcp-Param-Region": "Paris"}), body)
        assert status == 400 and b"-32020" in answer and b"does not match" in answer
        status, _, answer = _post(bridge.url, headers, body)
        assert status == 400 and b"is required" in answer
        status, _, answer = _post(bridge.url, dict(headers, **{"Mcp-Param-Region": "Zurich"}), body)
        assert status == 200 and b"Zurich (header None)" in answer
    if era == "modern":
        assert _alive(pid)  # the shared process outlives the request
    assert bridge.stop() == 0
    assert _gone(pid)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_http_bridge_passes_cancellation_on(http_bridge: Any, era: str, tmp_path: Any) -> None:
    marks = tmp_path / "marks.txt"
    bridge = http_bridge(env={"BRIDGE_APP_MARKS": str(marks)})
    with Client.http(bridge.url, era=era, timeout=20) as client:
        with pytest.raises(RequestTimeout):
            # Legacy: notifications/cancelled passes through; 2026-07-28: the client closes the
            # stream, and the bridge tells the process with notifications/cancelled.
            client.call_tool("wait", {"seconds": 20}, timeout=1.0)
        deadline = time.monotonic() + 10
        while not (marks.exists() and marks.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marks.read_text() == "cancelled 20\n"
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_http_bridge_process_that_dies_gives_an_error_and_a_new_one_serves(http_bridge: Any, era: str) -> None:
    bridge = http_bridge()
    with Client.http(bridge.url, era=era, timeout=20) as client:
        first = client.call_tool("pid")["structuredContent"]["result"]
        started = time.monotonic()
        with pytest.raises(MCPError) as failure:
            client.call_tool("crash", timeout=15)
        assert time.monotonic() - started < 10
        assert "server process ended" in failure.value.message
        # Legacy: the session is gone (404), the client opens a new one, with a new process;
        # 2026-07-28: the next request starts a new shared process.
        second = client.call_tool("pid")["structuredContent"]["result"]
        assert second != first


def test_http_bridge_stops_what_a_shared_process_that_died_left_behind(tmp_path: Any) -> None:
    # The shared (2026-07-28) process dies; the next request starts another. What the dead
    # one's process group left (a helper of its wrapper) must go then, not outlive the bridge.
    from mcplite.bridge import HttpBridgeApp
    pid_file = tmp_path / "helper.pid"
    app = HttpBridgeApp(["sh", "-c", 'sleep 30 & echo $! > "$0"; exec "$@"', str(pid_file), sys.executable, APP_FILE])
    helper = None
    try:
        first = app._shared_child()
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        helper = int(pid_file.read_text())
        os.kill(first.channel.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not first.closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.closed
        second = app._shared_child()
        assert second is not first
        assert _gone(helper)
    finally:
        app.close()
        if helper is not None and _alive(helper):
            os.kill(helper, signal.SIGKILL)


def test_http_bridge_gives_each_session_its_own_process(http_bridge: Any) -> None:
    bridge = http_bridge("--max-sessions", "2")
    first = Client.http(bridge.url, era="legacy", timeout=20)
    second = Client.http(bridge.url, era="legacy", timeout=20)
    try:
        one = first.call_tool("pid")["structuredContent"]["result"]
        two = second.call_tool("pid")["structuredContent"]["result"]
        assert one != two and _alive(one) and _alive(two)
        assert first.call_tool("pid")["structuredContent"]["result"] == one
        # A third session is refused while two are open (503), and the first two go on.
        with pytest.raises(MCPError) as refused:
            Client.http(bridge.url, era="legacy", timeout=20)
        assert "all 2 sessions are in use" in refused.value.message
        assert second.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    finally:
        first.close()  # DELETE: its process ends
    assert _gone(one)
    assert _alive(two)
    try:
        # Room again for a new session.
        with Client.http(bridge.url, era="legacy", timeout=20) as third:
            assert third.call_tool("pid")["structuredContent"]["result"] not in (one, two)
    finally:
        second.close()
    assert bridge.stop() == 0
    assert _gone(two)


def _post(url: str, headers: dict, body: bytes = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
                                                  b'{"protocolVersion":"2025-11-25","capabilities":{},'
                                                  b'"clientInfo":{"name":"t","version":"1"}}}') -> Any:
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        sent.update(headers)
        conn.request("POST", parts.path, body, sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_http_bridge_refuses_other_origins_and_hosts(http_bridge: Any) -> None:
    bridge = http_bridge()
    status, _, body = _post(bridge.url, {"Origin": "https://evil.example"})
    assert status == 403 and b"Origin" in body
    status, _, _ = _post(bridge.url, {"Host": "evil.example"})
    assert status == 421
    # A loopback page may (and the refused ones started no process: none is open now).
    status, headers, _ = _post(bridge.url, {"Origin": "http://localhost:3000"})
    assert status == 200 and headers.get("Mcp-Session-Id")


def test_http_bridge_requires_its_bearer_token(http_bridge: Any) -> None:
    bridge = http_bridge("--bearer", "t0ken")
    status, headers, _ = _post(bridge.url, {})
    assert status == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer")
    status, _, _ = _post(bridge.url, {"Authorization": "Bearer wrong"})
    assert status == 401
    with pytest.raises(TransportError) as refused:
        Client.http(bridge.url, era="legacy", timeout=20)
    assert "401" in str(refused.value)
    with Client.http(bridge.url, {"Authorization": "Bearer t0ken"}, timeout=20) as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3



def test_bridge_help_says_what_bearer_means_with_http() -> None:
    # --bearer's shared help is the client's side ("send this access token"); with --http it
    # is the token the bridge requires, which --help has to say to be found.
    done = subprocess.run(BRIDGE + ["--help"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    text = " ".join(done.stdout.decode("utf-8").split())
    assert done.returncode == 0
    assert "--http: every client must send --bearer TOKEN (or MCPLITE_BRIDGE_TOKEN) when given" in text


# --- interop: the official SDK's client through bridge --http ----------------------------------

from interop_support import sdk_python_fixture  # noqa: E402

sdk_python = sdk_python_fixture("mcp.client.streamable_http")


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_http_bridge_serves_the_official_sdk_client(http_bridge: Any, sdk_python: str, mode: str) -> None:
    import json
    bridge = http_bridge()
    helper = os.path.join(HERE, "interop", "sdk_bridge_client.py")
    done = subprocess.run([sdk_python, helper, "--mode", mode, "--timeout", "40", bridge.url],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    try:
        report = json.loads(done.stdout.decode())
    except ValueError:
        raise AssertionError("the SDK helper printed no report: %r %r" % (done.stdout[-2000:], done.stderr[-2000:]))
    assert report["error"] is None, (report["error"], report.get("wire"))
    assert report["protocol_version"] == ("2026-07-28" if mode == "2026-07-28" else "2025-11-25")
    assert report["tools"] == ["add", "pid", "count", "ask_name", "wait", "region", "chatty", "crash"]
    assert report["add"]["structuredContent"] == {"result": 42}
    assert report["count"]["content"][0]["text"] == "counted 3"
    assert [step[0] for step in report["progress"]] == [1, 2, 3]
    assert report["ask_name"]["content"][0]["text"] == "hello Sdk"


def test_stdio_bridge_falls_back_to_http_sse(remote: Any) -> None:
    server = remote()
    # /sse: the 2024-11-05 transport's endpoint, which refuses a Streamable HTTP initialize.
    with _bridged(server.url[:-len("/mcp")] + "/sse", era="legacy", elicitation=_answer_name) as client:
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        assert client.call_tool("ask_name")["content"][0]["text"] == "hello Ann"


def test_stdio_bridge_opens_a_new_session_when_the_server_forgot_it(remote: Any) -> None:
    server = remote()
    port = server.port
    import queue
    logs, updates = queue.Queue(), queue.Queue()  # type: Any, Any
    with _bridged(server.url, era="legacy", on_log=logs.put, on_resource_updated=updates.put) as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        client.set_log_level("debug")
        client.subscribe("note://a")
        server.stop()
        restarted = remote(port=port)  # a server that never heard of the session: 404
        assert client.call_tool("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
        assert restarted.app.session_count() == 1
        # The new session has the host's log level and subscriptions.
        assert client.call_tool("chatty")["content"][0]["text"] == "said"
        assert logs.get(timeout=10)["data"] == "a debug line"
        # The new session's GET stream, which carries the update, opens in the background
        # after the renewal: an update sent before it is there is dropped (as for any session
        # without one), so it is sent again until one arrives (bounded).
        deadline = time.monotonic() + 15
        got = None
        while got is None and time.monotonic() < deadline:
            restarted.bridge_app.notify_resource_updated("note://a")
            try:
                got = updates.get(timeout=0.5)
            except queue.Empty:
                pass
        assert got == "note://a"


# --- bridge --stdio: signing in with the OAuth client of the other commands --------------------

def _oauth_env(home: Any, **extra: str) -> dict:
    """A home of the test's own (the token file must never be the user's), no proxies, and a
    "browser" that opens nothing (webbrowser runs $BROWSER with the URL)."""
    env = {key: value for key, value in os.environ.items()
           if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "xdg_config_home",
                                  "mcplite_client_secret")}
    env.update(_env(HOME=str(home), XDG_CONFIG_HOME=os.path.join(str(home), "config"), BROWSER="true"))
    env.update(extra)
    return env


@pytest.fixture
def protected():
    from oauth_support import AuthServer, McpServer
    started = []  # type: List[Any]

    def make(**options: Any) -> Any:
        auth = AuthServer(**options)
        started.append(auth)
        mcp = McpServer(auth.verify, [auth.issuer])
        started.append(mcp)
        return auth, mcp
    yield make
    for server in reversed(started):
        server.stop()


def test_stdio_bridge_client_credentials_and_the_token_file(protected: Any, tmp_path: Any) -> None:
    import stat
    auth, mcp = protected(clients={"bridge-client": "s3cret"})
    path = str(tmp_path / "tokens.json")
    argv = BRIDGE + ["--stdio", mcp.url, "--client-id", "bridge-client", "--token-file", path]
    env = _oauth_env(tmp_path, MCPLITE_CLIENT_SECRET="s3cret")
    with Client.stdio(argv, env=env, era="legacy", timeout=20) as client:
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"]["result"] == 5
    (request,) = auth.token_requests()
    assert request["form"]["grant_type"] == "client_credentials"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # The next run reuses the stored token.
    with Client.stdio(argv, env=env, era="legacy", timeout=20) as client:
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"]["result"] == 2
    assert len(auth.token_requests()) == 1


def _bridge_waiting_for_a_sign_in(url: str, tmp_path: Any) -> Any:
    """``bridge --stdio URL --oauth`` sent an initialize, once it printed the sign-in URL:
    the process and that URL."""
    import json
    import queue
    import threading
    process = subprocess.Popen(BRIDGE + ["--stdio", url, "--oauth", "--token-file", str(tmp_path / "t.json")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=_oauth_env(tmp_path))
    lines = queue.Queue()  # type: Any
    threading.Thread(target=lambda: [lines.put(raw.decode()) for raw in iter(process.stderr.readline, b"")],
                     daemon=True).start()
    try:
        process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "host", "version": "1"}}}).encode() + b"\n")
        process.stdin.flush()
        while True:
            line = lines.get(timeout=20)
            if "/authorize?" in line:
                return process, line.strip()
    except BaseException:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(15)
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
        raise


def test_stdio_bridge_signs_in_with_oauth(protected: Any, tmp_path: Any) -> None:
    """--oauth: the first request gets 401, the bridge prints the sign-in URL (and would open
    a browser), the person signs in, and the request is sent again with the token; the host
    sees only the answer."""
    import json
    import urllib.request
    auth, mcp = protected()
    process, url = _bridge_waiting_for_a_sign_in(mcp.url, tmp_path)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=20) as response:  # the browser: sign in, back to the bridge
            assert response.status == 200
        answer = json.loads(process.stdout.readline())
        assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "protected"
        assert len(auth.hits("authorize")) == 1
    finally:
        process.stdin.close()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(15)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


HEADLESS_BROWSER = os.path.join(HERE, "conformance", "headless_browser.py")


def test_stdio_bridge_signs_in_through_the_browser_that_browser_names(protected: Any, tmp_path: Any) -> None:
    """--oauth opens the sign-in URL with webbrowser, which runs $BROWSER and waits for it to
    exit (as for a console browser): here a program that follows the redirect to the bridge's
    callback and waits for its page. The callback must be answered meanwhile, or the two wait
    for each other until the browser gives up (20 s, past this call's 15). With
    --client-metadata-url, and an authorization server that takes those, that URL is the
    client id (no registration)."""
    auth, mcp = protected(cimd=True)
    document = "https://client.example/mcplite-bridge.json"
    argv = BRIDGE + ["--stdio", mcp.url, "--oauth", "--client-metadata-url", document,
                     "--token-file", str(tmp_path / "t.json")]
    started = time.monotonic()
    with Client.stdio(argv, env=_oauth_env(tmp_path, BROWSER=HEADLESS_BROWSER), era="legacy", timeout=15) as client:
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"]["result"] == 5
    assert time.monotonic() - started < 15
    (authorize,) = auth.hits("authorize")
    assert authorize["query"]["client_id"] == document
    assert auth.hits("register") == []
    (request,) = auth.token_requests("authorization_code")
    assert request["client_auth"] == (document, None, "none")


def test_stdio_bridge_sigterm_while_waiting_for_a_sign_in_ends_it(protected: Any, tmp_path: Any) -> None:
    """SIGTERM lands while the bridge waits for the person (a "browser" that opens nothing):
    the bridge exits then, not when the sign-in would time out (minutes later)."""
    auth, mcp = protected()
    process, _ = _bridge_waiting_for_a_sign_in(mcp.url, tmp_path)
    try:
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(15)
        process.stdin.close()
        process.stdout.close()
        process.stderr.close()
    assert auth.token_requests() == []


@pytest.mark.parametrize("command", ["/nonexistent/server", "no-such-mcp-server-command"])
def test_http_bridge_refuses_a_command_that_cannot_run(command: str) -> None:
    """The stdio process starts with each session: without this check a command that cannot
    run showed only as a 502 to every client of a bridge that had started fine."""
    done = subprocess.run(BRIDGE + ["--http", "127.0.0.1:0", "--", command], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), timeout=20)
    assert done.returncode == 1
    assert done.stdout == b""
    assert b"cannot run '%s': no such executable file" % command.encode() in done.stderr
