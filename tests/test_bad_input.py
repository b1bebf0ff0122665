"""Hostile and odd input: whatever a client sends, the server answers or ignores it as the
spec says, and keeps serving."""

import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Optional, Set

import pytest

from apps import Gate, make_app, make_slow_app
from mcplite import Context, Server
from mcplite.schema import compile_schema, describe_function
from stdio_peer import StdioPeer

import enum


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.fixture
def wire(wire_factory):
    w = wire_factory(make_app())
    w.initialize()
    return w


def test_deeply_nested_json_is_a_parse_error(wire):
    # The same answer on every Python: up to 3.13 the json module hits the recursion limit at
    # these depths, 3.14 parses them; mcplite's own limit answers first either way.
    too_deep = {"jsonrpc": "2.0", "id": None,
                "error": {"code": -32700, "message": "Parse error: nested deeper than 128 levels"}}
    wire.conn.send_raw(b"[" * 100000 + b"]" * 100000)
    assert wire.conn.receive() == too_deep
    wire.conn.send_raw(b'{"a":' * 50000 + b"1" + b"}" * 50000)
    assert wire.conn.receive() == too_deep
    assert wire.request("ping", id="alive")["result"] == {}


def nested_ping(depth):
    # A ping whose whole message nests ``depth`` levels: the envelope, params, _meta, then arrays.
    return ('{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"_meta":{"x":%s1%s}}}'
            % ("[" * (depth - 3), "]" * (depth - 3))).encode()


def test_the_nesting_limit_is_128_levels(wire):
    wire.conn.send_raw(nested_ping(128))
    assert wire.conn.receive() == {"jsonrpc": "2.0", "id": "deep", "result": {}}
    wire.conn.send_raw(nested_ping(129))
    assert wire.conn.receive()["error"] == {"code": -32700, "message": "Parse error: nested deeper than 128 levels"}
    # Many brackets side by side are not depth: a wide message is parsed.
    wide = '{"jsonrpc":"2.0","id":"wide","method":"ping","params":{"_meta":{"x":[%s]}}}' % ",".join(["[{}]"] * 5000)
    wire.conn.send_raw(wide.encode())
    assert wire.conn.receive() == {"jsonrpc": "2.0", "id": "wide", "result": {}}


def test_decode_bounds_depth_without_recursing():
    from mcplite.jsonrpc import MAX_JSON_DEPTH, MCPError, decode

    assert decode("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    # Deeper than the limit, with 50 frames left before the recursion limit: the check itself
    # must not recurse (3.14 parses the text on the C stack, then the walk runs here).
    def frames():
        frame, n = sys._getframe(), 0
        while frame is not None:
            frame, n = frame.f_back, n + 1
        return n

    def at_depth(n):
        if n:
            return at_depth(n - 1)
        with pytest.raises(MCPError) as caught:
            decode("[" * 129 + "]" * 129)
        return caught.value.code
    assert at_depth(sys.getrecursionlimit() - frames() - 50) == -32700
    # Brackets inside strings are not nesting.
    assert decode(json.dumps({"s": "[" * 1000})) == {"s": "[" * 1000}


def test_nan_and_infinity_are_not_json(wire):
    wire.conn.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":NaN,"b":1}}}')
    assert wire.conn.receive() == {"jsonrpc": "2.0", "id": None,
                                   "error": {"code": -32700, "message": "Parse error: NaN is not valid JSON"}}


def test_non_finite_values_never_reach_the_wire(wire_factory):
    app = Server("nan")

    @app.tool()
    def ratio(a: float, b: float, default_limit: float = float("inf")) -> float:
        return a / b if b else float("nan")

    @app.tool()
    def raw() -> list:
        return [{"type": "text", "text": "x", "_meta": {"v": float("inf")}}]
    w = wire_factory(app)
    w.initialize()
    tool = w.request("tools/list")["result"]["tools"][0]
    assert tool["inputSchema"]["properties"]["default_limit"] == {"type": "number"}, "a non-finite default is left out"
    result = w.request("tools/call", {"name": "ratio", "arguments": {"a": 1, "b": 0}})["result"]
    assert result["isError"] is True and "cannot be sent as JSON" in result["content"][0]["text"]
    error = w.request("tools/call", {"name": "raw"}, id=9)
    assert error["error"]["code"] == -32603


def test_odd_cancellation_ids_are_ignored(wire_factory):
    gate = Gate()
    w = wire_factory(make_slow_app(gate))
    w.initialize()
    w.conn.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "wait"}})
    assert gate.started.wait(5)
    for rid in ([1], {"a": 1}, True, 1.0, None):
        w.conn.notify("notifications/cancelled", {"requestId": rid})
    w.conn.notify("notifications/cancelled", {})
    w.conn.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": "junk"})
    assert w.request("ping", id="alive")["result"] == {}
    gate.release.set()
    assert w.conn.receive()["result"]["content"][0]["text"] == "done", "true/1.0 did not cancel request 1"


def test_odd_log_levels(wire):
    assert wire.request("logging/setLevel", {"level": ["debug"]})["error"]["code"] == -32602
    assert wire.request("logging/setLevel", {})["error"]["code"] == -32602


def test_odd_modern_log_level(wire_factory):
    w = wire_factory(make_app())
    assert w.modern("tools/list", log_level=["debug"])["error"]["code"] == -32602
    assert w.modern("tools/list", log_level={"x": 1})["error"]["code"] == -32602


def test_subscriptions_listen_with_a_bad_filter_is_invalid_params(wire_factory):
    w = wire_factory(make_app())
    response = w.modern("subscriptions/listen", {"notifications": {"toolsListChanged": "yes"}})
    assert response["error"]["code"] == -32602
    assert w.conn.connection.in_progress() == []


def test_system_exit_in_a_handler_still_gets_one_response(wire_factory):
    app = Server("exit")

    @app.tool()
    def quits() -> str:
        sys.exit(2)

    @app.resource("x://quits")
    def quitting() -> str:
        raise SystemExit("bye")
    w = wire_factory(app)
    w.initialize()
    result = w.request("tools/call", {"name": "quits"}, id=5)["result"]
    assert result == {"isError": True, "content": [{"type": "text", "text": "SystemExit: 2"}]}
    assert w.request("tools/call", {"name": "quits"}, id=5)["result"]["isError"], "id 5 was released"
    assert w.request("resources/read", {"uri": "x://quits"})["error"]["code"] == -32603
    assert w.conn.connection.in_progress() == []


def test_literal_of_enum_members_uses_their_values(wire_factory):
    app = Server("lit")

    @app.tool()
    def paint(color: Literal[Color.RED, Color.BLUE]) -> str:
        return str(color)
    w = wire_factory(app)
    w.initialize()
    schema = w.request("tools/list")["result"]["tools"][0]["inputSchema"]
    assert schema["properties"]["color"] == {"type": "string", "enum": ["red", "blue"]}


def test_a_schema_that_is_not_json_is_refused_at_registration():
    def tool(x: Literal[b"bytes"]) -> str:  # type: ignore[valid-type]
        return ""
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(tool)
    assert "parameter 'x'" in str(info.value)


def test_data_with_a_type_key_is_data_not_content(wire_factory):
    app = Server("rows")

    @app.tool()
    def rows() -> list:
        return [{"type": "resource", "name": "cpu", "count": 3}]

    @app.tool()
    def row() -> dict:
        return {"type": "text", "value": 1}
    w = wire_factory(app)
    w.initialize()
    assert w.request("tools/call", {"name": "rows"})["result"]["structuredContent"] == {
        "result": [{"type": "resource", "name": "cpu", "count": 3}]}
    assert w.request("tools/call", {"name": "row"})["result"]["structuredContent"] == {"type": "text", "value": 1}


def test_optional_string_prompt_arguments_stay_strings(wire_factory):
    app = Server("p")
    seen = {}

    @app.prompt()
    def titled(title: Optional[str] = None, count: int = 1) -> str:
        seen.update(title=title, count=count)
        return "ok"
    w = wire_factory(app)
    w.initialize()
    for raw in ["42", "true", "null", "[1]"]:
        w.request("prompts/get", {"name": "titled", "arguments": {"title": raw, "count": "2"}})
        assert seen == {"title": raw, "count": 2}


def test_unique_items_check_is_linear():
    check = compile_schema({"type": "array", "uniqueItems": True, "items": {"type": "integer"}})
    start = time.monotonic()
    assert check(list(range(20000))) is None
    assert check(list(range(20000)) + [5]) == "the value: items 5 and 20000 are equal"
    assert time.monotonic() - start < 1.0


def test_context_cannot_be_replaced_by_an_argument(wire_factory):
    app = Server("kw")

    @app.tool()
    def anything(ctx: Context, **rest: Any) -> str:
        return type(ctx).__name__

    w = wire_factory(app)
    w.initialize()
    result = w.request("tools/call", {"name": "anything", "arguments": {"ctx": "spoofed"}})["result"]
    assert result["content"][0]["text"] == "Context"


@dataclass
class Pt:
    x: int
    y: int = 0


def test_unknown_dataclass_field_is_named(wire_factory):
    app = Server("dc")

    @app.tool()
    def place(at: Pt) -> str:
        return "ok"
    w = wire_factory(app)
    w.initialize()
    result = w.request("tools/call", {"name": "place", "arguments": {"at": {"x": 1, "z": 2}}})["result"]
    assert result["content"][0]["text"] == "Invalid arguments for tool place: 'at.z': unexpected property"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.NotRequired needs Python 3.11")
def test_typeddict_not_required_under_future_annotations(tmp_path, monkeypatch):
    (tmp_path / "movies_module.py").write_text(
        "from __future__ import annotations\n"
        "from typing import NotRequired, TypedDict\n"
        "class Movie(TypedDict):\n"
        "    title: str\n"
        "    year: NotRequired[int]\n"
        "def add_movie(movie: Movie) -> str:\n"
        "    return movie['title']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import movies_module
    shape = describe_function(movies_module.add_movie, "tool")
    assert shape.input_schema["properties"]["movie"]["required"] == ["title"]


def test_print_before_run_does_not_reach_the_protocol_stream(tmp_path):
    script = tmp_path / "early_print.py"
    script.write_text(
        "import sys\n"
        "sys.stdout = open(sys.stdout.fileno(), 'w', buffering=8192, closefd=False)\n"
        "print('loading plugins...')\n"
        "from mcplite import Server\n"
        "app = Server('early')\n"
        "app.run()\n")
    with StdioPeer([sys.executable, str(script)]) as p:
        assert p.initialize()["result"]["serverInfo"]["name"] == "early"
        p.close_stdin()
        assert p.wait(5) == 0
        assert all(json.loads(line) for line in p.raw_lines)
        deadline = time.monotonic() + 5
        while "loading plugins" not in p.stderr and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "loading plugins..." in p.stderr


def test_writer_drops_messages_about_a_cancelled_call():
    import io
    from mcplite.stdio import LineWriter

    class FakeCall:
        cancelled = True
    out = io.BytesIO()
    writer = LineWriter(out)
    writer.send({"jsonrpc": "2.0", "method": "notifications/progress"}, FakeCall())
    assert out.getvalue() == b""
    writer.send({"jsonrpc": "2.0", "method": "x"})
    assert out.getvalue() == b'{"jsonrpc":"2.0","method":"x"}\n'


def test_tool_exit_over_stdio_keeps_serving():
    with StdioPeer([sys.executable, "-c",
                    "import sys\nfrom mcplite import Server\napp = Server('s')\n"
                    "@app.tool()\ndef bye() -> str:\n    raise SystemExit(3)\napp.run()\n"]) as p:
        p.initialize()
        assert p.request("tools/call", {"name": "bye"}, id=2)["result"]["isError"] is True
        p.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": [1]}})
        assert p.request("ping", id=3)["result"] == {}
        p.close_stdin()
        assert p.wait(5) == 0
