"""Drive ``tests/asking_app.py`` with the official Python SDK client's callbacks and report.

The server's handlers ask the client things (elicitation, sampling, roots); this script
answers through the SDK's own ``sampling_callback`` / ``elicitation_callback`` /
``list_roots_callback`` and records what those callbacks were given. It runs under the
*SDK's* interpreter (``mcp==2.3.0`` needs Python >= 3.10), so
``tests/test_interop_asking.py`` starts it as a subprocess, once for many runs:

    $MCPLITE_SDK_PYTHON tests/interop/sdk_asking_client.py [--timeout SECONDS] \
        [--stdio-env NAME=VALUE ...] --run NAME TRANSPORT MODE PROFILE TARGET [--run ...]

``TRANSPORT``: ``stdio`` (the SDK's ``stdio_client`` starts the server whose argv is the JSON
list TARGET, with the ``--stdio-env`` variables) or ``http`` (Streamable HTTP to the URL
TARGET). ``MODE`` goes straight
to ``mcp.client.client.Client``: ``legacy`` (initialize; the server sends real requests to
the client) or ``2026-07-28`` (no server-to-client requests: the server answers
``input_required`` and the SDK's driver retries with ``inputResponses``). ``PROFILE``:
``full`` (every callback, so every capability is declared), ``bare`` (no callback at all:
no capability) or ``slow`` (every callback, but the answer to "Are you there?" comes after
``SLOW_SECONDS``: for a server whose ``client_request_timeout`` is shorter).

Every ``full`` and ``bare`` run performs the same fixed script (constants below; the pytest side asserts on the
outputs, keep the two in step). Each step's outcome is recorded as ``{"result": ...}`` or
``{"error": {"code", "message", "data"?}}`` and the script goes on, so one report shows
every step. When the server lists the tools ``chatty`` and ``touch_note`` (the HTTP test
adds them to the app), logging and resource-update notifications are exercised too.

Prints ONE JSON document: ``{"sdk_version", "runs": {NAME: report}}``; a report holds the
outcomes, ``asked`` (every callback invocation with its params, as the wire dict),
``progress``, ``logs``, ``notifications``, ``wire`` (every JSON-RPC message both ways) and,
over HTTP, ``http``. A run that fails outside the steps reports ``error`` (a traceback) and
the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from importlib.metadata import version
from typing import Any

import anyio
import mcp_types as types
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

import httpx2
from mcp.shared._httpx_utils import create_mcp_http_client

from sdk_client import (  # tests/interop/ is sys.path[0]
    RecordingStdioTransport, RecordingTransport, error_dict, plain, print_report, run_reporting,
)
from sdk_http_client import REQUEST_HEADERS, RESPONSE_HEADERS

# The fixed script's inputs and the callbacks' answers (the pytest side has the same).
NAME = "Ada"
SUMMARIZE_TEXT = "MCP lets models use tools."
SUMMARY = "Tools for models."
SAMPLE_MODEL = "sdk-model-1"
HI = "hi there"
ROOTS = [{"uri": "file:///work/project", "name": "project"}, {"uri": "file:///tmp/scratch"}]
FIRST, SECOND = "one", 2
NOTE, CONTEXT = "shopping", "a test"
LONG_JOB_STEPS = 5
SLOW_SECONDS = 2.0  # the slow runs' servers wait 1 s for an answer
# elicitation answers by the message the server asks with
FORM_ANSWERS = {
    "Name?": {"name": NAME},
    "First?": {"a": FIRST},
    "Second?": {"b": SECOND},
    "Which note?": {"note": NOTE},
    "Context?": {"context": CONTEXT},
}


def recording_http_client(http_log: list[dict[str, Any]]) -> httpx2.AsyncClient:
    """The SDK's default httpx2 client, plus hooks logging each request and, on the same
    entry, its response (requests overlap here: a tools/call POST stays open while the
    client POSTs its answers to the server's questions)."""
    client = create_mcp_http_client()
    in_flight: dict[int, dict[str, Any]] = {}

    async def on_request(request: httpx2.Request) -> None:
        entry = {
            "method": request.method,
            "target": request.url.raw_path.decode("ascii"),
            "request_headers": {k: request.headers[k] for k in REQUEST_HEADERS if k in request.headers},
        }
        http_log.append(entry)
        in_flight[id(request)] = entry

    async def on_response(response: httpx2.Response) -> None:
        entry = in_flight.pop(id(response.request), None)
        if entry is not None:
            entry["status"] = response.status_code
            entry["response_headers"] = {k: response.headers[k] for k in RESPONSE_HEADERS if k in response.headers}

    client.event_hooks = {"request": [on_request], "response": [on_response]}
    return client


def outcome_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, MCPError):
        return {"error": error_dict(exc)}
    return {"exception": "%s: %s" % (type(exc).__name__, exc)}


async def step(report: dict[str, Any], name: str, action: Any) -> Any:
    """Run one step; record its result or its error, never stop the script."""
    report["order"].append(name)
    try:
        result = await action()
    except Exception as exc:  # noqa: BLE001 - every failure is an outcome to assert on
        report["steps"][name] = outcome_error(exc)
        return None
    report["steps"][name] = {"result": plain(result) if hasattr(result, "model_dump") else result}
    return result


class Callbacks:
    """The client's side of every question, recording what it was asked."""

    def __init__(self, report: dict[str, Any], slow: bool = False) -> None:
        self.report = report
        self.slow = slow
        self.name_action = "accept"  # what the next "What is your name?" gets

    def _record(self, method: str, context: Any, params: Any) -> None:
        self.report["asked"].append({
            "method": method,
            "request_id": context.request_id,  # legacy: the JSON-RPC id; 2026-07-28: the inputRequests key
            "params": plain(params) if params is not None else None,
            "step": self.report["order"][-1] if self.report["order"] else None,
        })

    async def elicit(self, context: Any, params: Any) -> Any:
        self._record("elicitation/create", context, params)
        if isinstance(params, types.ElicitRequestURLParams):
            return types.ElicitResult(action="accept")
        if params.message == "What is your name?":
            if self.name_action == "accept":
                return types.ElicitResult(action="accept", content={"name": NAME})
            return types.ElicitResult(action=self.name_action)
        if params.message in FORM_ANSWERS:
            return types.ElicitResult(action="accept", content=FORM_ANSWERS[params.message])
        if params.message == "Are you there?":
            if self.slow:
                try:
                    await anyio.sleep(SLOW_SECONDS)
                except BaseException:  # the SDK cancels a callback whose request the server cancelled
                    self.report["callbacks_cancelled"].append(context.request_id)
                    raise
                self.report["callbacks_finished_late"].append(context.request_id)
            return types.ElicitResult(action="accept", content={"yes": True})
        return types.ErrorData(code=-32603, message="the test client has no answer for %r" % params.message)

    async def sample(self, context: Any, params: Any) -> Any:
        self._record("sampling/createMessage", context, params)
        text = HI if params.messages[0].content.text == "Say hi" else SUMMARY
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=text),
                                         model=SAMPLE_MODEL, stop_reason="endTurn")

    async def roots(self, context: Any) -> Any:
        self._record("roots/list", context, None)
        return types.ListRootsResult(roots=[types.Root(**root) for root in ROOTS])


async def run_script(client: Client, report: dict[str, Any], callbacks: Callbacks | None) -> None:
    report["protocol_version"] = client.protocol_version
    caps = client.server_capabilities
    report["server_capabilities"] = plain(caps) if caps is not None else None
    tools = await client.list_tools()
    report["tools"] = sorted(t.name for t in tools.tools)

    async def call(name: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return await client.call_tool(name, arguments or {}, **kwargs)

    await step(report, "ask_name", lambda: call("ask_name"))
    if callbacks is not None:
        callbacks.name_action = "decline"
    await step(report, "ask_name_decline", lambda: call("ask_name"))
    if callbacks is not None:
        callbacks.name_action = "cancel"
    await step(report, "ask_name_cancel", lambda: call("ask_name"))
    if callbacks is not None:
        callbacks.name_action = "decline"  # for "careful", below
    await step(report, "summarize", lambda: call("summarize", {"text": SUMMARIZE_TEXT}))
    await step(report, "sample_with_tools", lambda: call("sample_with_tools"))
    await step(report, "list_roots", lambda: call("list_roots"))
    await step(report, "ask_all", lambda: call("ask_all"))
    await step(report, "two_steps", lambda: call("two_steps"))
    await step(report, "careful", lambda: call("careful"))
    await step(report, "ping_client", lambda: call("ping_client"))

    progress: list[dict[str, Any]] = report["progress"]

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append({"progress": value, "total": total, "message": message})

    await step(report, "long_job", lambda: call("long_job", {"steps": LONG_JOB_STEPS}, progress_callback=on_progress))
    await step(report, "read_other", lambda: call("read_other"))
    signed_in = await step(report, "sign_in", lambda: call("sign_in"))
    if signed_in is not None and client.protocol_version == "2025-11-25":
        # then notifications/elicitation/complete follows, on the session's channel
        await wait_for(lambda: any(n.get("method") == "notifications/elicitation/complete"
                                   for n in report["notifications"]), 3.0)
    await step(report, "needs_payment", lambda: call("needs_payment"))
    await step(report, "read_note_ask", lambda: client.read_resource("note://ask"))
    await step(report, "prompt_personal", lambda: client.get_prompt("personal", {}))

    with warnings.catch_warnings():  # resources/subscribe is deprecated in the SDK (gone in 2026-07-28)
        warnings.simplefilter("ignore")
        subscribed = await step(report, "subscribe", lambda: client.subscribe_resource("note://hello"))
        if "touch_note" in report["tools"]:
            await step(report, "touch_subscribed", lambda: call("touch_note"))
            # The update travels on the session's GET stream: give it a moment, longer when due.
            has_stream = any(e["method"] == "GET" for e in report.get("http", []))
            await wait_for(lambda: bool(updates(report)), 3.0 if subscribed is not None and has_stream else 0.3)
            report["updates_while_subscribed"] = updates(report)
        await step(report, "subscribe_unknown", lambda: client.subscribe_resource("note://nope"))
        await step(report, "unsubscribe", lambda: client.unsubscribe_resource("note://hello"))
        if "touch_note" in report["tools"]:
            before = len(updates(report))
            await step(report, "touch_unsubscribed", lambda: call("touch_note"))
            await anyio.sleep(0.3)  # a notification that should not come has a moment to arrive
            report["updates_after_unsubscribe"] = updates(report)[before:]

    if "chatty" in report["tools"]:
        await step(report, "chatty", lambda: call("chatty"))
        report["logs_before_set_level"] = list(report["logs"])
        if client.protocol_version == "2025-11-25":
            await step(report, "set_level", lambda: client.set_logging_level("warning"))
            await step(report, "chatty_warning", lambda: call("chatty"))


async def run_slow_script(client: Client, report: dict[str, Any]) -> None:
    """The server gives up waiting for the (slow) answer, cancels its request and goes on."""
    report["protocol_version"] = client.protocol_version
    await step(report, "slow_question", lambda: client.call_tool("slow_question", {}))

    # The client gives up first: the SDK cancels its tools/call as soon as the server's
    # question has reached the callback (so while the server waits for the answer).
    async def abandon() -> Any:
        outcome = {"abandoned": True}

        async def call() -> None:
            await client.call_tool("slow_question", {})
            outcome["abandoned"] = False

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await wait_for(lambda: any(a["step"] == "abandoned_call" for a in report["asked"]), 5.0)
            tg.cancel_scope.cancel()
        return outcome

    await step(report, "abandoned_call", abandon)
    # The slow callback is cancelled, or answers late: wait for it either way.
    await wait_for(lambda: len(report["callbacks_cancelled"]) + len(report["callbacks_finished_late"]) >= 2,
                   SLOW_SECONDS + 1.0)
    await anyio.sleep(0.2)  # whatever the server says about a late answer has time to arrive
    await step(report, "ask_name_after", lambda: client.call_tool("ask_name", {}))


def updates(report: dict[str, Any]) -> list[Any]:
    return [n.get("params") for n in report["notifications"] if n.get("method") == "notifications/resources/updated"]


async def wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.02)
    return True


async def one_run(args: argparse.Namespace, transport: str, mode: str, profile: str, target: str,
                  report: dict[str, Any]) -> None:
    wire: list[dict[str, Any]] = report["wire"]
    callbacks = Callbacks(report, slow=profile == "slow") if profile in ("full", "slow") else None
    script = run_slow_script if profile == "slow" else None

    async def on_log(params: Any) -> None:
        report["logs"].append(plain(params))

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            report["notifications"].append({"exception": "%s: %s" % (type(message).__name__, message)})
        else:
            report["notifications"].append(plain(message))

    options: dict[str, Any] = {
        "mode": mode, "read_timeout_seconds": args.timeout, "logging_callback": on_log,
        "message_handler": on_message,
        # 2026-07-28 logging is opt-in per request: this stamps io.modelcontextprotocol/logLevel.
        "log_level": "info" if mode != "legacy" else None,
    }
    if callbacks is not None:
        options.update(sampling_callback=callbacks.sample, elicitation_callback=callbacks.elicit,
                       list_roots_callback=callbacks.roots,
                       sampling_capabilities=types.SamplingCapability(tools=types.SamplingToolsCapability()))
    if profile not in ("full", "bare", "slow"):
        raise ValueError("unknown profile %r" % profile)

    with anyio.fail_after(args.timeout):
        if transport == "stdio":
            argv = json.loads(target)
            env = dict(item.split("=", 1) for item in args.stdio_env)
            params = StdioServerParameters(command=argv[0], args=argv[1:], env=env or None)
            async with Client(RecordingStdioTransport(params, wire), **options) as client:
                await (script(client, report) if script else run_script(client, report, callbacks))
        elif transport == "http":
            http_log: list[dict[str, Any]] = []
            report["http"] = http_log
            http_client = recording_http_client(http_log)
            async with http_client:
                inner = streamable_http_client(target, http_client=http_client)
                async with Client(RecordingTransport(inner, wire), **options) as client:
                    await (script(client, report) if script else run_script(client, report, callbacks))
        else:
            raise ValueError("unknown transport %r" % transport)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", nargs=5, action="append", required=True,
                        metavar=("NAME", "TRANSPORT", "MODE", "PROFILE", "TARGET"))
    parser.add_argument("--stdio-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--timeout", type=float, default=20.0, help="bound on each run, seconds")
    args = parser.parse_args()

    out: dict[str, Any] = {"sdk_version": version("mcp"), "runs": {}}
    status = 0
    for name, transport, mode, profile, target in args.run:
        report: dict[str, Any] = {
            "name": name, "transport": transport, "mode": mode, "profile": profile, "target": target,
            "error": None, "order": [], "steps": {}, "asked": [], "progress": [], "logs": [],
            "notifications": [], "wire": [], "callbacks_cancelled": [], "callbacks_finished_late": [],
        }
        out["runs"][name] = report
        started = time.monotonic()
        status |= run_reporting(report, one_run, args, transport, mode, profile, target, report)
        report["seconds"] = round(time.monotonic() - started, 3)
    print_report(out)
    return status


if __name__ == "__main__":
    sys.exit(main())
