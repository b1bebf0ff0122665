"""Mounting (mcplite/gateway.py, ``Server.mount``): real upstream servers behind a front Server.

The upstreams are real processes (``tests/servers/host_app.py NAME`` over stdio), started by the
mount from a config entry, or by the test as a ``Client`` it hands over; the front is served in
memory (``Client(front)``, in both eras) or over stdio (``tests/servers/gateway_front.py``, a
process of its own that mounts two upstreams). Every process is checked gone by its PID at the
end, and killed by its PID if a failed test left it; every wait is bounded.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest

from harness_support import assert_gone
from mcplite import Client, Server
from mcplite.errors import MCPError, RequestTimeout

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "servers")
HOST_APP = os.path.join(SERVERS, "host_app.py")
FRONT = os.path.join(SERVERS, "gateway_front.py")
ROOT = os.path.dirname(HERE)
WAIT = 10.0


def entry(name):
    # type: (str) -> Dict[str, Any]
    return {"command": sys.executable, "args": [HOST_APP, name]}


class Mounts:
    """The mounts a test makes; at the end each is closed and its process checked gone."""

    def __init__(self):
        # type: () -> None
        self.made = []  # type: List[Any]
        self.pids = []  # type: List[int]

    def __call__(self, front, prefix, upstream, **options):
        # type: (Server, str, Any, Any) -> Any
        mount = front.mount(prefix, upstream, **options)
        self.made.append(mount)
        if mount.process_id is not None:
            self.pids.append(mount.process_id)
        return mount

    def finish(self):
        # type: () -> None
        for mount in self.made:
            mount.close()
        assert_gone(self.pids)


@pytest.fixture
def mounts():
    made = Mounts()
    try:
        yield made
    finally:
        made.finish()


def front_server():
    # type: () -> Server
    front = Server("front", version="1.0.0")

    @front.tool()
    def double(x: int) -> int:
        """The front's own tool."""
        return 2 * x
    return front


def by_name(items):
    # type: (List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]
    return {item["name"]: item for item in items}


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_tools_listed_under_the_prefix_with_the_upstream_descriptions(mounts, era):
    front = front_server()
    mounts(front, "a", entry("A"))
    with Client.stdio([sys.executable, HOST_APP, "direct"], era=era) as direct:
        upstream = by_name(direct.list_tools())
        direct_pid = direct._channel.process.pid
    assert_gone([direct_pid])
    with Client(front, era=era) as client:
        listed = by_name(client.list_tools())
    assert set(listed) == {"double"} | {"a__" + name for name in upstream}
    for name, tool in upstream.items():
        mounted = dict(listed["a__" + name])
        assert mounted.pop("name") == "a__" + name
        tool = dict(tool)
        tool.pop("name")
        # The same schemas, description and annotations, nothing derived again.
        assert mounted == tool
    assert listed["a__add"]["outputSchema"]["properties"]["result"] == {"type": "integer"}
    assert listed["a__delete_everything"]["annotations"] == {"destructiveHint": True, "readOnlyHint": False}


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_calls_are_forwarded_and_results_passed_through(mounts, era):
    front = front_server()
    mounts(front, "a", entry("A"))
    with Client(front, era=era) as client:
        result = client.call_tool("a__add", {"a": 2, "b": 3})
        assert result["structuredContent"] == {"result": 5}
        assert result["content"] == [{"type": "text", "text": "5"}]
        assert not result.get("isError")
        # The front's envelope, not the upstream's.
        if era == "modern":
            assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "front"
        else:
            assert "resultType" not in result and "_meta" not in result
        refused = client.call_tool("a__refuse", {})
        assert refused["isError"] is True
        assert refused["content"] == [{"type": "text", "text": "not allowed today"}]
        # The front checks arguments against the upstream's own schema.
        bad = client.call_tool("a__add", {"a": "x", "b": 1})
        assert bad["isError"] is True
        assert client.call_tool("double", {"x": 4})["structuredContent"] == {"result": 8}


def test_progress_from_the_upstream_reaches_the_caller(mounts):
    front = front_server()
    mounts(front, "a", entry("A"))
    seen = []  # type: List[Any]
    with Client(front) as client:
        result = client.call_tool("a__slow_progress", {"steps": 3, "interval": 0.02},
                                  progress=lambda value, total, message: seen.append((value, total)))
    assert result["content"] == [{"type": "text", "text": "done in 3 steps"}]
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_prompts_and_resources_are_forwarded(mounts, era):
    front = front_server()
    mounts(front, "a", entry("A"))
    with Client(front, era=era) as client:
        prompts = by_name(client.list_prompts())
        assert prompts["a__greet"]["arguments"] == [{"name": "who", "required": True}]
        assert prompts["a__greet"]["description"] == "Greet someone."
        got = client.get_prompt("a__greet", {"who": "Bo"})
        assert got["messages"] == [{"role": "user", "content": {"type": "text", "text": "Say hello to Bo from A."}}]
        resources = client.list_resources()
        assert resources == [{"uri": "note://A/hello", "name": "hello", "mimeType": "text/plain"}]
        read = client.read_resource("note://A/hello")
        assert read["contents"] == [{"uri": "note://A/hello", "mimeType": "text/plain", "text": "hello from A"}]
        with pytest.raises(MCPError):
            client.get_prompt("a__greet", {})  # the upstream's own refusal, passed on


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_a_given_client_and_list_changed(mounts, era):
    front = front_server()
    upstream = Client.stdio([sys.executable, HOST_APP, "B"], era=era)
    try:
        mounts(front, "b", upstream)
        changes = []  # type: List[str]
        with Client(front, era="legacy", on_list_changed=changes.append) as client:
            assert "b__late" not in by_name(client.list_tools())
            client.call_tool("b__add_late", {})
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and "b__late" not in by_name(client.list_tools()):
                time.sleep(0.02)
            assert client.call_tool("b__late", {})["content"] == [{"type": "text", "text": "late"}]
            client.call_tool("b__remove_echo", {})
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and "b__echo" in by_name(client.list_tools()):
                time.sleep(0.02)
            assert "b__echo" not in by_name(client.list_tools())
            assert "tools" in changes
    finally:
        pid = upstream._channel.process.pid
        upstream.close()
        assert_gone([pid])


def test_two_upstreams_side_by_side_and_one_dying(mounts):
    front = front_server()
    # Left down (tests/test_gateway_failures.py has the restarts).
    a = mounts(front, "a", entry("A"), restart=False)
    mounts(front, "b", entry("B"))
    with Client(front) as client:
        names = set(by_name(client.list_tools()))
        assert {"a__echo", "b__echo", "double"} <= names
        assert client.call_tool("a__echo", {"text": "hi"})["content"][0]["text"] == "A: hi"
        assert client.call_tool("b__echo", {"text": "hi"})["content"][0]["text"] == "B: hi"
        # Both resources, under their own URIs.
        assert {r["uri"] for r in client.list_resources()} == {"note://A/hello", "note://B/hello"}
        os.kill(a.process_id, signal.SIGKILL)
        assert_gone([a.process_id])
        dead = client.call_tool("a__echo", {"text": "hi"})
        assert dead["isError"] is True
        assert "mounted as 'a' failed" in dead["content"][0]["text"]
        with pytest.raises(MCPError) as failed:
            client.read_resource("note://A/hello")
        assert "mounted as 'a' failed" in str(failed.value)
        # The front and the other upstream go on.
        assert client.call_tool("b__echo", {"text": "still"})["content"][0]["text"] == "B: still"
        assert client.call_tool("double", {"x": 1})["structuredContent"] == {"result": 2}


def test_close_unregisters_and_bad_mounts_are_refused(mounts):
    front = front_server()
    a = mounts(front, "a", entry("A"))
    a.close()
    with Client(front) as client:
        assert set(by_name(client.list_tools())) == {"double"}
        with pytest.raises(MCPError):
            client.list_resources()  # none left: the front serves no resources at all
    with pytest.raises(ValueError):
        front.mount("no spaces", entry("X"))
    with pytest.raises(ValueError):
        front.mount("x", {"command": ""})
    with pytest.raises(TypeError):
        front.mount("x", "python3 server.py")


def test_a_front_served_over_stdio(tmp_path):
    """The front as a process of its own (gateway_front.py mounts A and B); its upstreams'
    PIDs come from its own tool, and all three are gone after the front is closed."""
    pids = []  # type: List[int]
    client = Client.stdio([sys.executable, FRONT], era="legacy")
    try:
        pids.append(client._channel.process.pid)
        assert client.call_tool("a__add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
        assert client.call_tool("b__echo", {"text": "x"})["content"][0]["text"] == "B: x"
        pids.extend(client.call_tool("upstream_pids", {})["structuredContent"]["result"])
        assert len(pids) == 3
    finally:
        client.close()
        assert_gone(pids)


def test_templates_and_an_in_memory_upstream():
    """A Client of an in-process Server mounted as well: a resource template keeps its URI
    template, and a read of a URI it matches is forwarded as that URI."""
    upstream_app = Server("up")

    @upstream_app.resource("file:///notes/{name}", mime_type="text/plain", description="One note.")
    def note(name: str) -> str:
        return "note %s" % name

    @upstream_app.tool()
    def hello(name: str) -> str:
        """Say hello."""
        return "hello " + name

    front = front_server()
    with Client(upstream_app) as upstream:
        mount = front.mount("up", upstream)
        assert mount.process_id is None
        with Client(front, era="legacy") as client:
            assert client.list_resource_templates() == [
                {"uriTemplate": "file:///notes/{name}", "name": "note", "description": "One note.",
                 "mimeType": "text/plain"}]
            read = client.read_resource("file:///notes/a%20b")
            assert read["contents"] == [{"uri": "file:///notes/a%20b", "mimeType": "text/plain", "text": "note a b"}]
            assert client.call_tool("up__hello", {"name": "x"})["content"] == [{"type": "text", "text": "hello x"}]
        mount.close()
        assert "up__hello" not in front.registry.tools
        # The mount did not start this client, so it did not close it either.
        assert upstream.call_tool("hello", {"name": "y"})["content"][0]["text"] == "hello y"


def test_an_upstream_that_hangs_gives_an_error_result(mounts):
    front = front_server()
    # The entry's timeout bounds connecting too (a Python start under load can take a
    # second), so it is 3 s and the tool sleeps ten times as long.
    mounts(front, "a", dict(entry("A"), timeout=3))
    with Client(front) as client:
        started = time.monotonic()
        result = client.call_tool("a__sleep", {"seconds": 30})
        assert time.monotonic() - started < 20
        assert result["isError"] is True
        assert "mounted as 'a' failed" in result["content"][0]["text"]
        assert client.call_tool("a__echo", {"text": "after"})["content"][0]["text"] == "A: after"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the upstreams' PIDs in /proc")
def test_the_proxy_command_over_stdio(tmp_path):
    """``mcplite proxy CONFIG``: two servers of a config file as one stdio server, a third that
    cannot start named on stderr and left out; the proxy and both upstreams gone after."""
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "a": entry("A"), "b": entry("B"), "broken": {"command": ""}}}), encoding="utf-8")
    pids = []  # type: List[int]
    client = Client.stdio([sys.executable, "-m", "mcplite", "proxy", str(config)], cwd=ROOT, era="legacy",
                          capture_stderr=True)
    try:
        pids.append(client._channel.process.pid)
        names = set(by_name(client.list_tools()))
        assert {"a__echo", "b__echo"} <= names and not any(n.startswith("broken") for n in names)
        assert client.call_tool("b__echo", {"text": "p"})["content"][0]["text"] == "B: p"
        assert client.read_resource("note://A/hello")["contents"][0]["text"] == "hello from A"
        assert "server 'broken' left out" in client._channel.child.stderr_tail()
        pids.extend(_children(pids[0]))
        assert len(pids) == 3
    finally:
        client.close()
        assert_gone(pids)


def _children(pid):
    # type: (int) -> List[int]
    """The process ids of ``pid``'s children (Linux /proc)."""
    found = []  # type: List[int]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(name))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the upstreams' PIDs in /proc")
def test_the_proxy_command_over_http(tmp_path):
    """``mcplite proxy CONFIG --http 127.0.0.1:PORT``: one Streamable HTTP server in front of two
    stdio upstreams, for a client of either era; stopped by its PID, its upstreams end with it."""
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"a": entry("A"), "b": entry("B")}}), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = subprocess.Popen([sys.executable, "-m", "mcplite", "proxy", str(config), "--http", "127.0.0.1:%d" % port],
                             cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pids = [proxy.pid]
    try:
        url = "http://127.0.0.1:%d/mcp" % port
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proxy.poll() is None and time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.05)
        for era in ("legacy", "modern"):
            with Client.http(url, era=era) as client:
                assert client.call_tool("a__add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
                assert client.call_tool("b__echo", {"text": era})["content"][0]["text"] == "B: " + era
        pids.extend(_children(proxy.pid))
        assert len(pids) == 3
    finally:
        proxy.terminate()
        try:
            proxy.wait(WAIT)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait(WAIT)
        proxy.stderr.close()
        assert_gone(pids)


def test_the_callers_cancellation_cancels_the_upstream_call():
    """The front's client gives up (its timeout: notifications/cancelled to the front); the
    front's handler stops waiting and the upstream is sent notifications/cancelled, which its
    sleep tool notices (it writes so on its stderr)."""
    front = front_server()
    upstream = Client.stdio([sys.executable, HOST_APP, "C"], capture_stderr=True)
    pid = upstream._channel.process.pid
    try:
        front.mount("c", upstream)
        with Client(front, timeout=0.5) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                client.call_tool("c__sleep", {"seconds": 8})
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and "sleep: cancelled" not in upstream._channel.child.stderr_tail():
                time.sleep(0.05)
            assert "sleep: cancelled" in upstream._channel.child.stderr_tail()
            assert time.monotonic() - started < 6
            # The upstream serves the next call at once.
            assert client.call_tool("c__echo", {"text": "next"})["content"][0]["text"] == "C: next"
    finally:
        upstream.close()
        assert_gone([pid])


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_an_upstream_changing_its_tools_while_mounted_does_not_stall_the_mount(era):
    """server-everything announces new tools right after its handshake, while the mount
    lists it: the mount must not wait for its own listing to end before taking that in (the
    listing's next answers waited for that callback, each until the timeout)."""
    upstream = Server("changing", version="1.0.0")

    @upstream.tool()
    def first() -> str:
        return "first"

    @upstream.middleware
    def announce(method, params, ctx, call_next):
        # Once, during the mount's first listing: a tool added, so list_changed goes out
        # before the answer to this tools/list.
        if method == "tools/list" and "second" not in upstream.registry.tools:
            upstream.add_tool(lambda: "second", name="second")
        return call_next()

    front = front_server()
    client = Client(upstream, era=era, timeout=3.0, on_list_changed=lambda kind: None)
    try:
        start = time.monotonic()
        mount = front.mount("u", client, timeout=3.0)
        try:
            assert time.monotonic() - start < 2.0  # 3 s per request when it stalls
            deadline = time.monotonic() + WAIT
            while "u__second" not in front.registry.tools and time.monotonic() < deadline:
                time.sleep(0.02)
            assert {"u__first", "u__second"} <= set(front.registry.tools)
        finally:
            mount.close()
    finally:
        client.close()
