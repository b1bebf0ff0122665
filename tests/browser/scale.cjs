// A recording of params.count messages opened with --replay: how long until the timeline
// renders, how much memory the page holds, and whether it stays usable (it answers, the last
// message can be reached, the filter works). The numbers are printed; only a generous bound
// is checked here (performance targets live in benchmarks).
"use strict";
const { tid, rows } = require("./common.cjs");

module.exports = async function (t) {
  const { page, params } = t;
  const n = params.count;
  const bound = params.boundMs || 60000;
  const cdp = await t.context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const t0 = Date.now();
  await page.goto(t.url);
  const rendered = await t.until(async () => {
    const text = (await page.textContent(tid("step-position")).catch(() => "")) || "";
    if (!new RegExp("/\\s*" + n + "\\b").test(text)) return false;
    return (await page.$$(`${tid("timeline")} [data-testid="msg"]`)).length > 0;
  }, bound);
  const renderMs = Date.now() - t0;
  t.value("time to render (ms, goto to the rows on screen)", renderMs);
  t.check("the timeline renders the " + n + " messages within " + bound / 1000 + " s", !!rendered,
          { renderMs, position: await page.textContent(tid("step-position")).catch(() => null) });
  if (!rendered) return;
  const inDom = (await page.$$('[data-testid="msg"]')).length;
  t.value("rows in the DOM", inDom);

  // Usable: the page answers a script at once.
  let s = Date.now();
  await page.evaluate(() => 1);
  t.value("evaluate round trip (ms)", Date.now() - s);

  // The last message can be reached: scroll the timeline to the bottom (or the last page).
  s = Date.now();
  const maxSeq = params.lastSeq;
  const reached = await t.until(async () => {
    const last = await page.$('[data-testid="page-last"]');
    if (last && await last.isVisible()) await last.click().catch(() => {});
    await page.$eval(tid("timeline"), (el) => {
      el.scrollTop = el.scrollHeight;
      const inner = el.querySelector("[data-scroll]") || el.firstElementChild;
      if (inner && inner.scrollHeight > inner.clientHeight) inner.scrollTop = inner.scrollHeight;
      window.scrollTo(0, document.body.scrollHeight);
    });
    const seqs = (await rows(page)).filter((r) => r.visible).map((r) => r.seq);
    return seqs.length && Math.max(...seqs) >= maxSeq && seqs;
  }, 15000);
  t.value("to the last message (ms)", Date.now() - s);
  t.check("the last message can be reached", !!reached, { wanted: maxSeq, seen: (await rows(page)).slice(-3).map((r) => r.seq) });
  await t.shot("scale-end");

  // The filter over every message.
  s = Date.now();
  await page.fill(tid("filter"), "notifications/progress");
  const filtered = await t.until(async () => {
    const out = (await rows(page)).filter((r) => r.visible && r.dir === "out");
    const visible = (await rows(page)).filter((r) => r.visible);
    return visible.length > 0 && out.length === 0 && visible.every((r) => (r.method || "").includes("notifications/progress")) && visible.length;
  }, 15000);
  t.value("filter (ms)", Date.now() - s);
  t.check("the filter works over the whole session", !!filtered, (await rows(page)).filter((r) => r.visible).slice(0, 4));
  await page.fill(tid("filter"), "");

  // Memory: the JS heap (CDP) and the DOM's size.
  const metrics = {};
  for (const m of (await cdp.send("Performance.getMetrics")).metrics) metrics[m.name] = m.value;
  const heapMb = metrics.JSHeapUsedSize / 1048576;
  t.value("JS heap used (MB, CDP Performance.getMetrics)", Math.round(heapMb * 10) / 10);
  t.value("DOM nodes", metrics.Nodes);
  t.value("elements in the document, and under the elements with an id holding the most", await page.evaluate(() => {
    const counts = Array.from(document.querySelectorAll("[id]")).map((el) => [el.id, el.getElementsByTagName("*").length]);
    counts.sort((a, b) => b[1] - a[1]);
    return { all: document.getElementsByTagName("*").length, top: counts.slice(0, 4) };
  }));
  t.value("performance.memory.usedJSHeapSize (MB)", await page.evaluate(() => performance.memory ? Math.round(performance.memory.usedJSHeapSize / 104857.6) / 10 : null));
  t.check("the JS heap stays under 1 GB", heapMb < 1024, heapMb);
  s = Date.now();
  await page.evaluate(() => 1);
  t.check("the page still answers within 5 s", Date.now() - s < 5000, Date.now() - s);
};
