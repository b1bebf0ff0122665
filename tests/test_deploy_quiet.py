"""Long, quiet calls on the production deploy path the README sets up (*Deploying*): gunicorn
(gthread), waitress and ``app.run("http")`` (http.server), each alone and behind nginx with the
README's ``location`` settings. Every timeout is scaled down so nothing waits minutes: each
server's own idle timeout (gunicorn ``--timeout``, waitress ``channel_timeout``, http.server's
``read_timeout``) and nginx's ``proxy_read_timeout`` are 1 s, the keep-alive interval is 0.3 s,
and a quiet tool says nothing for 2.5 s. nginx's ``proxy_read_timeout`` bounds the wait for the
answer's head as much as the gap between two reads of its body, so a call that writes nothing
for longer than it is cut with 504 (at nginx's default, 60 s of silence; at the README's 1h, an
hour): these show that the answer becomes an SSE stream carrying keep-alive comments once the
call has been quiet for the keep-alive interval, in both eras, with a Context or without.

Each server runs tests/wsgi_app.py as a subprocess on 127.0.0.1 (stopped by its process group),
nginx is tests/pg_support.py's (``$MCPLITE_PGNGINX``), gunicorn and waitress come from
``$MCPLITE_WSGI_PYTHON``: all marked ``interop``.
"""

import json
import os
import socket
import sys
import time
from typing import Any, Dict, Iterator, Tuple

import pytest

from http_peer import ACCEPT_BOTH, MODERN, Http
from pg_support import Nginx, free_port
from test_wsgi import Served, _gunicorn, _modern_body, _modern_headers, _wsgi_python

pytestmark = pytest.mark.interop

TESTS = os.path.dirname(os.path.abspath(__file__))
KEEPALIVE = 0.3   # mcplite's keep-alive interval here (15 s by default)
IDLE = 2          # each component's idle / read timeout here (nginx: 60 s by default; 1 s gave a
#                   loaded CI machine too little room for the first keep-alive: a 504 now and then)
QUIET = 3.5       # how long a quiet tool says nothing: longer than every IDLE
LEGACY = "2025-11-25"
KINDS = ["gunicorn", "waitress", "http"]


def _start(kind: str) -> Served:
    port = free_port()
    if kind == "gunicorn":
        command = _gunicorn(_wsgi_python(), port)
        # gthread's --timeout (the worker's heartbeat), scaled down; the app's keep-alive too.
        command = command[:-1] + ["--timeout", str(IDLE), "wsgi_app:create(keepalive_interval=%r)" % KEEPALIVE]
        return Served(kind, command, port)
    python = _wsgi_python() if kind == "waitress" else sys.executable
    return Served(kind, [python, os.path.join(TESTS, "wsgi_app.py"), kind, str(port), str(KEEPALIVE), str(IDLE)],
                  port)


def readme_location(upstream: str, port: int, read_timeout: str) -> Any:
    """nginx on 127.0.0.1:``port`` in front of ``upstream`` with the README's ``location``
    settings (its snippet in *Many machines*), ``proxy_read_timeout`` as given."""
    def config(prefix: str) -> str:
        temp = "".join("    %s_temp_path %s;\n" % (kind, os.path.join(prefix, kind))
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return """worker_processes 1;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log notice;
events { worker_connections 128; }
http {
    access_log off;
%(temp)s
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://%(upstream)s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout %(read_timeout)s;
        }
    }
}
""" % {"prefix": prefix, "temp": temp, "port": port, "upstream": upstream, "read_timeout": read_timeout}
    return config


class _Port:
    def __init__(self, port: int) -> None:
        self.port = port


@pytest.fixture(scope="module")
def deployed() -> Iterator[Dict[str, Tuple[Served, Any]]]:
    """Each server kind, started on first use with nginx in front: {kind: (server, nginx)}."""
    running = {}  # type: Dict[str, Tuple[Served, Any]]
    yield running
    for served, proxy in running.values():
        proxy.stop()
        served.stop()


@pytest.fixture(params=KINDS)
def deploy(request, deployed) -> Tuple[Served, Any]:
    kind = request.param
    if kind not in deployed:
        served = _start(kind)
        try:
            port = free_port()
            proxy = Nginx(port, readme_location("127.0.0.1:%d" % served.port, port, "%ds" % IDLE))
        except BaseException:
            served.stop()
            raise
        deployed[kind] = (served, proxy)
    return deployed[kind]


def _client(port: int) -> Http:
    client = Http(_Port(port))
    client.conn.timeout = QUIET + 10
    return client


def _call(port: int, era: str, tool: str) -> Any:
    client = _client(port)
    try:
        arguments = {"name": tool, "arguments": {"seconds": QUIET}}
        if era == "modern":
            return client.modern("tools/call", arguments)
        client.initialize(LEGACY)
        return client.call("tools/call", arguments, id=7)
    finally:
        client.close()


def _result(reply: Any) -> Any:
    assert reply.status == 200, reply
    if reply.content_type == "text/event-stream":
        answers = [m for m in reply.messages() if "result" in m or "error" in m]
        assert len(answers) == 1, reply
        return answers[0]
    return reply.json()


@pytest.mark.parametrize("tool", ["quiet", "quiet_ctx"])
@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_quiet_call_outlives_nginxs_read_timeout(deploy, era, tool):
    served, proxy = deploy
    reply = _call(proxy.port, era, tool)
    # Before: 504 Gateway Time-out from nginx after IDLE seconds of silence ("upstream timed
    # out ... while reading response header from upstream").
    assert reply.status == 200, (reply, proxy.error_log()[-1500:])
    assert reply.content_type == "text/event-stream", reply
    assert b":" in reply.body.split(b"\n"), reply  # keep-alive comments carried it
    assert _result(reply)["result"]["content"][0]["text"] == "quiet %s" % QUIET


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_quiet_call_outlives_the_servers_own_timeouts(deploy, era):
    # Straight to the server: gunicorn's --timeout, waitress's channel_timeout and
    # http.server's read_timeout (all IDLE) do not end a call in progress.
    served, _proxy = deploy
    assert _result(_call(served.port, era, "quiet"))["result"]["content"][0]["text"] == "quiet %s" % QUIET


def _quiet_stream(port: int, request: bytes) -> bytes:
    """Send ``request`` (a stream's) to ``port`` and read for QUIET seconds: what came."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=QUIET + 5)
    try:
        sock.sendall(request)
        received = b""
        began = time.monotonic()
        sock.settimeout(0.2)
        while time.monotonic() - began < QUIET:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            assert chunk, "the quiet stream was closed: %r" % received
            received += chunk
        return received
    finally:
        sock.close()


@pytest.mark.parametrize("stream", ["get", "listen"])
def test_an_open_stream_stays_open_through_nginx(deploy, stream):
    # A legacy session's GET stream, a 2026-07-28 subscriptions/listen: nothing to say for
    # longer than nginx's read timeout, a keep-alive comment every KEEPALIVE seconds.
    _served, proxy = deploy
    client = _client(proxy.port)
    try:
        if stream == "get":
            client.initialize(LEGACY)
            request = ("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n"
                       "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: %s\r\n\r\n"
                       % (proxy.port, client.session_id, LEGACY)).encode()
        else:
            body = json.dumps({"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen", "params": {
                "notifications": {"toolsListChanged": True},
                "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                          "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
            request = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                       "Accept: %s\r\nMCP-Protocol-Version: %s\r\nMcp-Method: subscriptions/listen\r\n"
                       "Content-Length: %d\r\n\r\n" % (proxy.port, ACCEPT_BOTH, MODERN, len(body))).encode() + body
        received = _quiet_stream(proxy.port, request)
    finally:
        client.close()
    assert received.startswith(b"HTTP/1.1 200"), received
    assert received.count(b":\n\n") >= 2, received


def _thread_count(port: int) -> int:
    client = _client(port)
    try:
        reply = client.modern("tools/call", {"name": "thread_count", "arguments": {}})
        return _result(reply)["result"]["structuredContent"]["result"]
    finally:
        client.close()


def _seen(port: int, tool: str, timeout: float, pause: float = 0.1) -> bool:
    """Poll a tool of tests/wsgi_app.py that answers whether something happened."""
    deadline = time.monotonic() + timeout
    client = _client(port)
    try:
        while True:
            reply = client.modern("tools/call", {"name": tool, "arguments": {}})
            if reply.json()["result"]["structuredContent"]["result"] is True:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
    finally:
        client.close()


def _cancel_seen(port: int, timeout: float = 10.0) -> bool:
    return _seen(port, "cancel_seen", timeout)


def _hang_up_mid_call(port: int, wait: float, tool: str, served_port: int) -> None:
    """Call ``tool`` through ``port`` and hang up ``wait`` seconds after sending, but never
    before the tool has started: a call cancelled before its handler starts is never run
    (an ``async def`` one is cancelled before its first step), so the handler could not
    report the cancellation this test waits for."""
    body = _modern_body(tool, {"seconds": 20})
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n" % (port, len(body))
    for name, value in _modern_headers(tool).items():
        head += "%s: %s\r\n" % (name, value)
    sent = time.monotonic()
    try:
        sock.sendall(head.encode() + b"\r\n" + body)
        assert _seen(served_port, "started_seen", 10.0, pause=0.01), "the tool never started"
        time.sleep(max(0.0, sent + wait - time.monotonic()))
    finally:
        sock.close()


@pytest.mark.parametrize("tool", ["quiet_ctx", "quiet_async"])
@pytest.mark.parametrize("via", ["direct", "nginx"])
@pytest.mark.parametrize("wait", [0.1, 3 * KEEPALIVE], ids=["before-the-answer", "on-the-stream"])
def test_hanging_up_mid_call_cancels_it_and_leaks_no_thread(deploy, via, wait, tool):
    # Before the answer has taken form, or once it is a stream of keep-alive comments. In
    # 2026-07-28 the hang-up is the cancellation. quiet_async takes no Context: under
    # http.server it runs on its connection's thread, which the server's watcher watches.
    served, proxy = deploy
    port = served.port if via == "direct" else proxy.port
    _cancel_seen(served.port, 0)  # (forget an earlier test's)
    _seen(served.port, "started_seen", 0)
    # Warm up: worker threads stay once started, and the first rounds start what later ones reuse.
    for _ in range(2):
        _hang_up_mid_call(port, wait, tool, served.port)
        assert _cancel_seen(served.port), "the handler never saw ctx.cancelled"
    before = _thread_count(served.port)
    rounds = 4
    for _ in range(rounds):
        _hang_up_mid_call(port, wait, tool, served.port)
        assert _cancel_seen(served.port), "the handler never saw ctx.cancelled"
    deadline = time.monotonic() + 5
    after = _thread_count(served.port)
    while after > before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = _thread_count(served.port)
    # A leak grows with every round (4 threads or more here); each pool (mcplite's, and
    # gunicorn's under gunicorn) may still start one more thread, up to its bound, when a
    # round's job overlaps the next request: 2 at most. (+2 under gunicorn seen once in CI.)
    assert after <= before + 2, "threads grew from %d to %d over %d rounds" % (before, after, rounds)
