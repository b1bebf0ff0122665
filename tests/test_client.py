"""The synchronous client (mcplite/client.py): both eras and the era probe, every API call,
the server's questions answered through the handlers, timeouts and errors, and the server
process and the client's threads after close.

Servers: mcplite apps in memory (``Client(app)``) and over stdio (``tests/asking_app.py``,
``examples/notes_server.py``, ``tests/servers/stdio_app.py`` and ``tests/kitchen_app.py``,
one of everything a client test needs), the official Python SDK (``bench/servers/sdk_add.py`` under
``$MCPLITE_SDK_PYTHON``), and ``tests/client_misbehaving_server.py``, which misbehaves on
purpose and logs every line it receives.

What crosses the wire is checked exactly: a ``Tap`` on the client's channel records every
message sent and received (as JSON, re-decoded), and the misbehaving server's log is what
actually arrived at the other end of the pipe.

A bug the tests find is first shown by a strict ``xfail`` test, which becomes a plain one when it is fixed.
"""

import gc
import json
import os
import shlex
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from asking_app import make_asking_app
from interop_support import sdk_python_fixture
from kitchen_app import make_kitchen_app
from mcplite import ConnectionClosed, MCPError, ProtocolError, RequestTimeout, TransportError, VersionMismatch
from mcplite.channels import StdioChannel
from mcplite.memory import MemoryChannel
from mcplite.client import Client
from mcplite.clientsession import DEFAULT_CLIENT_INFO

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
ASKING_ARGV = [PY, os.path.join(HERE, "asking_app.py"), "--timeout", "5"]
NOTES_ARGV = [PY, os.path.join(ROOT, "examples", "notes_server.py")]
STDIO_APP_ARGV = [PY, os.path.join(HERE, "servers", "stdio_app.py")]
MISBEHAVING = os.path.join(HERE, "client_misbehaving_server.py")
SDK_ADD = os.path.join(ROOT, "bench", "servers", "sdk_add.py")
KITCHEN_ARGV = [PY, os.path.join(HERE, "kitchen_app.py")]

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
PV = "io.modelcontextprotocol/protocolVersion"
CI = "io.modelcontextprotocol/clientInfo"
CC = "io.modelcontextprotocol/clientCapabilities"
LL = "io.modelcontextprotocol/logLevel"
SI = "io.modelcontextprotocol/serverInfo"
SUB = "io.modelcontextprotocol/subscriptionId"

NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "short"}, "model": "m2", "stopReason": "endTurn"}

sdk_python = sdk_python_fixture("mcp.server.mcpserver")


# ===========================================================================
# Helpers


def wait_until(predicate: Callable[[], Any], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def modern_meta(capabilities: Optional[Dict[str, Any]] = None, **extra: Any) -> Dict[str, Any]:
    meta = {PV: MODERN, CI: DEFAULT_CLIENT_INFO, CC: capabilities or {}}  # type: Dict[str, Any]
    meta.update(extra)
    return meta


def text_of(result: Dict[str, Any]) -> str:
    assert [block["type"] for block in result["content"]] == ["text"], result
    return result["content"][0]["text"]


class Tap:
    """Records every message a client channel sends and receives, as it is on the wire."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.sent = []  # type: List[Dict[str, Any]]
        self.received = []  # type: List[Any]
        send = channel.send
        start = channel.start

        def tapped_send(message: Any) -> None:
            self.sent.append(json.loads(json.dumps(message)))
            send(message)

        def tapped_start(on_message: Callable[[Any], None], on_close: Callable[[BaseException], None],
                         on_failure: Callable[[Any, BaseException], None]) -> None:
            def tapped_message(message: Any) -> None:
                self.received.append(message)
                on_message(message)
            start(tapped_message, on_close, on_failure)

        channel.send = tapped_send
        channel.start = tapped_start

    def requests(self, method: Optional[str] = None) -> List[Dict[str, Any]]:
        return [m for m in self.sent if "id" in m and "method" in m and (method is None or m["method"] == method)]

    def methods(self) -> List[str]:
        """The methods of what the client sent (requests and notifications), in order."""
        return [m["method"] for m in self.sent if "method" in m]

    def notifications_received(self, method: str) -> List[Dict[str, Any]]:
        return [m for m in self.received if isinstance(m, dict) and m.get("method") == method and "id" not in m]

    def server_requests(self) -> List[Dict[str, Any]]:
        return [m for m in self.received if isinstance(m, dict) and "method" in m and "id" in m]


class Made:
    """Clients and channels a test made; all closed (and their processes stopped) at teardown."""

    def __init__(self) -> None:
        self.clients = []  # type: List[Client]
        self.channels = []  # type: List[Any]

    def client(self, target: Any, transport: str = "memory", **options: Any) -> Tuple[Client, Tap]:
        """A client on ``target`` (a Server for "memory", an argv for "stdio"), tapped.
        ``stdio_options``: env, cwd, capture_stderr, max_message_bytes, close_timeout."""
        if transport == "memory":
            channel = MemoryChannel(target)  # type: Any
        else:
            channel = StdioChannel(target, options.pop("env", None), options.pop("cwd", None),
                                    options.pop("capture_stderr", False),
                                    options.pop("max_message_bytes", 16 * 1024 * 1024),
                                    options.pop("close_timeout", 2.0))
        self.channels.append(channel)
        tap = Tap(channel)
        client = Client(_channel=channel, **options)
        self.clients.append(client)
        return client, tap

    def add(self, client: Client) -> Client:
        self.clients.append(client)
        self.channels.append(client._channel)
        return client

    def close(self) -> None:
        for client in self.clients:
            try:
                client.close()
            except Exception:
                pass
        for channel in self.channels:
            process = getattr(channel, "process", None)
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(5)
            try:
                channel.close()
            except Exception:
                pass


@pytest.fixture
def made():
    m = Made()
    try:
        yield m
    finally:
        m.close()


def misbehaving(*flags: str, log: Optional[str] = None) -> List[str]:
    argv = [PY, MISBEHAVING] + list(flags)
    if log is not None:
        argv += ["--log", log]
    return argv


def read_log(path: str, at_least: int = 0) -> List[Dict[str, Any]]:
    """What the misbehaving server received, in order (its pid line left out), once it has
    logged ``at_least`` messages (it logs each as it reads it: after the client sent it)."""
    lines = []  # type: List[Dict[str, Any]]
    deadline = time.monotonic() + 5.0
    while True:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.endswith("\n")]
        if len(lines) > at_least or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert "pid" in lines[0]
    return lines[1:]


def log_pid(path: str) -> int:
    with open(path) as f:
        return json.loads(f.readline())["pid"]


@pytest.fixture
def log_path(tmp_path):
    return str(tmp_path / "received.jsonl")


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie left of it."""
    try:
        os.kill(pid, 0)
    except OSError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def new_threads(before: set) -> List[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before]


def answers_from(table: Dict[str, Any], calls: List[Any]) -> Callable[[Dict[str, Any]], Any]:
    """A handler answering by the question's message, recording what it was asked."""

    def handler(params: Dict[str, Any]) -> Any:
        calls.append(params)
        answer = table[params.get("message", "")]
        if isinstance(answer, BaseException):
            raise answer
        return answer
    return handler


KITCHEN_TOOLS = ["add", "whoami", "chatty", "ticking", "block", "ask_and_report", "grow", "touch"]


@pytest.fixture
def kitchen():
    app = make_kitchen_app()
    try:
        yield app
    finally:
        app.release.set()  # type: ignore[attr-defined]


ERAS = ["legacy", "modern"]


# ===========================================================================
# Eras and the era probe


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_auto_probes_with_discover_and_gets_modern(made, transport):
    app = make_asking_app()
    client, tap = made.client(app if transport == "memory" else ASKING_ARGV, transport, timeout=5)
    assert (client.era, client.protocol_version) == ("modern", MODERN)
    assert tap.sent[0] == {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": modern_meta()}}
    assert tap.methods() == ["server/discover"]  # no initialize, no notifications/initialized
    assert client.server_info == {"name": "asking", "version": "1.0.0"}
    assert client.server_capabilities == app.capabilities(MODERN)
    assert client.instructions is None
    # every request carries the 2026-07-28 envelope
    client.call_tool("read_other")
    assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                            "params": {"name": "read_other", "_meta": modern_meta()}}


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_legacy_era_sends_initialize_then_initialized(made, transport):
    app = make_asking_app()
    client, tap = made.client(app if transport == "memory" else ASKING_ARGV, transport, era="legacy", timeout=5)
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert tap.sent == [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": DEFAULT_CLIENT_INFO}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    assert client.server_info == {"name": "asking", "version": "1.0.0"}
    assert client.server_capabilities == app.capabilities(LEGACY)
    result = client.call_tool("read_other")
    assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "read_other"}}
    assert result == {"content": [{"type": "text", "text": "hello from a note"}]}


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", LEGACY])
def test_protocol_version_asks_for_one_legacy_version(made, kitchen, version):
    client, tap = made.client(kitchen, protocol_version=version, timeout=5)
    assert (client.era, client.protocol_version) == ("legacy", version)
    assert tap.methods() == ["initialize", "notifications/initialized"]
    assert tap.sent[0]["params"]["protocolVersion"] == version
    assert client.call_tool("whoami")["content"][0]["text"] == json.dumps(
        {"capabilities": {}, "info": DEFAULT_CLIENT_INFO, "version": version})


def test_protocol_version_modern_forces_discover(made, kitchen):
    client, tap = made.client(kitchen, protocol_version=MODERN, timeout=5)
    assert (client.era, client.protocol_version) == ("modern", MODERN)
    assert tap.methods() == ["server/discover"]
    assert client.instructions == "Everything a client test needs."
    assert client.server_info == {"name": "kitchen", "version": "2.0.0"}


@pytest.mark.parametrize("era", ["auto", "legacy", "modern"])
def test_notes_example_over_stdio(made, era):
    client, tap = made.client(NOTES_ARGV, "stdio", era=era, timeout=5)
    assert client.era == ("legacy" if era == "legacy" else "modern")
    assert client.instructions.startswith("A small notebook.")
    assert [t["name"] for t in client.list_tools()] == ["add_note", "search_notes", "delete_note"]
    added = client.call_tool("add_note", {"title": "Milk", "body": "buy some", "tags": ["shop"]})
    assert added["structuredContent"] == {"id": 1, "title": "Milk"}
    assert client.read_resource("notes://1")["contents"] == [
        {"uri": "notes://1", "mimeType": "text/markdown", "text": "# Milk\n\nbuy some"}]
    assert [t["uriTemplate"] for t in client.list_resource_templates()] == ["notes://{id}"]
    assert [r["uri"] for r in client.list_resources()] == ["notes://all"]
    prompt = client.get_prompt("summarize", {"note_id": "1"})
    assert prompt["messages"][0]["content"]["text"].startswith("Summarize this note in one sentence:")
    with pytest.raises(MCPError) as info:
        client.call_tool("no_such_tool")
    assert (info.value.code, info.value.message) == (-32602, "Unknown tool: no_such_tool")
    process = client._channel.process
    client.close()
    assert process.poll() == 0


def test_probe_falls_back_on_an_error_answer(made, log_path):
    started = time.monotonic()
    client, tap = made.client(misbehaving("--discover", "error", log=log_path), "stdio", timeout=5, probe_timeout=3)
    assert time.monotonic() - started < 2.5  # the error ends the probe at once
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert client.server_info == {"name": "misbehaving", "version": "0.0.1"}
    assert read_log(log_path, 3) == [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": modern_meta()}},
        {"jsonrpc": "2.0", "id": 2, "method": "initialize",
         "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": DEFAULT_CLIENT_INFO}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    assert client.call_tool("echo", {"x": 1})["structuredContent"]["arguments"] == {"x": 1}


def test_probe_falls_back_when_discover_is_never_answered(made, log_path):
    started = time.monotonic()
    client, tap = made.client(misbehaving("--discover", "silent", log=log_path), "stdio", timeout=5,
                              probe_timeout=0.5)
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 3.0
    assert client.era == "legacy"
    assert read_log(log_path, 4) == [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": modern_meta()}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "reason": "timed out"}},
        {"jsonrpc": "2.0", "id": 2, "method": "initialize",
         "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": DEFAULT_CLIENT_INFO}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]


def test_probe_falls_back_on_unsupported_version_listing_legacy_only(made, log_path):
    client, tap = made.client(misbehaving("--discover", "unsupported-legacy", log=log_path), "stdio", timeout=5)
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert [m.get("method") for m in read_log(log_path, 3)] == [
        "server/discover", "initialize", "notifications/initialized"]


def test_unsupported_version_listing_nothing_we_speak_fails(made, log_path):
    # The server did answer -32022; that no version is common is the client's conclusion: a
    # VersionMismatch (a TransportError) with what it offers, its own error the cause.
    with pytest.raises(VersionMismatch) as info:
        made.client(misbehaving("--discover", "unsupported-none", log=log_path), "stdio", timeout=5)
    assert not isinstance(info.value, MCPError) and isinstance(info.value, TransportError)
    assert info.value.offered == ["1999-01-01"]
    assert "1999-01-01" in info.value.message
    cause = info.value.__cause__
    assert isinstance(cause, MCPError) and (cause.code, cause.message, cause.data) == (
        -32022, "Unsupported protocol version", {"supported": ["1999-01-01"]})
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover"]
    assert made.channels[-1].process.poll() is not None  # stopped by the failed constructor


def test_a_refusal_of_the_very_version_listed_raises_the_servers_own_error(made, log_path):
    # -32022 listing the version just sent: retried once, then the server's error as it came
    # (the refusal is about something else than versions: nothing to conclude for it).
    with pytest.raises(MCPError) as info:
        made.client(misbehaving("--discover", "unsupported-same", log=log_path), "stdio", timeout=5)
    assert (info.value.code, info.value.message) == (-32022, "Unsupported protocol version")
    assert info.value.data == {"supported": [MODERN], "requested": MODERN}
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover", "server/discover"]


def test_a_discover_result_listing_nothing_we_speak(made, log_path):
    # Forced modern: a result, not an error, so no MCPError (there is no code to give).
    with pytest.raises(VersionMismatch) as info:
        made.client(misbehaving("--discover", "result-none", log=log_path), "stdio", era="modern", timeout=5)
    assert not isinstance(info.value, MCPError) and info.value.__cause__ is None
    assert info.value.offered == ["1999-01-01"]
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover"]
    assert made.channels[-1].process.poll() is not None
    # The era left to the client: not a modern server, so initialize.
    client, tap = made.client(misbehaving("--discover", "result-none"), "stdio", timeout=5)
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)


def test_a_modern_server_refusing_initialize_after_a_late_probe_is_spoken_to(made, log_path):
    # The probe unanswered in time, initialize refused with the server's own -32022 naming
    # 2026-07-28: the client goes back to server/discover, forced.
    client, tap = made.client(misbehaving("--discover", "late-modern", log=log_path), "stdio", timeout=5,
                              probe_timeout=0.3)
    assert (client.era, client.protocol_version) == ("modern", MODERN)
    assert [m.get("method") for m in read_log(log_path, 4)] == [
        "server/discover", "notifications/cancelled", "initialize", "server/discover"]


def test_forced_modern_raises_the_servers_error(made, log_path):
    with pytest.raises(MCPError) as info:
        made.client(misbehaving("--discover", "error", log=log_path), "stdio", era="modern", timeout=5)
    assert (info.value.code, info.value.message) == (-32601, "Method not found: server/discover")
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover"]
    assert made.channels[-1].process.poll() is not None


def test_forced_modern_never_falls_back_to_initialize(made, log_path):
    error = None
    try:
        made.client(misbehaving("--discover", "unsupported-legacy", log=log_path), "stdio", era="modern", timeout=5)
    except VersionMismatch as exc:
        error = exc
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover"]
    assert error is not None and error.offered == ["2025-11-25", "2025-06-18"]
    assert isinstance(error.__cause__, MCPError) and error.__cause__.code == -32022


def test_initialize_answered_with_an_unknown_version_fails_and_stops_the_server(made, log_path):
    # The server answered with a result: no JSON-RPC error to raise, and no code made up.
    with pytest.raises(VersionMismatch) as info:
        made.client(misbehaving("--init-version", "1999-01-01", log=log_path), "stdio", timeout=5)
    assert not isinstance(info.value, MCPError) and info.value.__cause__ is None
    assert info.value.offered == ["1999-01-01"]
    assert "'1999-01-01'" in info.value.message
    process = made.channels[-1].process
    assert process.poll() == 0  # stdin closed: it exited by itself, before the constructor returned
    assert [m.get("method") for m in read_log(log_path)] == ["server/discover", "initialize"]  # no initialized


def test_initialize_answered_with_an_older_legacy_version_is_accepted(made):
    client, tap = made.client(misbehaving("--init-version", "2025-06-18"), "stdio", era="legacy", timeout=5)
    assert tap.sent[0]["params"]["protocolVersion"] == LEGACY
    assert (client.era, client.protocol_version) == ("legacy", "2025-06-18")


def test_bad_arguments():
    with pytest.raises(ValueError):
        Client(make_kitchen_app(), era="newest")
    with pytest.raises(ValueError):
        Client(make_kitchen_app(), protocol_version="2099-01-01")
    with pytest.raises(TypeError):
        Client()
    with pytest.raises(TypeError):
        Client.stdio("python3 server.py")  # type: ignore[arg-type]
    with pytest.raises(ConnectionClosed) as info:
        Client.stdio([os.path.join(HERE, "no-such-program")])
    assert info.value.message.startswith("cannot start the server")


@pytest.mark.parametrize("options, error", [
    ({"era": "newest"}, ValueError),
    ({"protocol_version": "2099-01-01"}, ValueError),
    ({"timeoutt": 5}, TypeError),
])
def test_bad_options_leave_no_server_process(log_path, options, error):
    pid = None
    try:
        with pytest.raises(error):
            Client.stdio(misbehaving("--ignore-eof", log=log_path), **options)
        gc.collect()
        assert wait_until(lambda: os.path.exists(log_path) and os.path.getsize(log_path) > 0, 5)
        pid = log_pid(log_path)
        assert wait_until(lambda: process_gone(pid), 1.0), "the server process %d is still running" % pid
    finally:
        if pid is None and os.path.exists(log_path) and os.path.getsize(log_path) > 0:
            pid = log_pid(log_path)
        if pid is not None and not process_gone(pid):
            os.kill(pid, 9)


# ===========================================================================
# The official Python SDK's server


@pytest.mark.parametrize("era", ["auto", "legacy", "modern"])
def test_sdk_server_over_stdio(made, sdk_python, era):
    client, tap = made.client([sdk_python, SDK_ADD], "stdio", era=era, timeout=20, capture_stderr=True)
    expected_era = "legacy" if era == "legacy" else "modern"
    assert (client.era, client.protocol_version) == (expected_era, LEGACY if era == "legacy" else MODERN)
    assert client.server_info["name"] == "bench"
    if expected_era == "legacy":
        assert tap.methods() == ["initialize", "notifications/initialized"]
    else:
        assert tap.methods() == ["server/discover"]
        assert tap.sent[0]["params"] == {"_meta": modern_meta()}
    tools = client.list_tools()
    assert [t["name"] for t in tools] == ["add"]
    assert tools[0]["inputSchema"]["required"] == ["a", "b"]
    result = client.call_tool("add", {"a": 40, "b": 2})
    assert result["content"] == [{"type": "text", "text": "42"}]
    assert result["structuredContent"] == {"result": 42}
    assert result.get("isError", False) is False
    if expected_era == "modern":
        assert result["resultType"] == "complete"
        assert result["_meta"][SI]["name"] == "bench"
        assert tap.sent[-1]["params"] == {"name": "add", "arguments": {"a": 40, "b": 2}, "_meta": modern_meta()}
    else:
        assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                "params": {"name": "add", "arguments": {"a": 40, "b": 2}}}
    unknown = client.call_tool("no_such_tool", {})  # the SDK answers with a tool error, not -32602
    assert unknown["isError"] is True and unknown["content"] == [{"type": "text", "text": "Unknown tool: no_such_tool"}]
    process = client._channel.process
    client.close()
    assert process.poll() is not None


# ===========================================================================
# The server's questions: sampling, elicitation, roots


def asking_client(made: Made, transport: str, era: str, **options: Any) -> Tuple[Client, Tap, Any]:
    app = make_asking_app()
    options.setdefault("timeout", 5)
    client, tap = made.client(app if transport == "memory" else ASKING_ARGV, transport, era=era, **options)
    return client, tap, app


def questions_asked(tap: Tap, client: Client) -> List[Dict[str, Any]]:
    """The questions the server put: requests (legacy) or the entries of inputRequests (2026-07-28)."""
    if client.era == "legacy":
        return [{"method": m["method"], "params": m["params"]} for m in tap.server_requests()]
    asked = []
    for message in tap.received:
        result = message.get("result") if isinstance(message, dict) else None
        if isinstance(result, dict) and result.get("resultType") == "input_required":
            asked.extend(result["inputRequests"][key] for key in sorted(result["inputRequests"]))
    return asked


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_sampling_handler(made, transport, era):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, transport, era, sampling=lambda p: seen.append(p) or SAMPLED)
    result = client.call_tool("summarize", {"text": "a long text"})
    assert text_of(result) == "short (m2)"
    question = {"messages": [{"role": "user", "content": {"type": "text", "text": "Summarize: a long text"}}],
                "maxTokens": 50, "systemPrompt": "Be brief.", "temperature": 0.1}
    assert seen == [question]
    assert questions_asked(tap, client) == [{"method": "sampling/createMessage", "params": question}]
    if era == "legacy":
        answer = [m for m in tap.sent if "result" in m]
        assert answer == [{"jsonrpc": "2.0", "id": "s1", "result": SAMPLED}]
        assert len(tap.requests("tools/call")) == 1
    else:
        calls = tap.requests("tools/call")
        assert len(calls) == 2
        assert calls[1]["params"]["inputResponses"] == {"sample-1": SAMPLED}
        assert isinstance(calls[1]["params"]["requestState"], str)


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_form_elicitation_handler(made, transport, era):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, transport, era, elicitation=answers_from(
        {"What is your name?": {"action": "accept", "content": {"name": "Grace"}}}, seen))
    assert text_of(client.call_tool("ask_name")) == "Hello, Grace!"
    assert seen == [{"message": "What is your name?", "requestedSchema": NAME_SCHEMA}]
    if era == "modern":
        assert tap.requests("tools/call")[1]["params"]["inputResponses"] == {
            "name": {"action": "accept", "content": {"name": "Grace"}}}


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_url_elicitation_handler(made, transport, era):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, transport, era, elicitation=answers_from(
        {"Please sign in": {"action": "accept"}}, seen), capabilities={"elicitation": {"form": {}, "url": {}}})
    assert client.capabilities == {"elicitation": {"form": {}, "url": {}}}
    assert text_of(client.call_tool("sign_in")) == "sign-in accept"
    question = {"mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in"}
    if era == "legacy":
        question["elicitationId"] = "el-1"
        # the completion notification came (and was ignored)
        assert tap.notifications_received("notifications/elicitation/complete") == [
            {"jsonrpc": "2.0", "method": "notifications/elicitation/complete", "params": {"elicitationId": "el-1"}}]
    assert seen == [question]


@pytest.mark.parametrize("era", ERAS)
def test_url_elicitation_required(made, era):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, "memory", era, elicitation=answers_from(
        {"Pay first": {"action": "accept"}}, seen), capabilities={"elicitation": {"url": {}}}, max_rounds=2)
    with pytest.raises((MCPError, ProtocolError)) as info:
        client.call_tool("needs_payment")
    if era == "legacy":
        assert info.value.code == -32042
        assert info.value.data == {"elicitations": [{"mode": "url", "message": "Pay first",
                                                     "url": "https://example.com/pay", "elicitationId": "pay-1"}]}
        assert seen == []
    else:
        # the server asks again after every retry: max_rounds ends it
        assert isinstance(info.value, ProtocolError)
        assert info.value.message == "tools/call still needed input after 2 rounds"
        assert len(tap.requests("tools/call")) == 3
        assert tap.requests("tools/call")[1]["params"]["inputResponses"] == {"url-pay-1": {"action": "accept"}}


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_roots_list_and_callable(made, transport, era):
    roots = [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}]
    client, tap, app = asking_client(made, transport, era, roots=roots)
    assert client.capabilities == {"roots": {"listChanged": True}}
    result = client.call_tool("list_roots")
    assert result["structuredContent"] == {"result": ["file:///a", "file:///b"]}
    assert questions_asked(tap, client) == [{"method": "roots/list", "params": {}}]

    calls = []  # type: List[int]

    def current_roots() -> List[Dict[str, str]]:
        calls.append(1)
        return [{"uri": "file:///c%d" % len(calls)}]
    client.roots = current_roots
    assert client.call_tool("list_roots")["structuredContent"] == {"result": ["file:///c1"]}
    assert client.call_tool("list_roots")["structuredContent"] == {"result": ["file:///c2"]}


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_two_questions_in_turn(made, transport, era):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, transport, era, elicitation=answers_from({
        "First?": {"action": "accept", "content": {"a": "x"}},
        "Second?": {"action": "accept", "content": {"b": 7}}}, seen))
    assert text_of(client.call_tool("two_steps")) == "x/7"
    assert [q["message"] for q in seen] == ["First?", "Second?"]
    calls = tap.requests("tools/call")
    if era == "legacy":
        assert len(calls) == 1
        assert [m["id"] for m in tap.sent if "result" in m] == ["s1", "s2"]
    else:
        assert [sorted(c["params"]) for c in calls] == [
            ["_meta", "name"], ["_meta", "inputResponses", "name", "requestState"],
            ["_meta", "inputResponses", "name", "requestState"]]
        assert calls[1]["params"]["inputResponses"] == {"elicit-1": {"action": "accept", "content": {"a": "x"}}}
        assert calls[2]["params"]["inputResponses"] == {"elicit-2": {"action": "accept", "content": {"b": 7}}}
        assert calls[1]["params"]["requestState"] != calls[2]["params"]["requestState"]
    if transport == "memory":
        assert app.side_effects == ["two_steps"]


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_gather_asks_three_things(made, transport, era):
    client, tap, app = asking_client(
        made, transport, era, elicitation=lambda p: {"action": "accept", "content": {"name": "Ada"}},
        sampling=lambda p: {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m1"},
        roots=[{"uri": "file:///work"}])
    assert text_of(client.call_tool("ask_all")) == "Ada|hi|1"
    assert sorted(q["method"] for q in questions_asked(tap, client)) == [
        "elicitation/create", "roots/list", "sampling/createMessage"]
    if era == "modern":
        calls = tap.requests("tools/call")
        assert len(calls) == 2  # all three questions in one round
        assert sorted(calls[1]["params"]["inputResponses"]) == ["hi", "roots", "who"]


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_questions_from_a_resource_and_a_prompt(made, transport, era):
    client, tap, app = asking_client(made, transport, era, elicitation=answers_from({
        "Which note?": {"action": "accept", "content": {"note": "n1"}},
        "Context?": {"action": "accept", "content": {"context": "ctx1"}}}, []))
    read = client.read_resource("note://ask")
    assert read["contents"] == [{"uri": "note://ask", "mimeType": "text/plain", "text": "note: n1"}]
    prompt = client.get_prompt("personal")
    assert prompt["messages"] == [{"role": "user", "content": {"type": "text", "text": "Use ctx1"}}]
    if era == "modern":
        assert [len(tap.requests(m)) for m in ("resources/read", "prompts/get")] == [2, 2]


def test_max_rounds_exceeded(made):
    client, tap, app = asking_client(made, "memory", "modern", max_rounds=1, elicitation=answers_from({
        "First?": {"action": "accept", "content": {"a": "x"}},
        "Second?": {"action": "accept", "content": {"b": 7}}}, []))
    with pytest.raises(ProtocolError) as info:
        client.call_tool("two_steps")
    assert info.value.message == "tools/call still needed input after 1 rounds"
    assert len(tap.requests("tools/call")) == 2
    assert app.side_effects == []
    client.max_rounds = 2
    assert text_of(client.call_tool("two_steps")) == "x/7"


def test_max_rounds_asks_no_question_whose_answer_is_thrown_away(made):
    seen = []  # type: List[Dict[str, Any]]
    client, tap, app = asking_client(made, "memory", "modern", max_rounds=1, elicitation=answers_from({
        "First?": {"action": "accept", "content": {"a": "x"}},
        "Second?": {"action": "accept", "content": {"b": 7}}}, seen))
    with pytest.raises(ProtocolError):
        client.call_tool("two_steps")
    assert [q["message"] for q in seen] == ["First?"]


# ===========================================================================
# Capabilities, handler errors, no handler


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("handlers, extra, declared", [
    ({}, None, {}),
    ({"sampling": True}, None, {"sampling": {}}),
    ({"elicitation": True}, None, {"elicitation": {}}),
    ({"roots": True}, None, {"roots": {"listChanged": True}}),
    ({"sampling": True, "elicitation": True, "roots": True}, None,
     {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}}),
    ({"sampling": True}, {"sampling": {"tools": {}}, "experimental": {"x": {"y": 1}}},
     {"sampling": {"tools": {}}, "experimental": {"x": {"y": 1}}}),
    ({}, {"elicitation": {"form": {}}}, {"elicitation": {"form": {}}}),
], ids=["none", "sampling", "elicitation", "roots", "all", "extra", "extra-only"])
def test_capabilities_follow_the_handlers(made, kitchen, era, handlers, extra, declared):
    options = {}  # type: Dict[str, Any]
    if handlers.get("sampling"):
        options["sampling"] = lambda p: SAMPLED
    if handlers.get("elicitation"):
        options["elicitation"] = lambda p: {"action": "decline"}
    if handlers.get("roots"):
        options["roots"] = []
    client, tap = made.client(kitchen, era=era, capabilities=extra, timeout=5, **options)
    if era == "legacy":
        assert tap.sent[0]["params"]["capabilities"] == declared
    else:
        assert tap.sent[0]["params"]["_meta"][CC] == declared
    seen = client.call_tool("whoami")["structuredContent"]
    assert seen == {"capabilities": declared, "info": DEFAULT_CLIENT_INFO, "version": LEGACY if era == "legacy" else MODERN}


@pytest.mark.parametrize("era", ERAS)
def test_client_info_reaches_the_server(made, kitchen, era):
    info = {"name": "my-client", "version": "9.9", "title": "Mine"}
    client, tap = made.client(kitchen, era=era, client_info=info, timeout=5)
    assert client.call_tool("whoami")["structuredContent"]["info"] == info


@pytest.mark.parametrize("era", ERAS)
def test_adding_url_mode_keeps_form_mode(made, era):
    client, tap, app = asking_client(made, "memory", era, capabilities={"elicitation": {"url": {}}},
                                     elicitation=lambda p: {"action": "accept", "content": {"name": "Ada"}})
    try:
        result = text_of(client.call_tool("ask_name"))  # type: Any
    except MCPError as exc:
        result = exc
    assert result == "Hello, Ada!"


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_a_handler_error_goes_to_the_server(made, kitchen, transport, era):
    def refuse(params: Dict[str, Any]) -> Any:
        raise MCPError(-1, "user said no", {"why": "test"})
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era=era,
                              elicitation=refuse, timeout=5)
    if era == "legacy":
        result = text_of(client.call_tool("ask_and_report"))
        assert result == '-1|The client answered elicitation/create with an error: user said no|{"why": "test"}'
        assert [m for m in tap.sent if "error" in m] == [
            {"jsonrpc": "2.0", "id": "s1", "error": {"code": -1, "message": "user said no", "data": {"why": "test"}}}]
    else:
        # 2026-07-28 has no way to answer an input request with an error: the caller gets it
        with pytest.raises(MCPError) as info:
            client.call_tool("ask_and_report")
        assert (info.value.code, info.value.message, info.value.data) == (-1, "user said no", {"why": "test"})
        assert len(tap.requests("tools/call")) == 1


def test_a_handler_bug_is_an_internal_error_for_the_server(made, kitchen):
    def broken(params: Dict[str, Any]) -> Any:
        raise ValueError("oops")
    client, tap = made.client(kitchen, era="legacy", elicitation=broken, timeout=5)
    assert text_of(client.call_tool("ask_and_report")) == (
        '-32603|The client answered elicitation/create with an error: Client error: ValueError|"<no data>"')


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_declared_capability_without_a_handler_answers_method_not_found(made, kitchen, transport):
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era="legacy",
                              capabilities={"elicitation": {}}, timeout=5)
    assert text_of(client.call_tool("ask_and_report")) == (
        "-32601|The client answered elicitation/create with an error: Method not found: elicitation/create "
        '(this client declared no such capability)|"<no data>"')
    assert [m["error"]["code"] for m in tap.sent if "error" in m] == [-32601]


def test_declared_capability_without_a_handler_modern(made, kitchen):
    client, tap = made.client(kitchen, era="modern", capabilities={"elicitation": {}}, timeout=5)
    with pytest.raises(MCPError) as info:
        client.call_tool("ask_and_report")
    assert info.value.code == -32601
    assert len(tap.requests("tools/call")) == 1


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_no_handler_no_capability_the_server_refuses_to_ask(made, transport, era):
    client, tap, app = asking_client(made, transport, era)
    assert client.capabilities == {}
    with pytest.raises(MCPError) as info:
        client.call_tool("ask_name")
    assert info.value.code == -32021
    assert info.value.data == {"requiredCapabilities": {"elicitation": {}}}
    assert text_of(client.call_tool("careful")) == "cannot ask"
    assert questions_asked(tap, client) == []
    assert tap.server_requests() == []


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_the_server_pings_the_client(made, transport):
    client, tap, app = asking_client(made, transport, "legacy")
    assert text_of(client.call_tool("ping_client")) == "pong"
    assert tap.server_requests() == [{"jsonrpc": "2.0", "id": "s1", "method": "ping", "params": {}}]
    assert [m for m in tap.sent if "result" in m] == [{"jsonrpc": "2.0", "id": "s1", "result": {}}]


# ===========================================================================
# Logging, progress, timeouts


LOG = [{"level": level, "data": "a %s message" % level, "logger": "kitchen"}
       for level in ("debug", "info", "warning", "error")]


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_on_log_and_set_log_level(made, kitchen, transport, era):
    logs = []  # type: List[Dict[str, Any]]
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era=era,
                              on_log=logs.append, timeout=5)
    assert text_of(client.call_tool("chatty")) == "said"
    # a session sends everything until logging/setLevel; 2026-07-28 sends nothing without a level
    first = LOG if era == "legacy" else []
    assert [m["params"] for m in tap.notifications_received("notifications/message")] == first
    sent_before = len(tap.sent)
    client.set_log_level("warning")
    if era == "legacy":
        assert tap.sent[sent_before:] == [
            {"jsonrpc": "2.0", "id": tap.sent[-1]["id"], "method": "logging/setLevel", "params": {"level": "warning"}}]
    else:
        assert len(tap.sent) == sent_before  # nothing sent: the level rides on every later request
    client.call_tool("chatty")
    assert [m["params"] for m in tap.notifications_received("notifications/message")] == first + LOG[2:]
    # on_log got them all, in order (waiting, should callbacks ever run on a thread of their own)
    assert wait_until(lambda: len(logs) >= len(first) + 2, 3.0)
    assert logs == first + LOG[2:]
    if era == "modern":
        assert tap.sent[-1]["params"]["_meta"] == modern_meta(**{LL: "warning"})
    with pytest.raises(ValueError):
        client.set_log_level("loud")


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_progress_callbacks(made, transport, era):
    client, tap, app = asking_client(made, transport, era)
    seen = []  # type: List[Tuple[Any, Any, Any]]
    result = client.call_tool("long_job", {"steps": 10}, progress=lambda *args: seen.append(args))
    assert text_of(result) == "finished"
    assert seen == [(i, 10, "step %d" % i) for i in range(1, 11)]
    values = [s[0] for s in seen]
    assert all(a < b for a, b in zip(values, values[1:]))
    call = tap.requests("tools/call")[0]
    token = call["params"]["_meta"]["progressToken"]
    assert token == "p%s" % call["id"]
    assert [n["params"]["progressToken"] for n in tap.notifications_received("notifications/progress")] == [token] * 10
    # no callback, no token: no progress notifications
    client.call_tool("long_job", {"steps": 3})
    assert "progressToken" not in tap.requests("tools/call")[-1]["params"].get("_meta", {})
    assert len(tap.notifications_received("notifications/progress")) == 10


@pytest.mark.parametrize("era", ERAS)
def test_progress_extends_the_timeout(made, kitchen, era):
    client, tap = made.client(kitchen, era=era, timeout=0.4)
    ticks = []  # type: List[Any]
    started = time.monotonic()
    assert text_of(client.call_tool("ticking", {"seconds": 1.0}, progress=lambda *a: ticks.append(a[0]))) == "done"
    assert time.monotonic() - started >= 1.0
    assert ticks == list(range(1, len(ticks) + 1)) and len(ticks) >= 5
    # the same call without progress times out
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        client.call_tool("ticking", {"seconds": 1.0})
    assert 0.35 <= time.monotonic() - started < 1.5


@pytest.mark.parametrize("era", ERAS)
def test_max_timeout_is_a_hard_stop(made, kitchen, era):
    client, tap = made.client(kitchen, era=era, timeout=0.3, max_timeout=0.8)
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as info:
        client.call_tool("ticking", {"seconds": 4.0}, progress=lambda *a: None)
    elapsed = time.monotonic() - started
    assert 0.75 <= elapsed < 1.8
    assert (info.value.method, info.value.timeout) == ("tools/call", 0.3)
    call_id = tap.requests("tools/call")[-1]["id"]
    assert tap.sent[-1] == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": call_id, "reason": "timed out"}}
    assert wait_until(lambda: kitchen.cancelled == [call_id])


def test_progress_extends_by_the_calls_own_timeout(made, kitchen):
    client, tap = made.client(kitchen, era="legacy", timeout=4)
    outcome = []  # type: List[Any]

    def call() -> None:
        started = time.monotonic()
        try:
            client.call_tool("block", {"seconds": 10, "progress_first": True}, timeout=0.5, progress=lambda *a: None)
            outcome.append("returned")
        except (MCPError, TransportError) as exc:
            outcome.append(exc)
        outcome.append(time.monotonic() - started)
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(2.0)
    finished = not thread.is_alive()
    kitchen.release.set()
    client.close()
    thread.join(5)
    assert finished, "call_tool(timeout=0.5) was still waiting after 2 s"
    assert isinstance(outcome[0], RequestTimeout)


@pytest.mark.parametrize("era", ERAS)
def test_timeout_cancels_the_request_in_memory(made, kitchen, era):
    client, tap = made.client(kitchen, era=era, timeout=5)
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as info:
        client.call_tool("block", {"seconds": 5}, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.5
    assert str(info.value) == "No response to tools/call within 0.3 s"
    call_id = tap.requests("tools/call")[-1]["id"]
    assert tap.sent[-1] == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": call_id, "reason": "timed out"}}
    assert wait_until(lambda: kitchen.cancelled == [call_id])
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}


# ===========================================================================
# Lists, completion, resources, prompts, ping, request


@pytest.mark.parametrize("era", ERAS)
def test_pagination_is_followed(made, era):
    app = make_kitchen_app(page_size=2)
    client, tap = made.client(app, era=era, timeout=5)
    assert [t["name"] for t in client.list_tools()] == KITCHEN_TOOLS
    assert [r["uri"] for r in client.list_resources()] == ["res://%s" % c for c in "abcde"]
    assert [t["uriTemplate"] for t in client.list_resource_templates()] == [
        "res://items/{item_id}", "res://users/{name}", "res://colors/{color}"]
    assert [p["name"] for p in client.list_prompts()] == ["greet", "farewell", "plain"]
    pages = {}  # type: Dict[str, int]
    for method in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
        requests = tap.requests(method)
        pages[method] = len(requests)
        responses = {m["id"]: m["result"] for m in tap.received if isinstance(m, dict) and "result" in m}
        params = [dict((k, v) for k, v in r["params"].items() if k != "_meta") for r in requests]
        assert params[0] == {}
        for before, after in zip(requests, params[1:]):
            assert after == {"cursor": responses[before["id"]]["nextCursor"]}
        assert "nextCursor" not in responses[requests[-1]["id"]]
    assert pages == {"tools/list": 4, "resources/list": 3, "resources/templates/list": 2, "prompts/list": 2}


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_complete(made, kitchen, transport, era):
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era=era, timeout=5)
    assert client.complete({"type": "ref/prompt", "name": "greet"}, "name", "A") == {
        "values": ["Ada", "Alan"], "total": 2, "hasMore": False}
    params = tap.requests("completion/complete")[-1]["params"]
    assert {k: v for k, v in params.items() if k != "_meta"} == {
        "ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "A"}}
    assert client.complete({"type": "ref/prompt", "name": "farewell"}, "name", "Bo", {"tone": "dry"}) == {
        "values": ["Bo in a dry tone"], "total": 1, "hasMore": False}
    assert tap.requests("completion/complete")[-1]["params"]["context"] == {"arguments": {"tone": "dry"}}
    assert client.complete({"type": "ref/resource", "uri": "res://colors/{color}"}, "color", "gr") == {
        "values": ["green", "grey"], "total": 3, "hasMore": False}
    with pytest.raises(MCPError) as info:
        client.complete({"type": "ref/prompt", "name": "nope"}, "name", "")
    assert (info.value.code, info.value.message) == (-32602, "Unknown prompt: nope")


@pytest.mark.parametrize("era", ERAS)
def test_resources_prompts_and_errors(made, kitchen, era):
    client, tap = made.client(kitchen, era=era, timeout=5)
    assert client.read_resource("res://b")["contents"] == [{"uri": "res://b", "mimeType": "text/plain",
                                                           "text": "resource b"}]
    assert client.read_resource("res://items/7")["contents"] == [{"uri": "res://items/7", "mimeType": "text/plain",
                                                                 "text": "item 7"}]
    assert client.get_prompt("farewell", {"name": "Ada"})["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Goodbye, Ada (warm)"}}]
    assert client.get_prompt("greet", {"name": "Ada"})["description"] == "Greets someone."
    with pytest.raises(MCPError) as info:
        client.read_resource("res://nothing")
    # 2026-07-28 retired -32002
    assert (info.value.code, info.value.message, info.value.data) == (
        -32002 if era == "legacy" else -32602, "Resource not found: res://nothing", {"uri": "res://nothing"})
    with pytest.raises(MCPError) as info:
        client.get_prompt("greet")
    assert (info.value.code, info.value.message) == (-32602, "Missing required argument 'name' for prompt greet")
    result = client.call_tool("add", {"a": "x", "b": 1})
    assert result["isError"] is True  # a tool error is a result, not an exception
    raw = client.request("tools/list")
    assert [t["name"] for t in raw["tools"]] == KITCHEN_TOOLS
    assert (raw.get("resultType"), raw.get("_meta", {}).get(SI)) == (
        (None, None) if era == "legacy" else ("complete", {"name": "kitchen", "version": "2.0.0"}))


@pytest.mark.parametrize("transport", ["memory", "stdio"])
@pytest.mark.parametrize("era", ERAS)
def test_ping(made, kitchen, transport, era):
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era=era, timeout=5)
    assert client.ping() is None
    if era == "legacy":
        assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    else:  # 2026-07-28 has no ping: server/discover stands in
        assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 2, "method": "server/discover",
                                "params": {"_meta": modern_meta()}}


@pytest.mark.parametrize("era", ERAS)
def test_notify_roots_changed(made, kitchen, era):
    client, tap = made.client(kitchen, era=era, roots=[], timeout=5)
    count = len(tap.sent)
    client.notify_roots_changed()
    if era == "legacy":
        assert tap.sent[count:] == [{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}]
    else:
        assert len(tap.sent) == count


# ===========================================================================
# Subscriptions and list changes


def test_subscribe_legacy(made, kitchen):
    updated = []  # type: List[str]
    client, tap = made.client(kitchen, era="legacy", on_resource_updated=updated.append, timeout=5)
    client.subscribe("res://a")
    assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": "res://a"}}
    kitchen.notify_resource_updated("res://a")
    kitchen.notify_resource_updated("res://b")
    assert wait_until(lambda: updated, 3.0)
    client.unsubscribe("res://a")
    assert tap.sent[-1] == {"jsonrpc": "2.0", "id": 3, "method": "resources/unsubscribe",
                            "params": {"uri": "res://a"}}
    kitchen.notify_resource_updated("res://a")
    client.subscribe("res://c")
    kitchen.notify_resource_updated("res://c")  # the last one: all before it were delivered
    assert wait_until(lambda: len(updated) >= 2, 3.0)
    assert updated == ["res://a", "res://c"]
    assert [m["params"]["uri"] for m in tap.notifications_received("notifications/resources/updated")] == [
        "res://a", "res://c"]


def test_subscribe_modern_uses_subscriptions_listen(made, kitchen):
    updated = []  # type: List[str]
    client, tap = made.client(kitchen, era="modern", on_resource_updated=updated.append, timeout=5)
    client.subscribe("res://b")
    first = tap.sent[-1]
    assert first == {"jsonrpc": "2.0", "id": 2, "method": "subscriptions/listen",
                     "params": {"notifications": {"resourceSubscriptions": ["res://b"]}, "_meta": modern_meta()}}
    assert tap.notifications_received("notifications/subscriptions/acknowledged") == [
        {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
         "params": {"notifications": {"resourceSubscriptions": ["res://b"]}, "_meta": {SUB: 2}}}]
    client.subscribe("res://a")
    # The new stream is acknowledged before the old one is cancelled: no update falls between.
    assert tap.sent[-2:] == [
        {"jsonrpc": "2.0", "id": 3, "method": "subscriptions/listen",
         "params": {"notifications": {"resourceSubscriptions": ["res://a", "res://b"]}, "_meta": modern_meta()}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "new filter"}}]
    assert [m["params"]["_meta"] for m in tap.notifications_received(
        "notifications/subscriptions/acknowledged")] == [{SUB: 2}, {SUB: 3}]
    kitchen.notify_resource_updated("res://a")
    kitchen.notify_resource_updated("res://c")
    kitchen.notify_resource_updated("res://b")
    # once each: the replaced stream is gone
    assert [(m["params"]["uri"], m["params"]["_meta"]) for m in tap.notifications_received(
        "notifications/resources/updated")] == [("res://a", {SUB: 3}), ("res://b", {SUB: 3})]
    assert wait_until(lambda: len(updated) >= 2, 3.0)
    assert updated == ["res://a", "res://b"]
    client.unsubscribe("res://a")
    client.unsubscribe("res://b")
    assert tap.sent[-3:] == [
        {"jsonrpc": "2.0", "id": 4, "method": "subscriptions/listen",
         "params": {"notifications": {"resourceSubscriptions": ["res://b"]}, "_meta": modern_meta()}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3, "reason": "new filter"}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 4, "reason": "new filter"}}]
    kitchen.notify_resource_updated("res://b")
    client.subscribe("res://d")
    assert tap.sent[-1]["id"] == 5
    kitchen.notify_resource_updated("res://d")
    assert wait_until(lambda: len(updated) >= 3, 3.0)
    assert updated == ["res://a", "res://b", "res://d"]


@pytest.mark.parametrize("era", ERAS)
def test_subscribe_over_stdio(made, era):
    updated = []  # type: List[str]
    client, tap = made.client(KITCHEN_ARGV, "stdio", era=era, on_resource_updated=updated.append, timeout=5)
    client.subscribe("res://c")
    client.call_tool("touch", {"uri": "res://d"})
    client.call_tool("touch", {"uri": "res://c"})
    # the notification is written before the tool's response, and read in order
    assert [m["params"]["uri"] for m in tap.notifications_received("notifications/resources/updated")] == [
        "res://c"]
    client.unsubscribe("res://c")
    client.call_tool("touch", {"uri": "res://c"})
    client.subscribe("res://e")
    client.call_tool("touch", {"uri": "res://e"})
    assert wait_until(lambda: len(updated) >= 2, 3.0)
    assert updated == ["res://c", "res://e"]


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_on_list_changed_legacy(made, kitchen, transport):
    changed = []  # type: List[str]
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era="legacy",
                              on_list_changed=changed.append, timeout=5)
    assert text_of(client.call_tool("grow", {"name": "extra"})) == "grew extra"
    assert [m["method"] for m in tap.notifications_received("notifications/tools/list_changed")] == [
        "notifications/tools/list_changed"]
    assert wait_until(lambda: changed, 3.0)
    assert changed == ["tools"]
    assert [t["name"] for t in client.list_tools()] == KITCHEN_TOOLS + ["extra"]
    if transport == "memory":
        kitchen.add_prompt(lambda: "p", name="another")
        kitchen.remove_resource("res://e")
        assert wait_until(lambda: len(changed) >= 3, 3.0)
        assert changed == ["tools", "prompts", "resources"]


def test_on_list_changed_modern(made, kitchen):
    changed = []  # type: List[str]
    client, tap = made.client(kitchen, era="modern", on_list_changed=changed.append, timeout=5)
    client.call_tool("grow", {"name": "extra"})
    assert wait_until(lambda: changed == ["tools"], 1.0), changed


def test_on_list_changed_modern_with_a_subscription(made, kitchen):
    changed = []  # type: List[str]
    client, tap = made.client(kitchen, era="modern", on_list_changed=changed.append, timeout=5)
    client.subscribe("res://a")
    assert tap.requests("subscriptions/listen")[-1]["params"]["notifications"] == {
        "toolsListChanged": True, "promptsListChanged": True, "resourcesListChanged": True,
        "resourceSubscriptions": ["res://a"]}
    client.call_tool("grow", {"name": "extra"})
    listen = tap.requests("subscriptions/listen")[-1]["id"]
    assert [m["params"] for m in tap.notifications_received("notifications/tools/list_changed")] == [
        {"_meta": {SUB: listen}}]
    assert wait_until(lambda: changed, 3.0)
    assert changed == ["tools"]


def test_a_callback_may_call_the_client(made):
    got = []  # type: List[Any]
    holder = {}  # type: Dict[str, Client]

    def refresh(kind: str) -> None:
        try:
            got.append([t["name"] for t in holder["client"].list_tools(timeout=1.0)])
        except MCPError as exc:
            got.append(exc)
    client, tap = made.client(KITCHEN_ARGV, "stdio", era="legacy", on_list_changed=refresh, timeout=5)
    holder["client"] = client
    client.call_tool("grow", {"name": "extra"})
    assert wait_until(lambda: got, 3.0)
    assert got == [KITCHEN_TOOLS + ["extra"]]


# ===========================================================================
# Misbehaving servers: timeouts, errors, garbage, death


def test_a_call_never_answered_times_out_and_is_cancelled(made, log_path):
    client, tap = made.client(misbehaving(log=log_path), "stdio", era="legacy", timeout=5)
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as info:
        client.call_tool("hang", timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.5
    assert (info.value.method, info.value.timeout) == ("tools/call", 0.3)
    assert client.call_tool("echo", {"after": True})["structuredContent"]["arguments"] == {"after": True}
    assert read_log(log_path)[2:] == [
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hang"}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "timed out"}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"after": True}}},
    ]


def test_server_errors_raise_mcperror(made):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=5)
    with pytest.raises(MCPError) as info:
        client.call_tool("error", {"code": -32099, "message": "it broke", "data": {"detail": [1, 2]}})
    assert type(info.value) is MCPError
    assert (info.value.code, info.value.message, info.value.data) == (-32099, "it broke", {"detail": [1, 2]})
    assert str(info.value) == "it broke (code -32099)"
    with pytest.raises(MCPError) as info:
        client.request("no/such/method", {})
    assert (info.value.code, info.value.message) == (-32601, "Method not found: no/such/method")
    with pytest.raises(ProtocolError) as info:
        client.call_tool("not_object")
    assert info.value.message == "the server answered tools/call with a result that is not an object"


def test_responses_with_unknown_ids_are_ignored(made):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=5)
    assert text_of(client.call_tool("unknown_id")) == "right"
    assert [m["id"] for m in tap.received if isinstance(m, dict) and "id" in m][-4:] == [987654, "no-such-id",
                                                                                          424242, 2]
    assert client.call_tool("echo", {"n": 1})["structuredContent"]["arguments"] == {"n": 1}


def test_garbage_lines_do_not_break_the_client(made):
    client, tap = made.client(misbehaving("--garbage-at-start"), "stdio", era="legacy", timeout=5)
    assert text_of(client.call_tool("garbage")) == "after garbage"
    assert client.call_tool("echo", {"ok": 1})["structuredContent"]["arguments"] == {"ok": 1}
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("garbage_then_die")
    assert time.monotonic() - started < 2.0
    assert info.value.message == ("the server exited with status 4; its last line that was not JSON: "
                                  "'Traceback: something went wrong (not JSON)'")


def test_a_byte_order_mark_before_the_first_message_is_ignored(made):
    # What a Windows server may write first (.NET with Console.OutputEncoding UTF-8).
    client, tap = made.client(misbehaving("--bom"), "stdio", era="legacy", timeout=5)
    assert client.call_tool("echo", {"ok": 1})["structuredContent"]["arguments"] == {"ok": 1}


@pytest.mark.parametrize("capture", [False, True])
def test_server_dying_mid_call_raises_connection_closed_promptly(made, capture):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=10, capture_stderr=capture)
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("die", {"message": "fatal: out of cheese\n", "status": 3})
    assert time.monotonic() - started < 2.0  # not after the 10 s timeout
    expected = "the server exited with status 3"
    if capture:
        expected += "; its stderr ends with:\nfatal: out of cheese"
    assert info.value.message == expected
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as again:
        client.call_tool("echo")
    assert time.monotonic() - started < 0.5
    assert again.value.message == expected


def test_stderr_tail_is_the_end_of_a_long_stderr(made):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=10, capture_stderr=True)
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("stderr_flood_then_die", {"size": 300000})
    prefix = "the server exited with status 5; its stderr ends with:\n"
    assert info.value.message.startswith(prefix)
    tail = info.value.message[len(prefix):]
    assert tail.endswith("\nTHE END OF STDERR")
    assert len(tail) <= 2000 and set(tail[:-len("\nTHE END OF STDERR")]) == {"x"}


def test_server_closing_stdout(made):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=10, close_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("close_stdout")
    assert time.monotonic() - started < 2.0
    assert info.value.message == "the server closed its stdout"
    process = client._channel.process
    client.close()
    assert process.poll() == -15


@pytest.mark.parametrize("capture", [False, True])
def test_a_server_dying_while_its_helper_holds_stdout_is_seen_promptly(made, tmp_path, capture):
    # A wrapper's background job (or a helper the server started) inherits the server's
    # stdout and outlives it: end of file never comes, yet the server is gone.
    pid_file = tmp_path / "helper.pid"
    wrapper = "sleep 30 & echo $! > %s; exec %s" % (pid_file, " ".join(misbehaving()))
    client, tap = made.client(["sh", "-c", wrapper], "stdio", era="legacy", timeout=10, capture_stderr=capture)
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("die", {"message": "fatal: out of cheese\n", "status": 3})
    assert time.monotonic() - started < 4.0  # not after the 10 s timeout
    expected = "the server exited with status 3"
    if capture:
        expected += "; its stderr ends with:\nfatal: out of cheese"
    assert info.value.message == expected
    with pytest.raises(ConnectionClosed) as again:
        client.call_tool("echo")
    assert again.value.message == expected
    helper = int(pid_file.read_text())
    client.close()
    assert wait_until(lambda: process_gone(helper))  # the process group went with it


def test_an_oversize_line_closes_the_connection(made):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=5, max_message_bytes=1000)
    assert len(text_of(client.call_tool("big", {"size": 900}))) == 840
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        client.call_tool("big", {"size": 5000})
    assert time.monotonic() - started < 2.0
    assert info.value.message == "the server sent a message larger than 1000 bytes"
    with pytest.raises(ConnectionClosed):
        client.call_tool("echo")
    process = client._channel.process
    client.close()
    assert process.poll() is not None


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_calls_after_close_raise_connection_closed(made, kitchen, transport):
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, timeout=5)
    client.close()
    client.close()  # twice is fine
    for call in (client.list_tools, client.ping, lambda: client.call_tool("add", {"a": 1, "b": 1}),
                 lambda: client.subscribe("res://a")):
        with pytest.raises(ConnectionClosed) as info:
            call()
        assert info.value.message == "the client is closed"


@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_close_wakes_a_waiting_call(made, kitchen, transport):
    options = {} if transport == "memory" else {"close_timeout": 0.5}
    client, tap = made.client(kitchen if transport == "memory" else KITCHEN_ARGV, transport, era="legacy",
                              timeout=10, **options)
    outcome = []  # type: List[Any]

    def call() -> None:
        try:
            # in memory, close() waits for the server's running tools (up to 2 s); over stdio
            # the server gets close_timeout to exit, then SIGTERM
            client.call_tool("block", {"seconds": 1.0 if transport == "memory" else 5.0})
            outcome.append("returned")
        except (MCPError, TransportError) as exc:
            outcome.append(exc)
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    assert wait_until(lambda: tap.requests("tools/call"))
    time.sleep(0.1)
    started = time.monotonic()
    client.close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 4.0
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionClosed)
    assert outcome[0].message == "the client is closed"


def test_env_and_cwd(made, tmp_path):
    client, tap = made.client(misbehaving(), "stdio", era="legacy", timeout=5,
                              env={"MCPLITE_TEST_MARK": "marked"}, cwd=str(tmp_path))
    seen = client.call_tool("echo")["structuredContent"]
    assert (seen["mark"], os.path.realpath(seen["cwd"])) == ("marked", os.path.realpath(str(tmp_path)))


# ===========================================================================
# Processes and threads


def test_close_lets_a_good_server_exit_by_itself(made):
    before = set(threading.enumerate())
    baseline = threading.active_count()
    client = made.add(Client.stdio(ASKING_ARGV, timeout=5))
    process = client._channel.process
    assert len(new_threads(before)) >= 1  # the reader
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 1.9  # stdin closed: no SIGTERM needed
    assert process.poll() == 0
    assert wait_until(lambda: not new_threads(before), 3.0), new_threads(before)
    assert threading.active_count() <= baseline


def test_close_terminates_a_server_that_ignores_eof(made, log_path):
    client = made.add(Client.stdio(misbehaving("--ignore-eof", log=log_path), era="legacy", timeout=5,
                                   close_timeout=0.3))
    process = client._channel.process
    started = time.monotonic()
    client.close()
    elapsed = time.monotonic() - started
    assert process.poll() == -15  # SIGTERM
    assert 0.3 <= elapsed < 1.8
    assert process_gone(log_pid(log_path))


def test_close_kills_a_server_that_ignores_sigterm(made, log_path):
    before = set(threading.enumerate())
    client = made.add(Client.stdio(misbehaving("--ignore-term", log=log_path), era="legacy", timeout=5,
                                   close_timeout=0.3, capture_stderr=True))
    client.call_tool("echo")
    process = client._channel.process
    started = time.monotonic()
    client.close()
    elapsed = time.monotonic() - started
    assert process.poll() == -9  # SIGKILL
    assert 0.6 <= elapsed < 2.5
    assert wait_until(lambda: not new_threads(before), 3.0), new_threads(before)


def test_close_stops_by_its_pid_a_server_that_leaves_its_group_and_ignores_sigterm(made, log_path):
    # A server that calls setsid() to leave the process group the client made for it, and
    # ignores SIGTERM: the client signals its PID as well as the group, so the process it
    # started is stopped whatever group it ended up in.
    client = made.add(Client.stdio(misbehaving("--ignore-term", "--setsid", log=log_path), era="legacy",
                                   timeout=5, close_timeout=0.3))
    client.call_tool("echo")
    with open(log_path) as f:
        first = json.loads(f.readline())
    pid = first["pid"]
    try:
        assert "setsid" in first
        client.close()
        assert wait_until(lambda: process_gone(pid), 3.0), "the server (pid %d) still runs" % pid
        assert client._channel.process.poll() == -9  # SIGKILL, after SIGTERM was ignored
    finally:
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_launcher_that_forks_the_server_and_exits_zero_is_not_taken_for_its_end(made):
    # Like `setsid` run as a process group leader: the process started forks the server,
    # which inherits the pipes, and exits 0 at once. The server is there; it is talked to.
    launcher = ("import os, sys\nif os.fork():\n    os._exit(0)\nos.execv(sys.executable, [sys.executable] + "
                "sys.argv[1:])\n")
    client, tap = made.client([PY, "-c", launcher] + misbehaving()[1:], "stdio", era="legacy", timeout=10)
    process = client._channel.process
    assert process.wait(5) == 0
    time.sleep(1.5)  # past the drain the client gives a server that exited
    assert client.call_tool("echo", {"ok": 1})["structuredContent"]["arguments"] == {"ok": 1}


@pytest.mark.parametrize("capture", [False, True])
def test_close_is_prompt_when_a_helper_outside_the_group_holds_the_pipes(made, tmp_path, capture):
    # A helper that made itself a session of its own (a daemon) cannot be stopped with the
    # server's process group, and holds its stdout and stderr open: close() still returns
    # once the server is gone, not after a wait per stream.
    pid_file = tmp_path / "helper.pid"
    helper = [PY, "-c", "import os, sys, time; os.setsid(); open(sys.argv[1], 'w').write(str(os.getpid())); "
              "time.sleep(30)", str(pid_file)]
    wrapper = "%s & exec %s" % (" ".join(shlex.quote(a) for a in helper), " ".join(misbehaving()))
    client, tap = made.client(["sh", "-c", wrapper], "stdio", era="legacy", timeout=10, capture_stderr=capture,
                              close_timeout=3.0)
    try:
        client.call_tool("echo")
        assert wait_until(lambda: pid_file.exists() and pid_file.read_text())
        process = client._channel.process
        started = time.monotonic()
        client.close()
        assert time.monotonic() - started < 2.5  # the server exits at end of input at once
        assert process.poll() == 0
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest.mark.parametrize("target", ["memory", "stdio", "stdio-died"])
def test_threads_return_to_baseline(made, kitchen, target):
    before = set(threading.enumerate())
    baseline = threading.active_count()
    if target == "memory":
        client = made.add(Client(kitchen, era="legacy", timeout=5, elicitation=lambda p: {"action": "decline"}))
        client.call_tool("ask_and_report")  # the handler pool too
    elif target == "stdio":
        client = made.add(Client.stdio(KITCHEN_ARGV, era="legacy", timeout=5, capture_stderr=True,
                                       elicitation=lambda p: {"action": "decline"}))
        client.call_tool("ask_and_report")
    else:
        client = made.add(Client.stdio(misbehaving(), era="legacy", timeout=5, capture_stderr=True))
        with pytest.raises(ConnectionClosed):
            client.call_tool("die", {"status": 1})
        # its reader and stderr threads end by themselves
        assert wait_until(lambda: not new_threads(before), 3.0), new_threads(before)
    if target != "stdio-died":
        assert threading.active_count() > baseline
    client.close()
    assert wait_until(lambda: not new_threads(before), 3.0), new_threads(before)
    assert threading.active_count() <= baseline


@pytest.mark.parametrize("target, era", [("memory", "legacy"), ("memory", "modern"),
                                         ("stdio", "legacy"), ("stdio", "modern")])
def test_one_client_from_eight_threads(made, target, era):
    if target == "memory":
        client = made.add(Client(make_kitchen_app(), era=era, timeout=10))
    else:
        client = made.add(Client.stdio(STDIO_APP_ARGV, era=era, timeout=10))
    assert client.era == era
    results = {}  # type: Dict[Tuple[int, int], Any]
    errors = []  # type: List[BaseException]
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait(5)
            for i in range(25):
                results[(n, i)] = client.call_tool("add", {"a": n * 1000, "b": i})["structuredContent"]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert results == {(n, i): {"result": n * 1000 + i} for n in range(8) for i in range(25)}


def test_a_server_that_stops_reading_cannot_block_a_call_past_its_timeout(made):
    client, tap = made.client(misbehaving("--stop-reading-after-init"), "stdio", era="legacy", timeout=0.5,
                              close_timeout=0.3)
    process = client._channel.process
    outcome = []  # type: List[Any]

    def call() -> None:
        try:
            client.call_tool("echo", {"text": "y" * 2000000})
            outcome.append("returned")
        except (MCPError, TransportError) as exc:
            outcome.append(exc)
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(2.0)
    finished = not thread.is_alive()
    process.kill()  # unblocks the write, whatever happened
    thread.join(5)
    assert finished, "the call was still blocked 1.5 s after its timeout"
    # Part of the line may be out: the connection is unusable, and says why.
    assert isinstance(outcome[0], ConnectionClosed), outcome
    assert "has not read its stdin for 0.5 s" in outcome[0].message
    with pytest.raises(ConnectionClosed):
        client.ping()


def test_close_returns_while_a_write_is_blocked(made):
    client, tap = made.client(misbehaving("--stop-reading-after-init"), "stdio", era="legacy", timeout=0.5,
                              close_timeout=0.3)
    process = client._channel.process
    writer = threading.Thread(target=lambda: pytest.raises(ConnectionClosed, client.call_tool, "echo",
                                                           {"text": "y" * 2000000}), daemon=True)
    writer.start()
    time.sleep(0.3)
    closer = threading.Thread(target=client.close, daemon=True)
    closer.start()
    closer.join(2.0)
    closed = not closer.is_alive()
    process.kill()
    closer.join(5)
    writer.join(5)
    assert closed, "close() did not return within 2 s"
