"""The HTTP front ends against clients that are unusual but legal: browsers (CORS), proxies
(absolute-form targets), HTTP/1.0, repeated header lines."""

import json
import socket

import pytest

from apps import make_app
from mcplite import Context

PAGE = "https://page.example"
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "x", "version": "0"}}}).encode()


def front_app():
    app = make_app()

    @app.tool()
    def reports(ctx: Context) -> str:
        """Sends a progress notification first, so its answer is an SSE stream."""
        ctx.progress(1, 2, "half")
        return "finished"
    return app


@pytest.fixture
def server():
    handle = front_app().run_in_thread("http", port=0, allowed_origins=[PAGE])
    yield handle
    handle.stop()


def exchange(port, data, shut=False):
    """Send ``data``, read until the server closes (or 3 s of silence)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()


def head_of(raw):
    """(status, {lower-case name: [values]}, body) of the first response in ``raw``."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split(" ")[1]), fields, body


def post(target="/mcp", version="HTTP/1.1", extra="", body=INIT,
         accept="Accept: application/json, text/event-stream\r\n"):
    return ("POST %s %s\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n%s%s"
            "Content-Length: %d\r\n\r\n" % (target, version, accept, extra, len(body))).encode() + body


# -- browsers: CORS -------------------------------------------------------------------------

def names(value):
    return {part.strip().lower() for part in value.split(",")}


def test_a_preflight_from_an_allowed_origin_lets_a_browser_proceed(server):
    wanted = "content-type, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, " \
             "last-event-id, authorization, mcp-param-region"
    raw = exchange(server.port, ("OPTIONS /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n"
                                 "Access-Control-Request-Method: POST\r\n"
                                 "Access-Control-Request-Headers: %s\r\nConnection: close\r\n\r\n"
                                 % (PAGE, wanted)).encode())
    status, fields, _ = head_of(raw)
    assert 200 <= status < 300, raw
    assert fields["access-control-allow-origin"] == [PAGE]
    assert {"get", "post", "delete"} <= names(fields["access-control-allow-methods"][0])
    assert names(wanted) <= names(fields["access-control-allow-headers"][0])
    assert "origin" in names(fields["vary"][0])


def test_a_preflight_is_answered_before_auth_and_for_the_metadata_path():
    from mcplite.auth import BearerAuth
    auth = BearerAuth(lambda token: None, resource="http://127.0.0.1/mcp",
                      authorization_servers=["https://auth.example"])
    with front_app().run_in_thread("http", port=0, allowed_origins=[PAGE], auth=auth) as handle:
        for path in ("/mcp", "/.well-known/oauth-protected-resource/mcp"):
            raw = exchange(handle.port, ("OPTIONS %s HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n"
                                         "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: "
                                         "mcp-protocol-version\r\nConnection: close\r\n\r\n" % (path, PAGE)).encode())
            status, fields, _ = head_of(raw)
            assert 200 <= status < 300 and fields["access-control-allow-origin"] == [PAGE], raw
        # The challenge itself reaches the page: it must read WWW-Authenticate to find the metadata.
        status, fields, _ = head_of(exchange(handle.port, post(extra="Origin: %s\r\nConnection: close\r\n" % PAGE)))
        assert status == 401 and fields["access-control-allow-origin"] == [PAGE]
        assert "www-authenticate" in names(fields["access-control-expose-headers"][0])
        # The metadata keeps its one "*" (two values would make the browser refuse it).
        status, fields, _ = head_of(exchange(handle.port, (
            "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n"
            "Connection: close\r\n\r\n" % PAGE).encode()))
        assert status == 200 and len(fields["access-control-allow-origin"]) == 1


def test_an_answer_to_an_allowed_origin_shows_the_page_its_session_id(server):
    status, fields, _ = head_of(exchange(server.port, post(extra="Origin: %s\r\nConnection: close\r\n" % PAGE)))
    assert status == 200 and fields["mcp-session-id"]
    assert fields["access-control-allow-origin"] == [PAGE]
    assert "mcp-session-id" in names(fields["access-control-expose-headers"][0])


def test_no_cors_grant_without_an_origin_or_for_a_refused_one(server):
    status, fields, _ = head_of(exchange(server.port, post(extra="Connection: close\r\n")))
    assert status == 200 and "access-control-allow-origin" not in fields
    status, fields, _ = head_of(exchange(server.port, ("OPTIONS /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                       "Origin: https://evil.example\r\nAccess-Control-Request-Method: "
                                                       "POST\r\nConnection: close\r\n\r\n").encode()))
    assert status == 403 and "access-control-allow-origin" not in fields


def test_the_front_ends_own_refusals_reach_a_page_of_an_allowed_origin(server):
    # The front end answers some requests itself, before the app sees them (a body over the
    # limit, broken framing, too many header fields): without the CORS grant the page gets
    # an opaque network error instead of the status.
    origin = "Origin: %s\r\n" % PAGE
    too_large = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n" % (origin, 50 * 1024 * 1024)).encode()
    chunked_too_large = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%sTransfer-Encoding: chunked\r\n\r\n"
                         "%x\r\n" % (origin, 50 * 1024 * 1024)).encode() + b"x" * 65536
    bad_framing = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%sTransfer-Encoding: gzip\r\n\r\n" % origin).encode()
    bad_chunks = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%sTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                  % origin).encode()
    many_fields = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%s" % origin + "X-Filler: a\r\n" * 120
                   + "\r\n").encode()
    bad_field = ("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n%sBad Name: x\r\n\r\n" % origin).encode()
    for request, wanted in ((too_large, 413), (chunked_too_large, 413), (bad_framing, 400), (bad_chunks, 400),
                            (many_fields, 431), (bad_field, 400)):
        status, fields, _ = head_of(exchange(server.port, request, shut=request is not chunked_too_large))
        assert status == wanted, request[:80]
        assert fields.get("access-control-allow-origin") == [PAGE], (status, fields)
        assert "origin" in names(fields["vary"][0])
        # A refused Origin stays refused, and without a grant; no Origin, no grant.
        for other in ("Origin: https://evil.example\r\n", ""):
            status, fields, _ = head_of(exchange(server.port, request.replace(origin.encode(), other.encode()),
                                                 shut=request is not chunked_too_large))
            assert status == wanted and "access-control-allow-origin" not in fields, (other, status, fields)
    # A Host not ours (DNS rebinding): no grant, whatever the Origin.
    status, fields, _ = head_of(exchange(server.port, too_large.replace(b"Host: 127.0.0.1", b"Host: evil.example")))
    assert status == 413 and "access-control-allow-origin" not in fields
    # Only the fields read before the refusal count: an Origin after the broken line is not seen.
    late = ("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n%s\r\n" % origin).encode()
    status, fields, _ = head_of(exchange(server.port, late, shut=True))
    assert status == 400 and "access-control-allow-origin" not in fields
    # The app's own 403 for a refused Origin stays without a grant.
    status, fields, _ = head_of(exchange(server.port, post(extra="Origin: https://evil.example\r\n"
                                                                 "Connection: close\r\n")))
    assert status == 403 and "access-control-allow-origin" not in fields


# -- proxies: the absolute form --------------------------------------------------------------

def test_an_absolute_form_target_is_served_with_its_authority_as_the_host(server):
    # "A server MUST accept the absolute-form in requests" (RFC 9112 3.2.2), as a proxy sends it.
    status, fields, body = head_of(exchange(server.port, post("http://127.0.0.1:%d/mcp" % server.port,
                                                              extra="Connection: close\r\n")))
    assert status == 200 and fields["mcp-session-id"], body
    status, _, _ = head_of(exchange(server.port, post("http://127.0.0.1/mcp?x=1", extra="Connection: close\r\n")))
    assert status == 200
    # "... the origin server MUST ignore the received Host header field (if any) and instead
    # use the host information of the request-target": a name not served is refused.
    status, _, _ = head_of(exchange(server.port, post("http://evil.example/mcp", extra="Connection: close\r\n")))
    assert status == 421


# -- header lines ----------------------------------------------------------------------------

def test_a_header_sent_on_two_lines_counts_whole(server):
    # "A recipient MAY combine multiple field lines within a field section that have the same
    # field name into one field line ... by appending each subsequent field line value to the
    # initial field line value in order, separated by a comma" (RFC 9110 5.3): the two are one.
    status, _, body = head_of(exchange(server.port, post(
        accept="accept: application/json\r\nACCEPT: text/event-stream\r\n", extra="Connection: close\r\n")))
    assert status == 200, body


@pytest.mark.parametrize("accept, content_type", [
    ("*/*", "application/json"),
    ("application/json;q=0.9, text/*", "application/json; charset=utf-8"),
    ("Application/JSON, Text/Event-Stream", "Application/Json;charset=UTF-8"),
])
def test_wildcards_parameters_and_case(server, accept, content_type):
    raw = post(accept="Accept: %s\r\n" % accept, extra="Connection: close\r\n")
    raw = raw.replace(b"Content-Type: application/json", b"content-type: " + content_type.encode())
    status, _, body = head_of(exchange(server.port, raw))
    assert status == 200, body


# -- HTTP/1.0 ----------------------------------------------------------------------------------

def test_an_http_1_0_client_gets_its_sse_answer_unchunked_then_a_close():
    # "A server MUST NOT send a response containing Transfer-Encoding unless the corresponding
    # request indicates HTTP/1.1 (or later minor revisions)" (RFC 9112 6.1).
    call = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "reports", "arguments": {}, "_meta": {"progressToken": 1}}}).encode()
    with front_app().run_in_thread("http", port=0, stateless=True) as handle:
        raw = exchange(handle.port, post(version="HTTP/1.0", body=call, extra="MCP-Protocol-Version: 2025-11-25\r\n"))
    status, fields, body = head_of(raw)
    assert status == 200 and fields["content-type"] == ["text/event-stream"], raw
    assert "transfer-encoding" not in fields and fields["connection"] == ["close"]
    assert body.startswith(b"id: ") and body.endswith(b"\n\n"), body   # no chunk sizes around it
    assert b'"progress":1' in body and b'"text":"finished"' in body


def test_an_http_1_0_client_that_asks_for_keep_alive_is_told_it_has_it(server):
    # An HTTP/1.0 client keeps its connection only when the answer says "Connection: keep-alive"
    # (RFC 9112 9.3 and appendix C.2.2); without the request's asking, the connection closes.
    raw = exchange(server.port, post(version="HTTP/1.0", extra="Connection: keep-alive\r\n")
                   + post(version="HTTP/1.0"))
    first = raw.split(b"HTTP/1.1 ")
    assert len(first) == 3, raw   # both answered on the one connection
    assert "keep-alive" in head_of(b"HTTP/1.1 " + first[1])[1]["connection"]
    assert head_of(b"HTTP/1.1 " + first[2])[1]["connection"] == ["close"]


# -- request bodies ----------------------------------------------------------------------------

def chunked_post(chunks, trailer=b"", te="chunked", extra=b""):
    return (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nTransfer-Encoding: " + te.encode() + b"\r\n"
            + extra + b"Connection: close\r\n\r\n" + b"".join(chunks) + b"0\r\n" + trailer + b"\r\n")


def test_a_chunked_body_with_extensions_and_trailers_is_read(server):
    # "A recipient MUST be able to parse and decode the chunked transfer coding" (RFC 9112 7.1),
    # what a client streaming its body sends (fetch with a ReadableStream, requests with a generator).
    pieces = [INIT[:10], INIT[10:11], INIT[11:]]
    chunks = [b"%x;name=value\r\n" % len(pieces[0]) + pieces[0] + b"\r\n",
              b"%X\r\n" % len(pieces[1]) + pieces[1] + b"\r\n",
              b"%x ; a ; b=\"c\"\r\n" % len(pieces[2]) + pieces[2] + b"\r\n"]
    status, fields, body = head_of(exchange(server.port, chunked_post(chunks, b"X-Checksum: 1\r\n")))
    assert status == 200 and fields["mcp-session-id"], body


def test_a_chunked_body_over_the_limit_or_malformed_is_refused_and_the_connection_closed():
    with front_app().run_in_thread("http", port=0, max_body_bytes=100) as handle:
        big = [b"40\r\n" + b" " * 64 + b"\r\n"] * 2
        assert head_of(exchange(handle.port, chunked_post(big)))[0] == 413
        for bad in ([b"zz\r\n"], [b"5\r\nhelloXX"], [b"-5\r\nhello\r\n"], [b"0x5\r\nhello\r\n"]):
            raw = exchange(handle.port, chunked_post(bad))
            assert head_of(raw)[0] == 400 and raw.count(b"HTTP/1.1 ") == 1, (bad, raw)


def test_a_transfer_coding_that_is_not_chunked_last_is_400_and_closes(server):
    # "If a Transfer-Encoding header field is present in a request and the chunked transfer
    # coding is not the final encoding ... the server MUST respond with the 400 (Bad Request)
    # status code and then close the connection" (RFC 9112 6.3).
    smuggled = b"DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    raw = exchange(server.port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: gzip\r\n\r\n" + smuggled)
    assert head_of(raw)[0] == 400 and raw.count(b"HTTP/1.1 ") == 1, raw


def test_a_body_on_a_get_is_read_never_taken_for_the_next_request(server):
    # The length of a request's body is its Content-Length whatever the method (RFC 9112 6.3):
    # a GET's body left unread would be parsed as a request a proxy in front never saw.
    smuggled = b"DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    raw = exchange(server.port, b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
                   % len(smuggled) + smuggled + b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert raw.count(b"HTTP/1.1 ") == 2 and raw.count(b"HTTP/1.1 404") == 2, raw


@pytest.mark.parametrize("version, te", [
    # "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding
    # header field MUST treat the message as if the framing is faulty" (RFC 9112 6.1).
    ("HTTP/1.0", "chunked"),
    # "A sender MUST NOT apply the chunked transfer coding more than once" (RFC 9112 6.1).
    ("HTTP/1.1", "chunked, chunked"),
])
def test_faulty_chunked_framing_is_400_and_closes(server, version, te):
    raw = exchange(server.port, chunked_post([b"%x\r\n" % len(INIT) + INIT + b"\r\n"], te=te)
                   .replace(b"HTTP/1.1\r\n", version.encode() + b"\r\n", 1)
                   .replace(b"Connection: close", b"Connection: keep-alive") + post(version=version))
    assert head_of(raw)[0] == 400 and raw.count(b"HTTP/1.1 ") == 1, raw


def test_a_body_over_the_limit_is_refused_before_the_client_is_told_to_send_it(server):
    # curl sends "Expect: 100-continue" and waits; told to continue, it uploads what the server
    # will not read, and the 413 can be lost to the reset. A final status may stand in for the
    # 100 (RFC 9110 10.1.1).
    raw = exchange(server.port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Expect: 100-continue\r\nContent-Length: 100000000\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 413 "), raw
