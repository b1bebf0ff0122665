"""bench/bench_wsgi.py's load and report: the load processes count and check every call
(a server answering wrongly fails the row, never looks fast), both loads (``raw``: one
selectors thread a process; ``client``: bench_http's clients) ask the same thing, the raw
load reads every framing a server may use, and ``--quick`` runs end to end.

The servers here are mcplite's own ``http.server`` (``run_in_thread`` on 127.0.0.1 in this
process, or the benchmark's ``http.server`` row, a process it stops by its PID); the gunicorn,
waitress and SDK rows need the venvs ``scripts/test`` builds and run in the CI smoke step
(``python3 bench/bench_wsgi.py --quick``) and the interop test at the end.
"""
import argparse
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import wsgiref.simple_server

import pytest

from interop_support import venv_python
from mcplite import Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_wsgi  # noqa: E402
from _bench_common import BenchError, bench_env  # noqa: E402

SERVERS = os.path.join(BENCH, "servers")
if SERVERS not in sys.path:
    sys.path.insert(0, SERVERS)

import wsgi_servers  # noqa: E402

LOADS = ("raw", "client")


def adder(off_by=0):
    app = Server("bench-test", version="1.0.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b + off_by
    return app


def load_args(**counts):
    values = dict(load="raw", load_procs=2, threads=2, calls=10, warmup=2, timeout=30.0, call_timeout=10.0)
    values.update(counts)
    return argparse.Namespace(**values)


@pytest.mark.parametrize("load", LOADS)
def test_the_load_times_every_call_of_every_process(load):
    with adder().run_in_thread("http", port=0) as handle:
        ticks = iter([1.0, 1.5])  # the server's CPU seconds at the release and at the end
        rate, latencies, cpu, load_cpu = bench_wsgi.run_load(handle.port, load_args(load=load), bench_env(),
                                                             lambda: next(ticks))
    assert len(latencies) == 2 * 2 * 10
    assert rate > 0 and all(0 < x < 10 for x in latencies) and cpu == 0.5
    assert load_cpu > 0  # the load processes' own CPU over their timed calls


@pytest.mark.parametrize("load", LOADS)
def test_a_wrong_answer_fails_the_load(load):
    with adder(off_by=1).run_in_thread("http", port=0) as handle:
        with pytest.raises(BenchError, match="add returned"):
            bench_wsgi.run_load(handle.port, load_args(load=load, load_procs=1), bench_env())


@pytest.mark.parametrize("load", LOADS)
def test_a_server_that_is_not_there_fails_the_load(load):
    from bench_http import free_port
    with pytest.raises(BenchError, match="did not get ready"):
        bench_wsgi.run_load(free_port(), load_args(load=load, load_procs=1, call_timeout=2.0), bench_env())


class FloorServer(object):
    """``wsgi_servers.floor_wsgi()`` under wsgiref (one thread, HTTP/1.0, a connection closed
    after each answer, which the raw load must follow), on 127.0.0.1."""

    def __init__(self, app=None):
        class Quiet(wsgiref.simple_server.WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.httpd = wsgiref.simple_server.make_server("127.0.0.1", 0, app or wsgi_servers.floor_wsgi(),
                                                       handler_class=Quiet)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def test_floor_wsgi_answers_the_fixed_body_without_mcplite():
    done = subprocess.run([sys.executable, "-c", "import sys, wsgi_servers; wsgi_servers.floor_wsgi();"
                           " sys.exit('mcplite' in sys.modules)"], cwd=SERVERS, timeout=60)
    assert done.returncode == 0  # the floor is the server's cost alone
    assert len(wsgi_servers.FLOOR_ANSWER) == len(json.dumps(json.loads(wsgi_servers.FLOOR_ANSWER),
                                                            separators=(",", ":")))


@pytest.mark.parametrize("load", LOADS)
def test_a_floor_row_is_checked_against_the_fixed_body(load):
    with FloorServer() as server:
        rate, latencies, _, _ = bench_wsgi.run_load(server.port, load_args(load=load), bench_env(), check="fixed")
        assert rate > 0 and len(latencies) == 2 * 2 * 10
        with pytest.raises(BenchError, match="no response with id"):  # add's check: its id is not the call's
            bench_wsgi.run_load(server.port, load_args(load=load, load_procs=1), bench_env())
    with adder().run_in_thread("http", port=0) as handle:  # an mcplite answer is not the floor's body
        with pytest.raises(BenchError, match="not the floor's fixed body"):
            bench_wsgi.run_load(handle.port, load_args(load=load, load_procs=1), bench_env(), check="fixed")


class Recorder(socketserver.ThreadingTCPServer):
    """Answers each ``add`` call as the test asks (``answer(rid, a)`` -> the response's bytes,
    whether to close the connection after it), records every request's head and body."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        self.peers = []  # each request's client-side port
        self.ended = []  # the client-side port of each connection the client closed
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    head = []
                    line = self.rfile.readline()
                    if not line:
                        server.ended.append(self.client_address[1])
                        return
                    while line not in (b"\r\n", b""):
                        head.append(line.decode("latin-1").rstrip("\r\n"))
                        line = self.rfile.readline()
                    length = [int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")]
                    body = self.rfile.read(length[0])
                    server.requests.append((head, body))
                    server.peers.append(self.client_address[1])
                    msg = json.loads(body)
                    data, close = server.answer(msg["id"], msg["params"]["arguments"]["a"])
                    self.wfile.write(data)
                    self.wfile.flush()
                    if close:
                        return

        socketserver.ThreadingTCPServer.__init__(self, ("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self.thread.join(10)


def add_result(rid, a):
    return {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": str(a + 1)}],
                                                     "structuredContent": {"result": a + 1}}}


def json_answer(rid, a):
    body = json.dumps(add_result(rid, a)).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body), False


def test_both_loads_send_the_same_request():
    with Recorder(json_answer) as server:
        for load in LOADS:
            bench_wsgi.run_load(server.port, load_args(load=load, load_procs=1, threads=1, warmup=1, calls=1),
                                bench_env())
    (client_head, client_body) = server.requests[0]
    (raw_head, raw_body) = server.requests[2]
    assert raw_head == client_head
    assert raw_head[0] == "POST /mcp HTTP/1.1" and "Mcp-Name: add" in raw_head
    client_msg, raw_msg = json.loads(client_body), json.loads(raw_body)
    assert raw_msg["id"] == raw_msg["params"]["arguments"]["a"]  # ids distinct across every call of the run
    del client_msg["id"], raw_msg["id"]
    assert raw_msg == client_msg and raw_msg["params"]["_meta"] == {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    ids = [json.loads(body)["id"] for head, body in server.requests[2:]]
    assert len(ids) == len(set(ids)) == 2


def chunked_sse_answer(rid, a):
    """A keep-alive SSE stream, chunked, in pieces: a priming event, a notification, the
    response; every third call's connection closed after it."""
    events = [b": priming\r\n\r\n",
              b"data: " + json.dumps({"jsonrpc": "2.0", "method": "notifications/message",
                                      "params": {"level": "info", "data": "x"}}).encode() + b"\n\n",
              b"event: message\ndata: " + json.dumps(add_result(rid, a)).encode() + b"\n\n"]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    close = a % 3 == 0
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            + (b"Connection: close\r\n" if close else b"") + b"\r\n" + chunks), close


def test_the_raw_load_reads_a_chunked_sse_answer_and_a_closed_connection():
    with Recorder(chunked_sse_answer) as server:
        rate, latencies, _, _ = bench_wsgi.run_load(server.port, load_args(), bench_env())
    assert rate > 0 and len(latencies) == 2 * 2 * 10
    assert len(server.requests) == 2 * 2 * 12


@pytest.mark.parametrize("cut", [1, 7, 40, 95, 150])
def test_split_response_waits_for_the_whole_answer(cut):
    data, _ = chunked_sse_answer(5, 5)
    buf = bytearray(data[:cut])
    assert bench_wsgi.split_response(buf) is None
    buf += data[cut:] + b"HTTP/1.1"  # the next answer's first bytes stay in the buffer
    status, headers, body, used, close = bench_wsgi.split_response(buf)
    assert (status, used, close) == (200, len(data), False) and headers["content-type"] == "text/event-stream"
    assert bench_wsgi.check_answer(status, headers, body, 5, 6, None) is None
    assert "add returned" in bench_wsgi.check_answer(status, headers, body, 5, 7, None)
    assert "no response with id" in bench_wsgi.check_answer(status, headers, body, 4, 6, None)


def test_split_response_reads_to_the_close_without_a_length():
    buf = bytearray(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":")
    assert bench_wsgi.split_response(buf) is None
    buf += b"1}"
    assert bench_wsgi.split_response(buf, eof=True)[2:] == (b'{"a":1}', len(buf), True)
    with pytest.raises(BenchError, match="not an HTTP"):
        bench_wsgi.split_response(bytearray(b"SSH-2.0\r\n\r\n"))


def test_a_call_not_answered_in_time_fails_the_raw_load():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (the kernel does), never answers
    try:
        with pytest.raises(BenchError, match="not answered within 1 s"):
            bench_wsgi.run_load(listener.getsockname()[1], load_args(load_procs=1, call_timeout=1.0), bench_env())
    finally:
        listener.close()


def test_busiest_worker_share():
    before = {10: 5.0, 11: 1.0, 12: 1.0}  # the leader (10) is not a worker
    assert bench_wsgi.busiest_worker_share(before, {10: 9.0, 11: 4.0, 12: 2.0}, 10) == 75
    assert bench_wsgi.busiest_worker_share(before, {10: 9.0, 11: 2.0, 12: 2.0}, 10) == 50
    assert bench_wsgi.busiest_worker_share(before, {10: 9.0, 11: 2.0}, 10) is None  # one worker
    assert bench_wsgi.busiest_worker_share(None, {10: 9.0, 11: 2.0, 12: 2.0}, 10) is None  # off Linux


def run_bench(*args):
    done = subprocess.run([sys.executable, os.path.join(BENCH, "bench_wsgi.py"), "--quick", "--json"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("load", LOADS)
def test_quick_runs_the_http_server_row_end_to_end(load):
    rep = run_bench("--only", "http.server", "--wsgi-python", sys.executable, "--load", load)
    assert rep["ok"] and rep["left_out"] == {}, rep
    assert rep["config"]["load"] == load
    assert rep["rounds"]["http.server"][0]["calls"] == 2 * 4 * 60  # --quick: 2 processes, 4 threads, 60 calls
    assert rep["medians"]["http.server"]["calls_s"] > 0 and rep["medians"]["http.server"]["load_cpu_us_call"] > 0
    if sys.platform.startswith("linux"):  # the process group's CPU time, from /proc
        assert rep["medians"]["http.server"]["cpu_us_call"] > 0
    assert rep["floor_median_us_call"] > 0  # Server.wsgi() alone, each answer checked
    assert rep["floor_inline_median_us_call"] > 0  # and with add declared inline=True
    assert [r["value"] for r in rep["ratios"] if r["name"].startswith("http.server /")] == [None]  # no SDK row


def test_a_row_without_its_server_is_left_out_and_said():
    rep = run_bench("--only", "waitress", "--wsgi-python", os.path.join(ROOT, "no", "such", "python"))
    assert rep["ok"] and rep["medians"] == {} and "no interpreter" in rep["left_out"]["waitress"]


@pytest.mark.interop
def test_quick_with_gunicorn_and_the_sdk():
    wsgi = venv_python("MCPLITE_WSGI_PYTHON", "import gunicorn, waitress", "gunicorn and waitress")
    sdk = venv_python("MCPLITE_SDK_PYTHON", "import uvicorn, mcp.server.mcpserver", "mcp==2.3.0")
    rep = run_bench("--only", "gunicorn x2,gunicorn floor x2,gunicorn x1 inline,waitress floor,SDK x2",
                    "--wsgi-python", wsgi, "--sdk-python", sdk)
    assert rep["ok"] and rep["left_out"] == {}, rep
    two_workers = ("gunicorn x2", "gunicorn floor x2", "SDK x2")
    for row in ("gunicorn x2", "gunicorn floor x2", "gunicorn x1 inline", "waitress floor", "SDK x2"):
        if rep["medians"][row]["calls_s"] is None:
            # Its one round could not be balanced within the tries (a busy machine's accept
            # race): flagged and left out of the medians, as the report says, never mixed in.
            assert row in two_workers and rep["rounds"][row][0]["balanced"] is False, (row, rep["rounds"][row])
        else:
            assert rep["medians"][row]["calls_s"] > 0, row
    vs_sdk = [r for r in rep["ratios"] if r["name"] == "gunicorn x2 / SDK x2 calls/s"][0]
    if rep["medians"]["gunicorn x2"]["calls_s"] is None or rep["medians"]["SDK x2"]["calls_s"] is None:
        assert vs_sdk["value"] is None and vs_sdk["met"] is None, vs_sdk
    else:
        assert vs_sdk["value"] > 0 and vs_sdk["met"] in (True, False)
    if sys.platform.startswith("linux"):  # every load connection found in one of the 2 workers
        for row in ("gunicorn x2", "gunicorn floor x2", "SDK x2"):
            run = rep["rounds"][row][0]
            split = run["connections_by_worker"]
            assert len(split) == 2 and sum(split) == 2 * 4, (row, split)
            # spread evenly before the release (or, within 30 rounds of reconnects, said not to be)
            assert run["balanced"] is (split[0] - split[1] <= 1) and 0 <= run["reconnects"] <= 30, (row, run)
    measured = set(row for row in two_workers if rep["medians"][row]["calls_s"] is not None)
    share = [s for s in rep["shares"] if s["row"] == "gunicorn x2"][0]  # its CPU less the floor's
    assert share["floor"] == "gunicorn floor x2"
    assert (share["share_us"] is not None) is ({"gunicorn x2", "gunicorn floor x2"} <= measured), (share, measured)
    reach = [x["sdk"] for x in rep["reach"] if x["value"] is not None]
    assert reach == (["SDK x2"] if {"SDK x2", "gunicorn floor x2"} <= measured else []), (rep["reach"], measured)


# --------------------------------------------------------------------------- spreading the connections evenly

def test_ports_to_reconnect_takes_the_fuller_workers_extras():
    sixteen = list(range(5000, 5016))
    assert bench_wsgi.ports_to_reconnect({1: sixteen, 2: []}) == sixteen[8:]  # 16/0: half of them
    assert bench_wsgi.ports_to_reconnect({1: [7, 3], 2: [9, 1, 5, 8, 2, 6]}) == [8, 9]  # 2/6: 6's 2 over 4
    assert bench_wsgi.ports_to_reconnect({1: sixteen[:9], 2: sixteen[9:]}) == [sixteen[8]]  # 9/7: 1 apart once moved
    assert bench_wsgi.ports_to_reconnect({1: sixteen[:8], 2: sixteen[8:]}) == []  # 8/8
    assert bench_wsgi.ports_to_reconnect({1: sixteen[:8], 2: sixteen[8:15]}) == []  # 8/7: as even as 15 go
    assert bench_wsgi.ports_to_reconnect({1: sixteen}) == []  # one worker: nothing to spread
    # 3 workers, 6/6/4 of 16: nobody over the larger share (6) yet uneven: one of each 6
    assert bench_wsgi.ports_to_reconnect({1: sixteen[:6], 2: sixteen[6:12], 3: sixteen[12:]}) == [
        sixteen[5], sixteen[11]]


def raw_load_process(port, conns, calls=3, warmup=1, first=1):
    return subprocess.Popen([sys.executable, os.path.join(BENCH, "bench_wsgi.py"), "--load-worker", "raw", str(port),
                             str(conns), str(calls), str(warmup), str(first), "10", "sum"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env=bench_env())


def settled(check, seconds=10.0):
    """Waits for the Recorder's handler threads to see each close (they do it on their own
    time), up to ``seconds``; whether ``check()`` came true."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def talk(proc, line):
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()
    return proc.stdout.readline().decode()


def test_a_load_process_told_to_reconnect_reopens_those_connections():
    with Recorder(json_answer) as server:
        proc = raw_load_process(server.port, 3, calls=3, warmup=1, first=1)
        try:
            words = proc.stdout.readline().decode().split()
            assert words[0] == "ready" and len(words) == 4
            ports = [int(w) for w in words[1:]]
            assert sorted(ports) == sorted(server.peers)  # the local ports are the server's peers, warmed up
            words = talk(proc, "reconnect %d %d" % (ports[0], ports[2])).split()
            assert words[0] == "ready"
            again = [int(w) for w in words[1:]]
            assert again[1] == ports[1] and not set(again[::2]) & set(ports)  # 2 reopened, 1 kept
            assert settled(lambda: len(server.ended) == 2)
            assert sorted(server.ended) == sorted([ports[0], ports[2]])  # the old ones closed
            assert server.peers[3:] == again[::2] or server.peers[3:] == again[2::-2]  # each new one: one call
            words = talk(proc, "reconnect").split()  # none this time (another process's turn)
            assert [int(w) for w in words[1:]] == again
            report = json.loads(talk(proc, "go"))
        finally:
            proc.stdin.close()
            proc.wait(30)
    assert report["errors"] == [] and len(report["latencies"]) == 3 * 3 and report["connects"] == 5
    assert set(server.peers[5:]) == set(again)  # the timed calls went over the new connections
    ids = [json.loads(body)["id"] for _, body in server.requests]
    assert len(ids) == len(set(ids)) == 3 * 1 + 2 + 3 * 3  # warm-up, the 2 reconnects' call, the timed calls
    assert all(i >= 1 + 3 * (1 + 3) for i in ids[3:5])  # the reconnects' ids: past every call's


def test_a_load_process_told_to_reconnect_a_port_it_does_not_hold_fails():
    with Recorder(json_answer) as server:
        proc = raw_load_process(server.port, 2)
        try:
            words = proc.stdout.readline().decode().split()
            stranger = max(int(w) for w in words[1:]) + 1
            report = json.loads(talk(proc, "reconnect %d" % stranger))
        finally:
            proc.stdin.close()
            proc.wait(30)
    assert "does not hold" in report["errors"][0] and report["latencies"] == []


class FakeWorkers(object):
    """``Balance.owners`` for a test: the ports first seen go to worker 1; a reopened
    connection goes to worker 2 (``spread``) or to worker 1 again."""

    def __init__(self, spread):
        self.spread = spread
        self.first = None
        self.calls = 0

    def __call__(self, ports):
        self.calls += 1
        if self.first is None:
            self.first = set(ports)
        by_worker = {1: [], 2: []}
        for port in ports:
            by_worker[1 if port in self.first or not self.spread else 2].append(port)
        return by_worker


def balanced_run(server, spread, tries):
    workers = FakeWorkers(spread)
    seen = []

    def owners():  # the load's ports, as the server sees them: every connection's peer port now open
        def live():
            return set(server.peers) - set(server.ended)
        settled(lambda: len(live()) == 4)  # 2 processes x 2 connections, once the closes are seen
        seen.append(len(live()))
        return workers(sorted(live()))

    balance = bench_wsgi.Balance(owners, tries)
    rate, latencies, _, _ = bench_wsgi.run_load(server.port, load_args(), bench_env(), balance=balance)
    return balance, latencies, seen


def test_run_load_reopens_connections_until_the_split_is_even():
    with Recorder(json_answer) as server:
        balance, latencies, seen = balanced_run(server, True, 30)
        assert settled(lambda: len(server.ended) == 2 + 4)  # the 2 reopened, then every connection at the end
    assert (balance.balanced, balance.split, balance.reconnects, balance.reopened) == (True, [2, 2], 1, 2)
    assert len(latencies) == 2 * 2 * 10 and seen == [4, 4]


def test_run_load_gives_up_after_its_tries_and_says_so():
    with Recorder(json_answer) as server:
        balance, latencies, seen = balanced_run(server, False, 3)
    assert (balance.balanced, balance.split, balance.reconnects, balance.reopened) == (False, [4, 0], 3, 6)
    assert len(latencies) == 2 * 2 * 10  # the round still runs: the report flags it


def test_an_unbalanced_round_is_left_out_of_the_medians_and_flagged():
    def run(calls_s, split, reconnects, balanced):
        return {"calls_s": calls_s, "p50_ms": 1.0, "p99_ms": 2.0, "cpu_us_call": 300.0, "load_cpu_us_call": 50.0,
                "busiest_worker_pct": 50, "connections_by_worker": split, "reconnects": reconnects,
                "balanced": balanced}
    runs = [run(5000.0, [8, 8], 3, True), run(2600.0, [12, 4], 30, False), run(5200.0, [8, 8], 0, True)]
    assert bench_wsgi.row_medians(runs)["calls_s"] == 5100.0
    assert [bench_wsgi.split_cell(x) for x in runs] == ["8/8 (3)", "12/4 (30)!", "8/8"]
    assert bench_wsgi.rounds_cell(runs) == "3 (2 in the medians)"
    assert bench_wsgi.row_medians(runs[1:2])["calls_s"] is None
    unbalanced = [run(2600.0, [16, 0], None, None)]  # --no-balance: the race as it fell, in the medians
    assert bench_wsgi.row_medians(unbalanced)["calls_s"] == 2600.0 and bench_wsgi.split_cell(unbalanced[0]) == "16/0"
