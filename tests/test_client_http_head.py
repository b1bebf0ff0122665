"""The HTTP client reads an answer's head itself (``httpclient._HttpClientResponse``), not
with ``http.client``'s ``email``-based parser: the same attributes as ``http.client``'s own
response for the same bytes, and no call of that parser on a client's call."""

import http.client
import io
from typing import Any, List

import pytest

from mcplite import Client, Server
from mcplite.httpclient import _HttpClientResponse

HEADS = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 202 Accepted\r\nMcp-Session-Id: abc\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",  # to the close
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 401 Unauthorized\r\n"
    b"WWW-Authenticate: Bearer realm=\"a\"\r\nWWW-Authenticate: DPoP\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n  two\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",  # bare LF line ends
]


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> Any:
        return io.BytesIO(self.data)


def _read(cls: Any, data: bytes, method: str = "POST") -> Any:
    response = cls(_Socket(data), method=method)
    response.begin()
    return response


def _seen(response: Any) -> List[Any]:
    return [response.status, response.reason, response.version, response.chunked, response.length,
            response.will_close, [(name, " ".join(value.split())) for name, value in response.getheaders()],
            response.getheader("www-authenticate"), response.getheader("Content-Type"),
            response.getheader("x-folded") and " ".join(response.getheader("x-folded").split()),
            response.headers.get("mcp-session-id"), response.getheader("X-Absent"),
            response.getheader("x-absent", "fallback"), response.getheader("x-absent", ["a", "b"]),
            response.getheader("X-INTERIM", 3)]


@pytest.mark.parametrize("data", HEADS)
def test_the_head_reads_as_http_client_reads_it(data):
    mine, theirs = _read(_HttpClientResponse, data), _read(http.client.HTTPResponse, data)
    assert _seen(mine) == _seen(theirs)
    assert isinstance(mine.headers, http.client.HTTPMessage) and mine.msg is mine.headers
    assert mine.read() == theirs.read()


def test_a_head_answer_has_no_body():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    assert _read(_HttpClientResponse, data, "HEAD").length == _read(http.client.HTTPResponse, data, "HEAD").length == 0


@pytest.mark.parametrize("data, error", [
    (b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", http.client.LineTooLong),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", http.client.HTTPException),
    (b"HTTP/2 200 OK\r\n\r\n", http.client.UnknownProtocol),
    (b"", http.client.RemoteDisconnected),
])
def test_a_bad_head_fails_as_in_http_client(data, error):
    with pytest.raises(error):
        _read(_HttpClientResponse, data)
    with pytest.raises(error):
        _read(http.client.HTTPResponse, data)


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_call_over_http_never_runs_the_email_parser(era, monkeypatch):
    app = Server("head")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b
    parsed = []  # type: List[Any]
    real = http.client.parse_headers

    def counting(*args: Any, **kwargs: Any) -> Any:
        parsed.append(args)
        return real(*args, **kwargs)
    with app.run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, era=era) as client:
            monkeypatch.setattr(http.client, "parse_headers", counting)
            result = client.call_tool("add", {"a": 2, "b": 3})
            monkeypatch.setattr(http.client, "parse_headers", real)
    assert result["structuredContent"] == {"result": 5}
    assert parsed == []
