"""The "kitchen" app of tests/test_client.py: one of everything a client test needs.
Imported by the tests (in memory), and run as a stdio server by them (``python kitchen_app.py``)."""

import json
import os
import sys
import threading
import time
from typing import Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcplite import Context, MCPError, Server  # noqa: E402


def error_text(exc: MCPError) -> str:
    return "%d|%s|%s" % (exc.code, exc.message, json.dumps(exc.to_error().get("data", "<no data>")))


def make_kitchen_app(page_size: Optional[int] = None) -> Server:
    app = Server("kitchen", version="2.0.0", instructions="Everything a client test needs.", page_size=page_size,
                 client_request_timeout=5.0)
    app.cancelled = []  # type: ignore[attr-defined]   # ids of requests that saw their cancellation
    app.release = threading.Event()  # type: ignore[attr-defined]   # ends every blocking tool

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def whoami(ctx: Context) -> dict:
        """What the server knows of its client."""
        return {"capabilities": ctx.client_capabilities, "info": ctx.client_info, "version": ctx.protocol_version}

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs once at each of four levels."""
        for level in ("debug", "info", "warning", "error"):
            ctx.log(level, "a %s message" % level, logger="kitchen")
        return "said"

    @app.tool()
    def ticking(ctx: Context, seconds: float, interval: float = 0.1) -> str:
        """Reports progress every ``interval`` for ``seconds``; stops when cancelled."""
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            if ctx.cancelled:
                app.cancelled.append(ctx.request_id)  # type: ignore[attr-defined]
                return "cancelled"
            n += 1
            ctx.progress(n)
            time.sleep(interval)
        return "done"

    @app.tool()
    def block(ctx: Context, seconds: float = 5.0, progress_first: bool = False) -> str:
        """Waits until cancelled, released or ``seconds`` passed."""
        if progress_first:
            ctx.progress(1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not app.release.is_set():  # type: ignore[attr-defined]
            if ctx.cancelled:
                app.cancelled.append(ctx.request_id)  # type: ignore[attr-defined]
                return "cancelled"
            time.sleep(0.01)
        return "unblocked"

    @app.tool()
    def ask_and_report(ctx: Context) -> str:
        """Asks a question and reports the error, if any, as code|message|data."""
        try:
            answer = ctx.elicit("Really?", {"ok": bool})
        except MCPError as exc:
            return error_text(exc)
        return "answered %s" % json.dumps(answer, sort_keys=True)

    @app.tool()
    def grow(name: str, ctx: Context) -> str:
        """Registers a new tool (tools/list_changed)."""
        ctx.server.add_tool(lambda: "grown", name=name)
        return "grew " + name

    @app.tool()
    def touch(uri: str, ctx: Context) -> str:
        """notifications/resources/updated for ``uri``."""
        ctx.server.notify_resource_updated(uri)
        return "touched " + uri

    for letter in "abcde":
        app.add_resource(lambda letter=letter: "resource " + letter, "res://" + letter, mime_type="text/plain")

    @app.resource("res://items/{item_id}")
    def item(item_id: int) -> str:
        return "item %d" % item_id

    @app.resource("res://users/{name}")
    def user(name: str) -> str:
        return "user " + name

    @app.resource("res://colors/{color}")
    def color(color: str) -> str:
        return "color " + color

    @app.prompt()
    def greet(name: str) -> str:
        """Greets someone."""
        return "Hello, %s!" % name

    @app.prompt()
    def farewell(name: str, tone: str = "warm") -> str:
        return "Goodbye, %s (%s)" % (name, tone)

    @app.prompt()
    def plain() -> str:
        return "plain"

    @app.completion("name", prompt="greet")
    def names(value: str) -> list:
        return [n for n in ("Ada", "Alan", "Grace") if n.startswith(value)]

    @app.completion("name", prompt="farewell")
    def farewell_names(value: str, others: Dict[str, str]) -> list:
        return ["%s in a %s tone" % (value, others.get("tone", "?"))]

    @app.completion("color", template="res://colors/{color}")
    def colors(value: str) -> dict:
        return {"values": [c for c in ("red", "green", "grey") if c.startswith(value)], "total": 3, "hasMore": False}

    return app


if __name__ == "__main__":
    make_kitchen_app().run()
