"""One request being served: the ``Request`` it is (immutable), and the ``Call`` that serves it
(the request, the ``Port`` of its transport, and what changes while it runs).

``LegacySession`` is what an ``initialize`` session remembers between requests (the
2026-07-28 era has no such thing: everything arrives with each request).
"""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Sequence, Set, Tuple

from .jsonrpc import Message
from .ports import DETACHED_PORT, Port


class LegacySession:
    """What a legacy (``initialize``) session remembers: one per stdio process or HTTP session."""

    def __init__(self) -> None:
        self.protocol_version = None  # type: Optional[str]
        self.client_capabilities = {}  # type: Dict[str, Any]
        self.client_info = {}  # type: Dict[str, Any]
        self.initialized = False  # notifications/initialized received
        self.log_level = None  # type: Optional[str]   # None: logging/setLevel never called
        self.subscriptions = set()  # type: Set[str]   # resources/subscribe'd URIs


class Request(NamedTuple):
    """One request as the server accepted it: what it asks, in which version and era, from
    whom. Immutable: built once by ``Server.begin_call``, read by everything after."""

    id: Any
    method: str
    params: Dict[str, Any]
    version: str
    modern: bool
    # The legacy session it belongs to (None in 2026-07-28), and what the client declared.
    session: Optional[LegacySession]
    client_capabilities: Dict[str, Any]
    client_info: Dict[str, Any]
    log_level: Optional[str]  # 2026-07-28's per-request level (a session keeps its own)
    # "The progress token MUST be a string or integer value": None when there is none.
    progress_token: Any
    # Over HTTP: the request's headers (lower-case names), and what the bearer-token
    # verifier said about its token, if the server checks tokens.
    headers: Optional[Dict[str, str]]
    principal: Any
    # What server/discover lists: every version, unless the transport can no longer serve
    # some of them on this connection (a stdio process gone modern).
    offered_versions: Sequence[str]


class Rounds:
    """A 2026-07-28 request's answer rounds (and a task's questions): the answers this round
    brought, those the handler used, and how many questions it asked so far."""

    __slots__ = ("answers", "used", "asked")

    def __init__(self, answers: Optional[Dict[str, Any]] = None) -> None:
        self.answers = answers  # type: Optional[Dict[str, Any]]
        self.used = {}  # type: Dict[str, Any]
        self.asked = 0


class Call:
    """One request being served: its ``Request``, the ``Port`` of the transport serving it,
    and what changes while it runs (cancelled, finished, the last progress sent, the
    question a legacy-era handler waits on, its answer rounds, its task)."""

    __slots__ = ("request", "server", "port", "cancelled", "finished", "last_progress", "waiting", "rounds",
                 "task", "task_startable", "trace", "hints")

    def __init__(self, server: Any, request: Request, port: Port = DETACHED_PORT) -> None:
        self.server = server
        self.request = request
        self.port = port
        self.cancelled = False
        self.finished = False
        self.last_progress = None  # type: Optional[float]
        self.waiting = None  # type: Any   # the Pending of a question (legacy era), while waited on
        self.rounds = None  # type: Optional[Rounds]   # made by the first question or answer
        # The tasks extension: the Task this call's handler runs in (None: an ordinary
        # request), and whether ``ctx.start_task()`` may turn the call into one.
        self.task = None  # type: Any
        self.task_startable = False
        # The request's W3C trace context (a TraceContext, see the tracecontext module), set
        # when ``_meta.traceparent`` was valid; None otherwise.
        self.trace = None  # type: Any
        # Caching hints the handler set with ``ctx.cache_hints`` (ttlMs or None, cacheScope
        # or None), over those given at registration.
        self.hints = None  # type: Optional[Tuple[Optional[int], Optional[str]]]

    def emit(self, message: Message) -> None:
        self.port.emit(self, message)

    def rounds_state(self) -> Rounds:
        rounds = self.rounds
        if rounds is None:
            rounds = self.rounds = Rounds()
        return rounds

    def for_task(self) -> "Call":
        """The call a task's handler runs in (its ``task`` is set once the task exists): the
        same request, carried by no transport, so its progress and logs go nowhere:
        "notifications/progress and notifications/message notifications ... are not supported
        on tasks in general"."""
        task_call = Call(self.server, self.request._replace(progress_token=None))
        task_call.trace = self.trace  # the task's work belongs to the request's trace
        return task_call


def progress_token_of(params: Dict[str, Any]) -> Any:
    """A request's progress token: "The progress token MUST be a string or integer value", so
    anything else (true, 1.5, an object) is no token at all, rather than one echoed into
    invalid notifications."""
    meta = params.get("_meta")
    if meta is None:  # (most requests)
        return None
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    if isinstance(token, str) or (isinstance(token, int) and not isinstance(token, bool)):
        return token
    return None


def principal_identity(principal: Any) -> Optional[str]:
    """Who a request's principal is, for what must stay with its holder (a task, a sealed
    ``requestState``): the token's subject, else its client id; None when it names neither
    (or there is no principal)."""
    if principal is None:
        return None
    if isinstance(principal, dict):
        found = principal.get("subject") or principal.get("sub") or principal.get("client_id")
    else:
        found = getattr(principal, "subject", None) or getattr(principal, "client_id", None)
    return found if isinstance(found, str) else None


def principal_key(principal: Any) -> Any:
    """Whom a task belongs to: the bearer token's subject (or client id) over protected
    HTTP, nobody in particular elsewhere (the tasks extension's owner of a task, given when
    ``tools/call`` creates it and checked by every tasks/* request)."""
    identity = principal_identity(principal)
    # A principal that names no one is kept apart from every other one.
    return identity if identity is not None or principal is None else repr(principal)
