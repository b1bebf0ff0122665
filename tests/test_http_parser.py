"""The HTTP front end's own request-head parser (mcplite/httpparse.py): what it accepts, and
the request shapes two parsers could disagree on, refused with 400 (RFC 9112), over raw
sockets against a real ``run_in_thread`` server on 127.0.0.1 and directly.
"""

import io
import json
import socket
from typing import Iterator, Tuple

import pytest

from http_peer import raw_exchange
from mcplite import Server
from mcplite.httpparse import RequestHead, parse_request_head

DISCOVER = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}}}}).encode()


@pytest.fixture(scope="module")
def served() -> Iterator[Tuple[str, int]]:
    handle = Server("parser").run_in_thread("http", port=0)
    try:
        yield handle.host, handle.port
    finally:
        handle.stop()


def _exchange(address: Tuple[str, int], raw: bytes) -> bytes:
    return raw_exchange(address[1], raw)


def _post(host_line: bytes, extra: bytes = b"", body: bytes = DISCOVER, version: bytes = b"HTTP/1.1") -> bytes:
    return (b"POST /mcp " + version + b"\r\n" + host_line + b"Content-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nMcp-Method: server/discover\r\n"
            b"MCP-Protocol-Version: 2026-07-28\r\nConnection: close\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_plain_request_is_served(served):
    host = b"Host: 127.0.0.1:%d\r\n" % served[1]
    response = _exchange(served, _post(host))
    assert _status(response) == 200 and b'/serverInfo":{"name":"parser"' in response, response


def test_lone_lf_line_ends_and_tabs_in_values_are_accepted(served):
    raw = _post(b"Host: 127.0.0.1:%d\r\n" % served[1], b"X-Note:\t spaced \t\r\n").replace(b"\r\n", b"\n")
    response = _exchange(served, raw)
    assert _status(response) == 200, response


def test_expect_100_continue_is_answered_before_the_body(served):
    host = b"Host: 127.0.0.1:%d\r\n" % served[1]
    head = _post(host, b"Expect: 100-continue\r\n")
    cut = head.index(b"\r\n\r\n") + 4
    with socket.create_connection(served, timeout=5) as sock:
        sock.sendall(head[:cut])
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(head[cut:])
        assert b'/serverInfo":{"name":"parser"' in sock.recv(65536)


@pytest.mark.parametrize("extra,why", [
    (b"X-Folded: one\r\n two\r\n", "obs-fold"),
    (b"Content-Length: 5\r\n", "Content-Length"),                     # a second one
    (b"Transfer-Encoding: chunked\r\n", "Transfer-Encoding"),         # beside Content-Length
    (b"X-Bad : value\r\n", "field name"),                             # whitespace before the colon
    (b"X-Bare: a\rb\r\n", "field line"),                              # a bare CR
    (b"X-Nul: a\x00b\r\n", "field line"),
    (b": nameless\r\n", "field name"),
    (b"Host: 127.0.0.1\r\n", "Host"),                                 # a second Host
])
def test_smuggling_shapes_are_refused_with_400(served, extra, why):
    response = _exchange(served, _post(b"Host: 127.0.0.1:%d\r\n" % served[1], extra))
    assert _status(response) == 400, response
    assert why.encode() in response and b"Connection: close" in response, response


def test_bad_request_lines_and_versions(served):
    host = b"Host: 127.0.0.1:%d\r\n" % served[1]
    assert _status(_exchange(served, _post(b"", b""))) == 400  # HTTP/1.1 without Host
    # HTTP/1.0 may leave Host out (the parser lets it through); the app then refuses it.
    assert _status(_exchange(served, _post(b"", b"", version=b"HTTP/1.0"))) == 421
    assert _status(_exchange(served, _post(host, version=b"HTTP/2.0"))) == 505
    assert _status(_exchange(served, b"POST  /mcp HTTP/1.1\r\n" + host + b"\r\n")) == 400
    assert _status(_exchange(served, b"PO\x01ST /mcp HTTP/1.1\r\n" + host + b"\r\n")) == 400
    assert _status(_exchange(served, b"GET /mcp\r\n\r\n")) == 400  # HTTP/0.9 is not spoken


def test_limits_answer_431(served):
    host = b"Host: 127.0.0.1:%d\r\n" % served[1]
    long_line = b"X-Long: " + b"a" * 20000 + b"\r\n"
    assert _status(_exchange(served, _post(host, long_line))) == 431
    many = b"".join(b"X-F%d: v\r\n" % i for i in range(120))
    assert _status(_exchange(served, _post(host, many))) == 431


def test_the_parser_on_its_own():
    head = parse_request_head(b"GET /mcp?x=1 HTTP/1.1\r\n",
                              io.BytesIO(b"Host: h\r\nX-A: 1\r\nx-a:  2 \r\nX-Latin: caf\xe9\r\n\r\nrest").readline)
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.version) == ("GET", "/mcp?x=1", "HTTP/1.1")
    assert head.fields == {"host": "h", "x-a": "1, 2", "x-latin": "caf\u00e9"}
    assert head.lines == [("Host", "h"), ("X-A", "1"), ("x-a", "2"), ("X-Latin", "caf\u00e9")]
    # A head cut short (the connection ended before the blank line) is refused.
    assert parse_request_head(b"GET / HTTP/1.1\r\n", io.BytesIO(b"Host: h\r\n").readline) == (
        400, "the head ended early")
    # Digits only, ASCII only: "\xb2" (superscript two) is a digit to str.isdigit.
    assert parse_request_head(b"POST / HTTP/1.1\r\n", io.BytesIO(b"Host: h\r\nContent-Length: \xb2\r\n\r\n")
                              .readline)[0] == 400
    # A control character other than CR and NUL reaches the protocol, which has its own errors.
    kept = parse_request_head(b"GET / HTTP/1.1\r\n", io.BytesIO(b"Host: h\r\nMcp-Param-A: x\x01\r\n\r\n").readline)
    assert isinstance(kept, RequestHead) and kept.fields["mcp-param-a"] == "x\x01"
