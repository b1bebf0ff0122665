"""Interop: the official Python SDK client (``mcp==2.3.0``) answers mcplite's questions.

``tests/asking_app.py``'s handlers ask the client things (elicitation, sampling, roots, ping);
the SDK answers through its own ``elicitation_callback`` / ``sampling_callback`` /
``list_roots_callback``. The SDK needs Python >= 3.10, so its side is
``tests/interop/sdk_asking_client.py``, run under ``$MCPLITE_SDK_PYTHON``; the servers run
under *this* interpreter. One helper process performs every run in ``RUNS``, each against a
fresh server, and prints one JSON report; the tests below assert on it.

- stdio: ``python tests/asking_app.py --timeout S``, started by the SDK's ``stdio_client``.
- Streamable HTTP: ``make_asking_app()`` plus two tools (``chatty`` logs at every level,
  ``touch_note`` calls ``app.notify_resource_updated("note://hello")``), served in this
  process by ``run_in_thread`` (so its ``side_effects`` can be checked afterwards); plain,
  ``json_response=True`` and ``stateless=True``.

Eras: ``legacy`` (initialize, 2025-11-25: the server sends real requests to the client) and
``2026-07-28`` (no server-to-client requests: mcplite answers ``input_required`` and the
SDK 2.3.0 client's own driver, ``mcp/client/_input_required.py``, runs the callbacks and
retries with ``inputResponses`` + ``requestState``, up to 10 rounds). Profiles: ``full`` (every
callback: every capability declared, sampling.tools included), ``bare`` (none: every question
is a -32021 error), ``slow`` (a server with a 1 s ``client_request_timeout`` and a client
that answers "Are you there?" after 2 s).

Skips only when ``MCPLITE_SDK_PYTHON`` is unset and ``MCPLITE_REQUIRE_INTEROP`` is not set; a
named but unusable SDK python always fails. On a failure the message carries the run's
JSON-RPC log; the whole report is kept as ``sdk-asking.json`` in the pytest temporary dir.
"""

import json
import sys
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest

from asking_app import make_asking_app
from interop_support import (
    LEGACY, MODERN, REPO, SERVER_INFO_KEY, body, checked_run, helper_runs, inbound, is_modern, kill_leftovers,
    outbound, peer_env, reap_leftovers, run_bounded, runs, sdk_python_fixture, sessions_settle, wire_lines,
)
from mcplite import Context, Server

HELPER = REPO / "tests" / "interop" / "sdk_asking_client.py"
ASKING_APP = REPO / "tests" / "asking_app.py"

SERVER_INFO = {"name": "asking", "version": "1.0.0"}
MODERN_ERROR_STATUS = {-32021: 400, -32601: 404}
# What the SDK's HTTP transport resolves a request with when it cannot resume its stream.
SDK_GAVE_UP = {"code": -32000, "message": "SSE stream ended and reconnection attempts were exhausted"}

# Bounds: each run ~0.2-2.5 s (the SDK's imports ~2 s once); the limits only stop a hang.
RUN_TIMEOUT = 20
HELPER_TIMEOUT = 150
SERVER_TIMEOUT = 5.0  # client_request_timeout of the normal servers
SLOW_SERVER_TIMEOUT = 1.0  # ...and of the "slow" runs' (the client answers after 2 s)

# name: (transport, Client mode, profile, server options). Every run gets its own server.
RUNS = {
    "stdio-legacy": ("stdio", "legacy", "full", {}),
    "stdio-modern": ("stdio", MODERN, "full", {}),
    "stdio-bare": ("stdio", "legacy", "bare", {}),
    "stdio-modern-bare": ("stdio", MODERN, "bare", {}),
    "stdio-slow": ("stdio", "legacy", "slow", {"timeout": SLOW_SERVER_TIMEOUT}),
    "http-legacy": ("http", "legacy", "full", {}),
    "http-modern": ("http", MODERN, "full", {}),
    "http-bare": ("http", "legacy", "bare", {}),
    "http-modern-bare": ("http", MODERN, "bare", {}),
    "http-json-legacy": ("http", "legacy", "full", {"json_response": True}),
    "http-stateless-legacy": ("http", "legacy", "full", {"stateless": True}),
    "http-stateless-modern": ("http", MODERN, "full", {"stateless": True}),
    "http-slow": ("http", "legacy", "slow", {"timeout": SLOW_SERVER_TIMEOUT}),
}


def select(transport=None, mode=None, profile=None, exclude=()):
    # type: (Optional[str], Optional[str], Optional[str], Tuple[str, ...]) -> List[str]
    return [name for name, (t, m, p, _) in RUNS.items()
            if (transport is None or t == transport) and (mode is None or m == mode)
            and (profile is None or p == profile) and name not in exclude]


FULL = select(profile="full")
ANSWERING = select(profile="full", exclude=("http-stateless-legacy",))  # every question reaches the client
ANSWERING_LEGACY = [n for n in ANSWERING if RUNS[n][1] == "legacy"]
ANSWERING_MODERN = [n for n in ANSWERING if RUNS[n][1] == MODERN]
BARE = select(profile="bare")
SLOW = select(profile="slow")
SCRIPTED = FULL + BARE  # the runs that perform the whole script
HTTP_SCRIPTED = [n for n in SCRIPTED if RUNS[n][0] == "http"]
SESSION_RUNS = ["http-legacy", "http-bare", "http-json-legacy", "http-slow"]  # legacy with an Mcp-Session-Id

# The helper's inputs and its callbacks' answers (keep in step with sdk_asking_client.py).
NAME = "Ada"
SUMMARIZE_TEXT = "MCP lets models use tools."
SUMMARY = "Tools for models."
SAMPLE_MODEL = "sdk-model-1"
ROOT_URIS = ["file:///work/project", "file:///tmp/scratch"]
LONG_JOB_STEPS = 5

NAME_FORM = {"message": "What is your name?", "requestedSchema": {
    "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}
SUMMARIZE_PARAMS = {
    "messages": [{"role": "user", "content": {"type": "text", "text": "Summarize: " + SUMMARIZE_TEXT}}],
    "maxTokens": 50, "systemPrompt": "Be brief.", "temperature": 0.1,
}


# --- the servers -------------------------------------------------------------------------------


def build_http_app(timeout):
    # type: (float) -> Server
    """The asking app plus what the HTTP runs exercise on top: logging and resource updates."""
    app = make_asking_app(timeout)

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs once at each of four levels"""
        for level in ("debug", "info", "warning", "error"):
            ctx.log(level, "a %s message" % level, logger="chatty")
        return "logged"

    @app.tool()
    def touch_note() -> str:
        """Tells subscribers that note://hello changed"""
        app.notify_resource_updated("note://hello")
        return "touched"

    return app


def stdio_argv(options):
    # type: (Dict[str, Any]) -> List[str]
    timeout = options.get("timeout", SERVER_TIMEOUT)
    return [sys.executable, str(ASKING_APP), "--timeout", str(timeout)]


# --- the SDK helper: found or failed ------------------------------------------------------------


sdk_python = sdk_python_fixture()


@pytest.fixture(scope="module")
def sdk_runs(sdk_python, tmp_path_factory):
    # type: (str, Any) -> Dict[str, Dict[str, Any]]
    """Every run in RUNS, by one helper process. HTTP reports get ``_sessions_after`` (the
    server's session count once the client has gone) and ``_side_effects`` (the app's)."""
    tmp_dir = tmp_path_factory.mktemp("interop-asking")
    token = uuid.uuid4().hex
    handles = {}  # type: Dict[str, Any]
    apps = {}  # type: Dict[str, Server]
    try:
        cmd = [sdk_python, str(HELPER), "--timeout", str(RUN_TIMEOUT),
               "--stdio-env", "PYTHONIOENCODING=utf-8", "--stdio-env", "MCPLITE_INTEROP_TOKEN=" + token]
        for name, (transport, mode, profile, options) in RUNS.items():
            if transport == "stdio":
                target = json.dumps(stdio_argv(options))
            else:
                http_options = dict(options)
                timeout = http_options.pop("timeout", SERVER_TIMEOUT)
                app = apps[name] = build_http_app(timeout)
                handle = handles[name] = app.run_in_thread("http", host="127.0.0.1", port=0, **http_options)
                target = handle.url
            cmd += ["--run", name, transport, mode, profile, target]
        status, out, err = run_bounded(cmd, HELPER_TIMEOUT, peer_env(token))
        # The SDK stops its stdio servers itself; anything still marked is a leak.
        leaked = reap_leftovers(token)
        reports = helper_runs(status, out, err, HELPER_TIMEOUT, "; leftovers killed: %s" % (leaked,))
        for name in RUNS:
            report = reports.setdefault(name, {"name": name, "error": "no report for this run"})
            report["_stderr"] = err
            report["_leaked"] = leaked
            if name in handles:
                report["_sessions_after"] = sessions_settle(handles[name])
                report["_side_effects"] = list(apps[name].side_effects)  # type: ignore[attr-defined]
        (tmp_dir / "sdk-asking.json").write_text(json.dumps(reports, indent=1), encoding="utf-8")
        return reports
    finally:
        for handle in handles.values():
            handle.stop()
        kill_leftovers(token)


@pytest.fixture
def report(sdk_runs, name):
    # type: (Dict[str, Dict[str, Any]], str) -> Dict[str, Any]
    return checked_run(sdk_runs, name, logs)


def logs(report):
    # type: (Dict[str, Any]) -> str
    """The run's JSON-RPC log (and HTTP log), one line each, for failure messages."""
    lines = ["run %s (%s, mode=%s, profile=%s); '>' client to server, '<' server to client:"
             % (report.get("name"), report.get("transport"), report.get("mode"), report.get("profile"))]
    lines += wire_lines(report, 500)
    for entry in report.get("http") or []:
        lines.append("HTTP %s %s -> %s" % (entry["method"], entry["request_headers"], entry.get("status")))
    return "\n".join(lines)


def result_of(report, step):
    # type: (Dict[str, Any], str) -> Dict[str, Any]
    outcome = report["steps"][step]
    assert "result" in outcome, (step, outcome, logs(report))
    result = outcome["result"]
    if is_modern(report):  # every 2026-07-28 result the SDK returned is a complete one
        assert result["resultType"] == "complete", (step, result)
        assert result["_meta"][SERVER_INFO_KEY] == SERVER_INFO, (step, result)
    return body(result)


def text_of(report, step):
    # type: (Dict[str, Any], str) -> str
    result = result_of(report, step)
    assert [c["type"] for c in result["content"]] == ["text"], result
    return result["content"][0]["text"]


def asked(report, step):
    # type: (Dict[str, Any], str) -> List[Tuple[str, Any, Any]]
    """What the SDK's callbacks were given during ``step``: (method, id or key, params)."""
    return [(a["method"], a["request_id"], a["params"]) for a in report["asked"] if a["step"] == step]


def calls_of(report, tool):
    # type: (Dict[str, Any], str) -> List[Dict[str, Any]]
    """The tools/call requests the SDK sent for ``tool``, in order."""
    return [m for m in outbound(report) if m.get("method") == "tools/call" and m["params"]["name"] == tool]


def answer_to(report, request_id):
    # type: (Dict[str, Any], Any) -> List[Dict[str, Any]]
    """The server's answers to the client's request ``request_id``."""
    return [m for m in inbound(report) if m.get("id") == request_id and "method" not in m]


def server_requests(report):
    # type: (Dict[str, Any]) -> List[Dict[str, Any]]
    return [m for m in inbound(report) if "method" in m and "id" in m]


def rounds(report, tool):
    # type: (Dict[str, Any], str) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]
    """A 2026-07-28 tool call's rounds: (the request the SDK sent, the server's result)."""
    out = []
    for request in calls_of(report, tool):
        (answer,) = answer_to(report, request["id"])
        assert "result" in answer, (answer, logs(report))
        out.append((request, answer["result"]))
    return out


# --- the connection ------------------------------------------------------------------------------


@runs(*RUNS)
def test_negotiated_version(report):
    assert report["protocol_version"] == (MODERN if is_modern(report) else LEGACY), logs(report)


@runs(*[n for n in RUNS if RUNS[n][1] == "legacy"])
def test_client_declares_what_its_callbacks_answer(report):
    (initialize,) = [m for m in outbound(report) if m.get("method") == "initialize"]
    capabilities = initialize["params"]["capabilities"]
    if report["profile"] == "bare":
        assert capabilities == {}, capabilities
    else:
        assert capabilities == {"elicitation": {"form": {}, "url": {}}, "sampling": {"tools": {}},
                                "roots": {"listChanged": True}}, capabilities


@runs(*SCRIPTED)
def test_every_request_answered_once(report):
    assert not any("unparsed" in e for e in report["wire"]), logs(report)
    # client -> server
    requests = [m["id"] for m in outbound(report) if "id" in m and "method" in m]
    answers = [m["id"] for m in inbound(report) if "id" in m and "method" not in m]
    assert sorted(answers, key=str) == sorted(requests, key=str), logs(report)
    # server -> client (legacy): ids "s1", "s2"... each answered once by the SDK
    asks = [m["id"] for m in server_requests(report)]
    replies = [m["id"] for m in outbound(report) if "id" in m and "method" not in m]
    assert sorted(replies) == sorted(asks), logs(report)
    assert all(isinstance(i, str) and i.startswith("s") for i in asks), asks
    assert report["_leaked"] == []


@runs(*HTTP_SCRIPTED)
def test_http_statuses(report):
    posts = [e for e in report["http"] if e["method"] == "POST"]
    sent = outbound(report)
    assert len(posts) == len(sent), logs(report)  # one message per POST, in order
    for entry, message in zip(posts, sent):
        if "method" in message and "id" in message:
            (answer,) = answer_to(report, message["id"])
            code = answer["error"]["code"] if "error" in answer else None
            # 2026-07-28 maps a few errors to HTTP statuses (400 for -32021, 404 for -32601);
            # a legacy error rides a 200 like any answer.
            expected = MODERN_ERROR_STATUS.get(code, 200) if is_modern(report) else 200
        else:  # notifications and the client's answers to the server's requests
            expected = 202
        assert entry.get("status") == expected, (message, entry, logs(report))
    for entry in report["http"]:
        if entry["method"] != "POST":
            assert entry["status"] == 200, logs(report)  # the GET stream and the DELETE


@runs(*[n for n in SCRIPTED if RUNS[n][1] == MODERN])
def test_modern_server_never_sends_requests(report):
    assert server_requests(report) == [], logs(report)
    for m in outbound(report):
        assert "result" not in m and "error" not in m, m  # and the client never answers one


@runs(*[n for n in SESSION_RUNS if n in HTTP_SCRIPTED])
def test_http_sessions_end(report):
    assert report["_sessions_after"] == 0, "the DELETE did not end the session"


# --- elicitation ---------------------------------------------------------------------------------


@runs(*ANSWERING)
def test_elicitation_accept_decline_cancel(report):
    assert text_of(report, "ask_name") == "Hello, Ada!"
    assert text_of(report, "ask_name_decline") == "no name (decline)"
    assert text_of(report, "ask_name_cancel") == "no name (cancel)"
    for step in ("ask_name", "ask_name_decline", "ask_name_cancel"):
        ((method, _, params),) = asked(report, step)
        assert (method, params) == ("elicitation/create", NAME_FORM), logs(report)


@runs(*ANSWERING_LEGACY)
def test_legacy_elicitation_on_the_wire(report):
    (call,) = calls_of(report, "ask_name")[:1]
    ((_, request_id, _),) = asked(report, "ask_name")
    request = [m for m in server_requests(report) if m["id"] == request_id]
    assert request == [{"jsonrpc": "2.0", "id": request_id, "method": "elicitation/create",
                        "params": NAME_FORM}], logs(report)
    reply = [m for m in outbound(report) if m.get("id") == request_id and "method" not in m]
    assert reply == [{"jsonrpc": "2.0", "id": request_id,
                      "result": {"action": "accept", "content": {"name": NAME}}}], logs(report)
    # The question went out while the call was open, and the call was answered after it.
    wire = [e["msg"] for e in report["wire"] if "msg" in e]
    assert wire.index(call) < wire.index(request[0]) < wire.index(reply[0]) < wire.index(
        answer_to(report, call["id"])[0]), logs(report)
    # declined: no content
    ((_, declined_id, _),) = asked(report, "ask_name_decline")
    reply = [m for m in outbound(report) if m.get("id") == declined_id and "method" not in m]
    assert reply == [{"jsonrpc": "2.0", "id": declined_id, "result": {"action": "decline"}}], logs(report)


@runs(*ANSWERING_MODERN)
def test_modern_elicitation_is_an_input_required_round(report):
    assert len(calls_of(report, "ask_name")) == 3 * 2, logs(report)  # accept, decline, cancel: two rounds each
    (first, first_result), (retry, final) = rounds(report, "ask_name")[:2]
    assert "inputResponses" not in first["params"] and "requestState" not in first["params"]
    first_result = dict(first_result)  # (the report is shared: leave it as it is)
    state = first_result.pop("requestState")
    assert isinstance(state, str) and state, first_result
    assert first_result == {"resultType": "input_required", "inputRequests": {
        "name": {"method": "elicitation/create", "params": NAME_FORM}}, "_meta": {SERVER_INFO_KEY: SERVER_INFO}}
    # The SDK retries the same call, echoing the state byte for byte, with its answer.
    assert retry["params"]["name"] == "ask_name" and retry["params"]["arguments"] == {}
    assert retry["params"]["requestState"] == state
    assert retry["params"]["inputResponses"] == {"name": {"action": "accept", "content": {"name": NAME}}}
    assert retry["id"] != first["id"]
    assert final["resultType"] == "complete" and body(final) == {"content": [{"type": "text", "text": "Hello, Ada!"}]}
    # The decline travels the same way.
    _, (declined, _) = rounds(report, "ask_name")[2:4]
    assert declined["params"]["inputResponses"] == {"name": {"action": "decline"}}


# --- sampling ------------------------------------------------------------------------------------


@runs(*ANSWERING)
def test_sampling_request_reaches_the_callback(report):
    assert text_of(report, "summarize") == "%s (%s)" % (SUMMARY, SAMPLE_MODEL)
    ((method, request_id, params),) = asked(report, "summarize")
    assert method == "sampling/createMessage"
    assert params == SUMMARIZE_PARAMS, params  # messages, maxTokens 50, systemPrompt, temperature
    if is_modern(report):
        assert request_id == "sample-1"  # the default key: kind and order
        (first, result), (retry, _) = rounds(report, "summarize")
        assert result["inputRequests"] == {"sample-1": {"method": "sampling/createMessage",
                                                        "params": SUMMARIZE_PARAMS}}
        assert retry["params"]["inputResponses"] == {"sample-1": {
            "role": "assistant", "content": {"type": "text", "text": SUMMARY}, "model": SAMPLE_MODEL,
            "stopReason": "endTurn"}}
    else:
        (request,) = [m for m in server_requests(report) if m["id"] == request_id]
        assert request == {"jsonrpc": "2.0", "id": request_id, "method": "sampling/createMessage",
                           "params": SUMMARIZE_PARAMS}


@runs(*ANSWERING)
def test_sampling_with_tools(report):
    assert text_of(report, "sample_with_tools") == "endTurn"
    ((_, _, params),) = asked(report, "sample_with_tools")
    assert params == {"messages": [{"role": "user", "content": {"type": "text", "text": "weather?"}}],
                      "maxTokens": 20, "tools": [{"name": "get_weather",
                                                  "inputSchema": {"type": "object", "properties": {}}}],
                      "toolChoice": {"mode": "auto"}}, params


# --- roots, ping, gather, rounds -------------------------------------------------------------------


@runs(*ANSWERING)
def test_roots(report):
    result = result_of(report, "list_roots")
    assert result["structuredContent"] == {"result": ROOT_URIS}, result
    ((method, request_id, params),) = asked(report, "list_roots")
    assert method == "roots/list" and params is None  # the SDK's roots callback takes no params
    if is_modern(report):
        assert request_id == "roots-1"
    else:
        (request,) = [m for m in server_requests(report) if m["id"] == request_id]
        assert request == {"jsonrpc": "2.0", "id": request_id, "method": "roots/list", "params": {}}
        (reply,) = [m for m in outbound(report) if m.get("id") == request_id]
        assert reply == {"jsonrpc": "2.0", "id": request_id, "result": {"roots": [
            {"uri": ROOT_URIS[0], "name": "project"}, {"uri": ROOT_URIS[1]}]}}


@runs(*ANSWERING)
def test_ping_client(report):
    if is_modern(report):  # 2026-07-28 has no requests to the client at all
        assert report["steps"]["ping_client"] == {"error": {
            "code": -32600, "message": "ping cannot be sent to a 2026-07-28 client"}}, logs(report)
    else:  # the SDK answers ping by itself
        assert text_of(report, "ping_client") == "pong"
        (ping,) = [m for m in server_requests(report) if m["method"] == "ping"]
        assert ping == {"jsonrpc": "2.0", "id": ping["id"], "method": "ping", "params": {}}
        assert [m for m in outbound(report) if m.get("id") == ping["id"]] == [
            {"jsonrpc": "2.0", "id": ping["id"], "result": {}}], logs(report)


@runs(*ANSWERING)
def test_gather_asks_three_things(report):
    assert text_of(report, "ask_all") == "Ada|hi there|2"
    questions = asked(report, "ask_all")
    assert sorted(q[0] for q in questions) == ["elicitation/create", "roots/list", "sampling/createMessage"]
    if is_modern(report):
        # All three in ONE input_required round, under the keys the handler gave.
        (first, result), (retry, final) = rounds(report, "ask_all")
        assert sorted(result["inputRequests"]) == ["hi", "roots", "who"], result
        assert sorted(q[1] for q in questions) == ["hi", "roots", "who"]
        assert sorted(retry["params"]["inputResponses"]) == ["hi", "roots", "who"]
        assert final["resultType"] == "complete"
    else:  # one request after the other, while the call stays open
        assert [q[0] for q in questions] == ["elicitation/create", "sampling/createMessage", "roots/list"]


@runs(*ANSWERING)
def test_two_questions_in_turn(report):
    assert text_of(report, "two_steps") == "one/2"
    questions = asked(report, "two_steps")
    assert [q[2]["message"] for q in questions] == ["First?", "Second?"]
    if is_modern(report):
        assert [q[1] for q in questions] == ["elicit-1", "elicit-2"]
        trips = rounds(report, "two_steps")
        assert [sorted(r["inputRequests"]) if r["resultType"] == "input_required" else r["resultType"]
                for _, r in trips] == [["elicit-1"], ["elicit-2"], "complete"], logs(report)
        # the second retry carries only the new answer: the first rides in the sealed state
        assert trips[2][0]["params"]["inputResponses"] == {"elicit-2": {"action": "accept", "content": {"b": 2}}}
    if "_side_effects" in report:  # the side effect after both questions happened once
        assert report["_side_effects"] == ["two_steps"], report["_side_effects"]


@runs(*ANSWERING)
def test_can_ask_then_ask(report):
    assert text_of(report, "careful") == "no name (decline)"


@runs(*ANSWERING)
def test_resource_and_prompt_that_ask(report):
    assert result_of(report, "read_note_ask")["contents"] == [
        {"uri": "note://ask", "mimeType": "text/plain", "text": "note: shopping"}]
    assert result_of(report, "prompt_personal")["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Use a test"}}]
    ((_, note_key, _),) = asked(report, "read_note_ask")
    ((_, context_key, _),) = asked(report, "prompt_personal")
    if is_modern(report):
        assert (note_key, context_key) == ("note", "context")
        for method, target in (("resources/read", "note://ask"), ("prompts/get", "personal")):
            sent = [m for m in outbound(report) if m.get("method") == method]
            assert len(sent) == 2, logs(report)  # the question round, then the retry
            assert "inputResponses" in sent[1]["params"] and "requestState" in sent[1]["params"], sent[1]


# --- URL elicitation -----------------------------------------------------------------------------


@runs(*ANSWERING)
def test_url_elicitation(report):
    assert text_of(report, "sign_in") == "sign-in accept"
    ((_, _, params),) = asked(report, "sign_in")
    completions = [n for n in report["notifications"] if n.get("method") == "notifications/elicitation/complete"]
    if is_modern(report):  # no elicitationId and no completion notification in 2026-07-28
        assert params == {"mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in"}
        assert completions == []
    else:
        assert params == {"mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in",
                          "elicitationId": "el-1"}
        assert completions == [{"method": "notifications/elicitation/complete",
                                "params": {"elicitationId": "el-1"}}], logs(report)


@runs(*FULL)
def test_url_elicitation_required(report):
    payment = {"mode": "url", "message": "Pay first", "url": "https://example.com/pay"}
    if is_modern(report):
        # An input_required round asking the URL elicitation, key "url-<id>". This tool asks
        # again on every retry (the payment never completes), so the SDK's driver gives up
        # after its 10 rounds.
        outcome = report["steps"]["needs_payment"]
        assert outcome["exception"].startswith("InputRequiredRoundsExceededError"), outcome
        assert asked(report, "needs_payment") == [("elicitation/create", "url-pay-1", payment)] * 10
        assert len(calls_of(report, "needs_payment")) == 11
    else:  # -32042, in every legacy run (it asks nothing, so stateless servers raise it too)
        assert report["steps"]["needs_payment"] == {"error": {
            "code": -32042, "message": "URL elicitation required: Pay first",
            "data": {"elicitations": [dict(payment, elicitationId="pay-1")]}}}, logs(report)


# --- progress, reading, logging, subscriptions ------------------------------------------------------


@runs(*SCRIPTED)
def test_progress_is_strictly_increasing(report):
    assert text_of(report, "long_job") == "finished"
    expected = [{"progress": float(i), "total": float(LONG_JOB_STEPS), "message": "step %d" % i}
                for i in range(1, LONG_JOB_STEPS + 1)]
    if report["name"] == "http-json-legacy":
        expected = []  # json_response=True: notifications before a result are dropped (documented)
    assert report["progress"] == expected, logs(report)
    values = [p["progress"] for p in report["progress"]]
    assert all(a < b for a, b in zip(values, values[1:])), values
    (call,) = calls_of(report, "long_job")
    token = call["params"]["_meta"]["progressToken"]
    got = [m["params"]["progressToken"] for m in inbound(report) if m.get("method") == "notifications/progress"]
    assert got == [token] * len(expected), logs(report)


@runs(*SCRIPTED)
def test_read_other(report):
    assert text_of(report, "read_other") == "hello from a note"


@runs(*HTTP_SCRIPTED)
def test_logging(report):
    levels = [entry["level"] for entry in report["logs_before_set_level"]]
    for entry in report["logs"]:
        assert entry == {"level": entry["level"], "data": "a %s message" % entry["level"], "logger": "chatty"}
    if report["name"] == "http-json-legacy":
        assert report["logs"] == []  # dropped with the rest (json_response=True)
    elif is_modern(report):
        # 2026-07-28: only with the per-request opt-in (the SDK's log_level="info")
        assert levels == ["info", "warning", "error"], logs(report)
        assert "set_level" not in report["steps"]
    else:
        assert levels == ["debug", "info", "warning", "error"], logs(report)  # no setLevel yet: everything
        if report["name"] == "http-stateless-legacy":  # a level could not last: refused, see below
            return
        assert result_of(report, "set_level") == {}
        after = [entry["level"] for entry in report["logs"][len(levels):]]
        assert after == ["warning", "error"], logs(report)


@runs(*[n for n in SCRIPTED if RUNS[n][1] == "legacy" and n != "http-stateless-legacy"])
def test_subscribe_and_unsubscribe(report):
    assert result_of(report, "subscribe") == {}
    assert report["steps"]["subscribe_unknown"] == {"error": {
        "code": -32002, "message": "Resource not found: note://nope", "data": {"uri": "note://nope"}}}
    assert result_of(report, "unsubscribe") == {}
    sent = [m for m in outbound(report) if m.get("method", "").startswith("resources/")
            and "subscribe" in m["method"]]
    assert [(m["method"], m["params"]) for m in sent] == [
        ("resources/subscribe", {"uri": "note://hello"}), ("resources/subscribe", {"uri": "note://nope"}),
        ("resources/unsubscribe", {"uri": "note://hello"})], logs(report)
    if report["transport"] == "http" and report["name"] != "http-stateless-legacy":
        # notify_resource_updated reached the subscribed session (on its GET stream)...
        assert report["updates_while_subscribed"] == [{"uri": "note://hello"}], logs(report)
        # ...and not once it had unsubscribed
        assert report["updates_after_unsubscribe"] == [], logs(report)


@runs(*[n for n in SCRIPTED if RUNS[n][1] == MODERN])
def test_no_subscribe_in_2026(report):
    for step, method in (("subscribe", "resources/subscribe"), ("subscribe_unknown", "resources/subscribe"),
                         ("unsubscribe", "resources/unsubscribe")):
        error = report["steps"][step]["error"]
        assert error["code"] == -32601 and error["message"].startswith("Method not found: " + method), error
    assert report.get("updates_while_subscribed", []) == []


# --- capabilities the client did not declare ------------------------------------------------------------


def capability_error(required, method):
    # type: (Dict[str, Any], str) -> Dict[str, Any]
    return {"error": {"code": -32021, "message": "The client did not declare the capability %s needs: %s"
                      % (method, json.dumps(required, separators=(",", ":"))),
                      "data": {"requiredCapabilities": required}}}


@runs(*BARE)
def test_missing_capability_is_an_error(report):
    elicitation = capability_error({"elicitation": {}}, "elicitation/create")
    steps = report["steps"]
    assert steps["summarize"] == capability_error({"sampling": {}}, "sampling/createMessage"), logs(report)
    assert steps["sample_with_tools"] == capability_error({"sampling": {}}, "sampling/createMessage")
    assert steps["list_roots"] == capability_error({"roots": {}}, "roots/list")
    assert steps["sign_in"] == capability_error({"elicitation": {"url": {}}}, "elicitation/create")
    for step in ("ask_name", "ask_name_decline", "ask_all", "two_steps", "read_note_ask", "prompt_personal"):
        assert steps[step] == elicitation, (step, steps[step])
    assert text_of(report, "careful") == "cannot ask"  # ctx.can_ask saw the missing capability
    # Nothing was asked: no request (legacy: but ping, which needs no capability), no
    # input_required round (2026-07-28).
    assert report["asked"] == [], logs(report)
    assert [m["method"] for m in server_requests(report)] == ([] if is_modern(report) else ["ping"]), logs(report)
    assert not any(m.get("result", {}).get("resultType") == "input_required" for m in inbound(report))
    if is_modern(report):  # and nothing is retried
        assert len(calls_of(report, "summarize")) == 1


@runs("http-stateless-legacy")
def test_stateless_legacy_server_cannot_ask(report):
    for step, method in (("ask_name", "elicitation/create"), ("summarize", "sampling/createMessage"),
                         ("list_roots", "roots/list"), ("ask_all", "elicitation/create"),
                         ("sign_in", "elicitation/create"), ("ping_client", "ping"),
                         ("read_note_ask", "elicitation/create"), ("prompt_personal", "elicitation/create")):
        assert report["steps"][step] == {"error": {
            "code": -32600, "message": "%s cannot be sent here: this transport has no way back to the client "
                                       "(stateless HTTP?)" % method}}, (step, report["steps"][step])
    # each POST is a session of its own, without the initialize capabilities
    assert text_of(report, "careful") == "cannot ask"
    assert report["asked"] == [] and server_requests(report) == [], logs(report)
    assert report["_side_effects"] == []


@runs("http-stateless-modern")
def test_stateless_server_asks_in_2026(report):
    # The 2026-07-28 rounds need no session: the state travels sealed in requestState.
    assert text_of(report, "ask_name") == "Hello, Ada!"
    assert text_of(report, "ask_all") == "Ada|hi there|2"
    assert report["http"] and all(e["method"] == "POST" for e in report["http"]), logs(report)


@runs("http-stateless-legacy")
def test_stateless_server_promises_no_subscriptions(report):
    # A stateless server has no session to deliver updates to: it declares no subscribe (nor
    # listChanged) and refuses resources/subscribe as an undeclared capability.
    assert report["server_capabilities"]["resources"] == {}, report["server_capabilities"]
    assert report["server_capabilities"]["tools"] == {}, report["server_capabilities"]
    for step in ("subscribe", "subscribe_unknown", "unsubscribe"):
        if step == "unsubscribe":
            continue  # nothing to undo: answered {}
        error = report["steps"][step]["error"]
        assert error["code"] == -32601 and error["message"].startswith("Method not found: resources/subscribe"), error
    assert report["updates_while_subscribed"] == []


@runs("http-stateless-legacy")
def test_stateless_set_level_is_refused(report):
    # A level could not outlive its own POST: refused rather than silently forgotten.
    error = report["steps"]["set_level"]["error"]
    assert error["code"] == -32600 and "stateless" in error["message"], error


# --- timeouts and cancellation (legacy) -------------------------------------------------------------------


@runs(*SLOW)
def test_unanswered_question_times_out(report):
    # The server waited 1 s, cancelled its request, and the handler got -32001.
    assert text_of(report, "slow_question") == \
        "error -32001: The client did not answer elicitation/create within 1 s"
    call = calls_of(report, "slow_question")[0]
    ((_, first_id, _),) = asked(report, "slow_question")
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": first_id,
                                                                                 "reason": "timed out"}}
    wire = [e["msg"] for e in report["wire"] if "msg" in e]
    assert cancel in wire, logs(report)
    assert wire.index(cancel) < wire.index(answer_to(report, call["id"])[0]), logs(report)
    # The SDK applied the cancellation: its callback stopped, and it never answered s1.
    assert first_id in report["callbacks_cancelled"], report
    assert [m for m in outbound(report) if m.get("id") == first_id] == [], logs(report)


@runs(*SLOW)
def test_client_cancels_while_the_server_waits(report):
    # The SDK gave up on its tools/call while the server waited for the answer to s2.
    assert report["steps"]["abandoned_call"] == {"result": {"abandoned": True}}, logs(report)
    second = calls_of(report, "slow_question")[1]
    cancel = [m for m in outbound(report) if m.get("method") == "notifications/cancelled"]
    assert [m["params"]["requestId"] for m in cancel] == [second["id"]], logs(report)
    # No response for a cancelled call. (Over HTTP the SDK, seeing the call's SSE stream end
    # without one, tries to resume it, gives up, and resolves the request itself: that error
    # is the SDK's, it never crossed the wire.)
    for answer in answer_to(report, second["id"]):
        assert answer.get("error") == SDK_GAVE_UP, logs(report)
    # The server withdrew its question (notifications/cancelled), so the SDK stopped its
    # callback and never answered it; the connection goes on.
    ((_, second_ask, _),) = asked(report, "abandoned_call")
    withdrawn = {"jsonrpc": "2.0", "method": "notifications/cancelled",
                 "params": {"requestId": second_ask, "reason": "the request that asked was cancelled"}}
    assert withdrawn in inbound(report), logs(report)
    assert second_ask in report["callbacks_cancelled"], report["callbacks_cancelled"]
    assert [e for e in report["wire"] if e["dir"] == ">" and e["msg"].get("id") == second_ask] == [], logs(report)
    assert text_of(report, "ask_name_after") == "Hello, Ada!"
    errors = [m for m in inbound(report) if "error" in m and m.get("error") != SDK_GAVE_UP]
    assert errors == [], logs(report)
    if report["transport"] == "http":
        assert report["_sessions_after"] == 0
        # If the SDK tries to resume the cancelled call's stream (GET + Last-Event-ID), it is
        # never told its live session is gone (404).
        resumed = [e for e in report["http"] if e["method"] == "GET" and "last-event-id" in e["request_headers"]]
        assert [e.get("status") for e in resumed if e.get("status") == 404] == [], logs(report)


@runs("http-slow")
def test_resuming_a_cancelled_calls_stream_is_not_404(report):
    live = [e for e in report["http"] if e["request_headers"].get("mcp-session-id") and e["method"] != "DELETE"]
    # (An entry has no status when the SDK gave up on its request before any answer came, a
    # cancelled call's POST or resumption: the client's doing, timing-dependent, and no 404.)
    assert [(e["method"], e.get("status")) for e in live if e.get("status") == 404] == [], logs(report)
