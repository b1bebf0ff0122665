"""OpenTelemetry spans around the requests mcplite serves and sends, for an application that
uses OpenTelemetry (see the tracecontext module: mcplite never imports it, and looks only for
a tracer provider the application set). ``tracecontext`` keeps the W3C trace context, which
every server reads; these spans are its own module so that only such an application loads
them (on its first request), and a one-file build can leave them out (the ``otel`` part).

A SERVER span for each request served (its parent: the request's ``traceparent``), current
while the handler runs; a CLIENT span for each request sent (its parent: the current
OpenTelemetry span, else the current trace), whose id the request carries. Names and
attributes follow OpenTelemetry's conventions for MCP (``"tools/call add"``,
``mcp.method.name``, ``jsonrpc.request.id``, ``error.type``...).
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, Optional

from .tracecontext import TraceContext, params_with_meta, use_trace

# The tracer provider last seen, and mcplite's tracer from it (remade when the provider changes).
_TRACER = [None, None]  # type: List[Any]


def _ot_target(method: str, params: Dict[str, Any]) -> Optional[str]:
    if method in ("tools/call", "prompts/get"):
        name = params.get("name")
        return name if isinstance(name, str) else None
    return None


def _attributes(method: str, params: Dict[str, Any], rid: Any, version: Optional[str]) -> Dict[str, Any]:
    attributes = {"mcp.method.name": method}  # type: Dict[str, Any]
    if rid is not None:
        attributes["jsonrpc.request.id"] = str(rid)
    if version:
        attributes["mcp.protocol.version"] = version
    target = _ot_target(method, params)
    if method == "tools/call":
        attributes["gen_ai.operation.name"] = "execute_tool"
        if target is not None:
            attributes["gen_ai.tool.name"] = target
    elif method == "prompts/get" and target is not None:
        attributes["gen_ai.prompt.name"] = target
    elif method.startswith("resources/"):
        uri = params.get("uri")
        if isinstance(uri, str):
            attributes["mcp.resource.uri"] = uri
    return attributes


def _span_name(method: str, params: Dict[str, Any]) -> str:
    target = _ot_target(method, params)
    return "%s %s" % (method, target) if target else method


def _remote(otel: Any, trace: TraceContext) -> Any:
    """An OpenTelemetry context whose span is ``trace``'s position (a remote parent)."""
    state = otel.TraceState()
    if trace.tracestate:
        try:
            pairs = [member.strip().split("=", 1) for member in trace.tracestate.split(",") if member.strip()]
            state = otel.TraceState([(k, v) for k, v in pairs])
        except Exception:  # a tracestate OpenTelemetry refuses: the parent still stands
            state = otel.TraceState()
    parent = otel.SpanContext(int(trace.trace_id, 16), int(trace.span_id or trace.parent_id, 16), True,
                              otel.TraceFlags(trace.flags), state)
    return otel.set_span_in_context(otel.NonRecordingSpan(parent))


def _ot_tracer(otel: Any) -> Any:
    provider = otel.get_tracer_provider()
    if _TRACER[0] is not provider:
        _TRACER[:] = [provider, provider.get_tracer("mcplite")]
    return _TRACER[1]


def _finish(otel: Any, span: Any, error: Optional[Dict[str, Any]], result: Any) -> None:
    if isinstance(error, dict):
        code = error.get("code")
        span.set_attribute("error.type", str(code))
        span.set_attribute("rpc.response.status_code", str(code))
        message = error.get("message")
        span.set_status(otel.Status(otel.StatusCode.ERROR, message if isinstance(message, str) else None))
    elif isinstance(result, dict) and result.get("isError") is True:
        # "When CallToolResult is returned with isError set to true, this attribute SHOULD
        # be set to tool_error."
        span.set_attribute("error.type", "tool_error")
        span.set_status(otel.Status(otel.StatusCode.ERROR))


def serve_in_span(call: Any, trace: Optional[TraceContext], otel: Any, serve: Callable[[Any], Any]) -> Any:
    """``serve(call)`` in a SERVER span whose parent is ``trace`` (the request's, or None),
    with the request's trace current and ``call.trace`` set (see ``serve_traced``)."""
    otel_context = sys.modules["opentelemetry.context"]
    request = call.request
    params = request.params
    parent = _remote(otel, trace) if trace is not None else None
    span = _ot_tracer(otel).start_span(_span_name(request.method, params), context=parent,
                                       kind=otel.SpanKind.SERVER,
                                       attributes=_attributes(request.method, params, request.id, request.version))
    own = span.get_span_context()
    if trace is not None:
        trace = trace.child("%016x" % own.span_id if own.is_valid else None)
    call.trace = trace
    with use_trace(trace):
        attached = otel_context.attach(otel.set_span_in_context(span, parent))
        try:
            response = serve(call)
        except BaseException as exc:  # handle_request answers every error itself: this is rarer
            span.set_status(otel.Status(otel.StatusCode.ERROR, type(exc).__name__))
            span.end()
            raise
        finally:
            otel_context.detach(attached)
    if response is not None:
        _finish(otel, span, response.get("error"), response.get("result"))
    span.end()
    return response


def send_in_span(method: str, params: Dict[str, Any], version: Optional[str], send: Callable[[Dict[str, Any]], Any],
                 otel: Any, trace: Optional[TraceContext]) -> Any:
    """Send a request (``send(params)``) in a CLIENT span, carrying its id and ``trace``'s
    baggage; the span's parent is the current OpenTelemetry span, else ``trace`` (the
    current trace, or None). See ``send_traced``."""
    current = otel.get_current_span().get_span_context()
    parent = _remote(otel, trace) if trace is not None and not current.is_valid else None
    span = _ot_tracer(otel).start_span(_span_name(method, params), context=parent, kind=otel.SpanKind.CLIENT,
                                       attributes=_attributes(method, params, None, version))
    own = span.get_span_context()
    if own.is_valid:
        entries = {"traceparent": "00-%032x-%016x-%02x" % (own.trace_id, own.span_id, int(own.trace_flags))}
        header = own.trace_state.to_header() if own.trace_state else ""
        if header:
            entries["tracestate"] = header
        if trace is not None and trace.baggage:
            entries["baggage"] = trace.baggage
        params = params_with_meta(params, entries)
    elif trace is not None:
        params = params_with_meta(params, trace.meta())
    try:
        result = send(params)
    except BaseException as exc:
        code, message = getattr(exc, "code", None), getattr(exc, "message", None)
        if isinstance(code, int) and isinstance(message, str):  # the server's JSON-RPC error
            # "The status description SHOULD match the JSONRPCError.message".
            span.set_attribute("error.type", str(code))
            span.set_attribute("rpc.response.status_code", str(code))
        else:  # a timeout, a closed connection...
            span.set_attribute("error.type", type(exc).__name__)
            message = str(exc) or type(exc).__name__
        span.set_status(otel.Status(otel.StatusCode.ERROR, message))
        span.end()
        raise
    _finish(otel, span, None, result)
    span.end()
    return result
