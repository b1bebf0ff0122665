"""Upstream failures through a mount (issue 17): an upstream that crashes, answers garbage,
hangs or goes away gives the calls it affects a clear error naming the mount, never takes the
front or the other upstreams down, and is started again (stdio) or reconnected (HTTP) with
backoff; its tools vanish from the front while it is down and come back with it, and the
client in front hears ``list_changed`` both times.

The upstreams are real: processes (``tests/servers/gateway_upstream.py`` over stdio, started
by the mount from a config entry) and a real HTTP server on 127.0.0.1 in this process. Every
process is checked gone by its PID at the end; every wait is bounded.
"""

import os
import signal
import sys
import threading
import time
from typing import Any, Callable, List

import pytest

from mcplite import Client, Server

from harness_support import assert_gone, gone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "servers"))
UPSTREAM = os.path.join(HERE, "servers", "gateway_upstream.py")
WAIT = 15.0

from gateway_upstream import make_upstream  # noqa: E402


def entry(**more):
    # type: (Any) -> dict
    return dict({"command": sys.executable, "args": [UPSTREAM]}, **more)


def wait_until(check, what):
    # type: (Callable[[], Any], str) -> None
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "not within %g s: %s" % (WAIT, what)
        time.sleep(0.05)


def names(client):
    # type: (Client) -> set
    try:
        return {tool["name"] for tool in client.list_tools()}
    except Exception:  # no tools at all: -32601
        return set()


class Front:
    """A front with mounts; at the end each mount is closed and every upstream process the
    test saw (restarted ones too) is checked gone."""

    def __init__(self):
        # type: () -> None
        self.app = Server("front", version="1.0.0")
        self.mounts = []  # type: List[Any]
        self.pids = []  # type: List[int]

        @self.app.tool()
        def double(x: int) -> int:
            return 2 * x

    def mount(self, prefix, upstream, **options):
        # type: (str, Any, Any) -> Any
        mount = self.app.mount(prefix, upstream, **options)
        self.mounts.append(mount)
        self.seen(mount)
        return mount

    def seen(self, mount):
        # type: (Any) -> int
        pid = mount.process_id
        if pid is not None and pid not in self.pids:
            self.pids.append(pid)
        return pid

    def finish(self):
        # type: () -> None
        for mount in self.mounts:
            self.seen(mount)
            mount.close()
        assert_gone(self.pids)


@pytest.fixture
def front():
    made = Front()
    try:
        yield made
    finally:
        made.finish()


def test_a_crashed_upstream_is_restarted_and_its_tools_vanish_and_come_back(front):
    mount = front.mount("u", entry())
    front.mount("v", entry())
    first = mount.process_id
    changes = []  # type: List[str]
    with Client(front.app, era="legacy", on_list_changed=changes.append) as client:
        assert "u__touch" in names(client)
        crashed = client.call_tool("u__crash", {})
        assert crashed["isError"] is True
        assert "mounted as 'u' failed" in crashed["content"][0]["text"]
        # The front and the other upstream go on meanwhile.
        assert client.call_tool("v__touch", {})["content"][0]["text"] == "touched"
        assert client.call_tool("double", {"x": 2})["structuredContent"] == {"result": 4}
        wait_until(lambda: mount.restarts == 1 and "u__touch" in names(client), "the upstream back")
        assert front.seen(mount) != first
        assert_gone([first])
        assert client.call_tool("u__touch", {})["content"][0]["text"] == "touched"
        # Gone and back: list_changed each time.
        wait_until(lambda: changes.count("tools") >= 2, "two tools/list_changed")


def test_an_upstream_answering_garbage_fails_that_call_only(front):
    mount = front.mount("u", entry())
    pid = mount.process_id
    with Client(front.app) as client:
        garbled = client.call_tool("u__garble", {})
        assert garbled["isError"] is True
        text = garbled["content"][0]["text"]
        assert "mounted as 'u' failed" in text and "not an object" in text
        assert client.call_tool("u__touch", {})["content"][0]["text"] == "touched"
        time.sleep(0.5)  # the watcher's ping: answered, so no restart
        assert mount.restarts == 0 and mount.process_id == pid


def test_a_hung_call_times_out_and_the_upstream_is_kept(front):
    mount = front.mount("u", entry())
    # Short calls from here on (not for starting it: a loaded machine may take longer).
    mount.client.timeout = 0.5
    mount.timeout = 0.5
    with Client(front.app) as client:
        started = time.monotonic()
        hung = client.call_tool("u__nap", {"seconds": 5})
        assert time.monotonic() - started < 4
        assert hung["isError"] is True and "mounted as 'u' failed" in hung["content"][0]["text"]
        # It answers ping meanwhile: still there, not restarted.
        assert client.call_tool("u__touch", {})["content"][0]["text"] == "touched"
        assert mount.restarts == 0


def test_restart_false_leaves_it_down(front):
    mount = front.mount("u", entry(), restart=False)
    pid = mount.process_id
    with Client(front.app) as client:
        os.kill(pid, signal.SIGKILL)
        assert_gone([pid])
        down = client.call_tool("u__touch", {})
        assert down["isError"] is True and "mounted as 'u' failed" in down["content"][0]["text"]
        time.sleep(0.5)
        assert mount.restarts == 0 and "u__touch" in names(client)


def test_an_http_upstream_that_goes_away_is_reconnected(front):
    """The upstream's HTTP server stops (the connection refused), then comes back on the same
    port: the mount reconnects within its backoff, and the tools are back."""
    upstream = make_upstream().run_in_thread(port=0)
    port = upstream.port
    try:
        mount = front.mount("h", {"url": upstream.url})
        changes = []  # type: List[str]
        with Client(front.app, era="legacy", on_list_changed=changes.append) as client:
            assert client.call_tool("h__touch", {})["content"][0]["text"] == "touched"
            upstream.stop()
            failed = client.call_tool("h__touch", {})
            assert failed["isError"] is True and "mounted as 'h' failed" in failed["content"][0]["text"]
            wait_until(lambda: mount.down is not None, "the upstream seen down")
            wait_until(lambda: "h__touch" not in names(client), "its tools gone from the front")
            upstream = make_upstream().run_in_thread(port=port)
            wait_until(lambda: mount.restarts == 1 and "h__touch" in names(client), "reconnected")
            assert client.call_tool("h__touch", {})["content"][0]["text"] == "touched"
            wait_until(lambda: changes.count("tools") >= 2, "two tools/list_changed")
    finally:
        upstream.stop()


def test_close_while_restarting_stops_everything(front):
    """A mount closed while its upstream is down (waiting out the backoff) starts nothing."""
    mount = front.mount("u", entry())
    pid = mount.process_id
    os.kill(pid, signal.SIGKILL)
    assert_gone([pid])
    wait_until(lambda: mount.down is not None, "the upstream seen down")
    mount.close()
    assert mount._watcher is not None and not mount._watcher.is_alive()
    time.sleep(0.5)
    assert mount.restarts == 0 or gone(front.seen(mount))


def test_mounting_an_upstream_that_writes_garbage_fails_within_its_timeout():
    """An upstream writing lines that are not JSON and answering nothing: the mount fails
    within about its timeout - the probe (server/discover), initialize and stopping the
    process within it, not one after the other at full length each (3 + 3 + 2 s for
    timeout=3) - with an error saying what the upstream wrote; the process is gone."""
    garbage = os.path.join(HERE, "servers", "gateway_garbage_upstream.py")
    app = Server("front", version="1.0.0")
    started = time.monotonic()
    with pytest.raises(Exception) as failed:
        app.mount("g", {"command": sys.executable, "args": [garbage]}, timeout=3)
    took = time.monotonic() - started
    message = str(failed.value)
    assert "not JSON" in message and "garbage from pid" in message, message
    assert took < 5, "the mount took %.1f s to fail with timeout=3" % took
    pid = int(message.split("garbage from pid ")[1].split("'")[0])
    assert_gone([pid])
    assert not app.registry.tools.keys() - {"double"}
