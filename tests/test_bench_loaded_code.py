"""bench/loaded_code.py measures what a plain stdio server loads: the modules it reports are
the ones such a server holds (the server and stdio modules, none of the features loaded on
first use), their sizes add up, and ``--history`` sees a known change in the repository's own
history (49dccf4 deferred auth, apps, tracecontext, asking and sealing: 13 to 14 % less bytecode).
"""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# scripts/test_vendored runs the suite in a copy of the checkout whose mcplite is one file.
ONE_FILE = bool(os.environ.get("MCPLITE_VENDORED"))
SCRIPT = os.path.join(ROOT, "bench", "loaded_code.py")
DEFERRING_COMMIT = "49dccf4"


def run(argv, timeout=120):
    return subprocess.run([sys.executable, SCRIPT] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, cwd=ROOT)


def test_this_checkout_lists_what_a_plain_server_loads():
    done = run(["--json"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    result = json.loads(done.stdout)
    modules = result["modules"]
    assert result["total"] == sum(modules.values())
    if ONE_FILE:
        assert list(modules) == ["mcplite"] and modules["mcplite"] > 100000, modules
        return
    for held in ("mcplite", "mcplite.server", "mcplite.stdio", "mcplite.dispatch", "mcplite.schema"):
        assert modules.get(held, 0) > 1000, modules
    for deferred in ("mcplite.auth", "mcplite.tasks", "mcplite.asking", "mcplite.sealing", "mcplite.httpapp",
                     "mcplite.client"):
        assert deferred not in modules, modules
    assert result["rss_anon_kib"] is None or result["rss_anon_kib"] > 1000


def test_the_report_names_each_module_and_the_total():
    done = run([])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    out = done.stdout.decode("utf-8")
    assert re.search(r"^  mcplite%s\s+\d+ B$" % ("" if ONE_FILE else r"\.server"), out, re.M), out
    assert re.search(r"^  total\s+\d+ B in \d+ modules; RssAnon \d+ KiB$", out, re.M), out


@pytest.mark.skipif(ONE_FILE, reason="the one-file run's copy of the checkout has no git history "
                    "(the package run of the same suite runs this)")
def test_history_sees_a_known_change():
    present = subprocess.run(["git", "cat-file", "-e", DEFERRING_COMMIT + "^{commit}"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # CI clones the whole history; a shallow copy of the repository cannot answer this one.
    assert present.returncode == 0, "commit %s is not in this clone's history" % DEFERRING_COMMIT
    def ours():
        listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, stdout=subprocess.PIPE).stdout.decode()
        return set(line.split()[0] for line in listed.splitlines() if "mcplite-loaded-" in line)
    before_run = ours()  # (another run's may be there: only this run's must be gone)
    done = run(["--history", DEFERRING_COMMIT + "~1.." + DEFERRING_COMMIT, "--json"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    rows = json.loads(done.stdout)
    assert len(rows) == 2 and rows[1]["commit"].startswith(DEFERRING_COMMIT), rows
    before, after = (row["result"]["total"] for row in rows)
    assert after < 0.9 * before, (before, after)  # 13-14 % less on 3.8 and 3.11
    assert "mcplite.auth" in rows[0]["result"]["modules"] and "mcplite.auth" not in rows[1]["result"]["modules"]
    assert ours() <= before_run, ours()


def test_a_range_is_required():
    done = run(["--history", "HEAD"])
    assert done.returncode == 2
    assert b"A..B" in done.stderr
