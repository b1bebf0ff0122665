"""A server for the stdio tests: the shared test app plus tools that misbehave on purpose."""

import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/ (apps.py)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from apps import make_app  # noqa: E402
from host_app import sleep_until_cancelled  # noqa: E402  (this folder: the script's own)
from mcplite import Context  # noqa: E402

app = make_app()


@app.tool()
def noisy() -> str:
    """Writes to stdout three ways; none of it may reach the protocol stream."""
    print("print() from a tool")
    sys.stdout.write("sys.stdout.write from a tool\n")
    sys.stdout.flush()
    os.write(1, b"os.write(1) from a tool\n")
    subprocess.run([sys.executable, "-c", "print('a child process printing')"], check=True)
    return "quiet"


@app.tool()
def reads_stdin() -> str:
    """input() must not swallow protocol messages."""
    try:
        return "input gave %r" % input()
    except EOFError:
        return "input saw end of file"


@app.tool()
def sleep(seconds: float, ctx: Context) -> str:
    return sleep_until_cancelled(seconds, ctx)


@app.tool()
def nap(seconds: float) -> str:
    """Slow and blind to cancellation (no Context), not declared inline: a worker's job."""
    time.sleep(seconds)
    return threading.current_thread().name


@app.tool(inline=True)
def where(n: int) -> str:
    """Declared quick: served on the thread that read it."""
    return "%d %s" % (n, threading.current_thread().name)


if __name__ == "__main__":
    options = {}
    if len(sys.argv) > 1:
        options["max_message_bytes"] = int(sys.argv[1])
    app.run(**options)
