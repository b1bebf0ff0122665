"""The server the command line's tests talk to: tools whose arguments need converting, one
that fails, one that reports progress, one that logs; a text, a binary and a templated
resource; prompts. A target as a file (``tests/cli_app.py``), run by ``serve``, or imported
by the tests to serve over HTTP in their own process.
"""

import os
import sys
import threading
from typing import Dict, List, Literal, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout

from mcplite import Context, Server, ToolError  # noqa: E402

# A PNG's first bytes and a few more: a binary resource whose bytes the tests compare.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


def make_cli_app() -> Server:
    app = Server("cli-test", version="3.1.4", instructions="For the command line's tests.")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def describe(name: str, count: int = 1, ratio: float = 0.5, loud: bool = False,
                 tags: List[str] = [], mode: Literal["fast", "slow"] = "fast",  # noqa: B006
                 extra: Optional[Dict[str, int]] = None) -> dict:
        """Echo every argument back, converted.

        Second line of the description, not shown by ls.
        """
        return {"name": name, "count": count, "ratio": ratio, "loud": loud, "tags": tags, "mode": mode,
                "extra": extra}

    @app.tool()
    def fail(reason: str = "it broke") -> str:
        """Always fails (isError)."""
        raise ToolError(reason)

    @app.tool()
    def count_to(n: int, ctx: Context) -> str:
        """Reports progress for each step."""
        for i in range(1, n + 1):
            ctx.progress(i, n, "step %d" % i)
            threading.Event().wait(0.01)
        return "counted to %d" % n

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs a warning."""
        ctx.log("warning", "careful now", logger="cli-test")
        return "said it"

    @app.tool()
    def picture() -> bytes:
        """A PNG."""
        return PNG_BYTES

    @app.resource("text://hello", mime_type="text/plain")
    def hello() -> str:
        """A greeting."""
        return "hello, world"

    @app.resource("blob://logo", mime_type="image/png")
    def logo() -> bytes:
        return PNG_BYTES

    @app.resource("items://{item_id}")
    def item(item_id: int) -> str:
        """One item."""
        return "item %d" % item_id

    @app.prompt()
    def review(code: str, language: str = "python") -> str:
        """Review some code."""
        return "Review this %s code:\n%s" % (language, code)

    return app


app = make_cli_app()

if __name__ == "__main__":
    app.run()
