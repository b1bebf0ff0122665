"""The abuse suite's mcplite server: ``python mcplite_server.py stdio | http PORT``.

Run by ``bench/abuse.py`` with ``PYTHONPATH`` set to the repository root (mcplite from the
checkout), over stdio or over Streamable HTTP on 127.0.0.1:PORT at ``/mcp``, with every
option at its default: the suite measures what a user gets out of the box.
``abuse_servers/sdk_server.py`` serves the same tools, resource and prompt on the official
SDK; keep the two alike.

Tools:

* ``echo(text)`` and ``add(a, b)``: plain, quick;
* ``slow(seconds)``: reports progress first (so a request carrying a progress token is
  answered as an SSE stream), then sleeps up to 30 s, stopping early when cancelled;
* ``nap(seconds)``: sleeps up to 5 s without a Context, on whatever thread runs such a tool
  (mcplite over HTTP: the connection's own; the SDK: a thread of its worker pool);
* ``hang()``: never returns and ignores cancellation (a stuck handler: a blocking call into
  a library that never comes back);
* ``fd1()``: writes to file descriptor 1 directly (``os.write``) and with ``print``, as a C
  library or a careless handler would, then returns.
"""
import os
import sys
import time

from mcplite import Context, Server

app = Server("abuse", version="1.0.0")


@app.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def slow(seconds: float, ctx: Context) -> str:
    """Report progress, then sleep (at most 30 s), stopping early when cancelled."""
    ctx.progress(0, 1)
    end = time.monotonic() + min(max(seconds, 0.0), 30.0)
    while time.monotonic() < end and not ctx.cancelled:
        time.sleep(0.02)
    return "slept"


@app.tool()
def nap(seconds: float) -> str:
    """Sleep (at most 5 s), holding whatever thread runs a plain tool."""
    time.sleep(min(max(seconds, 0.0), 5.0))
    return "napped"


@app.tool()
def hang() -> str:
    """Never return (and never look at cancellation)."""
    while True:
        time.sleep(3600)


@app.tool()
def fd1() -> str:
    """Write to fd 1 behind the protocol's back, then return."""
    os.write(1, b"stray bytes written to fd 1 by a tool\n")
    print("a stray print() from a tool")
    sys.stdout.flush()
    return "wrote to fd 1"


@app.resource("abuse://static", mime_type="text/plain")
def static() -> str:
    """A fixed text."""
    return "static text"


@app.prompt()
def greet(name: str) -> str:
    """Greet someone."""
    return "Hello, %s!" % name


def main(argv):
    if argv[:1] == ["stdio"]:
        app.run()
    elif len(argv) == 2 and argv[0] == "http" and argv[1].isdigit():
        app.run("http", host="127.0.0.1", port=int(argv[1]), path="/mcp")
    else:
        sys.stderr.write("usage: mcplite_server.py stdio | http PORT\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
