"""bench/loaded_code.py measures what a plain stdio server loads: the modules it reports are
the ones such a server holds (the server and stdio modules, none of the features loaded on
first use), their sizes add up, and ``--history`` measures a commit that adds code (in a
repository of the test's own: a clone of the project may be shallow).
"""
import json
import os
import re
import shutil
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# scripts/test_vendored runs the suite in a copy of the checkout whose mcplite is one file.
ONE_FILE = bool(os.environ.get("MCPLITE_VENDORED"))
SCRIPT = os.path.join(ROOT, "bench", "loaded_code.py")


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


def test_an_http_server_after_a_call_holds_the_http_front():
    done = run(["--transport", "http", "--json"])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    result = json.loads(done.stdout)
    modules = result["modules"]
    assert result["total"] == sum(modules.values())
    if ONE_FILE:
        assert list(modules) == ["mcplite"], modules
        return
    for held in ("mcplite.server", "mcplite.httpapp", "mcplite.httpserver", "mcplite.sse"):
        assert modules.get(held, 0) > 1000, modules
    for deferred in ("mcplite.stdio", "mcplite.tasks", "mcplite.client", "mcplite.coercion"):
        assert deferred not in modules, modules


def test_the_report_names_each_module_and_the_total():
    done = run([])
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    out = done.stdout.decode("utf-8")
    assert re.search(r"^  mcplite%s\s+\d+ B$" % ("" if ONE_FILE else r"\.server"), out, re.M), out
    assert re.search(r"^  total\s+\d+ B in \d+ modules; RssAnon \d+ KiB$", out, re.M), out


def _git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"] + list(args), cwd=cwd,
                          check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode().strip()


def test_history_sees_a_commit_that_loads_more_code(tmp_path):
    # A repository of its own (this checkout's mcplite, the script and its server), so that
    # the test needs no history of the project's: a clone may be shallow.
    repo = str(tmp_path / "repo")
    os.makedirs(os.path.join(repo, "bench", "servers"))
    for name in ("loaded_code.py", os.path.join("servers", "mcplite_add.py")):
        shutil.copy(os.path.join(ROOT, "bench", name), os.path.join(repo, "bench", name))
    if os.path.isdir(os.path.join(ROOT, "mcplite")):
        shutil.copytree(os.path.join(ROOT, "mcplite"), os.path.join(repo, "mcplite"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        grown = os.path.join(repo, "mcplite", "server.py")
    else:  # the one-file run's checkout: mcplite is one module
        shutil.copy(os.path.join(ROOT, "mcplite.py"), os.path.join(repo, "mcplite.py"))
        grown = os.path.join(repo, "mcplite.py")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "before")
    with open(grown, "a") as f:  # about 5 KB more code, loaded by every server
        f.write("\n\n_LOADED_CODE_TEST_PADDING = (%s)\n" % ", ".join(str(i * 7919) for i in range(1000)))
    _git(repo, "commit", "-q", "-am", "after")
    after = _git(repo, "rev-parse", "HEAD")
    done = subprocess.run([sys.executable, os.path.join(repo, "bench", "loaded_code.py"), "--history", "HEAD~1..HEAD",
                           "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, cwd=repo)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    rows = json.loads(done.stdout)
    assert len(rows) == 2 and rows[1]["commit"] == after, rows
    before_total, after_total = (row["result"]["total"] for row in rows)
    assert 3000 < after_total - before_total < 20000, (before_total, after_total)
    assert "mcplite-loaded-" not in _git(repo, "worktree", "list")  # its worktree is gone


def test_a_range_is_required():
    done = run(["--history", "HEAD"])
    assert done.returncode == 2
    assert b"A..B" in done.stderr
