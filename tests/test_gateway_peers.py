"""The gateway (``Server.mount``, mcplite/gateway.py) between real peers, in both eras and
across them (issue 17): progress, elicitation and cancellation going through.

The front is a mcplite ``Server`` served over Streamable HTTP on 127.0.0.1 in the test
process; behind it, one of:

- the TypeScript reference server (``@modelcontextprotocol/server-everything``, session era
  only; ``$MCPLITE_EVERYTHING``, see tests/test_interop_everything.py) over stdio, mounted as
  ``ev``: its ``trigger-long-running-operation`` reports progress each step (and, cancelled,
  runs on to the end but sends no answer: the TS SDK drops the answer of a request it was
  told is cancelled), its ``trigger-elicitation-request`` asks a form;
- a mcplite ``Server`` speaking 2026-07-28 over stdio (tests/servers/gateway_peer_upstream.py),
  mounted as ``up``, whose ``linger`` writes to a file whether it was cancelled.

In front: the official Python SDK's client (``$MCPLITE_SDK_PYTHON``, driven by
tests/interop/sdk_gateway_client.py) in the session era and in 2026-07-28, or a mcplite
``Client`` in 2026-07-28. Cancellation is the client's own: the SDK cancels the awaiting
scope (a ``notifications/cancelled`` in a session, an aborted POST in 2026-07-28), mcplite's
client gives up after its timeout. It is observed upstream, while the client in front is
still connected: on the wire between the gateway and server-everything (a tracer on the
mount's client), or in the mcplite upstream's file.

Every process started here carries a marker in its environment and is checked gone at the
end (``interop_support.leftovers``); every wait is bounded.
"""

import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from interop_support import (
    LEGACY, MODERN, REPO, TOKEN_VARIABLE, inbound, outbound, peer_env, reap_leftovers, sdk_python_fixture,
)
from mcplite import Client, RequestTimeout, Server, Tracer
from test_interop_everything import everything  # noqa: F401 (a fixture: the server's command line)

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_HELPER = os.path.join(HERE, "interop", "sdk_gateway_client.py")
PEER_UPSTREAM = os.path.join(HERE, "servers", "gateway_peer_upstream.py")
ANSWER_NAME = "Sdk Gateway"  # what the SDK helper's elicitation callback answers
HELPER_TIMEOUT = 60.0
WAIT = 10.0  # anything the test waits for upstream

sdk_python = sdk_python_fixture("mcp.client.streamable_http")
pytestmark = pytest.mark.interop  # every test here needs a peer (scripts/test --no-interop deselects them)

# The long call: ten steps of 0.2 s, cancelled after the first (whose progress shows it runs).
LONG_DURATION, LONG_STEPS = 2.0, 10
EVERYTHING_PLAN = {
    "progress": ["ev__trigger-long-running-operation", {"duration": 0.4, "steps": 4}],
    "elicit": ["ev__trigger-elicitation-request", {}],
    "long": ["ev__trigger-long-running-operation", {"duration": LONG_DURATION, "steps": LONG_STEPS}],
    "after": ["ev__echo", {"message": "after the cancellation"}],
}
PEER_PLAN = {
    "progress": ["up__count", {"n": 3}],
    "elicit": ["up__ask_name", {}],
    "long": ["up__linger", {"seconds": 20}],
    "after": ["up__count", {"n": 1}],
}


# --- the wire between the gateway and its upstream ---------------------------------------------------


class Wire(Tracer):
    """A tracer that keeps every JSON-RPC message, with the time it crossed (``time.monotonic``,
    the same clock in every process on the machine), instead of printing them."""

    def __init__(self):
        # type: () -> None
        super(Wire, self).__init__(stream=io.StringIO())  # the printed trace is not needed
        self.cond = threading.Condition()
        self.log = []  # type: List[Tuple[float, str, Any]]

    def message(self, direction, message, raw=None):
        # type: (str, Any, Optional[bytes]) -> None
        with self.cond:
            self.log.append((time.monotonic(), direction, message))
            self.cond.notify_all()

    def sent(self):
        # type: () -> List[Dict[str, Any]]
        with self.cond:
            return [m for _, d, m in self.log if d == "->" and isinstance(m, dict)]

    def received(self):
        # type: () -> List[Dict[str, Any]]
        with self.cond:
            return [m for _, d, m in self.log if d == "<-" and isinstance(m, dict)]

    def wait_for(self, direction, match, timeout=WAIT):
        # type: (str, Callable[[Dict[str, Any]], bool], float) -> Optional[Tuple[float, Dict[str, Any]]]
        """The first message in ``direction`` that ``match``es, and when it crossed; None
        when none did within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, d, m in self.log:
                    if d == direction and isinstance(m, dict) and match(m):
                        return at, m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)


def long_call(message):
    # type: (Dict[str, Any]) -> bool
    """The gateway's upstream tools/call of the long operation."""
    params = message.get("params") or {}
    return (message.get("method") == "tools/call" and params.get("name") == "trigger-long-running-operation"
            and (params.get("arguments") or {}).get("steps") == LONG_STEPS)


# --- the gateway ---------------------------------------------------------------------------------


class Gateway:
    """A front ``Server`` served on 127.0.0.1 with one upstream mounted."""

    def __init__(self, front, mount, wire=None):
        # type: (Server, Any, Optional[Wire]) -> None
        self.front = front
        self.mount = mount
        self.wire = wire
        self.http = front.run_in_thread("http", host="127.0.0.1", port=0, path="/mcp")
        self.url = self.http.url

    def tools(self):
        # type: () -> List[str]
        return sorted(self.front.registry.tools)


@pytest.fixture
def gateways(request):
    """``gateways("everything")`` / ``gateways("peer", marker)``: a new gateway in front of a
    new upstream process; each is stopped at the end and its processes checked gone."""
    token = "gateway-peers-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
    made = []  # type: List[Tuple[Gateway, Optional[Client]]]

    def make(kind, marker=None):
        # type: (str, Optional[str]) -> Gateway
        front = Server("gateway-front", version="1.0.0")
        if kind == "everything":
            everything = request.getfixturevalue("everything")  # skipped or failed without it
            wire = Wire()
            # A Client handed to the mount, to trace the upstream wire. It declares form
            # elicitation (server-everything offers its elicitation tool only then); the mount
            # puts the questions to the client in front.
            upstream = Client.stdio(everything + ["stdio"], env={TOKEN_VARIABLE: token}, capture_stderr=True,
                                    close_timeout=0.5, capabilities={"elicitation": {"form": {}}}, trace=wire,
                                    timeout=WAIT)
            try:
                mount = front.mount("ev", upstream)
            except BaseException:
                upstream.close()
                raise
            gateway = Gateway(front, mount, wire)
            made.append((gateway, upstream))
            # server-everything adds its elicitation tool once the session is initialized
            # and says so (tools/list_changed): the mount lists again.
            deadline = time.monotonic() + WAIT
            while "ev__trigger-elicitation-request" not in gateway.tools() and time.monotonic() < deadline:
                time.sleep(0.02)
            return gateway
        # A config entry, as `mcplite proxy` takes: the mount starts the process, probes it,
        # and gets 2026-07-28.
        mount = front.mount("up", {"command": sys.executable, "args": [PEER_UPSTREAM, marker],
                                   "env": {TOKEN_VARIABLE: token}})
        gateway = Gateway(front, mount)
        made.append((gateway, None))
        return gateway

    try:
        yield make
    finally:
        for gateway, upstream in made:
            gateway.http.stop()
            gateway.mount.close()
            if upstream is not None:
                upstream.close()
        left = reap_leftovers(token)
        assert not left, "upstream processes still running after the gateway closed (now killed): %s" % left


# --- the SDK's client in front ----------------------------------------------------------------------


class SdkRun:
    """The SDK helper, running: ``release()`` lets it close its connection; ``report()`` waits
    for its JSON report."""

    def __init__(self, python, url, mode, plan, hold):
        # type: (str, str, str, Dict[str, Any], str) -> None
        self.hold = hold
        cmd = [python, SDK_HELPER, "--mode", mode, "--plan", json.dumps(plan), "--hold", hold,
               "--timeout", str(HELPER_TIMEOUT), url]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=str(REPO), env=peer_env(), start_new_session=True)

    def release(self):
        # type: () -> None
        with open(self.hold, "w"):
            pass

    def report(self):
        # type: () -> Dict[str, Any]
        self.release()
        status = None  # type: Optional[int]
        try:
            out, err = self.proc.communicate(timeout=HELPER_TIMEOUT + 10)
            status = self.proc.returncode
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=10)
        text, errors = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        try:
            report = json.loads(text)
        except ValueError:
            pytest.fail("the SDK helper (exit status %s) printed no report\nstdout:\n%s\nstderr:\n%s"
                        % (status, text[-3000:], errors[-3000:]), pytrace=False)
        if report.get("error"):
            wire = "\n".join(json.dumps(e, sort_keys=True)[:400] for e in report.get("wire", []))
            pytest.fail("the SDK helper failed:\n%s\nwire:\n%s\nstderr:\n%s"
                        % (report["error"], wire, errors[-3000:]), pytrace=False)
        return report

    def stop(self):
        # type: () -> None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


@pytest.fixture
def sdk_run(sdk_python, tmp_path):
    """``sdk_run(url, mode, plan)``: the SDK helper started; killed at the end if still there."""
    runs = []  # type: List[SdkRun]

    def start(url, mode, plan):
        # type: (str, str, Dict[str, Any]) -> SdkRun
        run = SdkRun(sdk_python, url, mode, plan, str(tmp_path / ("hold-%d" % len(runs))))
        runs.append(run)
        return run
    try:
        yield start
    finally:
        for run in runs:
            run.stop()


def texts(result):
    # type: (Dict[str, Any]) -> List[str]
    return [block.get("text") for block in result["content"]]


def asked_by(report):
    """How the SDK client was asked its question: "request" (elicitation/create in its
    session), "round" (an input_required result, then the call again with inputResponses)."""
    requests = [m for m in inbound(report) if m.get("method") == "elicitation/create"]
    rounds = [m for m in inbound(report) if (m.get("result") or {}).get("resultType") == "input_required"]
    retries = [m for m in outbound(report) if "inputResponses" in (m.get("params") or {})]
    if requests and not rounds and not retries:
        return "request"
    if rounds and len(retries) == len(rounds) and not requests:
        return "round"
    return "unclear: %d requests, %d rounds, %d retries" % (len(requests), len(rounds), len(retries))


def protocol_of(mode):
    # type: (str) -> str
    return MODERN if mode == MODERN else LEGACY


# --- the SDK client -> gateway -> server-everything ----------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_sdk_client_through_the_gateway_to_server_everything(gateways, sdk_run, mode):
    """The official SDK client, in a session (its newest handshake version, 2025-11-25) or in
    2026-07-28, in front of server-everything (a session upstream): the prefixed tools, a call
    whose progress reaches the SDK's callback, an elicitation answered by the SDK's callback
    (a request in a session; an input_required round in 2026-07-28, the gateway keeping the
    upstream's request waiting), and the SDK's cancellation of a long call reaching
    server-everything as notifications/cancelled while the SDK client is still connected."""
    gateway = gateways("everything")
    wire = gateway.wire
    assert wire is not None
    run = sdk_run(gateway.url, mode, EVERYTHING_PLAN)
    try:
        # The upstream call of the long operation, then its cancellation, on the upstream wire.
        called = wire.wait_for("->", long_call, timeout=HELPER_TIMEOUT)
        assert called is not None, "the long call never reached server-everything"
        request_id = called[1]["id"]
        cancelled = wire.wait_for("->", lambda m: m.get("method") == "notifications/cancelled" and (
            m.get("params") or {}).get("requestId") == request_id)
    finally:
        run.release()
    report = run.report()
    assert cancelled is not None, ("the SDK's cancellation did not reach server-everything; the gateway sent: %r"
                                   % wire.sent()[-10:])
    # Before the SDK client closed (so the cancellation, not the end of its session, did it).
    assert report["cancelled_at"] <= cancelled[0] < report["closing_at"]

    assert report["protocol_version"] == protocol_of(mode)
    tools = report["tools"]
    assert "ev__echo" in tools and "ev__trigger-long-running-operation" in tools
    assert "ev__trigger-elicitation-request" in tools and all(name.startswith("ev__") for name in tools)

    assert texts(report["progress_result"]) == ["Long running operation completed. Duration: 0.4 seconds, Steps: 4."]
    assert report["progress"] == [[1, 4, None], [2, 4, None], [3, 4, None], [4, 4, None]]

    [asked] = report["asked"]
    assert asked_by(report) == ("round" if mode == MODERN else "request")
    assert asked["message"] == "Please provide inputs for the following fields:"
    assert asked["requestedSchema"]["required"] == ["name"]
    answered = texts(report["elicit_result"])
    assert answered[0] == "\u2705 User provided the requested information!"
    assert json.loads(answered[2][len("\nRaw result: "):]) == {"action": "accept", "content": {"name": ANSWER_NAME}}

    # The long call: running (progress came), then cancelled - no result for the SDK client.
    assert "long_result" not in report and report["long_progress_at_cancel"] >= 1
    assert texts(report["after_result"]) == ["Echo: after the cancellation"]
    # server-everything runs the operation to its end, but, told it is cancelled, never answers it.
    token = called[1]["params"]["_meta"]["progressToken"]
    last = wire.wait_for("<-", lambda m: m.get("method") == "notifications/progress" and m["params"].get(
        "progressToken") == token and m["params"].get("progress") == LONG_STEPS, timeout=LONG_DURATION + WAIT)
    assert last is not None, "server-everything's operation did not run on to its last step"
    time.sleep(0.3)  # an answer right after the last step would be here by now
    assert [m for m in wire.received() if m.get("id") == request_id] == []
    assert gateway.mount._origins == []  # nothing left waiting in the gateway


# --- a mcplite client in 2026-07-28 -> gateway -> server-everything -----------------------------------


def test_modern_mcplite_client_through_the_gateway_to_server_everything(gateways):
    """Across eras: a mcplite Client speaking 2026-07-28 in front of server-everything (a
    session upstream). Progress comes through; server-everything's elicitation request becomes
    an input_required round for the client, whose retry answers it while the upstream's
    request waits; a call the client gives up on is cancelled upstream."""
    gateway = gateways("everything")
    wire = gateway.wire
    assert wire is not None
    front_wire = Wire()
    asked = []  # type: List[Dict[str, Any]]

    def elicitation(params):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        asked.append(params)
        return {"action": "accept", "content": {"name": "Modern Ada"}}

    with Client.http(gateway.url, era="modern", elicitation=elicitation, trace=front_wire, timeout=WAIT) as client:
        assert client.protocol_version == MODERN
        progress = []  # type: List[Tuple[Any, ...]]
        result = client.call_tool("ev__trigger-long-running-operation", {"duration": 0.4, "steps": 4},
                                  progress=lambda *args: progress.append(args))
        assert texts(result) == ["Long running operation completed. Duration: 0.4 seconds, Steps: 4."]
        assert progress == [(1, 4, None), (2, 4, None), (3, 4, None), (4, 4, None)]

        answered = texts(client.call_tool("ev__trigger-elicitation-request", {}))
        assert answered[0] == "\u2705 User provided the requested information!"
        assert json.loads(answered[2][len("\nRaw result: "):]) == {"action": "accept",
                                                                    "content": {"name": "Modern Ada"}}
        [question] = asked
        assert question["message"] == "Please provide inputs for the following fields:"
        # Upstream: one elicitation/create request, answered with what the client said.
        [upstream_ask] = [m for m in wire.received() if m.get("method") == "elicitation/create"]
        [upstream_answer] = [m for m in wire.sent() if m.get("id") == upstream_ask["id"] and "result" in m]
        assert upstream_answer["result"] == {"action": "accept", "content": {"name": "Modern Ada"}}
        # In front: an input_required round, then the retry carrying the answer under the
        # key the gateway named.
        rounds = [m["result"] for m in front_wire.received()
                  if isinstance(m.get("result"), dict) and m["result"].get("resultType") == "input_required"]
        assert len(rounds) == 1, front_wire.received()
        [key] = list(rounds[0]["inputRequests"])
        retries = [m for m in front_wire.sent() if m.get("method") == "tools/call"
                   and key in ((m.get("params") or {}).get("inputResponses") or {})]
        assert len(retries) == 1

        # The client gives up on a long call; the gateway cancels the upstream's request.
        with pytest.raises(RequestTimeout):
            client.call_tool("ev__trigger-long-running-operation", {"duration": LONG_DURATION, "steps": LONG_STEPS},
                             timeout=0.5)  # (no progress callback: progress would push the timeout on)
        called = wire.wait_for("->", long_call)
        assert called is not None
        cancelled = wire.wait_for("->", lambda m: m.get("method") == "notifications/cancelled" and (
            m.get("params") or {}).get("requestId") == called[1]["id"])
        assert cancelled is not None, "the client's cancellation did not reach server-everything: %r" % wire.sent()[-5:]
        assert texts(client.call_tool("ev__echo", {"message": "still here"})) == ["Echo: still here"]
        # Given up on, it was sent upstream once (never again after its stream was closed).
        assert len([m for m in wire.sent() if long_call(m)]) == 1
    # The cancelled call is not kept waiting for a retry in the gateway either.
    deadline = time.monotonic() + WAIT
    while gateway.mount._conversations and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gateway.mount._conversations == {}


# --- the SDK client -> gateway -> a mcplite upstream in 2026-07-28 -----------------------------


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_sdk_client_through_the_gateway_to_a_2026_upstream(gateways, sdk_run, tmp_path, mode):
    """Across eras the other way: the SDK client in a session, a mcplite upstream speaking
    2026-07-28 (its questions come as input_required rounds, which the gateway turns into
    elicitation requests in the SDK's session); and, for comparison, the SDK client in
    2026-07-28 too (the rounds passed through). Progress, the elicitation, and the SDK's
    cancellation reaching the upstream's handler (``ctx.cancelled``), while the SDK client is
    still connected."""
    marker = str(tmp_path / "linger")
    gateway = gateways("peer", marker)
    assert gateway.mount.client.protocol_version == MODERN
    run = sdk_run(gateway.url, mode, PEER_PLAN)
    try:
        deadline = time.monotonic() + HELPER_TIMEOUT
        while not os.path.exists(marker) and time.monotonic() < deadline and run.proc.poll() is None:
            time.sleep(0.02)
        seen_at = time.monotonic()
        with open(marker) if os.path.exists(marker) else io.StringIO("nothing") as f:
            outcome = f.read()
    finally:
        run.release()
    report = run.report()
    assert outcome == "cancelled", "the upstream's linger says %r" % outcome
    assert report["cancelled_at"] <= seen_at < report["closing_at"]

    assert report["protocol_version"] == protocol_of(mode)
    assert report["tools"] == ["up__ask_name", "up__count", "up__linger"]
    assert texts(report["progress_result"]) == ["counted 3"]
    assert report["progress"] == [[1, 3, "step 1"], [2, 3, "step 2"], [3, 3, "step 3"]]
    [asked] = report["asked"]
    assert asked_by(report) == ("round" if mode == MODERN else "request")
    assert asked["message"] == "Your name?"
    assert texts(report["elicit_result"]) == ["hello " + ANSWER_NAME]
    assert "long_result" not in report and report["long_progress_at_cancel"] >= 1
    assert all(step[2] == "lingering" for step in report["long_progress"])
    assert texts(report["after_result"]) == ["counted 1"]
