"""The benchmark's raw floor: the least a stdio JSON-RPC server can do.

Standard library only (``json`` and ``sys``), one thread, no validation, no registry: read a
line, ``json.loads`` it, build the answer, ``json.dumps`` it, write it and flush. Its
``tools/call`` result has the same shape as a real server's answer for the ``add`` tool
(``content`` with the JSON text, ``structuredContent``, ``isError``), so the bytes on the
pipes are comparable. This is what "as fast as raw json + pipes" means in the benchmark.
"""
import json
import sys

_LEGACY = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
_INFO = {"name": "raw-floor", "version": "1.0.0"}
_ADD = {
    "name": "add",
    "description": "Add two integers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}


def main():
    loads = json.loads
    dumps = json.dumps
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            msg = loads(line)
        except ValueError:
            reply = {"jsonrpc": "2.0", "id": None,
                     "error": {"code": -32700, "message": "Parse error"}}
        else:
            if "id" not in msg or "method" not in msg:
                continue  # a notification (or a stray response): nothing to answer
            method = msg["method"]
            params = msg.get("params") or {}
            if method == "tools/call":
                args = params["arguments"]
                value = args["a"] + args["b"]
                result = {"content": [{"type": "text", "text": dumps(value)}],
                          "structuredContent": {"result": value}, "isError": False}
            elif method == "ping":
                result = {}
            elif method == "initialize":
                version = params.get("protocolVersion")
                result = {"protocolVersion": version if version in _LEGACY else _LEGACY[-1],
                          "capabilities": {"tools": {}}, "serverInfo": _INFO}
            elif method == "server/discover":
                result = {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                          "resultType": "complete",
                          "_meta": {"io.modelcontextprotocol/serverInfo": _INFO}}
            elif method == "tools/list":
                result = {"tools": [_ADD]}
            else:
                result = None
            if result is None:
                reply = {"jsonrpc": "2.0", "id": msg["id"],
                         "error": {"code": -32601, "message": "Method not found"}}
            else:
                reply = {"jsonrpc": "2.0", "id": msg["id"], "result": result}
        out.write(dumps(reply, separators=(",", ":")).encode("utf-8") + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
