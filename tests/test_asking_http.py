"""Asking the client, subscriptions, list changes, completion and pagination over Streamable
HTTP, at the level of HTTP requests and SSE events, in both eras.

Legacy (initialize) sessions: the server's requests travel on the tools/call POST's SSE
stream (on the GET stream in JSON-response mode) and the client answers with a POST.
2026-07-28: no server request ever; questions come back as ``input_required`` results
and the client retries with ``inputResponses`` and the sealed ``requestState``.

Every wait is bounded (``WAIT`` seconds): a server that never sends what is expected
fails the test instead of hanging it.
"""

import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

from asking_app import ALL_CAPABILITIES, ANSWERS, make_asking_app
from http_peer import ACCEPT_BOTH, MODERN, Http, parse_sse
from mcplite import ConnectionClosed, Context, MCPError
from wire import schema_problem

WAIT = 5.0
LEGACY_VERSION = "2025-11-25"
SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "asking", "version": "1.0.0"}}
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def checked(message: Any, version: str = LEGACY_VERSION, method: Optional[str] = None) -> Any:
    """The message, once the official schema of ``version`` accepts it."""
    problem = schema_problem(message, version, method)
    assert problem is None, "%s\n%s" % (problem, json.dumps(message))
    return message


def text_result(text: str) -> Dict[str, Any]:
    return {"content": [{"type": "text", "text": text}]}


# -- a client end that reads a response as it arrives ----------------------------------------

class Stream:
    """One HTTP request on its own socket, its answer read on a thread as it comes: the
    status and headers, then either SSE events (chunked) or one JSON body."""

    def __init__(self, port: int, method: str, headers: Dict[str, str], body: bytes = b"") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT * 3)
        head = "%s /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, port)
        for name, value in headers.items():
            head += "%s: %s\r\n" % (name, value)
        if body:
            head += "Content-Length: %d\r\n" % len(body)
        self.sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        self.status = None  # type: Optional[int]
        self.headers = {}  # type: Dict[str, str]
        self.events = []  # type: List[Dict[str, Any]]
        self.ended = False  # nothing more will be read
        self.complete = False  # ... because the body ended properly (last chunk, full length)
        self._buffer = b""
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="test-stream-reader", daemon=True)
        self._thread.start()

    # reading (on the reader thread)

    def _recv(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self._buffer += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._recv()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._recv()
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _add(self, events: List[Dict[str, Any]]) -> None:
        with self._cond:
            self.events.extend(events)
            self._cond.notify_all()

    def _read(self) -> None:
        try:
            status_line = self._line()
            headers = {}
            while True:
                line = self._line().decode("latin-1")
                if not line:
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            with self._cond:
                self.status = int(status_line.split()[1])
                self.headers = headers
                self._cond.notify_all()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                pending = b""
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        break
                    pending += self._take(size)
                    self._take(2)
                    if b"\n\n" in pending:
                        whole, _, pending = pending.rpartition(b"\n\n")
                        self._add(parse_sse(whole + b"\n\n"))
            else:
                body = self._take(int(headers.get("content-length", "0")))
                if body:
                    self._add([{"data": body.decode("utf-8"), "json": json.loads(body)}])
            self.complete = True
        except (OSError, EOFError, ValueError):
            pass
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    # waiting (on the test's thread)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def messages(self) -> List[Any]:
        with self._cond:
            return [e["json"] for e in self.events if "json" in e]

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("waited %.1f s for %s; status %r, messages so far: %s"
                                         % (timeout, what, self.status, json.dumps(
                                             [e.get("json") for e in self.events])))
                self._cond.wait(left)

    def wait_status(self, timeout: float = WAIT) -> int:
        self.wait(lambda: self.status is not None or self.ended, "the status line", timeout)
        assert self.status is not None, "the connection closed before any answer"
        return self.status

    def wait_message(self, match: Callable[[Any], bool], what: str, timeout: float = WAIT) -> Any:
        found = []  # type: List[Any]

        def condition() -> bool:
            for event in self.events:
                if "json" in event and match(event["json"]):
                    found.append(event["json"])
                    return True
            return False
        self.wait(condition, what, timeout)
        return found[0]

    def wait_request(self, method: str, timeout: float = WAIT) -> Any:
        return self.wait_message(lambda m: m.get("method") == method and "id" in m, "a %s request" % method, timeout)

    def wait_response(self, rid: Any, timeout: float = WAIT) -> Any:
        return self.wait_message(lambda m: m.get("id") == rid and "method" not in m, "the response %r" % (rid,),
                                 timeout)

    def wait_notification(self, method: str, timeout: float = WAIT) -> Any:
        return self.wait_message(lambda m: m.get("method") == method and "id" not in m, method, timeout)

    def wait_end(self, timeout: float = WAIT) -> None:
        self.wait(lambda: self.ended, "the end of the response", timeout)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(WAIT)


class Served:
    """A running asking app and a client of it: a keep-alive ``Http`` for plain
    exchanges, ``Stream``s for answers read while they arrive."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self.handle = app.run_in_thread("http", port=0, **options)
        self.http = Http(self.handle)
        self.opened = []  # type: List[Stream]

    def initialize(self, capabilities: Optional[Dict[str, Any]] = None, version: str = LEGACY_VERSION) -> Any:
        return self.http.initialize(version, capabilities or {})

    def _session_headers(self) -> Dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}
        if self.http.session_id:
            headers["Mcp-Session-Id"] = self.http.session_id
        if self.http.version:
            headers["MCP-Protocol-Version"] = self.http.version
        return headers

    def open(self, method: str, headers: Dict[str, str], body: bytes = b"") -> Stream:
        stream = Stream(self.handle.port, method, headers, body)
        self.opened.append(stream)
        return stream

    def post_stream(self, message: Any) -> Stream:
        return self.open("POST", self._session_headers(), json.dumps(message).encode())

    def call_stream(self, name: str, arguments: Optional[Dict[str, Any]] = None, id: Any = 1,
                    meta: Optional[Dict[str, Any]] = None) -> Stream:
        params = {"name": name, "arguments": arguments or {}}  # type: Dict[str, Any]
        if meta is not None:
            params["_meta"] = meta
        return self.post_stream({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})

    def get_stream(self) -> Stream:
        """The session's standalone GET stream, attached (its reader is in place) on return."""
        stream = self.open("GET", {"Accept": "text/event-stream", "Mcp-Session-Id": self.http.session_id or "",
                                   "MCP-Protocol-Version": self.http.version or LEGACY_VERSION})
        assert stream.wait_status() == 200
        assert stream.content_type == "text/event-stream"
        return stream

    def answer(self, request: Any, result: Any) -> None:
        reply = self.http.post({"jsonrpc": "2.0", "id": request["id"], "result": result})
        assert (reply.status, reply.body) == (202, b""), reply

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = 1) -> Any:
        reply = self.http.call(method, params, id=id)
        assert reply.status == 200 and reply.content_type == "application/json", reply
        return reply.json()

    def modern(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = 1,
               capabilities: Optional[Dict[str, Any]] = None) -> Any:
        params = dict(params or {})
        if capabilities is not None:
            params["_meta"] = {"io.modelcontextprotocol/clientCapabilities": capabilities}
        return self.http.modern(method, params, id=id)

    def close(self) -> None:
        for stream in self.opened:
            stream.close()
        self.http.close()
        self.handle.stop()


@pytest.fixture
def serve():
    started = []  # type: List[Served]

    def start(app: Any = None, **options: Any) -> Served:
        served = Served(app if app is not None else make_asking_app(), **options)
        started.append(served)
        return served
    try:
        yield start
    finally:
        for served in started:
            try:
                served.close()
            except Exception:  # the next servers must stop all the same
                pass


def marker(served: Served, stream: Stream, kind: str = "prompts") -> Any:
    """Send a list_changed notification and wait for it on ``stream``: whatever was to come
    before it has come by then (one session channel, in order)."""
    served.app.notify_list_changed(kind)
    return stream.wait_notification("notifications/%s/list_changed" % kind)


# -- legacy: the server's requests on the POST stream --------------------------------------

ASKING_CASES = [
    ("ask_name", {}, "elicitation/create",
     {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}, "Hello, Ada!"),
    ("summarize", {"text": "a long story"}, "sampling/createMessage",
     {"messages": [{"role": "user", "content": {"type": "text", "text": "Summarize: a long story"}}],
      "maxTokens": 50, "systemPrompt": "Be brief.", "temperature": 0.1}, "hi (m1)"),
    ("list_roots", {}, "roots/list", {}, None),
    ("ping_client", {}, "ping", {}, "pong"),
]


@pytest.mark.parametrize("tool, arguments, method, params, text", ASKING_CASES,
                         ids=[case[0] for case in ASKING_CASES])
def test_the_request_goes_on_the_post_stream_and_the_answer_comes_by_post(serve, tool, arguments, method,
                                                                          params, text):
    served = serve()
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream(tool, arguments, id=7)
    request = stream.wait_request(method)
    assert stream.status == 200 and stream.content_type == "text/event-stream"
    assert stream.headers["mcp-session-id"] == served.http.session_id
    assert request == {"jsonrpc": "2.0", "id": "s1", "method": method, "params": params}
    checked(request)
    assert not any("result" in m for m in stream.messages), "the tool waits for the answer"
    served.answer(request, ANSWERS[method])
    response = stream.wait_response(7)
    stream.wait_end()
    assert stream.complete
    checked(response, LEGACY_VERSION, "tools/call")
    if text is None:  # list_roots returns a list: structured content too
        assert response["result"]["structuredContent"] == {"result": ["file:///work"]}
    else:
        assert response["result"]["content"] == [{"type": "text", "text": text}]
    assert stream.messages == [request, response]
    assert stream.events[0]["data"] == "" and "id" in stream.events[0], "2025-11-25 streams are primed"


def test_legacy_ask_all_asks_three_things_in_turn(serve):
    served = serve()
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("ask_all", id="all")
    asked = []
    for n, method in enumerate(["elicitation/create", "sampling/createMessage", "roots/list"], 1):
        request = stream.wait_request(method)
        assert request["id"] == "s%d" % n
        # One question at a time: the next one waits for this answer.
        assert [m["method"] for m in stream.messages if "method" in m] == [r["method"] for r in asked] + [method]
        checked(request)
        asked.append(request)
        served.answer(request, ANSWERS[method])
    response = stream.wait_response("all")
    stream.wait_end()
    assert response["result"]["content"] == [{"type": "text", "text": "Ada|hi|1"}]
    assert asked[0]["params"] == {"message": "Name?", "requestedSchema": NAME_SCHEMA}
    assert asked[1]["params"] == {"messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                                  "maxTokens": 20}


def test_the_clients_error_and_a_malformed_answer_reach_the_handler(serve):
    served = serve()
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("ask_name", id=1)
    request = stream.wait_request("elicitation/create")
    reply = served.http.post({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -1, "message": "user away"}})
    assert reply.status == 202
    # The client's code is kept; the message says whose error it is.
    assert stream.wait_response(1) == {"jsonrpc": "2.0", "id": 1, "error": {
        "code": -1, "message": "The client answered elicitation/create with an error: user away"}}
    stream = served.call_stream("ask_name", id=2)
    request = stream.wait_request("elicitation/create")
    served.answer(request, {"action": "accept", "content": {"name": 42}})
    error = stream.wait_response(2)["error"]
    assert error["code"] == -32602 and "does not match the requested schema" in error["message"], error


def test_a_client_that_loses_the_stream_resumes_it_and_still_gets_the_result(serve):
    served = serve(make_asking_app(timeout=10))
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("ask_name", id=5)
    request = stream.wait_request("elicitation/create")
    last_id = [e for e in stream.events if "json" in e][-1]["id"]
    stream.close()  # "Disconnection SHOULD NOT be interpreted as the client cancelling its request"
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": served.http.session_id or "",
               "MCP-Protocol-Version": LEGACY_VERSION, "Last-Event-ID": last_id}
    deadline = time.monotonic() + WAIT
    while True:  # 409 until the server has noticed the first reader went away
        resumed = served.open("GET", headers)
        if resumed.wait_status() != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert resumed.status == 200
    served.answer(request, ANSWERS["elicitation/create"])
    response = resumed.wait_response(5)
    resumed.wait_end()
    assert resumed.messages == [response], "only what came after the last event seen"
    assert response["result"]["content"] == [{"type": "text", "text": "Hello, Ada!"}]


def test_an_answer_from_another_session_does_not_reach_the_handler(serve):
    served = serve(make_asking_app(timeout=0.5))
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("slow_question", id=1)
    request = stream.wait_request("elicitation/create")
    other = Http(served.handle)
    try:
        other.initialize(capabilities=ALL_CAPABILITIES)
        reply = other.post({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept",
                                                                               "content": {"yes": True}}})
        assert reply.status == 202
    finally:
        other.close()
    assert stream.wait_response(1)["result"]["content"][0]["text"].startswith("error -32001: "), \
        "the question timed out: the other session's answer was not taken"


@pytest.mark.parametrize("get_first", [True, False], ids=["get-first", "get-later"])
def test_json_response_mode_puts_the_request_on_the_get_stream(serve, get_first):
    served = serve(json_response=True)
    served.initialize(ALL_CAPABILITIES)
    if get_first:
        listening = served.get_stream()
        post = served.call_stream("ask_name", id=3)
    else:  # the request waits on the session's GET stream for its reader
        post = served.call_stream("ask_name", id=3)
        time.sleep(0.2)
        listening = served.get_stream()
    request = listening.wait_request("elicitation/create")
    assert request == {"jsonrpc": "2.0", "id": "s1", "method": "elicitation/create",
                       "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}}
    assert post.status is None, "the POST waits for its one JSON body"
    served.answer(request, ANSWERS["elicitation/create"])
    response = post.wait_response(3)
    post.wait_end()
    assert post.status == 200 and post.content_type == "application/json"
    assert response == {"jsonrpc": "2.0", "id": 3, "result": text_result("Hello, Ada!")}
    marker(served, listening)
    assert listening.messages == [request, {"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]


def test_json_response_mode_cancels_a_timed_out_request_where_it_went(serve):
    served = serve(make_asking_app(timeout=0.5), json_response=True)
    served.initialize(ALL_CAPABILITIES)
    listening = served.get_stream()
    post = served.call_stream("slow_question", id=12)
    request = listening.wait_request("elicitation/create")
    response = post.wait_response(12)
    assert response["result"]["content"][0]["text"].startswith("error -32001: ")
    marker(served, listening)
    assert listening.messages == [
        request,
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "s1", "reason": "timed out"}},
        {"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"},
    ], "the client would show its form forever"


def test_stateless_mode_fails_the_question_at_once(serve):
    served = serve(stateless=True)
    for tool, method in (("ask_name", "elicitation/create"), ("summarize", "sampling/createMessage"),
                         ("list_roots", "roots/list")):
        start = time.monotonic()
        reply = served.http.call("tools/call", {"name": tool, "arguments": {"text": "x"} if tool == "summarize"
                                                else {}}, id=5, headers={"MCP-Protocol-Version": LEGACY_VERSION})
        assert time.monotonic() - start < 2, "nothing waits for an answer that cannot come"
        assert reply.status == 200 and reply.content_type == "application/json", reply
        assert "mcp-session-id" not in reply.headers
        error = reply.json()["error"]
        assert error["code"] == -32600 and error["message"].startswith(method + " cannot be sent here"), error
    assert served.handle.app.session_count() == 0


def test_an_unanswered_request_times_out_and_is_cancelled_on_the_stream(serve):
    served = serve(make_asking_app(timeout=0.5))
    served.initialize(ALL_CAPABILITIES)
    start = time.monotonic()
    stream = served.call_stream("slow_question", id=11)
    request = stream.wait_request("elicitation/create")
    response = stream.wait_response(11)
    stream.wait_end()
    assert 0.4 < time.monotonic() - start < 3
    assert stream.messages == [
        request,
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "s1", "reason": "timed out"}},
        response,
    ]
    checked(stream.messages[1])
    assert response["result"]["content"] == [
        {"type": "text", "text": "error -32001: The client did not answer elicitation/create within 0.5 s"}]
    # A late answer matches nothing and is accepted quietly; the session goes on.
    served.answer(request, {"action": "accept", "content": {"yes": True}})
    assert served.call("ping", id=12) == {"jsonrpc": "2.0", "id": 12, "result": {}}


MISSING_CASES = [
    ("ask_name", {"sampling": {}, "roots": {}}, {"elicitation": {}}),
    ("ask_name", {"elicitation": {"url": {}}}, {"elicitation": {"form": {}}}),
    ("summarize", {"elicitation": {}}, {"sampling": {}}),
    ("list_roots", {"sampling": {}}, {"roots": {}}),
    ("sample_with_tools", {"sampling": {}}, {"sampling": {"tools": {}}}),
    ("sign_in", {"elicitation": {}}, {"elicitation": {"url": {}}}),
]


@pytest.mark.parametrize("tool, capabilities, required", MISSING_CASES,
                         ids=["%s-%s" % (c[0], "-".join(sorted(c[2]))) for c in MISSING_CASES])
def test_a_missing_capability_is_32021_and_nothing_is_sent(serve, tool, capabilities, required):
    served = serve()
    served.initialize(capabilities)
    listening = served.get_stream()
    reply = served.http.call("tools/call", {"name": tool, "arguments": {"text": "x"} if tool == "summarize" else {}},
                             id=4)
    # A JSON body, not a stream: nothing went out before the response.
    assert reply.status == 200 and reply.content_type == "application/json", reply
    error = checked(reply.json(), LEGACY_VERSION, "tools/call")["error"]
    assert error["code"] == -32021 and error["data"] == {"requiredCapabilities": required}, error
    marker(served, listening)
    assert listening.messages == [{"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]


def test_can_ask_lets_a_tool_do_without(serve):
    served = serve()
    served.initialize({})
    assert served.call("tools/call", {"name": "careful"})["result"]["content"] == [
        {"type": "text", "text": "cannot ask"}]


def test_elicitation_needs_2025_06_18(serve):
    served = serve()
    served.initialize({"elicitation": {}}, version="2025-03-26")
    error = served.call("tools/call", {"name": "ask_name"})["error"]
    assert error["code"] == -32021 and error["data"] == {"requiredCapabilities": {"elicitation": {}}}


# -- legacy: logging, progress, cancellation -----------------------------------------------

def test_set_level_filters_log_messages_on_the_post_stream(serve):
    app = make_asking_app()

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Logs at four levels"""
        for level in ("debug", "info", "warning", "error"):
            ctx.log(level, "at %s" % level, logger="chatty")
        return "said it"
    served = serve(app)
    served.initialize()

    def logged(rid: int) -> List[Any]:
        stream = served.call_stream("chatty", id=rid)
        stream.wait_response(rid)
        stream.wait_end()
        for message in stream.messages:
            checked(message, LEGACY_VERSION, "tools/call" if "id" in message else None)
        assert stream.messages[-1]["result"]["content"] == [{"type": "text", "text": "said it"}]
        return [m["params"] for m in stream.messages if m.get("method") == "notifications/message"]
    # Before any logging/setLevel everything is sent.
    assert [p["level"] for p in logged(1)] == ["debug", "info", "warning", "error"]
    assert served.call("logging/setLevel", {"level": "warning"}, id=2) == {"jsonrpc": "2.0", "id": 2, "result": {}}
    assert logged(3) == [{"level": "warning", "data": "at warning", "logger": "chatty"},
                         {"level": "error", "data": "at error", "logger": "chatty"}]
    served.call("logging/setLevel", {"level": "emergency"}, id=4)
    reply = served.http.call("tools/call", {"name": "chatty"}, id=5)
    assert reply.content_type == "application/json", "nothing to send before the result: no stream"


def test_progress_increases_and_comes_before_the_response(serve):
    served = serve()
    served.initialize()
    stream = served.call_stream("long_job", {"steps": 5}, id=6, meta={"progressToken": "job"})
    response = stream.wait_response(6)
    stream.wait_end()
    assert stream.messages == [
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": "job", "progress": n, "total": 5, "message": "step %d" % n}}
        for n in range(1, 6)] + [response]
    assert response["result"]["content"] == [{"type": "text", "text": "finished"}]
    for message in stream.messages:
        checked(message, LEGACY_VERSION, "tools/call" if "id" in message else None)


def test_a_progress_value_that_does_not_increase_is_dropped(serve):
    app = make_asking_app()
    returned = []  # type: List[bool]

    @app.tool()
    def jumpy(ctx: Context) -> str:
        """Reports progress out of order"""
        for value in (1, 1, 0.5, 2):
            returned.append(ctx.progress(value))
        return "jumped"
    served = serve(app)
    served.initialize()
    stream = served.call_stream("jumpy", id=1, meta={"progressToken": 77})
    stream.wait_response(1)
    stream.wait_end()
    assert [m["params"] for m in stream.messages[:-1]] == [{"progressToken": 77, "progress": 1},
                                                          {"progressToken": 77, "progress": 2}]
    assert returned == [True, False, False, True]


def test_without_a_progress_token_there_is_no_progress(serve):
    served = serve()
    served.initialize()
    reply = served.http.call("tools/call", {"name": "long_job", "arguments": {"steps": 3}}, id=1)
    assert reply.content_type == "application/json"
    assert reply.json()["result"]["content"] == [{"type": "text", "text": "finished"}]


def test_cancelling_long_job_ends_its_stream_without_a_response(serve):
    served = serve()
    served.initialize()
    stream = served.call_stream("long_job", {"steps": 250}, id=8, meta={"progressToken": 8})
    stream.wait_notification("notifications/progress")
    start = time.monotonic()
    reply = served.http.post({"jsonrpc": "2.0", "method": "notifications/cancelled",
                              "params": {"requestId": 8, "reason": "user"}})
    assert (reply.status, reply.body) == (202, b"")
    stream.wait_end(timeout=3)
    assert time.monotonic() - start < 3, "250 steps would take 5 s"
    assert stream.complete, "the stream ends properly"
    messages = stream.messages
    assert messages and all(m.get("method") == "notifications/progress" for m in messages), messages
    values = [m["params"]["progress"] for m in messages]
    assert values == sorted(set(values)) and values[-1] < 250
    # The id is free again: a new request may use it.
    assert served.call("ping", id=8) == {"jsonrpc": "2.0", "id": 8, "result": {}}


def test_cancelling_a_waiting_question_releases_the_handler(serve):
    served = serve(make_asking_app(timeout=10))
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("ask_name", id=9)
    request = stream.wait_request("elicitation/create")
    start = time.monotonic()
    served.http.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}})
    stream.wait_end(timeout=3)
    assert time.monotonic() - start < 3
    assert stream.messages == [request], "no response for a cancelled request"
    served.answer(request, ANSWERS["elicitation/create"])  # too late: ignored


def test_cancelling_the_call_withdraws_its_question_on_the_session_channel(serve):
    served = serve(make_asking_app(timeout=10))
    served.initialize(ALL_CAPABILITIES)
    listening = served.get_stream()
    stream = served.call_stream("ask_name", id=10)
    request = stream.wait_request("elicitation/create")
    served.http.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 10}})
    withdrawn = listening.wait_notification("notifications/cancelled")
    assert withdrawn["params"]["requestId"] == request["id"], withdrawn
    checked(withdrawn)
    stream.wait_end()
    assert stream.messages == [request]


# -- legacy: resource subscriptions and list changes on the GET stream ------------------------

def test_subscribed_resource_updates_arrive_on_the_get_stream(serve):
    served = serve()
    served.initialize()
    assert served.call("resources/subscribe", {"uri": "note://hello"}, id=1) == {
        "jsonrpc": "2.0", "id": 1, "result": {}}
    listening = served.get_stream()
    served.app.notify_resource_updated("note://ask")  # not subscribed
    served.app.notify_resource_updated("note://hello")
    updated = listening.wait_notification("notifications/resources/updated")
    assert updated == {"jsonrpc": "2.0", "method": "notifications/resources/updated",
                       "params": {"uri": "note://hello"}}
    checked(updated)
    assert served.call("resources/unsubscribe", {"uri": "note://hello"}, id=2) == {
        "jsonrpc": "2.0", "id": 2, "result": {}}
    served.app.notify_resource_updated("note://hello")
    marker(served, listening)
    assert listening.messages == [updated, {"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]


def test_subscriptions_belong_to_their_session(serve):
    served = serve()
    served.initialize()
    other = Http(served.handle)
    try:
        other.initialize()
        assert other.call("resources/subscribe", {"uri": "note://hello"}).json()["result"] == {}
    finally:
        other.close()
    listening = served.get_stream()
    served.app.notify_resource_updated("note://hello")
    marker(served, listening)
    assert listening.messages == [{"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]


def test_subscribing_to_an_unknown_uri_is_32002_and_subscriptions_are_bounded(serve):
    served = serve(make_asking_app(max_subscriptions=1))
    served.initialize()
    assert served.call("resources/subscribe", {"uri": "note://nope"}, id=3) == {
        "jsonrpc": "2.0", "id": 3,
        "error": {"code": -32002, "message": "Resource not found: note://nope", "data": {"uri": "note://nope"}}}
    assert served.call("resources/subscribe", {"uri": "note://hello"}, id=4)["result"] == {}
    assert served.call("resources/subscribe", {"uri": "note://hello"}, id=5)["result"] == {}, "the same one again"
    assert served.call("resources/subscribe", {"uri": "note://ask"}, id=6)["error"]["code"] == -32602
    # Unsubscribing what was never subscribed is fine.
    assert served.call("resources/unsubscribe", {"uri": "note://ask"}, id=7)["result"] == {}


def test_registrations_changed_at_run_time_are_announced_on_the_get_stream(serve):
    served = serve()
    served.initialize()
    listening = served.get_stream()
    app = served.app

    def extra() -> str:
        """Added at run time"""
        return "extra"

    def names(method: str, key: str, field: str = "name") -> List[str]:
        return [item[field] for item in served.call(method, id=50)["result"][key]]

    app.add_tool(extra, name="extra")
    changes = [listening.wait_notification("notifications/tools/list_changed")]
    assert "extra" in names("tools/list", "tools")
    app.remove_tool("extra")
    listening.wait(lambda: len(listening.messages) == 2, "a second tools/list_changed")
    assert "extra" not in names("tools/list", "tools")
    with pytest.raises(KeyError):
        app.remove_tool("extra")

    app.add_prompt(extra, name="extra_prompt")
    listening.wait(lambda: len(listening.messages) == 3, "prompts/list_changed")
    assert names("prompts/list", "prompts") == ["personal", "extra_prompt"]
    app.remove_prompt("extra_prompt")
    app.add_resource(extra, "note://extra")
    listening.wait(lambda: len(listening.messages) == 5, "prompts then resources list_changed")
    assert names("resources/list", "resources", "uri") == ["note://hello", "note://ask", "note://extra"]
    app.remove_resource("note://extra")
    listening.wait(lambda: len(listening.messages) == 6, "resources/list_changed")
    assert names("resources/list", "resources", "uri") == ["note://hello", "note://ask"]
    assert [m["method"] for m in listening.messages] == ["notifications/%s/list_changed" % kind for kind in (
        "tools", "tools", "prompts", "prompts", "resources", "resources")]
    assert all(m == {"jsonrpc": "2.0", "method": m["method"]} for m in listening.messages), "no params"
    for message in listening.messages:
        checked(message)
    assert changes[0] == listening.messages[0]


def test_no_change_notifications_before_notifications_initialized(serve):
    served = serve()
    reply = served.http.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}},
        session=False)
    served.http.session_id = reply.headers["mcp-session-id"]
    served.http.version = LEGACY_VERSION
    listening = served.get_stream()
    served.app.notify_list_changed("tools")
    assert served.http.post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status == 202
    marker(served, listening)
    assert listening.messages == [{"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}]


def test_list_changed_capabilities_are_declared(serve):
    served = serve()
    capabilities = served.initialize().json()["result"]["capabilities"]
    assert capabilities["tools"] == {"listChanged": True}
    assert capabilities["prompts"] == {"listChanged": True}
    assert capabilities["resources"] == {"subscribe": True, "listChanged": True}


def test_url_elicitation_then_its_completion_on_the_get_stream(serve):
    served = serve()
    served.initialize({"elicitation": {"form": {}, "url": {}}})
    listening = served.get_stream()
    stream = served.call_stream("sign_in", id=21)
    request = stream.wait_request("elicitation/create")
    assert request == {"jsonrpc": "2.0", "id": "s1", "method": "elicitation/create", "params": {
        "mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in", "elicitationId": "el-1"}}
    checked(request)
    served.answer(request, {"action": "accept"})
    response = stream.wait_response(21)
    stream.wait_end()
    assert response["result"]["content"] == [{"type": "text", "text": "sign-in accept"}]
    complete = listening.wait_notification("notifications/elicitation/complete")
    assert complete == {"jsonrpc": "2.0", "method": "notifications/elicitation/complete",
                        "params": {"elicitationId": "el-1"}}
    checked(complete)
    assert stream.messages == [request, response], "the completion goes on the session channel"


def test_a_declined_url_elicitation_sends_no_completion(serve):
    served = serve()
    served.initialize({"elicitation": {"url": {}}})
    listening = served.get_stream()
    stream = served.call_stream("sign_in", id=22)
    served.answer(stream.wait_request("elicitation/create"), {"action": "decline"})
    assert stream.wait_response(22)["result"]["content"] == [{"type": "text", "text": "sign-in decline"}]
    marker(served, listening)
    assert [m["method"] for m in listening.messages] == ["notifications/prompts/list_changed"]


def test_url_elicitation_required_error_in_legacy(serve):
    served = serve()
    served.initialize({"elicitation": {"url": {}}})
    assert served.call("tools/call", {"name": "needs_payment"}, id=23) == {"jsonrpc": "2.0", "id": 23, "error": {
        "code": -32042, "message": "URL elicitation required: Pay first", "data": {"elicitations": [
            {"mode": "url", "message": "Pay first", "url": "https://example.com/pay", "elicitationId": "pay-1"}]}}}


def test_deleting_the_session_releases_a_waiting_handler(serve):
    app = make_asking_app(timeout=10)
    outcome = []  # type: List[Any]
    released = threading.Event()

    @app.tool()
    def waiter(ctx: Context) -> str:
        """Waits for an answer that will not come"""
        try:
            ctx.elicit("Still there?", {"yes": bool})
            outcome.append("answered")
        except ConnectionClosed as exc:
            outcome.append(type(exc).__name__)
        finally:
            released.set()
        return "done"
    served = serve(app)
    served.initialize(ALL_CAPABILITIES)
    stream = served.call_stream("waiter", id=31)
    request = stream.wait_request("elicitation/create")
    start = time.monotonic()
    reply = served.http.send("DELETE", headers={"Mcp-Session-Id": served.http.session_id})
    assert reply.status == 200
    assert released.wait(3), "the handler still waits for the answer"
    assert time.monotonic() - start < 3, "released by the DELETE, not by the 10 s timeout"
    assert outcome == ["ConnectionClosed"]
    stream.wait_end(timeout=3)
    assert served.handle.app.session_count() == 0
    assert served.app.registry.listeners == [], "the session no longer hears of changes"
    late = served.http.post({"jsonrpc": "2.0", "id": request["id"], "result": ANSWERS["elicitation/create"]})
    assert late.status == 404


# -- 2026-07-28: input_required rounds over stateless POSTs ------------------------------------

def modern_answer(reply: Any) -> Any:
    """The result of a 2026-07-28 answer: one JSON body, never a stream (so never a request)."""
    assert reply.status == 200 and reply.content_type == "application/json", reply
    assert "mcp-session-id" not in reply.headers
    message = reply.json()
    assert "method" not in message
    return message


def test_modern_ask_name_round_trip(serve):
    served = serve()
    caps = {"elicitation": {}}
    first = checked(modern_answer(served.modern("tools/call", {"name": "ask_name", "arguments": {}}, id=1,
                                                capabilities=caps)), MODERN, "tools/call")
    result = first["result"]
    state = result.pop("requestState")
    assert isinstance(state, str) and state
    assert first == {"jsonrpc": "2.0", "id": 1, "result": {
        "resultType": "input_required",
        "inputRequests": {"name": {"method": "elicitation/create",
                                   "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}}},
        "_meta": SERVER_INFO}}
    second = checked(modern_answer(served.modern("tools/call", {
        "name": "ask_name", "arguments": {}, "inputResponses": {"name": ANSWERS["elicitation/create"]},
        "requestState": state}, id=2, capabilities=caps)), MODERN, "tools/call")
    assert second == {"jsonrpc": "2.0", "id": 2, "result": {
        "content": [{"type": "text", "text": "Hello, Ada!"}], "resultType": "complete", "_meta": SERVER_INFO}}
    assert served.handle.app.session_count() == 0
    # inputResponses without requestState are accepted.
    stateless = modern_answer(served.modern("tools/call", {
        "name": "ask_name", "arguments": {}, "inputResponses": {"name": ANSWERS["elicitation/create"]}},
        id=3, capabilities=caps))
    assert stateless["result"]["content"] == [{"type": "text", "text": "Hello, Ada!"}]


def test_modern_two_rounds_with_the_side_effect_once(serve):
    served = serve()
    caps = {"elicitation": {}}
    params = {"name": "two_steps", "arguments": {}}
    first = modern_answer(served.modern("tools/call", params, id=1, capabilities=caps))["result"]
    assert first["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "message": "First?", "requestedSchema": {"type": "object", "properties": {"a": {"type": "string"}},
                                                 "required": ["a"]}}}}
    second = modern_answer(served.modern("tools/call", dict(params, requestState=first["requestState"], inputResponses={
        "elicit-1": {"action": "accept", "content": {"a": "x"}}}), id=2, capabilities=caps))["result"]
    assert second["resultType"] == "input_required"
    assert second["inputRequests"] == {"elicit-2": {"method": "elicitation/create", "params": {
        "message": "Second?", "requestedSchema": {"type": "object", "properties": {"b": {"type": "integer"}},
                                                  "required": ["b"]}}}}
    assert second["requestState"] != first["requestState"]
    assert served.app.side_effects == []
    # The second state carries the first answer: only the new one is sent.
    third = modern_answer(served.modern("tools/call", dict(params, requestState=second["requestState"], inputResponses={
        "elicit-2": {"action": "accept", "content": {"b": 2}}}), id=3, capabilities=caps))["result"]
    assert third["resultType"] == "complete" and third["content"] == [{"type": "text", "text": "x/2"}]
    assert served.app.side_effects == ["two_steps"]


def test_modern_gather_asks_three_in_one_round(serve):
    served = serve()
    params = {"name": "ask_all", "arguments": {}}
    first = checked(modern_answer(served.modern("tools/call", params, id=1, capabilities=ALL_CAPABILITIES)),
                    MODERN, "tools/call")["result"]
    assert first["inputRequests"] == {
        "who": {"method": "elicitation/create",
                "params": {"message": "Name?", "requestedSchema": NAME_SCHEMA}},
        "hi": {"method": "sampling/createMessage",
               "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                          "maxTokens": 20}},
        "roots": {"method": "roots/list", "params": {}},
    }
    # Half answered: the next round asks only what is missing; the state keeps the rest.
    partial = modern_answer(served.modern("tools/call", dict(params, inputResponses={
        "who": ANSWERS["elicitation/create"]}, requestState=first["requestState"]), id=2,
        capabilities=ALL_CAPABILITIES))["result"]
    assert partial["resultType"] == "input_required" and sorted(partial["inputRequests"]) == ["hi", "roots"]
    answers = {"hi": ANSWERS["sampling/createMessage"], "roots": ANSWERS["roots/list"],
               "unasked": {"ignored": True}}
    done = modern_answer(served.modern("tools/call", dict(params, inputResponses=answers,
                                                          requestState=partial["requestState"]),
                                       id=2, capabilities=ALL_CAPABILITIES))["result"]
    assert done["resultType"] == "complete" and done["content"] == [{"type": "text", "text": "Ada|hi|1"}]


def test_modern_tampered_or_foreign_request_state_is_32602(serve):
    served = serve()
    caps = {"elicitation": {}}
    state = modern_answer(served.modern("tools/call", {"name": "ask_name", "arguments": {}}, id=1,
                                        capabilities=caps))["result"]["requestState"]
    flipped = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
    answer = {"name": ANSWERS["elicitation/create"]}
    tampered = served.modern("tools/call", {"name": "ask_name", "arguments": {}, "inputResponses": answer,
                                            "requestState": flipped}, id=2, capabilities=caps)
    # mcplite answers handler-level errors with 200 (only -32020/-32021/-32022 are 400 and
    # -32601 is 404 in 2026-07-28); the JSON-RPC error is what matters.
    assert (tampered.status, tampered.content_type) == (200, "application/json"), tampered
    assert tampered.json() == {"jsonrpc": "2.0", "id": 2, "error": {
        "code": -32602, "message": "Invalid params: requestState integrity check failed"}}
    # The state of ask_name on another tool that asks the same question.
    foreign = served.modern("tools/call", {"name": "careful", "arguments": {}, "inputResponses": answer,
                                           "requestState": state}, id=3, capabilities=caps)
    assert foreign.json() == {"jsonrpc": "2.0", "id": 3, "error": {
        "code": -32602, "message": "Invalid params: requestState belongs to another request"}}
    # Other arguments: the state is bound to the arguments' digest too.
    other_args = served.modern("tools/call", {"name": "ask_name", "arguments": {"x": 1}, "inputResponses": answer,
                                              "requestState": state}, id=4, capabilities=caps)
    assert other_args.json()["error"]["code"] == -32602
    bad_responses = served.modern("tools/call", {"name": "ask_name", "arguments": {}, "inputResponses": None,
                                                 "requestState": state}, id=5, capabilities=caps)
    assert bad_responses.json()["error"]["code"] == -32602


def test_modern_request_state_expires(serve):
    served = serve(make_asking_app(input_state_ttl=1))
    caps = {"elicitation": {}}
    state = modern_answer(served.modern("tools/call", {"name": "ask_name", "arguments": {}}, id=1,
                                        capabilities=caps))["result"]["requestState"]
    time.sleep(2.05)
    late = served.modern("tools/call", {"name": "ask_name", "arguments": {}, "requestState": state,
                                        "inputResponses": {"name": ANSWERS["elicitation/create"]}},
                         id=2, capabilities=caps)
    assert late.json() == {"jsonrpc": "2.0", "id": 2, "error": {
        "code": -32602, "message": "Invalid params: requestState has expired; send the request again without it"}}


def test_modern_has_no_resources_subscribe(serve):
    served = serve()
    reply = served.modern("resources/subscribe", {"uri": "note://hello"}, id=1)
    assert reply.status == 404 and reply.json()["error"]["code"] == -32601


def test_modern_url_elicitation_is_an_input_request(serve):
    served = serve()
    caps = {"elicitation": {"url": {}}}
    first = checked(modern_answer(served.modern("tools/call", {"name": "sign_in", "arguments": {}}, id=1,
                                                capabilities=caps)), MODERN, "tools/call")["result"]
    assert first["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "mode": "url", "message": "Please sign in", "url": "https://example.com/sign-in"}}}, "no elicitationId"
    done = modern_answer(served.modern("tools/call", {"name": "sign_in", "arguments": {}, "requestState": first[
        "requestState"], "inputResponses": {"elicit-1": {"action": "accept"}}}, id=2, capabilities=caps))
    assert done["result"]["content"] == [{"type": "text", "text": "sign-in accept"}]
    payment = checked(modern_answer(served.modern("tools/call", {"name": "needs_payment", "arguments": {}}, id=3,
                                                  capabilities=caps)), MODERN, "tools/call")["result"]
    assert payment["resultType"] == "input_required" and payment["inputRequests"] == {
        "url-pay-1": {"method": "elicitation/create", "params": {
            "mode": "url", "message": "Pay first", "url": "https://example.com/pay"}}}
    ping = served.modern("tools/call", {"name": "ping_client", "arguments": {}}, id=4, capabilities={})
    assert ping.json() == {"jsonrpc": "2.0", "id": 4, "error": {
        "code": -32600, "message": "ping cannot be sent to a 2026-07-28 client"}}


def test_modern_missing_capability_is_400_32021(serve):
    served = serve()
    for tool, caps, required in (("ask_name", {}, {"elicitation": {}}),
                                 ("ask_all", {"elicitation": {}}, {"sampling": {}}),
                                 ("sign_in", {"elicitation": {}}, {"elicitation": {"url": {}}})):
        reply = served.modern("tools/call", {"name": tool, "arguments": {}}, id=tool, capabilities=caps)
        assert (reply.status, reply.content_type) == (400, "application/json"), reply
        body = checked(reply.json(), MODERN)
        assert body["id"] == tool and body["error"]["code"] == -32021, body
        assert body["error"]["data"] == {"requiredCapabilities": required}


def test_modern_prompt_and_resource_rounds(serve):
    served = serve()
    caps = {"elicitation": {}}
    first = modern_answer(served.modern("prompts/get", {"name": "personal"}, id=1, capabilities=caps))["result"]
    assert list(first["inputRequests"]) == ["context"]
    done = modern_answer(served.modern("prompts/get", {"name": "personal", "requestState": first["requestState"],
                                                       "inputResponses": {"context": {
                                                           "action": "accept", "content": {"context": "tests"}}}},
                                       id=2, capabilities=caps))["result"]
    assert done["messages"] == [{"role": "user", "content": {"type": "text", "text": "Use tests"}}]
    first = modern_answer(served.modern("resources/read", {"uri": "note://ask"}, id=3, capabilities=caps))["result"]
    assert list(first["inputRequests"]) == ["note"]
    done = modern_answer(served.modern("resources/read", {"uri": "note://ask", "requestState": first["requestState"],
                                                          "inputResponses": {"note": {
                                                              "action": "accept", "content": {"note": "n1"}}}},
                                       id=4, capabilities=caps))["result"]
    assert done["contents"] == [{"uri": "note://ask", "mimeType": "text/plain", "text": "note: n1"}]


# -- 2026-07-28: subscriptions/listen ---------------------------------------------------------

def listen(served: Served, rid: Any, notifications: Dict[str, Any]) -> Stream:
    body = {"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen", "params": {
        "notifications": notifications,
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}}
    return served.open("POST", {"Content-Type": "application/json", "Accept": ACCEPT_BOTH,
                                "MCP-Protocol-Version": MODERN, "Mcp-Method": "subscriptions/listen"},
                       json.dumps(body).encode())


def test_listen_stream_carries_tagged_updates_and_list_changes(serve):
    served = serve()
    stream = listen(served, "L1", {"resourceSubscriptions": ["note://hello"], "toolsListChanged": True})
    ack = stream.wait_notification("notifications/subscriptions/acknowledged")
    assert stream.status == 200 and stream.content_type == "text/event-stream"
    assert ack == {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {
        "notifications": {"toolsListChanged": True, "resourceSubscriptions": ["note://hello"]},
        "_meta": {SUBSCRIPTION_ID: "L1"}}}
    app = served.app
    app.notify_resource_updated("note://ask")  # not subscribed
    app.notify_resource_updated("note://hello")
    app.notify_list_changed("prompts")  # not asked for

    def added() -> str:
        return "added"
    app.add_tool(added, name="added")
    # A 2026-07-28 question meanwhile sends nothing on the listen stream.
    assert modern_answer(served.modern("tools/call", {"name": "ask_name", "arguments": {}},
                                       capabilities={"elicitation": {}}))["result"]["resultType"] == "input_required"
    stream.wait_notification("notifications/tools/list_changed")
    assert stream.messages == [
        ack,
        {"jsonrpc": "2.0", "method": "notifications/resources/updated",
         "params": {"uri": "note://hello", "_meta": {SUBSCRIPTION_ID: "L1"}}},
        {"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
         "params": {"_meta": {SUBSCRIPTION_ID: "L1"}}},
    ]
    for message in stream.messages:
        checked(message, MODERN)
    stream.close()
    deadline = time.monotonic() + WAIT
    while (served.handle.app._listeners or app.registry.listeners) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served.handle.app._listeners == {} and app.registry.listeners == [], "closing the stream ends the subscription"


def test_listen_with_nothing_asked_gets_only_its_acknowledgement(serve):
    served = serve()
    stream = listen(served, 5, {})
    stream.wait_notification("notifications/subscriptions/acknowledged")
    quiet = listen(served, 6, {"promptsListChanged": True})
    quiet.wait_notification("notifications/subscriptions/acknowledged")
    served.app.notify_resource_updated("note://hello")
    served.app.notify_list_changed("tools")
    served.app.notify_list_changed("prompts")
    quiet.wait_notification("notifications/prompts/list_changed")
    assert [m["method"] for m in stream.messages] == ["notifications/subscriptions/acknowledged"]
    assert stream.messages[0]["params"] == {"notifications": {}, "_meta": {SUBSCRIPTION_ID: 5}}


# -- completion and pagination, both eras --------------------------------------------------------

def completing_app(**options: Any) -> Any:
    app = make_asking_app(**options)

    @app.prompt()
    def greet(language: str, style: str = "plain") -> str:
        """Greets in a language"""
        return "hello in %s (%s)" % (language, style)

    @app.completion("language", prompt="greet")
    def languages(value: str, others: Dict[str, Any]) -> List[str]:
        names = ["python", "perl", "php", "rust"]
        if others.get("style") == "short":
            names = ["py"]
        return [n for n in names if n.startswith(value)]
    return app


COMPLETE = {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "language", "value": "p"}}


def test_completion_in_a_legacy_session(serve):
    served = serve(completing_app())
    init = served.initialize().json()["result"]
    assert init["capabilities"]["completions"] == {}
    answer = checked(served.call("completion/complete", COMPLETE, id=1), LEGACY_VERSION, "completion/complete")
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {"completion": {
        "values": ["python", "perl", "php"], "total": 3, "hasMore": False}}}
    with_context = dict(COMPLETE, context={"arguments": {"style": "short"}})
    assert served.call("completion/complete", with_context, id=2)["result"]["completion"]["values"] == ["py"]
    no_completer = {"ref": COMPLETE["ref"], "argument": {"name": "style", "value": ""}}
    assert served.call("completion/complete", no_completer, id=3)["result"] == {
        "completion": {"values": [], "total": 0, "hasMore": False}}
    unknown = served.call("completion/complete", {"ref": {"type": "ref/prompt", "name": "nope"},
                                                  "argument": {"name": "x", "value": ""}}, id=4)
    assert unknown == {"jsonrpc": "2.0", "id": 4, "error": {"code": -32602, "message": "Unknown prompt: nope"}}
    bad_arg = served.call("completion/complete", {"ref": COMPLETE["ref"], "argument": {"name": "x", "value": ""}},
                          id=5)
    assert bad_arg["error"]["code"] == -32602


def test_completion_in_2026_07_28(serve):
    served = serve(completing_app())
    reply = served.modern("completion/complete", COMPLETE, id=1)
    answer = checked(modern_answer(reply), MODERN, "completion/complete")
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {
        "completion": {"values": ["python", "perl", "php"], "total": 3, "hasMore": False},
        "resultType": "complete", "_meta": SERVER_INFO}}
    unknown = served.modern("completion/complete", {"ref": {"type": "ref/prompt", "name": "nope"},
                                                    "argument": {"name": "x", "value": ""}}, id=2)
    assert unknown.status == 200, unknown  # see test_modern_tampered_or_foreign_request_state_is_32602
    assert unknown.json() == {"jsonrpc": "2.0", "id": 2, "error": {"code": -32602, "message": "Unknown prompt: nope"}}


def test_completion_without_completers_is_32601_in_both_eras(serve):
    served = serve()
    modern = served.modern("completion/complete", COMPLETE, id=1)
    assert modern.status == 404 and modern.json()["error"]["code"] == -32601
    assert "completions" not in served.initialize().json()["result"]["capabilities"]
    assert served.call("completion/complete", COMPLETE, id=2)["error"]["code"] == -32601


ALL_TOOLS = ["ask_name", "two_steps", "ask_all", "summarize", "sample_with_tools", "list_roots", "ping_client",
             "sign_in", "needs_payment", "careful", "slow_question", "long_job", "read_other"]


def walk_tools(fetch: Callable[[Optional[str], int], Any]) -> List[str]:
    names = []  # type: List[str]
    cursor = None  # type: Optional[str]
    for page in range(1, 20):
        result = fetch(cursor, page)["result"]
        assert 1 <= len(result["tools"]) <= 2, result
        names.extend(tool["name"] for tool in result["tools"])
        cursor = result.get("nextCursor")
        if cursor is None:
            return names
        assert isinstance(cursor, str) and cursor
    raise AssertionError("the pages never end")


def test_pagination_in_a_legacy_session(serve):
    served = serve(make_asking_app(page_size=2))
    served.initialize()

    def fetch(cursor: Optional[str], page: int) -> Any:
        return checked(served.call("tools/list", {"cursor": cursor} if cursor else {}, id=page),
                       LEGACY_VERSION, "tools/list")
    assert walk_tools(fetch) == ALL_TOOLS
    first = served.call("tools/list", id=30)["result"]
    assert served.call("tools/list", {"cursor": first["nextCursor"]}, id=31)["result"]["tools"][0]["name"] == \
        "ask_all", "a cursor can be used again"
    assert served.call("tools/list", {"cursor": "nope"}, id=32) == {"jsonrpc": "2.0", "id": 32, "error": {
        "code": -32602, "message": "Invalid params: invalid cursor 'nope'"}}
    other_list = served.call("prompts/list", {"cursor": first["nextCursor"]}, id=33)
    assert other_list["error"]["code"] == -32602, "a tools cursor is not a prompts cursor"
    resources = served.call("resources/list", id=34)["result"]
    assert [r["uri"] for r in resources["resources"]] == ["note://hello", "note://ask"]
    assert "nextCursor" not in resources


def test_pagination_in_2026_07_28(serve):
    served = serve(make_asking_app(page_size=2))

    def fetch(cursor: Optional[str], page: int) -> Any:
        reply = served.modern("tools/list", {"cursor": cursor} if cursor else {}, id=page)
        answer = checked(modern_answer(reply), MODERN, "tools/list")
        result = answer["result"]
        assert result["resultType"] == "complete" and result["ttlMs"] == 0 and result["cacheScope"] == "private"
        return answer
    assert walk_tools(fetch) == ALL_TOOLS
    bad = served.modern("tools/list", {"cursor": "nope"}, id=40)
    assert bad.status == 200, bad  # see test_modern_tampered_or_foreign_request_state_is_32602
    assert bad.json() == {"jsonrpc": "2.0", "id": 40, "error": {
        "code": -32602, "message": "Invalid params: invalid cursor 'nope'"}}
    # A cursor from a legacy session's listing works here too: it names a list and an offset.
    legacy = Http(served.handle)
    try:
        legacy.initialize()
        cursor = legacy.call("tools/list").json()["result"]["nextCursor"]
    finally:
        legacy.close()
    page = modern_answer(served.modern("tools/list", {"cursor": cursor}, id=41))["result"]
    assert [t["name"] for t in page["tools"]] == ["ask_all", "summarize"]
