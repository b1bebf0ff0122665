"""Interop: mcplite's ``Client`` against the TypeScript reference server,
``@modelcontextprotocol/server-everything@2026.8.31`` (on ``@modelcontextprotocol/sdk`` 1.32.2),
over stdio and over Streamable HTTP.

What the server is: **legacy only**. It speaks 2025-11-25 and older through the initialize
handshake, and answers an ``initialize`` asking for 2026-07-28 with 2025-11-25. Over stdio
``server/discover`` is an unknown method to it (-32601 "Method not found"); over HTTP a POST
without a session that is not an initialize gets HTTP 400 with -32000 "Bad Request: Server not
initialized" (and ``id: null``). The client's probe (``era="auto"``) takes either answer as "not
a modern server" and falls back to ``initialize`` at once; ``era="modern"`` fails with it.

The server's command line is ``$MCPLITE_EVERYTHING`` without the transport argument
(``scripts/test`` installs the server under ``.cache/everything/`` and sets it); the tests add
``stdio`` or ``streamableHttp``. Each stdio test starts a server process of its own (the client
stops it on close); the HTTP server is started once for the module with ``PORT=0`` and the
preload ``tests/everything_loopback.cjs`` (it binds 127.0.0.1 instead of every interface, and
reports the port), each test opening sessions of its own there, and it is killed by process
group at the end. Every process started here carries a marker in its environment, and a test
that leaves one running fails (``interop_support.leftovers``). Skipped when the variable is
unset, unless ``MCPLITE_REQUIRE_INTEROP`` is set: then, as when the variable is set but the
server unusable, the tests fail.

Facts of this server the tests rely on (its ``dist/``): the tools that ask the client
(``get-roots-list``, ``trigger-elicitation-request``, ``trigger-url-elicitation``,
``trigger-sampling-request``) exist only for a client declaring the capability they need
(URL elicitation for the third), registered once the session is initialized, like the
task-only ``simulate-research-query``; 350 ms after ``notifications/initialized`` it asks for the roots and
logs "Roots updated: N root(s) received from client"; ``resources/subscribe`` and
``unsubscribe`` log at info level; the two toggle tools send one log message / one
``resources/updated`` at once and then every 5 s; resources are listed in one page. Over HTTP
everything not tied to a request (logs, roots requests, updates, list changes) travels on the
session's GET stream, which the client opens just after connecting: tests that need it wait
for the roots log first (``ready``). The TS SDK answers an unknown tool, bad tool arguments and
a task-only tool with an ``isError`` tool result, not a JSON-RPC error; unknown prompts,
resources and methods are JSON-RPC errors (``MCPError``).
"""

import base64
import gzip
import json
import os
import queue
import re
import shlex
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from interop_support import (LEGACY, REPO, TOKEN_VARIABLE, everything_http_server, peer_env, reap_leftovers,
                             stop_group, unusable)
from mcplite import Client
from mcplite import RequestTimeout
from mcplite.jsonrpc import MCPError

VARIABLE = "MCPLITE_EVERYTHING"
EVERYTHING_VERSION = "2026.8.31"

# Bounds: a stdio server starts in ~0.25 s and stops in ~0.4 s; an HTTP session opens in
# ~50 ms. These only keep a hung server from hanging the suite.
START_TIMEOUT = 20.0  # a stdio server's first answer (the HTTP server's start: interop_support)
CALL_TIMEOUT = 10.0  # every client call
WAIT = 5.0  # a notification or a handler call the server sends by itself

SERVER_INFO = {"name": "mcp-servers/everything", "title": "Everything Reference Server", "version": "2.0.0"}
SERVER_CAPABILITIES = {
    "tools": {"listChanged": True}, "prompts": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True}, "logging": {},
    "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}, "completions": {},
}
BASE_TOOLS = [
    "echo", "get-annotated-message", "get-env", "get-resource-links", "get-resource-reference",
    "get-structured-content", "get-sum", "get-tiny-image", "gzip-file-as-resource", "toggle-simulated-logging",
    "toggle-subscriber-updates", "trigger-long-running-operation",
]
DOCS = ["architecture.md", "extension.md", "features.md", "how-it-works.md", "instructions.md", "startup.md",
        "structure.md"]
DOC = "demo://resource/static/document/"
WATCHED = DOC + "features.md"
TEXT_TEMPLATE = "demo://resource/dynamic/text/{resourceId}"
BLOB_TEMPLATE = "demo://resource/dynamic/blob/{resourceId}"
SIMULATED_LOGS = {  # the simulated logging's messages, by level (a session id may follow)
    "debug": "Debug-level message", "info": "Info-level message", "notice": "Notice-level message",
    "warning": "Warning-level message", "error": "Error-level message", "critical": "Critical-level message",
    "alert": "Alert level-message", "emergency": "Emergency-level message",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Every process started here carries one of these in its environment (see leftovers()).
STDIO_TOKEN = "everything-stdio-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
HTTP_TOKEN = "everything-http-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])


# --- the server -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def everything():
    # type: () -> List[str]
    """The server's command line without its transport argument."""
    raw = os.environ.get(VARIABLE, "")
    if not raw:
        unusable(VARIABLE, "MCPLITE_EVERYTHING is not set (scripts/test sets it to a command running "
                           "@modelcontextprotocol/server-everything@%s)" % EVERYTHING_VERSION)
    argv = shlex.split(raw)
    if not argv:
        unusable(VARIABLE, "MCPLITE_EVERYTHING is empty")
    if shutil.which(argv[0]) is None:
        unusable(VARIABLE, "MCPLITE_EVERYTHING=%s: %s is not a program" % (raw, argv[0]))
    if argv[-1].endswith(".js") and not Path(argv[-1]).is_file():
        unusable(VARIABLE, "MCPLITE_EVERYTHING=%s: there is no %s" % (raw, argv[-1]))
    # When it names the package's dist/index.js, the package must be the version pinned here.
    package = Path(argv[-1]).parent.parent / "package.json"
    if argv[-1].endswith("index.js") and package.is_file():
        try:
            meta = json.loads(package.read_text(encoding="utf-8"))
        except ValueError as exc:
            unusable(VARIABLE, "%s is not JSON: %s" % (package, exc))
        if (meta.get("name"), meta.get("version")) != ("@modelcontextprotocol/server-everything", EVERYTHING_VERSION):
            unusable(VARIABLE, "MCPLITE_EVERYTHING=%s runs %s@%s, not server-everything@%s"
                     % (raw, meta.get("name"), meta.get("version"), EVERYTHING_VERSION))
    return argv


@pytest.fixture(scope="module")
def everything_http(everything):
    # type: (List[str]) -> Any
    """The URL of one ``streamableHttp`` server on 127.0.0.1 for the whole module."""
    with everything_http_server(everything, HTTP_TOKEN) as url:
        yield url


@pytest.fixture(autouse=True)
def no_leftover_servers():
    # type: () -> Any
    yield
    left = reap_leftovers(STDIO_TOKEN)
    assert not left, "stdio servers still running after their client closed (now killed): %s" % left


# --- the client and what its handlers saw -----------------------------------------------------------


class Peer:
    """The client's handlers: they record what the server sent or asked, in order, and answer
    with what the test set (``sampling_answer``, ``elicitation_answer``, ``roots``; an
    ``MCPError`` there is raised instead)."""

    def __init__(self):
        # type: () -> None
        self.cond = threading.Condition()
        self.events = []  # type: List[Tuple[str, Any]]
        self.sampling_answer = {"role": "assistant", "content": {"type": "text", "text": "Forty-two."},
                                "model": "mcplite-test-model", "stopReason": "endTurn"}  # type: Any
        self.elicitation_answer = {"action": "decline"}  # type: Any
        self.roots = [{"uri": "file:///srv/project", "name": "Project"}]  # type: List[Dict[str, Any]]

    def add(self, kind, payload):
        # type: (str, Any) -> None
        with self.cond:
            self.events.append((kind, payload))
            self.cond.notify_all()

    def of(self, kind):
        # type: (str) -> List[Any]
        with self.cond:
            return [payload for k, payload in self.events if k == kind]

    def wait_for(self, kind, match=lambda payload: True, timeout=WAIT, what=""):
        # type: (str, Callable[[Any], bool], float, str) -> Any
        """The first recorded ``kind`` event that ``match``es, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for k, payload in self.events:
                    if k == kind and match(payload):
                        return payload
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail("no %s %swithin %ss; the client got: %r"
                                % (kind, (what + " ") if what else "", timeout, self.events), pytrace=False)
                self.cond.wait(remaining)

    def answer(self, kind, params, reply):
        # type: (str, Dict[str, Any], Any) -> Any
        self.add(kind, params)
        if isinstance(reply, MCPError):
            raise reply
        return reply

    def sampling(self, params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        return self.answer("sampling", params, self.sampling_answer)

    def elicitation(self, params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        return self.answer("elicitation", params, self.elicitation_answer)

    def list_roots(self):
        # type: () -> List[Dict[str, Any]]
        self.add("roots", None)
        return list(self.roots)

    def log(self, params):
        # type: (Dict[str, Any]) -> None
        self.add("log", params)

    def updated(self, uri):
        # type: (str) -> None
        self.add("updated", uri)

    def list_changed(self, kind):
        # type: (str) -> None
        self.add("list_changed", kind)

    def logs(self, prefix):
        # type: (str) -> List[Dict[str, Any]]
        return [p for p in self.of("log") if str(p.get("data", "")).startswith(prefix)]


def roots_log(count):
    # type: (int) -> Callable[[Dict[str, Any]], bool]
    def match(params):
        # type: (Dict[str, Any]) -> bool
        return params == {"level": "info", "logger": "everything-server",
                          "data": "Roots updated: %d root(s) received from client" % count}
    return match


@pytest.fixture(params=["stdio", "http"])
def transport(request):
    # type: (Any) -> str
    return request.param


@pytest.fixture
def connect(request, everything, transport):
    # type: (Any, List[str], str) -> Any
    """``connect(peer=None, handlers=True, ready=False, **options) -> (client, peer)``: a new
    client of a new stdio server, or of a new session of the module's HTTP server. With
    ``handlers`` every handler of ``peer`` is given (so every capability declared); ``ready``
    waits until the server's first roots request came and its log arrived, which over HTTP
    shows the session's GET stream is open."""
    url = request.getfixturevalue("everything_http") if transport == "http" else None
    clients = []  # type: List[Client]

    def make(peer=None, handlers=True, ready=False, **options):
        # type: (Optional[Peer], bool, bool, Any) -> Tuple[Client, Peer]
        peer = peer if peer is not None else Peer()
        if handlers:
            for name, handler in (("sampling", peer.sampling), ("elicitation", peer.elicitation),
                                  ("roots", peer.list_roots), ("on_log", peer.log),
                                  ("on_resource_updated", peer.updated), ("on_list_changed", peer.list_changed)):
                options.setdefault(name, handler)
        options.setdefault("timeout", CALL_TIMEOUT)
        if url is None:
            client = Client.stdio(everything + ["stdio"], env={TOKEN_VARIABLE: STDIO_TOKEN}, capture_stderr=True,
                                  close_timeout=0.5, **options)
        else:
            client = Client.http(url, **options)
        clients.append(client)
        if ready:
            peer.wait_for("log", roots_log(len(peer.roots)), what="about the roots (the server's first roots request)")
        return client, peer

    try:
        yield make
    finally:
        for client in clients:
            client.close()


def texts(result):
    # type: (Dict[str, Any]) -> List[str]
    return [block.get("text") for block in result["content"]]


def raw_json(text, prefix):
    # type: (str, str) -> Any
    """The JSON the server printed after ``prefix``."""
    assert text.startswith(prefix), text
    return json.loads(text[len(prefix):])


def session_of(result, before):
    # type: (Dict[str, Any], str) -> str
    """The session id the server named in a toggle tool's answer ("undefined" over stdio)."""
    found = re.search(re.escape(before) + r" for session (\S+)", texts(result)[0])
    assert found, texts(result)
    return found.group(1)


# --- the protocol era --------------------------------------------------------------------------------


def stdio_exchange(argv, messages):
    # type: (List[str], List[Dict[str, Any]]) -> List[Dict[str, Any]]
    """Write ``messages`` to a fresh stdio server, one at a time, and return its answer to each."""
    env = peer_env(STDIO_TOKEN)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, cwd=str(REPO), start_new_session=True)
    lines = queue.Queue()  # type: queue.Queue

    def read():
        # type: () -> None
        for line in iter(proc.stdout.readline, b""):
            lines.put(line)
        lines.put(None)  # the server is gone

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    answers = []
    try:
        for message in messages:
            try:
                proc.stdin.write(json.dumps(message).encode() + b"\n")
                proc.stdin.flush()
            except OSError as exc:
                pytest.fail("cannot write to the stdio server (exit status %s): %s" % (proc.poll(), exc), pytrace=False)
            while True:
                try:
                    line = lines.get(timeout=START_TIMEOUT)
                except queue.Empty:
                    line = b""
                if not line:
                    pytest.fail("the stdio server did not answer %r (within %ss; exit status %s)"
                                % (message, START_TIMEOUT, proc.poll()), pytrace=False)
                answer = json.loads(line)
                if answer.get("id") == message["id"]:
                    answers.append(answer)
                    break
    finally:
        stop_group(proc)
        reader.join(5)
        proc.stdin.close()
        proc.stdout.close()
    return answers


def http_post(url, message, session=None):
    # type: (str, Dict[str, Any], Optional[str]) -> Tuple[int, Dict[str, str], List[Dict[str, Any]]]
    """POST one message; (status, headers, the JSON-RPC messages of the body: JSON or SSE)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if session is not None:
        headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
    request = urllib.request.Request(url, json.dumps(message).encode(), headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        response = opener.open(request, timeout=CALL_TIMEOUT)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        status = response.getcode()
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        data = response.read().decode("utf-8")
    kind = headers_out.get("content-type", "")
    if kind.startswith("text/event-stream"):
        bodies = [line[5:].strip() for line in data.splitlines() if line.startswith("data:")]
        messages = [json.loads(b) for b in bodies if b]
    else:
        messages = [json.loads(data)] if data.strip() else []
    return status, headers_out, messages


def http_delete(url, session):
    # type: (str, str) -> None
    request = urllib.request.Request(url, headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY},
                                     method="DELETE")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=CALL_TIMEOUT) as response:
        response.read()


DISCOVER = {"jsonrpc": "2.0", "id": 1, "method": "server/discover",
            "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}
INITIALIZE_MODERN = {"jsonrpc": "2.0", "id": 2, "method": "initialize",
                     "params": {"protocolVersion": "2026-07-28", "capabilities": {},
                                "clientInfo": {"name": "raw-probe", "version": "0"}}}


def test_the_server_is_legacy_only_on_the_wire(everything, transport, request):
    """What the client's probe meets, seen without the client: ``server/discover`` is an error,
    and ``initialize`` asking for 2026-07-28 is answered with 2025-11-25."""
    if transport == "stdio":
        discover, initialize = stdio_exchange(everything + ["stdio"], [DISCOVER, INITIALIZE_MODERN])
        assert discover == {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}
    else:
        url = request.getfixturevalue("everything_http")
        status, _, answers = http_post(url, DISCOVER)
        assert (status, answers) == (400, [{"jsonrpc": "2.0", "id": None, "error": {
            "code": -32000, "message": "Bad Request: Server not initialized"}}])
        status, headers, answers = http_post(url, INITIALIZE_MODERN)
        assert status == 200 and headers.get("mcp-session-id"), (status, headers, answers)
        http_delete(url, headers["mcp-session-id"])
        [initialize] = answers
    assert initialize["id"] == 2 and "error" not in initialize, initialize
    assert initialize["result"]["protocolVersion"] == LEGACY
    assert initialize["result"]["serverInfo"] == SERVER_INFO


def test_auto_probes_then_falls_back_to_initialize(connect):
    start = time.monotonic()
    client, _ = connect(handlers=False, probe_timeout=10.0)
    # The probe's error answer ended it: no waiting out probe_timeout.
    assert time.monotonic() - start < 5.0
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    assert client.server_info == SERVER_INFO
    assert client.server_capabilities == SERVER_CAPABILITIES
    assert client.instructions.startswith("# Everything Server")
    client.ping()
    assert texts(client.call_tool("echo", {"message": "after the probe"})) == ["Echo: after the probe"]


def test_forced_modern_fails_with_the_servers_answer(connect, transport):
    with pytest.raises(MCPError) as caught:
        connect(handlers=False, era="modern")
    if transport == "stdio":
        assert (caught.value.code, caught.value.message) == (-32601, "Method not found")
    else:
        assert (caught.value.code, caught.value.message) == (-32000, "Bad Request: Server not initialized")
    # (no stdio server is left running: see no_leftover_servers)


def test_forced_legacy_and_older_versions(connect):
    client, _ = connect(handlers=False, era="legacy")
    assert (client.era, client.protocol_version) == ("legacy", LEGACY)
    for version in ("2025-06-18", "2024-11-05"):
        client, _ = connect(handlers=False, protocol_version=version)
        assert (client.era, client.protocol_version) == ("legacy", version)
        assert texts(client.call_tool("get-sum", {"a": 1, "b": 2})) == ["The sum of 1 and 2 is 3."]


# --- lists ---------------------------------------------------------------------------------------------


def test_lists(connect):
    # Without client capabilities, no conditional tools (but the task-only one, always there).
    bare, _ = connect(handlers=False)
    assert [t["name"] for t in bare.list_tools()] == BASE_TOOLS + ["simulate-research-query"]

    client, _ = connect(capabilities={"elicitation": {"url": {}}})
    assert client.capabilities == {"sampling": {}, "elicitation": {"url": {}, "form": {}},
                                   "roots": {"listChanged": True}}
    tools = {t["name"]: t for t in client.list_tools()}
    assert list(tools) == BASE_TOOLS + ["get-roots-list", "trigger-elicitation-request", "trigger-url-elicitation",
                                        "trigger-sampling-request", "simulate-research-query"]
    assert tools["get-sum"]["inputSchema"]["properties"] == {
        "a": {"type": "number", "description": "First number"}, "b": {"type": "number", "description": "Second number"}}
    assert tools["get-sum"]["inputSchema"]["required"] == ["a", "b"]
    assert tools["echo"]["annotations"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True,
                                            "openWorldHint": False}
    assert tools["get-structured-content"]["outputSchema"]["required"] == ["temperature", "conditions", "humidity"]
    assert tools["simulate-research-query"]["execution"] == {"taskSupport": "required"}

    # Resources come in one page: no cursor, and list_resources() is that page.
    page = client.request("resources/list", {})
    assert "nextCursor" not in page
    resources = client.list_resources()
    assert resources == page["resources"]
    assert resources == [{"uri": DOC + name, "name": name, "mimeType": "text/markdown",
                          "description": "Static document file exposed from /docs: " + name} for name in DOCS]
    assert client.list_resource_templates() == [
        {"name": "Dynamic Text Resource", "uriTemplate": TEXT_TEMPLATE, "mimeType": "text/plain",
         "description": "Plaintext dynamic resource fabricated from the {resourceId} variable, which must be an "
                        "integer."},
        {"name": "Dynamic Blob Resource", "uriTemplate": BLOB_TEMPLATE, "mimeType": "application/octet-stream",
         "description": "Binary (base64) dynamic resource fabricated from the {resourceId} variable, which must be "
                        "an integer."},
    ]
    prompts = client.list_prompts()
    assert [p["name"] for p in prompts] == ["simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"]
    assert prompts[1] == {"name": "args-prompt", "title": "Arguments Prompt",
                          "description": "A prompt with two arguments, one required and one optional",
                          "arguments": [{"name": "city", "description": "Name of the city", "required": True},
                                        {"name": "state", "required": False}]}
    assert [a["name"] for a in prompts[3]["arguments"]] == ["resourceType", "resourceId"]


# --- tools ---------------------------------------------------------------------------------------------


def test_tools_with_exact_results(connect):
    client, _ = connect(handlers=False)
    message = "h\u00e9llo \u2713 \U0001F600\nsecond line \"quoted\" \\ \u2028 end"
    assert client.call_tool("echo", {"message": message}) == {"content": [{"type": "text", "text": "Echo: " + message}]}
    big = "x" * 1000000  # one megabyte each way
    assert texts(client.call_tool("echo", {"message": big})) == ["Echo: " + big]
    assert client.call_tool("get-sum", {"a": 2, "b": 40.5}) == {
        "content": [{"type": "text", "text": "The sum of 2 and 40.5 is 42.5."}]}
    assert client.call_tool("get-structured-content", {"location": "Chicago"}) == {
        "content": [{"type": "text", "text": '{"temperature":36,"conditions":"Light rain / drizzle","humidity":82}'}],
        "structuredContent": {"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82}}
    assert client.call_tool("get-annotated-message", {"messageType": "error"}) == {
        "content": [{"type": "text", "text": "Error: Operation failed",
                     "annotations": {"audience": ["user", "assistant"], "priority": 1}}]}
    image = client.call_tool("get-tiny-image")["content"]
    assert [block["type"] for block in image] == ["text", "image", "text"]
    assert image[1]["mimeType"] == "image/png"
    assert base64.b64decode(image[1]["data"]).startswith(PNG_SIGNATURE)


def test_tool_errors(connect):
    """The TS SDK turns a tool's failure, and also an unknown tool, into an ``isError``
    result; the client returns it (it raises only for JSON-RPC errors)."""
    client, _ = connect(handlers=False)
    result = client.call_tool("get-sum", {"a": "one", "b": 2})
    assert result["isError"] is True
    [text] = texts(result)
    assert text.startswith("MCP error -32602: Input validation error: Invalid arguments for tool get-sum:"), text
    assert client.call_tool("no-such-tool", {}) == {
        "content": [{"type": "text", "text": "MCP error -32602: Tool no-such-tool not found"}], "isError": True}
    # The client still works.
    assert texts(client.call_tool("get-sum", {"a": 1, "b": 1})) == ["The sum of 1 and 1 is 2."]


def test_json_rpc_errors_raise_mcp_error(connect):
    client, _ = connect(handlers=False)
    cases = [
        (lambda: client.request("no/such-method", {}), -32601, "Method not found"),
        (lambda: client.get_prompt("no-such-prompt"), -32602, "MCP error -32602: Prompt no-such-prompt not found"),
        (lambda: client.get_prompt("args-prompt", {}), -32602,
         "MCP error -32602: Invalid arguments for prompt args-prompt:"),
        (lambda: client.read_resource("demo://no/such/resource"), -32602,
         "MCP error -32602: Resource demo://no/such/resource not found"),
        (lambda: client.read_resource("demo://resource/dynamic/text/seven"), -32603,
         "Unknown resource: demo://resource/dynamic/text/seven"),
    ]
    for call, code, message in cases:
        with pytest.raises(MCPError) as caught:
            call()
        assert caught.value.code == code, (code, message, caught.value)
        assert caught.value.message.startswith(message), (message, caught.value.message)
    assert texts(client.call_tool("echo", {"message": "still here"})) == ["Echo: still here"]


def test_simulate_research_query_needs_tasks(connect):
    """The tool is there once sampling/elicitation are declared, but only as a task."""
    client, _ = connect()
    assert client.call_tool("simulate-research-query", {"topic": "x"}) == {"content": [{"type": "text", "text": (
        "MCP error -32601: Tool simulate-research-query requires task augmentation (taskSupport: 'required')")}],
        "isError": True}


def test_long_running_tool_reports_progress(connect):
    client, _ = connect(handlers=False)
    progress = []  # type: List[Tuple[Any, ...]]
    start = time.monotonic()
    # The call's timeout is shorter than the operation: each progress notification pushes it on.
    result = client.call_tool("trigger-long-running-operation", {"duration": 1.2, "steps": 4}, timeout=0.8,
                              progress=lambda *args: progress.append(args))
    elapsed = time.monotonic() - start
    assert texts(result) == ["Long running operation completed. Duration: 1.2 seconds, Steps: 4."]
    assert progress == [(1, 4, None), (2, 4, None), (3, 4, None), (4, 4, None)]  # all in before the call returned
    assert 1.1 < elapsed < CALL_TIMEOUT


def test_a_timed_out_call_is_cancelled_and_the_client_goes_on(connect):
    client, _ = connect(handlers=False)
    start = time.monotonic()
    with pytest.raises(RequestTimeout) as caught:
        client.call_tool("trigger-long-running-operation", {"duration": 1.0, "steps": 1}, timeout=0.3)
    assert (caught.value.method, caught.value.timeout) == ("tools/call", 0.3)
    assert time.monotonic() - start < 0.9  # it did not wait for the operation
    assert texts(client.call_tool("get-sum", {"a": 20, "b": 22})) == ["The sum of 20 and 22 is 42."]
    time.sleep(1.0)  # the cancelled operation ends on the server: its answer must not turn up anywhere
    assert texts(client.call_tool("echo", {"message": "next"})) == ["Echo: next"]


def test_concurrent_calls(connect):
    client, _ = connect(handlers=False)
    results = {}  # type: Dict[int, Any]
    progress = []  # type: List[Any]

    def call(i):
        # type: (int) -> None
        try:
            if i == 0:
                results[i] = texts(client.call_tool("trigger-long-running-operation", {"duration": 0.4, "steps": 2},
                                                    progress=lambda *args: progress.append(args)))
            else:
                results[i] = texts(client.call_tool("get-sum", {"a": i, "b": 0.5}))
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CALL_TIMEOUT * 2)
    assert results[0] == ["Long running operation completed. Duration: 0.4 seconds, Steps: 2."]
    assert progress == [(1, 2, None), (2, 2, None)]
    for i in range(1, 16):
        assert results[i] == ["The sum of %d and 0.5 is %s." % (i, i + 0.5)], (i, results[i])


def test_http_timed_out_requests_release_their_streams(everything_http):
    """After a timeout the client sends ``notifications/cancelled``, and the server, as it
    should, never answers the request nor ends its SSE stream: the client must stop reading
    it, or each timed-out call would hold one of the channel's 32 workers for good."""
    client = Client.http(everything_http, timeout=CALL_TIMEOUT)
    try:
        for _ in range(32):
            with pytest.raises(RequestTimeout):
                client.call_tool("trigger-long-running-operation", {"duration": 0.2, "steps": 1}, timeout=0.05)
        time.sleep(0.5)  # every one of those operations has ended on the server by now
        assert texts(client.call_tool("get-sum", {"a": 1, "b": 2}, timeout=1.0)) == ["The sum of 1 and 2 is 3."]
    finally:
        client.close()


# --- logging and subscriptions ---------------------------------------------------------------------------


def test_logging_levels(connect, transport):
    client, peer = connect(ready=True)
    # At "warning" the server's info-level log about a subscribe is not sent ...
    client.set_log_level("warning")
    client.subscribe(WATCHED)
    # ... and at "info" the one about the unsubscribe is.
    client.set_log_level("info")
    client.unsubscribe(WATCHED)
    log = peer.wait_for("log", lambda p: str(p.get("data")).startswith("Received Unsubscribe"))
    suffix = " " if transport == "stdio" else " from session "
    assert log["level"] == "info" and log["data"].startswith(
        "Received Unsubscribe Resource request: %s%s" % (WATCHED, suffix)), log
    assert peer.logs("Received Subscribe") == []

    # Simulated logging: one message at once, at a random level; "debug" lets every one through.
    client.set_log_level("debug")
    session = session_of(client.call_tool("toggle-simulated-logging"), "Started simulated, random-leveled logging")
    if transport == "stdio":
        assert session == "undefined"
    else:
        assert log["data"].endswith(" from session " + session)
    suffix = "" if transport == "stdio" else " - SessionId " + session
    simulated = peer.wait_for("log", lambda p: p.get("level") in SIMULATED_LOGS and p.get("data") == (
        SIMULATED_LOGS[p["level"]] + suffix), what="from simulated logging")
    assert set(simulated) == {"level", "data"}
    assert session_of(client.call_tool("toggle-simulated-logging"), "Stopped simulated logging") == session


def test_subscription_updates(connect, transport):
    client, peer = connect(ready=True)
    client.subscribe(WATCHED)
    started = session_of(client.call_tool("toggle-subscriber-updates"), "Started simulated resource updated "
                                                                        "notifications")
    # One update at once ...
    assert peer.wait_for("updated", lambda uri: True) == WATCHED
    if transport == "http":
        # ... and another 5 s later; meanwhile the server has closed the client's idle
        # kept-alive connections (Keep-Alive: timeout=5), which the next calls must get over.
        before = time.monotonic()
        peer.wait_for("updated", lambda uri: len(peer.of("updated")) >= 2, timeout=8.0, what="second update")
        assert time.monotonic() - before > 3.0
    client.unsubscribe(WATCHED)
    assert session_of(client.call_tool("toggle-subscriber-updates"), "Stopped simulated resource updates") == started
    assert set(peer.of("updated")) == {WATCHED}


# --- resources, prompts, completion ------------------------------------------------------------------------


def test_read_resources(connect, transport):
    client, peer = connect(ready=True)
    [doc] = client.read_resource(DOC + "instructions.md")["contents"]
    assert (doc["uri"], doc["mimeType"]) == (DOC + "instructions.md", "text/markdown")
    assert doc["text"] == client.instructions  # the server's instructions are that file

    [text] = client.read_resource("demo://resource/dynamic/text/7")["contents"]
    assert (text["uri"], text["mimeType"]) == ("demo://resource/dynamic/text/7", "text/plain")
    assert re.match(r"Resource 7: This is a plaintext resource created at \S.*$", text["text"]), text
    [blob] = client.read_resource("demo://resource/dynamic/blob/5")["contents"]
    assert (blob["uri"], blob["mimeType"], "text" in blob) == ("demo://resource/dynamic/blob/5", "text/plain", False)
    assert re.match(r"Resource 5: This is a base64 blob created at \S.*$",
                    base64.b64decode(blob["blob"]).decode("utf-8")), blob

    # A blob resource the session makes: the gzip tool registers it (a list change) and links it.
    name = "mcplite-%s-%s.txt.gz" % (transport, uuid.uuid4().hex[:8])
    payload = "h\u00e9llo from mcplite\n".encode("utf-8") * 50
    uri = "demo://resource/session/" + name
    result = client.call_tool("gzip-file-as-resource", {
        "name": name, "data": "data:text/plain;base64," + base64.b64encode(payload).decode("ascii")})
    assert result == {"content": [{"type": "resource_link", "uri": uri, "name": name, "mimeType": "application/gzip"}]}
    peer.wait_for("list_changed", lambda kind: kind == "resources")
    [gz] = client.read_resource(uri)["contents"]
    assert (gz["uri"], gz["mimeType"]) == (uri, "application/gzip")
    assert gzip.decompress(base64.b64decode(gz["blob"])) == payload
    assert [r["uri"] for r in client.list_resources()] == [DOC + n for n in DOCS] + [uri]


def test_prompts(connect):
    client, _ = connect(handlers=False)
    assert client.get_prompt("simple-prompt") == {"messages": [
        {"role": "user", "content": {"type": "text", "text": "This is a simple prompt without arguments."}}]}
    assert client.get_prompt("args-prompt", {"city": "Paris", "state": "Texas"}) == {"messages": [
        {"role": "user", "content": {"type": "text", "text": "What's weather in Paris, Texas?"}}]}
    assert client.get_prompt("args-prompt", {"city": "S\u00e3o Paulo"})["messages"][0]["content"]["text"] == (
        "What's weather in S\u00e3o Paulo?")
    assert client.get_prompt("completable-prompt", {"department": "Sales", "name": "Eve"})["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Please promote Eve to the head of the Sales team."}}]
    intro, embedded = client.get_prompt("resource-prompt", {"resourceType": "Blob", "resourceId": "3"})["messages"]
    assert intro == {"role": "user", "content": {"type": "text", "text": (
        "This prompt includes the Blob resource with id: 3. Please analyze the following resource:")}}
    assert embedded["role"] == "user" and embedded["content"]["type"] == "resource"
    resource = embedded["content"]["resource"]
    assert (resource["uri"], resource["mimeType"]) == ("demo://resource/dynamic/blob/3", "text/plain")
    assert base64.b64decode(resource["blob"]).decode("utf-8").startswith("Resource 3: This is a base64 blob")


def test_completion(connect):
    client, _ = connect(handlers=False)
    prompt = {"type": "ref/prompt", "name": "completable-prompt"}
    assert client.complete(prompt, "department", "S") == {"values": ["Sales", "Support"], "total": 2,
                                                          "hasMore": False}
    # The second argument's values depend on the first, given as context.
    assert client.complete(prompt, "name", "", {"department": "Engineering"})["values"] == ["Alice", "Bob", "Charlie"]
    assert client.complete(prompt, "name", "B", {"department": "Engineering"})["values"] == ["Bob"]
    assert client.complete(prompt, "name", "B")["values"] == []
    template = {"type": "ref/resource", "uri": TEXT_TEMPLATE}
    assert client.complete(template, "resourceId", "42") == {"values": ["42"], "total": 1, "hasMore": False}
    assert client.complete(template, "resourceId", "x")["values"] == []
    resource_prompt = {"type": "ref/prompt", "name": "resource-prompt"}
    assert client.complete(resource_prompt, "resourceType", "B")["values"] == ["Blob"]


# --- what the server asks the client ---------------------------------------------------------------------


def test_sampling(connect):
    client, peer = connect()
    result = client.call_tool("trigger-sampling-request", {"prompt": "What is six times seven?", "maxTokens": 7})
    assert peer.of("sampling") == [{
        "messages": [{"role": "user", "content": {
            "type": "text", "text": "Resource trigger-sampling-request context: What is six times seven?"}}],
        "systemPrompt": "You are a helpful test server.", "maxTokens": 7, "temperature": 0.7}]
    [text] = texts(result)
    assert raw_json(text, "LLM sampling result: \n") == peer.sampling_answer
    assert "isError" not in result

    # A handler's MCPError goes back to the server as that JSON-RPC error.
    peer.sampling_answer = MCPError(-1, "No model here")
    result = client.call_tool("trigger-sampling-request", {"prompt": "again"})
    assert result == {"content": [{"type": "text", "text": "MCP error -1: No model here"}], "isError": True}
    assert peer.of("sampling")[1]["maxTokens"] == 100  # the tool's default


def test_form_elicitation(connect):
    client, peer = connect()
    peer.elicitation_answer = {"action": "accept", "content": {
        "name": "Ada Lovelace", "check": True, "email": "ada@example.com", "integer": 7, "number": 2.5,
        "untitledMultipleSelectEnum": ["Piano"], "titledSingleSelectEnum": "hero-3"}}
    result = client.call_tool("trigger-elicitation-request")
    [params] = peer.of("elicitation")
    assert sorted(params) == ["message", "requestedSchema"]  # form mode: no "mode" (it is the default)
    assert params["message"] == "Please provide inputs for the following fields:"
    schema = params["requestedSchema"]
    assert (schema["type"], schema["required"]) == ("object", ["name"])
    assert list(schema["properties"]) == [
        "name", "check", "firstLine", "email", "homepage", "birthdate", "integer", "number",
        "untitledSingleSelectEnum", "untitledMultipleSelectEnum", "titledSingleSelectEnum",
        "titledMultipleSelectEnum", "legacyTitledEnum"]
    assert schema["properties"]["name"] == {"title": "String", "type": "string", "description": "Your full, legal name"}
    assert schema["properties"]["integer"] == {
        "title": "Integer", "type": "integer", "minimum": 1, "maximum": 100, "default": 42,
        "description": "Your favorite integer (do not give us your phone number, pin, or other sensitive info)"}
    assert schema["properties"]["titledSingleSelectEnum"]["oneOf"][2] == {"const": "hero-3", "title": "Wonder Woman"}

    first, inputs, raw = texts(result)
    assert first == "\u2705 User provided the requested information!"
    assert inputs == ("User inputs:\n- Name: Ada Lovelace\n- Agreed to terms: true\n- Email: ada@example.com\n"
                      "- Favorite Integer: 7\n- Favorite Number: 2.5")
    assert raw_json(raw, "\nRaw result: ") == peer.elicitation_answer

    peer.elicitation_answer = {"action": "decline"}
    assert texts(client.call_tool("trigger-elicitation-request")) == [
        "\u274c User declined to provide the requested information.",
        '\nRaw result: {\n  "action": "decline"\n}']
    peer.elicitation_answer = {"action": "cancel"}
    assert texts(client.call_tool("trigger-elicitation-request"))[0] == (
        "\u26a0\ufe0f User cancelled the elicitation dialog.")
    assert len(peer.of("elicitation")) == 3


def test_url_elicitation(connect):
    client, peer = connect(capabilities={"elicitation": {"url": {}}})
    peer.elicitation_answer = {"action": "accept"}
    url = "https://example.com/consent?step=1"
    result = client.call_tool("trigger-url-elicitation", {"url": url, "elicitationId": "mcplite-1"})
    assert peer.of("elicitation") == [{"mode": "url", "url": url, "elicitationId": "mcplite-1",
                                       "message": "Please open the link to complete this action."}]
    assert texts(result) == [
        "\u2705 User completed the URL elicitation flow.\nElicitation ID: mcplite-1\nURL: " + url,
        '\nRaw result: {\n  "action": "accept"\n}']

    # The error path: -32042 with the elicitation to complete first, as MCPError data.
    arguments = {"url": url, "errorPath": True, "elicitationId": "mcplite-2-" + uuid.uuid4().hex[:8]}
    with pytest.raises(MCPError) as caught:
        client.call_tool("trigger-url-elicitation", arguments)
    assert caught.value.code == -32042
    assert caught.value.message == "MCP error -32042: This request requires browser-based authorization."
    [required] = caught.value.data["elicitations"]
    assert sorted(required) == ["elicitationId", "message", "mode", "url"]
    assert (required["mode"], required["url"]) == ("url", "https://modelcontextprotocol.io")
    # Retried once that is done, the same call goes through (and asks for the URL).
    assert texts(client.call_tool("trigger-url-elicitation", arguments))[0].startswith(
        "\u2705 User completed the URL elicitation flow.")
    assert peer.of("elicitation")[-1]["elicitationId"] == arguments["elicitationId"]


def test_roots(connect):
    peer = Peer()
    client, _ = connect(peer=peer, ready=True)  # the server asked for the roots after initialized
    assert len(peer.of("roots")) == 1
    note = ("\n\nNote: This server demonstrates the roots protocol capability but doesn't actually access files. "
            "The roots are provided by the MCP client and can be used by servers that need file system access.")
    assert texts(client.call_tool("get-roots-list")) == [
        "Current MCP Roots (1 total):\n\n1. Project\n   URI: file:///srv/project" + note]
    assert len(peer.of("roots")) == 1  # (it keeps what it got)

    peer.roots = peer.roots + [{"uri": "file:///tmp/scratch"}]
    client.notify_roots_changed()  # the server asks again
    peer.wait_for("log", roots_log(2))
    assert len(peer.of("roots")) == 2
    assert texts(client.call_tool("get-roots-list")) == [
        "Current MCP Roots (2 total):\n\n1. Project\n   URI: file:///srv/project\n\n"
        "2. Unnamed Root\n   URI: file:///tmp/scratch" + note]


def test_no_handlers_no_questions(connect):
    """A client without handlers declares no capabilities: the server never asks it anything,
    and the tools that would are not offered."""
    client, _ = connect(handlers=False)
    assert client.capabilities == {}
    result = client.call_tool("trigger-sampling-request", {"prompt": "x"})
    assert result == {"isError": True, "content": [
        {"type": "text", "text": "MCP error -32602: Tool trigger-sampling-request not found"}]}


# --- closing ---------------------------------------------------------------------------------------------------


def test_http_close_ends_the_session(everything_http):
    client = Client.http(everything_http, timeout=CALL_TIMEOUT)
    try:
        started = client.call_tool("toggle-subscriber-updates")
        session = session_of(started, "Started simulated resource updated notifications")
        stopped = client.call_tool("toggle-subscriber-updates")
        assert session_of(stopped, "Stopped simulated resource updates") == session
        ping = {"jsonrpc": "2.0", "id": 99, "method": "ping"}
        assert http_post(everything_http, ping, session)[2] == [{"jsonrpc": "2.0", "id": 99, "result": {}}]
    finally:
        client.close()  # DELETE /mcp with the session id
    status, _, answers = http_post(everything_http, ping, session)
    assert (status, answers) == (400, [{"jsonrpc": "2.0", "error": {  # (and no id)
        "code": -32000, "message": "Bad Request: No valid session ID provided"}}])
