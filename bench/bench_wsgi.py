#!/usr/bin/env python3
"""WSGI benchmark: 2026-07-28 ``tools/call`` throughput and tail latency of mcplite under
production WSGI servers and its own ``http.server``, beside the official SDK under uvicorn.

The servers, each a fresh process group on 127.0.0.1 per round (``bench/servers/wsgi_servers.py``):

* ``gunicorn x1`` / ``gunicorn x2``: ``Server.wsgi()`` under gunicorn's ``gthread`` worker
  (8 threads a worker; the ``sync`` worker cannot hold an SSE stream), 1 and 2 workers;
* ``waitress``: ``Server.wsgi()`` under waitress (one process, 8 threads);
* ``http.server``: ``Server.run("http")``, mcplite's own front end (``mcplite serve``);
* ``SDK x1`` / ``SDK x2``: the official SDK (``mcp==2.3.0``) under uvicorn with 1 and 2
  workers, in its stateless JSON-answer mode (``stateless_http=True, json_response=True``),
  the like of 2026-07-28's stateless requests; it is driven at 2026-07-28 too.

Every mcplite server gets one ``state_secret`` (``$MCPLITE_BENCH_STATE_SECRET``, random per
run): with several workers the sealed state one makes must open in another.

The load: ``--load-procs`` processes (default 2), each running ``--threads`` client threads
(default 8): bench/bench_http.py's client (``Client`` in its ``modern`` mode, every answer
checked, so a broken server cannot look fast), one keep-alive connection each. Each thread
sends a warm-up, then all threads of all processes are released together (each process says
``ready``, then this one writes ``go`` to all) for ``--calls`` sequential calls each. Calls/s
is all the calls over the span from the first start to the last end (``time.monotonic``, one
clock for every process on Linux); p50 and p99 are over every call's latency; the server's
CPU time a call is its process group's (master and workers, ``/proc``) from the release to the
end over the calls: the one figure the machine's other work barely moves. Each round also
times ``Server.wsgi()`` called in one process without any HTTP server (``wsgi_servers.py
floor``): mcplite's own share of a call's CPU. The load runs
in processes of its own so that its GIL is not the server's, but it shares the machine's CPUs
with the servers: on a machine with few cores the client's own cost bounds every figure, and
a second worker has only what the client leaves. The load average and the CPU count are in
the report.

Rounds are interleaved (each round runs every server once, the order rotated), and the table
shows medians over the rounds. Ratios: each 2-worker server over its 1-worker run (target >=
1.7x), and mcplite over the SDK at the same worker count (target >= 3x calls/s); printed as
PASS/MISS, never asserted.

Usage::

    python bench/bench_wsgi.py            # full run (3 rounds), prints a table
    python bench/bench_wsgi.py --quick    # one short round: a CI smoke run (< 60 s)
    python bench/bench_wsgi.py --json     # the numbers as one JSON object on stdout

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
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    REPO, BenchError, bench_env, fmt, group_cpu_s, log, median, percentiles, ratio, reap, register, render_table,
    resolve_sdk_python, run_main, run_quiet, stop_group, target_met)

SERVERS_DIR = os.path.join(HERE, "servers")
SERVER_SCRIPT = os.path.join(SERVERS_DIR, "wsgi_servers.py")
HOST = "127.0.0.1"
SECRET_VARIABLE = "MCPLITE_BENCH_STATE_SECRET"  # read by wsgi_servers.py

QUICK = {"rounds": 1, "calls": 60, "warmup": 5, "threads": 4, "load_procs": 2}
FULL = {"rounds": 3, "calls": 400, "warmup": 20, "threads": 8, "load_procs": 2}
KEEPALIVE_S = 30  # every server keeps an idle connection this long: the warm-up's wait
WORKER_THREADS = 8  # gunicorn --threads (waitress has the same, in wsgi_servers.py)
START_TIMEOUT = 60.0
TARGET_SCALING = 1.7  # 2 workers over 1
TARGET_VS_SDK = 3.0  # mcplite calls/s over the SDK's at the same worker count

# name, family, workers; the table's order.
SERVERS = [("gunicorn x1", "gunicorn", 1), ("gunicorn x2", "gunicorn", 2), ("waitress", "waitress", 1),
           ("http.server", "http", 1), ("SDK x1", "sdk", 1), ("SDK x2", "sdk", 2)]


# --------------------------------------------------------------------------- the load (a process)

def load_worker(port, threads, calls, warmup, first, timeout):
    """The body of one load process: ``threads`` bench_http clients in 2026-07-28 mode, warmed
    up; prints ``ready``, waits for ``go`` on stdin, makes ``calls`` calls a thread, prints one
    JSON line: each thread's (start, end) and every latency, or the errors."""
    import bench_http

    barrier = threading.Barrier(threads + 1)
    go = threading.Event()
    results = [None] * threads
    errors = []

    def client_thread(k):
        client = bench_http.Client(port, "load", "modern", timeout)
        try:
            client.handshake()
            base = first + k * (warmup + calls)
            for i in range(base, base + warmup):
                client.call(i)
            barrier.wait(timeout)
            if not go.wait(timeout):
                raise BenchError("no go within %.0f s" % timeout)
            latencies = []
            began = time.monotonic()
            bench_http.sequential(client, calls, base + warmup, latencies)
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
    try:
        barrier.wait(timeout)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip() == "go":
            go.set()
    except threading.BrokenBarrierError:
        pass
    deadline = time.monotonic() + timeout + calls * timeout
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    if not errors and any(r is None for r in results):
        errors.append("client threads did not finish in time")
    done = [r for r in results if r is not None]
    sys.stdout.write(json.dumps({"errors": errors, "spans": [[r[0], r[1]] for r in done],
                                 "latencies": [x for r in done for x in r[2]]}) + "\n")
    sys.stdout.flush()
    return 0


def read_line(proc, deadline):
    """One line of a load process's stdout by ``deadline`` (``""`` if none came)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([proc.stdout], [], [], remaining)[0]:
        return ""
    return proc.stdout.readline().decode("utf-8", "replace")


def run_load(port, args, env, server_cpu=lambda: None):
    """The load processes against ``port``, released together: (calls/s, latencies, the
    server's CPU seconds from the release until every process reported: ``server_cpu()``'s
    difference, None where it gives none)."""
    procs = []
    try:
        for n in range(args.load_procs):
            first = 1 + n * args.threads * (args.warmup + args.calls)
            proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--load-worker", str(port), str(args.threads),
                 str(args.calls), str(args.warmup), str(first), str(args.call_timeout)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, env=env)
            register(proc)
            procs.append(proc)
        deadline = time.monotonic() + args.timeout
        for p in procs:
            answer = read_line(p, deadline)
            if answer.strip() != "ready":  # its error report, or nothing (it hung): the others are killed
                raise BenchError("a load process did not get ready: %s" % (answer.strip()[:500] or "no answer"))
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
    return len(latencies) / elapsed, latencies, cpu


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


def server_argv(family, workers, port, wsgi_py, sdk_py):
    if family == "gunicorn":
        return [wsgi_py, "-m", "gunicorn", "-b", "%s:%d" % (HOST, port), "--no-control-socket", "-k", "gthread",
                "--threads", str(WORKER_THREADS), "--workers", str(workers), "--keep-alive", str(KEEPALIVE_S),
                "--graceful-timeout", "1", "--log-level", "warning", "wsgi_servers:mcplite_wsgi()"]
    if family == "waitress":
        return [wsgi_py, SERVER_SCRIPT, "waitress", str(port)]
    if family == "http":
        return [wsgi_py, SERVER_SCRIPT, "http", str(port)]
    return [sdk_py, "-m", "uvicorn", "--factory", "wsgi_servers:sdk_asgi", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--timeout-keep-alive", str(KEEPALIVE_S), "--log-level", "warning",
            "--no-access-log"]


def app_floor(wsgi_py, env, args):
    """mcplite's own CPU time a call, without any HTTP server: ``Server.wsgi()`` called in
    one process with a request's environ (``wsgi_servers.py floor``), 4 x ``--calls`` calls,
    each answer checked. (microseconds, None) or (None, why not)."""
    rc, err, out = run_quiet([wsgi_py, SERVER_SCRIPT, "floor", str(4 * args.calls)], env, args.timeout)
    try:
        return (float(out.strip().splitlines()[-1]), None) if rc == 0 else (None, err.strip()[-500:])
    except (ValueError, IndexError):
        return None, "wsgi_servers.py floor printed %r" % out[:200]


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
    if isinstance(args, list):  # --load-worker PORT THREADS CALLS WARMUP FIRST CALL_TIMEOUT
        port, threads, calls, warmup, first = (int(x) for x in args[1:6])
        return load_worker(port, threads, calls, warmup, first, float(args[6]))
    env = bench_env()
    env[SECRET_VARIABLE] = binascii.hexlify(os.urandom(32)).decode()
    env["PYTHONPATH"] = os.pathsep.join([REPO, SERVERS_DIR])
    wsgi_py = args.wsgi_python or os.environ.get("MCPLITE_WSGI_PYTHON") or os.path.join(
        REPO, ".cache", "wsgi-venv", "bin", "python")
    sdk_py, sdk_source = resolve_sdk_python(args.sdk_python)
    missing = {}
    needs = {"gunicorn": (wsgi_py, "import gunicorn, mcplite"), "waitress": (wsgi_py, "import waitress, mcplite"),
             "http": (wsgi_py, "import mcplite"), "sdk": (sdk_py, "import uvicorn, mcp.server.mcpserver")}
    why_not = {}  # type: dict
    for name, family, _ in SERVERS:
        if name in args.rows:
            if family not in why_not:
                why_not[family] = usable(needs[family][0], needs[family][1], env, args.timeout)
            if why_not[family]:
                missing[name] = why_not[family]
    rows = [s for s in SERVERS if s[0] in args.rows and s[0] not in missing]
    for name, why in sorted(missing.items()):
        log("%s: left out: %s" % (name, why))

    rep = {"schema": 1, "mode": "quick" if args.quick else "full", "cpus": os.cpu_count(),
           "load_average": {"start": load_average(), "rounds": []},
           "config": {k: getattr(args, k) for k in FULL},
           "pythons": {"wsgi": wsgi_py, "sdk": "%s (%s)" % (sdk_py, sdk_source), "load": sys.executable},
           "left_out": missing, "rounds": {name: [] for name, _, _ in rows}, "floor_us_call": [],
           "errors": []}
    import bench_http
    for r in range(args.rounds):
        order = rows[r % len(rows):] + rows[:r % len(rows)] if rows else []
        for name, family, workers in order:
            server = None
            try:
                port = bench_http.free_port()
                server = ServerGroup(name, server_argv(family, workers, port, wsgi_py, sdk_py), env, port,
                                     SERVERS_DIR)
                rate, latencies, cpu = run_load(port, args, env, lambda: group_cpu_s(server.proc.pid))
                p = percentiles(latencies)
                cpu_us = None if cpu is None else round(cpu * 1e6 / len(latencies), 1)
                rep["rounds"][name].append({"calls_s": round(rate, 1), "p50_ms": p["p50"] / 1000.0,
                                            "p99_ms": p["p99"] / 1000.0, "cpu_us_call": cpu_us,
                                            "calls": len(latencies)})
                log("round %d %-12s %8.1f calls/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %s us/call"
                    % (r + 1, name, rate, p["p50"] / 1000.0, p["p99"] / 1000.0, fmt(cpu_us)))
            except BenchError as exc:
                rep["errors"].append("round %d %s: %s" % (r + 1, name, exc))
                log("round %d %s: FAILED: %s" % (r + 1, name, exc))
            finally:
                if server is not None:
                    server.stop()
        if any(family != "sdk" for _, family, _ in rows):
            floor_us, why = app_floor(wsgi_py, env, args)
            if why:
                rep["errors"].append("round %d in-process floor: %s" % (r + 1, why))
            else:
                rep["floor_us_call"].append(floor_us)
                log("round %d Server.wsgi() in process, no HTTP server: %.1f us CPU a call" % (r + 1, floor_us))
        rep["load_average"]["rounds"].append(load_average())

    med = {}
    for name, runs in rep["rounds"].items():
        if runs:
            med[name] = {k: median([x[k] for x in runs if x[k] is not None])
                         for k in ("calls_s", "p50_ms", "p99_ms", "cpu_us_call")}
    rep["medians"] = med
    rep["floor_median_us_call"] = median(rep["floor_us_call"])

    def rate(name):
        return med.get(name, {}).get("calls_s")

    def p99(name):
        return med.get(name, {}).get("p99_ms")

    def cpu(name):
        return med.get(name, {}).get("cpu_us_call")

    rep["ratios"] = [
        ("gunicorn x2 / gunicorn x1 calls/s", ratio(rate("gunicorn x2"), rate("gunicorn x1")), ">=", TARGET_SCALING),
        ("SDK x2 / SDK x1 calls/s", ratio(rate("SDK x2"), rate("SDK x1")), None, None),
        ("gunicorn x1 / SDK x1 calls/s", ratio(rate("gunicorn x1"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        ("gunicorn x2 / SDK x2 calls/s", ratio(rate("gunicorn x2"), rate("SDK x2")), ">=", TARGET_VS_SDK),
        ("waitress / SDK x1 calls/s", ratio(rate("waitress"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        ("http.server / SDK x1 calls/s", ratio(rate("http.server"), rate("SDK x1")), ">=", TARGET_VS_SDK),
        ("gunicorn x1 p99 / SDK x1 p99", ratio(p99("gunicorn x1"), p99("SDK x1")), None, None),
        ("gunicorn x2 p99 / SDK x2 p99", ratio(p99("gunicorn x2"), p99("SDK x2")), None, None),
        ("waitress p99 / SDK x1 p99", ratio(p99("waitress"), p99("SDK x1")), None, None),
        ("http.server p99 / SDK x1 p99", ratio(p99("http.server"), p99("SDK x1")), None, None),
        # Server CPU a call: the SDK's over mcplite's (what each call costs, whatever else
        # the machine was doing; a ratio above 1 is mcplite's lead).
        ("SDK x1 CPU/call / gunicorn x1's", ratio(cpu("SDK x1"), cpu("gunicorn x1")), None, None),
        ("SDK x2 CPU/call / gunicorn x2's", ratio(cpu("SDK x2"), cpu("gunicorn x2")), None, None),
        ("SDK x1 CPU/call / waitress's", ratio(cpu("SDK x1"), cpu("waitress")), None, None),
        ("SDK x1 CPU/call / http.server's", ratio(cpu("SDK x1"), cpu("http.server")), None, None),
    ]
    rep["ratios"] = [{"name": n, "value": None if v is None else round(v, 2), "op": op, "bound": bound,
                      "met": None if op is None else target_met(v, op, bound)} for n, v, op, bound in rep["ratios"]]
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
    p("WSGI benchmark (%s): 2026-07-28 tools/call, %d load processes x %d threads (keep-alive), %d calls a "
      "thread after %d warm-up, %d round(s), medians" % (rep["mode"], c["load_procs"], c["threads"], c["calls"],
                                                         c["warmup"], c["rounds"]))
    p("  machine: %s CPUs; load average at start %s, after each round %s, at the end %s"
      % (rep["cpus"], rep["load_average"]["start"], rep["load_average"]["rounds"], rep["load_average"]["end"]))
    p("  servers' python: %s; SDK: %s; load: %s" % (rep["pythons"]["wsgi"], rep["pythons"]["sdk"],
                                                   rep["pythons"]["load"]))
    p("")
    rows = []
    for name, _, workers in SERVERS:
        m = rep["medians"].get(name)
        if m is None:
            continue
        rows.append([name, workers, fmt(m["calls_s"]), fmt(m["p50_ms"], "%.2f"), fmt(m["p99_ms"], "%.2f"),
                     fmt(m["cpu_us_call"], "%.0f"), len(rep["rounds"][name])])
    p(render_table(["server", "workers", "calls/s", "p50 ms", "p99 ms", "server CPU us/call", "rounds"], rows))
    if rep["floor_median_us_call"] is not None:
        p("  Server.wsgi() called in process, no HTTP server: %.0f us CPU a call (mcplite's protocol work;"
          " the rest of a WSGI row's figure is the WSGI server's)" % rep["floor_median_us_call"])
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


def main(argv=None):
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
