"""The protocol side of a ``Client``: the era probe and the handshake, sending requests and
waiting for them (timeouts, progress, cancellation), what the server sends (its requests
answered through the handlers, notifications to the callbacks, in order, on a thread of
their own), and 2026-07-28's ``subscriptions/listen``. The public API is client.py's
``Client``, which is a ``ClientSession``.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import (
    Cancelled, ConnectionClosed, HttpError, MCPError, ProtocolError, RequestTimeout, TransportError, VersionMismatch,
)
from .jsonrpc import (
    INTERNAL_ERROR, METHOD_NOT_FOUND, UNSUPPORTED_PROTOCOL_VERSION, Endpoint, Message, Reply, error_response,
    notification, object_member, result_response,
)
from .logs import LazyLogger
from .ports import ClientChannel
from .protocol import (
    ERA_LEGACY, ERA_MODERN, LATEST_LEGACY_VERSION, TASKS_EXTENSION, LEGACY_VERSIONS, META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, META_SERVER_INFO, META_SUBSCRIPTION_ID,
    MODERN_VERSIONS,
)
from .tracecontext import current_trace, load_otel, send_traced
from .workers import WorkerPool

_session_log = LazyLogger("mcplite.client")

DEFAULT_CLIENT_INFO = {"name": "mcplite-client", "version": "0.1.0"}
_on_event_thread = threading.local()  # .active: this thread runs the client's callbacks
# .thread: the thread that read the server's message a handler or callback runs for now.
# Over Streamable HTTP that is the thread waiting for the request on whose stream it came,
# which tells a gateway which of its calls a question or log message belongs to.
_client_received_on = threading.local()


def _versions(value: Any) -> List[str]:
    """The protocol versions a server's list names (its strings; anything else names none)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def received_on() -> Optional[int]:
    """The thread that read the server's message whose handler or callback runs on this
    thread now (``threading.get_ident()``), or None outside one."""
    return getattr(_client_received_on, "thread", None)
# .check: set by ``cancel_when`` for the requests this thread sends (a gateway's handler
# forwarding a call: the caller's cancellation becomes the upstream request's).
_cancel_checks = threading.local()
_CANCEL_POLL = 0.05  # how often a request with a cancel check looks at it, in seconds
# .seconds: set by ``progress_ceiling`` for the requests this thread sends (a host's call:
# progress extends it up to 10 times that call's own timeout, not the client's max_timeout).
_progress_ceilings = threading.local()
_MIN_WAIT = 0.1  # initialize's least wait when connecting within a time, in seconds


def cancel_when(check: Callable[[], bool]) -> "_ThreadScope":
    """``with cancel_when(check):`` - inside it, a request this thread sends through any
    client stops waiting once ``check()`` is true: the server is sent
    ``notifications/cancelled`` and ``Cancelled`` is raised. (Checked every 50 ms.)"""
    return _ThreadScope(_cancel_checks, "check", check)


def progress_ceiling(seconds: float) -> "_ThreadScope":
    """``with progress_ceiling(seconds):`` - inside it, progress extends a request this
    thread sends through any client up to ``seconds`` in all (or its own timeout, if
    longer), instead of the client's ``max_timeout``."""
    return _ThreadScope(_progress_ceilings, "seconds", seconds)


class _ThreadScope:
    """``with``: ``local.<name>`` is ``value`` on this thread inside, what it was after."""

    def __init__(self, local: threading.local, name: str, value: Any) -> None:
        self.local = local
        self.name = name
        self.value = value
        self.outer = None  # type: Any

    def __enter__(self) -> "_ThreadScope":
        self.outer = getattr(self.local, self.name, None)
        setattr(self.local, self.name, self.value)
        return self

    def __exit__(self, *exc: Any) -> None:
        setattr(self.local, self.name, self.outer)


class _Waiter:
    """What one outgoing request waits with: its deadline moves with progress."""

    __slots__ = ("deadline", "progress", "timeout")

    def __init__(self, timeout: float, progress: Optional[Callable[..., Any]]) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.progress = progress

class _Watched:
    """A request carried on its sender's thread (``ClientChannel.send_waited``), whose
    timeout and cancellation the session's watchdog looks at meanwhile; ``verdict`` is the
    error that ended the wait, once the watchdog ended it."""

    __slots__ = ("pending", "waiter", "hard_stop", "cancelled", "method", "verdict")

    def __init__(self, pending: Any, waiter: _Waiter, hard_stop: float, cancelled: Optional[Callable[[], bool]],
                 method: str) -> None:
        self.pending = pending
        self.waiter = waiter
        self.hard_stop = hard_stop
        self.cancelled = cancelled
        self.method = method
        self.verdict = None  # type: Optional[BaseException]


class ClientSession(Endpoint):
    """A connection to one server at the protocol level: see the module's text. The
    handlers and callbacks are attributes (``sampling``, ``elicitation``, ``roots``,
    ``on_log``, ``on_resource_updated``, ``on_list_changed``), read each time they are
    needed, so they may be changed while connected."""

    # The ``ResultCache`` (clientcache.py) of ``Client(cache=...)``, or None; set before
    # connecting, since a 2026-07-28 client with one listens for list changes.
    cache = None  # type: Any
    _cache_principal = None  # type: Any   # whose private results they are there (Client sets it)
    # ``on_elicitation_complete(elicitation_id)`` (see Client): set after construction.
    on_elicitation_complete = None  # type: Optional[Callable[[str], Any]]

    def __init__(self, channel: ClientChannel, *, timeout: float, max_timeout: Optional[float],
                 probe_timeout: float, client_info: Optional[Dict[str, Any]],
                 sampling: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]],
                 elicitation: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]], roots: Any,
                 on_log: Optional[Callable[[Dict[str, Any]], Any]], on_resource_updated: Optional[Callable[[str], Any]],
                 on_list_changed: Optional[Callable[[str], Any]], capabilities: Optional[Dict[str, Any]],
                 tasks: bool) -> None:
        Endpoint.__init__(self)
        self.timeout = timeout
        self.max_timeout = max_timeout if max_timeout is not None else timeout * 10
        self.probe_timeout = probe_timeout
        self.client_info = dict(client_info or DEFAULT_CLIENT_INFO)
        self.sampling = sampling
        self.elicitation = elicitation
        self.roots = roots
        self.on_log = on_log
        self.on_resource_updated = on_resource_updated
        self.on_list_changed = on_list_changed
        self.capabilities = self._declared_capabilities(capabilities)
        # The tasks extension is a 2026-07-28 one: declared in each request's _meta only.
        self.tasks = tasks
        self._modern_capabilities = self.capabilities_with_tasks(tasks)
        # What the server told us.
        self.era = None  # type: Optional[str]   # "legacy" or "modern" once connected
        self.protocol_version = None  # type: Optional[str]
        self.server_info = {}  # type: Dict[str, Any]
        self.server_capabilities = {}  # type: Dict[str, Any]
        self.instructions = None  # type: Optional[str]
        # set_log_level's: in 2026-07-28 sent in every request's _meta; in a session, set
        # again in a session that replaces one the server ended.
        self.log_level = None  # type: Optional[str]
        self._waiters = {}  # type: Dict[Any, _Waiter]   # by progress token
        # Requests carried on their senders' threads, by id, and the thread watching them.
        self._watched = {}  # type: Dict[Any, _Watched]
        self._watchdog = None  # type: Optional[threading.Thread]
        self._lock = threading.Lock()
        self._pool = WorkerPool(4, name="mcplite-client-handler")
        # Callbacks (on_log, progress, updates, list changes) run in order on one thread of
        # their own, never on the reader: a callback may call the client. A response waits
        # until the callbacks of what arrived before it have run (see _exchange).
        self._events = WorkerPool(1, name="mcplite-client-events")
        self._events_cond = threading.Condition()
        self._queued_seq = 0
        self._done_seq = 0
        self._barriers = {}  # type: Dict[Any, int]   # response id -> the callback it follows
        self._closed = None  # type: Optional[BaseException]
        self._listen = None  # type: Any   # the 2026-07-28 subscriptions/listen request in force
        self._subscriptions = set()  # type: set
        # (the listen request's id, set when acknowledged)
        self._acknowledged = (None, threading.Event())  # type: Tuple[Any, threading.Event]
        # The filter the server agreed to honour on the stream in force ("the subset the server
        # agreed to honor"), as its acknowledgment said.
        self._honoured = {}  # type: Dict[str, Any]
        self._renew_lock = threading.Lock()
        self._relisten_lock = threading.Lock()
        self._channel = channel
        channel.set_write_timeout(timeout)  # a write may take as long as a call
        channel.start(self._receive, self._channel_closed, self.outgoing.fail)

    def close(self) -> None:
        """End the connection (the server process too, for stdio); calls still waiting
        raise ``ConnectionClosed``."""
        with self._lock:
            if self._closed is None:
                self._closed = ConnectionClosed("the client is closed")
        self._channel.close()
        if self.cache is not None:
            # Nobody can ask for this client's private results again.
            self.cache.forget_principal(self._cache_principal)
        self.outgoing.fail_all(self._closed)
        self._pool.shutdown(1.0)
        self._events.shutdown(1.0)
        with self._events_cond:
            self._events_cond.notify_all()

    # -- connecting -------------------------------------------------------------------

    def _renew_session(self, lost: int) -> None:
        """After the server ended session ``lost`` (HTTP 404): a new session, with what the
        old one had set up (log level, subscriptions) - unless another thread has started
        one since."""
        with self._renew_lock:
            if self._channel.session_generation() != lost:
                return
            self._initialize(self.protocol_version or LATEST_LEGACY_VERSION)
            self._channel.ready()
            if self.log_level is not None:
                self._call("logging/setLevel", {"level": self.log_level}, None, None)
            for uri in sorted(self._subscriptions):
                self._call("resources/subscribe", {"uri": uri}, None, None)

    def _declared_capabilities(self, extra: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        caps = {}  # type: Dict[str, Any]
        if self.sampling is not None:
            caps["sampling"] = {}
        if self.elicitation is not None:
            caps["elicitation"] = {}
        if self.roots is not None:
            caps["roots"] = {"listChanged": True}
        for key, value in (extra or {}).items():
            if isinstance(value, dict) and isinstance(caps.get(key), dict):
                caps[key] = dict(caps[key], **value)
            else:
                caps[key] = value
        elicit = caps.get("elicitation")
        if self.elicitation is not None and isinstance(elicit, dict) and elicit and "form" not in elicit:
            # "{}" meant form mode; naming another mode must not drop it.
            caps["elicitation"] = dict(elicit, form={})
        return caps

    def capabilities_with_tasks(self, tasks: bool) -> Dict[str, Any]:
        """The capabilities declared, with the tasks extension in them or not."""
        extensions = dict(self.capabilities.get("extensions") or {})
        if tasks:
            extensions.setdefault(TASKS_EXTENSION, {})
        else:
            extensions.pop(TASKS_EXTENSION, None)
        if extensions:
            return dict(self.capabilities, extensions=extensions)
        return {k: v for k, v in self.capabilities.items() if k != "extensions"}

    def _connect(self, era: str, version: Optional[str], within: Optional[float] = None) -> None:
        """``within``: the probe and initialize together take about that long at most (the
        probe at most half of it, initialize what is left), not each its own timeout."""
        deadline = None if within is None else time.monotonic() + within
        probe = min(self.probe_timeout, self.timeout, within / 2 if within is not None else self.timeout)
        if era != ERA_LEGACY and self._discover(version or MODERN_VERSIONS[-1], forced=era == ERA_MODERN,
                                                probe=probe):
            self._negotiated()
        else:
            try:
                self._initialize(version or LATEST_LEGACY_VERSION, None if deadline is None else
                                 max(_MIN_WAIT, deadline - time.monotonic()))
            except MCPError as exc:
                # A modern server that answered the probe too late for us has settled on
                # 2026-07-28 and refuses initialize, naming its versions: go back to them.
                # (Its own -32022 only: an initialize answered with a version we do not
                # speak is a VersionMismatch, not caught here.)
                offered = exc.data.get("supported") if isinstance(exc.data, dict) else None
                if not isinstance(offered, list):
                    offered = []
                if (era != "auto" or exc.code != UNSUPPORTED_PROTOCOL_VERSION
                        or not any(v in offered for v in MODERN_VERSIONS)):
                    raise
                if not self._discover(version or MODERN_VERSIONS[-1], forced=True):
                    raise
                self._negotiated()
        self._channel.ready()
        if self.era == ERA_MODERN and (self.on_list_changed is not None or self.cache is not None):
            # 2026-07-28 tells of list changes only on a subscriptions/listen stream.
            try:
                self._relisten(None)
            except MCPError as exc:
                _session_log.warning("no list-change notifications: subscriptions/listen failed: %s", exc)

    def _negotiated(self) -> None:
        self._channel.negotiated(self.era, self.protocol_version)  # type: ignore[arg-type]

    def _discover(self, version: str, forced: bool, retried: bool = False, probe: Optional[float] = None) -> bool:
        """The 2026-07-28 probe: True when the server is modern (now set up). ``probe``: how
        long to wait for an answer unless ``forced`` (default the probe timeout)."""
        self.era, self.protocol_version = ERA_MODERN, version
        if probe is None:
            probe = min(self.probe_timeout, self.timeout)
        try:
            result = self._call("server/discover", {}, None if forced else probe, None)
        except RequestTimeout:
            if forced:
                raise
            result = None
        except HttpError as exc:
            # A plain HTTP refusal of the probe: a server of the older era, unless it was
            # authorization (and OAuth, if any, could not help) - not an era question.
            if forced or exc.status in (401, 403):
                raise
            result = None
        except MCPError as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            offered = data.get("supported") if exc.code == UNSUPPORTED_PROTOCOL_VERSION else None
            if isinstance(offered, list):
                # "a recognized modern JSON-RPC error ... identifies a modern server: the
                # client retries with a supported version rather than falling back."
                usable = [v for v in MODERN_VERSIONS if v in offered]
                if usable and (usable[-1] != version or not retried):
                    # Once more even with the version just sent: "the client retries with
                    # a supported version" (the refusal may have been about something else).
                    return self._discover(usable[-1], forced, retried=True, probe=probe)
                if forced or not [v for v in LEGACY_VERSIONS if v in offered]:
                    if usable:
                        # It refused again the very version it lists: no question of versions
                        # we cannot speak, so its own error says what went wrong.
                        raise
                    # The server did send this -32022, but the failure is ours to name: no
                    # version in common. One exception for it, however the server showed its
                    # versions (this error, its server/discover result, its initialize
                    # answer), so that a caller catches one thing; its error is the cause.
                    versions = _versions(offered)
                    raise VersionMismatch("The server speaks none of our %sprotocol versions: it offers %s"
                                          % ("modern " if forced else "", ", ".join(versions) or "none"),
                                          versions) from exc
            elif forced:
                raise
            result = None
        if result is None:
            self.era, self.protocol_version = None, None
            return False
        supported = _versions(result.get("supportedVersions"))
        if version not in supported:
            usable = [v for v in MODERN_VERSIONS if v in supported]
            if not usable:
                self.era, self.protocol_version = None, None
                if forced:
                    # A result, not an error: the server sent no JSON-RPC error to raise.
                    raise VersionMismatch("The server speaks none of our modern protocol versions: its "
                                          "server/discover offers %s" % (", ".join(supported) or "none"), supported)
                return False
            self.protocol_version = usable[-1]
        self.server_capabilities = result.get("capabilities") or {}
        self.instructions = result.get("instructions")
        meta = result.get("_meta")
        if isinstance(meta, dict) and isinstance(meta.get(META_SERVER_INFO), dict):
            self.server_info = meta[META_SERVER_INFO]
        return True

    def _initialize(self, version: str, timeout: Optional[float] = None) -> None:
        self.era, self.protocol_version = ERA_LEGACY, version
        result = self._call("initialize", {"protocolVersion": version, "capabilities": self.capabilities,
                                           "clientInfo": self.client_info}, timeout, None)
        answered = result.get("protocolVersion")
        if answered not in LEGACY_VERSIONS:
            # "If the client does not support the version in the server's response, it
            # SHOULD disconnect." (The server answered with a result: no error of its own.)
            raise VersionMismatch("The server answered initialize with protocol version %r, which this client "
                                  "does not speak" % (answered,), [answered] if isinstance(answered, str) else [])
        self.protocol_version = answered
        self.server_capabilities = result.get("capabilities") or {}
        self.server_info = result.get("serverInfo") or {}
        self.instructions = result.get("instructions")
        self._negotiated()
        self._send(notification("notifications/initialized"))

    # -- sending and waiting ----------------------------------------------------------

    def _send(self, message: Any) -> None:
        if self._closed is not None:
            raise self._closed
        self._channel.send(message)

    def _envelope(self, params: Dict[str, Any], progress_token: Any) -> Dict[str, Any]:
        meta = dict(params.get("_meta") or {})
        if self.era == ERA_MODERN:
            meta[META_PROTOCOL_VERSION] = self.protocol_version
            meta[META_CLIENT_INFO] = self.client_info
            meta.setdefault(META_CLIENT_CAPABILITIES, self._modern_capabilities)
            if self.log_level is not None:
                meta[META_LOG_LEVEL] = self.log_level
        if progress_token is not None:
            meta["progressToken"] = progress_token
        if meta:
            params = dict(params)
            params["_meta"] = meta
        return params

    def _call(self, method: str, params: Optional[Dict[str, Any]], timeout: Optional[float],
              progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        """One request, one response: the result, or MCPError. A request the transport
        can repair (HTTP: a 401 or 403 after which the OAuth got a new token) is sent
        again, with a new id; the repair runs here, in the caller's thread, outside the
        call's timeout (a person may be signing in). The request carries the current W3C
        trace (see the tracecontext module), in a CLIENT span when OpenTelemetry is there."""
        otel = load_otel()
        if otel is not False or current_trace() is not None:
            return send_traced(method, params or {}, self.protocol_version,
                               lambda traced: self._call_untraced(method, traced, timeout, progress), otel)
        return self._call_untraced(method, params, timeout, progress)

    def _call_untraced(self, method: str, params: Optional[Dict[str, Any]], timeout: Optional[float],
                       progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        attempt = 0
        while True:
            message, pending = self.outgoing.new(method, None)
            try:
                return self._exchange(message, pending, params, timeout, progress)
            except RequestTimeout:
                raise
            except TransportError as exc:
                if not self._may_resend(pending, exc, attempt):
                    raise
            attempt += 1

    def _may_resend(self, pending: Any, error: "TransportError", attempt: int) -> bool:
        """Whether a request that failed with ``error`` may go out again: the transport's
        OAuth, after a 401 or 403, got a new token (never once the session is closed)."""
        return self._closed is None and bool(self._channel.recover(pending.id, error, attempt))

    def _exchange(self, message: Message, pending: Any, params: Optional[Dict[str, Any]],
                  timeout: Optional[float], progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        method = message["method"]
        if timeout is None:
            timeout = self.timeout
        token = ("p%s" % pending.id) if progress is not None else None
        body = self._envelope(params or {}, token)
        if body or method != "ping":
            message["params"] = body
        start = time.monotonic()
        waiter = _Waiter(timeout, progress)
        if token is not None:
            with self._lock:
                self._waiters[token] = waiter
        try:
            ceiling = getattr(_progress_ceilings, "seconds", None)
            hard_stop = start + max(self.max_timeout if ceiling is None else ceiling, timeout)
            cancelled = getattr(_cancel_checks, "check", None)
            try:
                verdict = self._send_waited(message, pending, waiter, hard_stop, cancelled)
            except KeyboardInterrupt:
                # Interrupted while this thread carried the request: the server is told.
                self.outgoing.forget(pending.id)
                self._cancel(pending.id, "interrupted")
                raise
            except BaseException:
                self.outgoing.forget(pending.id)
                raise
            if verdict is not None:
                raise verdict  # timed out or cancelled while carried here (the server was told)
            while True:
                remaining = max(min(waiter.deadline, hard_stop) - time.monotonic(), 0.0)
                try:
                    result = pending.wait(remaining if cancelled is None else min(remaining, _CANCEL_POLL))
                    break
                except KeyboardInterrupt:
                    # The person gave up: the server is told, as after a timeout.
                    self.outgoing.forget(pending.id)
                    self._cancel(pending.id, "interrupted")
                    raise
                except TimeoutError:
                    if cancelled is not None and cancelled():
                        # The one who asked us gave up: so do we, and the server is told.
                        self.outgoing.forget(pending.id)
                        self._cancel(pending.id, "cancelled")
                        raise Cancelled("%s was cancelled" % method)
                    if waiter.deadline > time.monotonic() and time.monotonic() < hard_stop:
                        continue  # progress moved the deadline, or this was a cancel check's slice
                    self.outgoing.forget(pending.id)
                    # "the sender SHOULD issue a cancellation notification for that request
                    # and stop waiting for a response."
                    self._cancel(pending.id, "timed out")
                    raise RequestTimeout(method, timeout)
        finally:
            if token is not None:
                with self._lock:
                    self._waiters.pop(token, None)
        barrier = self._barriers.pop(pending.id, None) if self._barriers else None
        if barrier is not None and not getattr(_on_event_thread, "active", False):
            # The progress and log callbacks of this call have run when it returns.
            with self._events_cond:
                self._events_cond.wait_for(lambda: self._done_seq >= barrier or self._closed is not None,
                                           timeout=self.timeout)
        if not isinstance(result, dict):
            raise ProtocolError("the server answered %s with a result that is not an object" % method)
        return result

    def _send_waited(self, message: Message, pending: Any, waiter: _Waiter, hard_stop: float,
                     cancelled: Optional[Callable[[], bool]]) -> Optional[BaseException]:
        """Send a request; where the channel can, carry it on this thread until it is
        answered (a thread hand-off each way fewer), with the watchdog ending it on its
        timeout or cancellation as the wait in ``_exchange`` would. The error that ended
        it so, or None."""
        if not self._channel.sends_waited:
            self._send(message)
            return None
        if self._closed is not None:
            raise self._closed
        watched = _Watched(pending, waiter, hard_stop, cancelled, message["method"])
        with self._lock:
            self._watched[pending.id] = watched
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name="mcplite-client-watchdog", daemon=True)
                self._watchdog.start()
        try:
            if not self._channel.send_waited(message):
                self._channel.send(message)
        finally:
            with self._lock:
                self._watched.pop(pending.id, None)
        return watched.verdict

    def _watch(self) -> None:
        """The watchdog of requests carried on their senders' threads: every _CANCEL_POLL
        it ends those whose time ran out or whose cancel check says so - the server is told
        (over HTTP the request's connection is closed, which ends the sender's wait). It
        stops after a second with none, and the next such request starts it again."""
        idle = 0
        while True:
            time.sleep(_CANCEL_POLL)
            with self._lock:
                watched = list(self._watched.values())
                if not watched:
                    idle += 1
                    if idle * _CANCEL_POLL >= 1.0 or self._closed is not None:
                        self._watchdog = None
                        return
                    continue
            idle = 0
            now = time.monotonic()
            for item in watched:
                if item.pending.done or item.verdict is not None:
                    continue
                try:
                    gave_up = item.cancelled is not None and item.cancelled()
                except Exception:  # a check that fails cannot say "cancel"
                    _session_log.exception("a cancel check raised")
                    gave_up = False
                if gave_up:
                    item.verdict, reason = Cancelled("%s was cancelled" % item.method), "cancelled"
                elif now >= min(item.waiter.deadline, item.hard_stop):
                    item.verdict, reason = RequestTimeout(item.method, item.waiter.timeout), "timed out"
                else:
                    continue
                self.outgoing.forget(item.pending.id)
                self._cancel(item.pending.id, reason)

    def _cancel(self, rid: Any, reason: str) -> None:
        """``notifications/cancelled`` for a request we stopped waiting for (over 2026-07-28
        HTTP the channel closes the request's stream instead)."""
        try:
            self._send(notification("notifications/cancelled", {"requestId": rid, "reason": reason}))
        except ConnectionClosed:
            pass

    # -- what the server sends ----------------------------------------------------------

    def _channel_closed(self, error: BaseException) -> None:
        with self._lock:
            if self._closed is None:
                self._closed = error
        self.outgoing.fail_all(self._closed)

    def _receive(self, message: Any) -> None:
        """What the channel delivers: one message, or several (a batch)."""
        if isinstance(message, list):
            for item in message:
                self._receive(item)
            return
        self.route(message, self._reply_or_nothing)

    def _reply_or_nothing(self, response: Any) -> None:
        if response is not None:
            self._reply(response)

    def on_invalid(self, message: Any, error: MCPError, reply: Reply) -> None:
        _session_log.warning("ignored a message that is not JSON-RPC: %r", message)

    def on_request(self, message: Message, reply: Reply, context: Any) -> None:
        receiver = threading.get_ident()
        if not self._pool.submit(lambda: self._serve(message, receiver)):
            self._reply(error_response(message["id"], MCPError(INTERNAL_ERROR, "Client busy")))

    def on_response(self, message: Message) -> None:
        if self._queued_seq > self._done_seq:  # (callbacks pending: rare; ints read atomically)
            with self._events_cond:
                if self._queued_seq > self._done_seq and len(self._barriers) < 10000:
                    self._barriers[message.get("id")] = self._queued_seq
        if not self.outgoing.resolve(message):
            self._barriers.pop(message.get("id"), None)
            _session_log.debug("ignored a response that matches no request: %r", message.get("id"))

    def _reply(self, response: Message) -> None:
        try:
            self._send(response)
        except ConnectionClosed:
            pass

    def _serve(self, message: Message, receiver: Optional[int] = None) -> None:
        """A request from the server (legacy era): answer it through the handlers."""
        params = message.get("params") or {}
        _client_received_on.thread = receiver
        try:
            result = self._handle(message["method"], params)
            response = result_response(message["id"], result)
        except MCPError as exc:
            response = error_response(message["id"], exc)
        except Exception as exc:  # a handler's bug: the server gets an error, never a traceback
            _session_log.exception("handler for %s raised", message["method"])
            response = error_response(message["id"], MCPError(INTERNAL_ERROR, "Client error: %s" % type(exc).__name__))
        finally:
            _client_received_on.thread = None
        self._reply(response)

    def _handle(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        if method == "ping":
            return {}
        if method == "sampling/createMessage" and self.sampling is not None:
            return self.sampling(params)
        if method == "elicitation/create" and self.elicitation is not None:
            return self.elicitation(params)
        if method == "roots/list" and self.roots is not None:
            roots = self.roots() if callable(self.roots) else self.roots
            return {"roots": list(roots)}
        raise MCPError(METHOD_NOT_FOUND, "Method not found: %s (this client declared no such capability)" % method)

    def _answer_input(self, entry: Any) -> Dict[str, Any]:
        """One 2026-07-28 input request, answered through the same handlers."""
        if not isinstance(entry, dict) or not isinstance(entry.get("method"), str):
            raise ProtocolError("the server sent a malformed input request: %r" % (entry,))
        return self._handle(entry["method"], object_member(entry, "params"))

    def _callback(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a user's callback on the events thread, in arrival order."""
        with self._events_cond:
            self._queued_seq += 1
            seq = self._queued_seq
        receiver = threading.get_ident()

        def job() -> None:
            _on_event_thread.active = True
            _client_received_on.thread = receiver
            try:
                fn(*args)
            except Exception:
                _session_log.exception("a client callback raised")
            finally:
                _client_received_on.thread = None
                with self._events_cond:
                    self._done_seq = seq
                    self._events_cond.notify_all()
        if not self._events.submit(job):
            job()  # (closed, or 1024 callbacks behind: run it here rather than lose it)

    def on_notification(self, message: Message) -> None:
        method = message["method"]
        params = object_member(message, "params")
        try:
            if method == "notifications/progress":
                with self._lock:
                    waiter = self._waiters.get(params.get("progressToken"))
                if waiter is not None:
                    waiter.deadline = time.monotonic() + waiter.timeout
                    if waiter.progress is not None:
                        self._callback(waiter.progress, params.get("progress"), params.get("total"),
                                       params.get("message"))
            elif method == "notifications/subscriptions/acknowledged":
                meta = object_member(params, "_meta")
                with self._lock:
                    listen_id, event = self._acknowledged
                if listen_id is not None and meta.get(META_SUBSCRIPTION_ID) == listen_id:
                    honoured = params.get("notifications")
                    self._honoured = honoured if isinstance(honoured, dict) else {}
                    event.set()
            elif method == "notifications/message":
                if self.on_log is not None:
                    self._callback(self.on_log, params)
            elif method == "notifications/elicitation/complete":
                if self.on_elicitation_complete is not None and isinstance(params.get("elicitationId"), str):
                    self._callback(self.on_elicitation_complete, params["elicitationId"])
            elif method == "notifications/resources/updated":
                # The cache is told here, on the reader, before any response read after it.
                if self.cache is not None and isinstance(params.get("uri"), str):
                    self.cache.resource_updated(self._channel.cache_origin(), params["uri"])
                if self.on_resource_updated is not None and isinstance(params.get("uri"), str):
                    self._callback(self.on_resource_updated, params["uri"])
            elif method.endswith("/list_changed") and method.count("/") == 2:
                kind = method.split("/")[1]
                if self.cache is not None:
                    self.cache.list_changed(self._channel.cache_origin(), kind)
                if self.on_list_changed is not None and kind in ("tools", "prompts", "resources"):
                    self._callback(self.on_list_changed, kind)
        except Exception:
            _session_log.exception("handler for %s raised", method)

    # -- 2026-07-28 subscriptions --------------------------------------------------------

    def _relisten(self, timeout: Optional[float]) -> None:
        """Replace the ``subscriptions/listen`` stream by one with the current filter.

        The new stream is opened, and acknowledged, before the old one is cancelled: an
        update sent while the filter changes reaches at least one of them (both, at worst,
        which a client reads as one more "go and read it again"). Cancelling first lost it.
        One change at a time, so that each cancels the stream the one before it opened."""
        with self._relisten_lock:
            with self._lock:
                old = self._listen
                uris = sorted(self._subscriptions)
            wanted = {}  # type: Dict[str, Any]
            if self.on_list_changed is not None or self.cache is not None:
                wanted.update(toolsListChanged=True, promptsListChanged=True, resourcesListChanged=True)
            if uris:
                wanted["resourceSubscriptions"] = uris
            opened = self._open_listen(wanted, timeout) if wanted else None
            with self._lock:
                self._listen = opened
            self._cancel_listen(old)

    def _cancel_listen(self, listen: Any, reason: str = "new filter") -> None:
        if listen is not None:
            self.outgoing.forget(listen)
            self._send(notification("notifications/cancelled", {"requestId": listen, "reason": reason}))

    def _open_listen(self, wanted: Dict[str, Any], timeout: Optional[float]) -> Any:
        """Open a ``subscriptions/listen`` stream for ``wanted`` and wait for its
        acknowledgement; its request id. On failure the stream in force stays so."""
        attempt = 0
        while True:
            message, pending = self.outgoing.new("subscriptions/listen", None)
            message["params"] = self._envelope({"notifications": wanted}, None)
            acknowledged = threading.Event()
            with self._lock:
                self._acknowledged = (pending.id, acknowledged)
            self._send(message)
            limit = timeout if timeout is not None else self.timeout
            deadline = time.monotonic() + limit
            try:
                # "The server MUST send notifications/subscriptions/acknowledged as the first
                # message"; an error response instead ends the wait at once.
                while not acknowledged.wait(0.02):
                    if pending.done:
                        pending.wait(0)  # raises the server's error
                        raise ProtocolError("subscriptions/listen ended before it was acknowledged")
                    if time.monotonic() > deadline:
                        # (A stream acknowledged late would otherwise stay open, unheard.)
                        self._cancel_listen(pending.id, "not acknowledged in time")
                        raise RequestTimeout("subscriptions/listen", limit)
                return pending.id
            except RequestTimeout:
                raise
            except TransportError as exc:
                # A 401 (an expired token) or 403: the transport's OAuth gets its say, as for
                # any request (see _may_resend), and the stream is asked for again.
                if not self._may_resend(pending, exc, attempt):
                    raise
            attempt += 1
