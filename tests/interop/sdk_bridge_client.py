"""The official Python SDK's client through ``mcplite bridge --http`` (tests/test_bridge.py).

Runs under ``$MCPLITE_SDK_PYTHON`` (the SDK needs Python >= 3.10):

    $MCPLITE_SDK_PYTHON tests/interop/sdk_bridge_client.py --mode legacy URL

against tests/bridge_app.py behind the bridge: list the tools, call ``add``, ``count`` with
progress and ``ask_name`` (answered by the SDK's elicitation callback), and print ONE JSON
document (``error`` holds the traceback of a failure, exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from sdk_client import RecordingTransport, plain, print_report, run_reporting  # tests/interop/ is sys.path[0]


async def run(url: str, mode: str, timeout: float, report: dict[str, Any]) -> None:
    wire: list[dict[str, Any]] = []
    report["wire"] = wire
    progress: list[list[Any]] = []
    report["progress"] = progress

    async def elicit(context: Any, params: Any) -> Any:
        return types.ElicitResult(action="accept", content={"name": "Sdk"})

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append([value, total, message])

    with anyio.fail_after(timeout):
        inner = streamable_http_client(url)
        async with Client(RecordingTransport(inner, wire), mode=mode, read_timeout_seconds=timeout,
                          elicitation_callback=elicit) as client:
            report["protocol_version"] = client.protocol_version
            report["tools"] = [tool["name"] for tool in plain(await client.list_tools())["tools"]]
            report["add"] = plain(await client.call_tool("add", {"a": 2, "b": 40}))
            report["count"] = plain(await client.call_tool("count", {"n": 3}, progress_callback=on_progress))
            report["ask_name"] = plain(await client.call_tool("ask_name", {}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("url")
    args = parser.parse_args()
    report: dict[str, Any] = {"mode": args.mode, "error": None}
    status = run_reporting(report, run, args.url, args.mode, args.timeout, report)
    print_report(report)
    return status


if __name__ == "__main__":
    sys.exit(main())
