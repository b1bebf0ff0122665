"""An MCP Apps server (``io.modelcontextprotocol/ui``): a tool whose results a host shows in
a small interactive HTML view.

    python examples/apps_server.py            # stdio, for a host that renders MCP Apps

``roll_dice`` answers every client with text and structured content; a host that supports
MCP Apps also reads ``ui://dice/view`` (the tool's ``_meta.ui.resourceUri``) and renders it
in a sandboxed iframe. The page talks to the host in JSON-RPC over ``postMessage``: it sends
``ui/initialize``, then ``ui/notifications/initialized``, draws each
``ui/notifications/tool-result`` it receives, and its button asks the host to call
``reroll``, a tool whose ``visibility`` is ``["app"]``: the view may call it, the model never
sees it. Everything is inline - no CDN, no network - so the view needs no CSP
allowance at all (the host's restrictive default fits).
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mcplite import Server  # noqa: E402

app = Server("dice", "1.0.0", instructions="Roll dice with roll_dice; hosts with MCP Apps show them.")

VIEW = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Dice</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 12px; color: var(--color-text-primary, #222); }
  #dice { font-size: 44px; letter-spacing: 8px; min-height: 56px; }
  button { font-size: 15px; padding: 4px 12px; }
</style>
</head>
<body>
<div id="dice">&hellip;</div>
<p id="total"></p>
<button id="again" type="button">Roll again</button>
<script>
"use strict";
const FACES = ["", "\\u2680", "\\u2681", "\\u2682", "\\u2683", "\\u2684", "\\u2685"];
let nextId = 1;
const pending = new Map();
let lastArguments = {};

function send(message) { window.parent.postMessage(Object.assign({jsonrpc: "2.0"}, message), "*"); }
function request(method, params) {
  const id = nextId++;
  send({id: id, method: method, params: params});
  return new Promise((resolve, reject) => pending.set(id, {resolve: resolve, reject: reject}));
}
function show(result) {
  const rolled = (result && result.structuredContent) || {};
  const faces = (rolled.rolls || []).map((n) => FACES[n] || String(n));
  document.getElementById("dice").textContent = faces.join(" ") || "?";
  document.getElementById("total").textContent = "Total: " + (rolled.total ?? "?");
}
window.addEventListener("message", (event) => {
  if (event.source !== window.parent) return;  // only the host speaks to this view
  const message = event.data || {};
  if (message.id !== undefined && pending.has(message.id)) {
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiting.reject(message.error); else waiting.resolve(message.result);
  } else if (message.method === "ui/notifications/tool-input") {
    lastArguments = (message.params && message.params.arguments) || {};
  } else if (message.method === "ui/notifications/tool-result") {
    show(message.params);
  }
});
document.getElementById("again").addEventListener("click", () => {
  request("tools/call", {name: "reroll", arguments: lastArguments}).then(show, () => {});
});
request("ui/initialize", {
  protocolVersion: "2026-01-26",
  appInfo: {name: "dice-view", version: "1.0.0"},
  appCapabilities: {}
}).then(() => send({method: "ui/notifications/initialized", params: {}}), () => {});
</script>
</body>
</html>
"""

app.ui_resource("ui://dice/view", html=VIEW, name="dice_view", description="The dice, drawn",
                prefers_border=True)


@app.tool(ui="ui://dice/view")
def roll_dice(count: int = 2, sides: int = 6) -> dict:
    """Roll ``count`` dice with ``sides`` sides each (at most 20 dice of up to 100 sides)."""
    count, sides = max(1, min(count, 20)), max(2, min(sides, 100))
    rolls = [random.randint(1, sides) for _ in range(count)]
    return {"rolls": rolls, "total": sum(rolls)}



@app.tool(ui={"resourceUri": "ui://dice/view", "visibility": ["app"]})
def reroll(count: int = 2, sides: int = 6) -> dict:
    """The view's "Roll again" button: visible to the app only, so a host keeps it out of the
    model's tool list."""
    return roll_dice(count, sides)


if __name__ == "__main__":
    app.run()
