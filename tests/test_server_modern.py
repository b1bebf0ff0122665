"""The 2026-07-28 era: stateless requests carrying their own _meta, on the same server."""

from collections import OrderedDict

import pytest

from apps import make_app
from mcplite import Context, Server
from mcplite.errors import MCPError
from mcplite.ports import DETACHED_PORT

SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "testserver", "version": "2.0.0", "title": "Test Server"}}


@pytest.fixture
def wire(wire_factory):
    return wire_factory(make_app())


def test_discover(wire):
    assert wire.modern("server/discover", id="d1") == {
        "jsonrpc": "2.0", "id": "d1",
        "result": {
            "resultType": "complete",
            # A stdio process (like this in-memory pair) that accepted a modern request
            # serves only the modern era from then on, so it offers only that.
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"logging": {}, "tools": {"listChanged": True},
                             "resources": {"listChanged": True, "subscribe": True},
                             "prompts": {"listChanged": True}},
            "instructions": "For tests.",
            "ttlMs": 0,
            "cacheScope": "private",
            "_meta": SERVER_INFO,
        },
    }


def test_every_result_has_result_type_and_server_info(wire):
    for method, params in [("tools/list", None), ("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}),
                           ("resources/list", None), ("resources/templates/list", None),
                           ("resources/read", {"uri": "test://static"}), ("prompts/list", None),
                           ("prompts/get", {"name": "review", "arguments": {"code": "c"}})]:
        result = wire.modern(method, params)["result"]
        assert result["resultType"] == "complete", method
        assert result["_meta"] == SERVER_INFO, method


def test_cache_hints_on_list_and_read_results_only(wire_factory):
    app = make_app()
    app.cache_ttl_ms = 60000
    app.cache_scope = "public"
    w = wire_factory(app)
    for method, params in [("tools/list", None), ("resources/list", None), ("resources/templates/list", None),
                           ("prompts/list", None), ("resources/read", {"uri": "test://static"})]:
        result = w.modern(method, params)["result"]
        assert (result["ttlMs"], result["cacheScope"]) == (60000, "public"), method
    call = w.modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})["result"]
    assert "ttlMs" not in call and "cacheScope" not in call


def test_call_tool_exact(wire):
    assert wire.modern("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}}, id=7) == {
        "jsonrpc": "2.0", "id": 7,
        "result": {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42},
                   "resultType": "complete", "_meta": SERVER_INFO}}


def test_list_tools_uses_the_request_version(wire):
    tools = {t["name"]: t for t in wire.modern("tools/list")["result"]["tools"]}
    assert tools["echo"]["title"] == "Echo"
    assert tools["add"]["outputSchema"]["properties"]["result"] == {"type": "integer"}


def test_context_sees_per_request_meta(wire):
    result = wire.modern("tools/call", {"name": "whoami"}, id="m")["result"]
    assert result["structuredContent"] == {"id": "m", "version": "2026-07-28", "client": "tests"}


def test_unsupported_version(wire):
    assert wire.modern("tools/list", id=1, version="2099-01-01") == {
        "jsonrpc": "2.0", "id": 1,
        "error": {"code": -32022, "message": "Unsupported protocol version", "data": {
            "supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
            "requested": "2099-01-01"}}}
    # A legacy version does not exist without the handshake either.
    assert wire.modern("tools/list", version="2025-11-25")["error"]["code"] == -32022


def test_missing_required_meta(wire):
    meta_without_caps = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
    response = wire.conn.request("tools/list", {"_meta": meta_without_caps}, id=2)
    assert wire.check(response, "tools/list", "2026-07-28") == {"jsonrpc": "2.0", "id": 2, "error": {
        "code": -32602,
        "message": "Invalid params: _meta['io.modelcontextprotocol/clientCapabilities'] is required and must be an object"}}
    # server/discover opens a modern connection even without _meta, and says what is missing.
    response = wire.conn.request("server/discover", {}, id=3)
    assert response["error"] == {"code": -32602,
                                 "message": "Invalid params: _meta['io.modelcontextprotocol/protocolVersion'] is required "
                                            "(a 2026-07-28 request carries {\"io.modelcontextprotocol/protocolVersion\": "
                                            "\"2026-07-28\", \"io.modelcontextprotocol/clientCapabilities\": {}} in "
                                            "params._meta; or send initialize first for a session)"}


def test_legacy_only_methods_do_not_exist(wire):
    for method in ["ping", "logging/setLevel", "resources/subscribe"]:
        assert wire.modern(method)["error"] == {"code": -32601, "message": "Method not found: " + method}


def test_a_rejected_first_request_leaves_the_era_open(wire):
    """A dual-era client probes with its newest version; when that is refused (-32022 naming
    every version) it must still be able to fall back to initialize."""
    assert wire.modern("server/discover", version="2027-01-01")["error"]["data"]["supported"][-1] == "2024-11-05"
    assert wire.modern("tools/list", version="2025-11-25")["error"]["code"] == -32022
    assert wire.initialize("2025-11-25")["result"]["protocolVersion"] == "2025-11-25"
    assert wire.request("tools/list")["result"]["tools"]


def test_unsupported_version_on_a_modern_connection_offers_modern_versions(wire):
    wire.modern("tools/list")
    assert wire.modern("tools/list", version="2099-01-01")["error"]["data"] == {
        "supported": ["2026-07-28"], "requested": "2099-01-01"}


def test_initialize_on_a_modern_connection_names_what_it_serves(wire):
    wire.modern("tools/list")
    response = wire.conn.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                                "clientInfo": {"name": "x", "version": "1"}}, id=9)
    assert response == {"jsonrpc": "2.0", "id": 9, "error": {
        "code": -32022,
        "message": "This connection serves protocol 2026-07-28 without a handshake; initialize is not accepted",
        "data": {"supported": ["2026-07-28"], "requested": "2025-11-25"}}}


def test_resource_not_found_is_invalid_params(wire):
    assert wire.modern("resources/read", {"uri": "test://missing"}, id=4) == {
        "jsonrpc": "2.0", "id": 4, "error": {
            "code": -32602, "message": "Resource not found: test://missing", "data": {"uri": "test://missing"}}}


def test_resource_handler_returning_none_is_not_found(wire):
    assert wire.modern("resources/read", {"uri": "test://maybe/missing"})["error"]["code"] == -32602


def test_tool_errors_are_results(wire):
    result = wire.modern("tools/call", {"name": "add", "arguments": {"a": "x", "b": 1}})["result"]
    assert result["isError"] is True and result["resultType"] == "complete"
    assert wire.modern("tools/call", {"name": "ghost"})["error"] == {"code": -32602, "message": "Unknown tool: ghost"}


def test_bad_log_level(wire):
    assert wire.modern("tools/list", log_level="shouting")["error"]["code"] == -32602


def test_begin_call_takes_meta_built_in_python_with_subclasses():
    # Server.begin_call's caller may build _meta in Python: a dict or str subclass is as
    # acceptable as what JSON decodes to (the exact-type predicate says no; the checks that
    # name each refusal find nothing wrong), and a bad one still meets its own error.
    class Level(str):
        pass
    app = make_app()
    meta = OrderedDict([("io.modelcontextprotocol/protocolVersion", "2026-07-28"),
                        ("io.modelcontextprotocol/clientCapabilities", OrderedDict()),
                        ("io.modelcontextprotocol/logLevel", Level("debug"))])
    call = app.begin_call({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}},
                          DETACHED_PORT, modern=True)
    assert (call.request.version, call.request.log_level) == ("2026-07-28", "debug")
    meta["io.modelcontextprotocol/logLevel"] = Level("loud")
    with pytest.raises(MCPError, match="unknown log level"):
        app.begin_call({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta}},
                       DETACHED_PORT, modern=True)


def test_requests_are_independent(wire):
    """Stateless: capabilities and client info come from each request, never from a previous one."""
    a = wire.modern("tools/call", {"name": "whoami"}, **{"io.modelcontextprotocol/clientInfo": {
        "name": "first", "version": "1"}})["result"]["structuredContent"]
    b = wire.modern("tools/call", {"name": "whoami"}, **{"io.modelcontextprotocol/clientInfo": {
        "name": "second", "version": "1"}})["result"]["structuredContent"]
    assert (a["client"], b["client"]) == ("first", "second")


def test_log_notifications_follow_the_request_level(wire_factory):
    app = Server("logs")

    @app.tool()
    def chatty(ctx: Context) -> str:
        ctx.debug("d")
        ctx.info("i")
        ctx.error({"code": 1})
        return "ok"
    w = wire_factory(app)
    w.modern("tools/call", {"name": "chatty"})
    assert w.notifications("2026-07-28") == [], "no logLevel in _meta: no log notifications at all"
    w.modern("tools/call", {"name": "chatty"}, log_level="info")
    assert [n["params"] for n in w.notifications("2026-07-28")] == [
        {"level": "info", "data": "i"}, {"level": "error", "data": {"code": 1}}]


def test_progress_for_the_callers_token(wire_factory):
    app = Server("progress")

    @app.tool()
    def work(ctx: Context) -> str:
        ctx.progress(1, 3, "one")
        ctx.progress(1, 3, "again")  # not increasing: dropped
        ctx.progress(2.5, 3)
        return "ok"
    w = wire_factory(app)
    w.modern("tools/call", {"name": "work"})
    assert w.notifications("2026-07-28") == [], "no progressToken: no progress"
    w.modern("tools/call", {"name": "work"}, progressToken=0)
    assert w.notifications("2026-07-28") == [
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": 0, "progress": 1, "total": 3, "message": "one"}},
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": 0, "progress": 2.5, "total": 3}},
    ]


def _listen(wire, rid, notifications):
    """Open a subscriptions/listen on the in-memory (stdio) path: no response comes until it ends."""
    wire.conn.send({"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen", "params": {
        "notifications": notifications,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}})


def test_listen_acknowledges_then_delivers_what_was_asked(wire_factory):
    app = make_app()
    wire = wire_factory(app)
    _listen(wire, "L1", {"toolsListChanged": True, "resourceSubscriptions": ["test://a"]})
    _listen(wire, "L2", {"promptsListChanged": True})
    app.notify_list_changed("tools")
    app.notify_list_changed("prompts")
    app.notify_resource_updated("test://a")
    app.notify_resource_updated("test://other")
    got = [wire.conn.receive() for _ in range(5)]
    tag = "io.modelcontextprotocol/subscriptionId"
    by_sub = {}
    for message in got:
        wire.check(message, None, "2026-07-28")
        by_sub.setdefault(message["params"]["_meta"][tag], []).append(message)
    assert [m["method"] for m in by_sub["L1"]] == [
        "notifications/subscriptions/acknowledged", "notifications/tools/list_changed",
        "notifications/resources/updated"]
    assert by_sub["L1"][0]["params"]["notifications"] == {"toolsListChanged": True,
                                                          "resourceSubscriptions": ["test://a"]}
    assert by_sub["L1"][2]["params"]["uri"] == "test://a"
    assert [m["method"] for m in by_sub["L2"]] == [
        "notifications/subscriptions/acknowledged", "notifications/prompts/list_changed"]
    assert wire.conn.pending_messages() == [], "nothing for unsubscribed URIs or kinds"
    assert sorted(wire.conn.connection.in_progress()) == ["L1", "L2"]


def test_cancelling_a_listen_ends_it_without_a_response(wire_factory):
    app = make_app()
    wire = wire_factory(app)
    _listen(wire, 7, {"toolsListChanged": True})
    assert wire.conn.receive()["method"] == "notifications/subscriptions/acknowledged"
    wire.conn.notify("notifications/cancelled", {"requestId": 7})
    app.notify_list_changed("tools")
    assert wire.modern("tools/list")["result"]["tools"], "the connection still serves"
    assert [m for m in wire.conn.pending_messages() if m.get("method")] == []
    assert wire.conn.connection.in_progress() == []
    assert app.registry.listeners == []


def test_modern_capabilities_announce_list_changes(wire_factory):
    wire = wire_factory(make_app())
    caps = wire.modern("server/discover")["result"]["capabilities"]
    assert caps["tools"] == {"listChanged": True}
    assert caps["prompts"] == {"listChanged": True}
    assert caps["resources"] == {"listChanged": True, "subscribe": True}
