"""bench/bench_wsgi.py's load and report: the load processes count and check every call
(a server answering wrongly fails the row, never looks fast), and ``--quick`` runs end to end.

The servers here are mcplite's own ``http.server`` (``run_in_thread`` on 127.0.0.1 in this
process, or the benchmark's ``http.server`` row, a process it stops by its PID); the gunicorn,
waitress and SDK rows need the venvs ``scripts/test`` builds and run in the CI smoke step
(``python3 bench/bench_wsgi.py --quick``) and the interop test at the end.
"""
import argparse
import json
import os
import subprocess
import sys

import pytest

from interop_support import venv_python
from mcplite import Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_wsgi  # noqa: E402
from _bench_common import BenchError, bench_env  # noqa: E402


def adder(off_by=0):
    app = Server("bench-test", version="1.0.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b + off_by
    return app


def load_args(**counts):
    values = dict(load_procs=2, threads=2, calls=10, warmup=2, timeout=30.0, call_timeout=10.0)
    values.update(counts)
    return argparse.Namespace(**values)


def test_the_load_times_every_call_of_every_process():
    with adder().run_in_thread("http", port=0) as handle:
        ticks = iter([1.0, 1.5])  # the server's CPU seconds at the release and at the end
        rate, latencies, cpu = bench_wsgi.run_load(handle.port, load_args(), bench_env(), lambda: next(ticks))
    assert len(latencies) == 2 * 2 * 10
    assert rate > 0 and all(0 < x < 10 for x in latencies) and cpu == 0.5


def test_a_wrong_answer_fails_the_load():
    with adder(off_by=1).run_in_thread("http", port=0) as handle:
        with pytest.raises(BenchError, match="add returned"):
            bench_wsgi.run_load(handle.port, load_args(load_procs=1), bench_env())


def test_a_server_that_is_not_there_fails_the_load():
    from bench_http import free_port
    with pytest.raises(BenchError, match="did not get ready"):
        bench_wsgi.run_load(free_port(), load_args(load_procs=1, call_timeout=2.0), bench_env())


def run_bench(*args):
    done = subprocess.run([sys.executable, os.path.join(BENCH, "bench_wsgi.py"), "--quick", "--json"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    return json.loads(done.stdout)


def test_quick_runs_the_http_server_row_end_to_end():
    rep = run_bench("--only", "http.server", "--wsgi-python", sys.executable)
    assert rep["ok"] and rep["left_out"] == {}, rep
    assert rep["rounds"]["http.server"][0]["calls"] == 2 * 4 * 60  # --quick: 2 processes, 4 threads, 60 calls
    assert rep["medians"]["http.server"]["calls_s"] > 0
    if sys.platform.startswith("linux"):  # the process group's CPU time, from /proc
        assert rep["medians"]["http.server"]["cpu_us_call"] > 0
    assert rep["floor_median_us_call"] > 0  # Server.wsgi() alone, each answer checked
    assert [r["value"] for r in rep["ratios"] if r["name"].startswith("http.server /")] == [None]  # no SDK row


def test_a_row_without_its_server_is_left_out_and_said():
    rep = run_bench("--only", "waitress", "--wsgi-python", os.path.join(ROOT, "no", "such", "python"))
    assert rep["ok"] and rep["medians"] == {} and "no interpreter" in rep["left_out"]["waitress"]


@pytest.mark.interop
def test_quick_with_gunicorn_and_the_sdk():
    wsgi = venv_python("MCPLITE_WSGI_PYTHON", "import gunicorn, waitress", "gunicorn and waitress")
    sdk = venv_python("MCPLITE_SDK_PYTHON", "import uvicorn, mcp.server.mcpserver", "mcp==2.3.0")
    rep = run_bench("--only", "gunicorn x2,SDK x2", "--wsgi-python", wsgi, "--sdk-python", sdk)
    assert rep["ok"] and rep["left_out"] == {}, rep
    assert rep["medians"]["gunicorn x2"]["calls_s"] > 0 and rep["medians"]["SDK x2"]["calls_s"] > 0
    vs_sdk = [r for r in rep["ratios"] if r["name"] == "gunicorn x2 / SDK x2 calls/s"]
    assert vs_sdk[0]["value"] > 0 and vs_sdk[0]["met"] in (True, False)
