"""bench/bench_stdio.py's bytes on the wire per ``tools/call`` (issue 23, item 4): the client
counts every byte it writes and every complete line it reads (newline included), and the report
shows them per server.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_stdio  # noqa: E402
from _bench_common import bench_env  # noqa: E402


def test_the_client_counts_the_bytes_of_each_line_both_ways():
    sp = bench_stdio.ServerProc([sys.executable, os.path.join(BENCH, "servers", "raw_floor.py")], bench_env(), "raw")
    try:
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "add", "arguments": {"a": 2, "b": 1}}}
        sp.next_id = 1
        sp.send(request)
        result = sp.wait_response(1, time.perf_counter() + 30)
        assert result["structuredContent"] == {"result": 3}
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}, separators=(",", ":"))
        assert sp.bytes_out == len(json.dumps(request, separators=(",", ":"))) + 1
        # the raw floor writes compact JSON, keys in the order of its dict: the same length
        assert sp.bytes_in == len(line) + 1 and sp.buf == b""
    finally:
        sp.close()


def test_quick_reports_the_bytes_per_call_of_each_server():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT
    done = subprocess.run([sys.executable, os.path.join(BENCH, "bench_stdio.py"), "--quick", "--no-sdk", "--json",
                           "--only", "mcplite,raw"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=180, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    servers = json.loads(done.stdout)["servers"]
    wires = dict((key, s["wire_bytes_per_call"]) for key, s in servers.items())
    assert set(wires) >= {"mcplite", "raw"}, wires
    to_server = set(w["to_server"] for w in wires.values())
    assert len(to_server) == 1 and to_server.pop() > 50  # the same requests for every server
    assert all(w["from_server"] > 50 for w in wires.values()), wires
