#!/usr/bin/env python3
"""Many-tools benchmark (issue 23, items 3 and 4): what registering N tools costs, in time
and memory, for mcplite, the official Python SDK and a floor.

Every measurement is a fresh process (``bench/servers/many_tools.py KIND N``) that defines N
distinct plain three-parameter functions (``def tool_i(a: int, b: str, c: float = 0.5) ->
str``, each its own code object), then registers them all:

* **mcplite**: ``Server.add_tool(fn)``; **SDK**: ``MCPServer.add_tool(fn)`` (mcp==2.3.0);
  **raw** (the floor): each function stored in a dict;
* registration cost: ``time.perf_counter`` around the registration loop alone (the functions
  made before it, the collector as a user's program has it), in us per tool;
* RSS (``VmRSS``) just before the loop (the interpreter, the framework, its server and the N
  functions: what the tools must hold anyway) and after it; their difference per tool in KiB.
  The raw row's RSS is the bare floor: the interpreter and the functions alone;
* mcplite's validators stay lazy: RSS again after calling ``--calls`` of the N tools once each
  through ``Client(app)`` in memory.

N = 1,000, 4,000, 10,000 and 16,000 (``--quick``: 1,000); medians over ``--rounds`` rounds,
the rounds interleaved across the kinds. The SDK registers about a tool a millisecond, so its
N is capped by ``--sdk-max-tools`` (default 4,000; the report says which N it skipped).

The SDK interpreter is ``--sdk-python PATH``, else ``$MCPLITE_SDK_PYTHON``, else
``.cache/sdk-venv/bin/python`` in the repository, else ``~/.cache/mcp-peers/venv/bin/python``.
mcplite and the raw floor run under the current interpreter, and also under the SDK's when
that is another Python (the like-for-like comparison).

Usage::

    python bench/bench_tools.py            # full run, prints tables
    python bench/bench_tools.py --quick    # N = 1,000, two rounds: a CI smoke run
    python bench/bench_tools.py --json     # the numbers as one JSON object on stdout
    python bench/bench_tools.py --baseline ../mcplite-before   # before and after in one run

``--baseline DIR`` (another checkout, holding the ``mcplite/`` package) gives every mcplite
column a twin, "mcplite@baseline", run in the same interleaved rounds with mcplite imported
from DIR, and adds a before/after table.

Exit status: 0 when every measurement ran (missed targets are reported, never fatal), 1 when a
child failed or a tool answered wrongly, 2 on bad usage. Every child process is registered and
killed by PID before exit.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

from _bench_common import (  # noqa: E402
    BASELINE, add_baseline_option, add_common_options, baseline_env, before_after, bench_env,
    check_baseline, check_mcplite_from, discover_interpreters, finish_report, fmt, log, median,
    new_baseline_report, parse_kinds, print_before_after, print_errors, print_interpreters,
    print_ratios, print_targets, ratio, render_table, rnd, run_main, run_quiet, target_met)

CHILD = os.path.join(HERE, "servers", "many_tools.py")

# Targets from issue 23, item 3.
TARGET_RSS_N = 10000
TARGET_RSS_MIB = 50.0
TARGET_REG_US = 80.0

FULL_SIZES = (1000, 4000, 10000, 16000)
QUICK_SIZES = (1000,)
SDK_IMPORT = "from mcp.server.mcpserver import MCPServer"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(ap, "N = 1,000 only, two rounds: a CI smoke run")
    ap.add_argument("--rounds", type=int, default=None, help="fresh processes per kind and N (default 5;"
                                                             " --quick: 2)")
    ap.add_argument("--sizes", default=None, help="comma-separated tool counts (default 1000,4000,10000,16000;"
                                                  " --quick: 1000)")
    ap.add_argument("--sdk-max-tools", type=int, default=4000,
                    help="the largest N the SDK registers (default 4000: it takes ~1 ms a tool)")
    ap.add_argument("--calls", type=int, default=10,
                    help="mcplite tools called once each before the last RSS reading (default 10; 0: none)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for one child (default 300)")
    add_baseline_option(ap)
    args = ap.parse_args(argv)
    check_baseline(ap, args)
    args.kinds = parse_kinds(ap, args.only)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if not 1 <= args.rounds <= 1000:
        ap.error("--rounds must be between 1 and 1000")
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    else:
        try:
            args.sizes = sorted(set(int(s) for s in args.sizes.split(",") if s.strip()))
        except ValueError:
            ap.error("--sizes takes comma-separated integers, got %r" % args.sizes)
        if not args.sizes or any(not 1 <= n <= 1000000 for n in args.sizes):
            ap.error("--sizes must name counts between 1 and 1,000,000")
    if args.calls < 0:
        ap.error("--calls must be 0 or more")
    return args


def main(argv=None):
    return run_main(parse_args, run, argv)


def measure(python, kind, n, calls, env, timeout):
    """One child's numbers (a dict), or raises RuntimeError with why not."""
    argv = [python, CHILD, kind, str(n)] + ([str(calls)] if kind == "mcplite" and calls else [])
    rc, err, out = run_quiet(argv, env, timeout)
    if rc != 0:
        raise RuntimeError("%s N=%d under %s: %s" % (kind, n, python, (err or "exit status %s" % rc).strip()[-800:]))
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("%s N=%d: no JSON on stdout: %r" % (kind, n, out[-300:]))


def run(args):
    env = bench_env()
    errors = []
    rep = {"schema": 1, "mode": "quick" if args.quick else "full",
           "command": " ".join(["python", "bench/bench_tools.py"] + sys.argv[1:]),
           "machine": {"platform": sys.platform, "cpus": os.cpu_count()},
           "config": {"rounds": args.rounds, "sizes": args.sizes, "sdk_max_tools": args.sdk_max_tools,
                      "calls": args.calls, "kinds": args.kinds},
           "pythons": {}, "sdk": {}}
    found = discover_interpreters(args, env, rep, errors, "from mcplite import Server", SDK_IMPORT)

    # The baseline checkout's twins run with this environment, PYTHONPATH apart.
    benv = None
    if args.baseline is not None and found.want_mcplite:
        benv = baseline_env(env, args.baseline)
        rep["baseline"] = new_baseline_report(args.baseline, env, args.timeout)
        err = check_mcplite_from(sys.executable, benv, args.baseline, "from mcplite import Server", args.timeout)
        if err:
            errors.append("--baseline: " + err)
            benv = None

    # (column key, kind, interpreter path, sizes, environment)
    columns = []
    for suffix, tag, info in found.interps:
        if "raw" in args.kinds:
            columns.append(("raw" + suffix, "raw", info["executable"], args.sizes, env))
        if found.want_mcplite:
            columns.append(("mcplite" + suffix, "mcplite", info["executable"], args.sizes, env))
            if benv is not None:
                columns.append(("mcplite" + BASELINE + suffix, "mcplite", info["executable"], args.sizes, benv))
    if found.sdk["available"]:
        columns.append(("sdk", "sdk", found.sdk_py["executable"],
                        [n for n in args.sizes if n <= args.sdk_max_tools], env))
    rep["sdk_skipped_sizes"] = [n for n in args.sizes if n > args.sdk_max_tools] if found.sdk["available"] else []

    samples = dict((key, dict((n, []) for n in sizes)) for key, _, _, sizes, _ in columns)
    failed = set()
    for r in range(args.rounds):  # interleaved: every kind and N once a round
        for n in args.sizes:
            for key, kind, python, sizes, cenv in columns:
                if n not in sizes or key in failed:
                    continue
                try:
                    samples[key][n].append(measure(python, kind, n, args.calls, cenv, args.timeout))
                except RuntimeError as exc:
                    errors.append(str(exc))
                    failed.add(key)
        log("round %d/%d done" % (r + 1, args.rounds))

    results = {}
    for key, kind, python, sizes, _ in columns:
        results[key] = {}
        for n in sizes:
            got = samples[key][n]
            if not got:
                continue

            def med(f):
                return median([f(s) for s in got])
            row = {"rounds": len(got),
                   "us_per_tool": rnd(med(lambda s: s["seconds"] * 1e6 / s["n"]), 2),
                   "rss_before_mib": rnd(med(lambda s: s["rss_before_kib"] / 1024.0), 1),
                   "rss_after_mib": rnd(med(lambda s: s["rss_after_kib"] / 1024.0), 1),
                   "kib_per_tool": rnd(med(lambda s: (s["rss_after_kib"] - s["rss_before_kib"]) / float(s["n"])), 2)}
            if kind == "mcplite" and args.calls:
                row["rss_called_mib"] = rnd(med(lambda s: s["rss_called_kib"] / 1024.0), 1)
            results[key][n] = row
    rep["results"] = dict((k, dict((str(n), v) for n, v in by.items())) for k, by in results.items())
    rep["columns"] = [key for key, _, _, _, _ in columns]

    def get(key, n, field):
        return (results.get(key, {}).get(n) or {}).get(field)

    rep["ratios"] = []
    for n in args.sizes:
        for suffix, tag, info in found.interps:
            where = "" if not suffix else " (%s)" % tag
            rep["ratios"].append({"name": "N=%d: mcplite RSS / raw floor RSS%s" % (n, where),
                                  "value": rnd(ratio(get("mcplite" + suffix, n, "rss_after_mib"),
                                                     get("raw" + suffix, n, "rss_after_mib")), 3)})
        rep["ratios"].append({"name": "N=%d: SDK us/tool / mcplite us/tool" % n,
                              "value": rnd(ratio(get("sdk", n, "us_per_tool"), get("mcplite", n, "us_per_tool")), 3)})
        rep["ratios"].append({"name": "N=%d: SDK KiB/tool / mcplite KiB/tool" % n,
                              "value": rnd(ratio(get("sdk", n, "kib_per_tool"), get("mcplite", n, "kib_per_tool")), 3)})
    lo, hi = min(args.sizes), max(args.sizes)
    if lo != hi:
        rep["ratios"].append({"name": "mcplite us/tool at N=%d / at N=%d (flat: 1.00x)" % (hi, lo),
                              "value": rnd(ratio(get("mcplite", hi, "us_per_tool"),
                                                 get("mcplite", lo, "us_per_tool")), 3)})

    if "baseline" in rep:
        for suffix, tag, info in found.interps:
            where = "" if not suffix else " (%s)" % tag
            for n in args.sizes:
                for field, label, nd in (("us_per_tool", "us/tool", 2), ("rss_after_mib", "RSS MiB", 1),
                                         ("kib_per_tool", "KiB/tool", 2)):
                    now, before = get("mcplite" + suffix, n, field), get("mcplite" + BASELINE + suffix, n, field)
                    if now is not None and before is not None:
                        before_after(rep["baseline"], "N=%d: %s%s" % (n, label, where), now, before, nd,
                                     lower_is_better=True)

    rep["targets"] = []
    for suffix, tag, info in found.interps:
        if not found.want_mcplite:
            break

        def target(name, value, op, bound, fmt_):
            rep["targets"].append({"name": name, "interpreter": tag, "value": rnd(value, 3), "op": op,
                                   "bound": bound, "fmt": fmt_, "met": target_met(value, op, bound)})
        if TARGET_RSS_N in args.sizes:
            target("mcplite RSS with %d tools (MiB)" % TARGET_RSS_N,
                   get("mcplite" + suffix, TARGET_RSS_N, "rss_after_mib"), "<=", TARGET_RSS_MIB, "%.1f")
        for n in args.sizes:
            target("mcplite registration at N=%d (us/tool)" % n, get("mcplite" + suffix, n, "us_per_tool"),
                   "<=", TARGET_REG_US, "%.1f")
    rep["errors"] = errors
    return finish_report(rep, errors, args.json, lambda: print_report(rep, found, args))


def print_report(rep, found, args):
    def p(line=""):
        sys.stdout.write(line + "\n")

    p("Many-tools benchmark (%s run: %d round(s) a kind and N, each a fresh process; medians)"
      % (rep["mode"], args.rounds))
    print_interpreters(p, rep)
    if rep["sdk_skipped_sizes"]:
        skipped = ", ".join("{:,}".format(n) for n in rep["sdk_skipped_sizes"])
        p("  SDK not run at N = %s (--sdk-max-tools %d)" % (skipped, args.sdk_max_tools))
    p("")
    labels = {}
    for key in rep["columns"]:
        base, _, tag = key.partition("@")
        labels[key] = {"raw": "raw (dict)", "mcplite": "mcplite", "sdk": "SDK"}[base] + (" @" + tag if tag else "")

    res = rep["results"]
    p("Registration: us per tool (perf_counter around the registration loop alone)")
    rows = []
    for n in args.sizes:
        rows.append(["{:,}".format(n)] + [fmt((res[k].get(str(n)) or {}).get("us_per_tool"), "%.2f")
                                          for k in rep["columns"]])
    p(render_table(["tools"] + [labels[k] for k in rep["columns"]], rows))
    p("")
    p("Memory: RSS in MiB before the registrations (interpreter, framework, server, functions) -> after;"
      " KiB per tool added")
    rows = []
    for n in args.sizes:
        row = ["{:,}".format(n)]
        for k in rep["columns"]:
            e = res[k].get(str(n)) or {}
            if k.startswith("raw"):
                row.append(fmt(e.get("rss_after_mib")))
            else:
                row.append("%s -> %s (%s KiB)" % (fmt(e.get("rss_before_mib")), fmt(e.get("rss_after_mib")),
                                                  fmt(e.get("kib_per_tool"))) if e else "-")
        rows.append(row)
    heads = ["tools"] + [labels[k] + (" floor" if k.startswith("raw") else "") for k in rep["columns"]]
    p(render_table(heads, rows))
    p("")
    if args.calls and any(k.startswith("mcplite") for k in rep["columns"]):
        p("Lazy validators: mcplite RSS in MiB after calling %d of the tools once each (Client(app), in memory)"
          % args.calls)
        rows = []
        for n in args.sizes:
            rows.append(["{:,}".format(n)] + [
                "%s -> %s" % (fmt((res[k].get(str(n)) or {}).get("rss_after_mib")),
                              fmt((res[k].get(str(n)) or {}).get("rss_called_mib")))
                for k in rep["columns"] if k.startswith("mcplite")])
        p(render_table(["tools"] + [labels[k] for k in rep["columns"] if k.startswith("mcplite")], rows))
        p("")
    print_ratios(p, "Ratios", rep["ratios"])
    if "baseline" in rep:
        print_before_after(p, rep["baseline"])
    print_targets(p, "Targets (issue 23, item 3)", rep["targets"])
    print_errors(p, rep["errors"])


if __name__ == "__main__":
    sys.exit(main())
