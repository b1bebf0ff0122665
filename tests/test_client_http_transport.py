"""The client's HTTP transport underneath MCP: proxies, TLS, and HTTP error statuses.

Proxies: a forward proxy in this process (``proxy_support.ForwardProxy``) records what it
saw. mcplite never proxies a loopback host, so the server is addressed as
``mcp.example.test``, a name only the proxy can resolve (``FAKE_HOSTS``); a connection that
bypasses the proxy fails at once, as resolving that name is made to fail in every test
(``no_dns``), and is recorded there. The tests that go through the proxy run twice
(``how``): with ``proxy=`` and with the environment's http_proxy / https_proxy.

TLS: a CA and a server certificate for localhost, 127.0.0.1 and mcp.example.test, made by
the ``openssl`` command line per test session in a temporary directory; mcplite's server
speaks plain HTTP, so ``TlsFront`` terminates TLS in front of it.

HTTP errors: a hand-written server answers 401, 403 or 503, at the handshake or after it.

Every server, proxy and client is stopped by a fixture; every wait is bounded.
"""

import base64
import json
import os
import shutil
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional

import pytest

from mcplite import Client, ConnectionClosed, Context, HttpError, MCPError, RequestTimeout, Server
from proxy_support import ForwardProxy, TlsFront, make_certificates
from test_client_http import Updates

WAIT = 5.0  # the longest any single expected event may take
PROMPT = 2.0  # what "at once" means for a failure
FAKE = "mcp.example.test"
FAKE_HOSTS = {FAKE: "127.0.0.1", "other.example.test": "127.0.0.1", "127.mcp.example.test": "127.0.0.1"}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")
ERAS = ["modern", "legacy"]


# --- the app --------------------------------------------------------------------------------------------

def build_app():
    # type: () -> Server
    app = Server("proxied", version="1.0.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b

    @app.tool()
    def steps(ctx: Context, count: int) -> str:
        """Reports progress and logs: its answer is an SSE stream"""
        for i in range(1, count + 1):
            ctx.progress(i, count, "step %d" % i)
        ctx.info("all %d steps done" % count)
        return "finished"

    @app.tool()
    def touch(uri: str) -> str:
        """Says a resource changed"""
        app.notify_resource_updated(uri)
        return "touched"

    @app.resource("note://a", mime_type="text/plain")
    def note_a() -> str:
        return "note a"

    return app


class Recorder:
    """Wraps ``handle.app.handle``: method, headers and JSON-RPC method of every request the
    server answered, and whether the answer was a stream."""

    def __init__(self, handle):
        # type: (Any) -> None
        self.lock = threading.Lock()
        self.entries = []  # type: List[Dict[str, Any]]
        inner = handle.app.handle

        def handle_request(req):
            # type: (Any) -> Any
            response = inner(req)
            try:
                message = json.loads(req.body.decode("utf-8")) if req.body else None
            except ValueError:
                message = None
            entry = {"method": req.method, "path": req.path, "headers": dict(req.headers),
                     "rpc": message.get("method") if isinstance(message, dict) else None,
                     "status": response.status if response is not None else None,
                     "streamed": response is not None and response.stream is not None}
            with self.lock:
                self.entries.append(entry)
            return response
        handle.app.handle = handle_request

    def mark(self):
        # type: () -> int
        with self.lock:
            return len(self.entries)

    def since(self, mark=0):
        # type: (int) -> List[Dict[str, Any]]
        with self.lock:
            return list(self.entries[mark:])


def basic(user, password):
    # type: (str, str) -> str
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


def no_traceback(error):
    # type: (BaseException) -> None
    for text in (str(error), getattr(error, "message", "")):
        assert "Traceback" not in text and 'File "' not in text, text


# --- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    # type: (Any) -> List[Any]
    """No proxy from the test runner's environment, and names under example.test do not
    resolve (at once, without asking any DNS server): a connection made directly to one
    fails and is recorded here."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)  # (urllib then ignores HTTP_PROXY)
    looked_up = []  # type: List[Any]
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        # type: (Any, Any, Any) -> Any
        name = host.decode("ascii") if isinstance(host, bytes) else str(host)
        if name.lower().rstrip(".").endswith(".example.test"):
            looked_up.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.fixture(scope="module")
def server():
    # type: () -> Any
    """mcplite's server on 127.0.0.1, answering to the fake name as well as to loopback."""
    handle = build_app().run_in_thread("http", port=0, allowed_hosts=[FAKE, "127." + FAKE, "localhost", "127.0.0.1"])
    handle.recorder = Recorder(handle)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def proxy():
    # type: () -> Callable[..., ForwardProxy]
    """``proxy(require_auth=None)``: a ForwardProxy for FAKE_HOSTS, stopped afterwards."""
    proxies = []  # type: List[ForwardProxy]

    def start(require_auth=None):
        # type: (Optional[str]) -> ForwardProxy
        started = ForwardProxy(FAKE_HOSTS, require_auth=require_auth)
        proxies.append(started)
        return started
    yield start
    for started in proxies:
        started.stop()
    assert [t for started in proxies for t in started.alive()] == [], "proxy threads left running"


@pytest.fixture
def connect():
    # type: () -> Callable[..., Client]
    """``connect(url, **options)``: Client.http with short timeouts, closed afterwards."""
    clients = []  # type: List[Client]

    def make(url, **options):
        # type: (str, Any) -> Client
        options.setdefault("timeout", WAIT)
        options.setdefault("probe_timeout", 2.0)
        client = Client.http(url, **options)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()


@pytest.fixture(params=ERAS)
def era(request):
    # type: (Any) -> str
    return request.param


def fake_url(handle):
    # type: (Any) -> str
    return "http://%s:%d/mcp" % (FAKE, handle.port)


def timed(fn):
    # type: (Callable[[], Any]) -> Any
    """Run ``fn`` on a thread for at most WAIT seconds: (error or None, elapsed seconds)."""
    outcome = {}  # type: Dict[str, Any]

    def run():
        # type: () -> None
        try:
            result = fn()
            if isinstance(result, Client):
                result.close()  # (it should not have connected)
        except BaseException as exc:  # noqa: B902 - reported to the test
            outcome["error"] = exc
    start = time.monotonic()
    thread = threading.Thread(target=run, name="test-attempt", daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "still running after %g s" % WAIT
    return outcome.get("error"), time.monotonic() - start


# --- proxies: plain http -----------------------------------------------------------------------------------

# mcplite/httpclient.py, _proxy_for: "import urllib.request" inside the function makes
# "urllib" a local name of the whole function, so with an explicit proxy= (the import skipped)
# "urllib.parse.urlsplit(proxy)" raises UnboundLocalError.
# How a test names the proxy: proxy= (broken, see above), or the environment (http_proxy /
# https_proxy, as the URL's scheme asks).
HOW = ["explicit", "environment"]


@pytest.fixture(params=HOW)
def how(request):
    # type: (Any) -> str
    return request.param


@pytest.fixture
def through(how, monkeypatch):
    # type: (str, Any) -> Callable[..., Dict[str, Any]]
    """``through(proxy_url, url)``: the Client.http options that send ``url`` through the
    proxy, the way the ``how`` parameter says (an environment variable is set here)."""
    def options(proxy_url, url):
        # type: (str, str) -> Dict[str, Any]
        if how == "explicit":
            return {"proxy": proxy_url}
        monkeypatch.setenv("https_proxy" if url.startswith("https:") else "http_proxy", proxy_url)
        return {}
    return options


def test_the_proxy_carries_every_request_in_absolute_form(server, proxy, connect, era, through, no_dns):
    forward = proxy()
    url = fake_url(server)
    mark = server.recorder.mark()
    client = connect(url, era=era, **through(forward.url, url))
    assert client.era == era
    assert client.server_info == {"name": "proxied", "version": "1.0.0"}
    assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
    assert [t["name"] for t in client.list_tools()] == ["add", "steps", "touch"]
    assert client.read_resource("note://a")["contents"][0]["text"] == "note a"
    lines = forward.lines
    assert lines and all(line.endswith(" %s HTTP/1.1" % url) for line in lines), lines
    assert {line.split(" ")[0] for line in lines} <= {"POST", "GET", "DELETE"}
    assert sum(line.startswith("POST ") for line in lines) >= 4  # handshake, call, list, read
    assert {entry["proxy_authorization"] for entry in forward.seen} == {None}
    # The origin server got origin-form requests, with the fake name as Host.
    entries = server.recorder.since(mark)
    assert len(entries) == len(lines)
    assert {e["path"] for e in entries} == {"/mcp"}
    assert {e["headers"]["host"] for e in entries} == {"%s:%d" % (FAKE, server.port)}
    assert no_dns == []  # nothing went around the proxy


@pytest.mark.parametrize("era_", ["auto", "modern", "legacy"])
def test_every_era_connects_through_the_proxy(server, proxy, connect, era_, through):
    forward = proxy()
    url = fake_url(server)
    client = connect(url, era=era_, **through(forward.url, url))
    assert client.era == ("modern" if era_ == "auto" else era_)
    assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
    assert forward.lines


def test_sse_answers_come_through_the_proxy(server, proxy, connect, era, through):
    forward = proxy()
    url = fake_url(server)
    mark = server.recorder.mark()
    logs = []  # type: List[Dict[str, Any]]
    client = connect(url, era=era, on_log=logs.append, **through(forward.url, url))
    client.set_log_level("info")
    seen = []  # type: List[Any]
    result = client.call_tool("steps", {"count": 4}, progress=lambda p, t, m: seen.append((p, t, m)))
    assert result["content"] == [{"type": "text", "text": "finished"}]
    assert seen == [(i, 4, "step %d" % i) for i in range(1, 5)]
    deadline = time.monotonic() + WAIT
    while not logs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [entry["data"] for entry in logs] == ["all 4 steps done"]
    calls = [e for e in server.recorder.since(mark) if e["rpc"] == "tools/call"]
    assert len(calls) == 1 and calls[0]["streamed"], "the answer should have been an SSE stream"
    # The connection to the proxy is kept alive and carries the next request.
    assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    assert forward.lines[-1] == "POST %s HTTP/1.1" % url


def test_server_notifications_come_through_the_proxy(server, proxy, connect, era, through):
    """Legacy: the session's GET stream, through the proxy; 2026-07-28: the
    subscriptions/listen stream. Closing a legacy session DELETEs it through the proxy."""
    forward = proxy()
    url = fake_url(server)
    updates = Updates()
    client = connect(url, era=era, on_resource_updated=updates, **through(forward.url, url))
    client.subscribe("note://a")
    client.call_tool("touch", {"uri": "note://a"})
    assert updates.wait_for(1) == ["note://a"]
    if era == "legacy":
        assert "GET %s HTTP/1.1" % url in forward.lines
        client.close()
        deadline = time.monotonic() + WAIT
        while "DELETE %s HTTP/1.1" % url not in forward.lines and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "DELETE %s HTTP/1.1" % url in forward.lines
    else:
        assert all(line.startswith("POST ") for line in forward.lines)


def test_proxy_credentials_go_on_every_request(server, proxy, connect, era, through):
    expected = basic("alice", "s3cret")
    forward = proxy(require_auth=expected)
    url = fake_url(server)
    client = connect(url, era=era, **through(forward.url_with("alice:s3cret"), url))
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    client.close()
    assert len(forward.seen) >= (2 if era == "modern" else 5)  # (legacy: initialized, GET, DELETE too)
    assert {entry["proxy_authorization"] for entry in forward.seen} == {expected}


def test_proxy_credentials_are_percent_decoded(server, proxy, connect, through):
    expected = basic("al@ce", "p:ss w%rd")
    forward = proxy(require_auth=expected)
    url = fake_url(server)
    client = connect(url, era="modern", **through(forward.url_with("al%40ce:p%3Ass%20w%25rd"), url))
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    assert {entry["proxy_authorization"] for entry in forward.seen} == {expected}


def test_proxy_credentials_never_reach_the_server(server, proxy, connect, through):
    forward = proxy()
    url = fake_url(server)
    mark = server.recorder.mark()
    client = connect(url, era="modern", **through(forward.url_with("alice:s3cret"), url))
    client.call_tool("add", {"a": 1, "b": 2})
    assert forward.seen and all(entry["proxy_authorization"] for entry in forward.seen)
    entries = server.recorder.since(mark)
    assert entries and not any("proxy-authorization" in e["headers"] for e in entries)


@pytest.mark.parametrize("era_", ["auto", "modern", "legacy"])
def test_a_proxy_refusing_credentials_fails_at_once(server, proxy, era_, through):
    forward = proxy(require_auth=basic("alice", "right"))
    url = fake_url(server)
    options = through(forward.url_with("alice:wrong"), url)
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT, **options))
    assert isinstance(error, HttpError), repr(error)
    assert error.status == 407
    assert elapsed < PROMPT
    no_traceback(error)


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "all_proxy"])
def test_the_environment_proxy_is_used_by_default(server, proxy, connect, monkeypatch, variable, no_dns):
    forward = proxy()
    monkeypatch.setenv(variable, forward.url)
    url = fake_url(server)
    client = connect(url)
    assert client.call_tool("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
    assert forward.lines and all(line.endswith(" %s HTTP/1.1" % url) for line in forward.lines)
    assert no_dns == []


def test_an_environment_proxy_without_a_scheme(server, proxy, connect, monkeypatch):
    forward = proxy()
    monkeypatch.setenv("http_proxy", "127.0.0.1:%d" % forward.port)
    client = connect(fake_url(server), era="modern")
    assert client.call_tool("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
    assert forward.lines


@pytest.mark.parametrize("no_proxy", [FAKE, ".example.test", "example.test", "localhost," + FAKE, "*"])
@pytest.mark.parametrize("era_", ["auto", "legacy"])
def test_no_proxy_bypasses_the_proxy(server, proxy, monkeypatch, no_dns, no_proxy, era_):
    """The connection is then made directly, and the fake name does not resolve: a clear
    error at once (not a wait until the timeout)."""
    forward = proxy()
    monkeypatch.setenv("http_proxy", forward.url)
    monkeypatch.setenv("no_proxy", no_proxy)
    url = fake_url(server)
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert error.message.startswith("cannot reach %s: " % url), error.message
    assert "not known" in error.message
    assert elapsed < PROMPT
    assert forward.seen == []
    assert FAKE in no_dns
    no_traceback(error)


def test_no_proxy_for_another_host_keeps_the_proxy(server, proxy, connect, monkeypatch):
    forward = proxy()
    monkeypatch.setenv("http_proxy", forward.url)
    monkeypatch.setenv("no_proxy", "elsewhere.example.test,.internal")
    client = connect(fake_url(server), era="modern")
    client.call_tool("add", {"a": 1, "b": 1})
    assert forward.lines


def test_an_empty_proxy_disables_the_environment_proxy(server, proxy, monkeypatch, no_dns):
    forward = proxy()
    monkeypatch.setenv("http_proxy", forward.url)
    monkeypatch.setenv("HTTP_PROXY", forward.url)
    monkeypatch.setenv("all_proxy", forward.url)
    error, elapsed = timed(lambda: Client.http(fake_url(server), proxy="", timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert elapsed < PROMPT
    assert forward.seen == []
    assert FAKE in no_dns


def test_an_explicit_proxy_wins_over_the_environment(server, proxy, connect, monkeypatch):
    used, other = proxy(), proxy()
    monkeypatch.setenv("http_proxy", other.url)
    monkeypatch.setenv("no_proxy", FAKE)  # applies to the environment's proxy only
    client = connect(fake_url(server), era="modern", proxy=used.url)
    client.call_tool("add", {"a": 1, "b": 1})
    assert used.lines and other.seen == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_never_proxied(server, proxy, connect, monkeypatch, era, host):
    from_env, explicit = proxy(), proxy()
    monkeypatch.setenv("http_proxy", from_env.url)
    monkeypatch.setenv("all_proxy", from_env.url)
    url = "http://%s:%d/mcp" % (host, server.port)
    client = connect(url, era=era)
    assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    client = connect(url, era=era, proxy=explicit.url)
    assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    assert from_env.seen == [] and explicit.seen == []


@pytest.mark.parametrize("host", ["127.0.0.2", "[::1]"])
def test_other_loopback_addresses_are_not_proxied_either(server, proxy, monkeypatch, host):
    """The server listens on 127.0.0.1 only: reached directly, these are refused (or
    unreachable); through the proxy they would have been a 502 from it."""
    forward = proxy()
    monkeypatch.setenv("http_proxy", forward.url)
    url = "http://%s:%d/mcp" % (host, server.port)
    error, elapsed = timed(lambda: Client.http(url, era="modern", timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, ConnectionClosed) and error.message.startswith("cannot reach %s: " % url), repr(error)
    assert elapsed < PROMPT
    assert forward.seen == []


def test_a_name_that_starts_with_127_is_not_loopback(server, proxy, monkeypatch, no_dns):
    forward = proxy()
    monkeypatch.setenv("http_proxy", forward.url)
    url = "http://127.mcp.example.test:%d/mcp" % server.port
    error, _ = timed(lambda: Client.http(url, era="modern", timeout=WAIT, probe_timeout=WAIT))
    assert error is None, repr(error)
    assert forward.lines and no_dns == []


@pytest.mark.parametrize("bad", ["https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://"])
def test_a_proxy_that_is_not_http_is_refused(server, bad, through):
    with pytest.raises(ValueError) as info:
        Client.http(fake_url(server), timeout=WAIT, **through(bad, fake_url(server)))
    assert "http://" in str(info.value)


def test_auto_does_not_try_again_after_a_transport_failure():
    """A failed POST is a ConnectionClosed, which the era probe passes on: "auto" must not
    fall back to the legacy initialize on a new connection, where a dead server would cost
    two attempts (two connect timeouts, for one that drops packets)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    accepted = []  # type: List[int]
    stop = threading.Event()

    def hang_up():
        # type: () -> None
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()
    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/mcp" % listener.getsockname()[1]
        error, elapsed = timed(lambda: Client.http(url, era="auto", timeout=WAIT, probe_timeout=WAIT))
        assert isinstance(error, ConnectionClosed) and error.message.startswith("cannot reach"), repr(error)
        time.sleep(0.3)  # a second connection would have been accepted by now
        assert len(accepted) == 1
    finally:
        stop.set()
        thread.join(WAIT)
        listener.close()


def test_an_unreachable_proxy_fails_at_once(server, era, through):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = fake_url(server)
    options = through("http://127.0.0.1:%d" % port, url)
    error, elapsed = timed(lambda: Client.http(url, era=era, timeout=WAIT, probe_timeout=WAIT, **options))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert "refused" in error.message.lower()
    assert elapsed < PROMPT


# --- TLS ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    # type: (Any) -> Dict[str, str]
    openssl = shutil.which("openssl")
    if openssl is None:
        # Under scripts/test (CI) a missing tool is a failure, never a silent skip.
        (pytest.fail if os.environ.get("MCPLITE_REQUIRE_INTEROP") else pytest.skip)(
            "the openssl command line is not installed (the TLS tests need it)")
    directory = str(tmp_path_factory.mktemp("tls"))
    return make_certificates(directory, ["localhost", FAKE], ["127.0.0.1"], openssl)


@pytest.fixture(scope="module")
def tls_server(server, certificates):
    # type: (Any, Dict[str, str]) -> Any
    """The module's server behind TLS: ``port`` (https on 127.0.0.1), ``front``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["cert"], certificates["key"])
    front = TlsFront(context, server.port)
    try:
        yield front
    finally:
        front.stop()


def https_url(host, front):
    # type: (str, TlsFront) -> str
    return "https://%s:%d/mcp" % (host, front.port)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_https_with_ca_file(tls_server, certificates, connect, era, host):
    client = connect(https_url(host, tls_server), era=era, ca_file=certificates["ca"])
    assert client.call_tool("add", {"a": 20, "b": 22})["structuredContent"] == {"result": 42}
    result = client.call_tool("steps", {"count": 3})  # an SSE answer, over TLS
    assert result["content"] == [{"type": "text", "text": "finished"}]


def test_https_with_ssl_context(tls_server, certificates, connect, era):
    context = ssl.create_default_context(cafile=certificates["ca"])
    client = connect(https_url("localhost", tls_server), era=era, ssl_context=context)
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}


def test_https_server_notifications(tls_server, certificates, connect, era):
    updates = Updates()
    client = connect(https_url("localhost", tls_server), era=era, ca_file=certificates["ca"],
                     on_resource_updated=updates)
    client.subscribe("note://a")
    client.call_tool("touch", {"uri": "note://a"})
    assert updates.wait_for(1) == ["note://a"]


@pytest.mark.parametrize("era_", ["auto", "modern", "legacy"])
def test_https_with_an_unknown_ca_fails_at_once(tls_server, era_):
    url = https_url("localhost", tls_server)
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert error.message.startswith("cannot reach %s: " % url), error.message
    assert "certificate verify failed" in error.message.lower()
    assert elapsed < PROMPT
    no_traceback(error)


def test_https_with_another_ca_fails(tls_server, tmp_path_factory):
    other = make_certificates(str(tmp_path_factory.mktemp("other-ca")), ["localhost"], ["127.0.0.1"],
                              shutil.which("openssl") or "openssl")
    url = https_url("localhost", tls_server)
    error, elapsed = timed(lambda: Client.http(url, ca_file=other["ca"], timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert "certificate verify failed" in error.message.lower()
    assert elapsed < PROMPT


def test_ssl_context_and_ca_file_together_are_refused(certificates, tls_server):
    context = ssl.create_default_context(cafile=certificates["ca"])
    before = len(tls_server.handshake_errors)
    with pytest.raises(ValueError):
        Client.http(https_url("localhost", tls_server), ssl_context=context, ca_file=certificates["ca"])
    assert len(tls_server.handshake_errors) == before


def test_a_missing_ca_file_is_an_error(tmp_path):
    with pytest.raises((OSError, ssl.SSLError)):
        Client.http("https://localhost:1/mcp", ca_file=str(tmp_path / "missing.pem"))


def test_https_through_the_proxy_tunnels_with_connect(server, tls_server, certificates, proxy, connect, era,
                                                       through, no_dns):
    forward = proxy()
    mark = server.recorder.mark()
    url = https_url(FAKE, tls_server)
    client = connect(url, era=era, ca_file=certificates["ca"], **through(forward.url, url))
    assert client.call_tool("add", {"a": 5, "b": 6})["structuredContent"] == {"result": 11}
    assert client.call_tool("steps", {"count": 2})["content"] == [{"type": "text", "text": "finished"}]
    target = "%s:%d" % (FAKE, tls_server.port)
    assert forward.connects and set(forward.connects) == {target}
    assert all(line == "CONNECT %s HTTP/1.0" % target or line == "CONNECT %s HTTP/1.1" % target
               for line in forward.lines), forward.lines
    # Inside the tunnel: origin-form requests, the origin's name as Host.
    entries = server.recorder.since(mark)
    assert entries and {e["path"] for e in entries} == {"/mcp"}
    assert {e["headers"]["host"] for e in entries} == {target}
    assert no_dns == []


def test_https_uses_https_proxy_from_the_environment(server, tls_server, certificates, proxy, connect, monkeypatch):
    forward, plain = proxy(), proxy()
    monkeypatch.setenv("https_proxy", forward.url)
    monkeypatch.setenv("http_proxy", plain.url)
    client = connect(https_url(FAKE, tls_server), era="modern", ca_file=certificates["ca"])
    assert client.call_tool("add", {"a": 5, "b": 6})["structuredContent"] == {"result": 11}
    assert forward.connects and plain.seen == []


def test_connect_carries_the_proxy_credentials_and_the_server_never_sees_them(
        server, tls_server, certificates, proxy, connect, era, through):
    expected = basic("bob", "tunnel")
    forward = proxy(require_auth=expected)
    mark = server.recorder.mark()
    url = https_url(FAKE, tls_server)
    client = connect(url, era=era, ca_file=certificates["ca"], **through(forward.url_with("bob:tunnel"), url))
    assert client.call_tool("add", {"a": 5, "b": 6})["structuredContent"] == {"result": 11}
    assert forward.connects and {entry["proxy_authorization"] for entry in forward.seen} == {expected}
    entries = server.recorder.since(mark)
    assert entries and not any("proxy-authorization" in e["headers"] for e in entries)


@pytest.mark.parametrize("era_", ["auto", "legacy"])
def test_a_tunnel_the_proxy_refuses_fails_at_once(tls_server, certificates, proxy, era_, through):
    forward = proxy(require_auth=basic("bob", "right"))
    url = https_url(FAKE, tls_server)
    options = through(forward.url, url)
    error, elapsed = timed(lambda: Client.http(url, era=era_, ca_file=certificates["ca"], timeout=WAIT,
                                               probe_timeout=WAIT, **options))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert error.message.startswith("cannot reach %s: " % url)
    assert "407" in error.message
    assert elapsed < PROMPT
    no_traceback(error)


def test_tls_through_a_tunnel_checks_the_origins_name(tls_server, certificates, proxy, through):
    """The certificate is checked against the server's name, not the proxy's: a name it
    does not cover fails even though the CA is trusted."""
    forward = proxy()
    url = https_url("other.example.test", tls_server)
    options = through(forward.url, url)
    error, elapsed = timed(lambda: Client.http(url, ca_file=certificates["ca"], timeout=WAIT, probe_timeout=WAIT,
                                               **options))
    assert isinstance(error, ConnectionClosed), repr(error)
    assert "certificate verify failed" in error.message.lower()
    assert "other.example.test" in error.message
    assert elapsed < PROMPT
    assert forward.connects and set(forward.connects) == {"other.example.test:%d" % tls_server.port}


# --- HTTP error statuses --------------------------------------------------------------------------------------

MODERN = "2026-07-28"
CHALLENGE = 'Bearer realm="mcp", error="invalid_token", resource_metadata="http://127.0.0.1/.well-known/x"'
UNAVAILABLE = "Service Unavailable: down for maintenance until 10:00"


class _Refusing(BaseHTTPRequestHandler):
    """Answers the way the server's ``mode`` says: at once ("401", "403-json"), or after a
    proper handshake ("after-503", ...)."""

    protocol_version = "HTTP/1.1"
    server = None  # type: Any

    def log_message(self, *args):
        # type: (Any) -> None
        pass

    def _send(self, status, data, content_type, extra=None):
        # type: (int, bytes, str, Optional[Dict[str, str]]) -> None
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, mode):
        # type: (str) -> None
        if mode == "401":
            self._send(401, b"Unauthorized\n", "text/plain", {"WWW-Authenticate": CHALLENGE})
        elif mode == "401-empty":
            self._send(401, b"", "text/plain", {"WWW-Authenticate": CHALLENGE})
        elif mode == "403-json":
            self._send(403, json.dumps({"error": "forbidden", "detail": "no access"}).encode(), "application/json")
        elif mode == "503":
            self._send(503, UNAVAILABLE.encode(), "text/plain", {"Retry-After": "60"})
        elif mode == "500-json":
            self._send(500, json.dumps({"detail": "database down"}).encode(), "application/json")
        elif mode == "502-html":
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")

    def do_GET(self):
        # type: () -> None
        mode = self.server.mode
        if mode.startswith("after-"):
            self._send(405, b"", "text/plain")
        else:
            self._refuse(mode)

    do_DELETE = do_GET

    def do_POST(self):
        # type: () -> None
        message = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        with self.server.lock:
            self.server.received.append(message)
        mode = self.server.mode
        method = message.get("method") if isinstance(message, dict) else None
        if not mode.startswith("after-"):
            self._refuse(mode)
            return
        if method == "server/discover":
            result = {"supportedVersions": [MODERN], "capabilities": {"tools": {}},
                      "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "refusing", "version": "1"}}}
        elif method == "initialize":
            result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                      "serverInfo": {"name": "refusing", "version": "1"}}
        elif "id" not in message:
            self._send(202, b"", "text/plain")
            return
        else:
            self._refuse(mode[len("after-"):])
            return
        self._send(200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode(),
                   "application/json")


class _RefusingServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    mode = ""


@pytest.fixture
def refusing():
    # type: () -> Callable[[str], Any]
    """``refusing(mode)``: the URL of a _Refusing server (``.received``: what was POSTed)."""
    servers = []  # type: List[_RefusingServer]

    def start(mode):
        # type: (str) -> str
        httpd = _RefusingServer(("127.0.0.1", 0), _Refusing)
        httpd.mode = mode
        httpd.lock = threading.Lock()
        httpd.received = []
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


ALL_ERAS = ["auto", "modern", "legacy"]


@pytest.mark.parametrize("era_", ALL_ERAS)
def test_401_at_connect_is_an_http_error(refusing, era_):
    url = refusing("401")
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, HttpError), repr(error)
    assert error.status == 401
    assert error.www_authenticate == CHALLENGE
    assert error.body == "Unauthorized\n"
    assert error.message.startswith("HTTP 401 with a body that is not JSON"), error.message
    assert url in error.message
    assert elapsed < PROMPT
    no_traceback(error)


@pytest.mark.parametrize("era_", ALL_ERAS)
def test_401_with_no_body_at_connect(refusing, era_):
    url = refusing("401-empty")
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, HttpError), repr(error)
    assert (error.status, error.www_authenticate, error.body) == (401, CHALLENGE, "")
    assert error.message.startswith("HTTP 401 with no response to request"), error.message
    assert elapsed < PROMPT


@pytest.mark.parametrize("era_", ALL_ERAS)
def test_403_with_a_json_body_that_is_not_json_rpc(refusing, era_):
    url = refusing("403-json")
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, HttpError), repr(error)
    assert error.status == 403
    assert error.www_authenticate is None
    assert json.loads(error.body) == {"error": "forbidden", "detail": "no access"}
    assert error.message.startswith("HTTP 403 "), error.message
    assert elapsed < PROMPT
    no_traceback(error)


@pytest.mark.parametrize("era_", ALL_ERAS)
def test_503_at_connect(refusing, era_):
    url = refusing("503")
    error, elapsed = timed(lambda: Client.http(url, era=era_, timeout=WAIT, probe_timeout=WAIT))
    assert isinstance(error, HttpError), repr(error)
    assert (error.status, error.body) == (503, UNAVAILABLE)
    assert elapsed < PROMPT


def test_503_on_a_call_after_the_handshake(refusing, connect, era):
    url = refusing("after-503")
    client = connect(url, era=era)
    assert client.server_info == {"name": "refusing", "version": "1"}
    start = time.monotonic()
    with pytest.raises(HttpError) as info:
        client.call_tool("anything", {"x": 1})
    assert time.monotonic() - start < PROMPT
    error = info.value
    assert error.status == 503
    assert error.body == UNAVAILABLE
    assert error.www_authenticate is None
    assert error.message.startswith("HTTP 503 with a body that is not JSON"), error.message
    assert UNAVAILABLE in error.message
    no_traceback(error)
    # The client is still usable: the next call fails the same way, rather than hanging.
    with pytest.raises(HttpError):
        client.call_tool("anything", {"x": 2})


def test_401_on_a_call_after_the_handshake(refusing, connect, era):
    client = connect(refusing("after-401"), era=era)
    start = time.monotonic()
    with pytest.raises(HttpError) as info:
        client.call_tool("anything")
    assert time.monotonic() - start < PROMPT
    assert (info.value.status, info.value.www_authenticate) == (401, CHALLENGE)


def test_html_error_page_on_a_call(refusing, connect, era):
    client = connect(refusing("after-502-html"), era=era)
    with pytest.raises(HttpError) as info:
        client.call_tool("anything")
    assert info.value.status == 502
    assert "502 Bad Gateway" in info.value.body
    assert info.value.message.startswith("HTTP 502 with a body that is not JSON")


def test_500_with_a_json_body_that_is_not_json_rpc_fails_at_once(refusing, connect, era):
    """A JSON body that is no JSON-RPC response (a framework's error page) answers nothing:
    the call must fail with the status at once, not wait out its timeout."""
    client = connect(refusing("after-500-json"), era=era, timeout=1.5)
    error, elapsed = timed(lambda: client.call_tool("anything"))
    assert isinstance(error, HttpError), repr(error)
    assert error.status == 500
    assert json.loads(error.body) == {"detail": "database down"}
    assert elapsed < 1.0


def test_http_error_is_exported_and_is_a_transport_error():
    import mcplite
    assert mcplite.HttpError is HttpError
    # No JSON-RPC error was received: it is a failure on this side of the wire, with no code.
    assert issubclass(HttpError, mcplite.TransportError) and not issubclass(HttpError, MCPError)
    error = HttpError(418, "HTTP 418 with a body that is not JSON", None, "teapot")
    assert (error.status, error.www_authenticate, error.body, error.message) == (
        418, None, "teapot", "HTTP 418 with a body that is not JSON")
    assert not hasattr(error, "code")
