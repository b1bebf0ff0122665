"""bench/bench_http.py's "GET streams back to back" (issue 23, item 4): ``--streams N``
opens N standalone SSE streams one after the other and holds them, for mcplite and the raw
floor (the SDK where its venv is: the CI smoke step), each stream's head checked.

The run is cut to what the streams need (one round, json mode, no connection levels, a
handful of calls) so it stays short.
"""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_http  # noqa: E402
from _bench_common import BenchError  # noqa: E402
from mcplite import Server  # noqa: E402

SHORT = ["--quick", "--no-sdk", "--streams", "20", "--rounds", "1", "--modes", "json", "--concurrency", "none",
         "--calls", "10", "--warmup", "2", "--threads", "2", "--thread-calls", "5"]


def run(extra, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, os.path.join(BENCH, "bench_http.py")] + SHORT + extra,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, cwd=ROOT, env=env)


def test_the_streams_table_has_a_row_per_server_with_numbers():
    done = run([])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    out = done.stdout.decode("utf-8")
    assert "GET streams back to back (20 standalone SSE streams" in out, out
    # server, total s, p50 ms, p99 ms, max ms, / raw, / SDK (no SDK here: "-")
    assert re.search(r"^\s+mcplite \(py[\d.]+, current\)\s+\d+\.\d{3}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d"
                     r"\s+\d+\.\d\dx\s+-$", out, re.M), out
    assert re.search(r"^\s+raw floor \(py[\d.]+, current\)\s+\d+\.\d{3}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d"
                     r"\s+-\s+-$", out, re.M), out


def test_json_holds_the_streams_of_each_server():
    done = run(["--json"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    rep = json.loads(done.stdout)
    assert rep["config"]["streams"] == 20
    rows = dict((r["kind"], r) for r in rep["get_streams"])
    assert sorted(rows) == ["mcplite", "raw"]
    for r in rows.values():
        assert r["error"] is None and r["streams"] == 20
        assert r["total_s"]["median"] > 0 and r["per_stream_ms"]["n"] == 20
        assert 0 < r["per_stream_ms"]["p50"] <= r["per_stream_ms"]["p99"]


def test_streams_zero_is_off():
    done = run(["--json", "--streams", "0"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    assert json.loads(done.stdout)["get_streams"] == []


def test_a_get_the_server_refuses_fails_the_stream():
    app = Server("bench-test", version="1.0.0")
    with app.run_in_thread("http", port=0) as handle:
        # no session: the server answers an error status, not an event stream
        with pytest.raises(BenchError, match="GET stream answered") as info:
            bench_http.open_stream(handle.port, "t", None, None, 10.0)
        assert info.value.kind.startswith("HTTP 4")
        # a session, a stream: the head is checked and the socket handed back open
        client = bench_http.Client(handle.port, "t", "json", 10.0)
        try:
            client.handshake()
        finally:
            client.close()
        sock = bench_http.open_stream(handle.port, "t", None, client.session_id, 10.0)
        sock.close()


def test_too_many_streams_is_bad_usage():
    done = run(["--streams", str(bench_http.MAX_STREAMS + 1)])
    assert done.returncode == 2
