"""Requests carried on their sender's thread (``HttpChannel.send_waited``): a call's POST is
made by the thread that waits for it, not handed to the channel's pool and back (two thread
hand-offs per call, which a gateway's upstream hop paid on top of its own); its timeout and
cancellation still end it promptly, and a request ended before its answer began is never
sent again.

The servers are a hand-written 2026-07-28 one on 127.0.0.1 (which counts what it receives,
and holds a ``hang`` call until the test lets it go) and mcplite's own; every server is
stopped, every wait bounded.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest

from mcplite import Cancelled, Client, RequestTimeout, Server
from mcplite.clientsession import cancel_when

MODERN = "2026-07-28"
WAIT = 5.0


class Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls = []  # type: List[str]   # the tools/call names received, in order
        self.lock = threading.Lock()
        self.release = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server = None  # type: Any

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        meta = {"io.modelcontextprotocol/serverInfo": {"name": "counting", "version": "1"}}
        method = message.get("method")
        if "id" not in message:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if method == "server/discover":
            result = {"supportedVersions": [MODERN], "capabilities": {"tools": {}}, "resultType": "complete",
                      "_meta": meta}  # type: Dict[str, Any]
        elif method == "tools/call":
            name = message["params"]["name"]
            with self.server.lock:
                self.server.calls.append(name)
            if name == "hang":
                # No answer until released (or the client goes away).
                self.server.release.wait(WAIT)
                return
            result = {"content": [{"type": "text", "text": "called %s" % name}], "resultType": "complete",
                      "_meta": meta}
        else:
            result = {"resultType": "complete", "_meta": meta}
        body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def counting() -> Iterator[Counting]:
    server = Counting()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(WAIT)
        assert not thread.is_alive()


def url_of(server: Counting) -> str:
    return "http://127.0.0.1:%d/mcp" % server.server_address[1]


def pool_threads() -> List[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("mcplite-http-client")]


def test_calls_are_posted_on_the_callers_thread(counting):
    assert pool_threads() == []
    with Client.http(url_of(counting), era="modern", timeout=WAIT) as client:
        for i in range(3):
            assert client.call_tool("echo%d" % i, {})["content"][0]["text"] == "called echo%d" % i
        # Nothing was handed to the channel's pool: it never started a thread.
        assert pool_threads() == []
    assert counting.calls == ["echo0", "echo1", "echo2"]


def test_a_timeout_before_the_answer_began_ends_the_call_and_it_is_not_sent_again(counting):
    with Client.http(url_of(counting), era="modern", timeout=WAIT) as client:
        client.call_tool("first", {})  # the connection is a kept-alive one from here on
        start = time.monotonic()
        with pytest.raises(RequestTimeout):
            client.call_tool("hang", {}, timeout=0.5)
        elapsed = time.monotonic() - start
        assert 0.45 <= elapsed < 1.5, elapsed
        time.sleep(0.5)  # room for a request sent again, if it were
        assert counting.calls == ["first", "hang"]
        # The client goes on: the next call is answered.
        assert client.call_tool("after", {})["content"][0]["text"] == "called after"
    assert counting.calls == ["first", "hang", "after"]


def test_a_cancel_check_ends_a_call_carried_on_this_thread(counting):
    gave_up = threading.Event()
    with Client.http(url_of(counting), era="modern", timeout=WAIT) as client:
        client.call_tool("first", {})
        threading.Timer(0.3, gave_up.set).start()
        start = time.monotonic()
        with pytest.raises(Cancelled):
            with cancel_when(gave_up.is_set):
                client.call_tool("hang", {})
        assert time.monotonic() - start < 1.5
        time.sleep(0.3)
        assert counting.calls == ["first", "hang"]


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_closed_client_ends_a_call_carried_on_another_thread(era):
    app = Server("slow", version="1.0.0")
    release = threading.Event()

    @app.tool()
    def slow() -> str:
        """Waits to be released"""
        release.wait(WAIT)
        return "done"
    handle = app.run_in_thread("http", port=0)
    errors = []  # type: List[BaseException]
    try:
        client = Client.http(handle.url, era=era, timeout=WAIT)

        def call() -> None:
            try:
                client.call_tool("slow", {})
            except Exception as exc:
                errors.append(exc)
        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
        start = time.monotonic()
        client.close()
        caller.join(WAIT)
        assert not caller.is_alive()
        assert time.monotonic() - start < 3.0
        assert len(errors) == 1 and "closed" in str(errors[0]), errors
    finally:
        release.set()
        handle.stop()


def test_a_call_ended_by_closing_the_client_is_not_sent_again(counting):
    client = Client.http(url_of(counting), era="modern", timeout=WAIT)
    errors = []  # type: List[BaseException]
    try:
        client.call_tool("first", {})

        def call() -> None:
            try:
                client.call_tool("hang", {})
            except Exception as exc:
                errors.append(exc)
        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
    finally:
        client.close()
    caller.join(WAIT)
    assert not caller.is_alive()
    time.sleep(0.3)  # room for a request sent again, if it were
    assert counting.calls == ["first", "hang"]
    assert len(errors) == 1 and "closed" in str(errors[0]), errors
