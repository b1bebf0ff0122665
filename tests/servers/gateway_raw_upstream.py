"""A session-era upstream written as raw JSON-RPC lines on stdio, for what an mcplite server
does not let an application see or do: the notifications its client sends, tool names an
mcplite server refuses, lists that fail. Its tool ``seen`` returns the methods of the
notifications received so far, and the levels ``logging/setLevel`` asked for
(tests/test_gateway_passthrough.py, tests/test_gateway_edges.py); ``asked`` the methods of the
requests received so far; ``exit`` ends it. Flags (arguments, any of them):

- ``resources``: a resource as well, listed by resources/list, without answering
  ``resources/templates/list`` (-32601, as servers that implement only the one do).
- ``names``: tools named outside ``[A-Za-z0-9_.-]`` or longer than 128 characters (``ODD_NAMES``),
  each answering the name it was called by.
- ``broken-lists``: prompts and resources declared, but ``prompts/list`` and ``resources/list``
  answer -32603 until the tool ``heal`` is called, which also sends
  ``notifications/tools/list_changed``.

It answers ``server/discover`` with -32601, so a client falls back to ``initialize``; it ends
at the end of its stdin.
"""

import json
import sys

ODD_NAMES = ["get user", "files/read", "\u00e9t\u00e9", "x" * 130, "ok.name-1", "a\n"]


def main() -> None:
    flags = set(sys.argv[1:])
    resources = "resources" in flags
    names = "names" in flags
    broken = "broken-lists" in flags
    seen = []
    asked = []
    out = sys.stdout

    def send(message):
        # type: (dict) -> None
        out.write(json.dumps(message) + "\n")
        out.flush()
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
        asked.append(method)
        params = message.get("params") or {}
        tool = params.get("name") if method == "tools/call" else None
        error = None
        if method == "initialize":
            caps = {"tools": {"listChanged": True}, "logging": {}}
            if resources or broken:
                caps["resources"] = {}
            if broken:
                caps["prompts"] = {}
            result = {"protocolVersion": params.get("protocolVersion", "2025-11-25"), "capabilities": caps,
                      "serverInfo": {"name": "raw-upstream", "version": "1.0.0"}}
        elif method in ("prompts/list", "resources/list") and broken:
            error = {"code": -32603, "message": "%s is broken for now" % method}
            result = {}
        elif method == "prompts/list":
            result = {"prompts": [{"name": "greet", "description": "A greeting."}]}
        elif method == "prompts/get" and params.get("name") == "greet":
            result = {"messages": [{"role": "user", "content": {"type": "text", "text": "hello"}}]}
        elif method == "resources/list" and (resources or "healed" in flags):
            result = {"resources": [{"uri": "raw://note", "name": "note"}]}
        elif method == "resources/read" and params.get("uri") == "raw://note":
            result = {"contents": [{"uri": "raw://note", "text": "a raw note"}]}
        elif method == "logging/setLevel":
            seen.append("logging/setLevel %s" % params.get("level"))
            result = {}
        elif tool == "exit":
            sys.exit(3)
        elif method == "tools/list":
            tools = [{"name": "seen", "description": "The notifications received so far.",
                      "inputSchema": {"type": "object"}},
                     {"name": "asked", "description": "The requests received so far.",
                      "inputSchema": {"type": "object"}},
                     {"name": "exit", "description": "The process ends, without an answer.",
                      "inputSchema": {"type": "object"}}]
            if names:
                tools += [{"name": name, "description": "Says its name.", "inputSchema": {"type": "object"}}
                          for name in ODD_NAMES]
            if broken:
                tools.append({"name": "heal", "description": "The lists work from now on.",
                              "inputSchema": {"type": "object"}})
            result = {"tools": tools}
        elif tool == "seen":
            result = {"content": [{"type": "text", "text": json.dumps(seen)}]}
        elif tool == "asked":
            result = {"content": [{"type": "text", "text": json.dumps(asked)}]}
        elif names and tool in ODD_NAMES:
            result = {"content": [{"type": "text", "text": "called " + tool}]}
        elif broken and tool == "heal":
            broken = False
            flags.add("healed")
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            result = {"content": [{"type": "text", "text": "healed"}]}
        elif method == "ping":
            result = {}
        else:
            error = {"code": -32601, "message": "no " + method}
            result = {}
        if error is not None:
            send({"jsonrpc": "2.0", "id": message["id"], "error": error})
        else:
            send({"jsonrpc": "2.0", "id": message["id"], "result": result})


if __name__ == "__main__":
    main()
