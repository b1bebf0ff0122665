"""Context in the legacy era: logging levels and progress tokens of a session."""

from mcplite import Context, Server


def make_app() -> Server:
    app = Server("ctx")

    @app.tool()
    def chatty(ctx: Context) -> str:
        ctx.debug("d")
        ctx.info("i", logger="app")
        ctx.warning("w")
        return "ok"

    @app.tool()
    def work(ctx: Context, steps: int = 3) -> str:
        for i in range(1, steps + 1):
            ctx.progress(i, steps, "step %d" % i)
        return "ok"

    @app.resource("ctx://who")
    def who(ctx: Context) -> dict:
        return {"client": ctx.client_info.get("name"), "caps": ctx.client_capabilities}

    @app.prompt()
    def hello(name: str, ctx: Context) -> str:
        return "hello %s from %s" % (name, ctx.protocol_version)

    return app


def test_log_messages_before_set_level_and_after(wire_factory):
    w = wire_factory(make_app())
    w.initialize()
    w.request("tools/call", {"name": "chatty"})
    # Before logging/setLevel the client has chosen no threshold: everything is sent.
    assert [n["params"] for n in w.notifications()] == [
        {"level": "debug", "data": "d"}, {"level": "info", "data": "i", "logger": "app"},
        {"level": "warning", "data": "w"}]
    w.request("logging/setLevel", {"level": "warning"})
    w.request("tools/call", {"name": "chatty"})
    assert [n["params"]["level"] for n in w.notifications()] == ["warning"]


def test_progress_only_with_a_token_and_in_order(wire_factory):
    w = wire_factory(make_app())
    w.initialize("2024-11-05")
    w.request("tools/call", {"name": "work"})
    assert w.notifications() == []
    w.request("tools/call", {"name": "work", "arguments": {"steps": 2}, "_meta": {"progressToken": "t"}})
    # 2024-11-05 has no "message" in progress notifications.
    assert w.notifications() == [
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t", "progress": 1, "total": 2}},
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t", "progress": 2, "total": 2}},
    ]


def test_context_in_resources_and_prompts(wire_factory):
    w = wire_factory(make_app())
    w.initialize("2025-06-18", capabilities={"roots": {"listChanged": True}}, client_info={"name": "me", "version": "1"})
    text = w.request("resources/read", {"uri": "ctx://who"})["result"]["contents"][0]["text"]
    assert text == '{"client": "me", "caps": {"roots": {"listChanged": true}}}'
    prompt = w.request("prompts/get", {"name": "hello", "arguments": {"name": "ann"}})["result"]
    assert prompt["messages"][0]["content"]["text"] == "hello ann from 2025-06-18"
    listed = w.request("prompts/list")["result"]["prompts"][0]
    assert listed["arguments"] == [{"name": "name", "required": True}], "ctx is not a prompt argument"
