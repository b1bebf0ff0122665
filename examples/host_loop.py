"""A whole tool loop across two servers through a ``Host``, with a scripted stand-in for the
model (no network, no API key): the shape of the loop around a real model API.

    python examples/host_loop.py

The host starts two example servers over stdio (files_server.py on a temporary directory,
notes_server.py), shows the "model" every tool in OpenAI Chat Completions form, and routes the
model's tool calls back, approving each (here: anything not destructive) and auditing each.
With the real OpenAI SDK the loop is the same, with ``client.chat.completions.create(
model=..., messages=messages, tools=tools).choices[0].message`` in place of ``scripted_model``.
"""

import json
import os
import sys
import tempfile
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # run from a checkout

from mcplite import ApprovalRequest, Host  # noqa: E402


def scripted_model(messages: List[Dict[str, Any]], tools: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Stands in for the model: the next assistant message, by how far the talk has got.
    It finds its tools by what they end with, as a model reads the names it was given."""
    offered = [tool["function"]["name"] for tool in tools]

    def named(suffix: str) -> str:
        return [name for name in offered if name.endswith(suffix)][0]

    def call(name: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
        step = len([m for m in messages if m["role"] == "assistant"])
        return {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_%d" % step, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}]}

    results = [m for m in messages if m["role"] == "tool"]
    if not results:
        return call(named("__find_files"), {"pattern": "*.txt"})
    if len(results) == 1:
        found = json.loads(results[0]["content"])
        return call(named("__read_text_file"), {"path": found["matches"][0]})
    if len(results) == 2:
        text = json.loads(results[1]["content"])["text"]
        return call(named("__add_note"), {"title": "Shopping", "body": text.strip(), "tags": ["from-file"]})
    if len(results) == 3:
        return call(named("__delete_note"), {"id": 1})  # the host's approve() refuses this one
    return {"role": "assistant", "content": "I saved the shopping list as a note (I was not allowed to delete it)."}


def approve(request: ApprovalRequest) -> bool:
    allowed = not request.destructive or request.read_only
    print("  approve %s(%s): %s" % (request.name, json.dumps(request.arguments), "yes" if allowed else "no"))
    return allowed


def main() -> int:
    audit = []  # type: List[Dict[str, Any]]
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "shopping.txt"), "w", encoding="utf-8") as f:
            f.write("bread, milk, apples\n")
        config = {"mcpServers": {
            "files": {"command": sys.executable, "args": [os.path.join(HERE, "files_server.py"), folder]},
            "notes": {"command": sys.executable, "args": [os.path.join(HERE, "notes_server.py")]},
        }}
        with Host.from_config(config, approve=approve, audit=audit.append) as host:
            for failure in host.failures:
                print("server %s failed: %s" % (failure.name, failure.reason))
            tools = host.tools("openai")
            print("%d tools from %s" % (len(tools), ", ".join(host.servers)))
            messages = [{"role": "user", "content": "Save my shopping list file as a note."}]  # type: List[Any]
            for _ in range(10):  # a loop a confused model cannot keep going for ever
                reply = scripted_model(messages, tools)
                messages.append(reply)
                if not reply.get("tool_calls"):
                    print("model: %s" % reply["content"])
                    break
                for tool_call in reply["tool_calls"]:
                    print("model calls %s" % tool_call["function"]["name"])
                    answer = host.call(tool_call)  # {"role": "tool", "tool_call_id", "content"}
                    print("  -> %s" % answer["content"][:100])
                    messages.append(answer)
    print("audit: %s" % ", ".join("%s %s" % (record["name"], record["outcome"]) for record in audit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
