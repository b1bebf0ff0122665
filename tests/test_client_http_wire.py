"""The HTTP client writes each request's head as one bytes object it builds itself
(``httpclient._OneWriteRequests``), not through ``http.client``'s ``putrequest`` /
``putheader`` / ``endheaders``: the bytes on the wire must stay exactly those
``http.client.HTTPConnection.request`` writes for the same request - compared here over a
raw socket server on 127.0.0.1 that records what each connection receives."""

import http.client
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from mcplite import Client, Server
from mcplite.httpclient import _McpHTTPConnection, _OneWriteRequests

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _Recorder:
    """A raw HTTP/1.1 server: every request's bytes (head and Content-Length body), per
    connection in order; each answered with ``_ANSWER`` (a CONNECT with 200, the tunnel
    then carrying the requests)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = []  # type: List[List[bytes]]
        self.threads = []  # type: List[threading.Thread]
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            requests = []  # type: List[bytes]
            self.connections.append(requests)
            thread = threading.Thread(target=self._serve, args=(sock, requests), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, requests: List[bytes]) -> None:
        try:
            self._serve_requests(sock, requests)
        except OSError:
            pass  # (a client that reset its connection: a test that closes one mid-request)

    def _serve_requests(self, sock: socket.socket, requests: List[bytes]) -> None:
        buffered = b""
        with sock:
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffered) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                requests.append(head + b"\r\n\r\n" + buffered[:length])
                buffered = buffered[length:]
                if head.startswith(b"CONNECT "):
                    sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    sock.sendall(_ANSWER)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept() (close() alone does not)
        except OSError:
            pass
        self.listener.close()
        self.accepting.join(5)
        for thread in self.threads:
            thread.join(5)


def _recorded(requests: List[Tuple[str, str, Optional[bytes], Dict[str, Any]]],
              tunnel: Optional[Tuple[str, int]] = None) -> Tuple[List[bytes], List[bytes]]:
    """What ``requests``, sent one after the other on one kept-alive connection, put on the
    wire: through ``http.client``'s ``request()``, and through mcplite's one write (each on
    its own connection to the same server)."""
    recorder = _Recorder()
    try:
        for send in (_by_http_client, _by_mcplite):
            conn = _McpHTTPConnection("127.0.0.1", recorder.port, timeout=5)
            if tunnel is not None:
                conn.set_tunnel(*tunnel)
            try:
                for method, target, body, headers in requests:
                    send(conn, method, target, body, headers)
                    response = conn.getresponse()
                    assert (response.status, response.read()) == (200, b"{}")
            finally:
                conn.close()
    finally:
        recorder.close()
    assert len(recorder.connections) == 2  # each kept alive throughout
    return recorder.connections[0], recorder.connections[1]


def _by_http_client(conn: Any, method: str, target: str, body: Optional[bytes], headers: Dict[str, Any]) -> None:
    conn.request(method, target, body, headers)


def _by_mcplite(conn: Any, method: str, target: str, body: Optional[bytes], headers: Dict[str, Any]) -> None:
    conn.mcplite_request(method, target, body, headers)


_MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                "Authorization": "Bearer abc", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call",
                "Mcp-Name": "add", "X-Latin": "caf\u00e9", "X-Folded": "a\r\n\tb"}
_BODY = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}'

CASES = {
    "posts": [("POST", "/mcp", _BODY, _MCP_HEADERS), ("POST", "/mcp", _BODY + b" ", _MCP_HEADERS),
              ("POST", "/mcp", b"", {}), ("POST", "/mcp?x=1", None, {"Mcp-Session-Id": "s1"})],
    "get and delete": [("GET", "/mcp", None, {"Accept": "text/event-stream", "Last-Event-ID": "7"}),
                       ("DELETE", "/mcp", None, {"Mcp-Session-Id": "s1"}), ("GET", "/mcp", None, {})],
    "a proxy's absolute target": [("POST", "http://example.test:8080/mcp", _BODY, _MCP_HEADERS),
                                  ("POST", "http://example.test/mcp", _BODY, {"Proxy-Authorization": "Basic eA=="})],
    "fields http.client writes itself": [
        ("POST", "/mcp", _BODY, {"Host": "other.test", "Accept-Encoding": "gzip"}),
        ("POST", "/mcp", _BODY, {"content-length": str(len(_BODY))}),
        ("POST", "/mcp", _BODY, {"X-Bytes": b"raw", "X-Int": 5}),
        ("POST", "/mcp", _BODY, _MCP_HEADERS)],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_request_goes_out_as_http_client_writes_it(case):
    requests = CASES[case]
    theirs, mine = _recorded(requests)
    assert mine == theirs
    assert len(mine) == len(requests)


def test_a_tunnelled_request_names_the_tunnel_host():
    # Through a CONNECT tunnel (an https endpoint behind a proxy; plain here): Host is the
    # tunnel's host, as http.client writes it.
    requests = CASES["posts"]
    theirs, mine = _recorded(requests, ("mcp.example.test", 8443))
    assert mine == theirs
    assert mine[0].startswith(b"CONNECT mcp.example.test:8443 HTTP/1.")
    assert b"\r\nHost: mcp.example.test:8443\r\n" in mine[1]


@pytest.mark.parametrize("headers, error", [
    ({"X-Bad": "a\r\nInjected: yes"}, ValueError),
    ({"Bad Name:": "v"}, ValueError),
    ({"X-Wide": "\u20ac"}, UnicodeError),
])
def test_a_request_http_client_refuses_is_refused_the_same(headers, error):
    with pytest.raises(error):
        http.client.HTTPConnection("127.0.0.1", 9).request("POST", "/mcp", b"{}", headers)
    conn = _McpHTTPConnection("127.0.0.1", 9)
    with pytest.raises(error):
        conn.mcplite_request("POST", "/mcp", b"{}", headers)
    assert conn.sock is None  # refused before anything was sent


def test_a_request_on_a_connection_still_busy_is_refused():
    # As http.client's putrequest: a second request before the first's answer was read.
    recorder = _Recorder()
    try:
        for first in (_by_http_client, _by_mcplite):
            conn = _McpHTTPConnection("127.0.0.1", recorder.port, timeout=5)
            try:
                first(conn, "POST", "/mcp", b"{}", {})
                with pytest.raises(http.client.CannotSendRequest):
                    _by_mcplite(conn, "POST", "/mcp", b"{}", {})
            finally:
                conn.close()
    finally:
        recorder.close()


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_client_call_takes_the_one_write_path_on_its_channel_connection(era, monkeypatch):
    """A client's call over HTTP takes the one-write path (its head one write; the tests above compare it
    with http.client): http.client's own putheader is never called."""
    app = Server("wire")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    with app.run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, era=era) as client:
            client.call_tool("add", {"a": 1, "b": 2})  # (a connection's first request: http.client's putrequest)
            calls = []  # type: List[Any]
            real = http.client.HTTPConnection.putheader

            def counting(*args: Any) -> Any:
                calls.append(args)
                return real(*args)
            monkeypatch.setattr(http.client.HTTPConnection, "putheader", counting)
            result = client.call_tool("add", {"a": 2, "b": 3})
            monkeypatch.setattr(http.client.HTTPConnection, "putheader", real)
            assert all(isinstance(conn, _OneWriteRequests) for conn in client._channel._idle)
    assert result["structuredContent"] == {"result": 5}
    assert calls == []


def test_a_request_on_a_connection_the_server_closed_is_known_unsent():
    # A kept connection the server closed after its answer (its keep-alive timeout): the
    # head goes out, the body's write meets the reset, so the request is marked unsent and
    # the channel sends it again on a new connection (as with http.client's two writes).
    from mcplite.httpclient import _send_request, _unsent
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def answer_once_then_close() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with sock, sock.makefile("rb") as reader:
                length = 0
                while True:
                    line = reader.readline()
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                    if line in (b"\r\n", b""):
                        break
                reader.read(length)
                sock.sendall(_ANSWER)
    serving = threading.Thread(target=answer_once_then_close, daemon=True)
    serving.start()
    try:
        outcomes = []
        for _ in range(5):
            conn = _McpHTTPConnection("127.0.0.1", port, timeout=5)
            try:
                _send_request(conn, "POST", "/mcp", b"x" * 100, {"Content-Type": "application/json"}, None).read()
                time.sleep(0.1)  # the server has closed it meanwhile
                try:
                    _send_request(conn, "POST", "/mcp", b"x" * 100, {"Content-Type": "application/json"}, None)
                    outcomes.append("sent")
                except Exception as exc:  # noqa: BLE001 - what it raises is what is checked
                    outcomes.append("%s unsent=%s" % (type(exc).__name__, _unsent(exc)))
            finally:
                conn.close()
        assert all(outcome.endswith("unsent=True") for outcome in outcomes), outcomes
    finally:
        try:
            listener.shutdown(socket.SHUT_RDWR)  # (wakes the accept: close alone does not)
        except OSError:
            pass
        listener.close()
        serving.join(5)
