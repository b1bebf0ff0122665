// What the inspector scenarios share: the page's parts by their data-testid (the contract in
// the inspector's docs), connecting, calling a tool through its generated form, reading the
// timeline's rows.
"use strict";

const tid = (name) => `[data-testid="${name}"]`;

// The timeline's rows as plain objects, in document order.
async function rows(page) {
  return page.$$eval('[data-testid="msg"]', (els) => els.map((el) => ({
    dir: el.getAttribute("data-dir"),
    method: el.getAttribute("data-method"),
    seq: Number(el.getAttribute("data-seq")),
    visible: !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length),
    latency: (el.querySelector('[data-testid="latency"]') || {}).textContent || null,
    text: el.textContent.slice(0, 400),
  })));
}

async function statusText(page) {
  return (await page.textContent(tid("status"))) || "";
}

// Connects through the connect panel, or, when the inspector was given the target on its
// command line (`given`), waits for the connection it makes by itself; true once the status
// says "connected". (Clicking Connect while that one is under way would start another.)
async function connect(t, target, era, given) {
  const { page } = t;
  const connected = async () => /(^|\W)connected/i.test(await statusText(page)) && !/error|disconnected/i.test(await statusText(page));
  if (!given) {
    if (target !== undefined) await page.fill(tid("target"), target);
    if (era) await page.selectOption(tid("era"), era);
    await page.click(tid("connect"));
  }
  const ok = await t.until(connected, 30000);
  t.check("the status says connected", ok, await statusText(page));
  return ok;
}

// Opens the tools tab and the form of tool `name`.
async function openTool(t, name) {
  const { page } = t;
  await page.click(tid("tab-tools"));
  await page.click(`[data-testid="tool-item"][data-name="${name}"]`);
  await page.waitForSelector(tid("tool-form"), { state: "visible" });
}

// The rendered result once it holds `expected` (a string, or a RegExp), or its last text.
async function resultText(t, expected, timeoutMs) {
  const { page } = t;
  const test = (s) => (expected instanceof RegExp ? expected.test(s) : s.includes(expected));
  let last = "";
  await t.until(async () => {
    const el = await page.$(tid("result"));
    last = el ? (await el.textContent()) || "" : "";
    return test(last);
  }, timeoutMs || 15000);
  return last;
}

module.exports = { tid, rows, statusText, connect, openTool, resultText };
