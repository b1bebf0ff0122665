"""The official Python SDK's client in front of a mcplite gateway (tests/test_gateway_peers.py).

Runs under ``$MCPLITE_SDK_PYTHON`` (the SDK needs Python >= 3.10):

    $MCPLITE_SDK_PYTHON tests/interop/sdk_gateway_client.py --mode legacy --plan JSON \
        [--hold FILE] [--timeout SECONDS] URL

over Streamable HTTP to URL, in ``--mode`` (``legacy``: the initialize handshake, the
session era; ``2026-07-28``). ``--plan`` names the tools to use, each as ``[name, arguments]``:
``progress`` (called with a progress callback), ``elicit`` (its question answered by the SDK's
elicitation callback with ``{"name": ANSWER_NAME}``), ``long`` (started with a progress
callback and cancelled - the SDK's own way, by cancelling the awaiting scope - once its first
progress notification came) and ``after`` (called once that cancellation is done: the
connection goes on). With ``--hold`` the client stays connected after the script until FILE
exists (at most HOLD_SECONDS): the test looks upstream for the cancellation meanwhile, so
that closing the session cannot be what ended the upstream call.

Prints ONE JSON document (``error`` holds the traceback of a failure, exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib.metadata import version
from typing import Any

import anyio
import mcp_types as types
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from sdk_client import RecordingTransport, plain, print_report, run_reporting  # tests/interop/ is sys.path[0]

ANSWER_NAME = "Sdk Gateway"  # the pytest side has the same
HOLD_SECONDS = 15.0
FIRST_PROGRESS_SECONDS = 10.0  # the long call's first progress notification, at most


async def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    plan = json.loads(args.plan)
    wire: list[dict[str, Any]] = report["wire"]

    async def elicit(context: Any, params: Any) -> Any:
        report["asked"].append(plain(params))
        return types.ElicitResult(action="accept", content={"name": ANSWER_NAME})

    with anyio.fail_after(args.timeout):
        inner = streamable_http_client(args.url)
        async with Client(RecordingTransport(inner, wire), mode=args.mode, read_timeout_seconds=args.timeout,
                          elicitation_callback=elicit) as client:
            report["protocol_version"] = client.protocol_version
            report["tools"] = sorted(tool["name"] for tool in plain(await client.list_tools())["tools"])

            progress: list[list[Any]] = report["progress"]

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append([value, total, message])

            name, arguments = plan["progress"]
            report["progress_result"] = plain(await client.call_tool(name, arguments, progress_callback=on_progress))
            name, arguments = plan["elicit"]
            report["elicit_result"] = plain(await client.call_tool(name, arguments))

            long_progress: list[list[Any]] = report["long_progress"]
            started = anyio.Event()

            async def on_long_progress(value: float, total: float | None, message: str | None) -> None:
                long_progress.append([value, total, message])
                started.set()

            async def long_call() -> None:
                name, arguments = plan["long"]
                result = await client.call_tool(name, arguments, progress_callback=on_long_progress)
                report["long_result"] = plain(result)  # only if it was not cancelled

            async with anyio.create_task_group() as group:
                group.start_soon(long_call)
                with anyio.fail_after(FIRST_PROGRESS_SECONDS):
                    await started.wait()
                group.cancel_scope.cancel()
            report["cancelled_at"] = time.monotonic()
            report["long_progress_at_cancel"] = len(long_progress)

            name, arguments = plan["after"]
            report["after_result"] = plain(await client.call_tool(name, arguments))

            if args.hold:
                deadline = time.monotonic() + HOLD_SECONDS
                while not os.path.exists(args.hold) and time.monotonic() < deadline:
                    await anyio.sleep(0.02)
            report["closing_at"] = time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", required=True, help="legacy | 2026-07-28")
    parser.add_argument("--plan", required=True, help="JSON: {progress, elicit, long, after: [name, arguments]}")
    parser.add_argument("--hold", default=None, help="stay connected until this file exists")
    parser.add_argument("--timeout", type=float, default=30.0, help="bound on the whole run, seconds")
    parser.add_argument("url")
    args = parser.parse_args()
    report: dict[str, Any] = {"mode": args.mode, "sdk_version": version("mcp"), "error": None, "wire": [],
                              "asked": [], "progress": [], "long_progress": []}
    status = run_reporting(report, run, args, report)
    print_report(report)
    return status


if __name__ == "__main__":
    sys.exit(main())
