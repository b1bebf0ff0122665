"""One client connection over a message stream (stdio, the in-memory pair): no I/O here.

The transport feeds ``receive_data`` one framed message at a time and provides ``send``;
this class does the rest: parse errors, the protocol era of the connection, routing
requests to the worker pool, cancellation, JSON-RPC batches, and matching the client's
responses to the requests the server sent it.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .jsonrpc import (
    INTERNAL_ERROR, INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION, Endpoint, Message, Pending, Reply, decode,
    error_response, is_valid_id, notification, readable_id,
)
from .errors import Cancelled, ConnectionClosed, MCPError
from .logs import LazyLogger
from .protocol import (
    BATCH_VERSIONS, ERA_LEGACY, ERA_MODERN, META_PROTOCOL_VERSION, MODERN_ONLY_METHODS, MODERN_VERSIONS,
    SUPPORTED_VERSIONS,
)
from .calls import Call, LegacySession
from .ports import ChangeListener, Port, refused_here
from .registry import SubscriptionListener
from .server import Server
from .workers import WorkerPool

_connection_log = LazyLogger("mcplite.connection")

# send(message, about=None): write one message (or a batch list). ``about`` is the Call a
# notification reports on; the transport drops the message if that call has been cancelled
# by the time it holds its write lock ("MUST NOT send any further messages for it").
Send = Callable[..., None]

# serve_here(call, run): what a transport able to serve a request on the thread that received
# it, watched, does with one (HTTP's McpHttpApp._legacy_post): runs ``run`` there (the
# request served, its response returned, None when cancelled) while its front watches the
# connection, and returns what ``run`` returned.
ServeHere = Callable[[Any, Callable[[], Optional[Message]]], Optional[Message]]

# Answered on the reading thread, never queued behind slow tools: "The receiver MUST
# respond promptly" to ping, and initialize must be settled before anything that follows.
_INLINE_METHODS = frozenset(("ping", "initialize", "server/discover"))
LEGACY = ERA_LEGACY  # (the era a connection settled on)
MODERN = ERA_MODERN


def has_modern_envelope(params: Any) -> bool:
    """Whether a request carries 2026-07-28's per-request ``_meta`` protocol version. The
    key's prefix is reserved, so no legacy request carries it."""
    if not isinstance(params, dict):
        return False
    meta = params.get("_meta")
    return isinstance(meta, dict) and META_PROTOCOL_VERSION in meta


class _BatchReplies:
    """Collects the responses to one JSON-RPC batch and sends them together."""

    def __init__(self, expected: int, reply: Reply) -> None:
        self._expected = expected
        self._reply = reply
        self._responses = []  # type: List[Message]
        self._lock = threading.Lock()

    def add(self, response: Optional[Message]) -> None:
        with self._lock:
            if response is not None:
                self._responses.append(response)
            self._expected -= 1
            complete = self._expected == 0
        # "If there are no Response objects contained within the Response array as it is
        # to be sent to the client, the server MUST NOT return an empty Array."
        if complete:
            self._reply(self._responses or None)


class SessionNotifier(ChangeListener):
    """A legacy session's ear for changes: ``notifications/<kind>/list_changed`` when a
    registration changes, ``notifications/resources/updated`` for the URIs it subscribed
    to - sent on the session's own channel, not about any request."""

    def __init__(self, connection: "ServerConnection") -> None:
        self.connection = connection

    # Only once the client said notifications/initialized: before that, a notification
    # could even overtake the initialize response.
    def list_changed(self, kind: str) -> None:
        if self.connection.session.initialized:
            self.connection.notify(notification("notifications/%s/list_changed" % kind))

    def resource_updated(self, uri: str) -> None:
        session = self.connection.session
        # "the server SHOULD send notifications/resources/updated" - to subscribers only.
        if session.initialized and uri in session.subscriptions:
            self.connection.notify(notification("notifications/resources/updated", {"uri": uri}))


class ServerConnection(Port, Endpoint):
    """Serves one client over a stream of messages, in the era the client opens with.

    The first request decides the era, once: one carrying the 2026-07-28 ``_meta`` (or a
    method only 2026-07-28 has) makes the connection modern and stateless; anything else,
    ``initialize`` first of all, makes it a legacy session ("An initialize request selects
    legacy semantics, scoped to the stdio process"). A request from the other era is then
    refused with an error that names what this connection serves.
    """

    def __init__(self, server: Server, send: Send, pool: Optional[WorkerPool] = None,
                 close_stream: Optional[Callable[[Any, Optional[int]], bool]] = None) -> None:
        self.server = server
        self._send = send
        self.pool = pool if pool is not None else WorkerPool(server.max_workers)
        self.era = None  # type: Optional[str]
        self.session = LegacySession()
        Endpoint.__init__(self, prefix="s")  # our requests to the client are "s1", "s2"...
        self._inflight = {}  # type: Dict[Any, Call]
        self._listeners = {}  # type: Dict[Any, ChangeListener]   # subscriptions/listen by request id
        self._lock = threading.Lock()
        self.closed = False
        # What only the transport can do: an HTTP session closing a request's SSE connection.
        self._close_stream = close_stream
        self.client = "connection %x" % id(self)  # one client: the one at the other end
        # Run the requests that run no handler of the application's (lists) on the receiving
        # thread (Server.answers_at_once). Only for a transport with a thread per exchange
        # (HTTP): on stdio the reading thread must never wait, or ping and cancellations
        # would wait behind it.
        self.inline_quick_requests = False
        # Whether one thread feeds every message to receive_data, each after the last one's
        # answer (stdio's reading loop): then nothing can cancel an inline tool's call or
        # reuse its id while it runs, and the fast path (_inline_tool_response) may leave it
        # out of the in-flight table. Not so for the in-memory pair, fed from any thread.
        self.one_reader = False
        # Whether the connection outlives one request. Not so for a stateless HTTP POST,
        # which ends with its response: nothing can reach its client afterwards (answers
        # to our questions, notifications of changes), and nothing it sets can persist.
        self.stateful = True
        self._notifier = None  # type: Optional[SessionNotifier]

    # -- input -----------------------------------------------------------------

    def receive_data(self, data: Union[bytes, str]) -> None:
        """One framed message (a line on stdio). Never raises: whatever a client sends, the
        reading loop carries on."""
        try:
            message = decode(data)
        except MCPError as exc:
            self._send(error_response(None, exc))
            return
        try:
            # (inline_tools: no inline=True tool registered, no look for one, not even a call.)
            if (self.one_reader and self.server.registry.inline_tools and type(message) is dict
                    and message.get("method") == "tools/call"):
                response = self._inline_tool_response(message)
                if response is not None:
                    self._send(response)
                    return
            self.receive(message)
        except Exception:
            # A bug of ours, not the client's; say so without detail, and keep serving.
            _connection_log.exception("internal error while receiving a message")
            self._send(error_response(readable_id(message), MCPError(INTERNAL_ERROR, "Internal error")))

    def _inline_tool_response(self, message: Message) -> Optional[Message]:
        """A stdio line's fast path: the response to a ``tools/call`` of an ``inline=True``
        tool, made on this thread without routing it, building its Request and Call, or
        entering it in the in-flight table (nothing could cancel it while it runs: this
        thread is the one that would read the cancellation). None when the message is not a
        request ``route`` would accept as it is, or the connection has no era yet (the
        first request decides it), or its id is in use: the general path serves those."""
        params = message.get("params")  # type: Any
        name = params.get("name") if type(params) is dict else None
        # The tool first: a call of any other tool pays for nothing more than this lookup.
        tool = self.server.registry.tools.get(name) if type(name) is str else None
        if tool is None or not tool.inline:
            return None
        era = self.era
        rid = message.get("id")
        if (era is None or message.get("jsonrpc") != "2.0"
                or (type(rid) is not str and type(rid) is not int)  # (is_valid_id, for decoded JSON)
                or "result" in message or "error" in message or rid in self._inflight):
            return None
        if era == LEGACY:
            version = self.session.protocol_version
            if version is None:  # (not initialized: refused by the general path)
                return None
            return self.server.inline_tool_response(rid, params, tool, version, self)
        return self.server.inline_tool_response(rid, params, tool, None, self)

    def receive(self, message: Any, reply: Optional[Reply] = None, headers: Optional[Dict[str, str]] = None,
                principal: Any = None, serve_here: Optional[ServeHere] = None) -> None:
        """One decoded message: an object, or a JSON-RPC batch (array).

        ``reply`` receives the response (a batch's responses as one list), or None when
        there is none to send: a notification, a client's response, a cancelled request.
        By default responses go to ``send``; over HTTP each POST passes its own, so a
        response goes back on the exchange its request came in, and ``headers`` and
        ``principal`` (the HTTP request's) are handed to the requests' handlers.
        ``serve_here``: the transport can serve a single request on this thread, watched
        (see ``ServeHere``); a request that may (``Server.serves_watched``) then goes there
        instead of to the pool. Never for a batch, whose requests run side by side.
        """
        if reply is None:
            reply = self._reply
        if isinstance(message, list):
            self._receive_batch(message, reply, headers, principal)
        else:
            self.route(message, reply, (False, headers, principal, serve_here))

    def _reply(self, response: Optional[Message]) -> None:
        if response is not None:
            self._send(response)

    def _receive_batch(self, items: List[Any], reply: Reply, headers: Optional[Dict[str, str]],
                       principal: Any) -> None:
        if not items:
            reply(error_response(None, MCPError(INVALID_REQUEST, "Invalid Request: empty batch")))
            return
        if self.era != LEGACY or self.session.protocol_version not in BATCH_VERSIONS:
            # Batches exist only in 2025-03-26 (added then, removed in 2025-06-18), and
            # the version is known only after initialize, which "MUST NOT be part of a
            # JSON-RPC batch".
            reply(error_response(None, MCPError(
                INVALID_REQUEST, "Invalid Request: JSON-RPC batches are accepted only in a 2025-03-26 session")))
            return
        replies = _BatchReplies(len(items), reply)
        for item in items:
            self.route(item, replies.add, (True, headers, principal, None))

    def on_unmatched(self, message: Message) -> None:
        _connection_log.debug("ignored a response that matches no request: %r", message.get("id"))

    def on_request(self, message: Message, reply: Reply, context: Any) -> None:
        """A request: its era checked against the connection's, then run inline or on the
        pool. ``context``: (in a batch?, the HTTP headers, the principal, ``serve_here``)."""
        in_batch, headers, principal, serve_here = context
        method = message["method"]
        params = message.get("params")
        try:
            modern = self._era_for(method, params)
            if in_batch and method == "initialize":
                raise MCPError(INVALID_REQUEST, "Invalid Request: initialize MUST NOT be part of a batch")
            # Until a request has been accepted the connection may still become either era,
            # so a rejected version is answered with every version; once it is modern, only
            # the modern ones remain on offer here.
            offered = SUPPORTED_VERSIONS if self.era is None else MODERN_VERSIONS
            call = self.server.begin_call(message, self, None if modern else self.session, modern, offered, headers,
                                          principal, listed=MODERN_VERSIONS)
        except MCPError as exc:
            reply(error_response(message["id"], exc))
            return
        if self.era is None:
            # The first request accepted decides the era, once.
            self.era = MODERN if modern else LEGACY
            if not modern and self.stateful and not self.closed:
                self._notifier = SessionNotifier(self)
                self.server.add_listener(self._notifier)
        with self._lock:
            if call.request.id in self._inflight:
                duplicate = True
            else:
                duplicate = False
                self._inflight[call.request.id] = call
        if duplicate:
            rid = call.request.id
            reply(error_response(rid, MCPError(
                INVALID_REQUEST, "Invalid Request: id %r is already in use by a request in progress" % (rid,))))
            return
        if method == "subscriptions/listen":
            self._listen(call, reply)
        elif method in _INLINE_METHODS:
            reply(self._complete(call))
        elif serve_here is not None and self.server.serves_watched(call):
            # A tool that can send nothing before its response, over a transport that can
            # watch it on this thread (HTTP's front: a hang-up seen, a quiet answer kept
            # alive): no hand-off to a worker and back. Still in the in-flight table, so a
            # notifications/cancelled from another POST cancels it and its id stays in use.
            # Before the inline rules: an inline=True tool that turns out slow is watched too,
            # as in the 2026-07-28 era, rather than left quiet for a proxy to time out.
            reply(serve_here(call, partial(self._complete, call)))
        elif ((self.inline_quick_requests and self.server.answers_at_once(call))
              or ((self.server.registry.inline_tools or self.server.inline_rule_own)
                  and self.server.runs_inline(call))):
            # (runs_inline: a tool the application declared quick, inline=True. Never decided
            # from the absence of a Context alone: a slow tool without one would keep this
            # thread from reading ping and the cancellations of the other requests. Asked only
            # while some tool is one, or the application has a rule of its own: a Python call
            # or two less for every other request.)
            reply(self._complete(call))
        elif not self.pool.submit(lambda: partial(reply, self._complete(call))):
            with self._lock:
                self._inflight.pop(call.request.id, None)
            reply(error_response(call.request.id, MCPError(
                INTERNAL_ERROR, "Server busy: too many requests in progress (limit %d queued)" % self.pool.max_queued)))

    def _listen(self, call: Call, reply: Reply) -> None:
        """A 2026-07-28 subscription: acknowledged, then change notifications tagged with
        its id, until the client cancels it (or the connection ends) - no response until
        then, and none after a cancellation."""
        try:
            listener = SubscriptionListener(call.request.id, call.request.params, call.emit, self.client)
        except MCPError as exc:
            with self._lock:
                self._inflight.pop(call.request.id, None)
            reply(error_response(call.request.id, exc))
            return
        with self._lock:
            self._listeners[call.request.id] = listener
        try:
            self.server.screen_listener(listener)
            listener.acknowledge()
            self.server.add_listener(listener)
        except BaseException:
            # What the screen reserved for it (a mount's share of upstream subscriptions) is
            # given back: a stream never opened holds nothing.
            self._end_listener(call.request.id)
            raise

    def _end_listener(self, rid: Any) -> None:
        with self._lock:
            listener = self._listeners.pop(rid, None)
            self._inflight.pop(rid, None)
        if listener is not None:
            self.server.remove_listener(listener)

    def _era_for(self, method: str, params: Any) -> bool:
        """The era a request is served in (True for modern), checked against the era the
        connection already has, if any."""
        enveloped = has_modern_envelope(params)
        if self.era is None:
            return method != "initialize" and (enveloped or method in MODERN_ONLY_METHODS)
        if self.era == MODERN:
            if method == "initialize":
                requested = params.get("protocolVersion") if isinstance(params, dict) else None
                raise MCPError(UNSUPPORTED_PROTOCOL_VERSION,
                               "This connection serves protocol %s without a handshake; initialize is not accepted"
                               % ", ".join(MODERN_VERSIONS),
                               {"supported": list(MODERN_VERSIONS),
                                "requested": requested if isinstance(requested, str) else ""})
            return True
        if enveloped and method != "initialize":
            raise MCPError(INVALID_REQUEST, "Invalid Request: this connection is a legacy session opened by "
                                            "initialize; requests with 2026-07-28 _meta are not accepted on it")
        return False

    def _complete(self, call: Call) -> Optional[Message]:
        """Run a request; its response, or None when it was cancelled. The id is released
        whatever happens, so it can never stay "in use"."""
        response = None
        try:
            if not call.cancelled:
                response = self.server.handle_request(call)
        finally:
            with self._lock:
                self._inflight.pop(call.request.id, None)
                if call.cancelled:
                    # "Servers receiving cancellation notifications SHOULD ... Not send a
                    # response for the cancelled request."
                    response = None
        return response

    def on_notification(self, message: Message) -> None:
        method = message["method"]
        params = message.get("params") or {}
        if method == "notifications/cancelled":
            rid = params.get("requestId") if isinstance(params, dict) else None
            if not is_valid_id(rid):
                # "Invalid cancellation notifications SHOULD be ignored" (and true or 1.0
                # must not cancel request 1).
                return
            with self._lock:
                call = self._inflight.get(rid)
                # "The initialize request MUST NOT be cancelled by clients."
                if call is not None and call.request.method != "initialize":
                    call.cancelled = True
            waiting = call.waiting if call is not None else None
            if waiting is not None and call.cancelled:
                # The handler is waiting on a question of ours: wake it, and forget the
                # question (a late answer then matches nothing and is ignored).
                self.outgoing.forget(waiting.id)
                waiting.fail(Cancelled("request %r was cancelled" % (rid,)))
                # The client may close the question it is showing ("MAY" in the spec; a
                # form left open for a call nobody waits for helps nobody).
                self.notify(notification("notifications/cancelled", {
                    "requestId": waiting.id, "reason": "the request that asked was cancelled"}))
            if call is not None and call.request.method == "subscriptions/listen":
                self._end_listener(rid)
            if call is None:
                # Unknown or already finished: "MAY ignore cancellation notifications if the
                # referenced request is unknown" (the race is normal).
                _connection_log.debug("cancellation of unknown or finished request %r", rid)
        elif method == "notifications/initialized":
            self.session.initialized = True
        else:
            # One of the application's own (@app.notification), if it has a handler; anything
            # else, known or not, needs nothing from us: a notification never gets a
            # response, not even an error.
            self.server.handle_notification(method, params)

    # -- the Port of the requests it serves --------------------------------------

    def emit(self, call: Any, message: Message) -> None:
        self._send(message, call)

    def ask(self, method: str, params: Dict[str, Any]) -> Tuple[Message, Pending]:
        if not self.stateful:
            raise refused_here(method)
        return self.outgoing.new(method, params)

    def forget(self, request_id: Any) -> None:
        self.outgoing.forget(request_id)

    def close_stream(self, call: Any, retry_ms: Optional[int]) -> bool:
        return self._close_stream(call, retry_ms) if self._close_stream is not None else False

    # -- state -----------------------------------------------------------------

    def notify(self, message: Message) -> bool:
        """Send a notification that concerns the session, not one request. False once the
        connection is closed."""
        if self.closed:
            return False
        self._send(message)
        return True

    def in_progress(self) -> List[Any]:
        with self._lock:
            return list(self._inflight)

    def close(self) -> None:
        """The client stopped sending: stop waiting for its answers to our requests. Requests
        already received keep running; their responses are still written (a client that
        pipes requests in and closes stdin expects them)."""
        self.closed = True
        if self._notifier is not None:
            self.server.remove_listener(self._notifier)
            self._notifier = None
        self.outgoing.fail_all(ConnectionClosed())
        for rid in list(self._listeners):
            self._end_listener(rid)
