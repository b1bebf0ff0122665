"""``record``, ``replay`` and ``diff`` (mcplite/recording.py), run as a user runs them: ``python -m
mcplite ...`` in a subprocess, real output, real exit statuses.

The proxy sits between mcplite's own ``Client`` (both eras) and real servers: the notes and jobs
examples (mcplite) and the official Python SDK's ``bench/servers/sdk_add.py`` (under
``$MCPLITE_SDK_PYTHON``). Each recording is checked line by line, then replayed to a ``Client``
whose results must equal the ones the real server gave, then compared with ``diff``. A raw
driver checks replay's exact bytes (ids, progress tokens and subscription ids rewritten), and a
small scripted child (``CHILD``) the proxy's own life: bytes passed on unchanged, exit statuses,
SIGTERM and SIGKILL, never an orphan.

In the one-file run (scripts/test_vendored) ``python -m mcplite`` is the one file; nothing here
starts ``mcplite.recording`` in a subprocess.
"""

import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from harness_support import gone
from interop_support import sdk_python_fixture
from mcplite import MCPError
from mcplite.client import Client
from mcplite.recording import REC_FORMAT, RecReplayer, _RecEntry, rec_exchanges
from pipe_support import read_slowly  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
MCPLITE = [PY, "-m", "mcplite"]
NOTES = [PY, os.path.join(ROOT, "examples", "notes_server.py")]
JOBS = [PY, os.path.join(ROOT, "examples", "jobs_server.py")]
SDK_ADD = os.path.join(ROOT, "bench", "servers", "sdk_add.py")
TIMEOUT = 60

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
PV = "io.modelcontextprotocol/protocolVersion"
CI = "io.modelcontextprotocol/clientInfo"
CC = "io.modelcontextprotocol/clientCapabilities"
SUB = "io.modelcontextprotocol/subscriptionId"
CLIENT_INFO = {"name": "mcplite-client", "version": "0.1.0"}

sdk_python = sdk_python_fixture("mcp.server.mcpserver")


# ===========================================================================
# Helpers


def cli(*args, stdin=b"", timeout=TIMEOUT):
    # type: (str, bytes, float) -> Tuple[int, str, str]
    proc = subprocess.run(MCPLITE + list(args), cwd=ROOT, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def record_argv(out, server):
    # type: (Any, List[str]) -> List[str]
    return MCPLITE + ["record", str(out), "--"] + list(server)


def replay_argv(path):
    # type: (Any) -> List[str]
    return MCPLITE + ["replay", str(path)]


def connect(argv, era, **options):
    # type: (List[str], str, Any) -> Client
    options.setdefault("timeout", 20)
    return Client.stdio(argv, cwd=ROOT, era=era, capture_stderr=True, **options)


def read_recording(path):
    # type: (Any) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Dict[str, Any]]
    """(header, message lines, end line) of a recording, each line parsed."""
    with open(str(path), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    lines = [json.loads(line) for line in data.decode("utf-8").split("\n")[:-1]]
    header, messages, end = lines[0], lines[1:-1], lines[-1]
    assert "end" in end, "the recording has no end line: %r" % end
    stamps = [line["t"] for line in lines[1:]]
    assert stamps == sorted(stamps) and all(isinstance(t, float) and t >= 0 for t in stamps)
    for line in messages:
        assert set(line) == {"t", "dir", "message"}, line
    return header, messages, end


def flow(messages):
    # type: (List[Dict[str, Any]]) -> List[Tuple[str, str, Any]]
    """Each message as (direction, method or "result"/"error", id or None)."""
    out = []
    for line in messages:
        message = line["message"]
        kind = message.get("method") or ("error" if "error" in message else "result")
        out.append((line["dir"], kind, message.get("id")))
    return out


def responses(messages):
    # type: (List[Dict[str, Any]]) -> Dict[Any, Any]
    """The server's results by id."""
    return {line["message"]["id"]: line["message"].get("result", line["message"].get("error"))
            for line in messages if line["dir"] == "<-" and "method" not in line["message"]}


def modern_meta(**extra):
    # type: (Any) -> Dict[str, Any]
    meta = {PV: MODERN, CI: CLIENT_INFO, CC: {}}  # type: Dict[str, Any]
    meta.update(extra)
    return meta


def pid_gone(pid):
    # type: (int) -> bool
    """Whether the process has ended (a zombie waiting for its parent counts as ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        pass
    return gone(pid)


def wait_until(predicate, timeout=10.0):
    # type: (Any, float) -> bool
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def stop(process):
    # type: (subprocess.Popen) -> None
    if process.poll() is None:
        process.kill()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class RawPeer:
    """A process driven line by line, every wait bounded: ``send`` raw bytes, ``expect`` the
    next line of its stdout as JSON."""

    def __init__(self, argv):
        # type: (List[str]) -> None
        self.process = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.lines = queue.Queue()  # type: queue.Queue
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self):
        for line in iter(self.process.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def _read_stderr(self):
        self.stderr = self.process.stderr.read()

    def send(self, data):
        # type: (bytes) -> None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def request(self, message):
        # type: (Dict[str, Any]) -> None
        self.send(json.dumps(message).encode("utf-8") + b"\n")

    def raw_line(self, timeout=20.0):
        # type: (float) -> Optional[bytes]
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line within %s s; stderr: %r" % (timeout, self.stderr))

    def expect(self, timeout=20.0):
        # type: (float) -> Any
        line = self.raw_line(timeout)
        assert line is not None, "end of output; stderr: %r" % self.stderr
        return json.loads(line)

    def nothing_more(self, wait=0.3):
        # type: (float) -> None
        try:
            line = self.lines.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError("unexpected line: %r" % line)

    def close(self):
        # type: () -> Optional[int]
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.stop()

    def stop(self):
        # type: () -> None
        """Kill it if it still runs. Its stdout and stderr are left to the reader threads:
        closing a pipe another thread is reading waits for that read to end."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.process.stdin.close()
        except OSError:
            pass


def write_jsonl(path, lines):
    # type: (Any, List[Any]) -> str
    with open(str(path), "w", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return str(path)


def one_error_line(err, command):
    # type: (str, str) -> str
    """The one line a failed command prints (its prefix is the program's name, which is the
    file's own in the one-file run)."""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    head, sep, text = err.partition(" %s: error: " % command)
    assert sep, err
    return text.strip()


# ===========================================================================
# The notes server (mcplite), recorded in both eras


def notes_session(client):
    # type: (Client) -> Dict[str, Any]
    """One session with the notes server; what it returned, by the id of the request."""
    progress = []  # type: List[Any]
    return {
        2: {"tools": client.list_tools()},
        3: client.call_tool("add_note", {"title": "groceries", "body": "milk, eggs"},
                            progress=lambda *a: progress.append(a)),
        4: client.call_tool("search_notes", {"query": "milk"}),
        5: client.read_resource("notes://1"),
        6: client.call_tool("delete_note", {"id": 99}),  # an isError result
        7: client.get_prompt("summarize", {"note_id": "1"}),
    }


NOTES_METHODS = ["tools/list", "tools/call", "tools/call", "resources/read", "tools/call", "prompts/get"]


@pytest.fixture(scope="module")
def notes_recordings(tmp_path_factory):
    """A recording of ``notes_session`` per era, with the results the real server gave."""
    made = {}
    for era in ("modern", "legacy"):
        path = tmp_path_factory.mktemp("notes") / ("notes-%s.jsonl" % era)
        client = connect(record_argv(path, NOTES), era)
        try:
            results = notes_session(client)
            process = client._channel.process
        finally:
            client.close()
        made[era] = (str(path), results, process.returncode)
    return made


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_record_writes_every_message_both_ways(notes_recordings, era):
    path, results, status = notes_recordings[era]
    assert status == 0  # the proxy exits with the server's status: 0 after end of input
    header, messages, end = read_recording(path)
    assert header["format"] == REC_FORMAT == "mcplite-recording/1"
    assert header["command"] == NOTES and header["cwd"] == ROOT
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", header["started"]), header
    assert {k: v for k, v in end.items() if k != "t"} == {"end": "the client closed stdin", "status": 0}

    expected = []  # type: List[Tuple[str, str, Any]]
    if era == "modern":
        expected += [("->", "server/discover", 1), ("<-", "result", 1)]
    else:
        expected += [("->", "initialize", 1), ("<-", "result", 1), ("->", "notifications/initialized", None)]
    for number, method in enumerate(NOTES_METHODS, 2):
        expected += [("->", method, number), ("<-", "result", number)]
    assert flow(messages) == expected

    # The requests exactly as the client sent them (the progress token too) ...
    sent = [line["message"] for line in messages if line["dir"] == "->"]
    call = sent[2] if era == "modern" else sent[3]
    if era == "modern":
        assert sent[0] == {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": modern_meta()}}
        assert call["params"] == {"name": "add_note", "arguments": {"title": "groceries", "body": "milk, eggs"},
                                  "_meta": modern_meta(progressToken="p3")}
    else:
        assert sent[0] == {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": CLIENT_INFO}}
        assert call == {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "add_note", "arguments": {"title": "groceries", "body": "milk, eggs"},
            "_meta": {"progressToken": "p3"}}}
    # ... and the responses are what the client got.
    answers = responses(messages)
    assert answers[2]["tools"] == results[2]["tools"]  # (list_tools returns the list alone)
    for number in range(3, 8):
        assert answers[number] == results[number]
    assert answers[1]["capabilities"]["tools"] == {"listChanged": True}
    assert answers[6]["isError"] is True


@pytest.mark.parametrize("recorded", ["modern", "legacy"])
@pytest.mark.parametrize("era", ["same", "auto"])
def test_replay_answers_a_client_as_the_server_did(notes_recordings, recorded, era):
    path, results, _ = notes_recordings[recorded]
    # A client that probes (auto) is led to the recorded era.
    client = connect(replay_argv(path), recorded if era == "same" else "auto")
    try:
        assert client.era == recorded
        assert client.protocol_version == (MODERN if recorded == "modern" else LEGACY)
        assert client.server_info["name"] == "notes"
        assert notes_session(client) == results
        assert client.list_tools() == results[2]["tools"]  # asked again: answered again
        with pytest.raises(MCPError) as caught:
            client.call_tool("no_such_tool", {})
        assert caught.value.code == -32602
        assert caught.value.message == ("Not in the recording: no tools/call with name \"no_such_tool\" "
                                        "(recorded: add_note, delete_note, search_notes)")
        with pytest.raises(MCPError) as caught:
            client.list_resource_templates()
        assert caught.value.code == -32601
        assert caught.value.message == "Method not found: resources/templates/list is not in the recording"
        client.ping()  # a legacy ping is answered though never recorded; modern: server/discover again
        process = client._channel.process
    finally:
        client.close()
    assert process.returncode == 0


def test_replay_refuses_the_other_era_with_a_clear_error(notes_recordings):
    with pytest.raises(MCPError) as caught:
        connect(replay_argv(notes_recordings["modern"][0]), "legacy")
    assert caught.value.code == -32601
    assert caught.value.message == ("Method not found: initialize (not in the recording, which holds a "
                                    "2026-07-28 session: server/discover)")
    with pytest.raises(MCPError) as caught:
        connect(replay_argv(notes_recordings["legacy"][0]), "modern")
    assert caught.value.message == ("Method not found: server/discover (not in the recording, which holds "
                                    "a legacy session: initialize)")


@pytest.mark.parametrize("era", ["auto", "legacy"])
def test_ls_through_the_proxy_and_through_the_replay_prints_the_same(tmp_path, era):
    path = tmp_path / "ls.jsonl"
    server = " ".join(shlex.quote(word) for word in NOTES)
    recorded = "%s -m mcplite record %s -- %s" % (shlex.quote(PY), shlex.quote(str(path)), server)
    status, first, err = cli("ls", "--era", era, recorded)
    assert (status, err) == (0, ""), err
    assert first.startswith("notes 1.0.0, protocol %s\ntools (3)\n  add_note(" % (MODERN if era == "auto" else LEGACY))
    replayed = "%s -m mcplite replay %s" % (shlex.quote(PY), shlex.quote(str(path)))
    status, second, err = cli("ls", replayed)  # always auto: the replay leads it to the recorded era
    assert (status, second, err) == (0, first, "")
    status, out, err = cli("ls", "--json", replayed)
    assert status == 0 and [t["name"] for t in json.loads(out)["tools"]] == ["add_note", "search_notes",
                                                                           "delete_note"]


# ===========================================================================
# The official SDK's server


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_record_and_replay_the_official_sdk_server(tmp_path, sdk_python, era):
    path = tmp_path / "sdk.jsonl"
    client = connect(record_argv(path, [sdk_python, SDK_ADD]), era)
    try:
        tools = client.list_tools()
        added = client.call_tool("add", {"a": 40, "b": 2})
        unknown = client.call_tool("no_such_tool", {})  # the SDK answers with an isError result
        process = client._channel.process
    finally:
        client.close()
    assert process.returncode == 0
    assert added["structuredContent"] == {"result": 42}
    header, messages, end = read_recording(path)
    assert header["command"] == [sdk_python, SDK_ADD]
    opening = [("->", "server/discover", 1), ("<-", "result", 1)] if era == "modern" else [
        ("->", "initialize", 1), ("<-", "result", 1), ("->", "notifications/initialized", None)]
    assert flow(messages) == opening + [("->", "tools/list", 2), ("<-", "result", 2), ("->", "tools/call", 3),
                                        ("<-", "result", 3), ("->", "tools/call", 4), ("<-", "result", 4)]
    answers = responses(messages)
    assert answers[2]["tools"] == tools and answers[3] == added and answers[4] == unknown
    assert answers[1]["serverInfo" if era == "legacy" else "_meta"]  # the SDK's own answer

    for probe in (era, "auto"):
        client = connect(replay_argv(path), probe)
        try:
            assert (client.era, client.server_info["name"]) == (era, "bench")
            assert client.list_tools() == tools
            assert client.call_tool("add", {"a": 40, "b": 2}) == added
            assert client.call_tool("no_such_tool", {}) == unknown
            # Other arguments: the next unused recorded call of the same tool (none left: an error).
            with pytest.raises(MCPError) as caught:
                client.call_tool("add", {"a": 1, "b": 1})
            assert caught.value.code == -32602 and "Not in the recording" in caught.value.message
        finally:
            client.close()


def test_diff_of_two_sdk_sessions(tmp_path, sdk_python):
    paths = []
    for n, b in enumerate((2, 2, 3)):
        path = tmp_path / ("sdk-%d.jsonl" % n)
        with connect(record_argv(path, [sdk_python, SDK_ADD]), "legacy") as client:
            client.call_tool("add", {"a": 40, "b": b})
        paths.append(str(path))
    assert cli("diff", paths[0], paths[1]) == (0, "", "")
    status, out, err = cli("diff", paths[0], paths[2])
    assert (status, err) == (1, "")
    lines = out.splitlines()
    # initialize, its answer, initialized, the call, its answer: the last two differ.
    assert lines[:3] == ["--- " + paths[0], "+++ " + paths[2], "@@ -1,5 +1,5 @@"]
    assert [line[:4] for line in lines[3:6]] == [" -> ", " <- ", " -> "]
    assert lines[5] == ' -> {"jsonrpc":"2.0","method":"notifications/initialized"}'
    assert lines[6:] == [
        '--> {"id":2,"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"a":40,"b":2},"name":"add"}}',
        '-<- {"id":2,"jsonrpc":"2.0","result":{"content":[{"text":"42","type":"text"}],"isError":false,'
        '"structuredContent":{"result":42}}}',
        '+-> {"id":2,"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"a":40,"b":3},"name":"add"}}',
        '+<- {"id":2,"jsonrpc":"2.0","result":{"content":[{"text":"43","type":"text"}],"isError":false,'
        '"structuredContent":{"result":43}}}',
    ]


# ===========================================================================
# The jobs server: progress, a question to the client, input_required rounds


def jobs_session(client, branch="old-feature"):
    # type: (Client, str) -> Tuple[List[Any], List[Any]]
    progress = []  # type: List[Any]
    results = [client.call_tool("crunch", {"files": 3}, progress=lambda *a: progress.append(a)),
               client.call_tool("delete_branch", {"branch": branch}),
               client.call_tool("list_branches", {})]
    return results, progress


def confirm(params):
    # type: (Dict[str, Any]) -> Dict[str, Any]
    assert params["message"].startswith("Delete branch ")
    return {"action": "accept", "content": {"confirm": True}}


@pytest.fixture(scope="module")
def jobs_recordings(tmp_path_factory):
    made = {}
    for era in ("modern", "legacy"):
        paths = []
        for branch in ("old-feature", "old-feature", "spike"):
            path = tmp_path_factory.mktemp("jobs") / "jobs.jsonl"
            with connect(record_argv(path, JOBS), era, elicitation=confirm) as client:
                results = jobs_session(client, branch)
            paths.append(str(path))
            assert [r["content"][0]["text"] for r in results[0][:2]] == ["processed 3 files", "deleted " + branch]
        made[era] = paths
    return made


JOBS_PROGRESS = [(1, 3, "file 1 of 3"), (2, 3, "file 2 of 3"), (3, 3, "file 3 of 3")]


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_record_keeps_progress_and_the_servers_questions(jobs_recordings, era):
    paths = jobs_recordings[era]
    _, messages, _ = read_recording(paths[0])
    kinds = flow(messages)
    progress = [m["message"]["params"] for m in messages if m["message"].get("method") == "notifications/progress"]
    assert [(p["progressToken"], p["progress"]) for p in progress] == [("p2", 1), ("p2", 2), ("p2", 3)]
    if era == "legacy":
        # The server's own request, the client's answer, then the response to the call.
        assert kinds[-6:] == [("->", "tools/call", 3), ("<-", "elicitation/create", "s1"), ("->", "result", "s1"),
                              ("<-", "result", 3), ("->", "tools/call", 4), ("<-", "result", 4)]
    else:
        # Two rounds: input_required with a sealed requestState, then the call again with it.
        assert kinds[-6:] == [("->", "tools/call", 3), ("<-", "result", 3), ("->", "tools/call", 4),
                              ("<-", "result", 4), ("->", "tools/call", 5), ("<-", "result", 5)]
        first, again = messages[-5]["message"], messages[-4]["message"]
        assert first["result"]["resultType"] == "input_required"
        assert again["params"]["requestState"] == first["result"]["requestState"]


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_replay_sends_progress_to_the_live_token_and_asks_the_live_client(jobs_recordings, era):
    paths = jobs_recordings[era]
    asked = []  # type: List[Any]

    def answer(params):
        asked.append(params["message"])
        return confirm(params)

    with connect(replay_argv(paths[0]), "auto", elicitation=answer) as client:
        assert client.era == era
        # One request more before the call: the live ids (and so the progress token) differ
        # from the recorded ones.
        assert client.call_tool("list_branches", {})["structuredContent"] == {"result": ["main", "spike"]}
        results, progress = jobs_session(client)
    assert [r["content"][0]["text"] for r in results[:2]] == ["processed 3 files", "deleted old-feature"]
    assert progress == JOBS_PROGRESS
    assert asked == ["Delete branch old-feature?"]


def test_diff_normalises_what_differs_every_run_and_shows_the_rest(jobs_recordings):
    paths = jobs_recordings["modern"]
    # Two runs of one session: sealed requestStates differ (a random key per process), and
    # compare equal.
    states = [[m["message"]["result"]["requestState"] for m in read_recording(p)[1]
               if "requestState" in m["message"].get("result", {})] for p in paths[:2]]
    assert len(states[0]) == 1 and states[0] != states[1]
    assert cli("diff", paths[0], paths[1]) == (0, "", "")
    status, out, err = cli("diff", paths[0], paths[2])
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert lines[:2] == ["--- " + paths[0], "+++ " + paths[2]] and lines[2].startswith("@@ ")
    removed = [line for line in lines[3:] if line.startswith("-")]
    added = [line for line in lines[3:] if line.startswith("+")]
    assert any('"arguments":{"branch":"old-feature"}' in line and line.startswith("--> ") for line in removed)
    assert any('"arguments":{"branch":"spike"}' in line and line.startswith("+-> ") for line in added)
    assert any('"text":"deleted spike"' in line for line in added)
    assert all('"requestState":"<requestState 1>"' in line for line in removed + added if "requestState" in line)

    status, out, err = cli("diff", "--json", paths[0], paths[2])
    assert (status, err) == (1, "")
    changes = json.loads(out)
    assert changes and all(set(c) == {"op", "a", "b"} for c in changes)
    first = changes[0]
    assert first["op"] == "replace"
    assert first["a"][0]["dir"] == "->" and first["a"][0]["message"]["params"]["arguments"] == {"branch": "old-feature"}
    assert first["b"][0]["message"]["params"]["arguments"] == {"branch": "spike"}
    _, messages, _ = read_recording(paths[0])
    assert first["a"][0]["line"] == 1 + first["a"][0]["n"]  # the header is line 1
    assert messages[first["a"][0]["n"] - 1]["message"]["params"]["arguments"] == {"branch": "old-feature"}
    assert cli("diff", "--json", paths[0], paths[1]) == (0, "[]\n", "")


# ===========================================================================
# replay on the wire: exact messages


def test_replay_rewrites_ids_tokens_and_asks_with_its_own_ids(jobs_recordings):
    peer = RawPeer(replay_argv(jobs_recordings["legacy"][0]))
    try:
        peer.request({"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
            "clientInfo": {"name": "raw", "version": "1"}}})
        answer = peer.expect()
        assert answer["id"] == "a" and answer["result"]["protocolVersion"] == LEGACY  # as recorded
        peer.request({"jsonrpc": "2.0", "method": "notifications/initialized"})  # no answer
        peer.request({"jsonrpc": "2.0", "id": 41, "method": "ping"})  # not recorded: {} anyway
        assert peer.expect() == {"jsonrpc": "2.0", "id": 41, "result": {}}
        peer.request({"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {
            "name": "crunch", "arguments": {"files": 3}, "_meta": {"progressToken": "tok"}}})
        for n in (1, 2, 3):
            assert peer.expect() == {"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": "tok", "progress": n, "total": 3, "message": "file %d of 3" % n}}
        assert peer.expect() == {"jsonrpc": "2.0", "id": "b", "result": {
            "content": [{"type": "text", "text": "processed 3 files"}]}}
        # Without a token: no progress.
        peer.request({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {
            "name": "crunch", "arguments": {"files": 3}}})
        assert peer.expect()["id"] == "c"
        # The server's question goes out with an id of replay's own; the answer comes later.
        peer.request({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "delete_branch", "arguments": {"branch": "old-feature"}}})
        question = peer.expect()
        assert question == {"jsonrpc": "2.0", "id": "replay-1", "method": "elicitation/create", "params": {
            "message": "Delete branch old-feature?", "requestedSchema": {
                "type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}}}
        peer.nothing_more()
        peer.request({"jsonrpc": "2.0", "id": "replay-1", "result": {"action": "accept", "content": {"confirm": True}}})
        assert peer.expect() == {"jsonrpc": "2.0", "id": 7, "result": {
            "content": [{"type": "text", "text": "deleted old-feature"}]}}
        # Nothing recorded for these.
        peer.request({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "nope"}})
        assert peer.expect() == {"jsonrpc": "2.0", "id": 8, "error": {"code": -32602, "message": (
            "Not in the recording: no tools/call with name \"nope\" (recorded: crunch, delete_branch, "
            "list_branches)")}}
        peer.request({"jsonrpc": "2.0", "id": 9, "method": "prompts/list"})
        assert peer.expect() == {"jsonrpc": "2.0", "id": 9, "error": {
            "code": -32601, "message": "Method not found: prompts/list is not in the recording"}}
        peer.request({"jsonrpc": "2.0", "id": 10, "method": "server/discover", "params": {}})
        assert peer.expect()["error"]["code"] == -32601
        peer.send(b"this is not JSON\n")
        assert peer.expect()["error"]["code"] == -32700
        peer.send(b'{"jsonrpc":"2.0","id":11}\n')
        assert peer.expect() == {"jsonrpc": "2.0", "id": 11, "error": {
            "code": -32600, "message": "Invalid Request: expected \"method\", \"result\" or \"error\""}}
        assert peer.close() == 0
    finally:
        peer.stop()


def test_replay_maps_a_subscription_to_the_live_listen_request(tmp_path):
    path = tmp_path / "listen.jsonl"
    changes = []  # type: List[str]
    with connect(record_argv(path, NOTES), "modern", on_list_changed=changes.append) as client:
        client.call_tool("add_note", {"title": "a", "body": "b"})
    _, messages, _ = read_recording(path)
    assert flow(messages)[2:4] == [("->", "subscriptions/listen", 2),
                                   ("<-", "notifications/subscriptions/acknowledged", None)]
    assert messages[3]["message"]["params"]["_meta"][SUB] == 2
    peer = RawPeer(replay_argv(path))
    try:
        peer.request({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": {
            "notifications": {"toolsListChanged": True, "promptsListChanged": True, "resourcesListChanged": True},
            "_meta": modern_meta()}})
        acknowledged = peer.expect()
        assert acknowledged["method"] == "notifications/subscriptions/acknowledged"
        assert acknowledged["params"]["_meta"][SUB] == "L"
        peer.nothing_more()  # the stream stays open, as recorded: no response
        assert peer.close() == 0
    finally:
        peer.stop()


def _entries(*messages):
    return [_RecEntry(n + 2, direction, message, None) for n, (direction, message) in enumerate(messages)]


def _call(rid, name, **arguments):
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def _result(rid, text):
    return {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": text}]}}


def test_replay_matching_order_exact_then_same_tool_then_again():
    _, exchanges = rec_exchanges(_entries(
        ("->", _call(1, "echo", text="one")), ("<-", _result(1, "one")),
        ("->", _call(2, "echo", text="two")), ("<-", _result(2, "two")),
        ("->", _call(3, "other")), ("<-", _result(3, "other")),
        ("->", _call(4, "silent")),  # never answered (cancelled, say)
    ))
    sent = []  # type: List[Any]
    replayer = RecReplayer(exchanges, sent.append)

    def ask(rid, name, **arguments):
        replayer.receive(_call(rid, name, **arguments))
        message = sent.pop()
        assert message["id"] == rid and not sent
        return message.get("result", message.get("error"))

    assert ask(10, "echo", text="two")["content"][0]["text"] == "two"  # exact, out of order
    assert ask(11, "echo", text="three")["content"][0]["text"] == "one"  # the next unused echo
    assert ask(12, "echo", text="two")["content"][0]["text"] == "two"  # exact again
    assert ask(13, "echo", text="four")["code"] == -32602  # no unused echo left, no exact one
    assert ask(14, "other")["content"][0]["text"] == "other"
    # A notification gets no answer; neither does a request that was never answered.
    replayer.receive({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}})
    replayer.receive(_call(15, "silent"))
    assert sent == []


def test_replay_says_when_it_answers_other_arguments_and_strict_refuses_to():
    entries = _entries(("->", _call(1, "echo", text="one")), ("<-", _result(1, "one")))
    for strict in (False, True):
        _, exchanges = rec_exchanges(entries)
        sent, warned = [], []  # type: List[Any], List[str]
        replayer = RecReplayer(exchanges, sent.append, strict=strict, warn=warned.append)
        replayer.receive(_call(7, "echo", text="seven"))
        answer = sent.pop()
        if strict:
            assert answer["error"]["code"] == -32602 and warned == []
        else:
            assert answer["result"]["content"][0]["text"] == "one"
            assert warned == ["tools/call was answered with the recording of a request with other params"]
        replayer.receive(_call(8, "echo", text="one"))  # the exact one: no word about it
        assert sent.pop()["result"]["content"][0]["text"] == "one" and len(warned) == (0 if strict else 1)


# ===========================================================================
# diff's normalisation, on files written by hand


def test_diff_renumbers_ids_and_hides_opaque_values(tmp_path):
    def session(ids, token, state, cursor, stamp):
        c1, c2, s1 = ids
        return [
            {"format": REC_FORMAT, "command": ["x"], "started": stamp},
            {"t": 0.1, "dir": "->", "message": {"jsonrpc": "2.0", "id": c1, "method": "tools/call", "params": {
                "name": "go", "arguments": {}, "_meta": {"progressToken": token}}}},
            {"t": 0.2, "dir": "<-", "message": {"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": token, "progress": 1}}},
            {"t": 0.25, "dir": "<-", "message": {"jsonrpc": "2.0", "id": s1, "method": "roots/list"}},
            {"t": 0.26, "dir": "->", "message": {"jsonrpc": "2.0", "id": s1, "result": {"roots": []}}},
            {"t": 0.3, "dir": "<-", "message": {"jsonrpc": "2.0", "id": c1, "result": {
                "resultType": "input_required", "requestState": state, "at": stamp}}},
            {"t": 0.4, "dir": "->", "message": {"jsonrpc": "2.0", "id": c2, "method": "tools/list", "params": {
                "cursor": cursor}}},
            {"t": 0.5, "dir": "->", "message": {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
                "requestId": c2}}},
            {"t": 0.6, "dir": "<-", "text": "a stray print"},
            {"t": 0.7, "end": "the client closed stdin", "status": 0},
        ]
    a = write_jsonl(tmp_path / "a.jsonl", session((1, 2, "s-1"), "p1", "AAAA", "c-1", "2026-01-01"))
    b = write_jsonl(tmp_path / "b.jsonl", session(("x", "y", 99), 42, "BBBB", "zz", "2027-02-02"))
    status, out, err = cli("diff", a, b)
    assert (status, err) == (1, "")  # the "at" stamp inside a result differs ...
    assert [line for line in out.splitlines() if line[:1] in "-+"][2:] == [
        '-<- {"id":1,"jsonrpc":"2.0","result":{"at":"2026-01-01","requestState":"<requestState 1>",'
        '"resultType":"input_required"}}',
        '+<- {"id":1,"jsonrpc":"2.0","result":{"at":"2027-02-02","requestState":"<requestState 1>",'
        '"resultType":"input_required"}}']
    assert cli("diff", "--ignore", "at", a, b) == (0, "", "")  # ... and only that
    status, out, err = cli("diff", "--json", a, b)
    assert status == 1 and json.loads(out) == [{"op": "replace", "a": [{"n": 5, "line": 6, "dir": "<-", "message": {
        "jsonrpc": "2.0", "id": 1, "result": {"resultType": "input_required", "requestState": "<requestState 1>",
                                              "at": "2026-01-01"}}}],
        "b": [{"n": 5, "line": 6, "dir": "<-", "message": {"jsonrpc": "2.0", "id": 1, "result": {
            "resultType": "input_required", "requestState": "<requestState 1>", "at": "2027-02-02"}}}]}]
    # What the normalised conversation looks like, compared with itself reordered:
    c = write_jsonl(tmp_path / "c.jsonl", session((5, 6, "s"), "t", "S", "C", "2026-01-01")[:1]
                    + session((5, 6, "s"), "t", "S", "C", "2026-01-01")[6:7]
                    + session((5, 6, "s"), "t", "S", "C", "2026-01-01")[1:6])
    status, out, err = cli("diff", a, c)
    assert status == 1
    assert '+-> {"id":1,"jsonrpc":"2.0","method":"tools/list","params":{"cursor":"<cursor 1>"}}' in out.splitlines()
    assert ('--> {"id":1,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"progressToken":"<progressToken 1>"},'
            '"arguments":{},"name":"go"}}') in out.splitlines()
    assert '-<- {"id":"s1","jsonrpc":"2.0","method":"roots/list"}' in out.splitlines() or \
        ' <- {"id":"s1","jsonrpc":"2.0","method":"roots/list"}' in out.splitlines()
    assert ' -> {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}' in out.splitlines() \
        or '--> {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}' in out.splitlines()
    assert any(line.endswith("<- (not JSON) a stray print") for line in out.splitlines())


# ===========================================================================
# The proxy itself: bytes, exit statuses, signals, orphans

CHILD = r'''
import os, signal, sys, time
mode, pid_file = sys.argv[1], sys.argv[2]
with open(pid_file, "w") as f:
    f.write(str(os.getpid()))
out = sys.stdout.buffer
if mode == "echo":          # every line back, byte for byte, then a goodbye
    for line in iter(sys.stdin.buffer.readline, b""):
        out.write(line)
        out.flush()
    out.write(b"\nbye\n")  # (the last line came without its newline)
    out.flush()
elif mode == "exit":        # says two things and exits 7 while its stdin is still open
    out.write(b"hello\n{\"jsonrpc\": \"2.0\", \"method\": \"notifications/message\"}\n")
    out.flush()
    sys.exit(7)
elif mode == "stubborn":    # ignores the end of its input and SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.stdin.buffer.read()
    time.sleep(120)
elif mode.startswith("serve"):  # answers each line with a fixed response; at the end of its
    for line in iter(sys.stdin.buffer.readline, b""):  # input exits (serve-exit) or waits for a signal
        out.write(b'{"jsonrpc":"2.0","id":1,"result":{}}\n')
        out.flush()
    if mode == "serve":
        time.sleep(120)
'''


@pytest.fixture
def child(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    pid_file = tmp_path / "child.pid"

    def argv(mode):
        return [PY, str(script), mode, str(pid_file)]

    def pid():
        assert wait_until(lambda: pid_file.exists() and pid_file.read_text() != ""), "the child did not start"
        return int(pid_file.read_text())

    argv.pid = pid  # type: ignore[attr-defined]
    yield argv
    if pid_file.exists() and pid_file.read_text():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)  # whatever a failed test left
        except OSError:
            pass


@pytest.mark.skipif(os.name != "posix", reason="O_NONBLOCK")
def test_record_waits_on_a_host_whose_pipes_are_non_blocking(tmp_path, child):
    # A host may hand over pipes whose descriptions it made non-blocking (a Node.js host's
    # libuv): nothing to read yet is not the end, a full pipe is not a host that went away.
    import threading
    path = tmp_path / "nonblocking.jsonl"
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    os.set_blocking(in_read, False)
    os.set_blocking(out_write, False)
    proc = subprocess.Popen(record_argv(path, child("echo")), cwd=ROOT, stdin=in_read, stdout=out_write,
                            stderr=subprocess.PIPE)
    os.close(in_read)
    os.close(out_write)
    received = []  # type: List[bytes]

    def read_slowly():
        while True:
            time.sleep(0.02)
            chunk = os.read(out_read, 65536)
            if not chunk:
                return
            received.append(chunk)
    reader = threading.Thread(target=read_slowly, daemon=True)
    try:
        time.sleep(0.5)  # the proxy waits for its first line
        line = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"%s"}}\n' % (b"x" * 300000)
        reader.start()
        os.write(in_write, line)  # (blocking: the proxy reads it)
        os.close(in_write)
        in_write = -1
        assert proc.wait(TIMEOUT) == 0
        reader.join(TIMEOUT)
        assert b"".join(received) == line + b"\nbye\n"
    finally:
        if in_write >= 0:
            os.close(in_write)
        stop(proc)
        os.close(out_read)


@pytest.mark.skipif(os.name != "posix", reason="O_NONBLOCK")
def test_replay_writes_a_large_answer_whole_to_a_non_blocking_pipe(tmp_path):
    # One raw write takes what fits in a non-blocking pipe (a Node.js host's); the rest
    # must follow, not be lost mid-line.
    big = "x" * 300000
    path = write_jsonl(tmp_path / "big.jsonl", [
        {"format": REC_FORMAT, "command": ["x"], "started": "2026-01-01T00:00:00.000Z"},
        {"t": 0.1, "dir": "->", "message": {"jsonrpc": "2.0", "id": 1, "method": "ping"}},
        {"t": 0.2, "dir": "<-", "message": {"jsonrpc": "2.0", "id": 1, "result": {"pad": big}}},
        {"t": 0.3, "end": "the client closed stdin", "status": 0}])
    out_read, out_write = os.pipe()
    os.set_blocking(out_write, False)
    proc = subprocess.Popen(replay_argv(path), cwd=ROOT, stdin=subprocess.PIPE, stdout=out_write,
                            stderr=subprocess.PIPE)
    os.close(out_write)
    received, reader = read_slowly(out_read, 0.02)
    try:
        proc.stdin.write(b'{"jsonrpc":"2.0","id":7,"method":"ping"}\n')
        proc.stdin.close()
        assert proc.wait(TIMEOUT) == 0
        reader.join(TIMEOUT)
        assert json.loads(b"".join(received)) == {"jsonrpc": "2.0", "id": 7, "result": {"pad": big}}
    finally:
        stop(proc)
        os.close(out_read)


def test_record_passes_bytes_on_unchanged_and_keeps_what_is_not_json(tmp_path, child):
    path = tmp_path / "bytes.jsonl"
    sent = (b'{"jsonrpc": "2.0",   "id": 1, "method": "ping"}\n'  # spacing kept
            b'{"jsonrpc":"2.0","method":"x","params":{"s":"caf\xc3\xa9 \\u2603"}}\r\n'  # CRLF, UTF-8, escapes
            b"\n"  # blank: passed on, not recorded
            b"not json \xff\n"
            b'{"jsonrpc":"2.0","id":2,"method":"last","params":{}}')  # no newline at the end
    proc = subprocess.run(record_argv(path, child("echo")), cwd=ROOT, input=sent, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stderr == b""
    assert proc.stdout == sent + b"\nbye\n"
    parsed = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    header, lines, end = parsed[0], parsed[1:-1], parsed[-1]
    assert header["command"] == child("echo")
    body = [(line["dir"], line.get("message", line.get("text"))) for line in lines]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    x = {"jsonrpc": "2.0", "method": "x", "params": {"s": "caf\u00e9 \u2603"}}
    last = {"jsonrpc": "2.0", "id": 2, "method": "last", "params": {}}
    # The echo makes the order of the two directions a race, except that each line's echo
    # comes after the line itself (the proxy records a line before it passes it on).
    assert [b for b in body if b[0] == "->"] == [("->", ping), ("->", x), ("->", "not json \\xff"), ("->", last)]
    assert [b for b in body if b[0] == "<-"] == [("<-", ping), ("<-", x), ("<-", "not json \\xff"), ("<-", last),
                                                 ("<-", "bye")]
    for item in (ping, x, "not json \\xff", last):
        assert body.index(("->", item)) < body.index(("<-", item))
    # "message" is the line's own JSON text, exactly as it crossed.
    raw = path.read_bytes().split(b"\n")
    assert raw[1].endswith(b'"dir":"->","message":{"jsonrpc": "2.0",   "id": 1, "method": "ping"}}')
    assert {k: v for k, v in end.items() if k != "t"} == {"end": "the client closed stdin", "status": 0}


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_recording_that_cannot_be_written_does_not_stop_the_session(child):
    # /dev/full: every write fails with ENOSPC, as on a full disk.
    sent = b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n'
    proc = subprocess.run(record_argv("/dev/full", child("echo")), cwd=ROOT, input=sent, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stdout == sent + b"\nbye\n"
    assert one_error_line(proc.stderr.decode(), "record") == (
        "cannot write /dev/full any more (No space left on device); still passing messages on")


def test_record_exits_when_the_server_does_with_its_status(tmp_path, child):
    path = tmp_path / "exit.jsonl"
    proxy = subprocess.Popen(record_argv(path, child("exit")), cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status = proxy.wait(20)  # its stdin still open (its output is small: no pipe fills up)
        out, err = proxy.stdout.read(), proxy.stderr.read()
    finally:
        stop(proxy)
    assert status == 7 and err == b""
    assert out == b'hello\n{"jsonrpc": "2.0", "method": "notifications/message"}\n'
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["dir"], line.get("text", line.get("message"))) for line in lines[1:-1]] == [
        ("<-", "hello"), ("<-", {"jsonrpc": "2.0", "method": "notifications/message"})]
    assert {k: v for k, v in lines[-1].items() if k != "t"} == {"end": "the server exited", "status": 7}


def test_record_stops_a_server_that_will_not_exit_sigterm_then_sigkill(tmp_path, child):
    path = tmp_path / "stubborn.jsonl"
    started = time.monotonic()
    ping = b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n'
    proc = subprocess.run(record_argv(path, child("stubborn")), cwd=ROOT, input=ping,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    took = time.monotonic() - started
    assert proc.returncode == 128 + 9 and proc.stderr == b""
    assert 4.5 < took < 20  # 3 s after its stdin closed, SIGTERM (ignored), 2 s more, SIGKILL
    assert wait_until(lambda: pid_gone(child.pid()), 5)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[1]["message"] == {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert {k: v for k, v in lines[-1].items() if k != "t"} == {"end": "the client closed stdin", "status": -9}


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds processes in /proc")
def test_record_stops_what_the_server_started_too(tmp_path):
    # The server (a shell) starts a helper holding the same stdout, and exits at the end of
    # its input: the helper would otherwise live on, an orphan holding the client's pipe.
    marker = "mcplite-record-leftover-%d" % os.getpid()
    script = tmp_path / "server.sh"
    script.write_text("%s -c 'import time; time.sleep(300)' %s &\ncat >/dev/null\n" % (PY, marker),
                      encoding="utf-8")

    def leftovers():
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if marker.encode() in f.read():
                        found.append(pid)
            except OSError:
                pass
        return found
    proc = subprocess.run(record_argv(tmp_path / "out.jsonl", ["sh", str(script)]), cwd=ROOT, input=b"",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stderr == b""
    assert wait_until(lambda: not leftovers(), 5), "the server's child outlived the recording"


def test_a_signal_while_waiting_for_the_server_cuts_the_wait_short(tmp_path, child):
    # What a client does: close the proxy's stdin, wait a little, then SIGTERM it.
    path = tmp_path / "hurried.jsonl"
    peer = RawPeer(record_argv(path, child("stubborn")))
    try:
        server = child.pid()
        peer.process.stdin.close()
        time.sleep(0.5)
        signalled = time.monotonic()
        peer.process.send_signal(signal.SIGTERM)
        status = peer.process.wait(15)
        took = time.monotonic() - signalled
        assert status == 128 + 9  # the server's end: SIGTERM (ignored), SIGKILL
        assert took < 4.0  # SIGTERM at once, SIGKILL 2 s later: not the 3 s grace first
        assert wait_until(lambda: pid_gone(server), 5)
    finally:
        peer.stop()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert {k: v for k, v in lines[-1].items() if k != "t"} == {"end": "the client closed stdin", "status": -9}


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_signalled_proxy_leaves_no_orphan_and_a_readable_file(tmp_path, child, how):
    path = tmp_path / "signalled.jsonl"
    # SIGTERM: a server that waits for a signal, which the proxy sends it. SIGKILL (which the
    # proxy cannot catch): a server that exits at the end of its input, as servers should.
    peer = RawPeer(record_argv(path, child("serve" if how == "SIGTERM" else "serve-exit")))
    try:
        peer.request({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert peer.expect() == {"jsonrpc": "2.0", "id": 1, "result": {}}
        server = child.pid()
        peer.process.send_signal(getattr(signal, how))
        status = peer.process.wait(15)
        assert status == (128 + signal.SIGTERM if how == "SIGTERM" else -signal.SIGKILL)
        # SIGTERM: the proxy stops the server. SIGKILL: the server sees the end of its input.
        assert wait_until(lambda: pid_gone(server), 10)
    finally:
        peer.stop()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("message") for line in lines[1:3]] == [{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                                            {"jsonrpc": "2.0", "id": 1, "result": {}}]
    if how == "SIGTERM":
        assert {k: v for k, v in lines[-1].items() if k != "t"} == {"end": "signal 15", "status": -15}
    else:
        assert len(lines) == 3  # no end line: the proxy was killed
    # Either way a replay can use it.
    replay = RawPeer(replay_argv(path))
    try:
        replay.request({"jsonrpc": "2.0", "id": "z", "method": "ping"})
        assert replay.expect() == {"jsonrpc": "2.0", "id": "z", "result": {}}
        assert replay.close() == 0
    finally:
        replay.stop()


def test_trace_shows_every_line_on_stderr(tmp_path, notes_recordings):
    path = tmp_path / "traced.jsonl"
    hello = (b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
             b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')
    proc = subprocess.run(MCPLITE + ["record", str(path), "--trace", "--"] + NOTES, cwd=ROOT, input=hello,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0
    err = proc.stderr.decode()
    lines = err.splitlines()
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} -> " + re.escape(hello.decode().strip()) + "$", lines[0])
    assert re.match(r'^\d\d:\d\d:\d\d\.\d{3} <- \{"jsonrpc":"2.0","id":1,"result":\{"protocolVersion"', lines[1])
    assert proc.stdout.decode().strip() == lines[1][16:]
    # replay --trace: stderr has the trace, stdout the protocol only.
    proc = subprocess.run(MCPLITE + ["--trace", "replay", notes_recordings["legacy"][0]], cwd=ROOT, input=hello,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert proc.returncode == 0
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert out.count("\n") == 1 and json.loads(out)["result"]["serverInfo"]["name"] == "notes"
    assert [line[13:15] for line in err.splitlines()] == ["->", "<-"] and err.splitlines()[1][16:] == out.strip()


# ===========================================================================
# Bad input: one line, a stable status, never a traceback


def test_record_bad_command_lines(tmp_path):
    out = str(tmp_path / "out.jsonl")
    cases = [
        ((), 2, "give OUT.jsonl, then -- and the server's command (record OUT.jsonl -- COMMAND [ARG ...])"),
        ((out, PY, "server.py"), 2, "put -- between OUT.jsonl and the server's command (record OUT.jsonl -- "
                                    "COMMAND [ARG ...])"),
        ((out, "--"), 2, "no command after --: give the server's command line"),
        (("--", PY), 2, "give one OUT.jsonl before --, not none"),
        ((out, "extra", "--", PY), 2, "give one OUT.jsonl before --, not %s extra" % out),
        ((out, "--bogus", "--", PY), 2, "unknown option --bogus (record [--trace] OUT.jsonl -- COMMAND ...)"),
        (("-", "--", PY), 2, "OUT.jsonl cannot be stdout (-): stdout carries the protocol"),
        ((out, "--", str(tmp_path / "no-such-server")), 3,
         "cannot start %s: No such file or directory" % (tmp_path / "no-such-server")),
        ((str(tmp_path / "no" / "dir.jsonl"), "--", PY, "-c", "import sys; sys.stdin.read()"), 1,
         "cannot write %s: No such file or directory" % (tmp_path / "no" / "dir.jsonl")),
    ]
    for words, status, message in cases:
        got_status, got_out, err = cli("record", *words)
        assert (got_status, got_out) == (status, ""), (words, err)
        assert one_error_line(err, "record") == message
    assert not os.path.exists(out)  # nothing was written for a server that did not start


def test_replay_and_diff_bad_files(tmp_path, notes_recordings):
    good = notes_recordings["legacy"][0]
    missing = str(tmp_path / "missing.jsonl")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"hello\nworld\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    bare = write_jsonl(tmp_path / "bare.jsonl", [{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    wrong_dir = write_jsonl(tmp_path / "dir.jsonl", [{"t": 0, "dir": "=>", "message": {}}])
    only_server = write_jsonl(tmp_path / "server.jsonl", [
        {"t": 0, "dir": "<-", "message": {"jsonrpc": "2.0", "method": "notifications/message", "params": {}}}])
    cut = tmp_path / "cut.jsonl"
    with open(good, "rb") as f:
        data = f.read()
    cut.write_bytes(data[:data.index(b"\n") + 50])  # the header and the start of a line
    cases = [
        (missing, "cannot read %s: No such file or directory" % missing),
        (str(garbage), "%s is not a recording (JSON lines written by record): line 1 is not JSON" % garbage),
        (str(empty), "%s is empty: is it a recording made by record?" % empty),
        (bare, "%s has no messages (lines with \"dir\"): is it a recording made by record?" % bare),
        (wrong_dir, "%s line 1: \"dir\" must be \"->\" or \"<-\", not \"=>\"" % wrong_dir),
        (str(cut), "%s has no messages: its only one is cut short (line 2)" % cut),
        (str(tmp_path), "cannot read %s: Is a directory" % tmp_path),
    ]
    for path, message in cases:
        status, out, err = cli("replay", path)
        assert (status, out) == (2, ""), (path, err)
        assert one_error_line(err, "replay") == message
        status, out, err = cli("diff", good, path)
        assert (status, out) == (2, ""), (path, err)
        assert one_error_line(err, "diff") == message
    status, out, err = cli("replay", only_server)
    assert (status, out) == (2, "")
    assert one_error_line(err, "replay") == "%s has no requests from a client to answer" % only_server
    # A killed proxy's last line, cut short, is left out; the rest is used.
    partial = tmp_path / "partial.jsonl"
    partial.write_bytes(data + data.split(b"\n")[3][:50])
    assert cli("diff", good, str(partial)) == (0, "", "")
    status, out, err = cli("diff", good)
    assert status == 2 and "usage:" in err and "Traceback" not in err
