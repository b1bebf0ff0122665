"""examples/middleware.py as a real process over stdio, in both eras: its logging, timing,
rate limiting and error mapping middleware, seen from a client."""

import json
import os
import sys

import pytest

from mcplite import Client, MCPError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "middleware.py")


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_middleware_example(era):
    client = Client.stdio([sys.executable, EXAMPLE, "--max-calls", "2", "--per", "60"], era=era, timeout=10,
                          capture_stderr=True, client_info={"name": "mw-tests", "version": "0"})
    with client:
        assert client.era == era
        # Timing: every result carries the time it took, in its _meta.
        first = client.call_tool("add", {"a": 2, "b": 3})
        assert first["structuredContent"] == {"result": 5}
        assert isinstance(first["_meta"]["com.example/durationMs"], float)
        assert client.list_tools()[0]["name"] == "add"  # not a tool call: not counted
        client.call_tool("add", {"a": 1, "b": 1})
        # Rate limiting: the third tool call in the window is refused with the app's code.
        with pytest.raises(MCPError) as limited:
            client.call_tool("add", {"a": 1, "b": 1})
        assert limited.value.code == -32029 and "Rate limit exceeded" in limited.value.message
        assert 0 < limited.value.data["retryAfterMs"] <= 60001
        # Error mapping: the application's NotFound is a -32602 a client can act on...
        assert client.request("com.example/stock", {"item": "apple"})["count"] == 3
        with pytest.raises(MCPError) as missing:
            client.request("com.example/stock", {"item": "kiwi"})
        assert (missing.value.code, missing.value.data) == (-32602, {"what": "item 'kiwi'"})
        # ...and a bug is an internal error with an id, the details only in the server's log.
        with pytest.raises(MCPError) as crashed:
            client.request("com.example/crash", {})
        error_id = crashed.value.data["errorId"]
        assert crashed.value.code == -32603 and error_id in crashed.value.message
        assert "hunter2" not in json.dumps([crashed.value.message, crashed.value.data])
        stderr = client._channel.child.stderr_tail(limit=20000, wait=0.2)
    # Logging: one line per request on stderr, refusals included; the traceback is there too.
    assert "tools/call (id" in stderr and "client mw-tests) -> ok" in stderr
    assert "-> error -32029 Rate limit exceeded" in stderr
    assert "error %s while serving com.example/crash" % error_id in stderr and "hunter2" in stderr
