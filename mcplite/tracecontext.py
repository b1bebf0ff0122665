"""W3C Trace Context in a request's ``_meta``: read by the server, carried on by the client,
and OpenTelemetry spans around both when ``opentelemetry-api`` happens to be importable.

2026-07-28 (SEP-414) reserves three ``_meta`` keys as an exception to the prefix rule:
"the keys ``traceparent``, ``tracestate``, and ``baggage`` are reserved for OpenTelemetry trace
context propagation. When present, their values MUST follow W3C Trace Context and W3C
Baggage formats respectively." 2025-11-25 has no such text, but an unprefixed ``_meta`` name
is valid there and OpenTelemetry's conventions for MCP put the same keys in ``params._meta``
whatever the version, so both eras are read and written alike.

Server side: a request whose ``_meta.traceparent`` is valid gets a ``TraceContext`` (its
``trace_id``, the caller's span as ``parent_id``, ``flags``, the ``tracestate`` and ``baggage``
strings, and ``span_id``: the span this server opened for it) as ``ctx.trace``; a malformed
one is ignored, as W3C asks ("If the vendor failed to parse traceparent, it MUST NOT attempt
to parse tracestate"), never an error. While the handler runs, that context is the *current
trace* of its thread (a ``contextvars`` variable, so an ``async def`` handler sees it too).

Client side: each request carries the current trace, so a handler that calls another server
through a ``Client`` continues its own trace without saying so: the second server's
``ctx.trace.parent_id`` is the first one's ``ctx.trace.span_id``. Outside a handler,
``with use_trace("00-...-...-01"):`` sets the current trace; a ``traceparent`` the caller put in
``_meta`` itself is sent as given.

OpenTelemetry: mcplite never imports it. When the application has (``opentelemetry.trace``
is in ``sys.modules``) and set a tracer provider, each request served gets a SERVER span
(parent: the request's traceparent) made current while its handler runs, and each request
sent a CLIENT span (parent: the current OpenTelemetry span, else the current trace) whose id
is what the request carries; names and attributes follow OpenTelemetry's MCP conventions
(``"tools/call add"``, ``mcp.method.name``, ``jsonrpc.request.id``, ``error.type``...). Why
not import it when it is importable: ``opentelemetry-api`` comes with other packages (the
official MCP SDK depends on it), and an application that never set a provider would pay
for the import (megabytes) and for spans nobody records. So a request without
``traceparent`` costs two dictionary lookups, OpenTelemetry installed or not. The spans are
the otelspans module, loaded on the first request that makes one (a one-file build holds
them in its ``otel`` part).
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any, Callable, Dict, List, Optional

from .logs import LazyLogger

# The current trace of this thread (or asyncio task): the request being served, or what
# use_trace set.
_CURRENT = contextvars.ContextVar("mcplite_trace", default=None)  # type: contextvars.ContextVar[Any]
_tc_log = LazyLogger("mcplite.trace")
_NO_SPANS = []  # type: List[str]  # why there are no spans, once logged (see _tc_spans)
_TC_HEX = frozenset("0123456789abcdef")
# W3C: "vendors SHOULD propagate at least 512 characters of a combined header"; baggage
# allows 8192 bytes. Longer values are dropped, not cut (a cut list-member is malformed).
_MAX_TRACESTATE = 512
_MAX_BAGGAGE = 8192


def _is_hex(value: str, length: int) -> bool:
    # Lower-case only: "Vendors MUST ... lowercase hex"; an upper-case id is invalid.
    return len(value) == length and all(c in _TC_HEX for c in value)


def _printable(value: Any, limit: int) -> Optional[str]:
    """``value`` if it is a string of visible ASCII and spaces within ``limit``, else None."""
    if isinstance(value, str) and len(value) <= limit and all(" " <= c <= "~" for c in value):
        return value
    return None


def new_span_id() -> str:
    """A random 8-byte span id as 16 hex digits (never all zeros, which W3C makes invalid)."""
    import random
    while True:
        bits = random.getrandbits(64)
        if bits:
            return "%016x" % bits


class TraceContext:
    """A position in a distributed trace, as W3C ``traceparent`` carries it (read-only).

    ``trace_id`` (32 hex digits), ``parent_id`` (16: the caller's span), ``flags`` (an int;
    bit 0 is "sampled"), ``tracestate`` and ``baggage`` (the raw strings, or None), and
    ``span_id``: the span opened here for the request (None in a context only parsed).
    ``traceparent`` is what a request made from this position carries."""

    __slots__ = ("trace_id", "parent_id", "flags", "tracestate", "baggage", "span_id")

    trace_id: str
    parent_id: str
    flags: int
    tracestate: Optional[str]
    baggage: Optional[str]
    span_id: Optional[str]

    def __init__(self, trace_id: str, parent_id: str, flags: int = 1, tracestate: Optional[str] = None,
                 baggage: Optional[str] = None, span_id: Optional[str] = None) -> None:
        for name, value, length in (("trace_id", trace_id, 32), ("parent_id", parent_id, 16),
                                    ("span_id", span_id, 16)):
            if value is None and name == "span_id":
                continue
            if not isinstance(value, str) or not _is_hex(value, length) or value == "0" * length:
                raise ValueError("%s must be %d lower-case hex digits, not all zero: %r" % (name, length, value))
        if not isinstance(flags, int) or not 0 <= flags <= 255:
            raise ValueError("flags must be an int from 0 to 255: %r" % (flags,))
        set_ = object.__setattr__
        set_(self, "trace_id", trace_id)
        set_(self, "parent_id", parent_id)
        set_(self, "flags", flags)
        set_(self, "tracestate", tracestate)
        set_(self, "baggage", baggage)
        set_(self, "span_id", span_id)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a TraceContext is read-only")

    @classmethod
    def parse(cls, traceparent: Any, tracestate: Any = None, baggage: Any = None) -> Optional["TraceContext"]:
        """The context a ``traceparent`` value names, or None when it is malformed (a
        ``tracestate`` or ``baggage`` that is not a printable string is left out)."""
        if not isinstance(traceparent, str) or len(traceparent) < 55:
            return None
        version = traceparent[:2]
        # "Version ff is invalid"; version 00 is exactly 55 characters; a later version may
        # append fields after a dash, and its first four parts are read as 00's.
        if not _is_hex(version, 2) or version == "ff":
            return None
        if len(traceparent) != 55 and (version == "00" or traceparent[55] != "-"):
            return None
        if traceparent[2] != "-" or traceparent[35] != "-" or traceparent[52] != "-":
            return None
        trace_id, parent_id, flags = traceparent[3:35], traceparent[36:52], traceparent[53:55]
        if not (_is_hex(trace_id, 32) and _is_hex(parent_id, 16) and _is_hex(flags, 2)):
            return None
        # "All bytes as zero ... is considered an invalid value."
        if trace_id == "0" * 32 or parent_id == "0" * 16:
            return None
        return cls(trace_id, parent_id, int(flags, 16), _printable(tracestate, _MAX_TRACESTATE),
                   _printable(baggage, _MAX_BAGGAGE))

    @classmethod
    def from_meta(cls, meta: Any) -> Optional["TraceContext"]:
        """The context in a request's ``_meta`` (``traceparent``, ``tracestate``,
        ``baggage``), or None when there is none or it is malformed."""
        if not isinstance(meta, dict) or "traceparent" not in meta:
            return None
        return cls.parse(meta["traceparent"], meta.get("tracestate"), meta.get("baggage"))

    @classmethod
    def new(cls, sampled: bool = True) -> "TraceContext":
        """A new trace (random ids): for a client that starts one itself."""
        import random
        trace_id = 0
        while not trace_id:
            trace_id = random.getrandbits(128)
        return cls("%032x" % trace_id, new_span_id(), 1 if sampled else 0)

    def child(self, span_id: Optional[str] = None) -> "TraceContext":
        """This context with ``span_id`` (default: a new random one) as the span opened here."""
        return TraceContext(self.trace_id, self.parent_id, self.flags, self.tracestate, self.baggage,
                            span_id or new_span_id())

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 1)

    @property
    def traceparent(self) -> str:
        """The ``traceparent`` a request sent from here carries: parent ``span_id`` when a
        span was opened here, else ``parent_id`` (the context passed on as it came)."""
        return "00-%s-%s-%02x" % (self.trace_id, self.span_id or self.parent_id, self.flags)

    def meta(self) -> Dict[str, str]:
        """The ``_meta`` entries a request sent from here carries."""
        entries = {"traceparent": self.traceparent}
        if self.tracestate:
            entries["tracestate"] = self.tracestate
        if self.baggage:
            entries["baggage"] = self.baggage
        return entries

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, TraceContext) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self.__slots__))

    def __repr__(self) -> str:
        return "TraceContext(%s)" % ", ".join("%s=%r" % (name, getattr(self, name)) for name in self.__slots__
                                              if getattr(self, name) is not None)


def current_trace() -> Optional[TraceContext]:
    """The current trace of this thread: the request being served here (its ``ctx.trace``),
    or what ``use_trace`` set; None when there is none."""
    return _CURRENT.get()


class use_trace:
    """``with use_trace(trace):`` makes ``trace`` (a ``TraceContext``, a ``traceparent``
    string, or None for none) the current trace, so the requests a ``Client`` sends inside
    carry it. A malformed string raises ValueError (here it is the program's own value)."""

    def __init__(self, trace: Any) -> None:
        if isinstance(trace, str):
            parsed = TraceContext.parse(trace)
            if parsed is None:
                raise ValueError("not a valid W3C traceparent: %r" % (trace,))
            trace = parsed
        elif trace is not None and not isinstance(trace, TraceContext):
            raise TypeError("use_trace takes a TraceContext, a traceparent string or None")
        self._trace = trace
        self._token = None  # type: Any

    def __enter__(self) -> Optional[TraceContext]:
        self._token = _CURRENT.set(self._trace)
        return self._trace

    def __exit__(self, *exc: Any) -> None:
        _CURRENT.reset(self._token)


# -- OpenTelemetry, when it is there (the spans: the otelspans module) ------------------------

def load_otel() -> Any:
    """``opentelemetry.trace`` when the application uses it (imported, and a tracer provider
    set), else False. Never imports it (see the module's text)."""
    module = sys.modules.get("opentelemetry.trace")
    if module is None:
        return False
    try:
        provider = module.get_tracer_provider()
        # The API's placeholder until the application sets one: spans would go nowhere.
        if isinstance(provider, module.ProxyTracerProvider) or "opentelemetry.context" not in sys.modules:
            return False
    except AttributeError:  # a module still being imported by another thread
        return False
    return module


def _tc_spans() -> Any:
    """The otelspans module's ``(serve_in_span, send_in_span)``; None where that module is
    not (a one-file build without its otel part, whose lazy import raises ImportError saying
    so): requests then go without spans, as when the application does not use OpenTelemetry,
    and the log says why, once. Tracing must never cost a request its answer."""
    try:
        from .otelspans import send_in_span, serve_in_span
    except ImportError as exc:
        if not _NO_SPANS:
            _NO_SPANS.append(str(exc))
            _tc_log.warning("OpenTelemetry is in use, but mcplite makes no spans: %s", exc)
        return None
    return serve_in_span, send_in_span


def serve_traced(call: Any, meta: Any, otel: Any, serve: Callable[[Any], Any]) -> Any:
    """Run ``serve(call)`` with the request's trace current (and ``call.trace`` set), in a
    SERVER span when OpenTelemetry is there; return what ``serve`` returns (the response)."""
    trace = TraceContext.from_meta(meta)
    spans = _tc_spans() if otel is not False else None
    if spans is not None:
        return spans[0](call, trace, otel, serve)
    if trace is None:
        return serve(call)
    trace = call.trace = trace.child()
    token = _CURRENT.set(trace)
    try:
        return serve(call)
    finally:
        _CURRENT.reset(token)


def send_traced(method: str, params: Dict[str, Any], version: Optional[str], send: Callable[[Dict[str, Any]], Any],
                otel: Any) -> Any:
    """Send a request (``send(params)`` returns its result or raises) carrying the current
    trace, in a CLIENT span when OpenTelemetry is there. A ``traceparent`` already in
    ``params._meta`` is the caller's: sent as given, no span made."""
    meta = params.get("_meta")
    if isinstance(meta, dict) and "traceparent" in meta:
        return send(params)
    trace = _CURRENT.get()
    spans = _tc_spans() if otel is not False else None
    if spans is not None:
        return spans[1](method, params, version, send, otel, trace)
    if trace is None:
        return send(params)
    return send(params_with_meta(params, trace.meta()))


def with_call_trace(params: Dict[str, Any], trace: Optional[TraceContext]) -> Dict[str, Any]:
    """``params`` for a message a server sends about a request it serves (a progress or log
    notification, a question to the client), carrying that request's trace with this
    server's span as the parent, so a tracing client files it under the right span.
    Unchanged when the request came untraced or ``_meta`` already has a ``traceparent``."""
    if trace is None:
        return params
    meta = params.get("_meta")
    if isinstance(meta, dict) and "traceparent" in meta:
        return params
    return params_with_meta(params, trace.meta())


def params_with_meta(params: Dict[str, Any], entries: Dict[str, str]) -> Dict[str, Any]:
    """A copy of ``params`` whose ``_meta`` (copied too) has ``entries`` added."""
    meta = params.get("_meta")
    merged = dict(meta) if isinstance(meta, dict) else {}
    merged.update(entries)
    params = dict(params)
    params["_meta"] = merged
    return params
