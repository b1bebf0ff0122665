"""The server tests/test_sticky.py runs as two gunicorn instances behind nginx.

``create(instance)``: ``Server.wsgi()`` whose session ids start with ``<instance>.`` (the route
token nginx sends a session's requests back by) and whose sealing key is
``$MCPLITE_STICKY_SECRET`` (hex), the same on every instance, so a 2026-07-28 request sealed by
one is opened by the other. Its ``whoami`` tool answers with the instance's name.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))  # the checkout, after whatever PYTHONPATH put first

from mcplite import Context, Server  # noqa: E402


def create(instance: str) -> object:
    app = Server("sticky-tests", version="1.0.0", state_secret=bytes.fromhex(os.environ["MCPLITE_STICKY_SECRET"]))

    @app.tool()
    def whoami() -> str:
        """The name of the instance that answers."""
        return instance

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Asks a name (2026-07-28: input_required, then the retry; both answer with the instance)."""
        answer = ctx.elicit("What is your name?", {"name": str}, key="name")
        return "%s:%s" % (instance, answer["content"]["name"] if answer["action"] == "accept" else "-")

    return app.wsgi(session_prefix=instance + ".", keepalive_interval=0.5)
