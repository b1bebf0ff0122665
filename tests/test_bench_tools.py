"""bench/bench_tools.py runs end to end: ``--quick --no-sdk`` prints its tables with numbers,
its JSON holds every figure, and its child checks the tools it calls.

The SDK column needs the venv ``scripts/test`` builds; the CI smoke step
(``python3 bench/bench_tools.py --quick``) runs it with the SDK when there is one.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")


def run(argv, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, cwd=ROOT, env=env)


def test_quick_prints_each_table_with_numbers():
    done = run([os.path.join(BENCH, "bench_tools.py"), "--quick", "--no-sdk"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    out = done.stdout.decode("utf-8")
    for title in ("Registration: us per tool", "Memory: RSS in MiB", "Lazy validators:", "Ratios",
                  "Targets (issue 23, item 3)"):
        assert title in out, out
    # the registration row: raw (dict) and mcplite, us per tool
    assert re.search(r"^\s+1,000\s+\d+\.\d\d\s+\d+\.\d\d$", out, re.M), out
    # the memory row: the floor, then mcplite's before -> after (KiB per tool)
    assert re.search(r"^\s+1,000\s+\d+\.\d\s+\d+\.\d -> \d+\.\d \(\d+\.\d KiB\)$", out, re.M), out
    assert re.search(r"N=1000: mcplite RSS / raw floor RSS\s+\d+\.\d\dx", out), out
    assert re.search(r"mcplite registration at N=1000 \(us/tool\)\s+current\s+\d+\.\d\s+<= 80\.0\s+(met|MISSED)",
                     out), out
    assert "SDK: not available" in out


def test_json_holds_every_figure():
    done = run([os.path.join(BENCH, "bench_tools.py"), "--quick", "--no-sdk", "--json", "--sizes", "200,400",
                "--rounds", "3", "--calls", "4"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    rep = json.loads(done.stdout)
    assert rep["ok"] and rep["errors"] == [] and rep["columns"] == ["raw", "mcplite"]
    for n in ("200", "400"):
        raw, lite = rep["results"]["raw"][n], rep["results"]["mcplite"][n]
        assert raw["rounds"] == lite["rounds"] == 3
        assert 0 < raw["us_per_tool"] < lite["us_per_tool"]
        assert raw["rss_after_mib"] > 0
        assert lite["rss_before_mib"] <= lite["rss_after_mib"] <= lite["rss_called_mib"]
        assert lite["kib_per_tool"] > 0
    names = [r["name"] for r in rep["ratios"]]
    assert "mcplite us/tool at N=400 / at N=200 (flat: 1.00x)" in names
    assert [t["name"] for t in rep["targets"]] == ["mcplite registration at N=200 (us/tool)",
                                                   "mcplite registration at N=400 (us/tool)"]


def test_the_child_registers_and_calls_the_tools():
    done = run([os.path.join(BENCH, "servers", "many_tools.py"), "mcplite", "30", "5"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    got = json.loads(done.stdout)
    assert got["kind"] == "mcplite" and got["n"] == 30 and got["calls"] == 5 and got["seconds"] > 0
    assert got["rss_before_kib"] > 0 and got["rss_called_kib"] > 0


def test_a_failing_child_fails_the_run():
    # an unknown kind: the child exits non-zero; the benchmark reports it and exits 1
    sys.path.insert(0, BENCH)
    try:
        import bench_tools
        from _bench_common import bench_env
    finally:
        sys.path.remove(BENCH)
    try:
        bench_tools.measure(sys.executable, "nonesuch", 10, 0, bench_env(), 60)
    except RuntimeError as exc:
        assert "unknown kind" in str(exc)
    else:
        raise AssertionError("no error")


def test_bad_usage_exits_2():
    done = run([os.path.join(BENCH, "bench_tools.py"), "--sizes", "0"])
    assert done.returncode == 2 and b"--sizes" in done.stderr


def test_a_baseline_checkout_gets_a_twin_and_a_before_after_table(tmp_path):
    # --baseline DIR: mcplite imported from another checkout (here a copy of this one's
    # package, or of the one file in a one-file run) in the same rounds, and the ratios.
    before = tmp_path / "before" / "mcplite"
    before.mkdir(parents=True)
    package = os.path.join(ROOT, "mcplite")
    if os.path.isdir(package):
        for name in os.listdir(package):
            if name.endswith(".py") or name == "py.typed":
                with open(os.path.join(package, name), "rb") as src:
                    (before / name).write_bytes(src.read())
    else:  # MCPLITE_VENDORED: the checkout holds the one file, which works as a package too
        with open(os.path.join(ROOT, "mcplite.py"), "rb") as src:
            (before / "__init__.py").write_bytes(src.read())
    done = run([os.path.join(BENCH, "bench_tools.py"), "--quick", "--no-sdk", "--json", "--sizes", "200",
                "--rounds", "2", "--calls", "0", "--baseline", str(tmp_path / "before")])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    rep = json.loads(done.stdout)
    assert rep["columns"] == ["raw", "mcplite", "mcplite@baseline"], rep["columns"]
    twin = rep["results"]["mcplite@baseline"]["200"]
    assert twin["rounds"] == 2 and twin["us_per_tool"] > 0 and twin["kib_per_tool"] > 0
    assert rep["baseline"]["dir"] == str(tmp_path / "before")
    ratios = {r["name"]: r for r in rep["baseline"]["ratios"]}
    assert set(ratios) == {"N=200: us/tool", "N=200: RSS MiB", "N=200: KiB/tool"}, ratios
    assert all(r["value"] > 0 and r["better"] == "lower" for r in ratios.values()), ratios
    done = run([os.path.join(BENCH, "bench_tools.py"), "--quick", "--baseline", str(tmp_path)])
    assert done.returncode == 2 and b"no mcplite/__init__.py" in done.stderr
