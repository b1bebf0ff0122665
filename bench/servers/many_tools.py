"""bench/bench_tools.py's child: one measurement of registering many tools, in a fresh process.

    python many_tools.py KIND N [CALLS]

KIND is ``mcplite`` (``Server.add_tool``), ``sdk`` (the official SDK's ``MCPServer.add_tool``;
its interpreter only) or ``raw`` (the floor: each function stored in a dict). N distinct plain
three-parameter functions are defined first (each its own code object, compiled from generated
source in small chunks so that the compiler's garbage does not fill the RSS read before the
registrations); then the registrations alone are timed with ``time.perf_counter``, the
collector left as a user's program has it. ``rss_before`` is read after the import, the
server and the functions, just before the loop (what the tools must hold anyway),
``rss_after`` after it. With CALLS (mcplite only) that many tools, spread over the N, are
then called once each through ``Client(app)`` in memory and ``rss_called`` read (their
validators are compiled on first call). Prints one JSON object on stdout.
"""
import gc
import json
import sys
import time

CHUNK = 20  # functions compiled at a time: the compiler's freed memory stays in the process's
# RSS (the allocator keeps its arenas) and the registrations then reuse it; with 500 a chunk
# mcplite's 1,000 tools appeared to add 0.3 KiB each instead of 1.9

SOURCE = '''
def tool_{i}(a: int, b: str, c: float = 0.5) -> str:
    """Tool number {i}: joins its three arguments."""
    return "%s %s %s %d" % (a, b, c, {i})
'''


def rss_kib():
    """This process's resident set now (``VmRSS``), else its peak (``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere


def define(n):
    funcs = []
    for start in range(0, n, CHUNK):
        scope = {}  # type: dict
        code = compile("".join(SOURCE.format(i=i) for i in range(start, min(n, start + CHUNK))),
                       "<tools %d>" % start, "exec")
        exec(code, scope)
        funcs.extend(scope["tool_%d" % i] for i in range(start, min(n, start + CHUNK)))
        del scope, code
    return funcs


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if kind == "mcplite":
        from mcplite import Server
        app = Server("bench-tools", version="1.0.0")
        register = app.add_tool
    elif kind == "sdk":
        from mcp.server.mcpserver import MCPServer
        app = MCPServer("bench-tools")
        register = app.add_tool
    elif kind == "raw":
        held = {}

        def register(fn):
            held[fn.__name__] = fn
    else:
        raise SystemExit("unknown kind %r" % kind)
    funcs = define(n)
    gc.collect()  # the same starting heap for every kind: the definitions' garbage gone
    before = rss_kib()
    perf = time.perf_counter
    t0 = perf()
    for fn in funcs:
        register(fn)
    elapsed = perf() - t0
    gc.collect()
    out = {"kind": kind, "n": n, "seconds": elapsed, "rss_before_kib": before, "rss_after_kib": rss_kib()}
    if calls and kind == "mcplite":
        from mcplite import Client
        with Client(app) as client:
            step = max(1, n // calls)
            for i in range(0, step * calls, step)[:calls]:
                result = client.call_tool("tool_%d" % i, {"a": 1, "b": "x"})
                text = "1 x 0.5 %d" % i
                if result.get("isError") or text not in json.dumps(result):
                    raise SystemExit("tool_%d answered %r" % (i, result))
        gc.collect()
        out["calls"] = calls
        out["rss_called_kib"] = rss_kib()
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
