#!/usr/bin/env python3
"""WSGI benchmark: 2026-07-28 ``tools/call`` throughput and tail latency of mcplite under
production WSGI servers and its own ``http.server``, beside the official SDK under uvicorn.

The servers, each a fresh process group on 127.0.0.1 per round (``bench/servers/wsgi_servers.py``):

* ``gunicorn x1`` / ``gunicorn x2``: ``Server.wsgi()`` under gunicorn's ``gthread`` worker
  (8 threads a worker; the ``sync`` worker cannot hold an SSE stream), 1 and 2 workers;
  ``gunicorn x1 inline``: the same with ``add`` declared ``inline=True`` (served on the
  request's thread instead of handed to one of mcplite's workers);
* ``gunicorn floor x1`` / ``x2``, ``waitress floor``: the same servers and flags with a
  trivial WSGI application, no mcplite (``wsgi_servers.floor_wsgi()``: reads the body,
  answers a fixed JSON body of the size of mcplite's, with ``Content-Length``): the server's
  own cost a request, which no WSGI application can go below under that server;
* ``waitress``: ``Server.wsgi()`` under waitress (one process, 8 threads);
* ``http.server``: ``Server.run("http")``, mcplite's own front end (``mcplite serve``);
* ``SDK x1`` / ``SDK x2``: the official SDK (``mcp==2.3.0``) under uvicorn with 1 and 2
  workers, in its stateless JSON-answer mode (``stateless_http=True, json_response=True``),
  the like of 2026-07-28's stateless requests; it is driven at 2026-07-28 too.

Every mcplite server gets one ``state_secret`` (``$MCPLITE_BENCH_STATE_SECRET``, random per
run): with several workers the sealed state one makes must open in another.

The load: ``--load-procs`` processes (default 2), each with ``--threads`` keep-alive
connections (default 8). ``--load raw`` (the default) is lean: ONE thread a process, a
``selectors`` loop over its connections (TCP_NODELAY), each sending pre-encoded requests,
byte for byte what bench_http.py's ``Client`` sends in its ``modern`` mode (ids distinct over
the run), the next when the answer is read (``Content-Length``, chunked, or up to the close;
a JSON body or an SSE stream). ``--load client`` is the load before it: a thread a
connection, each a bench_http ``Client`` (``http.client``: over 100 us of the load's CPU a
call, which on a small machine left a second worker little to use). Either load checks every
answer (status 200 and ``add``'s sum, or a floor row's fixed body; a wrong one fails the
row, so a broken server cannot look fast). Each connection makes a warm-up, then all of all
processes are released together (each process says ``ready``, then this one writes ``go`` to
all) for ``--calls`` sequential calls each, each bounded by ``--call-timeout``. Calls/s is all
the calls over the span from the first start to the last end (``time.monotonic``, one clock
for every process on Linux); p50 and p99 are over every call's latency; the server's CPU time
a call is its process group's (master and workers, ``/proc``) from the release to the end over
the calls: the one figure the machine's other work barely moves; the load's CPU a call is its
processes' own (``time.process_time``) over their timed calls. With several workers the
report gives the busiest worker's share of the workers' CPU and how many of the load's
connections each worker held when released (``/proc``). A keep-alive connection stays with
the worker that accepted it, and the workers race for each accept: 16 long-lived connections
may fall 8/8, 10/6 or 16/0 (a 1-worker run). So, for a row with several workers, after the
warm-up and before ``go`` the bench finds which worker holds each connection (by the load's
local ports, which each load process writes on its ``ready`` line) and, while two workers are
more than 1 apart, answers ``reconnect PORT...`` instead of ``go``: the load process closes
those connections (the fuller workers' beyond an even share), opens new ones, warms each up
with one checked call and says ``ready`` again; up to 30 rounds. A round still uneven then is
flagged in the table and left out of the medians. ``--no-balance`` leaves the split as the
race made it (the raw load only balances; ``--load client`` never does). Each round also
times ``Server.wsgi()`` called in one
process without any HTTP server (``wsgi_servers.py floor``, plain and ``inline=True``):
mcplite's own share of a call's CPU. The load runs in processes of its own so that its GIL is
not the server's, but it shares the machine's CPUs with the servers: on a machine with few
cores what the load costs is not the servers'. The load average and the CPU count are in the
report.

Rounds are interleaved (each round runs every server once, the order rotated), and the table
shows medians over the rounds. Ratios: each 2-worker server over its 1-worker run (target >=
1.7x), and mcplite over the SDK at the same worker count (target >= 3x calls/s); printed as
PASS/MISS, never asserted. From the floor rows: mcplite's share under a server (its row's CPU
a call less the floor row's), and the SDK's CPU a call over 3 x the gunicorn floor's at the
same worker count (below 1, no WSGI application under gunicorn can be 3x the SDK's calls/s
while the CPU bounds the rate).

Usage::

    python bench/bench_wsgi.py            # full run (3 rounds), prints a table
    python bench/bench_wsgi.py --quick    # one short round: a CI smoke run (< 60 s)
    python bench/bench_wsgi.py --json     # the numbers as one JSON object on stdout
    python bench/bench_wsgi.py --load client   # the http.client load instead of the raw one
    python bench/bench_wsgi.py --no-balance    # 2-worker rows as the accept race spread the connections

gunicorn and waitress come from ``--wsgi-python PATH``, else ``$MCPLITE_WSGI_PYTHON``, else
``.cache/wsgi-venv/bin/python`` (scripts/test builds it); ``http.server`` runs under that
interpreter too, for a like-for-like row. The SDK and uvicorn come from ``--sdk-python``, else
``$MCPLITE_SDK_PYTHON``, else ``.cache/sdk-venv/bin/python``. Without one of them its rows
are left out (said in the report). Exit status: 0 when every server that ran answered
correctly, 1 when one failed, 2 on bad usage. Every server is stopped by its process group
(the PID of its leader) before exit; the load processes by their PIDs.
"""
import argparse
import binascii
import json
import os
import select
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    META_CAPS, META_VERSION, MODERN_VERSION, REPO, BenchError, bench_env, check_sum, fmt, log, median,
    percentiles, ratio, reap, register, render_table, resolve_sdk_python, run_main, run_quiet, stop_group, target_met)
from bench_http import ACCEPT, MAX_HEAD_BYTES, parse_sse  # noqa: E402
from bench_http import PATH as MCP_PATH  # noqa: E402

SERVERS_DIR = os.path.join(HERE, "servers")
SERVER_SCRIPT = os.path.join(SERVERS_DIR, "wsgi_servers.py")
HOST = "127.0.0.1"
SECRET_VARIABLE = "MCPLITE_BENCH_STATE_SECRET"  # read by wsgi_servers.py

QUICK = {"rounds": 1, "calls": 60, "warmup": 5, "threads": 4, "load_procs": 2}
FULL = {"rounds": 3, "calls": 400, "warmup": 20, "threads": 8, "load_procs": 2}
KEEPALIVE_S = 30  # every server keeps an idle connection this long: the warm-up's wait
WORKER_THREADS = 8  # gunicorn --threads (waitress has the same, in wsgi_servers.py)
BALANCE_TRIES = 30  # rounds of reconnects before a 2-worker row's split is given up as uneven
START_TIMEOUT = 60.0
TARGET_SCALING = 1.7  # 2 workers over 1
TARGET_VS_SDK = 3.0  # mcplite calls/s over the SDK's at the same worker count

LOADS = ("raw", "client")

# name, family (the server), workers, application (mcplite's add, the same declared
# inline=True, the trivial floor application, the SDK's); the table's order.
SERVERS = [("gunicorn x1", "gunicorn", 1, "mcplite"), ("gunicorn x1 inline", "gunicorn", 1, "inline"),
           ("gunicorn x2", "gunicorn", 2, "mcplite"), ("gunicorn floor x1", "gunicorn", 1, "floor"),
           ("gunicorn floor x2", "gunicorn", 2, "floor"), ("waitress", "waitress", 1, "mcplite"),
           ("waitress floor", "waitress", 1, "floor"), ("http.server", "http", 1, "mcplite"),
           ("SDK x1", "sdk", 1, "sdk"), ("SDK x2", "sdk", 2, "sdk")]
# Each mcplite row and the floor row of its server: the difference of their CPU a call is
# mcplite's share under that server.
FLOOR_OF = [("gunicorn x1", "gunicorn floor x1"), ("gunicorn x1 inline", "gunicorn floor x1"),
            ("gunicorn x2", "gunicorn floor x2"), ("waitress", "waitress floor")]
# The SDK's rows and the gunicorn floor at the same worker count.
SDK_FLOOR = [("SDK x1", "gunicorn floor x1"), ("SDK x2", "gunicorn floor x2")]
GUNICORN_APPS = {"mcplite": "wsgi_servers:mcplite_wsgi()", "inline": "wsgi_servers:mcplite_inline_wsgi()",
                 "floor": "wsgi_servers:floor_wsgi()"}


# --------------------------------------------------------------------------- the load (a process)

def load_worker(port, threads, calls, warmup, first, timeout, fixed):
    """The body of one ``--load client`` process: ``threads`` bench_http clients in 2026-07-28
    mode, warmed up; prints ``ready``, waits for ``go`` on stdin, makes ``calls`` calls a
    thread, prints one JSON line: each thread's (start, end), every latency and the process's
    CPU seconds over the timed calls, or the errors. ``fixed``: a floor row's answer, checked
    as that body exactly (the client's own check wants ``add``'s sum)."""
    import bench_http

    barrier = threading.Barrier(threads + 1)
    go = threading.Event()
    results = [None] * threads
    errors = []

    def client_thread(k):
        client = bench_http.Client(port, "load", "modern", timeout)

        def call(a):
            if fixed is None:
                client.call(a)
                return
            status, _, _, data = client.post(
                {"jsonrpc": "2.0", "id": a, "method": "tools/call",
                 "params": {"name": "add", "arguments": {"a": a, "b": 1},
                            "_meta": {META_VERSION: MODERN_VERSION, META_CAPS: {}}}}, client.headers)
            wrong = check_answer(status, {}, data, a, a + 1, fixed)
            if wrong:
                raise BenchError("call %d %s" % (a, wrong))

        try:
            client.handshake()
            base = first + k * (warmup + calls)
            for i in range(base, base + warmup):
                call(i)
            barrier.wait(timeout)
            if not go.wait(timeout):
                raise BenchError("no go within %.0f s" % timeout)
            latencies = []
            perf = time.perf_counter
            began = time.monotonic()
            for i in range(base + warmup, base + warmup + calls):
                t0 = perf()
                call(i)
                latencies.append(perf() - t0)
            results[k] = (began, time.monotonic(), latencies)
        except threading.BrokenBarrierError:
            pass  # another thread failed first: its error is the one reported
        except BaseException as exc:  # noqa: B902 - any failure is this process's answer
            errors.append("%s: %s" % (type(exc).__name__, exc))
            barrier.abort()
        finally:
            client.close()

    pool = [threading.Thread(target=client_thread, args=(k,), daemon=True) for k in range(threads)]
    for t in pool:
        t.start()
    cpu0 = None
    try:
        barrier.wait(timeout)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip() == "go":
            cpu0 = time.process_time()  # every thread's: the whole process
            go.set()
    except threading.BrokenBarrierError:
        pass
    deadline = time.monotonic() + timeout + calls * timeout
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    cpu_s = None if cpu0 is None else time.process_time() - cpu0
    if not errors and any(r is None for r in results):
        errors.append("client threads did not finish in time")
    done = [r for r in results if r is not None]
    sys.stdout.write(json.dumps({"errors": errors, "spans": [[r[0], r[1]] for r in done],
                                 "latencies": [x for r in done for x in r[2]], "cpu_s": cpu_s,
                                 "connects": None}) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- the lean load (a process)

def encode_call(port, a):
    """The bytes of one 2026-07-28 ``tools/call`` of ``add(a, 1)``, id ``a``: the request line,
    headers and body ``bench_http.Client`` sends in its ``modern`` mode (``http.client``'s
    Host, Accept-Encoding and Content-Length, then the client's own headers, in its order),
    so that both loads ask the servers the same thing."""
    body = json.dumps({"jsonrpc": "2.0", "id": a, "method": "tools/call",
                       "params": {"name": "add", "arguments": {"a": a, "b": 1},
                                  "_meta": {META_VERSION: MODERN_VERSION, META_CAPS: {}}}},
                      separators=(",", ":")).encode("utf-8")
    head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nAccept-Encoding: identity\r\nContent-Length: %d\r\n"
            "Content-Type: application/json\r\nAccept: %s\r\nMCP-Protocol-Version: %s\r\n"
            "Mcp-Method: tools/call\r\nMcp-Name: add\r\n\r\n"
            % (MCP_PATH, HOST, port, len(body), ACCEPT, MODERN_VERSION))
    return head.encode("latin-1") + body


def split_response(buf, eof=False):
    """The first whole HTTP/1.x response in ``buf`` (a bytearray), as (status, headers with
    lower-case names, body bytes, bytes used, whether the connection ends with it), or None
    while it is not whole. The body is framed by ``Transfer-Encoding: chunked``, else
    ``Content-Length``, else by the server closing the connection (``eof``: it has)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD_BYTES:
            raise BenchError("an answer's head is over %d bytes" % MAX_HEAD_BYTES)
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    first = lines[0].split(" ", 2)
    if len(first) < 2 or not first[0].startswith("HTTP/1.") or not first[1].isdigit():
        raise BenchError("not an HTTP/1.x answer: %r" % bytes(buf[:200]))
    status = int(first[1])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise BenchError("a malformed header line in an answer: %r" % line[:200])
        headers[name.strip().lower()] = value.strip()
    start = end + 4
    # HTTP/1.1 keeps the connection unless told otherwise, 1.0 closes it unless told to keep it.
    connection = headers.get("connection", "").lower()
    close = connection == "close" or (first[0] == "HTTP/1.0" and connection != "keep-alive")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        pos = start
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            try:
                size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BenchError("a malformed chunk size in an answer: %r" % bytes(buf[pos:eol + 2])[:100])
            if size == 0:  # the last chunk, then trailers (none, usually) and an empty line
                if buf[eol + 2:eol + 4] == b"\r\n":
                    return status, headers, bytes(body), eol + 4, close
                tail = buf.find(b"\r\n\r\n", eol)
                return None if tail < 0 else (status, headers, bytes(body), tail + 4, close)
            if len(buf) < eol + 2 + size + 2:
                return None
            body += buf[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise BenchError("a malformed Content-Length: %r" % headers["content-length"])
        if len(buf) < start + length:
            return None
        return status, headers, bytes(buf[start:start + length]), start + length, close
    if status in (204, 304):
        return status, headers, b"", start, close
    if not eof:
        return None  # framed by the close
    return status, headers, bytes(buf[start:]), len(buf), True


def check_answer(status, headers, body, rid, expected, fixed):
    """None when the answer to call ``rid`` is right, else what is wrong: status 200 and, for
    an mcplite or SDK server, the JSON-RPC response with id ``rid`` (a JSON body, or an SSE
    stream's) with ``add``'s sum ``expected``; for a floor row (``fixed``), that body exactly."""
    if status != 200:
        return "answered HTTP %d: %r" % (status, body[:300])
    if fixed is not None:
        return None if body == fixed else "answered %r, not the floor's fixed body" % body[:300]
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if kind == "application/json":
            messages = [json.loads(body)]
        elif kind == "text/event-stream":
            messages = parse_sse(body)
        else:
            return "answered Content-Type %r" % headers.get("content-type")
    except ValueError:
        return "answered a body that is not JSON: %r" % body[:300]
    found = [m for m in messages if isinstance(m, dict) and m.get("id") == rid and "method" not in m]
    if not found:
        return "no response with id %r in %r" % (rid, body[:300])
    if "error" in found[0]:
        return "answered an error: %s" % json.dumps(found[0]["error"])[:300]
    wrong = check_sum(found[0].get("result"), expected)
    return None if wrong is None else "add returned %s" % wrong


class RawConnection(object):
    """One keep-alive TCP connection of the lean load and the calls it makes, one at a time."""

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.connects = 0
        self.local_port = None
        self.buf = bytearray()
        self.out = b""
        self.calls = []  # this phase's (request bytes, id, expected sum)
        self.next = 0
        self.t0 = 0.0
        self.deadline = 0.0
        self.ended = 0.0
        self.latencies = []

    def connect(self, sel):
        self.close(sel)
        try:
            sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
        except OSError as exc:
            raise BenchError("connect to %s:%d failed: %s: %s" % (HOST, self.port, type(exc).__name__, exc))
        self.sock = sock
        self.connects += 1
        self.local_port = sock.getsockname()[1]  # what the bench finds in /proc to tell the workers' apart
        # A request is one send; without NODELAY a second small one may wait for an ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, self)

    def close(self, sel):
        if self.sock is not None:
            try:
                sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None
        self.buf = bytearray()

    def send_next(self, sel):
        self.out = self.calls[self.next][0]
        self.t0 = time.perf_counter()
        self.deadline = time.monotonic() + self.timeout
        self.flush(sel)

    def flush(self, sel):
        try:
            sent = self.sock.send(self.out)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise BenchError("sending a call failed: %s: %s" % (type(exc).__name__, exc))
        self.out = self.out[sent:]
        # The rest (a full socket buffer: rare for a few hundred bytes) when it may go.
        sel.modify(self.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out else 0), self)


def raw_phase(sel, conns, timed, fixed):
    """Every connection makes its calls (``conn.calls``), each sent when the previous is
    answered and checked; latencies kept when ``timed``. Raises BenchError on the first
    failure: a wrong answer, a broken connection, a call over its timeout."""
    perf = time.perf_counter
    active = 0
    for conn in conns:
        conn.next = 0
        if conn.calls:
            active += 1
            if conn.sock is None:
                conn.connect(sel)
            conn.send_next(sel)
    while active:
        now = time.monotonic()
        nearest = min(c.deadline for c in conns if c.next < len(c.calls))
        if now >= nearest:
            raise BenchError("a call was not answered within %.0f s" % conns[0].timeout)
        for key, mask in sel.select(nearest - now):
            conn = key.data
            if mask & selectors.EVENT_WRITE and conn.out:
                conn.flush(sel)
            if not mask & selectors.EVENT_READ:
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise BenchError("reading an answer failed: %s: %s" % (type(exc).__name__, exc))
            if conn.next >= len(conn.calls):
                if data:
                    raise BenchError("%d bytes came after the last answer: %r" % (len(data), data[:100]))
                conn.close(sel)  # the server closed an idle connection: reopened for the next phase
                continue
            conn.buf += data
            whole = split_response(conn.buf, eof=not data)
            if whole is None:
                if not data:
                    raise BenchError("the server closed the connection before its answer was whole: %r"
                                     % bytes(conn.buf[:200]))
                continue
            t1 = perf()
            status, headers, body, used, close = whole
            _, rid, expected = conn.calls[conn.next]
            wrong = check_answer(status, headers, body, rid, expected, fixed)
            if wrong:
                raise BenchError("call %d %s" % (rid, wrong))
            if used < len(conn.buf):
                raise BenchError("bytes came after an answer, before the next call: %r" % bytes(conn.buf[used:])[:100])
            del conn.buf[:]
            if timed:
                conn.latencies.append(t1 - conn.t0)
            if close or not data:
                conn.close(sel)  # the server ended the connection: the next call opens another
            conn.next += 1
            if conn.next < len(conn.calls):
                if conn.sock is None:
                    conn.connect(sel)
                conn.send_next(sel)
            else:
                conn.ended = time.monotonic()
                active -= 1


def raw_load_worker(port, conns, calls, warmup, first, timeout, fixed):
    """The body of one lean load process: ONE thread, a ``selectors`` loop over ``conns``
    keep-alive connections, each sending pre-encoded calls one after the other (the same
    requests ``bench_http.Client`` makes, ids distinct across every process), every answer
    checked (``fixed``: a floor row's body). Warm-up, then the messages with the bench (lines):
    this process writes ``ready PORT...`` (its connections' local ports); the bench answers
    ``reconnect PORT...`` (close those connections and open new ones, each warmed up by one
    checked call; then ``ready`` again) or ``go``. Then the timed calls and one JSON line: each
    connection's (start, end), every latency, the process's CPU seconds over the timed calls,
    the connections opened, or the errors."""
    sel = selectors.DefaultSelector()
    pool = [RawConnection(port, timeout) for _ in range(conns)]
    errors = []
    spans, latencies, cpu_s = [], [], None
    # The reconnects' warm-up ids: this process's own range after its calls' (run_load leaves
    # room for conns x BALANCE_TRIES of them), so that ids stay distinct over the run.
    spare = iter(range(first + conns * (warmup + calls), first + conns * (warmup + calls + BALANCE_TRIES)))
    try:
        for k, conn in enumerate(pool):
            base = first + k * (warmup + calls)
            conn.calls = [(encode_call(port, a), a, a + 1) for a in range(base, base + warmup)]
        raw_phase(sel, pool, False, fixed)
        timed = []  # encoded before the release: the timed loop only sends
        for k in range(conns):
            base = first + k * (warmup + calls) + warmup
            timed.append([(encode_call(port, a), a, a + 1) for a in range(base, base + calls)])
        while True:
            sys.stdout.write("ready %s\n" % " ".join(str(c.local_port) for c in pool))
            sys.stdout.flush()
            words = sys.stdin.readline().split()
            if words[:1] == ["go"]:
                break
            if words[:1] != ["reconnect"]:
                raise BenchError("no go")
            ports = set(int(w) for w in words[1:])
            chosen = [c for c in pool if c.local_port in ports]
            if len(chosen) != len(ports):
                raise BenchError("told to reconnect ports it does not hold: %s" % " ".join(words[1:]))
            for conn in chosen:
                conn.close(sel)
                a = next(spare, None)
                if a is None:
                    raise BenchError("told to reconnect over %d connections" % (conns * BALANCE_TRIES))
                conn.calls = [(encode_call(port, a), a, a + 1)]
            raw_phase(sel, chosen, False, fixed)  # each opens its new connection, one checked call
        for conn, calls_k in zip(pool, timed):
            conn.calls = calls_k
        cpu0 = time.process_time()
        began = time.monotonic()
        raw_phase(sel, pool, True, fixed)
        cpu_s = time.process_time() - cpu0
        spans = [[began, c.ended] for c in pool]
        latencies = [x for c in pool for x in c.latencies]
    except BenchError as exc:
        errors.append(str(exc))
    except Exception as exc:  # noqa: B902 - any failure is this process's answer
        errors.append("%s: %s" % (type(exc).__name__, exc))
    finally:
        for conn in pool:
            conn.close(sel)
        sel.close()
    sys.stdout.write(json.dumps({"errors": errors, "spans": spans, "latencies": latencies, "cpu_s": cpu_s,
                                 "connects": sum(c.connects for c in pool)}) + "\n")
    sys.stdout.flush()
    return 0


def ports_to_reconnect(by_worker):
    """Which of the load's connections to reopen, given ``{worker: [their local ports]}``
    (every worker, those holding none too): none when the split is even (no two workers more
    than 1 apart), else the extras of each worker over an even share (the highest ports of
    each: any would do), sorted. A reopened connection goes to whichever worker wins its
    accept, so an uneven split may take several rounds."""
    counts = [len(ports) for ports in by_worker.values()]
    if len(counts) < 2 or max(counts) - min(counts) <= 1:
        return []
    share = -(-sum(counts) // len(counts))  # the even split's larger share
    extras = []
    for ports in by_worker.values():
        over = len(ports) - share
        if over <= 0 and len(ports) == max(counts) and not any(c > share for c in counts):
            over = 1  # (3 workers or more: 6/6/4 of 16 has nobody over 6, yet is uneven)
        extras.extend(sorted(ports)[len(ports) - over:] if over > 0 else [])
    return sorted(extras)


# --------------------------------------------------------------------------- driving the load

def floor_answer():
    """The floor rows' fixed answer (``wsgi_servers.FLOOR_ANSWER``)."""
    if SERVERS_DIR not in sys.path:
        sys.path.insert(0, SERVERS_DIR)
    from wsgi_servers import FLOOR_ANSWER
    return FLOOR_ANSWER


def read_line(proc, deadline):
    """One line of a load process's stdout by ``deadline`` (``""`` if none came)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([proc.stdout], [], [], remaining)[0]:
        return ""
    return proc.stdout.readline().decode("utf-8", "replace")


class Balance(object):
    """How a multi-worker row's load connections are spread over the workers before the
    release. ``owners()``: ``{worker: [the load's local ports it holds]}`` (``connection_owners``),
    None when it cannot tell. ``run_load`` fills in the rest: ``split`` (connections by worker,
    most first, as released), ``reconnects`` (rounds of reopening it took), ``reopened``
    (connections reopened in all) and ``balanced`` (True: no two workers more than 1 apart;
    False: still uneven after ``tries`` rounds; None: not tried, e.g. ``--load client``)."""

    def __init__(self, owners, tries=BALANCE_TRIES):
        self.owners = owners
        self.tries = tries
        self.split = None
        self.reconnects = 0
        self.reopened = 0
        self.balanced = None


def balance_load(procs, ports, balance, deadline):
    """Until the load's connections are evenly split over the workers, or ``balance.tries``
    rounds are spent: tell each load process to reopen the connections the fuller workers
    hold beyond an even share (``reconnect PORT...``), and read its ``ready PORT...`` back.
    ``ports``: each process's ports from its first ``ready``. Why: a keep-alive connection
    stays with the worker that accepted it, and the workers race for each accept, so 16
    long-lived connections may fall 16/0 (a 1-worker run) or 10/6 however many workers run."""
    while True:
        by_worker = balance.owners()
        if not by_worker:
            return  # off Linux: the split is unknown, the row runs as the accept race fell
        balance.split = sorted((len(v) for v in by_worker.values()), reverse=True)
        extras = set(ports_to_reconnect(by_worker))
        if not extras:
            balance.balanced = True
            return
        if balance.reconnects >= balance.tries:
            balance.balanced = False
            return
        balance.reconnects += 1
        balance.reopened += len(extras)
        for p, own in zip(procs, ports):
            p.stdin.write(("reconnect %s\n" % " ".join(str(x) for x in sorted(own & extras))).encode())
            p.stdin.flush()
        for n, p in enumerate(procs):
            words = read_line(p, deadline).split()
            if words[:1] != ["ready"]:
                raise BenchError("a load process did not reconnect: %s" % (" ".join(words)[:500] or "no answer"))
            ports[n] = set(int(w) for w in words[1:])


def run_load(port, args, env, server_cpu=lambda: None, check="sum", at_ready=lambda: None, balance=None):
    """The load processes (``args.load``: raw or client) against ``port``, released together:
    (calls/s, latencies, the server's CPU seconds from the release until every process
    reported: ``server_cpu()``'s difference, None where it gives none, the load processes' own
    CPU seconds over their timed calls, None where one gave none). ``check``: ``sum`` (add's
    answer) or ``fixed`` (a floor row's body). ``balance`` (a ``Balance``; the raw load only):
    the connections are first spread evenly over the workers (``balance_load``).
    ``at_ready()`` is called once every process is warmed up (and balanced), before the
    release."""
    procs = []
    # Each process's ids: its connections' warm-up and timed calls, then its reconnects'.
    ids_a_process = args.threads * (args.warmup + args.calls + BALANCE_TRIES)
    try:
        for n in range(args.load_procs):
            first = 1 + n * ids_a_process
            proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--load-worker", args.load, str(port), str(args.threads),
                 str(args.calls), str(args.warmup), str(first), str(args.call_timeout), check],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, env=env)
            register(proc)
            procs.append(proc)
        deadline = time.monotonic() + args.timeout
        ports = []
        for p in procs:
            answer = read_line(p, deadline)
            words = answer.split()
            if words[:1] != ["ready"]:  # its error report, or nothing (it hung): the others are killed
                raise BenchError("a load process did not get ready: %s" % (answer.strip()[:500] or "no answer"))
            ports.append(set(int(w) for w in words[1:]))  # the raw load's local ports (the client load: none)
        if balance is not None and args.load == "raw":
            balance_load(procs, ports, balance, time.monotonic() + args.timeout)
        at_ready()
        cpu0 = server_cpu()
        for p in procs:
            p.stdin.write(b"go\n")
            p.stdin.flush()
        reports = []
        deadline = time.monotonic() + args.timeout + args.calls * args.call_timeout
        for p in procs:
            line = read_line(p, deadline)
            try:
                reports.append(json.loads(line))
            except ValueError:
                raise BenchError("a load process answered %r" % line[:300])
        cpu1 = server_cpu()
    finally:
        for p in procs:
            try:
                p.stdin.close()
            except OSError:
                pass
            reap(p)
    errors = [e for r in reports for e in r["errors"]]
    if errors:
        raise BenchError("load: " + "; ".join(sorted(set(errors))[:3]))
    spans = [s for r in reports for s in r["spans"]]
    latencies = [x for r in reports for x in r["latencies"]]
    elapsed = max(s[1] for s in spans) - min(s[0] for s in spans)
    cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    load_cpus = [r.get("cpu_s") for r in reports]
    load_cpu = None if any(x is None for x in load_cpus) else sum(load_cpus)
    return len(latencies) / elapsed, latencies, cpu, load_cpu


# --------------------------------------------------------------------------- the servers

class ServerGroup(object):
    """A server in a process group of its own (gunicorn's and uvicorn's workers with their
    master), started and waited for until it accepts; ``stop()`` ends the group by its
    leader's PID."""

    def __init__(self, name, argv, env, port, cwd):
        self.name = name
        self.port = port
        self.stopped = False
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, cwd=cwd,
                                     env=env, start_new_session=True)
        register(self.proc)
        try:
            self._wait_listening()
        except BaseException:
            self.stop()  # (an interrupt too: the group goes with the run)
            raise

    def _wait_listening(self):
        import socket
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise self.failure("exited (status %s) before it listened" % self.proc.returncode)
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise self.failure("did not listen on %d within %.0f s" % (self.port, START_TIMEOUT))
                time.sleep(0.05)

    def tail(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-1500:].strip()

    def failure(self, what):
        tail = self.tail()
        return BenchError("%s: %s%s" % (self.name, what, ("\n    " + tail.replace("\n", "\n    ")) if tail else ""))

    def stop(self):
        if self.stopped:
            return  # (its PID may be another process's by now)
        self.stopped = True
        stop_group(self.proc)
        reap(self.proc)
        try:
            self.log.close()
        except OSError:
            pass


def server_argv(family, workers, app, port, wsgi_py, sdk_py):
    if family == "gunicorn":
        return [wsgi_py, "-m", "gunicorn", "-b", "%s:%d" % (HOST, port), "--no-control-socket", "-k", "gthread",
                "--threads", str(WORKER_THREADS), "--workers", str(workers), "--keep-alive", str(KEEPALIVE_S),
                "--graceful-timeout", "1", "--log-level", "warning", GUNICORN_APPS[app]]
    if family == "waitress":
        return [wsgi_py, SERVER_SCRIPT, "waitress-floor" if app == "floor" else "waitress", str(port)]
    if family == "http":
        return [wsgi_py, SERVER_SCRIPT, "http", str(port)]
    return [sdk_py, "-m", "uvicorn", "--factory", "wsgi_servers:sdk_asgi", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--timeout-keep-alive", str(KEEPALIVE_S), "--log-level", "warning",
            "--no-access-log"]


def app_floor(wsgi_py, env, args, inline=False):
    """mcplite's own CPU time a call, without any HTTP server: ``Server.wsgi()`` called in
    one process with a request's environ (``wsgi_servers.py floor``; ``inline``: add declared
    ``inline=True``), 4 x ``--calls`` calls, each answer checked. (microseconds, None) or
    (None, why not)."""
    rc, err, out = run_quiet([wsgi_py, SERVER_SCRIPT, "floor", str(4 * args.calls)] + (["inline"] if inline else []),
                             env, args.timeout)
    try:
        return (float(out.strip().splitlines()[-1]), None) if rc == 0 else (None, err.strip()[-500:])
    except (ValueError, IndexError):
        return None, "wsgi_servers.py floor printed %r" % out[:200]


def group_cpu_by_pid(pgid):
    """{PID: user + system CPU seconds} of the live processes of process group ``pgid`` (a
    server's master and workers), from ``/proc``; None off Linux or when none is found."""
    tick = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
    found = {}
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return None
    for name in names:
        try:
            with open("/proc/%s/stat" % name) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                found[int(name)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found or None


def connection_owners(pgid, port):
    """``{worker PID: [the client-side ports of its established connections to port]}`` for
    each worker of group ``pgid`` (a process holding the listening socket, its leader left out:
    gunicorn's master, uvicorn's supervisor; a worker holding none is there with ``[]``), from
    ``/proc/net/tcp`` and each process's fds; None off Linux or when no worker is found. The
    client-side port is the load's ``RawConnection.local_port``."""
    peers, listening = {}, set()
    try:
        with open("/proc/net/tcp") as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                # local and remote addresses HOST:PORT in hex, the state (01 ESTABLISHED,
                # 0A LISTEN), the inode; the server's side of a connection has port as its own
                if len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    if fields[3] == "01":
                        peers["socket:[%s]" % fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
                    elif fields[3] == "0A":
                        listening.add("socket:[%s]" % fields[9])
    except (OSError, ValueError):
        return None
    owners = {}
    for pid in group_cpu_by_pid(pgid) or {}:
        if pid == pgid:
            continue
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        held, worker = [], False
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue  # closed meanwhile
            if target in peers:
                held.append(peers[target])
            worker = worker or target in listening
        if worker:
            owners[pid] = sorted(held)
    return owners or None


def connections_by_worker(pgid, port):
    """How many established TCP connections to ``port`` each worker of group ``pgid`` holds,
    most first (``connection_owners``); None off Linux. With several workers, how the load's
    keep-alive connections are spread over them."""
    owners = connection_owners(pgid, port)
    return None if owners is None else sorted((len(v) for v in owners.values()), reverse=True)


def busiest_worker_share(before, after, leader):
    """The busiest worker's share (%) of the workers' CPU between two ``group_cpu_by_pid``
    snapshots (the leader, gunicorn's master or uvicorn's supervisor, left out); None with
    fewer than two workers. Keep-alive connections stay with the worker that accepted them:
    with 2 workers, 50 is an even split."""
    if not before or not after:
        return None
    used = [after[pid] - before.get(pid, 0.0) for pid in after if pid != leader]
    if len(used) < 2 or sum(used) <= 0:
        return None
    return round(100.0 * max(used) / sum(used))


def usable(python, imports, env, timeout):
    """None when ``python`` runs ``imports``, else why not."""
    if not python or not os.path.exists(python):
        return "no interpreter at %s" % python
    rc, err, _ = run_quiet([python, "-c", imports], env, timeout)
    return None if rc == 0 else (err.strip().splitlines() or ["exit status %s" % rc])[-1]


# --------------------------------------------------------------------------- the run

def parse_args(argv):
    if argv[:1] == ["--load-worker"]:
        return argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one short round: a CI smoke run (< 60 s)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--wsgi-python", metavar="PATH", default=None,
                    help="a python with gunicorn and waitress (default: $MCPLITE_WSGI_PYTHON, else"
                         " .cache/wsgi-venv/bin/python)")
    ap.add_argument("--sdk-python", metavar="PATH", default=None,
                    help="a python with mcp==2.3.0 and uvicorn (default: $MCPLITE_SDK_PYTHON, else"
                         " .cache/sdk-venv/bin/python)")
    ap.add_argument("--load", choices=LOADS, default="raw",
                    help="raw (default): one selectors thread a load process over --threads keep-alive"
                         " connections, pre-encoded requests; client: --threads bench_http clients"
                         " (http.client) a process, the load before the raw one")
    ap.add_argument("--no-balance", action="store_true",
                    help="leave a 2-worker row's connections as the workers' accept race spread them (by"
                         " default the raw load reopens those of the fuller worker until the split is even)")
    ap.add_argument("--only", metavar="NAMES", default=None,
                    help="comma-separated rows to run (%s)" % ", ".join(s[0] for s in SERVERS))
    for name in FULL:
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=None, metavar="N",
                        help="(default %d, --quick %d)" % (FULL[name], QUICK[name]))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a phase may take (default 60)")
    ap.add_argument("--call-timeout", type=float, default=10.0, help="seconds a call may take (default 10)")
    args = ap.parse_args(argv)
    base = QUICK if args.quick else FULL
    for name, default in base.items():
        value = getattr(args, name)
        if value is None:
            setattr(args, name, default)
        elif not 1 <= value <= 100000:
            ap.error("--%s must be between 1 and 100000" % name.replace("_", "-"))
    names = [s[0] for s in SERVERS]
    args.rows = names if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    if not args.rows or any(n not in names for n in args.rows):
        ap.error("--only takes %s; got %r" % (", ".join(names), args.only))
    return args


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def run(args):
    if isinstance(args, list):  # --load-worker raw|client PORT THREADS CALLS WARMUP FIRST CALL_TIMEOUT sum|fixed
        port, threads, calls, warmup, first = (int(x) for x in args[2:7])
        fixed = floor_answer() if args[8] == "fixed" else None
        worker = raw_load_worker if args[1] == "raw" else load_worker
        return worker(port, threads, calls, warmup, first, float(args[7]), fixed)
    env = bench_env()
    env[SECRET_VARIABLE] = binascii.hexlify(os.urandom(32)).decode()
    env["PYTHONPATH"] = os.pathsep.join([REPO, SERVERS_DIR])
    wsgi_py = args.wsgi_python or os.environ.get("MCPLITE_WSGI_PYTHON") or os.path.join(
        REPO, ".cache", "wsgi-venv", "bin", "python")
    sdk_py, sdk_source = resolve_sdk_python(args.sdk_python)
    missing = {}
    needs = {"gunicorn": (wsgi_py, "import gunicorn, mcplite"), "waitress": (wsgi_py, "import waitress, mcplite"),
             "http": (wsgi_py, "import mcplite"), "sdk": (sdk_py, "import uvicorn, mcp.server.mcpserver"),
             "gunicorn floor": (wsgi_py, "import gunicorn"), "waitress floor": (wsgi_py, "import waitress")}
    why_not = {}  # type: dict
    for name, family, _, app in SERVERS:
        need = family + " floor" if app == "floor" else family
        if name in args.rows:
            if need not in why_not:
                why_not[need] = usable(needs[need][0], needs[need][1], env, args.timeout)
            if why_not[need]:
                missing[name] = why_not[need]
    rows = [s for s in SERVERS if s[0] in args.rows and s[0] not in missing]
    for name, why in sorted(missing.items()):
        log("%s: left out: %s" % (name, why))

    rep = {"schema": 1, "mode": "quick" if args.quick else "full", "cpus": os.cpu_count(),
           "balance": "off: --no-balance" if args.no_balance else "off: --load client" if args.load == "client"
           else "on, up to %d reconnect rounds" % BALANCE_TRIES,
           "load_average": {"start": load_average(), "rounds": []},
           "config": dict({k: getattr(args, k) for k in FULL}, load=args.load, no_balance=args.no_balance),
           "pythons": {"wsgi": wsgi_py, "sdk": "%s (%s)" % (sdk_py, sdk_source), "load": sys.executable},
           "left_out": missing, "rounds": {name: [] for name, _, _, _ in rows}, "floor_us_call": [],
           "floor_inline_us_call": [], "errors": []}
    import bench_http
    for r in range(args.rounds):
        order = rows[r % len(rows):] + rows[:r % len(rows)] if rows else []
        for name, family, workers, app in order:
            server = None
            try:
                port = bench_http.free_port()
                server = ServerGroup(name, server_argv(family, workers, app, port, wsgi_py, sdk_py), env, port,
                                     SERVERS_DIR)
                snapshots = []
                split = []

                def server_cpu():
                    by_pid = group_cpu_by_pid(server.proc.pid)
                    snapshots.append(by_pid)
                    return None if by_pid is None else sum(by_pid.values())

                balance = None
                if workers > 1 and not args.no_balance and args.load == "raw":
                    balance = Balance(lambda: connection_owners(server.proc.pid, port))
                rate, latencies, cpu, load_cpu = run_load(
                    port, args, env, server_cpu, "fixed" if app == "floor" else "sum",
                    lambda: split.append(connections_by_worker(server.proc.pid, port)) if workers > 1 else None,
                    balance)
                split = split[0] if split else None  # as released (after the balancing, if any)
                busiest = busiest_worker_share(snapshots[0], snapshots[-1], server.proc.pid) if workers > 1 else None
                p = percentiles(latencies)
                cpu_us = None if cpu is None else round(cpu * 1e6 / len(latencies), 1)
                load_us = None if load_cpu is None else round(load_cpu * 1e6 / len(latencies), 1)
                rep["rounds"][name].append({"calls_s": round(rate, 1), "p50_ms": p["p50"] / 1000.0,
                                            "p99_ms": p["p99"] / 1000.0, "cpu_us_call": cpu_us,
                                            "load_cpu_us_call": load_us, "busiest_worker_pct": busiest,
                                            "connections_by_worker": split, "calls": len(latencies),
                                            "balanced": None if balance is None else balance.balanced,
                                            "reconnects": None if balance is None else balance.reconnects,
                                            "reopened": None if balance is None else balance.reopened})
                log("round %d %-18s %8.1f calls/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %s us/call  load CPU %s"
                    " us/call%s" % (r + 1, name, rate, p["p50"] / 1000.0, p["p99"] / 1000.0, fmt(cpu_us), fmt(load_us),
                                    "" if busiest is None else "  busiest worker %d%% of the workers' CPU" % busiest)
                    + ("" if not split else ", connections by worker %s" % "/".join(str(n) for n in split))
                    + ("" if balance is None else " after %d reconnect round(s) (%d connections reopened)%s"
                       % (balance.reconnects, balance.reopened,
                          ": NOT BALANCED, left out of the medians" if balance.balanced is False else "")))
            except BenchError as exc:
                rep["errors"].append("round %d %s: %s" % (r + 1, name, exc))
                log("round %d %s: FAILED: %s" % (r + 1, name, exc))
            finally:
                if server is not None:
                    server.stop()
        if any(app in ("mcplite", "inline") for _, _, _, app in rows):
            for inline, key, what in ((False, "floor_us_call", ""), (True, "floor_inline_us_call", " (inline=True)")):
                floor_us, why = app_floor(wsgi_py, env, args, inline)
                if why:
                    rep["errors"].append("round %d in-process floor%s: %s" % (r + 1, what, why))
                else:
                    rep[key].append(floor_us)
                    log("round %d Server.wsgi()%s in process, no HTTP server: %.1f us CPU a call"
                        % (r + 1, what, floor_us))
        rep["load_average"]["rounds"].append(load_average())

    med = {name: row_medians(runs) for name, runs in rep["rounds"].items() if runs}
    rep["medians"] = med
    rep["floor_median_us_call"] = median(rep["floor_us_call"])
    rep["floor_inline_median_us_call"] = median(rep["floor_inline_us_call"])

    def rate(name):
        return med.get(name, {}).get("calls_s")

    def p99(name):
        return med.get(name, {}).get("p99_ms")

    def cpu(name):
        return med.get(name, {}).get("cpu_us_call")

    rep["ratios"] = [
        ("gunicorn x2 / gunicorn x1 calls/s", ratio(rate("gunicorn x2"), rate("gunicorn x1")), ">=", TARGET_SCALING),
        # The server's own scaling under this load, with an application that costs nothing.
        ("gunicorn floor x2 / gunicorn floor x1 calls/s", ratio(rate("gunicorn floor x2"), rate("gunicorn floor x1")),
         None, None),
        ("SDK x2 / SDK x1 calls/s", ratio(rate("SDK x2"), rate("SDK x1")), None, None),
        ("gunicorn x1 / SDK x1 calls/s", ratio(rate("gunicorn x1"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        ("gunicorn x1 inline / SDK x1 calls/s", ratio(rate("gunicorn x1 inline"), rate("SDK x1")), ">=",
         TARGET_VS_SDK),
        ("gunicorn x2 / SDK x2 calls/s", ratio(rate("gunicorn x2"), rate("SDK x2")), ">=", TARGET_VS_SDK),
        ("waitress / SDK x1 calls/s", ratio(rate("waitress"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        ("http.server / SDK x1 calls/s", ratio(rate("http.server"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        # What an application costing nothing gets under gunicorn: the most any can.
        ("gunicorn floor x1 / SDK x1 calls/s", ratio(rate("gunicorn floor x1"), rate("SDK x1")), None, None),
        ("gunicorn floor x2 / SDK x2 calls/s", ratio(rate("gunicorn floor x2"), rate("SDK x2")), None, None),
        ("gunicorn x1 p99 / SDK x1 p99", ratio(p99("gunicorn x1"), p99("SDK x1")), None, None),
        ("gunicorn x1 inline p99 / SDK x1 p99", ratio(p99("gunicorn x1 inline"), p99("SDK x1")), None, None),
        ("gunicorn x2 p99 / SDK x2 p99", ratio(p99("gunicorn x2"), p99("SDK x2")), None, None),
        ("waitress p99 / SDK x1 p99", ratio(p99("waitress"), p99("SDK x1")), None, None),
        ("http.server p99 / SDK x1 p99", ratio(p99("http.server"), p99("SDK x1")), None, None),
        # Server CPU a call: the SDK's over mcplite's (what each call costs, whatever else
        # the machine was doing; a ratio above 1 is mcplite's lead).
        ("SDK x1 CPU/call / gunicorn x1's", ratio(cpu("SDK x1"), cpu("gunicorn x1")), None, None),
        ("SDK x1 CPU/call / gunicorn x1 inline's", ratio(cpu("SDK x1"), cpu("gunicorn x1 inline")), None, None),
        ("SDK x2 CPU/call / gunicorn x2's", ratio(cpu("SDK x2"), cpu("gunicorn x2")), None, None),
        ("SDK x1 CPU/call / waitress's", ratio(cpu("SDK x1"), cpu("waitress")), None, None),
        ("SDK x1 CPU/call / http.server's", ratio(cpu("SDK x1"), cpu("http.server")), None, None),
    ]
    rep["ratios"] = [{"name": n, "value": None if v is None else round(v, 2), "op": op, "bound": bound,
                      "met": None if op is None else target_met(v, op, bound)} for n, v, op, bound in rep["ratios"]]
    # mcplite's share of a call's CPU under a server: its row less the floor row of that server.
    rep["shares"] = [{"row": row, "floor": fl, "row_us": cpu(row), "floor_us": cpu(fl),
                      "share_us": None if cpu(row) is None or cpu(fl) is None else round(cpu(row) - cpu(fl), 1)}
                     for row, fl in FLOOR_OF if row in med or fl in med]
    # Whether 3x the SDK's calls/s is within reach of any WSGI application under gunicorn when
    # the CPU bounds the rate: the SDK's CPU a call over 3 x the floor's (below 1: the server
    # alone costs more than a third of the SDK's call).
    rep["reach"] = [{"sdk": sdk, "floor": fl, "value": None if ratio(cpu(sdk), cpu(fl)) is None
                     else round(ratio(cpu(sdk), cpu(fl)) / TARGET_VS_SDK, 2)}
                    for sdk, fl in SDK_FLOOR if sdk in med and fl in med]
    rep["load_average"]["end"] = load_average()
    rep["ok"] = not rep["errors"]
    if args.json:
        sys.stdout.write(json.dumps(rep, indent=2) + "\n")
    else:
        print_report(rep, args)
    sys.stdout.flush()
    return 0 if rep["ok"] else 1


def print_report(rep, args):
    p = print
    c = rep["config"]
    load = ("raw: %d load processes, each ONE thread with a selectors loop over %d keep-alive connections"
            " (pre-encoded requests)" % (c["load_procs"], c["threads"]) if c["load"] == "raw" else
            "client: %d load processes x %d bench_http client threads (http.client, keep-alive)"
            % (c["load_procs"], c["threads"]))
    p("WSGI benchmark (%s): 2026-07-28 tools/call, %d calls a connection after %d warm-up, %d round(s), medians"
      % (rep["mode"], c["calls"], c["warmup"], c["rounds"]))
    p("  load: --load %s" % load)
    p("  2-worker rows' connections spread evenly over the workers before the release: %s" % rep["balance"])
    p("  machine: %s CPUs; load average at start %s, after each round %s, at the end %s"
      % (rep["cpus"], rep["load_average"]["start"], rep["load_average"]["rounds"], rep["load_average"]["end"]))
    p("  servers' python: %s; SDK: %s; load: %s" % (rep["pythons"]["wsgi"], rep["pythons"]["sdk"],
                                                   rep["pythons"]["load"]))
    p("")
    rows = []
    for name, _, workers, _ in SERVERS:
        m = rep["medians"].get(name)
        if m is None:
            continue
        rows.append([name, workers, fmt(m["calls_s"]), fmt(m["p50_ms"], "%.2f"), fmt(m["p99_ms"], "%.2f"),
                     fmt(m["cpu_us_call"], "%.0f"), fmt(m["load_cpu_us_call"], "%.0f"),
                     fmt(m["busiest_worker_pct"], "%.0f%%"),
                     " ".join(split_cell(x) for x in rep["rounds"][name] if x.get("connections_by_worker")) or "-",
                     rounds_cell(rep["rounds"][name])])
    p(render_table(["server", "workers", "calls/s", "p50 ms", "p99 ms", "server CPU us/call", "load CPU us/call",
                    "busiest worker", "conns by worker", "rounds"], rows))
    p("  (busiest worker: its share of the workers' CPU, 50%% an even split; conns by worker: each round's load"
      " connections held by each worker when released, (n): the rounds of reconnects it took. A keep-alive"
      " connection stays with the worker that accepted it and the workers race for each accept: with 16"
      " long-lived connections the race may leave one worker idle, so %s)" % (
          "the connections the fuller worker holds beyond an even share are reopened until no two workers are"
          " more than 1 apart; a round still uneven after %d rounds is marked ! and left out of the medians"
          % BALANCE_TRIES if rep["balance"].startswith("on") else
          "the split is left as it fell (%s): a 2-worker row's figures mix the race's luck in" % rep["balance"]))
    p("  (floor rows: a trivial WSGI application, no mcplite, that reads the body and answers a fixed JSON body"
      " of the same size: the server's own cost, which no WSGI application goes below)")
    if rep["floor_median_us_call"] is not None:
        p("  Server.wsgi() called in process, no HTTP server: %.0f us CPU a call, %s with add inline=True"
          " (mcplite's protocol work; the rest of a WSGI row's figure is the WSGI server's)"
          % (rep["floor_median_us_call"], fmt(rep["floor_inline_median_us_call"], "%.0f")))
    shares = [s for s in rep["shares"] if s["share_us"] is not None]
    if shares or rep["reach"]:
        p("")
        p("Server floors (server CPU us a call)")
        width = max([len(s["row"]) for s in shares] + [0])
        for s in shares:
            p("  mcplite's share under %s  %4.0f - %s %4.0f = %4.0f us" % (
                s["row"].ljust(width), s["row_us"], s["floor"], s["floor_us"], s["share_us"]))
        for x in rep["reach"]:
            if x["value"] is not None:
                p("  %s CPU/call / (3 x %s's)  %5.2fx  (%s)" % (
                    x["sdk"], x["floor"], x["value"],
                    "3x the SDK's calls/s is within reach of a cheap enough WSGI application" if x["value"] >= 1 else
                    "below 1: when the CPU bounds the rate, no WSGI application under gunicorn reaches 3x the SDK"))
    p("")
    p("Ratios")
    width = max(len(r["name"]) for r in rep["ratios"])
    for r in rep["ratios"]:
        if r["value"] is None:
            continue
        verdict = "" if r["met"] is None else "  %s (target %s %.1fx)" % ("PASS" if r["met"] else "MISS", r["op"],
                                                                         r["bound"])
        p("  %s  %5.2fx%s" % (r["name"].ljust(width), r["value"], verdict))
    for name, why in sorted(rep["left_out"].items()):
        p("  (%s left out: %s)" % (name, why))
    if rep["errors"]:
        p("")
        p("ERRORS (exit status 1)")
        for e in rep["errors"]:
            p("  " + e.replace("\n", "\n  "))


def row_medians(runs):
    """A row's medians over its rounds. A round whose connections could not be spread evenly
    over the workers measured the accept race, not the workers: left out (the table flags it);
    with none left, every median is None."""
    runs = [x for x in runs if x.get("balanced") is not False]
    return {k: median([x[k] for x in runs if x[k] is not None])
            for k in ("calls_s", "p50_ms", "p99_ms", "cpu_us_call", "load_cpu_us_call", "busiest_worker_pct")}


def split_cell(run):
    """A round's connections by worker in the table: ``8/8``, ``8/8 (3)`` after 3 rounds of
    reconnects, ``12/4 (30)!`` when it could not be balanced."""
    cell = "/".join(str(n) for n in run["connections_by_worker"])
    if run.get("reconnects"):
        cell += " (%d)" % run["reconnects"]
    return cell + ("!" if run.get("balanced") is False else "")


def rounds_cell(runs):
    """The rounds of a row, and how many of them are in its medians when some were not."""
    used = len([x for x in runs if x.get("balanced") is not False])
    return str(len(runs)) if used == len(runs) else "%d (%d in the medians)" % (len(runs), used)


def main(argv=None):
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
