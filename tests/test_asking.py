"""Asking the client on the wire: elicitation (form and URL), sampling, roots, ping, gather
and read_resource, in both protocol eras.

* Legacy era (``initialize`` sessions): the server sends real JSON-RPC requests to the
  client and the handler waits for the answer (timeouts, cancellation, malformed answers,
  capability and version gating).
* 2026-07-28: no server-to-client requests; ``input_required`` results with a sealed
  ``requestState``, retried with ``inputResponses`` until the handler completes.

Each is driven twice over: through the in-memory pair (``wire_factory``, which checks
every server message against the official schema of the version in use) and through a
real stdio subprocess (``tests/asking_app.py``), where the test reads the server's
requests from stdout and writes the answers to stdin, as a real client does.
"""

import base64
import json
import os
import queue
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from asking_app import ALL_CAPABILITIES, ANSWERS, SECRET, make_asking_app
from mcplite import MCPError
from mcplite.sealing import Sealer
from stdio_peer import StdioPeer
from wire import MODERN, Wire, schema_problem

HERE = os.path.dirname(os.path.abspath(__file__))
ASKING_APP = os.path.join(HERE, "asking_app.py")

SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "asking", "version": "1.0.0"}}
NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
ASK_NAME = {"method": "elicitation/create", "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}}


def accept(**content: Any) -> Dict[str, Any]:
    return {"action": "accept", "content": content}


def text_result(text: str) -> Dict[str, Any]:
    """A legacy tools/call result holding one text block."""
    return {"content": [{"type": "text", "text": text}]}


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def no_questions(method: str, params: Dict[str, Any]) -> Any:
    raise AssertionError("the server must not send %s here (params %r)" % (method, params))


# ===========================================================================
# Legacy era, in memory

def legacy(wire_factory: Any, capabilities: Optional[Dict[str, Any]] = None, version: str = "2025-11-25",
           answers: Any = ANSWERS, **app_options: Any) -> Tuple[Wire, Any]:
    """An initialized legacy session whose client answers the server's requests from
    ``answers`` (a dict by method, a function, or None to leave them unanswered)."""
    app = make_asking_app(**app_options)
    wire = wire_factory(app)
    response = wire.initialize(version, ALL_CAPABILITIES if capabilities is None else capabilities)
    assert response["result"]["protocolVersion"] == version
    if isinstance(answers, dict):
        table = answers
        wire.conn.on_request = lambda method, params: table[method]
    else:
        wire.conn.on_request = answers
    return wire, app


def split(messages: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(server requests, notifications) among messages that are not responses."""
    requests = [m for m in messages if "id" in m and "method" in m]
    notes = [m for m in messages if "id" not in m]
    assert len(requests) + len(notes) == len(messages), messages
    return requests, notes


def receive(wire: Wire, timeout: float = 5.0, method: Optional[str] = None) -> Dict[str, Any]:
    """The next message the server writes, checked against the schema (``method``: the
    request it answers, when it is a response)."""
    return wire.check(wire.conn.receive(timeout), method)


def nothing_more(wire: Wire, wait: float = 0.3) -> List[Dict[str, Any]]:
    time.sleep(wait)
    return wire.notifications()


LEGACY_QUESTIONS = [
    pytest.param("ask_name", {}, "elicitation/create",
                 {"message": "What is your name?", "requestedSchema": NAME_SCHEMA},
                 accept(name="Grace"), text_result("Hello, Grace!"), id="elicit-form"),
    pytest.param("summarize", {"text": "a long text"}, "sampling/createMessage",
                 {"messages": [{"role": "user", "content": {"type": "text", "text": "Summarize: a long text"}}],
                  "maxTokens": 50, "systemPrompt": "Be brief.", "temperature": 0.1},
                 {"role": "assistant", "content": {"type": "text", "text": "short"}, "model": "m2"},
                 text_result("short (m2)"), id="sampling"),
    pytest.param("sample_with_tools", {}, "sampling/createMessage",
                 {"messages": [{"role": "user", "content": {"type": "text", "text": "weather?"}}], "maxTokens": 20,
                  "tools": [{"name": "get_weather", "inputSchema": {"type": "object", "properties": {}}}],
                  "toolChoice": {"mode": "auto"}},
                 {"role": "assistant", "content": {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}},
                  "model": "m3", "stopReason": "toolUse"},
                 text_result("toolUse"), id="sampling-tools"),
    pytest.param("list_roots", {}, "roots/list", {},
                 {"roots": [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}]},
                 {"content": [{"type": "text", "text": '["file:///a", "file:///b"]'}],
                  "structuredContent": {"result": ["file:///a", "file:///b"]}}, id="roots"),
    pytest.param("ping_client", {}, "ping", {}, {}, text_result("pong"), id="ping"),
    pytest.param("sign_in", {}, "elicitation/create",
                 {"mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in",
                  "elicitationId": "el-1"},
                 {"action": "decline"}, text_result("sign-in decline"), id="elicit-url"),
]


@pytest.mark.parametrize("tool, arguments, method, params, answer, result", LEGACY_QUESTIONS)
def test_legacy_request_on_the_wire_and_answer_back(wire_factory, tool, arguments, method, params, answer, result):
    """Each question is one JSON-RPC request with exactly these params; the client's
    answer is what the handler gets."""
    wire, _ = legacy(wire_factory, answers=None)
    wire.conn.send({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}})
    question = receive(wire)
    rid = question["id"]
    assert isinstance(rid, (str, int)) and rid != 10
    assert question == {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
    wire.conn.send({"jsonrpc": "2.0", "id": rid, "result": answer})
    assert receive(wire, method="tools/call") == {"jsonrpc": "2.0", "id": 10, "result": result}
    assert nothing_more(wire, 0.05) == []


def test_legacy_each_question_gets_its_own_id(wire_factory):
    wire, _ = legacy(wire_factory)
    for _ in range(3):
        assert wire.request("tools/call", {"name": "ask_name"})["result"] == text_result("Hello, Ada!")
    requests, notes = split(wire.notifications())
    assert notes == [] and [r["method"] for r in requests] == ["elicitation/create"] * 3
    assert len({r["id"] for r in requests}) == 3


def test_legacy_gather_asks_in_turn(wire_factory):
    wire, _ = legacy(wire_factory, answers={
        "elicitation/create": accept(name="Lin"),
        "sampling/createMessage": {"role": "assistant", "content": {"type": "text", "text": "hello"}, "model": "m"},
        "roots/list": {"roots": [{"uri": "file:///x"}, {"uri": "file:///y"}]},
    })
    assert wire.request("tools/call", {"name": "ask_all"}, id="g")["result"] == text_result("Lin|hello|2")
    requests, notes = split(wire.notifications())
    assert notes == []
    assert [(r["method"], r["params"]) for r in requests] == [
        ("elicitation/create", {"message": "Name?", "requestedSchema": NAME_SCHEMA}),
        ("sampling/createMessage", {"messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                                    "maxTokens": 20}),
        ("roots/list", {}),
    ]


def test_legacy_two_steps(wire_factory):
    answers = iter([accept(a="x"), accept(b=2)])
    wire, app = legacy(wire_factory, answers=lambda method, params: next(answers))
    assert wire.request("tools/call", {"name": "two_steps"})["result"] == text_result("x/2")
    assert app.side_effects == ["two_steps"]
    requests, _ = split(wire.notifications())
    assert [r["params"]["message"] for r in requests] == ["First?", "Second?"]
    assert requests[1]["params"]["requestedSchema"] == {
        "type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]}


@pytest.mark.parametrize("answer, text", [
    ({"action": "decline"}, "no name (decline)"),
    ({"action": "cancel"}, "no name (cancel)"),
    ({"action": "accept", "content": {"name": "Ada", "extra": 1}}, "Hello, Ada!"),
])
def test_legacy_elicitation_actions(wire_factory, answer, text):
    wire, _ = legacy(wire_factory, answers={"elicitation/create": answer})
    assert wire.request("tools/call", {"name": "ask_name"})["result"] == text_result(text)


def test_legacy_client_error_response_surfaces(wire_factory):
    def refuse(method: str, params: Dict[str, Any]) -> Any:
        raise MCPError(-32000, "User said no")
    wire, _ = legacy(wire_factory, answers=refuse)
    # The handler sees the client's error as an MCPError with the client's code...
    assert wire.request("tools/call", {"name": "slow_question"})["result"] == text_result(
        "error -32000: The client answered elicitation/create with an error: User said no")
    # ...and one that does not catch it answers the tools/call with that error, saying whose it is.
    assert wire.request("tools/call", {"name": "ask_name"}, id=5) == {
        "jsonrpc": "2.0", "id": 5, "error": {
            "code": -32000, "message": "The client answered elicitation/create with an error: User said no"}}
    requests, notes = split(wire.notifications())
    assert len(requests) == 2 and notes == []


def test_legacy_timeout_cancels_the_question_and_ignores_a_late_answer(wire_factory):
    wire, _ = legacy(wire_factory, answers=None, timeout=0.3)
    started = time.monotonic()
    response = wire.request("tools/call", {"name": "slow_question"}, id=1)
    assert time.monotonic() - started >= 0.25
    assert response == {"jsonrpc": "2.0", "id": 1, "result": text_result(
        "error -32001: The client did not answer elicitation/create within 0.3 s")}
    question, cancelled = wire.notifications()
    assert question["method"] == "elicitation/create"
    # "the sender SHOULD issue a cancellation notification for that request"
    assert cancelled == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                         "params": {"requestId": question["id"], "reason": "timed out"}}

    # The answer arrives too late: ignored, nothing written, the session goes on.
    wire.conn.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept", "content": {"yes": True}}})
    assert nothing_more(wire, 0.1) == []
    assert wire.request("ping", id="p") == {"jsonrpc": "2.0", "id": "p", "result": {}}
    wire.conn.on_request = lambda method, params: accept(name="Late")
    assert wire.request("tools/call", {"name": "ask_name"})["result"] == text_result("Hello, Late!")

    # A handler that does not catch the timeout answers the tools/call with -32001.
    wire.conn.on_request = None
    response = wire.request("tools/call", {"name": "ask_name"}, id=9)
    assert response["error"] == {"code": -32001,
                                 "message": "The client did not answer elicitation/create within 0.3 s"}
    requests, notes = split(wire.notifications())
    assert [r["method"] for r in requests] == ["elicitation/create", "elicitation/create"]
    assert notes[-1]["params"] == {"requestId": requests[-1]["id"], "reason": "timed out"}


LEGACY_MISSING = [
    ("ask_name", {}, {"elicitation": {}}),
    ("ask_name", {"elicitation": {"url": {}}}, {"elicitation": {"form": {}}}),
    ("sign_in", {"elicitation": {"form": {}}}, {"elicitation": {"url": {}}}),
    ("sign_in", {"elicitation": {}}, {"elicitation": {"url": {}}}),
    ("summarize", {"roots": {}}, {"sampling": {}}),
    ("sample_with_tools", {"sampling": {}}, {"sampling": {"tools": {}}}),
    ("list_roots", {"sampling": {}}, {"roots": {}}),
    ("ask_all", {"sampling": {}, "roots": {}}, {"elicitation": {}}),
]


@pytest.mark.parametrize("tool, capabilities, required", LEGACY_MISSING)
def test_legacy_missing_capability(wire_factory, tool, capabilities, required):
    """The server "MUST NOT send" what the client did not declare: no request goes out and
    the tools/call fails with -32021 naming what is missing."""
    wire, _ = legacy(wire_factory, capabilities=capabilities, answers=no_questions)
    arguments = {"text": "t"} if tool == "summarize" else {}
    response = wire.request("tools/call", {"name": tool, "arguments": arguments}, id=3)
    method = "sampling/createMessage" if "sampling" in required else (
        "roots/list" if "roots" in required else "elicitation/create")
    assert response == {"jsonrpc": "2.0", "id": 3, "error": {
        "code": -32021,
        "message": "The client did not declare the capability %s needs: %s"
                   % (method, json.dumps(required, separators=(",", ":"))),
        "data": {"requiredCapabilities": required}}}
    assert nothing_more(wire, 0.05) == []


def test_legacy_careful_handler_checks_first(wire_factory):
    wire, _ = legacy(wire_factory, capabilities={}, answers=no_questions)
    assert wire.request("tools/call", {"name": "careful"})["result"] == text_result("cannot ask")
    wire2, _ = legacy(wire_factory, capabilities={"elicitation": {}})
    assert wire2.request("tools/call", {"name": "careful"})["result"] == text_result("Hello, Ada!")
    assert [m["method"] for m in wire2.notifications()] == ["elicitation/create"]


@pytest.mark.parametrize("version, tool, required", [
    ("2024-11-05", "ask_name", {"elicitation": {}}),
    ("2025-03-26", "ask_name", {"elicitation": {}}),
    ("2025-03-26", "careful", None),
    ("2025-06-18", "sign_in", {"elicitation": {"url": {}}}),
    ("2025-06-18", "sample_with_tools", {"sampling": {"tools": {}}}),
])
def test_legacy_version_gating(wire_factory, version, tool, required):
    """Declared capabilities are not enough when the negotiated version lacks the feature:
    elicitation came in 2025-06-18, URL elicitation and sampling tools in 2025-11-25."""
    wire, _ = legacy(wire_factory, version=version, answers=no_questions)
    response = wire.request("tools/call", {"name": tool}, id=4)
    if required is None:
        assert response["result"] == text_result("cannot ask")
    else:
        assert response["error"]["code"] == -32021
        assert response["error"]["data"] == {"requiredCapabilities": required}
    assert nothing_more(wire, 0.05) == []


def test_legacy_form_elicitation_in_2025_06_18(wire_factory):
    wire, _ = legacy(wire_factory, version="2025-06-18")
    assert wire.request("tools/call", {"name": "ask_name"})["result"] == text_result("Hello, Ada!")
    (question,) = wire.notifications()  # checked against the 2025-06-18 ElicitRequest
    assert question["params"] == {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}


@pytest.mark.parametrize("tool, answer, problem", [
    ("ask_name", {"action": "maybe"}, "action must be"),
    ("ask_name", {"action": "accept"}, "an accepted form needs content"),
    ("ask_name", {"action": "accept", "content": {"name": 5}}, "does not match the requested schema"),
    ("ask_name", {"action": "accept", "content": {}}, "does not match the requested schema"),
    ("ask_name", {"action": "decline", "content": "no"}, "content must be an object"),
    ("summarize", {"role": "assistant", "content": {"type": "text", "text": "x"}}, "model must be a string"),
    ("summarize", {"role": "robot", "content": {"type": "text", "text": "x"}, "model": "m"}, "role must be"),
    ("summarize", {"role": "assistant", "content": "x", "model": "m"}, "content must be a content block"),
    ("list_roots", {"roots": "file:///"}, "roots must be a list"),
    ("list_roots", {"roots": [{"name": "no uri"}]}, "roots must be a list"),
    ("list_roots", ["file:///"], "expected an object"),
])
def test_legacy_malformed_answer(wire_factory, tool, answer, problem):
    wire, _ = legacy(wire_factory, answers=lambda method, params: answer)
    arguments = {"text": "t"} if tool == "summarize" else {}
    response = wire.request("tools/call", {"name": tool, "arguments": arguments}, id=6)
    error = response["error"]
    assert error["code"] == -32602
    assert error["message"].startswith("The client's answer to ")
    assert "is malformed: " in error["message"] and problem in error["message"]
    # The handler sees the same error when it catches it.
    if tool == "ask_name":
        caught = wire.request("tools/call", {"name": "slow_question"})["result"]["content"][0]["text"]
        assert caught.startswith("error -32602: The client's answer to elicitation/create is malformed: ")


def test_legacy_cancelling_the_call_while_the_server_waits(wire_factory):
    wire, _ = legacy(wire_factory, answers=None, timeout=30)
    wire.conn.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "slow_question"}})
    question = receive(wire)
    assert question["method"] == "elicitation/create"
    wire.conn.notify("notifications/cancelled", {"requestId": 5, "reason": "changed my mind"})
    # The server withdraws its question, so the client can close it...
    assert receive(wire) == {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
        "requestId": question["id"], "reason": "the request that asked was cancelled"}}
    # ...and the handler stops waiting at once (not after the 30 s timeout); no response for id 5.
    assert wait_until(lambda: wire.conn.connection.in_progress() == [], 5)
    assert len(wire.conn.connection.outgoing) == 0
    assert wire.request("ping", id=6) == {"jsonrpc": "2.0", "id": 6, "result": {}}
    # A late answer to the forgotten question is ignored.
    wire.conn.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept", "content": {"yes": True}}})
    assert nothing_more(wire, 0.2) == []
    # The id can be used again, and the session still asks and answers.
    wire.conn.on_request = lambda method, params: accept(name="Again")
    assert wire.request("tools/call", {"name": "ask_name"}, id=5)["result"] == text_result("Hello, Again!")


def test_legacy_sign_in_then_elicitation_complete(wire_factory):
    wire, _ = legacy(wire_factory, answers={"elicitation/create": {"action": "accept"}})
    assert wire.request("tools/call", {"name": "sign_in"}, id=2) == {
        "jsonrpc": "2.0", "id": 2, "result": text_result("sign-in accept")}
    question, complete = wire.notifications()
    assert question == {"jsonrpc": "2.0", "id": question["id"], "method": "elicitation/create", "params": {
        "mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in", "elicitationId": "el-1"}}
    assert complete == {"jsonrpc": "2.0", "method": "notifications/elicitation/complete",
                        "params": {"elicitationId": "el-1"}}


def test_legacy_needs_payment_is_error_32042(wire_factory):
    wire, _ = legacy(wire_factory, answers=no_questions)
    assert wire.request("tools/call", {"name": "needs_payment"}, id=8) == {"jsonrpc": "2.0", "id": 8, "error": {
        "code": -32042, "message": "URL elicitation required: Pay first",
        "data": {"elicitations": [{"mode": "url", "message": "Pay first", "url": "https://example.com/pay",
                                   "elicitationId": "pay-1"}]}}}
    assert nothing_more(wire, 0.05) == []


def test_legacy_ping_client(wire_factory):
    # ping needs no capability at all.
    wire, _ = legacy(wire_factory, capabilities={})
    assert wire.request("tools/call", {"name": "ping_client"})["result"] == text_result("pong")
    (ping,) = wire.notifications()
    assert ping == {"jsonrpc": "2.0", "id": ping["id"], "method": "ping", "params": {}}


def test_legacy_ping_client_timeout(wire_factory):
    wire, _ = legacy(wire_factory, answers=None, timeout=0.2)
    response = wire.request("tools/call", {"name": "ping_client"}, id=1)
    assert response["error"] == {"code": -32001, "message": "The client did not answer ping within 0.2 s"}


def test_legacy_read_resource_and_prompts_ask_too(wire_factory):
    wire, _ = legacy(wire_factory, answers=no_questions)
    # ctx.read_resource reads the server's own resource: nothing goes to the client.
    assert wire.request("tools/call", {"name": "read_other"})["result"] == text_result("hello from a note")
    wire.conn.on_request = lambda method, params: accept(note="n1")
    assert wire.request("resources/read", {"uri": "note://ask"})["result"] == {
        "contents": [{"uri": "note://ask", "mimeType": "text/plain", "text": "note: n1"}]}
    wire.conn.on_request = lambda method, params: accept(context="tests")
    assert wire.request("prompts/get", {"name": "personal"})["result"] == {
        "description": "A prompt that asks for context first",
        "messages": [{"role": "user", "content": {"type": "text", "text": "Use tests"}}]}
    requests, _ = split(wire.notifications())
    assert [r["params"]["message"] for r in requests] == ["Which note?", "Context?"]


def test_no_threads_left_behind_after_timeouts_and_cancellations():
    baseline = threading.active_count()
    wire = Wire(make_asking_app(timeout=0.2))
    try:
        wire.initialize(capabilities=ALL_CAPABILITIES)
        for i in range(3):
            response = wire.request("tools/call", {"name": "slow_question"}, id="t%d" % i)
            assert response["result"]["content"][0]["text"].startswith("error -32001: ")
        for i in range(3):
            wire.conn.send({"jsonrpc": "2.0", "id": "c%d" % i, "method": "tools/call",
                            "params": {"name": "slow_question"}})
        questions = [receive(wire) for _ in range(3)]
        assert all(q["method"] == "elicitation/create" for q in questions)
        for i in range(3):
            wire.conn.notify("notifications/cancelled", {"requestId": "c%d" % i})
        # Every handler returned and no question of the server's is still pending.
        assert wait_until(lambda: wire.conn.connection.in_progress() == [], 5)
        assert len(wire.conn.connection.outgoing) == 0
        assert wire.request("ping", id="p") == {"jsonrpc": "2.0", "id": "p", "result": {}}
        assert all(m.get("id") not in ("c0", "c1", "c2") for m in nothing_more(wire, 0.1))
    finally:
        wire.close()
    assert wait_until(lambda: threading.active_count() <= baseline, 5), (
        "threads still alive: %r" % [t.name for t in threading.enumerate()])


# ===========================================================================
# 2026-07-28, in memory

def call_tool(wire: Wire, name: str, arguments: Optional[Dict[str, Any]] = None,
              capabilities: Optional[Dict[str, Any]] = None, id: Any = None, **extra: Any) -> Dict[str, Any]:
    params = {"name": name}  # type: Dict[str, Any]
    if arguments is not None:
        params["arguments"] = arguments
    params.update(extra)
    return wire.modern("tools/call", params, id=id, capabilities=ALL_CAPABILITIES if capabilities is None
                       else capabilities)


def complete_text(text: str) -> Dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "resultType": "complete", "_meta": SERVER_INFO}


def state_payload(token: str) -> Any:
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8"))


def encode_body(payload: Any) -> str:
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.fixture
def modern(wire_factory):
    return wire_factory(make_asking_app())


def test_modern_input_required_exact_shape(modern):
    response = call_tool(modern, "ask_name", id="r1")
    result = response["result"]
    assert set(result) == {"resultType", "inputRequests", "requestState", "_meta"}
    assert response == {"jsonrpc": "2.0", "id": "r1", "result": {
        "resultType": "input_required",
        "inputRequests": {"name": ASK_NAME},
        "requestState": result["requestState"],
        "_meta": SERVER_INFO}}
    assert isinstance(result["requestState"], str) and result["requestState"]
    # No cache hints on a result that is not complete, and nothing sent besides.
    assert modern.notifications(MODERN) == []
    # Each round's state is different, even for the same question.
    again = call_tool(modern, "ask_name")["result"]
    assert again["inputRequests"] == result["inputRequests"]
    assert again["requestState"] != result["requestState"]


def test_modern_retry_completes(modern):
    first = call_tool(modern, "ask_name")["result"]
    response = call_tool(modern, "ask_name", id=2, inputResponses={"name": accept(name="Ada")},
                         requestState=first["requestState"])
    assert response == {"jsonrpc": "2.0", "id": 2, "result": complete_text("Hello, Ada!")}
    declined = call_tool(modern, "ask_name", inputResponses={"name": {"action": "decline"}},
                         requestState=first["requestState"])
    assert declined["result"] == complete_text("no name (decline)")
    assert modern.notifications(MODERN) == []


def test_modern_two_steps_side_effect_once_after_the_last_answer(wire_factory):
    app = make_asking_app()
    wire = wire_factory(app)
    first = call_tool(wire, "two_steps")["result"]
    assert first["resultType"] == "input_required"
    assert first["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "message": "First?", "requestedSchema": {"type": "object", "properties": {"a": {"type": "string"}},
                                                 "required": ["a"]}}}}
    assert app.side_effects == []

    second = call_tool(wire, "two_steps", inputResponses={"elicit-1": accept(a="x")},
                       requestState=first["requestState"])["result"]
    assert second["resultType"] == "input_required"
    assert second["inputRequests"] == {"elicit-2": {"method": "elicitation/create", "params": {
        "message": "Second?", "requestedSchema": {"type": "object", "properties": {"b": {"type": "integer"}},
                                                  "required": ["b"]}}}}
    assert second["requestState"] != first["requestState"]
    assert app.side_effects == []

    # The server keeps nothing between rounds: without the state, the first answer is gone.
    forgot = call_tool(wire, "two_steps", inputResponses={"elicit-2": accept(b=2)})["result"]
    assert forgot["resultType"] == "input_required" and list(forgot["inputRequests"]) == ["elicit-1"]
    assert app.side_effects == []

    # The last round: the sealed first answer stands (a resent one cannot replace it).
    done = call_tool(wire, "two_steps", inputResponses={"elicit-2": accept(b=2), "elicit-1": accept(a="changed")},
                     requestState=second["requestState"])
    assert done["result"] == complete_text("x/2")
    assert app.side_effects == ["two_steps"]
    assert wire.notifications(MODERN) == []


def test_modern_gather_asks_everything_in_one_round(modern):
    first = call_tool(modern, "ask_all")["result"]
    assert first["resultType"] == "input_required"
    assert first["inputRequests"] == {
        "who": {"method": "elicitation/create", "params": {"message": "Name?", "requestedSchema": NAME_SCHEMA}},
        "hi": {"method": "sampling/createMessage", "params": {
            "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}], "maxTokens": 20}},
        "roots": {"method": "roots/list", "params": {}},
    }
    answers = {"who": accept(name="Ada"), "hi": ANSWERS["sampling/createMessage"], "roots": ANSWERS["roots/list"]}
    done = call_tool(modern, "ask_all", inputResponses=answers, requestState=first["requestState"])
    assert done["result"] == complete_text("Ada|hi|1")

    # Answer part of them: only the rest is asked, and the answered part is kept.
    partial = call_tool(modern, "ask_all", inputResponses={"who": accept(name="Bo")},
                        requestState=first["requestState"])["result"]
    assert partial["resultType"] == "input_required"
    assert sorted(partial["inputRequests"]) == ["hi", "roots"]
    rest = call_tool(modern, "ask_all", inputResponses={"hi": answers["hi"], "roots": answers["roots"]},
                     requestState=partial["requestState"])
    assert rest["result"] == complete_text("Bo|hi|1")


def _tampered_states(token: str) -> List[Any]:
    body, mac = token.split(".")
    payload = state_payload(token)
    forged = dict(payload, a={"name": accept(name="Eve")})
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        body + "." + flipped,                                   # signature altered
        encode_body(forged) + "." + mac,                        # answers forged, old signature
        Sealer(b"another-secret-0123456789abcdef").seal(payload),  # sealed by someone else
        body,                                                   # no signature
        token + "x",
        "",
        123,
        None,
        {"a": {}},
    ]


def test_modern_tampered_state_is_invalid_params(modern):
    token = call_tool(modern, "ask_name")["result"]["requestState"]
    for i, bad in enumerate(_tampered_states(token)):
        response = call_tool(modern, "ask_name", id="t%d" % i, requestState=bad,
                             inputResponses={"name": accept(name="Ada")})
        assert response == {"jsonrpc": "2.0", "id": "t%d" % i, "error": {
            "code": -32602, "message": "Invalid params: requestState integrity check failed"}}, bad
    # Control: the very same payload sealed with the server's secret is accepted.
    resealed = Sealer(SECRET).seal(state_payload(token))
    assert call_tool(modern, "ask_name", requestState=resealed,
                     inputResponses={"name": accept(name="Ada")})["result"] == complete_text("Hello, Ada!")


def test_modern_state_replayed_elsewhere_is_invalid_params(modern):
    another = {"code": -32602, "message": "Invalid params: requestState belongs to another request"}
    name_state = call_tool(modern, "ask_name")["result"]["requestState"]
    # Another tool asking the very same question (careful asks with key "name" too).
    assert call_tool(modern, "careful", requestState=name_state,
                     inputResponses={"name": accept(name="Ada")})["error"] == another
    # The same tool with other arguments.
    first = call_tool(modern, "summarize", {"text": "one"})["result"]
    assert list(first["inputRequests"]) == ["sample-1"]
    sampled = {"sample-1": ANSWERS["sampling/createMessage"]}
    assert call_tool(modern, "summarize", {"text": "two"}, requestState=first["requestState"],
                     inputResponses=sampled)["error"] == another
    assert call_tool(modern, "summarize", {"text": "one"}, requestState=first["requestState"],
                     inputResponses=sampled)["result"] == complete_text("hi (m1)")
    # Another method: a resource's state on a prompt, a tool's on a resource.
    note_state = modern.modern("resources/read", {"uri": "note://ask"}, capabilities=ALL_CAPABILITIES)[
        "result"]["requestState"]
    response = modern.modern("prompts/get", {"name": "personal", "requestState": note_state},
                             capabilities=ALL_CAPABILITIES)
    assert response["error"] == another
    response = modern.modern("resources/read", {"uri": "note://ask", "requestState": name_state},
                             capabilities=ALL_CAPABILITIES)
    assert response["error"] == another


def test_modern_expired_state_is_invalid_params(wire_factory):
    wire = wire_factory(make_asking_app(input_state_ttl=0))
    first = call_tool(wire, "ask_name")["result"]
    time.sleep(0.05)
    response = call_tool(wire, "ask_name", id="e", requestState=first["requestState"],
                         inputResponses={"name": accept(name="Ada")})
    assert response == {"jsonrpc": "2.0", "id": "e", "error": {
        "code": -32602, "message": "Invalid params: requestState has expired; send the request again without it"}}
    # Starting over without the state works.
    assert call_tool(wire, "ask_name", inputResponses={"name": accept(name="Ada")})["result"] == \
        complete_text("Hello, Ada!")


@pytest.mark.parametrize("responses, message, data", [
    (None, "Invalid params: inputResponses must be an object", None),
    ([], "Invalid params: inputResponses must be an object", None),
    ("name", "Invalid params: inputResponses must be an object", None),
    ({"name": None}, "Invalid params: inputResponses['name'] must be an object (the client's result for that "
                     "input request)", {"key": "name"}),
    ({"name": "Ada"}, "Invalid params: inputResponses['name'] must be an object (the client's result for that "
                      "input request)", {"key": "name"}),
    ({"other": [1]}, "Invalid params: inputResponses['other'] must be an object (the client's result for that "
                     "input request)", {"key": "other"}),
])
def test_modern_input_responses_not_objects(modern, responses, message, data):
    state = call_tool(modern, "ask_name")["result"]["requestState"]
    for extra in ({"requestState": state}, {}):
        error = call_tool(modern, "ask_name", inputResponses=responses, **extra)["error"]
        expected = {"code": -32602, "message": message}
        if data is not None:
            expected["data"] = data
        assert error == expected


@pytest.mark.parametrize("tool, arguments, key, answer, problem", [
    ("ask_name", None, "name", {"action": "maybe"}, "action must be"),
    ("ask_name", None, "name", {"action": "accept"}, "an accepted form needs content"),
    ("ask_name", None, "name", accept(name=5), "the content does not match the requested schema"),
    ("ask_name", None, "name", {"role": "assistant", "content": {"type": "text", "text": "Ada"}, "model": "m"},
     "action must be"),
    ("summarize", {"text": "t"}, "sample-1", {"role": "assistant", "content": {"type": "text", "text": "x"}},
     "model must be a string"),
    ("list_roots", None, "roots-1", {"roots": [{"name": "no uri"}]}, "roots must be a list"),
])
def test_modern_wrong_shaped_answer(modern, tool, arguments, key, answer, problem):
    first = call_tool(modern, tool, arguments)["result"]
    assert list(first["inputRequests"]) == [key]
    method = first["inputRequests"][key]["method"]
    error = call_tool(modern, tool, arguments, inputResponses={key: answer},
                      requestState=first["requestState"])["error"]
    assert error["code"] == -32602 and error["data"] == {"key": key}
    assert error["message"].startswith("Invalid params: inputResponses[%r] is not a valid %s result: " % (key, method))
    assert problem in error["message"]


def test_modern_extra_keys_ignored(modern):
    first = call_tool(modern, "ask_name")["result"]
    response = call_tool(modern, "ask_name", requestState=first["requestState"], inputResponses={
        "name": accept(name="Ada"), "unasked": {"action": "accept", "content": {"x": 1}},
        "junk": {"anything": True}})
    assert response["result"] == complete_text("Hello, Ada!")
    # Extra keys in the answer itself are ignored too.
    response = call_tool(modern, "ask_name", requestState=first["requestState"],
                         inputResponses={"name": {"action": "accept", "content": {"name": "Ada"}, "note": 1}})
    assert response["result"] == complete_text("Hello, Ada!")


def test_modern_input_responses_without_request_state(modern):
    assert call_tool(modern, "ask_name", inputResponses={"name": accept(name="Solo")})["result"] == \
        complete_text("Hello, Solo!")
    # Answers that do not cover every question: the rest is asked, with a state.
    partial = call_tool(modern, "ask_all", inputResponses={"roots": ANSWERS["roots/list"]})["result"]
    assert partial["resultType"] == "input_required" and sorted(partial["inputRequests"]) == ["hi", "who"]


@pytest.mark.parametrize("tool, capabilities, required", [
    ("ask_name", {}, {"elicitation": {}}),
    ("ask_name", {"elicitation": {"url": {}}}, {"elicitation": {"form": {}}}),
    ("sign_in", {"elicitation": {"form": {}}}, {"elicitation": {"url": {}}}),
    ("needs_payment", {"elicitation": {}}, {"elicitation": {"url": {}}}),
    ("summarize", {"elicitation": {}}, {"sampling": {}}),
    ("sample_with_tools", {"sampling": {}}, {"sampling": {"tools": {}}}),
    ("list_roots", {}, {"roots": {}}),
    ("ask_all", {"elicitation": {}, "roots": {}}, {"sampling": {}}),
])
def test_modern_missing_capability(modern, tool, capabilities, required):
    arguments = {"text": "t"} if tool == "summarize" else None
    response = call_tool(modern, tool, arguments, capabilities=capabilities, id="c")
    assert response == {"jsonrpc": "2.0", "id": "c", "error": {
        "code": -32021,
        "message": "The client did not declare the capability %s needs: %s" % (
            "sampling/createMessage" if "sampling" in required else
            "roots/list" if "roots" in required else "elicitation/create",
            json.dumps(required, separators=(",", ":"))),
        "data": {"requiredCapabilities": required}}}


def test_modern_careful_handler_checks_first(modern):
    assert call_tool(modern, "careful", capabilities={})["result"] == complete_text("cannot ask")
    result = call_tool(modern, "careful", capabilities={"elicitation": {}})["result"]
    assert result["inputRequests"] == {"name": ASK_NAME}


def test_modern_input_responses_on_tools_list_ignored(modern):
    plain = modern.modern("tools/list", capabilities=ALL_CAPABILITIES, id=1)
    for i, extra in enumerate([{"inputResponses": {"name": accept(name="Ada")}},
                               {"inputResponses": None},
                               {"inputResponses": {"x": 1}, "requestState": "not a state"}]):
        response = modern.modern("tools/list", extra, capabilities=ALL_CAPABILITIES, id=1)
        assert response == plain, extra
    assert plain["result"]["resultType"] == "complete"


def test_modern_prompt_asks(modern):
    first = modern.modern("prompts/get", {"name": "personal"}, capabilities=ALL_CAPABILITIES)["result"]
    assert first == {"resultType": "input_required", "requestState": first["requestState"], "_meta": SERVER_INFO,
                     "inputRequests": {"context": {"method": "elicitation/create", "params": {
                         "message": "Context?", "requestedSchema": {
                             "type": "object", "properties": {"context": {"type": "string"}},
                             "required": ["context"]}}}}}
    done = modern.modern("prompts/get", {"name": "personal", "requestState": first["requestState"],
                                         "inputResponses": {"context": accept(context="tests")}},
                         capabilities=ALL_CAPABILITIES)["result"]
    assert done == {"description": "A prompt that asks for context first",
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Use tests"}}],
                    "resultType": "complete", "_meta": SERVER_INFO}


def test_modern_resource_asks(modern):
    first = modern.modern("resources/read", {"uri": "note://ask"}, capabilities=ALL_CAPABILITIES)["result"]
    # An input_required result carries no cache hints.
    assert first == {"resultType": "input_required", "requestState": first["requestState"], "_meta": SERVER_INFO,
                     "inputRequests": {"note": {"method": "elicitation/create", "params": {
                         "message": "Which note?", "requestedSchema": {
                             "type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}}}}}
    done = modern.modern("resources/read", {"uri": "note://ask", "requestState": first["requestState"],
                                            "inputResponses": {"note": accept(note="n1")}},
                         capabilities=ALL_CAPABILITIES)["result"]
    assert done == {"contents": [{"uri": "note://ask", "mimeType": "text/plain", "text": "note: n1"}],
                    "resultType": "complete", "ttlMs": 0, "cacheScope": "private", "_meta": SERVER_INFO}


def test_modern_read_resource_from_a_tool(modern):
    assert call_tool(modern, "read_other", capabilities={})["result"] == complete_text("hello from a note")


def test_modern_url_elicitation_required_becomes_input_required(modern):
    first = call_tool(modern, "needs_payment")["result"]
    assert first == {"resultType": "input_required", "requestState": first["requestState"], "_meta": SERVER_INFO,
                     "inputRequests": {"url-pay-1": {"method": "elicitation/create", "params": {
                         "mode": "url", "message": "Pay first", "url": "https://example.com/pay"}}}}
    # The interaction is still not done on the retry: the handler raises again, asked again.
    again = call_tool(modern, "needs_payment", requestState=first["requestState"],
                      inputResponses={"url-pay-1": {"action": "accept"}})["result"]
    assert again["resultType"] == "input_required" and list(again["inputRequests"]) == ["url-pay-1"]


def test_modern_sign_in_url_elicitation(modern):
    first = call_tool(modern, "sign_in")["result"]
    assert first["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in"}}}
    done = call_tool(modern, "sign_in", requestState=first["requestState"],
                     inputResponses={"elicit-1": {"action": "accept"}})
    assert done["result"] == complete_text("sign-in accept")
    # No notifications/elicitation/complete in 2026-07-28 (and no request to the client).
    assert modern.notifications(MODERN) == []


def test_modern_ping_client_is_refused(modern):
    response = call_tool(modern, "ping_client", id="p")
    assert response["error"]["code"] == -32600
    assert modern.notifications(MODERN) == []


# ===========================================================================
# stdio, in a subprocess

def start_stdio() -> StdioPeer:
    return StdioPeer([sys.executable, ASKING_APP, "--timeout", "1"])


@pytest.fixture
def stdio():
    peer = start_stdio()
    try:
        yield peer
    finally:
        peer.kill()


def stdio_initialize(peer: StdioPeer, capabilities: Dict[str, Any], version: str = "2025-11-25") -> None:
    reply = peer.request("initialize", {"protocolVersion": version, "capabilities": capabilities,
                                        "clientInfo": {"name": "stdio-asking", "version": "0"}}, id="init")
    assert reply["result"]["protocolVersion"] == version
    assert schema_problem(reply, version, "initialize") is None
    peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def stdio_next(peer: StdioPeer, version: str, method: Optional[str] = None, timeout: float = 10.0) -> Dict[str, Any]:
    message = peer.receive(timeout)
    problem = schema_problem(message, version, method)
    assert problem is None, "%s: %s" % (problem, json.dumps(message))
    return message


def stdio_silent(peer: StdioPeer, wait: float = 0.3) -> bool:
    try:
        message = peer.receive(wait)
    except queue.Empty:
        return True
    raise AssertionError("unexpected message: %r" % (message,))


def test_stdio_legacy_elicitation_round_trip(stdio):
    stdio_initialize(stdio, ALL_CAPABILITIES)
    stdio.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_name"}})
    question = stdio_next(stdio, "2025-11-25")
    assert question == {"jsonrpc": "2.0", "id": question["id"], "method": "elicitation/create",
                        "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}}
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": accept(name="Grace")})
    assert stdio_next(stdio, "2025-11-25", "tools/call") == {"jsonrpc": "2.0", "id": 1,
                                                             "result": text_result("Hello, Grace!")}


def test_stdio_legacy_gather_and_client_error(stdio):
    stdio_initialize(stdio, ALL_CAPABILITIES)
    stdio.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ask_all"}})
    for method, answer in [("elicitation/create", accept(name="Ada")),
                           ("sampling/createMessage", ANSWERS["sampling/createMessage"]),
                           ("roots/list", ANSWERS["roots/list"])]:
        question = stdio_next(stdio, "2025-11-25")
        assert question["method"] == method
        stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": answer})
    assert stdio_next(stdio, "2025-11-25", "tools/call")["result"] == text_result("Ada|hi|1")

    stdio.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "slow_question"}})
    question = stdio_next(stdio, "2025-11-25")
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "error": {"code": -32000, "message": "User said no"}})
    assert stdio_next(stdio, "2025-11-25", "tools/call")["result"] == text_result(
        "error -32000: The client answered elicitation/create with an error: User said no")


def test_stdio_legacy_timeout_then_late_answer(stdio):
    stdio_initialize(stdio, ALL_CAPABILITIES)
    stdio.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "slow_question"}})
    question = stdio_next(stdio, "2025-11-25")
    assert question["method"] == "elicitation/create"
    cancelled = stdio_next(stdio, "2025-11-25", timeout=5)
    assert cancelled == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                         "params": {"requestId": question["id"], "reason": "timed out"}}
    assert stdio_next(stdio, "2025-11-25", "tools/call") == {"jsonrpc": "2.0", "id": 4, "result": text_result(
        "error -32001: The client did not answer elicitation/create within 1 s")}
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept", "content": {"yes": True}}})
    assert stdio_silent(stdio)
    assert stdio.request("ping", id=5) == {"jsonrpc": "2.0", "id": 5, "result": {}}
    stdio.send({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "ask_name"}})
    question = stdio_next(stdio, "2025-11-25")
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": accept(name="Late")})
    assert stdio_next(stdio, "2025-11-25", "tools/call")["result"] == text_result("Hello, Late!")


def test_stdio_legacy_cancel_while_waiting(stdio):
    stdio_initialize(stdio, ALL_CAPABILITIES)
    stdio.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "slow_question"}})
    question = stdio_next(stdio, "2025-11-25")
    stdio.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}})
    assert stdio.request("ping", id=8) == {"jsonrpc": "2.0", "id": 8, "result": {}}
    # Neither a response for 7 nor, once the handler stopped waiting, the timeout's
    # notifications/cancelled (the server's timeout is 1 s).
    assert stdio_silent(stdio, 1.5)
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept", "content": {"yes": True}}})
    assert stdio_silent(stdio, 0.2)
    assert stdio.request("ping", id=9) == {"jsonrpc": "2.0", "id": 9, "result": {}}
    assert all(json.loads(line).get("id") != 7 for line in stdio.raw_lines)


def test_stdio_legacy_sign_in_then_complete(stdio):
    stdio_initialize(stdio, ALL_CAPABILITIES)
    stdio.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "sign_in"}})
    question = stdio_next(stdio, "2025-11-25")
    assert question["params"] == {"mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in",
                                  "elicitationId": "el-1"}
    stdio.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept"}})
    assert stdio_next(stdio, "2025-11-25") == {"jsonrpc": "2.0", "method": "notifications/elicitation/complete",
                                               "params": {"elicitationId": "el-1"}}
    assert stdio_next(stdio, "2025-11-25", "tools/call")["result"] == text_result("sign-in accept")


def test_stdio_legacy_missing_capability_and_payment(stdio):
    stdio_initialize(stdio, {})
    reply = stdio.request("tools/call", {"name": "ask_name"}, id=1)
    assert reply["error"] == {"code": -32021, "message": "The client did not declare the capability "
                              "elicitation/create needs: {\"elicitation\":{}}",
                              "data": {"requiredCapabilities": {"elicitation": {}}}}
    reply = stdio.request("tools/call", {"name": "needs_payment"}, id=2)
    assert reply["error"]["code"] == -32042
    assert reply["error"]["data"] == {"elicitations": [{"mode": "url", "message": "Pay first",
                                                        "url": "https://example.com/pay", "elicitationId": "pay-1"}]}
    # Nothing but the two responses and the initialize result was written.
    assert len(stdio.raw_lines) == 3


def test_stdio_legacy_ping_client(stdio):
    stdio_initialize(stdio, {})
    stdio.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ping_client"}})
    ping = stdio_next(stdio, "2025-11-25")
    assert ping == {"jsonrpc": "2.0", "id": ping["id"], "method": "ping", "params": {}}
    stdio.send({"jsonrpc": "2.0", "id": ping["id"], "result": {}})
    assert stdio_next(stdio, "2025-11-25", "tools/call")["result"] == text_result("pong")


def test_stdio_modern_rounds(stdio):
    def call(rid: Any, name: str, **extra: Any) -> Dict[str, Any]:
        params = {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                            "io.modelcontextprotocol/clientCapabilities": ALL_CAPABILITIES,
                            "io.modelcontextprotocol/clientInfo": {"name": "stdio-asking", "version": "0"}},
                  "name": name}
        params.update(extra)
        reply = stdio.request("tools/call", params, id=rid)
        assert schema_problem(reply, MODERN, "tools/call") is None
        return reply

    first = call(1, "ask_name")["result"]
    assert first["resultType"] == "input_required" and first["inputRequests"] == {"name": ASK_NAME}
    assert call(2, "ask_name", requestState=first["requestState"],
                inputResponses={"name": accept(name="Ada")})["result"] == complete_text("Hello, Ada!")
    assert call(3, "ask_name", requestState=first["requestState"] + "x")["error"] == {
        "code": -32602, "message": "Invalid params: requestState integrity check failed"}

    step1 = call(4, "two_steps")["result"]
    step2 = call(5, "two_steps", requestState=step1["requestState"],
                 inputResponses={"elicit-1": accept(a="s")})["result"]
    assert list(step2["inputRequests"]) == ["elicit-2"]
    assert call(6, "two_steps", requestState=step2["requestState"],
                inputResponses={"elicit-2": accept(b=7)})["result"] == complete_text("s/7")

    gathered = call(7, "ask_all")["result"]
    assert sorted(gathered["inputRequests"]) == ["hi", "roots", "who"]
    # The modern era never sends the client a request: only responses were written.
    assert all("method" not in json.loads(line) for line in stdio.raw_lines)
