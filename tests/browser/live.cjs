// The inspector connected to a live server (stdio or HTTP: params.target, params.era, and
// params.given when the inspector had the target on its command line): list
// the tools, call one through its generated form and see the request and its response (with a
// latency) in the timeline; with params.full also answer an elicitation in the page, cancel a
// long call, filter the timeline and switch to the sequence diagram.
"use strict";
const { tid, rows, statusText, connect, openTool, resultText } = require("./common.cjs");

module.exports = async function (t) {
  const { page, params } = t;
  await page.goto(t.url);
  if (params.badTarget) {
    // A target that cannot start: the status says why, and the page stays usable.
    await page.fill(tid("target"), params.badTarget);
    await page.click(tid("connect"));
    const failed = await t.until(async () => /^error: /.test(await statusText(page)), 20000);
    t.check("a target that cannot start is an error in the status", failed, await statusText(page));
  }
  if (!(await connect(t, params.target, params.era, params.given))) return;
  if (params.version) {
    const status = await page.textContent(tid("status"));
    t.check("the session speaks " + params.version, status.includes(params.version), status);
  }

  // The lists: every tool of tests/browser/inspect_app.py.
  await page.click(tid("tab-tools"));
  const names = await t.until(async () => {
    const found = await page.$$eval('[data-testid="tool-item"]', (els) => els.map((e) => e.getAttribute("data-name")));
    return ["add", "describe", "ask_name", "slow"].every((n) => found.includes(n)) && found;
  });
  t.check("the tools are listed", !!names, names);

  // A call through the generated form: two integer fields.
  await openTool(t, "add");
  const fields = await page.$$eval(`${tid("tool-form")} [data-field]`, (els) => els.map((e) => e.getAttribute("data-field")));
  t.check("the form has a field per argument", fields.includes("a") && fields.includes("b"), fields);
  const before = await rows(page);
  const started = Date.now();
  await page.fill(`${tid("tool-form")} [data-field="a"]`, "2");
  await page.fill(`${tid("tool-form")} [data-field="b"]`, "40");
  await page.click(tid("call"));
  const result = await resultText(t, "42");
  t.value("add: seconds from the click to the result", (Date.now() - started) / 1000);
  t.check("the result shows 42", result.includes("42"), result);
  t.check("the result is not marked as an error",
          (await page.getAttribute(tid("result"), "data-is-error")) !== "true", null);

  // The timeline: the request out, its response in, with a latency.
  const seen = await t.until(async () => {
    const now = (await rows(page)).filter((r) => !before.some((b) => b.seq === r.seq));
    const request = now.find((r) => r.dir === "out" && r.method === "tools/call");
    const response = request && now.find((r) => r.dir === "in" && r.seq > request.seq && r.latency && /\d/.test(r.latency));
    return request && response && { request, response };
  });
  t.check("the timeline has the tools/call request and its response with a latency", !!seen,
          (await rows(page)).slice(-6));
  if (seen) {
    const ms = parseFloat(seen.response.latency.replace(/[^0-9.]/g, ""));
    t.value("add: latency shown in the timeline", seen.response.latency);
    t.check("the latency is a number", Number.isFinite(ms) && ms >= 0, seen.response.latency);
    if (params.http) {
      t.check("the response row shows its HTTP status", /HTTP 200/.test(seen.response.text), seen.response.text);
    }
    const summary = await page.textContent(`[data-testid="msg"][data-seq="${seen.response.seq}"] [data-testid="summary"]`).catch(() => null);
    t.check("the response row's summary shows the result", /\b42\b/.test(summary || ""), summary);
    // Selected, the response shows whole (the JSON with 42) and points at its request.
    await page.click(`[data-testid="msg"][data-seq="${seen.response.seq}"]`);
    const detail = await t.until(async () => {
      const text = (await page.textContent(tid("inspect"))) || "";
      return /\b42\b/.test(text) && text.includes("#" + seen.request.seq) && text;
    }, 5000);
    t.check("the selected response shows the result and its request", !!detail,
            ((await page.textContent(tid("inspect"))) || "").slice(0, 600));
  }
  await t.shot("call");
  if (params.docs) {
    await page.$eval(tid("result"), (el) => el.scrollIntoView({ block: "end" }));
    await t.shot("docs-call");
  }

  if (!params.full) return;

  // A form of several kinds: a string, an integer with its default filled in, a checkbox.
  await openTool(t, "describe");
  const kinds = await page.$$eval(`${tid("tool-form")} [data-field]`, (els) => Object.fromEntries(els.map((e) => [
    e.getAttribute("data-field"), { tag: e.tagName.toLowerCase(), type: e.getAttribute("type"), value: e.value }])));
  t.check("the form has a text field, a number with its default and a checkbox",
          kinds.name && kinds.name.type === "text" && kinds.count && kinds.count.type === "number" &&
          kinds.count.value === "3" && kinds.loud && kinds.loud.type === "checkbox", kinds);
  await page.fill(`${tid("tool-form")} [data-field="name"]`, "box");
  await page.check(`${tid("tool-form")} [data-field="loud"]`);
  await page.click(tid("call"));
  const described = await resultText(t, "BOX X3");
  t.check("the form's values reached the tool (the default and the checkbox included)", described.includes("BOX X3"), described);

  // The server asks (elicitation): a form in the page, answered there.
  await openTool(t, "ask_name");
  await page.click(tid("call"));
  await page.waitForSelector(tid("ask"), { state: "visible" });
  const askFields = await page.$$eval(`${tid("ask")} [data-field]`, (els) => els.map((e) => e.getAttribute("data-field")));
  t.check("the question's form has the requested field", askFields.includes("name"), askFields);
  await t.shot("ask");
  await page.fill(`${tid("ask")} [data-field="name"]`, "Ada");
  await page.click(tid("ask-accept"));
  const hello = await resultText(t, "Hello, Ada!");
  t.check("the answer reached the server", hello.includes("Hello, Ada!"), hello);
  const asked = (await rows(page)).filter((r) => r.method === "elicitation/create" || /elicitation|inputRequests/.test(r.text));
  t.check("the question is in the timeline", asked.length > 0, (await rows(page)).slice(-8));

  // A long call, cancelled: progress shows, Cancel is enabled while it runs, and the call ends
  // long before its 30 s.
  await openTool(t, "slow");
  const seconds = await page.$(`${tid("tool-form")} [data-field="seconds"]`);
  if (seconds) await seconds.fill("30");
  await page.click(tid("call"));
  const enabled = await t.until(async () => page.isEnabled(tid("cancel")), 10000);
  t.check("Cancel is enabled while the call runs", enabled, null);
  const progressed = await t.until(async () => {
    const v = await page.$eval(tid("progress"), (el) => Number(el.value || 0));
    return v > 0 && v;
  }, 10000);
  t.check("the progress bar moves", !!progressed, progressed);
  await t.shot("progress");
  const cancelAt = Date.now();
  await page.click(tid("cancel"));
  const disabled = await t.until(async () => !(await page.isEnabled(tid("cancel"))), 10000);
  t.value("slow: seconds from Cancel to the end of the call", (Date.now() - cancelAt) / 1000);
  t.check("the call ended after Cancel", disabled && Date.now() - cancelAt < 10000, null);
  const cancelled = await t.until(async () => (await rows(page)).find((r) => r.dir === "out" && r.method === "notifications/cancelled"), 5000);
  t.check("notifications/cancelled went out", !!cancelled, (await rows(page)).slice(-6));

  // The filter keeps the rows whose method holds the text.
  await page.fill(tid("filter"), "tools/list");
  const filtered = await t.until(async () => {
    const visible = (await rows(page)).filter((r) => r.visible);
    const out = visible.filter((r) => r.dir === "out");
    return out.length > 0 && out.every((r) => (r.method || "").includes("tools/list")) && visible;
  }, 5000);
  t.check("the filter leaves only the tools/list requests", !!filtered, (await rows(page)).filter((r) => r.visible).slice(0, 6));
  await page.fill(tid("filter"), "");

  // The sequence diagram.
  await page.click(tid("view-sequence"));
  const shown = await t.until(async () => page.isVisible(tid("sequence")), 5000);
  t.check("the sequence diagram shows", shown, null);
  await t.shot("sequence");
  await page.click(tid("view-list"));
  await t.shot("timeline");

  // Export: the timeline as JSON lines in record's format, every message of the page.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(tid("export"))]);
  const fs = require("fs");
  const text = fs.readFileSync(await download.path(), "utf8");
  const lines = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const messages = lines.filter((l) => l.dir === "->" || l.dir === "<-");
  const total = (await rows(page)).length;
  const count = Number(((await page.textContent(tid("step-position"))) || "").split("/")[1]);
  t.check("the export holds every message of the timeline, in record's format",
          messages.length === count && total <= count && messages.every((l) => typeof l.t === "number" && l.message),
          { exported: messages.length, timeline: count, first: lines[0] });
  if (params.docs) {
    // For the README: the whole session in the list, the elicitation's request selected.
    const all = await rows(page);
    const ask = all.find((r) => r.method === "elicitation/create")
      || all.find((r) => r.dir === "in" && /inputRequests/.test(r.text));
    if (ask) {
      await page.click(`[data-testid="msg"][data-seq="${ask.seq}"]`);
      await page.$eval(`[data-testid="msg"][data-seq="${ask.seq}"]`, (el) => el.scrollIntoView({ block: "center" }));
    }
    await t.shot("docs-timeline");
  }
};
