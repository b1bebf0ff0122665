// A recording opened with --replay (params.count messages): the step mode shows it one message
// at a time ("k / n"), Step adds the next row, Play runs to the end.
"use strict";
const { tid, rows } = require("./common.cjs");

function position(text) {
  const m = /(\d+)\s*\/\s*(\d+)/.exec(text || "");
  return m ? { k: Number(m[1]), n: Number(m[2]) } : null;
}

module.exports = async function (t) {
  const { page, params } = t;
  await page.goto(t.url);
  const n = params.count;
  await page.waitForSelector(tid("step-position"));
  const pos = async () => position(await page.textContent(tid("step-position")));
  const ready = await t.until(async () => { const p = await pos(); return p && p.n === n && p; });
  t.check("the position counts the recording's messages", !!ready, await page.textContent(tid("step-position")));
  if (!ready) return;
  // Back to the start if the page opened at the end (the Step button then starts over).
  let start = ready.k;
  const visibleRows = async () => (await rows(page)).filter((r) => r.visible);
  for (let i = 1; i <= 3; i++) {
    await page.click(tid("step"));
    const p = await t.until(async () => { const q = await pos(); return q && q.k !== start && q; }, 5000);
    t.check("Step " + i + " moves one message on", !!p && (p.k === start + 1 || (start === n && p.k === 1)),
            { before: start, after: p });
    if (!p) return;
    start = p.k;
    const shown = await visibleRows();
    t.check("Step " + i + ": the timeline shows the messages up to the position", shown.length === p.k,
            { position: p, rows: shown.map((r) => [r.dir, r.method, r.seq]) });
  }
  if (params.methods) {
    const shown = (await visibleRows()).map((r) => r.dir + " " + (r.method || ""));
    t.check("the first messages are the recording's, in order", JSON.stringify(shown) === JSON.stringify(params.methods.slice(0, shown.length)),
            { shown, recorded: params.methods.slice(0, 3) });
  }
  await t.shot("step");
  await page.click(tid("play"));
  const end = await t.until(async () => { const p = await pos(); return p && p.k === n && p; }, 30000);
  t.check("Play runs to the end", !!end, await page.textContent(tid("step-position")));
  t.check("the timeline then shows every message", (await visibleRows()).length === n, (await visibleRows()).length);
  await t.shot("replayed");
};
