"""The declared interfaces between the protocol and the transports: what a transport offers a
request it serves (``Port``), what hears of changes to a server's registrations
(``ChangeListener``), what a transport offers the ``Client`` (``ClientChannel``), and what an
HTTP channel asks of the authorization it carries (``ClientAuth``, which ``OAuth`` is).

Each is a base class whose methods do what a transport without the feature does (nothing, or
refuse), so the protocol code calls them plainly, never probing with ``getattr``; a transport
overrides what it offers. No I/O here.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import MCPError
from .jsonrpc import INVALID_REQUEST, Message, Pending


class Port:
    """What the transport serving a request offers it (and its handler's ``Context``).

    ``stateful``: the connection outlives the request, so the client can be asked things while
    the handler waits, and told later of changes (not so for a stateless HTTP POST, which ends
    with its response). The defaults are those of a transport with no way back to the client.
    """

    stateful = False
    # Whom the server's per-client bounds count this request for (the task store's): a
    # transport names its client (an HTTP request's address or token holder, a stdio
    # process's one client); "" is anyone.
    client = ""

    def emit(self, call: Any, message: Message) -> None:
        """Send a message about ``call`` to its client (progress, a log message, a question),
        on the request's own stream where there is one; dropped once the call was cancelled."""

    def notify(self, message: Message) -> bool:
        """Send a message about the session, not one request; False where none can be sent."""
        return False

    def ask(self, method: str, params: Dict[str, Any]) -> Tuple[Message, Pending]:
        """A new request to the client, and the Pending its answer settles. Only a stateful
        port can: the others refuse."""
        raise refused_here(method)

    def forget(self, request_id: Any) -> None:
        """Stop waiting for the answer to a request ``ask`` made (a late answer is ignored)."""

    def close_stream(self, call: Any, retry_ms: Optional[int]) -> bool:
        """Close the connection that carries ``call``'s SSE stream, the stream itself going on
        (Streamable HTTP with a 2025-11-25 client); False where there is no such thing."""
        return False


def refused_here(method: str) -> MCPError:
    """The error of a question to the client where the port has no way back to it."""
    return MCPError(INVALID_REQUEST, "%s cannot be sent here: this transport has no way back to the client "
                                     "(stateless HTTP?)" % method)


# The port of a request no transport carries any more (a task's handler, which runs on after
# its request was answered: "notifications ... are not supported on tasks in general").
DETACHED_PORT = Port()


class ChangeListener:
    """Hears of changes to a server's registrations: a legacy session (which sends
    ``notifications/<kind>/list_changed`` and ``notifications/resources/updated`` to its
    client), or a 2026-07-28 ``subscriptions/listen`` stream. The defaults ignore both."""

    def list_changed(self, kind: str) -> None:
        """The list of ``kind`` ("tools", "prompts" or "resources") changed."""

    def resource_updated(self, uri: str) -> None:
        """Resource ``uri`` changed."""


def no_hook(*args: Any) -> None:
    """A hook that does nothing (a ``ClientChannel``'s before it is started)."""


class ClientChannel:
    """What a transport offers the ``Client``: ``send`` one message, ``close``; and the
    optional steps below, whose defaults do nothing, for a transport that needs them (HTTP).

    A channel calls ``on_message(message)`` for each decoded message from the server,
    ``on_failure(request_id, error)`` when one of our requests failed on this side of the
    wire (a ``TransportError``: the server will never answer it), and ``on_close(error)``
    once, when the connection ends.
    """

    tracer = None  # type: Any   # a Tracer (tracing.py) shown every message, or None
    # Whether ``send_waited`` may carry a request on its sender's thread (HTTP): the
    # session then watches that request's timeout and cancellation from another thread.
    sends_waited = False
    # A channel to a child process (stdio) knows the last line of its stdout that was not
    # JSON (the likely reason a server never answered: it is no MCP server), how long
    # ``close`` waits for it to exit before each signal, and the process (a subprocess.Popen,
    # whose pid a gateway's mount shows); the others know none of these.
    garbage = None  # type: Optional[bytes]
    close_timeout = None  # type: Optional[float]
    process = None  # type: Any
    # A Streamable HTTP channel knows the status (4xx) of a refused ``initialize``, the sign
    # of an old HTTP+SSE server to fall back to, and the ``x-mcp-header`` arguments of each
    # tool that ``usable_tools`` saw (name -> [(path, header)], mirrored in ``Mcp-Param-*``
    # headers); the others, neither (None).
    initialize_refused = None  # type: Optional[int]
    tool_headers = None  # type: Optional[Dict[str, List[Tuple[Tuple[str, ...], str]]]]

    def __init__(self) -> None:
        # The Client's hooks, given by ``start``; until then (a channel closed before it
        # started, say) they do nothing.
        self.on_message = no_hook  # type: Callable[[Any], None]
        self.on_failure = no_hook  # type: Callable[[Any, BaseException], Any]
        self.on_close = no_hook  # type: Callable[[BaseException], None]

    def start(self, on_message: Callable[[Any], None], on_close: Callable[[BaseException], None],
              on_failure: Callable[[Any, BaseException], Any] = no_hook) -> None:
        self.on_message = on_message
        self.on_close = on_close
        self.on_failure = on_failure

    def send(self, message: Any) -> None:
        raise NotImplementedError

    def send_waited(self, message: Any) -> bool:
        """Send the request ``message``, whose sender waits for its answer anyway, and
        return once it is answered or failed (``on_message`` / ``on_failure`` called) -
        on the sender's thread, which saves handing it to another thread and back. False
        when this channel does not do that (then ``send`` it); the default."""
        return False

    def close(self) -> None:
        raise NotImplementedError

    def set_write_timeout(self, timeout: float) -> None:
        """How long one ``send`` may block on a peer that does not read (default: no say)."""

    def negotiated(self, era: str, version: str) -> None:
        """The era and version, once the server answered (before ``ready``)."""

    def ready(self) -> None:
        """The connection is set up (a new HTTP session opens its GET stream here)."""

    def recover(self, request_id: Any, error: BaseException, attempt: int) -> bool:
        """Request ``request_id`` failed with ``error``: True when the channel repaired what
        failed (a new access token) and the request may be sent again."""
        return False

    def session_generation(self) -> int:
        """Which session the channel is in (counted from 0): a ``SessionLost`` names the one it
        lost, so that many requests lost with one session renew it once."""
        return 0

    def usable_tools(self, tools: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The tools of a ``tools/list`` this channel can call (all, unless it says otherwise)."""
        return tools

    def cache_origin(self) -> Any:
        """Which server this is, for a result cache shared between clients: clients with
        the same origin share the results a server marked "public". The default, the
        channel itself, shares with nobody."""
        return self


class ClientAuth:
    """What an HTTP channel asks of the authorization it carries (``OAuth`` is one). The
    defaults authorize nothing: no headers, and a refusal is final."""

    def bind(self, server_url: str, fetch: Callable[..., Tuple[int, Dict[str, str], bytes]]) -> None:
        """Attach to the MCP endpoint ``server_url``; ``fetch`` makes plain HTTP requests
        with the channel's TLS and proxy settings."""

    def request_headers(self, method: str, url: str) -> Tuple[Any, Dict[str, str]]:
        """The headers that authorize one request, and what to hand ``recover`` if it is
        refused (the token's generation, say)."""
        return 0, {}

    def note_nonce(self, url: str, nonce: Optional[str]) -> None:
        """A ``DPoP-Nonce`` header the server at ``url`` sent (RFC 9449)."""

    def recover(self, status: int, challenge: Optional[str], generation: Any, attempt: int) -> bool:
        """A request sent with ``generation`` was refused with ``status`` (401 or 403): True
        when there is now a token worth sending it again with."""
        return False
