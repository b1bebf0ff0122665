"""See MCP on the wire: start the notes server and talk to it over stdio, both eras.

    python examples/quickstart.py

No install needed. Every line printed is a message exactly as it crossed the pipe:
"->" from this client to the server, "<-" back.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "notes_server.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    next_id = [0]

    def send(message: dict) -> None:
        line = json.dumps(message, separators=(",", ":"))
        print("-> " + line)
        server.stdin.write(line.encode("utf-8") + b"\n")

    def call(method: str, params: dict) -> dict:
        next_id[0] += 1
        send({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params})
        while True:  # print whatever arrives until our response
            line = server.stdout.readline()
            if not line:
                raise SystemExit("the server exited")
            print("<- " + line.decode("utf-8").rstrip("\n"))
            message = json.loads(line)
            if message.get("id") == next_id[0]:
                return message

    try:
        print("# Legacy era (2025-11-25 and before): a handshake opens a session")
        call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "quickstart", "version": "1.0"}})
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call("tools/list", {})
        call("tools/call", {"name": "add_note", "arguments": {"title": "Groceries", "body": "Milk, eggs, bread."}})
        call("tools/call", {"name": "search_notes", "arguments": {"query": "eggs"}})
        call("tools/call", {"name": "search_notes", "arguments": {"query": "eggs", "limit": "ten"}})
        call("resources/read", {"uri": "notes://1"})
        call("prompts/get", {"name": "summarize", "arguments": {"note_id": "1"}})
        server.stdin.close()
        server.wait(5)

        print()
        print("# Modern era (2026-07-28): no handshake, every request carries its own _meta")
        server = subprocess.Popen([sys.executable, os.path.join(HERE, "notes_server.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "quickstart", "version": "1.0"}}
        call("server/discover", {"_meta": meta})
        call("tools/call", {"_meta": meta, "name": "add_note", "arguments": {"title": "Plan", "body": "Ship it."}})
        call("resources/read", {"_meta": meta, "uri": "notes://1"})
        call("resources/read", {"_meta": meta, "uri": "notes://42"})
    finally:
        if server.stdin and not server.stdin.closed:
            server.stdin.close()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
