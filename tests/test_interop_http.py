"""Interop over HTTP: real MCP clients against mcplite's HTTP server.

Two peers, each against servers running in this process (``Server.run_in_thread``), so the
server side runs on every supported Python and the tests can look at it from the inside
(``handle.app.session_count()``):

- The official Python SDK client (``mcp==2.3.0``), which needs Python >= 3.10 and so runs
  as ``tests/interop/sdk_http_client.py`` under ``$MCPLITE_SDK_PYTHON`` (``scripts/test``
  builds that venv). One helper process performs every run in ``RUNS`` below, each against
  its own fresh server: Streamable HTTP with ``Client(mode=...)`` = ``legacy`` (initialize
  handshake, 2025-11-25, a session), ``2026-07-28`` (no handshake, no session) and ``auto``
  (``server/discover`` first); the same against ``json_response=True`` and
  ``stateless=True`` servers; and the 2024-11-05 HTTP+SSE transport (the SDK still ships
  ``mcp.client.sse.sse_client``) at ``/sse``. Each run lists and calls tools (structured,
  text, progress, isError, unknown), lists and reads resources and templates, and lists
  and gets prompts; the helper reports every JSON-RPC message and every HTTP request.
- The MCP Inspector CLI v2 (``@modelcontextprotocol/inspector@2.12.0``, Node >= 22.19),
  given as a command line in ``$MCPLITE_INSPECTOR`` (``scripts/test`` installs it and a
  Node 22), in all three of its protocol eras, over Streamable HTTP, over the old
  ``/sse`` transport, and over stdio (``tests/servers/stdio_app.py``).

Each peer is skipped when its variable is unset, unless ``MCPLITE_REQUIRE_INTEROP`` is set
(``scripts/test`` sets it): then an unusable peer is a failure. On a failure the message
carries the SDK's message and HTTP logs; the helper's full report is kept as
``sdk-http.json`` in the pytest temporary directory.
"""

import base64
import json
import os
import shlex
import sys
from typing import Any, Dict, Optional, Tuple

import pytest

from apps import PNG, make_app
from interop_support import (
    LEGACY, MODERN, PROTOCOL_VERSION_KEY, REPO, SERVER_INFO_KEY, body, checked_run, helper_runs, inbound,
    is_modern, outbound, peer_env, run_bounded, runs, sdk_python_fixture, sessions_settle, unusable, wire_lines,
)
from mcplite import Context, Server

SDK_HELPER = REPO / "tests" / "interop" / "sdk_http_client.py"
STDIO_SERVER = REPO / "tests" / "servers" / "stdio_app.py"

SERVER_INFO = {"name": "testserver", "title": "Test Server", "version": "2.0.0"}

# Bounds. A normal helper run takes ~2 s in all (mostly the SDK's imports), an Inspector run
# ~0.5 s; the limits only keep a hung peer from hanging the suite.
RUN_TIMEOUT = 15
HELPER_TIMEOUT = 90
INSPECTOR_TIMEOUT = 30

# name: (server options, transport, Client mode). Every run gets a server of its own, so
# what the server holds afterwards belongs to that one client.
RUNS = {
    "legacy": ({}, "http", "legacy"),
    "modern": ({}, "http", MODERN),
    "auto": ({}, "http", "auto"),
    "json-legacy": ({"json_response": True}, "http", "legacy"),
    "json-modern": ({"json_response": True}, "http", MODERN),
    "stateless-legacy": ({"stateless": True}, "http", "legacy"),
    "stateless-auto": ({"stateless": True}, "http", "auto"),
    "sse": ({}, "sse", "legacy"),
}
HTTP_RUNS = [name for name in RUNS if RUNS[name][1] == "http"]
SESSION_RUNS = ["legacy", "json-legacy"]  # Streamable HTTP with an Mcp-Session-Id
MODERN_RUNS = [name for name in RUNS if RUNS[name][2] != "legacy"]
STATELESS_RUNS = ["stateless-legacy", "stateless-auto"]

# Every tool the test server has: tests/apps.py's and the two added below.
TOOLS = ["add", "blocks", "echo", "fail", "http_info", "nothing", "raw_bytes", "refuse", "stats", "steps",
         "untyped", "whoami", "wrong_output"]

# The helper's inputs (keep in step with the constants in sdk_http_client.py).
ECHO_MESSAGE = "h\u00e9llo \u2713 \U0001f600"
STEPS = 3


# --- the servers -----------------------------------------------------------------------------


def build_app(holder):
    # type: (Dict[str, Any]) -> Server
    """The shared test app plus a tool that reports progress and one that reports what the
    server saw of its HTTP request; ``holder["handle"]`` is the running server."""
    app = make_app()

    @app.tool()
    def steps(count: int, ctx: Context) -> str:
        for i in range(1, count + 1):
            ctx.progress(i, count, "step %d" % i)
        return "did %d steps" % count

    @app.tool()
    def http_info(ctx: Context) -> dict:
        headers = ctx.http_headers
        return {
            "session_header": headers.get("mcp-session-id"),
            "protocol_header": headers.get("mcp-protocol-version"),
            "sessions": holder["handle"].app.session_count(),
            "version": ctx.protocol_version,
        }

    return app


def start_server(**options):
    # type: (Any) -> Any
    holder = {}  # type: Dict[str, Any]
    handle = build_app(holder).run_in_thread("http", host="127.0.0.1", port=0, path="/mcp", **options)
    holder["handle"] = handle
    return handle


def sse_url(handle):
    # type: (Any) -> str
    return "http://127.0.0.1:%d/sse" % handle.port


# --- the official SDK ----------------------------------------------------------------------------


sdk_python = sdk_python_fixture("mcp.client.sse")


@pytest.fixture(scope="module")
def sdk_runs(sdk_python, tmp_path_factory):
    # type: (str, Any) -> Dict[str, Dict[str, Any]]
    """Every run in RUNS, by one helper process; each report gets ``_sessions_after``: its
    server's session count once the client has gone."""
    tmp_dir = tmp_path_factory.mktemp("interop-http")
    handles = {}  # type: Dict[str, Any]
    try:
        cmd = [sdk_python, str(SDK_HELPER), "--timeout", str(RUN_TIMEOUT)]
        for name, (options, transport, mode) in RUNS.items():
            handle = handles[name] = start_server(**options)
            cmd += ["--run", name, transport, mode, sse_url(handle) if transport == "sse" else handle.url]
        status, out, err = run_bounded(cmd, HELPER_TIMEOUT, peer_env())
        reports = helper_runs(status, out, err, HELPER_TIMEOUT)
        for name, handle in handles.items():
            report = reports.setdefault(name, {"name": name, "error": "no report for this run"})
            report["_sessions_after"] = sessions_settle(handle)
            report["_stderr"] = err
        (tmp_dir / "sdk-http.json").write_text(json.dumps(reports, indent=1), encoding="utf-8")
        return reports
    finally:
        for handle in handles.values():
            handle.stop()


@pytest.fixture
def report(sdk_runs, name):
    # type: (Dict[str, Dict[str, Any]], str) -> Dict[str, Any]
    return checked_run(sdk_runs, name, logs)


def logs(report):
    # type: (Dict[str, Any]) -> str
    """The run's JSON-RPC and HTTP logs, one line each, for failure messages."""
    lines = ["run %s (transport=%s, mode=%s); JSON-RPC ('>' client to server, '<' server to client):"
             % (report.get("name"), report.get("transport"), report.get("mode"))]
    lines += wire_lines(report, 600)
    lines.append("HTTP:")
    for entry in report.get("http", []):
        lines.append("%s %s %s -> %s %s" % (entry["method"], entry["target"], entry["request_headers"],
                                           entry.get("status"), entry.get("response_headers")))
    return "\n".join(lines)


def the_call(report, method, name=None):
    # type: (Dict[str, Any], str, Optional[str]) -> Dict[str, Any]
    """The HTTP log entry of the one POST that carried ``method`` (for ``name``)."""
    ids = [m["id"] for m in outbound(report) if m.get("method") == method
           and (name is None or m.get("params", {}).get("name") == name)]
    assert len(ids) == 1, logs(report)
    posts = [e for e in report["http"] if e["method"] == "POST"]
    # Requests and notifications go out one POST each, in order, so the n-th client
    # message is the n-th POST.
    sent = outbound(report)
    index = [i for i, m in enumerate(sent) if m.get("id") == ids[0] and "method" in m][0]
    assert len(posts) == len(sent), logs(report)
    return posts[index]


# --- the connection ----------------------------------------------------------------------------


@runs(*RUNS)
def test_negotiated_version(report):
    assert report["protocol_version"] == (MODERN if is_modern(report) else LEGACY), logs(report)


@runs(*RUNS)
def test_handshake_on_the_wire(report):
    sent = outbound(report)
    methods = [m.get("method") for m in sent]
    if report["mode"] == "legacy":
        assert methods[:2] == ["initialize", "notifications/initialized"], logs(report)
        assert sent[0]["params"]["protocolVersion"] == LEGACY
        assert report["server_info"] == SERVER_INFO, logs(report)
        assert report["instructions"] == "For tests."
    else:
        assert "initialize" not in methods and "notifications/initialized" not in methods, logs(report)
        if report["mode"] == "auto":
            assert methods[0] == "server/discover", logs(report)
            assert report["server_info"] == SERVER_INFO, logs(report)
            assert report["instructions"] == "For tests."
        for m in sent:
            if "id" in m:  # every request carries the per-request envelope
                assert m["params"]["_meta"][PROTOCOL_VERSION_KEY] == MODERN, m


@runs(*RUNS)
def test_every_request_answered_once(report):
    assert not any("unparsed" in e for e in report["wire"]), logs(report)
    requests = [m["id"] for m in outbound(report) if "id" in m and "method" in m]
    answers = [m["id"] for m in inbound(report) if "id" in m and "method" not in m]
    assert sorted(answers) == sorted(requests), logs(report)
    entries = report["http"]
    if report.get("transport") == "sse" and entries and "status" not in entries[-1]:
        # The old HTTP+SSE transport answers on the GET stream. mcplite writes each 202
        # before handling the message, but the SDK client reads the two connections in
        # separate tasks and may act on the last answer first, closing with that POST's 202
        # unread (seen on a loaded machine). Every request was answered (above).
        entries = entries[:-1]
    for entry in entries:
        assert entry.get("status") in (200, 202), logs(report)


@runs(*MODERN_RUNS)
def test_modern_results_carry_the_envelope(report):
    results = [m["result"] for m in inbound(report) if "result" in m]
    assert len(results) >= 15, logs(report)
    for result in results:
        assert result.get("resultType") == "complete", result
        assert result.get("_meta", {}).get(SERVER_INFO_KEY) == SERVER_INFO, result


@runs("legacy", "json-legacy", "stateless-legacy", "sse")
def test_legacy_results_have_no_modern_fields(report):
    for m in inbound(report):
        if "result" in m:
            assert "resultType" not in m["result"] and SERVER_INFO_KEY not in m["result"].get("_meta", {}), m


# --- tools ---------------------------------------------------------------------------------------


@runs(*RUNS)
def test_list_tools(report):
    tools = {t["name"]: t for t in report["tools"]}
    assert sorted(tools) == TOOLS, logs(report)
    assert tools["add"]["description"] == "Add two integers."
    assert tools["add"]["inputSchema"] == {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"], "additionalProperties": False}
    assert tools["add"]["outputSchema"] == {
        "type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}
    assert tools["echo"]["title"] == "Echo" and tools["echo"]["annotations"] == {"readOnlyHint": True}
    assert "outputSchema" not in tools["echo"]
    assert tools["steps"]["inputSchema"]["properties"] == {"count": {"type": "integer"}}  # no Context


@runs(*RUNS)
def test_call_tool_structured(report):
    calls = report["calls"]
    assert body(calls["add"]) == {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}
    assert body(calls["stats"]) == {
        "content": [{"type": "text", "text": '{"sum": 9.0, "mean": 3.0}'}],
        "structuredContent": {"sum": 9.0, "mean": 3.0},
    }


@runs(*RUNS)
def test_call_tool_text(report):
    assert body(report["calls"]["echo"]) == {"content": [{"type": "text", "text": ECHO_MESSAGE}]}, logs(report)


@runs(*RUNS)
def test_tool_errors_are_error_results(report):
    calls = report["calls"]
    assert body(calls["refuse"]) == {"content": [{"type": "text", "text": "not allowed today"}], "isError": True}
    assert body(calls["fail"]) == {"content": [{"type": "text", "text": "ValueError: disk full"}], "isError": True}


@runs(*RUNS)
def test_unknown_tool_is_invalid_params(report):
    outcome = report["unknown_tool"]
    assert outcome == {"error": {"code": -32602, "message": "Unknown tool: no_such_tool"}}, outcome


@runs(*[name for name in RUNS if not name.startswith("json-")])
def test_progress_reaches_the_callback(report):
    assert report["progress"] == [
        {"progress": float(i), "total": float(STEPS), "message": "step %d" % i} for i in range(1, STEPS + 1)
    ], logs(report)
    assert body(report["calls"]["steps"]) == {"content": [{"type": "text", "text": "did 3 steps"}]}
    if report["transport"] == "http":
        # The notifications came before the result on the POST's own event stream...
        post = the_call(report, "tools/call", "steps")
        assert post["response_headers"]["content-type"].startswith("text/event-stream"), logs(report)
    tokens = [m["params"]["_meta"]["progressToken"] for m in outbound(report)
              if m.get("method") == "tools/call" and m["params"]["name"] == "steps"]
    got = [m["params"]["progressToken"] for m in inbound(report) if m.get("method") == "notifications/progress"]
    assert len(tokens) == 1 and got == tokens * STEPS, logs(report)


@runs("json-legacy", "json-modern")
def test_json_response_mode_answers_with_json_only(report):
    # json_response=True: every POST is answered with one JSON body, so the notifications a
    # handler sends before its result have nowhere to go (documented: they are dropped).
    for entry in report["http"]:
        if entry["method"] == "POST" and entry["status"] == 200:
            assert entry["response_headers"]["content-type"].startswith("application/json"), logs(report)
    assert report["progress"] == [], logs(report)
    assert body(report["calls"]["steps"]) == {"content": [{"type": "text", "text": "did 3 steps"}]}


# --- sessions ------------------------------------------------------------------------------------


@runs(*SESSION_RUNS)
def test_legacy_session_is_used_and_deleted(report):
    http = report["http"]
    first = http[0]
    assert first["method"] == "POST" and "mcp-session-id" not in first["request_headers"], logs(report)
    session_id = first["response_headers"].get("mcp-session-id")
    assert session_id and len(session_id) >= 16, logs(report)
    for entry in http[1:]:  # every later request carries it, and every answer names it
        assert entry["request_headers"].get("mcp-session-id") == session_id, logs(report)
        assert entry["request_headers"].get("mcp-protocol-version") == LEGACY, logs(report)
    methods = [e["method"] for e in http]
    assert "GET" in methods, logs(report)  # the SDK opens the standalone stream after initialize...
    assert methods[-1] == "DELETE" and http[-1]["status"] == 200, logs(report)  # ...and ends the session
    info = report["calls"]["http_info"]["structuredContent"]
    assert info == {"session_header": session_id, "protocol_header": LEGACY, "sessions": 1, "version": LEGACY}
    assert report["_sessions_after"] == 0, "the DELETE did not end the session"


@runs("modern", "auto", "json-modern")
def test_modern_http_has_no_session(report):
    for entry in report["http"]:
        assert entry["method"] == "POST", logs(report)  # no GET stream, no DELETE
        assert "mcp-session-id" not in entry["request_headers"], logs(report)
        assert "mcp-session-id" not in entry.get("response_headers", {}), logs(report)
        assert entry["request_headers"]["mcp-protocol-version"] == MODERN, logs(report)
    info = report["calls"]["http_info"]["structuredContent"]
    assert info == {"session_header": None, "protocol_header": MODERN, "sessions": 0, "version": MODERN}
    assert report["_sessions_after"] == 0


@runs(*STATELESS_RUNS)
def test_stateless_server_keeps_nothing(report):
    for entry in report["http"]:
        assert entry["method"] == "POST", logs(report)
        assert "mcp-session-id" not in entry.get("response_headers", {}), logs(report)
        assert "mcp-session-id" not in entry["request_headers"], logs(report)
    version = MODERN if is_modern(report) else LEGACY
    info = report["calls"]["http_info"]["structuredContent"]
    assert info == {"session_header": None, "protocol_header": version, "sessions": 0, "version": version}
    assert report["_sessions_after"] == 0


# --- resources and prompts -----------------------------------------------------------------------


@runs(*RUNS)
def test_list_resources_and_templates(report):
    assert report["resources"] == [
        {"uri": "test://static", "name": "static", "description": "A static text.", "mimeType": "text/plain"},
        {"uri": "test://json", "name": "json_resource"},
        {"uri": "test://blob", "name": "blob", "mimeType": "image/png"},
        {"uri": "test://broken", "name": "broken"},
    ], logs(report)
    assert report["resource_templates"] == [
        {"uriTemplate": "test://items/{item_id}", "name": "item", "mimeType": "text/plain"},
        {"uriTemplate": "test://maybe/{name}", "name": "maybe"},
    ], logs(report)


@runs(*RUNS)
def test_read_resources(report):
    reads = report["reads"]
    assert reads["test://static"] == [{"uri": "test://static", "mimeType": "text/plain", "text": "static text"}]
    assert reads["test://json"] == [{"uri": "test://json", "mimeType": "application/json", "text": '{"a": 1}'}]
    assert reads["test://blob"] == [{"uri": "test://blob", "mimeType": "image/png",
                                     "blob": base64.b64encode(PNG).decode("ascii")}]
    assert reads["test://items/7"] == [{"uri": "test://items/7", "mimeType": "text/plain", "text": "item 7"}]
    # Resource not found: -32002 up to 2025-11-25; "Resource-not-found becomes -32602" in 2026-07-28.
    code = -32602 if is_modern(report) else -32002
    assert report["read_missing"] == {"error": {
        "code": code, "message": "Resource not found: test://maybe/missing", "data": {"uri": "test://maybe/missing"}}}


@runs(*RUNS)
def test_prompts(report):
    assert report["prompts"] == [
        {"name": "review", "description": "Review some code.",
         "arguments": [{"name": "code", "required": True}, {"name": "language", "required": False}]},
        {"name": "chat", "description": "A short conversation.", "arguments": [{"name": "topic", "required": True}]},
        {"name": "repeat", "arguments": [{"name": "times", "required": True}]},
    ], logs(report)
    assert body(report["prompt_review"]) == {
        "description": "Review some code.",
        "messages": [{"role": "user", "content": {"type": "text", "text": "Review this rust:\nx = 1"}}],
    }
    assert body(report["prompt_chat"]) == {
        "description": "A short conversation.",
        "messages": [{"role": "user", "content": {"type": "text", "text": "Tell me about MCP"}},
                     {"role": "assistant", "content": {"type": "text", "text": "Gladly."}}],
    }


# --- the 2024-11-05 HTTP+SSE transport -----------------------------------------------------------


@runs("sse")
def test_old_sse_transport(report):
    http = report["http"]
    assert (http[0]["method"], http[0]["target"], http[0]["status"]) == ("GET", "/sse", 200), logs(report)
    assert http[0]["response_headers"]["content-type"].startswith("text/event-stream")
    (session_id,) = report["sse_sessions"]  # from the endpoint event
    posts = http[1:]
    assert len(posts) == len(outbound(report)) >= 20, logs(report)
    for index, entry in enumerate(posts):  # every message went to the endpoint, and was accepted there
        # (but the last one's 202 may come after the client closed: see test_every_request_answered_once)
        status = entry.get("status", 202) if index == len(posts) - 1 else entry["status"]
        assert (entry["method"], entry["target"], status) == (
            "POST", "/messages?session_id=" + session_id, 202), logs(report)
    info = report["calls"]["http_info"]["structuredContent"]
    assert info == {"session_header": None, "protocol_header": None, "sessions": 1, "version": LEGACY}
    assert report["_sessions_after"] == 0, "closing the event stream did not end the session"


# --- the MCP Inspector CLI -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def inspector(tmp_path_factory):
    # type: (Any) -> Any
    """A function running the Inspector CLI: (arguments) -> (exit status, stdout JSON or
    None, stderr). Its home, catalog and config live in a temporary directory."""
    raw = os.environ.get("MCPLITE_INSPECTOR", "")
    if not raw:
        unusable("MCPLITE_INSPECTOR", "MCPLITE_INSPECTOR is not set (scripts/test sets it to a command running "
                                      "@modelcontextprotocol/inspector@2.12.0 under Node >= 22.19)")
    command = shlex.split(raw)
    home = tmp_path_factory.mktemp("inspector-home")
    env = peer_env()
    env.update({"HOME": str(home), "MCP_CATALOG_PATH": str(home / "mcp.json"),
                "MCP_CLIENT_CONFIG_PATH": str(home / "client.json"), "NO_COLOR": "1"})

    def run(*args):
        # type: (str) -> Tuple[Optional[int], Any, str]
        try:
            status, out, err = run_bounded(command + list(args), INSPECTOR_TIMEOUT, env, str(home))
        except OSError as exc:
            unusable("MCPLITE_INSPECTOR", "MCPLITE_INSPECTOR=%s cannot run: %s" % (raw, exc))
        if status is None:
            pytest.fail("the Inspector did not finish within %ss: %s\nstdout:\n%s\nstderr:\n%s"
                        % (INSPECTOR_TIMEOUT, args, out[-3000:], err[-3000:]), pytrace=False)
        try:
            document = json.loads(out) if out.strip() else None
        except ValueError:
            pytest.fail("the Inspector printed no JSON for %s (exit %s)\nstdout:\n%s\nstderr:\n%s"
                        % (args, status, out[-3000:], err[-3000:]), pytrace=False)
        return status, document, err

    try:
        status, version, err = run_bounded(command + ["--cli", "--version"], INSPECTOR_TIMEOUT, env, str(home))
    except (OSError, IndexError) as exc:
        unusable("MCPLITE_INSPECTOR", "MCPLITE_INSPECTOR=%r cannot run: %s" % (raw, exc))
    version = version.strip()
    if status != 0 or version != "2.12.0":
        unusable("MCPLITE_INSPECTOR", "MCPLITE_INSPECTOR=%s does not run Inspector 2.12.0 (exit %s, version %r):\n%s"
                 % (raw, status, version, err[-2000:]))
    return run


@pytest.fixture(scope="module")
def http_server():
    # type: () -> Any
    handle = start_server()
    try:
        yield handle
    finally:
        handle.stop()


def inspector_ok(outcome):
    # type: (Tuple[Optional[int], Any, str]) -> Dict[str, Any]
    status, document, err = outcome
    assert status == 0 and isinstance(document, dict) and "result" in document, (status, document, err[-3000:])
    return document["result"]


def test_inspector_lists_tools(inspector, http_server):
    result = inspector_ok(inspector("--cli", http_server.url, "--format", "json", "--method", "tools/list"))
    tools = {t["name"]: t for t in result["tools"]}
    assert sorted(tools) == TOOLS
    assert tools["add"]["inputSchema"]["properties"] == {"a": {"type": "integer"}, "b": {"type": "integer"}}
    assert tools["add"]["outputSchema"]["required"] == ["result"]


def test_inspector_calls_a_tool(inspector, http_server):
    result = inspector_ok(inspector("--cli", http_server.url, "--format", "json", "--method", "tools/call",
                                    "--tool-name", "add", "--tool-arg", "a=2", "b=40"))
    assert result == {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}


@pytest.mark.parametrize("era, version", [("legacy", LEGACY), ("auto", MODERN), ("modern", MODERN)])
def test_inspector_in_each_era(inspector, http_server, era, version):
    result = inspector_ok(inspector("--cli", http_server.url, "--protocol-era", era, "--format", "json",
                                    "--method", "tools/call", "--tool-name", "whoami"))
    assert result["structuredContent"]["version"] == version, result
    assert result["structuredContent"]["client"] == "inspector-cli", result
    if version == MODERN:
        assert result["_meta"][SERVER_INFO_KEY] == SERVER_INFO, result


def test_inspector_tool_error(inspector, http_server):
    status, document, err = inspector("--cli", http_server.url, "--format", "json", "--method", "tools/call",
                                      "--tool-name", "refuse")
    assert status != 0, (document, err)  # the CLI reports an isError result as a failed call...
    assert document == {"result": {"content": [{"type": "text", "text": "not allowed today"}], "isError": True}}
    assert "tool_is_error" in err  # ...having seen the result's isError, not a protocol error


def test_inspector_resources_and_prompts(inspector, http_server):
    result = inspector_ok(inspector("--cli", http_server.url, "--format", "json", "--method", "resources/read",
                                    "--uri", "test://items/7"))
    assert result == {"contents": [{"uri": "test://items/7", "mimeType": "text/plain", "text": "item 7"}]}
    result = inspector_ok(inspector("--cli", http_server.url, "--protocol-era", "modern", "--format", "json",
                                    "--method", "prompts/get", "--prompt-name", "review",
                                    "--prompt-args", "code=x = 1", "language=go"))
    assert body(result) == {"description": "Review some code.",
                            "messages": [{"role": "user", "content": {"type": "text", "text": "Review this go:\nx = 1"}}]}
    result = inspector_ok(inspector("--cli", http_server.url, "--format", "json", "--method", "resources/templates/list"))
    assert [t["uriTemplate"] for t in result["resourceTemplates"]] == ["test://items/{item_id}", "test://maybe/{name}"]


def test_inspector_old_sse_transport(inspector):
    handle = start_server()
    try:
        result = inspector_ok(inspector("--cli", sse_url(handle), "--transport", "sse", "--format", "json",
                                        "--method", "tools/call", "--tool-name", "whoami"))
        assert result["structuredContent"]["version"] == LEGACY, result
        assert result["structuredContent"]["client"] == "inspector-cli", result
        assert sessions_settle(handle) == 0, "the Inspector's SSE session outlived its event stream"
    finally:
        handle.stop()


def test_inspector_over_stdio(inspector):
    result = inspector_ok(inspector("--cli", sys.executable, str(STDIO_SERVER), "--format", "json",
                                    "--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=20", "b=22"))
    assert result == {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}
