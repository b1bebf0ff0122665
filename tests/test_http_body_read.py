"""How the HTTP client reads an answer's body (``httpclient.read_body``): whole, up to a limit,
and without a buffer the size of that limit.

``response.read(limit)`` on Python 3.8 and 3.9 allocates and zeroes ``limit`` bytes before
reading a byte; with the 16 MiB message limit that was about a millisecond of CPU for every
answer (the client's, a gateway's upstream hop's), so the body is read by its
Content-Length instead. A hand-written server here sends the shapes a body can have
(Content-Length, chunked, until the connection closes); every server is stopped and every
wait bounded.
"""

import http.client
import json
import socket
import threading
import tracemalloc
from typing import Any, Callable, Iterator, List

import pytest

from mcplite import Client, Server
from mcplite.httpclient import read_body

WAIT = 5.0


class RawServer:
    """One-shot answers on 127.0.0.1: each connection's request is read, then ``reply``
    (raw bytes) is written and the connection closed."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(WAIT)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(WAIT)
            head = b""
            while b"\r\n\r\n" not in head:
                part = conn.recv(4096)
                if not part:
                    return
                head += part
            conn.sendall(self.reply)

    def stop(self) -> None:
        self.sock.close()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def answered() -> Iterator[Callable[[bytes], Any]]:
    """``answered(raw)``: the http.client response of a GET to a server that answers ``raw``."""
    servers = []  # type: List[RawServer]
    conns = []  # type: List[http.client.HTTPConnection]

    def get(raw: bytes) -> Any:
        server = RawServer(raw)
        servers.append(server)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
        conns.append(conn)
        conn.request("GET", "/")
        return conn.getresponse()
    yield get
    for conn in conns:
        conn.close()
    for server in servers:
        server.stop()


def with_length(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def chunked(body: bytes, size: int) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n\r\n")


def until_close(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body


BODY = bytes(range(256)) * 400  # 102,400 bytes: more than one 64 KiB piece


@pytest.mark.parametrize("shape", [with_length, lambda b: chunked(b, 7000), until_close])
def test_a_body_within_the_limit_is_read_whole(answered, shape):
    response = answered(shape(BODY))
    assert read_body(response, len(BODY)) == BODY
    assert response.isclosed()  # read to its end: the connection could carry another request


@pytest.mark.parametrize("shape", [with_length, lambda b: chunked(b, 7000), until_close])
def test_a_body_over_the_limit_gives_one_byte_more(answered, shape):
    # One byte more than the limit is how the caller tells "too large" (and stops there).
    assert read_body(answered(shape(BODY)), 1000) == BODY[:1001]
    assert read_body(answered(shape(BODY)), len(BODY) - 1) == BODY


def test_an_empty_body(answered):
    assert read_body(answered(with_length(b"")), 1000) == b""


def test_reading_an_answer_allocates_about_its_size_not_the_limit(answered):
    body = b"x" * 300
    response = answered(with_length(body))
    tracemalloc.start()
    try:
        data = read_body(response, 16 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == body
    assert peak < 256 * 1024, "reading 300 bytes took a %d-byte buffer" % peak


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_client_call_over_http_takes_no_buffer_of_the_message_limit(era):
    # The whole client, both eras: one call answered with a small JSON body must not
    # allocate anything near the 16 MiB message limit (it did once per answer on 3.8/3.9).
    app = Server("small", version="1.0.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b
    handle = app.run_in_thread("http", port=0)
    try:
        with Client.http(handle.url, era=era, timeout=WAIT) as client:
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
            tracemalloc.start()
            try:
                for i in range(3):
                    result = client.call_tool("add", {"a": i, "b": 1})
                    assert result["structuredContent"] == {"result": i + 1}, json.dumps(result)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        handle.stop()
    assert peak < 4 * 1024 * 1024, "three small calls peaked at %d bytes" % peak
