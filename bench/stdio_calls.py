#!/usr/bin/env python3
"""Python function calls per sequential stdio ``tools/call``, by function: a load-independent
figure (unlike calls/s, it does not move with the machine's load).

Each server of ``bench/servers/`` runs under a counting profile hook (``sys.setprofile`` and
``threading.setprofile``, so the worker pool's threads count too), driven over real pipes by
a legacy session and N sequential ``add`` calls; a second run makes 2N. The difference of the
two runs' counts, over N, is what one call costs, with start-up and shutdown cancelled out.
(For time, ``bench_stdio.py`` reports the server's CPU per call; on a busy machine even that
moves, while these counts do not.)

Usage::

    python bench/stdio_calls.py                      # mcplite_add.py and mcplite_add_inline.py
    python bench/stdio_calls.py --top 40             # the 40 costliest functions
    python bench/stdio_calls.py --baseline ../main   # the same, mcplite imported from ../main too
    python bench/stdio_calls.py --era modern         # 2026-07-28 requests (each with its _meta)

Only Python functions are counted as "calls" (the profiler's ``call`` events); calls of
built-ins (``c_call``) are reported beside them.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from _call_counts import COUNTING_HOOK, per_call, print_costliest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SERVERS = os.path.join(HERE, "servers")

# Runs in the server process: installs the counting hook, then runs the server script.
_WRAPPER = "import sys\nOUT, script = sys.argv[1], sys.argv[2]\nsys.argv = [script]\n" + COUNTING_HOOK + r'''
import runpy
atexit.register(dump)
threading.setprofile(hook)
sys.setprofile(hook)
runpy.run_path(script, run_name="__main__")
'''


_MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}


def _session(python, script, tree, n, modern=False):
    """One server process: initialize (or, ``modern``, none: each call carries its 2026-07-28
    ``_meta``), ``n`` sequential calls, end of input. Its dump."""
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        # In ``tree``: ``python -c`` puts the working directory first on sys.path, before
        # PYTHONPATH, so that is where mcplite is imported from.
        proc = subprocess.Popen([python, "-c", _WRAPPER, out, script],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tree,
                                env=dict(os.environ, PYTHONPATH=tree))
        try:
            def ask(message):
                proc.stdin.write(json.dumps(message).encode() + b"\n")
                proc.stdin.flush()
                while True:
                    line = proc.stdout.readline()
                    if not line:
                        raise RuntimeError("the server closed its stdout")
                    answer = json.loads(line)
                    if answer.get("id") == message["id"]:
                        return answer
            if not modern:
                ask({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                     "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                "clientInfo": {"name": "stdio-calls", "version": "1"}}})
                proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            for i in range(1, n + 1):
                params = {"name": "add", "arguments": {"a": i, "b": 1}}
                if modern:
                    params["_meta"] = _MODERN_META
                answer = ask({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params})
                if answer["result"]["content"][0]["text"] != str(i + 1):
                    raise RuntimeError("wrong answer: %r" % (answer,))
            proc.stdin.close()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def measure(python, script, tree, n, modern=False):
    """(per-call counts by function, Python calls per call, built-in calls per call)."""
    return per_call(_session(python, script, tree, n, modern), _session(python, script, tree, 2 * n, modern), n)

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="N (the second run makes 2N)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per server")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--baseline", metavar="DIR", help="another checkout: its mcplite measured too")
    parser.add_argument("--servers", default="mcplite_add.py,mcplite_add_inline.py")
    parser.add_argument("--era", choices=("legacy", "modern"), default="legacy",
                        help="the client's era: an initialize session, or 2026-07-28 requests")
    args = parser.parse_args(argv)
    trees = [("mcplite", REPO)]
    if args.baseline:
        trees.append(("mcplite@baseline", os.path.abspath(args.baseline)))
    for name in args.servers.split(","):
        script = os.path.join(SERVERS, name)
        for label, tree in trees:
            per, py, c = measure(args.python, script, tree, args.calls, args.era == "modern")
            print("%s %s: %.1f Python calls, %.1f built-in calls per call" % (label, name, py, c))
            print_costliest(per, args.top)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
