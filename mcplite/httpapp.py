"""Streamable HTTP, both eras, and the old HTTP+SSE transport: the protocol, not the server.

``McpHttpApp.handle`` takes one parsed HTTP request (method, target, lower-cased headers,
body) and returns what to answer: a status, headers and either a body or an SSE
``EventStream`` to copy to the client until it is done. It never touches a socket, so
``httpserver`` (on ``http.server``) is one front end and a WSGI adapter could be another.

What it decides, by the spec's rules:

* the era of each POST: a request carrying 2026-07-28's ``_meta`` (or a method only that
  era has, or a modern ``MCP-Protocol-Version`` header) is served statelessly with its
  headers checked against its body; anything else belongs to a legacy session opened by
  ``initialize`` and named by ``Mcp-Session-Id``;
* JSON or SSE: a request's response is one JSON body unless the handler sends something
  first (progress, a log message), in which case the response becomes an SSE stream;
* legacy streams are resumable: events carry ``<stream>.<n>`` ids, a bounded buffer keeps
  them, and a GET with ``Last-Event-ID`` replays the rest of that stream;
* Origin and Host checks, bearer tokens, body size, session count and idle expiry.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .auth import BearerAuth
from .connection import LEGACY, ServerConnection, has_modern_envelope
from .jsonrpc import (
    HEADER_MISMATCH, INTERNAL_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, NOTIFICATION, REQUEST, Message, classify,
    decode, encode_outgoing, error_response, readable_id, result_response,
)
from .errors import MCPError
from .logs import LazyLogger
from .loopback import is_loopback_host
from .protocol import (
    ASSUMED_HTTP_VERSION, MCP_NAME_PARAMS, MCP_NOTIFICATIONS, LEGACY_ONLY_METHODS, LEGACY_VERSIONS,
    META_PROTOCOL_VERSION, META_SUBSCRIPTION_ID, MODERN_ONLY_METHODS, MODERN_VERSIONS, SUPPORTED_VERSIONS, supports,
)
from .calls import Call, principal_identity
from .ports import Port
from .registry import SubscriptionListener
from .server import Server
from .sse import EventStream, sse_event
from .workers import WorkerPool

_http_log = LazyLogger("mcplite.http")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
_B64_PREFIX = "=?base64?"
_B64_SUFFIX = "?="

# 2026-07-28 errors that have their own HTTP status: a missing client capability and an
# unsupported version are "400 Bad Request", an unknown method "404 Not Found".
_MODERN_ERROR_STATUS = {-32021: 400, -32022: 400, -32020: 400, -32601: 404}



def _modern_status(response: Any) -> int:
    """The HTTP status of a 2026-07-28 JSON answer: 200, or the one its error code has."""
    if isinstance(response, dict) and "error" in response:
        return _MODERN_ERROR_STATUS.get(response["error"].get("code"), 200)
    return 200


JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"


class HttpRequest:
    """One HTTP request as the front end parsed it. ``headers`` has lower-case names;
    ``disconnected`` is a cheap probe telling whether the client has gone (a front end
    that cannot tell leaves the default); ``remote`` is the client's address, as the front
    end sees it (behind a proxy: the proxy's), or None when it does not know. ``watch`` is
    offered by a front end that can watch a call run on the thread that asked
    (``httpserver``'s): ``watch(call, begin, cancels)`` starts watching and returns a watch
    whose ``end()`` stops it, saying whether the front has meanwhile begun an SSE response:
    the call still running after ``stream_after`` seconds, it called ``begin()`` (None: JSON
    only), wrote the head of the response that returned (``watch.head``; None: the answer
    can no longer be a stream) with the events its stream held, and keep-alive comments after;
    the rest, from ``head.after``, is written once ``head`` is returned. A client that hangs up
    meanwhile makes ``watch.gone`` true, ``call.cancelled`` too when ``cancels``, and the front
    lets go of the stream (detached, ``on_close`` called). None: the front cannot, and such a
    call goes to the worker pool (``McpHttpApp._await`` watches)."""

    __slots__ = ("method", "path", "query", "headers", "body", "disconnected", "remote", "watch")

    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes = b"",
                 disconnected: Optional[Callable[[], bool]] = None, remote: Optional[str] = None,
                 watch: Optional[Callable[[Call, Optional[Callable[[], Optional["HttpResponse"]]], bool], Any]] = None
                 ) -> None:
        self.method = method
        self.remote = remote
        self.watch = watch
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.disconnected = disconnected or _never

    def query_value(self, *names: str) -> Optional[str]:
        for part in self.query.split("&"):
            key, _, value = part.partition("=")
            if key in names:
                return _percent_decode(value)
        return None


def _never() -> bool:
    return False


def _percent_decode(value: str) -> str:
    if "%" not in value and "+" not in value:
        return value
    from urllib.parse import unquote_plus
    return unquote_plus(value)


class HttpResponse:
    """What to answer. With ``stream`` set the body is that SSE stream, read from after
    event number ``after`` with this response as the stream's attached reader; the front
    end sends ``stream_prefix`` first, copies events until ``read`` says done, then calls
    ``stream.detach(response)`` and ``on_close(complete, last event number)`` (complete:
    the stream ended and every event was written). ``then`` runs once the response has been
    written, or failed to be: work whose output must not overtake this answer."""

    __slots__ = ("status", "headers", "body", "stream", "after", "on_close", "stream_prefix", "then")

    def __init__(self, status: int, headers: Optional[List[Tuple[str, str]]] = None, body: bytes = b"",
                 stream: Optional[EventStream] = None, after: int = -1,
                 on_close: Optional[Callable[[bool, int], None]] = None, stream_prefix: bytes = b"",
                 then: Optional[Callable[[], None]] = None) -> None:
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.stream = stream
        self.after = after
        self.on_close = on_close
        self.stream_prefix = stream_prefix  # bytes sent before the stream's own events
        self.then = then


def _json_response(status: int, message: Any, headers: Optional[List[Tuple[str, str]]] = None) -> HttpResponse:
    out = [("Content-Type", JSON_TYPE)]
    if headers:
        out.extend(headers)
    return HttpResponse(status, out, encode_outgoing(message))


def _error(status: int, code: int, message: str, rid: Any = None, data: Any = None,
           headers: Optional[List[Tuple[str, str]]] = None) -> HttpResponse:
    """An HTTP error whose body is a JSON-RPC error response (with ``"id": null`` when
    the request's id is unknown, as for every message mcplite cannot attribute)."""
    error = MCPError(code, message) if data is None else MCPError(code, message, data)
    return _json_response(status, error_response(rid, error), headers)


def _accepts(accept: str, wanted: str) -> bool:
    """Whether an Accept header admits a media type (wildcards included)."""
    major = wanted.split("/", 1)[0] + "/*"
    for part in accept.split(","):
        kind = part.split(";", 1)[0].strip().lower()
        if kind in (wanted, major, "*/*"):
            return True
    return False


def _decode_header_value(value: str) -> Optional[str]:
    """An Mcp-Name or Mcp-Param-* value, its Base64 sentinel decoded; None if malformed.
    "Servers MUST decode an encoded Mcp-Name or Mcp-Param-{Name} value before comparing
    it to the corresponding request body value"."""
    if value.startswith(_B64_PREFIX) and value.endswith(_B64_SUFFIX) and len(value) >= len(_B64_PREFIX) + 2:
        try:
            return base64.b64decode(value[len(_B64_PREFIX):-len(_B64_SUFFIX)], validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    # "Servers MUST reject requests with a recognized Mcp-Param-{Name} header that
    # contains invalid characters": visible ASCII, space and tab only.
    for ch in value:
        if not (" " <= ch <= "~" or ch == "\t"):
            return None
    return value


def _header_matches(decoded: str, value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) and decoded == ("true" if value else "false")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        try:
            # "servers SHOULD compare the header value and the body value numerically"
            return float(decoded) == float(value)
        except ValueError:
            return False
    return isinstance(value, str) and decoded == value


def _lookup(arguments: Any, path: Tuple[str, ...]) -> Any:
    node = arguments
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _host_name(host: str) -> str:
    """The name part of a Host value (``[::1]:8000`` -> ``[::1]``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin_host(origin: str) -> Optional[str]:
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    return _host_name(rest.split("/", 1)[0])


class PostExchange:
    """One POST carrying requests: where their response and the messages they send on
    the way go. Until something arrives, the answer's form is open; the first message
    that is not the final response turns it into an SSE stream ("The server MAY send
    JSON-RPC requests and notifications before sending the JSON-RPC response")."""

    def __init__(self, make_stream: Optional[Callable[[], EventStream]]) -> None:
        self._make_stream = make_stream  # None: JSON only, messages before the response are dropped
        self._cond = threading.Condition()
        self.stream = None  # type: Optional[EventStream]
        self.response = None  # type: Any
        self.done = False
        self.abandoned = False  # the client went away before the form was decided

    def deliver(self, message: Any) -> bool:
        """Queue a message on this POST's stream; False when it cannot go there."""
        with self._cond:
            if self.done or self.abandoned:
                return False
            if self.stream is None:
                if self._make_stream is None:
                    _http_log.debug("JSON-response mode: dropped %s", message.get("method"))
                    return False
                self.stream = self._make_stream()
                self._cond.notify_all()
            self.stream.push_message(message)
            return True

    def ensure_stream(self) -> Optional[EventStream]:
        """Make the answer an SSE stream now (None if it cannot be one)."""
        with self._cond:
            if self.stream is None and not (self.done or self.abandoned) and self._make_stream is not None:
                self.stream = self._make_stream()
                self._cond.notify_all()
            return self.stream

    def finish(self, response: Any) -> None:
        with self._cond:
            if self.done:
                # The first answer stands: a session closed (DELETE, expiry) finished it with
                # none while its call still ran, and what the call returns later is not sent.
                return
            self.done = True
            if self.stream is not None:
                if response is not None:
                    self.stream.push_message(response)
                self.stream.finish()
            else:
                self.response = response
            self._cond.notify_all()

    def abandon_if_undecided(self) -> bool:
        """The client left: if no answer has taken form yet, stop collecting one (True)."""
        with self._cond:
            if self.done or self.stream is not None:
                return False
            self.abandoned = True
            return True

    def wait(self, timeout: float) -> bool:
        """True once the answer's form is known (the response, or a stream)."""
        with self._cond:
            if self.done or self.stream is not None:
                return True
            self._cond.wait(timeout)
            return self.done or self.stream is not None


class _ExchangePort(Port):
    """The port of a 2026-07-28 request over HTTP: what its handler sends goes on its POST's
    answer (which then becomes an SSE stream), and nothing can come back but the next request.
    ``exchange`` is set only for a request served off the connection's thread (one that may
    send something before its answer: ``Server.sends_before_answer``): the others can send
    nothing."""

    def __init__(self, client: str) -> None:
        self.exchange = None  # type: Optional[PostExchange]
        self.client = client

    def emit(self, call: Any, message: Message) -> None:
        exchange = self.exchange
        if exchange is not None and not call.cancelled:
            exchange.deliver(message)


class HttpSession:
    """A legacy (``initialize``) session on the Streamable HTTP endpoint, of ``client`` (whom
    its per-client bound counts it for: the token's holder, or the remote address)."""

    def __init__(self, app: "McpHttpApp", session_id: str, client: str = "") -> None:
        self.id = session_id
        self.client = client
        self.app = app
        self.connection = ServerConnection(app.server, self.send, app.pool, close_stream=self.close_request_stream)
        self.connection.client = client
        # The connection's own thread is free to answer a request that runs no application
        # code (a list); a hand-off to a worker would only cost time. A tool that can send
        # nothing before its answer runs on it too where the front can watch it (serve_here,
        # McpHttpApp._session_watch); any other goes to a worker, so this thread can keep a
        # quiet answer alive (McpHttpApp._await).
        self.connection.inline_quick_requests = True
        self.lock = threading.Lock()
        self.exchanges = {}  # type: Dict[Any, PostExchange]   # request id -> its POST
        self.streams = OrderedDict()  # type: OrderedDict[str, EventStream]
        self.next_stream = 1
        # Server-initiated messages unrelated to a request wait here for a GET ("0" names it).
        self.standalone = EventStream("0", resumable=True, keep=app.replay_events)
        self.standalone_after = -1  # the last event a GET reader has taken
        self.last_active = time.monotonic()
        self.busy = 0  # requests and readers in progress: a busy session never expires
        self.closed = False

    @property
    def version(self) -> str:
        return self.connection.session.protocol_version or ASSUMED_HTTP_VERSION

    def send(self, message: Any, about: Any = None) -> None:
        """Where the server's messages go: those about a request onto its POST's exchange
        ("These messages SHOULD relate to the originating client request"), the rest onto
        the GET stream - exactly one stream either way."""
        if about is not None:
            if about.cancelled:
                return
            with self.lock:
                exchange = self.exchanges.get(about.request.id)
            if exchange is not None and (exchange.deliver(message) or not (
                    "id" in message or message.get("method") == "notifications/cancelled")):
                return
            # A request to the client that its POST cannot carry (JSON-response mode) goes
            # on the GET stream rather than being lost, and so does its cancellation.
        self.standalone.push_message(message)

    def close_request_stream(self, call: Call, retry_ms: Optional[int]) -> bool:
        """Close the connection carrying ``call``'s SSE stream, the stream itself going on:
        the client resumes it with a GET and ``Last-Event-ID`` (2025-11-25 polling)."""
        if not supports(self.version, "sse_polling"):
            return False  # older clients have no priming event id to resume from
        with self.lock:
            exchange = self.exchanges.get(call.request.id)
        if exchange is None:
            return False
        stream = exchange.ensure_stream()
        if stream is None:
            return False
        stream.close_connection(self.app.retry_ms if retry_ms is None else retry_ms)
        return True

    def new_stream(self) -> EventStream:
        with self.lock:
            stream_id = str(self.next_stream)
            self.next_stream += 1
            stream = EventStream(stream_id, resumable=True, keep=self.app.replay_events)
            self.streams[stream_id] = stream
            # Forget the oldest finished streams beyond the bound; a client that never
            # resumes them cannot make the session grow.
            finished = [sid for sid, s in self.streams.items() if s.finished and s.reader is None]
            for sid in finished[:max(0, len(finished) - self.app.kept_streams)]:
                del self.streams[sid]
        if supports(self.version, "sse_polling"):
            # Priming events only for clients that know them: "Older clients would crash
            # trying to parse empty data as JSON."
            stream.prime(self.app.retry_ms)
        return stream

    def touch(self, delta: int) -> None:
        with self.lock:
            self.busy += delta
            self.last_active = time.monotonic()

    def idle(self) -> bool:
        """Nothing in progress: no request, no stream being read, no question to the client
        waiting for its answer. Only such a session may be ended to make room."""
        with self.lock:
            if self.busy > 0 or self.exchanges:
                return False
        return not self.connection.in_progress() and len(self.connection.outgoing) == 0

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            streams = list(self.streams.values())
            exchanges = list(self.exchanges.values())
            self.exchanges.clear()
        self.connection.close()
        for stream in streams + [self.standalone]:
            stream.finish()
        for exchange in exchanges:
            exchange.finish(None)


class LegacySseSession:
    """A session of the 2024-11-05 HTTP+SSE transport: one GET stream carries everything
    the server sends; the client POSTs each message to the endpoint URL it was given."""

    def __init__(self, app: "McpHttpApp", session_id: str, client: str = "") -> None:
        self.id = session_id
        self.client = client
        self.stream = EventStream("sse", resumable=False, keep=app.replay_events)
        self.connection = ServerConnection(app.server, self.send, app.pool)
        self.connection.client = client
        self.last_active = time.monotonic()
        self.busy = 1  # lives exactly as long as its GET stream
        self.closed = False

    def idle(self) -> bool:
        return False  # its GET stream is open for as long as it lives

    def send(self, message: Any, about: Any = None) -> None:
        if about is not None and about.cancelled:
            return
        self.stream.push_message(message)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.connection.close()
            self.stream.finish()


def check_param_headers(header_params: Any, arguments: Any, headers: Any) -> None:
    """Raise a HEADER_MISMATCH MCPError unless each ``Mcp-Param-*`` header in ``headers``
    (lower-case names) matches the argument ``header_params`` (``header_parameters`` of the
    tool's input schema) ties it to, after decoding; a value in the body without its header
    is a mismatch too. Used by McpHttpApp for a Server's tools and by the bridge for the
    tools of the process behind it."""
    for path, name, kind in header_params:
        value = _lookup(arguments, path)
        raw = headers.get("mcp-param-" + name)
        if value is None:
            if raw is not None:
                raise MCPError(HEADER_MISMATCH, "Header mismatch: Mcp-Param-%s sent but %s is not in the "
                                                "arguments" % (name, ".".join(path)))
            continue
        if raw is None:
            raise MCPError(HEADER_MISMATCH, "Header mismatch: the Mcp-Param-%s header is required when %s is "
                                            "given" % (name, ".".join(path)))
        decoded = _decode_header_value(raw)
        if decoded is None or not _header_matches(decoded, value, kind):
            raise MCPError(HEADER_MISMATCH, "Header mismatch: Mcp-Param-%s header %r does not match the "
                                            "argument %s" % (name, raw, ".".join(path)))


class McpHttpApp:
    """The MCP endpoint of one ``Server`` over HTTP; see the module docstring.

    Options: ``path`` of the endpoint; ``json_response`` (never answer with SSE: messages a
    handler sends before its result are dropped); ``stateless`` (no legacy sessions: every
    POST stands alone, GET and DELETE are refused); ``allowed_hosts`` / ``allowed_origins``
    (default: loopback names only); ``auth`` (a ``BearerAuth``); ``max_body_bytes``;
    ``max_sessions`` and ``session_idle_timeout`` (seconds) bound the sessions kept, and
    ``max_sessions_per_client`` (default: a quarter of ``max_sessions``, at least 2) those of one client
    (the token's holder with ``auth``, else the remote address: behind a proxy, everyone).
    A full table, or a client at its bound, makes room by ending the least recently used
    *idle* session (nothing in progress); only when every session is busy is a new one
    refused (503, or 429 for the client at its bound); ``max_listeners_per_client`` bounds a
    client's open 2026-07-28 ``subscriptions/listen`` streams (each holds a connection; 429 beyond);
    ``retry_ms`` is the reconnection delay told to 2025-11-25 clients; ``replay_events``
    the events kept per stream for resumption; ``legacy_sse`` serves the 2024-11-05
    transport at ``/sse`` and ``/messages``; ``session_prefix`` starts every session id this
    app mints (``"a."``, say): a route token a load balancer in front of several instances
    sends each session's requests back to its instance by (the README's nginx and HAProxy
    snippets).
    """

    def __init__(self, server: Server, path: str = "/mcp", *, json_response: bool = False,
                 stateless: bool = False, allowed_hosts: Optional[Sequence[str]] = None,
                 allowed_origins: Optional[Sequence[str]] = None, auth: Optional[BearerAuth] = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_sessions: int = 1000,
                 max_sessions_per_client: Optional[int] = None, session_idle_timeout: float = 1800.0,
                 max_listeners_per_client: int = 16,
                 retry_ms: int = 1000, replay_events: int = 256,
                 kept_streams: int = 16, legacy_sse: bool = True, sse_path: str = "/sse",
                 messages_path: str = "/messages", max_workers: Optional[int] = None,
                 poll_interval: float = 0.25, session_prefix: str = "") -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        # A session id "MUST only contain visible ASCII characters (ranging from 0x21 to
        # 0x7E)": the prefix too, and short, so the id stays a header line a proxy keeps.
        if not isinstance(session_prefix, str) or len(session_prefix) > 64 or \
                any(not "\x21" <= ch <= "\x7e" for ch in session_prefix):
            raise ValueError("session_prefix must be at most 64 visible ASCII characters (0x21-0x7E)")
        self.session_prefix = session_prefix
        self.server = server
        # Serving starts: changes made from now on reach the other workers (a shared store).
        server.share_changes()
        self.path = path
        self.json_response = json_response
        self.stateless = stateless
        self.allowed_hosts = [h.lower() for h in allowed_hosts] if allowed_hosts is not None else None
        self.allowed_origins = [o.lower().rstrip("/") for o in allowed_origins] if allowed_origins is not None else None
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        if not isinstance(max_sessions, int) or max_sessions < 1:
            raise ValueError("max_sessions must be an integer >= 1")
        self.max_sessions = max_sessions
        if max_sessions_per_client is None:
            max_sessions_per_client = min(max_sessions, max(2, max_sessions // 4))
        if not isinstance(max_sessions_per_client, int) or max_sessions_per_client < 1:
            raise ValueError("max_sessions_per_client must be None or an integer >= 1")
        self.max_sessions_per_client = max_sessions_per_client
        if not isinstance(max_listeners_per_client, int) or max_listeners_per_client < 1:
            raise ValueError("max_listeners_per_client must be an integer >= 1")
        self.max_listeners_per_client = max_listeners_per_client
        self.session_idle_timeout = session_idle_timeout
        self.retry_ms = retry_ms
        self.replay_events = replay_events
        self.kept_streams = kept_streams
        self.legacy_sse = legacy_sse
        self.sse_path = sse_path
        self.messages_path = messages_path
        self.poll_interval = poll_interval
        # Seconds a POST's answer may stay undecided (nothing written) before it becomes an
        # SSE stream of keep-alive comments: the front's keepalive_interval, which sets it.
        self.stream_after = 15.0
        self.pool = WorkerPool(max_workers or server.max_workers, name="mcplite-http-worker")
        self._sessions = {}  # type: Dict[str, Any]
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()
        self._listeners = {}  # type: Dict[SubscriptionListener, EventStream]   # open listen streams
        self._listening = {}  # type: Dict[str, int]   # open listen streams by client (_client_key)
        self._metadata_paths = auth.metadata_paths(path) if auth is not None else ()
        self.closed = False

    # -- entry point ----------------------------------------------------------------

    def handle(self, request: HttpRequest) -> Optional[HttpResponse]:
        """The answer to one request; None to close the connection without one (the
        client has gone)."""
        try:
            response = self._handle(request)
        except Exception:
            _http_log.exception("internal error while handling %s %s", request.method, request.path)
            response = _error(500, INTERNAL_ERROR, "Internal error")
        if response is not None and self._cors_granted(request.headers):
            _grant_cors(response, request.headers["origin"])
        return response

    def _cors_granted(self, fields: Dict[str, str]) -> bool:
        """Whether a browser page may read the answer: its Origin is one this server accepts
        (the same test that refuses the others with 403)."""
        origin = fields.get("origin")
        return origin is not None and self._host_allowed(fields.get("host")) and self._origin_allowed(origin)

    def cors_headers(self, fields: Dict[str, str]) -> List[Tuple[str, str]]:
        """The CORS grant for an answer the front end makes itself (413, 400, 431...) to a
        request with these header fields (lower-case names): the page of an accepted Origin
        then reads the status, not an opaque network error. None for other requests."""
        return _cors_grant_headers(fields["origin"]) if self._cors_granted(fields) else []

    def _handle(self, req: HttpRequest) -> Optional[HttpResponse]:
        self._maybe_sweep()
        # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends
        # its own Host and Origin; neither is one of ours.
        if not self._host_allowed(req.headers.get("host")):
            return _error(421, INVALID_REQUEST, "Misdirected request: Host header not allowed")
        origin = req.headers.get("origin")
        if origin is not None and not self._origin_allowed(origin):
            # "If the Origin header is present and invalid, servers MUST respond with HTTP
            # 403 Forbidden."
            return _error(403, INVALID_REQUEST, "Forbidden: Origin not allowed")
        path = req.path
        if req.method == "OPTIONS" and origin is not None and "access-control-request-method" in req.headers and \
                (path in self._metadata_paths or path in (self.path, self.sse_path, self.messages_path)):
            # A browser's CORS preflight, before any POST with JSON or an Mcp-* header: it
            # carries no credentials, so it is answered before auth (handle() adds the grant).
            requested = req.headers.get("access-control-request-headers", "")
            allowed = list(_CORS_ALLOW_HEADERS)
            for name in requested.split(","):
                name = name.strip()
                if name and name.lower() not in (known.lower() for known in allowed):
                    allowed.append(name)  # Mcp-Param-* names come from the tools' schemas
            return HttpResponse(200, [("Access-Control-Allow-Methods", "GET, POST, DELETE"),
                                      ("Access-Control-Allow-Headers", ", ".join(allowed)),
                                      ("Access-Control-Max-Age", "600")])
        if path in self._metadata_paths:
            if req.method not in ("GET", "HEAD"):
                return HttpResponse(405, [("Allow", "GET")])
            return _json_response(200, self.auth.metadata() if self.auth else {},
                                  [("Access-Control-Allow-Origin", "*")])
        if path == self.path:
            endpoint = self._mcp_endpoint
        elif self.legacy_sse and path == self.sse_path:
            endpoint = self._legacy_sse_get
        elif self.legacy_sse and path == self.messages_path:
            endpoint = self._legacy_sse_post
        else:
            return _error(404, INVALID_REQUEST, "Not found: the MCP endpoint is %s" % self.path)
        principal = None
        if self.auth is not None:
            status, headers, message, principal = self.auth.check(req.headers.get("authorization"), self.path)
            if status:
                return _error(status, INVALID_REQUEST, message, headers=headers)
        return endpoint(req, principal)

    # -- security ------------------------------------------------------------------------

    def _host_allowed(self, host: Optional[str]) -> bool:
        if host is None:
            return False  # HTTP/1.1 requires Host
        if self.allowed_hosts is None:
            return is_loopback_host(_host_name(host))
        host = host.strip().lower()
        for allowed in self.allowed_hosts:
            if allowed == "*" or allowed == host:
                return True
            if allowed.endswith(":*") and _host_name(host) == allowed[:-2]:
                return True
            if ":" not in allowed.replace("[::1]", "") and _host_name(host) == allowed:
                return True
        return False

    def _origin_allowed(self, origin: str) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if self.allowed_origins is None:
            found = _origin_host(origin)
            return found is not None and is_loopback_host(found)
        return "*" in self.allowed_origins or origin in self.allowed_origins

    # -- the MCP endpoint ------------------------------------------------------------------

    def _mcp_endpoint(self, req: HttpRequest, principal: Any) -> Optional[HttpResponse]:
        if req.method == "POST":
            return self._post(req, principal)
        modern = req.headers.get("mcp-protocol-version") in MODERN_VERSIONS
        if req.method == "GET" and not (modern or self.stateless):
            return self._get(req)
        if req.method == "DELETE" and not (modern or self.stateless):
            return self._delete(req)
        # 2026-07-28: "HTTP GET or DELETE to the MCP endpoint: respond with 405 Method Not
        # Allowed"; a stateless server has no GET stream or session to delete either.
        allow = "POST" if (modern or self.stateless) else "GET, POST, DELETE"
        return _error(405, INVALID_REQUEST, "Method not allowed", headers=[("Allow", allow)])

    def _post(self, req: HttpRequest, principal: Any) -> Optional[HttpResponse]:
        content_type = req.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != JSON_TYPE:
            return _error(415, INVALID_REQUEST, "Unsupported Media Type: send Content-Type: application/json")
        accept = req.headers.get("accept", "")
        # "The client MUST include an Accept header, listing both application/json and
        # text/event-stream as supported content types."
        if not _accepts(accept, JSON_TYPE) or not (self.json_response or _accepts(accept, SSE_TYPE)):
            return _error(406, INVALID_REQUEST, "Not Acceptable: send Accept: application/json"
                          + ("" if self.json_response else ", text/event-stream (the client must accept both)"))
        message = self._decode_body(req)
        if isinstance(message, HttpResponse):
            return message
        if isinstance(message, dict) and self._is_modern(req, message):
            return self._modern_post(req, message, principal)
        return self._legacy_post(req, message, principal)

    def _decode_body(self, req: HttpRequest) -> Any:
        """The POSTed JSON, or the error response for a body too large or not JSON."""
        if len(req.body) > self.max_body_bytes:
            return _error(413, INVALID_REQUEST, "Payload Too Large: the limit is %d bytes" % self.max_body_bytes)
        try:
            return decode(req.body)
        except MCPError as exc:
            return _error(400, exc.code, exc.message)

    @staticmethod
    def _is_modern(req: HttpRequest, message: Message) -> bool:
        if req.headers.get("mcp-protocol-version") in MODERN_VERSIONS:
            return True
        method = message.get("method")
        if method == "initialize":
            return False
        # A method that is not a string (a list, an object: unhashable) is refused later as
        # an invalid request, whichever era it is read in.
        return has_modern_envelope(message.get("params")) or (isinstance(method, str) and method in MODERN_ONLY_METHODS)

    # -- 2026-07-28: stateless requests ---------------------------------------------------

    def _modern_post(self, req: HttpRequest, message: Message, principal: Any) -> Optional[HttpResponse]:
        try:
            kind = classify(message)
        except MCPError as exc:
            return _error(400, exc.code, exc.message, readable_id(message))
        if kind is NOTIFICATION:
            # Nothing MCP's own notifications ask for is needed over HTTP in this era (closing
            # the stream is the cancellation): accepted and ignored, as notifications are -
            # unless the application handles it (@app.notification).
            method = message["method"]
            if method not in MCP_NOTIFICATIONS:
                self.server.handle_notification(method, message.get("params"))
            return HttpResponse(202)
        if kind is not REQUEST:
            # "The client MUST NOT send JSON-RPC responses."
            return _error(400, INVALID_REQUEST, "Invalid Request: a 2026-07-28 client does not send responses")
        rid = message["id"]
        if message["method"] in LEGACY_ONLY_METHODS:
            # initialize, ping, logging/setLevel... sent the modern way: "If the server does
            # not implement the requested RPC method, it MUST respond with 404 Not Found".
            return _json_response(404, error_response(rid, MCPError(
                METHOD_NOT_FOUND, "Method not found: %s is not part of protocol %s"
                % (message["method"], ", ".join(MODERN_VERSIONS)))))
        port = _ExchangePort(_client_key(req, principal))
        try:
            self._check_modern_headers(req, message)
            call = self.server.begin_call(message, port, None, True, SUPPORTED_VERSIONS, req.headers, principal)
            self._check_param_headers(req, call)
        except MCPError as exc:
            # "If the server does not implement the requested RPC method, it MUST respond
            # with 404 Not Found and a JSON-RPC error with code -32601."
            status = 404 if exc.code == METHOD_NOT_FOUND else 400
            return _json_response(status, error_response(rid, exc))
        if call.request.method == "subscriptions/listen":
            return self._listen(call, port.client)
        if req.watch is not None and self.server.serves_watched(call):
            # Nothing can come before the response (no Context, or a request that asked for
            # neither progress nor logs: a gateway's forwarded call, mostly), but it may take
            # any time (a tool declared inline=True too): served here, on the connection's
            # thread (a hand-off to a worker and back costs more than a quick tool takes),
            # while the front keeps a quiet answer alive and sees a hang-up (ctx.cancelled).
            return self._watched(req, call, req.watch)
        if self.server.answers_at_once(call):
            # No application code (a list), or a tool declared quick: nothing can come
            # before the response and it comes at once, so serve it right here, on the
            # connection's thread.
            response = self.server.handle_request(call)
            return _json_response(_modern_status(response), response)
        exchange = port.exchange = PostExchange(
            None if self.json_response else (lambda: EventStream("r", keep=self.replay_events)))

        def job() -> None:
            exchange.finish(self.server.handle_request(call))
        if not self.pool.submit(job):
            return _error(503, INTERNAL_ERROR, "Server busy: too many requests in progress", rid)
        if not self._await(req, exchange):
            # "Closing the SSE response stream MUST be treated by the server as
            # cancellation of that request."
            call.cancelled = True
            return None
        return self._exchange_response(req, exchange, call, None)

    def _watched(self, req: HttpRequest, call: Call,
                 watch: Callable[[Call, Optional[Callable[[], Optional[HttpResponse]]], bool], Any]
                 ) -> Optional[HttpResponse]:
        """Serve ``call`` (whose handler can send nothing before its response) on this
        thread, the front watching it (``HttpRequest.watch``): an answer still undecided after
        ``stream_after`` seconds becomes an SSE stream there, as ``_await`` makes it for a
        call on the pool, and the response is then that stream's one event."""
        def begin() -> HttpResponse:
            return _attached(self._granted_now(req, HttpResponse(200, _sse_headers(), stream=EventStream(
                "r", keep=self.replay_events))))
        # (_post checked that the client accepts SSE)
        watched = watch(call, None if self.json_response else begin, True)
        try:
            response = self.server.handle_request(call)
        finally:
            streamed = watched.end()
        if call.cancelled:
            # "Closing the SSE response stream MUST be treated by the server as
            # cancellation of that request": the client went while it ran.
            return None
        head = watched.head  # type: Optional[HttpResponse]
        if not streamed or head is None or head.stream is None:
            return _json_response(_modern_status(response), response)
        head.stream.push_message(response)
        head.stream.finish()
        return head

    def _granted_now(self, req: HttpRequest, head: HttpResponse) -> HttpResponse:
        """``head``, an SSE response the front begins while its call runs (``HttpRequest.watch``),
        granted CORS now: the front writes it before handle() could grant it (handle() sees
        that it is)."""
        if self._cors_granted(req.headers):
            _grant_cors(head, req.headers["origin"])
        return head

    def _check_modern_headers(self, req: HttpRequest, message: Message) -> None:
        headers = req.headers
        meta = message.get("params", {}).get("_meta") if isinstance(message.get("params"), dict) else None
        body_version = meta.get(META_PROTOCOL_VERSION) if isinstance(meta, dict) else None
        header_version = headers.get("mcp-protocol-version")
        if body_version is not None and header_version != body_version:
            # "The header value MUST match the io.modelcontextprotocol/protocolVersion
            # field ... If the values do not match, the server MUST reject the request with
            # 400 Bad Request and a HeaderMismatch JSON-RPC error."
            if header_version is None:
                raise MCPError(HEADER_MISMATCH, "Header mismatch: the MCP-Protocol-Version header is required "
                                                "(the body's protocol version is %r)" % (body_version,))
            raise MCPError(HEADER_MISMATCH, "Header mismatch: MCP-Protocol-Version header %r does not match "
                                            "the body's protocol version %r" % (header_version, body_version))
        method = message["method"]
        header_method = headers.get("mcp-method")
        if header_method is None:
            raise MCPError(HEADER_MISMATCH, "Header mismatch: the Mcp-Method header is required (the body's "
                                            "method is %r)" % (method,))
        if header_method != method:
            raise MCPError(HEADER_MISMATCH, "Header mismatch: Mcp-Method header %r does not match the body's "
                                            "method %r" % (header_method, method))
        key = MCP_NAME_PARAMS.get(method)
        if key is not None:
            params = message.get("params")
            value = params.get(key) if isinstance(params, dict) else None
            raw = headers.get("mcp-name")
            if raw is None:
                raise MCPError(HEADER_MISMATCH, "Header mismatch: the Mcp-Name header is required for %s" % method)
            decoded = _decode_header_value(raw)
            if decoded is None or decoded != value:
                raise MCPError(HEADER_MISMATCH, "Header mismatch: Mcp-Name header %r does not match the body's "
                                                "%s %r" % (raw, key, value))

    def _check_param_headers(self, req: HttpRequest, call: Call) -> None:
        """``Mcp-Param-*`` headers against the tool's ``x-mcp-header`` parameters: "Any
        server that processes the message body MUST validate that encoded header values,
        after decoding if Base64-encoded, match the corresponding values in the request
        body"; a value in the body without its header is a mismatch too."""
        if call.request.method != "tools/call":
            return
        tool = self.server.find_tool(call.request.params.get("name"))
        if tool is None or not tool.header_params:
            return
        check_param_headers(tool.header_params, call.request.params.get("arguments"), req.headers)

    def _listen(self, call: Call, client: str) -> HttpResponse:
        """``subscriptions/listen``: an SSE stream that stays open, acknowledged first,
        then the change notifications the client asked for. Each holds a connection for
        as long as the client likes, so one client's are bounded (``max_listeners_per_client``):
        it cannot take every connection the server has."""
        stream = EventStream("listen", keep=self.replay_events)
        try:
            listener = SubscriptionListener(call.request.id, call.request.params, stream.push_message, client)
        except MCPError as exc:
            return _json_response(400, error_response(call.request.id, exc))
        with self._lock:
            if self._listening.get(client, 0) >= self.max_listeners_per_client:
                return _error(429, INTERNAL_ERROR, "Too many subscriptions/listen streams: this client has %d open "
                                                   "(the limit); close one first" % self.max_listeners_per_client,
                              call.request.id, headers=[("Retry-After", "1")])
            self._listening[client] = self._listening.get(client, 0) + 1
            self._listeners[listener] = stream

        def closed(complete: bool, last: int) -> None:
            self.server.remove_listener(listener)
            with self._lock:
                if self._listeners.pop(listener, None) is not None:
                    left = self._listening.get(client, 1) - 1
                    if left > 0:
                        self._listening[client] = left
                    else:
                        self._listening.pop(client, None)
        try:
            self.server.screen_listener(listener)
            listener.acknowledge()
            self.server.add_listener(listener)
        except BaseException:
            # What the screen reserved for it (a mount's share of upstream subscriptions), and
            # its place among the client's streams, are given back: a stream never opened
            # holds nothing.
            closed(False, 0)
            raise
        return _attached(HttpResponse(200, _sse_headers(), stream=stream, on_close=closed))

    # -- legacy sessions --------------------------------------------------------------------

    def _legacy_post(self, req: HttpRequest, message: Any, principal: Any) -> Optional[HttpResponse]:
        header_version = req.headers.get("mcp-protocol-version")
        if header_version is not None and header_version not in LEGACY_VERSIONS:
            # "If the server receives a request with an invalid or unsupported
            # MCP-Protocol-Version, it MUST respond with 400 Bad Request."
            return _error(400, INVALID_REQUEST, "Bad Request: unsupported MCP-Protocol-Version %r (supported: %s)"
                          % (header_version, ", ".join(SUPPORTED_VERSIONS)))
        initializing = isinstance(message, dict) and message.get("method") == "initialize" and "id" in message
        created = False
        if self.stateless:
            session = self._ephemeral_session(None if initializing else (header_version or ASSUMED_HTTP_VERSION))
        elif initializing:
            made = self._create_session(_client_key(req, principal))
            if isinstance(made, HttpResponse):
                return made
            session = made
            created = True
        else:
            found = self._session_for(req, readable_id(message) if isinstance(message, dict) else None)
            if isinstance(found, HttpResponse):
                return found
            session = found
        ids = _request_ids(message)
        session.touch(1)
        try:
            if not ids:
                replies = []  # type: List[Any]
                session.connection.receive(message, replies.append, req.headers, principal)
                errors = [r for r in replies if r is not None]
                if errors:
                    # "If the server cannot accept the input, it MUST return an HTTP error
                    # status code (e.g., 400 Bad Request)."
                    return _json_response(400, errors[0], self._session_header(session))
                # "If the server accepts the input, the server MUST return HTTP status code
                # 202 Accepted with no body."
                return HttpResponse(202, self._session_header(session))
            exchange = PostExchange(None if self.json_response else session.new_stream)
            with session.lock:
                clash = [i for i in ids if i in session.exchanges]
                if not clash:
                    for i in ids:
                        session.exchanges[i] = exchange
            if clash:
                return _error(400, INVALID_REQUEST, "Invalid Request: id %r is already in use by a request in "
                                                    "progress" % (clash[0],), clash[0])

            def finish(response: Any) -> None:
                with session.lock:
                    for i in ids:
                        if session.exchanges.get(i) is exchange:
                            del session.exchanges[i]
                exchange.finish(response)
            serve_here, watching = self._session_watch(req, message, exchange, session)
            session.connection.receive(message, finish, req.headers, principal, serve_here)
            if watching:
                # Served on this thread, watched (the answer is settled: finish has run).
                watched = watching[0]
                if watched.gone:
                    # "Disconnection SHOULD NOT be interpreted as the client cancelling its
                    # request": it ran to its end; a stream begun keeps its answer for a
                    # resumption (a GET with Last-Event-ID), as on the pool.
                    return None
                if watched.streamed and watched.head is not None:
                    return watched.head  # the front writes the rest of its stream
                return self._exchange_response(req, exchange, None, session)
            if not self._await(req, exchange):
                # "Disconnection SHOULD NOT be interpreted as the client cancelling its
                # request": it runs on; what it sends waits on its stream for a resumption.
                return None
            if created:
                response = exchange.response
                if not (isinstance(response, dict) and "result" in response):
                    session.close()
                    created = False
                    return _json_response(200 if readable_id(response) is not None else 400, response)
                self._register(session)
                created = False
            return self._exchange_response(req, exchange, None, session)
        finally:
            session.touch(-1)
            if created:
                session.close()

    def _session_watch(self, req: HttpRequest, message: Any, exchange: PostExchange, session: HttpSession
                       ) -> Tuple[Optional[Callable[[Call, Callable[[], Any]], Any]], List[Any]]:
        """What lets a session's request be served on this thread, watched by the front, when
        the connection finds that it may be (``Server.serves_watched``): ``serve_here`` for
        ``ServerConnection.receive`` (None: the front cannot watch, or the POST is a batch),
        and the list that then holds the watch. Should the answer still be undecided after
        ``stream_after`` seconds, the front begins the very stream the pool's path would
        (``session.new_stream``: resumable, primed for a 2025-11-25 client), through the
        exchange, so what follows - the response pushed by ``finish``, a resumption - is the
        same."""
        watch = req.watch
        watching = []  # type: List[Any]
        if watch is None or isinstance(message, list):
            return None, watching

        # (type comments: annotations of a nested def would be built at each request)
        def begin():  # type: () -> Optional[HttpResponse]
            if exchange.ensure_stream() is None:
                return None  # answered already: JSON
            return self._granted_now(req, self._exchange_response(req, exchange, None, session))

        def serve_here(call, run):  # type: (Call, Callable[[], Any]) -> Any
            # A hang-up does not cancel it (False): see _legacy_post.
            watched = watch(call, None if self.json_response else begin, False)  # type: ignore[misc]
            watching.append(watched)
            try:
                return run()
            finally:
                watched.end()
        return serve_here, watching

    def _session_for(self, req: HttpRequest, rid: Any = None) -> Any:
        session_id = req.headers.get("mcp-session-id")
        if session_id is None:
            # "Servers that require a session ID SHOULD respond to requests without an
            # MCP-Session-Id header (other than initialization) with HTTP 400 Bad Request."
            # Said with what to send instead: the curl request most tutorials show meets this first.
            return _error(400, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required: send initialize "
                          "first and repeat the Mcp-Session-Id header of its response, or make it a %s request "
                          "(MCP-Protocol-Version and Mcp-Method headers, the version in params._meta)"
                          % MODERN_VERSIONS[-1], rid)
        with self._lock:
            session = self._sessions.get(session_id)
        if not isinstance(session, HttpSession) or session.closed:
            # "The server ... MUST respond to requests containing that session ID with HTTP
            # 404 Not Found."
            return _error(404, INVALID_REQUEST, "Session not found", rid)
        return session

    @staticmethod
    def _session_header(session: Any) -> List[Tuple[str, str]]:
        return [("Mcp-Session-Id", session.id)] if isinstance(session, HttpSession) and session.id else []

    def _ephemeral_session(self, version: Optional[str]) -> HttpSession:
        """Stateless mode: a session for one POST. A request that is not initialize finds
        it already initialized at the version the header names."""
        session = HttpSession(self, "")
        session.connection.stateful = False
        if version is not None:
            state = session.connection.session
            state.protocol_version = version
            state.initialized = True
            session.connection.era = LEGACY
        return session

    def _create_session(self, client: str) -> Any:
        """A new session for ``client``, or the HttpResponse refusing it (see ``_make_room``)."""
        with self._lock:
            refused, victim = self._make_room(client)
            # "The session ID SHOULD be globally unique and cryptographically secure" and
            # "MUST only contain visible ASCII characters": 32 hex digits.
            session = None if refused is not None else HttpSession(self, self.session_prefix + secrets.token_hex(16),
                                                                   client)
        self._end_evicted(victim)
        return refused if session is None else session

    def _make_room(self, client: str) -> Tuple[Optional[HttpResponse], Any]:
        """Room in the table for one more session of ``client`` (under ``_lock``): (the
        refusal, or None; the session ended to make room, or None). A bound must not become
        a lockout: rather than refuse everyone while the table is full (until its sessions
        idle out), the least recently used idle session goes - its client gets 404 on its
        next request and starts a new one, as the spec provides. A client at its own bound
        gives up one of its own, so one client cannot hold the table."""
        mine = [s for s in self._sessions.values() if s.client == client]
        if len(mine) >= self.max_sessions_per_client:
            victim = _least_recently_used_idle(mine)
            if victim is None:
                return _error(429, INTERNAL_ERROR, "Too many sessions: this client has %d, all busy (the limit); end "
                                                   "one (DELETE) or try again later" % len(mine),
                              headers=[("Retry-After", "1")]), None
        elif len(self._sessions) >= self.max_sessions:
            self._sweep_locked(time.monotonic())
            if len(self._sessions) < self.max_sessions:
                return None, None
            victim = _least_recently_used_idle(list(self._sessions.values()))
            if victim is None:
                return _error(503, INTERNAL_ERROR, "Service unavailable: all %d sessions are busy; try again "
                                                   "shortly" % len(self._sessions),
                              headers=[("Retry-After", "1")]), None
        else:
            return None, None
        del self._sessions[victim.id]
        return None, victim

    @staticmethod
    def _end_evicted(victim: Any) -> None:
        if victim is not None:
            _http_log.info("session %s ended to make room (idle %.0f s)", victim.id[:8],
                           time.monotonic() - victim.last_active)
            victim.close()

    def _register(self, session: Any) -> None:
        with self._lock:
            self._sessions[session.id] = session

    def _await(self, req: HttpRequest, exchange: PostExchange) -> bool:
        """Wait until the exchange's answer takes form; False if the client went away. An
        answer still undecided after ``stream_after`` seconds becomes an SSE stream (when the
        client accepts one), so that the front writes its head now and a keep-alive comment
        every ``keepalive_interval`` seconds after: a proxy between (nginx's
        ``proxy_read_timeout``, 60 s by default, bounds the wait for the head as much as each
        gap after it) would otherwise cut a call that says nothing for longer with a 504,
        and a client that has gone is found by the next write."""
        deadline = time.monotonic() + self.stream_after
        while not exchange.wait(self.poll_interval):
            if req.disconnected() and exchange.abandon_if_undecided():
                return False
            if time.monotonic() >= deadline and exchange.ensure_stream() is not None:
                return True
        return True

    def _exchange_response(self, req: HttpRequest, exchange: PostExchange, call: Optional[Call],
                           session: Optional[HttpSession]) -> HttpResponse:
        headers = self._session_header(session)
        stream = exchange.stream
        if stream is None:
            response = exchange.response
            if response is None:
                # Cancelled: the request gets no response, so the POST gets no body.
                return HttpResponse(202, headers)
            status = _modern_status(response) if call is not None else 200
            return _json_response(status, response, headers)
        if session is not None:
            session.touch(1)

        def closed(complete: bool, last: int) -> None:
            if session is not None:
                session.touch(-1)
                if complete:
                    with session.lock:
                        session.streams.pop(stream.stream_id, None)
            elif call is not None and not complete:
                call.cancelled = True
        return _attached(HttpResponse(200, headers + _sse_headers(), stream=stream, on_close=closed))

    def _get(self, req: HttpRequest) -> HttpResponse:
        if not _accepts(req.headers.get("accept", ""), SSE_TYPE):
            return _error(406, INVALID_REQUEST, "Not Acceptable: a GET opens an event stream: send Accept: "
                                                "text/event-stream")
        found = self._session_for(req)
        if isinstance(found, HttpResponse):
            return found
        session = found  # type: HttpSession
        last_event = req.headers.get("last-event-id")
        stream = None  # type: Optional[EventStream]
        after = -1
        if last_event:
            stream_id, _, seq = last_event.strip().rpartition(".")
            with session.lock:
                stream = session.standalone if stream_id == "0" else session.streams.get(stream_id)
            try:
                after = int(seq)
            except ValueError:
                stream = None
            if stream is None:
                # "The server MUST NOT replay messages that would have been delivered on a
                # different stream": an id we cannot place replays nothing.
                # Not 404: that status tells the client its session is gone and it must
                # initialize again, while the session is alive (the stream ended or was
                # forgotten, the id is foreign).
                return _error(400, INVALID_REQUEST, "Bad Request: no stream to resume for Last-Event-ID %r"
                              % last_event, headers=self._session_header(session))
        else:
            stream = session.standalone
            after = session.standalone_after
        standalone = stream is session.standalone
        response = HttpResponse(200, self._session_header(session) + _sse_headers(), stream=stream, after=after)
        if not stream.attach(response):
            # One reader per stream: each message goes to exactly one place.
            return _error(409, INVALID_REQUEST, "Conflict: this stream already has a reader",
                          headers=self._session_header(session))
        if standalone and not last_event and supports(session.version, "sse_polling"):
            stream.prime(self.retry_ms)
        session.touch(1)

        def closed(complete: bool, last: int) -> None:
            session.touch(-1)
            if standalone:
                with session.lock:
                    session.standalone_after = max(session.standalone_after, last)
            elif complete:
                with session.lock:
                    session.streams.pop(stream.stream_id, None)
        response.on_close = closed
        return response

    def _delete(self, req: HttpRequest) -> HttpResponse:
        found = self._session_for(req)
        if isinstance(found, HttpResponse):
            return found
        with self._lock:
            self._sessions.pop(found.id, None)
        found.close()
        return HttpResponse(200)

    # -- the 2024-11-05 HTTP+SSE transport -----------------------------------------------

    def _legacy_sse_get(self, req: HttpRequest, principal: Any) -> HttpResponse:
        if req.method != "GET":
            return _error(405, INVALID_REQUEST, "Method not allowed", headers=[("Allow", "GET")])
        client = _client_key(req, principal)
        with self._lock:
            refused, victim = self._make_room(client)
            if refused is None:
                session = LegacySseSession(self, self.session_prefix + secrets.token_hex(16), client)
                self._sessions[session.id] = session
        self._end_evicted(victim)
        if refused is not None:
            return refused
        # "the server MUST send an endpoint event containing a URI for the client to use
        # for sending messages"
        endpoint = sse_event(("%s?session_id=%s" % (self.messages_path, session.id)).encode("ascii"), event="endpoint")

        def closed(complete: bool, last: int) -> None:
            with self._lock:
                self._sessions.pop(session.id, None)
            session.close()
        return _attached(HttpResponse(200, _sse_headers(), stream=session.stream, on_close=closed,
                                      stream_prefix=endpoint))

    def _legacy_sse_post(self, req: HttpRequest, principal: Any) -> HttpResponse:
        if req.method != "POST":
            return _error(405, INVALID_REQUEST, "Method not allowed", headers=[("Allow", "POST")])
        session_id = req.query_value("session_id", "sessionId")
        with self._lock:
            session = self._sessions.get(session_id or "")
        if not isinstance(session, LegacySseSession) or session.closed:
            return _error(404, INVALID_REQUEST, "Session not found")
        message = self._decode_body(req)
        if isinstance(message, HttpResponse):
            return message
        session.last_active = time.monotonic()
        # The message is handled once the 202 is out: a quick answer goes on the GET stream,
        # and a client that has it may close before reading a 202 sent after it (the
        # official SDK does), leaving the front end writing to a closed socket.
        return HttpResponse(202, [("Content-Type", "text/plain")], b"Accepted",
                            then=lambda: session.connection.receive(message, None, req.headers, principal))

    # -- housekeeping -------------------------------------------------------------------

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < 1.0:
            return
        with self._lock:
            self._last_sweep = now
            self._sweep_locked(now)

    def _sweep_locked(self, now: float) -> None:
        """End idle sessions: "The server MAY terminate the session at any time"; a
        client that comes back gets 404 and starts a new one."""
        expired = [s for s in self._sessions.values()
                   if s.busy <= 0 and now - s.last_active > self.session_idle_timeout]
        for session in expired:
            del self._sessions[session.id]
            _http_log.info("session %s expired after %.0f s idle", session.id[:8], now - session.last_active)
        for session in expired:
            session.close()

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close(self) -> None:
        """End every session and listener stream, so every reader thread finishes."""
        with self._lock:
            self.closed = True
            sessions = list(self._sessions.values())
            self._sessions.clear()
            listeners = list(self._listeners.items())
            self._listeners.clear()
            self._listening.clear()
        for session in sessions:
            session.close()
        for listener, stream in listeners:
            rid = listener.subscription_id
            self.server.remove_listener(listener)
            # "When the server ends a subscription on its own initiative (for example,
            # during shutdown), it SHOULD respond to the original subscriptions/listen
            # request with a completion result before closing the stream."
            stream.push_message(result_response(rid, {"resultType": "complete",
                                                      "_meta": {META_SUBSCRIPTION_ID: rid}}))
            stream.finish()
        self.pool.shutdown(timeout=0)


# Request headers a browser page needs to send (a preflight names them; the ones it names
# beyond these, Mcp-Param-* among them, are granted too), and response headers it needs to read.
_CORS_ALLOW_HEADERS = ("Content-Type", "Accept", "Authorization", "Mcp-Session-Id", "MCP-Protocol-Version",
                       "Mcp-Method", "Mcp-Name", "Last-Event-ID")
_CORS_EXPOSE_HEADERS = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After"


def _grant_cors(response: HttpResponse, origin: str) -> None:
    """Let the page at ``origin`` read ``response`` (and, for a preflight, go on)."""
    if any(name.lower() == "access-control-allow-origin" for name, _ in response.headers):
        return  # a grant of its own ("*" on the metadata): a second value makes browsers refuse both
    response.headers.extend(_cors_grant_headers(origin))


def _cors_grant_headers(origin: str) -> List[Tuple[str, str]]:
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
            ("Access-Control-Expose-Headers", _CORS_EXPOSE_HEADERS)]


def _attached(response: HttpResponse) -> HttpResponse:
    """A response whose stream has it as its one reader (the front end detaches it when
    it stops copying)."""
    if response.stream is not None:
        response.stream.attach(response)
    return response


def _sse_headers() -> List[Tuple[str, str]]:
    # "servers SHOULD include the X-Accel-Buffering: no header" so proxies pass events on.
    return [("Content-Type", SSE_TYPE), ("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")]


def _client_key(req: HttpRequest, principal: Any) -> str:
    """Whom a session counts for in the per-client bound: the token's holder when requests
    are authenticated, else the address the request came from."""
    identity = principal_identity(principal)
    if identity is not None:
        return "principal " + identity
    return "address " + (req.remote or "?")


def _least_recently_used_idle(sessions: Sequence[Any]) -> Any:
    """The idle session used longest ago, or None when every one is busy."""
    idle = [s for s in sessions if s.idle()]
    return min(idle, key=lambda s: s.last_active) if idle else None


def _request_ids(message: Any) -> List[Any]:
    """The ids of the requests in a POST body (one message or a batch)."""
    items = message if isinstance(message, list) else [message]
    return [m["id"] for m in items
            if isinstance(m, dict) and isinstance(m.get("method"), str) and "id" in m
            and isinstance(m["id"], (str, int)) and not isinstance(m["id"], bool)]

