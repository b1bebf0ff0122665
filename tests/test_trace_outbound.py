"""What a server sends about a traced request carries that request's trace: progress and log
notifications and its questions to the client have ``_meta.traceparent`` with the trace's id
and the server's own span as the parent (mcplite/tracecontext.py ``with_call_trace``), so a
tracing client files them under the right span. Untraced requests send them unchanged.

Real server code over the in-memory connection (tests/wire.py), every message checked
against the official schema of its version.
"""

from typing import Any, Dict, List

import pytest

from mcplite import Context, Server

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = "00-%s-%s-01" % (TRACE_ID, PARENT_ID)


def _app() -> Server:
    app = Server("outbound")
    spans = []  # type: List[str]

    @app.tool()
    def busy(ctx: Context) -> str:
        if ctx.trace is not None:
            spans.append(ctx.trace.span_id)
        ctx.progress(1, 2, "half")
        ctx.info("working")
        answer = ctx.elicit("Go on?", {"type": "object", "properties": {"yes": {"type": "boolean"}}})
        return "done %s" % answer.get("action")

    app.spans = spans  # type: ignore[attr-defined]
    return app


def _run(wire_factory: Any, meta: Dict[str, Any]) -> Any:
    app = _app()
    wire = wire_factory(app)
    wire.initialize("2025-11-25", {"elicitation": {"form": {}}})
    wire.request("logging/setLevel", {"level": "debug"})
    asked = []  # type: List[Dict[str, Any]]

    def answer(method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"yes": True}}

    wire.conn.on_request = answer
    params = {"name": "busy", "arguments": {}, "_meta": dict(meta, progressToken="p1")}
    response = wire.request("tools/call", params)
    assert response["result"]["content"][0]["text"] == "done accept"
    notes = {m["method"]: m["params"] for m in wire.notifications() if "method" in m}
    return app, notes, asked


def test_notifications_and_questions_carry_the_requests_trace(wire_factory):
    app, notes, asked = _run(wire_factory, {"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    (span,) = app.spans
    assert span != PARENT_ID and len(span) == 16
    expected = "00-%s-%s-01" % (TRACE_ID, span)  # the server's span is what comes next's parent
    assert notes["notifications/progress"]["_meta"]["traceparent"] == expected
    assert notes["notifications/progress"]["progress"] == 1
    assert notes["notifications/message"]["_meta"] == {"traceparent": expected, "tracestate": "vendor=1"}
    assert len(asked) == 1 and asked[0]["_meta"]["traceparent"] == expected
    assert asked[0]["message"] == "Go on?"


@pytest.mark.parametrize("meta", [{}, {"traceparent": "not-a-trace"}])
def test_untraced_requests_send_them_unchanged(wire_factory, meta):
    _, notes, asked = _run(wire_factory, meta)
    assert "_meta" not in notes["notifications/progress"]
    assert "_meta" not in notes["notifications/message"]
    assert len(asked) == 1 and "_meta" not in asked[0]
