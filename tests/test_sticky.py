"""Sessions across machines: nginx, then HAProxy, in front of two gunicorn instances (each its
own port, as two machines would be), with the routing the README shows for each.

Each instance serves tests/sticky_app.py: session ids it mints start with its route token (``a.``
or ``b.``, ``session_prefix``), both share one sealing key and one PostgreSQL store (a throwaway
cluster, tests/pg_support.py), and its ``whoami`` tool names it. nginx (tests/pg_support.py's
``sticky_config``; HAProxy: ``haproxy_config``) sends a request whose Mcp-Session-Id (or the
2024-11-05 transport's ``?session_id=``) starts with a token to that token's instance, and
everything else (initialize, 2026-07-28 requests) to either, in turn. Proved here: every request
of many legacy sessions is answered by the instance that minted the session; 2026-07-28 requests
spread over both, a sealed ``requestState`` from one opened by the other, a task made on one
polled and cancelled on the other; a request for a session sent to the instance that does not
own it gets 404 (the spec's "start a new session"), never an answer. Why not nginx's
``hash $http_mcp_session_id consistent`` alone: the first request of a session (initialize) has
no id to hash (nginx sends it to either instance), and the id the answering instance mints
hashes to whichever instance the hash picks, the other one about half the time
(``test_bare_hash_misroutes_to_404``, which also shows the 404 is all that happens then).

gunicorn comes from ``$MCPLITE_WSGI_PYTHON``, nginx, HAProxy and PostgreSQL from
``$MCPLITE_PGNGINX`` (scripts/test); with ``MCPLITE_REQUIRE_INTEROP`` set, any missing fails. Every process is stopped by its PID.
"""

import collections
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from http_peer import ACCEPT_BOTH, Http
from pg_support import Postgres, Proxy, free_port, haproxy_config, sticky_config

pytestmark = pytest.mark.interop

TESTS = os.path.dirname(os.path.abspath(__file__))
LEGACY = "2025-11-25"
START_TIMEOUT = 30.0
SESSIONS = 24


class Instance:
    """One gunicorn (gthread) serving ``sticky_app:create(name)``; stopped by its process group."""

    def __init__(self, python: str, name: str, secret: str, database: int) -> None:
        import mcplite
        self.name = name
        self.port = free_port()
        env = dict(os.environ)
        checkout = os.path.dirname(os.path.dirname(os.path.abspath(mcplite.__file__)))
        env["PYTHONPATH"] = os.pathsep.join([checkout, TESTS])
        env["MCPLITE_STICKY_SECRET"] = secret
        env["MCPLITE_STICKY_PG"] = str(database)
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([python, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port, "--no-control-socket",
                                      "--graceful-timeout", "1", "--workers", "1", "-k", "gthread", "--threads", "16",
                                      # (HAProxy keeps its connections to a server open between a
                                      # client's requests: gunicorn's 2 s would close one under it)
                                      "--keep-alive", "75",
                                      "sticky_app:create(%r)" % name],
                                     cwd=TESTS, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.stop()
                pytest.fail("gunicorn %s did not start:\n%s" % (name, log[-3000:]))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.port

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a worker outliving its master
        except OSError:
            pass
        self._log.close()


class Farm:
    def __init__(self, instances: Dict[str, Instance], proxy: Proxy) -> None:
        self.instances = instances
        self.proxy = proxy
        self.port = proxy.port

    def upstream(self, name: str) -> str:
        """What the balancer's X-Upstream header says for instance ``name``: nginx gives the
        address it sent to, HAProxy the server's name."""
        return self.instances[name].address if self.proxy.kind == "nginx" else name


def _start_proxy(instances: Dict[str, Instance], kind: str = "nginx", config: Any = None) -> Proxy:
    port = free_port()
    routes = [(name, each.address) for name, each in sorted(instances.items())]
    if config is None:
        write = sticky_config if kind == "nginx" else haproxy_config
        config = lambda prefix: write(port, routes, prefix)  # noqa: E731
    else:
        config = config(port, routes)
    try:
        return Proxy(port, config, kind)
    except RuntimeError as exc:
        pytest.fail(str(exc))
        raise


@pytest.fixture(scope="module")
def instances():
    """Two gunicorn instances sharing a sealing key and a PostgreSQL store (a cluster of their own)."""
    from test_wsgi import _wsgi_python
    python = _wsgi_python()
    secret = os.urandom(32).hex()
    started = {}  # type: Dict[str, Instance]
    try:
        database = Postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        for name in ("a", "b"):
            started[name] = Instance(python, name, secret, database.port)
        yield started
    finally:
        for each in started.values():
            each.stop()
        database.stop()


@pytest.fixture(scope="module", params=["nginx", "haproxy"])
def farm(request, instances):
    """The two instances behind nginx, then behind HAProxy (each with the README's config)."""
    proxy = _start_proxy(instances, request.param)
    try:
        yield Farm(instances, proxy)
    finally:
        proxy.stop()


class _Port:
    def __init__(self, port: int) -> None:
        self.port = port


def _answer(reply: Any) -> Any:
    messages = reply.messages()
    assert reply.status == 200 and len(messages) == 1, reply
    return messages[0]["result"]["content"][0]["text"]


def _whoami(peer: Http, rid: int) -> Tuple[str, str]:
    """(the instance that answered, the upstream nginx chose, as its X-Upstream header says)."""
    reply = peer.call("tools/call", {"name": "whoami", "arguments": {}}, id=rid)
    return _answer(reply), reply.headers.get("x-upstream", "")


def test_legacy_sessions_always_land_on_their_instance(farm):
    owners = collections.Counter()  # type: Dict[str, int]
    for _ in range(SESSIONS):
        peer = Http(_Port(farm.port))
        try:
            peer.initialize(LEGACY)
            session = peer.session_id or ""
            owner = session.split(".", 1)[0]
            assert owner in farm.instances, session
            owners[owner] += 1
            for rid in range(1, 5):
                answered, upstream = _whoami(peer, rid)
                assert answered == owner, (session, answered)
                assert upstream == farm.upstream(owner)
            # The session's GET stream and its DELETE go to its instance too.
            conn = http.client.HTTPConnection("127.0.0.1", farm.port, timeout=10)
            conn.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session,
                                                 "MCP-Protocol-Version": LEGACY})
            stream = conn.getresponse()
            assert stream.status == 200 and stream.getheader("X-Upstream") == farm.upstream(owner)
            conn.close()
            deleted = peer.send("DELETE", headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
            assert deleted.status == 200
            gone = peer.call("tools/call", {"name": "whoami", "arguments": {}}, id=9)
            assert gone.status == 404
        finally:
            peer.close()
    # Only the initializes are routed in turn: the sessions are shared out evenly.
    assert sorted(owners) == ["a", "b"] and min(owners.values()) >= SESSIONS // 2 - 1, owners


def test_modern_requests_spread_over_both_instances(farm):
    peer = Http(_Port(farm.port))
    answered = collections.Counter()  # type: Dict[str, int]
    try:
        for rid in range(20):
            reply = peer.modern("tools/call", {"name": "whoami", "arguments": {}}, id=rid)
            assert "mcp-session-id" not in reply.headers
            answered[_answer(reply)] += 1
    finally:
        peer.close()
    assert sorted(answered) == ["a", "b"] and min(answered.values()) >= 8, answered


def test_modern_request_state_sealed_by_one_instance_opens_on_the_other(farm):
    caps = {"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
    first_peer = Http(_Port(farm.instances["a"].port))
    second_peer = Http(_Port(farm.instances["b"].port))
    try:
        first = first_peer.modern("tools/call", {"name": "ask_name", "arguments": {}, "_meta": caps}).json()
        assert first["result"]["resultType"] == "input_required", first
        second = second_peer.modern("tools/call", {
            "name": "ask_name", "arguments": {}, "_meta": caps, "requestState": first["result"]["requestState"],
            "inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}}}, id=2).json()
        assert second["result"]["content"][0]["text"] == "b:Ada", second
        # A state that was tampered with is refused, not answered.
        state = first["result"]["requestState"]
        bad = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
        third = second_peer.modern("tools/call", {
            "name": "ask_name", "arguments": {}, "_meta": caps, "requestState": bad,
            "inputResponses": {"name": {"action": "accept", "content": {"name": "Eve"}}}}, id=3).json()
        assert "error" in third or third["result"].get("resultType") == "input_required", third
    finally:
        first_peer.close()
        second_peer.close()


TASKS_CAPS = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}


def _task(peer: Http, method: str, params: Dict[str, Any]) -> Any:
    params = dict(params, _meta=TASKS_CAPS)
    reply = peer.modern(method, params, name=params.get("taskId"))
    assert reply.status == 200, reply
    return reply.json()["result"]


def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_task_made_on_one_instance_is_polled_and_cancelled_on_the_other(farm):
    on_a, on_b = Http(_Port(farm.instances["a"].port)), Http(_Port(farm.instances["b"].port))
    through = Http(_Port(farm.port))
    try:
        # Made on a, polled on b and through nginx (either instance): the same task, run by a.
        made = _task(on_a, "tools/call", {"name": "slow_whoami", "arguments": {"pause": 0.3}})
        task_id = made["taskId"]
        assert _task(on_b, "tasks/get", {"taskId": task_id})["status"] in ("working", "completed")
        done = _until(lambda: _task(through, "tasks/get", {"taskId": task_id})["status"] == "completed")
        assert done
        result = _task(on_b, "tasks/get", {"taskId": task_id})["result"]
        assert result["content"][0]["text"] == "a"
        # Made on b, cancelled on a: b's handler sees it (the store's watch), and both say so.
        running = _task(on_b, "tools/call", {"name": "slow_whoami", "arguments": {"pause": 20}})["taskId"]
        _task(on_a, "tasks/cancel", {"taskId": running})
        assert _until(lambda: _task(on_b, "tasks/get", {"taskId": running})["status"] == "cancelled")
        assert _task(on_a, "tasks/get", {"taskId": running})["status"] == "cancelled"
    finally:
        for peer in (on_a, on_b, through):
            peer.close()


def test_session_sent_to_the_other_instance_gets_404(farm):
    peer = Http(_Port(farm.port))
    try:
        peer.initialize(LEGACY)
        session = peer.session_id or ""
        owner = session.split(".", 1)[0]
        other = [name for name in farm.instances if name != owner][0]
        # Straight to the instance that does not own it (nginx bypassed): "The server ... MUST
        # respond to requests containing that session ID with HTTP 404 Not Found".
        wrong = Http(_Port(farm.instances[other].port))
        wrong.session_id, wrong.version = session, LEGACY
        try:
            call = wrong.call("tools/call", {"name": "whoami", "arguments": {}}, id=2)
            assert call.status == 404 and "result" not in call.json(), call
            assert wrong.send("GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session,
                                              "MCP-Protocol-Version": LEGACY}).status == 404
            assert wrong.send("DELETE", headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY}).status \
                == 404
        finally:
            wrong.close()
        # The session is unharmed on its own instance, through nginx.
        assert _whoami(peer, 3)[0] == owner
        # An id with no instance's token (a forged one, or of an instance taken away) goes to
        # either instance, and neither knows it.
        forged = Http(_Port(farm.port))
        forged.session_id, forged.version = "c." + session.split(".", 1)[1], LEGACY
        try:
            for rid in range(4):
                assert forged.call("tools/call", {"name": "whoami", "arguments": {}}, id=rid).status == 404
        finally:
            forged.close()
    finally:
        peer.close()


def _read_events(resp: Any, count: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
    events = []  # type: List[Dict[str, Any]]
    buffer = b""
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        chunk = resp.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            event = {}  # type: Dict[str, Any]
            for line in block.decode("utf-8").splitlines():
                field, _colon, value = line.partition(":")
                event[field] = value[1:] if value.startswith(" ") else value
            if event.get("data", "").startswith("{"):
                event["json"] = json.loads(event["data"])
            events.append(event)
    return events


def test_2024_sse_transport_through_nginx(farm):
    """The 2024-11-05 transport: GET /sse lands anywhere, and its POSTs, which carry the session
    in ?session_id=, follow it."""
    owners = set()
    for _ in range(4):
        stream_conn = http.client.HTTPConnection("127.0.0.1", farm.port, timeout=10)
        post_conn = http.client.HTTPConnection("127.0.0.1", farm.port, timeout=10)
        try:
            stream_conn.request("GET", "/sse", headers={"Accept": "text/event-stream"})
            stream = stream_conn.getresponse()
            assert stream.status == 200
            endpoint = _read_events(stream, 1)[0]
            assert endpoint.get("event") == "endpoint", endpoint
            path = endpoint["data"]
            owner = path.split("session_id=", 1)[1].split(".", 1)[0]
            owners.add(owner)
            for rid, (method, params) in enumerate([
                    ("initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                                    "clientInfo": {"name": "sticky-tests", "version": "0"}}),
                    ("tools/call", {"name": "whoami", "arguments": {}})]):
                post_conn.request("POST", path, json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                                            "params": params}),
                                  {"Content-Type": "application/json", "Accept": ACCEPT_BOTH})
                posted = post_conn.getresponse()
                posted.read()
                assert posted.status == 202 and posted.getheader("X-Upstream") == farm.upstream(owner)
                if method == "initialize":
                    post_conn.request("POST", path, json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                                      {"Content-Type": "application/json"})
                    notified = post_conn.getresponse()
                    notified.read()
                    assert notified.status == 202
                # (the first event with a message: a slow machine may send a keep-alive comment first)
                found = []  # type: List[Dict[str, Any]]
                for _attempt in range(5):
                    found = found or [e for e in _read_events(stream, 1) if "json" in e]
                assert found, "no answer on the stream"
                answer = found[0]["json"]
                assert answer["id"] == rid, answer
                if method == "tools/call":
                    assert answer["result"]["content"][0]["text"] == owner
        finally:
            stream_conn.close()
            post_conn.close()
    assert owners == {"a", "b"}


def _bare_hash_config(port: int, routes: List[Tuple[str, str]]) -> Any:
    servers = "".join("        server %s;\n" % address for _name, address in routes)

    def config(prefix: str) -> str:
        temp = "".join("    %s_temp_path %s;\n" % (kind, os.path.join(prefix, kind))
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return """worker_processes 1;
pid %s/nginx.pid;
events { worker_connections 128; }
http {
    access_log off;
%s
    upstream mcp { hash $http_mcp_session_id consistent;
%s    }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://mcp; proxy_http_version 1.1; proxy_set_header Host $http_host;
                     proxy_buffering off; }
    }
}
""" % (prefix, temp, servers, port)
    return config


def test_bare_hash_misroutes_to_404(instances):
    """The naive config: initialize has no id to hash (nginx balances an empty key in turn), and
    the id the answering instance mints hashes to either instance, the other about half the
    time. Those sessions get 404 (start a new session), never another session's answer."""
    nginx = _start_proxy(instances, "nginx", _bare_hash_config)
    try:
        outcomes = collections.Counter()  # type: Dict[Any, int]
        minted_by = set()
        for _ in range(SESSIONS):
            peer = Http(_Port(nginx.port))
            try:
                reply = peer.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": LEGACY, "capabilities": {},
                    "clientInfo": {"name": "sticky-tests", "version": "0"}}}, session=False)
                assert reply.status == 200
                peer.session_id, peer.version = reply.headers["mcp-session-id"], LEGACY
                owner = peer.session_id.split(".", 1)[0]
                minted_by.add(owner)
                status = peer.post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status
                if status == 202:
                    answer = peer.call("tools/call", {"name": "whoami", "arguments": {}}, id=1)
                    assert answer.status == 200 and _answer(answer) == owner
                    outcomes["served"] += 1
                else:
                    assert status == 404
                    outcomes[404] += 1
            finally:
                peer.close()
        assert minted_by == {"a", "b"}, "an empty key is balanced in turn (nginx's hash falls back to round robin)"
        assert outcomes[404] >= 1 and outcomes["served"] >= 1, outcomes
    finally:
        nginx.stop()
