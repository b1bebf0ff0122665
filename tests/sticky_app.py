"""The server tests/test_sticky.py runs as two gunicorn instances behind nginx.

``create(instance)``: ``Server.wsgi()`` whose session ids start with ``<instance>.`` (the route
token nginx sends a session's requests back by) and whose sealing key is
``$MCPLITE_STICKY_SECRET`` (hex), the same on every instance, so a 2026-07-28 request sealed by
one is opened by the other. Its ``whoami`` tool answers with the instance's name.
With ``$MCPLITE_STICKY_PG`` (a PostgreSQL port on 127.0.0.1, user mcplite) both keep their
tasks and change notifications in one ``PostgresStore`` (through pg8000).
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))  # the checkout, after whatever PYTHONPATH put first

from mcplite import Context, Server  # noqa: E402


def create(instance: str) -> object:
    store = None
    if os.environ.get("MCPLITE_STICKY_PG"):
        import pg8000.dbapi

        from mcplite import PostgresStore
        port = int(os.environ["MCPLITE_STICKY_PG"])
        store = PostgresStore(lambda: pg8000.dbapi.connect(host="127.0.0.1", port=port, user="mcplite",
                                                           database="postgres"))
    app = Server("sticky-tests", version="1.0.0", state_secret=bytes.fromhex(os.environ["MCPLITE_STICKY_SECRET"]),
                 store=store)

    @app.tool()
    def whoami() -> str:
        """The name of the instance that answers."""
        return instance

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Asks a name (2026-07-28: input_required, then the retry; both answer with the instance)."""
        answer = ctx.elicit("What is your name?", {"name": str}, key="name")
        return "%s:%s" % (instance, answer["content"]["name"] if answer["action"] == "accept" else "-")

    @app.tool(task="optional")
    def slow_whoami(ctx: Context, pause: float = 0.3) -> str:
        """As a task: the instance that ran it, after ``pause`` seconds (or "cancelled")."""
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not ctx.cancelled:
            time.sleep(0.02)
        return "cancelled" if ctx.cancelled else instance

    return app.wsgi(session_prefix=instance + ".", keepalive_interval=0.5)
