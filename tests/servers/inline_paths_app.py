"""Inline tools of every result shape, for tests/test_inline_tools.py. ``general`` as the first
argument turns the stdio fast path of ``inline=True`` tools off, so that the same requests are
served by the general path; otherwise the number of answers the fast path made is written
to stderr at exit."""

import atexit
import math
import sys
import time
from typing import Any, Dict, List

from mcplite import MCPError, Server, ToolError, UrlElicitationRequired

try:
    from mcplite.connection import ServerConnection
except ImportError:  # the one-file build (scripts/test_vendored): one module
    from mcplite import ServerConnection  # type: ignore[attr-defined,no-redef]

app = Server("inline-paths", version="1.0.0", title="Inline paths")


@app.tool(inline=True)
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool(inline=True)
def word(text: str) -> str:
    return text + " \u00e9\u2028\U0001f600"


@app.tool(inline=True)
def point(x: float) -> Dict[str, Any]:
    return {"x": x, "y": [1, "two", None], "z": {"deep": True}}


@app.tool(inline=True)
def items(n: int) -> List[int]:
    return list(range(n))


@app.tool(inline=True)
def loose(kind: str) -> Any:
    # No output schema: the result shapes of _content_from_value.
    return {"dict": {"k": 1}, "list": [1, "a"], "strings": ["a", "b"], "str": "plain", "int": 7,
            "none": None, "bytes": b"\x89PNG\r\n\x1a\n...", "float": 1.5, "bool": True,
            "nan": {"v": math.nan}, "object": {"v": object()}}[kind]


@app.tool(inline=True)
def fail(how: str) -> str:
    if how == "value":
        raise ValueError("boom")
    if how == "empty":
        raise RuntimeError()
    if how == "tool":
        raise ToolError("told so")
    if how == "mcp":
        raise MCPError(-32602, "refused by the tool", {"why": "test"})
    if how == "exit":
        sys.exit(3)
    return "fine"


@app.tool(inline=True)
def wrong() -> int:
    return "not an int"  # type: ignore[return-value]


@app.tool(inline=True)
def nothing() -> None:
    return None


@app.tool(inline=True)
def sign_in() -> str:
    # A question a tool raises by itself: a session's -32042 error, a 2026-07-28 round.
    raise UrlElicitationRequired("Sign in first", "https://example.com/sign-in", elicitation_id="e1")


@app.tool()
def pooled(a: int) -> int:
    """Not inline: served by a worker, never by the fast path."""
    return a


@app.tool()
def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


if sys.argv[1:] == ["general"]:
    ServerConnection._inline_tool_response = lambda self, message: None  # type: ignore[method-assign]
else:
    _answered = [0]
    # (The server's own: Server.__init__ bound the dispatcher's method to it.)
    _fast = app.inline_tool_response

    def _counted(rid: Any, params: Any, tool: Any, *rest: Any) -> Any:
        response = _fast(rid, params, tool, *rest)
        if response is not None:
            _answered[0] += 1
        return response
    app.inline_tool_response = _counted  # type: ignore[method-assign]
    atexit.register(lambda: sys.stderr.write("fast path answered %d\n" % _answered[0]))

if __name__ == "__main__":
    app.run()
