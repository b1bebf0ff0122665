#!/usr/bin/env python3
"""Gateway benchmark: the latency a call gains by going through mcplite's gateway.

For each transport, the same ``add`` tool called two ways by the same ``mcplite.Client``:

* **direct**: the client talks to the server (``bench/servers/mcplite_add.py`` on stdio,
  ``bench/servers/http_servers.py mcplite PORT`` over Streamable HTTP on 127.0.0.1);
* **gateway**: the client talks to a front ``Server`` that mounts that server
  (``bench/servers/gateway_add.py``, prefix "": the same tool name), so every call crosses
  the gateway and is forwarded by its upstream ``Client``. Three pairings:

  - ``stdio``: the gateway on stdio, its upstream on stdio (a second pair of pipes and a
    second process);
  - ``http>stdio``: the gateway on HTTP, its upstream on stdio (``mcplite proxy --http`` or
    ``mcplite bridge --http`` in front of a local server), beside the server on HTTP itself;
  - ``http>http``: the gateway on HTTP, its upstream on HTTP: a second full HTTP round trip
    (client and server), which the target does not allow for.

Sequential ``tools/call`` round trips, in rounds that alternate direct and gateway after a
warm-up; per round the median latency, and over the rounds the median of those. Reported per
transport and client era (2026-07-28 "modern", 2025-11-25 "legacy"): the direct and gateway
medians, the latency added, the ratio, and the target of issue 17 (gateway <= 1.3 x direct +
0.3 ms), met or not.

Usage::

    python bench/bench_gateway.py            # full run, prints a table
    python bench/bench_gateway.py --quick    # a few calls: a CI smoke run
    python bench/bench_gateway.py --json     # the numbers as one JSON object on stdout

Exit status: 0 when every server started and answered right (a missed target is reported,
never fatal), 1 when one failed, 2 on bad usage. Every process started here is stopped by
its PID before exit: the clients stop the stdio servers they started (and the stdio gateway
stops its upstream); the HTTP servers are terminated, then killed, by PID.
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SERVERS = os.path.join(HERE, "servers")
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mcplite import Client  # noqa: E402

TARGET_RATIO = 1.3
TARGET_PLUS_MS = 0.3


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HttpServer:
    """A server process on 127.0.0.1:port, stopped by its PID."""

    def __init__(self, argv):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable] + argv(self.port), env=child_env(), cwd=REPO,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.url = "http://127.0.0.1:%d/mcp" % self.port
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit("bench_gateway: %s did not start" % " ".join(argv(self.port)))
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process.stderr.close()


def one_round(client, calls):
    """``calls`` sequential calls: their median latency in ms."""
    times = []
    for i in range(calls):
        started = time.perf_counter()
        result = client.call_tool("add", {"a": i, "b": 1})
        times.append(time.perf_counter() - started)
        if result.get("structuredContent") != {"result": i + 1}:
            raise SystemExit("bench_gateway: a wrong answer: %r" % (result,))
    return statistics.median(times) * 1000.0


def measure(direct, gateway, rounds, calls, warmup):
    for client in (direct, gateway):
        one_round(client, warmup)
    medians = {"direct": [], "gateway": []}
    for _ in range(rounds):
        medians["direct"].append(one_round(direct, calls))
        medians["gateway"].append(one_round(gateway, calls))
    d = statistics.median(medians["direct"])
    g = statistics.median(medians["gateway"])
    bound = TARGET_RATIO * d + TARGET_PLUS_MS
    return {"direct_ms": round(d, 4), "gateway_ms": round(g, 4), "added_ms": round(g - d, 4),
            "ratio": round(g / d, 3), "target_ms": round(bound, 4), "target_met": g <= bound}


def run_stdio(era, rounds, calls, warmup):
    direct = Client.stdio([sys.executable, os.path.join(SERVERS, "mcplite_add.py")], env=child_env(), era=era)
    try:
        gateway = Client.stdio([sys.executable, os.path.join(SERVERS, "gateway_add.py"), "stdio"], env=child_env(),
                               era=era)
        try:
            return measure(direct, gateway, rounds, calls, warmup)
        finally:
            gateway.close()
    finally:
        direct.close()


def run_http(era, rounds, calls, warmup, upstream_http=True):
    upstream = HttpServer(lambda port: [os.path.join(SERVERS, "http_servers.py"), "mcplite", str(port)])
    try:
        front = HttpServer(lambda port: [os.path.join(SERVERS, "gateway_add.py"), "http", str(port)]
                           + ([upstream.url] if upstream_http else []))
        try:
            with Client.http(upstream.url, era=era) as direct, Client.http(front.url, era=era) as gateway:
                return measure(direct, gateway, rounds, calls, warmup)
        finally:
            front.stop()
    finally:
        upstream.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="the latency mcplite's gateway adds to a call")
    parser.add_argument("--quick", action="store_true", help="a few calls only (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--calls", type=int, default=None, help="calls per round")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 7)
    calls = args.calls or (20 if args.quick else 300)
    warmup = 10 if args.quick else 100
    results = []
    pairings = (("stdio", run_stdio), ("http>stdio", lambda *a: run_http(*a, upstream_http=False)),
                ("http>http", run_http))
    for transport, run in pairings:
        for era in ("modern", "legacy"):
            numbers = run(era, rounds, calls, warmup)
            numbers.update(transport=transport, era=era)
            results.append(numbers)
            sys.stderr.write("bench_gateway: %s %s done\n" % (transport, era))
    report = {"python": sys.version.split()[0], "rounds": rounds, "calls_per_round": calls,
              "target": "gateway <= %g x direct + %g ms" % (TARGET_RATIO, TARGET_PLUS_MS), "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("Gateway benchmark (Python %s, %d rounds x %d sequential tools/call, medians)" % (
        report["python"], rounds, calls))
    print("%-10s %-7s %10s %11s %10s %7s %11s  %s" % ("", "era", "direct ms", "gateway ms", "added ms", "ratio",
                                                    "target ms", "met"))
    for r in results:
        print("%-10s %-7s %10.3f %11.3f %10.3f %7.2f %11.3f  %s" % (
            r["transport"], r["era"], r["direct_ms"], r["gateway_ms"], r["added_ms"], r["ratio"], r["target_ms"],
            "yes" if r["target_met"] else "NO"))
    print("target: %s" % report["target"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
