"""The README's example server (examples/jobs_server.py), in both eras, exactly as the README
shows it on the wire: progress then cancellation, and a question to the user."""

import json
import os
import sys
import time

import pytest

from stdio_peer import StdioPeer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "jobs_server.py")
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
               "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
CONFIRM = {"action": "accept", "content": {"confirm": True}}


@pytest.fixture
def peer():
    p = StdioPeer([sys.executable, EXAMPLE])
    try:
        yield p
    finally:
        p.proc.kill()
        p.proc.wait(5)


def initialize(peer, capabilities):
    response = peer.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": capabilities,
                                           "clientInfo": {"name": "tests", "version": "0"}}, id=0)
    assert response["result"]["protocolVersion"] == "2025-11-25"
    peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def test_session_asks_the_user_with_a_request(peer):
    initialize(peer, {"elicitation": {}})
    peer.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": "delete_branch", "arguments": {"branch": "old-feature"}}})
    question = peer.receive()
    assert question == {"jsonrpc": "2.0", "id": "s1", "method": "elicitation/create", "params": {
        "message": "Delete branch old-feature?",
        "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}}}
    peer.send({"jsonrpc": "2.0", "id": "s1", "result": CONFIRM})
    assert peer.receive() == {"jsonrpc": "2.0", "id": 7,
                              "result": {"content": [{"type": "text", "text": "deleted old-feature"}]}}
    branches = peer.request("tools/call", {"name": "list_branches"}, id=8)["result"]["structuredContent"]
    assert branches == {"result": ["main", "spike"]}


def test_session_without_elicitation_gets_a_clear_error(peer):
    initialize(peer, {})
    response = peer.request("tools/call", {"name": "delete_branch", "arguments": {"branch": "spike"}}, id=3)
    assert response["error"]["code"] == -32021
    assert response["error"]["data"] == {"requiredCapabilities": {"elicitation": {}}}


def test_modern_asks_the_user_in_rounds(peer):
    args = {"name": "delete_branch", "arguments": {"branch": "spike"}}
    first = peer.request("tools/call", dict(args, _meta=MODERN_META), id=7)["result"]
    assert first["resultType"] == "input_required"
    assert first["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "message": "Delete branch spike?",
        "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}}}}
    state = first["requestState"]
    assert isinstance(state, str) and state
    second = peer.request("tools/call", dict(args, _meta=MODERN_META, inputResponses={"elicit-1": CONFIRM},
                                             requestState=state), id=8)["result"]
    assert second["resultType"] == "complete"
    assert second["content"] == [{"type": "text", "text": "deleted spike"}]
    tampered = peer.request("tools/call", dict(args, _meta=MODERN_META, inputResponses={"elicit-1": CONFIRM},
                                               requestState=state[:-2] + ("AA" if state[-2:] != "AA" else "BB")), id=9)
    assert tampered["error"]["code"] == -32602


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_progress_then_cancellation(peer, era):
    meta = {"progressToken": "p4"}
    if era == "legacy":
        initialize(peer, {})
    else:
        meta.update(MODERN_META)
    peer.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
               "params": {"name": "crunch", "arguments": {"files": 100}, "_meta": meta}})
    seen = [peer.receive(), peer.receive()]
    assert seen == [
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": "p4", "progress": 1, "total": 100, "message": "file 1 of 100"}},
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": "p4", "progress": 2, "total": 100, "message": "file 2 of 100"}},
    ]
    peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 4, "reason": "stop"}})
    # Whatever progress was already on its way, no response for request 4 ever comes, and
    # the server goes on serving.
    ping_id = 5
    if era == "legacy":
        peer.send({"jsonrpc": "2.0", "id": ping_id, "method": "ping"})
    else:
        peer.send({"jsonrpc": "2.0", "id": ping_id, "method": "server/discover", "params": {"_meta": MODERN_META}})
    deadline = time.monotonic() + 10
    while True:
        message = peer.receive(timeout=max(0.1, deadline - time.monotonic()))
        assert message.get("id") != 4, message
        if message.get("id") == ping_id:
            break
        assert message["method"] == "notifications/progress"
    time.sleep(0.3)  # a response to 4 would be written by now
    assert all(json.loads(line).get("id") != 4 for line in peer.raw_lines)
