"""The abuse suite's official-SDK server: ``python sdk_server.py stdio | http PORT``.

Needs the official Python SDK (``mcp==2.3.0``, Python >= 3.10); ``bench/abuse.py`` runs it
with the SDK venv's interpreter. The same tools, resource and prompt as
``abuse_servers/mcplite_server.py`` (see there), on ``MCPServer`` with its defaults
(over HTTP: ``streamable-http`` on uvicorn, 127.0.0.1:PORT, ``/mcp``; logging at WARNING so
uvicorn writes no line per request, as mcplite writes none). Handlers are synchronous where
mcplite's are (the SDK runs those on worker threads); ``slow`` is async, the SDK's way of
reporting progress and of being cancelled.
"""
import os
import sys
import time

import anyio
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("abuse", version="1.0.0", log_level="WARNING")


@mcp.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.tool()
async def slow(seconds: float, ctx: Context) -> str:
    """Report progress, then sleep (at most 30 s), stopping early when cancelled."""
    await ctx.report_progress(0, 1)
    await anyio.sleep(min(max(seconds, 0.0), 30.0))
    return "slept"


@mcp.tool()
def nap(seconds: float) -> str:
    """Sleep (at most 5 s), holding whatever thread runs a plain tool."""
    time.sleep(min(max(seconds, 0.0), 5.0))
    return "napped"


@mcp.tool()
def hang() -> str:
    """Never return (and never look at cancellation)."""
    while True:
        time.sleep(3600)


@mcp.tool()
def fd1() -> str:
    """Write to fd 1 behind the protocol's back, then return."""
    os.write(1, b"stray bytes written to fd 1 by a tool\n")
    print("a stray print() from a tool")
    sys.stdout.flush()
    return "wrote to fd 1"


@mcp.resource("abuse://static", mime_type="text/plain")
def static() -> str:
    """A fixed text."""
    return "static text"


@mcp.prompt()
def greet(name: str) -> str:
    """Greet someone."""
    return "Hello, %s!" % name


def main(argv):
    if argv[:1] == ["stdio"]:
        mcp.run()
    elif len(argv) == 2 and argv[0] == "http" and argv[1].isdigit():
        mcp.run(transport="streamable-http", host="127.0.0.1", port=int(argv[1]), streamable_http_path="/mcp")
    else:
        sys.stderr.write("usage: sdk_server.py stdio | http PORT\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
