"""The synchronous client over Streamable HTTP (``Client.http``), in both protocol eras.

Against mcplite's own server (``app.run_in_thread("http")``, in SSE, JSON-response and
stateless modes) and against the official Python SDK's ``MCPServer`` on streamable-http
(``bench/servers/http_servers.py sdk PORT``, run by ``$MCPLITE_SDK_PYTHON``; skipped when
that is unset unless ``MCPLITE_REQUIRE_INTEROP`` is set, as ``interop_support`` rules).

What the server received is recorded by wrapping ``handle.app.handle`` (every HTTP request:
method, headers, JSON body, status, whether the answer was an SSE stream), so the tests
check the wire (session ids, DELETE, the GET stream, the 2026-07-28 headers, the
``input_required`` rounds) as well as what the API returns.

Every wait is bounded; servers listen on 127.0.0.1 only and are stopped by fixtures.
"""

import base64
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from asking_app import ANSWERS, make_asking_app
from interop_support import body, find_sdk_python, sdk_http_server, sessions_settle, unusable
from mcplite import (
    Client, ConnectionClosed, Context, HttpError, MCPError, ProtocolError, RequestTimeout, Server, ToolError,
    TransportError,
)

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
HEADER_MISMATCH = -32020
WAIT = 5.0  # the longest any single expected event may take
SERVER_INFO = {"name": "asking", "version": "1.0.0"}
MODES = {"sse": {}, "json": {"json_response": True}, "stateless": {"stateless": True}}

ASKING_TOOLS = ["ask_name", "two_steps", "ask_all", "summarize", "sample_with_tools", "list_roots", "ping_client",
                "sign_in", "needs_payment", "careful", "slow_question", "long_job", "read_other"]
OWN_TOOLS = ["add", "fail", "broken", "chatty", "touch", "hold", "version", "echo_headers", "region_tool"]
LANGUAGES = ["python", "perl", "php", "go", "rust"]

REGION_SCHEMA = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "priority": {"type": "integer", "x-mcp-header": "Priority"},
        "dry_run": {"type": "boolean", "x-mcp-header": "Dry-Run"},
        "options": {"type": "object", "properties": {"tier": {"type": "string", "x-mcp-header": "Tier"}}},
    },
    "required": ["region"],
}


def sentinel(text):
    # type: (str) -> str
    return "=?base64?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


# --- the tools' shared state ---------------------------------------------------------------------

class Hold:
    """What the ``hold`` tool and a test share: it started, it saw ``ctx.cancelled``."""

    def __init__(self):
        # type: () -> None
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.release = threading.Event()


_HOLDS = {}  # type: Dict[str, Hold]
_HOLDS_LOCK = threading.Lock()


def hold_for(tag):
    # type: (str) -> Hold
    with _HOLDS_LOCK:
        return _HOLDS.setdefault(tag, Hold())


def new_hold():
    # type: () -> Tuple[str, Hold]
    tag = uuid.uuid4().hex
    return tag, hold_for(tag)


def build_app():
    # type: () -> Server
    """The asking app (questions, progress, a prompt and a resource that ask) with page_size
    3 (every list is several pages) and this module's own tools."""
    app = make_asking_app(timeout=3.0, page_size=3)

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b

    @app.tool()
    def fail(code: int) -> str:
        """A JSON-RPC error with data"""
        raise MCPError(code, "custom failure", {"detail": [1, 2]})

    @app.tool()
    def broken() -> str:
        """A tool execution error"""
        raise ToolError("it broke")

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs once at each of four levels"""
        for level in ("debug", "info", "warning", "error"):
            ctx.log(level, level[0], logger="chatty")
        return "logged"

    @app.tool()
    def touch(uri: str) -> str:
        """Says a resource changed"""
        app.notify_resource_updated(uri)
        return "touched"

    @app.tool()
    def hold(ctx: Context, tag: str, emit: str = "") -> str:
        """Waits (5 s at most) until released or cancelled; first logs or reports progress"""
        state = hold_for(tag)
        state.started.set()
        if emit == "log":
            ctx.info("holding")
        elif emit == "progress":
            ctx.progress(1, 2, "holding")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not state.release.is_set():
            if ctx.cancelled:
                state.cancelled.set()
                return "cancelled"
            state.release.wait(0.01)
        return "released"

    @app.tool()
    def version(ctx: Context) -> str:
        """The protocol version of this request"""
        return ctx.protocol_version

    @app.tool()
    def echo_headers(ctx: Context) -> str:
        """The MCP and x- headers of this request, as JSON"""
        return json.dumps({k: v for k, v in ctx.http_headers.items() if k.startswith(("mcp", "x-"))},
                          sort_keys=True)

    def region_tool(ctx: Context, region: str, priority: int = 0, dry_run: bool = False,
                    options: Optional[Dict[str, Any]] = None) -> str:
        seen = {k: v for k, v in ctx.http_headers.items() if k.startswith("mcp-param-")}
        return json.dumps({"region": region, "headers": seen}, sort_keys=True)
    app.add_tool(region_tool, input_schema=REGION_SCHEMA, description="Mirrors its arguments into headers")

    @app.resource("note://b", mime_type="text/plain")
    def note_b() -> str:
        return "note b"

    @app.resource("item://{id}", mime_type="text/plain")
    def item(id: str) -> str:
        return "item " + id

    @app.prompt()
    def code_review(language: str, code: str) -> str:
        """Review code"""
        return "Review this %s: %s" % (language, code)

    @app.completion("language", prompt="code_review")
    def languages(value: str) -> List[str]:
        return [name for name in LANGUAGES if name.startswith(value)]

    return app


def build_changing_app():
    # type: () -> Server
    """A small app whose tool list changes at run time."""
    app = Server("changing", version="1.0.0")

    def extra() -> str:
        return "extra"

    @app.tool()
    def change(action: str) -> str:
        """Adds or removes the tool 'extra'"""
        if action == "add":
            app.add_tool(extra, name="extra")
        else:
            app.remove_tool("extra")
        return action

    @app.resource("note://a")
    def note_a() -> str:
        return "a"

    return app


# --- what the server received ---------------------------------------------------------------------

class Recorder:
    """Wraps ``handle.app.handle``: one entry per HTTP request the server answered."""

    def __init__(self, handle):
        # type: (Any) -> None
        self.lock = threading.Lock()
        self.entries = []  # type: List[Dict[str, Any]]
        inner = handle.app.handle

        def handle_request(req):
            # type: (Any) -> Any
            response = inner(req)
            try:
                message = json.loads(req.body.decode("utf-8")) if req.body else None
            except ValueError:
                message = None
            entry = {"method": req.method, "headers": dict(req.headers), "body": message,
                     "status": response.status if response is not None else None,
                     "streamed": response is not None and response.stream is not None}
            with self.lock:
                self.entries.append(entry)
            return response
        handle.app.handle = handle_request

    def mark(self):
        # type: () -> int
        with self.lock:
            return len(self.entries)

    def since(self, mark=0):
        # type: (int) -> List[Dict[str, Any]]
        with self.lock:
            return list(self.entries[mark:])

    def posts(self, method, mark=0):
        # type: (str, int) -> List[Dict[str, Any]]
        return [e for e in self.since(mark) if e["method"] == "POST" and isinstance(e["body"], dict)
                and e["body"].get("method") == method]

    def wait_for(self, predicate, mark=0, timeout=WAIT):
        # type: (Callable[[Dict[str, Any]], bool], int, float) -> List[Dict[str, Any]]
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.since(mark) if predicate(e)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.01)


def raw_post(url, message, headers):
    # type: (str, Any, Dict[str, str]) -> Tuple[int, bytes]
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
    try:
        all_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        all_headers.update(headers)
        conn.request("POST", parts.path, json.dumps(message).encode("utf-8"), all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until(predicate, timeout=WAIT):
    # type: (Callable[[], bool], float) -> bool
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def free_port():
    # type: () -> int
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Attempt:
    """A call run on its own thread, so a test can give up on it after a bounded wait."""

    def __init__(self, fn):
        # type: (Callable[[], Any]) -> None
        self.result = None  # type: Any
        self.error = None  # type: Optional[BaseException]
        self.elapsed = None  # type: Optional[float]
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name="test-attempt", daemon=True)
        self._start = time.monotonic()
        self._thread.start()

    def _run(self):
        # type: () -> None
        try:
            self.result = self._fn()
        except BaseException as exc:  # noqa: B902 - reported to the test
            self.error = exc
        self.elapsed = time.monotonic() - self._start

    def finished_within(self, seconds):
        # type: (float) -> bool
        self._thread.join(seconds)
        return not self._thread.is_alive()

    def join(self, seconds=WAIT):
        # type: (float) -> None
        self._thread.join(seconds)


# --- handlers a client answers the server with -------------------------------------------------------

class Answers:
    """Sampling, elicitation and roots handlers that record what they were asked."""

    def __init__(self):
        # type: () -> None
        self.lock = threading.Lock()
        self.asked = []  # type: List[Tuple[str, str]]

    def _note(self, method, what):
        # type: (str, str) -> None
        with self.lock:
            self.asked.append((method, what))

    def elicitation(self, params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        self._note("elicitation/create", params.get("message", ""))
        properties = (params.get("requestedSchema") or {}).get("properties") or {}
        if "a" in properties:
            return {"action": "accept", "content": {"a": "x"}}
        if "b" in properties:
            return {"action": "accept", "content": {"b": 7}}
        if "note" in properties:
            return {"action": "accept", "content": {"note": "n1"}}
        if "context" in properties:
            return {"action": "accept", "content": {"context": "tests"}}
        return ANSWERS["elicitation/create"]

    def sampling(self, params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        self._note("sampling/createMessage", json.dumps(params.get("messages"), sort_keys=True))
        return ANSWERS["sampling/createMessage"]

    def roots(self):
        # type: () -> List[Dict[str, Any]]
        self._note("roots/list", "")
        return ANSWERS["roots/list"]["roots"]

    def options(self):
        # type: () -> Dict[str, Any]
        return {"sampling": self.sampling, "elicitation": self.elicitation, "roots": self.roots}


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app():
    # type: () -> Server
    return build_app()


@pytest.fixture(scope="module")
def servers(app):
    # type: (Server) -> Any
    """One server per mode, on the module's app, each with a ``recorder``."""
    handles = {}  # type: Dict[str, Any]
    try:
        for mode, options in MODES.items():
            handle = app.run_in_thread("http", port=0, **options)
            handle.recorder = Recorder(handle)
            handles[mode] = handle
        yield handles
    finally:
        for handle in handles.values():
            handle.stop()


@pytest.fixture
def serve():
    # type: () -> Any
    """A fresh server for one test: ``serve(app=None, **options)``; stopped afterwards."""
    handles = []  # type: List[Any]

    def start(app=None, **options):
        # type: (Optional[Server], Any) -> Any
        handle = (app or build_app()).run_in_thread("http", port=0, **options)
        handle.recorder = Recorder(handle)
        handles.append(handle)
        return handle
    yield start
    for handle in handles:
        handle.stop()


@pytest.fixture
def connect():
    # type: () -> Any
    """``connect(url, **options)``: a ``Client.http`` with short timeouts, closed afterwards."""
    clients = []  # type: List[Client]

    def make(url, **options):
        # type: (str, Any) -> Client
        options.setdefault("timeout", WAIT)
        options.setdefault("probe_timeout", 2.0)
        client = Client.http(url, **options)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()


@pytest.fixture(params=["modern", "legacy"])
def era(request):
    # type: (Any) -> str
    return request.param


# --- the era probe and sessions -------------------------------------------------------------------

@pytest.mark.parametrize("mode", sorted(MODES))
def test_auto_probe_finds_a_modern_server(servers, connect, mode):
    handle = servers[mode]
    mark = handle.recorder.mark()
    client = connect(handle.url)
    assert (client.era, client.protocol_version) == ("modern", MODERN)
    assert client.server_info == SERVER_INFO
    assert client._channel.session_id is None
    assert client.server_capabilities["tools"] == {"listChanged": True}
    assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
    entries = handle.recorder.since(mark)
    assert [e["body"]["method"] for e in entries] == ["server/discover", "tools/call"]
    for entry in entries:
        assert entry["method"] == "POST"
        assert "mcp-session-id" not in entry["headers"]
        assert entry["headers"]["mcp-protocol-version"] == MODERN
        assert entry["headers"]["mcp-method"] == entry["body"]["method"]
        assert entry["body"]["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == MODERN
    assert entries[1]["headers"]["mcp-name"] == "add"


@pytest.mark.parametrize("mode", ["sse", "json"])
def test_legacy_session_is_used_then_deleted(serve, connect, mode):
    handle = serve(**MODES[mode])
    recorder = handle.recorder
    client = connect(handle.url, era="legacy")
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert client.server_info == SERVER_INFO
    session_id = client._channel.session_id
    assert isinstance(session_id, str) and len(session_id) == 32
    assert handle.app.session_count() == 1
    # The GET stream of the session is opened once the handshake is done.
    assert recorder.wait_for(lambda e: e["method"] == "GET"), recorder.since()
    seen = json.loads(client.call_tool("echo_headers")["content"][0]["text"])
    assert seen["mcp-session-id"] == session_id
    assert seen["mcp-protocol-version"] == LEGACY
    assert "mcp-method" not in seen and "mcp-name" not in seen  # 2026-07-28 headers only
    client.close()
    assert sessions_settle(handle, 0) == 0
    entries = recorder.since()
    assert entries[0]["body"]["method"] == "initialize"
    assert "mcp-session-id" not in entries[0]["headers"]
    assert [e["body"].get("method") for e in entries if e["method"] == "POST"] == [
        "initialize", "notifications/initialized", "tools/call"]
    assert sorted(e["method"] for e in entries) == ["DELETE", "GET", "POST", "POST", "POST"]
    for entry in entries[1:]:
        assert entry["headers"]["mcp-session-id"] == session_id, entry
        assert entry["headers"]["mcp-protocol-version"] == LEGACY, entry
    delete = [e for e in entries if e["method"] == "DELETE"]
    assert delete[0]["status"] == 200
    # The session is gone: a request naming it is refused with 404.
    status, data = raw_post(handle.url, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            {"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY})
    assert status == 404
    assert json.loads(data.decode("utf-8")) == {"jsonrpc": "2.0", "id": 1,
                                                "error": {"code": -32600, "message": "Session not found"}}


def test_legacy_on_a_stateless_server_has_no_session(serve, connect):
    handle = serve(stateless=True)
    client = connect(handle.url, era="legacy")
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert client._channel.session_id is None
    assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    client.close()
    methods = [e["method"] for e in handle.recorder.since()]
    assert methods == ["POST", "POST", "POST"]  # no GET stream, no DELETE
    assert handle.app.session_count() == 0


@pytest.mark.parametrize("version", ["2025-06-18", "2025-03-26", MODERN])
def test_protocol_version_asked_for(servers, connect, version):
    client = connect(servers["sse"].url, protocol_version=version)
    assert client.protocol_version == version
    assert client.era == ("modern" if version == MODERN else "legacy")
    assert client.call_tool("version")["content"] == [{"type": "text", "text": version}]


def test_custom_headers_go_on_every_request(servers, connect, era):
    handle = servers["sse"]
    mark = handle.recorder.mark()
    client = connect(handle.url, headers={"X-Test-Token": "t-1"}, era=era)
    seen = json.loads(client.call_tool("echo_headers")["content"][0]["text"])
    assert seen["x-test-token"] == "t-1"
    client.close()
    entries = handle.recorder.since(mark)
    assert entries and all(e["headers"].get("x-test-token") == "t-1" for e in entries)


def test_url_must_be_http():
    with pytest.raises(ValueError):
        Client.http("ftp://127.0.0.1/mcp")


# --- every API call --------------------------------------------------------------------------------

def test_lists_follow_every_page(servers, connect, era):
    client = connect(servers["sse"].url, era=era)
    assert sorted(t["name"] for t in client.list_tools()) == sorted(ASKING_TOOLS + OWN_TOOLS)
    assert sorted(r["uri"] for r in client.list_resources()) == ["note://ask", "note://b", "note://hello"]
    assert client.list_resource_templates() == [{"uriTemplate": "item://{id}", "name": "item",
                                                 "mimeType": "text/plain"}]
    assert sorted(p["name"] for p in client.list_prompts()) == ["code_review", "personal"]
    # page_size=3: tools/list took ceil(22 / 3) requests.
    mark = servers["sse"].recorder.mark()
    client.list_tools()
    assert len(servers["sse"].recorder.posts("tools/list", mark)) == 8


def test_call_read_get_complete_ping(servers, connect, era):
    client = connect(servers["sse"].url, era=era)
    added = client.call_tool("add", {"a": 2, "b": 3})
    assert body(added) == {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}}
    if era == "modern":
        assert added["resultType"] == "complete"
        assert added["_meta"] == {"io.modelcontextprotocol/serverInfo": SERVER_INFO}
    else:
        assert set(added) == {"content", "structuredContent"}
    assert body(client.call_tool("broken")) == {"content": [{"type": "text", "text": "it broke"}], "isError": True}
    assert body(client.read_resource("item://7")) == {
        "contents": [{"uri": "item://7", "mimeType": "text/plain", "text": "item 7"}]}
    assert body(client.get_prompt("code_review", {"language": "go", "code": "x := 1"})) == {
        "description": "Review code",
        "messages": [{"role": "user", "content": {"type": "text", "text": "Review this go: x := 1"}}]}
    assert client.complete({"type": "ref/prompt", "name": "code_review"}, "language", "p") == {
        "values": ["python", "perl", "php"], "total": 3, "hasMore": False}
    assert client.ping() is None
    raw = client.request("tools/list", {})
    assert len(raw["tools"]) == 3 and "nextCursor" in raw


def test_ping_is_ping_or_discover(servers, connect, era):
    handle = servers["sse"]
    client = connect(handle.url, era=era)
    mark = handle.recorder.mark()
    client.ping(timeout=2.0)
    method = "server/discover" if era == "modern" else "ping"
    assert [e["body"]["method"] for e in handle.recorder.since(mark) if e["method"] == "POST"] == [method]


def test_server_errors_raise_mcperror(servers, connect, era):
    client = connect(servers["sse"].url, era=era)
    with pytest.raises(MCPError) as info:
        client.call_tool("fail", {"code": -32050})
    assert (info.value.code, info.value.message, info.value.data) == (-32050, "custom failure", {"detail": [1, 2]})
    assert not isinstance(info.value, RequestTimeout)
    with pytest.raises(MCPError) as info:
        client.call_tool("no_such_tool", {})
    assert (info.value.code, info.value.message) == (-32602, "Unknown tool: no_such_tool")
    with pytest.raises(MCPError) as info:
        client.read_resource("note://missing")
    # 2026-07-28 retired -32002: resource-not-found is -32602 there.
    assert info.value.code == (-32602 if era == "modern" else -32002)
    assert (info.value.message, info.value.data) == ("Resource not found: note://missing", {"uri": "note://missing"})
    with pytest.raises(MCPError) as info:
        client.request("no/such/method", {})
    assert info.value.code == -32601


def test_a_closed_client_refuses_calls(servers, connect, era):
    client = connect(servers["sse"].url, era=era)
    client.close()
    start = time.monotonic()
    with pytest.raises(ConnectionClosed):
        client.call_tool("add", {"a": 1, "b": 2})
    assert time.monotonic() - start < 1.0
    client.close()  # twice is fine


# --- asking the client: legacy server requests, 2026-07-28 input_required rounds ------------------------

@pytest.mark.parametrize("mode", ["sse", "json"])
def test_server_requests_are_answered_by_the_handlers(servers, connect, era, mode):
    handle = servers[mode]
    answers = Answers()
    client = connect(handle.url, era=era, **answers.options())
    mark = handle.recorder.mark()
    assert client.call_tool("ask_name")["content"] == [{"type": "text", "text": "Hello, Ada!"}]
    assert client.call_tool("summarize", {"text": "long"})["content"] == [{"type": "text", "text": "hi (m1)"}]
    assert client.call_tool("list_roots")["structuredContent"] == {"result": ["file:///work"]}
    assert client.call_tool("ask_all")["content"] == [{"type": "text", "text": "Ada|hi|1"}]
    assert answers.asked[:3] == [
        ("elicitation/create", "What is your name?"),
        ("sampling/createMessage", json.dumps([{"role": "user", "content": {"type": "text",
                                                                           "text": "Summarize: long"}}],
                                                sort_keys=True)),
        ("roots/list", "")]
    # ask_all asks its three questions at once (in any order).
    assert sorted(m for m, _ in answers.asked[3:]) == ["elicitation/create", "roots/list", "sampling/createMessage"]
    calls = handle.recorder.posts("tools/call", mark)
    answered = [e["body"] for e in handle.recorder.since(mark)
                if e["method"] == "POST" and isinstance(e["body"], dict) and "method" not in e["body"]]
    if era == "legacy":
        # Each question was a request of the server's, answered with a POST of its own.
        assert len(calls) == 4
        assert sorted(json.dumps(a["result"], sort_keys=True) for a in answered) == sorted(
            json.dumps(r, sort_keys=True) for r in [
                ANSWERS["elicitation/create"], ANSWERS["sampling/createMessage"], ANSWERS["roots/list"],
                ANSWERS["elicitation/create"], ANSWERS["sampling/createMessage"], ANSWERS["roots/list"]])
        # The questions came on the tools/call's SSE stream, or (JSON-response mode) on the
        # session's GET stream.
        assert [e["streamed"] for e in calls] == [mode == "sse"] * 4
        if mode == "json":
            assert [e for e in handle.recorder.since() if e["method"] == "GET"
                    and e["headers"].get("mcp-session-id") == client._channel.session_id]
        assert client.call_tool("ping_client")["content"] == [{"type": "text", "text": "pong"}]
    else:
        # No server requests at all: each call is retried with the answers.
        assert answered == []
        assert len(calls) == 8
        assert [sorted(e["body"]["params"].get("inputResponses", {})) for e in calls] == [
            [], ["name"], [], ["sample-1"], [], ["roots-1"], [], ["hi", "roots", "who"]]


def test_input_required_rounds_are_retried(servers, connect):
    handle = servers["sse"]
    answers = Answers()
    client = connect(handle.url, era="modern", **answers.options())
    effects = len(handle.app.server.side_effects)
    mark = handle.recorder.mark()
    assert client.call_tool("two_steps")["content"] == [{"type": "text", "text": "x/7"}]
    assert answers.asked == [("elicitation/create", "First?"), ("elicitation/create", "Second?")]
    assert handle.app.server.side_effects[effects:] == ["two_steps"]
    calls = [e["body"]["params"] for e in handle.recorder.posts("tools/call", mark)]
    assert len(calls) == 3
    assert "inputResponses" not in calls[0] and "requestState" not in calls[0]
    assert calls[1]["inputResponses"] == {"elicit-1": {"action": "accept", "content": {"a": "x"}}}
    assert calls[2]["inputResponses"] == {"elicit-2": {"action": "accept", "content": {"b": 7}}}
    assert isinstance(calls[1]["requestState"], str) and isinstance(calls[2]["requestState"], str)
    assert calls[1]["requestState"] != calls[2]["requestState"]
    # prompts/get and resources/read take rounds too.
    prompt = client.get_prompt("personal")
    assert prompt["messages"] == [{"role": "user", "content": {"type": "text", "text": "Use tests"}}]
    assert client.read_resource("note://ask")["contents"] == [
        {"uri": "note://ask", "mimeType": "text/plain", "text": "note: n1"}]
    assert len(handle.recorder.posts("prompts/get", mark)) == 2
    assert len(handle.recorder.posts("resources/read", mark)) == 2


def test_rounds_are_bounded_by_max_rounds(servers, connect):
    handle = servers["sse"]
    answers = Answers()
    client = connect(handle.url, era="modern", max_rounds=1, **answers.options())
    mark = handle.recorder.mark()
    with pytest.raises(ProtocolError) as info:
        client.call_tool("two_steps")
    assert info.value.message == "tools/call still needed input after 1 rounds"
    assert len(handle.recorder.posts("tools/call", mark)) == 2  # the request and one retry


def test_the_round_past_max_rounds_asks_nothing(servers, connect):
    answers = Answers()
    client = connect(servers["sse"].url, era="modern", max_rounds=1, **answers.options())
    with pytest.raises(ProtocolError):
        client.call_tool("two_steps")
    assert answers.asked == [("elicitation/create", "First?")]


def test_capabilities_follow_the_handlers(servers, connect, era):
    bare = connect(servers["sse"].url, era=era)
    assert bare.call_tool("careful")["content"] == [{"type": "text", "text": "cannot ask"}]
    answers = Answers()
    full = connect(servers["sse"].url, era=era, capabilities={"sampling": {"tools": {}}}, **answers.options())
    assert full.capabilities == {"sampling": {"tools": {}}, "elicitation": {}, "roots": {"listChanged": True}}
    assert full.call_tool("careful")["content"] == [{"type": "text", "text": "Hello, Ada!"}]
    assert full.call_tool("sample_with_tools")["content"] == [{"type": "text", "text": "endTurn"}]


# --- progress, logs, subscriptions, list changes --------------------------------------------------------

def test_progress_reaches_the_callback(servers, connect, era):
    client = connect(servers["sse"].url, era=era)
    seen = []  # type: List[Tuple[Any, Any, Any]]
    result = client.call_tool("long_job", {"steps": 5}, progress=lambda p, t, m: seen.append((p, t, m)))
    assert result["content"] == [{"type": "text", "text": "finished"}]
    assert seen == [(i, 5, "step %d" % i) for i in range(1, 6)]


def test_set_log_level_and_on_log(servers, connect, era):
    logs = []  # type: List[Dict[str, Any]]
    client = connect(servers["sse"].url, era=era, on_log=logs.append)
    client.set_log_level("warning")
    assert client.call_tool("chatty")["content"] == [{"type": "text", "text": "logged"}]
    assert logs == [{"level": "warning", "data": "w", "logger": "chatty"},
                    {"level": "error", "data": "e", "logger": "chatty"}]
    del logs[:]
    client.set_log_level("debug")
    client.call_tool("chatty")
    assert [entry["level"] for entry in logs] == ["debug", "info", "warning", "error"]
    with pytest.raises(ValueError):
        client.set_log_level("loud")


class Updates:
    def __init__(self):
        # type: () -> None
        self.seen = []  # type: List[str]
        self.cond = threading.Condition()

    def __call__(self, item):
        # type: (str) -> None
        with self.cond:
            self.seen.append(item)
            self.cond.notify_all()

    def wait_for(self, count, timeout=WAIT):
        # type: (int, float) -> List[str]
        with self.cond:
            self.cond.wait_for(lambda: len(self.seen) >= count, timeout)
            return list(self.seen)


def test_subscribe_and_on_resource_updated(servers, connect, era):
    handle = servers["sse"]
    updates = Updates()
    client = connect(handle.url, era=era, on_resource_updated=updates)
    mark = handle.recorder.mark()
    client.subscribe("note://hello")
    # One not subscribed, then one subscribed: both would travel on the same stream, in order.
    client.call_tool("touch", {"uri": "note://b"})
    client.call_tool("touch", {"uri": "note://hello"})
    assert updates.wait_for(1) == ["note://hello"]
    if era == "modern":
        listen = handle.recorder.posts("subscriptions/listen", mark)
        assert len(listen) == 1 and listen[0]["streamed"]
        assert listen[0]["body"]["params"]["notifications"] == {"resourceSubscriptions": ["note://hello"]}
    else:
        assert [e["body"]["params"] for e in handle.recorder.posts("resources/subscribe", mark)] == [
            {"uri": "note://hello"}]


@pytest.mark.parametrize("era_", [
    "legacy",
    "modern",
])
def test_resubscribe_and_unsubscribe(serve, connect, era_):
    handle = serve()
    updates = Updates()
    client = connect(handle.url, era=era_, on_resource_updated=updates, timeout=2.0)
    client.subscribe("note://hello")
    attempt = Attempt(lambda: client.subscribe("note://b"))
    try:
        assert attempt.finished_within(2.0), "subscribe() still blocked after 2 s"
        assert attempt.error is None
        client.call_tool("touch", {"uri": "note://hello"})
        client.call_tool("touch", {"uri": "note://b"})
        assert updates.wait_for(2) == ["note://hello", "note://b"]
        unsubscribing = Attempt(lambda: client.unsubscribe("note://hello"))
        assert unsubscribing.finished_within(2.0), "unsubscribe() still blocked after 2 s"
        client.call_tool("touch", {"uri": "note://hello"})
        client.call_tool("touch", {"uri": "note://b"})
        assert updates.wait_for(3) == ["note://hello", "note://b", "note://b"]
    finally:
        client.close()
        handle.stop()  # ends whatever is still blocked
        attempt.join()


def test_on_list_changed_in_a_session(serve, connect):
    handle = serve(build_changing_app())
    changes = Updates()
    client = connect(handle.url, era="legacy", on_list_changed=changes)
    assert handle.recorder.wait_for(lambda e: e["method"] == "GET")  # the GET stream carries them
    client.call_tool("change", {"action": "add"})
    assert changes.wait_for(1) == ["tools"]
    assert sorted(t["name"] for t in client.list_tools()) == ["change", "extra"]
    client.call_tool("change", {"action": "remove"})
    assert changes.wait_for(2) == ["tools", "tools"]


def test_on_list_changed_on_a_listen_stream(serve, connect):
    handle = serve(build_changing_app())
    changes = Updates()
    client = connect(handle.url, era="modern", on_list_changed=changes)
    client.subscribe("note://a")  # opens subscriptions/listen, list changes included
    listen = handle.recorder.posts("subscriptions/listen")
    assert listen[-1]["body"]["params"]["notifications"] == {
        "toolsListChanged": True, "promptsListChanged": True, "resourcesListChanged": True,
        "resourceSubscriptions": ["note://a"]}
    client.call_tool("change", {"action": "add"})
    assert changes.wait_for(1) == ["tools"]


def test_on_list_changed_without_subscribing(serve, connect):
    handle = serve(build_changing_app())
    changes = Updates()
    client = connect(handle.url, era="modern", on_list_changed=changes)
    client.call_tool("change", {"action": "add"})
    assert changes.wait_for(1, timeout=1.5) == ["tools"]


# --- 2026-07-28 headers: Mcp-Param-* ---------------------------------------------------------------

def test_param_headers_mirror_x_mcp_header_arguments(servers, connect):
    client = connect(servers["sse"].url, era="modern")
    # Before list_tools the client cannot know the tool's x-mcp-header arguments, and the
    # server refuses a body value without its header: the validation below is real.
    with pytest.raises(MCPError) as info:
        client.call_tool("region_tool", {"region": "eu"})
    assert info.value.code == HEADER_MISMATCH
    client.list_tools()

    def call(arguments):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        result = client.call_tool("region_tool", arguments)
        assert not result.get("isError"), result
        return json.loads(result["content"][0]["text"])

    assert call({"region": "us-west-1"}) == {"region": "us-west-1", "headers": {"mcp-param-region": "us-west-1"}}
    assert call({"region": "Zürich", "priority": 3, "dry_run": True, "options": {"tier": "gold"}}) == {
        "region": "Zürich",
        "headers": {"mcp-param-region": sentinel("Zürich"), "mcp-param-priority": "3",
                    "mcp-param-dry-run": "true", "mcp-param-tier": "gold"}}
    assert call({"region": " padded ", "dry_run": False}) == {
        "region": " padded ", "headers": {"mcp-param-region": sentinel(" padded "), "mcp-param-dry-run": "false"}}
    assert call({"region": "東京"})["headers"] == {"mcp-param-region": sentinel("東京")}


def test_param_headers_are_modern_only(servers, connect):
    client = connect(servers["sse"].url, era="legacy")
    client.list_tools()
    result = client.call_tool("region_tool", {"region": "Zürich", "priority": 1})
    assert json.loads(result["content"][0]["text"]) == {"region": "Zürich", "headers": {}}


def test_param_header_value_that_looks_like_the_sentinel(servers, connect):
    client = connect(servers["sse"].url, era="modern")
    client.list_tools()
    value = "=?base64?SGVsbG8=?="
    result = client.call_tool("region_tool", {"region": value})
    assert json.loads(result["content"][0]["text"])["region"] == value


# --- timeouts and cancellation ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["sse", "json"])
def test_timeout_raises_promptly(servers, connect, era, mode):
    client = connect(servers[mode].url, era=era)
    tag, state = new_hold()
    start = time.monotonic()
    try:
        with pytest.raises(RequestTimeout) as info:
            client.call_tool("hold", {"tag": tag}, timeout=0.5)
        elapsed = time.monotonic() - start
        assert 0.45 <= elapsed < 1.5, elapsed
        assert info.value.method == "tools/call"
        assert state.started.is_set()
        # The client is still usable.
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    finally:
        state.release.set()


@pytest.mark.parametrize("era_", [
    "legacy",
    "modern",
])
def test_timeout_cancels_the_request_on_the_server(servers, connect, era_):
    client = connect(servers["json"].url, era=era_)
    tag, state = new_hold()
    try:
        with pytest.raises(RequestTimeout):
            client.call_tool("hold", {"tag": tag}, timeout=0.5)
        assert state.cancelled.wait(2.0), "the server's ctx.cancelled never became True"
    finally:
        state.release.set()


@pytest.mark.parametrize("era_", [
    "legacy",
    "modern",
])
def test_timeout_on_an_open_stream_is_prompt_and_cancels(serve, connect, era_):
    handle = serve()
    client = connect(handle.url, era=era_, on_log=lambda params: None)
    client.set_log_level("info")
    tag, state = new_hold()
    attempt = Attempt(lambda: client.call_tool("hold", {"tag": tag, "emit": "log"}, timeout=0.5))
    try:
        assert attempt.finished_within(2.0), "no RequestTimeout 2 s after a 0.5 s timeout"
        assert isinstance(attempt.error, RequestTimeout), attempt.error
        assert state.cancelled.wait(2.0), "the server's ctx.cancelled never became True"
    finally:
        state.release.set()
        attempt.join()


def test_progress_extends_by_the_calls_own_timeout(servers, connect):
    client = connect(servers["sse"].url, era="legacy", timeout=10.0)
    tag, state = new_hold()
    attempt = Attempt(lambda: client.call_tool("hold", {"tag": tag, "emit": "progress"}, timeout=0.5,
                                               progress=lambda *a: None))
    try:
        assert attempt.finished_within(2.5), "no RequestTimeout 2 s after the only progress notification"
        assert isinstance(attempt.error, RequestTimeout), attempt.error
    finally:
        state.release.set()
        attempt.join()


# --- servers that are not there or misbehave -----------------------------------------------------------

@pytest.mark.parametrize("era_", ["auto", "modern", "legacy"])
def test_refused_connection_fails_quickly(era_):
    url = "http://127.0.0.1:%d/mcp" % free_port()
    start = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        Client.http(url, era=era_, timeout=5.0, probe_timeout=5.0)
    assert time.monotonic() - start < 2.0
    assert info.value.message.startswith("cannot reach %s: " % url)
    assert "refused" in info.value.message.lower()


class _Misbehaving(BaseHTTPRequestHandler):
    """Answers the handshake properly (``mode`` starting "after-"), or not at all, then
    answers everything else the way ``mode`` says."""

    protocol_version = "HTTP/1.1"
    server = None  # type: Any

    def log_message(self, *args):
        # type: (Any) -> None
        pass

    def _send(self, status, data, content_type):
        # type: (int, bytes, str) -> None
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        # type: () -> None
        self._send(405, b"", "text/plain")

    do_DELETE = do_GET

    def do_POST(self):
        # type: () -> None
        message = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        mode = self.server.mode
        method = message.get("method") if isinstance(message, dict) else None
        if mode.startswith("after-"):
            mode = mode[len("after-"):]
            if method == "server/discover":
                result = {"supportedVersions": [MODERN], "capabilities": {"tools": {}},
                          "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "odd", "version": "1"}}}
                self._send(200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode(),
                           "application/json")
                return
            if method == "initialize":
                result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                          "serverInfo": {"name": "odd", "version": "1"}}
                self._send(200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode(),
                           "application/json")
                return
            if "id" not in message:
                self._send(202, b"", "text/plain")
                return
        if mode == "500-text":
            self._send(500, b"Internal Server Error", "text/plain")
        elif mode == "500-empty":
            self._send(500, b"", "text/plain")
        elif mode == "200-html":
            self._send(200, b"<html><body>hello</body></html>", "text/html")
        elif mode == "500-json":
            error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": "Internal error"}}
            self._send(500, json.dumps(error).encode(), "application/json")
        elif mode == "hang-up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)


class _MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    mode = ""


@pytest.fixture
def misbehaving():
    # type: () -> Any
    servers = []  # type: List[_MisbehavingServer]

    def start(mode):
        # type: (str) -> str
        server = _MisbehavingServer(("127.0.0.1", 0), _Misbehaving)
        server.mode = mode
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d/mcp" % server.server_address[1]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


BROKEN = [("500-text", "HTTP 500 with a body that is not JSON"),
          ("500-empty", "HTTP 500 with no response to request"),
          ("200-html", "HTTP 200 with a body that is not JSON"),
          ("hang-up", "cannot reach")]


@pytest.mark.parametrize("mode,message", BROKEN)
@pytest.mark.parametrize("era_", ["auto", "modern", "legacy"])
def test_broken_answers_to_the_handshake(misbehaving, mode, message, era_):
    url = misbehaving(mode)
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        Client.http(url, era=era_, timeout=5.0, probe_timeout=5.0)
    assert time.monotonic() - start < 2.0
    assert isinstance(info.value, (HttpError, ConnectionClosed))
    assert info.value.message.startswith(message), info.value.message


@pytest.mark.parametrize("mode,message", BROKEN)
def test_broken_answers_to_a_call(misbehaving, connect, era, mode, message):
    client = connect(misbehaving("after-" + mode), era=era)
    assert client.server_info == {"name": "odd", "version": "1"}
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.call_tool("add", {"a": 1, "b": 2})
    assert time.monotonic() - start < 2.0
    assert isinstance(info.value, (HttpError, ConnectionClosed))
    assert info.value.message.startswith(message), info.value.message


def test_http_error_with_a_null_id_body_fails_promptly(misbehaving, connect, era):
    client = connect(misbehaving("after-500-json"), era=era, timeout=1.5)
    start = time.monotonic()
    with pytest.raises(MCPError) as info:
        client.call_tool("add", {"a": 1, "b": 2})
    assert time.monotonic() - start < 1.0
    assert not isinstance(info.value, RequestTimeout)


def test_a_session_ended_by_the_server_is_replaced_promptly(serve, connect):
    # "When a client receives HTTP 404 in response to a request containing an
    # Mcp-Session-Id, it MUST start a new session": the call then goes through there.
    handle = serve()
    client = connect(handle.url, era="legacy", timeout=1.5)
    ended = client._channel.session_id
    parts = urllib.parse.urlsplit(handle.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
    conn.request("DELETE", parts.path, headers={"Mcp-Session-Id": ended, "MCP-Protocol-Version": LEGACY})
    assert conn.getresponse().status == 200
    conn.close()
    start = time.monotonic()
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    assert time.monotonic() - start < 1.0
    assert client._channel.session_id not in (None, ended)


def test_a_lost_session_sends_again_only_the_requests_it_lost(serve, connect):
    """A request that ran and got the server's own error while the session was lost by
    something else (here a notification's 404) keeps that error: it is not sent a second
    time in the new session, which only the requests the lost session refused are."""
    app = build_app()
    runs = []  # type: List[int]
    release = threading.Event()

    @app.tool()
    def refuse_later() -> str:
        """Counts its runs, then refuses"""
        runs.append(1)
        release.wait(WAIT)
        raise MCPError(-32050, "refused on purpose")
    handle = serve(app)
    client = connect(handle.url, era="legacy", roots=[{"uri": "file:///tmp"}])
    outcome = []  # type: List[Any]

    def call():
        # type: () -> None
        try:
            outcome.append(client.call_tool("refuse_later"))
        except BaseException as exc:  # noqa: B902 - reported to the test
            outcome.append(exc)
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    assert wait_until(lambda: runs == [1])
    # The server forgets the session (as when it expires) while the call runs on; the next
    # message naming it gets 404: a notification, so no request of ours was lost with it.
    with handle.app._lock:
        orphan = handle.app._sessions.pop(client._channel.session_id)
    client.notify_roots_changed()
    release.set()
    thread.join(WAIT)
    orphan.close()  # (its GET stream would hold the server's stop up)
    assert not thread.is_alive()
    assert runs == [1], "the call ran twice: sent again in a new session after its own error"
    assert isinstance(outcome[0], MCPError) and outcome[0].code == -32050
    # The next call finds the session lost, starts a new one and goes through there.
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}


def test_many_requests_lost_with_one_session_start_one_new_session(serve, connect):
    handle = serve()
    client = connect(handle.url, era="legacy", timeout=3.0)
    ended = client._channel.session_id
    with handle.app._lock:
        handle.app._sessions.pop(ended).close()
    mark = handle.recorder.mark()
    results, errors = hammer(client, threads=8, calls=3)
    assert errors == []
    assert len(results) == 24
    assert len(handle.recorder.posts("initialize", mark)) == 1, "one lost session, one new one"
    assert client._channel.session_id not in (None, ended)


# --- threads ------------------------------------------------------------------------------------------

def hammer(client, threads=8, calls=25):
    # type: (Client, int, int) -> Tuple[Dict[Tuple[int, int], Any], List[BaseException]]
    results = {}  # type: Dict[Tuple[int, int], Any]
    errors = []  # type: List[BaseException]
    barrier = threading.Barrier(threads)

    def work(n):
        # type: (int) -> None
        try:
            barrier.wait(WAIT)
            for i in range(calls):
                result = client.call_tool("add", {"a": n * 1000, "b": i})
                results[(n, i)] = result["structuredContent"]["result"]
        except BaseException as exc:  # noqa: B902 - reported to the test
            errors.append(exc)
    workers = [threading.Thread(target=work, args=(n,), name="test-hammer-%d" % n) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not [w for w in workers if w.is_alive()], "calls still running after 30 s"
    return results, errors


def test_one_client_from_eight_threads(servers, connect, era):
    client = connect(servers["sse"].url, era=era, timeout=10.0)
    results, errors = hammer(client)
    assert errors == []
    assert results == {(n, i): n * 1000 + i for n in range(8) for i in range(25)}


def new_threads(baseline, timeout=WAIT):
    # type: (set, float) -> List[str]
    deadline = time.monotonic() + timeout
    while True:
        extra = [t for t in threading.enumerate() if t not in baseline and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            return sorted(t.name for t in extra)
        time.sleep(0.02)


def test_no_thread_left_after_close():
    baseline = set(threading.enumerate())
    count = threading.active_count()
    handle = build_app().run_in_thread("http", port=0)
    try:
        answers = Answers()
        updates = Updates()
        legacy = Client.http(handle.url, era="legacy", timeout=WAIT, on_resource_updated=updates,
                             **answers.options())
        modern = Client.http(handle.url, era="modern", timeout=WAIT, on_resource_updated=updates,
                             **answers.options())
        try:
            for client in (legacy, modern):
                client.subscribe("note://hello")
                assert client.call_tool("ask_name")["content"] == [{"type": "text", "text": "Hello, Ada!"}]
                client.call_tool("long_job", {"steps": 2}, progress=lambda *a: None)
                results, errors = hammer(client, threads=4, calls=5)
                assert errors == [] and len(results) == 20
            legacy.call_tool("touch", {"uri": "note://hello"})
            assert updates.wait_for(2) == ["note://hello", "note://hello"]
        finally:
            legacy.close()
            modern.close()
    finally:
        handle.stop()
    assert new_threads(baseline) == []
    assert threading.active_count() <= count


# --- the official SDK's server ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sdk_servers(tmp_path_factory):
    # type: (Any) -> Any
    """Two SDK servers, SSE answers and ``--json-response``: {json_response: url}."""
    if not os.environ.get("MCPLITE_SDK_PYTHON") and not os.environ.get("MCPLITE_REQUIRE_INTEROP"):
        unusable("MCPLITE_SDK_PYTHON", "MCPLITE_SDK_PYTHON is not set (scripts/test sets it to the SDK's venv)")
    python = find_sdk_python(["mcp.server.mcpserver"])
    logs = tmp_path_factory.mktemp("sdk")
    with sdk_http_server(python, logs) as sse_url, sdk_http_server(python, logs, json_response=True) as json_url:
        yield {False: sse_url, True: json_url}


SDK_INFO = {"name": "bench", "version": "1.0.0"}


@pytest.mark.parametrize("json_response", [False, True])
def test_sdk_auto_probe_finds_modern(sdk_servers, connect, json_response):
    client = connect(sdk_servers[json_response])
    assert (client.era, client.protocol_version) == ("modern", MODERN)
    assert client.server_info == SDK_INFO
    assert client._channel.session_id is None
    result = client.call_tool("add", {"a": 2, "b": 40})
    assert body(result) == {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}
    assert result["resultType"] == "complete"


@pytest.mark.parametrize("json_response", [False, True])
def test_sdk_legacy_session_is_deleted_on_close(sdk_servers, connect, json_response):
    url = sdk_servers[json_response]
    client = connect(url, era="legacy")
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert client.server_info == SDK_INFO
    session_id = client._channel.session_id
    assert isinstance(session_id, str) and session_id
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    status, _ = raw_post(url, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         {"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY})
    assert status == 200  # the session is alive...
    client.close()
    status, data = raw_post(url, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            {"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY})
    assert status == 404  # ... until close() deleted it
    assert json.loads(data.decode("utf-8"))["error"]["message"] == "Session not found"


@pytest.mark.parametrize("json_response", [False, True])
def test_sdk_api_calls(sdk_servers, connect, era, json_response):
    client = connect(sdk_servers[json_response], era=era)
    tools = client.list_tools()
    assert [t["name"] for t in tools] == ["add", "add_progress"]
    assert tools[0]["inputSchema"]["required"] == ["a", "b"]
    assert body(client.call_tool("add", {"a": 1, "b": 2})) == {
        "content": [{"type": "text", "text": "3"}], "structuredContent": {"result": 3}}
    seen = []  # type: List[Tuple[Any, Any, Any]]
    result = client.call_tool("add_progress", {"a": 5, "b": 6}, progress=lambda p, t, m: seen.append((p, t, m)))
    assert result["structuredContent"] == {"result": 11}
    if not json_response:
        assert seen == [(1, 2, None)]
    assert client.list_prompts() == []
    assert client.list_resources() == []
    assert client.ping() is None
    bad = client.call_tool("add", {"a": "x"})
    assert bad["isError"] is True and "validation error" in bad["content"][0]["text"]
    with pytest.raises(MCPError) as info:
        client.read_resource("nope://x")
    assert (info.value.code, info.value.message, info.value.data) == (
        -32602, "Unknown resource: nope://x", {"uri": "nope://x"})
    with pytest.raises(MCPError) as info:
        client.request("no/such/method", {})
    assert (info.value.code, info.value.message) == (-32601, "Method not found")


def test_sdk_one_client_from_eight_threads(sdk_servers, connect, era):
    client = connect(sdk_servers[False], era=era, timeout=10.0)
    results, errors = hammer(client)
    assert errors == []
    assert results == {(n, i): n * 1000 + i for n in range(8) for i in range(25)}


def test_sdk_no_thread_left_after_close(sdk_servers):
    baseline = set(threading.enumerate())
    for era_ in ("legacy", "modern"):
        client = Client.http(sdk_servers[False], era=era_, timeout=WAIT)
        try:
            client.call_tool("add_progress", {"a": 1, "b": 1}, progress=lambda *a: None)
            results, errors = hammer(client, threads=4, calls=5)
            assert errors == [] and len(results) == 20
        finally:
            client.close()
    assert new_threads(baseline) == []
