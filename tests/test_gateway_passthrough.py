"""Everything through a mount, both ways, in every pairing of eras (issue 17): the upstream's
questions (elicitation form and URL, sampling, roots) put to the client in front and answered
back, log messages at the level the client in front asked for, resource subscriptions and
updates, completion routed by the prompt's prefixed name or the template's URI, pagination.

The upstream is a real process (``tests/servers/gateway_upstream.py`` over stdio, in the era
the test names); the front is a ``Server`` with a real ``Client`` in front of it (in memory, in
its own era). Every upstream process is checked gone by its PID at the end; waits are bounded.
"""

import os
import sys
import threading
import time
from typing import Any, Dict, List

import pytest

from mcplite import Client, Server
from mcplite.errors import MCPError

from harness_support import assert_gone

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "servers", "gateway_upstream.py")
WAIT = 10.0
ERAS = [("legacy", "legacy"), ("legacy", "modern"), ("modern", "legacy"), ("modern", "modern")]
# What the upstream client declares (the front's client answers): as a config entry's would.
ASKS = {"elicitation": {"form": {}, "url": {}}, "sampling": {}, "roots": {}}


class Upstream:
    def __init__(self, era):
        # type: (str) -> None
        self.client = Client.stdio([sys.executable, UPSTREAM], era=era, capabilities=ASKS)
        self.pid = self.client._channel.process.pid

    def close(self):
        # type: () -> None
        self.client.close()
        assert_gone([self.pid])


@pytest.fixture
def upstreams():
    made = []  # type: List[Upstream]

    def make(era):
        # type: (str) -> Client
        upstream = Upstream(era)
        made.append(upstream)
        return upstream.client
    try:
        yield make
    finally:
        for upstream in made:
            upstream.close()


def front_with(upstream):
    # type: (Client) -> Server
    front = Server("front", version="1.0.0")
    front.mount("u", upstream)
    return front


def answers_for(seen):
    # type: (List[Any]) -> Dict[str, Any]
    def elicitation(params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        seen.append(("elicit", params))
        if params.get("mode") == "url":
            return {"action": "accept"}
        field = list(params["requestedSchema"]["properties"])[0]
        return {"action": "accept", "content": {field: "Ada-" + field}}

    def sampling(params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        seen.append(("sample", params))
        return {"role": "assistant", "content": {"type": "text", "text": "teal"}, "model": "m1"}
    return dict(elicitation=elicitation, sampling=sampling, roots=[{"uri": "file:///work", "name": "work"}],
                capabilities={"elicitation": {"form": {}, "url": {}}})


def text(result):
    # type: (Dict[str, Any]) -> str
    assert not result.get("isError"), result
    return result["content"][0]["text"]


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_the_upstreams_questions_reach_the_client_in_front(upstreams, front_era, upstream_era):
    front = front_with(upstreams(upstream_era))
    seen = []  # type: List[Any]
    with Client(front, era=front_era, **answers_for(seen)) as client:
        assert text(client.call_tool("u__ask_name", {})) == "hello Ada-name"
        assert seen[0][0] == "elicit" and seen[0][1]["message"] == "Your name?"
        assert text(client.call_tool("u__ask_twice", {})) == "Ada-a+Ada-b"
        assert text(client.call_tool("u__ask_model", {})) == "m1 said teal"
        assert [kind for kind, _ in seen].count("sample") == 1
        assert text(client.call_tool("u__list_roots", {})) == "file:///work"
        assert text(client.call_tool("u__ask_url", {})) == "accept"
        url = [params for kind, params in seen if params.get("mode") == "url"][0]
        assert url["url"] == "https://bank.example/consent"
        # Each era's own shape: an elicitationId in a session, none in 2026-07-28.
        assert ("elicitationId" in url) == (front_era == "legacy")


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_a_client_in_front_that_cannot_answer_is_named_in_the_error(upstreams, front_era, upstream_era):
    front = front_with(upstreams(upstream_era))
    with Client(front, era=front_era) as client:  # declares no elicitation
        # -32021 as when the front's own tool asks: the capability named, whichever era
        # the question crossed.
        with pytest.raises(MCPError) as refused:
            client.call_tool("u__ask_name", {})
        assert refused.value.code == -32021
        assert "elicitation" in refused.value.message
        # The mount is fine after.
        assert text(client.call_tool("u__touch", {})) == "touched"


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_logging_at_the_level_the_client_in_front_asked(upstreams, front_era, upstream_era):
    front = front_with(upstreams(upstream_era))
    logs = []  # type: List[Dict[str, Any]]
    with Client(front, era=front_era, on_log=logs.append) as client:
        client.set_log_level("info")
        assert text(client.call_tool("u__chatty", {})) == "logged"
        assert [(m["level"], m["data"], m.get("logger")) for m in logs] == [
            ("info", "a info message", "chatty"), ("warning", "a warning message", "chatty")]


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_subscriptions_and_resource_updates(upstreams, front_era, upstream_era):
    front = front_with(upstreams(upstream_era))
    updated = []  # type: List[str]
    got = threading.Event()

    def on_updated(uri):
        # type: (str) -> None
        updated.append(uri)
        got.set()
    with Client(front, era=front_era, on_resource_updated=on_updated) as client:
        client.subscribe("note://U/state")
        assert text(client.call_tool("u__touch", {})) == "touched"
        assert got.wait(WAIT)
        assert updated == ["note://U/state"]
        assert client.read_resource("note://U/state")["contents"][0]["text"] == "state"


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_completion_routed_and_pages_joined(upstreams, front_era, upstream_era):
    front = front_with(upstreams(upstream_era))
    with Client(front, era=front_era) as client:
        completed = client.complete({"type": "ref/prompt", "name": "u__story"}, "genre", "sa")
        assert completed["values"] == ["saga", "satire"]
        completed = client.complete({"type": "ref/resource", "uri": "item://{kind}/{name}"}, "kind", "bo")
        assert completed["values"] == ["book", "bowl"]
        with pytest.raises(MCPError):
            client.complete({"type": "ref/prompt", "name": "story"}, "genre", "s")  # not its name here
        # The upstream lists two to a page; the front has them all.
        names = {tool["name"] for tool in client.list_tools()}
        assert {"u__ask_name", "u__ask_twice", "u__ask_url", "u__finish_url", "u__ask_model", "u__list_roots", "u__chatty",
                "u__nap", "u__touch", "u__consent", "u__crash", "u__garble", "u__job", "u__confirm_job"} == names
        assert client.read_resource("item://book/x")["contents"][0]["text"] == "book x"


def test_a_question_that_cannot_be_matched_to_one_call_is_put_to_no_one(upstreams):
    """A session-era upstream over stdio, two calls in flight: whose question is it? The
    gateway cannot tell, so it asks no one (the upstream gets an error, its caller too)."""
    front = front_with(upstreams("legacy"))
    seen = []  # type: List[Any]
    with Client(front, era="legacy", **answers_for(seen)) as client:
        napped = {}  # type: Dict[str, Any]
        thread = threading.Thread(target=lambda: napped.update(client.call_tool("u__nap", {"seconds": 1.5})))
        thread.start()
        try:
            time.sleep(0.3)  # the nap is in flight
            with pytest.raises(MCPError) as refused:
                client.call_tool("u__ask_name", {})
            assert "cannot tell which call" in refused.value.message
            assert seen == []
        finally:
            thread.join(WAIT)
        assert text(napped) == "rested"
        # Alone in flight, the question is matched again.
        assert text(client.call_tool("u__ask_name", {})) == "hello Ada-name"


def test_an_upstream_task_becomes_the_front_task(upstreams):
    """2026-07-28 on both sides, the client in front declaring the tasks extension: where the
    upstream answers with a task the front does too (and waits for the upstream's, its
    questions asked in the front task's input_required status, together, under the upstream's
    keys); where the upstream answers at once, so does the front."""
    front = front_with(upstreams("modern"))
    seen = []  # type: List[Any]
    with Client(front, era="modern", tasks=True, **answers_for(seen)) as client:
        created = client.call_tool("u__job", {"seconds": 0.2}, wait=False)
        assert created["resultType"] == "task" and created["status"] == "working"
        assert text(client.wait_task(created["taskId"])) == "job done"
        at_once = client.call_tool("u__touch", {}, wait=False)
        assert at_once.get("resultType") == "complete" and text(at_once) == "touched"
        assert text(client.call_tool("u__confirm_job", {})) == "Ada-sure because Ada-why"
        assert [params["message"] for kind, params in seen] == ["Sure?", "Why?"]
    with Client(front, era="modern", **answers_for(seen)) as plain:
        # No tasks declared in front: none upstream either (the front's capabilities travel).
        assert text(plain.call_tool("u__job", {"seconds": 0.01})) == "job done"


def test_the_empty_prefix_keeps_the_upstreams_names(upstreams):
    """mount("", upstream): a gateway in front of one server, its names as they are (how
    scripts/conformance --gateway puts the fixture behind it)."""
    front = Server("front", version="1.0.0")
    front.mount("", upstreams("modern"))
    with Client(front) as client:
        assert "touch" in {tool["name"] for tool in client.list_tools()}
        assert text(client.call_tool("touch", {})) == "touched"
        assert client.complete({"type": "ref/prompt", "name": "story"}, "genre", "th")["values"] == ["thriller"]


def test_a_roots_change_in_front_reaches_a_session_upstream():
    """notifications/roots/list_changed from the client in front goes on to a session-era
    upstream (a raw one here, which says what notifications it got)."""
    front = Server("front", version="1.0.0")
    raw = os.path.join(HERE, "servers", "gateway_raw_upstream.py")
    mount = front.mount("r", {"command": sys.executable, "args": [raw]})
    pid = mount.process_id
    try:
        with Client(front, era="legacy", roots=[{"uri": "file:///work"}]) as client:
            assert text(client.call_tool("r__seen", {})) == '["notifications/initialized"]'
            client.notify_roots_changed()
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and "roots" not in text(client.call_tool("r__seen", {})):
                time.sleep(0.05)
            assert text(client.call_tool("r__seen", {})) == \
                '["notifications/initialized", "notifications/roots/list_changed"]'
    finally:
        mount.close()
        assert_gone([pid])


@pytest.mark.parametrize("front_era", ["legacy", "modern"])
def test_a_server_of_this_process_mounted_directly(front_era):
    """mount(prefix, Server): reached in memory, its questions asked of the client in front,
    its registrations gone on close."""
    sys.path.insert(0, os.path.join(HERE, "servers"))
    from gateway_upstream import make_upstream
    upstream = make_upstream()
    front = Server("front", version="1.0.0")
    mount = front.mount("m", upstream)
    assert mount.process_id is None
    seen = []  # type: List[Any]
    with Client(front, era=front_era, **answers_for(seen)) as client:
        assert text(client.call_tool("m__ask_name", {})) == "hello Ada-name"
        assert text(client.call_tool("m__ask_twice", {})) == "Ada-a+Ada-b"
        assert client.complete({"type": "ref/prompt", "name": "m__story"}, "genre", "sat")["values"] == ["satire"]
    mount.close()
    assert not any(name.startswith("m__") for name in front.registry.tools)
    with pytest.raises(ValueError):
        front.mount("self", front)
