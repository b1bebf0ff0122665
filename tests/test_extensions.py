"""The extensions seam (SEP-2133) on the wire, in both eras: declared extensions, an
application's own methods and notifications, middleware around every request, and when the
deprecated logging capability is declared."""

import logging
import threading
import time

import pytest

from http_peer import Http
from mcplite import Client, Context, MCPError, Server
from mcplite.protocol import LEGACY_VERSIONS

MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "ext", "version": "1.0.0"}}
ERAS = ["legacy", "modern"]


def ext_app(**options):
    app = Server("ext", "1.0.0", **options)
    app.seen = []

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @app.method("com.example/echo")
    def echo(params: dict) -> dict:
        return {"echo": params}

    @app.method("com.example/whoami")
    def whoami(params: dict, ctx: Context) -> dict:
        return {"id": ctx.request_id, "version": ctx.protocol_version,
                "extensions": ctx.client_capabilities.get("extensions", {})}

    @app.method("com.example/fail")
    def fail(params: dict) -> dict:
        if params.get("how") == "mcp":
            raise MCPError(-32050, "No such thing", {"thing": params.get("thing")})
        raise RuntimeError("secret detail /etc/shadow")

    @app.notification("com.example/note")
    def note(params):
        app.seen.append(params)
        if params.get("boom"):
            raise ValueError("a notification handler failed")
    return app


class Peer:
    """One era's client end over the in-memory connection: ``call`` sends a request in that
    era's form and returns the whole response."""

    def __init__(self, wire_factory, app, era, capabilities=None):
        self.wire = wire_factory(app)
        self.era = era
        self.capabilities = capabilities or {}
        self.version = MODERN if era == "modern" else "2025-11-25"
        if era == "legacy":
            self.wire.initialize(capabilities=self.capabilities)

    def call(self, method, params=None, id=None):
        params = dict(params or {})
        if self.era == "modern":
            params["_meta"] = dict(ENVELOPE, **{"io.modelcontextprotocol/clientCapabilities": self.capabilities})
        response = self.wire.conn.request(method, params, id=id)
        # The envelope (result or error, the id) still has to be right in that version's schema.
        return self.wire.check(response, None, self.version)

    def result(self, method, params=None):
        response = self.call(method, params)
        assert "result" in response, response
        result = dict(response["result"])
        if self.era == "modern":
            assert result.pop("resultType") == "complete"
            assert result.pop("_meta") == SERVER_INFO
        return result

    def notify(self, method, params=None):
        self.wire.conn.notify(method, params)


def capabilities(wire_factory, app, era):
    """What ``app`` declares in ``era``: its initialize result's, or server/discover's."""
    w = wire_factory(app)
    if era == "legacy":
        return w.initialize()["result"]["capabilities"]
    response = w.conn.request("server/discover", {"_meta": ENVELOPE})
    w.check(response, "server/discover", MODERN)
    return response["result"]["capabilities"]


# -- declared extensions -------------------------------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_declared_extensions_are_in_the_capabilities(wire_factory, era):
    app = ext_app()
    assert "extensions" not in capabilities(wire_factory, app, era)
    app.add_extension("com.example/search", {"maxResults": 5})
    app.add_extension("io.modelcontextprotocol/ui")
    assert capabilities(wire_factory, app, era)["extensions"] == {
        "com.example/search": {"maxResults": 5}, "io.modelcontextprotocol/ui": {}}
    app.add_extension("com.example/search", {"maxResults": 9})  # again: its settings replaced
    app.remove_extension("io.modelcontextprotocol/ui")
    assert capabilities(wire_factory, app, era)["extensions"] == {"com.example/search": {"maxResults": 9}}
    assert app.extensions == {"com.example/search": {"maxResults": 9}}
    app.extensions["com.example/search"]["maxResults"] = 1  # a copy: changes nothing
    app.remove_extension("com.example/search")
    assert "extensions" not in capabilities(wire_factory, app, era)
    with pytest.raises(KeyError):
        app.remove_extension("com.example/search")


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_every_legacy_version_gets_them_in_a_schema_valid_initialize(wire_factory, version):
    app = ext_app()
    app.add_extension("com.example/search", {"maxResults": 5})
    w = wire_factory(app)
    assert w.initialize(version)["result"]["capabilities"]["extensions"] == {"com.example/search": {"maxResults": 5}}


def test_tasks_are_declared_through_the_same_map_in_2026_only(wire_factory):
    app = ext_app()
    app.add_extension("com.example/search")

    @app.tool(task="optional")
    def slow() -> str:
        return "done"
    assert capabilities(wire_factory, app, "modern")["extensions"] == {
        "com.example/search": {}, "io.modelcontextprotocol/tasks": {}}
    assert capabilities(wire_factory, app, "legacy")["extensions"] == {"com.example/search": {}}
    with pytest.raises(ValueError, match="declared by the server itself"):
        app.add_extension("io.modelcontextprotocol/tasks")


@pytest.mark.parametrize("name", ["search", "com.example/", "/search", "com..example/x", "-com/x", "com.example/x y",
                                  "com.example/-x", "", None, 3,
                                  "com.example/x\n"])  # (the pattern's "$" took a final line break)
def test_an_extension_identifier_needs_a_vendor_prefix_and_a_name(name):
    with pytest.raises(ValueError, match="invalid extension identifier"):
        Server("x").add_extension(name)


def test_extension_settings_are_an_object():
    with pytest.raises(TypeError, match="settings are a dict"):
        Server("x").add_extension("com.example/x", ["a"])


# -- an application's own methods ----------------------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_a_custom_method_gets_its_params_without_meta_and_returns_its_result(wire_factory, era):
    peer = Peer(wire_factory, ext_app(), era)
    assert peer.result("com.example/echo", {"q": "hi", "n": [1, 2]}) == {"echo": {"q": "hi", "n": [1, 2]}}
    assert peer.result("com.example/echo") == {"echo": {}}


@pytest.mark.parametrize("era", ERAS)
def test_a_custom_method_gets_a_context_and_sees_client_extensions(wire_factory, era):
    peer = Peer(wire_factory, ext_app(), era, capabilities={"extensions": {"com.example/client-side": {"v": 1}}})
    response = peer.call("com.example/whoami", id="w-1")
    assert response["id"] == "w-1"
    assert response["result"]["id"] == "w-1"
    assert response["result"]["version"] == peer.version
    assert response["result"]["extensions"] == {"com.example/client-side": {"v": 1}}


@pytest.mark.parametrize("era", ERAS)
def test_mcp_error_is_that_json_rpc_error_and_others_are_internal_without_detail(wire_factory, era, caplog):
    peer = Peer(wire_factory, ext_app(), era)
    assert peer.call("com.example/fail", {"how": "mcp", "thing": "t"}, id=5) == {
        "jsonrpc": "2.0", "id": 5, "error": {"code": -32050, "message": "No such thing", "data": {"thing": "t"}}}
    with caplog.at_level(logging.ERROR, logger="mcplite.server"):
        response = peer.call("com.example/fail", id=6)
    assert response == {"jsonrpc": "2.0", "id": 6, "error": {"code": -32603, "message": "Internal error"}}
    # The traceback stays in the server's log.
    assert "secret detail" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize("era", ERAS)
def test_unknown_custom_methods_are_method_not_found(wire_factory, era):
    peer = Peer(wire_factory, ext_app(), era)
    assert peer.call("com.example/nope", id=1)["error"]["code"] == -32601


def test_a_legacy_session_must_be_initialized_first(wire_factory):
    w = wire_factory(ext_app())
    response = w.conn.request("com.example/echo", {}, id=1)
    assert response["error"]["code"] == -32600 and "initialize" in response["error"]["message"]


def test_a_modern_custom_request_needs_the_envelope(wire_factory):
    w = wire_factory(ext_app())
    w.conn.request("server/discover", {"_meta": ENVELOPE})  # the connection is modern now
    response = w.conn.request("com.example/echo", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}})
    assert response["error"]["code"] == -32602  # clientCapabilities is required
    response = w.conn.request("com.example/echo", {"_meta": dict(
        ENVELOPE, **{"io.modelcontextprotocol/protocolVersion": "2099-01-01"})})
    assert response["error"]["code"] == -32022


@pytest.mark.parametrize("era", ERAS)
def test_params_schema_is_checked_first(wire_factory, era):
    app = ext_app()
    ran = []

    @app.method("com.example/search", params_schema={
        "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})
    def search(params):
        ran.append(params)
        return {"hits": [params["query"]]}
    peer = Peer(wire_factory, app, era)
    assert peer.result("com.example/search", {"query": "q"}) == {"hits": ["q"]}
    refused = peer.call("com.example/search", {"query": 3}, id=2)
    assert refused["error"]["code"] == -32602 and "com.example/search" in refused["error"]["message"]
    assert peer.call("com.example/search", {}, id=3)["error"]["code"] == -32602
    assert ran == [{"query": "q"}]


@pytest.mark.parametrize("era", ERAS)
def test_return_values_none_async_and_not_a_dict(wire_factory, era):
    app = ext_app()

    @app.method("com.example/nothing")
    def nothing(params):
        return None

    @app.method("com.example/later")
    async def later(params: dict, ctx: Context) -> dict:
        return {"later": params["x"], "id": ctx.request_id}

    @app.method("com.example/list")
    def a_list(params):
        return [1, 2]

    @app.method("com.example/noparams")
    def noparams() -> dict:
        return {"ok": True}
    peer = Peer(wire_factory, app, era)
    assert peer.result("com.example/nothing") == {}
    assert peer.call("com.example/later", {"x": 1}, id="a")["result"]["later"] == 1
    assert peer.call("com.example/list", id=4)["error"] == {"code": -32603, "message": "Internal error"}
    assert peer.result("com.example/noparams", {"ignored": 1}) == {"ok": True}


def test_the_returned_dict_is_not_changed(wire_factory):
    app = Server("ext", "1.0.0")
    kept = {"value": 1}

    @app.method("com.example/kept")
    def give(params):
        return kept
    peer = Peer(wire_factory, app, "modern")
    assert peer.result("com.example/kept") == {"value": 1}
    assert kept == {"value": 1}  # resultType and _meta went on a copy


class Gate:
    def __init__(self):
        self.started = threading.Event()
        self.saw_cancel = threading.Event()


def test_a_custom_method_is_cancelled_like_a_built_in_one(wire_factory):
    app = ext_app()
    gate = Gate()

    @app.method("com.example/wait")
    def wait(params: dict, ctx: Context) -> dict:
        gate.started.set()
        deadline = time.monotonic() + 5
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.saw_cancel.set()
        return {"cancelled": ctx.cancelled}
    w = wire_factory(app)
    w.initialize()
    w.conn.send({"jsonrpc": "2.0", "id": "slow", "method": "com.example/wait", "params": {}})
    assert gate.started.wait(5)
    w.conn.notify("notifications/cancelled", {"requestId": "slow"})
    assert gate.saw_cancel.wait(5)
    assert w.conn.request("ping", id="p")["result"] == {}
    time.sleep(0.05)
    assert [m for m in w.notifications() if m.get("id") == "slow"] == [], "no response to a cancelled request"


def test_a_modern_custom_method_asks_the_client_in_rounds(wire_factory):
    app = Server("ext", "1.0.0")

    @app.method("com.example/confirm")
    def confirm(params: dict, ctx: Context) -> dict:
        answer = ctx.elicit("Sure?", {"ok": bool})
        return {"answer": answer["content"]["ok"]}
    caps = {"elicitation": {}}
    peer = Peer(wire_factory, app, "modern", capabilities=caps)
    first = peer.call("com.example/confirm", id=1)["result"]
    assert first["resultType"] == "input_required"
    [(key, question)] = first["inputRequests"].items()
    assert question["method"] == "elicitation/create"
    params = {"inputResponses": {key: {"action": "accept", "content": {"ok": True}}}}
    if "requestState" in first:
        params["requestState"] = first["requestState"]
    assert peer.result("com.example/confirm", params) == {"answer": True}


@pytest.mark.parametrize("name", ["tools/call", "initialize", "server/discover", "sampling/createMessage",
                                  "tasks/get", "notifications/cancelled"])
def test_a_built_in_method_cannot_be_overridden(name):
    app = Server("x")
    with pytest.raises(ValueError, match="built-in MCP method"):
        app.method(name)(lambda params: {})
    with pytest.raises(ValueError, match="built-in MCP method"):
        app.notification(name)(lambda params: None)


@pytest.mark.parametrize("name,why", [("search", "needs a namespace"), ("/search", "needs a namespace"),
                                      ("search/", "needs a namespace"), ("rpc.x/y", "reserved by JSON-RPC"),
                                      ("notifications/mine", "for notifications"), (" x/y", "non-empty string"),
                                      ("", "non-empty string")])
def test_a_method_name_needs_a_namespace(name, why):
    with pytest.raises(ValueError, match=why):
        Server("x").method(name)(lambda params: {})


def test_registration_mistakes_are_refused_at_once():
    app = Server("x")
    app.method("com.example/a")(lambda params: {})
    with pytest.raises(ValueError, match="already registered"):
        app.method("com.example/a")(lambda params: {})
    with pytest.raises(TypeError, match="takes the request's params"):
        app.method("com.example/b")(lambda params, other: {})
    with pytest.raises(ValueError, match="params schema"):
        app.method("com.example/c", params_schema={"type": "array"})(lambda params: {})
    app.notification("com.example/n")(lambda params: None)
    with pytest.raises(ValueError, match="already registered"):
        app.notification("com.example/n")(lambda params: None)

    async def later(params):
        return None
    with pytest.raises(TypeError, match="not async def"):
        app.notification("com.example/m")(later)
    app.notification("notifications/com.example/mine")(lambda params: None)  # a notification may use that namespace


# -- notifications -------------------------------------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_custom_notifications_reach_their_handler_and_nothing_answers(wire_factory, era, caplog):
    app = ext_app()
    peer = Peer(wire_factory, app, era)
    params = {"text": "hi"}
    if era == "modern":
        params["_meta"] = dict(ENVELOPE)
    peer.notify("com.example/note", params)
    with caplog.at_level(logging.ERROR, logger="mcplite.server"):
        peer.notify("com.example/note", {"boom": True})
    peer.notify("com.example/unknown", {"x": 1})
    assert peer.call("com.example/echo", id="after")["id"] == "after"  # still serving
    assert app.seen == [{"text": "hi"}, {"boom": True}]  # in order, without _meta
    assert "a notification handler failed" in caplog.text
    assert [m for m in peer.wire.notifications(peer.version) if "id" not in m or m.get("id") != "after"] == []


# -- middleware ----------------------------------------------------------------------------

def traced_app(trace):
    app = ext_app()

    @app.middleware
    def outer(method, params, ctx, call_next):
        trace.append(("outer in", method))
        result = call_next()
        trace.append(("outer out", method))
        return result

    @app.middleware
    def inner(method, params, ctx, call_next):
        trace.append(("inner in", method))
        result = call_next()
        trace.append(("inner out", method))
        return result
    return app


@pytest.mark.parametrize("era", ERAS)
def test_middleware_runs_around_every_request_first_registered_outermost(wire_factory, era):
    trace = []
    peer = Peer(wire_factory, traced_app(trace), era)
    if era == "legacy":
        assert trace == [("outer in", "initialize"), ("inner in", "initialize"),
                         ("inner out", "initialize"), ("outer out", "initialize")]
        peer.call("ping")
    else:
        peer.call("server/discover")
    del trace[:]
    peer.result("tools/list")
    peer.result("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    peer.result("com.example/echo")
    assert [step for step in trace if step[0] == "outer in"] == [
        ("outer in", "tools/list"), ("outer in", "tools/call"), ("outer in", "com.example/echo")]
    assert trace[:4] == [("outer in", "tools/list"), ("inner in", "tools/list"),
                         ("inner out", "tools/list"), ("outer out", "tools/list")]


@pytest.mark.parametrize("era", ERAS)
def test_refused_requests_never_reach_middleware(wire_factory, era):
    trace = []
    peer = Peer(wire_factory, traced_app(trace), era)
    del trace[:]
    assert peer.call("com.example/nope")["error"]["code"] == -32601
    assert trace == []


@pytest.mark.parametrize("era", ERAS)
def test_middleware_can_change_params_and_results(wire_factory, era):
    app = ext_app()

    @app.middleware
    def rewrite(method, params, ctx, call_next):
        if method == "tools/call":
            arguments = dict(params["arguments"], b=100)
            result = call_next(dict(params, arguments=arguments))
            return dict(result, _meta=dict(result.get("_meta") or {}, **{"com.example/seen": ctx.request_id}))
        return call_next()
    peer = Peer(wire_factory, app, era)
    response = peer.call("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, id="c")
    result = response["result"]
    assert result["structuredContent"] == {"result": 101}
    assert result["_meta"]["com.example/seen"] == "c"
    if era == "modern":  # the server's own _meta entries join the middleware's
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"] == SERVER_INFO[
            "io.modelcontextprotocol/serverInfo"]


@pytest.mark.parametrize("era", ERAS)
def test_middleware_refuses_and_maps_errors(wire_factory, era):
    app = ext_app()
    budget = [2]

    @app.middleware
    def limit(method, params, ctx, call_next):
        if method == "tools/call":
            if budget[0] == 0:
                raise MCPError(-32029, "Rate limit exceeded", {"retryAfterMs": 1000})
            budget[0] -= 1
        return call_next()

    @app.middleware
    def mapped(method, params, ctx, call_next):
        try:
            return call_next()
        except RuntimeError as exc:
            raise MCPError(-32051, "Mapped: %s" % type(exc).__name__)
    peer = Peer(wire_factory, app, era)
    call = {"name": "add", "arguments": {"a": 1, "b": 2}}
    assert peer.result("tools/call", call)["structuredContent"] == {"result": 3}
    assert peer.result("tools/call", call)["structuredContent"] == {"result": 3}
    assert peer.call("tools/call", call, id=9) == {"jsonrpc": "2.0", "id": 9, "error": {
        "code": -32029, "message": "Rate limit exceeded", "data": {"retryAfterMs": 1000}}}
    assert peer.call("com.example/fail", id=10)["error"] == {"code": -32051, "message": "Mapped: RuntimeError"}


@pytest.mark.parametrize("era", ERAS)
def test_a_middleware_that_returns_no_dict_is_an_internal_error(wire_factory, era):
    app = ext_app()

    @app.middleware
    def forgetful(method, params, ctx, call_next):
        if method == "com.example/echo":
            call_next()
            return None
        return call_next()
    peer = Peer(wire_factory, app, era)
    assert peer.call("com.example/echo", id=1)["error"] == {"code": -32603, "message": "Internal error"}
    assert peer.result("tools/list")["tools"][0]["name"] == "add"


def test_no_middleware_means_the_plain_path():
    app = ext_app()
    assert app._dispatcher.middleware == ()
    with pytest.raises(TypeError):
        app.middleware("not a function")


# -- the deprecated logging capability ------------------------------------------------------

def plain_app(**options):
    app = Server("plain", "1.0.0", **options)

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b
    return app


def logging_app(**options):
    app = plain_app(**options)

    @app.tool()
    def noisy(ctx: Context) -> str:
        sent = ctx.info("working")
        return "sent" if sent else "silent"
    return app


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_legacy_sessions_keep_the_logging_capability_by_default(wire_factory, version):
    w = wire_factory(plain_app())
    assert w.initialize(version)["result"]["capabilities"]["logging"] == {}


def test_2026_declares_logging_only_when_something_could_log(wire_factory):
    app = plain_app()
    assert "logging" not in capabilities(wire_factory, app, "modern")

    @app.resource("test://ctx")
    def read(ctx: Context) -> str:
        return "x"
    assert capabilities(wire_factory, app, "modern")["logging"] == {}
    app.remove_resource("test://ctx")
    assert "logging" not in capabilities(wire_factory, app, "modern")
    app.method("com.example/ctx")(lambda params, ctx=None: {})  # no Context annotation: cannot log
    assert "logging" not in capabilities(wire_factory, app, "modern")

    def with_context(params: dict, ctx: Context) -> dict:
        return {}
    app.method("com.example/ctx2")(with_context)
    assert capabilities(wire_factory, app, "modern")["logging"] == {}
    other = plain_app()
    other.middleware(lambda method, params, ctx, call_next: call_next())
    assert capabilities(wire_factory, other, "modern")["logging"] == {}


@pytest.mark.parametrize("era", ERAS)
def test_logging_true_always_declares_it(wire_factory, era):
    assert capabilities(wire_factory, plain_app(logging=True), era)["logging"] == {}


@pytest.mark.parametrize("era", ERAS)
def test_logging_false_never_declares_it_nor_sends_log_messages(wire_factory, era):
    app = logging_app(logging=False)
    assert "logging" not in capabilities(wire_factory, app, era)
    w = wire_factory(app)
    if era == "legacy":
        w.initialize()
        assert w.request("logging/setLevel", {"level": "debug"})["error"]["code"] == -32601
        response = w.request("tools/call", {"name": "noisy"})
    else:
        response = w.modern("tools/call", {"name": "noisy"}, log_level="debug")
    assert response["result"]["content"][0]["text"] == "silent"
    assert [m for m in w.notifications() if m.get("method") == "notifications/message"] == []


@pytest.mark.parametrize("era", ERAS)
def test_by_default_a_handler_still_logs(wire_factory, era):
    w = wire_factory(logging_app())
    if era == "legacy":
        w.initialize()
        w.request("logging/setLevel", {"level": "debug"})
        response = w.request("tools/call", {"name": "noisy"})
    else:
        response = w.modern("tools/call", {"name": "noisy"}, log_level="debug")
    assert response["result"]["content"][0]["text"] == "sent"


def test_logging_setting_is_checked():
    with pytest.raises(ValueError, match="logging must be"):
        Server("x", logging="yes")


# -- the client ---------------------------------------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_the_client_declares_extensions_and_calls_custom_methods(era):
    app = ext_app()
    app.add_extension("com.example/search", {"v": 2})
    with Client(app, era=era, extensions={"com.example/client-side": {"v": 1}},
                capabilities={"extensions": {"com.example/other": {}}}) as client:
        assert client.server_capabilities["extensions"] == {"com.example/search": {"v": 2}}
        seen = client.request("com.example/whoami")
        assert seen["extensions"] == {"com.example/client-side": {"v": 1}, "com.example/other": {}}
        assert client.request("com.example/echo", {"q": 1})["echo"] == {"q": 1}
        with pytest.raises(MCPError) as refused:
            client.request("com.example/fail", {"how": "mcp", "thing": "t"})
        assert (refused.value.code, refused.value.data) == (-32050, {"thing": "t"})
        client.notify("com.example/note", {"from": "client"})
        deadline = time.monotonic() + 5
        while not app.seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.seen == [{"from": "client"}]


def test_client_extensions_must_be_settings_dicts():
    with pytest.raises(TypeError, match="extensions maps"):
        Client(ext_app(), extensions={"com.example/x": True})


# -- over HTTP -----------------------------------------------------------------------------

@pytest.fixture
def http_app():
    app = ext_app()
    app.add_extension("com.example/search")
    trace = []

    @app.middleware
    def record(method, params, ctx, call_next):
        trace.append(method)
        return call_next()
    app.trace = trace
    handle = app.run_in_thread("http", port=0)
    yield app, handle
    handle.stop()


def test_http_modern_custom_methods_notifications_and_middleware(http_app):
    app, handle = http_app
    http = Http(handle)
    try:
        reply = http.modern("com.example/whoami", id="h1")
        assert reply.status == 200
        result = reply.json()["result"]
        assert (result["id"], result["version"], result["resultType"]) == ("h1", MODERN, "complete")
        failed = http.modern("com.example/fail", {"how": "mcp"}, id="h2")
        assert failed.json()["error"]["code"] == -32050
        crashed = http.modern("com.example/fail", id="h3").json()
        assert crashed["error"] == {"code": -32603, "message": "Internal error"}
        missing = http.modern("com.example/nope", id="h4")
        assert missing.status == 404 and missing.json()["error"]["code"] == -32601
        note = http.post({"jsonrpc": "2.0", "method": "com.example/note", "params": {"over": "http"}},
                         {"MCP-Protocol-Version": MODERN, "Mcp-Method": "com.example/note"}, session=False)
        assert note.status == 202 and note.body == b""
        assert app.seen == [{"over": "http"}]
        discovered = http.modern("server/discover", id="h5").json()["result"]["capabilities"]
        assert discovered["extensions"] == {"com.example/search": {}}
        assert app.trace == ["com.example/whoami", "com.example/fail", "com.example/fail", "server/discover"]
    finally:
        http.close()


def test_http_legacy_session_custom_methods_and_notifications(http_app):
    app, handle = http_app
    http = Http(handle)
    try:
        init = http.initialize()
        assert init.json()["result"]["capabilities"]["extensions"] == {"com.example/search": {}}
        reply = http.call("com.example/echo", {"q": "s"}, id=2)
        assert reply.messages() == [{"jsonrpc": "2.0", "id": 2, "result": {"echo": {"q": "s"}}}]
        whoami = http.call("com.example/whoami", id=3).messages()
        assert whoami[-1]["result"]["version"] == "2025-11-25"
        assert http.post({"jsonrpc": "2.0", "method": "com.example/note", "params": {"s": 1}}).status == 202
        assert app.seen == [{"s": 1}]
        assert app.trace == ["initialize", "com.example/echo", "com.example/whoami"]
    finally:
        http.close()


@pytest.mark.parametrize("era", ERAS)
def test_the_client_answers_a_custom_methods_questions_in_either_era(era):
    app = Server("ext", "1.0.0")

    @app.method("com.example/confirm")
    def confirm(params: dict, ctx: Context) -> dict:
        answer = ctx.elicit("Delete %s?" % params["what"], {"ok": bool})
        return {"deleted": answer["action"] == "accept" and answer["content"]["ok"]}
    asked = []

    def elicitation(params):
        asked.append(params["message"])
        return {"action": "accept", "content": {"ok": True}}
    with Client(app, era=era, elicitation=elicitation) as client:
        assert client.request("com.example/confirm", {"what": "x"}) == (
            {"deleted": True} if era == "legacy" else {"deleted": True, "resultType": "complete", "_meta": {
                "io.modelcontextprotocol/serverInfo": {"name": "ext", "version": "1.0.0"}}})
    assert asked == ["Delete x?"]


def test_a_request_state_is_bound_to_the_custom_methods_params(wire_factory):
    app = Server("ext", "1.0.0")

    @app.method("com.example/confirm")
    def confirm(params: dict, ctx: Context) -> dict:
        ctx.elicit("Sure?", {"ok": bool})
        return {"what": params["what"]}
    peer = Peer(wire_factory, app, "modern", capabilities={"elicitation": {}})
    first = peer.call("com.example/confirm", {"what": "a"})["result"]
    [key] = first["inputRequests"]
    answer = {"inputResponses": {key: {"action": "accept", "content": {"ok": True}}},
              "requestState": first["requestState"]}
    other = peer.call("com.example/confirm", dict(answer, what="b"), id=8)
    assert other["error"]["code"] == -32602 and "another request" in other["error"]["message"]
    assert peer.result("com.example/confirm", dict(answer, what="a")) == {"what": "a"}


# -- the protocol's own extension on the same seam ------------------------------------------

TASKS = {"extensions": {"io.modelcontextprotocol/tasks": {}}}


def test_the_tasks_extension_serves_its_methods_from_the_method_table(wire_factory):
    app = Server("ext", "1.0.0")
    trace = []
    app.middleware(lambda method, params, ctx, call_next: trace.append(method) or call_next())
    peer = Peer(wire_factory, app, "modern", capabilities=TASKS)
    # No tool runs as a task: the extension is not plugged in, tasks/get is a method this
    # server does not have, refused as any other is (before any middleware).
    assert not [name for name in app.registry.methods if name.startswith("tasks/")]
    assert peer.call("tasks/get", {"taskId": "x"})["error"] == {"code": -32601, "message": "Method not found: tasks/get"}

    @app.tool(task="optional")
    def slow() -> str:
        return "done"
    served = {name: handler for name, handler in app.registry.methods.items() if name.startswith("tasks/")}
    assert sorted(served) == ["tasks/cancel", "tasks/get", "tasks/update"]
    assert all(handler.quick for handler in served.values())
    assert not [name for name in app._dispatcher.methods() if name.startswith("tasks/")]
    # An application still cannot take those names; the extension's path takes no other.
    with pytest.raises(ValueError, match="built-in MCP method"):
        app.method("tasks/get")(lambda params: {})
    with pytest.raises(ValueError, match="not a request method of MCP"):
        app.registry.add_protocol_method(lambda params: {}, "com.example/tasks")
    unknown = peer.call("tasks/get", {"taskId": "nope"})["error"]
    assert unknown["code"] == -32602 and "task not found" in unknown["message"]
    assert peer.call("tasks/cancel", {"taskId": "nope"}, id=9)["error"]["code"] == -32602
    assert trace == ["tasks/get", "tasks/cancel"]
    # Served from the table, as an application's method: out of it, out of service.
    with app.registry.lock:
        del app.registry.methods["tasks/get"]
    assert peer.call("tasks/get", {"taskId": "nope"}, id=10)["error"]["code"] == -32601
    assert peer.call("tasks/cancel", {"taskId": "nope"}, id=11)["error"]["code"] == -32602


def test_a_task_store_made_again_keeps_the_extensions_methods(wire_factory):
    """The conformance fixture behind nginx (tests/conformance/wsgi_server.py) sets a shared
    store after its task tools made an in-memory one, and drops that one: the store made next
    finds the extension's methods registered already, and serves them (it failed with
    "a method 'tasks/get' is already registered", -32603 on the wire)."""
    app = Server("ext", "1.0.0")

    @app.tool(task="optional")
    def slow() -> str:
        return "done"
    first = dict(app.registry.methods)
    app._task_store = None
    peer = Peer(wire_factory, app, "modern", capabilities=TASKS)
    unknown = peer.call("tasks/get", {"taskId": "nope"})["error"]
    assert unknown["code"] == -32602 and "task not found" in unknown["message"], unknown
    assert app._task_store is not None and app.registry.methods == first


def test_a_quick_method_is_answered_like_a_list(wire_factory):
    from mcplite.ports import DETACHED_PORT
    app = Server("ext", "1.0.0")

    @app.method("com.example/lookup", quick=True)
    def lookup(params: dict, ctx: Context) -> dict:
        return {"params": params, "version": ctx.protocol_version, "principal": ctx.principal}

    @app.method("com.example/slow")
    def slow(params: dict) -> dict:
        return {"params": params}
    peer = Peer(wire_factory, app, "modern")
    # It asks nothing, so no input_required round reads its inputResponses: they are its params.
    assert peer.result("com.example/lookup", {"inputResponses": {"k": 1}}) == {
        "params": {"inputResponses": {"k": 1}}, "version": MODERN, "principal": None}
    assert peer.call("com.example/slow", {"inputResponses": {"k": 1}}, id=5)["error"]["code"] == -32602
    # Its Context only reads the request: nothing could log, so 2026-07-28 declares no logging.
    assert "logging" not in capabilities(wire_factory, app, "modern")

    def call(method):
        return app.begin_call({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": ENVELOPE}},
                              DETACHED_PORT, modern=True)
    # What an HTTP transport asks before serving a request on the connection's own thread.
    assert app.answers_at_once(call("com.example/lookup")) and not app.reaches_context(call("com.example/lookup"))
    assert not app.answers_at_once(call("com.example/slow"))
