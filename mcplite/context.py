"""What one request being served knows and can do: the ``Call`` record and the ``Context``
handed to handlers that ask for one.

``LegacySession`` is what an ``initialize`` session remembers between requests (the
2026-07-28 era has no such thing: everything arrives with each request).
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Set

from .asking import (
    ask, form_schema, gather, new_elicitation_id, required_capability, sampling_messages,
)
from .jsonrpc import Message, notification
from .protocol import LATEST_LEGACY_VERSION, LOG_LEVELS, SUPPORTED_VERSIONS
from .errors import Cancelled, TaskStart

Emit = Callable[[Message], None]
LOG_RANK = {level: i for i, level in enumerate(LOG_LEVELS)}


class LegacySession:
    """What a legacy (``initialize``) session remembers: one per stdio process or HTTP session."""

    def __init__(self) -> None:
        self.protocol_version = None  # type: Optional[str]
        self.client_capabilities = {}  # type: Dict[str, Any]
        self.client_info = {}  # type: Dict[str, Any]
        self.initialized = False  # notifications/initialized received
        self.log_level = None  # type: Optional[str]   # None: logging/setLevel never called
        self.subscriptions = set()  # type: Set[str]   # resources/subscribe'd URIs


class Call:
    """One request being served: what the handler's Context reads and writes through."""

    __slots__ = (
        "id", "method", "params", "version", "modern", "session", "client_capabilities",
        "client_info", "log_level", "emit", "cancelled", "finished", "progress_token",
        "last_progress", "server", "connection", "offered_versions", "headers", "principal",
        "waiting", "answers", "used_answers", "asked", "task", "task_startable",
    )

    def __init__(self, server: Any, id: Any, method: str, params: Dict[str, Any]) -> None:
        self.server = server
        self.id = id
        self.method = method
        self.params = params
        self.version = LATEST_LEGACY_VERSION
        self.modern = False
        self.session = None  # type: Optional[LegacySession]
        self.client_capabilities = {}  # type: Dict[str, Any]
        self.client_info = {}  # type: Dict[str, Any]
        self.log_level = None  # type: Optional[str]
        self.emit = _discard_message  # type: Emit
        self.cancelled = False
        self.finished = False
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        # "The progress token MUST be a string or integer value": anything else (true, 1.5,
        # an object) is no token at all, rather than one echoed into invalid notifications.
        self.progress_token = token if isinstance(token, str) or (
            isinstance(token, int) and not isinstance(token, bool)) else None
        self.last_progress = None  # type: Optional[float]
        self.connection = None  # type: Any
        # What server/discover lists: every version, unless the transport can no longer
        # serve some of them on this connection (a stdio process gone modern).
        self.offered_versions = SUPPORTED_VERSIONS  # type: Sequence[str]
        # Over HTTP: the request's headers (lower-case names) and what the bearer-token
        # verifier said about its token, if the server checks tokens.
        self.headers = None  # type: Optional[Dict[str, str]]
        self.principal = None  # type: Any
        # Asking the client: the request we are waiting on (legacy era), and in 2026-07-28
        # the answers this round brought, those the handler used, and how many it asked.
        self.waiting = None  # type: Any
        self.answers = None  # type: Optional[Dict[str, Any]]
        self.used_answers = {}  # type: Dict[str, Any]
        self.asked = 0
        # The tasks extension: the Task this call's handler runs in (None: an ordinary
        # request), and whether ``ctx.start_task()`` may turn the call into one.
        self.task = None  # type: Any
        self.task_startable = False


def _discard_message(message: Message) -> None:
    pass


class Context:
    """Handed to a tool, resource or prompt function that declares a parameter of this type.

    Everything here concerns the one request being served: who asked, in which protocol
    version, whether it was cancelled, and the notifications that report on it.
    """

    __slots__ = ("_call",)

    def __init__(self, call: Call) -> None:
        self._call = call

    @property
    def request_id(self) -> Any:
        """The JSON-RPC id of the request, exactly as the client sent it."""
        return self._call.id

    @property
    def protocol_version(self) -> str:
        return self._call.version

    @property
    def client_info(self) -> Dict[str, Any]:
        """The client's ``Implementation`` (name, version...), or {} when it sent none."""
        return self._call.client_info

    @property
    def client_capabilities(self) -> Dict[str, Any]:
        return self._call.client_capabilities

    @property
    def meta(self) -> Dict[str, Any]:
        """The request's ``_meta`` object ({} when absent)."""
        meta = self._call.params.get("_meta")
        return meta if isinstance(meta, dict) else {}

    @property
    def server(self) -> Any:
        """The ``Server`` serving this request."""
        return self._call.server

    @property
    def http_headers(self) -> Dict[str, str]:
        """Over HTTP, the request's headers (lower-case names); {} on other transports."""
        return self._call.headers or {}

    @property
    def principal(self) -> Any:
        """Over HTTP with bearer-token protection, what the token verifier returned for
        this request's token (an ``AccessToken``, say); None otherwise."""
        return self._call.principal

    @property
    def cancelled(self) -> bool:
        """True once the client cancelled this request; its response will not be sent."""
        return self._call.cancelled

    def check_cancelled(self) -> None:
        """Raise ``Cancelled`` if the client cancelled this request (a handy stopping point)."""
        if self._call.cancelled:
            raise Cancelled("request %r was cancelled" % (self._call.id,))

    @property
    def task_id(self) -> Optional[str]:
        """The id of the task this handler runs in (the tasks extension), else None."""
        task = self._call.task
        return task.id if task is not None else None

    def start_task(self) -> bool:
        """In a tool registered with ``task_start="handler"``: from here on, run as a task.

        Until this is called the call is an ordinary request, so questions asked before it
        are ``input_required`` rounds of the call itself ("SHOULD resolve all MRTR exchanges
        synchronously before responding with a CreateTaskResult"). Here the call is
        answered with a task, and the task runs the handler again from the top, with the
        answers already given (so the code before this line runs again: keep it free of
        side effects). Inside the task, or when the client did not declare the tasks
        extension, it returns at once: True in a task, False otherwise."""
        call = self._call
        if call.task is not None:
            return True
        if call.task_startable:
            raise TaskStart()
        return False

    def progress(self, progress: float, total: Optional[float] = None, message: Optional[str] = None) -> bool:
        """Send ``notifications/progress`` if the client asked for it (a ``progressToken``).

        Returns whether a notification was sent. Values must increase ("The progress value
        MUST increase with each notification"): a value not above the last one is dropped,
        as is anything after the request finished.
        """
        call = self._call
        if call.progress_token is None or call.finished or call.cancelled:
            return False
        if call.last_progress is not None and not progress > call.last_progress:
            return False
        call.last_progress = progress
        params = {"progressToken": call.progress_token, "progress": progress}  # type: Dict[str, Any]
        if total is not None:
            params["total"] = total
        if message is not None and call.version >= "2025-03-26":
            params["message"] = message
        call.emit(notification("notifications/progress", params))
        return True

    def log(self, level: str, data: Any, logger: Optional[str] = None) -> bool:
        """Send ``notifications/message`` at ``level`` if the client's level lets it through."""
        if level not in LOG_RANK:
            raise ValueError("unknown log level %r; use one of %s" % (level, ", ".join(LOG_LEVELS)))
        call = self._call
        if call.finished or call.cancelled:
            return False
        threshold = call.log_level if call.modern else (call.session.log_level if call.session else None)
        if call.modern and threshold is None:
            # 2026-07-28: "If absent, the server MUST NOT send any notifications/message
            # notifications for this request."
            return False
        if threshold is not None and LOG_RANK[level] < LOG_RANK[threshold]:
            return False
        params = {"level": level, "data": data}  # type: Dict[str, Any]
        if logger is not None:
            params["logger"] = logger
        call.emit(notification("notifications/message", params))
        return True

    # -- asking the client ---------------------------------------------------------
    #
    # Legacy era: a request to the client while this thread waits. 2026-07-28: the
    # handler is re-run with the answers (see the asking module) - so in that era, code
    # before a question runs once per round.

    def elicit(self, message: str, schema: Dict[str, Any], *, key: Optional[str] = None,
               timeout: Optional[float] = None) -> Dict[str, Any]:
        """Ask the user to fill in a form. ``schema`` is a flat JSON Schema object
        (``{"type": "object", "properties": ...}``, sent as given) or a shorthand
        ``{"name": str, "age": int}`` (all required). Returns the client's result as on
        the wire: ``{"action": "accept"|"decline"|"cancel", "content": {...}}``; accepted
        content has been checked against the schema.

        ``key`` names the question in 2026-07-28 ``inputRequests`` (default: its order
        in the handler); ``timeout`` (legacy era) defaults to the server's
        ``client_request_timeout``. Raises ``MCPError`` when the client did not declare
        elicitation (-32021), does not answer in time (-32001) or answers malformed."""
        params = {"message": message, "requestedSchema": form_schema(schema)}
        return ask(self._call, "elicit", "elicitation/create", params, key, timeout)

    def elicit_url(self, message: str, url: str, *, elicitation_id: Optional[str] = None,
                   key: Optional[str] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Send the user to ``url`` for an interaction that must not pass through the
        client (credentials, payment). Returns ``{"action": ...}``: "accept" means the user
        agreed to go, not that the interaction is finished; call
        ``notify_elicitation_complete`` when it is (2025-11-25 sessions)."""
        params = {"mode": "url", "message": message, "url": url}  # type: Dict[str, Any]
        if not self._call.modern:
            params["elicitationId"] = elicitation_id or new_elicitation_id()
        return ask(self._call, "elicit", "elicitation/create", params, key, timeout)

    def notify_elicitation_complete(self, elicitation_id: str) -> bool:
        """Tell a 2025-11-25 session that the URL interaction ``elicitation_id`` finished
        (``notifications/elicitation/complete``). May be called after the handler
        returned, from any thread; False where it cannot be sent."""
        call = self._call
        notify = getattr(call.connection, "notify", None)
        # Only to a client that declared URL mode (2026-07-28 removed the notification).
        if call.modern or notify is None or required_capability(
                "elicitation/create", {"mode": "url"}, call.client_capabilities, call.version) is not None:
            return False
        return bool(notify(notification("notifications/elicitation/complete", {"elicitationId": elicitation_id})))

    def sample(self, messages: Any, max_tokens: int = 1000, *, system_prompt: Optional[str] = None,
               temperature: Optional[float] = None, stop_sequences: Optional[Sequence[str]] = None,
               model_preferences: Optional[Dict[str, Any]] = None, include_context: Optional[str] = None,
               metadata: Optional[Dict[str, Any]] = None, tools: Optional[List[Dict[str, Any]]] = None,
               tool_choice: Optional[Dict[str, Any]] = None, key: Optional[str] = None,
               timeout: Optional[float] = None) -> Dict[str, Any]:
        """Ask the client's model for a message (``sampling/createMessage``). ``messages``
        is a str (one user message) or a list of strs, content blocks and ``{"role",
        "content"}`` dicts. ``tools``/``tool_choice`` need a client that declared
        ``sampling.tools``. Returns the client's result: ``{"role", "content", "model",
        "stopReason"?}``."""
        params = {"messages": sampling_messages(messages), "maxTokens": max_tokens}  # type: Dict[str, Any]
        for name, value in (("systemPrompt", system_prompt), ("temperature", temperature),
                            ("stopSequences", list(stop_sequences) if stop_sequences is not None else None),
                            ("modelPreferences", model_preferences), ("includeContext", include_context),
                            ("metadata", metadata), ("tools", tools), ("toolChoice", tool_choice)):
            if value is not None:
                params[name] = value
        return ask(self._call, "sample", "sampling/createMessage", params, key, timeout)

    def roots(self, *, key: Optional[str] = None, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The client's roots (``roots/list``): a list of ``{"uri", "name"?}``."""
        return ask(self._call, "roots", "roots/list", {}, key, timeout)["roots"]

    def ping(self, timeout: Optional[float] = None) -> None:
        """Ping the client (legacy era only; 2026-07-28 has no requests to the client)."""
        ask(self._call, "ping", "ping", {}, None, timeout)

    def gather(self, *questions: Callable[[], Any]) -> List[Any]:
        """Ask several things at once and return the answers in order: in 2026-07-28 the
        client gets all the unanswered questions in one round, e.g.::

            name, roots = ctx.gather(lambda: ctx.elicit("Name?", {"name": str}), ctx.roots)
        """
        return gather(self._call, questions)

    def can_ask(self, method: str) -> bool:
        """Whether the client declared what ``method`` ("elicitation/create",
        "sampling/createMessage", "roots/list") needs, in this protocol version."""
        call = self._call
        return required_capability(method, {}, call.client_capabilities, call.version) is None

    def read_resource(self, uri: str) -> List[Dict[str, Any]]:
        """Read one of this server's resources as a client would: its ``contents`` list.
        Raises MCPError when there is no such resource."""
        return self._call.server.read_resource_for(self._call, uri)

    def close_sse_stream(self, retry_ms: Optional[int] = None) -> bool:
        """Over Streamable HTTP with a 2025-11-25 client: close the connection carrying this
        request's SSE stream without ending the stream. The client waits ``retry_ms``
        (default: the server's setting) and resumes with ``Last-Event-ID``; what the
        handler sends meanwhile is kept for it. Elsewhere nothing happens (False)."""
        owner = getattr(self._call.connection, "owner", None)
        closer = getattr(owner, "close_request_stream", None)
        return bool(closer(self._call, retry_ms)) if closer is not None else False

    def debug(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("debug", data, logger)

    def info(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("info", data, logger)

    def warning(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("warning", data, logger)

    def error(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("error", data, logger)

