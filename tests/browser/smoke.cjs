// The harness on a trivial page (tests/test_inspector_browser.py serves it): a click changes the
// text, and the checks the pytest side sends in params.expect decide pass or fail, so the test
// can show that a failed check fails.
"use strict";
module.exports = async function (t) {
  await t.page.goto(t.url);
  await t.page.click("[data-testid=go]");
  const text = await t.page.textContent("[data-testid=out]");
  t.check("the click changed the text", text === t.params.expect, { text, expected: t.params.expect });
  t.value("userAgent", await t.page.evaluate(() => navigator.userAgent));
  await t.shot("smoke");
};
