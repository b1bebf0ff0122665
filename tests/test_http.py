"""Streamable HTTP, both eras, at the level of HTTP statuses, headers and bytes."""

import json
import re
import select
import socket
import threading
import time

import pytest

from apps import make_app
from http_peer import ACCEPT_BOTH, MODERN, Http, old_sse_initialize, open_stream, parse_sse, raw_exchange
from mcplite import Context, Server
from mcplite.auth import AccessToken, BearerAuth
from wire import schema_problem


def checked(message, version, method=None):
    problem = schema_problem(message, version, method)
    assert problem is None, "%s\n%s" % (problem, json.dumps(message))
    return message


def serving_app():
    app = make_app()
    gate = threading.Event()

    @app.tool()
    def steps(ctx: Context) -> str:
        """Reports progress twice, then answers."""
        ctx.progress(1, 2, "half")
        ctx.progress(2, 2, "done")
        return "finished"

    @app.tool()
    def wait_for_cancel(ctx: Context) -> str:
        """Runs until cancelled (or 5 s)."""
        deadline = time.monotonic() + 5
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()
        return "cancelled" if ctx.cancelled else "timed out"

    @app.tool()
    def reconnect(ctx: Context) -> str:
        """Closes its SSE connection, then goes on."""
        ctx.progress(1, 3)
        closed = ctx.close_sse_stream(retry_ms=50)
        time.sleep(0.3)
        ctx.progress(2, 3)
        return "closed" if closed else "not closed"

    @app.tool()
    def region_echo(region: str = "-", count: int = 0, loud: bool = False) -> str:
        return "%s/%d/%s" % (region, count, loud)
    tool = app.find_tool("region_echo")
    tool.input_schema["properties"]["region"]["x-mcp-header"] = "Region"
    tool.input_schema["properties"]["count"]["x-mcp-header"] = "Count"
    tool.input_schema["properties"]["loud"]["x-mcp-header"] = "Loud"
    from mcplite.schema import header_parameters
    tool.header_params = header_parameters(tool.input_schema)

    @app.tool()
    def identity(ctx: Context) -> str:
        principal = ctx.principal
        return "%s %s" % (getattr(principal, "subject", None), ctx.http_headers.get("x-trace", "-"))
    app.gate = gate
    return app


@pytest.fixture
def server():
    app = serving_app()
    handle = app.run_in_thread("http", port=0)
    handle.server = app
    yield handle
    handle.stop()


@pytest.fixture
def client(server):
    c = Http(server)
    yield c
    c.close()


# -- legacy sessions ----------------------------------------------------------------------

def test_initialize_issues_a_session_id_and_later_requests_need_it(server, client):
    reply = client.initialize()
    assert re.match(r"^[\x21-\x7e]{16,}$", reply.headers["mcp-session-id"])
    checked(reply.json(), "2025-11-25", "initialize")
    assert server.app.session_count() == 1
    listed = client.call("tools/list")
    assert listed.status == 200 and listed.content_type == "application/json"
    assert "steps" in [t["name"] for t in listed.json()["result"]["tools"]]
    missing = client.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, {"Mcp-Session-Id": None})
    assert missing.status == 400 and missing.json()["error"]["code"] == -32600
    unknown = client.post({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, {"Mcp-Session-Id": "nope"})
    assert unknown.status == 404


def test_notifications_and_responses_get_202_with_no_body(client):
    client.initialize()
    reply = client.post({"jsonrpc": "2.0", "method": "notifications/whatever"})
    assert (reply.status, reply.body) == (202, b"")
    reply = client.post({"jsonrpc": "2.0", "id": "s-1", "result": {}})
    assert (reply.status, reply.body) == (202, b"")


def test_a_handler_that_reports_first_answers_with_sse_and_primes_2025_11_25(client):
    client.initialize("2025-11-25")
    reply = client.call("tools/call", {"name": "steps", "_meta": {"progressToken": "t"}}, id=9)
    assert reply.status == 200 and reply.content_type == "text/event-stream"
    assert reply.headers["x-accel-buffering"] == "no"
    events = reply.events()
    assert events[0]["data"] == "" and "id" in events[0] and events[0]["retry"] == "1000", "priming event"
    messages = [e["json"] for e in events[1:]]
    assert [m.get("method") for m in messages] == ["notifications/progress", "notifications/progress", None]
    assert messages[-1]["result"]["content"][0]["text"] == "finished"
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids) and len({i.rsplit(".", 1)[0] for i in ids}) == 1, ids
    for m in messages:
        checked(m, "2025-11-25", "tools/call" if "id" in m else None)


def test_no_priming_event_before_2025_11_25(client):
    client.initialize("2025-06-18")
    events = client.call("tools/call", {"name": "steps", "_meta": {"progressToken": 1}}).events()
    assert all(e["data"] for e in events), "older clients would choke on an empty data field"
    assert events[-1]["json"]["result"]["content"][0]["text"] == "finished"


def test_unsupported_protocol_version_header_is_400(client):
    client.initialize()
    reply = client.call("tools/list", headers={"MCP-Protocol-Version": "1999-01-01"})
    assert reply.status == 400
    # Absent, 2025-03-26 is assumed and the session goes on.
    assert client.call("tools/list", headers={"MCP-Protocol-Version": None}).status == 200


def test_delete_ends_the_session(server, client):
    client.initialize()
    reply = client.send("DELETE", headers={"Mcp-Session-Id": client.session_id})
    assert reply.status == 200
    assert server.app.session_count() == 0
    assert client.call("tools/list").status == 404


def test_get_resumes_a_stream_the_server_closed(server, client):
    client.initialize("2025-11-25")
    reply = client.call("tools/call", {"name": "reconnect", "_meta": {"progressToken": "r"}}, id=4)
    first = reply.events()
    assert first[-1]["retry"] == "50" and "json" not in first[-1], "a retry event before closing"
    assert not any("result" in e.get("json", {}) for e in first)
    last_id = [e for e in first if "id" in e][-1]["id"]
    time.sleep(0.4)
    resumed = client.send("GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": client.session_id,
                                          "Last-Event-ID": last_id})
    assert resumed.status == 200
    rest = [e["json"] for e in resumed.events() if "json" in e]
    assert rest[0]["params"]["progress"] == 2
    assert rest[-1]["id"] == 4 and rest[-1]["result"]["content"][0]["text"] == "closed"
    # The stream is finished and was read: it cannot be replayed again. Not 404, which would
    # tell the client its (live) session is gone.
    again = client.send("GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": client.session_id,
                                        "Last-Event-ID": last_id})
    assert again.status == 400 and "no stream to resume" in again.json()["error"]["message"]


def test_get_needs_an_event_stream_accept_and_allows_one_reader(server, client):
    client.initialize()
    bad = client.send("GET", headers={"Accept": "application/json", "Mcp-Session-Id": client.session_id})
    assert bad.status == 406
    assert bad.json()["error"]["message"] == "Not Acceptable: a GET opens an event stream: send Accept: text/event-stream"
    sock, first = open_stream(server.port, "GET", "/mcp", {"Accept": "text/event-stream",
                                                          "Mcp-Session-Id": client.session_id})
    try:
        assert first.startswith(b"HTTP/1.1 200"), first
        second = client.send("GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": client.session_id})
        assert second.status == 409
    finally:
        sock.close()


def test_batches_over_http_in_2025_03_26(client):
    client.initialize("2025-03-26")
    reply = client.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                         {"jsonrpc": "2.0", "method": "notifications/x"},
                         {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}])
    assert reply.status == 200
    answers = reply.json()
    assert sorted(a["id"] for a in answers) == [1, 2]


def test_json_response_mode_never_streams():
    app = serving_app()
    with app.run_in_thread("http", port=0, json_response=True) as handle:
        c = Http(handle)
        c.initialize()
        reply = c.call("tools/call", {"name": "steps", "_meta": {"progressToken": 1}})
        assert reply.content_type == "application/json"
        assert reply.json()["result"]["content"][0]["text"] == "finished"
        # Only JSON is asked of the client here, and the refusal says so.
        refused = c.post({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, {"Accept": "text/event-stream"})
        assert (refused.status, refused.json()["error"]["message"]) == (406, "Not Acceptable: send Accept: application/json")
        c.close()


def test_a_quiet_call_becomes_a_stream_of_keepalives():
    # A tool that says nothing for longer than the keep-alive interval: its answer turns into
    # an SSE stream whose head is written then, and a keep-alive comment every interval after,
    # so a proxy's read timeout (nginx: 60 s by default, for the head too) never sees it idle.
    # With or without a Context, in both eras; a quick call stays plain JSON.
    app = Server("quiet")

    @app.tool()
    def quiet(seconds: float) -> str:
        time.sleep(seconds)
        return "done"

    @app.tool()
    def quiet_ctx(ctx: Context, seconds: float) -> str:
        time.sleep(seconds)
        return "done"

    with app.run_in_thread("http", port=0, keepalive_interval=0.2) as handle:
        for tool in ("quiet", "quiet_ctx"):
            c = Http(handle)
            modern = c.modern("tools/call", {"name": tool, "arguments": {"seconds": 1.0}})
            c.initialize()
            legacy = c.call("tools/call", {"name": tool, "arguments": {"seconds": 1.0}})
            quick = c.call("tools/call", {"name": tool, "arguments": {"seconds": 0}})
            c.close()
            for reply in (modern, legacy):
                assert reply.status == 200 and reply.content_type == "text/event-stream", (tool, reply)
                assert reply.body.split(b"\n").count(b":") >= 2, (tool, reply)  # keep-alive comments
                assert [m["result"]["content"][0]["text"] for m in reply.messages()] == ["done"], reply
            assert quick.content_type == "application/json", (tool, quick)
    # Only JSON asked for: nothing can be written before the result, which still arrives.
    with app.run_in_thread("http", port=0, keepalive_interval=0.2, json_response=True) as handle:
        c = Http(handle)
        reply = c.modern("tools/call", {"name": "quiet", "arguments": {"seconds": 0.6}})
        c.close()
        assert reply.content_type == "application/json" and reply.json()["result"]["content"][0]["text"] == "done"


def test_stateless_mode_has_no_sessions():
    app = serving_app()
    with app.run_in_thread("http", port=0, stateless=True) as handle:
        c = Http(handle)
        init = c.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}})
        assert init.status == 200 and "mcp-session-id" not in init.headers
        reply = c.call("tools/list", headers={"MCP-Protocol-Version": "2025-06-18"})
        assert reply.status == 200 and reply.json()["result"]["tools"]
        assert c.send("GET", headers={"Accept": "text/event-stream"}).status == 405
        assert handle.app.session_count() == 0
        c.close()


INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}}


def get_stream(handle, peer):
    """A session's GET stream, open (a raw socket, closed by the caller)."""
    sock, first = open_stream(handle.port, "GET", "/mcp", {
        "Accept": "text/event-stream", "Mcp-Session-Id": peer.session_id, "MCP-Protocol-Version": peer.version})
    assert first.startswith(b"HTTP/1.1 200"), first
    return sock


def test_idle_sessions_expire():
    app = serving_app()
    with app.run_in_thread("http", port=0, session_idle_timeout=0.2) as handle:
        a, b = Http(handle), Http(handle)
        a.initialize()
        time.sleep(1.3)  # idle past the timeout, and past the once-a-second sweep
        b.initialize()  # (a request: it runs the sweep)
        assert handle.app.session_count() == 1
        assert a.call("tools/list").status == 404
        for x in (a, b):
            x.close()


def test_a_full_table_ends_the_least_recently_used_idle_session():
    # A bound must not become a lockout: the new client is served, and the client whose
    # session made room gets 404 and starts another, as the spec provides.
    with serving_app().run_in_thread("http", port=0, max_sessions=2) as handle:
        a, b, c = Http(handle), Http(handle), Http(handle, source="127.0.0.2")
        a.initialize()
        b.initialize()
        assert a.call("tools/list").status == 200  # a used more recently than b
        c.initialize()
        assert handle.app.session_count() == 2
        assert b.call("tools/list").status == 404
        assert a.call("tools/list").status == 200 and c.call("tools/list").status == 200
        b.initialize()  # and back in: a is now the least recently used
        assert a.call("tools/list").status == 404
        for x in (a, b, c):
            x.close()


def test_busy_sessions_are_never_ended_to_make_room():
    app = serving_app()
    release = threading.Event()

    @app.tool()
    def hold(ctx: Context) -> str:
        """Holds its request open"""
        release.wait(10)
        return "done"
    with app.run_in_thread("http", port=0, max_sessions=2) as handle:
        a, b, c = Http(handle), Http(handle), Http(handle, source="127.0.0.2")
        a.initialize()
        b.initialize()
        stream = get_stream(handle, a)  # a: its GET stream is open
        results = []  # type: list
        worker = threading.Thread(target=lambda: results.append(b.call("tools/call", {"name": "hold"})))
        worker.start()  # b: a request in progress
        deadline = time.monotonic() + 5
        while not handle.app._sessions[b.session_id].exchanges and time.monotonic() < deadline:
            time.sleep(0.01)
        full = c.post(INIT, session=False)
        assert full.status == 503 and full.headers.get("retry-after") == "1"
        assert full.json()["error"]["message"] == "Service unavailable: all 2 sessions are busy; try again shortly"
        release.set()
        worker.join(10)
        assert results and results[0].status == 200
        stream.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and c.post(INIT, session=False).status != 200:
            time.sleep(0.05)  # (the GET stream's end reaches the server a moment later)
        assert handle.app.session_count() == 2
        for x in (a, b, c):
            x.close()


def test_a_flood_from_one_client_cannot_lock_the_others_out():
    # 500 initialize requests from one address, never DELETEd: that client keeps at most its
    # bound (here 5), the others are served at once and keep their sessions.
    with serving_app().run_in_thread("http", port=0, max_sessions=20, max_sessions_per_client=5) as handle:
        steady = Http(handle)
        steady.initialize()
        flood = Http(handle, source="127.0.0.2")
        for _ in range(500):
            assert flood.post(INIT, session=False).status == 200
        assert handle.app.session_count() == 6
        newcomer = Http(handle)
        start = time.monotonic()
        newcomer.initialize()
        assert time.monotonic() - start < 1.0
        assert steady.call("tools/list").status == 200 and newcomer.call("tools/list").status == 200
        for x in (steady, flood, newcomer):
            x.close()


def test_a_client_at_its_bound_with_every_session_busy_gets_429():
    with serving_app().run_in_thread("http", port=0, max_sessions=10, max_sessions_per_client=1) as handle:
        a, b = Http(handle), Http(handle)
        a.initialize()
        stream = get_stream(handle, a)
        refused = b.post(INIT, session=False)
        assert refused.status == 429 and refused.headers.get("retry-after") == "1"
        assert "this client has 1, all busy" in refused.json()["error"]["message"]
        stream.close()
        for x in (a, b):
            x.close()



def test_with_auth_the_session_bound_counts_per_token_holder_not_per_address():
    # Issue 22: behind a NAT or a proxy many users share one address; with tokens, the
    # per-client bound is the holder's (its subject, else its client id), whatever address
    # the requests come from. A token naming neither counts by address, as without auth.
    tokens = {"ann": AccessToken(["mcp"], subject="ann"), "ann-again": AccessToken(["mcp"], subject="ann"),
              "bob": AccessToken(["mcp"], subject="bob"), "svc": AccessToken(["mcp"], client_id="svc"),
              "nobody": AccessToken(["mcp"])}
    auth = BearerAuth(tokens.get, resource="http://127.0.0.1/mcp", authorization_servers=["https://auth.example"])
    with serving_app().run_in_thread("http", port=0, auth=auth, max_sessions=50,
                                     max_sessions_per_client=2) as handle:
        peers = {}  # type: dict

        def open_session(token, source):
            if source not in peers:
                peers[source] = Http(handle, source=source)
            reply = peers[source].post(INIT, {"Authorization": "Bearer " + token}, session=False)
            assert reply.status == 200, reply
            return token, source, reply.headers["mcp-session-id"]

        def alive(session):
            token, source, session_id = session
            reply = peers[source].post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                       {"Authorization": "Bearer " + token, "Mcp-Session-Id": session_id,
                                        "MCP-Protocol-Version": "2025-11-25"}, session=False)
            assert reply.status in (200, 404), reply
            return reply.status == 200

        # Different holders from one address: each has its own bound of 2.
        ann = [open_session("ann", "127.0.0.1"), open_session("ann", "127.0.0.1")]
        bob = [open_session("bob", "127.0.0.1"), open_session("bob", "127.0.0.1")]
        svc = [open_session("svc", "127.0.0.1"), open_session("svc", "127.0.0.1")]
        assert all(alive(s) for s in ann + bob + svc) and handle.app.session_count() == 6
        # One holder from other addresses (and with another of its tokens): one bound, so
        # each new session ends that holder's least recently used one, and nobody else's.
        ann.append(open_session("ann", "127.0.0.2"))
        assert [alive(s) for s in ann] == [False, True, True]
        ann.append(open_session("ann-again", "127.0.0.3"))
        assert [alive(s) for s in ann] == [False, False, True, True]
        assert all(alive(s) for s in bob + svc) and handle.app.session_count() == 6
        # A token that names no holder: the address's bound, shared with nobody else's.
        anonymous = [open_session("nobody", "127.0.0.4") for _ in range(3)]
        assert [alive(s) for s in anonymous] == [False, True, True]
        assert all(alive(s) for s in ann[2:] + bob + svc)
        for peer in peers.values():
            peer.close()


# -- requests that are not acceptable -----------------------------------------------------------

def test_content_type_accept_and_json_rules(client):
    client.initialize()
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    # Each refusal says what to send instead, in one line.
    refused = client.post(body, {"Content-Type": "text/plain"})
    assert refused.status == 415
    assert refused.json()["error"]["message"] == "Unsupported Media Type: send Content-Type: application/json"
    for accept in ("application/json", None):
        refused = client.post(body, {"Accept": accept})
        assert refused.status == 406
        assert refused.json()["error"]["message"] == ("Not Acceptable: send Accept: application/json, "
                                                      "text/event-stream (the client must accept both)")
    parse = client.post(b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert parse.status == 400 and parse.json()["error"]["code"] == -32700 and parse.json()["id"] is None
    invalid = client.post({"jsonrpc": "2.0", "id": 1, "method": 5})
    assert invalid.status in (200, 400) and invalid.json()["error"]["code"] == -32600
    assert client.send("PUT", body=b"{}", headers={"Content-Type": "application/json"}).status == 405


def test_a_method_that_is_not_a_string_is_an_invalid_request_not_a_crash(client):
    # Found by bench/abuse.py: an unhashable method once reached a set lookup (HTTP 500).
    for method in (["tools/call"], {"name": "ping"}):
        for session in (False, True):
            if session and client.session_id is None:
                client.initialize()
            for message in ({"jsonrpc": "2.0", "id": 7, "method": method}, {"jsonrpc": "2.0", "method": method}):
                refused = client.post(message, session=session)
                assert refused.status == 400, (method, session, refused.status)
                assert refused.json()["error"]["code"] == -32600


def test_origin_and_host_are_checked(client):
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}}
    evil = client.post(init, {"Origin": "http://evil.example"}, session=False)
    assert evil.status == 403 and evil.json()["error"]["code"] == -32600
    assert client.post(init, {"Host": "evil.example:%d" % client.port}, session=False).status == 421
    assert client.post(init, {"Origin": "http://localhost:6274"}, session=False).status == 200
    assert client.post(init, {"Origin": "null"}, session=False).status == 403


def test_oversize_body_is_413_and_the_server_goes_on(server, client):
    app_limit = server.app.max_body_bytes
    head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (server.port, ACCEPT_BOTH, app_limit + 1)).encode()
    answer = raw_exchange(server.port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert client.initialize().status == 200


def test_a_half_sent_request_does_not_hold_the_server():
    app = serving_app()
    with app.run_in_thread("http", port=0, read_timeout=0.3) as handle:
        head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: %s\r\n"
                "Content-Length: 100\r\n\r\n{\"jsonrpc\"" % (handle.port, ACCEPT_BOTH)).encode()
        start = time.monotonic()
        answer = raw_exchange(handle.port, head, timeout=3)
        assert answer == b"" and time.monotonic() - start < 2, "closed after the read timeout, no answer"
        c = Http(handle)
        assert c.initialize().status == 200
        c.close()


def test_connections_are_bounded_and_an_idle_one_gives_way():
    app = serving_app()
    with app.run_in_thread("http", port=0, max_connections=1) as handle:
        # The only slot held by a connection with no request in progress: a newcomer takes
        # its place (the idle one is closed), rather than everyone being shut out.
        idle = socket.create_connection(("127.0.0.1", handle.port), timeout=5)
        time.sleep(0.1)
        answer = raw_exchange(handle.port, b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 406"), answer
        assert idle.recv(1) == b""  # closed by the server
        idle.close()
        # The slot held by a request in progress: that one is never displaced; 503 at once.
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "wait_for_cancel", "arguments": {},
            "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                      "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
        busy = socket.create_connection(("127.0.0.1", handle.port), timeout=5)
        try:
            busy.sendall(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                          "Accept: %s\r\nMCP-Protocol-Version: %s\r\nMcp-Method: tools/call\r\n"
                          "Mcp-Name: wait_for_cancel\r\nContent-Length: %d\r\n\r\n"
                          % (handle.port, ACCEPT_BOTH, MODERN, len(body))).encode() + body)
            time.sleep(0.3)
            refused = raw_exchange(handle.port, b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert refused.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in refused, refused
        finally:
            busy.close()


def test_a_request_trickled_in_is_cut_off_after_read_timeout():
    # Each read is within read_timeout, but the request as a whole is not: a slowloris
    # client holds its connection no longer than an idle one.
    app = serving_app()
    with app.run_in_thread("http", port=0, read_timeout=1.0) as handle:
        sock = socket.create_connection(("127.0.0.1", handle.port), timeout=5)
        try:
            started = time.monotonic()
            closed_after = None
            for byte in b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 40:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                time.sleep(0.25)
                if select.select([sock], [], [], 0)[0] and sock.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            assert closed_after is not None and closed_after < 3.0, closed_after
        finally:
            sock.close()


def listen_backlog(port):
    """The listen queue's length of the socket listening on ``port``, as ``ss`` reports it
    (its Send-Q), or None when there is no ``ss`` here."""
    import shutil
    import subprocess
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-ltn", "sport = :%d" % port], stdout=subprocess.PIPE, timeout=10).stdout.decode()
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 1, out
    return int(rows[0][2])


def test_the_listen_queue_is_long_and_a_setting():
    # http.server's own is 5: a burst of clients beyond it has connections dropped and
    # retried a second later.
    for options, expected in (({}, 1024), ({"backlog": 77}, 77)):
        with serving_app().run_in_thread("http", port=0, **options) as handle:
            assert handle._httpd.request_queue_size == expected
            found = listen_backlog(handle.port)
            assert found in (None, expected), found
    with pytest.raises(ValueError):
        serving_app().run_in_thread("http", port=0, backlog=0)


def test_non_loopback_bind_needs_allowed_hosts():
    with pytest.raises(ValueError, match="allowed_hosts"):
        Server("x").run_in_thread("http", host="0.0.0.0", port=0)


def test_session_prefix_starts_every_minted_id():
    # The route token a load balancer sends a session's requests back by (tests/test_sticky.py
    # runs it behind nginx); both transports' ids carry it.
    with serving_app().run_in_thread("http", port=0, session_prefix="node-7.") as handle:
        client = Http(handle)
        try:
            client.initialize()
            assert re.match(r"^node-7\.[0-9a-f]{32}$", client.session_id or ""), client.session_id
            assert client.call("tools/list", id=2).status == 200
        finally:
            client.close()
        sock, first = open_stream(handle.port, "GET", "/sse", {"Accept": "text/event-stream"})
        try:
            while b"session_id=" not in first:
                first += sock.recv(65536)
            assert re.search(rb"session_id=node-7\.[0-9a-f]{32}", first), first
        finally:
            sock.close()
    for bad in ("a b.", "\u00e9.", "x" * 65, "tab\t"):
        with pytest.raises(ValueError, match="session_prefix"):
            serving_app().run_in_thread("http", port=0, session_prefix=bad)


# -- 2026-07-28 ------------------------------------------------------------------------------

def test_modern_request_is_stateless_with_meta_and_headers(server, client):
    reply = client.modern("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    assert reply.status == 200 and "mcp-session-id" not in reply.headers
    result = checked(reply.json(), MODERN, "tools/call")["result"]
    assert result["resultType"] == "complete" and result["structuredContent"] == {"result": 5}
    assert server.app.session_count() == 0
    discover = checked(client.modern("server/discover").json(), MODERN, "server/discover")["result"]
    assert discover["supportedVersions"][0] == MODERN and "2025-11-25" in discover["supportedVersions"]


@pytest.mark.parametrize("headers, fragment", [
    ({"MCP-Protocol-Version": None}, "MCP-Protocol-Version"),
    ({"MCP-Protocol-Version": "2025-11-25"}, "MCP-Protocol-Version"),
    ({"Mcp-Method": None}, "Mcp-Method"),
    ({"Mcp-Method": "tools/list"}, "Mcp-Method"),
    ({"Mcp-Name": None}, "Mcp-Name"),
    ({"Mcp-Name": "other"}, "Mcp-Name"),
    ({"Mcp-Name": "=?base64?bm9wZQ==?="}, "Mcp-Name"),
])
def test_modern_header_mismatch_is_400_32020(client, headers, fragment):
    reply = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}, id=7, headers=headers)
    assert reply.status == 400, reply
    error = reply.json()
    assert error["id"] == 7 and error["error"]["code"] == -32020 and fragment in error["error"]["message"]


def test_base64_mcp_name_is_decoded(client):
    reply = client.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}},
                          headers={"Mcp-Name": "=?base64?YWRk?="})
    assert reply.status == 200 and reply.json()["result"]["structuredContent"] == {"result": 2}


def test_modern_version_and_method_errors(client):
    unsupported = client.modern("tools/list", headers={"MCP-Protocol-Version": "2099-01-01"},
                                params={"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01"}})
    assert unsupported.status == 400
    assert unsupported.json()["error"]["code"] == -32022
    assert MODERN in unsupported.json()["error"]["data"]["supported"]
    unknown = client.modern("nothing/here")
    assert unknown.status == 404 and unknown.json()["error"]["code"] == -32601
    removed = client.modern("initialize")
    assert removed.status == 404 and removed.json()["error"]["code"] == -32601
    for method in ("GET", "DELETE"):
        assert client.send(method, headers={"MCP-Protocol-Version": MODERN, "Accept": "text/event-stream"}).status \
            == 405


def test_mcp_param_headers_are_checked_against_arguments(client):
    args = {"region": "us-west1", "count": 42, "loud": True}
    good = {"Mcp-Param-Region": "us-west1", "Mcp-Param-Count": "42.0", "Mcp-Param-Loud": "true"}
    ok = client.modern("tools/call", {"name": "region_echo", "arguments": args}, headers=good)
    assert ok.status == 200 and ok.json()["result"]["content"][0]["text"] == "us-west1/42/True"
    encoded = dict(good, **{"Mcp-Param-Region": "=?base64?dXMtd2VzdDE=?="})
    assert client.modern("tools/call", {"name": "region_echo", "arguments": args}, headers=encoded).status == 200
    for broken in ({"Mcp-Param-Region": None}, {"Mcp-Param-Count": "41"}, {"Mcp-Param-Loud": "True"},
                   {"Mcp-Param-Region": "eu\x01"}):
        reply = client.modern("tools/call", {"name": "region_echo", "arguments": args}, headers=dict(good, **broken))
        assert reply.status == 400 and reply.json()["error"]["code"] == -32020, broken
    # An argument that is absent needs no header, and must not come with one.
    assert client.modern("tools/call", {"name": "region_echo", "arguments": {}}).status == 200
    stray = client.modern("tools/call", {"name": "region_echo", "arguments": {}}, headers={"Mcp-Param-Count": "1"})
    assert stray.status == 400


def test_x_mcp_header_rules_are_enforced_at_registration():
    app = Server("x")

    def f(tags: list) -> str:
        return ""
    with pytest.raises(ValueError, match="only properties"):
        app.add_tool(f, input_schema={"type": "object", "properties": {"tags": {
            "type": "array", "items": {"type": "string", "x-mcp-header": "Tag"}}}})
    with pytest.raises(ValueError, match="string, integer or boolean"):
        app.add_tool(f, input_schema={"type": "object", "properties": {"tags": {
            "type": "number", "x-mcp-header": "Tag"}}})
    with pytest.raises(ValueError, match="token"):
        app.add_tool(f, input_schema={"type": "object", "properties": {"tags": {
            "type": "string", "x-mcp-header": "Bad Name"}}})


def test_closing_the_response_cancels_a_modern_request(server):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "wait_for_cancel", "arguments": {},
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: %s\r\n"
            "MCP-Protocol-Version: %s\r\nMcp-Method: tools/call\r\nMcp-Name: wait_for_cancel\r\n"
            "Content-Length: %d\r\n\r\n" % (server.port, ACCEPT_BOTH, MODERN, len(body))).encode()
    sock.sendall(head + body)
    time.sleep(0.2)
    sock.close()
    assert server.server.gate.wait(3), "the handler saw ctx.cancelled"


def test_one_client_cannot_hold_every_connection_with_listen_streams():
    app = serving_app()
    body = json.dumps({"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen", "params": {
        "notifications": {"toolsListChanged": True},
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    headers = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH, "MCP-Protocol-Version": MODERN,
               "Mcp-Method": "subscriptions/listen"}
    held = []
    with app.run_in_thread("http", port=0, max_listeners_per_client=3) as handle:
        try:
            for _ in range(3):
                held.append(open_stream(handle.port, "POST", "/mcp", headers, body)[0])
            for sock in held:
                sock.settimeout(3)
            refused_sock, refused = open_stream(handle.port, "POST", "/mcp", headers, body)
            refused_sock.close()
            assert refused.startswith(b"HTTP/1.1 429") and b"Retry-After: 1" in refused, refused
            assert b"this client has 3 open (the limit)" in refused and b'"id":"sub"' in refused
            # Another client is not affected by the first one's streams.
            other, first = open_stream(handle.port, "POST", "/mcp", headers, body, source="127.0.0.2")
            held.append(other)
            assert first.startswith(b"HTTP/1.1 200"), first
            # A stream closed gives its place back.
            held.pop(0).close()
            deadline = time.monotonic() + 5
            while True:
                sock, first = open_stream(handle.port, "POST", "/mcp", headers, body)
                if first.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
                    break
                sock.close()
                time.sleep(0.05)
            held.append(sock)
            assert first.startswith(b"HTTP/1.1 200"), first
        finally:
            for sock in held:
                sock.close()


def test_listen_over_http_streams_changes_until_the_server_stops():
    app = serving_app()
    handle = app.run_in_thread("http", port=0)
    body = json.dumps({"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen", "params": {
        "notifications": {"toolsListChanged": True},
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    sock, first = open_stream(handle.port, "POST", "/mcp", {
        "Content-Type": "application/json", "Accept": ACCEPT_BOTH, "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "subscriptions/listen"}, body)
    try:
        received = first
        deadline = time.monotonic() + 3
        while b"acknowledged" not in received and time.monotonic() < deadline:
            received += sock.recv(65536)
        app.notify_list_changed("prompts")  # not asked for
        app.notify_list_changed("tools")
        while b"tools/list_changed" not in received and time.monotonic() < deadline:
            received += sock.recv(65536)
        handle.stop()
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
        handle.stop()
    head, _, chunked = received.partition(b"\r\n\r\n")
    assert b"text/event-stream" in head
    # Undo the chunked framing, then read the events.
    payload = b""
    while chunked:
        size, _, rest = chunked.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        payload += rest[:n]
        chunked = rest[n + 2:]
    messages = [e["json"] for e in parse_sse(payload) if "json" in e]
    assert [m.get("method") for m in messages] == [
        "notifications/subscriptions/acknowledged", "notifications/tools/list_changed", None]
    for m in messages:
        assert m.get("params", m.get("result", {}))["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub"
        checked(m, MODERN, "subscriptions/listen" if "result" in m else None)
    assert app.registry.listeners == []


# -- the 2024-11-05 HTTP+SSE transport ---------------------------------------------------------

def test_old_http_sse_transport(server, client):
    sock, first = open_stream(server.port, "GET", "/sse", {"Accept": "text/event-stream"})
    try:
        received = first
        while b"endpoint" not in received:
            received += sock.recv(65536)
        endpoint = re.search(rb"data: (/messages\?session_id=[0-9a-f]+)", received).group(1).decode()
        assert client.send("POST", "/messages?session_id=unknown", b"{}",
                           {"Content-Type": "application/json"}).status == 404
        old_sse_initialize(client, sock, received, endpoint, 3)
        assert server.app.session_count() == 1
    finally:
        sock.close()
    deadline = time.monotonic() + 3
    while server.app.session_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.app.session_count() == 0, "the session ends with its stream"


def test_old_http_sse_transport_sends_the_202_before_the_answer(server):
    # A slow 202 (a tracer that dawdles over it) must still come first: a client holding the
    # answer may close before reading a 202 sent after it.
    class Slow202:
        def http_request(self, *args):
            pass

        def http_response(self, status, *args):
            if status == 202:
                time.sleep(0.3)

        def sse_bytes(self, data):
            pass
    server._httpd.tracer = Slow202()
    sock, received = open_stream(server.port, "GET", "/sse", {"Accept": "text/event-stream"})
    post = None
    try:
        while b"endpoint" not in received:
            received += sock.recv(65536)
        endpoint = re.search(rb"data: (/messages\?session_id=[0-9a-f]+)", received).group(1)
        body = b'{"jsonrpc":"2.0","id":7,"method":"ping"}'
        post = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        post.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (endpoint, len(body), body))
        deadline = time.monotonic() + 5
        while b'"id":7' not in received and time.monotonic() < deadline:
            received += sock.recv(65536)
        assert b'"id":7' in received
        post.settimeout(0)
        assert post.recv(64).startswith(b"HTTP/1.1 202"), "the 202 was written before the answer"
    finally:
        sock.close()
        if post is not None:
            post.close()


# -- bearer tokens ---------------------------------------------------------------------------------

def test_bearer_auth_challenge_metadata_scope_and_principal():
    tokens = {"good": AccessToken(["mcp"], subject="ann"), "weak": AccessToken([], subject="bob")}
    app = serving_app()
    auth = BearerAuth(tokens.get, resource="http://127.0.0.1/mcp",
                      authorization_servers=["https://auth.example"], required_scopes=["mcp"])
    with app.run_in_thread("http", port=0, auth=auth) as handle:
        c = Http(handle)
        denied = c.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}, session=False)
        assert denied.status == 401
        challenge = denied.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and \
            'resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp"' in challenge
        metadata = c.send("GET", "/.well-known/oauth-protected-resource/mcp").json()
        assert metadata["resource"] == "http://127.0.0.1/mcp"
        assert metadata["authorization_servers"] == ["https://auth.example"]
        assert c.send("GET", "/.well-known/oauth-protected-resource").status == 200
        bad = c.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}},
                     {"Authorization": "Bearer nope"}, session=False)
        assert bad.status == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
        weak = c.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}},
                      {"Authorization": "Bearer weak"}, session=False)
        assert weak.status == 403 and 'error="insufficient_scope"' in weak.headers["www-authenticate"]
        answer = c.modern("tools/call", {"name": "identity", "arguments": {}},
                          headers={"Authorization": "Bearer good", "X-Trace": "abc"})
        assert answer.status == 200 and answer.json()["result"]["content"][0]["text"] == "ann abc"
        c.close()


def test_stop_leaves_no_threads_behind():
    before = {t.ident for t in threading.enumerate()}
    app = serving_app()
    handle = app.run_in_thread("http", port=0)
    c = Http(handle)
    c.initialize()
    c.call("tools/call", {"name": "steps", "_meta": {"progressToken": 1}})
    sock, _ = open_stream(handle.port, "GET", "/mcp", {"Accept": "text/event-stream",
                                                      "Mcp-Session-Id": c.session_id})
    handle.stop()
    sock.close()
    c.close()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t.ident not in before]
        if not left:
            break
        time.sleep(0.05)
    assert left == []
