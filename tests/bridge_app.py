"""The server behind the bridge tests: run over stdio (``python bridge_app.py``) for
``bridge --http``, or imported and served over HTTP in the test process for ``bridge --stdio``."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout (mcplite)

from mcplite import Context, Server  # noqa: E402


def make_bridge_app() -> Server:
    app = Server("bridged", version="1.0.0")
    cancelled = []  # the seconds of each wait() call that saw its cancellation (in-process tests read it)
    app.cancelled_waits = cancelled  # type: ignore[attr-defined]

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @app.tool()
    def pid() -> int:
        """The server process's id (one process per session behind bridge --http)."""
        return os.getpid()

    @app.tool()
    def count(n: int, ctx: Context) -> str:
        """Reports progress n times."""
        for i in range(n):
            ctx.progress(i + 1, n, "step %d" % (i + 1))
            time.sleep(0.01)
        return "counted %d" % n

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Asks the client for a name."""
        answer = ctx.elicit("Your name?", {"name": str})
        if answer.get("action") != "accept":
            return "no name (%s)" % answer.get("action")
        return "hello " + answer["content"]["name"]

    @app.tool()
    def wait(seconds: float, ctx: Context) -> str:
        """Waits until cancelled or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ctx.cancelled:
                cancelled.append(seconds)
                marks = os.environ.get("BRIDGE_APP_MARKS")
                if marks:  # (a process behind bridge --http tells the test through a file)
                    with open(marks, "a") as f:
                        f.write("cancelled %s\n" % seconds)
                return "cancelled"
            time.sleep(0.02)
        return "waited"

    def region(ctx: Context, region: str) -> str:
        """Its argument is mirrored in an Mcp-Param-Region header (2026-07-28 over HTTP)."""
        return "%s (header %s)" % (region, ctx.http_headers.get("mcp-param-region"))
    app.add_tool(region, input_schema={"type": "object", "required": ["region"], "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"}}})

    @app.resource("note://a", mime_type="text/plain")
    def note_a() -> str:
        return "note a"

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs one debug message."""
        ctx.debug("a debug line")
        return "said"

    @app.tool()
    def crash() -> str:
        """Ends the server process without answering."""
        os._exit(3)

    return app


app = make_bridge_app()

if __name__ == "__main__":
    app.run("stdio")
