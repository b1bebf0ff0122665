"""MCP Apps (io.modelcontextprotocol/ui) on the wire: the view's ui:// resource with the app
MIME type and its _meta.ui, the tool's _meta.ui link, the extension declared, in every
protocol version (each response checked against that version's schema), and
examples/apps_server.py as a real process over stdio in both eras."""

import os
import sys

import pytest

from mcplite import APP_MIME_TYPE, UI_EXTENSION, Client, Server
from mcplite.apps import client_supports_apps
from mcplite.protocol import LEGACY_VERSIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "apps_server.py")
PAGE = "<!DOCTYPE html><html><body><p>view</p></body></html>"
VIEW_META = {"ui": {"csp": {"connectDomains": ["https://api.example.com"], "resourceDomains": []},
                    "permissions": {"clipboardWrite": {}}, "domain": "abc.example-content.com",
                    "prefersBorder": False}}


def apps_app():
    app = Server("apps", "1.0.0")
    app.ui_resource("ui://weather/view", html=PAGE, name="weather_view", description="The forecast, drawn",
                    csp={"connectDomains": ["https://api.example.com"], "resourceDomains": []},
                    permissions=["clipboardWrite"], domain="abc.example-content.com", prefers_border=False)

    @app.ui_resource("ui://weather/live")
    def live() -> str:
        return PAGE.replace("view", "live")

    @app.tool(ui="ui://weather/view")
    def forecast(city: str) -> dict:
        return {"city": city, "sky": "clear"}

    @app.tool(ui={"resourceUri": "ui://weather/view", "visibility": ["app"]}, meta={"com.example/x": 1})
    def refresh() -> str:
        return "refreshed"

    @app.tool()
    def plain() -> str:
        return "no view"
    return app


def test_nothing_is_declared_until_a_view_is_used(wire_factory):
    app = Server("plain")

    @app.tool()
    def plain() -> str:
        return "x"
    assert "extensions" not in wire_factory(app).initialize()["result"]["capabilities"]
    app.ui_resource("ui://a/b", html=PAGE)
    assert wire_factory(app).initialize()["result"]["capabilities"]["extensions"] == {UI_EXTENSION: {}}
    other = Server("tool only")
    other.add_tool(lambda: "x", "t", ui="ui://a/b")
    assert other.extensions == {UI_EXTENSION: {}}


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_every_legacy_version(wire_factory, version):
    w = wire_factory(apps_app())
    assert w.initialize(version)["result"]["capabilities"]["extensions"] == {UI_EXTENSION: {}}
    tools = {t["name"]: t for t in w.request("tools/list", {})["result"]["tools"]}
    resources = {r["uri"]: r for r in w.request("resources/list", {})["result"]["resources"]}
    read = w.request("resources/read", {"uri": "ui://weather/view"})["result"]["contents"]
    assert resources["ui://weather/view"]["mimeType"] == APP_MIME_TYPE
    assert resources["ui://weather/live"]["name"] == "live"
    assert [(c["uri"], c["mimeType"], c["text"]) for c in read] == [("ui://weather/view", APP_MIME_TYPE, PAGE)]
    if version >= "2025-06-18":
        assert tools["forecast"]["_meta"] == {"ui": {"resourceUri": "ui://weather/view"},
                                              "ui/resourceUri": "ui://weather/view"}
        assert tools["refresh"]["_meta"] == {"com.example/x": 1, "ui/resourceUri": "ui://weather/view",
                                             "ui": {"resourceUri": "ui://weather/view", "visibility": ["app"]}}
        assert resources["ui://weather/view"]["_meta"] == VIEW_META
        assert read[0]["_meta"] == VIEW_META
    else:
        # 2025-03-26 has no _meta on tools, resources or contents: the tool is a plain tool.
        assert "_meta" not in tools["forecast"] and "_meta" not in read[0]
        assert "_meta" not in resources["ui://weather/view"]
    assert "_meta" not in tools["plain"]
    live = w.request("resources/read", {"uri": "ui://weather/live"})["result"]["contents"][0]
    assert live["text"] == PAGE.replace("view", "live") and live["mimeType"] == APP_MIME_TYPE
    assert "_meta" not in live  # no settings given: no _meta.ui
    call = w.request("tools/call", {"name": "forecast", "arguments": {"city": "Oslo"}})["result"]
    assert '"Oslo"' in call["content"][0]["text"]  # the text every host can show


def test_2026(wire_factory):
    w = wire_factory(apps_app())
    discover = w.modern("server/discover")["result"]
    assert discover["capabilities"]["extensions"] == {UI_EXTENSION: {}}
    tools = {t["name"]: t for t in w.modern("tools/list")["result"]["tools"]}
    assert tools["forecast"]["_meta"]["ui"] == {"resourceUri": "ui://weather/view"}
    read = w.modern("resources/read", {"uri": "ui://weather/view"})["result"]["contents"]
    assert read == [{"uri": "ui://weather/view", "mimeType": APP_MIME_TYPE, "text": PAGE, "_meta": VIEW_META}]


@pytest.mark.parametrize("call", [
    lambda app: app.ui_resource("https://x/view", html=PAGE),
    lambda app: app.ui_resource("ui://", html=PAGE),
    lambda app: app.ui_resource("ui://x/{id}", html=PAGE),
    lambda app: app.ui_resource("ui://x", html=PAGE, csp={"scriptDomains": ["a"]}),
    lambda app: app.ui_resource("ui://x", html=PAGE, csp={"connectDomains": "https://a"}),
    lambda app: app.ui_resource("ui://x", html=PAGE, permissions=["usb"]),
    lambda app: app.add_tool(lambda: "x", "t", ui="https://not-ui"),
    lambda app: app.add_tool(lambda: "x", "t", ui={"resourceUri": "ui://x", "visibility": ["user"]}),
    lambda app: app.add_tool(lambda: "x", "t", ui={"resourceUri": "ui://x", "visibility": "app"}),
])
def test_bad_settings_are_refused_at_registration(call):
    app = Server("bad")
    with pytest.raises((ValueError, TypeError)):
        call(app)
    assert app.extensions == {}


def test_client_supports_apps():
    assert client_supports_apps({"extensions": {UI_EXTENSION: {"mimeTypes": [APP_MIME_TYPE]}}})
    assert not client_supports_apps({"extensions": {UI_EXTENSION: {}}})
    assert not client_supports_apps({})
    assert not client_supports_apps(None)


@pytest.mark.parametrize("mime", [
    "text/html; profile=mcp-app",  # a space after ";" (RFC 9110's OWS)
    'text/html;profile="mcp-app"',  # the value quoted
    "TEXT/HTML;PROFILE=mcp-app",  # type, subtype and parameter name in any case
    'Text/Html \t;\t Profile="mcp-app" ',
    "text/html; charset=utf-8; profile=mcp-app",  # another parameter beside it
    "text/html;;profile=mcp-app;",  # empty parameters (RFC 9110 5.6.6: OWS ";" OWS [ parameter ])
])
def test_the_app_mime_type_is_recognised_however_it_is_spelled(mime):
    assert client_supports_apps({"extensions": {UI_EXTENSION: {"mimeTypes": ["text/plain", mime]}}})


@pytest.mark.parametrize("mime", [
    "text/html", "text/plain;profile=mcp-app", "text/html;profile=mcp-apps", "text/html;profile=MCP-APP",
    'text/html;profile="mcp-app', "text/html;profile=mcp-app;profile=other", "text/html profile=mcp-app",
    "text/html;profile = mcp-app", "text/html;profile=mcp-app\n", "text/html;profile=mcp-app x",
    'text/html;profile="mcp-app"x', "text/html;" + ";  " * 40 + "!", 7, None,
])
def test_what_is_not_the_app_mime_type_is_not_taken_for_it(mime):
    assert not client_supports_apps({"extensions": {UI_EXTENSION: {"mimeTypes": [mime]}}})


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_apps_example_over_stdio(era):
    client = Client.stdio([sys.executable, EXAMPLE], era=era, timeout=10,
                          extensions={UI_EXTENSION: {"mimeTypes": [APP_MIME_TYPE]}})
    with client:
        assert client.era == era
        assert client.server_capabilities["extensions"] == {UI_EXTENSION: {}}
        tool, reroll = client.list_tools()
        assert tool["name"] == "roll_dice" and tool["_meta"]["ui"] == {"resourceUri": "ui://dice/view"}
        assert reroll["name"] == "reroll" and reroll["_meta"]["ui"]["visibility"] == ["app"]
        contents = client.read_resource(tool["_meta"]["ui"]["resourceUri"])["contents"]
        assert len(contents) == 1 and contents[0]["mimeType"] == APP_MIME_TYPE
        page = contents[0]["text"]
        assert page.startswith("<!DOCTYPE html>") and "ui/initialize" in page
        assert "http://" not in page and "https://" not in page  # self-contained: nothing to fetch
        assert contents[0]["_meta"] == {"ui": {"prefersBorder": True}}
        rolled = client.call_tool("roll_dice", {"count": 3, "sides": 6})["structuredContent"]
        assert len(rolled["rolls"]) == 3 and all(1 <= n <= 6 for n in rolled["rolls"])
        assert rolled["total"] == sum(rolled["rolls"])


def test_a_host_keeps_app_only_tools_from_the_model():
    from mcplite import Host
    host = Host({"mcpServers": {"dice": {"command": sys.executable, "args": [EXAMPLE]}}})
    pids = {}
    try:
        pids = host.processes()
        assert [tool["name"] for tool in host.tools()] == ["dice__roll_dice"]
        refused = host.call(("dice__reroll", {}))
        assert refused["isError"] is True
        assert host.call(("dice__roll_dice", {"count": 1}))["structuredContent"]["total"] >= 1
        # The view itself still reaches it through the server's own client.
        assert host.client("dice").call_tool("reroll", {"count": 1})["structuredContent"]["total"] >= 1
    finally:
        host.close()
    for pid in pids.values():
        with pytest.raises(OSError):
            os.kill(pid, 0)
