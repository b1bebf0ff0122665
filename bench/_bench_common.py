"""What ``bench_stdio.py`` and ``bench_http.py`` share (not a benchmark of its own).

* the protocol constants of the driving clients and the check of ``add``'s answer;
* child processes: every one registered by PID and killed at exit (``run_main``), a
  process group ended by its leader's PID (``stop_group``), short
  commands (``run_quiet``), the base of both ``ServerProc`` classes (start, stderr tail,
  failure report, RSS, kill) and the ``/proc`` readers;
* the interpreters: ``python_info``, the SDK interpreter (``resolve_sdk_python``,
  ``discover_interpreters``) and the environment every child runs with (``bench_env``);
* the numbers (``summary``, ``percentiles``, ``median``, ``ratio``) and the report
  (``fmt``, ``render_table``, the interpreter, ratio and error sections);
* the command-line options both scripts take;
* ``--baseline DIR``: the twin of each mcplite column that imports mcplite from another
  checkout (its option, its environment, the checkouts' commits, the before/after section).

Both scripts put this file's directory on ``sys.path`` before importing it, so they run
as ``python bench/bench_X.py`` from any directory.
"""
import collections
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO = {"name": "mcplite-bench", "version": "1.0.0"}

KINDS = ("mcplite", "sdk", "raw")


class BenchError(Exception):
    """A server failed to start, died, timed out or answered wrongly."""


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def check_sum(result, expected):
    """None when ``result`` is ``add``'s right answer, else what is wrong."""
    if not isinstance(result, dict):
        return "no result object"
    if result.get("isError"):
        return "isError: %s" % json.dumps(result)[:300]
    structured = result.get("structuredContent")
    if structured is not None:
        if structured != {"result": expected} and structured != expected:
            return "structuredContent %r, expected %r" % (structured, expected)
        return None
    content = result.get("content")
    if not (isinstance(content, list) and content and isinstance(content[0], dict)
            and str(content[0].get("text", "")).strip() == str(expected)):
        return "%s, expected %r" % (json.dumps(result)[:300], expected)
    return None


# --------------------------------------------------------------------------- children

_CHILDREN = {}  # pid -> Popen; everything still here is killed at exit


def register(proc):
    _CHILDREN[proc.pid] = proc


def reap(proc, timeout=5.0):
    """Kill ``proc`` (by its PID, via Popen) unless it has exited, and wait for it."""
    try:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=timeout)
    except Exception:  # already gone, or unkillable: nothing more we can do
        pass
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except Exception:
            pass
    _CHILDREN.pop(proc.pid, None)


def stop_group(proc, grace=5.0):
    """End the process group ``proc`` leads (started with ``start_new_session=True``): a
    server's master and its workers together, by the leader's PID. SIGTERM first (gunicorn and
    uvicorn stop their workers on it), SIGKILL if the leader is still there after ``grace``
    seconds, and SIGKILL again for a worker outliving its master."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def kill_all_children():
    for proc in list(_CHILDREN.values()):
        reap(proc)


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def run_main(parse_args, run, argv=None):
    """A benchmark's ``main``: parse, run, and kill every child process whatever happens."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        kill_all_children()


def run_quiet(argv, env, timeout, cwd=REPO):
    """Run a short command; return (exit status or None on timeout, stderr, stdout)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, env=env)
    register(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        reap(proc)
        return None, "timed out after %.0f s" % timeout, ""
    finally:
        reap(proc)
    return proc.returncode, err.decode("utf-8", "replace"), out.decode("utf-8", "replace")


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_s(pid):
    """User + system CPU seconds of process ``pid`` (every thread); None off Linux."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(_CLK_TCK)
    except (OSError, ValueError, IndexError):
        return None


def group_cpu_s(pgid):
    """User + system CPU seconds of the live processes of process group ``pgid`` (a server's
    master and workers; one that has exited no longer counts); None off Linux."""
    total, found = 0.0, False
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return None
    for name in names:
        try:
            with open("/proc/%s/stat" % name) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += (int(fields[11]) + int(fields[12])) / float(_CLK_TCK)
                found = True
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total if found else None


def proc_rss_mib(pid):
    """``VmRSS`` of process ``pid`` in MiB; None off Linux."""
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


class ChildServer(object):
    """A server process with its stderr in a temporary file: what both benchmarks'
    ``ServerProc`` share. A subclass sets ``t_spawn`` and calls ``spawn``."""

    proc = None

    def __init__(self, label):
        self.label = label
        self.stderr = tempfile.TemporaryFile()

    def spawn(self, argv, env, **popen_kw):
        try:
            self.proc = subprocess.Popen(argv, stderr=self.stderr, cwd=REPO, env=env, **popen_kw)
        except OSError as exc:
            self.stderr.close()
            raise BenchError("%s: cannot start %s: %s" % (self.label, argv[0], exc))
        register(self.proc)
        self.pid = self.proc.pid

    def stderr_tail(self, limit=1500):
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - limit))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except Exception:
            return ""

    def exit_status(self):
        """The process's exit status, None while it runs (or before it started)."""
        return self.proc.poll() if self.proc is not None else None

    def fail(self, what):
        code = self.exit_status()
        msg = "%s: %s" % (self.label, what)
        if code is not None:
            msg += " (process exited with status %s)" % code
        tail = self.stderr_tail()
        if tail:
            msg += "\n    stderr: " + tail.replace("\n", "\n    stderr: ")
        return BenchError(msg)

    def rss_mib(self):
        return proc_rss_mib(self.pid)

    def kill(self):
        if self.proc is not None:
            reap(self.proc)
        try:
            self.stderr.close()
        except Exception:
            pass


# --------------------------------------------------------------------------- interpreters

def python_info(executable, env, timeout, startup_modules=False):
    """What ``executable`` is (version, prefix, implementation; with ``startup_modules``
    also how many modules it has loaded before running any code): (info, None), or
    (None, why not)."""
    code = ("import json, platform, sys; print(json.dumps({'version': platform.python_version(),"
            " 'executable': sys.executable, 'prefix': sys.prefix,%s"
            " 'implementation': platform.python_implementation()}))"
            % (" 'startup_modules': len(sys.modules)," if startup_modules else ""))
    try:
        rc, err, out = run_quiet([executable, "-c", code], env, timeout)
    except OSError as exc:
        return None, str(exc)
    if rc != 0:
        return None, (err or "exit status %s" % rc).strip()[-500:]
    info = json.loads(out.strip().splitlines()[-1])
    info["executable"] = executable  # keep the path we were given (a venv's python)
    return info, None


def resolve_sdk_python(arg):
    if arg is not None:
        return arg, "--sdk-python"
    env = os.environ.get("MCPLITE_SDK_PYTHON")
    if env:
        return env, "$MCPLITE_SDK_PYTHON"
    local = os.path.join(REPO, ".cache", "sdk-venv", "bin", "python")
    if os.path.exists(local):
        return local, "the repository's .cache/sdk-venv"
    return os.path.expanduser("~/.cache/mcp-peers/venv/bin/python"), "~/.cache/mcp-peers/venv"


def bench_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO  # mcplite from the checkout, never an installed copy
    # Settings that change start-up or I/O behaviour: every server runs with the defaults a
    # user's would (.pyc files written and used, buffered standard streams).
    for var in ("PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONPROFILEIMPORTTIME",
                "PYTHONDONTWRITEBYTECODE", "PYTHONVERBOSE", "PYTHONUNBUFFERED"):
        env.pop(var, None)
    return env


Interpreters = collections.namedtuple(
    "Interpreters", "current sdk sdk_py want_mcplite also_sdk_python interps")


def discover_interpreters(args, env, rep, errors, mcplite_import, sdk_import,
                          startup_modules=False, sdk_on_path=False, no_sdk_hint=""):
    """The interpreters of a run: the current one always, the SDK's when it is usable.

    Checks that mcplite imports (``mcplite_import`` after ``import mcplite``) from the
    checkout (else an error, and no mcplite columns) and that the SDK interpreter runs
    ``sdk_import``; fills ``rep["pythons"]`` and ``rep["sdk"]``. ``sdk_on_path``: a bare
    command name for ``--sdk-python`` is looked up on PATH; ``no_sdk_hint`` ends the reason
    given when there is no interpreter at the SDK's path. ``interps`` lists
    (column-key suffix, tag, info) of the interpreters mcplite and the raw floor run under.
    """
    current, err = python_info(sys.executable, env, args.timeout, startup_modules)
    if current is None:
        raise SystemExit("cannot run the current interpreter: %s" % err)
    rep["pythons"]["current"] = current

    want_mcplite = "mcplite" in args.kinds
    if want_mcplite:
        rc, err, out = run_quiet(
            [sys.executable, "-c", "import mcplite; %s; print(mcplite.__file__)" % mcplite_import],
            env, args.timeout)
        where = out.strip().splitlines()[-1] if (rc == 0 and out.strip()) else ""
        if rc != 0:
            errors.append("mcplite is not importable from %s: %s" % (REPO, err.strip()[-800:]))
            want_mcplite = False
        elif not os.path.abspath(where).startswith(os.path.join(REPO, "")):
            errors.append("mcplite was imported from %s, not from the checkout %s" % (where, REPO))
            want_mcplite = False

    sdk = {"available": False, "reason": "skipped (--no-sdk or --only)", "version": None,
           "source": None}
    sdk_py = None
    if "sdk" in args.kinds and not args.no_sdk:
        path, source = resolve_sdk_python(args.sdk_python)
        if sdk_on_path and os.sep not in path and shutil.which(path):
            path = shutil.which(path)  # a bare command name: the one on PATH
        sdk["source"] = "%s (%s)" % (path, source)
        if not os.path.exists(path):
            sdk["reason"] = "no interpreter at %s%s" % (path, no_sdk_hint)
        else:
            sdk_py, err = python_info(path, env, args.timeout, startup_modules)
            if sdk_py is None:
                sdk["reason"] = "%s does not run: %s" % (path, err)
            else:
                rc, err, out = run_quiet(
                    [path, "-c", sdk_import + "\nfrom importlib.metadata import version\n"
                                              "print(version('mcp'))"], env, args.timeout)
                if rc != 0:
                    sdk["reason"] = "%s cannot import mcp.server.mcpserver: %s" % (
                        path, (err.strip().splitlines() or ["?"])[-1])
                    sdk_py = None
                else:
                    sdk.update(available=True, reason=None, version=out.strip().splitlines()[-1])
    rep["sdk"] = sdk
    if not sdk["available"]:
        log("SDK not available: %s; running the other columns only" % sdk["reason"])
    else:
        rep["pythons"]["sdk-python"] = sdk_py
    # mcplite and the raw floor also run under the SDK's interpreter when it is not the same
    # Python as ours (another version, or another installation/venv whose site-packages
    # may run .pth start-up code): that pair is the like-for-like comparison with the SDK.
    also_sdk_python = sdk_py is not None and (
        sdk_py["version"] != current["version"] or
        os.path.realpath(sdk_py["prefix"]) != os.path.realpath(current["prefix"]))
    interps = [("", "current", current)]
    if also_sdk_python:
        interps.append(("@sdk-python", "sdk-python", sdk_py))
    return Interpreters(current, sdk, sdk_py, want_mcplite, also_sdk_python, interps)


def short_python(info):
    """``py3.11`` for a ``python_info`` of Python 3.11.x."""
    return "py" + info["version"].rsplit(".", 1)[0]


# --------------------------------------------------------------------------- numbers

def rnd(x, nd):
    return None if x is None else round(x, nd)


def median(xs):
    return statistics.median(xs) if xs else None


def summary(xs, nd=2):
    if not xs:
        return None
    return {"median": rnd(statistics.median(xs), nd), "min": rnd(min(xs), nd),
            "max": rnd(max(xs), nd), "n": len(xs)}


def percentiles(lat, with_max=False):
    """p50/p90/p99 (and with ``with_max`` the slowest) of latencies in seconds, in us."""
    if not lat:
        return None
    s = sorted(lat)

    def q(p):
        return round(s[min(len(s) - 1, int(round(p * (len(s) - 1))))] * 1e6, 1)

    out = {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99)}
    if with_max:
        out["max"] = round(s[-1] * 1e6, 1)
    out["n"] = len(s)
    return out


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# --------------------------------------------------------------------------- report

def fmt(x, spec="%.1f", none="-"):
    return none if x is None else spec % x


def render_table(headers, rows, left=1):
    """A text table: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    out = []
    for n, r in enumerate([headers] + rows):
        cells = []
        for i, cell in enumerate(r):
            cells.append(str(cell).ljust(widths[i]) if i < left else str(cell).rjust(widths[i]))
        out.append("  " + "  ".join(cells).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


def print_interpreters(p, rep, startup_modules=False):
    """The "Interpreters" section: each interpreter, then where the SDK came from."""
    p("Interpreters")
    for tag in ("current", "sdk-python"):
        info = rep["pythons"].get(tag)
        if info:
            line = "  %-10s %s %s  %s" % (tag, info["implementation"], info["version"],
                                          info["executable"])
            if startup_modules:
                line += "  (prefix %s; %d modules loaded by `python -c`)" % (
                    info["prefix"], info["startup_modules"])
            p(line)
    sdk = rep["sdk"]
    if sdk["available"]:
        p("  SDK: mcp %s, from %s" % (sdk["version"], sdk["source"]))
    else:
        p("  SDK: not available (%s); the mcplite and raw columns run without it" % sdk["reason"])


def print_ratios(p, title, ratios):
    """A ratio a line, the names aligned; ratios without a value are left out."""
    if ratios:
        p(title)
        width = max(len(r["name"]) for r in ratios)
        for r in ratios:
            if r["value"] is None:
                continue
            p("  %s  %s" % (r["name"].ljust(width), fmt(r["value"], "%.2fx")))
        p("")


def print_targets(p, title, targets):
    """The targets as one table: name, interpreter, measured, goal, and met / MISSED (n/a
    without a figure). Each target: name, interpreter, value, op, bound and fmt (the value's
    format). Nothing but the title when there are none."""
    p(title)
    rows = []
    for t in targets:
        status = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        rows.append([t["name"], t["interpreter"], fmt(t["value"], t["fmt"]),
                     "%s %s" % (t["op"], t["fmt"] % t["bound"]), status])
    if rows:
        p(render_table(["target", "interpreter", "measured", "goal", "status"], rows))


def print_errors(p, errors):
    if errors:
        p("")
        p("ERRORS (exit status 1)")
        for e in errors:
            p("  " + e.replace("\n", "\n  "))


# --------------------------------------------------------------------------- options

def add_common_options(ap, quick_help):
    """--quick, --json, --sdk-python, --no-sdk and --only, in that order."""
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--sdk-python", metavar="PATH", default=None,
                    help="the interpreter of a venv with mcp==2.3.0 (default: $MCPLITE_SDK_PYTHON,"
                         " else .cache/sdk-venv/bin/python, else ~/.cache/mcp-peers/venv/bin/python)")
    ap.add_argument("--no-sdk", action="store_true", help="skip the official SDK column")
    ap.add_argument("--only", metavar="KINDS", default="mcplite,sdk,raw",
                    help="comma-separated servers to run (mcplite,sdk,raw); default all")


def parse_kinds(ap, only):
    """The servers ``--only`` names (an error unless they are among mcplite, sdk and raw)."""
    kinds = [k.strip() for k in only.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error("--only takes mcplite, sdk and/or raw, got %r" % only)
    return kinds


def apply_counts(ap, args, base, limit):
    """Each count option of ``base`` (QUICK or FULL) left out takes its value there; one
    given must be between 1 and ``limit``."""
    for name, default in base.items():
        value = getattr(args, name)
        if value is None:
            setattr(args, name, default)
        elif value < 1 or value > limit:
            ap.error("--%s must be between 1 and %d" % (name.replace("_", "-"), limit))


# --------------------------------------------------------------------------- the baseline

# The key suffix of a baseline twin: "mcplite@baseline", "mcplite@baseline@sdk-python".
BASELINE = "@baseline"


def add_baseline_option(ap):
    ap.add_argument("--baseline", metavar="DIR", default=None,
                    help="another checkout of mcplite (a directory holding the mcplite/ package):"
                         " every mcplite column gets a twin, mcplite@baseline, run the same way but"
                         " with mcplite imported from DIR, in the same interleaved rounds; the report"
                         " adds mcplite / mcplite@baseline ratios (before and after in one run)")


def check_baseline(ap, args):
    """``args.baseline`` made absolute; an error unless it holds the mcplite package."""
    if args.baseline is None:
        return
    path = os.path.abspath(os.path.expanduser(args.baseline))
    if not os.path.isfile(os.path.join(path, "mcplite", "__init__.py")):
        ap.error("--baseline %s: no mcplite/__init__.py there" % args.baseline)
    args.baseline = path


def baseline_env(env, path):
    """The environment of a baseline twin's processes: the run's own, but with ``PYTHONPATH``
    naming the baseline checkout. ``PYTHONPATH`` is what puts this checkout first on
    ``sys.path`` for the other columns too, so the twin differs in that one entry only."""
    twin = dict(env)
    twin["PYTHONPATH"] = path
    return twin


def check_mcplite_from(executable, env, path, mcplite_import, timeout):
    """None when ``executable`` with ``env``, run in ``path`` as the ``python -c`` timings
    are, imports mcplite (then ``mcplite_import``) from the checkout at ``path``; else why
    not."""
    rc, err, out = run_quiet(
        [executable, "-c", "import mcplite; %s; print(mcplite.__file__)" % mcplite_import],
        env, timeout, cwd=path)
    where = out.strip().splitlines()[-1] if (rc == 0 and out.strip()) else ""
    if rc != 0:
        return "mcplite is not importable from %s: %s" % (path, err.strip()[-800:])
    if not os.path.abspath(where).startswith(os.path.join(path, "")):
        return "mcplite was imported from %s, not from the checkout %s" % (where, path)
    return None


def checkout_info(path, env, timeout):
    """Which commit the checkout at ``path`` is (``git rev-parse``), and whether its mcplite
    package differs from that commit: {"dir", "commit", "dirty"}, None where git cannot say."""
    info = {"dir": path, "commit": None, "dirty": None}
    try:
        rc, _, out = run_quiet(["git", "-C", path, "rev-parse", "--short", "HEAD"], env, timeout)
        if rc == 0 and out.strip():
            info["commit"] = out.strip()
            rc, _, out = run_quiet(["git", "-C", path, "status", "--porcelain", "--", "mcplite"],
                                   env, timeout)
            if rc == 0:
                info["dirty"] = bool(out.strip())
    except OSError:  # no git: the report names the directories only
        pass
    return info


def describe_checkout(info):
    """``/path (commit 1965dd7, mcplite/ modified)`` for the report."""
    if info["commit"] is None:
        return info["dir"]
    return "%s (commit %s%s)" % (info["dir"], info["commit"],
                                 ", mcplite/ modified" if info["dirty"] else "")


def new_baseline_report(path, env, timeout):
    """The report's "baseline" section (present only with ``--baseline``): both checkouts,
    and the before/after ratios each benchmark adds (``before_after``)."""
    return {"dir": path, "current": checkout_info(REPO, env, timeout),
            "baseline": checkout_info(path, env, timeout), "ratios": []}


def before_after(section, name, current, baseline, nd=1, lower_is_better=False):
    """One before/after figure: ``current`` and ``baseline`` are the two medians (or
    ``summary`` dicts, whose min and max the report shows too); the ratio is current over
    baseline, so for calls/s above 1 is faster now, for ms, us and MiB below 1 is better."""
    def med(x):
        return x.get("median") if isinstance(x, dict) else x

    def spread(x):
        return [x["min"], x["max"]] if isinstance(x, dict) and x.get("n", 0) > 1 else None

    section["ratios"].append({
        "name": name, "current": rnd(med(current), nd), "baseline": rnd(med(baseline), nd),
        "current_range": spread(current), "baseline_range": spread(baseline),
        "value": rnd(ratio(med(current), med(baseline)), 3),
        "better": "lower" if lower_is_better else "higher"})


def print_before_after(p, section):
    """The "Before/after" section: each figure of mcplite and of its baseline twin (median,
    and [min-max] over the rounds where there are rounds), and their ratio."""
    p("Before/after: mcplite = %s" % describe_checkout(section["current"]))
    p("              mcplite@baseline = %s" % describe_checkout(section["baseline"]))
    p("(ratio = mcplite / mcplite@baseline: for calls/s above 1.00x is faster now; for ms, us and"
      " MiB below 1.00x is better now)")

    def cell(value, spread):
        if value is None:
            return "-"
        text = ("%.0f" if abs(value) >= 1000 else "%.1f") % value
        if spread:
            text += " [%s-%s]" % tuple(("%.0f" if abs(v) >= 1000 else "%.1f") % v for v in spread)
        return text

    rows = [[r["name"], cell(r["current"], r["current_range"]),
             cell(r["baseline"], r["baseline_range"]), fmt(r["value"], "%.2fx")]
            for r in section["ratios"]]
    if rows:
        p(render_table(["figure", "mcplite", "mcplite@baseline", "ratio"], rows))
    p("")


# --------------------------------------------------------------------------- the report

def new_report(args, counts, command, machine, **config):
    """The head of a run's report (what ran, where, with which settings) and the sections
    both benchmarks fill; each adds its own after these, in its order. ``counts``: the
    count options (the keys of FULL); ``config``: more settings, after the shared ones."""
    cfg = dict((k, getattr(args, k)) for k in counts)
    cfg.update(timeout=args.timeout, call_timeout=args.call_timeout, kinds=args.kinds)
    cfg.update(config)
    return {
        "schema": 1,
        "mode": "quick" if args.quick else "full",
        "command": command,
        "machine": machine,
        "config": cfg,
        "pythons": {},
        "sdk": {},
    }


def target_met(value, op, bound):
    """Whether a measured ``value`` meets its target ``op bound``; None when not measured."""
    if value is None:
        return None
    return value <= bound if op == "<=" else value >= bound


def finish_report(rep, errors, as_json, print_report):
    """Sum up the report, print it (one JSON object, or ``print_report()``'s tables) and
    return the exit status: 0, or 1 when anything failed."""
    rep["ok"] = not errors
    rep["all_targets_met"] = bool(rep["targets"]) and all(t["met"] for t in rep["targets"])

    if as_json:
        sys.stdout.write(json.dumps(rep, indent=2) + "\n")
    else:
        print_report()
    sys.stdout.flush()
    return 0 if rep["ok"] else 1
