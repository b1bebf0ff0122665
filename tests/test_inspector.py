"""The inspector (mcplite/inspector.py), as a user runs it: ``python -m mcplite inspect --no-open``
in a subprocess, its URL read from its one stdout line, then raw HTTP (http.client) against it
as the page would talk to it. No browser here (tests/browser/ drives the page in Chromium): the
security checks, the JSON API and the SSE feed, against real servers (tests/kitchen_app.py,
tests/asking_app.py over stdio, the kitchen app over HTTP in this process), the export read by
``record``'s own reader and replayed, ``--replay``, and ``mcplite.inspect`` from the one-file
build. Every process started is stopped by its PID; every wait is bounded.
"""

import http.client
import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional

import pytest

from kitchen_app import make_kitchen_app
from mcplite.recording import REC_FORMAT, rec_load

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
TIMEOUT = 30.0
KITCHEN = "%s %s" % (shlex.quote(PY), shlex.quote(os.path.join(HERE, "kitchen_app.py")))
ASKING = "%s %s" % (shlex.quote(PY), shlex.quote(os.path.join(HERE, "asking_app.py")))


class Feed:
    """The ``/events`` stream, read on a thread of its own into a queue of (kind, data)."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.connection.request("GET", "/events?token=" + token)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.events = queue.Queue()  # type: queue.Queue
        self.seen = []  # type: List[Any]
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data = "message", []  # type: Any
        try:
            while True:
                line = self.response.fp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\n")
                if line == "":
                    if data:
                        self.events.put((kind, json.loads("\n".join(data))))
                    kind, data = "message", []
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
        except (OSError, ValueError, AttributeError):
            pass  # (closed by the test: AttributeError once http.client has dropped its file)

    def wait(self, predicate: Any, timeout: float = TIMEOUT) -> Any:
        """The first event (kind, data) seen or coming that ``predicate`` accepts."""
        for event in self.seen:
            if predicate(*event):
                return event[1]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no such event in %.0f s; seen: %s" % (timeout, [
                    (kind, data.get("method") if isinstance(data, dict) else data) for kind, data in self.seen]))
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if predicate(*event):
                return event[1]

    def entries(self) -> List[Dict[str, Any]]:
        while True:
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                break
        return [data for kind, data in self.seen if kind == "message"]

    def close(self) -> None:
        self.connection.close()


class Inspector:
    """``python -m mcplite inspect --no-open ARGS`` running; ``call`` speaks its API."""

    def __init__(self, *args: str, argv: Optional[List[str]] = None, cwd: str = ROOT,
                 env: Optional[Dict[str, str]] = None) -> None:
        argv = argv or [PY, "-m", "mcplite", "inspect", "--no-open"] + list(args)
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        lines = queue.Queue()  # type: queue.Queue
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            self.line = lines.get(timeout=TIMEOUT).decode("utf-8")
        except queue.Empty:
            self.stop()
            raise AssertionError("no URL line in %.0f s" % TIMEOUT)
        prefix = "mcplite inspector: http://127.0.0.1:"
        if not (self.line.startswith(prefix) and self.line.endswith("\n")):
            self.stop()
            raise AssertionError("not the URL line: %r; stderr: %s" % (self.line, self.err))
        address, _, self.token = self.line[len(prefix):].strip().partition("/?token=")
        self.port = int(address)
        assert len(self.token) >= 20
        self.feeds = []  # type: List[Feed]
        self.err = ""

    def stderr(self) -> str:
        """What it wrote on stderr (once stopped)."""
        return self.err if self.process.poll() is not None else "(running)"

    def http(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
             token: Any = True) -> Any:
        """(status, the body: JSON decoded when it is JSON, else text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        sent = dict(headers or {})
        if token is True:
            sent.setdefault("Authorization", "Bearer " + self.token)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, path, data, sent)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        kind = response.getheader("Content-Type") or ""
        return response.status, json.loads(raw.decode("utf-8")) if kind == "application/json" else raw.decode("utf-8")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.http(method, path, body)
        assert status == 200, (path, status, answer)
        return answer

    def feed(self) -> Feed:
        feed = Feed(self.port, self.token)
        self.feeds.append(feed)
        return feed

    def connect(self, target: str, era: str = "auto") -> Dict[str, Any]:
        state = self.call("POST", "/api/connect", {"target": target, "era": era})
        assert state["status"] == "connected", state
        return state

    def request(self, method: str, params: Optional[Dict[str, Any]] = None) -> str:
        return self.call("POST", "/api/request", {"method": method, "params": params or {}})["id"]

    def result(self, rid: str, timeout: float = TIMEOUT) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            outcome = self.call("GET", "/api/result/" + rid)
            if outcome["status"] != "running" or time.monotonic() > deadline:
                return outcome
            time.sleep(0.05)

    def stop(self) -> int:
        for feed in self.feeds:
            feed.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self.process.stderr.closed:
            self.err = self.process.stderr.read().decode("utf-8", "replace")
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode


@pytest.fixture
def started_inspector():
    running = []  # type: List[Inspector]

    def start(*args: str, **options: Any) -> Inspector:
        running.append(Inspector(*args, **options))
        return running[-1]
    yield start
    for one in running:
        one.stop()


def paired(feed: Feed, method: str, predicate: Any = lambda message: True) -> Any:
    """The request (out) of ``method`` that ``predicate`` accepts, and its response (in)."""
    request = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "out" and e["method"] == method
                        and "id" in e["message"] and predicate(e["message"]))
    response = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "in" and e["pairedSeq"] == request["seq"])
    return request, response


# --- security -------------------------------------------------------------------------------------

def test_nothing_is_answered_without_the_token_from_this_machines_own_pages(started_inspector):
    one = started_inspector()
    port, token = one.port, one.token
    # The page, with the token in the URL (as printed) or as a bearer token.
    status, page = one.http("GET", "/?token=" + token, token=False)
    assert status == 200 and 'data-testid="timeline"' in page and "<script>" in page
    status, page = one.http("GET", "/")
    assert status == 200 and 'data-testid="timeline"' in page
    # No token, a wrong one, one a character short: 403, and nothing of the token in the answer.
    for path, headers in (("/", {}), ("/api/state", {}), ("/events", {}), ("/?token=" + token[:-1], {}),
                          ("/api/state?token=x" + token, {}), ("/api/state", {"Authorization": "Bearer nope"}),
                          ("/api/export", {"Authorization": "Basic " + token})):
        status, body = one.http("GET", path, headers=headers, token=False)
        assert status == 403, (path, status)
        assert token not in body
    status, body = one.http("POST", "/api/connect", {"target": KITCHEN}, token=False)
    assert status == 403
    # A DNS rebinding page reaches 127.0.0.1 under its own name: refused, token or not.
    for host in ("evil.example:%d" % port, "127.0.0.1", "localhost:%d" % (port + 1), "127.0.0.1.nip.io:%d" % port):
        status, _ = one.http("GET", "/api/state", headers={"Host": host})
        assert status == 403, host
    assert one.http("GET", "/api/state", headers={"Host": "localhost:%d" % port})[0] == 200
    # Another site's page in the same browser sends its own Origin.
    for origin in ("http://evil.example", "http://127.0.0.1:%d" % (port + 1), "https://127.0.0.1:%d" % port, "null"):
        status, _ = one.http("POST", "/api/request", {"method": "ping"}, headers={"Origin": origin})
        assert status == 403, origin
    for origin in ("http://127.0.0.1:%d" % port, "http://localhost:%d" % port):
        assert one.http("GET", "/api/state", headers={"Origin": origin})[0] == 200
    # Bodies are bounded (refused before they are read) and must be JSON.
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        raw.sendall(("POST /api/connect HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (port, token, 64 * 1024 * 1024)).encode("ascii"))
        answer = b""
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.0 413 ")
    status, _ = one.http("POST", "/api/connect", headers={"Content-Type": "text/plain", "Content-Length": "2"})
    assert status in (411, 415)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    connection.request("POST", "/api/connect", b"target=x", {"Authorization": "Bearer " + token,
                                                            "Content-Type": "application/x-www-form-urlencoded"})
    assert connection.getresponse().status == 415
    connection.close()
    # The page's headers: no framing, no referrer (the URL holds the token), no inline sources but its own.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    connection.request("GET", "/", headers={"Authorization": "Bearer " + token})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
    assert "connect-src 'self'" in response.getheader("Content-Security-Policy")
    assert one.stop() == 0
    assert one.stderr() == "", one.stderr()


def test_one_line_on_stdout_and_sigterm_ends_it_with_status_0(started_inspector):
    one = started_inspector()
    assert one.line == "mcplite inspector: http://127.0.0.1:%d/?token=%s\n" % (one.port, one.token)
    assert one.call("GET", "/api/state")["status"] == "idle"
    assert one.stop() == 0
    assert one.process.stdout.closed
    two = started_inspector()
    assert two.token != one.token
    assert two.stop() == 0  # (SIGTERM as soon as the line is read: the handler was there before it)


def test_a_bad_replay_file_or_port_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    for args, status in (([ "--replay", str(bad)], 2), (["--port", "70000"], 2),
                         (["--era", "1999"], 2)):
        proc = subprocess.run([PY, "-m", "mcplite", "inspect", "--no-open"] + args, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT)
        err = proc.stderr.decode("utf-8")
        assert proc.returncode == status, (args, proc.returncode, err)
        assert proc.stdout == b"" and "Traceback" not in err
    assert "not a recording" in subprocess.run(
        [PY, "-m", "mcplite", "inspect", "--no-open", "--replay", str(bad)], cwd=ROOT, stderr=subprocess.PIPE,
        stdout=subprocess.PIPE, timeout=TIMEOUT).stderr.decode("utf-8")


# The data-testid names the browser tests rely on (the inspector's contract).
CONTRACT_TESTIDS = (
    "target", "era", "connect", "disconnect", "status", "tab-tools", "tab-resources", "tab-prompts", "tool-item",
    "resource-item", "prompt-item", "tool-form", "raw-json", "raw-toggle", "call", "cancel", "progress", "result",
    "timeline", "msg", "latency", "filter", "view-list", "view-sequence", "sequence", "export", "ask", "ask-accept",
    "ask-decline", "ask-cancel", "sampling-text", "roots", "roots-save", "log-level", "logs", "play", "step",
    "step-position",
)


def test_the_page_is_one_self_contained_document_with_the_contracts_names():
    from mcplite.inspectpage import INSPECT_PAGE as page
    for name in CONTRACT_TESTIDS:  # (in the HTML, or given to the script's element makers)
        assert ('data-testid="%s"' % name) in page or ('"%s"' % name) in page.split("<script>", 1)[1], name
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    # Nothing fetched from elsewhere (no CDN), plain ES2017 (no ?. or ??), no eval.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "?." not in script.replace('"?."', "") and "??" not in script
    assert "eval(" not in script and "new Function" not in script
    # What a server sends goes in as text: innerHTML only for the escaped, highlighted JSON.
    assert script.count("innerHTML") == 1 and "pre.innerHTML = prettyJson(value)" in script
    assert page.count("<script") == 1 and page.startswith("<!DOCTYPE html>")


# --- a session ------------------------------------------------------------------------------------

@pytest.mark.parametrize("era", ["2026-07-28", "session"])
def test_a_stdio_session_every_message_paired_with_its_answer_and_explained(started_inspector, era):
    one = started_inspector()
    feed = one.feed()
    state = one.connect(KITCHEN, era)
    assert state["server"]["serverInfo"]["name"] == "kitchen"
    assert state["server"]["era"] == ("modern" if era == "2026-07-28" else "legacy")
    first = feed.wait(lambda kind, e: kind == "message")
    assert first["seq"] == 1 and first["dir"] == "out"
    assert first["method"] == ("server/discover" if era == "2026-07-28" else "initialize")
    assert "version" in first["note"] and first["http"] is None

    listing = one.result(one.request("tools/list"))
    assert listing["status"] == "done"
    assert "add" in [tool["name"] for tool in listing["result"]["tools"]]

    rid = one.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}})
    outcome = feed.wait(lambda kind, data: kind == "result" and data["id"] == rid)
    assert outcome["status"] == "done" and outcome["result"]["structuredContent"] == {"result": 42}
    assert one.result(rid) == outcome
    request, response = paired(feed, "tools/call", lambda m: m["params"]["name"] == "add")
    assert request["message"]["params"]["arguments"] == {"a": 2, "b": 40}
    assert request["note"].startswith("Runs a tool. A request: the server must answer with id")
    assert response["message"]["id"] == request["message"]["id"]
    assert response["message"]["result"]["structuredContent"] == {"result": 42}
    assert response["method"] == "tools/call" and response["note"].startswith("The answer to tools/call")
    assert 0 <= response["latencyMs"] < 1000 * TIMEOUT
    assert response["time"] >= request["time"] and response["seq"] > request["seq"]
    for entry in feed.entries():
        assert set(entry) >= {"seq", "dir", "time", "message", "method", "pairedSeq", "latencyMs", "note", "http"}

    # A JSON-RPC error comes back as the outcome's error, and its answer is in the timeline too.
    rid = one.request("prompts/get", {"name": "no-such-prompt"})
    outcome = one.result(rid)
    assert outcome["status"] == "error" and outcome["error"]["code"] == -32602
    request, response = paired(feed, "prompts/get")
    assert response["message"]["error"]["code"] == -32602 and "An error, -32602" in response["note"]

    # A page opened now gets the current state first, then the whole timeline again.
    late = one.feed()
    assert late.wait(lambda kind, data: kind == "state")["status"] == "connected"
    late.wait(lambda kind, e: kind == "message" and e["seq"] == response["seq"])
    assert [e["seq"] for e in late.entries()][:response["seq"]] == list(range(1, response["seq"] + 1))

    assert one.call("POST", "/api/disconnect", {})["status"] == "idle"
    assert one.http("POST", "/api/request", {"method": "tools/list"})[0] == 502
    assert one.stop() == 0


def test_a_failed_connection_says_why_in_the_state(started_inspector, tmp_path):
    one = started_inspector()
    status, answer = one.http("POST", "/api/connect", {"target": str(tmp_path / "missing.py")})
    assert status in (400, 502) and "no such file" in answer["error"]
    state = one.call("GET", "/api/state")
    assert state["status"] == "error" and "no such file" in state["error"]
    status, answer = one.http("POST", "/api/connect", {"target": PY + " -c 'import sys; sys.exit(3)'"})
    assert status == 502 and one.call("GET", "/api/state")["status"] == "error"
    assert one.http("POST", "/api/connect", {"target": ""})[0] == 400
    assert one.http("POST", "/api/connect", {"target": KITCHEN, "era": "1999"})[0] == 400


# "legacy" is what --era says for every other command (call, ls, ...): inspect takes it too,
# and the page shows it under its own name.
@pytest.mark.parametrize("era", ["session", "legacy"])
def test_a_target_given_on_the_command_line_is_connected_at_once(started_inspector, era):
    one = started_inspector(KITCHEN, "--era", era)
    feed = one.feed()
    state = feed.wait(lambda kind, data: kind == "state" and data["status"] == "connected")
    assert state["target"] == KITCHEN and state["era"] == "session"
    assert state["server"]["protocolVersion"] and state["server"]["era"] == "legacy"
    feed.wait(lambda kind, e: kind == "message" and e["method"] == "notifications/initialized")


def test_a_server_of_a_configuration_file(started_inspector, tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "kitchen": {"command": PY, "args": [os.path.join(HERE, "kitchen_app.py")]},
        "asking": {"command": PY, "args": [os.path.join(HERE, "asking_app.py")]}}}))
    one = started_inspector(str(config), "--server", "kitchen")
    feed = one.feed()
    state = feed.wait(lambda kind, data: kind == "state" and data["status"] == "connected")
    assert state["target"] == "%s --server kitchen" % config and state["server"]["serverInfo"]["name"] == "kitchen"
    assert json.loads(one.call("GET", "/api/export").splitlines()[0])["command"] == [
        PY, os.path.join(HERE, "kitchen_app.py")]
    proc = subprocess.run([PY, "-m", "mcplite", "inspect", "--no-open", str(config)], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 2 and proc.stdout == b"" and b"choose one with --server NAME" in proc.stderr


@pytest.mark.parametrize("era", ["2026-07-28", "session"])
def test_an_elicitation_is_answered_from_the_page(started_inspector, era):
    one = started_inspector()
    feed = one.feed()
    one.connect(ASKING, era)
    rid = one.request("tools/call", {"name": "ask_name", "arguments": {}})
    ask = feed.wait(lambda kind, data: kind == "ask")
    assert ask["method"] == "elicitation/create"
    assert ask["params"]["message"] == "What is your name?"
    assert "name" in ask["params"]["requestedSchema"]["properties"]
    assert [a["askId"] for a in one.call("GET", "/api/state")["asks"]] == [ask["askId"]]
    answer = one.call("POST", "/api/answer", {"askId": ask["askId"],
                                              "result": {"action": "accept", "content": {"name": "Ada"}}})
    assert answer["answered"] is True
    outcome = one.result(rid)
    assert outcome["status"] == "done", outcome
    assert outcome["result"]["content"][0]["text"] == "Hello, Ada!"
    assert one.call("GET", "/api/state")["asks"] == []
    assert one.http("POST", "/api/answer", {"askId": ask["askId"], "result": {"action": "cancel"}})[0] == 404
    # The question and its answer are in the timeline: as a request of the server's (a session)
    # or inside the retried request's inputResponses (2026-07-28).
    if era == "session":
        request = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "in"
                            and e["method"] == "elicitation/create")
        reply = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "out" and e["pairedSeq"] == request["seq"])
        assert reply["message"]["result"] == {"action": "accept", "content": {"name": "Ada"}}
    else:
        retry = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "out" and e["method"] == "tools/call"
                          and "inputResponses" in e["message"]["params"])
        assert {"action": "accept", "content": {"name": "Ada"}} in retry["message"]["params"]["inputResponses"].values()

    # Declined, and a question nobody answers before the disconnection: cancelled.
    rid = one.request("tools/call", {"name": "ask_name", "arguments": {}})
    ask = feed.wait(lambda kind, data: kind == "ask" and data["askId"] != answer["askId"])
    one.call("POST", "/api/answer", {"askId": ask["askId"], "result": {"action": "decline"}})
    assert one.result(rid)["result"]["content"][0]["text"] == "no name (decline)"


def test_sampling_and_roots_are_answered_from_the_page(started_inspector):
    one = started_inspector()
    feed = one.feed()
    one.connect(ASKING, "session")
    one.call("POST", "/api/roots", {"roots": ["file:///tmp/a", {"uri": "file:///tmp/b", "name": "b"}]})
    rid = one.request("tools/call", {"name": "ask_all", "arguments": {}})
    answered = set()
    deadline = time.monotonic() + TIMEOUT
    while len(answered) < 3 and time.monotonic() < deadline:
        ask = feed.wait(lambda kind, data: kind == "ask" and data["askId"] not in answered)
        if ask["method"] == "elicitation/create":
            result = {"action": "accept", "content": {"name": "Ada"}}  # type: Any
        elif ask["method"] == "sampling/createMessage":
            result = {"text": "hi there"}
        else:
            assert ask["method"] == "roots/list"
            result = {"roots": ["file:///tmp/a", "file:///tmp/b", "file:///tmp/c"]}
        assert one.call("POST", "/api/answer", {"askId": ask["askId"], "result": result})["answered"]
        answered.add(ask["askId"])
    outcome = one.result(rid)
    assert outcome["status"] == "done", outcome
    assert outcome["result"]["content"][0]["text"] == "Ada|hi there|3"
    assert [root["uri"] for root in one.call("GET", "/api/state")["roots"]] == [
        "file:///tmp/a", "file:///tmp/b", "file:///tmp/c"]


@pytest.mark.parametrize("era", ["2026-07-28", "session"])
def test_a_long_call_shows_progress_and_is_cancelled(started_inspector, era):
    one = started_inspector()
    feed = one.feed()
    one.connect(KITCHEN, era)
    started = time.monotonic()
    rid = one.request("tools/call", {"name": "ticking", "arguments": {"seconds": 60, "interval": 0.05}})
    progress = feed.wait(lambda kind, data: kind == "progress" and data["id"] == rid and data["progress"] >= 2)
    assert progress["total"] is None
    assert rid in one.call("GET", "/api/state")["running"]
    assert one.call("POST", "/api/cancel", {"id": rid})["id"] == rid
    outcome = feed.wait(lambda kind, data: kind == "result" and data["id"] == rid)
    assert outcome["status"] == "cancelled"
    assert time.monotonic() - started < 20
    request = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "out" and e["method"] == "tools/call"
                        and e["message"]["params"]["name"] == "ticking")
    cancelled = feed.wait(lambda kind, e: kind == "message" and e["dir"] == "out"
                          and e["method"] == "notifications/cancelled")
    assert cancelled["message"]["params"]["requestId"] == request["message"]["id"]
    assert cancelled["note"].startswith("Asks the other side to stop a request")
    feed.wait(lambda kind, e: kind == "message" and e["dir"] == "in" and e["method"] == "notifications/progress")
    assert rid not in one.call("GET", "/api/state")["running"]
    assert one.http("POST", "/api/cancel", {"id": rid})[0] == 404
    # The connection goes on.
    assert one.result(one.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}))["status"] == "done"


@pytest.mark.parametrize("era", ["2026-07-28", "session"])
def test_over_http_each_message_carries_its_exchange(started_inspector, era):
    handle = make_kitchen_app().run_in_thread(port=0)
    try:
        one = started_inspector()
        feed = one.feed()
        one.connect(handle.url, era)
        rid = one.request("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}})
        assert one.result(rid)["result"]["structuredContent"] == {"result": 42}
        request, response = paired(feed, "tools/call")
        assert request["http"]["request"] == "POST /mcp"
        headers = {name.lower(): value for name, value in request["http"]["headers"].items()}
        assert headers["content-type"] == "application/json"
        assert headers["mcp-method" if era == "2026-07-28" else "mcp-session-id"]
        assert response["http"]["status"] == 200 and response["latencyMs"] >= 0
        assert response["message"]["result"]["structuredContent"] == {"result": 42}
        # The request's own entry learns its POST's status; a notification's is 202, no body.
        update = feed.wait(lambda kind, data: kind == "update" and data["seq"] == request["seq"])
        assert update["http"]["status"] == 200 and update["http"]["request"] == "POST /mcp"
        if era == "session":
            initialized = feed.wait(lambda kind, e: kind == "message" and e["method"] == "notifications/initialized")
            update = feed.wait(lambda kind, data: kind == "update" and data["seq"] == initialized["seq"])
            assert update["http"]["status"] == 202 and update["http"]["answer"].startswith("202 Accepted")
        # An answer in one JSON body has no SSE framing; one that came as server-sent events
        # carries each event's framing as the page shows it ("SSE  id: 1.1  event: message"):
        # the progress notifications and the response of a call that reports progress.
        assert response["http"]["sse"] is None
        rid = one.request("tools/call", {"name": "ticking", "arguments": {"seconds": 0.25, "interval": 0.05}})
        assert one.result(rid)["result"]["content"][0]["text"] == "done"
        call, answer = paired(feed, "tools/call", lambda m: m["params"]["name"] == "ticking")
        assert call["http"]["sse"] is None  # (a POST's body, not an event)
        assert answer["http"]["headers"]["Content-Type"] == "text/event-stream"
        progress = [e for e in feed.entries() if e["method"] == "notifications/progress" and e["seq"] > call["seq"]]
        assert progress
        framings = [e["http"]["sse"] for e in progress + [answer]]
        if era == "session":
            # 2025-11-25's streams are resumable: every event has an id, in order on the stream.
            ids = [re.match(r"^id: (\S+)  event: message$", framing) for framing in framings]
            assert all(ids), framings
            numbers = [int(match.group(1).rsplit(".", 1)[1]) for match in ids if match]
            assert numbers == sorted(set(numbers)), framings
        else:
            assert framings == ["event: message"] * len(framings)
        # A page opened later gets the entries with what the updates said.
        late = one.feed()
        late.wait(lambda kind, data: kind == "update" and data["seq"] == request["seq"])
        one.call("POST", "/api/disconnect", {})
    finally:
        handle.stop()


def _echo_app() -> Any:
    """A server whose tool says what reached it: the protocol version of the session and the
    request's HTTP headers."""
    from mcplite import Context, Server
    app = Server("echo")

    @app.tool()
    def seen(ctx: Context) -> dict:
        return {"version": ctx.protocol_version, "headers": ctx.http_headers}
    return app


def test_a_forced_protocol_version_and_headers_reach_the_server(started_inspector):
    handle = _echo_app().run_in_thread(port=0)
    try:
        # From the page: /api/connect with the fields its connect bar sends.
        one = started_inspector()
        feed = one.feed()
        state = one.call("POST", "/api/connect", {
            "target": handle.url, "era": "session", "protocolVersion": "2025-06-18",
            "headers": {"X-Team": "blue", "Authorization": "Bearer page-token"}, "oauth": False})
        assert state["status"] == "connected", state
        assert state["server"]["protocolVersion"] == "2025-06-18"
        outcome = one.result(one.request("tools/call", {"name": "seen", "arguments": {}}))
        seen = outcome["result"]["structuredContent"]
        assert seen["version"] == "2025-06-18"
        assert seen["headers"]["x-team"] == "blue" and seen["headers"]["authorization"] == "Bearer page-token"
        assert seen["headers"]["mcp-protocol-version"] == "2025-06-18"
        first = feed.wait(lambda kind, e: kind == "message" and e["method"] == "initialize" and e["dir"] == "out")
        assert first["message"]["params"]["protocolVersion"] == "2025-06-18"
        # The timeline names the headers sent, their values hidden (it cannot tell a key from a label).
        assert first["http"]["headers"]["X-Team"] == "<hidden>"
        assert first["http"]["headers"]["Authorization"] == "Bearer <hidden>"
        # A version of the other era than the one chosen is refused, and says why.
        status, answer = one.http("POST", "/api/connect", {"target": handle.url, "era": "session",
                                                           "protocolVersion": "2026-07-28"})
        assert status == 400 and "2026-07-28 is a modern version" in answer["error"], (status, answer)
        one.stop()

        # From the command line: --protocol-version and -H (repeatable).
        two = started_inspector(handle.url, "--protocol-version", "2025-03-26", "-H", "X-Team: red",
                                "-H", "X-Other: 1")
        feed = two.feed()
        state = feed.wait(lambda kind, data: kind == "state" and data["status"] in ("connected", "error"))
        assert state["status"] == "connected", state
        assert state["server"]["protocolVersion"] == "2025-03-26"
        # (2025-03-26 has no structuredContent: the dict comes as its JSON text)
        result = two.result(two.request("tools/call", {"name": "seen", "arguments": {}}))["result"]
        assert "structuredContent" not in result
        seen = json.loads(result["content"][0]["text"])
        assert seen["version"] == "2025-03-26"
        assert seen["headers"]["x-team"] == "red" and seen["headers"]["x-other"] == "1"
    finally:
        handle.stop()


def test_an_oauth_sign_in_is_a_link_in_the_page(started_inspector, tmp_path):
    from oauth_support import AuthServer, McpServer
    auth = AuthServer()
    mcp = McpServer(auth.verify, [auth.issuer])
    try:
        # (the tokens go where --oauth keeps them: here, a home of the test's own)
        env = {key: value for key, value in os.environ.items()
               if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "xdg_config_home")}
        env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
        one = started_inspector(env=env)
        feed = one.feed()
        answers = queue.Queue()  # type: queue.Queue
        threading.Thread(target=lambda: answers.put(one.http(
            "POST", "/api/connect", {"target": mcp.url, "era": "2026-07-28", "oauth": True})), daemon=True).start()
        url = feed.wait(lambda kind, data: kind == "signin")["url"]
        assert url.startswith(auth.issuer) and "/authorize?" in url
        assert one.call("GET", "/api/state")["signIn"] == url
        # The person opens the link; the authorization server sends the browser back to 127.0.0.1.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=TIMEOUT) as response:
            assert response.status == 200 and b"Signed in" in response.read()
        status, state = answers.get(timeout=TIMEOUT)
        assert status == 200 and state["status"] == "connected" and state["signIn"] is None
        outcome = one.result(one.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}))
        assert outcome["status"] == "done" and outcome["result"]["structuredContent"] == {"result": 5}
        request, _ = paired(feed, "tools/call")
        assert request["http"]["headers"]["Authorization"] == "Bearer <hidden>"
        assert os.path.isfile(str(tmp_path / "config" / "mcplite" / "tokens.json"))
    finally:
        mcp.stop()
        auth.stop()


# --- sessions kept ---------------------------------------------------------------------------------

def test_export_is_a_recording_that_replay_serves_and_inspect_replays(started_inspector, tmp_path):
    one = started_inspector()
    feed = one.feed()
    one.connect(KITCHEN, "session")
    assert one.result(one.request("tools/list"))["status"] == "done"  # (`call` reads the schema first)
    assert one.result(one.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}}))["status"] == "done"
    paired(feed, "tools/call")
    status, text = one.http("GET", "/api/export")
    assert status == 200
    lines = text.splitlines()
    header = json.loads(lines[0])
    assert header["format"] == REC_FORMAT and header["command"] == shlex.split(KITCHEN)
    path = tmp_path / "session.jsonl"
    path.write_text(text, encoding="utf-8")
    read_header, entries = rec_load(str(path))
    assert read_header == header
    shown = feed.entries()
    assert [(e.dir, e.message) for e in entries] == [("->" if s["dir"] == "out" else "<-", s["message"])
                                                      for s in shown]
    times = [json.loads(line)["t"] for line in lines[1:]]
    assert times == sorted(times) and times[0] == 0.0
    one.stop()

    # `replay` serves it as the server did.
    proc = subprocess.run([PY, "-m", "mcplite", "call", "--json", "%s -m mcplite replay %s" % (
        shlex.quote(PY), shlex.quote(str(path))), "add", "a=2", "b=40"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.decode("utf-8"))["structuredContent"] == {"result": 42}

    # --replay opens it offline: every message, paired again, with the recording's times.
    two = started_inspector("--replay", str(path))
    state = two.call("GET", "/api/state")
    assert state["replay"]["file"] == "session.jsonl" and state["replay"]["count"] == len(entries)
    assert state["status"] == "idle"
    again = two.feed()
    again.wait(lambda kind, e: kind == "message" and e["seq"] == len(entries))
    replayed = again.entries()
    assert [(e["dir"], e["message"], e["method"]) for e in replayed] == [
        (s["dir"], s["message"], s["method"]) for s in shown]
    assert [e["pairedSeq"] for e in replayed] == [s["pairedSeq"] for s in shown]
    for old, new in zip(shown, replayed):
        if old["latencyMs"] is not None:
            assert abs(new["latencyMs"] - old["latencyMs"]) < 5
    exported = [json.loads(line) for line in two.http("GET", "/api/export")[1].splitlines()[1:]]
    assert [(e["dir"], e["message"]) for e in exported] == [(e.dir, e.message) for e in entries]
    assert all(abs(new["t"] - old) < 1e-4 for new, old in zip(exported, times))


def children_of_this_process():
    """The PIDs of this process's children (Linux: /proc)."""
    found = set()
    for task in os.listdir("/proc/self/task"):
        with open("/proc/self/task/%s/children" % task) as f:
            found.update(int(pid) for pid in f.read().split())
    return found


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc")
def test_mcplite_inspect_in_this_process_and_close_stops_the_server(capsys):
    import mcplite
    before = children_of_this_process()
    one = mcplite.inspect(KITCHEN, open_browser=False, block=False)
    try:
        assert capsys.readouterr().out == "mcplite inspector: %s\n" % one.url
        deadline = time.monotonic() + TIMEOUT
        while one.state()["status"] in ("idle", "connecting") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert one.state()["status"] == "connected", one.state()
        started = children_of_this_process() - before
        assert len(started) == 1  # the kitchen server
        connection = http.client.HTTPConnection("127.0.0.1", one.port, timeout=TIMEOUT)
        connection.request("GET", "/api/state", headers={"Authorization": "Bearer " + one.token})
        assert json.loads(connection.getresponse().read())["server"]["serverInfo"]["name"] == "kitchen"
        connection.close()
    finally:
        one.close()
    assert not (started & children_of_this_process())
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", one.port), timeout=2).close()


# --- the one file ----------------------------------------------------------------------------------

def test_mcplite_inspect_from_the_one_file_build(tmp_path):
    directory = tmp_path / "one"
    directory.mkdir()
    try:
        from mcplite.vendor import build
        build(str(directory))
    except ImportError:  # MCPLITE_VENDORED: the suite's mcplite is the one file already
        import mcplite
        import shutil
        shutil.copyfile(mcplite.__file__, str(directory / "mcplite.py"))
    server = tmp_path / "server.py"
    server.write_text("import sys\nsys.path.insert(0, %r)\nimport mcplite\n\napp = mcplite.Server('one')\n\n\n"
                      "@app.tool()\ndef add(a: int, b: int) -> int:\n    return a + b\n" % str(directory))
    code = ("import sys\nsys.path[:0] = [%r]\nimport mcplite\nassert mcplite.__file__.endswith('mcplite.py')\n"
            "mcplite.inspect(open_browser=False)\n" % str(directory))
    one = Inspector(argv=[PY, "-S", "-E", "-c", code], cwd=str(tmp_path))
    try:
        status, page = one.http("GET", "/")
        assert status == 200 and 'data-testid="timeline"' in page
        feed = one.feed()
        one.connect(str(server))
        rid = one.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        assert one.result(rid)["result"]["structuredContent"] == {"result": 3}
        paired(feed, "tools/call")
    finally:
        assert one.stop() == 0
