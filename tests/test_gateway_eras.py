"""Era translation through a mount (issue 17): each side speaks its own era. The pairings of
the pass-through tests (tests/test_gateway_passthrough.py) cover questions vs input_required
rounds, resources/subscribe vs subscriptions/listen and initialize vs server/discover; here
what differs in shape between the eras, and what has no translation: a clear error naming
what is missing.

The upstream is a real process (``tests/servers/gateway_upstream.py`` over stdio); the client
in front is a real ``Client`` of the front ``Server`` (in memory), of the version the test names.
"""

import time
from typing import Any, Dict, List

import pytest

from mcplite import Client, Server
from mcplite.errors import MCPError, RequestTimeout

from test_gateway_passthrough import ERAS, answers_for, front_with, text, upstreams  # noqa: F401 (a fixture)


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_url_elicitation_required_in_each_eras_shape(upstreams, front_era, upstream_era):  # noqa: F811
    """2025-11-25's -32042 has no 2026-07-28 equivalent but an input request of URL mode,
    and the other way round: each client in front gets its own era's form of it."""
    front = front_with(upstreams(upstream_era))
    seen = []  # type: List[Any]
    with Client(front, era=front_era, **answers_for(seen)) as client:
        if front_era == "legacy" and upstream_era == "legacy":
            # A session in front, a session upstream: the error as it came.
            with pytest.raises(MCPError) as required:
                client.call_tool("u__consent", {})
            assert required.value.code == -32042
            assert required.value.data["elicitations"][0]["url"] == "https://bank.example/consent"
            assert text(client.call_tool("u__consent", {})) == "consented"  # the user went
        else:
            # A 2026-07-28 side on either end: the question is asked (a request to a
            # session client, a round to a 2026-07-28 one) and the call retried.
            assert text(client.call_tool("u__consent", {})) == "consented"
            urls = [params["url"] for kind, params in seen if params.get("mode") == "url"]
            assert urls == ["https://bank.example/consent"]


@pytest.mark.parametrize("front_era,upstream_era", ERAS)
def test_a_url_elicitations_completion_reaches_the_session_it_was_put_to(upstreams, front_era, upstream_era):  # noqa: F811
    """A 2025-11-25 upstream's notifications/elicitation/complete for a URL elicitation that
    went to a session in front (asked, or in a -32042 error) is passed on to that session,
    under the same elicitationId, once; 2026-07-28 has no such notification on either side."""
    front = front_with(upstreams(upstream_era))
    seen = []  # type: List[Any]
    completed = []  # type: List[str]
    with Client(front, era=front_era, on_elicitation_complete=completed.append, **answers_for(seen)) as client:
        with Client(front, era=front_era, on_elicitation_complete=completed.append, **answers_for([])) as other:
            told = "told" if upstream_era == "legacy" else "not told"
            assert text(client.call_tool("u__ask_url", {})) == "accept"
            asked = [params for kind, params in seen if params.get("mode") == "url"][0]
            try:
                client.call_tool("u__consent", {})  # -32042 in a session front, a round otherwise
            except MCPError as exc:
                assert exc.code == -32042
            # Completions told by the upstream (on another session's call: they are about
            # the user, not a call), then one the gateway never put to anyone.
            for elicitation_id in [asked.get("elicitationId", "none"), "consent-1", "unknown-1"]:
                assert text(other.call_tool("u__finish_url", {"elicitation_id": elicitation_id})) == told
            # (The notifications come before the call's answer on the upstream's stdout;
            # the mount relays each as it reads it, and the front's callbacks run in order.)
            assert text(client.call_tool("u__touch", {})) == "touched"
            deadline = time.monotonic() + 2.0
            expected = [asked["elicitationId"], "consent-1"] if (front_era, upstream_era) == ("legacy", "legacy") else []
            while len(completed) < len(expected) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)  # (and nothing more after)
            assert completed == expected


@pytest.mark.parametrize("upstream_era", ["legacy", "modern"])
def test_a_question_an_older_client_cannot_be_asked_names_what_is_missing(upstreams, upstream_era):  # noqa: F811
    """A 2024-11-05 client has no elicitation at all, a 2025-06-18 one no URL mode: the
    upstream's question fails with -32021 naming the capability, and nothing is asked."""
    front = front_with(upstreams(upstream_era))
    seen = []  # type: List[Any]
    with Client(front, protocol_version="2024-11-05", **answers_for(seen)) as client:
        with pytest.raises(MCPError) as missing:
            client.call_tool("u__ask_name", {})
        assert missing.value.code == -32021
        assert '"elicitation"' in missing.value.message
        # Sampling and roots were there in 2024-11-05: those go through.
        assert text(client.call_tool("u__ask_model", {})) == "m1 said teal"
        assert text(client.call_tool("u__list_roots", {})) == "file:///work"
    with Client(front, protocol_version="2025-06-18", **answers_for(seen)) as client:
        assert text(client.call_tool("u__ask_name", {})) == "hello Ada-name"
        with pytest.raises(MCPError) as missing:
            client.call_tool("u__ask_url", {})
        assert missing.value.code == -32021
        assert '"url"' in missing.value.message
    assert [params.get("mode") for kind, params in seen if kind == "elicit"] == [None]


@pytest.mark.parametrize("front_version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("upstream_era", ["legacy", "modern"])
def test_every_version_in_front_of_either_era(upstreams, front_version, upstream_era):  # noqa: F811
    """A call, a prompt, a read, a list and a completion, for a client of each version."""
    front = front_with(upstreams(upstream_era))
    with Client(front, protocol_version=front_version) as client:
        assert client.protocol_version == front_version
        assert text(client.call_tool("u__touch", {})) == "touched"
        got = client.get_prompt("u__story", {"genre": "saga"})
        assert got["messages"][0]["content"]["text"] == "Tell a saga story."
        assert client.read_resource("item://bowl/y")["contents"][0]["text"] == "bowl y"
        assert client.complete({"type": "ref/prompt", "name": "u__story"}, "genre", "t")["values"] == ["thriller"]
        assert "u__consent" in {tool["name"] for tool in client.list_tools()}


def test_a_2026_client_that_never_answers_leaves_nothing_waiting(upstreams):  # noqa: F811
    """A 2026-07-28 client in front of a session-era upstream that asks, and then no retry:
    the upstream's question times out after the front's client_request_timeout, its call ends,
    and a late retry naming that waiting call is refused as no longer waiting."""
    front = Server("front", version="1.0.0", client_request_timeout=0.5)
    mount = front.mount("u", upstreams("legacy"))
    seen = []  # type: List[Any]
    with Client(front, era="modern", max_rounds=0, **answers_for(seen)) as client:
        with pytest.raises(Exception):
            client.call_tool("u__ask_name", {})  # one round, never answered (max_rounds=0)
        assert len(mount._conversations) == 1
        token = next(iter(mount._conversations))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and mount._conversations[token].outcome is None:
            time.sleep(0.05)
        assert mount._conversations[token].outcome is not None  # the upstream call ended
        late = {"name": "u__ask_name", "arguments": {}, "inputResponses": {"gw.%s.1" % token: {"action": "decline"}}}
        # The first late retry gets how that call ended (the upstream's error: unanswered)...
        with pytest.raises(MCPError) as ended:
            client._call("tools/call", late, None, None)
        assert ended.value.code == -32001 and "did not answer elicitation/create within 0.5 s" in ended.value.message
        # ...and after that nothing is kept for it.
        assert mount._conversations == {}
        with pytest.raises(MCPError) as gone:
            client._call("tools/call", late, None, None)
        assert gone.value.code == -32602 and "no longer waiting" in gone.value.message
        assert seen == []
    # The mount goes on.
    with Client(front, era="modern", **answers_for(seen)) as client:
        assert text(client.call_tool("u__ask_name", {})) == "hello Ada-name"


def test_a_2026_client_that_gives_up_leaves_nothing_waiting(upstreams):  # noqa: F811
    """A 2026-07-28 client in front of a session-era upstream gives up on a call: the upstream
    call is cancelled, and the gateway keeps nothing for a retry that will not come."""
    front = Server("front", version="1.0.0")
    mount = front.mount("u", upstreams("legacy"))
    with Client(front, era="modern") as client:
        with pytest.raises(RequestTimeout):
            client.call_tool("u__nap", {"seconds": 1}, timeout=0.3)
        deadline = time.monotonic() + 2.0  # well before a stale call would be dropped (minutes)
        while mount._conversations and time.monotonic() < deadline:
            time.sleep(0.02)
        assert mount._conversations == {}
        assert text(client.call_tool("u__touch", {})) == "touched"
