// Runs one browser scenario in headless Chromium through playwright-core, for the pytest side
// (tests/browser_support.py), which reads what this prints.
//
//   node tests/browser/run.cjs SCENARIO.cjs < config.json
//
// config: {"url": the page, "chromium": the executable, "profile": an empty directory for
// --user-data-dir, "shots": where screenshots go, "params": anything the scenario reads,
// "timeoutMs": Playwright's per-action timeout}. playwright-core is found through NODE_PATH
// (its own install under .cache/, never a browser download).
//
// Output, one JSON object a line on stdout: {"check": name, "ok": bool, "detail": ...} for each
// assertion, {"value": name, "data": ...} for each measurement, {"shot": path} for each
// screenshot, {"error": text} if the scenario threw, and {"done": true} last when it finished.
// The pytest side fails the test on any failed check, an error, or a missing "done": a scenario
// that stops half-way can never pass.
"use strict";
const fs = require("fs");
const path = require("path");

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function main() {
  const scenarioPath = path.resolve(process.argv[2]);
  const config = JSON.parse(fs.readFileSync(0, "utf8"));
  const { chromium } = require("playwright-core");
  const scenario = require(scenarioPath);
  fs.mkdirSync(config.shots, { recursive: true });
  // The flags the machine needs: without the background-networking ones Chromium keeps trying
  // Google's hosts, which a closed network refuses many at a time.
  const context = await chromium.launchPersistentContext(config.profile, {
    executablePath: config.chromium,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failures = 0;
  const pageErrors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(config.timeoutMs || 15000);
    page.on("pageerror", (err) => pageErrors.push(String(err && err.stack || err)));
    const t = {
      page,
      context,
      url: config.url,
      params: config.params || {},
      check(name, ok, detail) {
        if (!ok) failures += 1;
        emit({ check: name, ok: !!ok, detail: detail === undefined ? null : detail });
        return !!ok;
      },
      value(name, data) {
        emit({ value: name, data });
      },
      async shot(name, options) {
        const file = path.join(config.shots, name + ".png");
        await page.mouse.move(1, 1);  // (no button left in its :hover look)
        await page.screenshot(Object.assign({ path: file }, options || {}));
        emit({ shot: file });
        return file;
      },
      // Waits for fn() (run in Node, may be async) to be truthy; returns its last value.
      async until(fn, timeoutMs) {
        const deadline = Date.now() + (timeoutMs || config.timeoutMs || 15000);
        let last;
        for (;;) {
          last = await fn();
          if (last || Date.now() > deadline) return last;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    };
    try {
      await scenario(t);
    } catch (err) {
      emit({ error: String(err && err.stack || err) });
      try {
        const file = path.join(config.shots, "failure.png");
        await page.screenshot({ path: file, fullPage: true });
        emit({ shot: file });
        emit({ value: "page text at the failure", data: (await page.innerText("body")).slice(0, 4000) });
      } catch (ignored) {
        // (the page itself may be gone)
      }
      failures += 1;
    }
    // An uncaught error in the page's own script is a failure whatever the scenario checked.
    t.check("no uncaught error in the page", pageErrors.length === 0, pageErrors.slice(0, 5));
  } finally {
    await context.close();
  }
  emit({ done: true, failures });
}

main().catch((err) => {
  emit({ error: String(err && err.stack || err) });
  process.exit(1);
});
