#!/usr/bin/env python3
"""Client benchmark: mcplite's ``Client`` against a raw driver, over stdio and over HTTP.

The server is the same mcplite server for both drivers: ``bench/servers/mcplite_add.py``
over stdio and ``bench/servers/http_servers.py mcplite PORT`` over Streamable HTTP on
127.0.0.1. What differs is the client side, so the ratio of the two times per call is what
mcplite's client costs above the least a caller has to do:

* the raw driver (the floor): over stdio, a loop writing one JSON line to the server's
  stdin (``json.dumps``) and reading one line from its stdout (``json.loads``); over HTTP,
  ``http.client`` on one keep-alive connection POSTing the JSON-RPC body and reading the
  JSON answer. Its ids come from the loop counter (no id allocator, no table of pending
  requests), and it sends what the client sends: the same handshake first (``initialize`` +
  ``notifications/initialized`` at 2025-11-25, or ``server/discover`` at 2026-07-28), then
  the same request bodies (in the modern era with the same ``_meta`` keys) and, over HTTP,
  the same headers (``Mcp-Session-Id`` + ``MCP-Protocol-Version`` in a legacy session;
  ``MCP-Protocol-Version``, ``Mcp-Method`` and ``Mcp-Name`` in the modern era);
* mcplite's client: ``Client.stdio([...])`` / ``Client.http(url)`` with ``era="legacy"`` or
  ``era="modern"``, then ``client.call_tool("add", {"a": i, "b": 1})`` in a loop.

For each transport and era, sequential calls: calls/s (median over the rounds) and latency
percentiles (over every timed call), each round on a fresh server process for each driver
after an untimed warm-up, rounds interleaved (and the driver order alternated) so a slow
patch of the machine hits both drivers alike. The driving process's CPU time per call (all
its threads) is shown too. Target (from the issue): the client's time per call at most 1.5x
the raw driver's; printed as met/MISSED, never fatal.

All of that once per CPU placement (``--affinity``), as in ``bench_stdio.py``: "same" pins
the driving process (every thread: the client's reader and pool threads too) and the server
(every thread) to one CPU: what each side costs, reproducible; "split" puts them on one CPU
each; "none" leaves placement to the OS (what users get; on a VM a cross-CPU wake-up costs
tens of microseconds and the scheduler does it sometimes and not others, so these numbers
jump between runs). The first placement feeds the target.

Every answer is checked (the response's id, ``add`` returning ``a + b``; over HTTP the status
and the JSON Content-Type too), after each timed loop, so a broken server or client cannot
look fast and the checks cost neither driver timed time.

Usage::

    python bench/bench_client.py            # full run, prints a table
    python bench/bench_client.py --quick    # a few rounds: a CI smoke run
    python bench/bench_client.py --json     # the numbers as one JSON object on stdout
    python bench/bench_client.py --baseline ../mcplite-before   # before and after in one run

Everything runs under the current interpreter, with ``mcplite`` imported from the checkout
(client and servers alike).

``--baseline DIR`` (DIR: another checkout, holding the ``mcplite/`` package) adds a third
driver, "mcplite@baseline Client": DIR's ``Client``, in this same process, against the same
servers (this checkout's), in the same interleaved rounds (the driver order rotated from
round to round); the report adds a "Before/after" section: each figure of the Client over
the baseline Client's. Both checkouts' modules live in this process under the name
``mcplite``: the baseline's are kept aside and put in ``sys.modules`` in place of this
checkout's for the length of each of its rounds, so its lazy imports find its own modules.

Exit status: 0 when every server started and every answer was right (a missed performance
target is reported, never fatal), 1 when a server failed to start, a call failed or an
answer was wrong, 2 on bad usage. Every server process is killed by its PID before exit.
"""
import argparse
import http.client
import io
import json
import os
import shlex
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    BASELINE, CLIENT_INFO, LEGACY_VERSION, META_CAPS, META_VERSION, MODERN_VERSION, REPO,
    BenchError, ChildServer, add_baseline_option, apply_counts, bench_env, before_after,
    check_baseline, check_sum, finish_report, fmt, log, median, new_baseline_report,
    percentiles, print_before_after, print_errors, python_info, ratio, reap, register,
    render_table, rnd, run_main, summary, target_met)
from bench_http import HOST, PATH, ServerProc as HttpServerProc  # noqa: E402
from bench_stdio import plan_affinity  # noqa: E402

SERVERS = os.path.join(HERE, "servers")
STDIO_SERVER = os.path.join(SERVERS, "mcplite_add.py")
HTTP_SERVER = os.path.join(SERVERS, "http_servers.py")

META_INFO = "io.modelcontextprotocol/clientInfo"
ACCEPT = "application/json, text/event-stream"

TARGET_VS_RAW = 1.5  # the client's time per call over the raw driver's, at most

TRANSPORTS = ("stdio", "http")
ERAS = ("legacy", "modern")
DRIVERS = ("raw", "client")
BASELINE_DRIVER = "client" + BASELINE  # --baseline's: the baseline checkout's Client
DRIVER_NAMES = {"raw": "raw driver", "client": "mcplite Client",
                BASELINE_DRIVER: "mcplite%s Client" % BASELINE}

QUICK = {"rounds": 2, "calls": 200, "warmup": 30}
FULL = {"rounds": 5, "calls": 2000, "warmup": 200}


def modern_meta():
    """The ``_meta`` the client puts in every 2026-07-28 request (with our client info)."""
    return {META_VERSION: MODERN_VERSION, META_INFO: CLIENT_INFO, META_CAPS: {}}


def initialize_params():
    return {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}


def call_params(era, a):
    params = {"name": "add", "arguments": {"a": a, "b": 1}}
    if era == "modern":
        params["_meta"] = modern_meta()
    return params


# json.dumps's compact form, built once (json.dumps with options builds an encoder per call):
# the bytes mcplite's client sends.
_dumps_compact = json.JSONEncoder(separators=(",", ":")).encode


def dumps(obj):
    return _dumps_compact(obj).encode("utf-8")


def check_handshake(label, method, result):
    if not isinstance(result, dict):
        raise BenchError("%s: %s answered %r" % (label, method, result))
    if method == "initialize" and result.get("protocolVersion") != LEGACY_VERSION:
        raise BenchError("%s: initialize answered protocolVersion %r, expected %r"
                         % (label, result.get("protocolVersion"), LEGACY_VERSION))
    if method == "server/discover" and MODERN_VERSION not in (result.get("supportedVersions") or []):
        raise BenchError("%s: server/discover lacks %s in supportedVersions: %r"
                         % (label, MODERN_VERSION, result.get("supportedVersions")))


def check_response(label, msg, rid, a):
    """A raw driver's answer: a JSON-RPC response to ``rid`` whose result is ``a + 1``."""
    if not isinstance(msg, dict) or msg.get("id") != rid or "method" in msg:
        raise BenchError("%s: expected the response to request %r, got %s"
                         % (label, rid, json.dumps(msg)[:300]))
    if "error" in msg:
        raise BenchError("%s: an error response: %s" % (label, json.dumps(msg["error"])[:300]))
    wrong = check_sum(msg.get("result"), a + 1)
    if wrong:
        raise BenchError("%s: add returned %s" % (label, wrong))


# --------------------------------------------------------------------------- CPU placement

def pin_threads(pid, cpus):
    """Pin every thread of process ``pid`` to ``cpus`` (``sched_setaffinity`` on a PID pins
    one thread only; threads started later inherit their creator's CPUs)."""
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:  # a thread that has just ended
            pass


# --------------------------------------------------------------------------- raw stdio

class Watchdog(object):
    """Kills a raw stdio server that stops answering: the driver's blocking ``readline``
    then sees EOF. The loop only bumps ``ticks``; a thread checks it twice a second, so a
    hang costs the timed loop nothing."""

    def __init__(self, proc, limit):
        self.proc = proc
        self.limit = limit
        self.ticks = 0
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-watchdog", daemon=True)
        self._thread.start()

    def _watch(self):
        seen, since = -1, time.monotonic()
        while not self._stop.wait(0.5):
            if self.ticks != seen:
                seen, since = self.ticks, time.monotonic()
            elif time.monotonic() - since > self.limit:
                self.fired = True
                try:
                    self.proc.kill()  # by its PID (Popen); the reader gets EOF
                except OSError:
                    pass
                return

    def stop(self):
        self._stop.set()
        self._thread.join(2.0)


class RawStdio(ChildServer):
    """``mcplite_add.py`` driven by the minimal loop: one line written, one line read."""

    def __init__(self, env, label, era, timeout, call_timeout):
        ChildServer.__init__(self, label)
        self.era = era
        self.spawn([sys.executable, STDIO_SERVER], env, stdin=subprocess.PIPE,
                   stdout=subprocess.PIPE, bufsize=0)
        self.write = self.proc.stdin.write  # unbuffered: one os.write per line
        self.readline = io.BufferedReader(self.proc.stdout, 65536).readline
        self.watchdog = Watchdog(self.proc, timeout)  # the handshake's limit, then a call's
        try:
            if era == "legacy":
                self._handshake_request(0, "initialize", initialize_params())
                self.write(dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + b"\n")
            else:
                self._handshake_request(0, "server/discover", {"_meta": modern_meta()})
        except BaseException:
            self.close()
            raise
        self.watchdog.limit = call_timeout

    def exit_status(self):
        try:  # a server that closed its stdout is usually exiting: get its status
            return self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return None

    def _line(self, what):
        line = self.readline()
        if not line:
            raise self.fail("closed its stdout %s%s" % (
                what, " (killed: no answer in time)" if self.watchdog.fired else ""))
        try:
            return json.loads(line)
        except ValueError:
            raise self.fail("a non-JSON line on stdout: %r" % line[:200])

    def _handshake_request(self, rid, method, params):
        self.write(dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + b"\n")
        msg = self._line("waiting for the %s response" % method)
        if not isinstance(msg, dict) or msg.get("id") != rid or "result" not in msg:
            raise self.fail("%s answered %s" % (method, json.dumps(msg)[:300]))
        check_handshake(self.label, method, msg["result"])

    def calls(self, first, n, latencies):
        """``n`` sequential calls; (elapsed seconds, [(id, a, answer)]) for checking later."""
        era = self.era
        write, readline, loads = self.write, self.readline, json.loads
        wd = self.watchdog
        perf = time.perf_counter
        answers = []
        t_start = perf()
        try:
            for i in range(first, first + n):
                t0 = perf()
                write(dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                             "params": call_params(era, i)}) + b"\n")
                line = readline()
                if not line:
                    raise self.fail("closed its stdout during the calls%s" % (
                        " (killed: no answer in time)" if wd.fired else ""))
                msg = loads(line)
                latencies.append(perf() - t0)
                wd.ticks = i
                answers.append((i, i, msg))
        except ValueError:
            raise self.fail("a non-JSON line on stdout: %r" % line[:200])
        except OSError as exc:
            raise self.fail("writing to its stdin failed: %s" % exc)
        return perf() - t_start, answers

    def close(self):
        self.watchdog.stop()
        self.kill()


# --------------------------------------------------------------------------- raw HTTP

class RawHttp(object):
    """``http.client`` on one keep-alive connection to ``http_servers.py mcplite``."""

    def __init__(self, port, label, era, call_timeout):
        self.label = label
        self.era = era
        self.conn = http.client.HTTPConnection(HOST, port, timeout=call_timeout)
        if era == "legacy":
            status, resp, msg = self.post(dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                                 "params": initialize_params()}),
                                          {"Content-Type": "application/json", "Accept": ACCEPT})
            self._check_handshake(status, msg, "initialize")
            session = resp.getheader("Mcp-Session-Id")
            if not session:
                raise BenchError("%s: initialize answered without an Mcp-Session-Id" % label)
            self.headers = {"Content-Type": "application/json", "Accept": ACCEPT,
                            "Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY_VERSION}
            self.conn.request("POST", PATH, dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                              self.headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.status != 202:
                raise BenchError("%s: notifications/initialized answered HTTP %d: %r"
                                 % (label, resp.status, data[:200]))
        else:
            status, resp, msg = self.post(
                dumps({"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": modern_meta()}}),
                {"Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": MODERN_VERSION,
                 "Mcp-Method": "server/discover"})
            self._check_handshake(status, msg, "server/discover")
            self.headers = {"Content-Type": "application/json", "Accept": ACCEPT,
                            "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/call", "Mcp-Name": "add"}

    def post(self, body, headers):
        try:
            self.conn.request("POST", PATH, body, headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError("%s: POST failed: %s: %s" % (self.label, type(exc).__name__, exc))
        try:
            return resp.status, resp, json.loads(data)
        except ValueError:
            raise BenchError("%s: HTTP %d with a body that is not JSON: %r" % (self.label, resp.status, data[:300]))

    def _check_handshake(self, status, msg, method):
        if status != 200 or not isinstance(msg, dict) or msg.get("id") != 0 or "result" not in msg:
            raise BenchError("%s: %s answered HTTP %d: %s" % (self.label, method, status, json.dumps(msg)[:300]))
        check_handshake(self.label, method, msg["result"])

    def calls(self, first, n, latencies):
        """``n`` sequential calls; (elapsed seconds, [(id, a, answer)]) for checking later."""
        era = self.era
        conn, headers, loads = self.conn, self.headers, json.loads
        perf = time.perf_counter
        seen = []
        answers = []
        t_start = perf()
        try:
            for i in range(first, first + n):
                t0 = perf()
                conn.request("POST", PATH, dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                                                  "params": call_params(era, i)}), headers)
                resp = conn.getresponse()
                data = resp.read()
                msg = loads(data)
                latencies.append(perf() - t0)
                seen.append((resp.status, resp.getheader("Content-Type"), data))
                answers.append((i, i, msg))
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError("%s: POST tools/call failed: %s: %s" % (self.label, type(exc).__name__, exc))
        except ValueError:
            raise BenchError("%s: tools/call answered HTTP %d with a body that is not JSON: %r"
                             % (self.label, resp.status, data[:300]))
        elapsed = perf() - t_start
        for status, ctype, data in seen:
            if status != 200 or (ctype or "").split(";")[0].strip().lower() != "application/json":
                raise BenchError("%s: tools/call answered HTTP %d, Content-Type %r: %r"
                                 % (self.label, status, ctype, data[:300]))
        return elapsed, answers

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


# --------------------------------------------------------------------------- mcplite's client

class McpliteDriver(object):
    """mcplite's ``Client`` in one era: ``call_tool`` in a loop (``process``: the server
    ``Client.stdio`` started)."""

    def __init__(self, client, label, process=None):
        self.client = client
        self.label = label
        self.process = process

    def calls(self, first, n, latencies):
        call = self.client.call_tool
        perf = time.perf_counter
        answers = []
        t_start = perf()
        try:
            for i in range(first, first + n):
                t0 = perf()
                result = call("add", {"a": i, "b": 1})
                latencies.append(perf() - t0)
                answers.append((None, i, result))
        except Exception as exc:  # MCPError, ConnectionClosed, RequestTimeout: a broken run
            raise BenchError("%s: call_tool failed: %s: %s" % (self.label, type(exc).__name__, exc))
        return perf() - t_start, answers

    def close(self):
        try:
            self.client.close()
        finally:
            if self.process is not None:
                reap(self.process)


def open_driver(transport, era, driver, label, env, args, http_server):
    """A ready driver (handshake done) on a fresh server."""
    if transport == "stdio":
        if driver == "raw":
            return RawStdio(env, label, era, args.timeout, args.call_timeout)
        from mcplite import Client
        client = Client.stdio([sys.executable, STDIO_SERVER], env={"PYTHONPATH": REPO}, cwd=REPO,
                              era=era, timeout=args.call_timeout, client_info=CLIENT_INFO,
                              capture_stderr=True)
        process = getattr(getattr(client, "_channel", None), "process", None)
        if process is not None:
            register(process)  # killed by its PID at exit, whatever happens
        return McpliteDriver(client, label, process)
    if driver == "raw":
        return RawHttp(http_server.port, label, era, args.call_timeout)
    from mcplite import Client
    client = Client.http("http://%s:%d%s" % (HOST, http_server.port, PATH), era=era,
                         timeout=args.call_timeout, client_info=CLIENT_INFO)
    return McpliteDriver(client, label)


# --------------------------------------------------------------------------- the baseline's Client

def _take_mcplite():
    """mcplite's modules, removed from ``sys.modules``."""
    names = [name for name in sys.modules if name == "mcplite" or name.startswith("mcplite.")]
    return dict((name, sys.modules.pop(name)) for name in names)


class BaselineModules(object):
    """The baseline checkout's mcplite, in this process beside this checkout's.

    ``with`` it, its modules are the ``mcplite`` of ``sys.modules`` (this checkout's are put
    back after): ``open_driver``'s ``from mcplite import Client`` and every lazy import the
    baseline's client makes (its HTTP channel, say) find the baseline's own modules, the
    package's ``__path__`` naming the baseline checkout for those not loaded yet. A second
    driving process would measure the baseline's Client with other code than this one's;
    here both Clients run under the same loop, pinning and checks."""

    def __init__(self, path):
        self.path = path
        self.modules = {}
        self.saved = {}

    def __enter__(self):
        self.saved = _take_mcplite()
        sys.modules.update(self.modules)
        return self

    def __exit__(self, *exc_info):
        self.modules = _take_mcplite()  # with the modules the round imported lazily
        sys.modules.update(self.saved)
        self.saved = {}

    def load(self):
        """Import the baseline's ``Client``; returns where its mcplite came from."""
        with self:
            sys.path.insert(0, self.path)
            try:
                import mcplite
                from mcplite import Client  # noqa: F401
            finally:
                sys.path.remove(self.path)
        return os.path.abspath(mcplite.__file__)


# --------------------------------------------------------------------------- rows

class Row(object):
    """One transport, era and driver: everything measured over the rounds."""

    def __init__(self, affinity, transport, era, driver):
        self.affinity = affinity
        self.transport = transport
        self.era = era
        self.driver = driver
        self.key = "%s/%s/%s/%s" % (affinity, transport, era, driver)
        self.label = "%s %s %s" % (transport, era, DRIVER_NAMES[driver])
        self.rates = []  # calls/s per round
        self.latencies = []
        self.cpu_us = []  # this (driving) process's CPU per call, per round
        self.error = None

    def to_json(self):
        return {"affinity": self.affinity, "transport": self.transport, "era": self.era, "driver": self.driver,
                "label": self.label, "error": self.error,
                "calls_per_s": summary(self.rates, 0),
                "us_per_call": rnd(1e6 / median(self.rates), 1) if self.rates else None,
                "latency_us": percentiles(self.latencies, with_max=True),
                "driver_cpu_us_per_call": summary(self.cpu_us, 1)}


def check_answers(label, answers):
    for rid, a, answer in answers:
        if rid is None:  # the client matched the id already; this is the result
            if not isinstance(answer, dict):
                raise BenchError("%s: call_tool returned %r" % (label, answer))
            wrong = check_sum(answer, a + 1)
            if wrong:
                raise BenchError("%s: add returned %s" % (label, wrong))
        else:
            check_response(label, answer, rid, a)


def run_round(row, env, args, counter, placement):
    """A fresh server: the driver's handshake, warm-up, then the timed calls."""
    server_cpus, client_cpus, _ = placement
    http_server = None
    drv = None
    try:
        if server_cpus is not None:
            os.sched_setaffinity(0, server_cpus)  # inherited by the server process we start
        if row.transport == "http":
            http_server = HttpServerProc(lambda port: [sys.executable, HTTP_SERVER, "mcplite", str(port)],
                                         env, row.label, args.timeout)
        try:
            drv = open_driver(row.transport, row.era, row.driver, row.label, env, args, http_server)
        except BenchError:
            raise
        except Exception as exc:  # the client's own errors on connecting
            raise BenchError("%s: connecting failed: %s: %s" % (row.label, type(exc).__name__, exc))
        if server_cpus is not None:
            if http_server is not None:
                server_pid = http_server.pid
            elif isinstance(drv, RawStdio):
                server_pid = drv.pid
            else:
                server_pid = drv.process.pid if drv.process is not None else None
            if server_pid is not None:
                pin_threads(server_pid, server_cpus)
            pin_threads(os.getpid(), client_cpus)  # the client's threads started meanwhile too
        _, answers = drv.calls(counter, args.warmup, [])
        check_answers(row.label, answers)
        lat = []
        cpu0 = time.process_time()
        secs, answers = drv.calls(counter + args.warmup, args.calls, lat)
        cpu1 = time.process_time()
        check_answers(row.label, answers)
        row.rates.append(args.calls / secs)
        row.latencies.extend(lat)
        row.cpu_us.append((cpu1 - cpu0) / args.calls * 1e6)
    except BenchError as exc:
        if http_server is not None:
            try:  # a server that went away is usually exiting: get its status and stderr
                http_server.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            if http_server.proc.poll() is not None:
                raise http_server.fail(str(exc).split(": ", 1)[-1])
        raise
    finally:
        if drv is not None:
            drv.close()
        if http_server is not None:
            http_server.kill()


# --------------------------------------------------------------------------- report

def print_report(rep):
    cfg = rep["config"]
    p = print
    p("mcplite client benchmark (%s: %d rounds x %d sequential calls after %d warm-up, per CPU placement,"
      " transport, era and driver)" % (rep["mode"], cfg["rounds"], cfg["calls"], cfg["warmup"]))
    p("command: %s" % rep["command"])
    p("machine: %s, %s CPUs" % (rep["machine"]["platform"], rep["machine"]["cpus"]))
    cur = rep["pythons"].get("current")
    if cur:
        p("python: %s %s  %s (the client and the servers)" % (cur["implementation"], cur["version"],
                                                              cur["executable"]))
    p("")
    p("Drivers: raw = a minimal loop (stdio: write one JSON line, read one line; http: http.client on one"
      " keep-alive connection); client = mcplite's Client.stdio / Client.http + call_tool. Same server, same"
      " handshake, same request bodies and headers.")
    p("calls/s, us/call: medians over the rounds (us/call = 1e6 / calls/s); latency percentiles over"
      " every timed call; max ms = the slowest call; CPU us = the driving process's CPU time (all its"
      " threads) per call")
    for a in rep["affinity"]:
        p("")
        p("CPU placement %s" % a["description"])
        rows = []
        for r in rep["rows"]:
            if r["affinity"] != a["mode"]:
                continue
            lat = r["latency_us"] or {}
            rows.append([r["transport"], r["era"], DRIVER_NAMES[r["driver"]] + (" FAILED" if r["error"] else ""),
                         fmt((r["calls_per_s"] or {}).get("median"), "%.0f"), fmt(r["us_per_call"]),
                         fmt(lat.get("p50")), fmt(lat.get("p99")),
                         fmt(lat["max"] / 1000.0 if lat else None, "%.1f"),
                         fmt((r["driver_cpu_us_per_call"] or {}).get("median"))])
        p(render_table(["transport", "era", "driver", "calls/s", "us/call", "p50 us", "p99 us", "max ms",
                        "CPU us"], rows, left=3))
    p("")
    first = rep["affinity"][0]["mode"] if rep["affinity"] else None
    p("Client time per call / raw driver's (target from the issue: <= %.1fx the raw driver's time per"
      " call; judged with CPU placement %r)" % (TARGET_VS_RAW, first))
    rows = []
    for t in rep["ratios"]:
        if t["affinity"] != first:
            status = "-"
        else:
            status = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        rows.append([t["affinity"], t["transport"], t["era"], fmt(t["client_us"]), fmt(t["raw_us"]),
                     fmt(t["extra_us"], "%+.1f"), fmt(t["value"], "%.2fx"), fmt(t["p50_ratio"], "%.2fx"),
                     "<= %.1fx" % t["bound"], status])
    p(render_table(["CPUs", "transport", "era", "client us", "raw us", "extra us", "ratio", "p50 ratio",
                    "target", "status"], rows, left=3))
    if "baseline" in rep:
        p("")
        print_before_after(p, rep["baseline"])
    print_errors(p, rep["errors"])


# --------------------------------------------------------------------------- main

def parse_list(ap, option, value, allowed):
    items = [x.strip() for x in value.split(",") if x.strip()]
    if not items or any(x not in allowed for x in items) or len(set(items)) != len(items):
        ap.error("%s takes distinct values among %s, got %r" % (option, ", ".join(allowed), value))
    return items


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds and calls: a CI smoke run")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--transports", metavar="LIST", default="stdio,http",
                    help="comma-separated transports (stdio,http); default both")
    ap.add_argument("--eras", metavar="LIST", default="legacy,modern",
                    help="comma-separated protocol eras (legacy,modern); default both")
    ap.add_argument("--affinity", metavar="MODES", default=None,
                    help="CPU placement, one run of everything per mode: same (the driving process and"
                         " the server, every thread of both, on one CPU: reproducible), split (one CPU"
                         " each), none (unpinned: what users get, but it jumps between runs on VMs)."
                         " The first mode is judged against the target. Default: same,none (--quick: same)")
    ap.add_argument("--rounds", type=int, help="rounds (a fresh server process each) per transport, era and driver")
    ap.add_argument("--calls", type=int, help="timed sequential calls per round")
    ap.add_argument("--warmup", type=int, help="untimed calls before the timed ones")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds allowed for a server to start and answer the handshake (default 60)")
    ap.add_argument("--call-timeout", type=float, default=10.0,
                    help="seconds allowed for one tools/call (default 10)")
    add_baseline_option(ap)
    args = ap.parse_args(argv)
    check_baseline(ap, args)
    args.transport_list = parse_list(ap, "--transports", args.transports, TRANSPORTS)
    args.era_list = parse_list(ap, "--eras", args.eras, ERAS)
    args.affinity = parse_list(ap, "--affinity", args.affinity or ("same" if args.quick else "same,none"),
                               ("same", "split", "none"))
    apply_counts(ap, args, QUICK if args.quick else FULL, 10 ** 6)
    return args


def main(argv=None):
    return run_main(parse_args, run, argv)


def calls_phase(rows, env, args, placement, drivers, baseline):
    """Every row's rounds with one CPU placement, rounds interleaved across the rows, the
    driver order rotated from round to round (two drivers: alternated). ``baseline``: the
    ``BaselineModules`` the baseline driver's rounds run with, or None."""
    original = os.sched_getaffinity(0) if placement[0] is not None else None
    n = len(drivers)
    groups = [rows[k:k + n] for k in range(0, len(rows), n)]
    counter = 1000  # the raw driver's handshake uses id 0; call ids and arguments from here on
    try:
        for r in range(args.rounds):
            log("round %d/%d (%s)" % (r + 1, args.rounds, rows[0].affinity))
            for group in groups:
                for row in group[r % n:] + group[:r % n]:
                    if row.error is not None:
                        continue
                    try:
                        if row.driver == BASELINE_DRIVER:
                            with baseline:
                                run_round(row, env, args, counter, placement)
                        else:
                            run_round(row, env, args, counter, placement)
                    except BenchError as exc:
                        row.error = "%s (CPU placement %s)" % (exc, row.affinity)
            counter += args.warmup + args.calls
    finally:
        if original is not None:
            pin_threads(os.getpid(), original)


def run(args):
    env = bench_env()
    # Client.stdio starts its server with this process's environment plus what it is given:
    # the same environment as the raw driver's server once this process has bench_env()'s.
    for var in [k for k in os.environ if k not in env]:
        del os.environ[var]
    errors = []
    cfg = dict((k, getattr(args, k)) for k in FULL)
    cfg.update(timeout=args.timeout, call_timeout=args.call_timeout, transports=args.transport_list,
               eras=args.era_list, affinity=args.affinity, target_vs_raw=TARGET_VS_RAW)
    rep = {"schema": 1, "mode": "quick" if args.quick else "full",
           "command": " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
           "machine": {"platform": sys.platform, "cpus": os.cpu_count()},
           "config": cfg, "pythons": {}, "affinity": [], "rows": [], "ratios": [], "targets": [],
           "errors": errors}
    if args.baseline is not None:
        cfg["baseline"] = args.baseline
        rep["baseline"] = new_baseline_report(args.baseline, env, args.timeout)

    current, err = python_info(sys.executable, env, args.timeout)
    if current is None:
        raise SystemExit("cannot run the current interpreter: %s" % err)
    rep["pythons"]["current"] = current
    if REPO not in sys.path:
        sys.path.insert(0, REPO)  # the client under test comes from the checkout too
    try:
        import mcplite
        from mcplite import Client  # noqa: F401
        where = os.path.abspath(mcplite.__file__)
        if not where.startswith(os.path.join(REPO, "")):
            errors.append("mcplite was imported from %s, not from the checkout %s" % (where, REPO))
    except Exception as exc:
        errors.append("mcplite's client is not importable from %s: %s: %s" % (REPO, type(exc).__name__, exc))
    drivers, baseline = DRIVERS, None
    if args.baseline is not None and not errors:
        baseline = BaselineModules(args.baseline)
        try:
            where = baseline.load()
            if not where.startswith(os.path.join(args.baseline, "")):
                errors.append("--baseline: mcplite was imported from %s, not from the checkout %s"
                              % (where, args.baseline))
        except Exception as exc:
            errors.append("--baseline: mcplite's client is not importable from %s: %s: %s"
                          % (args.baseline, type(exc).__name__, exc))
        drivers = DRIVERS + (BASELINE_DRIVER,)
    if errors:
        return finish_report(rep, errors, args.json, lambda: print_report(rep))

    all_rows = []
    for mode in args.affinity:
        placement = plan_affinity(mode)
        rep["affinity"].append({"mode": mode, "applied": placement[0] is not None,
                                "description": placement[2]})
        rows = [Row(mode, t, e, d) for t in args.transport_list for e in args.era_list for d in drivers]
        calls_phase(rows, env, args, placement, drivers, baseline)
        all_rows.extend(rows)

    for row in all_rows:
        rep["rows"].append(row.to_json())
        if row.error is not None:
            errors.append(row.error)
    for k in range(0, len(all_rows), len(drivers)):
        raw, cli = all_rows[k], all_rows[k + 1]
        raw_us = 1e6 / median(raw.rates) if raw.rates and raw.error is None else None
        cli_us = 1e6 / median(cli.rates) if cli.rates and cli.error is None else None
        value = ratio(cli_us, raw_us)
        p50 = ratio((percentiles(cli.latencies) or {}).get("p50"), (percentiles(raw.latencies) or {}).get("p50"))
        entry = {"name": "%s %s: client time per call / raw driver's (CPU placement %s)"
                         % (raw.transport, raw.era, raw.affinity),
                 "affinity": raw.affinity, "transport": raw.transport, "era": raw.era,
                 "client_us": rnd(cli_us, 1), "raw_us": rnd(raw_us, 1),
                 "extra_us": rnd(None if value is None else cli_us - raw_us, 1),
                 "value": rnd(value, 3), "p50_ratio": rnd(p50, 3),
                 "op": "<=", "bound": TARGET_VS_RAW, "met": target_met(value, "<=", TARGET_VS_RAW)}
        rep["ratios"].append(entry)
        if raw.affinity == args.affinity[0]:
            rep["targets"].append(entry)
        if baseline is not None:  # before and after: the Client over the baseline's Client
            base = all_rows[k + 2]
            if cli.error is None and base.error is None:
                cj, bj = cli.to_json(), base.to_json()
                where = "%-5s %-6s CPUs %s" % (raw.transport, raw.era, raw.affinity)
                before_after(rep["baseline"], "%s calls/s" % where, cj["calls_per_s"], bj["calls_per_s"], nd=0)
                before_after(rep["baseline"], "%s p50 us" % where, (cj["latency_us"] or {}).get("p50"),
                             (bj["latency_us"] or {}).get("p50"), lower_is_better=True)
                before_after(rep["baseline"], "%s client CPU us/call" % where, cj["driver_cpu_us_per_call"],
                             bj["driver_cpu_us_per_call"], lower_is_better=True)
    return finish_report(rep, errors, args.json, lambda: print_report(rep))


if __name__ == "__main__":
    sys.exit(main())
