"""``bridge``: one transport in front of another, message by message.

    python -m mcplite bridge --stdio https://example.com/mcp [-H 'Name: value'] [--oauth]
    python -m mcplite bridge --http 127.0.0.1:8000 -- python3 server.py

**--stdio URL** is for a host that runs stdio servers only: it starts this bridge, and the
bridge carries each JSON-RPC line of its stdin to the remote Streamable HTTP server (or an
old HTTP+SSE one) and every message the server sends - responses, notifications, its own
requests (elicitation, sampling, roots), on a POST's response, its SSE stream or the
session's GET stream - to stdout, one per line. The host's answers to the server's requests
go back the same way. The bridge does not speak MCP itself: it relays, and leaves the
protocol to the two ends. What HTTP needs is the HTTP channel's (httpclient.py): the
session id and ``MCP-Protocol-Version`` header, 2026-07-28's ``Mcp-Method``/``Mcp-Name``
headers, resuming a broken stream, the HTTP+SSE fallback, OAuth. A session the server
ended (404) is opened again with the host's own ``initialize`` and the request sent there.
A request the remote cannot answer (unreachable, an HTTP error, a dropped stream) gets a
JSON-RPC error on stdout at once, never silence. When stdin ends the session is closed
(DELETE) and the bridge exits. Nothing but protocol goes to stdout.

**--http HOST:PORT -- CMD ...** serves a stdio server over Streamable HTTP: each session a
client opens (``initialize``) gets its own CMD process - a stdio server has one client -
up to ``--max-sessions``; DELETE, an idle session's expiry or the process's exit end it.
A 2026-07-28 request (no session) goes to one shared CMD process with its id made unique
there. The HTTP side has the server's defaults: loopback only, Host and Origin checked,
``--bearer TOKEN`` (or ``MCPLITE_BRIDGE_TOKEN``) required of every client when given, bounded bodies and sessions.
"""

import hmac
import itertools
import os
import re
import secrets
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import HttpError, MCPError, SessionLost, TransportError
from .jsonrpc import decode, encode, error_response
from .logs import LazyLogger
from .protocol import ERA_LEGACY, ERA_MODERN, LEGACY_VERSIONS, META_PROTOCOL_VERSION

_bridge_log = LazyLogger("mcplite.bridge")
# The JSON-RPC error a request gets when the far side cannot answer it: "-32000 to -32099
# Reserved for implementation-defined server-errors".
BRIDGE_UNREACHABLE = -32000
_BRIDGE_MAX_LINE = 16 * 1024 * 1024
_BRIDGE_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def bridge_expand_env(value: str) -> str:
    """``${NAME}`` in a header value replaced by the environment's NAME (a desktop host's
    configuration keeps the secret in its ``env`` block, not in the arguments); an unset one
    is an error rather than an empty credential."""
    def one(match: Any) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError("the header names ${%s}, which is not set in the environment" % name)
        return os.environ[name]
    return _BRIDGE_ENV_VAR.sub(one, value)


def _is_request(message: Any) -> bool:
    return isinstance(message, dict) and isinstance(message.get("method"), str) and "id" in message


def _is_response(message: Any) -> bool:
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
        # Requests the bridge itself makes (initialize again in a new session): id -> [event, answer]
        self._own = {}  # type: Dict[str, List[Any]]
        self._own_ids = itertools.count(1)
        self._fallen_back = False
        self._closing = False
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
                self._from_host(message)
        finally:
            self.close()
        return 0

    def _from_host(self, message: Any) -> None:
        if _is_request(message):
            rid = message["id"]
            with self._lock:
                self._pending[rid] = message
            if message.get("method") == "initialize":
                self._initialize = message
            self._send(message, rid)
            return
        if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
            params = message.get("params") if isinstance(message.get("params"), dict) else {}
            with self._lock:
                if self._pending.pop(params.get("requestId"), None) is not None:
                    # Whatever comes of it now is not for the host ("the receiver of a
                    # cancellation ... SHOULD NOT send a response").
                    self._cancelled.add(params.get("requestId"))
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
        if _is_response(message):
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
            if request is not None and request.get("method") == "initialize" and isinstance(message.get("result"),
                                                                                              dict):
                self._negotiated(message["result"])
        self._write(message)

    def _negotiated(self, result: Dict[str, Any]) -> None:
        version = result.get("protocolVersion")
        if version in LEGACY_VERSIONS:
            # Before the host hears of it (and so before its notifications/initialized):
            # every later request carries the session's MCP-Protocol-Version.
            self._channel.negotiated(ERA_LEGACY, version)

    def _write(self, message: Any) -> None:
        data = encode(message) + b"\n"
        with self._out_lock:
            try:
                self._out.write(data)
                self._out.flush()
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
                        and getattr(channel, "initialize_refused", None) is not None):
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
            if self._pending.pop(rid, None) is None:
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


# --- the command ------------------------------------------------------------------------------

def add_bridge_commands(commands: Any, common: Any) -> None:
    """Add ``bridge`` to the command line's sub-parsers."""
    import argparse

    bridge = commands.add_parser(
        "bridge", parents=[common], help="stdio <-> Streamable HTTP: a remote server for a stdio host, or a "
                                         "stdio server over HTTP",
        usage="%(prog)s (--stdio URL [-H 'Name: value'] [--oauth] | --http HOST:PORT -- COMMAND [ARG ...])",
        description="--stdio URL: relay JSON-RPC lines between our stdin/stdout and the Streamable HTTP (or "
                    "HTTP+SSE) server at URL, for a host that starts stdio servers only; -H values may name "
                    "environment variables as ${NAME}. --http HOST:PORT -- COMMAND: serve the stdio server "
                    "COMMAND at http://HOST:PORT/mcp, one COMMAND process per session.")
    bridge.add_argument("--stdio", metavar="URL", help="the remote MCP endpoint to relay stdin/stdout to")
    bridge.add_argument("--http", metavar="HOST:PORT", help="serve the stdio COMMAND over Streamable HTTP here "
                                                            "(HOST defaults to 127.0.0.1; PORT 0 picks one)")
    bridge.add_argument("--path", default="/mcp", help="--http: the endpoint's path (default /mcp)")
    bridge.add_argument("--allowed-host", dest="allowed_hosts", action="append", metavar="NAME",
                        help="--http: a Host (and Origin host) to answer to; needed to bind a non-loopback "
                             "address (repeatable)")
    bridge.add_argument("--allowed-origin", dest="allowed_origins", action="append", metavar="ORIGIN",
                        help="--http: an Origin whose pages may call the server (repeatable)")
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
        channel = (LegacySseChannel(url, headers, connect_timeout=args.timeout, auth=auth) if legacy_sse
                   else HttpChannel(url, headers, connect_timeout=args.timeout, auth=auth))
        channel.tracer = tracer
        return channel

    # Before anything can print: stdout is the protocol's alone.
    stdin, stdout = _protect_standard_streams()
    try:
        bridge = StdioBridge(make_channel, stdout, url)
    except ValueError as exc:  # a URL that is not http(s)
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    return bridge.run(stdin)
