"""``Server.wsgi()`` under real WSGI servers: gunicorn (the gthread worker), waitress, and the
standard library's ``wsgiref``.

Each server runs tests/wsgi_app.py as a subprocess on 127.0.0.1 (a free port), started once per
server for this module and stopped by its PID (its process group: gunicorn's workers with it).
gunicorn and waitress come from ``$MCPLITE_WSGI_PYTHON``, a venv ``scripts/test`` builds with
pinned releases (they are never imported by mcplite, nor by this process); those tests are
marked ``interop`` and, with ``MCPLITE_REQUIRE_INTEROP`` set, fail rather than skip when that
venv is missing. The ``wsgiref`` ones run everywhere, under this interpreter.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from http_peer import ACCEPT_BOTH, MODERN, Http, old_sse_initialize, open_stream, parse_sse
from interop_support import mcplite_dir, venv_python

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
if os.path.join(REPO, "bench") not in sys.path:
    sys.path.append(os.path.join(REPO, "bench"))

from _bench_common import stop_group  # noqa: E402  (bench/: how the benchmarks end a server's group)

KEEPALIVE = 0.5  # the servers' keep-alive interval here: how soon a write finds a client gone
START_TIMEOUT = 30.0


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    path = [mcplite_dir(), TESTS] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wsgi_python() -> str:
    return venv_python("MCPLITE_WSGI_PYTHON", "import gunicorn, waitress", "gunicorn and waitress")


def _free_port() -> int:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


class Served:
    """A WSGI server running the test app: ``port``, ``kind``, ``stderr()``, ``stop()``."""

    def __init__(self, kind: str, command: List[str], port: int) -> None:
        self.kind = kind
        self.port = port
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, cwd=TESTS, env=_env(), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                log = self.stderr()
                self.stop()
                pytest.fail("%s exited (%s) before serving:\n%s" % (kind, self.proc.returncode, log[-3000:]))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    log = self.stderr()
                    self.stop()
                    pytest.fail("%s did not listen on %d within %ss:\n%s" % (kind, port, START_TIMEOUT, log[-3000:]))
                time.sleep(0.1)

    def stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        stop_group(self.proc)  # gunicorn's master and its workers together
        self._log.close()


def _gunicorn(python: str, port: int, worker: Optional[str] = "gthread") -> List[str]:
    command = [python, "-m", "gunicorn", "-b", "127.0.0.1:%d" % port, "--no-control-socket",
               "--graceful-timeout", "1", "--workers", "1"]
    if worker is not None:
        command += ["-k", worker, "--threads", "8"]
    # The factory-call form gunicorn accepts (`module:name(literal arguments)`).
    return command + ["wsgi_app:create(keepalive_interval=%r)" % KEEPALIVE]


def start(kind: str) -> Served:
    port = _free_port()
    if kind == "wsgiref":
        return Served(kind, [sys.executable, os.path.join(TESTS, "wsgi_app.py"), "wsgiref", str(port),
                             str(KEEPALIVE)], port)
    python = _wsgi_python()
    if kind == "gunicorn":
        return Served(kind, _gunicorn(python, port), port)
    return Served(kind, [python, os.path.join(TESTS, "wsgi_app.py"), "waitress", str(port), str(KEEPALIVE)], port)


PROBED = [pytest.param("gunicorn", marks=pytest.mark.interop), pytest.param("waitress", marks=pytest.mark.interop)]
KINDS = [pytest.param("wsgiref")] + PROBED


@pytest.fixture(scope="module")
def servers():
    """The servers this module has started, by kind: each started once, on first use."""
    running = {}  # type: Dict[str, Served]
    yield running
    for each in running.values():
        each.stop()


def _server(servers: Dict[str, Served], kind: str) -> Served:
    if kind not in servers:
        servers[kind] = start(kind)
    return servers[kind]


@pytest.fixture(params=KINDS)
def served(request, servers):
    return _server(servers, request.param)


@pytest.fixture(params=PROBED)
def probed(request, servers):
    """A server that offers a probe for a client's hang-up (wsgiref has none)."""
    return _server(servers, request.param)


@pytest.fixture
def client(served):
    c = Http(served)
    yield c
    c.close()


def _text(message: Dict[str, Any]) -> Any:
    return message["result"]["content"][0]["text"]


def _modern_body(name: str, arguments: Dict[str, Any], rid: Any = 1, progress: Any = None) -> bytes:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {}}  # type: Dict[str, Any]
    if progress is not None:
        meta["progressToken"] = progress
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                       "params": {"name": name, "arguments": arguments, "_meta": meta}}).encode()


def _modern_headers(name: str) -> Dict[str, str]:
    return {"Content-Type": "application/json", "Accept": ACCEPT_BOTH, "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call", "Mcp-Name": name}


def _timed_events(port: int, name: str, arguments: Dict[str, Any]) -> Tuple[Dict[str, str], List[Tuple[float, Any]]]:
    """POST a 2026-07-28 tools/call and read its SSE answer as it comes: the headers, and each
    event's JSON with when it arrived (seconds after the request was sent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        began = time.monotonic()
        conn.request("POST", "/mcp", _modern_body(name, arguments, progress="p"), _modern_headers(name))
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        assert resp.status == 200 and headers["content-type"] == "text/event-stream", (resp.status, headers)
        timed = []  # type: List[Tuple[float, Any]]
        buffer = b""
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                for event in parse_sse(block + b"\n\n"):
                    if "json" in event:
                        timed.append((time.monotonic() - began, event["json"]))
        return headers, timed
    finally:
        conn.close()


def _wait_until_cancel_seen(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    peer = Http(type("Port", (), {"port": port}))
    try:
        while time.monotonic() < deadline:
            reply = peer.modern("tools/call", {"name": "cancel_seen", "arguments": {}})
            assert reply.status == 200, reply
            if reply.json()["result"]["structuredContent"]["result"] is True:
                return True
            time.sleep(0.1)
        return False
    finally:
        peer.close()


# -- both eras ----------------------------------------------------------------------------

def test_legacy_session_initialize_call_and_delete(served, client):
    reply = client.initialize("2025-11-25")
    assert reply.json()["result"]["serverInfo"]["name"] == "wsgi-tests"
    session = reply.headers["mcp-session-id"]
    called = client.call("tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}}, id=2)
    assert called.status == 200 and called.headers.get("mcp-session-id") == session
    assert called.json()["result"]["structuredContent"] == {"result": 42}
    # A handler that reports progress answers with SSE, primed (2025-11-25) and then the events.
    events = client.call("tools/call", {"name": "steps", "arguments": {"count": 2, "pause": 0},
                                        "_meta": {"progressToken": "t"}}, id=3).events()
    assert events[0]["data"] == "" and "id" in events[0], "the priming event"
    assert [e["json"].get("method") for e in events[1:]] == ["notifications/progress"] * 2 + [None]
    assert _text(events[-1]["json"]) == "finished"
    assert client.send("DELETE", headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}).status \
        == 200
    gone = client.call("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, id=4)
    assert gone.status == 404


def test_modern_request_is_stateless(served, client):
    reply = client.modern("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    assert reply.status == 200 and "mcp-session-id" not in reply.headers
    assert reply.json()["result"]["structuredContent"] == {"result": 5}
    mismatch = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, headers={"Mcp-Name": "x"})
    assert mismatch.status == 400 and mismatch.json()["error"]["code"] == -32020
    # GET and DELETE have no meaning in 2026-07-28.
    assert client.send("GET", headers={"MCP-Protocol-Version": MODERN, "Accept": "text/event-stream"}).status == 405


def test_an_sse_answer_arrives_event_by_event(served):
    # Three progress events 0.6 s apart, then the result: each must arrive when it is sent,
    # not all together when the handler ends.
    headers, timed = _timed_events(served.port, "steps", {"count": 3, "pause": 0.6})
    assert headers.get("x-accel-buffering") == "no"
    kinds = [m.get("method") for _, m in timed]
    assert kinds == ["notifications/progress"] * 3 + [None], timed
    assert _text(timed[-1][1]) == "finished"
    arrived = [t for t, _ in timed]
    assert arrived[-1] >= 1.7, arrived
    assert arrived[0] < arrived[-1] - 1.2, "the first event waited for the last: %r" % arrived
    assert arrived[1] - arrived[0] > 0.3 and arrived[2] - arrived[1] > 0.3, arrived


def test_a_get_stream_carries_server_messages_while_other_requests_are_served(served, client):
    client.initialize("2025-11-25")
    sock, first = open_stream(served.port, "GET", "/mcp", {
        "Accept": "text/event-stream", "Mcp-Session-Id": client.session_id, "MCP-Protocol-Version": client.version})
    try:
        assert first.split(b"\r\n", 1)[0] in (b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK"), first
        # The stream holds a thread; the next requests are served beside it.
        other = Http(served)
        try:
            assert _text(other.modern("tools/call", {"name": "announce", "arguments": {}}).json()) == "announced"
        finally:
            other.close()
        received = first
        sock.settimeout(5)
        deadline = time.monotonic() + 5
        while b"notifications/tools/list_changed" not in received and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert b"notifications/tools/list_changed" in received, received
        # One reader per stream.
        second, answer = open_stream(served.port, "GET", "/mcp", {
            "Accept": "text/event-stream", "Mcp-Session-Id": client.session_id,
            "MCP-Protocol-Version": client.version})
        second.close()
        assert b" 409 " in answer.split(b"\r\n", 1)[0], answer
    finally:
        sock.close()


def test_the_old_http_sse_transport(served, client):
    sock, received = open_stream(served.port, "GET", "/sse", {"Accept": "text/event-stream"})
    try:
        sock.settimeout(5)
        while b"endpoint" not in received or b"session_id=" not in received:
            received += sock.recv(65536)
        endpoint = received.split(b"data: ", 1)[1].split(b"\n", 1)[0].decode()
        assert endpoint.startswith("/messages?session_id=")
        old_sse_initialize(client, sock, received, endpoint, 5)
    finally:
        sock.close()


# -- security and limits ------------------------------------------------------------------

def test_origin_and_host_are_checked(served, client):
    refused = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}},
                            headers={"Origin": "http://evil.example"})
    assert refused.status == 403 and refused.json()["error"]["code"] == -32600
    assert client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}},
                         headers={"Origin": "http://localhost:3000"}).status == 200
    misdirected = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}},
                                headers={"Host": "evil.example"})
    assert misdirected.status == 421
    deadline = time.monotonic() + 5
    while "allowed_hosts" not in served.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "wsgi(allowed_hosts=[...])" in served.stderr(), "the refusal says how to serve other names"


def test_a_browser_page_from_an_accepted_origin_is_granted_cors(served, client):
    page = "http://localhost:3000"
    preflight = client.send("OPTIONS", headers={"Origin": page, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type, mcp-protocol-version"})
    assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == page, preflight
    assert "mcp-protocol-version" in preflight.headers["access-control-allow-headers"].lower()
    answered = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, headers={"Origin": page})
    assert answered.status == 200 and answered.headers["access-control-allow-origin"] == page


def _head_fields(answer: bytes) -> Dict[str, List[str]]:
    """The header fields of the response ``answer`` begins with, by lower-case name."""
    fields = {}  # type: Dict[str, List[str]]
    for line in answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _received(sock: socket.socket, until: Optional[bytes] = None) -> bytes:
    """What ``sock`` gives until ``until`` is in it (None: until the peer closes), or it closes."""
    received = b""
    while until is None or until not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _assert_cors_grant(answer: bytes, origin: Optional[str]) -> None:
    """The answer carries the grant the app's own answers give ``origin``, or none at all."""
    fields = _head_fields(answer)
    if origin is None:
        assert "access-control-allow-origin" not in fields, answer[:500]
        return
    assert fields.get("access-control-allow-origin") == [origin], answer[:500]
    assert "origin" in [v.strip().lower() for value in fields["vary"] for v in value.split(",")], answer[:500]
    assert "mcp-session-id" in fields["access-control-expose-headers"][0].lower(), answer[:500]


def test_an_oversized_body_is_refused_and_the_server_goes_on(served):
    limit = 4 * 1024 * 1024
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"' + b"x" * limit + b'"}}'
    # The adapter's own refusal, as the app's answers, reaches a page of an accepted Origin
    # (else the browser hands it an opaque network error); a refused Origin, or none, gets
    # no grant.
    for origin, granted in (("http://localhost:3000", "http://localhost:3000"), ("http://evil.example", None),
                            (None, None)):
        sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        try:
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Accept: %s\r\n%sContent-Length: %d\r\n\r\n"
                         % (ACCEPT_BOTH.encode(), b"Origin: %s\r\n" % origin.encode() if origin else b"", len(body)))
            try:
                sock.sendall(body)  # (a server may answer, and close, before it has all of it)
            except OSError:
                pass
            answer = _received(sock, b"\r\n\r\n")
        finally:
            sock.close()
        assert b" 413 " in answer.split(b"\r\n", 1)[0], answer[:300]
        assert b"the limit is %d bytes" % limit in answer or b"\r\n\r\n" in answer
        _assert_cors_grant(answer, granted)
    peer = Http(served)
    try:
        assert peer.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}).status == 200
    finally:
        peer.close()


def test_a_chunked_body_is_read_bounded_or_refused(served):
    body = _modern_body("add", {"a": 4, "b": 5})
    head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % served.port
    for name, value in _modern_headers("add").items():
        head += "%s: %s\r\n" % (name, value)
    head += "Origin: http://localhost:3000\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    try:
        sock.sendall(head.encode() + chunked)
        answer = _received(sock)
    finally:
        sock.close()
    status = answer.split(b"\r\n", 1)[0]
    if served.kind == "wsgiref":
        # wsgiref hands the body on undecoded, with no length and no end: refused, never read.
        assert b" 411 " in status, answer
    else:
        assert b" 200 " in status and b'"structuredContent":{"result":9}' in answer, answer
    _assert_cors_grant(answer, "http://localhost:3000")


def test_a_quiet_call_becomes_a_stream_of_keepalives(served, client):
    # Nothing to say for longer than the keep-alive interval: the answer becomes an SSE stream
    # whose head goes out then, with a keep-alive comment every interval, so a proxy's read
    # timeout never sees the call idle (tests/test_deploy_quiet.py: behind nginx). The WSGI
    # body yields each comment itself, from the server's thread iterating it.
    for reply in (client.modern("tools/call", {"name": "quiet", "arguments": {"seconds": 4 * KEEPALIVE}}),
                  client.initialize() and client.call("tools/call", {"name": "quiet", "arguments": {
                      "seconds": 4 * KEEPALIVE}})):
        assert reply.status == 200 and reply.content_type == "text/event-stream", reply
        assert reply.body.split(b"\n").count(b":") >= 2, reply  # keep-alive comments
        assert [_text(m) for m in reply.messages()] == ["quiet %s" % (4 * KEEPALIVE)], reply


# -- a client that goes away --------------------------------------------------------------

def test_closing_a_streamed_answer_cancels_a_modern_request(served):
    body = _modern_body("wait_for_cancel", {"report_first": True}, progress="p")
    sock, first = open_stream(served.port, "POST", "/mcp", _modern_headers("wait_for_cancel"), body)
    try:
        sock.settimeout(5)
        received = first
        while b"notifications/progress" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
    finally:
        sock.close()
    # gunicorn and waitress see the hang-up through their probes; wsgiref when the next
    # keep-alive comment cannot be written.
    assert _wait_until_cancel_seen(served.port), "the handler never saw ctx.cancelled"


def test_hanging_up_before_any_answer_cancels_a_modern_request(probed):
    # Nothing written yet, so no write can fail: only the server's probe can tell.
    served = probed
    body = _modern_body("wait_for_cancel", {"report_first": False})
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n" % (served.port, len(body))
    for name, value in _modern_headers("wait_for_cancel").items():
        head += "%s: %s\r\n" % (name, value)
    sock.sendall(head.encode() + b"\r\n" + body)
    time.sleep(0.5)
    sock.close()
    assert _wait_until_cancel_seen(served.port), "the handler never saw ctx.cancelled"


# -- gunicorn's sync worker ---------------------------------------------------------------

@pytest.mark.interop
def test_gunicorns_sync_worker_is_refused_with_a_message_naming_gthread():
    python = _wsgi_python()
    port = _free_port()
    running = Served("gunicorn-sync", _gunicorn(python, port, worker=None), port)
    try:
        peer = Http(running)
        try:
            for origin in ("http://localhost:3000", None):
                reply = peer.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}},
                                    headers={"Origin": origin} if origin else None)
                assert reply.status == 500, reply
                message = reply.json()["error"]["message"]
                assert "sync worker" in message and "-k gthread" in message, message
                # A browser page of an accepted Origin reads the refusal, not a network error.
                assert reply.headers.get("access-control-allow-origin") == origin, reply.headers
        finally:
            peer.close()
        deadline = time.monotonic() + 5
        while "-k gthread" not in running.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = running.stderr()
        assert "Using worker: sync" in log, log
        assert log.count("gunicorn's sync worker cannot serve MCP") == 1, log
    finally:
        running.stop()


# -- the environ's header fields, in process -------------------------------------------------

def _in_process_call(application: Any, extra: Dict[str, str], rid: int) -> Tuple[str, Dict[str, Any]]:
    import io
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {
        "name": "add", "arguments": {"a": rid, "b": 1}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/mcp", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_HOST": "127.0.0.1:8000", "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(len(body)), "HTTP_ACCEPT": "application/json, text/event-stream",
               "HTTP_MCP_PROTOCOL_VERSION": "2026-07-28", "HTTP_MCP_METHOD": "tools/call",
               "HTTP_MCP_NAME": " add\t", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
               "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.multithread": True,
               "wsgi.multiprocess": False, "wsgi.run_once": False}
    environ.update(extra)
    statuses = []  # type: List[str]
    chunks = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        answer = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return statuses[0], json.loads(answer)


def test_header_names_are_remembered_within_a_bound_and_new_ones_still_count(monkeypatch: Any) -> None:
    from mcplite import Server

    app = Server("fields")

    @app.tool(inline=True)
    def add(a: int, b: int) -> int:
        return a + b
    application = app.wsgi()
    module = sys.modules[type(application).__module__]
    names = {}  # type: Dict[str, str]
    monkeypatch.setattr(module, "_FIELD_NAMES", names)  # this test's table, empty, not left full of junk
    bound = module._FIELD_NAMES_MAX
    status, answer = _in_process_call(application, {"HTTP_X_" + "LONG" * 40: "v"}, 100)
    assert status == "200 OK", answer
    assert names.get("HTTP_HOST") == "host" and names.get("REQUEST_METHOD") == ""
    assert not any(len(key) > module._FIELD_NAME_LONGEST for key in names), sorted(names)
    for rid in range(3):
        # Clients choose the names of their headers: hundreds of new ones per request.
        junk = {"HTTP_X_JUNK_%d_%d" % (rid, i): "v" for i in range(bound)}
        status, answer = _in_process_call(application, junk, rid)
        assert status == "200 OK" and answer["result"]["structuredContent"] == {"result": rid + 1}, answer
        assert len(names) == bound
    assert "HTTP_ORIGIN" not in names
    # A field first seen once the table is full still counts: a foreign Origin is refused.
    status, answer = _in_process_call(application, {"HTTP_ORIGIN": "https://elsewhere.example"}, 9)
    assert status.startswith("403"), (status, answer)
    status, answer = _in_process_call(application, {"HTTP_X_NEVER_SEEN": " padded "}, 10)
    assert status == "200 OK", (status, answer)
