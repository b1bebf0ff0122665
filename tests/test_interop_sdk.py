"""Interop: the official Python SDK client (``mcp==2.3.0``) against ``examples/notes_server.py``.

The SDK needs Python >= 3.10 while this suite runs on 3.8 too, so the SDK side lives in
``tests/interop/sdk_client.py`` and runs under ``$MCPLITE_SDK_PYTHON`` (``scripts/test``
builds that venv). The server runs under *this* interpreter, because it must work on every
supported Python. Each mode gets a fresh server (in-memory notes; the legacy run keeps them in
a file via NOTES_DB), and the helper reports one JSON document; the tests below assert on it.
On a failure the message carries the JSON-RPC messages both ways, as the SDK wrote and parsed
them, and the full report is kept as sdk-<mode>.json in the pytest temporary directory.

Modes:
- ``legacy``: the ``initialize`` handshake; the SDK offers 2025-11-25.
- ``2026-07-28``: the SDK adopts the version with no handshake at all and stamps every
  request's ``_meta`` with protocol version, client info and client capabilities.
- ``auto``: the SDK probes ``server/discover`` first and must settle on 2026-07-28.

Skips only when ``MCPLITE_SDK_PYTHON`` is unset and ``MCPLITE_REQUIRE_INTEROP`` is not set;
with ``MCPLITE_REQUIRE_INTEROP=1`` (set by ``scripts/test``) an unusable SDK is a failure.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from interop_support import (
    LEGACY, MODERN, PROTOCOL_VERSION_KEY, REPO, SERVER_INFO_KEY, body, inbound, is_modern, kill_leftovers,
    outbound, peer_env, reap_leftovers, sdk_python_fixture, wire_lines,
)

HELPER = REPO / "tests" / "interop" / "sdk_client.py"
SERVER = REPO / "examples" / "notes_server.py"

MODES = ["legacy", "2026-07-28", "auto"]

# Bounds: the helper limits the whole MCP session itself; the outer bound also covers the
# SDK's own start-up (pydantic imports take a second or two on a busy machine).
SESSION_TIMEOUT = 60
HELPER_TIMEOUT = SESSION_TIMEOUT + 30

# The notes the helper adds (keep in step with FIRST_NOTE / SECOND_NOTE in sdk_client.py).
NOTE_1 = {"id": 1, "title": "Groceries"}
NOTE_2 = {"id": 2, "title": "Ideas"}
SERVER_INFO = {"name": "notes", "version": "1.0.0"}
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"


sdk_python = sdk_python_fixture()


def _mcplite_path():
    # type: () -> str
    """The sys.path entry this test process imports mcplite from, for the server to use too.

    The SDK's stdio transport hands the server only HOME, LOGNAME, PATH, SHELL, TERM and USER
    from our environment, so whatever made ``import mcplite`` work here (the checkout on
    sys.path, or a vendored copy) is passed on explicitly as PYTHONPATH.
    """
    try:
        import mcplite
    except ImportError:
        return str(REPO)
    if not getattr(mcplite, "__file__", None):  # a namespace package: a half-built checkout
        return str(REPO)
    location = Path(mcplite.__file__).resolve()
    if location.name == "__init__.py":
        location = location.parent
    return str(location.parent)


def server_command():
    # type: () -> List[str]
    """The server under test, run by this interpreter: it must work on every supported Python."""
    if not SERVER.exists():
        pytest.fail("%s does not exist" % SERVER, pytrace=False)
    return [sys.executable, str(SERVER)]


def run_helper(sdk_python, mode, tmp_dir):
    # type: (str, str, Path) -> Dict[str, Any]
    token = uuid.uuid4().hex
    server_env = [
        "PYTHONPATH=" + _mcplite_path(),
        "PYTHONIOENCODING=utf-8",
        "MCPLITE_INTEROP_TOKEN=" + token,
    ]
    if mode == "legacy":  # one era keeps its notes in a file, to see env reach the server
        server_env.append("NOTES_DB=" + str(tmp_dir / "notes-legacy.sqlite"))
    cmd = [sdk_python, str(HELPER), "--mode", mode, "--timeout", str(SESSION_TIMEOUT), "--cwd", str(REPO)]
    for item in server_env:
        cmd += ["--env", item]
    cmd += ["--"] + server_command()
    env = peer_env(token)  # the token marks the helper too, so a hung one is found
    # stderr goes to a file, not a pipe: the server inherits it, and a server (or anything it
    # spawned) that outlives the helper must not keep us waiting for an EOF.
    stderr_path = tmp_dir / ("sdk-%s.stderr.txt" % mode)
    with open(str(stderr_path), "w+", encoding="utf-8", errors="replace") as stderr_file:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=stderr_file, env=env, cwd=str(REPO),
            universal_newlines=True, encoding="utf-8",
        )
        try:
            out, _ = proc.communicate(timeout=HELPER_TIMEOUT)
            timed_out, killed = False, []  # type: bool, List[int]
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            killed = kill_leftovers(token)
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                out = ""
        # The SDK stops the server itself (stdin EOF, then SIGTERM to its group); anything
        # still carrying our token is a leak.
        leaked = reap_leftovers(token)
        stderr_file.seek(0)
        err = stderr_file.read()
    if timed_out:
        pytest.fail(
            "SDK client (mode=%s) did not finish within %ss; leftover processes killed: %s\n"
            "stdout:\n%s\nstderr:\n%s" % (mode, HELPER_TIMEOUT, killed + leaked, out[-4000:], err[-4000:]),
            pytrace=False,
        )
    try:
        report = json.loads(out)
    except ValueError:
        pytest.fail(
            "SDK client (mode=%s) exited %s without a JSON report\nstdout:\n%s\nstderr:\n%s"
            % (mode, proc.returncode, out[-4000:], err[-4000:]),
            pytrace=False,
        )
    report["_stderr"] = err
    report["_leaked_pids"] = leaked
    report["_tmp_dir"] = str(tmp_dir)
    (tmp_dir / ("sdk-%s.json" % mode)).write_text(json.dumps(report, indent=1), encoding="utf-8")
    if report.get("error"):
        pytest.fail(
            "SDK client (mode=%s) failed:\n%s\n%s\nserver/client stderr:\n%s\n(full report: %s)"
            % (mode, report["error"], wire(report), err[-4000:], tmp_dir / ("sdk-%s.json" % mode)),
            pytrace=False,
        )
    return report


def wire(report):
    # type: (Dict[str, Any]) -> str
    """The JSON-RPC log, one line per message, for failure messages."""
    lines = ["wire (mode=%s; '>' client to server, '<' server to client):" % report.get("mode")]
    return "\n".join(lines + wire_lines(report, 600, count_cut=True))


@pytest.fixture(scope="module")
def reports(sdk_python, tmp_path_factory):
    # type: (str, Any) -> Any
    """One helper run per mode, shared by the tests below (run lazily, cached)."""
    tmp_dir = tmp_path_factory.mktemp("interop")
    cache = {}  # type: Dict[str, Dict[str, Any]]

    class Runs(object):
        def __getitem__(self, mode):
            # type: (str) -> Dict[str, Any]
            if mode not in cache:
                cache[mode] = run_helper(sdk_python, mode, tmp_dir)
            return cache[mode]

    return Runs()


@pytest.fixture(params=MODES)
def mode(request):
    # type: (Any) -> str
    return request.param


@pytest.fixture
def report(reports, mode):
    # type: (Any, str) -> Dict[str, Any]
    return reports[mode]


# --- the connection ------------------------------------------------------------------------


def test_negotiated_version(report):
    expected = MODERN if is_modern(report) else LEGACY
    assert report["protocol_version"] == expected, wire(report)


def test_server_identity(report):
    if report["mode"] == MODERN:
        # mode="2026-07-28" adopts a synthesized discover result: the SDK never asks, so it
        # cannot know the server's name yet. The explicit discover below checks it instead.
        assert report["server_info"] is None
    else:
        assert report["server_info"] == SERVER_INFO, wire(report)
        assert isinstance(report["instructions"], str) and report["instructions"], wire(report)


def test_instructions_agree_across_eras(reports):
    legacy = reports["legacy"]["instructions"]
    assert reports["auto"]["instructions"] == legacy
    assert reports[MODERN]["discover"]["instructions"] == legacy


def test_capabilities_follow_registrations(report):
    caps = report["capabilities"]
    if report["mode"] == MODERN:
        assert caps == {}, caps  # synthesized by the SDK, not sent by the server
        caps = report["discover"]["capabilities"]
    assert {"tools", "resources", "prompts"} <= set(caps), wire(report)


def test_handshake_on_the_wire(report):
    sent = outbound(report)
    methods = [m.get("method") for m in sent]
    if report["mode"] == "legacy":
        assert methods[:2] == ["initialize", "notifications/initialized"], wire(report)
        assert sent[0]["params"]["protocolVersion"] == LEGACY
        assert "server/discover" not in methods
        assert not any(PROTOCOL_VERSION_KEY in m.get("params", {}).get("_meta", {}) for m in sent)
    else:
        assert "initialize" not in methods and "notifications/initialized" not in methods, wire(report)
        if report["mode"] == "auto":
            assert methods[0] == "server/discover", wire(report)
        for m in sent:
            if "id" in m:  # every request carries the per-request envelope
                meta = m["params"]["_meta"]
                assert meta[PROTOCOL_VERSION_KEY] == MODERN, m
                assert CLIENT_INFO_KEY in meta and CLIENT_CAPABILITIES_KEY in meta, m


def test_every_request_answered_once_and_stdout_clean(report):
    assert not any("unparsed" in e for e in report["wire"]), wire(report)
    requests = [m["id"] for m in outbound(report) if "id" in m and "method" in m]
    answers = [m["id"] for m in inbound(report) if "id" in m and "method" not in m]
    assert sorted(answers) == sorted(requests), wire(report)
    for m in inbound(report):
        assert m["jsonrpc"] == "2.0", m


def test_server_exits_on_stdin_eof(report):
    # The SDK closes stdin and SIGTERMs the group only after 2 s; a prompt exit stays below.
    assert report["shutdown_seconds"] < 2.0, report["_stderr"][-2000:]
    assert report["_leaked_pids"] == []


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
def test_discover_answer(report):
    d = report["discover"]
    assert "error" not in d, wire(report)
    # A stdio connection that accepted a modern request stays modern, so it offers only the
    # modern versions (a fresh connection serves both eras: see test_server_modern.py).
    assert d["supportedVersions"] == ["2026-07-28"], d
    assert d["_meta"][SERVER_INFO_KEY] == SERVER_INFO, d
    assert d["resultType"] == "complete", d
    assert isinstance(d.get("instructions"), str) and d["instructions"], d


# --- tools ---------------------------------------------------------------------------------


def test_list_tools(report):
    tools = {t["name"]: t for t in report["tools"]}
    assert sorted(tools) == ["add_note", "delete_note", "search_notes"], wire(report)

    add = tools["add_note"]
    assert add["description"] == "Add a note and return its id."
    assert add["annotations"] == {"destructiveHint": False}
    schema = add["inputSchema"]
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == ["body", "title"]
    props = schema["properties"]
    assert props["title"]["type"] == "string" and props["body"]["type"] == "string"
    assert props["tags"]["type"] == "array" and props["tags"]["items"] == {"type": "string"}
    assert props["tags"]["default"] == []
    out = add["outputSchema"]  # from the TypedDict return annotation
    assert out["type"] == "object" and sorted(out["required"]) == ["id", "title"], out
    assert out["properties"] == {"id": {"type": "integer"}, "title": {"type": "string"}}, out

    search = tools["search_notes"]
    assert search["annotations"] == {"readOnlyHint": True}
    schema = search["inputSchema"]
    assert schema["required"] == ["query"]
    assert sorted(schema["properties"]) == ["limit", "query"]  # the Context parameter is not in it
    assert schema["properties"]["limit"] == {"type": "integer", "default": 10}
    out = search["outputSchema"]  # a list result is wrapped in {"result": [...]}
    assert out["type"] == "object" and out["required"] == ["result"], out
    assert out["properties"]["result"]["type"] == "array", out

    delete = tools["delete_note"]
    assert delete["annotations"] == {"destructiveHint": True, "idempotentHint": True}
    assert delete["inputSchema"]["required"] == ["id"]
    assert delete["inputSchema"]["properties"] == {"id": {"type": "integer"}}
    assert "outputSchema" not in delete  # a str result is plain text


def test_call_tool_structured(report):
    calls = report["calls"]
    assert body(calls["add_note"]) == {
        "content": [{"type": "text", "text": '{"id": 1, "title": "Groceries"}'}],
        "structuredContent": NOTE_1,
    }, wire(report)
    assert body(calls["add_note_2"]) == {
        "content": [{"type": "text", "text": '{"id": 2, "title": "Ideas"}'}],
        "structuredContent": NOTE_2,
    }, wire(report)


def test_call_tool_list_result(report):
    expected = {
        "content": [{"type": "text", "text": '[{"id": 1, "title": "Groceries"}]'}],
        "structuredContent": {"result": [NOTE_1]},
    }
    assert body(report["calls"]["search_notes"]) == expected, wire(report)
    assert body(report["calls"]["search_after_delete"]) == expected, wire(report)  # note 2 is gone


def test_call_tool_text_result(report):
    assert body(report["calls"]["delete_note"]) == {
        "content": [{"type": "text", "text": "deleted note 2"}],
    }, wire(report)


def test_unknown_tool_is_invalid_params(report):
    # Issue 2, item 5: an unknown tool is a protocol error -32602, not an isError result.
    outcome = report["unknown_tool"]
    assert "error" in outcome, "expected JSON-RPC error -32602, got a result: %r" % (outcome,)
    assert outcome["error"]["code"] == -32602, outcome
    assert "no_such_tool" in outcome["error"]["message"], outcome


# --- resources -----------------------------------------------------------------------------


def test_list_resources_and_templates(report):
    assert report["resources"] == [{
        "uri": "notes://all", "name": "all_notes", "description": "Every note, as JSON.",
        "mimeType": "application/json",
    }], wire(report)
    assert report["resource_templates"] == [{
        "uriTemplate": "notes://{id}", "name": "note", "description": "One note as Markdown.",
        "mimeType": "text/markdown",
    }], wire(report)


def test_read_static_resource(report):
    contents = report["reads"]["notes://all"]
    assert len(contents) == 1, contents
    (item,) = contents
    assert item["uri"] == "notes://all" and item["mimeType"] == "application/json", item
    assert json.loads(item["text"]) == [
        {"id": 1, "title": "Groceries", "body": "milk, eggs", "tags": ["home"]},
        {"id": 2, "title": "Ideas", "body": "write an MCP server", "tags": []},
    ], item


def test_read_templated_resource(report):
    assert report["reads"]["notes://1"] == [
        {"uri": "notes://1", "mimeType": "text/markdown", "text": "# Groceries\n\nmilk, eggs"}
    ], wire(report)


# --- prompts -------------------------------------------------------------------------------


def test_list_prompts(report):
    prompts = report["prompts"]
    assert [p["name"] for p in prompts] == ["summarize"], wire(report)
    arguments = [{k: v for k, v in a.items() if k != "description"} for a in prompts[0]["arguments"]]
    assert arguments == [{"name": "note_id", "required": True}], prompts


def test_get_prompt(report):
    assert body(report["prompt"]) == {
        "description": "Ask the model to summarize one note.",
        "messages": [{
            "role": "user",
            "content": {"type": "text", "text": "Summarize this note in one sentence:\n\n# Groceries\n\nmilk, eggs"},
        }],
    }, wire(report)


@pytest.mark.parametrize("mode", ["legacy"])
def test_server_env_reaches_server(report):
    """NOTES_DB, passed through the SDK's StdioServerParameters.env, put the notes in a file."""
    import sqlite3

    db = sqlite3.connect(os.path.join(report["_tmp_dir"], "notes-legacy.sqlite"))
    try:
        rows = db.execute("SELECT id, title FROM notes ORDER BY id").fetchall()
    finally:
        db.close()
    assert rows == [(1, "Groceries")]


# --- the 2026-07-28 result envelope ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
def test_modern_results_carry_envelope(report):
    for msg in inbound(report):
        if "result" not in msg:
            continue
        result = msg["result"]
        assert result.get("resultType") == "complete", msg
        assert result.get("_meta", {}).get(SERVER_INFO_KEY) == SERVER_INFO, msg
    sent = {m["id"]: m["method"] for m in outbound(report) if "id" in m and "method" in m}
    for msg in inbound(report):
        method = sent.get(msg.get("id"))
        if "result" in msg and method in ("tools/list", "resources/list", "resources/templates/list",
                                          "prompts/list", "resources/read"):
            assert isinstance(msg["result"].get("ttlMs"), int), msg
            assert msg["result"].get("cacheScope") in ("public", "private"), msg


@pytest.mark.parametrize("mode", ["legacy"])
def test_legacy_results_have_no_modern_fields(report):
    for msg in inbound(report):
        if "result" in msg:
            assert "resultType" not in msg["result"], msg
