#!/usr/bin/env python3
"""Host benchmark (issue 16, item 9): what ``Host`` adds to a tool call, and what converting a
1,000-tool catalog into each model API's tool format costs.

1. Routed calls, over stdio to ``bench/servers/mcplite_add.py``: a bare ``Client.call_tool`` vs
   ``Host.call`` (server "bench" of an ``mcpServers`` config) with a plain ``(name, arguments)``
   pair, an OpenAI ``tool_calls`` item and an Anthropic ``tool_use`` block (the parse + convert
   cost shows). Both servers started once; interleaved rounds, the kind order rotated; call
   objects built before the timed loop, answers checked after it. calls/s, us/call: medians over
   the rounds; p50/p99 over every call. Target: each routed kind <= 1.2x the bare call's time.
2. 1,000 deterministic tools on 10 servers (nested objects, enums, ``$ref``/``$defs`` with a
   recursive one in ~1 tool in 7, ``anyOf`` with null, arrays; names needing cleaning or
   shortening) through ``host_tool_names`` and ``provider_tools`` per provider: ms per full
   conversion, median of the rounds. Target: <= 50 ms per provider.

``--affinity same`` (default) pins this process and its servers to one CPU; ``--quick``: a CI
smoke run of a few seconds; ``--json``: one JSON object. No network; every server is stopped on
exit. Exit status 0 (also for a missed target), 1 on a failed server or a wrong answer, 2 usage.
"""
import argparse
import json
import os
import random
import re
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    REPO, BenchError, apply_counts, bench_env, check_sum, finish_report, fmt, log, median, percentiles,
    print_errors, ratio, register, render_table, rnd, run_main, target_met)
from bench_stdio import plan_affinity  # noqa: E402

if REPO not in sys.path:
    sys.path.insert(0, REPO)  # mcplite from the checkout
from mcplite import Client  # noqa: E402
from mcplite.host import Host  # noqa: E402
from mcplite.hostformats import PROVIDERS, host_tool_names, provider_tools  # noqa: E402

SERVER = os.path.join(HERE, "servers", "mcplite_add.py")
TARGET_VS_BARE = 1.2
TARGET_CONVERT_MS = 50.0
KINDS = ("bare", "host plain", "host openai", "host anthropic")
NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
QUICK = {"rounds": 3, "calls": 200, "warmup": 50, "catalog_rounds": 3}
FULL = {"rounds": 7, "calls": 2000, "warmup": 300, "catalog_rounds": 15}


# --------------------------------------------------------------------------- routed calls

def make_calls(kind, first, n):
    """A round's (a, call object) pairs, built before it is timed (the model makes them)."""
    shapes = {"bare": lambda a, args: args, "host plain": lambda a, args: ("bench__add", args),
              "host openai": lambda a, args: {"id": "call_%d" % a, "type": "function", "function": {
                  "name": "bench__add", "arguments": json.dumps(args)}},
              "host anthropic": lambda a, args: {"type": "tool_use", "id": "tu_%d" % a, "name": "bench__add",
                                                 "input": args}}
    return [(a, shapes[kind](a, {"a": a, "b": 1})) for a in range(first, first + n)]


def check_answer(kind, a, ans):
    if kind in ("bare", "host plain"):
        wrong = check_sum(ans, a + 1)
    elif kind == "host openai":
        wrong = not (ans.get("role") == "tool" and ans.get("tool_call_id") == "call_%d" % a
                     and str(ans.get("content")).strip() == str(a + 1))
    else:
        wrong = not (ans.get("type") == "tool_result" and ans.get("tool_use_id") == "tu_%d" % a
                     and ans.get("is_error") is False and ans.get("content") == [{"type": "text", "text": str(a + 1)}])
    if wrong:
        raise BenchError("%s: add(%d, 1) answered %s" % (kind, a, repr(ans)[:300]))


def run_calls(kind, fn, calls, latencies):
    """The calls in a loop; the elapsed seconds. Answers are checked after the loop."""
    perf, answers = time.perf_counter, []
    t_start = perf()
    for a, call in calls:
        t0 = perf()
        answers.append(fn(call))
        latencies.append(perf() - t0)
    elapsed = perf() - t_start
    for (a, _), answer in zip(calls, answers):
        check_answer(kind, a, answer)
    return elapsed


def calls_phase(args, rep):
    config = {"mcpServers": {"bench": {"command": sys.executable, "args": [SERVER], "cwd": REPO,
                                       "env": {"PYTHONPATH": REPO}}}}
    stats = dict((k, {"rates": [], "lat": []}) for k in KINDS)
    with Host.from_config(config, timeout=args.call_timeout, start_timeout=args.timeout) as host:
        if host.failures:
            raise BenchError("the host could not start its server: %s" % (host.failures,))
        with Client.stdio([sys.executable, SERVER], env={"PYTHONPATH": REPO}, cwd=REPO,
                          timeout=args.call_timeout, capture_stderr=True) as client:
            register(client._channel.process)  # also killed by its PID at exit, whatever happens
            fns = dict((kind, host.call) for kind in KINDS)
            fns["bare"] = lambda args: client.call_tool("add", args)
            for kind in KINDS:  # untimed warm-up
                run_calls(kind, fns[kind], make_calls(kind, 0, args.warmup), [])
            for r in range(args.rounds):
                log("calls: round %d/%d" % (r + 1, args.rounds))
                for kind in KINDS[r % len(KINDS):] + KINDS[:r % len(KINDS)]:
                    secs = run_calls(kind, fns[kind], make_calls(kind, 1000 + r * args.calls, args.calls),
                                     stats[kind]["lat"])
                    stats[kind]["rates"].append(args.calls / secs)
    bare_us, bare_p50 = 1e6 / median(stats["bare"]["rates"]), percentiles(stats["bare"]["lat"])["p50"]
    for kind in KINDS:
        us, pct = 1e6 / median(stats[kind]["rates"]), percentiles(stats[kind]["lat"])
        row = {"kind": kind, "calls_per_s": rnd(1e6 / us, 0), "us_per_call": rnd(us, 1), "p50_us": pct["p50"],
               "p99_us": pct["p99"], "ratio": rnd(ratio(us, bare_us), 3),
               "p50_ratio": rnd(ratio(pct["p50"], bare_p50), 3)}
        rep["calls"].append(row)
        if kind != "bare":
            add_target(rep, "%s: time per call / bare Client.call_tool's" % kind, row["ratio"], TARGET_VS_BARE)


# --------------------------------------------------------------------------- the catalog

WORDS = ("list", "get", "create", "update", "delete", "search", "sync", "export", "archive", "merge")
NOUNS = ("issue", "repo", "file", "user", "invoice", "ticket", "record", "table", "message", "event")
SERVERS = ("github", "filesystem", "postgres-prod", "slack.workspace", "jira", "stripe_payments",
           "google-drive", "calendar", "an-mcp-server-with-an-unusually-long-name-for-testing", "linear")
LEAVES = (
    {"type": "string", "maxLength": 256},
    {"type": "string", "enum": ["open", "closed", "all", "draft"], "default": "open"},
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}], "default": None, "title": "Since"},
    {"type": "array", "items": {"type": "string"}, "minItems": 0, "maxItems": 20},
    {"type": "boolean", "default": False},
    {"$ref": "#/$defs/Address"},
    {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {
        "key": {"type": "string"}, "value": {"anyOf": [{"type": "number"}, {"type": "null"}]}}}},
    {"type": "array", "items": {"type": "string", "enum": ["low", "high"]}, "uniqueItems": True},
)
DEFS = {"Address": {"type": "object", "required": ["city"], "properties": {
            "street": {"type": "string"}, "city": {"type": "string"},
            "country": {"type": "string", "enum": ["DE", "FR", "US", "JP"]}}},
        "Node": {"type": "object", "properties": {  # recursive
            "label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}


def prop(rng, depth):
    """One property schema: a leaf, a nested object (two levels at most), or the recursive ``Node``."""
    k = rng.randrange(len(LEAVES) + (2 if depth < 2 else 0))
    desc = "The %s of the %s to act on." % (rng.choice(("id", "name", "kind", "state")), rng.choice(NOUNS))
    if k < len(LEAVES):
        return dict(LEAVES[k], description=desc) if k % 2 == 0 else LEAVES[k]
    if k == len(LEAVES):
        return {"type": "object", "properties": dict(("f%d" % i, prop(rng, depth + 1)) for i in range(3)),
                "required": ["f0"], "additionalProperties": False, "description": desc}
    return {"$ref": "#/$defs/Node"} if rng.randrange(4) == 0 else LEAVES[1]


def make_catalog(n=1000):
    """``n`` tools, ``n // 10`` per server: [(server, tool definition)], the same every run (each
    schema its own objects, as decoded from a tools/list answer)."""
    rng, out = random.Random(16), []
    for i in range(n):
        name = "%s_%s_%d" % (rng.choice(WORDS), rng.choice(NOUNS), i)
        if i % 37 == 0:
            name = name.replace("_", ".", 1)  # a name that needs cleaning
        props = dict(("p%d_%s" % (j, rng.choice(NOUNS)), prop(rng, 0)) for j in range(rng.randint(2, 9)))
        schema = {"type": "object", "properties": props, "required": sorted(props)[:rng.randint(0, 2)]}
        if "$ref" in json.dumps(props):
            schema["$defs"] = DEFS
        tool = {"name": name, "description": "%s a %s. Use this when the user asks to %s %ss; returns JSON."
                % (name.split("_")[0].capitalize(), NOUNS[i % 10], WORDS[i % 10], NOUNS[i % 10]),
                "inputSchema": schema, "annotations": {"readOnlyHint": i % 3 == 0}}
        if i % 4 == 0:
            tool["outputSchema"] = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
        out.append((SERVERS[i % len(SERVERS)], tool))
    return json.loads(json.dumps(out))


def catalog_phase(args, rep):
    catalog = make_catalog()
    pairs = [(server, tool["name"]) for server, tool in catalog]
    names = host_tool_names(pairs)
    if len(set(names.values())) != len(catalog) or not all(map(NAME_RULE.match, names.values())):
        raise BenchError("host_tool_names: names not unique or not valid for every provider")
    entries = [(names[(server, tool["name"])], tool) for server, tool in catalog]
    jobs = [("host_tool_names", lambda: host_tool_names(pairs))]
    jobs += [(p, lambda p=p: provider_tools(entries, p)) for p in PROVIDERS]
    times = dict((job, []) for job, _ in jobs)
    for r in range(args.catalog_rounds):
        for job, fn in jobs[r % len(jobs):] + jobs[:r % len(jobs)]:
            t0 = time.perf_counter()
            fn()
            times[job].append((time.perf_counter() - t0) * 1000.0)
    for job, fn in jobs:
        out = fn()
        text = json.dumps(out if job in PROVIDERS else sorted(out.values()))
        if job == "gemini" and ('"$ref"' in text or len(out[0]["function_declarations"]) != 1000):
            raise BenchError("gemini: $ref left in the schemas, or not 1,000 declarations")
        ms = median(times[job])
        rep["catalog"].append({"job": job, "ms": rnd(ms, 2), "min_ms": rnd(min(times[job]), 2),
                               "max_ms": rnd(max(times[job]), 2), "kib": rnd(len(text) / 1024.0, 0)})
        if job in PROVIDERS:
            add_target(rep, "%s: 1,000-tool catalog through provider_tools" % job, rnd(ms, 2), TARGET_CONVERT_MS, "ms")


# --------------------------------------------------------------------------- report and main

def add_target(rep, name, value, bound, unit=None):
    rep["targets"].append({"name": name, "value": value, "op": "<=", "bound": bound, "unit": unit,
                           "met": target_met(value, "<=", bound)})


def print_report(rep):
    p, cfg = print, rep["config"]
    p("mcplite host benchmark (%s: %d rounds x %d sequential calls after %d warm-up per kind; catalog: %d rounds)"
      % (rep["mode"], cfg["rounds"], cfg["calls"], cfg["warmup"], cfg["catalog_rounds"]))
    p("command: %s" % rep["command"])
    p("python: %s; CPU placement %s\n" % (rep["python"], rep["affinity"]))
    p("Routed calls (bench/servers/mcplite_add.py over stdio; calls/s, us/call: medians over the rounds;"
      " p50/p99 over every call; ratio: over the bare call)")
    p(render_table(["kind", "calls/s", "us/call", "p50 us", "p99 us", "ratio", "p50 ratio"],
                   [[r["kind"], fmt(r["calls_per_s"], "%.0f"), fmt(r["us_per_call"]), fmt(r["p50_us"]),
                     fmt(r["p99_us"]), fmt(r["ratio"], "%.2fx"), fmt(r["p50_ratio"], "%.2fx")]
                    for r in rep["calls"]]))
    p("\n1,000-tool catalog (10 servers; ms per full conversion: median [min-max] over the rounds; KiB: the"
      " output as JSON)")
    p(render_table(["conversion", "ms", "min ms", "max ms", "KiB"],
                   [[r["job"], fmt(r["ms"], "%.2f"), fmt(r["min_ms"], "%.2f"), fmt(r["max_ms"], "%.2f"),
                     fmt(r["kib"], "%.0f")] for r in rep["catalog"]]))
    p("\nTargets")
    for t in rep["targets"]:
        status = "n/a " if t["met"] is None else ("PASS" if t["met"] else "MISS")
        spec = "%.2fx" if t["unit"] is None else "%.2f " + t["unit"]
        p("  %s  %s: %s (goal %s %s)" % (status, t["name"], fmt(t["value"], spec), t["op"],
                                         ("%.1fx" if t["unit"] is None else "%g " + t["unit"]) % t["bound"]))
    print_errors(p, rep["errors"])


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few rounds and calls: a CI smoke run")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--affinity", choices=("same", "none"), default="same",
                    help="same: this process and its servers on one CPU (default); none: the OS places them")
    ap.add_argument("--rounds", type=int, help="interleaved rounds of calls")
    ap.add_argument("--calls", type=int, help="timed sequential calls per kind and round")
    ap.add_argument("--warmup", type=int, help="untimed calls per kind before the rounds")
    ap.add_argument("--catalog-rounds", type=int, help="full conversions per provider")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for the servers to start")
    ap.add_argument("--call-timeout", type=float, default=10.0, help="seconds for one call")
    args = ap.parse_args(argv)
    apply_counts(ap, args, QUICK if args.quick else FULL, 10 ** 6)
    return args


def run(args):
    env = bench_env()  # the servers inherit this process's environment: a user's defaults
    for var in set(os.environ) - set(env):
        del os.environ[var]
    server_cpus, _, placement = plan_affinity(args.affinity)
    rep = {"schema": 1, "mode": "quick" if args.quick else "full",
           "command": " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
           "python": "%s %s" % (sys.executable, sys.version.split()[0]), "affinity": placement,
           "config": dict((k, getattr(args, k)) for k in FULL), "calls": [], "catalog": [], "targets": [],
           "errors": []}
    original = os.sched_getaffinity(0) if server_cpus is not None else None
    try:
        if server_cpus is not None:
            os.sched_setaffinity(0, server_cpus)  # inherited by the threads and servers started later
        for phase in (calls_phase, catalog_phase):
            try:
                phase(args, rep)
            except Exception as exc:  # BenchError, or the client's own on connecting
                rep["errors"].append("%s: %s: %s" % (phase.__name__, type(exc).__name__, exc))
    finally:
        if server_cpus is not None:
            os.sched_setaffinity(0, original)
    return finish_report(rep, rep["errors"], args.json, lambda: print_report(rep))


def main(argv=None):
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
