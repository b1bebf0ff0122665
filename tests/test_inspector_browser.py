"""The inspector (``python -m mcplite inspect``) in a real browser: headless Chromium (Debian's
``chromium``) driven by playwright-core, both installed by ``scripts/test``.

Each test starts what it needs (the inspector, a server) as processes stopped by their PIDs,
then runs a Node scenario from ``tests/browser/`` whose checks are the test's result (see
``tests/browser_support.py``). Screenshots go to ``.cache/browser-shots/<test>/``. The
inspector's token, Origin and Host refusals are tested over raw HTTP elsewhere
(tests/test_inspector.py), not here.
"""

import contextlib
import http.server
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from typing import Any, Dict, Iterator, List, Tuple

from browser_support import SHOTS, browser, run_scenario, running_inspector  # noqa: F401  (browser: a fixture)
from interop_support import REPO

SMOKE_PAGE = b"""<!doctype html><meta charset="utf-8"><title>smoke</title>
<button data-testid="go" onclick="document.querySelector('[data-testid=out]').textContent = 'clicked'">go</button>
<p data-testid="out">not yet</p>"""


class _SmokeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(SMOKE_PAGE)))
        self.end_headers()
        self.wfile.write(SMOKE_PAGE)

    def log_message(self, *args):
        pass


def test_the_harness_passes_and_fails_on_a_trivial_page(browser):  # noqa: F811
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SmokeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        good = run_scenario(browser, "smoke.cjs", url, "smoke", {"expect": "clicked"})
        assert "HeadlessChrome" in good.values["userAgent"] or "Chrome" in good.values["userAgent"]
        assert good.shots and all(s.endswith(".png") for s in good.shots)
        # The same scenario expecting another text must come back failed: a check can fail.
        bad = run_scenario(browser, "smoke.cjs", url, "smoke-failing", {"expect": "something else"},
                           expect_ok=False)
        assert not bad.ok and [c["check"] for c in bad.failed] == ["the click changed the text"], bad.report()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_run_whose_browser_went_away_is_run_once_more(browser, tmp_path):  # noqa: F811
    """Chromium dying under a scenario (seen once in CI on a loaded machine) is the browser's
    failure, not the page's: that run, and only that kind, is run once more."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SmokeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        marker = tmp_path / "marker"
        outcome = run_scenario(browser, "gone_once.cjs", "http://127.0.0.1:%d/" % server.server_address[1],
                               "gone-once", {"marker": str(marker)})
        assert marker.read_text() == "first run"
        assert [c["check"] for c in outcome.checks if c["ok"]] == ["the run after the browser went away",
                                                                    "no uncaught error in the page"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the inspector against live servers --------------------------------------------------------

APP = str(REPO / "tests" / "browser" / "inspect_app.py")
FORMS_APP = str(REPO / "tests" / "browser" / "forms_app.py")


@contextlib.contextmanager
def http_server(app=APP):
    # type: (str) -> Iterator[str]
    """``python -m mcplite serve APP --http 127.0.0.1:0`` (tests/browser/inspect_app.py unless
    told): its URL (from the line it says it serves at on stderr), then SIGINT to its PID at the
    end."""
    proc = subprocess.Popen([sys.executable, "-m", "mcplite", "serve", app, "--http", "127.0.0.1:0"],
                            cwd=str(REPO), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    found = queue.Queue()  # type: queue.Queue

    def read():
        # type: () -> None
        for raw in iter(proc.stderr.readline, b""):  # type: ignore[union-attr]
            match = re.search(r"http://127\.0\.0\.1:\d+/mcp", raw.decode("utf-8", "replace"))
            if match:
                found.put(match.group(0))
        found.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        try:
            url = found.get(timeout=30)
        except queue.Empty:
            url = None
        assert url, "mcplite serve --http said no URL (exit %s)" % proc.poll()
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        reader.join(timeout=5)


def test_stdio_server_call_ask_cancel_filter_sequence(browser):  # noqa: F811
    target = " ".join(shlex.quote(part) for part in (sys.executable, APP))
    missing = shlex.quote(str(REPO / "tests" / "browser" / "no-such-server"))
    with running_inspector([]) as inspector:
        outcome = run_scenario(browser, "live.cjs", inspector.url, "stdio",
                               {"target": target, "era": "auto", "full": True, "badTarget": missing},
                               timeout_ms=20000)
    print("stdio:", json.dumps(outcome.values))


def test_http_server_in_the_session_era_call_ask_cancel(browser):  # noqa: F811
    with http_server() as url:
        # Given on the command line, the inspector connects at once, here in the session era
        # (initialize): its elicitation is a request to the client, its cancel a notification.
        with running_inspector([url, "--era", "session"]) as inspector:
            run_scenario(browser, "live.cjs", inspector.url, "http",
                         {"target": url, "given": True, "full": True, "version": "2025-11-25", "http": True,
                          "docs": True},
                         timeout_ms=20000)


def test_forms_of_enums_lists_nested_objects_and_results_of_images_trees_and_errors(browser):  # noqa: F811
    # Connected from the connect bar, with a protocol version and a header typed in there.
    with http_server(FORMS_APP) as url:
        with running_inspector([]) as inspector:
            run_scenario(browser, "forms.cjs", inspector.url, "forms",
                         {"target": url, "version": "2025-06-18", "header": "X-Team: blue", "headerValue": "blue"},
                         timeout_ms=20000)


# --- recordings: step mode, and 10,000 messages ----------------------------------------------------


def write_recording(path, messages):
    # type: (Any, List[Tuple[str, Dict[str, Any]]]) -> None
    """A file in ``mcplite record``'s format: a header, then one line per (dir, message)."""
    with open(str(path), "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "mcplite-recording/1", "command": ["python3", "server.py"],
                            "cwd": "/srv", "started": "2026-12-05T23:00:00.000Z"}) + "\n")
        for i, (direction, message) in enumerate(messages):
            f.write(json.dumps({"t": round(0.001 * (i + 1), 6), "dir": direction, "message": message}) + "\n")
        f.write(json.dumps({"t": round(0.001 * (len(messages) + 1), 6), "end": "the client closed stdin",
                            "status": 0}) + "\n")


def handshake(version="2025-11-25"):
    # type: (str) -> List[Tuple[str, Dict[str, Any]]]
    return [
        ("->", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        ("<-", {"jsonrpc": "2.0", "id": 1, "result": {
            "protocolVersion": version, "capabilities": {"tools": {}},
            "serverInfo": {"name": "browser-demo", "version": "1.0.0"}}}),
        ("->", {"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ("->", {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        ("<-", {"jsonrpc": "2.0", "id": 2, "result": {"tools": [{"name": "add", "inputSchema": {
            "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"]}}]}}),
        ("->", {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "add", "arguments": {"a": 2, "b": 40}}}),
        ("<-", {"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "42"}],
                                                      "structuredContent": {"result": 42}}}),
    ]


def step_params(messages):
    # type: (List[Tuple[str, Dict[str, Any]]]) -> Dict[str, Any]
    """What step.cjs expects: the count, and each row's "dir method" (a response carries its
    request's method)."""
    asked = {m["id"]: m["method"] for d, m in messages if d == "->" and "method" in m and "id" in m}
    return {"count": len(messages), "methods": [
        ("out " if d == "->" else "in ") + (m.get("method") or asked.get(m.get("id"), "")) for d, m in messages]}


def test_replay_steps_through_a_recording(browser, tmp_path):  # noqa: F811
    messages = handshake()
    write_recording(tmp_path / "session.jsonl", messages)
    with running_inspector(["--replay", str(tmp_path / "session.jsonl")]) as inspector:
        run_scenario(browser, "step.cjs", inspector.url, "replay", step_params(messages))


def big_session(count):
    # type: (int) -> List[Tuple[str, Dict[str, Any]]]
    """``count`` messages: the handshake, then calls, each with two progress notifications and a
    log message before its result, then a tools/list to fill up to ``count``."""
    messages = handshake()[:3]
    rid = 10
    while len(messages) + 5 <= count:
        rid += 1
        token = "p%d" % rid
        messages += [
            ("->", {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {
                "name": "add", "arguments": {"a": rid, "b": 1}, "_meta": {"progressToken": token}}}),
            ("<-", {"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": token, "progress": 1, "total": 2}}),
            ("<-", {"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": token, "progress": 2, "total": 2}}),
            ("<-", {"jsonrpc": "2.0", "method": "notifications/message", "params": {
                "level": "info", "data": "adding %d and 1" % rid}}),
            ("<-", {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": str(rid + 1)}]}}),
        ]
    while len(messages) < count:
        rid += 1
        messages.append(("->", {"jsonrpc": "2.0", "id": rid, "method": "ping"}))
    return messages


SCALE = 10000


def test_ten_thousand_messages_render_and_stay_usable(browser, tmp_path):  # noqa: F811
    messages = big_session(SCALE)
    assert len(messages) == SCALE
    write_recording(tmp_path / "big.jsonl", messages)
    with running_inspector(["--replay", str(tmp_path / "big.jsonl")]) as inspector:
        outcome = run_scenario(browser, "scale.cjs", inspector.url, "scale",
                               {"count": SCALE, "lastSeq": SCALE - 1, "boundMs": 60000}, timeout_ms=30000)
    numbers = dict(outcome.values, messages=SCALE, python=sys.version.split()[0])
    (SHOTS / "scale").mkdir(parents=True, exist_ok=True)
    (SHOTS / "scale" / "numbers.json").write_text(json.dumps(numbers, indent=1))
    print("scale:", json.dumps(numbers))


# --- the one-file build ------------------------------------------------------------------------------


def test_the_page_works_from_the_one_file_build(browser, tmp_path):  # noqa: F811
    """The inspector run from the one-file build (``python -m mcplite vendor``), under -S -E
    from an empty directory: nothing but the standard library and that file. Under
    MCPLITE_VENDORED (scripts/test_vendored) the file under test is that build."""
    vendored = os.environ.get("MCPLITE_VENDORED", "")
    if vendored:
        bundle = os.path.join(os.path.abspath(vendored), "mcplite.py")
    else:
        out = tmp_path / "vendored"
        subprocess.run([sys.executable, "-m", "mcplite", "vendor", str(out)], cwd=str(REPO), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        bundle = str(out / "mcplite.py")
    empty = tmp_path / "empty"
    empty.mkdir()
    messages = handshake()
    write_recording(tmp_path / "session.jsonl", messages)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with running_inspector(["--replay", str(tmp_path / "session.jsonl")], cwd=str(empty), env=env,
                           python=[sys.executable, "-S", "-E", bundle, "inspect", "--no-open"]) as inspector:
        run_scenario(browser, "step.cjs", inspector.url, "one-file", step_params(messages))
