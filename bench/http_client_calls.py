#!/usr/bin/env python3
"""Python function calls per sequential HTTP ``call_tool``, by function, in the CLIENT
process (or, with ``--gateway``, in an HTTP gateway's process; with ``--server``, in the
server's): a load-independent figure.

A ``mcplite.Client.http`` runs under a counting profile hook (``sys.setprofile`` and
``threading.setprofile``, so the client's workers count too) and makes N sequential
``call_tool("add", ...)`` against ``bench/servers/http_servers.py mcplite`` on 127.0.0.1; a
second run makes 2N. The difference of the two runs' counts, over N, is what one call costs,
with start-up and shutdown cancelled out. The client side of an HTTP call counts twice
through an HTTP gateway (the caller's client and the gateway's upstream client), hence
this script; ``bench/stdio_calls.py`` does the same for a stdio server.

With ``--gateway``, the counted process is ``bench/servers/gateway_add.py http`` in front
of that server (its front and its upstream client together), driven by an uncounted client.
With ``--server``, it is the server itself (``http_servers.py mcplite``: its front, the
protocol layer and the tool; the HTTP server's own threads count too), driven the same way.

Usage::

    python bench/http_client_calls.py                      # both eras, the client process
    python bench/http_client_calls.py --gateway            # both eras, the gateway process
    python bench/http_client_calls.py --server             # both eras, the server process
    python bench/http_client_calls.py --top 40 --era modern
    python bench/http_client_calls.py --baseline ../main   # mcplite from ../main measured too

Only Python functions are counted as "calls" (the profiler's ``call`` events); calls of
built-ins (``c_call``) are reported beside them.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from _call_counts import COUNTING_HOOK, per_call, print_costliest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SERVERS = os.path.join(HERE, "servers")

# The counted client: connect, N calls, close.
_CLIENT = COUNTING_HOOK + r'''
from mcplite import Client
client = Client.http(URL, era=ERA)
if COUNT:
    threading.setprofile(hook)
    sys.setprofile(hook)
for i in range(N):
    result = client.call_tool("add", {"a": i, "b": 1})
    if result.get("structuredContent") != {"result": i + 1}:
        raise SystemExit("wrong answer: %r" % (result,))
client.close()
if COUNT:
    dump()
'''

# A counted server process (the gateway, or the server itself): the hook is on from the start,
# its counts written when it is stopped.
_COUNTED_SERVER = COUNTING_HOOK + r'''
import runpy, signal
atexit.register(dump)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.setprofile(hook)
sys.setprofile(hook)
sys.argv = [SCRIPT] + ARGV
runpy.run_path(SCRIPT, run_name="__main__")
'''


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(python, argv, tree, port):
    """A server process listening on 127.0.0.1:port (stopped by the caller, by its PID)."""
    proc = subprocess.Popen([python] + argv, cwd=tree, env=dict(os.environ, PYTHONPATH=tree),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                raise SystemExit("http_client_calls: %s did not start" % " ".join(argv))
            time.sleep(0.05)


def _stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _drive(python, tree, url, era, n, out):
    """N calls from a client process; its counts go to ``out`` when ``out`` is given."""
    code = "OUT, URL, ERA, N, COUNT = %r, %r, %r, %d, %r\n" % (out, url, era, n, out is not None) + _CLIENT
    # ``python -c`` puts the working directory first on sys.path: mcplite comes from ``tree``.
    subprocess.run([python, "-c", code], cwd=tree, env=dict(os.environ, PYTHONPATH=tree), check=True)


def _counted(python, tree, out, script, argv, port):
    """``script`` with ``argv`` run under the counting hook, listening on ``port``."""
    code = "OUT, SCRIPT, ARGV = %r, %r, %r\n" % (out, script, argv) + _COUNTED_SERVER
    return _start(python, ["-c", code], tree, port)


def _session(python, tree, era, n, counted):
    """One run of N calls; ``counted``: "client", "gateway" or "server" (whose counts)."""
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    port = _free_port()
    script = os.path.join(SERVERS, "http_servers.py")
    if counted == "server":
        server = _counted(python, tree, out, script, ["mcplite", str(port)], port)
    else:
        server = _start(python, [script, "mcplite", str(port)], tree, port)
    try:
        url = "http://127.0.0.1:%d/mcp" % port
        if counted == "client":
            _drive(python, tree, url, era, n, out)
        elif counted == "server":
            _drive(python, tree, url, era, n, None)
        else:
            front_port = _free_port()
            front = _counted(python, tree, out, os.path.join(SERVERS, "gateway_add.py"),
                             ["http", str(front_port), url], front_port)
            try:
                _drive(python, tree, "http://127.0.0.1:%d/mcp" % front_port, era, n, None)
            finally:
                _stop(front)
    finally:
        _stop(server)
    try:
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def measure(python, tree, era, n, counted="client"):
    """(per-call counts by function, Python calls per call, built-in calls per call)."""
    return per_call(_session(python, tree, era, n, counted), _session(python, tree, era, 2 * n, counted), n)

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="N (the second run makes 2N)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per era")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--era", choices=("modern", "legacy"), action="append",
                        help="the client's era (both by default)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--gateway", action="store_true", help="count an HTTP gateway's process instead")
    where.add_argument("--server", action="store_true", help="count the server's process instead")
    parser.add_argument("--baseline", metavar="DIR", help="another checkout: its mcplite measured too")
    args = parser.parse_args(argv)
    trees = [("mcplite", REPO)]
    if args.baseline:
        trees.append(("mcplite@baseline", os.path.abspath(args.baseline)))
    counted = "gateway" if args.gateway else "server" if args.server else "client"
    what = counted + " process"
    for era in args.era or ("modern", "legacy"):
        for label, tree in trees:
            per, py, c = measure(args.python, tree, era, args.calls, counted)
            print("%s %s, %s: %.1f Python calls, %.1f built-in calls per call_tool" % (label, era, what, py, c))
            print_costliest(per, args.top)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
