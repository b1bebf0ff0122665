"""Middleware: code around every request a server serves - logging, timing, rate limiting
and error mapping, each a plain function.

    python examples/middleware.py                     # stdio
    python examples/middleware.py --http              # http://127.0.0.1:8000/mcp
    python examples/middleware.py --max-calls 3 --per 60

A middleware is ``fn(method, params, ctx, call_next) -> result dict``. ``call_next()`` runs
the rest of the chain and then the method itself; the first one registered is the
outermost, so here logging sees everything, including what the rate limiter refuses.
The request log goes to stderr: on stdio, stdout carries nothing but the protocol.
"""

import argparse
import logging
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, MCPError, Server  # noqa: E402

log = logging.getLogger("example.middleware")
app = Server("middleware-example", "1.0.0", instructions="Tools behind logging, timing, rate limiting "
                                                          "and error mapping middleware.")

RATE_LIMITED = -32029  # an application error code (JSON-RPC leaves -32000..-32099 to servers)
TIMING_KEY = "com.example/durationMs"


class NotFound(Exception):
    """The application's own "no such thing" - mapped to a JSON-RPC error below."""


# -- the middleware, outermost first ---------------------------------------------------


@app.middleware
def log_requests(method: str, params: dict, ctx: Context, call_next) -> dict:
    """One line per request: what, who, how it ended. Never the params: they may hold secrets."""
    client = ctx.client_info.get("name", "?")
    try:
        result = call_next()
    except MCPError as exc:
        log.info("%s (id %r, client %s) -> error %d %s", method, ctx.request_id, client, exc.code, exc.message)
        raise
    log.info("%s (id %r, client %s) -> ok", method, ctx.request_id, client)
    return result


@app.middleware
def time_requests(method: str, params: dict, ctx: Context, call_next) -> dict:
    """Put the time spent serving into the result's ``_meta`` (a result may carry one)."""
    start = time.perf_counter()
    result = call_next()
    meta = dict(result.get("_meta") or {})
    meta[TIMING_KEY] = round((time.perf_counter() - start) * 1000, 3)
    return dict(result, _meta=meta)


class RateLimiter:
    """At most ``max_calls`` tool calls per client in any ``per`` seconds (a sliding window).
    The client is the bearer token's holder over protected HTTP, else its name."""

    def __init__(self, max_calls: int, per: float) -> None:
        self.max_calls = max_calls
        self.per = per
        self.calls = {}  # type: dict
        self.lock = threading.Lock()

    def __call__(self, method: str, params: dict, ctx: Context, call_next) -> dict:
        if method != "tools/call":
            return call_next()
        who = getattr(ctx.principal, "subject", None) or ctx.client_info.get("name", "anonymous")
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.calls.get(who, []) if now - t < self.per]
            if len(recent) >= self.max_calls:
                retry_ms = int((self.per - (now - recent[0])) * 1000) + 1
                raise MCPError(RATE_LIMITED, "Rate limit exceeded: %d tool calls per %g s"
                               % (self.max_calls, self.per), {"retryAfterMs": retry_ms})
            recent.append(now)
            self.calls[who] = recent
        return call_next()


@app.middleware
def map_errors(method: str, params: dict, ctx: Context, call_next) -> dict:
    """The application's exceptions as JSON-RPC errors a client can act on; anything else
    as an internal error with an id to find its traceback in the server's log."""
    try:
        return call_next()
    except NotFound as exc:
        raise MCPError(-32602, "Not found: %s" % exc, {"what": str(exc)})
    except MCPError:
        raise
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        log.exception("error %s while serving %s", error_id, method)
        raise MCPError(-32603, "Internal error (error id %s)" % error_id, {"errorId": error_id})


# -- what it serves ----------------------------------------------------------------------

INVENTORY = {"apple": 3, "pear": 0}


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.method("com.example/stock")
def stock(params: dict) -> dict:
    """A method of the application's own: the stock of one item (NotFound for an unknown one)."""
    item = params.get("item")
    if item not in INVENTORY:
        raise NotFound("item %r" % (item,))
    return {"item": item, "count": INVENTORY[item]}


@app.method("com.example/crash")
def crash(params: dict) -> dict:
    """Fails the way a bug would: the client sees the error id, never the traceback."""
    raise RuntimeError("database password is hunter2")  # stays in the server's log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--http", action="store_true", help="serve Streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-calls", type=int, default=10, help="tool calls allowed per window")
    parser.add_argument("--per", type=float, default=1.0, help="the window, in seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    # Registered here, after the others: it runs inside them, so its refusals are logged
    # (and pass through map_errors untouched: they are MCPErrors already).
    app.middleware(RateLimiter(args.max_calls, args.per))
    if args.http:
        app.run("http", port=args.port)
    else:
        app.run()


if __name__ == "__main__":
    main()
