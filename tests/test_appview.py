"""MCP Apps on the host's side (mcplite/appview.py): a client that declares HTML views, a
tool's view fetched and checked, its Content-Security-Policy and iframe ``allow`` list built
from ``_meta.ui`` and never from anything a server could smuggle into a policy.

The servers are real: examples/apps_server.py over stdio, and mcplite servers in memory
(``Client(app)``, the same protocol code) for the views that a well-behaved server would
never send.
"""

import os
import sys

import pytest

from mcplite import APP_MIME_TYPE, UI_EXTENSION, Client, Context, Server
from mcplite import AppView, apps_extension, read_app_view, tool_view_uri, tool_visible_to
from mcplite.appview import app_view_allow, app_view_csp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS_SERVER = os.path.join(ROOT, "examples", "apps_server.py")
# "If ui.csp is omitted, Host MUST use" (font-src, frame-src and base-uri spelled out as the
# spec's per-key defaults say: 'self', 'none', 'self').
DEFAULT_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self'; media-src 'self' data:; connect-src 'none'; "
               "frame-src 'none'; base-uri 'self'")


def test_a_host_reads_the_example_servers_view_over_stdio():
    with Client.stdio([sys.executable, APPS_SERVER], extensions=apps_extension()) as client:
        tools = {tool["name"]: tool for tool in client.list_tools()}
        roll, reroll = tools["roll_dice"], tools["reroll"]
        assert tool_view_uri(roll) == "ui://dice/view"
        assert tool_visible_to(roll, "model") and tool_visible_to(roll, "app")
        assert not tool_visible_to(reroll, "model") and tool_visible_to(reroll, "app")
        view = read_app_view(client, roll)
        assert isinstance(view, AppView) and view.uri == "ui://dice/view"
        assert view.html.startswith("<!DOCTYPE html>") and "ui/initialize" in view.html
        # The example declares no csp: the spec's restrictive default, as is.
        assert view.csp == DEFAULT_CSP
        assert view.allow == ""


def test_the_client_declares_html_views_and_the_server_sees_it():
    app = Server("seen")

    @app.tool()
    def declared(ctx: Context) -> bool:
        from mcplite.apps import client_supports_apps
        return client_supports_apps(ctx.client_capabilities)

    assert apps_extension() == {UI_EXTENSION: {"mimeTypes": [APP_MIME_TYPE]}}
    with Client(app, extensions=apps_extension()) as client:
        assert client.call_tool("declared")["structuredContent"] == {"result": True}
    with Client(app) as client:
        assert client.call_tool("declared")["structuredContent"] == {"result": False}


def _app() -> Server:
    app = Server("views")
    app.ui_resource("ui://v/open", html="<!DOCTYPE html><p>open</p>",
                    csp={"connectDomains": ["https://api.example.com", "wss://live.example.com"],
                         "resourceDomains": ["https://*.cdn.example"], "frameDomains": ["https://player.example"],
                         "baseUriDomains": ["https://base.example"]},
                    permissions=["camera", "clipboardWrite"], domain="abc.sandbox.example", prefers_border=False)

    @app.tool(ui="ui://v/open")
    def show() -> str:
        return "shown"

    @app.resource("ui://v/blob", mime_type=APP_MIME_TYPE)
    def blob() -> bytes:
        return "<!DOCTYPE html><p>\u00e9t\u00e9</p>".encode("utf-8")

    @app.resource("ui://v/sneaky")
    def sneaky() -> dict:
        return {"uri": "ui://v/sneaky", "mimeType": APP_MIME_TYPE, "text": "<!DOCTYPE html>",
                "_meta": {"ui": {"csp": {"connectDomains": ["https://a.example; script-src *"]}}}}

    @app.resource("ui://v/plain", mime_type="text/html")
    def plain() -> str:
        return "<p>not a view</p>"

    @app.tool()
    def bare() -> str:
        return "no view"
    return app


def test_declared_origins_open_their_directives_and_nothing_else():
    with Client(_app(), extensions=apps_extension()) as client:
        tool = {t["name"]: t for t in client.list_tools()}["show"]
        view = read_app_view(client, tool)
    directives = dict(part.split(" ", 1) for part in view.csp.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "https://api.example.com wss://live.example.com"
    for name in ("img-src", "script-src", "style-src", "font-src", "media-src"):
        assert directives[name].endswith("https://*.cdn.example"), (name, directives[name])
    assert directives["script-src"] == "'self' 'unsafe-inline' https://*.cdn.example"
    assert directives["frame-src"] == "https://player.example"
    assert directives["base-uri"] == "'self' https://base.example"
    assert view.allow == "camera; clipboard-write"
    assert (view.domain, view.prefers_border) == ("abc.sandbox.example", False)
    assert view.ui["permissions"] == {"camera": {}, "clipboardWrite": {}}


def test_a_blob_view_is_decoded_and_what_is_no_view_is_refused():
    with Client(_app()) as client:
        view = read_app_view(client, "ui://v/blob")
        assert view.html == "<!DOCTYPE html><p>\u00e9t\u00e9</p>" and view.csp == DEFAULT_CSP
        with pytest.raises(ValueError, match="not an origin a policy can hold"):
            read_app_view(client, "ui://v/sneaky")
        with pytest.raises(ValueError, match="not a view"):
            read_app_view(client, "ui://v/plain")
        bare = {t["name"]: t for t in client.list_tools()}["bare"]
        with pytest.raises(ValueError, match="has no view"):
            read_app_view(client, bare)
        with pytest.raises(ValueError, match="ui://"):
            read_app_view(client, "https://example.com/view")


@pytest.mark.parametrize("mime", ["text/html; profile=mcp-app", 'text/html;profile="mcp-app"',
                                  "Text/HTML; Profile=mcp-app"])
def test_a_view_whose_mime_type_is_spelled_otherwise_is_a_view(mime):
    # The same media type (RFC 9110 8.3.1: type, subtype and parameter names are
    # case-insensitive, whitespace may surround ";", a value may be quoted).
    app = Server("v")

    @app.resource("ui://v/spelled", mime_type=mime)
    def spelled() -> str:
        return "<!DOCTYPE html><p>view</p>"
    with Client(app) as client:
        view = read_app_view(client, "ui://v/spelled")
    assert view.html == "<!DOCTYPE html><p>view</p>" and view.csp == DEFAULT_CSP


def test_a_line_break_after_an_origin_is_refused_not_written_into_the_policy():
    # A regular expression's "$" also matches before a final newline: "https://a.example\n"
    # passed as one origin, and a host sending the policy as a Content-Security-Policy header
    # got a line break in it. Over the wire, as a server would send it.
    app = Server("v", "1.0.0")
    app.ui_resource("ui://v/newline", html="<p>x</p>", csp={"connectDomains": ["https://a.example\n"]})
    with Client(app) as client:
        with pytest.raises(ValueError, match="not an origin a policy can hold"):
            read_app_view(client, "ui://v/newline")
    for key in ("connectDomains", "resourceDomains", "frameDomains", "baseUriDomains"):
        with pytest.raises(ValueError):
            app_view_csp({"csp": {key: ["https://a.example/path\n"]}})


@pytest.mark.parametrize("origin", ["https://a.example 'unsafe-eval'", "'self'", "*", "https://a.example;",
                                    "data:", "https://a.example,b", ""])
def test_no_origin_can_write_its_own_policy(origin):
    with pytest.raises(ValueError):
        app_view_csp({"csp": {"connectDomains": [origin]}})


def test_the_policy_helpers_on_their_own():
    assert app_view_csp(None) == DEFAULT_CSP
    assert app_view_csp({"csp": {"laterKey": ["https://x.example"]}}) == DEFAULT_CSP  # unknown keys open nothing
    assert app_view_allow({"permissions": {"geolocation": {}, "microphone": {}, "teleport": {}}}) == \
        "microphone; geolocation"
    assert tool_view_uri({"name": "old", "_meta": {"ui/resourceUri": "ui://old/view"}}) == "ui://old/view"
    assert tool_view_uri({"name": "x", "_meta": {"ui": {"resourceUri": "https://not-ui"}}}) is None
    with pytest.raises(ValueError):
        tool_visible_to({}, "user")
