"""A session-era upstream written as raw JSON-RPC lines on stdio, for what an mcplite server
does not let an application see: the notifications its client sends. Its one tool ``seen``
returns the methods of the notifications received so far, and the levels ``logging/setLevel``
asked for (tests/test_gateway_passthrough.py, tests/test_gateway_edges.py); ``exit`` ends it.
``gateway_raw_upstream.py resources`` serves a resource as well, without answering
``resources/templates/list``.
It answers ``server/discover`` with -32601, so a client falls back to ``initialize``; it ends
at the end of its stdin.
"""

import json
import sys


def main() -> None:
    # With "resources": resources too, listed by resources/list, but no
    # resources/templates/list (-32601, as servers that implement only the one do).
    resources = sys.argv[1:] == ["resources"]
    seen = []
    out = sys.stdout
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict) or "method" not in message:
            continue
        method = message["method"]
        if "id" not in message:
            seen.append(method)
            continue
        params = message.get("params") or {}
        if method == "initialize":
            result = {"protocolVersion": params.get("protocolVersion", "2025-11-25"),
                      "capabilities": dict({"tools": {}, "logging": {}}, **({"resources": {}} if resources else {})),
                      "serverInfo": {"name": "raw-upstream", "version": "1.0.0"}}
        elif method == "resources/list" and resources:
            result = {"resources": [{"uri": "raw://note", "name": "note"}]}
        elif method == "resources/read" and resources and params.get("uri") == "raw://note":
            result = {"contents": [{"uri": "raw://note", "text": "a raw note"}]}
        elif method == "logging/setLevel":
            seen.append("logging/setLevel %s" % params.get("level"))
            result = {}
        elif method == "tools/call" and params.get("name") == "exit":
            sys.exit(3)
        elif method == "tools/list":
            result = {"tools": [{"name": "seen", "description": "The notifications received so far.",
                                 "inputSchema": {"type": "object"}},
                                {"name": "exit", "description": "The process ends, without an answer.",
                                 "inputSchema": {"type": "object"}}]}
        elif method == "tools/call" and params.get("name") == "seen":
            result = {"content": [{"type": "text", "text": json.dumps(seen)}]}
        elif method == "ping":
            result = {}
        else:
            reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "no " + method}}
            out.write(json.dumps(reply) + "\n")
            out.flush()
            continue
        out.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
