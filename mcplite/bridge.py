"""``bridge``: one transport in front of another, message by message.

    python -m mcplite bridge --stdio https://example.com/mcp [-H 'Name: value'] [--oauth]
    python -m mcplite bridge --http 127.0.0.1:8000 -- python3 server.py

**--stdio URL** is for a host that runs stdio servers only: it starts this bridge, and the
bridge carries each JSON-RPC line of its stdin to the remote Streamable HTTP server (or an
old HTTP+SSE one) and every message the server sends - responses, notifications, its own
requests (elicitation, sampling, roots), on a POST's response, its SSE stream or the
session's GET stream - to stdout, one per line. The host's answers to the server's requests
go back the same way. The bridge relays; it takes part in the protocol only where HTTP
needs it, with the HTTP channel's machinery (httpclient.py): the session id and
``MCP-Protocol-Version`` header, 2026-07-28's ``Mcp-Method``/``Mcp-Name`` and
``Mcp-Param-*`` headers (learnt from the tools/list answers that pass), resuming a broken
stream, the HTTP+SSE fallback, OAuth (the command line's signing-in options; ``--oauth``
opens the sign-in URL with Python's ``webbrowser``, so ``$BROWSER`` picks the browser). A
session the server ended (404) is opened again with the host's own ``initialize`` (then its
log level and resource subscriptions), and the request sent there. A request the remote
cannot answer (unreachable, an HTTP error, a dropped stream) gets a JSON-RPC error on stdout
at once, never silence. When stdin ends (or on SIGTERM) the session is closed (DELETE) and
the bridge exits. Nothing but protocol goes to stdout.

**--http HOST:PORT -- CMD ...** serves a stdio server over Streamable HTTP: each session a
client opens (``initialize``) gets its own CMD process - a stdio server has one client -
up to ``--max-sessions``; DELETE, an idle session's expiry or the process's exit end it.
What a stdio server sends about no request we can tell (its questions, log messages) goes
on the newest open request's stream, else on the session's GET stream. A 2026-07-28
request (no session) goes to one shared CMD process with its id made unique there; closing
its stream cancels it. The HTTP side has the server's defaults: loopback only, Host and
Origin checked, ``--bearer TOKEN`` (or ``MCPLITE_BRIDGE_TOKEN``) required of every client
when given, bounded bodies and sessions. Not supported: resuming an SSE stream (its events
have no ids).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import HttpError, MCPError, SessionLost, TransportError
from .jsonrpc import decode, encode, error_response
from .logs import LazyLogger
from .protocol import ERA_LEGACY, LEGACY_VERSIONS

_bridge_log = LazyLogger("mcplite.bridge")
# The JSON-RPC error a request gets when the far side cannot answer it: "-32000 to -32099
# Reserved for implementation-defined server-errors".
BRIDGE_UNREACHABLE = -32000
_BRIDGE_MAX_LINE = 16 * 1024 * 1024
# Seconds the host's unanswered requests get once its input ends (serve_stdio's exit_grace).
_EXIT_GRACE = 2.0
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def bridge_expand_env(value: str) -> str:
    """``${NAME}`` in a header value replaced by the environment's NAME (a desktop host's
    configuration keeps the secret in its ``env`` block, not in the arguments); an unset one
    is an error rather than an empty credential."""
    def one(match: Any) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError("the header names ${%s}, which is not set in the environment" % name)
        return os.environ[name]
    return _ENV_VAR.sub(one, value)


def _is_request(message: Any) -> bool:
    """A request with an id we can keep track of (a string or a number: a peer's other ids
    are relayed as they are, for the far side to refuse)."""
    return (isinstance(message, dict) and isinstance(message.get("method"), str)
            and isinstance(message.get("id"), (str, int, float)) and not isinstance(message.get("id"), bool))


def _bridge_is_response(message: Any) -> bool:
    return isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message)


class StdioBridge:
    """Host on stdio, server over HTTP. ``run(stdin)`` relays until stdin ends.

    ``make_channel(legacy_sse)`` makes the HTTP channel (an ``HttpChannel``, or with True a
    ``LegacySseChannel`` for a server that refused the Streamable HTTP ``initialize``).
    """

    def __init__(self, make_channel: Callable[[bool], Any], out: Any, url: str = "") -> None:
        self._make_channel = make_channel
        self._out = out
        self._url = url
        self._out_lock = threading.Lock()
        self._lock = threading.Lock()
        self._renew_lock = threading.Lock()
        # The host's requests the server has not answered yet: id -> the message (to send
        # again after a repair, and to answer with an error when it cannot be).
        self._pending = {}  # type: Dict[Any, Dict[str, Any]]
        self._attempts = {}  # type: Dict[Any, int]
        self._cancelled = set()  # type: set
        self._initialize = None  # type: Optional[Dict[str, Any]]   # the host's, for a new session
        self._initialized = False  # the host has sent notifications/initialized
        # What the host set up in the session, set up again in a new one: its log level and
        # resource subscriptions.
        self._log_level = None  # type: Optional[Dict[str, Any]]
        self._subscriptions = set()  # type: set
        # Requests the bridge itself makes (in a new session: initialize, then what the host
        # had set up): id -> [event, answer]
        self._own = {}  # type: Dict[str, List[Any]]
        self._own_ids = itertools.count(1)
        self._fallen_back = False
        self._closing = False
        # The host's messages sent after its initialize, held until the server answers it:
        # before that there is no session to send them in (the server refuses them with 400).
        # "The client SHOULD NOT send requests other than pings before the server has
        # responded to the initialize request", but some hosts pipeline. None: not holding.
        self._held = None  # type: Optional[List[Any]]
        self._channel = self._start(make_channel(False))

    def _start(self, channel: Any) -> Any:
        channel.start(self._from_server, self._channel_closed, self._failed)
        return channel

    # -- host -> server ------------------------------------------------------------------

    def run(self, stdin: Any) -> int:
        try:
            while True:
                line = stdin.readline(_BRIDGE_MAX_LINE + 1)
                if not line:
                    break
                if len(line) > _BRIDGE_MAX_LINE and not line.endswith(b"\n"):
                    sys.stderr.write("mcplite bridge: a message larger than %d bytes from the host; stopping\n"
                                     % _BRIDGE_MAX_LINE)
                    return 1
                if not line.strip():
                    continue
                try:
                    message = decode(line)
                except MCPError as exc:
                    # As a server would: "Parse error", with no id to answer to.
                    self._write(error_response(None, exc))
                    continue
                try:
                    self._from_host(message)
                except Exception:  # a bug of ours must not end the host's connection
                    _bridge_log.exception("relaying a message from the host failed")
            self._let_pending_finish(_EXIT_GRACE)
        finally:
            self.close()
        return 0

    def _let_pending_finish(self, grace: float) -> None:
        """At the end of the input, the requests already sent get ``grace`` seconds to be
        answered (as serve_stdio's own, for input piped in and closed at once)."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return
            time.sleep(0.02)

    def _from_host(self, message: Any) -> None:
        if isinstance(message, list) and message:
            # A JSON-RPC batch (2025-03-26 allowed them): its messages one by one, each
            # answered on a line of its own.
            for one in message:
                self._from_host(one)
            return
        if isinstance(message, dict) and message.get("method") not in ("ping", "notifications/cancelled"):
            with self._lock:
                if self._held is not None:
                    self._held.append(message)
                    if _is_request(message):
                        self._pending[message["id"]] = message  # (the end of input waits for it)
                    return
        self._relay(message)

    def _relay(self, message: Any) -> None:
        if _is_request(message):
            rid = message["id"]
            method = message.get("method")
            with self._lock:
                self._pending[rid] = message
                if method == "initialize":
                    self._held = []
            params = message.get("params") if isinstance(message.get("params"), dict) else {}
            if method == "initialize":
                self._initialize = message
            elif method == "logging/setLevel":
                self._log_level = params
            elif method in ("resources/subscribe", "resources/unsubscribe") and isinstance(params.get("uri"), str):
                (self._subscriptions.add if method == "resources/subscribe" else self._subscriptions.discard)(
                    params["uri"])
            self._send(message, rid)
            return
        if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
            raw = message.get("params")
            params = raw if isinstance(raw, dict) else {}
            with self._lock:
                cancelled = self._pending.pop(params.get("requestId"), None)
                if cancelled is not None:
                    # Whatever comes of it now is not for the host ("the receiver of a
                    # cancellation ... SHOULD NOT send a response").
                    self._cancelled.add(params.get("requestId"))
            if cancelled is not None and cancelled.get("method") == "initialize":
                self._release_held()
        self._send(message, None)
        if isinstance(message, dict) and message.get("method") == "notifications/initialized":
            self._initialized = True
            # A session's GET stream opens now: the server's requests outside any of ours.
            self._channel.ready()

    def _send(self, message: Dict[str, Any], rid: Any) -> None:
        try:
            self._channel.send(message)
        except TransportError as exc:
            if rid is not None:
                self._failed(rid, exc)
            else:
                sys.stderr.write("mcplite bridge: a message to the server was not sent: %s\n" % exc.message)

    # -- server -> host ------------------------------------------------------------------

    def _from_server(self, message: Any) -> None:
        request = None  # type: Optional[Dict[str, Any]]   # the host's, that this answers
        if _bridge_is_response(message):
            rid = message.get("id")
            with self._lock:
                own = self._own.pop(rid, None) if isinstance(rid, str) else None
                request = self._pending.pop(rid, None) if own is None else None
                self._attempts.pop(rid, None)
                if own is None and request is None and rid in self._cancelled:
                    self._cancelled.discard(rid)
                    return
            if own is not None:
                own[1] = message
                own[0].set()
                return
            if request is not None and request.get("method") == "tools/list":
                message = self._tools_listed(message)
            if request is not None and request.get("method") == "initialize":
                if isinstance(message.get("result"), dict):
                    self._negotiated(message["result"])
                elif (not self._fallen_back and self._channel.initialize_refused is not None
                      and "error" in message):
                    # Refused with a 4xx and a JSON-RPC error: an HTTP+SSE server, maybe.
                    with self._lock:
                        self._pending[rid] = request
                    self._failed(rid, TransportError(str(message.get("error"))))
                    return
        self._write(message)
        if request is not None and request.get("method") == "initialize":
            self._release_held()

    def _release_held(self) -> None:
        """The host's initialize is answered (or failed, or cancelled): what it sent since
        goes on, in order, on a thread of its own (not the channel's, which is delivering
        the answer); what the host sends meanwhile queues behind it."""
        def drain() -> None:
            while True:
                with self._lock:
                    if not self._held:
                        self._held = None
                        return
                    message = self._held.pop(0)
                try:
                    self._relay(message)
                except Exception:  # a bug of ours must not end the host's connection
                    _bridge_log.exception("relaying a message from the host failed")
        with self._lock:
            if self._held is None:
                return
        threading.Thread(target=drain, daemon=True, name="mcplite-bridge-held").start()

    def _tools_listed(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """A tools/list page on its way to the host: the channel learns each tool's
        ``x-mcp-header`` arguments (2026-07-28 mirrors them in ``Mcp-Param-*`` headers,
        which the server checks), and a tool no call could carry is dropped, as the Client
        drops it. The pages add up: a host may call a tool of any page."""
        result = message.get("result")
        if not isinstance(result, dict):
            return message
        tools = result.get("tools")
        channel = self._channel
        known = channel.tool_headers
        if not isinstance(tools, list) or known is None:
            return message
        before = dict(known)
        usable = channel.usable_tools([tool for tool in tools if isinstance(tool, dict)])
        before.update(channel.tool_headers)
        channel.tool_headers = before
        if len(usable) == len(tools):
            return message
        return dict(message, result=dict(result, tools=usable))

    def _negotiated(self, result: Dict[str, Any]) -> None:
        version = result.get("protocolVersion")
        if version in LEGACY_VERSIONS:
            # Before the host hears of it (and so before its notifications/initialized):
            # every later request carries the session's MCP-Protocol-Version.
            self._channel.negotiated(ERA_LEGACY, version)

    def _write(self, message: Any) -> None:
        from .stdio import write_whole
        data = encode(message) + b"\n"
        with self._out_lock:
            try:
                # All of it: one write may take only part (a non-blocking pipe, a signal).
                write_whole(self._out, data)
            except (OSError, ValueError):
                pass  # the host has gone; stdin's end will close us

    # -- failures ------------------------------------------------------------------------

    def _failed(self, rid: Any, error: BaseException) -> None:
        """A request the server will never answer as it was sent: repair what can be (a new
        token, a new session, the HTTP+SSE transport), else answer the host with an error."""
        with self._lock:
            request = self._pending.get(rid)
            own = self._own.pop(rid, None) if isinstance(rid, str) else None
            attempt = self._attempts.get(rid, 0)
            if request is not None:
                self._attempts[rid] = attempt + 1
        if own is not None:
            own[1] = error
            own[0].set()
            return
        if request is None or self._closing:
            return
        # The repair may take a while (a person signing in): not on the channel's thread.
        threading.Thread(target=self._repair, args=(rid, request, error, attempt), daemon=True,
                         name="mcplite-bridge-repair").start()

    def _repair(self, rid: Any, request: Dict[str, Any], error: BaseException, attempt: int) -> None:
        channel = self._channel
        try:
            if attempt < 3:
                if (request.get("method") == "initialize" and not self._fallen_back
                        and channel.initialize_refused is not None):
                    # "If it fails with an HTTP 4xx status code", try the 2024-11-05 HTTP+SSE
                    # transport.
                    self._fall_back()
                    self._send(request, rid)
                    return
                if isinstance(error, SessionLost) and self._initialize is not None:
                    self._renew(error.generation)
                    self._send(request, rid)
                    return
                if channel.recover(rid, error, attempt):
                    self._send(request, rid)
                    return
        except TransportError as exc:
            error = exc
        except Exception as exc:  # a bug of ours must not leave the host waiting
            _bridge_log.exception("repairing request %r failed", rid)
            error = exc
        self._answer_error(rid, error)

    def _answer_error(self, rid: Any, error: BaseException) -> None:
        with self._lock:
            request = self._pending.pop(rid, None)
            if request is None:
                return
            self._attempts.pop(rid, None)
        text = error.message if isinstance(error, TransportError) else str(error)
        data = {"url": self._url}  # type: Dict[str, Any]
        if isinstance(error, HttpError):
            data["status"] = error.status
            if error.status in (401, 403):
                # Said to the person, who reads the host's error: what to change in its config.
                text += " (start the bridge with --oauth to sign in, or -H 'Authorization: Bearer ...')"
        self._write(error_response(rid, MCPError(BRIDGE_UNREACHABLE, "The remote server did not answer: %s"
                                                 % text, data)))
        if request.get("method") == "initialize":
            self._release_held()

    def _fall_back(self) -> None:
        with self._renew_lock:
            if self._fallen_back:
                return
            self._fallen_back = True
            old = self._channel
            old.on_close = lambda error: None  # its end is ours, not the host's
            old.close()
            sys.stderr.write("mcplite bridge: %s refused Streamable HTTP; trying the HTTP+SSE transport\n"
                             % self._url)
            self._channel = self._start(self._make_channel(True))

    def _renew(self, lost: int) -> None:
        """The server ended the session (404): a new one, opened with the host's own
        initialize (its answer kept from the host, which has had one), then initialized."""
        with self._renew_lock:
            channel = self._channel
            if channel.session_generation() != lost:
                return  # another request has renewed it already
            assert self._initialize is not None
            own_id = "mcplite-bridge-%d" % next(self._own_ids)
            waiter = [threading.Event(), None]  # type: List[Any]
            with self._lock:
                self._own[own_id] = waiter
            channel.send(dict(self._initialize, id=own_id))
            if not waiter[0].wait(60.0):
                with self._lock:
                    self._own.pop(own_id, None)
                raise TransportError("the server did not answer initialize for a new session")
            answer = waiter[1]
            if isinstance(answer, BaseException):
                raise answer
            if not isinstance(answer.get("result"), dict):
                raise TransportError("the server refused initialize for a new session: %s" % (answer.get("error"),))
            self._negotiated(answer["result"])
            if self._initialized:
                channel.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
                channel.ready()
            again = [("logging/setLevel", self._log_level)] if self._log_level is not None else []
            again += [("resources/subscribe", {"uri": uri}) for uri in sorted(self._subscriptions)]
            for method, params in again:
                # Their answers are the bridge's own (kept from the host, which had them).
                own_id = "mcplite-bridge-%d" % next(self._own_ids)
                with self._lock:
                    self._own[own_id] = [threading.Event(), None]
                channel.send({"jsonrpc": "2.0", "id": own_id, "method": method, "params": params})
            sys.stderr.write("mcplite bridge: the server ended the session; a new one is open\n")

    def _channel_closed(self, error: BaseException) -> None:
        """The connection ended (an HTTP+SSE stream dropped): what is still waiting fails."""
        if self._closing:
            return
        with self._lock:
            waiting = list(self._pending)
        for rid in waiting:
            self._answer_error(rid, error)

    def close(self) -> None:
        self._closing = True
        with self._lock:
            waiting = list(self._pending)
        for rid in waiting:
            self._answer_error(rid, TransportError("the bridge is closing"))
        self._channel.close()  # a session's DELETE



# --- bridge --http: a stdio server over Streamable HTTP ----------------------------------------

class _BridgeChild:
    """One stdio server process behind ``HttpBridgeApp`` and the SSE streams waiting on it.

    A session's child (``shared`` False) sees the ids its one client chose; the shared
    2026-07-28 child serves many clients at once, so each request's id (and progress token)
    is replaced by one of ours there and put back on the way out.
    """

    def __init__(self, argv: List[str], shared: bool, session_id: str = "") -> None:
        from .channels import StdioChannel

        self.shared = shared
        self.session_id = session_id
        self.lock = threading.Lock()
        self.streams = {}  # type: Dict[Any, Tuple[Any, Any]]   # id there -> (EventStream, the client's id)
        self.order = []  # type: List[Any]   # ids there of the open streams, oldest first
        self.tokens = {}  # type: Dict[Any, Tuple[Any, Any]]   # token there -> (the client's token, id there)
        self.get_stream = None  # type: Any
        self.methods = {}  # type: Dict[Any, str]   # id there -> the method of the request
        # Each tool's x-mcp-header arguments, from the tools/list answers that went through:
        # name -> [(path, header, type)], for the Mcp-Param-* checks of 2026-07-28 calls.
        self.header_params = {}  # type: Dict[str, List[Tuple[Tuple[str, ...], str, str]]]
        self.last_active = time.monotonic()
        self.closed = False
        self._ids = itertools.count(1)
        # The child's stderr is ours (the bridge's log); its stdout is the protocol's.
        self.channel = StdioChannel(argv, None, None, False, _BRIDGE_MAX_LINE, 2.0)
        self.channel.start(self._from_child, self._gone)

    def busy(self) -> bool:
        return bool(self.streams)

    def request(self, message: Dict[str, Any], stream: Any) -> Any:
        """Send a request whose messages go to ``stream``; the id it has in the child."""
        self.last_active = time.monotonic()
        rid = message["id"]
        raw_params, raw_meta = message.get("params"), None
        params = raw_params if isinstance(raw_params, dict) else {}
        raw_meta = params.get("_meta")
        meta = raw_meta if isinstance(raw_meta, dict) else {}
        token = meta.get("progressToken")
        with self.lock:
            if self.shared:
                there = "bridge-%d" % next(self._ids)
                message = dict(message, id=there)
                if token is not None:
                    token_there = "%s-progress" % there
                    message["params"] = dict(params, _meta=dict(meta, progressToken=token_there))
                    self.tokens[token_there] = (token, there)
            else:
                there = rid
                if token is not None:
                    self.tokens[token] = (token, there)
            self.streams[there] = (stream, rid)
            self.methods[there] = message["method"]
            self.order.append(there)
        self.send(message)
        return there

    def send(self, message: Any) -> None:
        self.last_active = time.monotonic()
        self.channel.send(message)

    def forget(self, there: Any, cancel: bool) -> None:
        """The client stopped reading the stream of request ``there`` (2026-07-28: closing
        it is cancelling the request, which the child hears as notifications/cancelled)."""
        with self.lock:
            found = self.streams.pop(there, None)
            self.methods.pop(there, None)
            if there in self.order:
                self.order.remove(there)
            for token in [t for t, (_, rid) in self.tokens.items() if rid == there]:
                del self.tokens[token]
        if found is not None and cancel:
            try:
                self.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                           "params": {"requestId": there, "reason": "the client closed the stream"}})
            except TransportError:
                pass

    def _from_child(self, message: Any) -> None:
        self.last_active = time.monotonic()
        if _bridge_is_response(message):
            with self.lock:
                found = self.streams.pop(message.get("id"), None)
                if self.methods.pop(message.get("id"), None) == "tools/list":
                    self._learn_tools(message.get("result"))
                if message.get("id") in self.order:
                    self.order.remove(message.get("id"))
                for token in [t for t, (_, rid) in self.tokens.items() if rid == message.get("id")]:
                    del self.tokens[token]
            if found is not None:
                stream, rid = found
                stream.push_message(dict(message, id=rid))
                stream.finish()
            return  # (the answer to a request whose client has gone)
        raw = message.get("params") if isinstance(message, dict) else None
        params = raw if isinstance(raw, dict) else {}
        token = params.get("progressToken")
        with self.lock:
            related = self.tokens.get(token) if token is not None else None
            target = None
            if related is not None:
                target = self.streams.get(related[1], (None,))[0]
                message = dict(message, params=dict(params, progressToken=related[0]))
            elif not self.shared:
                # Not tied to a request we can tell (a stdio server does not say which
                # request a question or log message is about): the newest open request's
                # stream, where the client is listening for it, else the GET stream.
                if self.order:
                    target = self.streams[self.order[-1]][0]
                else:
                    if self.get_stream is None:
                        from .sse import EventStream
                        self.get_stream = EventStream("g")
                    target = self.get_stream
        if target is not None:
            target.push_message(message)
        else:
            _bridge_log.debug("dropped a message of the shared child with nowhere to go: %r", message.get("method"))

    def _learn_tools(self, result: Any) -> None:
        from .schema import header_parameters
        tools = result.get("tools") if isinstance(result, dict) else None
        for tool in tools if isinstance(tools, list) else ():
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                try:
                    self.header_params[tool["name"]] = header_parameters(tool.get("inputSchema") or {})
                except (ValueError, TypeError, AttributeError):
                    self.header_params.pop(tool["name"], None)

    def check_param_headers(self, req: Any, message: Dict[str, Any]) -> None:
        """A 2026-07-28 tools/call's ``Mcp-Param-*`` headers against its arguments: "Any
        server that processes the message body MUST validate that encoded header values
        ... match the corresponding values in the request body" - the process behind us
        never sees the headers, so the bridge checks, for the tools a tools/list through it
        has shown (the check McpHttpApp makes for a Server's own tools)."""
        from .httpapp import check_param_headers
        params = message.get("params")
        if message.get("method") != "tools/call" or not isinstance(params, dict):
            return
        with self.lock:
            known = self.header_params.get(params.get("name"))  # type: ignore[arg-type]
        if known:
            check_param_headers(known, params.get("arguments"), req.headers)

    def _gone(self, error: BaseException) -> None:
        """The child exited: every request waiting on it gets an error, its streams end.
        (``error`` is the channel's ``ConnectionClosed``, whose text is its message.)"""
        self.closed = True
        with self.lock:
            waiting = list(self.streams.values())
            self.streams.clear()
            self.order = []
            get_stream = self.get_stream
        for stream, rid in waiting:
            stream.push_message(error_response(rid, MCPError(
                BRIDGE_UNREACHABLE, "The server process ended: %s" % (error,))))
            stream.finish()
        if get_stream is not None:
            get_stream.finish()

    def close(self) -> None:
        self.closed = True
        self.channel.close()


class HttpBridgeApp:
    """The HTTP side of ``bridge --http``: what ``httpserver``'s front end asks of an app
    (``handle``, ``path``, ``max_body_bytes``, ``poll_interval``, ``close``), relaying to
    stdio server processes. Every request's answer is an SSE stream (clients accept both)."""

    poll_interval = 0.25

    def __init__(self, argv: List[str], path: str = "/mcp", *, allowed_hosts: Optional[List[str]] = None,
                 allowed_origins: Optional[List[str]] = None, bearer: Optional[str] = None,
                 max_body_bytes: int = 4 * 1024 * 1024, max_sessions: int = 16,
                 session_idle_timeout: float = 1800.0) -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        self.argv = list(argv)
        self.path = path
        self.allowed_hosts = [h.lower() for h in allowed_hosts] if allowed_hosts is not None else None
        self.allowed_origins = [o.lower().rstrip("/") for o in allowed_origins] if allowed_origins is not None else None
        self.bearer = bearer
        self.max_body_bytes = max_body_bytes
        self.max_sessions = max_sessions
        self.session_idle_timeout = session_idle_timeout
        self._sessions = {}  # type: Dict[str, _BridgeChild]
        self._shared = None  # type: Optional[_BridgeChild]
        self._lock = threading.Lock()
        self.closed = False

    # The server's own checks, as McpHttpApp makes them (they read allowed_hosts/_origins only).
    def _host_allowed(self, host: Optional[str]) -> bool:
        from .httpapp import McpHttpApp
        return McpHttpApp._host_allowed(self, host)  # type: ignore[arg-type]

    def _origin_allowed(self, origin: str) -> bool:
        from .httpapp import McpHttpApp
        return McpHttpApp._origin_allowed(self, origin)  # type: ignore[arg-type]

    def _check_modern_headers(self, req: Any, message: Dict[str, Any]) -> None:
        from .httpapp import McpHttpApp
        McpHttpApp._check_modern_headers(self, req, message)  # type: ignore[arg-type]

    def handle(self, req: Any) -> Any:
        from .httpapp import INTERNAL_ERROR, _error
        try:
            return self._handle(req)
        except Exception:
            _bridge_log.exception("internal error while handling %s %s", req.method, req.path)
            return _error(500, INTERNAL_ERROR, "Internal error")

    def _handle(self, req: Any) -> Any:
        from .httpapp import INVALID_REQUEST, HttpResponse, _error
        self._sweep()
        if not self._host_allowed(req.headers.get("host")):
            return _error(421, INVALID_REQUEST, "Misdirected request: Host header not allowed")
        origin = req.headers.get("origin")
        if origin is not None and not self._origin_allowed(origin):
            # "If the Origin header is present and invalid, servers MUST respond with HTTP
            # 403 Forbidden."
            return _error(403, INVALID_REQUEST, "Forbidden: Origin not allowed")
        if req.path != self.path:
            return _error(404, INVALID_REQUEST, "Not found: the MCP endpoint is %s" % self.path)
        if self.bearer is not None:
            import hmac
            given = req.headers.get("authorization", "")
            scheme, _, token = given.strip().partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                                     self.bearer.encode("utf-8")):
                # "Invalid or expired tokens MUST receive a HTTP 401 response."
                challenge = "Bearer" + (' error="invalid_token"' if given else "")
                return _error(401, INVALID_REQUEST, "Authorization required" if not given else "Invalid token",
                              headers=[("WWW-Authenticate", challenge)])
        if req.method == "POST":
            return self._post(req)
        if req.method == "GET":
            return self._get(req)
        if req.method == "DELETE":
            return self._delete(req)
        return HttpResponse(405, [("Allow", "GET, POST, DELETE")])

    def _post(self, req: Any) -> Any:
        from .httpapp import JSON_TYPE, SSE_TYPE, HttpResponse, _accepts, _error, _json_response
        from .jsonrpc import INVALID_REQUEST, METHOD_NOT_FOUND, NOTIFICATION, REQUEST, classify
        from .protocol import LEGACY_ONLY_METHODS, MODERN_VERSIONS
        if req.headers.get("content-type", "").split(";", 1)[0].strip().lower() != JSON_TYPE:
            return _error(415, INVALID_REQUEST, "Unsupported Media Type: send Content-Type: application/json")
        accept = req.headers.get("accept", "")
        if not (_accepts(accept, JSON_TYPE) and _accepts(accept, SSE_TYPE)):
            return _error(406, INVALID_REQUEST, "Not Acceptable: send Accept: application/json, text/event-stream")
        try:
            message = decode(req.body)
            kind = classify(message)
        except MCPError as exc:
            return _error(400, exc.code, exc.message)
        from .httpapp import McpHttpApp
        if McpHttpApp._is_modern(req, message):
            if kind is NOTIFICATION:
                return HttpResponse(202)  # (closing a stream is the cancellation in this era)
            if kind is not REQUEST:
                return _error(400, INVALID_REQUEST, "Invalid Request: a 2026-07-28 client does not send responses")
            if message["method"] in LEGACY_ONLY_METHODS:
                return _json_response(404, error_response(message["id"], MCPError(
                    METHOD_NOT_FOUND, "Method not found: %s is not part of protocol %s"
                    % (message["method"], ", ".join(MODERN_VERSIONS)))))
            try:
                self._check_modern_headers(req, message)
                shared = self._shared_child()
                shared.check_param_headers(req, message)
            except MCPError as exc:
                return _json_response(400, error_response(message["id"], exc))
            except TransportError as exc:
                return _error(502, INVALID_REQUEST, "The server process is not there: %s" % exc.message,
                              message["id"])
            return self._relay(lambda: shared, message, req, [])
        session_id = req.headers.get("mcp-session-id")
        if session_id is None:
            if kind is not REQUEST or message["method"] != "initialize":
                return _error(400, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required: send initialize "
                              "first")
            return self._initialize(message, req)
        with self._lock:
            child = self._sessions.get(session_id)
        if child is None or child.closed:
            return _error(404, INVALID_REQUEST, "Session not found")
        if kind is REQUEST:
            return self._relay(lambda: child, message, req, [])
        try:
            child.send(message)
        except TransportError as exc:
            return _error(502, INVALID_REQUEST, "The server process did not take the message: %s" % exc.message)
        return HttpResponse(202)

    def _initialize(self, message: Dict[str, Any], req: Any) -> Any:
        from .httpapp import INTERNAL_ERROR, _error
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                return _error(503, INTERNAL_ERROR, "Service unavailable: all %d sessions are in use (each has its "
                              "own server process); try again later" % self.max_sessions,
                              headers=[("Retry-After", "1")])
            # "The session ID SHOULD be globally unique and cryptographically secure".
            import secrets
            session_id = secrets.token_hex(16)
            try:
                child = _BridgeChild(self.argv, False, session_id)
            except TransportError as exc:
                return _error(502, INTERNAL_ERROR, "Cannot start the server process: %s" % exc.message)
            self._sessions[session_id] = child
        return self._relay(lambda: child, message, req, [("Mcp-Session-Id", session_id)])

    def _shared_child(self) -> _BridgeChild:
        ended = None  # type: Optional[_BridgeChild]
        try:
            with self._lock:
                if self._shared is None or self._shared.closed:
                    ended, self._shared = self._shared, None
                    self._shared = _BridgeChild(self.argv, True)
                return self._shared
        finally:
            if ended is not None:
                # The process that ended: what its group left (a wrapper's helper) is
                # stopped with it, and its pipes closed; nothing else would.
                ended.close()

    def _relay(self, child_of: Callable[[], _BridgeChild], message: Dict[str, Any], req: Any,
               headers: List[Tuple[str, str]]) -> Any:
        from .httpapp import INTERNAL_ERROR, HttpResponse, _error, _sse_headers
        from .sse import EventStream
        stream = EventStream("r")
        try:
            child = child_of()
            there = child.request(message, stream)
        except TransportError as exc:
            return _error(502, INTERNAL_ERROR, "The server process is not there: %s" % exc.message, message.get("id"))

        def closed(complete: bool, last: int) -> None:
            if not complete:
                child.forget(there, cancel=child.shared)
        return HttpResponse(200, _sse_headers() + headers, stream=stream, on_close=closed)

    def _session(self, req: Any) -> Any:
        from .httpapp import INVALID_REQUEST, _error
        session_id = req.headers.get("mcp-session-id")
        if session_id is None:
            return _error(400, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required")
        with self._lock:
            child = self._sessions.get(session_id)
        if child is None or child.closed:
            return _error(404, INVALID_REQUEST, "Session not found")
        return child

    def _get(self, req: Any) -> Any:
        from .httpapp import INVALID_REQUEST, SSE_TYPE, HttpResponse, _accepts, _error, _sse_headers
        from .sse import EventStream
        if not _accepts(req.headers.get("accept", ""), SSE_TYPE):
            return _error(406, INVALID_REQUEST, "Not Acceptable: send Accept: text/event-stream")
        child = self._session(req)
        if not isinstance(child, _BridgeChild):
            return child
        with child.lock:
            if child.get_stream is None:
                child.get_stream = EventStream("g")
            stream = child.get_stream
        response = HttpResponse(200, _sse_headers(), stream=stream)
        if not stream.attach(response):
            return _error(409, INVALID_REQUEST, "Conflict: this session's GET stream is already open")
        return response

    def _delete(self, req: Any) -> Any:
        from .httpapp import HttpResponse
        child = self._session(req)
        if not isinstance(child, _BridgeChild):
            return child
        with self._lock:
            self._sessions.pop(child.session_id, None)
        child.close()
        return HttpResponse(200)

    def _sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            ended = [child for child in self._sessions.values()
                     if child.closed or (not child.busy() and now - child.last_active > self.session_idle_timeout)]
            for child in ended:
                del self._sessions[child.session_id]
        for child in ended:
            child.close()

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close(self) -> None:
        self.closed = True
        with self._lock:
            children = list(self._sessions.values()) + ([self._shared] if self._shared is not None else [])
            self._sessions.clear()
            self._shared = None
        # Side by side: each waits for its process to read the end of its input and exit,
        # and one after the other that added up (SIGTERM to the bridge must end it promptly).
        closers = [threading.Thread(target=child.close, daemon=True) for child in children]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(10.0)


def start_http_bridge(argv: List[str], host: str = "127.0.0.1", port: int = 0, background: bool = True,
                      max_connections: int = 256, read_timeout: float = 30.0, keepalive_interval: float = 15.0,
                      trace: Any = None, **options: Any) -> Any:
    """Serve the stdio server ``argv`` at ``http://host:port/mcp`` (``HttpBridgeApp``'s
    options); a handle with ``url``, ``port`` and ``stop()``. Refuses a non-loopback
    address unless ``allowed_hosts`` or ``allowed_origins`` say which names it answers to."""
    from .httpserver import HttpServerHandle, _McpHttpServer
    from .loopback import is_loopback_host
    if not is_loopback_host(host) and options.get("allowed_hosts") is None and options.get("allowed_origins") is None:
        raise ValueError("refusing to bind %r, which is not a loopback address, without allowed_hosts and "
                         "allowed_origins: say which Host and Origin values this server answers to" % host)
    tracer = None
    if trace is not None and trace is not False:
        from .tracing import make_tracer
        tracer = make_tracer(trace)
    app = HttpBridgeApp(argv, **options)
    httpd = _McpHttpServer((host, port), app, max_connections, read_timeout, keepalive_interval,  # type: ignore[arg-type]
                           tracer)
    thread = None
    if background:
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="mcplite-bridge-http", daemon=True)
        thread.start()
    return HttpServerHandle(httpd, app, thread)  # type: ignore[arg-type]


# --- the command ------------------------------------------------------------------------------

def add_bridge_commands(commands: Any, common: Any) -> None:
    """Add ``bridge`` to the command line's sub-parsers."""
    import argparse

    from .cli import cli_http_serving_options

    bridge = commands.add_parser(
        "bridge", parents=[common], help="stdio <-> Streamable HTTP: a remote server for a stdio host, or a "
                                         "stdio server over HTTP",
        usage="%(prog)s (--stdio URL [-H 'Name: value'] [--oauth] | --http HOST:PORT -- COMMAND [ARG ...])",
        description="--stdio URL: relay JSON-RPC lines between our stdin/stdout and the Streamable HTTP (or "
                    "HTTP+SSE) server at URL, for a host that starts stdio servers only; -H values may name "
                    "environment variables as ${NAME}. --http HOST:PORT -- COMMAND: serve the stdio server "
                    "COMMAND at http://HOST:PORT/mcp, one COMMAND process per session; --http: every client must "
                    "send --bearer TOKEN (or MCPLITE_BRIDGE_TOKEN) when given, as 'Authorization: Bearer TOKEN'.")
    bridge.add_argument("--stdio", metavar="URL", help="the remote MCP endpoint to relay stdin/stdout to")
    bridge.add_argument("--http", metavar="HOST:PORT", help="serve the stdio COMMAND over Streamable HTTP here "
                                                            "(HOST defaults to 127.0.0.1; PORT 0 picks one)")
    cli_http_serving_options(bridge, "--http: ")
    bridge.add_argument("--max-sessions", dest="max_sessions", type=int, default=16, metavar="N",
                        help="--http: at most N sessions, each with its own COMMAND process (default 16)")
    bridge.add_argument("--max-body", dest="max_body", type=int, default=4 * 1024 * 1024, metavar="BYTES",
                        help="--http: the largest request body accepted (default 4 MiB)")
    bridge.add_argument("--session-idle", dest="session_idle", type=float, default=1800.0, metavar="SECONDS",
                        help="--http: a session unused this long ends, and its process (default 1800)")
    bridge.add_argument("words", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                        help="--http: the stdio server's command line, after --")
    bridge.set_defaults(run=_bridge_command)


def _bridge_command(args: Any) -> int:
    from .cli import CLI_EXIT_USAGE, CliFailure

    words = list(args.words or [])
    if words and words[0] == "--":
        words = words[1:]
    if (args.stdio is None) == (args.http is None):
        raise CliFailure(CLI_EXIT_USAGE, "give --stdio URL or --http HOST:PORT -- COMMAND")
    if args.stdio is not None:
        if words:
            raise CliFailure(CLI_EXIT_USAGE, "--stdio takes no command (unexpected %r)" % " ".join(words))
        return _bridge_stdio(args)
    if not words:
        raise CliFailure(CLI_EXIT_USAGE, "--http needs the stdio server's command after --")
    return _bridge_http(args, words)


def _bridge_stdio(args: Any) -> int:
    import signal

    from .cli import CLI_EXIT_USAGE, CliFailure, CliTarget, cli_authorization, cli_headers, cli_tracer
    from .httpclient import HttpChannel, LegacySseChannel
    from .stdio import _protect_standard_streams

    url = args.stdio
    target = CliTarget("http", url, url=url)
    try:
        headers = {name: bridge_expand_env(value) for name, value in cli_headers(args).items()}
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    # The person signs in in a browser: a desktop host shows no terminal (the URL is on
    # stderr too).
    auth, auth_headers = cli_authorization(args, target, open_browser=True)
    headers.update(auth_headers)
    tracer = cli_tracer(args)

    def make_channel(legacy_sse: bool) -> Any:
        if legacy_sse:  # (its answers come on the GET stream, which may be quiet for long)
            channel = LegacySseChannel(url, headers, connect_timeout=args.timeout, auth=auth)  # type: Any
        else:
            channel = HttpChannel(url, headers, connect_timeout=args.timeout, auth=auth)
            # No client session here to bound a request's wait: --timeout does ("wait at
            # most this long for each answer"), as the quiet allowed on it.
            channel.session_watches_requests = False
        channel.tracer = tracer
        return channel

    # Before anything can print: stdout is the protocol's alone.
    stdin, stdout = _protect_standard_streams()
    try:
        bridge = StdioBridge(make_channel, stdout, url)
    except ValueError as exc:  # a URL that is not http(s)
        raise CliFailure(CLI_EXIT_USAGE, str(exc))

    def stop(signum: int, frame: Any) -> None:
        raise _BridgeStop()
    # A host that stops us with SIGTERM rather than closing stdin: the session still ends
    # (DELETE) on the way out.
    signal.signal(signal.SIGTERM, stop)
    outcome = []  # type: List[Any]

    def relay() -> None:
        try:
            outcome.append(bridge.run(stdin))
        except BaseException as exc:  # (raised again on the main thread, below)
            outcome.append(exc)
    # The relay has a thread of its own, and the main thread waits for it in short steps:
    # the kernel gives a SIGTERM to any thread of the process (one waiting for a sign-in,
    # say), and Python runs the handler on the main thread only when that thread runs again,
    # which a read of stdin that nothing writes to would put off for ever.
    relaying = threading.Thread(target=relay, name="mcplite-bridge-relay", daemon=True)
    try:
        relaying.start()
        while relaying.is_alive():
            relaying.join(0.25)
    except (KeyboardInterrupt, _BridgeStop):
        bridge.close()
        return 0
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return int(outcome[0])


class _BridgeStop(Exception):
    """SIGTERM to ``bridge --stdio``: end the session and exit."""


def _bridge_http(args: Any, argv: List[str]) -> int:
    import signal

    from .cli import CLI_EXIT_FAILED, CLI_EXIT_USAGE, CliFailure, _host_port, cli_tracer

    host, port = _host_port(args.http)
    signing_in = (args.oauth, args.client_id, args.client_secret, args.token_file, args.client_metadata_url,
                  args.private_key, args.assertion, args.id_token, args.idp_token_endpoint, args.idp_client_id,
                  args.dpop)
    if any(signing_in) or args.headers:
        raise CliFailure(CLI_EXIT_USAGE, "signing in (--oauth, --client-id, --token-file, ...) and -H are for "
                                         "--stdio; --http takes --bearer TOKEN, the token its clients must send")
    token = args.bearer if args.bearer is not None else (os.environ.get("MCPLITE_BRIDGE_TOKEN") or None)
    if token is not None and (not token.strip() or any(ch.isspace() or not " " < ch < "\x7f" for ch in token)):
        raise CliFailure(CLI_EXIT_USAGE, "--bearer takes the token alone (visible ASCII, no spaces)")
    options = {"path": args.path, "bearer": token, "max_body_bytes": args.max_body,
               "max_sessions": args.max_sessions, "session_idle_timeout": args.session_idle}  # type: Dict[str, Any]
    if args.allowed_hosts:
        options["allowed_hosts"] = args.allowed_hosts
    if args.allowed_origins:
        options["allowed_origins"] = args.allowed_origins
    if args.max_sessions < 1 or args.max_body < 1:
        raise CliFailure(CLI_EXIT_USAGE, "--max-sessions and --max-body must be at least 1")
    import shutil
    if argv and shutil.which(argv[0]) is None:
        # The process starts with each session, later: a command that cannot run would
        # otherwise only show as a 502 to every client.
        raise CliFailure(CLI_EXIT_FAILED, "cannot run %r: no such executable file (a name is looked up on "
                                          "PATH)" % argv[0])
    try:
        handle = start_http_bridge(argv, host, port, background=False, trace=cli_tracer(args), **options)
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    except OSError as exc:
        raise CliFailure(CLI_EXIT_FAILED, "cannot listen on %s:%d: %s" % (host, port, exc.strerror or exc))

    def stop(signum: int, frame: Any) -> None:
        # Not an exception raised wherever the main thread happens to be (it could land
        # inside a lock's critical section): serve_forever is asked to return, from another
        # thread, as shutdown() requires.
        threading.Thread(target=handle._httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    try:
        sys.stderr.write("mcplite bridge: serving %s at %s\n" % (" ".join(argv), handle.url))
        sys.stderr.flush()
        handle.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


def add_proxy_command(commands: Any, common: Any) -> None:
    """Add ``proxy`` to the command line's sub-parsers."""
    from .cli import cli_http_serving_options
    proxy = commands.add_parser(
        "proxy", parents=[common], help="every server of an mcpServers configuration as one MCP server",
        usage="%(prog)s CONFIG [--http HOST:PORT]",
        description="Start every server of CONFIG (a JSON file in the mcpServers form, or VS Code's servers) "
                    "and serve them as one MCP server on stdio (--http: Streamable HTTP at "
                    "http://HOST:PORT/mcp): each server's tools and prompts as SERVER__NAME, its resources "
                    "under their own URIs. A server that cannot start is named on stderr and left out.")
    proxy.add_argument("config", metavar="CONFIG", help="the mcpServers configuration file")
    proxy.add_argument("--http", metavar="HOST:PORT", help="serve Streamable HTTP here instead of stdio "
                                                           "(HOST defaults to 127.0.0.1)")
    cli_http_serving_options(proxy, "--http: ", sessions=True)
    proxy.set_defaults(run=_proxy_command)


def _proxy_command(args: Any) -> int:
    from .cli import CLI_EXIT_FAILED, CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure, _host_port, cli_http_app_options
    from .hostconfig import load_config
    from .server import Server

    address = _host_port(args.http) if args.http is not None else None
    streams = None
    if address is None:
        # Before anything can print: stdout is the protocol's alone.
        from .stdio import _protect_standard_streams
        streams = _protect_standard_streams()
    try:
        config = load_config(args.config)
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    app = Server("mcplite-proxy")
    mounts = []  # type: List[Any]
    try:
        for server in config.servers:
            if server.problem is not None:
                sys.stderr.write("mcplite proxy: server %r left out: %s\n" % (server.name, server.problem))
                continue
            try:
                mounts.append(app.mount(server.name, server, timeout=args.timeout))
            except Exception as exc:  # one server that does not start leaves the others served
                sys.stderr.write("mcplite proxy: server %r left out: %s\n" % (server.name, exc))
        sys.stderr.flush()
        if not mounts:
            raise CliFailure(CLI_EXIT_FAILED, "no server of %s could be started" % args.config)
        if address is None:
            assert streams is not None
            app.run("stdio", stdin=streams[0], stdout=streams[1])
            return CLI_EXIT_OK
        options = dict(cli_http_app_options(args), host=address[0], port=address[1])
        try:
            app.run("http", **options)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, str(exc))
        except OSError as exc:
            raise CliFailure(CLI_EXIT_FAILED, "cannot listen on %s:%d: %s" % (address[0], address[1],
                                                                           exc.strerror or exc))
        return CLI_EXIT_OK
    finally:
        for mount in mounts:
            mount.close()
