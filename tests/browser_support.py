"""What the browser tests share: finding Chromium and playwright-core (or skipping, or failing),
starting ``python -m mcplite inspect`` and stopping it by its PID, and running a Node scenario
(``tests/browser/*.cjs``) whose checks become the test's result.

``scripts/test`` installs Debian's ``chromium`` and ``playwright-core`` (under ``.cache/``) and
exports ``MCPLITE_CHROMIUM``, ``MCPLITE_PLAYWRIGHT`` (the ``node_modules`` directory holding
playwright-core) and ``MCPLITE_NODE``. Without them a test skips, unless
``MCPLITE_REQUIRE_INTEROP`` is set (CI): then it fails, as ``interop_support.unusable`` rules.
The fixture is named ``browser``, which tests/conftest.py counts among the peer fixtures, so
``scripts/test --no-interop`` deselects these tests by the ``interop`` mark.
"""

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, Iterator, List, Optional

import pytest

from interop_support import REPO, run_bounded, unusable

BROWSER_DIR = REPO / "tests" / "browser"
SHOTS = REPO / ".cache" / "browser-shots"  # screenshots of every run (gitignored), kept for a look
URL_LINE = re.compile(r"^mcplite inspector: (http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_\-]+))$")
READY_TIMEOUT = 30.0  # seconds for the inspector's URL line
SCENARIO_TIMEOUT = 180.0  # seconds for one Node scenario, the browser's start included


class Browser:
    """Where the browser tests find their tools."""

    def __init__(self, node, playwright, chromium):
        # type: (str, str, str) -> None
        self.node = node
        self.playwright = playwright
        self.chromium = chromium


def find_browser():
    # type: () -> Browser
    chromium = os.environ.get("MCPLITE_CHROMIUM", "")
    playwright = os.environ.get("MCPLITE_PLAYWRIGHT", "")
    node = os.environ.get("MCPLITE_NODE", "") or shutil.which("node") or ""
    if not chromium:
        unusable("MCPLITE_CHROMIUM", "MCPLITE_CHROMIUM is not set (scripts/test installs Debian's chromium "
                                     "and sets it to /usr/bin/chromium)")
    if not playwright:
        unusable("MCPLITE_PLAYWRIGHT", "MCPLITE_PLAYWRIGHT is not set (scripts/test installs playwright-core "
                                       "under .cache/playwright and sets it to its node_modules)")
    if not os.access(chromium, os.X_OK):
        unusable("MCPLITE_CHROMIUM", "MCPLITE_CHROMIUM=%s is not an executable" % chromium)
    if not os.path.isfile(os.path.join(playwright, "playwright-core", "package.json")):
        unusable("MCPLITE_PLAYWRIGHT", "MCPLITE_PLAYWRIGHT=%s holds no playwright-core" % playwright)
    if not node:
        unusable("MCPLITE_NODE", "no node to run playwright-core with (MCPLITE_NODE, or node on PATH)")
    return Browser(node, playwright, chromium)


@pytest.fixture(scope="module")
def browser():
    # type: () -> Browser
    return find_browser()


class Outcome:
    """What a scenario reported: its checks, measurements and screenshots."""

    def __init__(self, lines, status, stderr):
        # type: (List[Dict[str, Any]], Optional[int], str) -> None
        self.lines = lines
        self.status = status
        self.stderr = stderr
        self.checks = [line for line in lines if "check" in line]
        self.values = {line["value"]: line["data"] for line in lines if "value" in line}
        self.shots = [line["shot"] for line in lines if "shot" in line]
        self.errors = [line["error"] for line in lines if "error" in line]
        self.done = any(line.get("done") for line in lines)

    @property
    def failed(self):
        # type: () -> List[Dict[str, Any]]
        return [c for c in self.checks if not c["ok"]]

    @property
    def ok(self):
        # type: () -> bool
        return self.status == 0 and self.done and not self.errors and not self.failed and bool(self.checks)

    def report(self):
        # type: () -> str
        parts = ["node exit status: %s, finished: %s" % (self.status, self.done)]
        parts += ["FAILED check %r: %s" % (c["check"], json.dumps(c["detail"])[:2000]) for c in self.failed]
        parts += ["error: %s" % e[-3000:] for e in self.errors]
        parts += ["%s: %s" % (k, json.dumps(v)[:3000]) for k, v in self.values.items()]
        parts += ["screenshots: %s" % ", ".join(self.shots)]
        if self.stderr.strip():
            parts.append("node stderr:\n" + self.stderr[-3000:])
        return "\n".join(parts)


# What Playwright says when Chromium itself went away under the scenario (seen once in CI, on a
# loaded machine, at the first page.goto of a trivial page): the browser's failure, not the page's.
_BROWSER_GONE = ("Target page, context or browser has been closed", "Browser closed", "browser has disconnected")


def run_scenario(browser, scenario, url, name, params=None, timeout_ms=15000, expect_ok=True):
    # type: (Browser, str, str, str, Optional[Dict[str, Any]], int, bool) -> Outcome
    """Run ``tests/browser/<scenario>`` against ``url`` in a fresh Chromium profile (a temporary
    directory, removed afterwards, even when Node had to be killed). With ``expect_ok`` the test
    fails unless every check passed and the scenario finished; the outcome is returned either
    way (its values: the measurements). A run in which Chromium itself went away (an error of
    ``_BROWSER_GONE``) is run once more in a new browser; the first run's report is printed.
    A failed check alone is never run again."""
    outcome = _run_scenario_once(browser, scenario, url, name, params, timeout_ms)
    if any(gone in error for error in outcome.errors for gone in _BROWSER_GONE):
        print("browser scenario %s (%s): Chromium went away; run once more. The first run:\n%s"
              % (scenario, name, outcome.report()))
        outcome = _run_scenario_once(browser, scenario, url, name, params, timeout_ms)
    # Shown by pytest -s, or with the failure.
    print("browser scenario %s (%s)%s:\n%s" % (scenario, name, "" if expect_ok else ", whose failure is expected",
                                              outcome.report()))
    if expect_ok and not outcome.ok:
        pytest.fail("browser scenario %s failed:\n%s" % (scenario, outcome.report()), pytrace=False)
    return outcome


def _run_scenario_once(browser, scenario, url, name, params, timeout_ms):
    # type: (Browser, str, str, str, Optional[Dict[str, Any]], int) -> Outcome
    profile = tempfile.mkdtemp(prefix="mcplite-chromium-")
    shots = SHOTS / name
    config = {"url": url, "chromium": browser.chromium, "profile": profile, "shots": str(shots),
              "params": params or {}, "timeoutMs": timeout_ms}
    env = dict(os.environ)
    env["NODE_PATH"] = browser.playwright
    no_proxy = [v for v in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if v]
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy + ["127.0.0.1", "localhost"])
    config_file = os.path.join(profile + "-config.json")
    try:
        with open(config_file, "w") as f:
            json.dump(config, f)
        status, out, err = run_bounded(
            ["/bin/sh", "-c", 'exec "$0" "$1" "$2" < "$3"', browser.node, str(BROWSER_DIR / "run.cjs"),
             str(BROWSER_DIR / scenario), config_file], SCENARIO_TIMEOUT, env)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(config_file)
    lines = []  # type: List[Dict[str, Any]]
    for raw in out.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            lines.append({"error": "not a JSON line from the scenario: %r" % raw[:500]})
    return Outcome(lines, status, err)


# --- the inspector, as a process ------------------------------------------------------------------


class Inspector:
    def __init__(self, proc, line, stderr_path):
        # type: (subprocess.Popen, str, str) -> None
        match = URL_LINE.match(line)
        assert match, line
        self.proc = proc
        self.url = match.group(1)
        self.port = int(match.group(2))
        self.token = match.group(3)
        self.stderr_path = stderr_path
        self.extra_stdout = []  # type: List[str]

    def stderr(self):
        # type: () -> str
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


@contextlib.contextmanager
def running_inspector(args, python=None, cwd=None, env=None):
    # type: (List[str], Optional[List[str]], Optional[str], Optional[Dict[str, str]]) -> Iterator[Inspector]
    """``python -m mcplite inspect --no-open ARGS`` (or ``python`` + ARGS when ``python`` is the
    whole command line), until its URL line; stopped at the end by SIGTERM to its PID, which
    must end it with status 0 within 10 s (the contract); a process group left behind is killed."""
    command = (python or [sys.executable, "-m", "mcplite", "inspect", "--no-open"]) + list(args)
    fd, stderr_path = tempfile.mkstemp(prefix="mcplite-inspector-", suffix=".log")
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=fd,
                            cwd=cwd or str(REPO), env=env, start_new_session=True)
    os.close(fd)
    lines = queue.Queue()  # type: queue.Queue

    def read():
        # type: () -> None
        for raw in iter(proc.stdout.readline, b""):  # type: ignore[union-attr]
            lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    inspector = None  # type: Optional[Inspector]
    status = None  # type: Optional[int]
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        first = None
        while time.monotonic() < deadline:
            try:
                first = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            break
        if first is None or not URL_LINE.match(first):
            with open(stderr_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            pytest.fail("the inspector printed %r, not its URL line, within %ss (exit %s)\nstderr:\n%s"
                        % (first, READY_TIMEOUT, proc.poll(), err[-3000:]), pytrace=False)
        inspector = Inspector(proc, first, stderr_path)
        yield inspector
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            status = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it started and left (a stdio server)
        if status is None:
            proc.wait(timeout=10)
        reader.join(timeout=5)
        if inspector is not None:
            while True:
                try:
                    line = lines.get_nowait()
                except queue.Empty:
                    break
                if line is not None:
                    inspector.extra_stdout.append(line)
        err_text = ""
        with contextlib.suppress(OSError):
            with open(stderr_path, "rb") as f:
                err_text = f.read().decode("utf-8", "replace")
            os.unlink(stderr_path)
    if inspector is not None:
        # The contract: one line on stdout, then SIGTERM ends it with status 0.
        assert status == 0, "the inspector did not exit 0 on SIGTERM (status %s)\nstderr:\n%s" % (
            status, err_text[-3000:])
        assert inspector.extra_stdout == [], "the inspector printed more than its URL line: %r" % (
            inspector.extra_stdout[:10],)
