"""The legacy era (initialize handshake), message by message, as exact wire dicts."""

import base64
import time

import pytest

from apps import PNG, Gate, make_app, make_slow_app
from mcplite import Server
from mcplite.protocol import LEGACY_VERSIONS


@pytest.fixture
def wire(wire_factory):
    w = wire_factory(make_app())
    w.initialize("2025-11-25")
    return w


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_initialize_echoes_each_supported_version(wire_factory, version):
    w = wire_factory(make_app())
    response = w.initialize(version, client_info={"name": "c", "version": "1"})
    info = {"name": "testserver", "version": "2.0.0"}
    if version >= "2025-06-18":
        info["title"] = "Test Server"
    assert response == {
        "jsonrpc": "2.0", "id": 1,
        "result": {
            "protocolVersion": version,
            "capabilities": {"logging": {}, "tools": {"listChanged": True},
                             "resources": {"subscribe": True, "listChanged": True},
                             "prompts": {"listChanged": True}},
            "serverInfo": info,
            "instructions": "For tests.",
        },
    }


@pytest.mark.parametrize("requested", ["1999-01-01", "2026-07-28", "not a version"])
def test_unsupported_version_is_answered_with_latest_legacy(wire_factory, requested):
    w = wire_factory(make_app())
    assert w.initialize(requested)["result"]["protocolVersion"] == "2025-11-25"


def test_capabilities_follow_registrations(wire_factory):
    app = Server("bare")
    w = wire_factory(app)
    assert w.initialize()["result"]["capabilities"] == {"logging": {}}
    # A method of a capability the server does not have is "Method not found".
    assert w.request("tools/list") == {
        "jsonrpc": "2.0", "id": 2,
        "error": {"code": -32601, "message": "Method not found: tools/list (this server has no tools)"}}
    assert w.request("prompts/get", {"name": "x"})["error"]["code"] == -32601
    assert w.request("resources/read", {"uri": "x://"})["error"]["code"] == -32601


def test_ping_before_and_after_initialize(wire_factory):
    w = wire_factory(make_app())
    assert w.request("ping", id="p1") == {"jsonrpc": "2.0", "id": "p1", "result": {}}
    w.initialize()
    assert w.request("ping", id=7) == {"jsonrpc": "2.0", "id": 7, "result": {}}


def test_requests_before_initialize_are_refused(wire_factory):
    w = wire_factory(make_app())
    assert w.request("tools/list", id=1) == {"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32600, "message": "Invalid request: the session is not initialized; send initialize first, or make "
                                   "it a 2026-07-28 request: {\"io.modelcontextprotocol/protocolVersion\": \"2026-07-28\", "
                                   "\"io.modelcontextprotocol/clientCapabilities\": {}} in params._meta"}}


def test_second_initialize_is_refused(wire):
    response = wire.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                           "clientInfo": {"name": "x", "version": "1"}})
    assert response["error"] == {"code": -32600, "message": "Invalid request: the session is already initialized"}


def test_ids_are_echoed_with_their_exact_type(wire):
    assert wire.request("ping", id="1")["id"] == "1"
    assert wire.request("ping", id=1)["id"] == 1
    assert isinstance(wire.request("ping", id=1)["id"], int)
    assert wire.request("ping", id=0)["id"] == 0
    assert wire.request("ping", id=2 ** 62)["id"] == 2 ** 62
    assert wire.request("ping", id="")["id"] == ""


def test_tools_list_exact(wire):
    tools = {t["name"]: t for t in wire.request("tools/list")["result"]["tools"]}
    assert tools["add"] == {
        "name": "add",
        "description": "Add two integers.",
        "inputSchema": {"type": "object",
                        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                        "required": ["a", "b"], "additionalProperties": False},
        "outputSchema": {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]},
    }
    assert tools["echo"] == {
        "name": "echo", "title": "Echo", "description": "Echo the message back.",
        "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}},
                        "required": ["message"], "additionalProperties": False},
        "annotations": {"readOnlyHint": True},
    }
    assert tools["nothing"] == {"name": "nothing", "inputSchema": {"type": "object", "additionalProperties": False}}
    assert tools["untyped"]["inputSchema"] == {
        "type": "object", "properties": {"x": {"default": 1}}, "additionalProperties": False}
    assert "nextCursor" not in wire.request("tools/list")["result"]


def test_older_versions_get_only_fields_they_know(wire_factory):
    w = wire_factory(make_app())
    w.initialize("2024-11-05")
    echo = [t for t in w.request("tools/list")["result"]["tools"] if t["name"] == "echo"][0]
    assert echo == {"name": "echo", "description": "Echo the message back.",
                    "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}},
                                    "required": ["message"], "additionalProperties": False}}
    add = w.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    assert add["result"] == {"content": [{"type": "text", "text": "5"}]}
    # Audio (2025-03-26) and resource links (2025-06-18) do not exist in 2024-11-05.
    content = w.request("tools/call", {"name": "blocks"})["result"]["content"]
    assert [b["type"] for b in content] == ["text", "image", "text", "text", "resource"]
    assert content[3] == {"type": "text", "text": "resource: test://doc"}


def test_call_tool_structured_result(wire):
    assert wire.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, id=5) == {
        "jsonrpc": "2.0", "id": 5,
        "result": {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}}}
    assert wire.request("tools/call", {"name": "stats", "arguments": {"values": [1, 2, 3]}})["result"] == {
        "content": [{"type": "text", "text": '{"sum": 6, "mean": 2.0}'}],
        "structuredContent": {"sum": 6, "mean": 2.0}}


def test_call_tool_plain_text_and_none(wire):
    assert wire.request("tools/call", {"name": "echo", "arguments": {"message": "héllo ✓"}})["result"] == {
        "content": [{"type": "text", "text": "héllo ✓"}]}
    assert wire.request("tools/call", {"name": "nothing", "arguments": {}})["result"] == {"content": []}


def test_call_tool_without_annotation_infers_structure(wire):
    assert wire.request("tools/call", {"name": "untyped", "arguments": {"x": [1, 2]}})["result"] == {
        "content": [{"type": "text", "text": '{"x": [1, 2]}'}], "structuredContent": {"x": [1, 2]}}


def test_content_blocks_pass_through(wire):
    content = wire.request("tools/call", {"name": "blocks"})["result"]["content"]
    assert content == [
        {"type": "text", "text": "hello"},
        {"type": "image", "data": base64.b64encode(PNG).decode(), "mimeType": "image/png"},
        {"type": "audio", "data": base64.b64encode(b"RIFF0000WAVEfmt ").decode(), "mimeType": "audio/wav"},
        {"type": "resource_link", "uri": "test://doc", "name": "doc"},
        {"type": "resource", "resource": {"uri": "test://e", "text": "inside"}},
    ]


def test_bytes_become_a_typed_block(wire):
    assert wire.request("tools/call", {"name": "raw_bytes"})["result"] == {
        "content": [{"type": "image", "data": base64.b64encode(PNG).decode(), "mimeType": "image/png"}]}


def test_arguments_are_validated_before_the_function_runs(wire):
    result = wire.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": "2"}})["result"]
    assert result == {"isError": True, "content": [
        {"type": "text", "text": "Invalid arguments for tool add: 'b': expected integer, got string \"2\" (a "
                                 "Server(coerce_arguments=True) accepts numeric strings and \"true\"/\"false\" "
                                 "for booleans)"}]}
    missing = wire.request("tools/call", {"name": "add", "arguments": {"a": 1}})["result"]
    assert missing["content"][0]["text"] == "Invalid arguments for tool add: 'b': required property missing"
    extra = wire.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2, "c": 3}})["result"]
    assert extra["content"][0]["text"] == "Invalid arguments for tool add: 'c': unexpected property"
    nested = wire.request("tools/call", {"name": "stats", "arguments": {"values": [1, "x"]}})["result"]
    assert nested["content"][0]["text"] == \
        "Invalid arguments for tool stats: 'values[1]': expected number, got string \"x\""
    # JSON Schema counts 2.0 as an integer, and the function receives an int.
    assert wire.request("tools/call", {"name": "add", "arguments": {"a": 2.0, "b": 1}})["result"][
        "structuredContent"] == {"result": 3}


def test_exceptions_become_error_results_without_traceback(wire, caplog):
    result = wire.request("tools/call", {"name": "fail", "arguments": {"message": "disk full"}})["result"]
    assert result == {"isError": True, "content": [{"type": "text", "text": "ValueError: disk full"}]}
    assert "Traceback" not in str(result)
    assert any(r.exc_info and "disk full" in str(r.exc_info[1]) for r in caplog.records), \
        "the traceback goes to the server's log"
    assert wire.request("tools/call", {"name": "refuse"})["result"] == {
        "isError": True, "content": [{"type": "text", "text": "not allowed today"}]}


def test_output_not_matching_schema_is_an_error_result(wire):
    result = wire.request("tools/call", {"name": "wrong_output"})["result"]
    assert result["isError"] is True
    assert "does not match its output schema" in result["content"][0]["text"]
    assert "structuredContent" not in result


def test_unknown_tool_and_malformed_calls_are_protocol_errors(wire):
    assert wire.request("tools/call", {"name": "nope"}, id=3) == {
        "jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "Unknown tool: nope"}}
    assert wire.request("tools/call", {"arguments": {}})["error"]["code"] == -32602
    assert wire.request("tools/call", {"name": "add", "arguments": [1, 2]})["error"] == {
        "code": -32602, "message": 'Invalid params: "arguments" must be an object'}


def test_context_is_injected_not_described(wire):
    tool = [t for t in wire.request("tools/list")["result"]["tools"] if t["name"] == "whoami"][0]
    assert tool["inputSchema"] == {"type": "object", "additionalProperties": False}
    result = wire.request("tools/call", {"name": "whoami"}, id="w")["result"]
    assert result["structuredContent"] == {"id": "w", "version": "2025-11-25", "client": "tests"}


def test_resources(wire):
    resources = wire.request("resources/list")["result"]["resources"]
    assert resources[0] == {"uri": "test://static", "name": "static", "description": "A static text.",
                            "mimeType": "text/plain"}
    assert [r["uri"] for r in resources] == ["test://static", "test://json", "test://blob", "test://broken"]
    assert wire.request("resources/templates/list")["result"] == {"resourceTemplates": [
        {"uriTemplate": "test://items/{item_id}", "name": "item", "mimeType": "text/plain"},
        {"uriTemplate": "test://maybe/{name}", "name": "maybe"}]}
    assert wire.request("resources/read", {"uri": "test://static"})["result"] == {
        "contents": [{"uri": "test://static", "mimeType": "text/plain", "text": "static text"}]}
    assert wire.request("resources/read", {"uri": "test://json"})["result"] == {
        "contents": [{"uri": "test://json", "mimeType": "application/json", "text": '{"a": 1}'}]}
    assert wire.request("resources/read", {"uri": "test://blob"})["result"] == {
        "contents": [{"uri": "test://blob", "mimeType": "image/png", "blob": base64.b64encode(PNG).decode()}]}
    assert wire.request("resources/read", {"uri": "test://items/42"})["result"] == {
        "contents": [{"uri": "test://items/42", "mimeType": "text/plain", "text": "item 42"}]}


def test_resource_errors(wire):
    assert wire.request("resources/read", {"uri": "test://missing"}, id=9) == {
        "jsonrpc": "2.0", "id": 9,
        "error": {"code": -32002, "message": "Resource not found: test://missing", "data": {"uri": "test://missing"}}}
    # A template variable that does not convert to the parameter's type.
    bad = wire.request("resources/read", {"uri": "test://items/abc"})["error"]
    assert bad["code"] == -32602 and "item_id" in bad["message"]
    # A handler returning None means "no such resource".
    assert wire.request("resources/read", {"uri": "test://maybe/missing"})["error"]["code"] == -32002
    assert wire.request("resources/read", {"uri": "test://maybe/here"})["result"]["contents"][0]["text"] == "found here"
    broken = wire.request("resources/read", {"uri": "test://broken"})["error"]
    assert broken == {"code": -32603, "message": "Error in resource test://broken: disk on fire"}


def test_prompts(wire):
    prompts = wire.request("prompts/list")["result"]["prompts"]
    assert prompts[0] == {"name": "review", "description": "Review some code.", "arguments": [
        {"name": "code", "required": True}, {"name": "language", "required": False}]}
    assert wire.request("prompts/get", {"name": "review", "arguments": {"code": "x = 1"}})["result"] == {
        "description": "Review some code.",
        "messages": [{"role": "user", "content": {"type": "text", "text": "Review this python:\nx = 1"}}]}
    assert wire.request("prompts/get", {"name": "chat", "arguments": {"topic": "owls"}})["result"]["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Tell me about owls"}},
        {"role": "assistant", "content": {"type": "text", "text": "Gladly."}}]
    # Arguments are strings on the wire; a parameter typed int gets the string parsed.
    assert wire.request("prompts/get", {"name": "repeat", "arguments": {"times": "3"}})["result"]["messages"][0][
        "content"]["text"] == "xxx"


def test_prompt_errors(wire):
    assert wire.request("prompts/get", {"name": "nope"}, id=1) == {
        "jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "Unknown prompt: nope"}}
    assert wire.request("prompts/get", {"name": "review", "arguments": {}})["error"] == {
        "code": -32602, "message": "Missing required argument 'code' for prompt review"}
    assert wire.request("prompts/get", {"name": "repeat", "arguments": {"times": "many"}})["error"]["code"] == -32602
    assert wire.request("prompts/get", {"name": "review", "arguments": {"code": 1}})["error"]["code"] == -32602


def test_unknown_method(wire):
    assert wire.request("tools/destroy", id=4) == {
        "jsonrpc": "2.0", "id": 4, "error": {"code": -32601, "message": "Method not found: tools/destroy"}}
    # A modern-only method does not exist in a legacy session.
    assert wire.request("server/discover")["error"]["code"] == -32601


def test_parse_error_has_null_id(wire):
    wire.conn.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert wire.check(wire.conn.receive()) == {
        "jsonrpc": "2.0", "id": None,
        "error": {"code": -32700, "message": "Parse error: Expecting value: line 1 column 39 (char 38)"}}
    wire.conn.send_raw(b'\xff\xfe{}')
    assert wire.conn.receive()["error"] == {"code": -32700, "message": "Parse error: message is not valid UTF-8"}


@pytest.mark.parametrize("message, reply_id, text", [
    ([], None, "Invalid Request: empty batch"),
    ("hello", None, "Invalid Request: a message must be a JSON object"),
    ({"id": 1, "method": "ping"}, 1, 'Invalid Request: "jsonrpc" must be "2.0"'),
    ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None, 'Invalid Request: "id" must be a string or an integer'),
    ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None, 'Invalid Request: "id" must be a string or an integer'),
    ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None, 'Invalid Request: "id" must be a string or an integer'),
    ({"jsonrpc": "2.0", "id": 2, "method": 5}, 2, 'Invalid Request: "method" must be a non-empty string'),
    ({"jsonrpc": "2.0", "id": 3, "method": "ping", "params": [1]}, 3, 'Invalid Request: "params" must be an object'),
    ({"jsonrpc": "2.0", "id": 4}, 4, 'Invalid Request: expected "method", "result" or "error"'),
])
def test_invalid_envelopes(wire, message, reply_id, text):
    wire.conn.send(message)
    assert wire.check(wire.conn.receive()) == {
        "jsonrpc": "2.0", "id": reply_id, "error": {"code": -32600, "message": text}}


def test_notifications_never_get_a_response(wire):
    wire.conn.notify("notifications/unknown", {"x": 1})
    wire.conn.notify("notifications/cancelled", {"requestId": "never-sent"})
    wire.conn.notify("notifications/initialized")
    wire.conn.send({"jsonrpc": "2.0", "id": "s99", "result": {}})  # a response nobody waits for
    assert wire.request("ping", id="after") == {"jsonrpc": "2.0", "id": "after", "result": {}}
    assert wire.notifications() == []


def test_absent_optional_fields_are_omitted_not_null(wire):
    def walk(value, path="$"):
        if isinstance(value, dict):
            for k, v in value.items():
                assert v is not None, "null at %s.%s" % (path, k)
                walk(v, path + "." + k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, "%s[%d]" % (path, i))
    for method, params in [("tools/list", None), ("resources/list", None), ("resources/templates/list", None),
                           ("prompts/list", None), ("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}}),
                           ("prompts/get", {"name": "review", "arguments": {"code": "c"}})]:
        walk(wire.request(method, params)["result"])


def test_batches_only_in_2025_03_26(wire_factory):
    w = wire_factory(make_app())
    w.initialize("2025-03-26")
    w.conn.send([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}},
        {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}},
        {"jsonrpc": "2.0", "id": 3, "method": "nope"},
        {"jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {}},
    ])
    batch = w.conn.receive()
    assert isinstance(batch, list)
    by_id = {m["id"]: m for m in batch}
    assert len(batch) == 4
    assert by_id[1] == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert by_id["b"]["result"]["content"] == [{"type": "text", "text": "3"}]
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[4]["error"] == {"code": -32600, "message": "Invalid Request: initialize MUST NOT be part of a batch"}
    # A batch of notifications only gets no response at all.
    w.conn.send([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
    assert w.request("ping", id="x")["id"] == "x"
    assert w.conn.received == []


@pytest.mark.parametrize("version", ["2024-11-05", "2025-06-18", "2025-11-25"])
def test_batches_refused_in_other_versions(wire_factory, version):
    w = wire_factory(make_app())
    w.initialize(version)
    w.conn.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    assert w.check(w.conn.receive()) == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "Invalid Request: JSON-RPC batches are accepted only in a 2025-03-26 session"}}


def test_batch_before_initialize_is_refused(wire_factory):
    w = wire_factory(make_app())
    w.conn.send([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}}])
    assert w.conn.receive()["error"]["code"] == -32600


def test_logging_set_level(wire):
    assert wire.request("logging/setLevel", {"level": "warning"})["result"] == {}
    assert wire.request("logging/setLevel", {"level": "loud"})["error"]["code"] == -32602


def test_cancellation_suppresses_response_and_sets_flag(wire_factory):
    gate = Gate()
    w = wire_factory(make_slow_app(gate))
    w.initialize()
    w.conn.send({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {"name": "wait"}})
    assert gate.started.wait(5)
    w.conn.notify("notifications/cancelled", {"requestId": "slow", "reason": "user"})
    assert gate.saw_cancel.wait(5), "the handler sees ctx.cancelled"
    assert w.request("tools/call", {"name": "quick"}, id="q")["result"]["content"][0]["text"] == "quick"
    time.sleep(0.05)
    assert [m for m in w.notifications() if m.get("id") == "slow"] == [], "no response to a cancelled request"


def test_initialize_cannot_be_cancelled(wire_factory):
    w = wire_factory(make_app())
    w.conn.notify("notifications/cancelled", {"requestId": 1})
    assert w.initialize()["result"]["protocolVersion"] == "2025-11-25"


def test_slow_tool_never_delays_ping(wire_factory):
    gate = Gate()
    w = wire_factory(make_slow_app(gate), max_workers=1)
    w.initialize()
    w.conn.send({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {"name": "wait"}})
    assert gate.started.wait(5)
    start = time.monotonic()
    # The only worker is busy; ping is still answered at once by the reading thread.
    assert w.request("ping", id="p") == {"jsonrpc": "2.0", "id": "p", "result": {}}
    assert time.monotonic() - start < 1.0
    gate.release.set()
    assert w.conn.request("ping", id="p2")["result"] == {}
    deadline = time.monotonic() + 5
    while not any(m.get("id") == "slow" for m in w.conn.received) and time.monotonic() < deadline:
        w.conn.received.extend(w.conn.pending_messages())
        time.sleep(0.01)
    slow = [m for m in w.conn.received if m.get("id") == "slow"]
    assert slow and slow[0]["result"]["content"] == [{"type": "text", "text": "done"}]


def test_duplicate_in_flight_id_is_refused(wire_factory):
    gate = Gate()
    w = wire_factory(make_slow_app(gate))
    w.initialize()
    w.conn.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "wait"}})
    assert gate.started.wait(5)
    w.conn.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "quick"}})
    reply = w.conn.receive()
    assert reply["error"]["code"] == -32600 and "already in use" in reply["error"]["message"]
    gate.release.set()
    assert w.conn.receive()["result"]["content"][0]["text"] == "done"


def test_modern_request_on_legacy_session_is_refused(wire):
    response = wire.conn.request("tools/list", {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}})
    assert response["error"]["code"] == -32600


def test_values_that_cannot_be_json_still_get_one_response(wire_factory):
    import datetime
    app = Server("odd")

    @app.tool()
    def when() -> dict:
        return {"at": complex(1, 2)}

    @app.tool()
    def sneaky() -> list:
        return [{"type": "text", "text": "x", "_meta": {"on": datetime.date(2026, 1, 1)}}]  # a bad value in a block

    w = wire_factory(app)
    w.initialize()
    result = w.request("tools/call", {"name": "when"}, id=1)["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith("Tool when returned a value that cannot be sent as JSON")
    assert w.request("tools/call", {"name": "sneaky"}, id=2) == {"jsonrpc": "2.0", "id": 2, "error": {
        "code": -32603,
        "message": "Internal error: the result is not JSON serializable (Object of type date is not JSON serializable)"}}
