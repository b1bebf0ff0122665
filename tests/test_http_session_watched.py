"""A legacy session's request whose handler gets no Context, over ``app.run("http")``: served
on its connection's thread (no hand-off to the worker pool and back), watched by the server's
one watcher thread as a 2026-07-28 call is (tests/test_http_watched.py), with everything a
session's request had on the pool kept: its answer byte for byte, a quiet answer turned into
the session's own resumable stream (primed for a 2025-11-25 client), a hang-up that does not
cancel it ("Disconnection SHOULD NOT be interpreted as the client cancelling its request"),
the in-flight table (notifications/cancelled from another POST, an id in use)."""

import json
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from http_peer import ACCEPT_BOTH, Http, open_stream, parse_sse
from mcplite import Context, Server

KEEPALIVE = 0.2
WORKER = "mcplite-http-worker"


class _Recording(Server):
    """A server that notes, for each tools/call it served, whether it ended cancelled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended = []  # type: List[Tuple[Any, Any, bool]]

    def handle_request(self, call: Any) -> Any:
        try:
            return super().handle_request(call)
        finally:
            if call.request.method == "tools/call":
                self.ended.append((call.request.params.get("name"), call.request.id, call.cancelled))


def _app() -> _Recording:
    app = _Recording("session-watched")
    app.threads = []  # type: ignore[attr-defined]
    app.started = threading.Event()  # type: ignore[attr-defined]
    app.release = threading.Event()  # type: ignore[attr-defined]

    def note() -> None:
        app.threads.append(threading.current_thread().name)  # type: ignore[attr-defined]
        app.started.set()  # type: ignore[attr-defined]

    @app.tool()
    def add(a: int, b: int) -> int:
        note()
        return a + b

    @app.tool()
    def add_ctx(a: int, b: int, ctx: Context) -> int:
        # The twin served on the pool (a Context): its answer is the one to match.
        note()
        return a + b

    @app.tool()
    def held() -> str:
        note()
        app.release.wait(10)  # type: ignore[attr-defined]
        return "released"

    @app.tool()
    def held_ctx(ctx: Context) -> str:
        # The twin of held served on the pool (a Context).
        note()
        app.release.wait(10)  # type: ignore[attr-defined]
        return "released"

    @app.tool()
    def quiet(seconds: float) -> str:
        note()
        time.sleep(seconds)
        return "quiet %s" % seconds

    @app.tool(inline=True)
    def quiet_inline(seconds: float) -> str:
        # Declared quick but slow all the same: watched like the others, not left quiet.
        note()
        time.sleep(seconds)
        return "quiet %s" % seconds
    return app


@pytest.fixture
def served():
    app = _app()
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE) as handle:
        handle.server = app
        yield handle


def _session(handle: Any, version: str = "2025-11-25") -> Http:
    client = Http(handle)
    client.initialize(version)
    return client


def _post_bytes(port: int, client: Http, message: Any, extra: str = "") -> bytes:
    body = json.dumps(message).encode()
    return ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: %s\r\n"
            "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: %s\r\n%sContent-Length: %d\r\n\r\n"
            % (port, ACCEPT_BOTH, client.session_id, client.version, extra, len(body))).encode() + body


def _call(rid: Any, name: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def _read_json_answer(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length, exactly as it came."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    head = received.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    length = int(head.split("content-length:")[1].split("\r\n")[0])
    while len(received.partition(b"\r\n\r\n")[2]) < length:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    return received


def _read_stream(sock: socket.socket, until: bytes) -> bytes:
    received = b""
    while until not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _ended(app: _Recording, name: str, timeout: float = 5.0) -> Optional[bool]:
    """Whether the last call of ``name`` ended cancelled (None: it has not ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [cancelled for tool, _, cancelled in app.ended if tool == name]
        if found:
            return found[-1]
        time.sleep(0.02)
    return None


def test_a_plain_session_call_runs_on_the_connections_thread(served):
    # Before: on a worker of the pool, the connection's thread waiting for it.
    app = served.server
    client = _session(served)
    try:
        reply = client.call("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
        ctx = client.call("tools/call", {"name": "add_ctx", "arguments": {"a": 2, "b": 3}}, id=2)
    finally:
        client.close()
    assert reply.status == 200 and reply.content_type == "application/json", reply
    assert reply.json()["result"]["structuredContent"] == {"result": 5}
    assert ctx.json()["result"]["structuredContent"] == {"result": 5}
    plain, with_ctx = app.threads
    assert not plain.startswith(WORKER) and plain != "mcplite-http-watcher", app.threads
    # A session's handler with a Context may send before its answer (progress, logs, a
    # question): on the pool, as before.
    assert with_ctx.startswith(WORKER), app.threads


@pytest.mark.parametrize("origin", [None, "http://localhost:5173"])
def test_the_json_answer_is_byte_for_byte_the_pools(served, origin):
    # The twin with a Context goes to the pool; the same id, session and result, the same bytes.
    client = _session(served)
    extra = "Origin: %s\r\n" % origin if origin else ""
    answers = []
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        for name in ("add_ctx", "add", "add_ctx", "add"):
            sock.sendall(_post_bytes(served.port, client, _call(9, name, {"a": 20, "b": 22}), extra))
            answers.append(_read_json_answer(sock))
    finally:
        sock.close()
        client.close()
    pool, here = answers[0], answers[1]
    assert pool.startswith(b"HTTP/1.1 200 ") and b'"result":42' in pool, pool
    assert here == pool and answers[2:] == [pool, pool], answers
    assert served.server.threads[0].startswith(WORKER) and not served.server.threads[1].startswith(WORKER)


def test_a_batch_still_goes_to_the_pool():
    # The requests of a batch run side by side: never on the connection's thread one by one.
    app = _app()
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE) as handle:
        client = _session(handle, "2025-03-26")
        try:
            reply = client.post([_call(1, "add", {"a": 1, "b": 2}), _call(2, "add", {"a": 3, "b": 4})])
        finally:
            client.close()
    assert sorted(m["result"]["content"][0]["text"] for m in reply.json()) == ["3", "7"]
    assert len(app.threads) == 2 and all(name.startswith(WORKER) for name in app.threads), app.threads


@pytest.mark.parametrize("tool", ["quiet", "quiet_inline"])
@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18"])
def test_a_quiet_session_call_becomes_the_sessions_stream(served, version, tool):
    # Its head, then (2025-11-25) the priming event a client resumes from, keep-alive
    # comments, the answer; the connection then serves the next request. A tool declared
    # inline=True is watched the same way (before, it was served unwatched: one late JSON answer).
    client = _session(served, version)
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_post_bytes(served.port, client, _call(3, tool, {"seconds": 4 * KEEPALIVE})))
        received = _read_stream(sock, b"0\r\n\r\n")
        sock.sendall(_post_bytes(served.port, client, _call(4, "add", {"a": 1, "b": 1})))
        after = _read_json_answer(sock)
    finally:
        sock.close()
        client.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Type: text/event-stream" in head, received
    assert b"Mcp-Session-Id: %s" % client.session_id.encode() in head, received
    assert b"Transfer-Encoding: chunked" in head and body.endswith(b"0\r\n\r\n"), received
    assert body.count(b":\n\n") >= 2, received  # keep-alive comments before the answer
    unchunked = b"".join(body.split(b"\r\n")[1::2])
    events = parse_sse(unchunked)
    if version == "2025-11-25":
        # "The server SHOULD immediately send an SSE event consisting of an event ID and an
        # empty data field", before the keep-alive comments.
        assert "json" not in events[0] and events[0]["id"] and "retry" in events[0], events
        assert body.index(b"retry:") < body.index(b":\n\n"), body
        events = events[1:]
    else:
        assert b"retry:" not in body, body  # "Older clients would crash trying to parse empty data"
    assert [e["json"]["id"] for e in events] == [3], events
    assert events[0]["json"]["result"]["content"][0]["text"] == "quiet %s" % (4 * KEEPALIVE)
    assert after.startswith(b"HTTP/1.1 200") and b'"result":2' in after, after
    assert not any(name.startswith(WORKER) for name in served.server.threads), served.server.threads


def test_hanging_up_before_the_answer_does_not_cancel_it(served):
    app = served.server
    client = _session(served)
    try:
        client.call("tools/call", {"name": "add", "arguments": {"a": 0, "b": 0}}, id=0)  # (warm up)
        before = threading.active_count()
        for rid in range(1, 4):
            app.started.clear()
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            sock.sendall(_post_bytes(served.port, client, _call(rid, "quiet", {"seconds": 3 * KEEPALIVE / 2})))
            assert app.started.wait(5)
            sock.close()
            # "Disconnection SHOULD NOT be interpreted as the client cancelling its request":
            # it runs to its end, uncancelled.
            deadline = time.monotonic() + 5
            while not [e for e in app.ended if e[1] == rid] and time.monotonic() < deadline:
                time.sleep(0.02)
            assert [e for e in app.ended if e[1] == rid] == [("quiet", rid, False)], app.ended
        # Its id is free again, and no thread is left behind.
        again = client.call("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, id=3)
        assert again.json()["result"]["structuredContent"] == {"result": 2}
        deadline = time.monotonic() + 5
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= before, threading.enumerate()
    finally:
        client.close()
    assert not any(name.startswith(WORKER) for name in app.threads), app.threads


@pytest.mark.parametrize("resume", ["while-it-runs", "after-it-ended"])
def test_hanging_up_on_the_stream_keeps_the_answer_for_a_resumption(served, resume):
    app = served.server
    client = _session(served)
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_post_bytes(served.port, client, _call(5, "held", {})))
        received = _read_stream(sock, b"data: \n\n\r\n")  # the priming event's chunk
    finally:
        sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"text/event-stream" in head, received
    last_id = parse_sse(b"".join(body.split(b"\r\n")[1::2]))[0]["id"]
    try:
        if resume == "after-it-ended":
            app.release.set()
            assert _ended(app, "held") is False, app.ended
            resumed = client.send("GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": client.session_id,
                                                  "Last-Event-ID": last_id})
            assert resumed.status == 200, resumed
            rest = resumed.body
        else:
            # The stream's reader lets go once the front sees the client gone (within a poll
            # interval, as when the front copies a stream): the resumption is its reader
            # then, while the call still runs (before: 409 until it ended).
            deadline = time.monotonic() + 5
            while True:
                get, first = open_stream(served.port, "GET", "/mcp", {
                    "Accept": "text/event-stream", "Mcp-Session-Id": client.session_id, "Last-Event-ID": last_id})
                if not first.startswith(b"HTTP/1.1 409") or time.monotonic() > deadline:
                    break
                get.close()
                time.sleep(0.05)
            try:
                assert first.startswith(b"HTTP/1.1 200"), first
                assert not app.ended, app.ended
                app.release.set()
                rest = first + _read_stream(get, b"0\r\n\r\n")
            finally:
                get.close()
            rest = b"".join(rest.partition(b"\r\n\r\n")[2].split(b"\r\n")[1::2])
    finally:
        app.release.set()
        client.close()
    answers = [e["json"] for e in parse_sse(rest) if "json" in e]
    assert [a["id"] for a in answers] == [5], rest
    assert answers[0]["result"]["content"][0]["text"] == "released"
    assert _ended(app, "held") is False, app.ended
    assert not any(name.startswith(WORKER) for name in app.threads), app.threads


def test_notifications_cancelled_from_another_post_cancels_it(served):
    app = served.server
    client = _session(served)
    other = Http(served)  # (another connection, the same session)
    other.session_id, other.version = client.session_id, client.version
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        # (held: it waits for the release, so the cancellation surely comes while it runs)
        sock.sendall(_post_bytes(served.port, client, _call(7, "held", {})))
        assert app.started.wait(5)
        # Its id is in use meanwhile.
        clash = other.post(_call(7, "add", {"a": 1, "b": 1}))
        assert clash.status == 400 and "already in use" in clash.json()["error"]["message"], clash
        cancelled = other.post({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                "params": {"requestId": 7, "reason": "no longer needed"}})
        assert cancelled.status == 202, cancelled
        deadline = time.monotonic() + 5
        while not served.app._sessions[client.session_id].connection._inflight.get(7).cancelled:
            assert time.monotonic() < deadline, "the cancellation never reached the call"
            time.sleep(0.01)
        app.release.set()
        answer = _read_stream(sock, b"\r\n\r\n")
    finally:
        app.release.set()
        sock.close()
        client.close()
        other.close()
    # "Servers receiving cancellation notifications SHOULD ... Not send a response for the
    # cancelled request": no body, as on the pool.
    assert answer.startswith(b"HTTP/1.1 202 ") and b"Content-Length: 0\r\n" in answer, answer
    assert ("held", 7, True) in app.ended, app.ended
    assert [e for e in app.ended if e[0] == "add"] == [], app.ended


def test_json_response_mode_watches_a_session_call_too():
    # Only JSON: nothing is written before the answer, which still comes, from this thread.
    app = _app()
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE, json_response=True) as handle:
        client = _session(handle)
        try:
            reply = client.call("tools/call", {"name": "quiet", "arguments": {"seconds": 3 * KEEPALIVE}})
        finally:
            client.close()
    assert reply.content_type == "application/json", reply
    assert reply.json()["result"]["content"][0]["text"] == "quiet %s" % (3 * KEEPALIVE)
    assert app.threads and not app.threads[0].startswith(WORKER), app.threads


@pytest.mark.parametrize("phase", ["json", "stream"])
@pytest.mark.parametrize("tool", ["held", "held_ctx"])
def test_a_session_deleted_mid_call_answers_as_on_the_pool(served, tool, phase):
    """DELETE while the call runs: the POST gets no result (202, or its stream's end), on
    the connection's thread (held) as on the pool (held_ctx), and the session holds nothing."""
    app = served.server
    client = _session(served)
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_post_bytes(served.port, client, _call(9, tool, {})))
        assert app.started.wait(5)
        if phase == "stream":
            first = _read_stream(sock, b"data: \n\n\r\n")  # the head and the priming event
            assert b"text/event-stream" in first, first
        else:
            first = b""
        deleted = client.send("DELETE", headers={"Mcp-Session-Id": client.session_id})
        assert deleted.status in (200, 204), deleted
        app.release.set()
        answer = first + _read_stream(sock, b"0\r\n\r\n" if phase == "stream" else b"\r\n\r\n")
    finally:
        app.release.set()
        sock.close()
    assert b"released" not in answer, answer
    if phase == "json":
        assert answer.startswith(b"HTTP/1.1 202 ") and b"Content-Length: 0\r\n" in answer, answer
    else:
        assert answer.endswith(b"0\r\n\r\n"), answer
    assert client.session_id not in served.app._sessions


def test_hanging_up_on_the_stream_leaves_the_session_idle_again(served):
    """The stream begun by the watcher is let go of when the client hangs up (its reader
    gone, its close counted): once the call has ended the session is idle, so it can expire."""
    app = served.server
    client = _session(served)
    session = served.app._sessions[client.session_id]
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(_post_bytes(served.port, client, _call(11, "held", {})))
        _read_stream(sock, b"data: \n\n\r\n")
    finally:
        sock.close()
    try:
        # The watcher sees the hang-up while the call still runs (else the connection's own
        # write at the end would find the client gone, another path).
        watcher = served._httpd.watcher
        deadline = time.monotonic() + 5
        while not any(watched.gone for watched in list(watcher._calls)):
            assert time.monotonic() < deadline, "the watcher never saw the hang-up"
            time.sleep(0.02)
        app.release.set()
        assert _ended(app, "held") is False, app.ended
        deadline = time.monotonic() + 5
        while session.busy != 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert session.busy == 0
    finally:
        client.close()


def test_the_stream_the_watcher_begins_is_granted_cors():
    app = _app()
    origin = "http://localhost:5173"
    with app.run_in_thread("http", port=0, keepalive_interval=KEEPALIVE, allowed_origins=[origin]) as handle:
        client = _session(handle)
        sock = socket.create_connection(("127.0.0.1", handle.port), timeout=10)
        try:
            sock.sendall(_post_bytes(handle.port, client, _call(12, "held", {}), "Origin: %s\r\n" % origin))
            head = _read_stream(sock, b"\r\n\r\n").partition(b"\r\n\r\n")[0]
        finally:
            app.release.set()
            sock.close()
            client.close()
    assert b"text/event-stream" in head, head
    assert ("Access-Control-Allow-Origin: %s" % origin).encode() in head, head
