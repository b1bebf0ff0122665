"""A 2026-07-28 call whose handler gets no Context, over ``app.run("http")``: served on its
connection's thread (no hand-off to the worker pool and back) while the server's one watcher
thread keeps a quiet answer alive (an SSE stream of keep-alive comments after the keep-alive
interval) and sees the client hang up (the call cancelled). Under a WSGI server such a call
still goes to the pool, whose waiting thread does the same (tests/test_wsgi.py)."""

import asyncio
import http.client
import json
import socket
import threading
import time
from typing import Any, Dict, List, Optional
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from http_peer import ACCEPT_BOTH, MODERN, Http
from mcplite import Context, Server

KEEPALIVE = 0.2


class _Recording(Server):
    """A server that notes, for each call it served, whether it ended cancelled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended = []  # type: List[Any]
        self.ended_event = threading.Event()

    def handle_request(self, call: Any) -> Any:
        try:
            return super().handle_request(call)
        finally:
            self.ended.append((call.request.params.get("name"), call.cancelled))
            self.ended_event.set()


def _app() -> _Recording:
    app = _Recording("watched")
    app.threads = []  # type: ignore[attr-defined]

    @app.tool()
    def add(a: int, b: int) -> int:
        app.threads.append(threading.current_thread().name)  # type: ignore[attr-defined]
        return a + b

    @app.tool()
    def quiet(seconds: float) -> str:
        time.sleep(seconds)
        return "quiet %s" % seconds

    @app.tool()
    async def quiet_async(seconds: float) -> str:
        # No Context, yet a cancellation reaches it: asyncio.CancelledError.
        app.async_started.set()  # type: ignore[attr-defined]
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            app.async_cancelled.set()  # type: ignore[attr-defined]
            raise
        return "quiet %s" % seconds

    @app.tool(inline=True)
    def quiet_inline(seconds: float) -> str:
        time.sleep(seconds)
        return "quiet %s" % seconds

    @app.tool()
    def with_ctx(ctx: Context) -> str:
        app.threads.append(threading.current_thread().name)  # type: ignore[attr-defined]
        ctx.progress(1, 2)
        ctx.log("info", "working")
        return "ctx"

    @app.tool()
    def quiet_ctx(seconds: float, ctx: Context) -> str:
        # A Context, and a request that asked for neither progress nor logs: watched on the
        # connection's thread, where the hang-up still reaches ctx.cancelled.
        app.threads.append(threading.current_thread().name)  # type: ignore[attr-defined]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ctx.cancelled:
                app.ctx_cancelled.set()  # type: ignore[attr-defined]
                break
            time.sleep(0.01)
        return "quiet %s" % seconds
    app.async_cancelled = threading.Event()  # type: ignore[attr-defined]
    app.async_started = threading.Event()  # type: ignore[attr-defined]
    app.ctx_cancelled = threading.Event()  # type: ignore[attr-defined]
    return app


def _request(port: int, name: str, arguments: Dict[str, Any], version: str = "HTTP/1.1",
             extra: str = "") -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": name, "arguments": arguments,
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    return ("POST /mcp %s\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: %s\r\n"
            "MCP-Protocol-Version: %s\r\nMcp-Method: tools/call\r\nMcp-Name: %s\r\n%sContent-Length: %d\r\n\r\n"
            % (version, port, ACCEPT_BOTH, MODERN, name, extra, len(body))).encode() + body


def _ended(app: _Recording, name: str, timeout: float = 5.0) -> Optional[bool]:
    """Whether the last call of ``name`` ended cancelled (None: it has not ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [cancelled for tool, cancelled in app.ended if tool == name]
        if found:
            return found[-1]
        time.sleep(0.02)
    return None


@pytest.fixture
def served():
    app = _app()
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE) as handle:
        handle.server = app
        yield handle


def test_a_plain_tool_runs_on_the_connections_thread_and_answers_json(served):
    # Before: on a worker of the pool ("mcplite-http-worker-1"), the connection's thread waiting.
    app = served.server
    client = Http(served)
    try:
        reply = client.modern("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
        again = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, id=2)
        ctx = client.modern("tools/call", {"name": "with_ctx", "arguments": {}}, id=3)
        progress = client.modern("tools/call", {"name": "with_ctx", "arguments": {},
                                                "_meta": {"progressToken": "t"}}, id=4)
        logs = client.modern("tools/call", {"name": "with_ctx", "arguments": {},
                                            "_meta": {"io.modelcontextprotocol/logLevel": "info"}}, id=5)
    finally:
        client.close()
    assert reply.status == 200 and reply.content_type == "application/json", reply
    assert reply.json()["result"]["structuredContent"] == {"result": 5}
    assert again.json()["result"]["structuredContent"] == {"result": 2}
    assert ctx.content_type == "application/json" and ctx.json()["result"]["content"][0]["text"] == "ctx"
    plain, asked_nothing, asked = app.threads[:2], app.threads[2], app.threads[3:]
    assert not any(name.startswith("mcplite-http-worker") for name in plain), app.threads
    # A handler that takes a Context, for a request that asked for neither progress nor
    # logs, can send nothing before its answer either (before: on the pool).
    assert not asked_nothing.startswith("mcplite-http-worker"), app.threads
    # One whose request asked for progress or logs may send them before its answer: on the
    # pool, its answer a stream carrying them.
    assert len(asked) == 2 and all(name.startswith("mcplite-http-worker") for name in asked), app.threads
    assert [m.get("method") for m in progress.messages()] == ["notifications/progress", None], progress
    assert [m.get("method") for m in logs.messages()] == ["notifications/message", None], logs


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
def test_a_quiet_plain_call_streams_keepalives_then_its_answer(served, version):
    # HTTP/1.1: a chunked stream, and the connection serves the next request after it;
    # HTTP/1.0: no chunks, the close ends the stream.
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        keep = "Connection: keep-alive\r\n" if version == "HTTP/1.0" else ""
        sock.sendall(_request(served.port, "quiet", {"seconds": 4 * KEEPALIVE}, version, keep))
        received = b""
        while b"quiet 0.8" not in received or (version == "HTTP/1.1" and not received.endswith(b"0\r\n\r\n")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"Content-Type: text/event-stream" in head, received
        assert body.count(b":\n\n") >= 2, received  # keep-alive comments before the answer
        if version == "HTTP/1.1":
            assert b"Transfer-Encoding: chunked" in head and body.endswith(b"0\r\n\r\n"), received
            sock.sendall(_request(served.port, "add", {"a": 1, "b": 2}))
            more = b""
            while b'"result"' not in more:
                chunk = sock.recv(65536)
                assert chunk, more
                more += chunk
            assert more.startswith(b"HTTP/1.1 200") and b"application/json" in more, more
        else:
            assert b"Transfer-Encoding" not in head and b"Connection: close" in head, received
            sock.settimeout(5)
            while sock.recv(65536):
                pass  # the server closes: the end of the stream
        data = [line for line in body.split(b"\n") if line.startswith(b"data: ")]
        assert len(data) == 1 and json.loads(data[0][6:])["result"]["content"][0]["text"] == "quiet 0.8"
    finally:
        sock.close()
    assert _ended(served.server, "quiet") is False


def test_an_inline_tool_is_watched_too(served):
    # inline=True said "serve it on the connection's thread": under app.run("http") it is
    # watched there like any call without a Context, so a quiet one keeps its connection
    # alive and a hang-up cancels it (before: a silent JSON answer after the whole sleep).
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_request(served.port, "quiet_inline", {"seconds": 4 * KEEPALIVE}))
        received = b""
        while not received.endswith(b"0\r\n\r\n") and b"application/json" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"Content-Type: text/event-stream" in head and body.count(b":\n\n") >= 2, received
    assert b"quiet 0.8" in body, received
    del served.server.ended[:]
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    sock.sendall(_request(served.port, "quiet_inline", {"seconds": 6 * KEEPALIVE}))
    time.sleep(0.05)
    sock.close()
    assert _ended(served.server, "quiet_inline") is True, served.server.ended


def _hang_up(port: int, name: str, arguments: Dict[str, Any], wait: float,
             started: Optional[threading.Event] = None) -> None:
    """Call ``name`` and hang up ``wait`` seconds after sending, but not before ``started``
    is set: an ``async def`` tool cancelled before its first step never runs its body, so it
    could not report the cancellation (the server is right not to run it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sent = time.monotonic()
    try:
        sock.sendall(_request(port, name, arguments))
        if started is not None:
            assert started.wait(10), "%s never started" % name
        time.sleep(max(0.0, sent + wait - time.monotonic()))
    finally:
        sock.close()


@pytest.mark.parametrize("wait", [0.05, 3 * KEEPALIVE], ids=["before-the-answer", "on-the-stream"])
def test_hanging_up_during_a_plain_tool_cancels_it(served, wait):
    app = served.server
    _hang_up(served.port, "quiet", {"seconds": 6 * KEEPALIVE}, wait)
    # "Closing the SSE response stream MUST be treated by the server as cancellation of that
    # request": the call ends cancelled (its answer unsent).
    assert _ended(app, "quiet") is True, app.ended
    # An async def tool, no Context: the cancellation reaches its coroutine.
    _hang_up(served.port, "quiet_async", {"seconds": 5}, wait, app.async_started)
    assert app.async_cancelled.wait(5), "the coroutine never saw the cancellation"
    assert _ended(app, "quiet_async") is True, app.ended
    # A Context, and nothing asked for (watched too): ctx.cancelled turns true.
    _hang_up(served.port, "quiet_ctx", {"seconds": 5}, wait)
    assert app.ctx_cancelled.wait(5), "the handler never saw ctx.cancelled"
    assert _ended(app, "quiet_ctx") is True, app.ended
    assert not any(name.startswith("mcplite-http-worker") for name in app.threads), app.threads


def test_the_answer_is_whole_whether_the_stream_began_or_not():
    # The watcher begins the stream as the handler returns, or just after, or not at all:
    # one lock decides, and every answer is one JSON body or one stream carrying the result.
    app = _app()
    forms = set()
    with app.run_in_thread("http", port=0, keepalive_interval=0.05) as handle:
        client = Http(handle)
        try:
            for i in range(30):
                seconds = 0.03 + (i % 6) * 0.01
                reply = client.modern("tools/call", {"name": "quiet", "arguments": {"seconds": seconds}}, id=i)
                assert reply.status == 200, reply
                messages = reply.messages()
                assert [m["id"] for m in messages] == [i], reply
                assert messages[0]["result"]["content"][0]["text"] == "quiet %s" % seconds, reply
                forms.add(reply.content_type)
        finally:
            client.close()
    assert forms <= {"application/json", "text/event-stream"}


def test_a_streamed_plain_answer_is_granted_cors_once(served):
    # The watcher writes the stream's head before McpHttpApp.handle could add the grant to it.
    origin = "http://localhost:5173"
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_request(served.port, "quiet", {"seconds": 3 * KEEPALIVE}, extra="Origin: %s\r\n" % origin))
        received = b""
        while not received.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
    finally:
        sock.close()
    head = received.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert "content-type: text/event-stream" in head, received
    assert head.count("access-control-allow-origin: %s" % origin) == 1, head
    assert head.count("access-control-allow-origin") == 1, head


def test_json_response_mode_watches_a_plain_call_too():
    app = _app()
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE, json_response=True) as handle:
        client = Http(handle)
        try:
            reply = client.modern("tools/call", {"name": "quiet", "arguments": {"seconds": 3 * KEEPALIVE}})
        finally:
            client.close()
        assert reply.content_type == "application/json", reply
        assert reply.json()["result"]["content"][0]["text"] == "quiet %s" % (3 * KEEPALIVE)
        del app.ended[:]
        sock = socket.create_connection(("127.0.0.1", handle.port), timeout=5)
        sock.sendall(_request(handle.port, "quiet", {"seconds": 1.0}))
        time.sleep(0.1)
        sock.close()
        assert _ended(app, "quiet") is True, app.ended


class _QuietWsgiHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def test_under_a_wsgi_server_a_plain_tool_still_goes_to_the_pool():
    # A WSGI server offers no watch: the pool's thread runs the call while the server's
    # thread waits and watches (tests/test_wsgi.py covers its keep-alives and hang-ups).
    app = _app()
    wsgi = app.wsgi()
    httpd = make_server("127.0.0.1", 0, wsgi, handler_class=_QuietWsgiHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=10)
        try:
            body = _request(httpd.server_port, "add", {"a": 2, "b": 2}).partition(b"\r\n\r\n")[2]
            conn.request("POST", "/mcp", body, {
                "Host": "127.0.0.1:%d" % httpd.server_port, "Content-Type": "application/json",
                "Accept": ACCEPT_BOTH, "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                "Mcp-Name": "add"})
            resp = conn.getresponse()
            answer = json.loads(resp.read())
        finally:
            conn.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
        wsgi.close()
    assert answer["result"]["structuredContent"] == {"result": 4}
    assert app.threads and app.threads[0].startswith("mcplite-http-worker"), app.threads
