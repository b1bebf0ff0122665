"""The server tests/test_wsgi.py runs under real WSGI servers.

As a WSGI module: ``application`` (``Server.wsgi()`` with its defaults) and ``create(**options)``
(a factory, for gunicorn's ``'wsgi_app:create(keepalive_interval=0.5)'``). As a script:
``python wsgi_app.py wsgiref|waitress|http PORT [KEEPALIVE [IDLE_TIMEOUT]]`` serves on 127.0.0.1:PORT until killed.
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.append(os.path.dirname(HERE))  # the checkout, after whatever PYTHONPATH put first

from mcplite import Context, Server  # noqa: E402

app = Server("wsgi-tests", version="1.0.0")
_cancelled = threading.Event()
_started = threading.Event()


@app.tool()
def add(a: int, b: int) -> int:
    return a + b


@app.tool()
def steps(ctx: Context, count: int = 3, pause: float = 0.5) -> str:
    """Reports progress ``count`` times, ``pause`` seconds apart, then answers."""
    for i in range(count):
        ctx.progress(i + 1, count, "step %d" % (i + 1))
        time.sleep(pause)
    return "finished"


@app.tool()
def wait_for_cancel(ctx: Context, report_first: bool = True) -> str:
    """Runs until cancelled (at most 20 s); with ``report_first`` it reports progress first, so
    its answer is an SSE stream by then."""
    if report_first:
        ctx.progress(0, 1, "waiting")
    deadline = time.monotonic() + 20
    while not ctx.cancelled and time.monotonic() < deadline:
        time.sleep(0.02)
    if ctx.cancelled:
        _cancelled.set()
    return "cancelled" if ctx.cancelled else "timed out"


@app.tool()
def cancel_seen() -> bool:
    """Whether a wait_for_cancel call has seen ctx.cancelled (and forget it)."""
    seen = _cancelled.is_set()
    _cancelled.clear()
    return seen


@app.tool()
def started_seen() -> bool:
    """Whether a quiet_ctx or quiet_async call has started (and forget it)."""
    seen = _started.is_set()
    _started.clear()
    return seen


@app.tool()
def quiet(seconds: float = 3.0) -> str:
    """Says nothing for ``seconds``, then answers (no Context: served without any progress)."""
    time.sleep(seconds)
    return "quiet %s" % seconds


@app.tool()
def quiet_ctx(ctx: Context, seconds: float = 3.0) -> str:
    """As ``quiet``, with a Context it never uses to report."""
    _started.set()
    deadline = time.monotonic() + seconds
    while not ctx.cancelled and time.monotonic() < deadline:
        time.sleep(0.02)
    if ctx.cancelled:
        _cancelled.set()
    return "cancelled" if ctx.cancelled else "quiet %s" % seconds


@app.tool()
async def quiet_async(seconds: float = 3.0) -> str:
    """As ``quiet``, but ``async def``: no Context, yet a cancellation reaches it (as
    asyncio.CancelledError), so a test can see a hang-up cancel a call without one."""
    import asyncio
    _started.set()
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        _cancelled.set()
        raise
    return "quiet %s" % seconds


@app.tool()
def thread_count() -> int:
    """How many threads this process runs (a leak shows as a count that stays up)."""
    return threading.active_count()


@app.tool()
def thread_names() -> str:
    """The names of this process's threads."""
    return ", ".join(sorted(t.name for t in threading.enumerate()))


@app.tool()
def announce() -> str:
    """Tells every session the tool list changed (a message for their GET streams)."""
    app.notify_list_changed("tools")
    return "announced"


def create(**options):
    return app.wsgi(**options)


application = app.wsgi()


def main(argv):
    kind, port = argv[1], int(argv[2])
    keepalive = float(argv[3]) if len(argv) > 3 else 15.0
    # The server's own idle timeout, scaled down by tests: waitress's channel_timeout,
    # http.server's read_timeout.
    idle = float(argv[4]) if len(argv) > 4 else None
    wsgi = create(keepalive_interval=keepalive) if kind in ("wsgiref", "waitress") else None
    if kind == "wsgiref":
        from socketserver import ThreadingMixIn
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

        class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        httpd = make_server("127.0.0.1", port, wsgi, ThreadingWSGIServer, QuietHandler)
        sys.stderr.write("serving on %d\n" % port)
        sys.stderr.flush()
        httpd.serve_forever()
    elif kind == "waitress":
        import waitress
        more = {} if idle is None else {"channel_timeout": idle, "cleanup_interval": idle}
        waitress.serve(wsgi, host="127.0.0.1", port=port, threads=8, channel_request_lookahead=1, **more)
    elif kind == "http":
        # app.run("http") with the same keep-alive interval (http.server, no WSGI server);
        # the public call, so that the one-file build's tests run it too.
        app.run("http", host="127.0.0.1", port=port, keepalive_interval=keepalive, read_timeout=idle or 30.0)
    else:
        raise SystemExit("unknown server %r" % kind)


if __name__ == "__main__":
    main(sys.argv)
