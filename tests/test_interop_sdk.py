"""Interop: the official Python SDK client (``mcp==2.3.0``) against ``examples/notes_server.py``.

The SDK needs Python >= 3.10 while this suite runs on 3.8 too, so the SDK side lives in
``tests/interop/sdk_client.py`` and runs under ``$MCPLITE_SDK_PYTHON`` (``scripts/test``
builds that venv). The server runs under *this* interpreter, because it must work on every
supported Python. Each era gets a fresh server (an in-memory notes database), and the helper
reports one JSON document; the tests below assert on it. On a failure the message carries the
JSON-RPC messages both ways, as the SDK wrote and parsed them.

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
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parent.parent
HELPER = REPO / "tests" / "interop" / "sdk_client.py"
SERVER = REPO / "examples" / "notes_server.py"

MODES = ["legacy", "2026-07-28", "auto"]
MODERN = "2026-07-28"
LEGACY = "2025-11-25"

# Bounds: the helper limits the whole MCP session itself; the outer bound also covers the
# SDK's own start-up (pydantic imports take a second or two on a busy machine).
SESSION_TIMEOUT = 60
HELPER_TIMEOUT = SESSION_TIMEOUT + 30

# The notes the helper adds (keep in step with FIRST_NOTE / SECOND_NOTE in sdk_client.py).
NOTE_1 = {"id": 1, "title": "Groceries"}
NOTE_2 = {"id": 2, "title": "Ideas"}
SERVER_INFO = {"name": "notes", "version": "1.0.0"}
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"


def _truthy(name):
    # type: (str) -> bool
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _unusable(reason):
    # type: (str) -> None
    """Skip only when nobody asked for interop; a named but broken SDK python always fails."""
    if os.environ.get("MCPLITE_SDK_PYTHON") or _truthy("MCPLITE_REQUIRE_INTEROP"):
        pytest.fail("interop test cannot run: " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sdk_python():
    # type: () -> str
    path = os.environ.get("MCPLITE_SDK_PYTHON", "")
    if not path:
        _unusable("MCPLITE_SDK_PYTHON is not set (scripts/test sets it to a venv with mcp==2.3.0)")
    try:
        probe = subprocess.run(
            [path, "-c", "import mcp.client.client, importlib.metadata as m; print(m.version('mcp'))"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unusable("MCPLITE_SDK_PYTHON=%s cannot run: %s" % (path, exc))
    if probe.returncode != 0:
        _unusable("MCPLITE_SDK_PYTHON=%s cannot import mcp:\n%s" % (path, probe.stderr[-2000:]))
    if probe.stdout.strip() != "2.3.0":
        _unusable("MCPLITE_SDK_PYTHON=%s has mcp %s, the interop test pins 2.3.0" % (path, probe.stdout.strip()))
    return path


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


def _leftovers(token):
    # type: (str) -> List[int]
    """PIDs of processes still carrying our marker in their environment (Linux /proc only)."""
    found = []  # type: List[int]
    marker = ("MCPLITE_INTEROP_TOKEN=" + token).encode()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _kill_leftovers(token):
    # type: (str) -> List[int]
    pids = _leftovers(token)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return pids


def server_command():
    # type: () -> List[str]
    """The server under test, run by this interpreter: it must work on every supported Python."""
    if not SERVER.exists():
        pytest.fail("%s does not exist" % SERVER, pytrace=False)
    return [sys.executable, str(SERVER)]


def run_helper(sdk_python, mode, tmp_dir):
    # type: (str, str, Path) -> Dict[str, Any]
    token = uuid.uuid4().hex
    cmd = [
        sdk_python, str(HELPER), "--mode", mode, "--timeout", str(SESSION_TIMEOUT), "--cwd", str(REPO),
        "--env", "PYTHONPATH=" + _mcplite_path(),
        "--env", "PYTHONIOENCODING=utf-8",
        "--env", "MCPLITE_INTEROP_TOKEN=" + token,
        "--",
    ] + server_command()
    env = dict(os.environ)
    env["MCPLITE_INTEROP_TOKEN"] = token  # marks the helper too, so a hung one is found
    env.pop("PYTHONPATH", None)  # the helper runs in the SDK venv: keep the test's path out of it
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(REPO),
        universal_newlines=True, encoding="utf-8",
    )
    try:
        out, err = proc.communicate(timeout=HELPER_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        killed = _kill_leftovers(token)
        pytest.fail(
            "SDK client (mode=%s) did not finish within %ss; killed %s\nstdout:\n%s\nstderr:\n%s"
            % (mode, HELPER_TIMEOUT, killed, out[-4000:], err[-4000:]),
            pytrace=False,
        )
    # The SDK stops the server itself (stdin EOF, then SIGTERM to its group); anything still
    # alive here is a leak. Give a just-signalled process a moment before calling it one.
    deadline = time.monotonic() + 3
    while _leftovers(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = _kill_leftovers(token)

    (tmp_dir / ("sdk-%s.stderr.txt" % mode)).write_text(err, encoding="utf-8")
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
    (tmp_dir / ("sdk-%s.json" % mode)).write_text(json.dumps(report, indent=1), encoding="utf-8")
    if report.get("error"):
        pytest.fail(
            "SDK client (mode=%s) failed:\n%s\n%s\nserver/client stderr:\n%s"
            % (mode, report["error"], wire(report), err[-4000:]),
            pytrace=False,
        )
    return report


def wire(report):
    # type: (Dict[str, Any]) -> str
    """The JSON-RPC log, one line per message, for failure messages."""
    lines = ["wire (mode=%s; '>' client to server, '<' server to client):" % report.get("mode")]
    for entry in report.get("wire", []):
        body = json.dumps(entry["msg"], sort_keys=True) if "msg" in entry else "UNPARSED " + entry["unparsed"]
        if len(body) > 600:
            body = body[:600] + "...(%d chars)" % len(body)
        lines.append("%s %s" % (entry["dir"], body))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def reports(sdk_python, tmp_path_factory):
    # type: (str, Any) -> Dict[str, Dict[str, Any]]
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


def is_modern(report):
    # type: (Dict[str, Any]) -> bool
    return report["mode"] != "legacy"


def outbound(report):
    # type: (Dict[str, Any]) -> List[Dict[str, Any]]
    return [e["msg"] for e in report["wire"] if e["dir"] == ">"]


def inbound(report):
    # type: (Dict[str, Any]) -> List[Dict[str, Any]]
    return [e["msg"] for e in report["wire"] if e["dir"] == "<" and "msg" in e]


def text_of(result):
    # type: (Dict[str, Any]) -> str
    content = result["content"]
    assert len(content) == 1 and content[0]["type"] == "text", content
    return content[0]["text"]


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
    assert MODERN in d["supportedVersions"], d
    assert d["_meta"][SERVER_INFO_KEY] == SERVER_INFO, d
    assert d["resultType"] == "complete", d
    assert isinstance(d.get("instructions"), str) and d["instructions"], d


# --- tools ---------------------------------------------------------------------------------


def test_list_tools(report):
    tools = {t["name"]: t for t in report["tools"]}
    assert sorted(tools) == ["add_note", "delete_note", "search_notes"], wire(report)
    schema = tools["add_note"]["inputSchema"]
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == ["body", "title"]
    props = schema["properties"]
    assert props["title"]["type"] == "string" and props["body"]["type"] == "string"
    assert props["tags"]["type"] == "array" and props["tags"]["items"] == {"type": "string"}
    assert props["tags"]["default"] == []
    search = tools["search_notes"]["inputSchema"]
    assert search["required"] == ["query"]
    assert search["properties"]["limit"]["type"] == "integer"
    assert search["properties"]["limit"]["default"] == 10
    delete = tools["delete_note"]["inputSchema"]
    assert delete["required"] == ["id"] and delete["properties"]["id"]["type"] == "integer"


def test_call_tool_structured(report):
    calls = report["calls"]
    first = calls["add_note"]
    assert first.get("isError", False) is False, first
    assert first.get("structuredContent") == NOTE_1, wire(report)
    assert json.loads(text_of(first)) == NOTE_1  # the text copy of the same JSON
    second = calls["add_note_2"]
    assert second.get("structuredContent") == NOTE_2, second
    assert json.loads(text_of(second)) == NOTE_2


def test_call_tool_list_result(report):
    found = report["calls"]["search_notes"]
    assert found.get("isError", False) is False, found
    assert json.loads(text_of(found)) == [NOTE_1], wire(report)
    after = report["calls"]["search_after_delete"]
    assert json.loads(text_of(after)) == [NOTE_1], after  # note 2 is gone


def test_call_tool_text_result(report):
    deleted = report["calls"]["delete_note"]
    assert deleted.get("isError", False) is False, deleted
    assert text_of(deleted), deleted


def test_unknown_tool_is_invalid_params(report):
    # Issue 2, item 5: an unknown tool is a protocol error -32602, not an isError result.
    outcome = report["unknown_tool"]
    assert "error" in outcome, "expected JSON-RPC error -32602, got a result: %r" % (outcome,)
    assert outcome["error"]["code"] == -32602, outcome
    assert "no_such_tool" in outcome["error"]["message"], outcome


# --- resources -----------------------------------------------------------------------------


def test_list_resources_and_templates(report):
    resources = [(r["uri"], r.get("mimeType")) for r in report["resources"]]
    assert resources == [("notes://all", "application/json")], wire(report)
    templates = [(t["uriTemplate"], t.get("mimeType")) for t in report["resource_templates"]]
    assert templates == [("notes://{id}", "text/markdown")], wire(report)


def test_read_static_resource(report):
    contents = report["reads"]["notes://all"]
    assert len(contents) == 1, contents
    (item,) = contents
    assert item["uri"] == "notes://all" and item["mimeType"] == "application/json", item
    notes = json.loads(item["text"])
    assert [{"id": n["id"], "title": n["title"]} for n in notes] == [NOTE_1, NOTE_2], notes
    assert [n["body"] for n in notes] == ["milk, eggs", "write an MCP server"], notes


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
    messages = report["prompt"]["messages"]
    assert len(messages) == 1, messages
    assert messages[0]["role"] == "user"
    assert messages[0]["content"]["type"] == "text"
    assert messages[0]["content"]["text"], messages


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
