"""W3C trace context in ``_meta`` (SEP-414, 2026-07-28's "OpenTelemetry trace context"):
``traceparent``/``tracestate``/``baggage`` read into ``ctx.trace`` in both eras, a malformed
one ignored, the client carrying the current trace on (a handler calling a second server
continues its own trace), and OpenTelemetry spans for real, with opentelemetry-sdk's
in-memory exporter in ``$MCPLITE_OTEL_PYTHON`` (a venv ``scripts/test`` builds: marked
``interop``, failing rather than skipping when ``MCPLITE_REQUIRE_INTEROP`` is set)."""

import json
import os
import subprocess
import sys
import time

import pytest

from interop_support import mcplite_dir, venv_python
from mcplite import Client, Context, Server, TraceContext, current_trace, use_trace

TESTS = os.path.dirname(os.path.abspath(__file__))
MODERN = "2026-07-28"
ERAS = ["legacy", "modern"]
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = "00-%s-%s-01" % (TRACE_ID, PARENT_ID)


def traced_app(name="traced"):
    """A server whose tools report what they know about the trace."""
    app = Server(name, "1.0.0")

    @app.tool()
    def who(ctx: Context) -> dict:
        t = ctx.trace
        current = current_trace()
        return {"trace": None if t is None else {
            "trace_id": t.trace_id, "parent_id": t.parent_id, "flags": t.flags, "tracestate": t.tracestate,
            "baggage": t.baggage, "span_id": t.span_id, "sampled": t.sampled},
            "current_is_ctx": current is t, "meta_traceparent": ctx.meta.get("traceparent")}

    @app.tool()
    async def who_async(ctx: Context) -> dict:
        current = current_trace()
        return {"current": None if current is None else current.span_id,
                "ctx": None if ctx.trace is None else ctx.trace.span_id}
    return app


class Peer:
    """One era's raw client end over the in-memory connection."""

    def __init__(self, wire_factory, app, era):
        self.wire = wire_factory(app)
        self.era = era
        if era == "legacy":
            self.wire.initialize()

    def call_tool(self, name, meta=None, arguments=None):
        params = {"name": name, "arguments": arguments or {}}
        if self.era == "modern":
            response = self.wire.modern("tools/call", params, **(meta or {}))
        else:
            if meta is not None:
                params["_meta"] = meta
            response = self.wire.request("tools/call", params)
        assert "result" in response, response
        return response["result"]


# -- reading and validating ---------------------------------------------------------------

VALID = [
    (TRACEPARENT, (TRACE_ID, PARENT_ID, 1)),
    ("00-%s-%s-00" % (TRACE_ID, PARENT_ID), (TRACE_ID, PARENT_ID, 0)),
    ("00-%s-%s-ff" % (TRACE_ID, PARENT_ID), (TRACE_ID, PARENT_ID, 255)),
    # A later version: its first four fields are read as 00's, what follows a dash ignored.
    ("01-%s-%s-01" % (TRACE_ID, PARENT_ID), (TRACE_ID, PARENT_ID, 1)),
    ("cc-%s-%s-01-what-the-future-holds" % (TRACE_ID, PARENT_ID), (TRACE_ID, PARENT_ID, 1)),
]
INVALID = [
    None, 5, ["00"], "", "00", TRACEPARENT[:-1], TRACEPARENT + "0", TRACEPARENT + "-x",  # 00 is exactly 55
    "ff-%s-%s-01" % (TRACE_ID, PARENT_ID),  # version ff is invalid
    "0g-%s-%s-01" % (TRACE_ID, PARENT_ID),
    "00-%s-%s-01" % (TRACE_ID.upper(), PARENT_ID),  # upper-case hex
    "00-%s-%s-01" % (TRACE_ID, PARENT_ID.upper()),
    "00-%s-%s-01" % ("0" * 32, PARENT_ID),  # all-zero trace id
    "00-%s-%s-01" % (TRACE_ID, "0" * 16),  # all-zero parent id
    "00-%s-%s-0x" % (TRACE_ID, PARENT_ID),
    "00_%s_%s_01" % (TRACE_ID, PARENT_ID),
    "00-%s-%s-01" % (TRACE_ID[:-1] + "-", PARENT_ID),
    "01-%s-%s-01x" % (TRACE_ID, PARENT_ID),  # a later version still needs the dash
    " " + TRACEPARENT[:-1],
]


@pytest.mark.parametrize("value,expected", VALID)
def test_a_valid_traceparent_is_read(value, expected):
    trace = TraceContext.parse(value)
    assert (trace.trace_id, trace.parent_id, trace.flags) == expected
    assert trace.span_id is None and trace.tracestate is None and trace.baggage is None
    # What a request made from a context only parsed carries: the context as it came (00).
    assert trace.traceparent == "00-%s-%s-%02x" % expected


@pytest.mark.parametrize("value", INVALID)
def test_a_malformed_traceparent_is_none(value):
    assert TraceContext.parse(value) is None
    assert TraceContext.from_meta({"traceparent": value, "tracestate": "a=b"}) is None


def test_tracestate_and_baggage_are_kept_as_strings_when_printable_and_bounded():
    trace = TraceContext.parse(TRACEPARENT, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "userId=alice,isProd=false")
    assert trace.tracestate == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    assert trace.baggage == "userId=alice,isProd=false"
    for bad in (5, {"a": "b"}, "a=b\n", "a=\u00e9", "k=" + "v" * 600):
        assert TraceContext.parse(TRACEPARENT, bad).tracestate is None
    assert TraceContext.parse(TRACEPARENT, None, "k=" + "v" * 9000).baggage is None
    assert TraceContext.from_meta({"tracestate": "a=b"}) is None  # no traceparent: nothing
    assert TraceContext.from_meta("traceparent") is None


def test_a_trace_context_is_read_only_and_checks_its_ids():
    trace = TraceContext.parse(TRACEPARENT)
    with pytest.raises(AttributeError):
        trace.trace_id = "1" * 32
    child = trace.child()
    assert child.span_id != trace.parent_id and len(child.span_id) == 16 and child.span_id != "0" * 16
    assert child.traceparent == "00-%s-%s-01" % (TRACE_ID, child.span_id)
    assert child.meta() == {"traceparent": child.traceparent}
    assert trace.child("1234567890abcdef") == trace.child("1234567890abcdef")
    for bad in (dict(trace_id="0" * 32, parent_id=PARENT_ID), dict(trace_id=TRACE_ID, parent_id="xyz"),
                dict(trace_id=TRACE_ID, parent_id=PARENT_ID, flags=256),
                dict(trace_id=TRACE_ID, parent_id=PARENT_ID, span_id="0" * 16)):
        with pytest.raises(ValueError):
            TraceContext(**bad)
    fresh = TraceContext.new()
    assert TraceContext.parse(fresh.traceparent) is not None and fresh.sampled
    assert not TraceContext.new(sampled=False).sampled


# -- the server: ctx.trace on the wire, both eras -------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_ctx_trace_has_the_requests_trace_and_a_span_of_its_own(wire_factory, era):
    peer = Peer(wire_factory, traced_app(), era)
    result = peer.call_tool("who", {"traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE",
                                    "baggage": "userId=alice"})
    seen = result["structuredContent"]
    trace = seen["trace"]
    assert (trace["trace_id"], trace["parent_id"], trace["flags"], trace["sampled"]) == (TRACE_ID, PARENT_ID, 1, True)
    assert (trace["tracestate"], trace["baggage"]) == ("congo=t61rcWkgMzE", "userId=alice")
    assert len(trace["span_id"]) == 16 and trace["span_id"] not in (PARENT_ID, "0" * 16)
    assert seen["current_is_ctx"] is True  # the handler's thread has it as the current trace
    # The async handler's coroutine sees it too (contextvars reach asyncio.run's task).
    seen = peer.call_tool("who_async", {"traceparent": TRACEPARENT})["structuredContent"]
    assert seen["current"] == seen["ctx"] and seen["ctx"] is not None


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("value", [INVALID[3], INVALID[9], INVALID[11], 7, {"x": 1}])
def test_a_malformed_traceparent_is_ignored_never_an_error(wire_factory, era, value):
    peer = Peer(wire_factory, traced_app(), era)
    result = peer.call_tool("who", {"traceparent": value, "tracestate": "congo=t61rcWkgMzE"})
    assert result.get("isError") is not True, result
    assert result["structuredContent"]["trace"] is None
    assert result["structuredContent"]["meta_traceparent"] == value  # still in ctx.meta as sent


@pytest.mark.parametrize("era", ERAS)
def test_no_trace_no_ctx_trace_and_nothing_current(wire_factory, era):
    peer = Peer(wire_factory, traced_app(), era)
    seen = peer.call_tool("who")["structuredContent"]
    assert seen == {"trace": None, "current_is_ctx": True, "meta_traceparent": None}
    assert current_trace() is None


@pytest.mark.parametrize("era", ERAS)
def test_a_middleware_sees_the_trace_a_timing_and_audit_hook(wire_factory, era):
    app = traced_app()
    audit = []

    @app.middleware
    def timing(method, params, ctx, call_next):
        started = time.monotonic()
        try:
            return call_next()
        finally:
            trace = ctx.trace
            audit.append((method, trace.trace_id if trace else None, trace.span_id if trace else None,
                          time.monotonic() - started))
    peer = Peer(wire_factory, app, era)
    span = peer.call_tool("who", {"traceparent": TRACEPARENT})["structuredContent"]["trace"]["span_id"]
    assert [entry[:3] for entry in audit if entry[0] == "tools/call"] == [("tools/call", TRACE_ID, span)]
    assert audit[-1][3] >= 0


# -- the client: the current trace carried on ----------------------------------------------

def relay_app(inner, era):
    app = Server("outer", "1.0.0")

    @app.tool()
    def relay(ctx: Context) -> dict:
        with Client(inner, era=era) as client:
            below = client.call_tool("who")["structuredContent"]
        return {"span_id": ctx.trace.span_id if ctx.trace else None, "below": below}
    return app


@pytest.mark.parametrize("era", ERAS)
def test_a_handler_calling_a_second_server_continues_its_trace(era):
    outer = relay_app(traced_app("inner"), era)
    with Client(outer, era=era) as client:
        got = client.request("tools/call", {"name": "relay", "_meta": {
            "traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE", "baggage": "userId=alice"}})
        seen = got["structuredContent"]
        below = seen["below"]["trace"]
        # The second server's parent is the first handler's span, in the same trace, with the
        # same tracestate and baggage passed on.
        assert (below["trace_id"], below["parent_id"]) == (TRACE_ID, seen["span_id"])
        assert (below["tracestate"], below["baggage"], below["flags"]) == ("congo=t61rcWkgMzE", "userId=alice", 1)
        assert seen["below"]["meta_traceparent"] == "00-%s-%s-01" % (TRACE_ID, seen["span_id"])
        # Without a trace, nothing is carried: no traceparent appears from nowhere.
        untraced = client.call_tool("relay")["structuredContent"]
        assert untraced == {"span_id": None, "below": {"trace": None, "current_is_ctx": True,
                                                       "meta_traceparent": None}}


@pytest.mark.parametrize("era", ERAS)
def test_use_trace_outside_a_handler_and_a_callers_own_traceparent(era):
    with Client(traced_app(), era=era) as client:
        with use_trace(TRACEPARENT) as trace:
            assert current_trace() is trace
            seen = client.call_tool("who")["structuredContent"]
            assert seen["meta_traceparent"] == TRACEPARENT  # a parsed context goes on as it came
            # A traceparent the caller put in _meta is sent as given.
            mine = "00-%s-%s-00" % ("1" * 32, "2" * 16)
            seen = client.request("tools/call", {"name": "who", "_meta": {"traceparent": mine}})
            assert seen["structuredContent"]["meta_traceparent"] == mine
            with use_trace(None):
                assert client.call_tool("who")["structuredContent"]["trace"] is None
            child = trace.child()
            with use_trace(child):
                seen = client.call_tool("who")["structuredContent"]["trace"]
                assert (seen["trace_id"], seen["parent_id"]) == (TRACE_ID, child.span_id)
        assert current_trace() is None
        assert client.call_tool("who")["structuredContent"]["trace"] is None
    with pytest.raises(ValueError):
        use_trace("00-nope")
    with pytest.raises(TypeError):
        use_trace(12)


def test_the_trace_crosses_http_too():
    inner = traced_app("inner")
    outer = relay_app(inner, "auto")
    handle = outer.run_in_thread("http", port=0)
    try:
        with Client.http(handle.url) as client, use_trace(TRACEPARENT):
            seen = client.call_tool("relay")["structuredContent"]
        assert seen["span_id"] is not None
        assert (seen["below"]["trace"]["trace_id"], seen["below"]["trace"]["parent_id"]) == (TRACE_ID, seen["span_id"])
    finally:
        handle.stop()


# -- zero cost without OpenTelemetry in use --------------------------------------------------

ABSENT_SCRIPT = r"""
import sys
attempts = []

class Block:
    # Counts (and refuses) every attempt to import opentelemetry: here it is absent.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "opentelemetry":
            attempts.append(name)
            raise ImportError("no opentelemetry here")
        return None

sys.meta_path.insert(0, Block())
from mcplite import Client, Context, Server, use_trace
app = Server("s")

@app.tool()
def who(ctx: Context) -> str:
    return ctx.trace.trace_id if ctx.trace else "-"

with Client(app, era=sys.argv[1]) as client:
    for _ in range(20):
        assert client.call_tool("who")["content"][0]["text"] == "-"
    with use_trace("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
        for _ in range(20):
            assert client.call_tool("who")["content"][0]["text"] == "0af7651916cd43dd8448eb211c80319c"
print(len(attempts), "random" in sys.modules)
"""


def _run_script(python, tmp_path, name, text, era):
    """Run ``text`` as a script under ``python`` with this checkout's mcplite first on its path;
    it must succeed. Its stdout, decoded."""
    script = tmp_path / name
    script.write_text(text)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([mcplite_dir(), TESTS]))
    done = subprocess.run([python, str(script), era], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done.stdout.decode()


def _otel_python():
    return venv_python("MCPLITE_OTEL_PYTHON", "import opentelemetry.sdk.trace", "opentelemetry-sdk")


@pytest.mark.parametrize("era", ERAS)
def test_mcplite_never_imports_opentelemetry(tmp_path, era):
    count, _ = _run_script(sys.executable, tmp_path, "absent.py", ABSENT_SCRIPT, era).split()
    # Not even tried: an application that uses OpenTelemetry has imported it already.
    assert int(count) == 0


# -- OpenTelemetry for real -----------------------------------------------------------------

OTEL_SCRIPT = r"""
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from mcplite import Client, Context, MCPError, Server, ToolError
era = sys.argv[1]
inner = Server("inner")

@inner.tool()
def who(ctx: Context) -> dict:
    t = ctx.trace
    return {"trace_id": t.trace_id, "parent_id": t.parent_id, "span_id": t.span_id}

@inner.tool()
def broken() -> str:
    raise ToolError("no luck")

@inner.tool()
def refused() -> str:
    raise MCPError(-32042, "Refused here")

outer = Server("outer")

@outer.tool()
def hello() -> str:
    return "hello"

@outer.tool()
def relay(ctx: Context) -> dict:
    with trace.get_tracer("app").start_as_current_span("app-work"):
        pass
    with Client(inner, era=era) as client:
        below = client.call_tool("who")["structuredContent"]
        client.call_tool("broken")
        try:
            client.call_tool("refused")
        except MCPError:
            pass
    return {"span_id": ctx.trace.span_id if ctx.trace else None, "below": below}

with Client(outer, era=era) as client:
    with trace.get_tracer("app").start_as_current_span("root"):
        seen = client.call_tool("relay")["structuredContent"]
    # A request from a peer that is not traced with OpenTelemetry: the traceparent in _meta is
    # the server span's parent all the same.
    client.request("tools/call", {"name": "hello", "_meta": {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
spans = [{"name": s.name, "kind": s.kind.name, "trace_id": "%032x" % s.context.trace_id,
          "span_id": "%016x" % s.context.span_id, "parent": s.parent and "%016x" % s.parent.span_id,
          "remote_parent": bool(s.parent and s.parent.is_remote),
          "attributes": dict(s.attributes), "status": s.status.status_code.name,
          "description": s.status.description} for s in exporter.get_finished_spans()]
print(json.dumps({"seen": seen, "spans": spans}))
"""


UNUSED_SCRIPT = r"""
import json, sys
from mcplite import Client, Context, Server, use_trace
app = Server("s")

@app.tool()
def who(ctx: Context) -> str:
    return ctx.trace.parent_id if ctx.trace else "-"

with Client(app, era=sys.argv[1]) as client:
    plain = client.call_tool("who")["content"][0]["text"]
    with use_trace("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
        traced = client.call_tool("who")["content"][0]["text"]
imported_by_mcplite = "opentelemetry" in sys.modules
# Imported, but no tracer provider set: still no spans, and mcplite's own ids go on.
from opentelemetry import trace
with Client(app, era=sys.argv[1]) as client, use_trace("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
    imported = client.call_tool("who")["content"][0]["text"]
print(json.dumps([plain, traced, imported_by_mcplite, imported]))
"""


@pytest.mark.interop
@pytest.mark.parametrize("era", ERAS)
def test_opentelemetry_installed_but_unused_costs_nothing(tmp_path, era):
    printed = _run_script(_otel_python(), tmp_path, "otel_unused.py", UNUSED_SCRIPT, era)
    assert json.loads(printed.strip().splitlines()[-1]) == ["-", PARENT_ID, False, PARENT_ID]


@pytest.mark.interop
@pytest.mark.parametrize("era", ERAS)
def test_opentelemetry_spans_for_real(tmp_path, era):
    printed = _run_script(_otel_python(), tmp_path, "otel_spans.py", OTEL_SCRIPT, era)
    out = json.loads(printed.strip().splitlines()[-1])
    spans, seen = out["spans"], out["seen"]

    def one(name, kind, **where):
        found = [s for s in spans if s["name"] == name and s["kind"] == kind
                 and all(s[k] == v for k, v in where.items())]
        assert len(found) == 1, (name, kind, where, json.dumps(spans, indent=1))
        return found[0]
    root = one("root", "INTERNAL")
    relay_client = one("tools/call relay", "CLIENT")
    relay_server = one("tools/call relay", "SERVER")
    work = one("app-work", "INTERNAL")
    who_client = one("tools/call who", "CLIENT", parent=relay_server["span_id"])
    who_server = one("tools/call who", "SERVER", parent=who_client["span_id"])
    # One tree, in one trace: root -> client relay -> server relay -> (app-work, client who -> server who)
    assert {s["trace_id"] for s in (root, relay_client, relay_server, work, who_client, who_server)} == {
        root["trace_id"]}
    assert relay_client["parent"] == root["span_id"]
    assert relay_server["parent"] == relay_client["span_id"] and relay_server["remote_parent"]
    assert work["parent"] == relay_server["span_id"]  # the server span is current in the handler
    assert who_server["remote_parent"]
    # ctx.trace names the spans: the first handler's span_id is its SERVER span's id, and the
    # second server's parent its CLIENT span's.
    assert seen["span_id"] == relay_server["span_id"]
    assert seen["below"] == {"trace_id": root["trace_id"], "parent_id": who_client["span_id"],
                             "span_id": who_server["span_id"]}
    # OpenTelemetry's MCP conventions: names, attributes, errors.
    attributes = relay_server["attributes"]
    assert attributes["mcp.method.name"] == "tools/call" and attributes["gen_ai.tool.name"] == "relay"
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["mcp.protocol.version"] == (MODERN if era == "modern" else "2025-11-25")
    assert "jsonrpc.request.id" in attributes
    for kind in ("CLIENT", "SERVER"):
        broken = one("tools/call broken", kind)
        assert (broken["status"], broken["attributes"]["error.type"]) == ("ERROR", "tool_error")
        refused = one("tools/call refused", kind)
        assert (refused["status"], refused["attributes"]["error.type"]) == ("ERROR", "-32042")
        assert refused["description"] == "Refused here"
    assert who_server["status"] == "UNSET"
    # A bare traceparent from a peer: the server span's remote parent.
    outside = one("tools/call hello", "SERVER")
    assert outside["trace_id"] == TRACE_ID
    assert outside["parent"] == PARENT_ID and outside["remote_parent"]


def test_a_task_keeps_the_trace_of_the_request_that_started_it():
    app = traced_app()
    inner = traced_app("inner")

    @app.tool(task="optional")
    def slow(ctx: Context) -> dict:
        # In the task's own thread: ctx.trace stays, and is the current trace there too.
        with Client(inner, era="modern") as client:
            below = client.call_tool("who")["structuredContent"]["trace"]
        return {"task": ctx.task_id is not None, "span_id": ctx.trace.span_id,
                "current": current_trace() is not None and current_trace().span_id, "below_parent": below["parent_id"]}
    with Client(app, era="modern", tasks=True) as client, use_trace(TRACEPARENT):
        seen = client.call_tool("slow")["structuredContent"]
    assert seen["task"] is True
    assert seen["current"] == seen["span_id"] == seen["below_parent"]


def test_a_host_routes_the_current_trace_to_the_server_it_calls():
    from mcplite import Host
    handle = traced_app("web").run_in_thread("http", port=0)
    try:
        with Host.from_config({"mcpServers": {"web": {"url": handle.url}}}, start_timeout=20.0) as host:
            with use_trace(TRACEPARENT):
                result = host.call(("web__who", {}))
            assert result.get("isError") is not True, result
            seen = json.loads(result["content"][0]["text"])
            assert seen["meta_traceparent"] == TRACEPARENT
            assert json.loads(host.call(("web__who", {}))["content"][0]["text"])["trace"] is None
    finally:
        handle.stop()
