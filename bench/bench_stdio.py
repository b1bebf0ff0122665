#!/usr/bin/env python3
"""stdio benchmark: mcplite side by side with the official Python SDK and a raw stdlib floor.

One run measures, for each server, over real pipes:

1. import time: ``python -c "import mcplite"`` against a bare ``python -c pass`` (wall time,
   median of N runs), and the SDK's ``import mcp.server.mcpserver`` for reference;
2. spawn -> initialize: wall time from ``Popen`` of the server until the response to a
   legacy ``initialize`` (protocolVersion 2025-11-25) has been read; and spawn -> the first
   modern response (``server/discover`` carrying the 2026-07-28 ``_meta`` keys);
3. idle RSS (``VmRSS`` of ``/proc/<pid>/status``) after the handshake;
4. sequential ``tools/call`` round trips of the same ``add`` tool: calls/s (median of several
   rounds, each round on a fresh server process after a warm-up, rounds interleaved across
   the servers) and latency percentiles, once per CPU
   placement (``--affinity``): "same" pins the client and the server to one CPU (what each
   server costs, reproducible), "none" leaves placement to the OS (what users get; on a VM
   a cross-CPU wake-up costs tens of microseconds, so these numbers jump between runs).

The servers live in ``bench/servers/``: ``mcplite_add.py``, ``sdk_add.py`` (the same tool on
the SDK's ``MCPServer``) and ``raw_floor.py`` (``json.loads``/``json.dumps`` in a loop, the
floor). The driving client below is the same stdlib code for all of them (``os.write`` to the
server's stdin, ``select`` + ``os.read`` on its stdout, unbuffered), so only the server
differs.

Usage::

    python bench/bench_stdio.py            # full run, prints a table
    python bench/bench_stdio.py --quick    # a few rounds: a CI smoke run
    python bench/bench_stdio.py --json     # the numbers as one JSON object on stdout
    python bench/bench_stdio.py --baseline ../mcplite-before   # before and after in one run

The SDK interpreter is ``--sdk-python PATH``, else ``$MCPLITE_SDK_PYTHON``, else
``.cache/sdk-venv/bin/python`` in the repository, else ``~/.cache/mcp-peers/venv/bin/python``.
Without a usable SDK the mcplite and raw columns still run. mcplite and the raw floor run
under the current interpreter; when the SDK's interpreter is another Python version or
another installation (a venv whose site-packages differ) they also run under it, so there is
a like-for-like comparison with the SDK. Targets are reported for each interpreter.

Every child runs with ``PYTHONPATH`` set to the repository root and without
``PYTHONDONTWRITEBYTECODE``/``PYTHONUNBUFFERED`` and the like, so all servers start the way
a user's would (byte-code caches written and used).

``--baseline DIR`` (DIR: another checkout, holding the ``mcplite/`` package) gives every
mcplite column and its ``import mcplite`` timing a twin, "mcplite@baseline", that differs
only in ``PYTHONPATH`` naming DIR (and, for ``python -c``, whose ``sys.path`` starts with the
working directory, in running in DIR); the twins take part in the same interleaved rounds
and the report adds a "Before/after" section: each figure of mcplite over its twin's.

Exit status: 0 when every server started and answered correctly (missed performance
targets are reported, never fatal), 1 when a server failed to start or answered wrongly,
2 on bad usage. Every child process is killed by PID before exit.
"""
import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    BASELINE, CLIENT_INFO, LEGACY_VERSION, META_CAPS, META_VERSION, MODERN_VERSION, REPO,
    BenchError, ChildServer, add_baseline_option, add_common_options, apply_counts,
    baseline_env, bench_env, before_after, check_baseline, check_mcplite_from, check_sum,
    discover_interpreters, finish_report, fmt, log, median, new_baseline_report, new_report,
    parse_kinds, percentiles, print_before_after, print_errors, print_interpreters,
    print_ratios, print_targets, ratio, reap, register, render_table, rnd, run_main, run_quiet, short_python,
    summary, target_met)

SERVERS = os.path.join(HERE, "servers")

# Targets from issue 2, item 10. (name, unit, comparison, bound)
TARGET_IMPORT_MS = 25.0
TARGET_SPAWN_MS = 80.0
TARGET_RSS_MIB = 20.0
TARGET_VS_SDK = 5.0
TARGET_VS_RAW = 0.5

MAX_LINE = 16 * 1024 * 1024  # a response line longer than this is a broken server
MAX_SKIPPED = 10000  # notifications tolerated while waiting for one response
SETTLE_S = 0.1  # pause after the handshake before reading the idle RSS

# Targets from issue 23, item 1: sequential and pipelined calls/s over the raw floor.
TARGET_SEQ_VS_RAW = 0.85
TARGET_PIPE_VS_RAW = 0.6
PIPELINE_WINDOW = 1000  # requests in flight in a pipelined round

QUICK = {"import_runs": 3, "spawns": 2, "warmup": 20, "calls": 200, "rounds": 2}
FULL = {"import_runs": 20, "spawns": 10, "warmup": 500, "calls": 2000, "rounds": 5}


# --------------------------------------------------------------------------- children

def wait_exit(proc, fd, deadline):
    """Wait for ``proc`` to exit by waiting for EOF on its stdout ``fd`` (select), then reap it.

    ``Popen.wait(timeout=...)`` polls with sleeps that grow to 50 ms, which would add up to
    tens of milliseconds to a ~30 ms process; the pipe's EOF is seen at once. Returns the exit
    status, or None on timeout (the caller kills the process).
    """
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready and not os.read(fd, 65536):
            break
    try:
        return proc.wait(timeout=max(0.5, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        return None


# --------------------------------------------------------------------------- the client

class ServerProc(ChildServer):
    """One server process and the stdlib JSON-RPC client that drives it over its pipes."""

    def __init__(self, argv, env, label):
        ChildServer.__init__(self, label)
        self.t_spawn = time.perf_counter()
        self.spawn(argv, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.rfd = self.proc.stdout.fileno()
        self.wfd = self.proc.stdin.fileno()
        self.buf = b""
        self.next_id = 0
        # bytes written to the server's stdin and complete lines read from its stdout
        # (newlines included): the bytes on the wire, which load cannot change
        self.bytes_out = 0
        self.bytes_in = 0

    # -- failure reporting (``fail`` is ChildServer's)
    def exit_status(self):
        try:  # a server that closed its stdout is usually exiting: get its status
            return self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return None

    # -- wire
    def send(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n"
        self.bytes_out += len(data)
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.wfd, view)
                view = view[n:]
        except OSError as exc:
            raise self.fail("writing to its stdin failed: %s" % exc)

    def _readline(self, deadline):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = self.buf[:i]
                self.buf = self.buf[i + 1:]
                self.bytes_in += i + 1
                return line
            if len(self.buf) > MAX_LINE:
                raise self.fail("a stdout line longer than %d bytes" % MAX_LINE)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise self.fail("timed out waiting for a response")
            ready, _, _ = select.select([self.rfd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                raise self.fail("closed its stdout")
            self.buf += chunk

    def wait_response(self, rid, deadline):
        """The result of request ``rid``; notifications read meanwhile are skipped."""
        for _ in range(MAX_SKIPPED):
            line = self._readline(deadline)
            if not line.strip():
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                raise self.fail("a non-JSON line on stdout: %r" % line[:200])
            if not isinstance(msg, dict):
                raise self.fail("a non-object message: %r" % line[:200])
            if "method" in msg:
                if "id" in msg:  # a server->client request: refuse it so it can't stall
                    self.send({"jsonrpc": "2.0", "id": msg["id"],
                               "error": {"code": -32601, "message": "not supported by the benchmark"}})
                continue
            if msg.get("id") != rid:
                raise self.fail("a response with id %r while waiting for %r" % (msg.get("id"), rid))
            if "error" in msg:
                raise self.fail("an error response: %s" % json.dumps(msg["error"])[:300])
            if not isinstance(msg.get("result"), dict):
                raise self.fail("a response without a result object: %r" % line[:300])
            return msg["result"]
        raise self.fail("more than %d notifications without the response" % MAX_SKIPPED)

    def request(self, method, params, timeout):
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return self.wait_response(rid, time.perf_counter() + timeout)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    # -- process facts (``rss_mib`` is ChildServer's)
    def close(self, timeout=5.0):
        """Close stdin (EOF) and wait; return (exit status, seconds to exit) or (None, None)."""
        t0 = time.perf_counter()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = wait_exit(self.proc, self.rfd, t0 + timeout)
            return code, (None if code is None else time.perf_counter() - t0)
        finally:
            self.kill()


# --------------------------------------------------------------------------- checks

def initialize_params():
    return {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}


def discover_params():
    return {"_meta": {META_VERSION: MODERN_VERSION, META_CAPS: {}}}


def check_initialize(sp, result):
    if result.get("protocolVersion") != LEGACY_VERSION:
        raise sp.fail("initialize answered protocolVersion %r, expected %r"
                      % (result.get("protocolVersion"), LEGACY_VERSION))
    caps = result.get("capabilities")
    if not isinstance(caps, dict) or "tools" not in caps:
        raise sp.fail("initialize result has no tools capability: %r" % (caps,))
    if not isinstance(result.get("serverInfo"), dict):
        raise sp.fail("initialize result has no serverInfo")


def check_discover(sp, result):
    versions = result.get("supportedVersions")
    if not isinstance(versions, list) or MODERN_VERSION not in versions:
        raise sp.fail("server/discover result lacks %s in supportedVersions: %r"
                      % (MODERN_VERSION, versions))


def check_add(sp, result, expected):
    wrong = check_sum(result, expected)
    if wrong:
        raise sp.fail(("tools/call add returned %s" if result.get("isError") else "add returned %s")
                      % wrong)


# --------------------------------------------------------------------------- columns

class Column(object):
    def __init__(self, key, kind, label, python, script, env=None):
        self.key = key
        self.kind = kind  # "mcplite" | "sdk" | "raw" (a baseline twin is "mcplite" too)
        self.label = label
        self.python = python  # a dict from python_info()
        self.script = script
        self.env = env  # None: the run's environment; a baseline twin's names its checkout
        self.error = None
        self.init_ms = []
        self.discover_ms = []
        self.rss = []
        self.eof_codes = []
        self.eof_ms = []
        self.calls = {}  # affinity mode -> {"rounds": [calls/s], "latencies": [seconds]}
        self.rss_after_calls = None
        self.wire = None  # (bytes to the server, bytes from it) per sequential call, medians
        self.interpreter = None  # "current" | "sdk-python"
        self.affinity_order = []

    def _first(self, field):
        for mode in self.affinity_order:
            if mode in self.calls:
                return self.calls[mode][field]
        return []

    @property
    def argv(self):
        return [self.python["executable"], self.script]

    def to_json(self):
        return {
            "label": self.label,
            "kind": self.kind,
            "python": self.python["executable"],
            "python_version": self.python["version"],
            "error": self.error,
            "spawn_initialize_ms": summary(self.init_ms),
            "spawn_discover_ms": summary(self.discover_ms),
            "idle_rss_mib": summary(self.rss),
            "rss_after_calls_mib": rnd(self.rss_after_calls, 2),
            # per sequential tools/call, averaged over a round (the ids and numbers grow)
            "wire_bytes_per_call": None if self.wire is None else {
                "to_server": rnd(self.wire[0], 1), "from_server": rnd(self.wire[1], 1)},
            # the first placement of --affinity; every placement under "calls_by_affinity"
            "calls_per_s": summary(self._first("rounds"), 0),
            "latency_us": percentiles(self._first("latencies")),
            "pipelined_calls_per_s": summary(self._first("pipelined"), 0),
            # the server's own CPU time (every thread) per call, from /proc
            "server_cpu_us_per_call": summary(self._first("cpu_us"), 1),
            "pipelined_server_cpu_us_per_call": summary(self._first("pipelined_cpu_us"), 1),
            "calls_by_affinity": dict(
                (mode, {"calls_per_s": summary(st["rounds"], 0),
                        "pipelined_calls_per_s": summary(st["pipelined"], 0),
                        "server_cpu_us_per_call": summary(st["cpu_us"], 1),
                        "pipelined_server_cpu_us_per_call": summary(st["pipelined_cpu_us"], 1),
                        "latency_us": percentiles(st["latencies"])})
                for mode, st in self.calls.items()),
            "eof_exit": {"codes": sorted(set(self.eof_codes), key=str),
                         "ms_median": rnd(median(self.eof_ms), 1)},
        }


# --------------------------------------------------------------------------- phases

def time_imports(specs, runs, timeout):
    """specs: list of (key, executable, code, env, working directory). Median wall ms per
    key, runs interleaved."""
    times = dict((spec[0], []) for spec in specs)
    for key, exe, code, env, cwd in specs:  # warm-up: writes .pyc files, fills the page cache
        rc, err, _ = run_quiet([exe, "-c", code], env, timeout, cwd=cwd)
        if rc != 0:
            raise BenchError("%s -c %r failed: %s" % (exe, code, err.strip()[-800:]))
    for _ in range(runs):
        for key, exe, code, env, cwd in specs:
            t0 = time.perf_counter()
            proc = subprocess.Popen([exe, "-c", code], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    cwd=cwd, env=env)
            register(proc)
            try:
                rc = wait_exit(proc, proc.stdout.fileno(), t0 + timeout)
            finally:
                reap(proc)
            if rc is None:
                raise BenchError("%s -c %r timed out" % (exe, code))
            if rc != 0:
                raise BenchError("%s -c %r exited with %s" % (exe, code, rc))
            times[key].append((time.perf_counter() - t0) * 1000.0)
    return times


def spawn_answered(col, env, method, params, check, timeout):
    """A fresh server of ``col``, its answer to one request checked: (the ServerProc,
    seconds from its ``Popen`` to that answer)."""
    sp = ServerProc(col.argv, col.env or env, col.label)
    try:
        result = sp.request(method, params, timeout)
        elapsed = time.perf_counter() - sp.t_spawn
        check(sp, result)
        return sp, elapsed
    except BaseException:
        sp.kill()
        raise


def spawn_legacy(col, env, timeout, record):
    sp, elapsed = spawn_answered(col, env, "initialize", initialize_params(), check_initialize, timeout)
    try:
        sp.notify("notifications/initialized")
        sp.request("ping", {}, timeout)
        time.sleep(SETTLE_S)
        rss = sp.rss_mib()
        code, secs = sp.close()
        if record:
            col.init_ms.append(elapsed * 1000.0)
            if rss is not None:
                col.rss.append(rss)
            col.eof_codes.append(code)
            if secs is not None:
                col.eof_ms.append(secs * 1000.0)
    finally:
        sp.kill()


def spawn_modern(col, env, timeout, record):
    sp, elapsed = spawn_answered(col, env, "server/discover", discover_params(), check_discover, timeout)
    sp.kill()
    if record:
        col.discover_ms.append(elapsed * 1000.0)


def start_session(col, env, timeout):
    sp, _ = spawn_answered(col, env, "initialize", initialize_params(), check_initialize, timeout)
    try:
        sp.notify("notifications/initialized")
        return sp
    except BaseException:
        sp.kill()
        raise


def call_round(sp, n, first, call_timeout, latencies):
    """``n`` sequential ``add`` calls; returns the elapsed seconds."""
    perf = time.perf_counter
    t_start = perf()
    for i in range(first, first + n):
        sp.next_id += 1
        rid = sp.next_id
        t0 = perf()
        sp.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                 "params": {"name": "add", "arguments": {"a": i, "b": 1}}})
        result = sp.wait_response(rid, t0 + call_timeout)
        t1 = perf()
        check_add(sp, result, i + 1)
        if latencies is not None:
            latencies.append(t1 - t0)
    return perf() - t_start


def cpu_seconds(pid):
    """The user + system CPU time process ``pid`` has used so far (all its threads), or None
    where /proc cannot tell. Less sensitive to a busy machine than calls/s: time spent
    waiting for a CPU is not counted."""
    try:  # nanoseconds on a CPU, thread by thread (the threads of a server never end early)
        total = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:  # clock ticks (10 ms): enough over many calls only
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def _cpu_us_per_call(before, after, n):
    return None if before is None or after is None else (after - before) / n * 1e6


def pipelined_round(sp, n, first, window, call_timeout):
    """``n`` ``add`` calls with up to ``window`` of them in flight (written in chunks while the
    answers are read, both sides non-blocking so neither pipe can fill up and stall the
    other); every answer checked, in whatever order it comes. Returns the elapsed seconds."""
    perf = time.perf_counter
    expected = {}
    lines = []
    for i in range(first, first + n):
        sp.next_id += 1
        expected[sp.next_id] = i + 1
        lines.append(json.dumps({"jsonrpc": "2.0", "id": sp.next_id, "method": "tools/call",
                                 "params": {"name": "add", "arguments": {"a": i, "b": 1}}},
                                separators=(",", ":")).encode("utf-8") + b"\n")
    os.set_blocking(sp.wfd, False)
    t_start = perf()
    deadline = t_start + call_timeout + n * 0.01
    out = b""
    sent = received = 0
    try:
        while received < n:
            if not out and sent < n and sent - received < window:
                count = min(64, n - sent, window - (sent - received))
                out = b"".join(lines[sent:sent + count])
                sent += count
            remaining = deadline - perf()
            if remaining <= 0:
                raise sp.fail("timed out with %d of %d pipelined answers" % (received, n))
            readable, writable, _ = select.select([sp.rfd], [sp.wfd] if out else [], [], remaining)
            if writable:
                try:
                    written = os.write(sp.wfd, out)
                    out = out[written:]
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise sp.fail("writing to its stdin failed: %s" % exc)
            if readable:
                chunk = os.read(sp.rfd, 1 << 16)
                if not chunk:
                    raise sp.fail("closed its stdout")
                sp.buf += chunk
                *complete, sp.buf = sp.buf.split(b"\n")
                for line in complete:
                    msg = json.loads(line)
                    want = expected.pop(msg.get("id"), None)
                    if want is None or "result" not in msg:
                        raise sp.fail("an unexpected pipelined answer: %r" % line[:200])
                    check_add(sp, msg["result"], want)
                    received += 1
    finally:
        os.set_blocking(sp.wfd, True)
    return perf() - t_start


def plan_affinity(mode):
    """(server CPUs, client CPUs, description) for a placement; CPUs None = not pinned.

    Why pin: a round trip wakes the other process twice. On the same CPU that is a plain
    context switch; across CPUs it is a wake-up of another (often idle) CPU, which costs far
    more on a virtual machine (~70 us per round trip measured on a 2-vCPU VM) and which the
    scheduler does sometimes and not others, so unpinned numbers can jump between runs.
    "same" measures what each server costs; "none" is what a user gets.
    """
    if mode == "none":
        return None, None, "none: the OS scheduler places the client and the servers"
    if not hasattr(os, "sched_setaffinity"):
        return None, None, "none: this platform cannot pin processes to CPUs (%s requested)" % mode
    cpus = sorted(os.sched_getaffinity(0))
    if mode == "split" and len(cpus) >= 2:
        return ({cpus[1]}, {cpus[0]},
                "split: the client on CPU %d, every server thread on CPU %d" % (cpus[0], cpus[1]))
    note = "" if mode == "same" else " (split needs 2 CPUs)"
    return ({cpus[0]}, {cpus[0]},
            "same: the client and every server thread on CPU %d%s" % (cpus[0], note))


def calls_phase(columns, env, args, mode, placement):
    """Time ``args.rounds`` rounds of ``args.calls`` sequential calls per server. Each round
    uses a fresh server process (started, initialized, warmed up with ``args.warmup`` calls),
    so one unlucky process cannot skew the median; the rounds are interleaved across the
    servers so that a slow patch of the machine hits every server alike."""
    server_cpus, client_cpus, _ = placement
    original = os.sched_getaffinity(0) if server_cpus is not None else None
    stats = dict((col.key, {"rounds": [], "latencies": [], "rss": [], "pipelined": [], "cpu_us": [],
                            "pipelined_cpu_us": [], "wire_out": [], "wire_in": []}) for col in columns)
    try:
        counter = 0
        for r in range(args.rounds):
            log("call round %d/%d (%s)" % (r + 1, args.rounds, mode))
            for col in columns:
                if col.error is not None:
                    continue
                if server_cpus is not None:
                    os.sched_setaffinity(0, server_cpus)  # inherited by the child and its threads
                sp = None
                try:
                    sp = start_session(col, env, args.timeout)
                    if client_cpus is not None:
                        os.sched_setaffinity(0, client_cpus)
                    call_round(sp, args.warmup, counter, args.call_timeout, None)
                    cpu0 = cpu_seconds(sp.proc.pid)
                    out0, in0 = sp.bytes_out, sp.bytes_in
                    secs = call_round(sp, args.calls, counter + args.warmup, args.call_timeout,
                                      stats[col.key]["latencies"])
                    cpu1 = cpu_seconds(sp.proc.pid)
                    stats[col.key]["wire_out"].append((sp.bytes_out - out0) / float(args.calls))
                    stats[col.key]["wire_in"].append((sp.bytes_in - in0) / float(args.calls))
                    stats[col.key]["rounds"].append(args.calls / secs)
                    secs = pipelined_round(sp, args.calls, counter + args.warmup, PIPELINE_WINDOW,
                                           args.call_timeout)
                    cpu2 = cpu_seconds(sp.proc.pid)
                    stats[col.key]["pipelined"].append(args.calls / secs)
                    for field, value in (("cpu_us", _cpu_us_per_call(cpu0, cpu1, args.calls)),
                                         ("pipelined_cpu_us", _cpu_us_per_call(cpu1, cpu2, args.calls))):
                        if value is not None:
                            stats[col.key][field].append(value)
                    rss = sp.rss_mib()
                    if rss is not None:
                        stats[col.key]["rss"].append(rss)
                except BenchError as exc:
                    col.error = str(exc)
                finally:
                    if sp is not None:
                        sp.kill()
            counter += args.warmup + args.calls
        for col in columns:
            if col.error is None:
                col.calls[mode] = stats[col.key]
                if col.rss_after_calls is None and stats[col.key]["rss"]:
                    col.rss_after_calls = statistics.median(stats[col.key]["rss"])
                if col.wire is None and stats[col.key]["wire_in"]:
                    col.wire = (statistics.median(stats[col.key]["wire_out"]),
                                statistics.median(stats[col.key]["wire_in"]))
    finally:
        if original is not None:
            os.sched_setaffinity(0, original)


# --------------------------------------------------------------------------- report

def print_report(rep, columns):
    cfg = rep["config"]
    p = print
    p("mcplite stdio benchmark (%s: %d import runs, %d spawns, %d rounds x %d calls, %d warm-up)"
      % (rep["mode"], cfg["import_runs"], cfg["spawns"], cfg["rounds"], cfg["calls"], cfg["warmup"]))
    p("command: %s" % rep["command"])
    p("machine: %s, %s CPUs" % (rep["machine"]["platform"], rep["machine"]["cpus"]))
    p("")
    print_interpreters(p, rep, startup_modules=True)
    for note in rep["notes"]:
        p("  note: " + note)
    p("")

    imp = rep["import_ms"]
    if imp:
        p("Import time (wall ms of the whole `python -c ...` process, median of %d runs;"
          % cfg["import_runs"])
        p("overhead = above a bare `python -c pass` of the same interpreter)")
        rows = []
        for key in ("bare", "mcplite", "mcplite" + BASELINE, "bare@sdk-python", "mcplite@sdk-python",
                    "mcplite%s@sdk-python" % BASELINE, "sdk"):
            if key in imp:
                e = imp[key]
                rows.append(["python -c %r%s" % (e["command"], "  (baseline)" if e.get("baseline") else ""),
                             e["interpreter"], e["python_version"],
                             fmt(e["median"]), fmt(e.get("overhead"), "+%.1f")])
        p(render_table(["command", "interpreter", "python", "ms", "overhead ms"], rows))
        p("")

    for a in rep["affinity"]:
        p("CPU placement for the tools/call rounds: %s" % a["description"])
    p("")
    first = rep["affinity"][0]["mode"] if rep["affinity"] else None
    p("Servers over stdio (medians; calls/s and latency with CPU placement %r, latency over"
      " every timed call; pipelined/s: the same calls with up to %d in flight; CPU us: the server"
      " process's CPU time per call, all threads)" % (first, PIPELINE_WINDOW))
    rows = []
    for col in columns:
        j = rep["servers"][col.key]
        lat = j["latency_us"] or {}
        rows.append([col.label + (" FAILED" if col.error else ""), col.python["version"],
                     fmt((j["spawn_initialize_ms"] or {}).get("median")),
                     fmt((j["spawn_discover_ms"] or {}).get("median")),
                     fmt((j["idle_rss_mib"] or {}).get("median")),
                     fmt((j["calls_per_s"] or {}).get("median"), "%.0f"),
                     fmt((j["pipelined_calls_per_s"] or {}).get("median"), "%.0f"),
                     fmt((j["server_cpu_us_per_call"] or {}).get("median")),
                     fmt((j["pipelined_server_cpu_us_per_call"] or {}).get("median")),
                     fmt(lat.get("p50")), fmt(lat.get("p99")),
                     fmt(j["rss_after_calls_mib"]),
                     fmt(j["eof_exit"]["ms_median"])])
    p(render_table(["server", "python", "spawn->init ms", "spawn->discover ms",
                    "idle RSS MiB", "calls/s", "pipelined/s", "CPU us/call", "pipelined CPU us", "p50 us", "p99 us", "RSS after MiB",
                    "EOF->exit ms"], rows))
    for col in columns:
        codes = rep["servers"][col.key]["eof_exit"]["codes"]
        if codes and codes != [0]:
            p("  note: %s exit status after stdin EOF: %s (None = still running after 5 s)"
              % (col.label, codes))
    p("")

    rows = []
    for col in columns:
        wire = rep["servers"][col.key].get("wire_bytes_per_call")
        if wire:
            rows.append([col.label, col.python["version"], fmt(wire["to_server"]), fmt(wire["from_server"])])
    if rows:
        p("Bytes on the wire per sequential tools/call (the same requests for every server; each"
          " round's mean, median over the rounds; not changed by load)")
        p(render_table(["server", "python", "to server", "from server"], rows))
        p("")

    if len(rep["affinity"]) > 1:
        p("tools/call by CPU placement (calls/s median, p50 us, calls/s over the raw floor of the"
          " same interpreter and over the SDK)")
        modes = [a["mode"] for a in rep["affinity"]]
        rows = []
        for col in columns:
            by = rep["servers"][col.key]["calls_by_affinity"]
            row = [col.label]
            for m in modes:
                e = by.get(m) or {}
                row += [fmt((e.get("calls_per_s") or {}).get("median"), "%.0f"),
                        fmt((e.get("latency_us") or {}).get("p50")),
                        fmt(e.get("vs_raw"), "%.2fx"), fmt(e.get("vs_sdk"), "%.2fx")]
            rows.append(row)
        heads = ["server"]
        for m in modes:
            heads += ["%s calls/s" % m, "p50 us", "/raw", "/SDK"]
        p(render_table(heads, rows))
        p("")

    print_ratios(p, "Ratios", rep["ratios"])
    if "baseline" in rep:
        print_before_after(p, rep["baseline"])

    print_targets(p, "Targets (issue 2, item 10; issue 23, item 1)", rep["targets"])
    print_errors(p, rep["errors"])

# --------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(ap, "few rounds: a CI smoke run")
    ap.add_argument("--import-runs", type=int, help="runs per import timing")
    ap.add_argument("--spawns", type=int, help="timed spawns per server and handshake")
    ap.add_argument("--rounds", type=int, help="timed rounds of calls per server")
    ap.add_argument("--calls", type=int, help="calls per round")
    ap.add_argument("--warmup", type=int, help="untimed calls before each timed round")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds allowed for a server to start and answer (default 60)")
    ap.add_argument("--affinity", metavar="MODES", default=None,
                    help="CPU placement for the tools/call rounds, one run of them per mode:"
                         " same (client and server pinned to one CPU: reproducible, what each server"
                         " costs), split (one CPU each), none (unpinned: what users get, but it jumps"
                         " between runs on VMs). The first mode feeds the main table and the"
                         " targets. Default: same,none (--quick: same)")
    ap.add_argument("--call-timeout", type=float, default=10.0,
                    help="seconds allowed for one tools/call (default 10)")
    add_baseline_option(ap)
    args = ap.parse_args(argv)
    args.kinds = parse_kinds(ap, args.only)
    check_baseline(ap, args)
    modes = [m.strip() for m in (args.affinity or ("same" if args.quick else "same,none")).split(",")
             if m.strip()]
    if not modes or any(m not in ("same", "split", "none") for m in modes) or len(set(modes)) != len(modes):
        ap.error("--affinity takes distinct modes among same, split and none, got %r" % args.affinity)
    args.affinity = modes
    apply_counts(ap, args, QUICK if args.quick else FULL, 10 ** 7)
    return args


def main(argv=None):
    return run_main(parse_args, run, argv)


def run(args):
    env = bench_env()
    errors = []
    rep = new_report(args, FULL, " ".join(["python", "bench/bench_stdio.py"] + sys.argv[1:]),
                     {"platform": sys.platform, "cpus": os.cpu_count()}, affinity=args.affinity)
    rep.update(import_ms={}, servers={}, ratios=[], targets=[], errors=errors, notes=[], affinity=[])

    # -- interpreters: "current" (sys.executable) always; "sdk-python" when an SDK is usable
    current, sdk, sdk_py, want_mcplite, also_sdk_python, interps = discover_interpreters(
        args, env, rep, errors, "from mcplite import Server", "import mcp.server.mcpserver",
        startup_modules=True)
    if sdk_py is not None and current["startup_modules"] - sdk_py["startup_modules"] >= 10:
        rep["notes"].append(
            "the current interpreter loads %d more modules than sdk-python before running any code"
            " (site-packages .pth files?): that start-up work inflates its spawn times and RSS and"
            " hides part of mcplite's import cost (modules already loaded); the sdk-python columns"
            " are the cleaner measurement" % (current["startup_modules"] - sdk_py["startup_modules"]))

    # -- the baseline checkout: its twins run with this environment, PYTHONPATH apart
    benv = None
    if args.baseline is not None and want_mcplite:
        benv = baseline_env(env, args.baseline)
        rep["baseline"] = new_baseline_report(args.baseline, env, args.timeout)
        err = check_mcplite_from(sys.executable, benv, args.baseline, "from mcplite import Server",
                                 args.timeout)
        if err:
            errors.append("--baseline: " + err)
            benv = None

    # -- columns
    columns = []
    for kind, script, name in (("mcplite", "mcplite_add.py", "mcplite"),
                               ("mcplite", "mcplite_add_inline.py", "mcplite inline=True"),
                               ("sdk", "sdk_add.py", "SDK MCPServer"),
                               ("raw", "raw_floor.py", "raw floor")):
        if kind == "sdk":
            if sdk["available"]:
                columns.append(Column("sdk", "sdk", "%s (%s, sdk-python)" % (name, short_python(sdk_py)),
                                      sdk_py, os.path.join(SERVERS, script)))
            continue
        if (kind == "mcplite" and not want_mcplite) or kind not in args.kinds:
            continue
        inline = script == "mcplite_add_inline.py"
        for suffix, tag, info in interps:
            col = Column(kind + ("-inline" if inline else "") + suffix, kind,
                         "%s (%s, %s)" % (name, short_python(info), tag), info, os.path.join(SERVERS, script))
            col.interpreter = tag
            columns.append(col)
            if kind == "mcplite" and benv is not None:  # its twin, next to it in every round
                twin = Column(kind + ("-inline" if inline else "") + BASELINE + suffix, kind,
                              "%s%s (%s, %s)" % (name, BASELINE, short_python(info), tag), info,
                              os.path.join(SERVERS, script), env=benv)
                twin.interpreter = tag
                columns.append(twin)
    for col in columns:
        if col.kind == "sdk":
            col.interpreter = "sdk-python"
        col.affinity_order = args.affinity

    # -- 1. import time
    # (key, interpreter, code, env, working directory): `python -c` puts its working directory
    # first on sys.path, so the baseline's import runs in the baseline checkout
    here = (env, REPO)
    specs = [("bare", "current", "pass") + here]
    if want_mcplite:
        specs.append(("mcplite", "current", "import mcplite") + here)
        if benv is not None:
            specs.append(("mcplite" + BASELINE, "current", "import mcplite", benv, args.baseline))
    if sdk["available"]:
        if sdk_py["executable"] != sys.executable:
            specs.append(("bare@sdk-python", "sdk-python", "pass") + here)
        if also_sdk_python and want_mcplite:
            specs.append(("mcplite@sdk-python", "sdk-python", "import mcplite") + here)
            if benv is not None:
                specs.append(("mcplite%s@sdk-python" % BASELINE, "sdk-python", "import mcplite",
                              benv, args.baseline))
        specs.append(("sdk", "sdk-python", "import mcp.server.mcpserver") + here)
    exe_specs = [(key, rep["pythons"][tag]["executable"], code, e, cwd)
                 for key, tag, code, e, cwd in specs]
    log("import timing: %d runs x %d commands" % (args.import_runs, len(specs)))
    try:
        times = time_imports(exe_specs, args.import_runs, args.timeout)
        for key, tag, code, _, _ in specs:
            entry = {"command": code, "interpreter": tag,
                     "python": rep["pythons"][tag]["executable"],
                     "python_version": rep["pythons"][tag]["version"],
                     "median": rnd(statistics.median(times[key]), 2),
                     "runs": [round(t, 2) for t in times[key]]}
            if BASELINE in key:
                entry["baseline"] = True
            base = "bare" if rep["pythons"][tag]["executable"] == sys.executable else "bare@sdk-python"
            if not key.startswith("bare") and base in times:
                entry["overhead"] = rnd(statistics.median(times[key]) - statistics.median(times[base]), 2)
            rep["import_ms"][key] = entry
    except BenchError as exc:
        errors.append("import timing: %s" % exc)

    # -- 2 + 3. spawn -> initialize / discover, idle RSS; spawns interleaved across servers
    for col in columns:  # warm-up: .pyc files, page cache; also proves the server works at all
        log("warm-up spawn: %s" % col.label)
        try:
            spawn_legacy(col, env, args.timeout, record=False)
            spawn_modern(col, env, args.timeout, record=False)
        except BenchError as exc:
            col.error = str(exc)
    for i in range(args.spawns):
        log("spawn round %d/%d" % (i + 1, args.spawns))
        for col in columns:
            if col.error is not None:
                continue
            try:
                spawn_legacy(col, env, args.timeout, record=True)
                spawn_modern(col, env, args.timeout, record=True)
            except BenchError as exc:
                col.error = str(exc)

    # -- 4. sequential tools/call, once per CPU placement
    for mode in args.affinity:
        placement = plan_affinity(mode)
        rep["affinity"].append({"mode": mode, "applied": placement[0] is not None,
                                "description": placement[2]})
        calls_phase(columns, env, args, mode, placement)

    servers = rep["servers"]
    for col in columns:
        servers[col.key] = col.to_json()
        servers[col.key]["interpreter"] = col.interpreter
        if col.error:
            errors.append(col.error)

    # -- ratios and targets
    def med(key, field):
        return ((servers.get(key) or {}).get(field) or {}).get("median")

    def add_ratio(name, a, b):
        rep["ratios"].append({"name": name, "value": rnd(ratio(a, b), 3)})

    for suffix, tag, info in interps:
        mk, rk = "mcplite" + suffix, "raw" + suffix
        if mk in servers and "sdk" in servers:
            add_ratio("calls/s: %s / %s" % (servers[mk]["label"], servers["sdk"]["label"]),
                      med(mk, "calls_per_s"), med("sdk", "calls_per_s"))
        if mk in servers and rk in servers:
            add_ratio("calls/s: %s / %s" % (servers[mk]["label"], servers[rk]["label"]),
                      med(mk, "calls_per_s"), med(rk, "calls_per_s"))
        if mk in servers and "sdk" in servers:
            add_ratio("spawn->initialize: %s / %s" % (servers["sdk"]["label"], servers[mk]["label"]),
                      med("sdk", "spawn_initialize_ms"), med(mk, "spawn_initialize_ms"))
            add_ratio("idle RSS: %s / %s" % (servers["sdk"]["label"], servers[mk]["label"]),
                      med("sdk", "idle_rss_mib"), med(mk, "idle_rss_mib"))
    rk = "raw@sdk-python" if also_sdk_python else "raw"
    if rk in servers and "sdk" in servers:
        add_ratio("calls/s: %s / %s (reference)" % (servers["sdk"]["label"], servers[rk]["label"]),
                  med("sdk", "calls_per_s"), med(rk, "calls_per_s"))
    # per CPU placement: each server's calls/s over the raw floor of its interpreter and
    # over the SDK
    for key, entry in servers.items():
        raw_key = "raw@sdk-python" if entry["interpreter"] == "sdk-python" else "raw"
        for mode, by in entry["calls_by_affinity"].items():
            mine = (by.get("calls_per_s") or {}).get("median")
            for other, name in ((raw_key, "vs_raw"), ("sdk", "vs_sdk")):
                theirs = (((servers.get(other) or {}).get("calls_by_affinity") or {}).get(mode) or {})
                by[name] = rnd(ratio(mine, (theirs.get("calls_per_s") or {}).get("median")), 3)

    # before and after: each figure of mcplite over its baseline twin's, per interpreter
    if "baseline" in rep:
        section = rep["baseline"]
        for suffix, tag, info in interps:
            mk, bk = "mcplite" + suffix, "mcplite" + BASELINE + suffix
            if mk not in servers or bk not in servers:
                continue
            cur, base = servers[mk], servers[bk]
            where = "(%s, %s)" % (short_python(info), tag)
            imp_m, imp_b = rep["import_ms"].get(mk) or {}, rep["import_ms"].get(bk) or {}
            before_after(section, "import mcplite ms %s" % where, imp_m.get("median"),
                         imp_b.get("median"), lower_is_better=True)
            before_after(section, "import mcplite overhead ms %s" % where, imp_m.get("overhead"),
                         imp_b.get("overhead"), lower_is_better=True)
            for field, name in (("spawn_initialize_ms", "spawn->initialize ms"),
                                ("spawn_discover_ms", "spawn->discover ms"),
                                ("idle_rss_mib", "idle RSS MiB")):
                before_after(section, "%s %s" % (name, where), cur[field], base[field], lower_is_better=True)
            before_after(section, "RSS after calls MiB %s" % where, cur["rss_after_calls_mib"],
                         base["rss_after_calls_mib"], lower_is_better=True)
            # The calls, by the default server and by its inline=True twin (whose baseline, a
            # checkout from before inline= existed, serves the tool the ordinary way).
            for prefix, what in (("mcplite", ""), ("mcplite-inline", "inline=True ")):
                cur, base = servers.get(prefix + suffix), servers.get(prefix + BASELINE + suffix)
                if cur is None or base is None:
                    continue
                for mode in args.affinity:
                    by_m = cur["calls_by_affinity"].get(mode) or {}
                    by_b = base["calls_by_affinity"].get(mode) or {}
                    before_after(section, "%scalls/s, CPUs %s %s" % (what, mode, where), by_m.get("calls_per_s"),
                                 by_b.get("calls_per_s"), nd=0)
                    before_after(section, "%spipelined calls/s, CPUs %s %s" % (what, mode, where),
                                 by_m.get("pipelined_calls_per_s"), by_b.get("pipelined_calls_per_s"), nd=0)
                    for field, name in (("server_cpu_us_per_call", "server CPU us/call"),
                                        ("pipelined_server_cpu_us_per_call", "pipelined server CPU us/call")):
                        before_after(section, "%s%s, CPUs %s %s" % (what, name, mode, where), by_m.get(field),
                                     by_b.get(field), lower_is_better=True)
                    before_after(section, "%sp50 latency us, CPUs %s %s" % (what, mode, where),
                                 (by_m.get("latency_us") or {}).get("p50"),
                                 (by_b.get("latency_us") or {}).get("p50"), lower_is_better=True)

    def target(name, tag, value, op, bound, fmt_):
        rep["targets"].append({"name": name, "interpreter": tag,
                               "value": None if value is None else round(value, 3),
                               "op": op, "bound": bound, "fmt": fmt_,
                               "met": target_met(value, op, bound)})

    for suffix, tag, info in interps:
        if not want_mcplite:
            break
        mk = "mcplite" + suffix
        target("import mcplite overhead (ms)", tag,
               (rep["import_ms"].get("mcplite" + suffix) or {}).get("overhead"), "<=", TARGET_IMPORT_MS, "%.1f")
        target("mcplite spawn->initialize (ms)", tag, med(mk, "spawn_initialize_ms"), "<=", TARGET_SPAWN_MS, "%.1f")
        target("mcplite idle RSS (MiB)", tag, med(mk, "idle_rss_mib"), "<=", TARGET_RSS_MIB, "%.1f")
        target("mcplite calls/s / SDK calls/s", tag,
               ratio(med(mk, "calls_per_s"), med("sdk", "calls_per_s")), ">=", TARGET_VS_SDK, "%.3f")
        target("mcplite calls/s / raw floor calls/s", tag,
               ratio(med(mk, "calls_per_s"), med("raw" + suffix, "calls_per_s")), ">=", TARGET_VS_RAW, "%.3f")
    for suffix, tag, info in interps:
        if not want_mcplite:
            break
        for mk in ("mcplite" + suffix, "mcplite-inline" + suffix):
            if mk not in servers:
                continue
            what = "mcplite inline=True" if "inline" in mk else "mcplite"
            target("%s sequential calls/s / raw floor (issue 23)" % what, tag,
                   ratio(med(mk, "calls_per_s"), med("raw" + suffix, "calls_per_s")), ">=",
                   TARGET_SEQ_VS_RAW, "%.3f")
            target("%s pipelined calls/s / raw floor (issue 23)" % what, tag,
                   ratio(med(mk, "pipelined_calls_per_s"), med("raw" + suffix, "pipelined_calls_per_s")), ">=",
                   TARGET_PIPE_VS_RAW, "%.3f")
    return finish_report(rep, errors, args.json, lambda: print_report(rep, columns))

if __name__ == "__main__":
    sys.exit(main())
