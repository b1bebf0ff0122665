// The harness's one retry (tests/browser_support.py, _BROWSER_GONE): the first run throws what
// Playwright throws when Chromium itself went away; the run after it (a marker file, given in
// params.marker, tells them apart) passes. A check that fails is never run again, which
// smoke.cjs's failing run shows.
"use strict";
const fs = require("fs");
module.exports = async function (t) {
  if (!fs.existsSync(t.params.marker)) {
    fs.writeFileSync(t.params.marker, "first run");
    throw new Error("page.goto: Target page, context or browser has been closed");
  }
  await t.page.goto(t.url);
  t.check("the run after the browser went away", true, fs.readFileSync(t.params.marker, "utf8"));
};
