"""What a handler can know and do about the request it serves: the ``Context`` handed to
handlers that declare a parameter of that type.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

from .calls import Call
from .errors import Cancelled, TaskStart
from .jsonrpc import Message, notification
from .protocol import LOG_LEVELS, check_cache_hints, supports

Emit = Callable[[Message], None]
LOG_RANK = {level: i for i, level in enumerate(LOG_LEVELS)}


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
        return self._call.request.id

    @property
    def protocol_version(self) -> str:
        return self._call.request.version

    @property
    def client_info(self) -> Dict[str, Any]:
        """The client's ``Implementation`` (name, version...), or {} when it sent none."""
        return self._call.request.client_info

    @property
    def client_capabilities(self) -> Dict[str, Any]:
        return self._call.request.client_capabilities

    @property
    def meta(self) -> Dict[str, Any]:
        """The request's ``_meta`` object ({} when absent)."""
        meta = self._call.request.params.get("_meta")
        return meta if isinstance(meta, dict) else {}

    @property
    def trace(self) -> Any:
        """The request's W3C trace context (``_meta.traceparent``/``tracestate``/``baggage``)
        as a read-only ``TraceContext``: ``trace_id``, ``parent_id`` (the caller's span),
        ``flags``, ``tracestate``, ``baggage``, and ``span_id`` (this server's span for the
        request, which a ``Client`` used in the handler passes on as its parent). None when
        the request carried none, or a malformed one (ignored, per W3C)."""
        return self._call.trace

    @property
    def server(self) -> Any:
        """The ``Server`` serving this request."""
        return self._call.server

    @property
    def http_headers(self) -> Dict[str, str]:
        """Over HTTP, the request's headers (lower-case names); {} on other transports."""
        return self._call.request.headers or {}

    @property
    def principal(self) -> Any:
        """Over HTTP with bearer-token protection, what the token verifier returned for
        this request's token (an ``AccessToken``, say); None otherwise."""
        return self._call.request.principal

    @property
    def cancelled(self) -> bool:
        """True once the client cancelled this request; its response will not be sent."""
        return self._call.cancelled

    def check_cancelled(self) -> None:
        """Raise ``Cancelled`` if the client cancelled this request (a handy stopping point)."""
        if self._call.cancelled:
            raise Cancelled("request %r was cancelled" % (self._call.request.id,))

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

    def cache_hints(self, ttl_ms: Optional[int] = None, scope: Optional[str] = None) -> None:
        """Set this result's 2026-07-28 caching hints from inside the handler, over those of
        the registration (``cache_ttl_ms=``, ``cache_scope=``): a resource that knows it just
        changed can say ``ctx.cache_hints(ttl_ms=0)``, one read with a user's data
        ``scope="private"``. None leaves that hint as registered. Only a result that carries
        hints has them (a ``resources/read``, for one; in the ``initialize`` era none does);
        elsewhere ValueError, since "tools/call" results are never cached."""
        check_cache_hints("ctx.cache_hints", ttl_ms, scope)
        if self._call.request.method != "resources/read":
            raise ValueError("ctx.cache_hints: %s results carry no caching hints (resources/read ones do)"
                             % self._call.request.method)
        self._call.hints = (ttl_ms, scope)

    def progress(self, progress: float, total: Optional[float] = None, message: Optional[str] = None) -> bool:
        """Send ``notifications/progress`` if the client asked for it (a ``progressToken``).

        Returns whether a notification was sent. Values must increase ("The progress value
        MUST increase with each notification"): a value not above the last one is dropped,
        as is anything after the request finished.
        """
        call = self._call
        if call.request.progress_token is None or call.finished or call.cancelled:
            return False
        if call.last_progress is not None and not progress > call.last_progress:
            return False
        call.last_progress = progress
        params = {"progressToken": call.request.progress_token, "progress": progress}  # type: Dict[str, Any]
        if total is not None:
            params["total"] = total
        if message is not None and supports(call.request.version, "progress_message"):
            params["message"] = message
        if call.trace is not None:
            from .tracecontext import with_call_trace  # (loaded: the trace came through it)
            params = with_call_trace(params, call.trace)
        call.emit(notification("notifications/progress", params))
        return True

    def log(self, level: str, data: Any, logger: Optional[str] = None) -> bool:
        """Send ``notifications/message`` at ``level`` if the client's level lets it through."""
        if level not in LOG_RANK:
            raise ValueError("unknown log level %r; use one of %s" % (level, ", ".join(LOG_LEVELS)))
        call = self._call
        if call.finished or call.cancelled or call.server.logging is False:
            # Server(logging=False) declares no logging capability, and "Servers that emit
            # log message notifications MUST declare the logging capability".
            return False
        request = call.request
        threshold = request.log_level if request.modern else (request.session.log_level if request.session else None)
        if request.modern and threshold is None:
            # 2026-07-28: "If absent, the server MUST NOT send any notifications/message
            # notifications for this request."
            return False
        if threshold is not None and LOG_RANK[level] < LOG_RANK[threshold]:
            return False
        params = {"level": level, "data": data}  # type: Dict[str, Any]
        if logger is not None:
            params["logger"] = logger
        if call.trace is not None:
            from .tracecontext import with_call_trace  # (loaded: the trace came through it)
            params = with_call_trace(params, call.trace)
        call.emit(notification("notifications/message", params))
        return True

    # -- asking the client ---------------------------------------------------------
    #
    # Legacy era: a request to the client while this thread waits. 2026-07-28: the
    # handler is re-run with the answers (see the asking module) - so in that era, code
    # before a question runs once per round. The asking module is imported by the first
    # question (each method imports what it uses): a server whose handlers ask nothing never
    # loads it, and a question's round trip dwarfs the lookup.

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
        from .asking import ask, form_schema
        params = {"message": message, "requestedSchema": form_schema(schema)}
        return ask(self._call, "elicit", "elicitation/create", params, key, timeout)

    def elicit_url(self, message: str, url: str, *, elicitation_id: Optional[str] = None,
                   key: Optional[str] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Send the user to ``url`` for an interaction that must not pass through the
        client (credentials, payment). Returns ``{"action": ...}``: "accept" means the user
        agreed to go, not that the interaction is finished; call
        ``notify_elicitation_complete`` when it is (2025-11-25 sessions)."""
        from .asking import ask, new_elicitation_id
        params = {"mode": "url", "message": message, "url": url}  # type: Dict[str, Any]
        if not self._call.request.modern:
            params["elicitationId"] = elicitation_id or new_elicitation_id()
        return ask(self._call, "elicit", "elicitation/create", params, key, timeout)

    def notify_elicitation_complete(self, elicitation_id: str) -> bool:
        """Tell a 2025-11-25 session that the URL interaction ``elicitation_id`` finished
        (``notifications/elicitation/complete``). May be called after the handler
        returned, from any thread; False where it cannot be sent."""
        from .asking import required_capability
        call = self._call
        request = call.request
        # Only to a client that declared URL mode (2026-07-28 removed the notification).
        if request.modern or required_capability(
                "elicitation/create", {"mode": "url"}, request.client_capabilities, request.version) is not None:
            return False
        return call.port.notify(notification("notifications/elicitation/complete", {"elicitationId": elicitation_id}))

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
        from .asking import ask, sampling_messages
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
        from .asking import ask
        return ask(self._call, "roots", "roots/list", {}, key, timeout)["roots"]

    def ping(self, timeout: Optional[float] = None) -> None:
        """Ping the client (legacy era only; 2026-07-28 has no requests to the client)."""
        from .asking import ask
        ask(self._call, "ping", "ping", {}, None, timeout)

    def gather(self, *questions: Callable[[], Any]) -> List[Any]:
        """Ask several things at once and return the answers in order: in 2026-07-28 the
        client gets all the unanswered questions in one round, e.g.::

            name, roots = ctx.gather(lambda: ctx.elicit("Name?", {"name": str}), ctx.roots)
        """
        from .asking import gather
        return gather(self._call, questions)

    def can_ask(self, method: str) -> bool:
        """Whether the client declared what ``method`` ("elicitation/create",
        "sampling/createMessage", "roots/list") needs, in this protocol version."""
        from .asking import required_capability
        call = self._call
        return required_capability(method, {}, call.request.client_capabilities, call.request.version) is None

    def read_resource(self, uri: str) -> List[Dict[str, Any]]:
        """Read one of this server's resources as a client would: its ``contents`` list.
        Raises MCPError when there is no such resource."""
        return self._call.server.read_resource_for(self._call, uri)

    def close_sse_stream(self, retry_ms: Optional[int] = None) -> bool:
        """Over Streamable HTTP with a 2025-11-25 client: close the connection carrying this
        request's SSE stream without ending the stream. The client waits ``retry_ms``
        (default: the server's setting) and resumes with ``Last-Event-ID``; what the
        handler sends meanwhile is kept for it. Elsewhere nothing happens (False)."""
        return self._call.port.close_stream(self._call, retry_ms)

    def debug(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("debug", data, logger)

    def info(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("info", data, logger)

    def warning(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("warning", data, logger)

    def error(self, data: Any, logger: Optional[str] = None) -> bool:
        return self.log("error", data, logger)

