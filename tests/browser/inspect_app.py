"""The server the inspector's browser tests connect to (tests/test_inspector_browser.py):

    python tests/browser/inspect_app.py                                  # stdio
    python -m mcplite serve tests/browser/inspect_app.py --http 127.0.0.1:0

A tool with two integer fields for the generated form (``add``), a form of several kinds of
field (``describe``), a tool that asks the user (``ask_name``), a long call that reports progress
and stops when cancelled (``slow``), a resource and a prompt for the lists.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mcplite import Context, Server  # noqa: E402

app = Server("browser-demo", version="1.0.0")


@app.tool()
def add(a: int, b: int) -> int:
    """Adds two integers"""
    return a + b


@app.tool()
def describe(name: str, count: int = 3, loud: bool = False) -> str:
    """Says what it was given (a string, an integer with a default, a boolean)"""
    text = "%s x%d" % (name, count)
    return text.upper() if loud else text


@app.tool()
def ask_name(ctx: Context) -> str:
    """Asks the user's name (form elicitation)"""
    answer = ctx.elicit("What is your name?", {"name": str}, key="name")
    if answer["action"] != "accept":
        return "no name (%s)" % answer["action"]
    return "Hello, %s!" % answer["content"]["name"]


@app.tool()
def slow(ctx: Context, seconds: float = 30.0) -> str:
    """Reports progress every 0.1 s for ``seconds``; stops early when cancelled"""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        if ctx.cancelled:
            return "cancelled"
        n += 1
        ctx.progress(n, total=seconds * 10, message="tick %d" % n)
        time.sleep(0.1)
    return "finished"


@app.resource("note://hello", mime_type="text/plain")
def hello_note() -> str:
    """A short note"""
    return "hello from the browser demo"


@app.prompt()
def greet(name: str) -> str:
    """Greets someone"""
    return "Say hello to %s" % name


if __name__ == "__main__":
    app.run()
