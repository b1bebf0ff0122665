"""A mcplite upstream for tests/test_gateway_peers.py, served on stdio (a client that probes
gets 2026-07-28): ``python gateway_peer_upstream.py MARKER``. Its tools report progress
(``count``), ask the user (``ask_name``, form elicitation) and run until cancelled
(``linger``): what ``linger`` saw - "cancelled" or "finished" - is written to the file
MARKER, since a cancelled request has no answer to tell the test.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Context, Server  # noqa: E402


def make_peer_upstream(marker: str) -> Server:
    app = Server("peer-upstream", version="1.0.0")

    @app.tool()
    def count(n: int, ctx: Context) -> str:
        """Count to n, one progress notification a step."""
        for step in range(1, n + 1):
            ctx.progress(step, n, "step %d" % step)
        return "counted %d" % n

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Ask the user's name (form elicitation)."""
        answer = ctx.elicit("Your name?", {"name": str})
        if answer["action"] != "accept":
            return "no name: " + answer["action"]
        return "hello " + answer["content"]["name"]

    @app.tool()
    def linger(seconds: float, ctx: Context) -> str:
        """Report progress every 0.1 s for ``seconds`` unless cancelled first; MARKER says which."""
        deadline = time.monotonic() + seconds
        step = 0
        while time.monotonic() < deadline:
            if ctx.cancelled:
                record(marker, "cancelled")
                return "cancelled"
            step += 1
            ctx.progress(step, None, "lingering")
            time.sleep(0.1)
        record(marker, "finished")
        return "lingered"

    return app


def record(marker: str, what: str) -> None:
    # Written whole, then renamed: the test never reads half a word.
    with open(marker + ".tmp", "w") as f:
        f.write(what)
    os.replace(marker + ".tmp", marker)


if __name__ == "__main__":
    make_peer_upstream(sys.argv[1]).run()
