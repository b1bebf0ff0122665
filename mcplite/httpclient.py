"""The client side of Streamable HTTP, on ``http.client``: a channel for ``Client``.

Each message the client sends is one POST. A request's answer is either a JSON body or an
SSE stream carrying the server's messages about it and then its response; a notification
or a response gets 202. Each POST runs on a worker of a small pool, so the client's
caller waits on its pending response as with any transport, and a stream can outlive the
call that opened it (a ``subscriptions/listen``).

Legacy sessions: the ``Mcp-Session-Id`` the initialize response set is sent on every
later request, with ``MCP-Protocol-Version``; a GET stream carries what the server sends
outside any request (its requests, change notifications), and ``close()`` DELETEs the
session. 2026-07-28: every POST carries ``MCP-Protocol-Version``, ``Mcp-Method``,
``Mcp-Name`` and the ``Mcp-Param-*`` headers of the tool's ``x-mcp-header`` arguments;
cancelling a request means closing its connection, not a notification.

A request's stream that ends before its response is resumed with ``Last-Event-ID`` after
the server's ``retry`` delay (legacy sessions; 2026-07-28 has no resumption).

A 404 for a session starts a new one, where the request is sent again. A server that
refuses the initialize POST with 400, 404 or 405 is tried with the 2024-11-05 HTTP+SSE
transport (``LegacySseChannel``). Any other 4xx or 5xx fails its request at once with an
``HttpError`` (status, ``WWW-Authenticate``, body); a 401 or 403 first goes to the
channel's ``OAuth`` (oauth.py), if it has one, and the request is sent again with the token
it got. The OAuth makes each request's authorization headers: ``Authorization``, and for a
DPoP-bound token a proof for that very request (RFC 9449); a ``DPoP-Nonce`` the server
sends is handed to it for the next proofs.

Proxies come from the environment (``https_proxy``, ``http_proxy``, ``no_proxy``, as
``urllib`` reads them), or ``proxy=``; loopback hosts are never proxied.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .protocol import ERA_LEGACY, ERA_MODERN, MCP_NAME_PARAMS, META_PROTOCOL_VERSION
from .ports import ClientAuth, ClientChannel, no_hook
from .jsonrpc import decode, encode, readable_id
from .errors import AuthorizationError, ConnectionClosed, HttpError, MCPError, SessionLost, TransportError
from .logs import LazyLogger
from .loopback import is_loopback_host
from .workers import WorkerPool

_httpclient_log = LazyLogger("mcplite.httpclient")
_SAFE_HEADER_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\t"}
# The most one message may take, in a JSON body or an SSE event's data (as the stdio client).
_MAX_SSE_LINE = _MAX_HTTP_MESSAGE = 16 * 1024 * 1024
_MAX_ERROR_BODY = 64 * 1024  # of an HTTP error's body, what is read (and 1000 characters kept)
# How long a request's stream is still read once its response came: "After the JSON-RPC
# response has been sent, the server SHOULD terminate the SSE stream", and what it writes
# with the response is taken, but a stream the server keeps open (a resumed one some servers
# treat as their standalone stream) must not hold the request's caller, who reads it.
_AFTER_ANSWER_GRACE = 0.1
# How long connecting waits for the answer to a session's GET stream (see HttpChannel.ready):
# a moment, so that what a server sends there at once is not lost, but the stream is
# optional - a server that holds its headers back (until its first event, say) holds up
# the client this long, not connect_timeout.
_GET_STREAM_GRACE = 1.0
# What a kept-alive connection the server has since closed fails with. A request is sent
# again on a new connection only when this came before it was all written (see
# _send_request): a POST is not idempotent, and "a user agent SHOULD NOT automatically retry a
# request with a non-idempotent method unless it has some means to know that ... the original
# request was never applied" (RFC 9110 §9.2.2) - once written, the server may have run it
# (a worker killed mid-request closes the connection just as an idle timeout does).
_STALE_CONNECTION = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                     http.client.CannotSendRequest)


def header_value(value: Any) -> str:
    """A parameter value as an MCP header value: "string: use the value as-is; integer:
    decimal; boolean: lowercase", and ``=?base64?...?=`` when it "cannot be safely
    represented as a plain ASCII header value"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if (text and _SAFE_HEADER_CHARS.issuperset(text) and text == text.strip(" \t")
            and not (text.startswith("=?base64?") and text.endswith("?="))):  # would be read as encoded
        return text
    return "=?base64?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def read_body(response: Any, limit: int) -> bytes:
    """A response body, at most ``limit`` bytes of it (more tells the caller it was too
    large: one byte more is read then). Not ``response.read(limit)``: on Python 3.8 and
    3.9 that allocates and zeroes a buffer of ``limit`` bytes first, whatever the body's
    size - 16 MiB, about a millisecond of CPU, for every answer of a few hundred bytes."""
    length = response.length  # the Content-Length left to read, or None (chunked, or until close)
    if length is not None and length <= limit:
        return response.read()  # exactly that many bytes
    parts = []  # type: List[bytes]
    total = 0
    while total <= limit:
        part = response.read(min(65536, limit + 1 - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def _target(parts: urllib.parse.SplitResult) -> str:
    """The request target (path and query) of a split URL."""
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether a kept-alive connection is readable while idle: the server closed it (or
    said something before closing it) - not one to send a request on. Taken from the idle
    ones before use, the connections a server's keep-alive timeout closed are never tried,
    so a request almost never meets one (see _STALE_CONNECTION)."""
    sock = conn.sock
    if sock is None:
        return False  # http.client opens a new one itself
    try:
        if hasattr(select, "poll"):  # (select.select refuses descriptors over FD_SETSIZE)
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _shut(conn: http.client.HTTPConnection) -> None:
    """Shut a connection's socket down rather than just close it: that wakes a thread
    blocked reading it (which then closes it), and the server sees the end at once. The
    socket is the one its last request went out on (see ``_send_request``): an answer
    that ends with the connection (``Connection: close``, HTTP/1.0) has it, and
    ``conn.sock`` is None then - shutting only that would wake nobody, and a call's
    timeout, its cancellation or ``close()`` would wait until the server ends the stream.
    A connection still connecting has no socket yet: it is marked, and sends nothing."""
    conn.mcplite_shut = True  # type: ignore[attr-defined]   # (before its sockets are looked at: _send_request)
    for sock in (conn.sock, getattr(conn, "mcplite_socket", None)):
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# http.client's bounds on an answer's head: a header line's length, and how many there are.
_HEAD_LINE_LIMIT = 65536
_HEAD_FIELDS_LIMIT = 100


class _HttpClientResponse(http.client.HTTPResponse):
    """``http.client``'s response with its head read here rather than by the ``email``
    package's parser, which took about 19 µs of a 3.8 client's call (9 µs on 3.14) for the
    five header fields of an MCP answer - paid twice per call through an HTTP gateway. The
    same attributes come out (``headers`` a ``HTTPMessage``, ``chunked``, ``length``,
    ``will_close``); the body is read by ``http.client`` as before. ``getheader`` looks
    the fields up in an index made with them (``HTTPMessage.get_all`` goes through the
    email policy's fetch step for each field; three look-ups a call)."""

    _mcplite_index = None  # type: Optional[Dict[str, List[str]]]   # lower-case name -> values

    def begin(self) -> None:
        if self.headers is not None:
            return  # (begun already)
        for _ in range(100):
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status != http.client.CONTINUE:
                break
            _client_head_fields(self.fp)  # an interim 100 Continue: its fields are skipped
        else:
            raise http.client.HTTPException("more than 100 interim responses")
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers, index = _client_head_fields(self.fp)
        self.msg = self.headers
        self._mcplite_index = index
        no_value = [None]  # type: List[Any]
        coding = index.get("transfer-encoding", no_value)[0]
        self.chunked = bool(coding) and coding.lower() == "chunked"
        if self.chunked:
            self.chunk_left = None
        connection = (index.get("connection", no_value)[0] or "").lower()
        if self.version == 11:
            self.will_close = "close" in connection
        else:  # HTTP/1.0 closes unless it says it keeps the connection
            self.will_close = not (index.get("keep-alive", no_value)[0] or "keep-alive" in connection
                                   or "keep-alive" in (index.get("proxy-connection", no_value)[0] or "").lower())
        self.length = None
        length = index.get("content-length", no_value)[0]
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                pass
            if self.length is not None and self.length < 0:
                self.length = None
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":  # type: ignore[attr-defined]
            self.length = 0  # no body, whatever the fields say
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # its body ends with the connection

    def getheader(self, name: str, default: Any = None) -> Any:
        # As http.client's: every value of the field, joined with ", "; else ``default``.
        index = self._mcplite_index
        if index is None:
            return super().getheader(name, default)  # (not begun: ResponseNotReady)
        values = index.get(name.lower()) or default
        if isinstance(values, str) or not hasattr(values, "__iter__"):
            return values
        return ", ".join(values)


def _client_head_fields(fp: Any) -> Tuple[http.client.HTTPMessage, Dict[str, List[str]]]:
    """The header fields of an answer's head, up to its empty line, as ``http.client``
    keeps them, and an index of their values by lower-case name. A line starting with a
    space or tab continues the field before it (obs-fold, replaced with a space as RFC 9112
    5.2 allows); a line with no colon is dropped."""
    pairs = []  # type: List[List[str]]
    while True:
        line = fp.readline(_HEAD_LINE_LIMIT + 1)
        if len(line) > _HEAD_LINE_LIMIT:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n", b""):
            break
        if len(pairs) >= _HEAD_FIELDS_LIMIT:
            raise http.client.HTTPException("got more than %d headers" % _HEAD_FIELDS_LIMIT)
        text = line.decode("iso-8859-1")
        if text[:1] in (" ", "\t"):
            if pairs:
                pairs[-1][1] += " " + text.strip(" \t\r\n")
            continue
        name, colon, value = text.partition(":")
        if colon:
            pairs.append([name.strip(), value.strip(" \t\r\n")])
    fields = http.client.HTTPMessage()
    index = {}  # type: Dict[str, List[str]]
    stored = []  # type: List[Tuple[str, str]]
    for name, value in pairs:
        # What ``fields[name] = value`` appends with the compat32 policy HTTPMessage has
        # (no field limited in count), without its name check (3.13 on), which refuses a
        # name http.client's own parser keeps: (name, value).
        stored.append((name, value))
        index.setdefault(name.lower(), []).append(value)
    fields._headers = stored  # type: ignore[attr-defined]
    return fields, index


# What http.client's request() writes itself, and so the one-write path leaves to it.
_OWN_FIELDS = frozenset(("host", "accept-encoding", "content-length", "transfer-encoding"))
# How many header-field sets a connection keeps encoded (its requests' fields, one dict's
# items in order -> their lines, checked as http.client's putheader would): the same few
# come back on every call of a session. Kept with the connection, not the module, so that a
# bearer token or a DPoP proof goes with it when it closes.
_REQUEST_FIELD_SETS_MAX = 8
# http.client's own internals the one-write path reads (a Python without them gets request()).
_ONE_WRITE = all(hasattr(http.client, name) for name in (
    "_CS_IDLE", "_CS_REQ_SENT", "_is_legal_header_name", "_is_illegal_header_value", "_METHODS_EXPECTING_BODY"))


def _request_field_lines(headers: Dict[str, str]) -> Optional[bytes]:
    """A request's header fields as http.client writes them (``Name: value`` CRLF each, in
    order); None when http.client's own path is needed: a field it writes itself (Host,
    Content-Length ...), a name or value that is not a str, or one it would refuse (it then
    raises its own error)."""
    lines = []  # type: List[bytes]
    legal_name = http.client._is_legal_header_name  # type: ignore[attr-defined]
    illegal_value = http.client._is_illegal_header_value  # type: ignore[attr-defined]
    try:
        for name, value in headers.items():
            if type(name) is not str or type(value) is not str or name.lower() in _OWN_FIELDS:
                return None
            name_bytes = name.encode("ascii")
            value_bytes = value.encode("latin-1")
            if not legal_name(name_bytes) or illegal_value(value_bytes):
                return None
            lines.append(name_bytes + b": " + value_bytes + b"\r\n")
    except UnicodeError:
        return None
    return b"".join(lines)


class _OneWriteRequests:
    """A request's head written as one bytes object, built here: ``http.client``'s ``request()``
    calls ``putrequest``, ``putheader`` per field (each encoding and checking it),
    ``endheaders`` and ``send`` twice - about 35 Python calls, 4 µs of a 3.8 client's call,
    paid twice per call through an HTTP gateway. The bytes are the same (the test
    test_client_http_wire.py compares them with http.client's): the request line, Host
    and Accept-Encoding as http.client's own ``putrequest`` makes them (once per method
    and target on a connection, then kept), Content-Length, the caller's fields in order;
    then the body, in a second write as http.client's. The connection's state moves as with
    ``request()``, so ``getresponse`` and a later request see no difference. Anything
    unusual goes to ``request()`` itself: a field http.client writes (Host,
    Content-Length ...), one it would refuse, a body that is not bytes, debugging on."""

    def mcplite_request(self, method: str, target: str, body: Optional[bytes], headers: Dict[str, str]) -> None:
        conn = self  # type: Any
        # (The connection's private state too, read and moved below as http.client moves it:
        # a Python whose http.client keeps it otherwise gets request() itself.)
        if not _ONE_WRITE or conn.debuglevel > 0 or not (body is None or type(body) is bytes) \
                or "_HTTPConnection__state" not in conn.__dict__:
            conn.request(method, target, body, headers)
            return
        known = conn.__dict__.setdefault("_mcplite_fields", {})  # type: Dict[Any, bytes]
        try:
            key = tuple(headers.items())  # type: Any
            fields = known.get(key)
        except TypeError:  # (a value that cannot be hashed: http.client's path)
            key, fields = None, None
        if fields is None:
            fields = _request_field_lines(headers)
            if fields is None:
                conn.request(method, target, body, headers)
                return
            if key is not None:
                if len(known) >= _REQUEST_FIELD_SETS_MAX:
                    known.clear()  # (DPoP proofs differ each time: bounded)
                known[key] = fields
        heads = conn.__dict__.setdefault("_mcplite_heads", {})  # type: Dict[Tuple[str, str], bytes]
        head = heads.get((method, target))
        if head is None:
            # http.client's own: the checks of method and target, the connection's state
            # (CannotSendRequest), the request line, Host and Accept-Encoding.
            conn.putrequest(method, target)
            head = b"\r\n".join(conn._buffer) + b"\r\n"
            del conn._buffer[:]
            if len(heads) < 8:
                heads[(method, target)] = head
        else:  # what putrequest does besides
            response = conn._HTTPConnection__response
            if response is not None and response.isclosed():
                conn._HTTPConnection__response = response = None
            if conn._HTTPConnection__state != http.client._CS_IDLE:  # type: ignore[attr-defined]
                raise http.client.CannotSendRequest(conn._HTTPConnection__state)
            conn._method = method
        if body is not None:
            length = b"Content-Length: %d\r\n" % len(body)
        elif method.upper() in http.client._METHODS_EXPECTING_BODY:  # type: ignore[attr-defined]
            length = b"Content-Length: 0\r\n"
        else:
            length = b""
        data = head + length + fields + b"\r\n"
        conn._HTTPConnection__state = http.client._CS_REQ_SENT  # type: ignore[attr-defined]
        if conn.sock is None:  # (as send(): we connect first, see _send_request)
            if not conn.auto_open:
                raise http.client.NotConnected()
            conn.connect()
        sys.audit("http.client.send", conn, data)
        conn.sock.sendall(data)
        if body:
            # The body in a second write, as http.client sends it: on a kept connection the
            # server has closed, the head goes out but this write fails (a reset), before
            # anything was read - a request known unsent, retried on a new connection
            # (_STALE_CONNECTION). In one write it would fail only at reading the answer.
            sys.audit("http.client.send", conn, body)
            conn.sock.sendall(body)


class _McpHTTPConnection(_OneWriteRequests, http.client.HTTPConnection):
    response_class = _HttpClientResponse


class _McpHTTPSConnection(_OneWriteRequests, http.client.HTTPSConnection):
    response_class = _HttpClientResponse


class _Endpoint:
    """Where an HTTP channel connects: one http(s) URL, the headers every request carries,
    and the proxy in between (if any). ``target`` is what goes on the request line."""

    def __init__(self, url: str, headers: Optional[Dict[str, str]], ssl_context: Optional[ssl.SSLContext],
                 timeout: float, proxy: Optional[str] = None) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an MCP endpoint URL is http:// or https://, not %r" % (url,))
        self.url = url
        self.path = _target(parts)
        self.headers = dict(headers or {})
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._ssl_context = ssl_context
        self._proxy = _proxy_for(parts, proxy)
        self._tunnel_headers = {}  # type: Dict[str, str]
        if self._proxy is not None and self._proxy.username is not None:
            credentials = "%s:%s" % (urllib.parse.unquote(self._proxy.username),
                                     urllib.parse.unquote(self._proxy.password or ""))
            value = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
            if self._https:
                self._tunnel_headers["Proxy-Authorization"] = value  # on the CONNECT only
            else:
                self.headers["Proxy-Authorization"] = value
        # Plain http through a proxy: the request line carries the whole URL ("absolute-form").
        self._absolute = self._proxy is not None and not self._https
        self._origin = "http://" + parts.netloc.rpartition("@")[2]
        self.target = self.target_of(self.path)

    def target_of(self, path: str) -> str:
        return self._origin + path if self._absolute else path

    def connect(self) -> http.client.HTTPConnection:
        context = (self._ssl_context or ssl.create_default_context()) if self._https else None
        if self._proxy is not None:
            proxy_host, proxy_port = self._proxy.hostname or "", self._proxy.port or 80  # (_proxy_for wants a host)
            if not self._https:
                return _McpHTTPConnection(proxy_host, proxy_port, timeout=self.timeout)
            conn = _McpHTTPSConnection(proxy_host, proxy_port, timeout=self.timeout, context=context)
            conn.set_tunnel(self._host, self._port or 443, headers=self._tunnel_headers)  # CONNECT, then TLS
            return conn
        if context is not None:
            return _McpHTTPSConnection(self._host, self._port, timeout=self.timeout, context=context)
        return _McpHTTPConnection(self._host, self._port, timeout=self.timeout)


def _proxy_for(parts: urllib.parse.SplitResult, proxy: Optional[str]) -> Optional[urllib.parse.SplitResult]:
    """The proxy for a URL: ``proxy`` when given ("" for none), else the environment's
    (``https_proxy``/``http_proxy``/``all_proxy``, minus ``no_proxy``) - never for a
    loopback host, where a proxy could only be a mistake (it would not reach this machine)."""
    host = parts.hostname or ""
    if is_loopback_host(host):
        return None
    if proxy is None:
        # (A from-import: "import urllib.request" would make urllib a local name here.)
        from urllib.request import getproxies_environment, proxy_bypass_environment
        found = getproxies_environment()
        if proxy_bypass_environment(host, found):
            return None
        proxy = found.get(parts.scheme) or found.get("all")
    if not proxy:
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    proxy_parts = urllib.parse.urlsplit(proxy)
    if proxy_parts.scheme != "http" or not proxy_parts.hostname:
        raise ValueError("only http:// proxies are supported (a CONNECT tunnel carries https), not %r" % (proxy,))
    return proxy_parts


def http_exchange(method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
                  ssl_context: Optional[ssl.SSLContext] = None, timeout: float = 30.0, proxy: Optional[str] = None,
                  max_bytes: int = 1024 * 1024) -> Tuple[int, Dict[str, str], bytes]:
    """One plain HTTP exchange (OAuth discovery and token requests): status, headers
    (lower-case names) and body. Redirects are not followed - an authorization
    endpoint's redirect is the answer itself. A body over ``max_bytes`` is an error."""
    endpoint = _Endpoint(url, headers, ssl_context, timeout, proxy)
    conn = endpoint.connect()
    try:
        conn.request(method, endpoint.target, body, endpoint.headers)
        response = conn.getresponse()
        data = read_body(response, max_bytes)
        if len(data) > max_bytes:
            raise ConnectionClosed("the answer of %s is larger than %d bytes" % (url, max_bytes))
        return response.status, {name.lower(): value for name, value in response.getheaders()}, data
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectionClosed("cannot reach %s: %s" % (url, exc))
    finally:
        conn.close()


def _auth_headers(auth: ClientAuth, method: str, url: str) -> Tuple[Any, Dict[str, str]]:
    """What an auth object (an ``OAuth``) puts on one request: (what ``recover`` wants back,
    the headers). Whatever goes wrong making them - a stored key that does not load, a
    token no header can carry - raises an ``AuthorizationError`` (or the auth object's own
    ``TransportError``), so the request fails at once and clearly rather than leaving its
    caller waiting, or sending a header with a CR LF in it."""
    try:
        generation, extra = auth.request_headers(method, url)
        for name, value in extra.items():
            if not (isinstance(name, str) and isinstance(value, str) and value
                    and all(ch in _SAFE_HEADER_CHARS for ch in value)):
                # (Not quoted: the value carries the access token.)
                raise ValueError("its %s header is not a valid HTTP header value" % name)
        return generation, dict(extra)
    except TransportError:
        raise
    except Exception as exc:
        raise AuthorizationError("cannot authorize the request to %s: %s" % (url, exc))


def _jsonrpc_error_said(body: bytes) -> Optional[str]:
    """``-32600 "Authorization required"`` for a body that is a JSON-RPC error response;
    None for any other body."""
    try:
        message = decode(body) if body.strip() else None
    except MCPError:
        return None
    error = message.get("error") if isinstance(message, dict) and message.get("jsonrpc") == "2.0" else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int) or \
            not isinstance(error.get("message"), str):
        return None
    return '%d "%s"' % (error["code"], " ".join(error["message"].split())[:200])


def _unsendable(target: str, exc: BaseException) -> TransportError:
    """The error of a request http.client refused to write (not a network failure): a
    header name or value HTTP does not allow, say. A ValueError's text is not kept - it
    quotes the header, which may be a credential the caller gave."""
    detail = "a header name or value is not valid in HTTP" if isinstance(exc, ValueError) else str(exc)
    return TransportError("cannot send the request for %s: %s (%s)" % (target, detail, type(exc).__name__))


def _note_dpop_nonce(auth: Optional[ClientAuth], url: str, response: Any) -> None:
    """A ``DPoP-Nonce`` the server sent, on any answer (RFC 9449 §8.2: a new one may come
    at any time): the auth object's nonce for its next proofs to this server (§9)."""
    nonce = response.getheader("DPoP-Nonce")
    if nonce and auth is not None:
        auth.note_nonce(url, nonce)


def _send_request(conn: http.client.HTTPConnection, method: str, target: str, body: Optional[bytes],
                  headers: Dict[str, str], tracer: Any, watched: bool = False) -> Any:
    """One request on ``conn`` and the head of its answer, both traced when there is a tracer.
    ``watched``: a request whose wait the client session bounds (its timeout, extended by
    progress, then cancellation, which closes the connection), so the answer is waited for
    without the connection's own timeout - that one only bounds connecting and writing;
    a 45-second tool called with ``timeout=60`` must not fail at 30 seconds of quiet.
    A TransportError when http.client refuses to write the request (see ``_unsendable``)."""
    if tracer is not None:
        tracer.http_request(method, target, headers, body)
    try:
        if conn.sock is None:
            conn.connect()  # here rather than in request(): see below
        else:
            # A kept-alive connection keeps the timeout its last answer was read with (a
            # moment, after an SSE answer's response: _read_request_stream); the request is
            # written within the connection's own.
            conn.sock.settimeout(conn.timeout)
        conn.mcplite_socket = conn.sock  # type: ignore[attr-defined]   # for _shut, whoever ends up holding it
        if getattr(conn, "mcplite_shut", False):
            # Shut (the request given up: timed out, cancelled, the client closed) while
            # it was connecting: it is not sent.
            raise ConnectionAbortedError("the request was given up before it was sent")
        if isinstance(conn, _OneWriteRequests):
            conn.mcplite_request(method, target, body, headers)
        else:  # (a connection made elsewhere)
            conn.request(method, target, body, headers)
        if conn.sock is not None:  # the answer: see watched
            conn.sock.settimeout(None if watched else conn.timeout)
    except (OSError, http.client.HTTPException) as exc:
        # The network (ssl.SSLCertVerificationError is a ValueError too), before the whole
        # request was written: the server cannot have read it, so it may go out again.
        exc.mcplite_unsent = True  # type: ignore[union-attr]
        raise
    except (ValueError, UnicodeError, TypeError) as exc:
        # Not the network: a header with CR or LF, one it cannot encode. (The connection
        # has a request started on it: its caller closes it.)
        raise _unsendable(target, exc)
    sock = conn.sock
    response = conn.getresponse()  # type: Any   # (one attribute more, below)
    # Its socket, for a read timeout later (see HttpChannel._read_request_stream): when the
    # server closes the connection after this answer, http.client hands the socket over to
    # the response and the connection forgets it (conn.sock is None).
    response.mcplite_socket = sock
    if tracer is not None:
        tracer.http_response(response.status, response.reason, response.getheaders(), None, method)
    return response


def _unsent(exc: BaseException) -> bool:
    """Whether a network failure came before the request was all written (_send_request)."""
    return bool(getattr(exc, "mcplite_unsent", False))


def _sse_lines(response: Any) -> Iterator[bytes]:
    """The lines of an SSE stream, without their ends, each as soon as its end came:
    "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF)
    character pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE
    RETURN (CR) character." Not ``readline``: it ends lines at LF only, and on a stream
    whose lines end with CR alone it would wait for an LF that never comes (or take the
    whole stream for one line). What the server sent so far is taken at once (``read1``)
    and split here; a CR ending one read may be the first half of a CRLF, whose LF then
    starts the next read and is dropped. A stream ended within a line ends there: "any
    pending data must be discarded"."""
    pending = []  # type: List[bytes]   # the start of a line not ended yet
    pending_size = 0
    after_cr = False
    while True:
        chunk = response.read1(65536)
        if not chunk:
            return
        if after_cr:
            after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    continue
        if b"\r" in chunk:  # (LF alone, the common case, costs this test only)
            after_cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()  # after the last line end: the start of the next line
        if lines:
            if pending:
                pending.append(lines[0])
                lines[0] = b"".join(pending)
                pending, pending_size = [], 0
            yield from lines
        if rest:
            pending.append(rest)
            pending_size += len(rest)
            if pending_size > _MAX_SSE_LINE:
                raise ValueError("an SSE line longer than %d bytes" % _MAX_SSE_LINE)


def _sse_iter(response: Any, state: Optional[Dict[str, Any]] = None,
              tracer: Any = None) -> Iterator[Tuple[str, str, Optional[str]]]:
    """Events with data (event type, data, last event id). A tracer sees every event,
    those without data (priming events) too, with the fields it had itself."""
    event, data = "message", []  # type: Tuple[str, List[str]]
    event_id = state.get("last_id") if state is not None else None  # type: Optional[str]
    own_id = own_retry = None  # type: Any   # this event's own id and retry fields, for the trace
    had_fields = False
    size = 0  # of the event's data so far
    first = True
    for raw in _sse_lines(response):
        line = raw.decode("utf-8", "replace")
        if first:
            # "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
            line, first = line[1:] if line.startswith("\ufeff") else line, False
        if not line:
            if tracer is not None and had_fields:
                tracer.sse_event(event, "\n".join(data), own_id, own_retry)
            if data:
                yield event, "\n".join(data), event_id
            event, data = "message", []
            own_id = own_retry = None
            had_fields = False
            size = 0
            continue
        if line.startswith(":"):
            continue  # a comment: keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        had_fields = True
        if name == "data":
            data.append(value)
            size += len(value)
            if size > _MAX_SSE_LINE:
                raise ValueError("an SSE event larger than %d bytes" % _MAX_SSE_LINE)
        elif name == "event":
            event = value or "message"  # an empty type is the default one
        elif name == "id":
            event_id = own_id = value
            if state is not None:
                state["last_id"] = value
        elif name == "retry" and value.isdigit():
            own_retry = int(value)
            if state is not None:
                state["retry"] = own_retry
    if tracer is not None:
        tracer.note("the stream ended")


class HttpChannel(ClientChannel):
    """Streamable HTTP to one endpoint URL."""

    sends_waited = True
    # A client session bounds each request's wait (its timeout, then cancellation, which
    # closes the connection), so an answer is read without the connection's timeout. A
    # relay with no session (``bridge --stdio``) sets False: ``connect_timeout`` then bounds
    # the quiet on each answer too.
    session_watches_requests = True

    def __init__(self, url: str, headers: Optional[Dict[str, str]] = None,
                 ssl_context: Optional[ssl.SSLContext] = None, connect_timeout: float = 30.0,
                 max_streams: int = 32, proxy: Optional[str] = None, auth: Any = None) -> None:
        super().__init__()
        endpoint = _Endpoint(url, headers, ssl_context, connect_timeout, proxy)
        self.url = url
        self._path = endpoint.target
        # An OAuth (oauth.py), or None: a 401/403 then fails the request with HttpError.
        self._auth = auth
        if auth is not None:
            auth.bind(url, lambda *args, **kw: http_exchange(*args, ssl_context=ssl_context, proxy=proxy, **kw))
        # Requests refused with 401 or 403 while there is an OAuth: request id -> the token
        # generation they were sent with, which ``recover`` hands the OAuth.
        self._refusals = {}  # type: Dict[Any, Any]
        self._headers = endpoint.headers
        self._timeout = connect_timeout
        self._connect = endpoint.connect
        self._pool = WorkerPool(max_streams, max_queued=1024, name="mcplite-http-client")
        self._lock = threading.Lock()
        # Requests carried on their callers' threads (send_waited): at most max_streams at
        # once, each on its connection; the others wait here for one to end. Ids of those
        # waiting, and of those waiting for a worker of the pool (send): a request taken
        # out (cancelled, timed out) is then never sent.
        self._max_streams = max_streams
        self._carried = 0
        self._carry_wait = set()  # type: set
        self._carry_free = threading.Condition(self._lock)
        self._carry_waiting = 0  # requests waiting on _carry_free (none: no notify, a Python call less)
        self._idle = []  # type: List[http.client.HTTPConnection]
        self._open = {}  # type: Dict[Any, http.client.HTTPConnection]   # request id -> its connection
        self.session_id = None  # type: Optional[str]
        # Sessions counted: the one in use (0 before the first), and the one the server ended
        # if we have none since (then requests fail at once with SessionLost, and are sent
        # again in the new session the Client starts).
        self._generation = 0
        self._lost = None  # type: Optional[int]
        self._generation_of = {}  # type: Dict[str, int]   # recent session ids -> their number
        self.protocol_version = None  # type: Optional[str]
        self.era = None  # type: Optional[str]
        self.tool_headers = {}  # type: Dict[str, List[Tuple[Tuple[str, ...], str]]]
        self._get_connection = None  # type: Optional[http.client.HTTPConnection]
        # The threads reading the GET stream (one per session: a new session starts its
        # own, and the old one's ends with its stream). Not workers of the pool: a stream
        # that lasts the whole session must not take one of the max_streams requests.
        self._get_threads = []  # type: List[threading.Thread]
        self._closed = False
        self.initialize_refused = None  # type: Optional[int]   # the status of a refused initialize
        self._cancelled = set()  # type: set   # ids of requests we cancelled, while their POST lasts
        self._closed_event = threading.Event()  # wakes a resumption waiting out its delay

    # -- connections ---------------------------------------------------------------

    def cache_origin(self) -> Any:
        # One endpoint URL is one server, whoever asks: its public results are the same.
        return ("http", self.url)

    def _take(self) -> Tuple[http.client.HTTPConnection, bool]:
        """A connection, and whether it is a kept-alive one (which the server may have
        closed meanwhile)."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(), False
            if not _dropped(conn):
                return conn, True
            conn.close()

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < 8:
                self._idle.append(conn)
                return
        conn.close()

    def session_generation(self) -> int:
        return self._generation

    def usable_tools(self, tools: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The tools a call can be made to, with the ``x-mcp-header`` arguments each call
        mirrors in ``Mcp-Param-*`` headers (2026-07-28) noted for ``send``."""
        from .schema import header_parameters
        mirrored = {}
        usable = []
        for tool in tools:
            try:
                mirrored[tool.get("name")] = [(path, header) for path, header, _ in
                                              header_parameters(tool.get("inputSchema") or {})]
            except (ValueError, TypeError, AttributeError) as exc:
                # An x-mcp-header the spec forbids: such a tool cannot be called correctly,
                # and clients drop it.
                _httpclient_log.warning("dropped tool %r: %s", tool.get("name"), exc)
                continue
            usable.append(tool)
        self.tool_headers = mirrored
        return usable

    def negotiated(self, era: str, version: str) -> None:
        """The era and version, known once the server answered (before initialized)."""
        self.era = era
        self.protocol_version = version

    def ready(self) -> None:
        """The connection is set up: a legacy session opens its GET stream, in the
        background. The stream is optional ("The server MUST either return Content-Type:
        text/event-stream in response to this HTTP GET, or else return HTTP 405"), so a
        server slow to answer the GET must not hold up the session: the client goes on
        once the server answered it, or after ``_GET_STREAM_GRACE`` at most. Not at once:
        a server may drop what it sends there while no stream is open (the official
        TypeScript SDK's servers send a tool's elicitation request there, and lose it if the
        tool was called first), and most answer the GET at once."""
        if self.era == ERA_LEGACY and self.session_id is not None and not self._closed:
            opened = threading.Event()
            thread = threading.Thread(target=self._listen_standalone, args=(opened,),
                                      name="mcplite-http-client-get", daemon=True)
            with self._lock:
                self._get_threads = [t for t in self._get_threads if t.is_alive()] + [thread]
            thread.start()
            opened.wait(min(self._timeout, _GET_STREAM_GRACE))

    # -- sending -------------------------------------------------------------------

    def _request_headers(self, message: Any) -> Dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        headers.update(self._headers)
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        version = self.protocol_version
        params = message.get("params") if isinstance(message, dict) else None
        params = params if isinstance(params, dict) else {}
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        modern_version = meta.get(META_PROTOCOL_VERSION)
        if modern_version is not None:
            version = modern_version
        if version is not None and not (isinstance(message, dict) and message.get("method") == "initialize"):
            headers["MCP-Protocol-Version"] = version
        if modern_version is not None and isinstance(message, dict) and "method" in message:
            method = message["method"]
            headers["Mcp-Method"] = method
            key = MCP_NAME_PARAMS.get(method)
            name = params.get(key) if key is not None else None
            if isinstance(name, str):
                headers["Mcp-Name"] = header_value(name)
            if method == "tools/call":
                arguments = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
                for path, header in self.tool_headers.get(name, ()):
                    value = arguments  # type: Any
                    for key in path:
                        value = value.get(key) if isinstance(value, dict) else None
                    if value is not None and not isinstance(value, (dict, list)):
                        headers["Mcp-Param-" + header] = header_value(value)
        return headers

    def send(self, message: Any) -> None:
        if self._closed:
            raise ConnectionClosed("the client is closed")
        if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
            rid = (message.get("params") or {}).get("requestId")
            with self._lock:
                conn = self._open.pop(rid, None)
                if conn is not None:
                    self._cancelled.add(rid)  # its stream is not to be resumed (until its POST ends)
                unsent = rid in self._carry_wait
                if unsent:  # still waiting for a connection or a worker: it is never sent
                    self._carry_wait.discard(rid)
                    self._carry_free.notify_all()
            if unsent:
                return  # nothing to tell the server of
            # In 2026-07-28 "the client cancels a request by closing the stream" - which a
            # session's client does too, as the server never ends the stream of a request
            # it will not answer. First: that ends the wait now, and a request still
            # connecting is not sent (see _shut) - telling the server may take a while.
            if conn is not None:
                _shut(conn)
            if self.era != ERA_MODERN:
                self._post(encode(message), self._request_headers(message), None)  # in a session it is told
            return
        body = encode(message)
        headers = self._request_headers(message)
        rid = readable_id(message) if isinstance(message, dict) and "method" in message else None
        if rid is None:
            # A notification or our answer to the server: 202 expected, nothing to read.
            self._post(body, headers, None)
            return
        initializing = message.get("method") == "initialize"
        lost = self._lost
        if lost is not None and not initializing:
            # The server ended the session: this request would only get 404 too.
            self.on_failure(rid, SessionLost("Session not found: the server ended the session", lost))
            return
        with self._lock:
            self._carry_wait.add(rid)
        if not self._pool.submit(lambda: self._post_queued(body, headers, rid, initializing)):
            with self._lock:
                self._carry_wait.discard(rid)
            raise TransportError("too many HTTP requests in progress")

    def _post_queued(self, body: bytes, headers: Dict[str, str], rid: Any, initializing: bool) -> None:
        with self._lock:
            if rid not in self._carry_wait or self._closed:
                return  # cancelled while it waited for a worker (see send): never sent
            self._carry_wait.discard(rid)
        self._post(body, headers, rid, initializing)

    def send_waited(self, message: Any) -> bool:
        # A request whose sender would only wait for the pool's thread to POST it: POSTed
        # here instead (two thread hand-offs fewer per call). The sender's session watches
        # its timeout and cancellation meanwhile, and ends the wait by closing the request's
        # connection (see ClientSession._exchange).
        if (self._closed or self._lost is not None or not isinstance(message, dict)
                or message.get("method") in (None, "initialize")):
            return False
        rid = readable_id(message)
        if rid is None:
            return False
        with self._lock:
            self._carry_wait.add(rid)
            while self._carried >= self._max_streams and rid in self._carry_wait and not self._closed:
                self._carry_waiting += 1
                try:
                    self._carry_free.wait()
                finally:
                    self._carry_waiting -= 1
            if rid not in self._carry_wait or self._closed:
                # Timed out or cancelled while it waited (the session has its verdict), or
                # the client closed (its callers are failed): the server never hears of it.
                self._carry_wait.discard(rid)
                return True
            self._carry_wait.discard(rid)
            self._carried += 1
        try:
            self._post(encode(message), self._request_headers(message), rid)
        finally:
            with self._lock:
                self._carried -= 1
                if self._carry_waiting:
                    self._carry_free.notify()
        return True

    def _authorize(self, headers: Dict[str, str], method: str = "POST") -> Any:
        """Put the current access token on a request (and, for a DPoP-bound token, a proof
        made for this very request: RFC 9449 wants a new one each time); what the OAuth
        wants back in ``recover`` if the request is refused (the token's generation, which
        tells whether a 401 was for a token since replaced)."""
        if self._auth is None:
            return 0
        generation, extra = _auth_headers(self._auth, method, self.url)  # a TransportError when it cannot
        headers.pop("DPoP", None)  # a proof of an earlier attempt must not be sent again
        headers.update(extra)
        return generation

    def _note_nonce(self, response: Any) -> None:
        _note_dpop_nonce(self._auth, self.url, response)

    def _cannot_send(self, rid: Any, error: TransportError) -> None:
        """A message whose request could not be written: its request fails now with
        ``error``; a notification or an answer of ours, sent from its sender's thread, is
        dropped with a warning, as when the server cannot be reached."""
        if rid is None:
            _httpclient_log.warning("a message was not sent: %s", error.message)
            return
        self._fail(rid, error)

    def _post(self, body: bytes, headers: Dict[str, str], rid: Any, initializing: bool = False,
              authorized_again: bool = False) -> None:
        conn, kept = self._take()
        reusable = False
        try:
            try:
                generation = self._authorize(headers) if self._auth is not None else 0
            except TransportError as exc:
                # Nothing was written: the connection goes back as it was (the finally).
                reusable = True
                self._cannot_send(rid, exc)
                return
            while True:
                if rid is not None:
                    with self._lock:
                        self._open[rid] = conn
                try:
                    response = _send_request(conn, "POST", self._path, body, headers, self.tracer,
                                              rid is not None and self.session_watches_requests)
                    if self._auth is not None:  # (a DPoP-Nonce is the OAuth's: none, nobody to tell)
                        self._note_nonce(response)
                    break
                except TransportError as exc:
                    # http.client refused to write the request: not the network - fail it
                    # now, and close the connection (a request was started on it).
                    self._cannot_send(rid, exc)
                    return
                except (OSError, http.client.HTTPException) as exc:
                    with self._lock:
                        abandoned = self._closed or (rid is not None and rid in self._cancelled)
                    if abandoned:
                        # We shut this connection ourselves, to cancel the request (send())
                        # or closing the client: the server has it, so it is never sent
                        # again, and nobody waits.
                        return
                    if not (kept and isinstance(exc, _STALE_CONNECTION) and _unsent(exc)):
                        self._fail(rid, "cannot reach %s: %s" % (self.url, exc))
                        return
                    # A kept-alive connection the server had closed, found so before the
                    # request was all written: once more on a new one. (Never after any
                    # other failure: the request may have been received, and must not run
                    # twice.)
                    conn.close()
                    conn, kept = self._connect(), False
            session = response.getheader("Mcp-Session-Id")
            if session and self.session_id is None:
                with self._lock:
                    self.session_id = session
                    self._generation += 1
                    self._generation_of[session] = self._generation
                    for old in [sid for sid, n in self._generation_of.items() if n < self._generation - 8]:
                        del self._generation_of[old]
                    self._lost = None
            if initializing and response.status in (400, 404, 405):
                # "If it fails with an HTTP 4xx status code (e.g., 405 Method Not Allowed
                # or 404 Not Found)", a client for old servers tries the HTTP+SSE transport.
                self.initialize_refused = response.status
            sent_session = headers.get("Mcp-Session-Id")
            if response.status == 404 and sent_session is not None and self.era == ERA_LEGACY:
                # "When a client receives HTTP 404 in response to a request containing an
                # Mcp-Session-Id, it MUST start a new session": the Client does, and sends
                # this request again there (the ended session never ran it).
                response.read()
                reusable = not response.will_close
                with self._lock:
                    if self.session_id == sent_session:
                        self.session_id = None
                        self._lost = self._generation
                    # The session the request was sent in: requests of one lost session,
                    # answered 404 after a new one began, must not end that one too.
                    lost = self._generation_of.get(sent_session, 0)
                if rid is not None:
                    self.on_failure(rid, SessionLost("Session not found: the server ended the session (HTTP 404)",
                                                     lost))
                return
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if response.status >= 400 and (response.status in (401, 403) or content_type != "application/json"):
                # Not a JSON-RPC answer: the request fails now, with what the server said.
                text = read_body(response, _MAX_ERROR_BODY)
                if self.tracer is not None and text:
                    self.tracer.body("<-", text)
                reusable = response.isclosed() and not response.will_close
                self._refused(rid, response, text, generation, body, headers, authorized_again)
                return
            try:
                if content_type == "text/event-stream":
                    state = {"last_id": None, "retry": None, "answered": False}  # type: Dict[str, Any]
                    if not self._read_request_stream(response, rid, state):
                        return  # kept open after the response: closed (the finally)
                    response.read()  # to its very end: only then can the connection carry another
                    reusable = not response.will_close
                    if rid is not None and not state["answered"] and not self._closed and rid not in self._cancelled:
                        self._resume(rid, state)
                    return
                data = read_body(response, _MAX_HTTP_MESSAGE)
                if len(data) > _MAX_HTTP_MESSAGE:
                    # Not read to its end: this connection cannot carry another request.
                    self._fail(rid, "the answer to request %r is larger than %d bytes" % (rid, _MAX_HTTP_MESSAGE))
                    return
                reusable = not response.will_close
                if self.tracer is not None and data:
                    self.tracer.body("<-", data)
            except Exception as exc:  # http.client fails oddly on a socket closed under it
                if rid is not None and not self._closed:
                    self._fail(rid, "the response to request %r broke off: %s" % (rid, exc))
                return
            if response.status == 202 or not data.strip():
                if rid is not None:
                    self._fail(rid, "HTTP %d with no response to request %r" % (response.status, rid))
                elif response.status >= 400:
                    _httpclient_log.warning("the server refused a message: HTTP %d", response.status)
                return
            try:
                message = decode(data)
            except MCPError:
                message = None
            if response.status >= 400 and not (isinstance(message, dict) and "error" in message):
                self._refused(rid, response, data, generation, body, headers, authorized_again)
                return
            if message is None:
                if rid is not None:
                    self._fail(rid, "HTTP %d with a body that is not JSON" % response.status)
                return
            if (rid is not None and isinstance(message, dict) and "error" in message
                    and message.get("id") is None):
                # An error the server could not tie to an id (404 "Session not found",
                # say) is this POST's answer all the same.
                message = dict(message, id=rid)
            self.on_message(message)
        finally:
            if rid is not None:
                with self._lock:
                    self._open.pop(rid, None)
                    self._cancelled.discard(rid)
            if reusable and not self._closed:
                self._give_back(conn)
            else:
                conn.close()

    def _refused(self, rid: Any, response: Any, text: bytes, generation: Any, body: bytes,
                 headers: Dict[str, str], authorized_again: bool) -> None:
        """An HTTP error status without a JSON-RPC error: the request fails at once with an
        HttpError - or, for a 401/403, the OAuth (if any) gets a say first (see recover)."""
        challenge = response.getheader("WWW-Authenticate")
        shown = text.decode("utf-8", "replace")[:1000]
        detail = challenge or " ".join(shown.split())[:200]
        said = _jsonrpc_error_said(text)  # a 401/403 comes here whatever its body: it may be JSON-RPC
        if said is not None:
            what, detail = "with the JSON-RPC error %s" % said, challenge or ""
        else:
            what = "with a body that is not JSON-RPC" if shown.strip() else "with no response to request %r" % (rid,)
        error = HttpError(response.status, "HTTP %d %s from %s%s" % (
            response.status, what, self.url, ": " + detail if detail else ""), challenge, shown)
        if rid is not None:
            if self._auth is not None and response.status in (401, 403):
                with self._lock:
                    self._refusals[rid] = generation
            self._fail(rid, error)
        elif (self._auth is not None and response.status in (401, 403) and not authorized_again
              and self._auth.recover(response.status, challenge, generation, 0)):
            # A notification (or our answer to the server) runs in its sender's thread:
            # authorize there, and send it once more.
            self._post(body, headers, None, authorized_again=True)
        else:
            _httpclient_log.warning("the server refused a message: %s", error.message)

    def _read_request_stream(self, response: Any, rid: Any, state: Dict[str, Any]) -> bool:
        """Read a request's SSE stream (its POST's, or a GET resuming it) until it ends: True.
        Once the response is in, only for ``_AFTER_ANSWER_GRACE`` more: False when the server
        kept the stream open longer (the connection is then unusable: its caller closes it)."""
        deadline = None  # type: Optional[float]
        events = _sse_iter(response, state, self.tracer)
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    response.close()  # (the connection may have handed its socket to the response)
                    return False
                response.mcplite_socket.settimeout(left)
            try:
                event, data, event_id = next(events)
            except StopIteration:
                return True
            except socket.timeout:
                if deadline is None:
                    raise  # the connection's own timeout: the request's caller hears of it
                response.close()
                return False
            message = self._on_event(event, data, event_id)
            if (deadline is None and isinstance(message, dict) and "method" not in message
                    and message.get("id") == rid and ("result" in message or "error" in message)):
                state["answered"] = True
                deadline = time.monotonic() + _AFTER_ANSWER_GRACE

    def _resume(self, rid: Any, state: Dict[str, Any]) -> None:
        """A request's stream ended before its response. In a session whose server numbers
        its events, come back for the rest with ``Last-Event-ID`` after the ``retry``
        delay it asked for ("the client SHOULD attempt to resume the stream");
        otherwise the request has failed."""
        if self.era == ERA_MODERN or self.session_id is None or state["last_id"] is None:
            self._fail(rid, "the server ended the response stream of request %r without answering it" % (rid,))
            return
        idle_rounds = 0
        while not self._closed and idle_rounds < 3:
            delay = min((state["retry"] if state["retry"] is not None else 1000) / 1000.0, 30.0)
            if self._closed_event.wait(delay):
                return
            before = state["last_id"]
            try:
                headers = self._get_headers()
            except TransportError as exc:  # no authorization for the GET: the request fails now
                self._cannot_send(rid, exc)
                return
            headers["Last-Event-ID"] = before
            conn = self._connect()
            with self._lock:
                self._open[rid] = conn
            try:
                response = _send_request(conn, "GET", self._path, None, headers, self.tracer,
                                          self.session_watches_requests)
                self._note_nonce(response)
                if response.status != 200:
                    response.read()
                    self._fail(rid, "cannot resume the stream of request %r: HTTP %d" % (rid, response.status))
                    return
                self._read_request_stream(response, rid, state)
            except TransportError as exc:  # the GET could not be written: it would not be the next time either
                self._cannot_send(rid, exc)
                return
            except Exception as exc:  # the server went away, or close() shut the socket
                if self._closed:
                    return
                _httpclient_log.debug("resuming request %r failed: %s", rid, exc)
            finally:
                with self._lock:
                    self._open.pop(rid, None)
                conn.close()
            if state["answered"]:
                return
            idle_rounds = idle_rounds + 1 if state["last_id"] == before else 0
        self._fail(rid, "the stream of request %r ended without its response, and resuming it brought nothing"
                   % (rid,))

    def _get_headers(self, method: str = "GET") -> Dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        headers.update(self._headers)
        self._authorize(headers, method)
        headers.update(self._get_headers_rest())
        return headers

    def _get_headers_rest(self) -> Dict[str, str]:
        headers = {}  # type: Dict[str, str]
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    def _on_event(self, event: str, data: str, event_id: Optional[str]) -> Any:
        if event != "message" or not data.strip():
            return None  # a priming event, or one of another type
        try:
            message = decode(data)
        except MCPError:
            _httpclient_log.warning("ignored an SSE event that is not JSON: %r", data[:200])
            return None
        self.on_message(message)
        return message

    def _fail(self, rid: Any, why: Any) -> None:
        """Fail a request here when the server will never answer it, so its caller does not
        wait out the timeout. ``why``: a sentence (the connection failed), or the
        ``TransportError`` to fail with."""
        if rid is not None and not self._closed:
            self.on_failure(rid, why if isinstance(why, TransportError) else ConnectionClosed(why))

    def recover(self, request_id: Any, error: BaseException, attempt: int) -> bool:
        """After a 401 or 403 (an ``HttpError``), the OAuth's turn: True when it got a new
        access token and the request may be sent again; it raises its own error when it
        cannot help with one it should have."""
        with self._lock:
            generation = self._refusals.pop(request_id, None)
        if not isinstance(error, HttpError) or error.status not in (401, 403) or self._auth is None or self._closed:
            return False
        return bool(self._auth.recover(error.status, error.www_authenticate, generation, attempt))

    def _listen_standalone(self, opened: threading.Event) -> None:
        """The GET stream of a legacy session: the server's requests and notifications. One
        the server ends (or a proxy's idle timeout) is opened again, after the ``retry``
        delay it asked for, with ``Last-Event-ID`` when it numbers its events - else all it
        sends outside a request would be lost from then on - for as long as the session
        lasts. After failures, less and less often, and not after five in a row; after
        streams that brought nothing, less and less often too (a server that ends each
        one at once is not asked every second)."""
        session = self.session_id
        state = {"last_id": None, "retry": None}  # type: Dict[str, Any]
        failures = quiet = 0
        while True:
            outcome = self._listen_once(opened, state)
            opened.set()
            if outcome == "refused" or self._closed or self.session_id != session:
                return  # no such stream, or the session (or the client) is over
            if outcome == "reauthorized":
                continue  # a new token: at once (recover bounds how often, max_authorizations)
            failures = failures + 1 if outcome == "failed" else 0
            quiet = quiet + 1 if outcome == "quiet" else 0
            if failures >= 5:
                _httpclient_log.warning("the session's GET stream failed %d times: given up", failures)
                return
            delay = (state["retry"] if state["retry"] is not None else 1000) / 1000.0
            if self._closed_event.wait(min(delay * 2 ** min(failures + quiet, 5), 30.0)):
                return

    def _listen_once(self, opened: threading.Event, state: Dict[str, Any]) -> str:
        """One GET stream, read to its end: "ended", "quiet" (ended without an event),
        "failed" (no connection, an error status), "reauthorized" (a 401 or 403 after which
        the OAuth has a new token) or "refused" (405, the server offers
        none; 404, the session is gone; no authorization for it)."""
        try:
            headers = {"Accept": "text/event-stream"}
            headers.update(self._headers)
            generation = self._authorize(headers, "GET")
            headers.update(self._get_headers_rest())
        except TransportError as exc:
            # The stream is the server's way to reach us, not a request of ours: without it
            # the session goes on (as with a server that offers none), and connecting is
            # not held up waiting for it.
            _httpclient_log.warning("no GET stream: %s", exc.message)
            return "refused"
        if state["last_id"] is not None:
            headers["Last-Event-ID"] = state["last_id"]
        conn = self._connect()
        self._get_connection = conn
        try:
            if self._closed:
                return "refused"
            # Connecting and writing within connect_timeout; the answer without a timeout
            # (watched: close() shuts the connection), as a stream may be quiet for a long time.
            response = _send_request(conn, "GET", self._path, None, headers, self.tracer, True)
            self._note_nonce(response)
            opened.set()
            if response.status != 200:
                response.read()
                if response.status in (401, 403) and self._auth is not None:
                    # The token expired while the stream was open (or a proxy ended it): the
                    # OAuth's say, as for a POST - else, with no request of ours to renew
                    # the token, every later GET would be refused and the stream given up.
                    state["reauthorized"] = state.get("reauthorized", 0) + 1
                    try:
                        if self._auth.recover(response.status, response.getheader("WWW-Authenticate"),
                                              generation, state["reauthorized"] - 1):
                            return "reauthorized"
                    except TransportError as exc:
                        _httpclient_log.warning("no GET stream: %s", exc.message)
                        return "refused"
                return "refused" if response.status in (404, 405) else "failed"
            state["reauthorized"] = 0
            events = 0
            for event, data, event_id in _sse_iter(response, state, self.tracer):
                events += 1
                self._on_event(event, data, event_id)
            return "ended" if events else "quiet"
        except Exception:  # closed under us (close()), or the server went away
            return "failed"
        finally:
            conn.close()

    def close(self) -> None:
        if self._closed:
            return
        with self._lock:
            self._closed = True
            self._carry_free.notify_all()  # the requests waiting for a connection give up
        self._closed_event.set()
        # The calls in flight end first: their connections are shut, and whoever waits is
        # told - not after the DELETE, which a hung server (when a client is closed) may
        # leave unanswered until connect_timeout.
        with self._lock:
            connections = self._idle + list(self._open.values())
            self._idle, self._open = [], {}
        if self._get_connection is not None:
            connections.append(self._get_connection)
        for conn in connections:
            _shut(conn)
            conn.close()
        self.on_close(ConnectionClosed("the client is closed"))
        with self._lock:
            get_threads, self._get_threads = self._get_threads, []
        for thread in get_threads:
            if thread is not threading.current_thread():
                thread.join(2.0)  # its connection was shut: it ends at once
        if self.session_id is not None and self.era == ERA_LEGACY:
            # "Clients that no longer need a particular session ... SHOULD send an HTTP
            # DELETE to the MCP endpoint with the Mcp-Session-Id header."
            deleting = None  # type: Optional[http.client.HTTPConnection]
            try:
                headers = self._get_headers("DELETE")
                del headers["Accept"]
                deleting = self._connect()
                _send_request(deleting, "DELETE", self._path, None, headers, self.tracer).read()
            except Exception as exc:  # unreachable, or no authorization for it: close all the same
                _httpclient_log.debug("the session's DELETE failed: %s", exc)
            finally:
                if deleting is not None:
                    deleting.close()
        self._pool.shutdown(2.0)


class LegacySseChannel(ClientChannel):
    """The 2024-11-05 HTTP+SSE transport: a GET stream carries everything the server
    sends; its first event, ``endpoint``, names the URL every client message is POSTed to."""

    def __init__(self, url: str, headers: Optional[Dict[str, str]] = None,
                 ssl_context: Optional[ssl.SSLContext] = None, connect_timeout: float = 30.0,
                 proxy: Optional[str] = None, auth: Any = None, max_streams: int = 32) -> None:
        super().__init__()
        self._server = _Endpoint(url, headers, ssl_context, connect_timeout, proxy)
        # The token the Streamable HTTP attempt got, if any, put on each request (with a
        # DPoP proof of its own when the token is DPoP-bound). An old server has no other
        # way to take part in OAuth: a 401 here is final.
        self._auth = auth
        self.url = url
        self.endpoint = None  # type: Optional[str]
        self._endpoint_url = None  # type: Optional[str]
        # POSTs: a request's on a worker, as a server may handle a message before it
        # answers its POST - the request's caller then waits with its own timeout, and
        # requests from several threads go at once; other messages on their senders' threads.
        self._lock = threading.Lock()
        self._idle_posts = []  # type: List[http.client.HTTPConnection]   # kept alive
        self._posting = {}  # type: Dict[Any, http.client.HTTPConnection]   # request id -> its POST's
        self._queued_posts = set()  # type: set   # ids of requests waiting for a worker
        self._post_pool = WorkerPool(max_streams, max_queued=1024, name="mcplite-client-sse-post")
        self._get_conn = None  # type: Optional[http.client.HTTPConnection]
        self._reader = None  # type: Optional[threading.Thread]
        self._closed = False

    def start(self, on_message: Callable[[Any], None], on_close: Callable[[BaseException], None],
              on_failure: Callable[[Any, BaseException], Any] = no_hook) -> None:
        super().start(on_message, on_close, on_failure)
        headers = {"Accept": "text/event-stream"}
        headers.update(self._server.headers)
        headers.update(self._authorization("GET", self.url))  # a TransportError before any connection
        conn = self._server.connect()
        self._get_conn = conn
        try:
            response = _send_request(conn, "GET", self._server.target, None, headers, self.tracer)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ConnectionClosed("cannot reach %s: %s" % (self.url, exc))
        except TransportError:
            conn.close()
            raise
        _note_dpop_nonce(self._auth, self.url, response)
        if response.status != 200:
            conn.close()
            raise ConnectionClosed("%s is neither a Streamable HTTP nor an HTTP+SSE endpoint (GET: HTTP %d)"
                                   % (self.url, response.status))
        events = _sse_iter(response, None, self.tracer)
        for event, data, _ in events:
            if event == "endpoint":
                endpoint = urllib.parse.urljoin(self.url, data.strip())
                ours, theirs = urllib.parse.urlsplit(self.url), urllib.parse.urlsplit(endpoint)
                if (ours.scheme, ours.netloc) != (theirs.scheme, theirs.netloc):
                    conn.close()
                    raise ConnectionClosed("the server's endpoint %r is on another origin" % endpoint)
                self.endpoint = self._server.target_of(_target(theirs))
                self._endpoint_url = endpoint
                break
        else:
            conn.close()
            raise ConnectionClosed("the SSE stream of %s ended before its endpoint event" % self.url)
        conn.timeout = None
        # The stream may be quiet for a long time. (Its socket: one that ends with the
        # connection took it from the connection - conn.sock is None then.)
        response.mcplite_socket.settimeout(None)
        self._reader = threading.Thread(target=self._read, args=(events,), name="mcplite-client-sse", daemon=True)
        self._reader.start()

    def _authorization(self, method: str, url: str) -> Dict[str, str]:
        """The OAuth's headers for one request (none without an OAuth or a token); an
        ``AuthorizationError`` when they cannot be made."""
        if self._auth is None:
            return {}
        return _auth_headers(self._auth, method, url)[1]

    def _read(self, events: Iterator[Tuple[str, str, Optional[str]]]) -> None:
        try:
            for event, data, _ in events:
                if event == "message" and data.strip():
                    try:
                        self.on_message(decode(data))
                    except MCPError:
                        _httpclient_log.warning("ignored an SSE event that is not JSON: %r", data[:200])
        except Exception:  # closed under us, or the server went away
            pass
        self.on_close(ConnectionClosed("the client is closed" if self._closed else "the server closed the SSE stream"))

    def send(self, message: Any) -> None:
        if self._closed or self.endpoint is None:
            raise ConnectionClosed("the client is closed")
        body = encode(message)
        if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
            cancelled = (message.get("params") or {}).get("requestId")
            with self._lock:
                conn = self._posting.pop(cancelled, None)
                unsent = cancelled in self._queued_posts
                self._queued_posts.discard(cancelled)
            if unsent:
                return  # it never reached the server: nothing to tell it
            if conn is not None:
                _shut(conn)  # a POST the server holds until the request is handled: ours ends now
        rid = readable_id(message) if isinstance(message, dict) and "method" in message else None
        if rid is None:
            self._post(body, None)  # a notification or an answer: a failure is the sender's
            return
        with self._lock:
            self._queued_posts.add(rid)
        if not self._post_pool.submit(lambda: self._post_request(body, rid)):
            with self._lock:
                self._queued_posts.discard(rid)
            raise TransportError("too many HTTP requests in progress")

    def _post_request(self, body: bytes, rid: Any) -> None:
        with self._lock:
            if rid not in self._queued_posts or self._closed:
                return  # cancelled (timed out) while it waited for a worker: never sent
            self._queued_posts.discard(rid)
        try:
            self._post(body, rid)
        except TransportError as exc:
            if not self._closed:
                self.on_failure(rid, exc)

    def _post(self, body: bytes, rid: Any) -> None:
        headers = {"Content-Type": "application/json"}
        headers.update(self._server.headers)
        headers.update(self._authorization("POST", self._endpoint_url or self.url))
        assert self.endpoint is not None
        for attempt in (1, 2):
            conn = None
            with self._lock:
                while self._idle_posts and conn is None:
                    conn = self._idle_posts.pop()
                    if _dropped(conn):
                        conn.close()
                        conn = None
                if rid is not None and conn is not None:
                    self._posting[rid] = conn
            kept = conn is not None
            if conn is None:
                conn = self._server.connect()
                if rid is not None:
                    with self._lock:
                        self._posting[rid] = conn
            try:
                # A request's answer comes on the GET stream, and its caller's timeout is
                # watched by its session: the POST may last as long as the server handles it.
                response = _send_request(conn, "POST", self.endpoint, body, headers, self.tracer, rid is not None)
                _note_dpop_nonce(self._auth, self.url, response)
                text = response.read()
                if self.tracer is not None and text:
                    self.tracer.body("<-", text)
            except TransportError:  # refused by http.client, not the network
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with self._lock:
                    given_up = self._closed or (rid is not None and self._posting.get(rid) is not conn)
                if given_up:
                    return  # we shut it: the request was cancelled, or the client closed
                if attempt == 1 and kept and isinstance(exc, _STALE_CONNECTION) and _unsent(exc):
                    continue  # a kept-alive connection the server had closed (see _STALE_CONNECTION)
                raise ConnectionClosed("cannot reach %s: %s" % (self.url, exc))
            finally:
                if rid is not None:
                    with self._lock:
                        if self._posting.get(rid) is conn:
                            del self._posting[rid]
            with self._lock:
                keep = not response.will_close and not self._closed and len(self._idle_posts) < 8
                if keep:
                    self._idle_posts.append(conn)
            if not keep:
                conn.close()
            if response.status >= 300:
                raise ConnectionClosed("the server refused a message: HTTP %d" % response.status)
            return

    def close(self) -> None:
        if self._closed:
            return
        with self._lock:
            self._closed = True
            connections = [self._get_conn] + self._idle_posts + list(self._posting.values())
            self._idle_posts, self._posting = [], {}
            self._queued_posts.clear()
        for conn in connections:
            if conn is not None:
                _shut(conn)
                conn.close()
        self._post_pool.shutdown(2.0)
        if self._reader is not None:
            self._reader.join(2.0)
