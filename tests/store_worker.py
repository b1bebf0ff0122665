"""A worker process of tests/test_stores.py: ``python store_worker.py DB PORT`` serves HTTP on
127.0.0.1:PORT (``port`` 0: a free one, printed as ``PORT <n>`` on stdout), or ``wsgi(DB)`` under
gunicorn, with its tasks and
change notifications in the SQLite file DB, shared with the other workers. Its sealing keys
come from ``$STORE_WORKER_KEYS`` (hex, comma-separated, the newest first). Runs until killed.
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))  # the checkout, after whatever PYTHONPATH put first

from mcplite import Context, Server  # noqa: E402
from mcplite import SqliteStore  # noqa: E402


def make_app(db: str, lease: float = 1.0) -> Server:
    keys = [bytes.fromhex(key) for key in os.environ.get("STORE_WORKER_KEYS", "").split(",") if key]
    app = Server("store-worker", version="1.0.0", page_size=1, task_poll_interval_ms=50,
                 state_keys=keys or None, store=SqliteStore(db, poll_interval=0.05, lease=lease))

    @app.tool()
    def where() -> int:
        """The PID of the worker that served the call."""
        return os.getpid()

    @app.tool(task="optional")
    def ask(question: str, ctx: Context) -> str:
        """Asks the client (in the task: its inputRequests), then answers with what it said."""
        answer = ctx.elicit(question, {"type": "object", "properties": {"word": {"type": "string"}},
                                       "required": ["word"]})
        return "worker %d heard %s" % (os.getpid(), answer.get("content", {}).get("word"))

    @app.tool(task="optional")
    def spin(ctx: Context, seconds: float = 30.0) -> str:
        """Runs until cancelled (at most ``seconds``); says on stderr that it saw the cancel."""
        deadline = time.monotonic() + seconds
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        if ctx.cancelled:
            sys.stderr.write("spin saw its cancel in worker %d\n" % os.getpid())
            sys.stderr.flush()
        return "spun"

    @app.tool(task="optional")
    def double(n: int) -> int:
        return 2 * n

    @app.tool()
    def add_tool(name: str) -> str:
        """Registers a tool named ``name`` here (a tools/list_changed, in this worker)."""
        app.add_tool(lambda: name, name=name)
        return "added"

    @app.tool()
    def touch(uri: str) -> str:
        app.notify_resource_updated(uri)
        return "touched"

    @app.resource("memo://one")
    def memo() -> str:
        return "one"

    return app


def wsgi(db: str, lease: float = 1.0) -> object:
    """The WSGI application of a worker, for ``gunicorn 'store_worker:wsgi("DB")'``."""
    return make_app(db, lease).wsgi()


if __name__ == "__main__":
    app = make_app(sys.argv[1], float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
    handle = app.run_in_thread("http", port=int(sys.argv[2]))
    sys.stdout.write("PORT %d\n" % handle.port)
    sys.stdout.flush()
    threading.Event().wait()
