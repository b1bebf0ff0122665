'''The inspector's page (inspector.py serves it): one HTML document, its CSS and JavaScript
inline, no CDN and no build step, so that the package and the one-file build carry it as
a string. Plain ES2017 (no ``?.``, no ``??``, no object spread), no framework.

Whatever a server sends is put in the page as text (``textContent``, or escaped), never as
HTML: a tool's result is the server's, and the page can start commands. The elements the
browser tests use carry ``data-testid`` names (the inspector's contract).
'''

from __future__ import annotations

INSPECT_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>mcplite inspector</title>
<style>
:root {
  --bg: #f6f7f9; --panel: #ffffff; --ink: #1d2330; --muted: #667085; --line: #e3e6ec;
  --out: #2563eb; --out-bg: #eef4ff; --in: #0f9d58; --in-bg: #ecfaf2; --err: #d92d20; --err-bg: #fef3f2;
  --accent: #7c3aed; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); display: flex; flex-direction: column; }
button, input, select, textarea { font: inherit; }
button { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 4px 10px; cursor: pointer; }
button:hover:not(:disabled) { border-color: #b8bfcc; background: #fafbfc; }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover:not(:disabled) { background: #6d28d9; }
button.active, button.active:hover:not(:disabled) { background: var(--ink); color: #fff; border-color: var(--ink); }
input, select, textarea { border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; background: #fff; }
textarea { font-family: var(--mono); font-size: 12.5px; width: 100%; }
header { display: flex; align-items: center; gap: 8px; padding: 8px 14px; background: var(--ink); color: #fff;
  flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0 8px 0 0; font-weight: 600; letter-spacing: .2px; }
header h1 span { color: #a78bfa; }
header input[data-testid=target] { flex: 3 1 200px; min-width: 150px; font-family: var(--mono); font-size: 13px; }
header .small { width: 110px; }
header button { background: #2b3345; color: #fff; border-color: #3b455c; }
header button.primary { background: var(--accent); border-color: var(--accent); }
#status { font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #2b3345; white-space: nowrap;
  flex: 1 1 110px; min-width: 60px; max-width: 32vw; overflow: hidden; text-overflow: ellipsis; }
#status[data-state=connected] { background: #065f46; }
#status[data-state=error] { background: #7a271a; }
#status[data-state=connecting] { background: #854d0e; }
#headers-box { display: none; width: 100%; }
#headers-box.open { display: block; }
#headers-box textarea { height: 54px; background: #fff; color: var(--ink); }
header .chk { font-size: 13px; white-space: nowrap; }
#signin-box { display: none; padding: 8px 14px; background: #eef4ff; border-bottom: 1px solid #c7d7fe; }
#signin-box.open { display: block; }
#signin-box a { color: var(--accent); font-weight: 600; }
#banner { display: none; padding: 6px 14px; background: #fff7e6; border-bottom: 1px solid #f5d9a8; font-size: 13px; }
main { flex: 1; display: grid; grid-template-columns: minmax(340px, 38%) 1fr; gap: 12px; padding: 12px;
  min-height: 0; }
.col { display: flex; flex-direction: column; gap: 12px; min-height: 0; min-width: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; display: flex;
  flex-direction: column; min-height: 0; }
.panel > h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0;
  padding: 8px 12px; border-bottom: 1px solid var(--line); display: flex; align-items: center; gap: 8px; }
.panel > h2 .grow { flex: 1; }
.tabs { display: flex; gap: 4px; padding: 8px 12px 0; }
.tabs button { border-radius: 6px 6px 0 0; border-bottom: none; }
.tabs button.active { background: var(--panel); color: var(--ink); border-color: var(--line); font-weight: 600;
  box-shadow: inset 0 -2px 0 var(--accent); }
#act { flex: 1 1 60%; }
#items { border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); overflow: auto; max-height: 30%;
  min-height: 90px; flex: 0 0 auto; }
.item { padding: 6px 12px; border-bottom: 1px solid #f0f1f4; cursor: pointer; }
.item:hover { background: #f7f5ff; }
.item.selected { background: #efe9ff; }
.item b { font-family: var(--mono); font-size: 13px; }
.item small { display: block; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.empty { color: var(--muted); padding: 10px 12px; font-style: italic; }
#detail { overflow: auto; padding: 10px 12px; flex: 1; }
#detail h3 { margin: 0 0 4px; font-family: var(--mono); font-size: 14px; }
#detail p.desc { margin: 0 0 8px; color: var(--muted); }
form .field { margin: 6px 0; }
form label { display: block; font-size: 12.5px; font-weight: 600; }
form label .req { color: var(--err); margin-left: 2px; }
form label .type { color: var(--muted); font-weight: 400; font-family: var(--mono); font-size: 11.5px; margin-left: 6px;
  }
form .hint { color: var(--muted); font-size: 12px; }
form input[type=text], form input[type=number], form select, form textarea { width: 100%; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 6px 0; padding: 4px 10px 8px; }
legend { font-size: 12.5px; font-weight: 600; }
.array-item { display: flex; gap: 6px; align-items: flex-start; }
.array-item > .field, .array-item > fieldset { flex: 1; }
.actions { display: flex; gap: 8px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
progress { flex: 1; min-width: 80px; height: 10px; }
#result { border-radius: 8px; }
#result:not(:empty) { border: 1px solid var(--line); padding: 8px; background: #fcfcfd; }
#result[data-is-error=true] { border-color: #fda29b; background: var(--err-bg); }
#result .error-mark { color: var(--err); font-weight: 600; margin-bottom: 4px; }
#result pre, .json { font-family: var(--mono); font-size: 12.5px; white-space: pre-wrap; word-break: break-word;
  margin: 0; }
.block { margin: 4px 0 8px; }
.block .kind { font-size: 11px; text-transform: uppercase; color: var(--muted); letter-spacing: .5px; }
.block img { max-width: 100%; border: 1px solid var(--line); border-radius: 6px; }
.tree details { margin-left: 14px; }
.tree summary { cursor: pointer; font-family: var(--mono); font-size: 12.5px; }
.tree .leaf { margin-left: 14px; font-family: var(--mono); font-size: 12.5px; }
.k { color: #9333ea; } .s { color: #0f766e; } .n { color: #c2410c; } .b { color: #1d4ed8; } .z { color: #6b7280; }
#side { flex: 0 0 auto; }
#logs { max-height: 160px; overflow: auto; font-family: var(--mono); font-size: 12px; padding: 4px 12px; }
#logs .log { padding: 2px 0; border-bottom: 1px dotted #eee; }
.lvl { display: inline-block; min-width: 62px; font-weight: 600; }
.lvl-debug { color: #6b7280; } .lvl-info, .lvl-notice { color: #2563eb; } .lvl-warning { color: #b45309; }
.lvl-error, .lvl-critical, .lvl-alert, .lvl-emergency { color: var(--err); }
#timeline-panel { flex: 1; }
.toolbar { display: flex; gap: 5px; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line);
  flex-wrap: wrap; }
.toolbar input[data-testid=filter] { width: 140px; }
.toolbar .sep { width: 1px; height: 22px; background: var(--line); margin: 0 4px; }
.toolbar a { color: var(--accent); text-decoration: none; border: 1px solid var(--line); border-radius: 6px;
  padding: 4px 10px; }
#step-position { font-family: var(--mono); font-size: 12.5px; color: var(--muted); min-width: 70px; text-align: center;
  }
.split { display: grid; grid-template-rows: 1fr minmax(140px, 42%); flex: 1; min-height: 0; }
#timeline, #sequence { overflow: auto; position: relative; min-height: 0; }
.spacer { position: relative; }
.row { position: absolute; left: 0; right: 0; height: 46px; padding: 3px 12px; border-bottom: 1px solid #f0f1f4;
  cursor: pointer; overflow: hidden; }
.row:hover { background: #fafafa; }
.row.selected { background: #f3efff; }
.row .l1 { display: flex; gap: 8px; align-items: baseline; white-space: nowrap; overflow: hidden; }
.row .seq { color: var(--muted); font-family: var(--mono); font-size: 11.5px; min-width: 34px; }
.row .time { color: var(--muted); font-family: var(--mono); font-size: 11.5px; }
.row .arrow { font-weight: 700; min-width: 64px; font-size: 12px; }
.row[data-dir=out] .arrow { color: var(--out); }
.row[data-dir=in] .arrow { color: var(--in); }
.row .meth { font-family: var(--mono); font-size: 13px; font-weight: 600; }
.row .kindtag { font-size: 11px; border-radius: 8px; padding: 0 6px; background: #eef0f4; color: var(--muted); }
.row .kindtag.error { background: var(--err-bg); color: var(--err); }
.row [data-testid=latency] { font-family: var(--mono); font-size: 12px; color: var(--accent); }
.row .sum { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; font-family: var(--mono);
  font-size: 12px; color: #344054; }
.row .httpst { font-family: var(--mono); font-size: 11px; color: var(--muted); }
.row .l2 { color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  padding-left: 42px; }
.lanes { position: sticky; top: 0; z-index: 2; display: flex; justify-content: space-between; padding: 6px 12%;
  background: #fff; border-bottom: 1px solid var(--line); font-weight: 600; font-size: 12.5px; }
.seqrow { position: absolute; left: 0; right: 0; height: 46px; cursor: pointer; }
.seqrow:hover { background: #fafafa; }
.seqrow.selected { background: #f3efff; }
.seqrow .life { position: absolute; top: 0; bottom: 0; width: 2px; background: #d5d9e2; }
.seqrow .life.c { left: 15%; } .seqrow .life.s { left: 85%; }
.seqrow .msgline { position: absolute; left: 15%; right: 15%; top: 24px; height: 2px; }
.seqrow[data-dir=out] .msgline { background: var(--out); }
.seqrow[data-dir=in] .msgline { background: var(--in); }
.seqrow .msgline::after { content: ""; position: absolute; top: -5px; border: 6px solid transparent; }
.seqrow[data-dir=out] .msgline::after { right: -2px; border-left-color: var(--out); border-right: none; }
.seqrow[data-dir=in] .msgline::after { left: -2px; border-right-color: var(--in); border-left: none; }
.seqrow .lbl { position: absolute; left: 15%; right: 15%; top: 4px; text-align: center; font-family: var(--mono);
  font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.seqrow .lbl small { color: var(--muted); }
#inspect { border-top: 1px solid var(--line); overflow: auto; padding: 8px 12px; background: #fcfcfd; }
#inspect .note { background: #f5f3ff; border-left: 3px solid var(--accent); padding: 6px 10px; margin: 6px 0;
  border-radius: 0 6px 6px 0; }
#inspect .httpbox { font-family: var(--mono); font-size: 12px; background: #f4f6f9; padding: 6px 10px;
  border-radius: 6px; margin: 6px 0; white-space: pre-wrap; }
#inspect .head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#inspect .head .grow { flex: 1; }
#inspect a { color: var(--accent); cursor: pointer; }
.copy { font-size: 12px; padding: 1px 8px; }
#ask-wrap { display: none; position: fixed; inset: 0; background: rgba(17, 24, 39, .45); z-index: 10;
  align-items: center; justify-content: center; }
#ask-wrap.open { display: flex; }
#ask { background: #fff; border-radius: 12px; width: min(560px, 92vw); max-height: 86vh; overflow: auto;
  padding: 16px 18px; box-shadow: 0 20px 50px rgba(0,0,0,.3); }
#ask h3 { margin: 0 0 6px; }
#ask .who { font-size: 12px; color: var(--muted); font-family: var(--mono); }
#ask .msg { background: #f7f7fb; border-radius: 8px; padding: 8px 10px; margin: 8px 0; white-space: pre-wrap; }
#roots-box textarea { height: 52px; }
</style>
</head>
<body>
<header>
  <h1>mcplite <span>inspector</span></h1>
  <input data-testid="target" id="target"
    placeholder="python3 server.py &nbsp;|&nbsp; server.py &nbsp;|&nbsp; http://127.0.0.1:8000/mcp" spellcheck="false">
  <select data-testid="era" id="era" title="protocol era">
    <option value="auto">era: auto</option>
    <option value="2026-07-28">2026-07-28</option>
    <option value="session">session (initialize)</option>
  </select>
  <input data-testid="protocol-version" id="protocol-version" class="small" placeholder="version (any)"
    title="ask for exactly this protocol version">
  <button type="button" id="headers-toggle" data-testid="headers-toggle"
    title="HTTP headers for every request">Headers</button>
  <label class="chk" title="sign in with OAuth when an HTTP server asks (tokens kept as --oauth keeps them)"><input
    type="checkbox" id="oauth" data-testid="oauth"> OAuth</label>
  <button type="button" class="primary" data-testid="connect" id="connect">Connect</button>
  <button type="button" data-testid="disconnect" id="disconnect" disabled>Disconnect</button>
  <span data-testid="status" id="status" data-state="idle">idle: no server</span>
  <div id="headers-box"><textarea data-testid="headers" id="headers"
    placeholder="Authorization: Bearer ...   (one 'Name: value' a line; HTTP targets)"></textarea></div>
</header>
<div id="banner" data-testid="banner"></div>
<div id="signin-box">The server asks you to sign in:
  <a data-testid="signin" id="signin" target="_blank" rel="noopener noreferrer">open the sign-in page</a>
  (in a new tab; the inspector waits for its redirect to 127.0.0.1).</div>
<main>
  <div class="col">
    <section class="panel" id="act">
      <h2>Act <span class="grow"></span><span id="server-name" data-testid="server-name"></span></h2>
      <div class="tabs">
        <button type="button" data-testid="tab-tools" id="tab-tools" class="active">Tools</button>
        <button type="button" data-testid="tab-resources" id="tab-resources">Resources</button>
        <button type="button" data-testid="tab-prompts" id="tab-prompts">Prompts</button>
        <span style="flex:1"></span>
        <button type="button" data-testid="refresh" id="refresh" title="list again">&#x21bb;</button>
      </div>
      <div id="items"><div class="empty">Connect to a server to see what it offers.</div></div>
      <div id="detail"><div class="empty">Choose a tool, a resource or a prompt.</div></div>
    </section>
    <section class="panel" id="side">
      <h2>Log messages <span class="grow"></span>
        <label style="text-transform:none;letter-spacing:0">level
        <select data-testid="log-level" id="log-level">
          <option>debug</option><option selected>info</option><option>notice</option><option>warning</option>
          <option>error</option><option>critical</option><option>alert</option><option>emergency</option>
        </select></label></h2>
      <div data-testid="logs" id="logs"><div
        class="empty">notifications/message from the server appear here.</div></div>
      <h2>Roots <span class="grow"></span><span
        style="text-transform:none;letter-spacing:0;font-weight:400">what the server may work with</span></h2>
      <div id="roots-box" style="padding:8px 12px">
        <textarea data-testid="roots-list" id="roots-list"
          placeholder="file:///home/me/project   (one URI a line)"></textarea>
        <div class="actions" style="margin:6px 0 0"><button type="button" data-testid="roots-update"
          id="roots-update">Save roots (notify the server)</button></div>
      </div>
    </section>
  </div>
  <section class="panel" id="timeline-panel">
    <h2>Timeline <span id="count" data-testid="count"
      style="text-transform:none;letter-spacing:0;font-weight:400"></span>
      <span class="grow"></span><span style="text-transform:none;letter-spacing:0;font-weight:400"><span
        style="color:var(--out)">&#x2192; client to server</span> &nbsp; <span
        style="color:var(--in)">&#x2190; server to client</span></span></h2>
    <div class="toolbar">
      <input data-testid="filter" id="filter" placeholder="filter by method" spellcheck="false">
      <button type="button" data-testid="view-list" id="view-list" class="active">List</button>
      <button type="button" data-testid="view-sequence" id="view-sequence">Sequence</button>
      <span class="sep"></span>
      <button type="button" data-testid="play" id="play"
        title="replay the timeline one message at a time">&#x25b6; Play</button>
      <button type="button" data-testid="step" id="step" title="show the next message">Step</button>
      <span data-testid="step-position" id="step-position">0 / 0</span>
      <button type="button" data-testid="step-live" id="step-live" title="show everything again">All</button>
      <span class="sep"></span>
      <label title="keep the newest message in view"><input type="checkbox" id="follow" data-testid="follow"
        checked> follow</label>
      <span style="flex:1"></span>
      <a data-testid="export" id="export" href="#" download="mcplite-session.jsonl"
        title="the timeline as JSON lines in the format of record (replay and diff read it)">Export</a>
    </div>
    <div class="split">
      <div data-testid="timeline" id="timeline"><div class="spacer" id="timeline-spacer"></div></div>
      <div data-testid="sequence" id="sequence" style="display:none"><div
        class="lanes"><span>Client (mcplite inspector)</span><span id="lane-server">Server</span></div><div
        class="spacer" id="sequence-spacer"></div></div>
      <div id="inspect" data-testid="inspect"><div
        class="empty">Select a message to see it whole, with its explanation.</div></div>
    </div>
  </section>
</main>
<div id="ask-wrap"><div id="ask" data-testid="ask" role="dialog" aria-modal="true"></div></div>
<script>
"use strict";
(function () {
  var TOKEN = new URLSearchParams(location.search).get("token") || "";
  var ROW = 46;              // px: every timeline row has this height (the list is virtualised)
  var ALL_ROWS_BELOW = 400;  // below this many entries every row is in the DOM
  var $ = function (id) { return document.getElementById(id); };
  var entries = [];          // the timeline, in seq order
  var bySeq = {};
  var shown = [];            // entries after the filter and the step limit
  var selectedSeq = null;
  var stepLimit = null;      // null: everything; k: the first k entries (step mode)
  var playing = null;
  var view = "list";
  var state = {};
  var lists = {tools: [], resources: [], resourceTemplates: [], prompts: []};
  var tab = "tools";
  var waiting = {};          // request id -> {resolve}
  var finished = {};         // request id -> outcome (a result that came before its waiter)
  var currentCall = null;    // the tools/call running from the form: its id
  var lastStatus = null;
  var asks = [];

  // --- talking to the inspector ---
  function api(method, path, body) {
    var options = {method: method, headers: {"Authorization": "Bearer " + TOKEN}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var value = null;
        try { value = text ? JSON.parse(text) : null; } catch (e) { value = {error: text}; }
        if (!response.ok) {
          var error = new Error((value && value.error) || ("HTTP " + response.status));
          error.status = response.status;
          throw error;
        }
        return value;
      });
    });
  }
  // Send a request through the inspector's client; resolves with its outcome {status, result|error}.
  function rpc(method, params) {
    return api("POST", "/api/request", {method: method, params: params || {}}).then(function (answer) {
      return waitFor(answer.id);
    });
  }
  function waitFor(id) {
    if (finished[id]) { var done = finished[id]; delete finished[id]; return Promise.resolve(done); }
    return new Promise(function (resolve) {
      waiting[id] = resolve;
      // (the feed delivers it; this poll covers a feed that broke meanwhile)
      var poll = setInterval(function () {
        if (!waiting[id]) { clearInterval(poll); return; }
        api("GET", "/api/result/" + encodeURIComponent(id)).then(function (outcome) {
          if (outcome && outcome.status !== "running" && waiting[id]) {
            delete waiting[id]; clearInterval(poll); resolve(outcome);
          }
        }).catch(function () {});
      }, 2000);
    });
  }

  // --- the feed ---
  function listen() {
    var source = new EventSource("/events?token=" + encodeURIComponent(TOKEN));
    source.addEventListener("message", function (event) { addEntry(JSON.parse(event.data)); });
    source.addEventListener("state", function (event) { applyState(JSON.parse(event.data)); });
    source.addEventListener("progress", function (event) { onProgress(JSON.parse(event.data)); });
    source.addEventListener("result", function (event) {
      var outcome = JSON.parse(event.data);
      if (waiting[outcome.id]) { var resolve = waiting[outcome.id]; delete waiting[outcome.id]; resolve(outcome); }
      else { finished[outcome.id] = outcome; }
    });
    source.addEventListener("update", function (event) {
      var update = JSON.parse(event.data);
      var entry = bySeq[update.seq];
      if (!entry) { return; }
      entry.http = update.http;
      // (its row is drawn again; the message pane too, if it shows it)
      Array.prototype.forEach.call(document.querySelectorAll('[data-testid=msg][data-seq="' + update.seq + '"]'),
        function (node) { node.remove(); });
      if (selectedSeq === update.seq) { select(update.seq, false); }
      scheduleRender();
    });
    source.addEventListener("changed", function (event) {
      var what = JSON.parse(event.data);
      if (what.kind) { refreshLists(); }
      if (what.uri) { addLog({level: "notice", logger: "inspector", data: "resource updated: " + what.uri}); }
    });
  }

  // --- state ---
  function applyState(next) {
    state = next || {};
    var status = $("status");
    var label;
    if (state.status === "connected") {
      var info = (state.server && state.server.serverInfo) || {};
      label = "connected: " + (info.name || "server") + (info.version ? " " + info.version : "") +
        " (" + ((state.server && state.server.protocolVersion) || "?") + ")";
    } else if (state.status === "connecting") {
      label = "connecting to " + (state.target || "") + " ...";
    } else if (state.status === "error") {
      label = "error: " + (state.error || "unknown");
    } else {
      label = "idle: no server";
    }
    status.textContent = label;
    status.title = label;
    status.setAttribute("data-state", state.status || "idle");
    $("connect").disabled = state.status === "connecting";
    $("disconnect").disabled = state.status !== "connected";
    if (state.target && !$("target").value) { $("target").value = state.target; }
    if (state.era && document.activeElement !== $("era")) { $("era").value = state.era; }
    $("server-name").textContent = state.status === "connected" && state.server && state.server.serverInfo ?
      (state.server.serverInfo.title || state.server.serverInfo.name || "") : "";
    var serverName = $("server-name").textContent;
    $("lane-server").textContent = serverName ? "Server (" + serverName + ")" : "Server";
    if (state.replay) {
      var banner = $("banner");
      banner.style.display = "block";
      banner.textContent = "Replay of " + state.replay.file + ": " + state.replay.count +
        " messages, offline. Step through them with Play and Step.";
    }
    if (document.activeElement !== $("roots-list")) {
      $("roots-list").value = (state.roots || []).map(function (root) { return root.uri; }).join("\n");
    }
    var running = state.running || [];
    if (currentCall && running.indexOf(currentCall) < 0 && $("cancel")) { $("cancel").disabled = true; }
    $("signin-box").classList.toggle("open", !!state.signIn);
    // (a link to the authorization server's page: http(s) only, never a script URL)
    if (state.signIn && /^https?:\/\//i.test(state.signIn)) { $("signin").href = state.signIn; }
    asks = state.asks || [];
    showAsk();
    if (state.status === "connected" && lastStatus !== "connected") { refreshLists(); }
    if (state.status !== "connected" && lastStatus === "connected") { clearLists(); }
    lastStatus = state.status;
  }

  function connect() {
    var headers = {};
    $("headers").value.split("\n").forEach(function (line) {
      var at = line.indexOf(":");
      if (at > 0) { headers[line.slice(0, at).trim()] = line.slice(at + 1).trim(); }
    });
    var body = {target: $("target").value, era: $("era").value, headers: headers, oauth: $("oauth").checked};
    if ($("protocol-version").value.trim()) { body.protocolVersion = $("protocol-version").value.trim(); }
    api("POST", "/api/connect", body).catch(function (error) {
      var status = $("status");
      status.textContent = "error: " + error.message;
      status.setAttribute("data-state", "error");
    });
  }

  // --- lists ---
  function clearLists() {
    lists = {tools: [], resources: [], resourceTemplates: [], prompts: []};
    renderItems();
    $("detail").textContent = "";
    $("detail").appendChild(el("div", {"class": "empty"}, "Choose a tool, a resource or a prompt."));
  }
  function refreshLists() {
    var caps = (state.server && state.server.capabilities) || {};
    var wanted = [["tools/list", "tools", caps.tools], ["resources/list", "resources", caps.resources],
      ["resources/templates/list", "resourceTemplates", caps.resources], ["prompts/list", "prompts", caps.prompts]];
    var chain = Promise.resolve();
    wanted.forEach(function (w) {
      if (!w[2]) { lists[w[1]] = []; return; }
      chain = chain.then(function () {
        return rpc(w[0]).then(function (outcome) {
          lists[w[1]] = (outcome.status === "done" && outcome.result && outcome.result[w[1]]) || [];
          renderItems();
        });
      });
    });
    chain.then(renderItems);
  }
  function setTab(name) {
    tab = name;
    ["tools", "resources", "prompts"].forEach(function (t) { $("tab-" + t).classList.toggle("active", t === name); });
    renderItems();
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function itemRow(testid, key, value, title, subtitle, onClick) {
    var row = el("div", {"class": "item", "data-testid": testid});
    row.setAttribute(key, value);
    row.appendChild(el("b", null, title));
    if (subtitle) { row.appendChild(el("small", null, subtitle)); }
    row.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll("#items .item"),
          function (n) { n.classList.remove("selected"); });
      row.classList.add("selected");
      onClick();
    });
    return row;
  }
  function renderItems() {
    var box = $("items");
    box.textContent = "";
    var count = 0;
    if (tab === "tools") {
      lists.tools.forEach(function (tool) {
        count++;
        box.appendChild(itemRow("tool-item", "data-name", tool.name, tool.title || tool.name,
          tool.description || "", function () { showTool(tool); }));
      });
    } else if (tab === "resources") {
      lists.resources.forEach(function (resource) {
        count++;
        box.appendChild(itemRow("resource-item", "data-uri", resource.uri, resource.name || resource.uri,
          resource.uri + (resource.mimeType ? "  " + resource.mimeType : ""), function () { showResource(resource); }));
      });
      lists.resourceTemplates.forEach(function (template) {
        count++;
        box.appendChild(itemRow("template-item", "data-uri", template.uriTemplate,
          template.name || template.uriTemplate, "template: " + template.uriTemplate,
          function () { showTemplate(template); }));
      });
    } else {
      lists.prompts.forEach(function (prompt) {
        count++;
        box.appendChild(itemRow("prompt-item", "data-name", prompt.name, prompt.title || prompt.name,
          prompt.description || "", function () { showPrompt(prompt); }));
      });
    }
    if (!count) {
      box.appendChild(el("div", {"class": "empty"},
        state.status === "connected" ? "None." : "Connect to a server to see what it offers."));
    }
  }

  // --- forms from JSON Schema ---
  function typeOf(schema) {
    if (!schema || typeof schema !== "object") { return "any"; }
    var t = schema.type;
    if (Array.isArray(t)) { t = t.filter(function (x) { return x !== "null"; })[0] || "any"; }
    if (!t && schema.enum) { return "enum"; }
    if (!t && schema.properties) { return "object"; }
    if (!t && (schema.anyOf || schema.oneOf)) {
      var options = (schema.anyOf || schema.oneOf).filter(function (s) { return s && s.type !== "null"; });
      if (options.length === 1) { return typeOf(options[0]); }
      if (options.length && options.every(function (s) { return s && s.const !== undefined; })) { return "enum"; }
      return "any";
    }
    if (schema.enum) { return "enum"; }
    return t || "any";
  }
  function enumValues(schema) {
    if (schema.enum) { return schema.enum; }
    var options = (schema.anyOf || schema.oneOf || []).filter(function (s) { return s && s.const !== undefined; });
    return options.map(function (s) { return s.const; });
  }
  function unwrap(schema) {
    if (schema && !schema.type && (schema.anyOf || schema.oneOf)) {
      var options = (schema.anyOf || schema.oneOf).filter(function (s) { return s && s.type !== "null"; });
      if (options.length === 1) { return options[0]; }
    }
    return schema || {};
  }
  // A field for ``schema`` at dotted ``path``; returns the node. Values are read back by readField.
  function buildField(container, path, name, schema, required, value) {
    schema = unwrap(schema);
    var type = typeOf(schema);
    if (value === undefined) { value = schema.default; }
    if (type === "object" && schema.properties) {
      var set = el("fieldset", {"data-group": path, "data-kind": "object"});
      // An object the schema does not require is sent only once something in it was entered
      // (readForm): untouched, its checkboxes still read false and its defaults are filled in,
      // and an object of those alone, lacking its required properties, would be refused.
      if (!required) { set.setAttribute("data-optional", "true"); }
      set.appendChild(el("legend", null, name + (required ? " *" : "")));
      var need = schema.required || [];
      Object.keys(schema.properties).forEach(function (key) {
        buildField(set, path ? path + "." + key : key, key, schema.properties[key], need.indexOf(key) >= 0,
          value && typeof value === "object" ? value[key] : undefined);
      });
      container.appendChild(set);
      return set;
    }
    if (type === "array") {
      var group = el("fieldset", {"data-group": path, "data-kind": "array"});
      group.appendChild(el("legend", null, name + (required ? " *" : "") + "  [list]"));
      var list = el("div");
      group.appendChild(list);
      var add = el("button", {type: "button", "data-testid": "add-item", "data-add": path}, "+ add");
      var itemSchema = unwrap(schema.items || {});
      function addItem(initial) {
        var index = list.children.length;
        var holder = el("div", {"class": "array-item"});
        // (an item added is sent, whatever it holds: only a property can be left out)
        var item = buildField(holder, path + "." + index, "#" + index, itemSchema, false, initial);
        item.removeAttribute("data-optional");
        var remove = el("button", {type: "button", title: "remove"}, "\u2212");
        remove.addEventListener("click", function () {
          holder.remove();
          renumber(list, path);
          group.setAttribute("data-touched", "true");
        });
        holder.appendChild(remove);
        list.appendChild(holder);
      }
      add.addEventListener("click", function () { addItem(undefined); group.setAttribute("data-touched", "true"); });
      group.appendChild(add);
      (Array.isArray(value) ? value : []).forEach(function (v) { addItem(v); });
      container.appendChild(group);
      return group;
    }
    var wrap = el("div", {"class": "field"});
    var label = el("label", null, name);
    if (required) { label.appendChild(el("span", {"class": "req", title: "required"}, "*")); }
    label.appendChild(el("span", {"class": "type"}, type === "enum" ? "one of" : type));
    wrap.appendChild(label);
    var input;
    if (type === "boolean") {
      input = el("input", {type: "checkbox", "data-field": path, "data-kind": "boolean"});
      input.checked = value === true;
    } else if (type === "enum") {
      input = el("select", {"data-field": path, "data-kind": "enum"});
      if (!required) { input.appendChild(el("option", {value: ""}, "")); }
      enumValues(schema).forEach(function (v, i) {
        var option = el("option", {value: String(i)}, String(v));
        if (value !== undefined && v === value) { option.selected = true; }
        input.appendChild(option);
      });
      input._values = enumValues(schema);
    } else if (type === "number" || type === "integer") {
      input = el("input", {type: "number", "data-field": path, "data-kind": type,
        step: type === "integer" ? "1" : "any"});
      if (value !== undefined && value !== null) { input.value = String(value); }
    } else if (type === "string") {
      var long = schema.format === "textarea" || (schema.maxLength || 0) > 200;
      input = el(long ? "textarea" : "input", {type: long ? null : "text", "data-field": path, "data-kind": "string",
          spellcheck: "false"});
      if (value !== undefined && value !== null) { input.value = String(value); }
      if (schema.format) { input.setAttribute("placeholder", schema.format); }
    } else {
      input = el("textarea", {"data-field": path, "data-kind": "json", rows: "2", placeholder: "JSON"});
      if (value !== undefined) { input.value = JSON.stringify(value); }
    }
    if (required) { input.setAttribute("data-required", "true"); }
    var touched = function () { input.setAttribute("data-touched", "true"); };
    input.addEventListener("input", touched);
    input.addEventListener("change", touched);
    wrap.appendChild(input);
    if (schema.description) { wrap.appendChild(el("div", {"class": "hint"}, schema.description)); }
    container.appendChild(wrap);
    return wrap;
  }
  function renumber(list, path) {
    Array.prototype.forEach.call(list.children, function (holder, index) {
      // The item's own label (its first, in document order) says "#<index>" too.
      var label = holder.querySelector("legend, label");
      if (label && label.firstChild && label.firstChild.nodeType === 3) {
        label.firstChild.nodeValue = label.firstChild.nodeValue.replace(/^#[0-9]+/, "#" + index);
      }
      Array.prototype.forEach.call(holder.querySelectorAll("[data-field],[data-group],[data-add]"), function (node) {
        ["data-field", "data-group", "data-add"].forEach(function (attr) {
          var v = node.getAttribute(attr);
          if (v !== null && v.indexOf(path + ".") === 0) {
            var rest = v.slice(path.length + 1).split(".");
            rest[0] = String(index);
            node.setAttribute(attr, path + "." + rest.join("."));
          }
        });
      });
    });
  }
  function readValue(input) {
    var kind = input.getAttribute("data-kind");
    if (kind === "boolean") { return input.checked; }
    if (kind === "enum") { return input.value === "" ? undefined : input._values[Number(input.value)]; }
    var text = input.value;
    if (text === "") { return undefined; }
    if (kind === "number" || kind === "integer") { var n = Number(text); return isNaN(n) ? text : n; }
    if (kind === "json") { try { return JSON.parse(text); } catch (e) { return text; } }
    return text;
  }
  // The form's values as an object, by the dotted paths of its fields.
  function readForm(form) {
    var out = {};
    // Optional objects nothing was entered in are left out, with all they hold (buildField).
    var untouched = Array.prototype.filter.call(form.querySelectorAll("[data-group][data-optional]"),
        function (group) { return !group.querySelector("[data-touched]"); });
    var kept = function (node) { return !untouched.some(function (group) { return group.contains(node); }); };
    Array.prototype.forEach.call(form.querySelectorAll("[data-group]"), function (group) {
      if (!kept(group)) { return; }
      setPath(out, group.getAttribute("data-group").split("."), group.getAttribute("data-kind") === "array" ? [] : {},
          true);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-field]"), function (input) {
      if (!kept(input)) { return; }
      var value = readValue(input);
      if (value !== undefined) { setPath(out, input.getAttribute("data-field").split("."), value, false); }
    });
    return prune(out);
  }
  function setPath(target, parts, value, onlyIfMissing) {
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      if (node[parts[i]] === undefined) { node[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {}; }
      node = node[parts[i]];
    }
    var last = parts[parts.length - 1];
    if (!onlyIfMissing || node[last] === undefined) { node[last] = value; }
  }
  function prune(value) {  // empty optional objects and arrays go (a form cannot tell "none" from "empty")
    if (Array.isArray(value)) { return value.filter(function (v) { return v !== undefined; }).map(prune); }
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        var v = prune(value[k]);
        if (v && typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length) { return; }
        out[k] = v;
      });
      return out;
    }
    return value;
  }

  // --- the detail pane: tools, resources, templates, prompts ---
  function showTool(tool) {
    var detail = $("detail");
    detail.textContent = "";
    detail.appendChild(el("h3", null, tool.name));
    if (tool.description) { detail.appendChild(el("p", {"class": "desc"}, tool.description)); }
    var form = el("form", {"data-testid": "tool-form", "data-tool": tool.name});
    var schema = tool.inputSchema || {type: "object"};
    var need = schema.required || [];
    var props = schema.properties || {};
    Object.keys(props).forEach(function (key) { buildField(form, key, key, props[key], need.indexOf(key) >= 0,
        undefined); });
    if (!Object.keys(props).length) { form.appendChild(el("div", {"class": "hint"}, "No arguments.")); }
    var raw = el("textarea", {"data-testid": "raw-json", rows: "6", spellcheck: "false", style: "display:none"});
    form.appendChild(raw);
    detail.appendChild(form);
    var actions = el("div", {"class": "actions"});
    var call = el("button", {type: "button", "class": "primary", "data-testid": "call"}, "Call");
    var cancel = el("button", {type: "button", "data-testid": "cancel", id: "cancel"}, "Cancel");
    cancel.disabled = true;
    var toggle = el("button", {type: "button", "data-testid": "raw-toggle"}, "Raw JSON");
    var bar = el("progress", {"data-testid": "progress", id: "progress", max: "1", value: "0"});
    actions.appendChild(call); actions.appendChild(cancel); actions.appendChild(toggle); actions.appendChild(bar);
    detail.appendChild(actions);
    var result = el("div", {"data-testid": "result", id: "result"});
    detail.appendChild(result);
    toggle.addEventListener("click", function () {
      var rawMode = raw.style.display === "none";
      if (rawMode) { raw.value = JSON.stringify(readForm(form), null, 2); }
      raw.style.display = rawMode ? "block" : "none";
      Array.prototype.forEach.call(form.children,
          function (child) { if (child !== raw) { child.style.display = rawMode ? "none" : ""; } });
      toggle.classList.toggle("active", rawMode);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); call.click(); });
    call.addEventListener("click", function () {
      var args;
      if (raw.style.display !== "none") {
        try {
          args = JSON.parse(raw.value || "{}");
        } catch (e) {
          showError(result, "the raw JSON is not JSON: " + e.message);
          return;
        }
      } else {
        args = readForm(form);
      }
      result.textContent = "";
      result.removeAttribute("data-is-error");
      bar.value = 0; bar.removeAttribute("value");   // indeterminate until progress says more
      call.disabled = true;
      api("POST", "/api/request", {method: "tools/call", params: {name: tool.name,
          arguments: args}}).then(function (answer) {
        currentCall = answer.id;
        cancel.disabled = false;
        cancel.onclick = function () { api("POST", "/api/cancel", {id: answer.id}).catch(function () {});
            cancel.disabled = true; };
        return waitFor(answer.id);
      }).then(function (outcome) {
        showOutcome(result, outcome);
        bar.max = 1; bar.value = outcome.status === "done" ? 1 : 0;
      }).catch(function (error) {
        showError(result, error.message);
        bar.max = 1; bar.value = 0;
      }).then(function () { call.disabled = false; cancel.disabled = true; currentCall = null; });
    });
  }
  function onProgress(p) {
    var bar = $("progress");
    if (!bar || p.id !== currentCall) { return; }
    if (typeof p.total === "number" && p.total > 0) {
      bar.max = p.total;
      bar.value = Math.min(p.progress, p.total);
    } else if (typeof p.progress === "number" && p.progress > 0) {
      bar.max = p.progress + 1;  // (no total: it moves, and never reaches the end)
      bar.value = p.progress;
    }
    bar.title = (p.message ? p.message + " " : "") + p.progress + (p.total ? " / " + p.total : "");
  }
  function showResource(resource) {
    var detail = $("detail");
    detail.textContent = "";
    detail.appendChild(el("h3", null, resource.name || resource.uri));
    detail.appendChild(el("p", {"class": "desc"},
      (resource.description ? resource.description + "  " : "") + resource.uri));
    var actions = el("div", {"class": "actions"});
    var read = el("button", {type: "button", "class": "primary", "data-testid": "read"}, "Read");
    var sub = el("button", {type: "button", "data-testid": "subscribe"}, "Subscribe");
    var caps = (state.server && state.server.capabilities && state.server.capabilities.resources) || {};
    sub.disabled = !caps.subscribe;
    actions.appendChild(read); actions.appendChild(sub);
    detail.appendChild(actions);
    var result = el("div", {"data-testid": "result", id: "result"});
    detail.appendChild(result);
    read.addEventListener("click", function () { readResource(resource.uri, result); });
    var subscribed = false;
    sub.addEventListener("click", function () {
      rpc(subscribed ? "resources/unsubscribe" : "resources/subscribe", {uri: resource.uri}).then(function (outcome) {
        if (outcome.status === "done") {
          subscribed = !subscribed;
          sub.textContent = subscribed ? "Unsubscribe" : "Subscribe";
        } else {
          showOutcome(result, outcome);
        }
      });
    });
  }
  function readResource(uri, result) {
    result.textContent = "";
    rpc("resources/read", {uri: uri}).then(function (outcome) { showOutcome(result, outcome); });
  }
  function showTemplate(template) {
    var detail = $("detail");
    detail.textContent = "";
    detail.appendChild(el("h3", null, template.name || template.uriTemplate));
    detail.appendChild(el("p", {"class": "desc"},
      (template.description ? template.description + "  " : "") + template.uriTemplate));
    var form = el("form", {"data-testid": "template-form"});
    var names = [];
    String(template.uriTemplate).replace(/\{[+#./;?&]?([^}]+)\}/g, function (m, inner) {
      inner.split(",").forEach(function (n) { names.push(n.replace(/\*$/, "").replace(/:\d+$/, "")); });
      return m;
    });
    names.forEach(function (n) { buildField(form, n, n, {type: "string"}, true, undefined); });
    detail.appendChild(form);
    var actions = el("div", {"class": "actions"});
    var read = el("button", {type: "button", "class": "primary", "data-testid": "read"}, "Read");
    actions.appendChild(read);
    detail.appendChild(actions);
    var result = el("div", {"data-testid": "result", id: "result"});
    detail.appendChild(result);
    form.addEventListener("submit", function (event) { event.preventDefault(); read.click(); });
    read.addEventListener("click", function () {
      var values = readForm(form);
      var uri = String(template.uriTemplate).replace(/\{[+#./;?&]?([^}]+)\}/g, function (m, inner) {
        return inner.split(",").map(function (n) {
          var v = values[n.replace(/\*$/, "").replace(/:\d+$/, "")];
          return v === undefined ? "" : encodeURIComponent(String(v));
        }).join(",");
      });
      readResource(uri, result);
    });
  }
  function showPrompt(prompt) {
    var detail = $("detail");
    detail.textContent = "";
    detail.appendChild(el("h3", null, prompt.name));
    if (prompt.description) { detail.appendChild(el("p", {"class": "desc"}, prompt.description)); }
    var form = el("form", {"data-testid": "prompt-form", "data-prompt": prompt.name});
    (prompt.arguments || []).forEach(function (arg) {
      buildField(form, arg.name, arg.name, {type: "string", description: arg.description}, !!arg.required, undefined);
    });
    if (!(prompt.arguments || []).length) { form.appendChild(el("div", {"class": "hint"}, "No arguments.")); }
    detail.appendChild(form);
    var actions = el("div", {"class": "actions"});
    var get = el("button", {type: "button", "class": "primary", "data-testid": "get-prompt"}, "Get prompt");
    actions.appendChild(get);
    detail.appendChild(actions);
    var result = el("div", {"data-testid": "result", id: "result"});
    detail.appendChild(result);
    form.addEventListener("submit", function (event) { event.preventDefault(); get.click(); });
    get.addEventListener("click", function () {
      result.textContent = "";
      rpc("prompts/get", {name: prompt.name, arguments: readForm(form)}).then(function (outcome) { showOutcome(result,
          outcome); });
    });
  }

  // --- results ---
  function showError(box, text) {
    box.textContent = "";
    box.setAttribute("data-is-error", "true");
    box.appendChild(el("div", {"class": "error-mark"}, text));
  }
  function showOutcome(box, outcome) {
    box.textContent = "";
    box.removeAttribute("data-is-error");
    if (outcome.status === "cancelled") { box.appendChild(el("div", {"class": "error-mark", "data-testid": "cancelled"},
        "Cancelled: the server was told (notifications/cancelled, or the request's stream closed).")); return; }
    if (outcome.status === "error") {
      var err = outcome.error || {};
      showError(box, "Error" + (err.code !== undefined ? " " + err.code : "") + ": " + (err.message || ""));
      if (err.data !== undefined && err.data !== null) { box.appendChild(jsonBlock(err.data)); }
      return;
    }
    var result = outcome.result || {};
    if (result.isError) {
      box.setAttribute("data-is-error", "true");
      box.appendChild(el("div", {"class": "error-mark"}, "The tool failed (isError): this is for the model to read."));
    }
    if (Array.isArray(result.content)) {
      result.content.forEach(function (block) { box.appendChild(renderBlock(block)); });
    }
    if (Array.isArray(result.contents)) { result.contents.forEach(function (c) { box.appendChild(renderContents(c)); });
        }
    if (Array.isArray(result.messages)) {
      result.messages.forEach(function (m) {
        var wrap = el("div", {"class": "block"});
        wrap.appendChild(el("div", {"class": "kind"}, m.role));
        wrap.appendChild(renderBlock(m.content || {}));
        box.appendChild(wrap);
      });
    }
    if (result.structuredContent !== undefined) {
      var s = el("div", {"class": "block"});
      s.appendChild(el("div", {"class": "kind"}, "structuredContent"));
      s.appendChild(tree(result.structuredContent, "structuredContent", true));
      box.appendChild(s);
    }
    if (!box.children.length || box.children.length === (result.isError ? 1 : 0)) { box.appendChild(jsonBlock(result));
        }
  }
  function renderBlock(block) {
    var wrap = el("div", {"class": "block", "data-type": block.type || ""});
    wrap.appendChild(el("div", {"class": "kind"}, block.type || "content"));
    if (block.type === "text") { wrap.appendChild(el("pre", null, block.text)); }
    else if (block.type === "image" && /^image\/(png|jpeg|gif|webp|bmp)$/.test(block.mimeType || "")) {
      wrap.appendChild(el("img", {src: "data:" + block.mimeType + ";base64," + block.data,
          alt: "image from the server"}));
    } else if (block.type === "audio" && /^audio\/[a-z0-9.+-]+$/i.test(block.mimeType || "")) {
      wrap.appendChild(el("audio", {controls: "", src: "data:" + block.mimeType + ";base64," + block.data}));
    } else if (block.type === "resource_link") {
      wrap.appendChild(el("pre", null, (block.name ? block.name + ": " : "") + block.uri));
    } else if (block.type === "resource" && block.resource) { wrap.appendChild(renderContents(block.resource)); }
    else { wrap.appendChild(jsonBlock(block)); }
    return wrap;
  }
  function renderContents(c) {
    var wrap = el("div", {"class": "block"});
    wrap.appendChild(el("div", {"class": "kind"}, c.uri + (c.mimeType ? "  (" + c.mimeType + ")" : "")));
    if (typeof c.text === "string") { wrap.appendChild(el("pre", null, c.text)); }
    else if (typeof c.blob === "string") {
      if (/^image\/(png|jpeg|gif|webp|bmp)$/.test(c.mimeType || "")) {
        wrap.appendChild(el("img", {src: "data:" + c.mimeType + ";base64," + c.blob}));
      } else {
        wrap.appendChild(el("pre", null, "binary, " + Math.floor(c.blob.length * 3 / 4) + " bytes"));
      }
    }
    return wrap;
  }
  function tree(value, name, open) {
    if (value && typeof value === "object") {
      var details = el("details");
      if (open) { details.open = true; }
      var keys = Object.keys(value);
      var size = Array.isArray(value) ? " [" + keys.length + "]" : " {" + keys.length + "}";
      details.appendChild(el("summary", null, name + size));
      keys.forEach(function (k) { details.appendChild(tree(value[k], k, false)); });
      var box = el("div", {"class": "tree"});
      box.appendChild(details);
      return box;
    }
    var leaf = el("div", {"class": "leaf"});
    leaf.appendChild(el("span", {"class": "k"}, name + ": "));
    leaf.appendChild(el("span", {"class": typeof value === "string" ? "s" : typeof value === "number" ? "n" : "b"},
        JSON.stringify(value)));
    return leaf;
  }
  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function prettyJson(value) {  // highlighted, every piece escaped
    var text = JSON.stringify(value, null, 2);
    if (text === undefined) { return ""; }
    var tokens = new RegExp('(&quot;(?:\\\\.|[^\\\\&]|&(?!quot;))*?&quot;)(\\s*:)?|\\b(true|false)\\b|\\bnull\\b|' +
      '-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?', "g");
    return escapeHtml(text).replace(tokens,
      function (m, str, colon, bool) {
        if (str) { return colon ? '<span class="k">' + str + "</span>" + colon : '<span class="s">' + str + "</span>"; }
        if (bool) { return '<span class="b">' + m + "</span>"; }
        if (m === "null") { return '<span class="z">null</span>'; }
        return '<span class="n">' + m + "</span>";
      });
  }
  function jsonBlock(value) {
    var pre = el("pre", {"class": "json"});
    pre.innerHTML = prettyJson(value);
    return pre;
  }
  function copyText(text, button) {
    var done = function () { button.textContent = "copied"; setTimeout(function () { button.textContent = "copy"; },
        1200); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  }
  function fallbackCopy(text) {
    var area = el("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  // --- the timeline ---
  var renderQueued = false;
  function addEntry(entry) {
    if (bySeq[entry.seq]) { return; }
    bySeq[entry.seq] = entry;
    entries.push(entry);
    if (entry.method === "notifications/message" && entry.dir === "in" && entry.message && entry.message.params) {
      addLog(entry.message.params);
    }
    scheduleRender();
  }
  function scheduleRender() {
    if (renderQueued) { return; }
    renderQueued = true;
    requestAnimationFrame(function () { renderQueued = false; recompute(); });
  }
  function recompute() {
    var filter = $("filter").value.trim().toLowerCase();
    var limit = stepLimit === null ? entries.length : Math.min(stepLimit, entries.length);
    var out = [];
    for (var i = 0; i < limit; i++) {
      var e = entries[i];
      if (filter && String(e.method || "").toLowerCase().indexOf(filter) < 0) { continue; }
      out.push(e);
    }
    shown = out;
    $("step-position").textContent = (stepLimit === null ? entries.length : limit) + " / " + entries.length;
    $("count").textContent = "(" + entries.length + " message" + (entries.length === 1 ? "" : "s") +
      (filter ? ", " + shown.length + " shown" : "") + ")";
    var box = view === "list" ? $("timeline") : $("sequence");
    var spacer = view === "list" ? $("timeline-spacer") : $("sequence-spacer");
    spacer.style.height = (shown.length * ROW) + "px";
    if ($("follow").checked || stepLimit !== null) { box.scrollTop = box.scrollHeight; }
    paint();
    if (stepLimit !== null && shown.length) { select(shown[shown.length - 1].seq, false); }
  }
  function paint() {
    var box = view === "list" ? $("timeline") : $("sequence");
    var spacer = view === "list" ? $("timeline-spacer") : $("sequence-spacer");
    var from = 0, to = shown.length;
    if (shown.length > ALL_ROWS_BELOW) {
      var top = Math.max(box.scrollTop - (view === "sequence" ? 30 : 0), 0);
      from = Math.max(Math.floor(top / ROW) - 20, 0);
      to = Math.min(Math.ceil((top + box.clientHeight) / ROW) + 20, shown.length);
    }
    var have = {};
    Array.prototype.slice.call(spacer.children).forEach(function (node) {
      var index = Number(node.getAttribute("data-index"));
      var stale = index < from || index >= to || shown[index] === undefined ||
        String(shown[index].seq) !== node.getAttribute("data-seq");
      if (stale) { node.remove(); } else { have[index] = node; }
    });
    for (var i = from; i < to; i++) {
      if (have[i]) { have[i].classList.toggle("selected", shown[i].seq === selectedSeq); continue; }
      var node = view === "list" ? listRow(shown[i]) : sequenceRow(shown[i]);
      node.setAttribute("data-index", String(i));
      node.style.top = (i * ROW) + "px";
      if (shown[i].seq === selectedSeq) { node.classList.add("selected"); }
      spacer.appendChild(node);
    }
  }
  function kindOf(entry) {
    var m = entry.message;
    if (!m || typeof m !== "object") { return entry.text !== undefined ? "not JSON" : "?"; }
    if (Array.isArray(m)) { return "batch"; }
    if (m.method !== undefined) { return m.id !== undefined ? "request" : "notification"; }
    if (m.error !== undefined) { return "error"; }
    if (m.result !== undefined) { return "response"; }
    return "?";
  }
  function stamp(t) {
    var d = new Date(t * 1000);
    var p = function (n, w) { return String(n).padStart(w || 2, "0"); };
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3);
  }
  function rowAttrs(node, entry) {
    node.setAttribute("data-testid", "msg");
    node.setAttribute("data-dir", entry.dir);
    node.setAttribute("data-method", entry.method || "");
    node.setAttribute("data-seq", String(entry.seq));
    node.setAttribute("data-kind", kindOf(entry));
    node.addEventListener("click", function () { select(entry.seq, true); });
  }
  // One line of what a message says: a result's text, a request's name and arguments.
  function summary(entry) {
    var m = entry.message;
    if (!m || typeof m !== "object") { return entry.text || ""; }
    var text;
    if (m.result !== undefined) {
      var r = m.result || {};
      if (Array.isArray(r.content)) {
        text = r.content.map(function (b) { return b && b.type === "text" ? b.text : "[" + (b && b.type) + "]"; })
          .join(" ");
      } else {
        var copy = {};
        Object.keys(r).forEach(function (k) { if (k !== "_meta") { copy[k] = r[k]; } });
        text = JSON.stringify(copy);
      }
    } else if (m.error !== undefined) {
      text = (m.error && m.error.code) + " " + (m.error && m.error.message);
    } else {
      var p = Object.assign({}, m.params || {});
      delete p._meta;
      text = Object.keys(p).length ? JSON.stringify(p) : "";
    }
    text = String(text);
    return text.length > 300 ? text.slice(0, 300) + "\u2026" : text;
  }
  function listRow(entry) {
    var row = el("div", {"class": "row"});
    rowAttrs(row, entry);
    var kind = kindOf(entry);
    var id = entry.message && entry.message.id !== undefined && kind !== "notification" ?
      " " + JSON.stringify(entry.message.id) : "";
    var l1 = el("div", {"class": "l1"});
    l1.appendChild(el("span", {"class": "seq"}, "#" + entry.seq));
    l1.appendChild(el("span", {"class": "time"}, stamp(entry.time)));
    l1.appendChild(el("span", {"class": "arrow"}, entry.dir === "out" ? "client \u2192" : "\u2190 server"));
    l1.appendChild(el("span", {"class": "meth"}, entry.method || ""));
    l1.appendChild(el("span", {"class": "kindtag" + (kind === "error" ? " error" : "")}, kind + id));
    l1.appendChild(el("span", {"class": "sum", "data-testid": "summary"}, summary(entry)));
    if (entry.http && entry.http.status) {
      l1.appendChild(el("span", {"class": "httpst"}, "HTTP " + entry.http.status + (entry.http.sse ? " SSE" : "")));
    }
    if (entry.latencyMs !== null && entry.latencyMs !== undefined) {
      l1.appendChild(el("span", {"data-testid": "latency"}, formatMs(entry.latencyMs)));
    }
    row.appendChild(l1);
    row.appendChild(el("div", {"class": "l2"}, entry.note || ""));
    return row;
  }
  function sequenceRow(entry) {
    var row = el("div", {"class": "seqrow"});
    rowAttrs(row, entry);
    row.appendChild(el("div", {"class": "life c"}));
    row.appendChild(el("div", {"class": "life s"}));
    row.appendChild(el("div", {"class": "msgline"}));
    var lbl = el("div", {"class": "lbl"});
    lbl.appendChild(document.createTextNode((entry.method || kindOf(entry)) + " "));
    var hasId = entry.message && entry.message.id !== undefined;
    var small = kindOf(entry) + (hasId ? " #" + JSON.stringify(entry.message.id) : "");
    if (entry.latencyMs !== null && entry.latencyMs !== undefined) {
      lbl.appendChild(el("small", null, small + " \u00b7 "));
      lbl.appendChild(el("small", {"data-testid": "latency"}, formatMs(entry.latencyMs)));
    } else { lbl.appendChild(el("small", null, small)); }
    row.appendChild(lbl);
    return row;
  }
  function formatMs(ms) {
    if (ms < 10) { return ms.toFixed(2) + " ms"; }
    return ms < 1000 ? ms.toFixed(1) + " ms" : (ms / 1000).toFixed(2) + " s";
  }
  function select(seq, userClick) {
    selectedSeq = seq;
    if (userClick) { $("follow").checked = false; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=msg].selected"),
        function (n) { n.classList.remove("selected"); });
    Array.prototype.forEach.call(document.querySelectorAll('[data-testid=msg][data-seq="' + seq + '"]'),
        function (n) { n.classList.add("selected"); });
    var entry = bySeq[seq];
    var box = $("inspect");
    box.textContent = "";
    if (!entry) { return; }
    var head = el("div", {"class": "head"});
    var way = entry.dir === "out" ? "client \u2192 server" : "server \u2192 client";
    head.appendChild(el("b", null, way + "  #" + entry.seq));
    head.appendChild(el("span", null, entry.method || ""));
    head.appendChild(el("span", {"class": "time"}, stamp(entry.time)));
    if (entry.pairedSeq) {
      var after = entry.latencyMs !== null ? " after " + formatMs(entry.latencyMs) : "";
      var link = el("a", null, "answers #" + entry.pairedSeq + after);
      link.addEventListener("click", function () { select(entry.pairedSeq, true); });
      head.appendChild(link);
    }
    var answeredBy = null;
    for (var i = 0; i < entries.length; i++) { if (entries[i].pairedSeq === entry.seq) { answeredBy = entries[i]; break;
        } }
    if (answeredBy) {
      var back = el("a", null, "answered by #" + answeredBy.seq);
      back.addEventListener("click", function () { select(answeredBy.seq, true); });
      head.appendChild(back);
    }
    head.appendChild(el("span", {"class": "grow"}));
    var copy = el("button", {type: "button", "class": "copy", "data-testid": "copy"}, "copy");
    copy.addEventListener("click", function () { copyText(entry.message !== null ? JSON.stringify(entry.message, null,
        2) : String(entry.text || ""), copy); });
    head.appendChild(copy);
    box.appendChild(head);
    if (entry.note) { box.appendChild(el("div", {"class": "note", "data-testid": "note"}, entry.note)); }
    if (entry.http) {
      var h = entry.http;
      var lines = [];
      if (h.request) { lines.push(h.request + (h.status ? "   \u2192 HTTP " + h.status : "")); }
      else if (h.status) { lines.push("HTTP " + h.status); }
      Object.keys(h.headers || {}).forEach(function (k) { lines.push(k + ": " + h.headers[k]); });
      if (h.sse) { lines.push("SSE  " + h.sse); }
      var httpBox = el("div", {"class": "httpbox", "data-testid": "http"}, lines.join("\n"));
      box.appendChild(httpBox);
      if (h.note) { box.appendChild(el("div", {"class": "note"}, h.note)); }
      if (h.answer) { box.appendChild(el("div", {"class": "note"}, "The answer: " + h.answer)); }
    }
    if (entry.message !== null && entry.message !== undefined) { box.appendChild(jsonBlock(entry.message)); }
    else { box.appendChild(el("pre", {"class": "json"}, entry.text || "")); }
  }

  // --- step mode ---
  function stepOnce(by) {
    // At the end (or outside step mode) a step starts over from the first message.
    if (stepLimit === null || (stepLimit >= entries.length && !playing)) { stepLimit = 0; }
    stepLimit = Math.min(stepLimit + (by || 1), entries.length);
    recompute();
    if (stepLimit >= entries.length) { stopPlay(); }
  }
  function stopPlay() {
    if (playing) { clearInterval(playing); playing = null; }
    $("play").textContent = "\u25b6 Play";
  }
  function togglePlay() {
    if (playing) { stopPlay(); return; }
    if (stepLimit === null || stepLimit >= entries.length) { stepLimit = 0; }
    // One message at a time for a handshake; a long recording in some 100 steps.
    var by = Math.max(1, Math.ceil(entries.length / 100));
    $("play").textContent = "\u275a\u275a Pause";
    playing = setInterval(function () { stepOnce(by); }, 700);
    stepOnce(by);
  }

  // --- logs ---
  function addLog(params) {
    var box = $("logs");
    var empty = box.querySelector(".empty");
    if (empty) { empty.remove(); }
    var line = el("div", {"class": "log", "data-level": params.level || ""});
    line.appendChild(el("span", {"class": "lvl lvl-" + (params.level || "info")}, params.level || ""));
    var data = params.data;
    line.appendChild(document.createTextNode((params.logger ? "[" + params.logger + "] " : "") +
      (typeof data === "string" ? data : JSON.stringify(data))));
    box.appendChild(line);
    while (box.children.length > 500) { box.firstChild.remove(); }
    // Scrolled once a frame: reading scrollHeight per line forces a layout per line.
    if (!logsQueued) {
      logsQueued = true;
      requestAnimationFrame(function () { logsQueued = false; box.scrollTop = box.scrollHeight; });
    }
  }
  var logsQueued = false;

  // --- the server's questions ---
  var shownAsk = null;
  function showAsk() {
    var wrap = $("ask-wrap");
    var ask = asks[0];
    if (!ask) { wrap.classList.remove("open"); shownAsk = null; $("ask").textContent = ""; return; }
    if (shownAsk === ask.askId) { return; }
    shownAsk = ask.askId;
    var box = $("ask");
    box.textContent = "";
    box.setAttribute("data-method", ask.method);
    box.setAttribute("data-ask-id", ask.askId);
    var params = ask.params || {};
    var more = asks.length > 1 ? "  (" + (asks.length - 1) + " more waiting)" : "";
    box.appendChild(el("div", {"class": "who"}, "the server asks: " + ask.method + more));
    var actions = el("div", {"class": "actions"});
    var answer = function (result) {
      api("POST", "/api/answer", {askId: ask.askId, result: result}).catch(function () {});
      wrap.classList.remove("open");
    };
    var button = function (testid, text, primary, fn) {
      var b = el("button", {type: "button", "data-testid": testid, "class": primary ? "primary" : null}, text);
      b.addEventListener("click", fn);
      actions.appendChild(b);
      return b;
    };
    if (ask.method === "elicitation/create") {
      box.appendChild(el("h3", null, params.mode === "url" ? "The server asks you to visit a page" :
          "The server has a question"));
      box.appendChild(el("div", {"class": "msg"}, params.message || ""));
      var form = el("form", {"data-testid": "ask-form"});
      if (params.mode === "url") {
        box.appendChild(el("p", null, "Open it only if you trust it; then say Done:"));
        var link = el("a", {"data-testid": "ask-url", target: "_blank", rel: "noopener noreferrer",
          "class": "json"}, params.url || "");
        // (http and https only: a javascript: URL from a server must not become a link)
        if (/^https?:\/\//i.test(params.url || "")) { link.href = params.url; }
        box.appendChild(link);
      } else {
        var schema = params.requestedSchema || {};
        var need = schema.required || [];
        Object.keys(schema.properties || {}).forEach(function (key) {
          buildField(form, key, (schema.properties[key] && schema.properties[key].title) || key, schema.properties[key],
              need.indexOf(key) >= 0, undefined);
        });
        box.appendChild(form);
      }
      button("ask-accept", params.mode === "url" ? "Done" : "Accept", true, function () {
        answer(params.mode === "url" ? {action: "accept"} : {action: "accept", content: readForm(form)});
      });
      button("ask-decline", "Decline", false, function () { answer({action: "decline"}); });
      button("ask-cancel", "Cancel", false, function () { answer({action: "cancel"}); });
      form.addEventListener("submit", function (event) { event.preventDefault(); });
    } else if (ask.method === "sampling/createMessage") {
      box.appendChild(el("h3", null, "The server asks for a completion: you are the model"));
      if (params.systemPrompt) { box.appendChild(el("div", {"class": "msg"}, "system: " + params.systemPrompt)); }
      (params.messages || []).forEach(function (m) {
        var c = m.content || {};
        var blocks = Array.isArray(c) ? c : [c];
        var text = blocks.map(function (x) { return x.text || "[" + x.type + "]"; }).join("\n");
        box.appendChild(el("div", {"class": "msg"}, m.role + ": " + text));
      });
      box.appendChild(el("div", {"class": "hint"}, "maxTokens " + params.maxTokens));
      var area = el("textarea", {"data-testid": "sampling-text", rows: "4", placeholder: "the answer"});
      box.appendChild(area);
      button("ask-accept", "Send", true, function () {
        answer({role: "assistant", content: {type: "text", text: area.value}, model: "human (mcplite inspector)",
            stopReason: "endTurn"});
      });
      button("ask-decline", "Decline", false, function () { answer({action: "decline"}); });
    } else if (ask.method === "roots/list") {
      box.appendChild(el("h3", null, "The server asks for your roots"));
      box.appendChild(el("p", null, "The directories or files it may work with, one URI a line (file:///...)."));
      var roots = el("textarea", {"data-testid": "roots", rows: "4"});
      roots.value = (state.roots || []).map(function (r) { return r.uri; }).join("\n");
      box.appendChild(roots);
      button("roots-save", "Send roots", true, function () {
        answer({roots: roots.value.split("\n").map(function (s) { return s.trim();
            }).filter(Boolean).map(function (uri) { return {uri: uri}; })});
      });
      button("ask-cancel", "Send none", false, function () { answer({roots: []}); });
    } else {
      box.appendChild(el("div", {"class": "msg"}, JSON.stringify(params)));
      button("ask-cancel", "Dismiss", false, function () { answer(null); });
    }
    box.appendChild(actions);
    wrap.classList.add("open");
    var first = box.querySelector("input, textarea, select");
    if (first) { first.focus(); }
  }

  // --- wiring ---
  $("connect").addEventListener("click", connect);
  $("target").addEventListener("keydown", function (event) { if (event.key === "Enter") { connect(); } });
  $("disconnect").addEventListener("click", function () { api("POST", "/api/disconnect", {}).catch(function () {}); });
  $("headers-toggle").addEventListener("click", function () { $("headers-box").classList.toggle("open"); });
  ["tools", "resources", "prompts"].forEach(function (t) { $("tab-" + t).addEventListener("click",
      function () { setTab(t); }); });
  $("refresh").addEventListener("click", refreshLists);
  $("filter").addEventListener("input", scheduleRender);
  $("timeline").addEventListener("scroll", function () { if (shown.length > ALL_ROWS_BELOW) { paint(); } });
  $("sequence").addEventListener("scroll", function () { if (shown.length > ALL_ROWS_BELOW) { paint(); } });
  $("view-list").addEventListener("click", function () { setView("list"); });
  $("view-sequence").addEventListener("click", function () { setView("sequence"); });
  function setView(name) {
    view = name;
    $("view-list").classList.toggle("active", name === "list");
    $("view-sequence").classList.toggle("active", name === "sequence");
    $("timeline").style.display = name === "list" ? "" : "none";
    $("sequence").style.display = name === "sequence" ? "" : "none";
    $("timeline-spacer").textContent = "";
    $("sequence-spacer").textContent = "";
    recompute();
  }
  $("play").addEventListener("click", togglePlay);
  $("step").addEventListener("click", function () { stopPlay(); stepOnce(); });
  $("step-live").addEventListener("click", function () { stopPlay(); stepLimit = null; recompute(); });
  $("log-level").addEventListener("change", function () {
    if (state.status === "connected") { rpc("logging/setLevel", {level: $("log-level").value}); }
  });
  $("roots-update").addEventListener("click", function () {
    var roots = $("roots-list").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    api("POST", "/api/roots", {roots: roots}).catch(function () {});
  });
  $("export").href = "/api/export?token=" + encodeURIComponent(TOKEN);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && asks[0]) {
      var cancel = $("ask").querySelector("[data-testid=ask-cancel]");
      if (cancel) { cancel.click(); }
    }
  });
  window.mcpliteInspector = {entries: function () { return entries; }, state: function () { return state; }};
  listen();
})();
</script>
</body>
</html>
"""
