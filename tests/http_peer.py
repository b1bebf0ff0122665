"""A bare HTTP client for the tests: exact statuses, headers and bodies, SSE parsed by hand."""

import http.client
import json
import socket
import time
from typing import Any, Dict, List, Optional, Tuple

MODERN = "2026-07-28"
ACCEPT_BOTH = "application/json, text/event-stream"


def parse_sse(body: bytes) -> List[Dict[str, Any]]:
    """SSE events as dicts: id, event, retry, data (str), json (decoded data, if any)."""
    events = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block.strip():
            continue
        event = {}  # type: Dict[str, Any]
        data = []  # type: List[str]
        comment_only = True
        for line in block.decode("utf-8").split("\n"):
            if line.startswith(":"):
                continue
            comment_only = False
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field in ("id", "event", "retry"):
                event[field] = value
        if comment_only:
            continue
        event["data"] = "\n".join(data)
        if event["data"]:
            event["json"] = json.loads(event["data"])
        events.append(event)
    return events


class Reply:
    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        assert self.content_type.startswith("application/json"), (self.status, self.headers, self.body)
        return json.loads(self.body)

    def events(self) -> List[Dict[str, Any]]:
        assert self.content_type.startswith("text/event-stream"), (self.status, self.headers, self.body)
        return parse_sse(self.body)

    def messages(self) -> List[Any]:
        """The JSON-RPC messages of the body, whichever form it took."""
        if self.content_type.startswith("application/json"):
            return [self.json()]
        return [e["json"] for e in self.events() if "json" in e]

    def __repr__(self) -> str:
        return "Reply(%d, %r, %r)" % (self.status, self.headers, self.body[:300])


class Http:
    """One keep-alive connection to a server started with ``run_in_thread``."""

    def __init__(self, handle: Any, path: str = "/mcp", source: Optional[str] = None) -> None:
        self.host = "127.0.0.1"
        self.port = handle.port
        self.path = path
        # ``source``: another loopback address to connect from (127.0.0.2...), which the
        # server sees as another client.
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10,
                                               source_address=(source, 0) if source else None)
        self.session_id = None  # type: Optional[str]
        self.version = None  # type: Optional[str]

    def close(self) -> None:
        self.conn.close()

    def send(self, method: str, path: Optional[str] = None, body: Any = None,
             headers: Optional[Dict[str, str]] = None) -> Reply:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        hdrs = {"Host": "127.0.0.1:%d" % self.port}
        if headers:
            hdrs.update(headers)
        self.conn.request(method, path or self.path, data, {k: v for k, v in hdrs.items() if v is not None})
        resp = self.conn.getresponse()
        body_bytes = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body_bytes)

    def post(self, message: Any, headers: Optional[Dict[str, str]] = None, session: bool = True) -> Reply:
        hdrs = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}
        if session and self.session_id:
            hdrs["Mcp-Session-Id"] = self.session_id
        if session and self.version:
            hdrs["MCP-Protocol-Version"] = self.version
        if headers:
            hdrs.update(headers)
        return self.send("POST", body=message, headers=hdrs)

    def initialize(self, version: str = "2025-11-25", capabilities: Optional[Dict[str, Any]] = None) -> Reply:
        reply = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": capabilities or {},
            "clientInfo": {"name": "http-tests", "version": "0"}}}, session=False)
        assert reply.status == 200, reply
        self.session_id = reply.headers.get("mcp-session-id")
        self.version = reply.json()["result"]["protocolVersion"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status == 202
        return reply

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = 1,
             headers: Optional[Dict[str, str]] = None) -> Reply:
        message = {"jsonrpc": "2.0", "id": id, "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        return self.post(message, headers)

    def modern(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = 1,
               headers: Optional[Dict[str, Optional[str]]] = None, name: Optional[str] = None) -> Reply:
        params = dict(params or {})
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN,
                           "io.modelcontextprotocol/clientCapabilities": {},
                           **params.get("_meta", {})}
        hdrs = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}  # type: Dict[str, Optional[str]]
        if name is None:
            name = params.get("name", params.get("uri"))
        if name is not None:
            hdrs["Mcp-Name"] = name
        if headers:
            hdrs.update(headers)
        return self.post({"jsonrpc": "2.0", "id": id, "method": method, "params": params}, hdrs,  # type: ignore
                         session=False)


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes on a fresh socket, return everything read until the server closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
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


def open_stream(port: int, method: str, path: str, headers: Dict[str, str],
                body: bytes = b"", source: str = "127.0.0.1") -> Tuple[socket.socket, bytes]:
    """Start a request on a raw socket and return it with what arrived first (the caller
    reads on, or closes it to test a client that goes away). ``source``: the address it
    comes from (any of 127.0.0.0/8: another client, as far as the server can tell)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, port)
    for name, value in headers.items():
        head += "%s: %s\r\n" % (name, value)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock, sock.recv(65536)


def old_sse_initialize(client: Http, sock: socket.socket, received: bytes, endpoint: str, wait: float) -> bytes:
    """On the 2024-11-05 HTTP+SSE transport, POST an initialize to the stream's ``endpoint``:
    it must get 202, and its answer must come on the stream (``sock``, which has sent
    ``received`` so far) within ``wait`` seconds. Returns all the stream has sent by then."""
    posted = client.send("POST", endpoint, json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {},
            "clientInfo": {"name": "old", "version": "0"}}}).encode(), {"Content-Type": "application/json"})
    assert posted.status == 202, posted
    deadline = time.monotonic() + wait
    while b'"protocolVersion":"2024-11-05"' not in received and time.monotonic() < deadline:
        received += sock.recv(65536)
    assert b'"protocolVersion":"2024-11-05"' in received, received
    return received
