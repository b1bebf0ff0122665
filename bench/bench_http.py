#!/usr/bin/env python3
"""Streamable HTTP benchmark: mcplite side by side with the official Python SDK and a raw stdlib floor.

One run measures, for each server and each answer form, over keep-alive HTTP/1.1 on
127.0.0.1:

1. sequential ``tools/call`` round trips on one keep-alive connection (one session):
   calls/s and latency percentiles;
2. concurrent round trips: ``--threads`` client threads (default 8), each with its own
   connection and its own session, all started together: total calls/s and latency
   percentiles over every call;
3. start-up (``Popen`` until the first ``initialize`` response), the server's CPU time per
   sequential call (``/proc/<pid>/stat``, all its threads) and its RSS after the calls;
4. connection levels (mcplite and the SDK, ``--level-mode``, json by default): for each of
   ``--concurrency`` (default 8, 64 and 256 clients; ``--quick``: 64) and each
   ``--conn-style``, that many client threads at once, each its own session (2025-11-25) from
   its own loopback address (127.1.0.2, ...: on Linux all of 127/8 is loopback, so a server's
   per-address bounds see distinct clients), doing ``tools/call``: calls/s, p50, p99, max,
   calls refused or dropped (counted, not timed; the run goes on), connects that took a
   second (a dropped SYN, resent) and the kernel's listen-queue overflows during the level
   (``TcpExtListenOverflows``/``ListenDrops`` from ``nstat``, else ``/proc/net/netstat``:
   the whole machine's counters). Styles: ``keepalive``, one connection per client for all
   its requests, as the official SDKs' clients do (httpx / fetch connection pools); ``new``,
   a new connection per request, closed by the client once answered, as short-lived
   clients (a script's one-off ``urllib``/``requests`` call, ``curl``) do: there every call
   goes through the listen queue, so a small backlog shows. The levels run on the json
   round's server after the other phases, the styles' order alternating by round. The
   p99 of mcplite at 64 and more clients against the SDK's is a target (<= 1.00x).
5. GET streams back to back (``--streams N``, default 200; ``--quick``: 50; 0: off): N
   standalone SSE streams (``GET /mcp``) opened one after the other, each on a new
   connection (from its own 127.1.x.y address where the levels use those) with a session of
   its own made beforehand, untimed (a session has one standalone stream: a second reader
   is refused), each waiting for its response head (200, ``text/event-stream``) before the
   next connects, all held open until the last is open, then closed: seconds for all N,
   p50/p99 per stream. The raw floor answers its GET with an event-stream head and holds
   the connection (no sessions). This is where a small listen backlog shows without any
   load (issue 23: 30-33 s for 200 with ``http.server``'s 5). Run on the json round's
   server (else sse's), after the levels.

Answer forms ("modes"):

* ``json``: the plain ``add`` tool, answered with ``application/json``. mcplite does this by
  default; the SDK runs with ``json_response=True`` (its default answers everything as SSE).
* ``sse``: the ``add_progress`` tool, which reports progress ``(1, 2)`` before its result;
  the request carries ``_meta.progressToken``, so the answer is a ``text/event-stream``
  (chunked) holding the notification, then the response. The SDK runs with its default.
* ``modern`` (mcplite only): 2026-07-28 stateless requests, no handshake: ``add`` with the
  ``io.modelcontextprotocol/*`` ``_meta`` keys and the ``MCP-Protocol-Version``,
  ``Mcp-Method`` and ``Mcp-Name`` headers.

Every answer is checked (status, Content-Type, the progress notification in SSE mode, and
``add`` returning the right sum), so a broken server cannot look fast.

The servers live in ``bench/servers/http_servers.py`` (mcplite's ``Server.run("http")``, the
SDK's ``MCPServer`` on ``streamable-http``, and the raw floor: ``ThreadingHTTPServer`` with
TCP_NODELAY and one write per response, ``json.loads`` of the body and a fixed-shape answer).
The client is the same stdlib code for all of them: ``http.client.HTTPConnection``, one per
thread, the legacy handshake (``initialize`` at 2025-11-25, ``Mcp-Session-Id``,
``notifications/initialized``), then calls carrying ``Mcp-Session-Id`` and
``MCP-Protocol-Version``. The raw floor ignores sessions. The client runs in this process
(one GIL for all its threads) and shares the machine's CPUs with the server: on a machine
with few cores its own cost is part of every number, alike for all servers.

Usage::

    python bench/bench_http.py            # full run, prints a table
    python bench/bench_http.py --quick    # a few rounds: a CI smoke run
    python bench/bench_http.py --json     # the numbers as one JSON object on stdout
    python bench/bench_http.py --baseline ../mcplite-before   # before and after in one run
    python bench/bench_http.py --concurrency 64,256 --conn-style new   # the listen queue's test

The SDK interpreter is ``--sdk-python PATH``, else ``$MCPLITE_SDK_PYTHON``, else
``.cache/sdk-venv/bin/python`` in the repository, else ``~/.cache/mcp-peers/venv/bin/python``.
Without a usable SDK the mcplite and raw columns still run. mcplite and the raw floor run
under the current interpreter; when the SDK's interpreter is another Python version or
installation they also run under it, for a like-for-like comparison with the SDK.

Each round starts a fresh server process per server and mode (rounds interleaved across the
servers, so a slow patch of the machine hits every server alike); the tables show medians
over the rounds. Targets are printed as PASS/MISS lines, never asserted. The load average
at the start and after each round is in the report (``load_average``): on a shared machine
the tail latencies move with it.

``--baseline DIR`` (DIR: another checkout, holding the ``mcplite/`` package) gives every
mcplite column a twin, "mcplite@baseline", whose server differs only in ``PYTHONPATH``
naming DIR; the twins take part in the same interleaved rounds and the report adds a
"Before/after" section: each figure of mcplite over its twin's.

Exit status: 0 when every server started and answered correctly (missed performance
targets are reported, never fatal), 1 when a server failed to start or answered wrongly,
2 on bad usage. Every server process is killed by its PID before exit.
"""
import argparse
import collections
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    BASELINE, CLIENT_INFO, LEGACY_VERSION, META_CAPS, META_VERSION, MODERN_VERSION, BenchError,
    ChildServer, add_baseline_option, add_common_options, apply_counts, baseline_env,
    bench_env, before_after, check_baseline, check_mcplite_from, check_sum,
    discover_interpreters, finish_report, fmt, log, median, new_baseline_report, new_report,
    parse_kinds, percentiles, print_before_after, print_errors, print_interpreters,
    print_ratios, proc_cpu_s, ratio, reap, render_table, run_main, run_quiet, short_python,
    summary, target_met)

SERVER_SCRIPT = os.path.join(HERE, "servers", "http_servers.py")

HOST = "127.0.0.1"
PATH = "/mcp"
ACCEPT = "application/json, text/event-stream"

TARGET_VS_SDK = 3.0  # mcplite calls/s over the SDK's, sequential and concurrent
TARGET_CONC_VS_SEQ = 1.0  # mcplite's concurrent calls/s over its sequential
STALL_MS = 30.0  # a round trip this slow on loopback is a stall (Nagle + delayed ACK: ~40 ms)

MODES = ("json", "sse", "modern")
KIND_MODES = {"mcplite": ("json", "sse", "modern"), "sdk": ("json", "sse"), "raw": ("json", "sse")}

QUICK = {"rounds": 2, "calls": 150, "warmup": 30, "threads": 8, "thread_calls": 25, "level_calls": 320}
FULL = {"rounds": 5, "calls": 1500, "warmup": 200, "threads": 8, "thread_calls": 200, "level_calls": 5120}

# The connection levels: how many clients at once, and how each one connects.
LEVELS = {"quick": "64", "full": "8,64,256"}
STYLES = {"quick": "keepalive", "full": "keepalive,new"}
STYLE_NAMES = ("keepalive", "new")
LEVEL_MIN_CALLS = 5  # timed calls per client thread at least, whatever --level-calls says
MAX_LEVEL = 1024
SYN_RETRY_S = 0.9  # a connect this slow waited for the kernel to resend a dropped SYN (after 1 s)
HANDSHAKE_TRIES = 5
LEVEL_KINDS = ("mcplite", "sdk")  # the raw floor (http.server's backlog of 5, no sessions) sits them out
TARGET_P99_VS_SDK = 1.0  # mcplite's p99 over the SDK's at 64 and more connections
STREAMS = {"quick": 50, "full": 200}  # GET streams opened back to back
# mcplite's front end serves max_connections (256) at once; a few are left for the bench's own
# requests. Past that the 257th waits for a slot, which would time the bound, not the opening.
MAX_STREAMS = 250
MAX_HEAD_BYTES = 65536

MAX_START_ATTEMPTS = 3  # fresh ports tried when a server cannot bind the one it was given


# --------------------------------------------------------------------------- children

def free_port():
    """A port that was free on 127.0.0.1 a moment ago (the server may lose a race for it:
    ``ServerProc`` then retries with another)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class ServerProc(ChildServer):
    """One HTTP server process on a port of 127.0.0.1, started and waited for."""

    def __init__(self, make_argv, env, label, timeout):
        ChildServer.__init__(self, label)
        for attempt in range(MAX_START_ATTEMPTS):
            self.port = free_port()
            self.stderr.seek(0)
            self.stderr.truncate()
            self.t_spawn = time.perf_counter()
            self.spawn(make_argv(self.port), env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            if self._wait_listening(self.t_spawn + timeout):
                return
            lost_race = "in use" in self.stderr_tail()
            if not lost_race or attempt == MAX_START_ATTEMPTS - 1:
                err = self.fail("did not start listening on %s:%d" % (HOST, self.port))
                self.kill()
                raise err
            reap(self.proc)

    def _wait_listening(self, deadline):
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.01)
        return False

    def cpu_s(self):
        return proc_cpu_s(self.pid)


# --------------------------------------------------------------------------- the client

def parse_sse(body):
    """The JSON messages of an SSE body: each event's ``data:`` lines joined; events
    without data (the priming event, comments) skipped."""
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    messages = []
    for block in text.split(b"\n\n"):
        data = []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
        if data:
            payload = b"\n".join(data)
            if payload.strip():
                messages.append(json.loads(payload))
    return messages


def failed(msg, kind):
    """A ``BenchError`` for a call the server did not answer with success: an HTTP status
    other than the expected one, or a transport failure (refused, reset, timed out). The
    connection levels count these by ``kind``; anything else wrong ends the row."""
    exc = BenchError(msg)
    exc.kind = kind
    return exc


class Client(object):
    """One keep-alive connection (and, for the legacy modes, one session) to a server.

    ``http.client`` sends a request's head and a bytes body with one ``send``; the socket
    gets TCP_NODELAY all the same. A connection the server closes is reopened by
    ``http.client`` on the next request: ``connects`` counts how often that happened, so a
    server that breaks keep-alive shows up in the report.

    ``fresh``: a new TCP connection for every request, closed by the client once the answer
    is read (a short-lived client's way; the connection levels' ``new`` style). ``source``:
    the local address to connect from (the levels give each client its own 127.x.y.z).
    ``slow_connects`` counts connects that took ``SYN_RETRY_S`` or more: the listen queue
    was full, the SYN was dropped and the kernel resent it a second later.
    """

    def __init__(self, port, label, mode, call_timeout, source=None, fresh=False):
        self.label = label
        self.mode = mode
        self.conn = http.client.HTTPConnection(HOST, port, timeout=call_timeout,
                                               source_address=(source, 0) if source else None)
        self.fresh = fresh
        self.connects = 0
        self.slow_connects = 0
        self.next_id = 0
        self.session_id = None
        self.headers = {"Content-Type": "application/json", "Accept": ACCEPT}

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass

    def post(self, message, headers, method="POST"):
        """(status, Content-Type, response headers object, body bytes)."""
        conn = self.conn
        if conn.sock is None:
            t0 = time.perf_counter()
            try:
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                conn.close()
                raise failed("%s: connect failed: %s: %s" % (self.label, type(exc).__name__, exc),
                             "timeout" if isinstance(exc, socket.timeout) else type(exc).__name__)
            if time.perf_counter() - t0 >= SYN_RETRY_S:
                self.slow_connects += 1
            self.connects += 1
        body = None if message is None else json.dumps(message, separators=(",", ":")).encode("utf-8")
        try:
            conn.request(method, PATH, body, headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise failed("%s: %s %s failed: %s: %s" % (self.label, method, (message or {}).get("method"),
                                                       type(exc).__name__, exc),
                         "timeout" if isinstance(exc, socket.timeout) else type(exc).__name__)
        if self.fresh:
            conn.close()
        return resp.status, (resp.getheader("Content-Type") or ""), resp, data

    def end_session(self):
        """DELETE the session, as a client closing down does; the answer is not checked."""
        if self.session_id:
            try:
                self.post(None, self.headers, "DELETE")
            except BenchError:
                pass
            self.session_id = None

    def _response(self, status, ctype, data, rid, what):
        """The JSON-RPC response with id ``rid`` from a JSON or an SSE body, and the other
        messages of the body."""
        if status != 200:
            raise failed("%s: %s answered HTTP %d: %r" % (self.label, what, status, data[:300]), "HTTP %d" % status)
        kind = ctype.split(";", 1)[0].strip().lower()
        try:
            if kind == "application/json":
                messages = [json.loads(data)]
            elif kind == "text/event-stream":
                messages = parse_sse(data)
            else:
                raise BenchError("%s: %s answered Content-Type %r" % (self.label, what, ctype))
        except ValueError:
            raise BenchError("%s: %s answered a body that is not JSON: %r" % (self.label, what, data[:300]))
        found = None
        others = []
        for msg in messages:
            if isinstance(msg, dict) and msg.get("id") == rid and "method" not in msg:
                found = msg
            else:
                others.append(msg)
        if found is None:
            raise BenchError("%s: %s: no response with id %r in %r" % (self.label, what, rid, data[:300]))
        if "error" in found:
            raise BenchError("%s: %s answered an error: %s" % (self.label, what, json.dumps(found["error"])[:300]))
        return found.get("result"), kind, others

    def handshake(self):
        """The legacy handshake (nothing for ``modern``): initialize, read the session id,
        notifications/initialized; afterwards every call carries the session's headers."""
        if self.mode == "modern":
            self.headers = {"Content-Type": "application/json", "Accept": ACCEPT,
                            "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/call",
                            "Mcp-Name": "add"}
            return
        self.headers = {"Content-Type": "application/json", "Accept": ACCEPT}  # a new session
        self.session_id = None
        self.next_id += 1
        rid = self.next_id
        status, ctype, resp, data = self.post(
            {"jsonrpc": "2.0", "id": rid, "method": "initialize",
             "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}},
            self.headers)
        result, _, _ = self._response(status, ctype, data, rid, "initialize")
        if not isinstance(result, dict) or result.get("protocolVersion") != LEGACY_VERSION:
            raise BenchError("%s: initialize answered %r" % (self.label, json.dumps(result)[:300]))
        self.session_id = resp.getheader("Mcp-Session-Id")
        headers = {"Content-Type": "application/json", "Accept": ACCEPT,
                   "MCP-Protocol-Version": LEGACY_VERSION}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        status, _, _, data = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
        if status != 202:
            raise failed("%s: notifications/initialized answered HTTP %d: %r" % (self.label, status, data[:200]),
                         "HTTP %d" % status)
        self.headers = headers

    def call(self, a):
        """One ``tools/call`` of ``a + 1`` in this client's mode, checked."""
        self.next_id += 1
        rid = self.next_id
        mode = self.mode
        if mode == "sse":
            params = {"name": "add_progress", "arguments": {"a": a, "b": 1}, "_meta": {"progressToken": rid}}
        elif mode == "modern":
            params = {"name": "add", "arguments": {"a": a, "b": 1},
                      "_meta": {META_VERSION: MODERN_VERSION, META_CAPS: {}}}
        else:
            params = {"name": "add", "arguments": {"a": a, "b": 1}}
        status, ctype, _, data = self.post(
            {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}, self.headers)
        result, kind, others = self._response(status, ctype, data, rid, "tools/call")
        if mode == "sse":
            if kind != "text/event-stream":
                raise BenchError("%s: a call with a progressToken to a tool reporting progress was answered"
                                 " with %s, not an SSE stream" % (self.label, ctype))
            if not any(isinstance(m, dict) and m.get("method") == "notifications/progress"
                       and (m.get("params") or {}).get("progressToken") == rid for m in others):
                raise BenchError("%s: the SSE answer lacks the progress notification: %r" % (self.label, data[:300]))
        elif kind != "application/json":
            raise BenchError("%s: a %s-mode call was answered with %s" % (self.label, mode, ctype))
        wrong = check_sum(result, a + 1)
        if wrong:
            raise BenchError("%s: add returned %s" % (self.label, wrong))


# --------------------------------------------------------------------------- phases

def sequential(client, n, first, latencies):
    """``n`` calls one after the other; returns the elapsed seconds."""
    perf = time.perf_counter
    t_start = perf()
    for i in range(first, first + n):
        t0 = perf()
        client.call(i)
        latencies.append(perf() - t0)
    return perf() - t_start


def concurrent(port, label, mode, args, first, server_cpu):
    """``args.threads`` threads, each with its own connection and session, warmed up, then
    released together for ``args.thread_calls`` calls each. Returns (calls/s, latencies,
    reconnects, the server's CPU seconds from the release until every thread is done)."""
    n_threads = args.threads
    n = args.thread_calls
    warm = max(5, args.warmup // n_threads)
    barrier = threading.Barrier(n_threads + 1)
    results = [None] * n_threads  # (start, end, latencies, extra connects)
    errors = []

    def worker(k):
        client = Client(port, label, mode, args.call_timeout)
        try:
            client.handshake()
            base = first + k * (warm + n)
            for i in range(base, base + warm):
                client.call(i)
            barrier.wait(args.timeout)
            lat = []
            t0 = time.perf_counter()
            sequential(client, n, base + warm, lat)
            results[k] = (t0, time.perf_counter(), lat, client.connects - 1)
        except threading.BrokenBarrierError:
            pass  # another thread failed first; its error is the one reported
        except BaseException as exc:  # noqa: B902 - any failure ends the phase
            errors.append(exc if isinstance(exc, BenchError) else
                          BenchError("%s: client thread: %s: %s" % (label, type(exc).__name__, exc)))
            barrier.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(k,), name="bench-client-%d" % k, daemon=True)
               for k in range(n_threads)]
    for t in threads:
        t.start()
    cpu0 = None
    try:
        barrier.wait(args.timeout)
        cpu0 = server_cpu()
    except threading.BrokenBarrierError:
        pass
    deadline = time.perf_counter() + args.timeout + n * args.call_timeout
    for t in threads:
        t.join(max(0.0, deadline - time.perf_counter()))
    cpu1 = server_cpu()
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads) or any(r is None for r in results):
        raise BenchError("%s: concurrent clients did not finish in time" % label)
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    latencies = [x for r in results for x in r[2]]
    cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return (n_threads * n) / (end - start), latencies, sum(r[3] for r in results), cpu


# --------------------------------------------------------------------------- connection levels

def listen_counters():
    """The kernel's listen-queue counters, ``({"overflows": n, "drops": n}, source)``, or
    ``(None, None)`` off Linux. ``TcpExtListenOverflows`` counts connections dropped because
    a listening socket's accept queue (its backlog) was full, ``TcpExtListenDrops`` those and
    every other drop at a listening socket. They are the whole network namespace's: another
    program's full queue during a level counts too. ``nstat -asz`` (absolute values, its
    history left alone), else ``/proc/net/netstat`` (what ``netstat -s`` reads)."""
    names = ("TcpExtListenOverflows", "TcpExtListenDrops")
    try:
        rc, _, out = run_quiet(["nstat", "-asz"] + list(names), None, 5.0)
        vals = {}
        for line in out.splitlines() if rc == 0 else ():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in names:
                vals[parts[0]] = int(parts[1])
        if len(vals) == 2:
            return {"overflows": vals[names[0]], "drops": vals[names[1]]}, "nstat"
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/net/netstat") as fh:
            lines = fh.read().splitlines()
        for head, values in zip(lines[::2], lines[1::2]):
            if head.startswith("TcpExt:") and values.startswith("TcpExt:"):
                row = dict(zip(head.split()[1:], values.split()[1:]))
                return {"overflows": int(row["ListenOverflows"]), "drops": int(row["ListenDrops"])}, \
                    "/proc/net/netstat"
    except (OSError, KeyError, ValueError):
        pass
    return None, None


def load_average():
    """The machine's load average (1, 5, 15 minutes), None where there is none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def client_sources(n, distinct):
    """The local addresses of ``n`` level clients: 127.1.0.2, 127.1.0.3, ... (each its own
    client, as far as a server's per-address bounds go: on Linux all of 127/8 is loopback),
    or the default (127.0.0.1 for every client)."""
    if not distinct:
        return [None]
    return ["127.1.%d.%d" % (k // 250, 2 + k % 250) for k in range(n)]


def distinct_sources_work():
    """Whether this machine lets a socket connect from 127.1.0.2 (Linux does; macOS has
    127.0.0.1 alone unless told otherwise)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.1.0.2", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def run_level(port, label, mode, args, level, style, first, sources):
    """One connection level: ``level`` client threads, each with its own session (and its
    own address, see ``client_sources``), connecting in ``style``: ``keepalive`` (one
    connection per client for all its requests, as an SDK client with a connection pool)
    or ``new`` (a new connection per request, closed by the client after the answer, as a
    short-lived client). Each does the handshake and one call, then all are released
    together for ``max(LEVEL_MIN_CALLS, args.level_calls // level)`` timed calls each; each
    ends its session with DELETE once every thread is done (untimed).

    A call the server refuses or drops (an HTTP error status, a reset, a timeout) is counted
    by kind, not timed, and the client goes on (a 404 - its session ended - starts another
    session first); a handshake is tried ``HANDSHAKE_TRIES`` times. A wrong answer ends the
    row as everywhere else. Returns a dict of the level's figures."""
    n = max(LEVEL_MIN_CALLS, args.level_calls // level)
    perf = time.perf_counter
    start = threading.Barrier(level + 1)
    done = threading.Barrier(level)
    results = [None] * level
    fatal = []

    def counted(exc, errs, prefix=""):
        kind = getattr(exc, "kind", None)
        if kind is None:  # a wrong answer, not a refusal
            raise exc
        errs[prefix + kind] += 1
        return kind

    def worker(k):
        client = Client(port, label, mode, args.call_timeout, sources[k % len(sources)], style == "new")
        errs = collections.Counter()
        lat = []
        base = first + k * (n + 1)
        try:
            ready = False
            for attempt in range(HANDSHAKE_TRIES):
                try:
                    client.handshake()
                    client.call(base)
                    ready = True
                    break
                except BenchError as exc:
                    counted(exc, errs, "handshake: ")
                    time.sleep(0.05 * (attempt + 1))
            start.wait(args.timeout)
            t0 = perf()
            if not ready:
                errs["not run (no session)"] += n
            else:
                for i in range(base + 1, base + 1 + n):
                    t = perf()
                    try:
                        client.call(i)
                    except BenchError as exc:
                        if counted(exc, errs) == "HTTP 404":  # the session ended: start another
                            try:
                                client.handshake()
                            except BenchError as exc2:
                                counted(exc2, errs, "handshake: ")
                        continue
                    lat.append(perf() - t)
            results[k] = (t0, perf(), lat, errs, client.connects, client.slow_connects)
            try:
                done.wait(args.timeout + n * args.call_timeout)
                client.end_session()
            except threading.BrokenBarrierError:
                pass
        except threading.BrokenBarrierError:
            pass  # another thread failed first; its error is the one reported
        except BaseException as exc:  # noqa: B902 - any failure ends the level
            fatal.append(exc if isinstance(exc, BenchError) else
                         BenchError("%s: level client thread: %s: %s" % (label, type(exc).__name__, exc)))
            start.abort()
            done.abort()
        finally:
            client.close()

    counters0, source = listen_counters()
    threads = [threading.Thread(target=worker, args=(k,), name="bench-level-%d" % k, daemon=True)
               for k in range(level)]
    for t in threads:
        t.start()
    try:
        start.wait(args.timeout + HANDSHAKE_TRIES * args.call_timeout)
    except threading.BrokenBarrierError:
        pass
    deadline = perf() + args.timeout + n * args.call_timeout
    for t in threads:
        t.join(max(0.0, deadline - perf()))
    counters1, _ = listen_counters()
    if fatal:
        raise fatal[0]
    if any(t.is_alive() for t in threads) or any(r is None for r in results):
        raise BenchError("%s: %d clients (%s) did not finish in time" % (label, level, style))
    t_first = min(r[0] for r in results)
    t_last = max(r[1] for r in results)
    lat = [x for r in results for x in r[2]]
    errs = collections.Counter()
    for r in results:
        errs.update(r[3])
    out = {"calls_per_s": len(lat) / (t_last - t_first) if t_last > t_first else None, "lat": lat,
           "errors": errs, "connects": sum(r[4] for r in results),
           "slow_connects": sum(r[5] for r in results), "calls_per_client": n,
           "overflows": None, "drops": None, "counter_source": source}
    if counters0 is not None and counters1 is not None:
        out["overflows"] = counters1["overflows"] - counters0["overflows"]
        out["drops"] = counters1["drops"] - counters0["drops"]
    return out


# --------------------------------------------------------------------------- GET streams

def open_stream(port, label, source, session_id, timeout):
    """A new connection (from ``source``) with a standalone ``GET`` stream on it: the socket,
    once the response head has come and says 200 and ``text/event-stream``; the body (the
    stream) is left unread. A refusal or transport failure raises ``failed``; a wrong
    head, ``BenchError``."""
    try:
        sock = socket.create_connection((HOST, port), timeout, (source, 0) if source else None)
    except OSError as exc:
        raise failed("%s: GET stream: connect failed: %s: %s" % (label, type(exc).__name__, exc),
                     "timeout" if isinstance(exc, socket.timeout) else type(exc).__name__)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = ["GET %s HTTP/1.1" % PATH, "Host: %s:%d" % (HOST, port), "Accept: text/event-stream"]
        if session_id:
            lines += ["Mcp-Session-Id: %s" % session_id, "MCP-Protocol-Version: %s" % LEGACY_VERSION]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        buf = b""
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HEAD_BYTES:
                raise BenchError("%s: GET stream: no end to the response head in %d bytes" % (label, len(buf)))
            chunk = sock.recv(4096)
            if not chunk:
                raise failed("%s: GET stream: the server closed the connection before the head: %r"
                             % (label, buf[:200]), "closed")
            buf += chunk
        head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
        ctype = ""
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                ctype = value.strip()
        if status != 200:
            raise failed("%s: GET stream answered %r: %r" % (label, head[0], buf[:300]), "HTTP %s" % status)
        if ctype.split(";", 1)[0].strip().lower() != "text/event-stream":
            raise BenchError("%s: GET stream answered Content-Type %r" % (label, ctype))
        return sock
    except (OSError, ValueError) as exc:
        sock.close()
        raise failed("%s: GET stream failed: %s: %s" % (label, type(exc).__name__, exc),
                     "timeout" if isinstance(exc, socket.timeout) else type(exc).__name__)
    except BaseException:
        sock.close()
        raise


def open_streams(port, label, kind, args, sources):
    """``args.streams`` GET streams opened back to back and held (see the module's docstring,
    item 5). The sessions (none for the raw floor) are made first, untimed, one per stream
    from the stream's own address (a session has one standalone stream). Every socket
    opened is closed before returning. Returns (seconds for all, seconds per stream)."""
    n = args.streams
    srcs = [sources[k % len(sources)] for k in range(n)]
    sessions = [None] * n
    if kind != "raw":
        for k in range(n):
            client = Client(port, label, "json", args.call_timeout, srcs[k])
            try:
                client.handshake()
            finally:
                client.close()
            sessions[k] = client.session_id
    perf = time.perf_counter
    socks = []
    lat = []
    try:
        t_start = perf()
        for k in range(n):
            t0 = perf()
            socks.append(open_stream(port, label, srcs[k], sessions[k], args.call_timeout))
            lat.append(perf() - t0)
        total = perf() - t_start
    finally:
        for sock in socks:
            try:
                sock.close()
            except OSError:
                pass
    return total, lat


class Level(object):
    """One server at one connection level in one style: everything measured over the rounds."""

    def __init__(self, style, level):
        self.style = style
        self.level = level
        self.rate = []  # calls/s per round
        self.p50 = []  # per round, us
        self.p99 = []
        self.lat = []  # every timed call of every round, s
        self.errors = collections.Counter()
        self.overflows = []  # per round
        self.drops = []
        self.connects = 0
        self.slow_connects = 0
        self.calls_per_client = None

    def add(self, res):
        if res["calls_per_s"] is not None:
            self.rate.append(res["calls_per_s"])
        pc = percentiles(res["lat"])
        if pc:
            self.p50.append(pc["p50"])
            self.p99.append(pc["p99"])
        self.lat.extend(res["lat"])
        self.errors.update(res["errors"])
        if res["overflows"] is not None:
            self.overflows.append(res["overflows"])
            self.drops.append(res["drops"])
        self.connects += res["connects"]
        self.slow_connects += res["slow_connects"]
        self.calls_per_client = res["calls_per_client"]

    def to_json(self):
        pooled = percentiles(self.lat, with_max=True)
        return {
            "style": self.style, "clients": self.level, "calls_per_client": self.calls_per_client,
            "calls_per_s": summary(self.rate, 0),
            # medians over the rounds of each round's p50 and p99; max: the slowest call of all
            "latency_us": None if not self.p99 else {
                "p50": round(median(self.p50), 1), "p99": round(median(self.p99), 1),
                "max": pooled["max"]},
            "p99_us_per_round": self.p99,
            "latency_us_all_calls": pooled,
            "errors": sum(self.errors.values()), "error_kinds": dict(sorted(self.errors.items())),
            "listen_overflows": None if not self.overflows else dict(summary(self.overflows, 0),
                                                                      total=sum(self.overflows)),
            "listen_drops": None if not self.drops else dict(summary(self.drops, 0), total=sum(self.drops)),
            "connects": self.connects, "slow_connects": self.slow_connects, "timed_calls": len(self.lat),
        }


class Row(object):
    """One server in one mode: everything measured over the rounds."""

    def __init__(self, col, mode):
        self.col = col
        self.mode = mode
        self.key = "%s/%s" % (col.key, mode)
        self.start_ms = []
        self.seq = []  # calls/s per round
        self.seq_lat = []
        self.conc = []
        self.conc_lat = []
        self.srv_cpu_us = []  # server CPU per sequential call, per round
        self.conc_cpu_us = []  # server CPU per concurrent call, per round
        self.cli_cpu_us = []  # this (client) process's CPU per sequential call, per round
        self.rss = []
        self.reconnects = 0
        self.error = None
        self.levels = collections.OrderedDict()  # (style, clients) -> Level
        self.streams_s = []  # GET streams: seconds to open all, per round
        self.streams_lat = []  # seconds per stream, every round

    def streams_json(self, n):
        return {"server": self.col.key, "label": self.col.label, "kind": self.col.kind, "mode": self.mode,
                "error": self.error, "streams": n, "total_s": summary(self.streams_s, 3),
                "per_stream_ms": None if not self.streams_lat else dict(
                    (k, round(v / 1000.0, 3) if k != "n" else v)
                    for k, v in percentiles(self.streams_lat, with_max=True).items())}

    def to_json(self):
        return {
            "server": self.col.key, "label": self.col.label, "kind": self.col.kind, "mode": self.mode,
            "python_version": self.col.python["version"], "error": self.error,
            "start_ms": summary(self.start_ms, 1),
            "sequential": {"calls_per_s": summary(self.seq, 0),
                           "latency_us": percentiles(self.seq_lat, with_max=True)},
            "concurrent": {"threads": None, "calls_per_s": summary(self.conc, 0),
                           "latency_us": percentiles(self.conc_lat, with_max=True)},
            "server_cpu_us_per_call": summary(self.srv_cpu_us, 1),
            "server_cpu_us_per_concurrent_call": summary(self.conc_cpu_us, 1),
            "client_cpu_us_per_call": summary(self.cli_cpu_us, 1),
            "rss_after_mib": summary(self.rss, 1),
            "reconnects": self.reconnects,
            "stalls": stalls(self.seq_lat + self.conc_lat),
            "stall_ms": sorted(round(x * 1000.0, 1) for x in self.seq_lat + self.conc_lat
                               if x * 1000.0 >= STALL_MS)[:40],
            "timed_calls": len(self.seq_lat) + len(self.conc_lat),
            "connections": [lv.to_json() for lv in self.levels.values()],
        }


class Column(object):
    def __init__(self, key, kind, label, python, interpreter, env=None):
        self.key = key
        self.kind = kind  # "mcplite" | "sdk" | "raw" (a baseline twin is "mcplite" too)
        self.label = label
        self.python = python  # a dict from python_info()
        self.interpreter = interpreter  # "current" | "sdk-python"
        self.env = env  # None: the run's environment; a baseline twin's names its checkout
        self.rows = []

    def argv(self, mode, port):
        argv = [self.python["executable"], SERVER_SCRIPT, self.kind, str(port)]
        if self.kind == "sdk" and mode == "json":
            argv.append("--json-response")  # the SDK answers everything with SSE otherwise
        return argv


def run_round(row, env, args, counter, round_no=0):
    """One fresh server process: handshake, warm-up, sequential calls, concurrent calls,
    then (``--level-mode``'s rows of mcplite and the SDK) the connection levels."""
    col = row.col
    sp = ServerProc(lambda port: col.argv(row.mode, port), col.env or env, "%s [%s]" % (col.label, row.mode),
                    args.timeout)
    try:
        client = Client(sp.port, sp.label, row.mode, args.call_timeout)
        try:
            try:
                client.handshake()
                if row.mode == "modern":
                    client.call(counter)  # the first answer stands for the handshake
                row.start_ms.append((time.perf_counter() - sp.t_spawn) * 1000.0)
                for i in range(counter, counter + args.warmup):
                    client.call(i)
                cpu0, pcpu0 = sp.cpu_s(), time.process_time()
                secs = sequential(client, args.calls, counter + args.warmup, row.seq_lat)
                cpu1, pcpu1 = sp.cpu_s(), time.process_time()
            except BenchError as exc:
                raise sp.fail(str(exc).split(": ", 1)[-1]) if sp.proc.poll() is not None else exc
            row.seq.append(args.calls / secs)
            if cpu0 is not None and cpu1 is not None:
                row.srv_cpu_us.append((cpu1 - cpu0) / args.calls * 1e6)
            row.cli_cpu_us.append((pcpu1 - pcpu0) / args.calls * 1e6)
            row.reconnects += client.connects - 1
        finally:
            client.close()
        try:
            rate, lat, extra, cpu = concurrent(sp.port, sp.label, row.mode, args,
                                               counter + args.warmup + args.calls, sp.cpu_s)
        except BenchError as exc:
            if sp.proc.poll() is not None:
                raise sp.fail(str(exc).split(": ", 1)[-1])
            raise
        row.conc.append(rate)
        if cpu is not None:
            row.conc_cpu_us.append(cpu / (args.threads * args.thread_calls) * 1e6)
        row.conc_lat.extend(lat)
        row.reconnects += extra
        rss = sp.rss_mib()
        if rss is not None:
            row.rss.append(rss)
        if sp.proc.poll() is not None:
            raise sp.fail("exited during the calls")
        if row.mode == args.level_mode and col.kind in LEVEL_KINDS:
            # the connection levels, on the same (warm) server; the styles' order alternates
            # from round to round, so neither always runs on the server the other has used
            styles = args.styles if round_no % 2 == 0 else args.styles[::-1]
            for level in args.levels:
                for style in styles:
                    try:
                        res = run_level(sp.port, sp.label, row.mode, args, level, style,
                                        counter + 10 ** 7, args.sources)
                    except BenchError as exc:
                        if sp.proc.poll() is not None:
                            raise sp.fail(str(exc).split(": ", 1)[-1])
                        raise
                    row.levels.setdefault((style, level), Level(style, level)).add(res)
            if sp.proc.poll() is not None:
                raise sp.fail("exited during the connection levels")
        if args.streams and row.mode == args.streams_mode:
            try:
                total, lat = open_streams(sp.port, sp.label, col.kind, args, args.stream_sources)
            except BenchError as exc:
                if sp.proc.poll() is not None:
                    raise sp.fail(str(exc).split(": ", 1)[-1])
                raise
            row.streams_s.append(total)
            row.streams_lat.extend(lat)
            if sp.proc.poll() is not None:
                raise sp.fail("exited during the GET streams")
    finally:
        sp.kill()


# --------------------------------------------------------------------------- numbers

def ms(us):
    return None if us is None else us / 1000.0


def stalls(lat):
    return sum(1 for x in lat if x * 1000.0 >= STALL_MS)


# --------------------------------------------------------------------------- report

def print_report(rep):
    cfg = rep["config"]
    p = print
    p("mcplite Streamable HTTP benchmark (%s: %d rounds; %d sequential calls after %d warm-up;"
      " %d threads x %d calls)" % (rep["mode"], cfg["rounds"], cfg["calls"], cfg["warmup"],
                                   cfg["threads"], cfg["thread_calls"]))
    p("command: %s" % rep["command"])
    p("machine: %s, %s CPUs (client and servers share them; nothing pinned)"
      % (rep["machine"]["platform"], rep["machine"]["cpus"]))
    p("")
    print_interpreters(p, rep)
    p("")
    p("Modes: json = add -> application/json (SDK: json_response=True); sse = add_progress with a"
      " progressToken -> text/event-stream (SDK: default); modern = 2026-07-28 stateless add, no session")
    p("Medians over the rounds; latency percentiles over every timed call; srv CPU = the server"
      " process's CPU time (all threads) per call; max ms = the slowest call of both phases;"
      " thr/seq = %d-thread calls/s over sequential" % cfg["threads"])
    p("")
    rows = []
    for r in rep["rows"]:
        seq = r["sequential"]
        conc = r["concurrent"]
        sl = seq["latency_us"] or {}
        cl = conc["latency_us"] or {}
        sc = (seq["calls_per_s"] or {}).get("median")
        cc = (conc["calls_per_s"] or {}).get("median")
        rows.append([r["label"] + (" FAILED" if r["error"] else ""), r["mode"],
                     fmt((r["start_ms"] or {}).get("median"), "%.0f"),
                     fmt(sc, "%.0f"), fmt(sl.get("p50"), "%.0f"), fmt(sl.get("p99"), "%.0f"),
                     fmt((r["server_cpu_us_per_call"] or {}).get("median"), "%.0f"),
                     fmt(cc, "%.0f"), fmt(cl.get("p50"), "%.0f"), fmt(cl.get("p99"), "%.0f"),
                     fmt((r["server_cpu_us_per_concurrent_call"] or {}).get("median"), "%.0f"),
                     fmt(max(sl.get("max") or 0, cl.get("max") or 0) / 1000.0 if (sl or cl) else None, "%.1f"),
                     fmt(ratio(cc, sc), "%.2fx"),
                     fmt((r["rss_after_mib"] or {}).get("median"))])
    p(render_table(["server", "mode", "start ms", "seq calls/s", "p50 us", "p99 us", "srv CPU us",
                    "%dthr calls/s" % cfg["threads"], "p50 us", "p99 us", "srv CPU us", "max ms", "thr/seq",
                    "RSS MiB"], rows, left=2))
    slow = [r for r in rep["rows"] if r["stalls"]]
    if slow:
        p("  round trips >= %.0f ms (a Nagle/delayed-ACK stall costs ~40 ms and hits calls steadily;"
          " a few scattered ones, the raw floor's too, are the machine):" % STALL_MS)
        for r in slow:
            vals = r["stall_ms"]
            p("    %s [%s]: %d of %d (ms: %s%s)" % (r["label"], r["mode"], r["stalls"], r["timed_calls"],
                                                 ", ".join("%.0f" % v for v in vals[:8]),
                                                 ", ..." if len(vals) > 8 else ""))
    for r in rep["rows"]:
        if r["reconnects"]:
            p("  note: %s [%s]: the server closed keep-alive connections %d times (the client reconnected)"
              % (r["label"], r["mode"], r["reconnects"]))
    cli = [x for r in rep["rows"] for x in [((r["client_cpu_us_per_call"] or {}).get("median"))] if x]
    if cli:
        p("  the client's own CPU per sequential call: %.0f-%.0f us (the same code for every server)"
          % (min(cli), max(cli)))
    p("")
    print_levels(p, rep)
    print_streams(p, rep)
    print_ratios(p, "Ratios (calls/s; p99: mcplite's over the SDK's, below 1.00x is better)", rep["ratios"])
    if "baseline" in rep:
        print_before_after(p, rep["baseline"])
    p("Targets")
    for t in rep["targets"]:
        status = "n/a " if t["met"] is None else ("PASS" if t["met"] else "MISS")
        unit = t.get("unit")
        spec = "%.2fx" if unit is None else "%g " + unit
        p("  %s  %s: %s (goal %s %s)" % (status, t["name"], fmt(t["value"], spec), t["op"], spec % t["bound"]))
    load = rep.get("load_average") or {}
    if load.get("start"):
        p("")
        p("Load average (1/5/15 min; %s CPUs): at the start %s; after each round %s"
          % (rep["machine"]["cpus"], "/".join("%.2f" % x for x in load["start"]),
             ", ".join("/".join("%.2f" % x for x in la) for la in load["rounds"] if la) or "-"))
    print_errors(p, rep["errors"])


def print_levels(p, rep):
    """The "Connection levels" section: a line per level, style and server."""
    cfg = rep["config"]
    lines = []
    for r in rep["rows"]:
        for lv in r.get("connections") or ():
            lines.append((cfg["levels"].index(lv["clients"]), cfg["level_styles"].index(lv["style"]), r, lv))
    if not lines:
        return
    lines.sort(key=lambda x: (x[0], x[1]))
    p("Connection levels (%s mode; N clients at once, each %s%s, %d timed calls per level and"
      " round shared among them; keepalive = one connection per client, new = a new connection per call,"
      " closed by the client)" % (cfg["level_mode"], "stateless (2026-07-28)" if cfg["level_mode"] == "modern"
                                  else "with its own session (2025-11-25)", ", from its own 127.1.x.y address"
                                  if cfg.get("level_client_addresses") == "distinct" else "", cfg["level_calls"]))
    p("calls/s, p50 and p99: medians over the rounds of each round's figure; max: the slowest call of all rounds;"
      " errors: calls refused or dropped (not timed), all rounds; ovf/round: the kernel's ListenOverflows (and"
      " ListenDrops) during a level, median per round, from %s (the whole machine's counters); slow conn: connects"
      " that took >= %.1f s (a dropped SYN, resent), all rounds" % (cfg.get("listen_counter_source") or "nowhere",
                                                                  SYN_RETRY_S))
    rows = []
    for _, _, r, lv in lines:
        lat = lv["latency_us"] or {}
        ovf, drops = lv["listen_overflows"], lv["listen_drops"]
        rows.append(["%d" % lv["clients"], lv["style"], r["label"] + (" FAILED" if r["error"] else ""),
                     fmt((lv["calls_per_s"] or {}).get("median"), "%.0f"),
                     fmt(ms(lat.get("p50")), "%.2f"), fmt(ms(lat.get("p99")), "%.2f"), fmt(ms(lat.get("max")), "%.1f"),
                     "%d" % lv["errors"],
                     "-" if ovf is None else "%d (%d)" % (ovf["median"], drops["median"]),
                     "%d" % lv["slow_connects"]])
    p(render_table(["clients", "conn", "server", "calls/s", "p50 ms", "p99 ms", "max ms", "errors",
                    "ovf/round (drops)", "slow conn"], rows, left=3))
    for _, _, r, lv in lines:
        if lv["error_kinds"]:
            p("  %s, %d clients %s: %s" % (r["label"], lv["clients"], lv["style"],
                                          ", ".join("%s x%d" % kv for kv in lv["error_kinds"].items())))
    p("")


def print_streams(p, rep):
    """The "GET streams back to back" section: a line per server, its total beside the raw
    floor's (same interpreter) and the SDK's."""
    rows_in = rep.get("get_streams") or []
    if not rows_in:
        return
    n = rep["config"]["streams"]
    p("GET streams back to back (%d standalone SSE streams, each a new connection%s with its own session made"
      " beforehand, untimed; each waits for its 200 text/event-stream head before the next connects; all held"
      " until the last is open)" % (n, " from its own 127.1.x.y address"
                                    if rep["config"].get("stream_client_addresses") == "distinct" else ""))
    p("total s: median over the rounds; per stream: percentiles over every stream of all rounds;"
      " / raw, / SDK: total s over theirs (below 1.00x is faster)")
    by_key = dict((r["server"], r) for r in rows_in)

    def total(r):
        return None if r is None or r["error"] else (r["total_s"] or {}).get("median")

    rows = []
    for r in rows_in:
        lat = r["per_stream_ms"] or {}
        suffix = r["server"][len(r["kind"]):].replace(BASELINE, "")
        raw = by_key.get("raw" + suffix) or by_key.get("raw")
        rows.append([r["label"] + (" FAILED" if r["error"] else ""), fmt(total(r), "%.3f"),
                     fmt(lat.get("p50"), "%.2f"), fmt(lat.get("p99"), "%.2f"), fmt(lat.get("max"), "%.1f"),
                     "-" if r["kind"] == "raw" else fmt(ratio(total(r), total(raw)), "%.2fx"),
                     "-" if r["kind"] == "sdk" else fmt(ratio(total(r), total(by_key.get("sdk"))), "%.2fx")])
    p(render_table(["server", "total s", "p50 ms", "p99 ms", "max ms", "/ raw", "/ SDK"], rows, left=1))
    p("")


# --------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(ap, "few rounds and calls: a CI smoke run")
    ap.add_argument("--modes", metavar="MODES", default="json,sse,modern",
                    help="comma-separated answer forms (json,sse,modern; modern is mcplite only);"
                         " default all")
    ap.add_argument("--rounds", type=int, help="rounds (a fresh server process each) per server and mode")
    ap.add_argument("--calls", type=int, help="sequential calls per round")
    ap.add_argument("--warmup", type=int, help="untimed calls before the sequential calls")
    ap.add_argument("--threads", type=int, help="concurrent client threads (default 8)")
    ap.add_argument("--thread-calls", type=int, help="calls per thread in the concurrent phase")
    ap.add_argument("--concurrency", metavar="LEVELS", default=None,
                    help="comma-separated connection levels: so many clients at once, each with its own"
                         " session (mcplite and the SDK, in --level-mode); 'none' for none"
                         " (default %s; with --quick %s). Above 256 keep-alive clients mcplite's"
                         " max_connections answers 503 (counted as errors)" % (LEVELS["full"], LEVELS["quick"]))
    ap.add_argument("--conn-style", metavar="STYLES", default=None,
                    help="how each level's clients connect: keepalive (one connection per client, as"
                         " SDK clients with a connection pool) and/or new (a new connection per request,"
                         " as short-lived clients; the listen backlog matters there); default %s"
                         " (with --quick %s)" % (STYLES["full"], STYLES["quick"]))
    ap.add_argument("--level-calls", type=int,
                    help="timed calls per level and round, shared among its clients (at least %d each);"
                         " default %d (with --quick %d)" % (LEVEL_MIN_CALLS, FULL["level_calls"],
                                                            QUICK["level_calls"]))
    ap.add_argument("--streams", type=int, default=None, metavar="N",
                    help="GET streams opened back to back and held, per server and round (0: off);"
                         " default %d (with --quick %d), at most %d" % (STREAMS["full"], STREAMS["quick"],
                                                                       MAX_STREAMS))
    ap.add_argument("--level-mode", choices=MODES, default="json",
                    help="the answer form of the connection levels (default json)")
    ap.add_argument("--client-addrs", choices=("distinct", "one"), default="distinct",
                    help="the levels' clients and the GET streams connect from distinct loopback addresses"
                         " (127.1.0.2, ...: distinct clients to a server's per-address session bound;"
                         " the default where the system allows it) or all from 127.0.0.1")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds allowed for a server to start and answer (default 60)")
    ap.add_argument("--call-timeout", type=float, default=10.0,
                    help="seconds allowed for one tools/call (default 10)")
    add_baseline_option(ap)
    args = ap.parse_args(argv)
    args.kinds = parse_kinds(ap, args.only)
    check_baseline(ap, args)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes) or len(set(modes)) != len(modes):
        ap.error("--modes takes distinct modes among json, sse and modern, got %r" % args.modes)
    args.mode_list = modes
    apply_counts(ap, args, QUICK if args.quick else FULL, 10 ** 6)
    if args.threads > 256:
        ap.error("--threads must be at most 256 (the servers' connection limit)")
    which = "quick" if args.quick else "full"
    text = LEVELS[which] if args.concurrency is None else args.concurrency
    try:
        levels = [] if text.strip().lower() == "none" else [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        levels = None
    if levels is None or any(x < 1 or x > MAX_LEVEL for x in levels) or len(set(levels)) != len(levels):
        ap.error("--concurrency takes distinct numbers of clients from 1 to %d (or none), got %r"
                 % (MAX_LEVEL, text))
    args.levels = levels
    text = STYLES[which] if args.conn_style is None else args.conn_style
    styles = [x.strip() for x in text.split(",") if x.strip()]
    if not styles or any(x not in STYLE_NAMES for x in styles) or len(set(styles)) != len(styles):
        ap.error("--conn-style takes keepalive and/or new, got %r" % text)
    args.styles = styles
    if args.streams is None:
        args.streams = STREAMS[which]
    if args.streams < 0 or args.streams > MAX_STREAMS:
        ap.error("--streams takes 0 (off) to %d, got %d" % (MAX_STREAMS, args.streams))
    # on the json round's server (a session's GET stream does not depend on the answer form)
    args.streams_mode = next((m for m in ("json", "sse") if m in modes), None)
    if args.streams and args.streams_mode is None:
        args.streams = 0  # modern alone: no sessions, no standalone GET stream
    return args


def main(argv=None):
    return run_main(parse_args, run, argv)


def run(args):
    env = bench_env()
    errors = []
    rep = new_report(
        args, FULL, " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
        {"platform": sys.platform, "cpus": os.cpu_count(),
         "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None},
        modes=args.mode_list)
    rep.update(rows=[], ratios=[], targets=[], errors=errors)
    distinct = args.client_addrs == "distinct" and bool(args.levels)
    if distinct and not distinct_sources_work():
        log("cannot connect from 127.1.0.2 here: every level client connects from 127.0.0.1")
        distinct = False
    args.sources = client_sources(max(args.levels or [1]), distinct)
    stream_distinct = args.client_addrs == "distinct" and bool(args.streams) and distinct_sources_work()
    args.stream_sources = client_sources(args.streams, stream_distinct)
    _, counter_source = listen_counters()
    rep["config"].update(levels=args.levels, level_styles=args.styles, level_mode=args.level_mode,
                         level_client_addresses="distinct" if distinct else "one",
                         listen_counter_source=counter_source, streams=args.streams,
                         stream_client_addresses="distinct" if stream_distinct else "one")
    rep["load_average"] = {"start": load_average(), "rounds": []}  # each: 1, 5, 15 minutes

    current, sdk, sdk_py, want_mcplite, also_sdk_python, interps = discover_interpreters(
        args, env, rep, errors, "from mcplite import Context, Server",
        "import mcp.server.mcpserver, uvicorn", sdk_on_path=True,
        no_sdk_hint=" (bash scripts/test creates .cache/sdk-venv)")

    # the baseline checkout: its twins' servers run with this environment, PYTHONPATH apart
    benv = None
    if args.baseline is not None and want_mcplite and "mcplite" in args.kinds:
        benv = baseline_env(env, args.baseline)
        rep["baseline"] = new_baseline_report(args.baseline, env, args.timeout)
        err = check_mcplite_from(sys.executable, benv, args.baseline,
                                 "from mcplite import Context, Server", args.timeout)
        if err:
            errors.append("--baseline: " + err)
            benv = None

    columns = []
    for kind, name in (("mcplite", "mcplite"), ("sdk", "SDK MCPServer"), ("raw", "raw floor")):
        if kind not in args.kinds:
            continue
        if kind == "sdk":
            if sdk["available"]:
                columns.append(Column("sdk", "sdk", "%s (%s, sdk-python)" % (name, short_python(sdk_py)),
                                      sdk_py, "sdk-python"))
            continue
        if kind == "mcplite" and not want_mcplite:
            continue
        for suffix, tag, info in interps:
            columns.append(Column(kind + suffix, kind, "%s (%s, %s)" % (name, short_python(info), tag),
                                  info, tag))
            if kind == "mcplite" and benv is not None:  # its twin, next to it in every round
                columns.append(Column(kind + BASELINE + suffix, kind, "%s%s (%s, %s)"
                                      % (name, BASELINE, short_python(info), tag), info, tag, env=benv))
    rows = []
    for col in columns:
        for mode in args.mode_list:
            if mode in KIND_MODES[col.kind]:
                row = Row(col, mode)
                col.rows.append(row)
                rows.append(row)

    counter = 0
    per_round = args.warmup + args.calls + args.threads * (max(5, args.warmup // args.threads) + args.thread_calls)
    for r in range(args.rounds):
        log("round %d/%d" % (r + 1, args.rounds))
        for row in rows:
            if row.error is not None:
                continue
            try:
                run_round(row, env, args, counter, r)
            except BenchError as exc:
                row.error = str(exc)
                errors.append(row.error)
        counter += per_round
        rep["load_average"]["rounds"].append(load_average())

    rep["get_streams"] = [row.streams_json(args.streams) for row in rows
                          if args.streams and row.mode == args.streams_mode]
    by_key = {}
    for row in rows:
        j = row.to_json()
        j["concurrent"]["threads"] = args.threads
        rep["rows"].append(j)
        by_key[row.key] = row

    def rate(key, phase):
        row = by_key.get(key)
        if row is None or row.error is not None:
            return None
        return median(row.seq if phase == "seq" else row.conc)

    def add_ratio(name, a, b):
        value = ratio(a, b)
        if value is not None:
            rep["ratios"].append({"name": name, "value": round(value, 3)})
        return value

    def target(name, value, bound):
        rep["targets"].append({"name": name, "value": None if value is None else round(value, 3),
                               "op": ">=", "bound": bound, "met": target_met(value, ">=", bound)})

    phases = (("seq", "sequential"), ("conc", "%d threads" % args.threads))
    for suffix, tag, info in interps:
        mk, rk = "mcplite" + suffix, "raw" + suffix
        mlabel = "mcplite (%s)" % short_python(info)
        for mode in ("json", "sse"):
            for phase, pname in phases:
                add_ratio("%s / SDK (%s)  %-4s %s"
                          % (mlabel, short_python(sdk_py) if sdk_py else "-", mode, pname),
                          rate("%s/%s" % (mk, mode), phase), rate("sdk/%s" % mode, phase))
                add_ratio("%s / raw (%s)  %-4s %s" % (mlabel, short_python(info), mode, pname),
                          rate("%s/%s" % (mk, mode), phase), rate("%s/%s" % (rk, mode), phase))
        for phase, pname in phases:
            add_ratio("%s modern / raw (%s) json  %s" % (mlabel, short_python(info), pname),
                      rate("%s/modern" % mk, phase), rate("%s/json" % rk, phase))
    for mode in ("json", "sse"):
        for phase, pname in phases:
            rk = "raw@sdk-python" if also_sdk_python else "raw"
            if sdk_py is not None:
                add_ratio("SDK / raw (%s)  %-4s %s (reference)" % (short_python(sdk_py), mode, pname),
                          rate("sdk/%s" % mode, phase), rate("%s/%s" % (rk, mode), phase))

    # before and after: each figure of mcplite over its baseline twin's, per interpreter and mode
    if "baseline" in rep:
        rows_by_key = dict((j["server"] + "/" + j["mode"], j) for j in rep["rows"])
        for suffix, tag, info in interps:
            for mode in args.mode_list:
                cur = rows_by_key.get("mcplite%s/%s" % (suffix, mode))
                base = rows_by_key.get("mcplite%s%s/%s" % (BASELINE, suffix, mode))
                if cur is None or base is None or cur["error"] or base["error"]:
                    continue
                where = "%-6s (%s, %s)" % (mode, short_python(info), tag)
                for phase, pname in (("sequential", "seq"), ("concurrent", "%dthr" % args.threads)):
                    before_after(rep["baseline"], "%s %s calls/s" % (where, pname),
                                 cur[phase]["calls_per_s"], base[phase]["calls_per_s"], nd=0)
                    before_after(rep["baseline"], "%s %s p50 us" % (where, pname),
                                 (cur[phase]["latency_us"] or {}).get("p50"),
                                 (base[phase]["latency_us"] or {}).get("p50"), lower_is_better=True)
                before_after(rep["baseline"], "%s seq srv CPU us/call" % where,
                             cur["server_cpu_us_per_call"], base["server_cpu_us_per_call"], lower_is_better=True)
                before_after(rep["baseline"], "%s start ms" % where, cur["start_ms"], base["start_ms"],
                             lower_is_better=True)
                before_after(rep["baseline"], "%s RSS MiB" % where, cur["rss_after_mib"], base["rss_after_mib"],
                             lower_is_better=True)
                base_levels = dict(((lv["style"], lv["clients"]), lv) for lv in base["connections"])
                for lv in cur["connections"]:
                    blv = base_levels.get((lv["style"], lv["clients"]))
                    if blv is None:
                        continue
                    what = "%s %d clients %s" % (where, lv["clients"], lv["style"])
                    before_after(rep["baseline"], "%s calls/s" % what, lv["calls_per_s"], blv["calls_per_s"], nd=0)
                    for q in ("p50", "p99"):
                        before_after(rep["baseline"], "%s %s ms" % (what, q),
                                     ms((lv["latency_us"] or {}).get(q)), ms((blv["latency_us"] or {}).get(q)),
                                     nd=2, lower_is_better=True)
                    before_after(rep["baseline"], "%s errors" % what, lv["errors"], blv["errors"], nd=0,
                                 lower_is_better=True)

    # the connection levels: mcplite (each interpreter) against the SDK, the same level and style
    def level_of(key, style, level):
        row = by_key.get(key)
        if row is None or row.error is not None:
            return None
        lv = row.levels.get((style, level))
        return lv if lv is not None and lv.p99 else None

    level_targets = []  # after the other targets, which tooling may read in their order
    sdk_levels = "sdk" in args.kinds and not args.no_sdk and args.level_mode in KIND_MODES["sdk"]
    if want_mcplite and "mcplite" in args.kinds and sdk_levels:
        for suffix, tag, info in interps:
            mlabel = "mcplite (%s)" % short_python(info)
            for level in args.levels:
                for style in args.styles:
                    a = level_of("mcplite%s/%s" % (suffix, args.level_mode), style, level)
                    b = level_of("sdk/%s" % args.level_mode, style, level)
                    where = "%s / SDK (%s)  %s %d clients %s" % (
                        mlabel, short_python(sdk_py) if sdk_py else "-", args.level_mode, level, style)
                    add_ratio(where + " calls/s", a and median(a.rate), b and median(b.rate))
                    p99 = add_ratio(where + " p99", a and median(a.p99), b and median(b.p99))
                    if level >= 64:
                        level_targets.append({
                            "name": "%s %d clients %s: p99 / SDK's p99" % (mlabel, level, style),
                            "value": None if p99 is None else round(p99, 3), "op": "<=",
                            "bound": TARGET_P99_VS_SDK, "met": target_met(p99, "<=", TARGET_P99_VS_SDK)})
                        errs = None if a is None else sum(a.errors.values())
                        level_targets.append({
                            "name": "%s %d clients %s: calls refused or dropped" % (mlabel, level, style),
                            "value": errs, "op": "<=", "bound": 0, "unit": "calls",
                            "met": target_met(errs, "<=", 0)})

    if want_mcplite and "mcplite" in args.kinds:
        for suffix, tag, info in interps:
            mk = "mcplite" + suffix
            mlabel = "mcplite (%s, %s)" % (short_python(info), tag)
            for mode in ("json", "sse"):
                if mode not in args.mode_list or "sdk" not in args.kinds or args.no_sdk:
                    continue
                for phase, pname in phases:
                    target("%s %s %s calls/s / SDK's" % (mlabel, mode, pname),
                           ratio(rate("%s/%s" % (mk, mode), phase), rate("sdk/%s" % mode, phase)), TARGET_VS_SDK)
            for mode in args.mode_list:
                target("%s %s %d-thread calls/s / its sequential" % (mlabel, mode, args.threads),
                       ratio(rate("%s/%s" % (mk, mode), "conc"), rate("%s/%s" % (mk, mode), "seq")),
                       TARGET_CONC_VS_SEQ)
    rep["targets"].extend(level_targets)
    rep["load_average"]["end"] = load_average()
    return finish_report(rep, errors, args.json, lambda: print_report(rep))


if __name__ == "__main__":
    sys.exit(main())
