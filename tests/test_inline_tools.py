"""Tools declared ``inline=True``: served on the thread that read the request, and only
those that can never wait for the client (over real pipes: tests/test_stdio.py); over stdio
by a fast path whose answers are those of the general path, byte for byte."""

import json
import os
import sys
import threading
import time
from typing import Any, Dict, List, Tuple

import pytest

from mcplite import Context, Server
from mcplite.memory import MemoryConnection
from stdio_peer import StdioPeer


def _app() -> Server:
    app = Server("inline-test")

    @app.tool(inline=True)
    def where() -> str:
        return threading.current_thread().name

    @app.tool()
    def pooled() -> str:
        return threading.current_thread().name
    return app


def _call(conn: MemoryConnection, name: str) -> str:
    reply = conn.request("tools/call", {"name": name, "arguments": {}})
    return reply["result"]["content"][0]["text"]


def _session(app: Server) -> MemoryConnection:
    conn = MemoryConnection(app)
    conn.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                "clientInfo": {"name": "t", "version": "1"}})
    conn.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return conn


def test_inline_tool_runs_on_the_receiving_thread_the_others_on_workers():
    conn = _session(_app())
    try:
        assert _call(conn, "where") == threading.current_thread().name
        assert _call(conn, "pooled").startswith("mcplite-worker")
    finally:
        conn.pool.shutdown(2)


def test_middleware_sends_inline_tools_to_the_pool():
    app = _app()

    @app.middleware
    def passthrough(method, params, ctx, call_next):  # type: ignore[no-untyped-def]
        return call_next()
    conn = _session(app)
    try:
        assert _call(conn, "where").startswith("mcplite-worker")
    finally:
        conn.pool.shutdown(2)


def test_inline_refused_for_handlers_that_may_wait():
    app = Server("inline-refused")

    def with_context(ctx: Context) -> str:
        return "x"

    async def coroutine() -> str:
        return "x"

    def plain() -> str:
        return "x"
    with pytest.raises(TypeError, match="Context"):
        app.add_tool(with_context, inline=True)
    with pytest.raises(TypeError, match="async"):
        app.add_tool(coroutine, inline=True)
    with pytest.raises(TypeError, match="task"):
        app.add_tool(plain, inline=True, task="optional")
    assert app.registry.tools == {}
    assert app.add_tool(plain, inline=True).inline is True
    assert app.add_tool(plain, name="other").inline is False


def test_inline_tools_added_and_removed_while_serving():
    # The connection looks for an inline tool only while the registry counts one: the count
    # follows registrations made at run time.
    app = Server("inline-late")

    @app.tool()
    def pooled() -> str:
        return threading.current_thread().name
    assert app.registry.inline_tools == 0
    conn = _session(app)
    try:
        assert _call(conn, "pooled").startswith("mcplite-worker")
        app.add_tool(lambda: threading.current_thread().name, name="late", inline=True)
        assert app.registry.inline_tools == 1
        assert _call(conn, "late") == threading.current_thread().name
        app.remove_tool("late")
        app.add_tool(lambda: threading.current_thread().name, name="late")  # the name again, not inline
        assert app.registry.inline_tools == 0
        assert _call(conn, "late").startswith("mcplite-worker")
        app.remove_tool("pooled")
        assert app.registry.inline_tools == 0
    finally:
        conn.pool.shutdown(2)


def test_an_applications_own_inline_rule_is_asked_with_no_inline_tool():
    # A subclass's runs_inline is the application's own rule: asked about every call, not
    # only while an inline=True tool is registered (the count's shortcut is for Server's rule).
    class Quick(Server):
        def runs_inline(self, call: Any) -> bool:
            return call.request.method == "tools/call"
    app = Quick("inline-own-rule")

    @app.tool()
    def where() -> str:
        return threading.current_thread().name
    assert app.registry.inline_tools == 0
    conn = _session(app)
    try:
        assert _call(conn, "where") == threading.current_thread().name
    finally:
        conn.pool.shutdown(2)


def test_a_patch_of_the_server_class_made_before_building_is_kept(monkeypatch):
    # Server binds the dispatcher's handle_request to an instance unless its class holds
    # another function: a patch of Server itself (a spy, a mock) counts as one.
    seen = []  # type: List[str]
    original = Server.handle_request

    def spy(self: Server, call: Any) -> Any:
        seen.append(call.request.method)
        return original(self, call)
    monkeypatch.setattr(Server, "handle_request", spy)
    app = _app()
    conn = _session(app)
    try:
        assert _call(conn, "pooled").startswith("mcplite-worker")
    finally:
        conn.pool.shutdown(2)
    assert "tools/call" in seen, seen


# -- the stdio fast path of inline tools (Dispatcher.inline_tool_response) ------------------

PATHS_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers", "inline_paths_app.py")
_MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}


def _call_line(rid: Any, name: str, arguments: Any = None, meta: Any = None, **extra: Any) -> bytes:
    params = {"name": name}  # type: Dict[str, Any]
    if arguments is not None:
        params["arguments"] = arguments
    if meta is not None:
        params["_meta"] = meta
    message = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}  # type: Dict[str, Any]
    message.update(extra)
    return json.dumps(message).encode("utf-8")


# (a line, whether the fast path answers it): every result shape an inline tool can give,
# and the shapes it leaves to the general path (whose answer must then be the same too).
def _shapes(meta: Any) -> List[Tuple[bytes, bool]]:
    def call(rid: Any, name: str, arguments: Any = None, fast: bool = True, **extra: Any) -> Tuple[bytes, bool]:
        return _call_line(rid, name, arguments, meta, **extra), fast
    return [
        call(1, "add", {"a": 40, "b": 2}),
        call("s", "add", {"a": -1, "b": 10 ** 30}),
        call(2, "add", {"a": 2.0, "b": 1}),  # an integral float, passed on as an int
        call(3, "word", {"text": "h\u00e9llo \"quoted\" \\ \n"}),
        call(4, "point", {"x": 0.5}),
        call(5, "items", {"n": 3}),
        call(6, "items", {"n": 0}),
        *[call("loose-" + kind, "loose", {"kind": kind}) for kind in (
            "dict", "list", "strings", "str", "int", "none", "bytes", "float", "bool", "nan", "object")],
        call(7, "fail", {"how": "value"}),  # an exception: an isError result
        call(8, "fail", {"how": "empty"}),
        call(9, "fail", {"how": "tool"}),
        call(10, "fail", {"how": "mcp"}),  # MCPError: a JSON-RPC error
        call(11, "fail", {"how": "exit"}),
        call(12, "fail", {"how": "no"}),
        call(13, "wrong", {}),  # a result that does not match the output schema
        call(14, "nothing"),  # no arguments at all
        call(15, "nothing", {}),
        call(16, "sign_in"),  # a question the tool raises: -32042, or -32021 (no capability)
        # Left to the general path:
        call(17, "add", fast=False),  # no arguments: validated as {} (a and b are missing)
        (_call_line(18, "add", meta=meta, params=dict({"name": "add", "arguments": None},
                                                      **({} if meta is None else {"_meta": meta}))), False),
        call(20, "add", {"a": "x", "b": 1}, fast=False),  # a validation error
        call(21, "add", {"a": 1}, fast=False),
        call(22, "add", [1, 2], fast=False),
        call(23, "missing", {}, fast=False),
        call(27, "pooled", {"a": 1}, fast=False),
        call(24, 5, {}, fast=False),
        call(25, "add", {"a": 1, "b": 2}, fast=False, jsonrpc="1.0"),
        call(True, "add", {"a": 1, "b": 2}, fast=False),
        call(None, "add", {"a": 1, "b": 2}, fast=False),
        call(26, "add", {"a": 1, "b": 2}, fast=False, result={}),
        (json.dumps({"jsonrpc": "2.0", "method": "tools/call",  # a notification
                     "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}).encode(), False),
    ]


def _exchange(mode: str, opening: List[bytes], shapes: List[Tuple[bytes, bool]],
              modern: bool) -> Tuple[List[bytes], str]:
    """Every line the server wrote for ``opening`` and ``shapes``, sorted (a request the
    general path hands to a worker may be answered after the next one), and its stderr. Each
    line is followed by a ping (or tools/list), whose answer is awaited: the requests are served one by one."""
    argv = [sys.executable, PATHS_SERVER] + ([mode] if mode == "general" else [])
    with StdioPeer(argv) as peer:
        for n, line in enumerate(opening + [line for line, _ in shapes]):
            peer.write(line + b"\n")
            if modern:  # (ping is not a 2026-07-28 method)
                assert "result" in peer.request("tools/list", {"_meta": _MODERN_META}, id="ping-%d" % n)
            else:
                assert peer.request("ping", id="ping-%d" % n)["result"] == {}
        peer.close_stdin()
        assert peer.wait(10) == 0
        for thread in peer._readers:
            thread.join(5)
        return sorted(line for line in peer.raw_lines if not line.startswith(b'{"jsonrpc":"2.0","id":"ping-')), \
            peer.stderr


def _compare_paths(opening: List[bytes], shapes: List[Tuple[bytes, bool]], modern: bool = False) -> None:
    general, _ = _exchange("general", opening, shapes, modern)
    fast, stderr = _exchange("fast", opening, shapes, modern)
    assert fast == general
    # Not a path never taken: the fast path answered exactly the lines meant for it.
    assert "fast path answered %d\n" % sum(1 for _, taken in shapes if taken) in stderr


@pytest.mark.parametrize("version", ["2025-11-25", "2025-03-26", "2024-11-05"])
def test_fast_path_answers_legacy_sessions_as_the_general_path(version):
    initialize = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode()
    before = _call_line("early", "add", {"a": 1, "b": 1})  # before initialize: refused
    initialized = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
    shapes = _shapes(None) + [
        # _meta of any kind: the general path (a progress token, trace context, 2026-07-28's).
        (_call_line(30, "add", {"a": 1, "b": 2}, {"progressToken": "t"}), False),
        (_call_line(31, "add", {"a": 1, "b": 2}, {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}),
         False),
        (_call_line(32, "add", {"a": 1, "b": 2}, _MODERN_META), False),
    ]
    _compare_paths([before, initialize, initialized], shapes)


def test_fast_path_answers_stateless_requests_as_the_general_path():
    first = _call_line("first", "add", {"a": 1, "b": 1}, _MODERN_META)  # decides the era
    shapes = _shapes(_MODERN_META) + [
        (_call_line(40, "add", {"a": 1, "b": 2}, dict(_MODERN_META, **{
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "2"},
            "io.modelcontextprotocol/logLevel": "debug", "other/key": [1]})), True),
        (_call_line(41, "add", {"a": 1, "b": 2}, dict(_MODERN_META, **{
            "io.modelcontextprotocol/protocolVersion": "2025-11-25"})), False),
        (_call_line(42, "add", {"a": 1, "b": 2}, {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}), False),
        (_call_line(43, "add", {"a": 1, "b": 2}, dict(_MODERN_META, **{
            "io.modelcontextprotocol/logLevel": "loud"})), False),
        (_call_line(44, "add", {"a": 1, "b": 2}, dict(_MODERN_META, progressToken=5)), False),
        (_call_line(45, "add", {"a": 1, "b": 2}), False),  # no _meta
        (_call_line(48, "add", {"a": 1, "b": 2}, dict(_MODERN_META, traceparent="00-" + "1" * 32 + "-" + "2" * 16
                                                      + "-01")), False),
        (_call_line(46, "add", {"a": 1, "b": 2}, dict(_MODERN_META, **{
            "io.modelcontextprotocol/clientCapabilities": []})), False),
        (_call_line(47, "add", {"a": 1, "b": 2}, _MODERN_META, params={"name": "add", "_meta": _MODERN_META,
                                                                      "requestState": "x"}), False),
    ]
    _compare_paths([first], shapes, modern=True)


def test_fast_path_and_general_path_agree_on_every_meta_shape():
    # Both paths ask one predicate (dispatch._modern_meta_acceptable) whether a 2026-07-28
    # _meta is acceptable: a shape one took and the other refused would answer differently.
    # Shapes of each member the rules name, wrong in every JSON type, and right but unusual.
    version, capabilities = "io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientCapabilities"
    level, info = "io.modelcontextprotocol/logLevel", "io.modelcontextprotocol/clientInfo"
    first = _call_line("first", "add", {"a": 1, "b": 1}, _MODERN_META)  # decides the era
    metas = [(meta, False) for meta in ([], "x", 1, True, [_MODERN_META])] + [
        (dict(_MODERN_META, **{version: value}), False) for value in (None, 20260728, ["2026-07-28"], {}, "")
    ] + [
        ({capabilities: {}}, False),  # no version
        ({version: "2026-07-28", capabilities: {}, level: "info"}, True),
    ] + [
        (dict(_MODERN_META, **{capabilities: value}), False) for value in (None, "{}", 0, [{}], False)
    ] + [
        (dict(_MODERN_META, **{level: value}), False) for value in ("DEBUG", "", 3, ["debug"], {"debug": 1}, False)
    ] + [
        (dict(_MODERN_META, **{level: None}), True),  # null: no level, as if absent
        (dict(_MODERN_META, **{level: "emergency"}), True),
        (dict(_MODERN_META, **{info: "x"}), True),  # not an object: taken as no client info
        (dict(_MODERN_META, **{info: None, capabilities: {"elicitation": {}}}), True),
    ]
    shapes = [(_call_line(50 + n, "add", {"a": n, "b": 1}, meta), fast) for n, (meta, fast) in enumerate(metas)]
    # A _meta that is null (present, unlike _call_line's None).
    shapes.append((_call_line(49, "add", params={"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": None}),
                   False))
    _compare_paths([first], shapes, modern=True)


def test_a_question_an_inline_tool_raises_is_a_round_as_on_the_general_path():
    # 2026-07-28 with the client able to answer a URL elicitation: an input_required result
    # (its requestState sealed with a nonce, so compared without it).
    meta = dict(_MODERN_META, **{"io.modelcontextprotocol/clientCapabilities": {"elicitation": {"url": {}}}})
    shapes = [(_call_line(1, "sign_in", {}, meta), True)]
    answers = []
    for mode in ("general", "fast"):
        first = _call_line("first", "add", {"a": 1, "b": 1}, _MODERN_META)  # decides the era
        lines, stderr = _exchange(mode, [first], shapes, modern=True)
        answer, = [json.loads(line) for line in lines if json.loads(line)["id"] == 1]
        assert answer["result"].pop("requestState")
        answers.append(answer)
    assert "fast path answered 1\n" in stderr
    assert answers[0] == answers[1]
    assert answers[1]["result"]["resultType"] == "input_required"
    assert answers[1]["result"]["inputRequests"]["url-e1"]["params"]["url"] == "https://example.com/sign-in"


def test_an_in_memory_connection_takes_the_general_path():
    # Fed from any thread: a cancellation may come while an inline tool runs, and must keep
    # its answer back, as only the general path (with its in-flight table) does.
    app = Server("inline-memory")
    started, release = threading.Event(), threading.Event()

    @app.tool(inline=True)
    def hold() -> str:
        started.set()
        release.wait(10)
        return "held"
    conn = _session(app)
    try:
        caller = threading.Thread(target=conn.send, args=({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                                                           "params": {"name": "hold", "arguments": {}}},))
        caller.start()
        assert started.wait(10)
        conn.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}})
        release.set()
        caller.join(10)
        assert conn.request("ping")["result"] == {}
        assert not any(isinstance(m, dict) and m.get("id") == 7 for m in conn.received), conn.received
    finally:
        conn.pool.shutdown(2)


def test_trace_shows_what_the_fast_path_reads_and_writes():
    # --trace is the transport's: a line answered by the fast path is shown both ways too.
    with StdioPeer([sys.executable, "-m", "mcplite", "serve", "--trace", PATHS_SERVER]) as peer:
        peer.initialize()
        reply = peer.request("tools/call", {"name": "add", "arguments": {"a": 40, "b": 2}}, id="traced")
        assert reply["result"]["content"] == [{"type": "text", "text": "42"}]
        peer.close_stdin()
        assert peer.wait(10) == 0
        for thread in peer._readers:
            thread.join(5)
        stderr = peer.stderr
    assert "fast path answered 1\n" in stderr
    assert '-> {"jsonrpc": "2.0", "id": "traced", "method": "tools/call"' in stderr
    assert '<- {"jsonrpc":"2.0","id":"traced","result":{"content":[{"type":"text","text":"42"}]' in stderr


def test_fast_path_leaves_an_id_in_use_to_the_general_path():
    # A request id "MUST NOT" be reused while its request is in progress: the inline call
    # that reuses a pooled one's is refused, by the general path, and the pooled one answered.
    with StdioPeer([sys.executable, PATHS_SERVER]) as peer:
        peer.initialize()
        peer.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "nap", "arguments": {"seconds": 1}}})
        time.sleep(0.2)
        refused = peer.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, id=7)
        assert refused["error"]["code"] == -32600 and "already in use" in refused["error"]["message"]
        assert peer.receive()["result"]["content"] == [{"type": "text", "text": "rested"}]
        answered = peer.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, id=7)
        assert answered["result"]["structuredContent"] == {"result": 3}
        peer.close_stdin()
        assert peer.wait(10) == 0
        for thread in peer._readers:
            thread.join(5)
        assert "fast path answered 1\n" in peer.stderr
