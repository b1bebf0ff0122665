"""Drive an MCP server over stdio with the official Python SDK client and report what it saw.

This script runs under the *SDK's* interpreter (``mcp==2.3.0`` needs Python >= 3.10), not
the test interpreter, so ``tests/test_interop_sdk.py`` starts it as a subprocess:

    $MCPLITE_SDK_PYTHON tests/interop/sdk_client.py --mode legacy \
        [--env NAME=VALUE ...] [--cwd DIR] [--timeout SECONDS] -- python3 examples/notes_server.py

``--mode`` is passed straight to ``mcp.client.client.Client``: ``legacy`` (initialize
handshake), ``2026-07-28`` (adopt that version, every request carries the per-request
``_meta`` envelope) or ``auto`` (probe ``server/discover``, fall back to ``initialize``).

It performs a fixed script against the notes example (list/call tools, list/read resources
and a template, list/get prompts, one unknown tool) and prints ONE JSON document on stdout:
the negotiated version, every result as the plain dict the server sent (``exclude_unset``, so
the dicts mirror the wire), and ``wire``: every JSON-RPC message in both directions as the
SDK's stdio transport wrote/parsed it. On any failure the document still comes out, with
``error`` holding the traceback, and the exit status is 1: the wire log is the diagnosis.

The server's stderr passes through to this script's stderr.

Its siblings ``sdk_http_client.py`` and ``sdk_asking_client.py`` import their shared pieces
from here (``tests/interop/`` is their ``sys.path[0]``): the wire-recording
``RecordingTransport``, ``plain``, ``error_dict``, ``run_reporting`` and ``print_report``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from importlib.metadata import version
from typing import Any

import anyio
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

# The fixed script's inputs. The pytest side asserts on the outputs, so keep them in step.
FIRST_NOTE = {"title": "Groceries", "body": "milk, eggs", "tags": ["home"]}
SECOND_NOTE = {"title": "Ideas", "body": "write an MCP server"}


def plain(model: Any) -> Any:
    """A pydantic result as the JSON-shaped dict the server sent (unset defaults left out)."""
    return model.model_dump(by_alias=True, mode="json", exclude_unset=True)


def message_dict(message: Any) -> Any:
    return json.loads(message.model_dump_json(by_alias=True, exclude_unset=True))


class _RecordingStream:
    """What both recording wrappers share: the transport's stream, the log, the log's clock."""

    def __init__(self, inner: Any, wire: list[dict[str, Any]], t0: float) -> None:
        self._inner, self._wire, self._t0 = inner, wire, t0

    async def aclose(self) -> None:
        await self._inner.aclose()

    def close(self) -> None:
        self._inner.close()

    async def __aenter__(self) -> _RecordingStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __getattr__(self, name: str) -> Any:  # e.g. ``last_context``
        return getattr(self._inner, name)


class _RecordingRead(_RecordingStream):
    """Wraps the transport's read stream and logs every inbound message (or parse failure)."""

    def _log(self, item: Any) -> Any:
        entry: dict[str, Any] = {"dir": "<", "t": round(time.monotonic() - self._t0, 4)}
        if isinstance(item, SessionMessage):
            entry["msg"] = message_dict(item.message)
        else:  # the SDK hands over a line it could not parse as an exception value
            entry["unparsed"] = repr(item)
        self._wire.append(entry)
        return item

    async def receive(self) -> Any:
        return self._log(await self._inner.receive())

    def __aiter__(self) -> _RecordingRead:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        return self._log(item)


class _RecordingWrite(_RecordingStream):
    """Wraps the transport's write stream and logs every outbound message."""

    async def send(self, item: SessionMessage) -> None:
        # The same serialisation the stdio transport writes to the pipe.
        self._wire.append(
            {"dir": ">", "t": round(time.monotonic() - self._t0, 4), "msg": message_dict(item.message)}
        )
        await self._inner.send(item)


class RecordingTransport:
    """One of the SDK's own transports (``inner``: what yields its read and write streams)
    with a message log around its two streams."""

    def __init__(self, inner: Any, wire: list[dict[str, Any]]) -> None:
        self._cm = inner
        self._wire = wire

    async def __aenter__(self) -> Any:
        read, write = await self._cm.__aenter__()
        t0 = time.monotonic()
        return _RecordingRead(read, self._wire, t0), _RecordingWrite(write, self._wire, t0)

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._cm.__aexit__(*exc)


class RecordingStdioTransport(RecordingTransport):
    """The SDK's own ``stdio_client`` with a message log around its two streams."""

    def __init__(self, params: StdioServerParameters, wire: list[dict[str, Any]]) -> None:
        super().__init__(stdio_client(params), wire)


def run_reporting(report: dict[str, Any], func: Any, *args: Any) -> int:
    """``anyio.run(func, *args)``; any failure (timeouts and task-group groups included, but
    not Ctrl-C) goes into ``report["error"]`` as a traceback. Returns the exit status: 0 or 1."""
    try:
        anyio.run(func, *args)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        report["error"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return 1
    return 0


def print_report(document: dict[str, Any]) -> None:
    """The one JSON document on stdout that the pytest side reads."""
    sys.stdout.write(json.dumps(document, indent=1, sort_keys=True, default=repr) + "\n")
    sys.stdout.flush()


def error_dict(exc: MCPError) -> dict[str, Any]:
    out: dict[str, Any] = {"code": exc.code, "message": exc.error.message}
    if exc.error.data is not None:
        out["data"] = exc.error.data
    return out


async def run_script(client: Client, mode: str, report: dict[str, Any]) -> None:
    report["protocol_version"] = client.protocol_version
    info = client.server_info
    report["server_info"] = plain(info) if info is not None else None
    report["instructions"] = client.instructions
    report["capabilities"] = plain(client.server_capabilities)

    report["tools"] = plain(await client.list_tools())["tools"]

    calls: dict[str, Any] = {}
    calls["add_note"] = plain(await client.call_tool("add_note", FIRST_NOTE))
    calls["add_note_2"] = plain(await client.call_tool("add_note", SECOND_NOTE))
    calls["search_notes"] = plain(await client.call_tool("search_notes", {"query": "Groc"}))
    report["calls"] = calls

    report["resources"] = plain(await client.list_resources())["resources"]
    report["resource_templates"] = plain(await client.list_resource_templates())["resourceTemplates"]
    report["reads"] = {
        "notes://all": plain(await client.read_resource("notes://all"))["contents"],
        "notes://1": plain(await client.read_resource("notes://1"))["contents"],
    }

    report["prompts"] = plain(await client.list_prompts())["prompts"]
    report["prompt"] = plain(await client.get_prompt("summarize", {"note_id": "1"}))

    calls["delete_note"] = plain(await client.call_tool("delete_note", {"id": 2}))
    calls["search_after_delete"] = plain(await client.call_tool("search_notes", {"query": "", "limit": 5}))

    try:
        unknown = await client.call_tool("no_such_tool", {})
    except MCPError as exc:
        report["unknown_tool"] = {"error": error_dict(exc)}
    else:  # some servers answer with an isError result instead; record it, the test decides
        report["unknown_tool"] = {"result": plain(unknown)}

    if mode != "legacy":
        # With mode="2026-07-28" the SDK adopts the version without any wire traffic, so
        # ask explicitly once, to see the server's own discover answer.
        try:
            report["discover"] = await client.session.send_discover("2026-07-28")
        except MCPError as exc:
            report["discover"] = {"error": error_dict(exc)}


async def main_async(args: argparse.Namespace, report: dict[str, Any]) -> None:
    env = dict(item.split("=", 1) for item in args.env)
    params = StdioServerParameters(command=args.command[0], args=args.command[1:], env=env or None, cwd=args.cwd)
    wire: list[dict[str, Any]] = []
    report["wire"] = wire
    with anyio.fail_after(args.timeout):
        client = Client(RecordingStdioTransport(params, wire), mode=args.mode, read_timeout_seconds=args.timeout)
        async with client:
            await run_script(client, args.mode, report)
            closing = time.monotonic()
        # The SDK closes the server's stdin, waits 2 s, then SIGTERMs the process group: a
        # server that exits promptly on EOF makes this small.
        report["shutdown_seconds"] = round(time.monotonic() - closing, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", required=True, help="legacy | auto | 2026-07-28")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--cwd", default=None)
    parser.add_argument("--timeout", type=float, default=30.0, help="bound on the whole session, seconds")
    parser.add_argument("command", nargs="+", help="server command (after --)")
    args = parser.parse_args()

    report: dict[str, Any] = {"mode": args.mode, "sdk_version": version("mcp"), "error": None}
    status = run_reporting(report, main_async, args, report)
    print_report(report)
    return status


if __name__ == "__main__":
    sys.exit(main())
