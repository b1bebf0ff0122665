"""Drive MCP servers over HTTP with the official Python SDK client and report what it saw.

Like ``sdk_client.py`` (its stdio sibling, whose wire-recording helpers this reuses), this
runs under the *SDK's* interpreter (``mcp==2.3.0`` needs Python >= 3.10), so
``tests/test_interop_http.py`` starts it as a subprocess, once for many runs:

    $MCPLITE_SDK_PYTHON tests/interop/sdk_http_client.py [--timeout SECONDS] \
        --run NAME TRANSPORT MODE URL [--run ...]

``TRANSPORT`` is ``http`` (Streamable HTTP: the SDK's ``streamable_http_client``, which is
what ``Client(url)`` uses) or ``sse`` (the 2024-11-05 HTTP+SSE transport: the SDK's
``sse_client``, URL ending in ``/sse``). ``MODE`` goes straight to
``mcp.client.client.Client``: ``legacy``, ``2026-07-28`` or ``auto``.

Each run performs the same fixed script against ``tests/apps.py``'s ``make_app()`` plus the
two tools the test adds (``steps``: progress; ``http_info``: what the server saw of this
HTTP request). The script's inputs are constants below; the test asserts on the outputs, so
keep the two in step. It prints ONE JSON document on stdout, ``{"runs": {NAME: report}}``;
each report holds the negotiated version, every result as the plain dict the server sent,
``wire`` (every JSON-RPC message both ways, as the SDK's transport wrote/parsed it) and
``http`` (every HTTP request the SDK made, with the headers that matter, in order). A run
that fails still reports, with ``error`` holding the traceback, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import version
from typing import Any

import anyio
import httpx2
from mcp.client.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from sdk_client import (  # tests/interop/ is sys.path[0]
    RecordingTransport, error_dict, plain, print_report, run_reporting,
)

# The fixed script's inputs. The pytest side asserts on the outputs.
ADD_ARGS = {"a": 2, "b": 40}
ECHO_ARGS = {"message": "h\u00e9llo \u2713 \U0001f600"}
STATS_ARGS = {"values": [1.5, 2.5, 5]}
FAIL_ARGS = {"message": "disk full"}
STEPS_ARGS = {"count": 3}
PROMPT_ARGS = {"code": "x = 1", "language": "rust"}
CHAT_ARGS = {"topic": "MCP"}
READS = ["test://static", "test://json", "test://blob", "test://items/7"]

# Request and response headers worth logging (lower-case).
REQUEST_HEADERS = ("accept", "content-type", "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name",
                   "last-event-id")
RESPONSE_HEADERS = ("content-type", "mcp-session-id")


def recording_http_client(http_log: list[dict[str, Any]], **kwargs: Any) -> httpx2.AsyncClient:
    """The SDK's default httpx2 client, plus hooks that log each request and its response."""
    client = create_mcp_http_client(**kwargs)

    async def on_request(request: httpx2.Request) -> None:
        http_log.append({
            "method": request.method,
            "target": request.url.raw_path.decode("ascii"),
            "request_headers": {k: request.headers[k] for k in REQUEST_HEADERS if k in request.headers},
        })

    async def on_response(response: httpx2.Response) -> None:
        request = response.request
        target = request.url.raw_path.decode("ascii")
        # The response belongs to the latest logged request for this method and target
        # that has none yet (requests may overlap; each entry is answered once).
        for entry in reversed(http_log):
            if entry["method"] == request.method and entry["target"] == target and "status" not in entry:
                entry["status"] = response.status_code
                entry["response_headers"] = {k: response.headers[k] for k in RESPONSE_HEADERS
                                             if k in response.headers}
                break

    client.event_hooks = {"request": [on_request], "response": [on_response]}
    return client


async def call_tool_outcome(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"result": plain(await client.call_tool(name, arguments))}
    except MCPError as exc:
        return {"error": error_dict(exc)}


async def run_script(client: Client, report: dict[str, Any]) -> None:
    report["protocol_version"] = client.protocol_version
    info = client.server_info
    report["server_info"] = plain(info) if info is not None else None
    report["instructions"] = client.instructions

    report["tools"] = plain(await client.list_tools())["tools"]

    calls: dict[str, Any] = {}
    report["calls"] = calls
    calls["add"] = plain(await client.call_tool("add", ADD_ARGS))
    calls["echo"] = plain(await client.call_tool("echo", ECHO_ARGS))
    calls["stats"] = plain(await client.call_tool("stats", STATS_ARGS))
    calls["refuse"] = plain(await client.call_tool("refuse", {}))
    calls["fail"] = plain(await client.call_tool("fail", FAIL_ARGS))

    progress: list[dict[str, Any]] = []
    report["progress"] = progress

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append({"progress": value, "total": total, "message": message})

    calls["steps"] = plain(await client.call_tool("steps", STEPS_ARGS, progress_callback=on_progress))
    calls["http_info"] = plain(await client.call_tool("http_info", {}))
    report["unknown_tool"] = await call_tool_outcome(client, "no_such_tool", {})

    report["resources"] = plain(await client.list_resources())["resources"]
    report["resource_templates"] = plain(await client.list_resource_templates())["resourceTemplates"]
    report["reads"] = {uri: plain(await client.read_resource(uri))["contents"] for uri in READS}
    try:
        await client.read_resource("test://maybe/missing")
    except MCPError as exc:
        report["read_missing"] = {"error": error_dict(exc)}
    else:
        report["read_missing"] = {"result": "no error"}

    report["prompts"] = plain(await client.list_prompts())["prompts"]
    report["prompt_review"] = plain(await client.get_prompt("review", PROMPT_ARGS))
    report["prompt_chat"] = plain(await client.get_prompt("chat", CHAT_ARGS))


async def one_run(transport: str, mode: str, url: str, timeout: float, report: dict[str, Any]) -> None:
    wire: list[dict[str, Any]] = []
    http_log: list[dict[str, Any]] = []
    report["wire"] = wire
    report["http"] = http_log
    with anyio.fail_after(timeout):
        if transport == "http":
            http_client = recording_http_client(http_log)
            async with http_client:
                inner = streamable_http_client(url, http_client=http_client)
                async with Client(RecordingTransport(inner, wire), mode=mode, read_timeout_seconds=timeout) as client:
                    await run_script(client, report)
        elif transport == "sse":
            sessions: list[str] = []
            report["sse_sessions"] = sessions

            def factory(headers: Any = None, timeout: Any = None, auth: Any = None) -> httpx2.AsyncClient:
                return recording_http_client(http_log, headers=headers, timeout=timeout, auth=auth)

            inner = sse_client(url, timeout=timeout, sse_read_timeout=timeout, httpx_client_factory=factory,
                               on_session_created=sessions.append)
            async with Client(RecordingTransport(inner, wire), mode=mode, read_timeout_seconds=timeout) as client:
                await run_script(client, report)
        else:
            raise ValueError("unknown transport %r" % transport)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", nargs=4, action="append", required=True,
                        metavar=("NAME", "TRANSPORT", "MODE", "URL"))
    parser.add_argument("--timeout", type=float, default=20.0, help="bound on each run, seconds")
    args = parser.parse_args()

    out: dict[str, Any] = {"sdk_version": version("mcp"), "runs": {}}
    status = 0
    for name, transport, mode, url in args.run:
        report: dict[str, Any] = {"name": name, "transport": transport, "mode": mode, "url": url, "error": None}
        out["runs"][name] = report
        started = time.monotonic()
        status |= run_reporting(report, one_run, transport, mode, url, args.timeout, report)
        report["seconds"] = round(time.monotonic() - started, 3)
    print_report(out)
    return status


if __name__ == "__main__":
    sys.exit(main())
