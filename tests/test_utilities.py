"""Server utilities on the wire, in both eras, in memory and over a real stdio process:
completion, pagination, list changes at run time, resource subscriptions, logging,
progress, cancellation, and the capabilities that announce them.

Every message the server sends is checked against the official schema of the version in
use (``wire.schema_problem``); results are compared as exact wire dicts.
"""

import base64
import json
import os
import queue
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

from mcplite import MCPError, Server
from stdio_peer import StdioPeer
from utilities_app import LEVELS, SECRET, make_paged_app, make_utilities_app
from wire import MODERN, schema_problem

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "utilities_app.py")
LEGACY = "2025-11-25"
ERAS = [LEGACY, MODERN]
TRANSPORTS = ["memory", "stdio"]
SUB = "io.modelcontextprotocol/subscriptionId"
CACHEABLE = ("server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list",
             "resources/read")
TIMEOUT = 10.0


# ---------------------------------------------------------------------------
# One client interface over both transports and both eras

class Client:
    """The client end of one connection, speaking one era. Every message received is
    checked against the schema; messages that are not the awaited response are kept in
    ``pending`` until ``notifications()`` takes them."""

    def __init__(self, era: str, server_name: str) -> None:
        self.era = era
        self.modern = era == MODERN
        self.server_name = server_name
        self.pending = []  # type: List[Any]
        self.all = []  # type: List[Any]
        self._next = 1000  # ids chosen by tests stay below

    # transport specifics
    def _send(self, message: Any) -> None:
        raise NotImplementedError

    def _receive(self, timeout: float) -> Any:
        """The next message, or raise queue.Empty."""
        raise NotImplementedError

    def check(self, message: Any, method: Optional[str] = None) -> Any:
        problem = schema_problem(message, self.era, method)
        assert problem is None, "server message breaks the %s schema: %s\n%s" % (
            self.era, problem, json.dumps(message))
        return message

    def receive(self, timeout: float = TIMEOUT) -> Any:
        message = self._receive(timeout)
        self.all.append(message)
        return message

    def send(self, message: Any) -> None:
        self._send(message)

    def new_id(self) -> int:
        self._next += 1
        return self._next

    def params_for(self, params: Optional[Dict[str, Any]], meta: Optional[Dict[str, Any]],
                   log_level: Optional[str]) -> Optional[Dict[str, Any]]:
        if not self.modern and not meta:
            return params
        out = dict(params or {})
        envelope = {}  # type: Dict[str, Any]
        if self.modern:
            envelope = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "utility-tests", "version": "0"},
            }
            if log_level is not None:
                envelope["io.modelcontextprotocol/logLevel"] = log_level
        envelope.update(meta or {})
        out["_meta"] = envelope
        return out

    def start(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = None,
              meta: Optional[Dict[str, Any]] = None, log_level: Optional[str] = None) -> Any:
        """Send a request without waiting; its id."""
        rid = self.new_id() if id is None else id
        message = {"jsonrpc": "2.0", "id": rid, "method": method}  # type: Dict[str, Any]
        full = self.params_for(params, meta, log_level)
        if full is not None:
            message["params"] = full
        self.send(message)
        return rid

    def wait_response(self, rid: Any, method: Optional[str] = None, timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if (isinstance(message, dict) and "method" not in message and message.get("id") == rid
                    and type(message.get("id")) is type(rid)):
                return self.check(message, method)
            self.pending.append(self.check(message))

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = None,
                meta: Optional[Dict[str, Any]] = None, log_level: Optional[str] = None) -> Any:
        rid = self.start(method, params, id, meta, log_level)
        return self.wait_response(rid, method)

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        self.send(message)

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        """The first message (pending or new) that satisfies ``predicate``; the others stay pending."""
        for i, message in enumerate(self.pending):
            if predicate(message):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            message = self.check(self.receive(max(0.01, deadline - time.monotonic())))
            if predicate(message):
                return message
            self.pending.append(message)

    def notifications(self, quiet: float = 0.0) -> List[Any]:
        """What arrived besides awaited responses, oldest first (and clears it); with
        ``quiet`` also what arrives until ``quiet`` seconds pass without a message."""
        if quiet:
            while True:
                try:
                    self.pending.append(self.check(self.receive(quiet)))
                except queue.Empty:
                    break
        out, self.pending = self.pending, []
        return out

    def result(self, result: Dict[str, Any], method: str) -> Dict[str, Any]:
        """``result`` as this era sends it (2026-07-28 adds resultType, serverInfo, cache hints)."""
        if not self.modern:
            return result
        out = dict(result)
        out["resultType"] = "complete"
        out["_meta"] = {"io.modelcontextprotocol/serverInfo": {"name": self.server_name, "version": "1.0.0"}}
        if method in CACHEABLE:
            out["ttlMs"] = 0
            out["cacheScope"] = "private"
        return out

    def ok(self, rid: Any, result: Dict[str, Any], method: str) -> Dict[str, Any]:
        return {"jsonrpc": "2.0", "id": rid, "result": self.result(result, method)}

    def call(self, name: str, arguments: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        params = {"name": name}  # type: Dict[str, Any]
        if arguments is not None:
            params["arguments"] = arguments
        return self.request("tools/call", params, **kwargs)

    def initialize(self, version: str) -> Any:
        response = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                               "clientInfo": {"name": "utility-tests", "version": "0"}}, id="init")
        self.notify("notifications/initialized")
        return response


class MemoryClient(Client):
    def __init__(self, wire: Any, era: str, app: Server) -> None:
        super().__init__(era, app.name)
        self.wire = wire
        self.app = app
        wire.version = era

    def check(self, message: Any, method: Optional[str] = None) -> Any:
        return self.wire.check(message, method, self.era)

    def _send(self, message: Any) -> None:
        self.wire.conn.send(message)

    def _receive(self, timeout: float) -> Any:
        return self.wire.conn.receive(timeout)


class StdioClient(Client):
    def __init__(self, peer: StdioPeer, era: str, server_name: str) -> None:
        super().__init__(era, server_name)
        self.peer = peer

    def _send(self, message: Any) -> None:
        self.peer.send(message)

    def _receive(self, timeout: float) -> Any:
        return self.peer.receive(timeout)


@pytest.fixture
def connect(wire_factory):
    """connect(transport, era, paged=False, page_size=2, secret=None, max_subscriptions=1000):
    a Client, initialized when ``era`` is a legacy version."""
    peers = []  # type: List[StdioPeer]

    def make(transport: str, era: str, paged: bool = False, page_size: Optional[int] = 2,
             secret: Optional[bytes] = None, max_subscriptions: int = 1000, initialize: bool = True) -> Client:
        if transport == "memory":
            app = (make_paged_app(page_size, secret or SECRET) if paged
                   else make_utilities_app(max_subscriptions))
            client = MemoryClient(wire_factory(app), era, app)  # type: Client
        else:
            argv = [sys.executable, APP]
            if paged:
                argv += ["--paged", "--page-size", str(page_size or 0)]
                if secret is not None:
                    argv += ["--secret", secret.decode("utf-8")]
            else:
                argv += ["--max-subscriptions", str(max_subscriptions)]
            peer = StdioPeer(argv)
            peers.append(peer)
            client = StdioClient(peer, era, "paged" if paged else "utilities")
        if era != MODERN and initialize:
            assert client.initialize(era)["result"]["protocolVersion"] == era
        return client
    try:
        yield make
    finally:
        for peer in peers:
            try:
                # End of input: the server exits by itself, and the reading thread sees
                # end-of-file before the pipes are closed under it.
                peer.close_stdin()
                peer.wait(5)
                deadline = time.monotonic() + 5
                while peer.lines.get(timeout=max(0.01, deadline - time.monotonic())) is not None:
                    pass
            except Exception:
                pass
            finally:
                peer.kill()


def error(rid: Any, code: int, message: str, data: Any = None) -> Dict[str, Any]:
    body = {"code": code, "message": message}  # type: Dict[str, Any]
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": body}


def tool_result(value: Any, version: str) -> Dict[str, Any]:
    """A tools/call result of a tool returning a list (structured as {"result": ...} from 2025-06-18)."""
    result = {"content": [{"type": "text", "text": json.dumps(value)}]}  # type: Dict[str, Any]
    if version >= "2025-06-18":
        result["structuredContent"] = {"result": value}
    return result


def text_result(value: str) -> Dict[str, Any]:
    return {"content": [{"type": "text", "text": value}]}


def poll(client: Client, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ---------------------------------------------------------------------------
# Completion

def complete_params(ref: Dict[str, Any], name: str, value: str,
                    context: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    params = {"ref": ref, "argument": {"name": name, "value": value}}  # type: Dict[str, Any]
    if context is not None:
        params["context"] = context
    return params


REVIEW = {"type": "ref/prompt", "name": "review"}
ITEM = {"type": "ref/resource", "uri": "item://{id}"}
PAGE = {"type": "ref/resource", "uri": "page://{book}/{page}"}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_of_a_prompt_argument(connect, transport, era):
    c = connect(transport, era)
    response = c.request("completion/complete", complete_params(REVIEW, "language", "p"), id="c1")
    assert response == c.ok("c1", {"completion": {"values": ["python", "perl", "php", "pascal", "prolog"],
                                                  "total": 5, "hasMore": False}}, "completion/complete")
    response = c.request("completion/complete", complete_params(REVIEW, "language", "ru"), id="c2")
    assert response == c.ok("c2", {"completion": {"values": ["rust"], "total": 1, "hasMore": False}},
                            "completion/complete")
    response = c.request("completion/complete", complete_params(REVIEW, "language", "zz"), id="c3")
    assert response == c.ok("c3", {"completion": {"values": [], "total": 0, "hasMore": False}},
                            "completion/complete")
    assert c.notifications() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_of_a_template_variable_is_capped_at_100(connect, transport, era):
    c = connect(transport, era)
    everything = [str(i) for i in range(250)]
    response = c.request("completion/complete", complete_params(ITEM, "id", ""), id=1)
    assert response == c.ok(1, {"completion": {"values": everything[:100], "total": 250, "hasMore": True}},
                            "completion/complete")
    ones = [v for v in everything if v.startswith("1")]
    assert len(ones) == 111
    response = c.request("completion/complete", complete_params(ITEM, "id", "1"), id=2)
    assert response == c.ok(2, {"completion": {"values": ones[:100], "total": 111, "hasMore": True}},
                            "completion/complete")
    response = c.request("completion/complete", complete_params(ITEM, "id", "24"), id=3)
    assert response == c.ok(3, {"completion": {"values": ["24"] + ["24%d" % d for d in range(10)],
                                               "total": 11, "hasMore": False}}, "completion/complete")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_dict_is_passed_through(connect, transport, era):
    c = connect(transport, era)
    response = c.request("completion/complete", complete_params(PAGE, "page", "", {"arguments": {"book": "b"}}),
                         id=1)
    assert response == c.ok(1, {"completion": {"values": ["1", "2", "3"], "total": 1000, "hasMore": True}},
                            "completion/complete")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_second_parameter_receives_context_arguments(connect, transport, era):
    c = connect(transport, era)
    others = {"language": "go", "style": "long"}
    response = c.request("completion/complete",
                         complete_params(REVIEW, "code", "fmt.", {"arguments": others}), id=1)
    expected = "fmt.|" + json.dumps(others, sort_keys=True)
    assert response == c.ok(1, {"completion": {"values": [expected], "total": 1, "hasMore": False}},
                            "completion/complete")
    # No context (or no arguments in it): an empty dict.
    for rid, params in [(2, complete_params(REVIEW, "code", "x")),
                        (3, complete_params(REVIEW, "code", "x", {}))]:
        response = c.request("completion/complete", params, id=rid)
        assert response == c.ok(rid, {"completion": {"values": ["x|{}"], "total": 1, "hasMore": False}},
                                "completion/complete")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_errors(connect, transport, era):
    c = connect(transport, era)
    cases = [
        (complete_params({"type": "ref/prompt", "name": "nope"}, "language", "p"),
         -32602, "Unknown prompt: nope"),
        (complete_params({"type": "ref/resource", "uri": "nope://{x}"}, "x", ""),
         -32602, "Unknown resource template: nope://{x}"),
        (complete_params(REVIEW, "colour", "r"), -32602, "Prompt review has no argument 'colour'"),
        (complete_params(ITEM, "name", "r"), -32602, "Resource template item://{id} has no variable 'name'"),
    ]
    for i, (params, code, message) in enumerate(cases):
        assert c.request("completion/complete", params, id=i) == error(i, code, message)
    # Known arguments without a completion function: no suggestions.
    for rid, params in [("focus", complete_params(REVIEW, "focus", "a")),
                        ("book", complete_params(PAGE, "book", "a"))]:
        assert c.request("completion/complete", params, id=rid) == c.ok(
            rid, {"completion": {"values": [], "total": 0, "hasMore": False}}, "completion/complete")
    # A completion function that raises: internal error, the message only, no traceback.
    response = c.request("completion/complete", complete_params(REVIEW, "style", "s"), id="boom")
    assert response == error("boom", -32603, "Error in the completion of 'style': the style list is unavailable")
    assert "Traceback" not in json.dumps(response)
    # The connection keeps serving.
    assert c.request("completion/complete", complete_params(REVIEW, "language", "go"), id="after") == c.ok(
        "after", {"completion": {"values": ["go"], "total": 1, "hasMore": False}}, "completion/complete")
    if transport == "stdio":
        assert poll(c, lambda: "RuntimeError: the style list is unavailable" in c.peer.stderr), \
            "the traceback goes to stderr"
    assert c.notifications() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_completion_without_any_registered_is_method_not_found(connect, transport, era):
    c = connect(transport, era, paged=True)
    response = c.request("completion/complete",
                         complete_params({"type": "ref/prompt", "name": "prompt1"}, "x", ""), id=1)
    assert response == error(1, -32601, "Method not found: completion/complete (this server has no completions)")


@pytest.mark.parametrize("era", ERAS)
def test_completion_return_values_over_the_cap(wire_factory, era):
    app = Server("utilities", version="1.0.0")

    @app.prompt()
    def p(a: str, b: str, c: str) -> str:
        return a + b + c

    app.add_completion(lambda value: {"values": [str(i) for i in range(150)]}, "a", prompt="p")
    app.add_completion(lambda value: {"values": ["x", "y"], "hasMore": True}, "b", prompt="p")
    app.add_completion(lambda value: ("t%d" % i for i in range(101)), "c", prompt="p")
    c = MemoryClient(wire_factory(app), era, app)
    if era != MODERN:
        c.initialize(era)
    ref = {"type": "ref/prompt", "name": "p"}
    expected = {
        "a": {"values": [str(i) for i in range(100)], "total": 150, "hasMore": True},
        "b": {"values": ["x", "y"], "total": 2, "hasMore": True},
        "c": {"values": ["t%d" % i for i in range(100)], "total": 101, "hasMore": True},
    }
    for name, completion in expected.items():
        assert c.request("completion/complete", complete_params(ref, name, ""), id=name) == c.ok(
            name, {"completion": completion}, "completion/complete")


@pytest.mark.parametrize("era", ERAS)
def test_completion_return_values_that_cannot_be_sent(wire_factory, era):
    app = Server("utilities", version="1.0.0")

    @app.prompt()
    def p(a: str, b: str, c: str) -> str:
        return a + b + c

    def refuse(value: str) -> List[str]:
        raise MCPError(-32602, "no completions for %r" % value, {"value": value})

    app.add_completion(lambda value: None, "a", prompt="p")
    app.add_completion(lambda value: ["ok", 3], "b", prompt="p")
    app.add_completion(refuse, "c", prompt="p")
    c = MemoryClient(wire_factory(app), era, app)
    if era != MODERN:
        c.initialize(era)
    ref = {"type": "ref/prompt", "name": "p"}
    assert c.request("completion/complete", complete_params(ref, "a", ""), id=1) == c.ok(
        1, {"completion": {"values": [], "total": 0, "hasMore": False}}, "completion/complete")
    assert c.request("completion/complete", complete_params(ref, "b", ""), id=2) == error(
        2, -32603, "a completion function must return strings")
    assert c.request("completion/complete", complete_params(ref, "c", "v"), id=3) == error(
        3, -32602, "no completions for 'v'", {"value": "v"})


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
def test_completions_capability_by_version(connect, version):
    c = connect("memory", version, initialize=False)
    caps = c.initialize(version)["result"]["capabilities"]
    assert ("completions" in caps) == (version >= "2025-03-26")
    if version >= "2025-03-26":
        assert caps["completions"] == {}
    # 2024-11-05 had completion/complete without a capability for it: it is served.
    response = c.request("completion/complete", complete_params(REVIEW, "language", "go"), id=1)
    assert response == c.ok(1, {"completion": {"values": ["go"], "total": 1, "hasMore": False}},
                            "completion/complete")


def test_completions_capability_in_discover(connect):
    c = connect("memory", MODERN)
    assert c.request("server/discover")["result"]["capabilities"]["completions"] == {}
    paged = connect("memory", MODERN, paged=True)
    assert "completions" not in paged.request("server/discover")["result"]["capabilities"]
    legacy = connect("memory", "2025-11-25", paged=True)
    assert "completions" not in legacy.all[0]["result"]["capabilities"]


# ---------------------------------------------------------------------------
# Pagination

LISTS = {
    "tools/list": ("tools", lambda i: {"name": "tool%d" % i,
                                       "inputSchema": {"type": "object", "additionalProperties": False}}),
    "resources/list": ("resources", lambda i: {"uri": "res://%d" % i, "name": "res%d" % i}),
    "resources/templates/list": ("resourceTemplates", lambda i: {"uriTemplate": "tpl%d://{x}" % i,
                                                                 "name": "tpl%d" % i}),
    "prompts/list": ("prompts", lambda i: {"name": "prompt%d" % i}),
}


def follow(c: Client, method: str) -> List[Dict[str, Any]]:
    """Every page of ``method``, following nextCursor; checks each page exactly."""
    key, item = LISTS[method]
    pages = []
    params = None  # type: Optional[Dict[str, Any]]
    for n in range(10):
        response = c.request(method, params, id="%s-%d" % (method, n))
        result = response["result"]
        pages.append(result)
        cursor = result.get("nextCursor")
        page = {key: result[key]}  # type: Dict[str, Any]
        if cursor is not None:
            assert isinstance(cursor, str) and cursor
            page["nextCursor"] = cursor
        assert response == c.ok("%s-%d" % (method, n), page, method)
        if cursor is None:
            return pages
        params = {"cursor": cursor}
    raise AssertionError("more than 10 pages")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("method", sorted(LISTS))
def test_pagination_gives_every_item_once_in_order(connect, transport, era, method):
    c = connect(transport, era, paged=True, page_size=2)
    key, item = LISTS[method]
    pages = follow(c, method)
    assert [len(p[key]) for p in pages] == [2, 2, 1]
    assert [entry for p in pages for entry in p[key]] == [item(i) for i in range(1, 6)]
    assert ["nextCursor" in p for p in pages] == [True, True, False]
    # Cursors can be used again: the server remembers nothing between pages.
    again = c.request(method, {"cursor": pages[0]["nextCursor"]}, id="again")
    assert again["result"][key] == [item(3), item(4)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_default_page_size_returns_everything(connect, transport, era):
    c = connect(transport, era, paged=True, page_size=None)
    for method, (key, item) in sorted(LISTS.items()):
        response = c.request(method, id=method)
        assert response == c.ok(method, {key: [item(i) for i in range(1, 6)]}, method)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_cursor_of_another_list_is_invalid_params(connect, transport, era):
    c = connect(transport, era, paged=True, page_size=2)
    cursors = {method: c.request(method)["result"]["nextCursor"] for method in LISTS}
    for source in sorted(LISTS):
        for target in sorted(LISTS):
            if source == target:
                continue
            response = c.request(target, {"cursor": cursors[source]}, id="x")
            assert response == error("x", -32602, "Invalid params: invalid cursor %r" % (cursors[source],)), \
                (source, target)
    assert c.request("tools/list", {"cursor": cursors["tools/list"]}, id="ok")["result"]["tools"] == [
        LISTS["tools/list"][1](3), LISTS["tools/list"][1](4)]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_garbage_and_tampered_cursors_are_invalid_params(connect, transport, era):
    c = connect(transport, era, paged=True, page_size=2)
    cursor = c.request("tools/list")["result"]["nextCursor"]
    body, mac = cursor.split(".")
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == ["tools", 2]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    bad = [
        "garbage", "", ".", "a.b", cursor + "x", body + "." + flipped, body, cursor + ".extra",
        _b64(b'["tools",4]') + "." + mac,   # the offset changed, the seal kept
        _b64(b'["tools",0]') + "." + mac,
        "é." + mac, 42, None, ["tools", 2], {"cursor": cursor},
    ]
    for i, value in enumerate(bad):
        response = c.request("tools/list", {"cursor": value}, id=i)
        assert response == error(i, -32602, "Invalid params: invalid cursor %r" % (value,)), value
    # The genuine cursor still works after all that.
    result = c.request("tools/list", {"cursor": cursor}, id="ok")["result"]
    assert result["tools"] == [LISTS["tools/list"][1](3), LISTS["tools/list"][1](4)]
    assert isinstance(result["nextCursor"], str)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_cursor_sealed_by_another_server_is_invalid_params(connect, transport, era):
    one = connect(transport, era, paged=True, page_size=2, secret=b"first-secret-0123456789")
    other = connect(transport, era, paged=True, page_size=2, secret=b"other-secret-0123456789")
    same = connect(transport, era, paged=True, page_size=2, secret=b"first-secret-0123456789")
    cursor = one.request("prompts/list")["result"]["nextCursor"]
    assert other.request("prompts/list", {"cursor": cursor}, id=5) == error(
        5, -32602, "Invalid params: invalid cursor %r" % (cursor,))
    # Another process with the same secret reads it (how several processes share an endpoint).
    assert same.request("prompts/list", {"cursor": cursor})["result"]["prompts"] == [
        {"name": "prompt3"}, {"name": "prompt4"}]


def test_cursor_of_a_random_secret_server_fails_elsewhere(wire_factory):
    apps = [Server("paged", version="1.0.0", page_size=1), Server("paged", version="1.0.0", page_size=1)]
    clients = []
    for app in apps:
        app.add_tool(lambda: "a", name="a")
        app.add_tool(lambda: "b", name="b")
        client = MemoryClient(wire_factory(app), LEGACY, app)
        client.initialize(LEGACY)
        clients.append(client)
    cursor = clients[0].request("tools/list")["result"]["nextCursor"]
    assert clients[0].request("tools/list", {"cursor": cursor})["result"]["tools"][0]["name"] == "b"
    assert clients[1].request("tools/list", {"cursor": cursor})["error"]["code"] == -32602


# ---------------------------------------------------------------------------
# Registrations changing at run time

CHANGES = [
    ("tool", "tools", "tools/list", "tools", "extra"),
    ("prompt", "prompts", "prompts/list", "prompts", "extra"),
    ("resource", "resources", "resources/list", "resources", "note://extra"),
    ("template", "resources", "resources/templates/list", "resourceTemplates", "extra://{x}"),
]


def _names(c: Client, method: str, key: str) -> List[str]:
    entries = c.request(method)["result"][key]
    return [e.get("name") if key in ("tools", "prompts") else e.get("uri", e.get("uriTemplate")) for e in entries]


def _extra() -> str:
    return "extra"


def _extra_template(x: str) -> str:
    return x


def _do(app: Server, kind: str, action: str) -> None:
    """Add or remove the extra tool / prompt / resource / template directly on the app."""
    add = action == "add"
    if kind == "tool":
        if add:
            app.add_tool(_extra, name="extra")
        else:
            app.remove_tool("extra")
    elif kind == "prompt":
        if add:
            app.add_prompt(_extra, name="extra")
        else:
            app.remove_prompt("extra")
    elif kind == "resource":
        if add:
            app.add_resource(_extra, "note://extra")
        else:
            app.remove_resource("note://extra")
    elif add:
        app.add_resource(_extra_template, "extra://{x}")
    else:
        app.remove_resource("extra://{x}")


@pytest.mark.parametrize("version", ["2024-11-05", "2025-11-25"])
@pytest.mark.parametrize("kind,plural,method,key,name", CHANGES)
def test_runtime_change_notifies_an_initialized_legacy_session(connect, version, kind, plural, method, key, name):
    c = connect("memory", version)
    app = c.app
    assert name not in _names(c, method, key)
    _do(app, kind, "add")
    assert c.notifications(quiet=0.05) == [{"jsonrpc": "2.0", "method": "notifications/%s/list_changed" % plural}]
    assert name in _names(c, method, key)
    _do(app, kind, "remove")
    assert c.notifications(quiet=0.05) == [{"jsonrpc": "2.0", "method": "notifications/%s/list_changed" % plural}]
    assert name not in _names(c, method, key)
    with pytest.raises(KeyError):
        _do(app, kind, "remove")
    assert c.notifications(quiet=0.05) == [], "a failed removal notifies nobody"


def test_remove_of_unknown_names_raises_key_error(connect):
    c = connect("memory", LEGACY)
    app = c.app
    for remove, name in [(app.remove_tool, "nope"), (app.remove_prompt, "nope"),
                         (app.remove_resource, "nope://x"), (app.remove_resource, "item://1")]:
        with pytest.raises(KeyError):
            remove(name)
    assert c.notifications(quiet=0.05) == []
    assert "item://{id}" in _names(c, "resources/templates/list", "resourceTemplates")


def test_notify_list_changed_by_hand(connect):
    c = connect("memory", LEGACY)
    for kind in ("tools", "prompts", "resources"):
        c.app.notify_list_changed(kind)
    assert c.notifications(quiet=0.05) == [
        {"jsonrpc": "2.0", "method": "notifications/%s/list_changed" % kind}
        for kind in ("tools", "prompts", "resources")]
    with pytest.raises(ValueError):
        c.app.notify_list_changed("widgets")


def test_no_list_changed_before_initialize(connect, wire_factory):
    silent = connect("memory", LEGACY, initialize=False)
    app = silent.app
    pinged = MemoryClient(wire_factory(app), LEGACY, app)
    # A session that only pinged (its era is decided, it is not initialized).
    assert pinged.request("ping", id="p") == {"jsonrpc": "2.0", "id": "p", "result": {}}
    # One whose request was refused before initialize.
    assert silent.request("tools/list", id="t")["error"]["code"] == -32600
    _do(app, "tool", "add")
    assert silent.notifications(quiet=0.05) == []
    assert pinged.notifications(quiet=0.05) == []
    pinged.initialize(LEGACY)
    _do(app, "tool", "remove")
    assert silent.notifications(quiet=0.05) == []
    assert pinged.notifications(quiet=0.05) == [{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}]


def test_every_legacy_session_hears_and_modern_connections_without_listen_do_not(connect, wire_factory):
    first = connect("memory", LEGACY)
    app = first.app
    second = MemoryClient(wire_factory(app), "2024-11-05", app)
    second.initialize("2024-11-05")
    modern = MemoryClient(wire_factory(app), MODERN, app)
    assert modern.request("tools/list")["result"]["resultType"] == "complete"
    _do(app, "prompt", "add")
    expected = [{"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]
    assert first.notifications(quiet=0.05) == expected
    assert second.notifications(quiet=0.05) == expected
    assert modern.notifications(quiet=0.05) == []


def listen(c: Client, rid: Any, notifications: Dict[str, Any]) -> Dict[str, Any]:
    """Open a 2026-07-28 subscriptions/listen; returns its acknowledgement."""
    c.start("subscriptions/listen", {"notifications": notifications}, id=rid)
    ack = c.wait_for(lambda m: m.get("method") == "notifications/subscriptions/acknowledged"
                     and m["params"]["_meta"][SUB] == rid)
    return ack


def tagged(method: str, rid: Any, **params: Any) -> Dict[str, Any]:
    params["_meta"] = {SUB: rid}
    return {"jsonrpc": "2.0", "method": method, "params": params}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_runtime_changes_reach_the_listen_streams_that_asked(connect, transport):
    c = connect(transport, MODERN)
    assert listen(c, "L-tools", {"toolsListChanged": True, "resourcesListChanged": True}) == tagged(
        "notifications/subscriptions/acknowledged", "L-tools",
        notifications={"toolsListChanged": True, "resourcesListChanged": True})
    assert listen(c, 2, {"promptsListChanged": True}) == tagged(
        "notifications/subscriptions/acknowledged", 2, notifications={"promptsListChanged": True})
    assert listen(c, "L-none", {}) == tagged(
        "notifications/subscriptions/acknowledged", "L-none", notifications={})
    assert listen(c, "L-off", {"toolsListChanged": False, "promptsListChanged": False}) == tagged(
        "notifications/subscriptions/acknowledged", "L-off", notifications={})
    assert c.notifications() == []
    for kind, action in [("tool", "add"), ("prompt", "add"), ("resource", "add"), ("template", "add"),
                         ("tool", "remove"), ("prompt", "remove"), ("resource", "remove"),
                         ("template", "remove")]:
        rid = "%s-%s" % (action, kind)
        assert c.call("change", {"kind": kind, "action": action}, id=rid) == c.ok(
            rid, text_result("%s %s" % (action, kind)), "tools/call")
        plural = {"tool": "tools", "prompt": "prompts"}.get(kind, "resources")
        listener = 2 if kind == "prompt" else "L-tools"
        # Sent while the tool ran: before its response.
        assert c.notifications() == [tagged("notifications/%s/list_changed" % plural, listener)], rid
        listing = {"tool": ("tools/list", "tools"), "prompt": ("prompts/list", "prompts"),
                   "resource": ("resources/list", "resources"),
                   "template": ("resources/templates/list", "resourceTemplates")}[kind]
        names = _names(c, *listing)
        assert (("extra" if kind in ("tool", "prompt") else ("note://extra" if kind == "resource" else "extra://{x}"))
                in names) == (action == "add")
    assert c.notifications(quiet=0.1) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", ["2024-11-05", "2025-11-25"])
def test_runtime_changes_reach_a_legacy_session(connect, transport, version):
    c = connect(transport, version)
    for kind, action in [("tool", "add"), ("prompt", "add"), ("resource", "add"), ("template", "add"),
                         ("template", "remove"), ("resource", "remove"), ("prompt", "remove"),
                         ("tool", "remove")]:
        rid = "%s-%s" % (action, kind)
        assert c.call("change", {"kind": kind, "action": action}, id=rid) == c.ok(
            rid, text_result("%s %s" % (action, kind)), "tools/call")
        plural = {"tool": "tools", "prompt": "prompts"}.get(kind, "resources")
        assert c.notifications() == [{"jsonrpc": "2.0", "method": "notifications/%s/list_changed" % plural}], rid
    assert "extra" not in _names(c, "tools/list", "tools")
    # Removing what is not there: the tool fails (KeyError -> an error result), nothing is sent.
    response = c.call("change", {"kind": "tool", "action": "remove"}, id="again")
    assert response["result"]["isError"] is True
    assert "KeyError" in response["result"]["content"][0]["text"]
    assert c.notifications(quiet=0.1) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_listen_stream_gets_the_resource_updates_it_subscribed_to(connect, transport):
    c = connect(transport, MODERN)
    assert listen(c, "R", {"resourceSubscriptions": ["note://a", "item://7"]}) == tagged(
        "notifications/subscriptions/acknowledged", "R",
        notifications={"resourceSubscriptions": ["note://a", "item://7"]})
    listen(c, "T", {"toolsListChanged": True, "resourcesListChanged": True})
    for uri in ["note://a", "note://b", "item://7", "item://8"]:
        rid = "touch " + uri
        assert c.call("touch", {"uri": uri}, id=rid) == c.ok(rid, text_result("touched " + uri), "tools/call")
        expected = [tagged("notifications/resources/updated", "R", uri=uri)] if uri in ("note://a", "item://7") else []
        assert c.notifications() == expected, uri
    # A cancelled listen hears nothing more, and gets no response.
    c.notify("notifications/cancelled", {"requestId": "R"})
    c.call("touch", {"uri": "note://a"}, id="after")
    assert c.notifications(quiet=0.1) == []
    assert not any(m.get("id") in ("R", "T") for m in c.all)


def _racing_initialize(wire_factory: Any) -> "MemoryClient":
    """The deterministic stand-in for a race: a change that lands while initialize is being
    answered (here from inside capabilities(); in real life from another thread)."""
    class Racing(Server):
        def capabilities(self, version: str) -> Dict[str, Any]:
            caps = super().capabilities(version)
            self.notify_list_changed("tools")
            return caps

    app = Racing("utilities", version="1.0.0")
    app.add_tool(_extra, name="extra")
    c = MemoryClient(wire_factory(app), LEGACY, app)
    c.start("initialize", {"protocolVersion": LEGACY, "capabilities": {},
                           "clientInfo": {"name": "utility-tests", "version": "0"}}, id="init")
    return c


def test_no_list_changed_before_the_initialize_response(wire_factory):
    c = _racing_initialize(wire_factory)
    first = c.check(c.receive())
    assert first.get("id") == "init", "the first message of a session is the initialize response: %r" % (first,)
    # Nor after the response while the client has not said notifications/initialized.
    _do(c.app, "tool", "remove")
    assert c.notifications(quiet=0.05) == []
    c.notify("notifications/initialized")
    _do(c.app, "tool", "add")
    assert c.notifications(quiet=0.05) == [{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}]


# ---------------------------------------------------------------------------
# Resource subscriptions (legacy) and notify_resource_updated

def updated(uri: str) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", ["2024-11-05", "2025-11-25"])
def test_only_subscribed_uris_are_notified(connect, transport, version):
    c = connect(transport, version)

    def touch(uri: str) -> List[Any]:
        rid = "touch " + uri
        assert c.call("touch", {"uri": uri}, id=rid) == c.ok(rid, text_result("touched " + uri), "tools/call")
        return c.notifications()

    assert touch("note://a") == [], "nothing before subscribing"
    for rid, uri in [(1, "note://a"), (2, "item://7")]:
        assert c.request("resources/subscribe", {"uri": uri}, id=rid) == {"jsonrpc": "2.0", "id": rid, "result": {}}
    assert c.request("resources/subscribe", {"uri": "note://a"}, id=3) == {"jsonrpc": "2.0", "id": 3, "result": {}}
    assert touch("note://a") == [updated("note://a")], "once, however often subscribed"
    assert touch("note://b") == []
    assert touch("item://7") == [updated("item://7")], "a URI matching a template"
    assert touch("item://8") == []
    assert touch("item://{id}") == []
    assert c.request("resources/unsubscribe", {"uri": "note://a"}, id=4) == {"jsonrpc": "2.0", "id": 4, "result": {}}
    assert touch("note://a") == []
    assert touch("item://7") == [updated("item://7")]
    # Unsubscribing what was never subscribed (known or not): {}.
    for rid, uri in [(5, "note://b"), (6, "note://a"), (7, "nope://x")]:
        assert c.request("resources/unsubscribe", {"uri": uri}, id=rid) == {"jsonrpc": "2.0", "id": rid, "result": {}}
    assert c.notifications(quiet=0.1) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_subscribe_to_an_unknown_uri_is_resource_not_found(connect, transport):
    c = connect(transport, LEGACY)
    for rid, uri in [(1, "nope://x"), (2, "note://c"), (3, "item://a/b")]:
        assert c.request("resources/subscribe", {"uri": uri}, id=rid) == error(
            rid, -32002, "Resource not found: " + uri, {"uri": uri})
    assert c.request("resources/subscribe", {}, id=4) == error(4, -32602, "Invalid params: \"uri\" must be a string")
    assert c.request("resources/subscribe", {"uri": 5}, id=5)["error"]["code"] == -32602


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_subscription_limit_per_session(connect, transport):
    c = connect(transport, LEGACY, max_subscriptions=2)
    for rid, uri in [(1, "note://a"), (2, "item://1"), (3, "note://a")]:
        assert c.request("resources/subscribe", {"uri": uri}, id=rid)["result"] == {}
    assert c.request("resources/subscribe", {"uri": "note://b"}, id=4) == error(
        4, -32602, "Invalid params: this session already has 2 subscriptions (the limit)")
    assert c.request("resources/unsubscribe", {"uri": "item://1"}, id=5)["result"] == {}
    assert c.request("resources/subscribe", {"uri": "note://b"}, id=6)["result"] == {}
    c.call("touch", {"uri": "note://b"}, id=7)
    assert c.notifications() == [updated("note://b")]


def test_subscription_limit_is_per_session(connect, wire_factory):
    c = connect("memory", LEGACY, max_subscriptions=1)
    other = MemoryClient(wire_factory(c.app), LEGACY, c.app)
    other.initialize(LEGACY)
    assert c.request("resources/subscribe", {"uri": "note://a"})["result"] == {}
    assert other.request("resources/subscribe", {"uri": "note://b"})["result"] == {}
    assert c.request("resources/subscribe", {"uri": "note://b"})["error"]["code"] == -32602
    c.app.notify_resource_updated("note://b")
    c.app.notify_resource_updated("note://a")
    assert c.notifications(quiet=0.05) == [updated("note://a")]
    assert other.notifications(quiet=0.05) == [updated("note://b")]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_resources_subscribe_is_method_not_found_in_2026(connect, transport):
    c = connect(transport, MODERN)
    for rid, method in [(1, "resources/subscribe"), (2, "resources/unsubscribe")]:
        assert c.request(method, {"uri": "note://a"}, id=rid) == error(rid, -32601, "Method not found: " + method)
    assert c.request("resources/read", {"uri": "note://a"}, id=3) == c.ok(
        3, {"contents": [{"uri": "note://a", "mimeType": "text/plain", "text": "note a"}]}, "resources/read")


# ---------------------------------------------------------------------------
# Logging

def log(level: str, i: int) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/message",
            "params": {"level": level, "data": {"n": i, "level": level}, "logger": "chatty"}}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", ["2024-11-05", "2025-11-25"])
def test_legacy_logging_set_level_filters(connect, transport, version):
    c = connect(transport, version)
    assert c.call("chatty", id="all") == c.ok("all", tool_result([True] * 8, c.era), "tools/call")
    assert c.notifications() == [log(level, i) for i, level in enumerate(LEVELS)], "everything before setLevel"
    for level in LEVELS:
        rid = "level-" + level
        assert c.request("logging/setLevel", {"level": level}, id=rid) == {"jsonrpc": "2.0", "id": rid, "result": {}}
        threshold = LEVELS.index(level)
        assert c.call("chatty", id=level) == c.ok(
            level, tool_result([i >= threshold for i in range(8)], c.era), "tools/call")
        assert c.notifications() == [log(name, i) for i, name in enumerate(LEVELS) if i >= threshold], level


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_log_level_is_invalid_params(connect, transport):
    c = connect(transport, LEGACY)
    assert c.request("logging/setLevel", {"level": "error"})["result"] == {}
    for rid, level in [(1, "loud"), (2, "ERROR"), (3, None), (4, 3)]:
        response = c.request("logging/setLevel", {"level": level}, id=rid)
        assert response == error(rid, -32602, "Invalid params: unknown log level %r; expected one of %s"
                                 % (level, ", ".join(LEVELS)))
    assert c.request("logging/setLevel", {}, id=5)["error"]["code"] == -32602
    # The level in force is unchanged.
    c.call("chatty", id="after")
    assert c.notifications() == [log(name, i) for i, name in enumerate(LEVELS) if i >= 4]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_modern_logs_only_with_the_request_log_level(connect, transport):
    c = connect(transport, MODERN)
    assert c.call("chatty", id="none") == c.ok("none", tool_result([False] * 8, c.era), "tools/call")
    assert c.notifications() == []
    for level in ["debug", "warning", "emergency"]:
        threshold = LEVELS.index(level)
        assert c.call("chatty", id=level, log_level=level) == c.ok(
            level, tool_result([i >= threshold for i in range(8)], c.era), "tools/call")
        assert c.notifications() == [log(name, i) for i, name in enumerate(LEVELS) if i >= threshold]
    # The level belongs to one request: the next one without it gets nothing.
    c.call("chatty", id="none-again")
    assert c.notifications() == []
    for rid, level in [("bad", "loud"), ("bad2", 7)]:
        assert c.call("chatty", id=rid, log_level=level) == error(
            rid, -32602, "Invalid params: unknown log level %r" % (level,))
    assert c.request("logging/setLevel", {"level": "debug"}, id="set") == error(
        "set", -32601, "Method not found: logging/setLevel")
    assert c.notifications(quiet=0.05) == []


# ---------------------------------------------------------------------------
# Progress

def progress(token: Any, value: Any, total: Any = None, message: Optional[str] = None) -> Dict[str, Any]:
    params = {"progressToken": token, "progress": value}  # type: Dict[str, Any]
    if total is not None:
        params["total"] = total
    if message is not None:
        params["message"] = message
    return {"jsonrpc": "2.0", "method": "notifications/progress", "params": params}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_progress_only_with_a_progress_token(connect, transport, era):
    c = connect(transport, era)
    assert c.call("steps", {"values": [1, 2, 3], "total": 3}, id=1) == c.ok(
        1, tool_result([False, False, False], c.era), "tools/call")
    assert c.call("steps", {"values": [1]}, id=2, meta={"progressToken": None}) == c.ok(
        2, tool_result([False], c.era), "tools/call")
    assert c.notifications(quiet=0.05) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("token", ["tok-1", "7", 7, 0, -1])
def test_progress_token_is_echoed_with_its_json_type(connect, transport, era, token):
    c = connect(transport, era)
    assert c.call("steps", {"values": [1, 2.5], "total": 4, "message": "m"}, id="p", meta={"progressToken": token}) \
        == c.ok("p", tool_result([True, True], c.era), "tools/call")
    got = c.notifications()
    assert got == [progress(token, 1, 4, "m"), progress(token, 2.5, 4, "m")]
    assert all(type(m["params"]["progressToken"]) is type(token) for m in got)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_progress_must_strictly_increase(connect, transport, era):
    c = connect(transport, era)
    values = [1, 1, 0.5, 2, 2.5, 2.5, 2.4, 10]
    assert c.call("steps", {"values": values}, id=1, meta={"progressToken": "t"}) == c.ok(
        1, tool_result([True, False, False, True, True, False, False, True], c.era), "tools/call")
    assert c.notifications() == [progress("t", 1), progress("t", 2), progress("t", 2.5), progress("t", 10)]
    # Each request starts afresh.
    assert c.call("steps", {"values": [1]}, id=2, meta={"progressToken": "t"})["result"]["structuredContent"] == {
        "result": [True]}
    assert c.notifications() == [progress("t", 1)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_no_progress_or_log_after_the_response(connect, transport, era):
    c = connect(transport, era)
    assert c.call("late", id="late", meta={"progressToken": 5}, log_level="debug") == c.ok(
        "late", text_result("returned"), "tools/call")
    assert c.notifications() == [progress(5, 1, 100, "on time")]
    # The handler's thread tries again after the response: refused, nothing sent.
    assert c.call("release_late", id="release") == c.ok("release", tool_result([False, False], c.era), "tools/call")
    assert c.notifications(quiet=0.1) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", MODERN])
def test_progress_message_only_from_2025_03_26(connect, transport, version):
    c = connect(transport, version)
    c.call("steps", {"values": [1, 2], "total": 2, "message": "half"}, id=1, meta={"progressToken": "m"})
    message = "half" if version >= "2025-03-26" else None
    assert c.notifications() == [progress("m", 1, 2, message), progress("m", 2, 2, message)]


@pytest.mark.parametrize("token", [True, 1.5, {"a": 1}])
def test_invalid_progress_token_never_yields_a_schema_breaking_notification(connect, token):
    c = connect("memory", LEGACY)
    response = c.wire.conn.request("tools/call", {"name": "steps", "arguments": {"values": [1]},
                                                  "_meta": {"progressToken": token}})
    # Either refused (-32602) or served without progress; never a notification that
    # carries the invalid token.
    assert "error" in response or response["result"]["structuredContent"] == {"result": [False]}
    for message in c.wire.conn.received + c.wire.conn.pending_messages():
        assert schema_problem(message, LEGACY) is None, message


# ---------------------------------------------------------------------------
# Cancellation

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_cancelling_unknown_or_finished_requests_is_ignored(connect, transport, era):
    c = connect(transport, era)
    assert c.call("steps", {"values": [1]}, id=5)["result"]["structuredContent"] == {"result": [False]}
    for params in [{"requestId": 5, "reason": "too late"}, {"requestId": "5"}, {"requestId": "never-sent"},
                   {"requestId": 12345}, {"requestId": None}, {}, {"requestId": True}, {"requestId": 1.5}]:
        c.notify("notifications/cancelled", params)
    c.send({"jsonrpc": "2.0", "method": "notifications/cancelled"})
    # No response to any of it, and the server keeps serving (the finished id may be reused).
    assert c.call("steps", {"values": [1]}, id=5) == c.ok(5, tool_result([False], c.era), "tools/call")
    assert c.call("chatty", id="next")["result"]["structuredContent"] == {"result": [not c.modern] * 8}
    expected = [] if c.modern else [log(level, i) for i, level in enumerate(LEVELS)]
    assert c.notifications(quiet=0.1) == expected
    assert [m.get("id") for m in c.all if "method" not in m] == (["init"] if not c.modern else []) + [5, 5, "next"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ERAS)
def test_cancelling_a_running_tool(connect, transport, era):
    c = connect(transport, era)
    c.start("tools/call", {"name": "long_job", "arguments": {"steps": 500}}, id="job", meta={"progressToken": "j"})
    first = c.wait_for(lambda m: m.get("method") == "notifications/progress")
    assert first == progress("j", 1, 500)
    c.notify("notifications/cancelled", {"requestId": "job", "reason": "user"})
    # The next request is served at once.
    started = time.monotonic()
    assert c.call("steps", {"values": [1]}, id="next") == c.ok("next", tool_result([False], c.era), "tools/call")
    assert time.monotonic() - started < 3
    # The handler saw the cancellation (check_cancelled raised)...
    seen = []  # type: List[Any]

    def handler_saw_it() -> bool:
        seen[:] = c.call("cancelled_ids", id="ids")["result"]["structuredContent"]["result"]
        return seen == ["job"]
    assert poll(c, handler_saw_it, 5), seen
    # ... and no response for it ever comes; progress stops.
    rest = c.notifications(quiet=0.3)
    assert all(m.get("method") == "notifications/progress" for m in rest), rest
    assert c.notifications(quiet=0.3) == [], "nothing after the cancellation settled"
    assert not any(m.get("id") == "job" for m in c.all)
    assert c.call("steps", {"values": [1]}, id="job") == c.ok("job", tool_result([False], c.era), "tools/call"), \
        "the cancelled id is free again"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cancellation_names_one_id_exactly(connect, transport):
    c = connect(transport, LEGACY)
    c.start("tools/call", {"name": "long_job", "arguments": {"steps": 20}}, id=9)
    c.notify("notifications/cancelled", {"requestId": "9"})
    response = c.wait_response(9, "tools/call")
    assert response == c.ok(9, text_result("finished"), "tools/call")
    assert c.call("cancelled_ids", id="ids")["result"]["structuredContent"] == {"result": []}


@pytest.mark.parametrize("era", ERAS)
def test_cancelling_a_request_still_queued_never_runs_it(wire_factory, era):
    app = make_utilities_app()
    c = MemoryClient(wire_factory(app, max_workers=1), era, app)
    if era != MODERN:
        c.initialize(era)
    c.start("tools/call", {"name": "long_job", "arguments": {"steps": 500}}, id="running",
            meta={"progressToken": "r"})
    assert c.wait_for(lambda m: m.get("method") == "notifications/progress")["params"]["progressToken"] == "r"
    c.start("tools/call", {"name": "long_job", "arguments": {"steps": 500}}, id="queued",
            meta={"progressToken": "q"})
    c.notify("notifications/cancelled", {"requestId": "queued"})
    c.notify("notifications/cancelled", {"requestId": "running"})
    # The one worker is free again: the next call runs, and only "running" ever started.
    assert c.call("cancelled_ids", id="ids") == c.ok("ids", tool_result(["running"], c.era), "tools/call")
    rest = c.notifications(quiet=0.2)
    assert [m["params"]["progressToken"] for m in rest] == ["r"] * len(rest), rest
    assert not any(m.get("id") in ("running", "queued") for m in c.all)


# ---------------------------------------------------------------------------
# Capabilities per version

FULL_LEGACY_CAPS = {"logging": {}, "tools": {"listChanged": True},
                    "resources": {"subscribe": True, "listChanged": True}, "prompts": {"listChanged": True}}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
def test_initialize_capabilities_exact(connect, transport, version):
    c = connect(transport, version, initialize=False)
    caps = dict(FULL_LEGACY_CAPS)
    if version >= "2025-03-26":
        caps["completions"] = {}
    assert c.initialize(version) == {"jsonrpc": "2.0", "id": "init", "result": {
        "protocolVersion": version, "capabilities": caps,
        "serverInfo": {"name": "utilities", "version": "1.0.0"}}}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_discover_capabilities_exact(connect, transport):
    c = connect(transport, MODERN)
    caps = dict(FULL_LEGACY_CAPS)
    caps["completions"] = {}
    assert c.request("server/discover", id="d") == c.ok("d", {
        "supportedVersions": [MODERN], "capabilities": caps}, "server/discover")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ["2024-11-05", "2025-11-25", MODERN])
def test_capabilities_without_completions(connect, transport, era):
    c = connect(transport, era, paged=True, initialize=False)
    if era == MODERN:
        caps = c.request("server/discover")["result"]["capabilities"]
    else:
        caps = c.initialize(era)["result"]["capabilities"]
    expected = dict(FULL_LEGACY_CAPS)
    if era == MODERN:
        # The paged app has no handler taking a Context, so nothing could send a log message:
        # 2026-07-28's deprecated logging capability is not declared.
        del expected["logging"]
    assert caps == expected
