"""Edge cases of the client's Streamable HTTP channel against a hand-written server: an SSE
answer with a Content-Length (as the official SDK's servers send them) must not make the
next request on the kept-alive connection go out twice; tools whose x-mcp-header
annotations the spec forbids are dropped."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest

from interop_support import sdk_python_fixture, sdk_sse_server
from mcplite import Client, ConnectionClosed, Context, RequestTimeout, Server

MODERN = "2026-07-28"
TOOLS = [
    {"name": "good", "inputSchema": {"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"}}}},
    # "MUST only be applied to parameters with primitive types": an object is refused.
    {"name": "bad", "inputSchema": {"type": "object", "properties": {
        "where": {"type": "object", "x-mcp-header": "Where"}}}},
    # Not a header-name token: a line break (which the check's "$" took) would end the
    # header line; the call then failed in http.client instead of the tool being dropped.
    {"name": "broken", "inputSchema": {"type": "object", "properties": {
        "where": {"type": "string", "x-mcp-header": "Where\n"}}}},
]


def answer(message: Dict[str, Any]) -> Dict[str, Any]:
    method = message["method"]
    meta = {"io.modelcontextprotocol/serverInfo": {"name": "hand", "version": "1"}}
    if method == "server/discover":
        result = {"supportedVersions": [MODERN], "capabilities": {"tools": {}}, "resultType": "complete",
                  "ttlMs": 0, "cacheScope": "private", "_meta": meta}
    elif method == "tools/list":
        result = {"tools": TOOLS, "resultType": "complete", "ttlMs": 0, "cacheScope": "private", "_meta": meta}
    elif message["params"]["name"] == "vanish":
        return {}  # the stream ends without the response
    else:
        result = {"content": [{"type": "text", "text": "called %s" % message["params"]["name"]}],
                  "resultType": "complete", "_meta": meta}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


@contextlib.contextmanager
def serving(handler: Any) -> Iterator[str]:
    """``handler`` (a BaseHTTPRequestHandler) serving on 127.0.0.1: the endpoint's URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server():
    received = []  # type: List[Dict[str, Any]]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"message": message, "headers": {k.lower(): v for k, v in self.headers.items()}})
            reply = answer(message)
            body = ("event: message\ndata: %s\n\n" % json.dumps(reply)).encode() if reply else b": bye\n\n"
            # SSE with a Content-Length, on a kept-alive connection.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as url:
        yield url, received


def test_each_request_goes_out_once_after_an_sse_answer_with_a_length(server):
    url, received = server
    with Client.http(url, timeout=5) as client:
        assert client.era == "modern"
        for _ in range(3):
            assert client.call_tool("good", {"region": "eu"})["content"][0]["text"] == "called good"
    methods = [r["message"]["method"] for r in received]
    assert methods == ["server/discover", "tools/call", "tools/call", "tools/call"]
    ids = [r["message"]["id"] for r in received]
    assert len(ids) == len(set(ids)), ids


def test_a_request_given_up_on_is_not_sent_again():
    """In 2026-07-28 the client cancels a request by closing its stream; a request on a
    kept-alive connection must not take that for a connection the server had closed, and
    send it again (a second run of the tool nobody waits for)."""
    app = Server("once", version="1.0.0")
    runs = []  # type: List[str]

    @app.tool()
    def quick() -> str:
        return "quick"

    @app.tool()
    def slow(ctx: Context) -> str:
        runs.append("started")
        deadline = time.monotonic() + 3.0
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        runs.append("cancelled" if ctx.cancelled else "finished")
        return "slow"

    with app.run_in_thread("http", host="127.0.0.1", port=0, path="/mcp") as handle:
        with Client.http(handle.url, era="modern", timeout=5) as client:
            assert client.call_tool("quick")["content"][0]["text"] == "quick"  # a connection kept alive
            with pytest.raises(RequestTimeout):
                client.call_tool("slow", timeout=0.3)
            deadline = time.monotonic() + 5.0
            while "cancelled" not in runs and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # a second request would have reached the tool by now
            assert client.call_tool("quick")["content"][0]["text"] == "quick"
    assert runs == ["started", "cancelled"]


def test_tools_with_forbidden_header_annotations_are_dropped(server):
    url, received = server
    with Client.http(url, timeout=5) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["good"]
        client.call_tool("good", {"region": "eu-west"})
    call = received[-1]
    assert call["headers"]["mcp-param-region"] == "eu-west"
    assert call["headers"]["mcp-name"] == "good" and call["headers"]["mcp-method"] == "tools/call"


def test_a_modern_stream_that_ends_without_its_response_fails_at_once(server):
    url, received = server
    with Client.http(url, timeout=10) as client:
        start = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            client.call_tool("vanish")
        assert time.monotonic() - start < 2, "waited for the timeout instead of failing at once"
        assert "ended the response stream" in info.value.message


def test_a_session_resumes_a_closed_stream_with_last_event_id():
    app = Server("polling")

    @app.tool()
    def poll(ctx: Context) -> str:
        ctx.info("before")
        ctx.close_sse_stream(retry_ms=200)  # the server closes the connection, the stream goes on
        threading.Event().wait(0.4)
        ctx.info("after")
        return "done"

    seen = []  # type: List[Any]
    original = None
    with app.run_in_thread("http", port=0) as handle:
        original = handle.app.handle

        def spy(request: Any) -> Any:
            seen.append((request.method, request.headers.get("last-event-id")))
            return original(request)
        handle.app.handle = spy
        logs = []  # type: List[Any]
        with Client.http(handle.url, era="legacy", timeout=5, on_log=lambda params: logs.append(params["data"])) as c:
            start = time.monotonic()
            assert c.call_tool("poll")["content"] == [{"type": "text", "text": "done"}]
            elapsed = time.monotonic() - start
    assert logs == ["before", "after"]
    resumed = [event_id for method, event_id in seen if method == "GET" and event_id]
    assert len(resumed) == 1 and resumed[0].startswith("1.")  # the call's own stream, after its last event
    assert 0.2 <= elapsed < 3


def test_a_session_the_server_ended_is_replaced_and_the_request_sent_again():
    app = Server("renewing")
    calls = []  # type: List[str]

    @app.tool()
    def hi() -> str:
        calls.append("hi")
        return "hi"

    @app.resource("note://a")
    def note() -> str:
        return "a"

    updates = []  # type: List[str]
    with app.run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, era="legacy", timeout=5, on_resource_updated=updates.append) as client:
            client.set_log_level("warning")
            client.subscribe("note://a")
            first = client._channel.session_id
            # The server ends the session (as after its idle timeout): the next request gets 404.
            with handle.app._lock:
                ended = handle.app._sessions.pop(first)
            ended.close()
            assert client.call_tool("hi")["content"] == [{"type": "text", "text": "hi"}]
            second = client._channel.session_id
            assert second is not None and second != first
            assert calls == ["hi"]  # sent again in the new session, run once
            # What the old session had set up was set up again: the subscription...
            deadline = time.monotonic() + 3
            while not updates and time.monotonic() < deadline:
                app.notify_resource_updated("note://a")
                time.sleep(0.1)
            assert updates and updates[0] == "note://a"
            # ...and the log level.
            with handle.app._lock:
                session = handle.app._sessions[second]
            assert session.connection.session.log_level == "warning"


# --- the 2024-11-05 HTTP+SSE transport ---------------------------------------------------------


def test_an_http_sse_endpoint_is_reached_through_the_old_transport():
    app = Server("old")

    @app.tool()
    def ask(ctx: Context) -> str:
        return "Hello, %s!" % ctx.elicit("Name?", {"name": str})["content"]["name"]

    with app.run_in_thread("http", port=0) as handle:
        url = handle.url.replace("/mcp", "/sse")
        answer = {"action": "accept", "content": {"name": "Ada"}}
        with Client.http(url, timeout=5, elicitation=lambda params: answer) as client:
            # POST /sse is refused (405): the client falls back to GET /sse and its endpoint event.
            assert type(client._channel).__name__ == "LegacySseChannel"
            assert client.era == "legacy" and client.protocol_version == "2025-11-25"
            assert client._channel.endpoint.startswith("/messages?session_id=")
            assert [tool["name"] for tool in client.list_tools()] == ["ask"]
            assert client.call_tool("ask")["content"] == [{"type": "text", "text": "Hello, Ada!"}]
        deadline = time.monotonic() + 3
        while handle.app.session_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.app.session_count() == 0  # closing the GET stream ended the session


def test_an_endpoint_that_is_neither_transport_gets_a_clear_error():
    class Nothing(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _refuse(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
        do_GET = do_POST = _refuse

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Nothing)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        start = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            Client.http("http://127.0.0.1:%d/mcp" % httpd.server_address[1], timeout=3)
        assert "neither a Streamable HTTP nor an HTTP+SSE endpoint" in info.value.message
        assert time.monotonic() - start < 3
    finally:
        httpd.shutdown()
        httpd.server_close()


sdk_python = sdk_python_fixture("mcp.server.sse")


def test_the_official_sdks_old_sse_server(sdk_python, tmp_path):
    with sdk_sse_server(sdk_python, tmp_path) as url:
        with Client.http(url, timeout=10) as client:
            assert type(client._channel).__name__ == "LegacySseChannel"
            assert client.era == "legacy" and client.server_info["name"] == "old-sse"
            assert [tool["name"] for tool in client.list_tools()] == ["add"]
            assert client.call_tool("add", {"a": 2, "b": 3})["content"] == [{"type": "text", "text": "5"}]


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_a_quiet_call_longer_than_the_connect_timeout_is_waited_for(era):
    """``connect_timeout`` bounds connecting and writing; the answer is waited for as long as
    the call's ``timeout`` says (it once failed with "timed out" after 30 s of quiet
    whatever the call's timeout was)."""
    app = Server("patient")

    @app.tool()
    def slow() -> str:
        time.sleep(0.8)
        return "late"

    @app.tool()
    def slow_with_context(ctx: Context) -> str:
        time.sleep(0.8)
        return "late too"

    with app.run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, era=era, timeout=5, connect_timeout=0.3) as client:
            assert client.call_tool("slow")["content"] == [{"type": "text", "text": "late"}]
            assert client.call_tool("slow_with_context")["content"] == [{"type": "text", "text": "late too"}]
            with pytest.raises(RequestTimeout):  # and the call's own timeout still ends the wait
                client.call_tool("slow", timeout=0.4)


@pytest.fixture
def lingering_server():
    """A session-era server that answers a call on a stream it then keeps open: on the
    call's resumed stream ("resume": the POST's stream ends after a priming event, the
    answer comes on the GET with Last-Event-ID, as the conformance suite's sse-retry mock
    does), or on the POST's own stream ("linger", a log message right behind the answer)."""
    stop = threading.Event()
    gets = []  # type: List[str]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def stream(self, *events: str, hold: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.end_headers()
            self.wfile.write("".join(events).encode())
            self.wfile.flush()
            if hold:
                stop.wait(15)

        def do_GET(self) -> None:
            last = self.headers.get("Last-Event-ID")
            if last is None:  # no standalone stream here
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            gets.append(last)
            answer = {"jsonrpc": "2.0", "id": pending[0], "result": {"content": [{"type": "text", "text": "resumed"}]}}
            self.stream("id: e2\ndata: %s\n\n" % json.dumps(answer), hold=True)

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            method = message.get("method")
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if method == "initialize":
                result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "logging": {}},
                          "serverInfo": {"name": "lingering", "version": "1"}}
            elif method == "tools/call" and message["params"]["name"] == "resume":
                pending[:] = [message["id"]]
                self.stream("id: e1\nretry: 100\ndata: \n\n", hold=False)
                return
            elif method == "tools/call":
                answer = {"jsonrpc": "2.0", "id": message["id"],
                          "result": {"content": [{"type": "text", "text": "lingered"}]}}
                log = {"jsonrpc": "2.0", "method": "notifications/message",
                       "params": {"level": "info", "data": "right behind"}}
                self.stream("data: %s\n\ndata: %s\n\n" % (json.dumps(answer), json.dumps(log)), hold=True)
                return
            else:
                result = {}
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    pending = []  # type: List[Any]
    try:
        with serving(Handler) as url:
            yield url, gets
    finally:
        stop.set()


def test_an_answer_on_a_stream_the_server_keeps_open_is_returned_at_once(lingering_server):
    url, gets = lingering_server
    logs = []  # type: List[Any]
    with Client.http(url, era="legacy", timeout=20, on_log=lambda params: logs.append(params["data"])) as client:
        start = time.monotonic()
        assert client.call_tool("resume")["content"] == [{"type": "text", "text": "resumed"}]
        assert time.monotonic() - start < 2.5, "the caller read the resumed stream the server kept open"
        assert gets == ["e1"]
        start = time.monotonic()
        assert client.call_tool("linger")["content"] == [{"type": "text", "text": "lingered"}]
        assert time.monotonic() - start < 2.5, "the caller read the call's stream the server kept open"
        assert client.call_tool("linger")["content"] == [{"type": "text", "text": "lingered"}]
    assert logs == ["right behind", "right behind"]  # what came with the answer is not lost


@pytest.fixture
def close_delimited_server():
    """A session-era server whose SSE answers end with the connection (``Connection: close``,
    no length and no chunking, as an HTTP/1.0 server or proxy sends them): http.client then
    hands the socket over to the response, and the connection forgets it. A call to
    "hang" gets a comment and then nothing until the test ends; the standalone GET stream
    is open and quiet."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def hold_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b": open\n\n")
            self.wfile.flush()
            stop.wait(15)

        do_GET = hold_stream

        def do_DELETE(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if message["method"] != "initialize":
                self.hold_stream()
                return
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "close-delimited", "version": "1"}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def _client_threads() -> List[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("mcplite-http-client")
                  or t.name == "mcplite-client-sse")


def test_a_timeout_ends_a_call_on_a_close_delimited_stream(close_delimited_server):
    """The call's timeout ends the wait by shutting the request's connection down; with an
    answer that ends with the connection, that is the response's socket (it once did
    nothing there: the caller waited until the server ended the stream)."""
    with Client.http(close_delimited_server, era="legacy", timeout=5) as client:
        start = time.monotonic()
        with pytest.raises(RequestTimeout):
            client.call_tool("hang", timeout=0.3)
        assert time.monotonic() - start < 5, "the timeout did not end the wait"


def test_close_ends_calls_and_the_get_stream_on_close_delimited_streams(close_delimited_server):
    client = Client.http(close_delimited_server, era="legacy", timeout=10)
    outcome = []  # type: List[Any]

    def call() -> None:
        try:
            client.call_tool("hang")
        except Exception as exc:  # noqa: BLE001 - what ended it is the test's question
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)
    start = time.monotonic()
    client.close()
    caller.join(5)
    assert not caller.is_alive(), "close() did not end the call"
    assert isinstance(outcome[0], ConnectionClosed)
    assert time.monotonic() - start < 1.5, "close() waited for a stream it could not shut"
    deadline = time.monotonic() + 3
    while _client_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _client_threads() == []


class _Calls(list):
    now = most = 0  # the calls being handled at once, at most


@pytest.fixture
def old_sse_server():
    """A 2024-11-05 HTTP+SSE server whose GET stream ends with its connection (no length,
    no chunking); a POST of the tool "crash" is received and dropped with its connection,
    unanswered."""
    import queue
    answers = queue.Queue()  # type: Any
    stop = threading.Event()
    calls = _Calls()
    lock = threading.Lock()

    class Old(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"event: endpoint\ndata: /messages\n\n")
            self.wfile.flush()
            while not stop.is_set():
                try:
                    message = answers.get(timeout=0.05)
                except queue.Empty:
                    continue
                self.wfile.write(("data: %s\n\n" % json.dumps(message)).encode())
                self.wfile.flush()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if message.get("params", {}).get("name") == "crash":
                calls.append("crash")
                self.close_connection = True
                return
            if self.path != "/messages" or "id" not in message or message.get("params", {}).get("name") != "wait":
                self.send_response(405 if self.path != "/messages" else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()
            if self.path != "/messages" or "id" not in message:
                return
            if message["method"] == "tools/call":
                calls.append(message["params"]["name"])
            result = {"content": [{"type": "text", "text": "ok"}]}  # type: Dict[str, Any]
            if message.get("params", {}).get("name") == "wait":
                # Handled before its POST is answered (some servers do); 202 comes with the answer.
                with lock:
                    calls.now += 1
                    calls.most = max(calls.most, calls.now)
                time.sleep(0.6)
                with lock:
                    calls.now -= 1
                answers.put({"jsonrpc": "2.0", "id": message["id"], "result": result})
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if message["method"] == "initialize":
                result = {"protocolVersion": "2024-11-05", "capabilities": {"tools": {}},
                          "serverInfo": {"name": "old", "version": "1"}}
            answers.put({"jsonrpc": "2.0", "id": message["id"], "result": result})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Old)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d/sse" % httpd.server_address[1], calls
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def test_an_old_sse_stream_that_ends_with_its_connection_may_be_quiet(old_sse_server):
    """The 2024-11-05 transport's GET stream, close-delimited: quiet longer than
    ``connect_timeout`` it stays open (it once timed out, the session lost), and ``close()``
    ends it at once."""
    url, calls = old_sse_server
    client = Client.http(url, timeout=5, connect_timeout=0.3)
    try:
        assert type(client._channel).__name__ == "LegacySseChannel"
        assert client.call_tool("t")["content"] == [{"type": "text", "text": "ok"}]
        time.sleep(0.8)
        assert client.call_tool("t")["content"] == [{"type": "text", "text": "ok"}]
    finally:
        start = time.monotonic()
        client.close()
        assert time.monotonic() - start < 1.5, "close() waited for a stream it could not shut"
    assert _client_threads() == []


def test_an_old_sse_post_the_server_dropped_unanswered_is_not_sent_again(old_sse_server):
    url, calls = old_sse_server
    with Client.http(url, timeout=5) as client:
        assert client.call_tool("first")["content"] == [{"type": "text", "text": "ok"}]  # a kept-alive POST connection
        with pytest.raises(ConnectionClosed):
            client.call_tool("crash")
    assert calls == ["first", "crash"]


@pytest.fixture
def dropping_server():
    """A session-era server on kept-alive connections that closes an idle one after 0.2 s
    (a short keep-alive timeout), and whose tool "crash" is received and then dropped with
    its connection, unanswered (a worker killed mid-request)."""
    calls = []  # type: List[str]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 0.2  # an idle kept-alive connection is closed after this

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_DELETE(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            result = {"content": []}  # type: Dict[str, Any]
            if message["method"] == "initialize":
                result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                          "serverInfo": {"name": "dropping", "version": "1"}}
            elif message["method"] == "tools/call":
                calls.append(message["params"]["name"])
                if message["params"]["name"] == "crash":
                    self.close_connection = True
                    return
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d/mcp" % httpd.server_address[1], calls
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_request_the_server_dropped_unanswered_is_not_sent_again(dropping_server):
    """A POST is not idempotent (RFC 9110 §9.2.2): one the server received and then closed
    its connection on without an answer may have run, and is not sent again - even on a
    kept-alive connection (it once was, taken for one the server had closed while idle)."""
    url, calls = dropping_server
    with Client.http(url, era="legacy", timeout=5) as client:
        client.call_tool("first")  # the connection is a kept-alive one from here on
        with pytest.raises(ConnectionClosed):
            client.call_tool("crash")
    assert calls == ["first", "crash"]


def test_kept_alive_connections_the_server_closed_while_idle_are_not_used(dropping_server):
    url, calls = dropping_server
    with Client.http(url, era="legacy", timeout=5) as client:
        for name in ("one", "two", "three"):
            assert client.call_tool(name) == {"content": []}
            time.sleep(0.5)  # the server closes the idle connection meanwhile
        # Such a connection is not even tried (on a network, unlike here, the request would
        # go out on it, and the failure come too late to tell it was not received).
        conn, kept = client._channel._take()
        conn.close()
        assert not kept
    assert calls == ["one", "two", "three"]


@pytest.mark.parametrize("stream", [
    # "If the event type buffer has a value other than the empty string": an empty one is "message".
    "event:\ndata: {answer}\n\n",
    # "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
    "\ufeffdata: {answer}\n\n",
    # CR LF line ends, and the data on several lines (JSON written with indentation).
    "event: message\r\n{lines}\r\n",
    # "Lines must be separated by either a ... CRLF ..., a single ... LF ..., or a single ... CR"
    "data: {answer}\r\r",
    "event: message\rid: 7\r:comment\r{cr_lines}\r",
    "event: message\r\n{lines}\n\r",
])
def test_sse_answers_are_read_as_the_sse_format_says(stream):
    from io import BytesIO
    from mcplite.httpclient import _sse_iter
    answer = {"jsonrpc": "2.0", "id": 1, "result": {"content": []}}
    indented = json.dumps(answer, indent=2).split("\n")
    text = stream.format(answer=json.dumps(answer), lines="".join("data: %s\r\n" % line for line in indented),
                         cr_lines="".join("data: %s\r" % line for line in indented))
    events = list(_sse_iter(BytesIO(text.encode("utf-8"))))
    assert [(event, json.loads(data)) for event, data, _ in events] == [("message", answer)]


@pytest.fixture
def counting_server():
    """A session-era server answering in JSON, whose tool "slow" takes 0.4 s: it counts
    the calls it received at once, at most."""
    state = {"now": 0, "most": 0, "calls": []}  # type: Dict[str, Any]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_DELETE(self) -> None:
            self.do_GET()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            result = {"content": []}  # type: Dict[str, Any]
            if message["method"] == "initialize":
                result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                          "serverInfo": {"name": "counting", "version": "1"}}
            elif message["method"] == "tools/call":
                with lock:
                    state["calls"].append(message["params"]["arguments"]["n"])
                    state["now"] += 1
                    state["most"] = max(state["most"], state["now"])
                time.sleep(0.4)
                with lock:
                    state["now"] -= 1
                result = {"content": [{"type": "text", "text": str(message["params"]["arguments"]["n"])}]}
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d/mcp" % httpd.server_address[1], state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_calls_from_many_threads_use_at_most_max_streams_connections(counting_server):
    """Each call is POSTed on its caller's thread: beyond ``max_streams`` at once, the
    others wait for a connection to be free (they once opened one each: 400 threads, 400
    connections, and a server's connection limit refused the rest with 503)."""
    from mcplite.httpclient import HttpChannel
    url, state = counting_server
    client = Client._over(HttpChannel(url, max_streams=3), {"era": "legacy", "timeout": 10})
    answers = {}  # type: Dict[int, Any]

    def call(n: int) -> None:
        answers[n] = client.call_tool("slow", {"n": n})["content"][0]["text"]

    with client:
        callers = [threading.Thread(target=call, args=(n,)) for n in range(9)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(10)
    assert answers == {n: str(n) for n in range(9)}
    assert state["most"] <= 3


def test_a_call_that_timed_out_waiting_for_a_connection_is_never_sent(counting_server):
    from mcplite.httpclient import HttpChannel
    url, state = counting_server
    with Client._over(HttpChannel(url, max_streams=1), {"era": "legacy", "timeout": 10}) as client:
        first = threading.Thread(target=client.call_tool, args=("slow", {"n": 1}))
        first.start()
        time.sleep(0.1)
        with pytest.raises(RequestTimeout):
            client.call_tool("slow", {"n": 2}, timeout=0.15)
        first.join(5)
        time.sleep(0.2)  # room for the second request to go out, if it did
        assert client.call_tool("slow", {"n": 3})["content"][0]["text"] == "3"
    assert state["calls"] == [1, 3]


def test_a_sessions_get_stream_the_server_ended_is_opened_again():
    """The GET stream of a session carries what the server sends outside any request; one
    the server (or a proxy's idle timeout) ended is opened again after the ``retry`` delay,
    with ``Last-Event-ID`` (it once was not: every later notification was lost)."""
    stop = threading.Event()
    gets = []  # type: List[Any]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            gets.append(self.headers.get("Last-Event-ID"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            if len(gets) == 1:
                self.wfile.write(b"id: g1\nretry: 100\ndata: \n\n")  # and the stream ends
                return
            changed = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
            self.wfile.write(("id: g2\ndata: %s\n\n" % json.dumps(changed)).encode())
            self.wfile.flush()
            stop.wait(10)

        def do_DELETE(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {"listChanged": True}},
                      "serverInfo": {"name": "get-stream", "version": "1"}}
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    changes = []  # type: List[str]
    try:
        url = "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
        with Client.http(url, era="legacy", timeout=5, on_list_changed=changes.append):
            deadline = time.monotonic() + 5
            while not changes and time.monotonic() < deadline:
                time.sleep(0.02)
        assert changes == ["tools"]
        assert gets == [None, "g1"]
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def test_a_connection_kept_after_an_sse_answer_writes_the_next_request_unhurried():
    """The stream of an answer is read for a moment more after its response (see
    _AFTER_ANSWER_GRACE), with a short read timeout; the connection, kept alive, then
    carries the next request - which must be written within ``connect_timeout``, not that
    moment (a large request to a server slow to read it once failed with "timed out")."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_DELETE(self) -> None:
            self.do_GET()

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            if length > 1000000:
                time.sleep(0.5)  # busy a while before reading a large request
            message = json.loads(self.rfile.read(length))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            result = {"content": [{"type": "text", "text": "read"}]}  # type: Dict[str, Any]
            if message["method"] == "initialize":
                result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                          "serverInfo": {"name": "sse", "version": "1"}}
            event = ("data: %s\n\n" % json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event))  # the stream ends with the answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
        with Client.http(url, era="legacy", timeout=10, connect_timeout=5) as client:
            assert client.call_tool("small")["content"][0]["text"] == "read"
            assert client._channel._idle, "a kept-alive connection"
            assert client.call_tool("large", {"blob": "x" * 12000000})["content"][0]["text"] == "read"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_close_ends_calls_waiting_for_a_connection(counting_server):
    from mcplite.httpclient import HttpChannel
    url, state = counting_server
    client = Client._over(HttpChannel(url, max_streams=1), {"era": "legacy", "timeout": 10})
    outcomes = []  # type: List[Any]

    def call(n: int) -> None:
        try:
            outcomes.append(client.call_tool("slow", {"n": n}))
        except Exception as exc:
            outcomes.append(exc)

    callers = [threading.Thread(target=call, args=(n,)) for n in (1, 2)]
    for caller in callers:
        caller.start()
        time.sleep(0.1)
    client.close()
    for caller in callers:
        caller.join(5)
    assert [type(outcome) for outcome in outcomes] == [ConnectionClosed, ConnectionClosed]
    time.sleep(0.5)  # room for the second request to go out, if it did
    assert len(state["calls"]) == 1


def test_a_call_that_timed_out_while_connecting_is_never_sent(counting_server):
    """The timeout ends a call by shutting its connection down; one still connecting has
    no socket yet to shut. Once connected, it sends nothing (it once sent the request,
    and its caller waited for the answer, well past its timeout)."""
    import http.client
    from mcplite.httpclient import HttpChannel
    url, state = counting_server
    channel = HttpChannel(url)
    port = int(url.split(":")[2].split("/")[0])

    class Slow(http.client.HTTPConnection):
        def connect(self) -> None:
            time.sleep(0.6)
            super().connect()

    with Client._over(channel, {"era": "legacy", "timeout": 10}) as client:
        channel._connect = lambda: Slow("127.0.0.1", port, timeout=30)
        channel._idle[:] = []
        with pytest.raises(RequestTimeout):
            client.call_tool("slow", {"n": 1}, timeout=0.2)
        time.sleep(0.3)  # room for the request to reach the server, if it went out
    assert state["calls"] == []


def test_close_ends_calls_before_a_slow_delete():
    """``close()`` ends the session with a DELETE ("SHOULD"); a server slow to answer it
    (a hung one: when a client is closed) does not hold the calls in flight, which end at
    once with ConnectionClosed (they once waited for the DELETE's answer or timeout)."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_DELETE(self) -> None:
            stop.wait(3)
            self.do_GET()

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if message["method"] == "tools/call":
                stop.wait(5)
                return
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "slow-delete", "version": "1"}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
        client = Client.http(url, era="legacy", timeout=10, connect_timeout=2.5)
        outcome = []  # type: List[Any]
        ended = []  # type: List[float]

        def call() -> None:
            try:
                client.call_tool("hang")
            except Exception as exc:
                outcome.append(exc)
            ended.append(time.monotonic())

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
        start = time.monotonic()
        client.close()
        caller.join(5)
        assert isinstance(outcome[0], ConnectionClosed)
        assert ended[0] - start < 1.5, "the call waited for the DELETE"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def test_old_sse_posts_a_server_answers_once_handled_neither_time_out_nor_queue(old_sse_server):
    """A server of the old transport may handle a message before it answers its POST with
    202: a call longer than ``connect_timeout`` is still waited for as long as its own
    timeout (it once failed with "timed out"), and calls from several threads are POSTed
    at once (they once went one after another), each ended by its own timeout."""
    url, calls = old_sse_server
    with Client.http(url, timeout=5, connect_timeout=0.3) as client:
        assert client.call_tool("wait")["content"] == [{"type": "text", "text": "ok"}]
        answers = []  # type: List[Any]
        callers = [threading.Thread(target=lambda: answers.append(client.call_tool("wait"))) for _ in range(3)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(5)
        assert len(answers) == 3
        assert calls.most > 1, "the calls were POSTed one after another"
        with pytest.raises(RequestTimeout):
            client.call_tool("wait", timeout=0.2)


def test_a_request_cancelled_while_it_waited_for_a_worker_is_never_sent(counting_server):
    """The bridge hands its host's requests to the channel's pool (``send``); one its host
    cancelled before a worker was free is never sent (it once went out all the same)."""
    from mcplite.httpclient import HttpChannel
    url, state = counting_server
    channel = HttpChannel(url, max_streams=1)
    answers = {}  # type: Dict[Any, Any]
    answered = threading.Condition()

    def on_message(message: Any) -> None:
        with answered:
            answers[message.get("id")] = message
            answered.notify_all()
    channel.start(on_message, lambda error: None)
    try:
        channel.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        with answered:
            assert answered.wait_for(lambda: 1 in answers, 5)
        channel.negotiated("legacy", "2025-11-25")
        for rid in (2, 3):
            channel.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                          "params": {"name": "slow", "arguments": {"n": rid}}})
        channel.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}})
        with answered:
            assert answered.wait_for(lambda: 2 in answers, 5)
        time.sleep(0.6)  # room for request 3 to go out and be answered, if it did
        assert state["calls"] == [2] and 3 not in answers
    finally:
        channel.close()


def session_handler(on_call: Any = None, on_get: Any = None) -> Any:
    """A session-era (2025-11-25) server by hand, as a handler class for ``serving``:
    initialize and calls answered in JSON ("called NAME"), session "s1"; a notification
    gets 202, DELETE 200. ``on_call(handler, message)`` answers a tools/call instead;
    ``on_get(handler)`` answers the GET (else 405: no stream)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def empty(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if on_get is None:
                self.empty(405)
            else:
                on_get(self)

        def do_DELETE(self) -> None:
            self.empty(200)

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "id" not in message:
                self.empty(202)
                return
            if message["method"] == "tools/call" and on_call is not None:
                on_call(self, message)
                return
            if message["method"] == "initialize":
                result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                          "serverInfo": {"name": "by-hand", "version": "1"}}  # type: Dict[str, Any]
            elif message["method"] == "tools/call":
                result = {"content": [{"type": "text", "text": "called %s" % message["params"]["name"]}]}
            else:
                result = {}
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def test_an_answer_whose_lines_end_with_cr_alone_on_a_stream_kept_open():
    """Lines ended by CR alone, and a CRLF split between two reads (its LF must not be
    taken for an empty line, which would end the event halfway), on a stream the server
    keeps open after the answer: it was read with readline, which waits for an LF - the
    call waited until its timeout."""
    stop = threading.Event()

    def on_call(handler: Any, message: Dict[str, Any]) -> None:
        answer = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {"content": [
            {"type": "text", "text": "read"}]}})
        middle = answer.index(", ")  # the JSON on two data lines: a blank line between breaks it
        pieces = ["event: message\r", "\nid: 1\r\ndata: %s\r" % answer[:middle + 1],
                  "\ndata: %s\r" % answer[middle + 2:], "\r: the stream stays open\r"]
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Mcp-Session-Id", "s1")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for piece in pieces:  # each its own chunk, each its own read
            data = piece.encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()
            time.sleep(0.05)
        stop.wait(10)

    try:
        with serving(session_handler(on_call=on_call)) as url:
            with Client.http(url, era="legacy", timeout=3) as client:
                assert client.call_tool("cr")["content"] == [{"type": "text", "text": "read"}]
    finally:
        stop.set()


def test_max_concurrent_requests_bounds_the_calls_carried_at_once(counting_server):
    """With max_concurrent_requests=2, a third call made at once waits for one of the two
    to end (as the channel's max_streams always did) - and is then answered."""
    url, state = counting_server
    answers = {}  # type: Dict[int, Any]
    with Client.http(url, era="legacy", timeout=10, max_concurrent_requests=2) as client:
        def call(n: int) -> None:
            answers[n] = client.call_tool("slow", {"n": n})["content"][0]["text"]

        callers = [threading.Thread(target=call, args=(n,)) for n in range(3)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(10)
    assert answers == {0: "0", 1: "1", 2: "2"}
    assert state["most"] == 2


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2", None])
def test_max_concurrent_requests_is_a_positive_int(bad):
    with pytest.raises(ValueError, match="max_concurrent_requests must be a positive int"):
        Client.http("http://127.0.0.1:9/mcp", max_concurrent_requests=bad)


@pytest.mark.parametrize("get_answer", ["late", "never"])
def test_a_get_stream_whose_headers_are_pending_holds_up_nothing(get_answer):
    """The GET stream is optional: a server that holds its headers back ("late": for 4 s;
    "never") must not hold up connecting (it once did, up to connect_timeout), the calls,
    nor close()."""
    stop = threading.Event()
    answered = threading.Event()

    def on_get(handler: Any) -> None:
        if stop.wait(4 if get_answer == "late" else 15):
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b": open\n\n")
        handler.wfile.flush()
        answered.set()
        stop.wait(15)

    try:
        with serving(session_handler(on_get=on_get)) as url:
            start = time.monotonic()
            client = Client.http(url, era="legacy", timeout=5, connect_timeout=20)
            assert time.monotonic() - start < 3, "connecting waited for the GET stream's headers"
            assert client.call_tool("one")["content"] == [{"type": "text", "text": "called one"}]
            assert client.call_tool("two")["content"] == [{"type": "text", "text": "called two"}]
            assert not answered.is_set(), "connecting waited for the GET stream's headers"
            start = time.monotonic()
            client.close()
            assert time.monotonic() - start < 2.5, "close() waited for the GET stream"
            deadline = time.monotonic() + 3
            while _client_threads() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _client_threads() == []
    finally:
        stop.set()
