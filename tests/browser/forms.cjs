// The generated form beyond plain fields, and the ways a result renders, against
// tests/browser/forms_app.py over HTTP: connected from the connect bar with a protocol version
// (params.version) and a header (params.header, "Name: value") typed in; `order`'s form has an
// enum (a select), a list (+ add, remove, renumbered), a nested object two levels deep and a
// union the form leaves as a JSON field; its result is the arguments the tool received, as a
// text block and the structuredContent tree. Raw JSON then sends what the form cannot (a size
// outside the enum): an isError result. `pixel`'s image renders (decoded: the page's CSP allows
// data: images).
"use strict";
const { tid, statusText, connect, openTool, resultText } = require("./common.cjs");

// JSON with the keys of every object sorted: equal values, whatever order the form put them in.
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === "object" && !Array.isArray(x)
  ? Object.keys(x).sort().reduce((o, key) => { o[key] = x[key]; return o; }, {}) : x));
const field = (path) => `${tid("tool-form")} [data-field="${path}"]`;
const group = (path) => `${tid("tool-form")} [data-group="${path}"]`;

module.exports = async function (t) {
  const { page, params } = t;
  await page.goto(t.url);
  await page.fill(tid("protocol-version"), params.version);
  await page.click(tid("headers-toggle"));
  await page.fill(tid("headers"), params.header);
  if (!(await connect(t, params.target, "session"))) return;
  const status = await statusText(page);
  t.check("the session speaks the version asked for (" + params.version + ")", status.includes(params.version), status);

  await openTool(t, "order");
  const kinds = await page.$$eval(`${tid("tool-form")} [data-field], ${tid("tool-form")} [data-group]`, (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute("data-field") || e.getAttribute("data-group"),
      { tag: e.tagName.toLowerCase(), kind: e.getAttribute("data-kind"),
        options: e.tagName === "SELECT" ? Array.from(e.options).map((o) => o.textContent) : undefined }])));
  t.check("the enum is a select of its values", kinds.size && kinds.size.tag === "select" &&
          JSON.stringify(kinds.size.options) === JSON.stringify(["small", "medium", "large"]), kinds.size);
  t.check("the list and the nested objects are groups of their own",
          kinds.toppings && kinds.toppings.kind === "array" && kinds.address && kinds.address.kind === "object" &&
          kinds["address.geo"] && kinds["address.geo"].kind === "object" &&
          kinds["address.city"] && kinds["address.geo.lat"] && kinds["address.geo.lat"].kind === "number", kinds);
  t.check("the union is a JSON field with its default", kinds.extra && kinds.extra.kind === "json" &&
          (await page.inputValue(field("extra"))) === "0", kinds.extra);

  await page.selectOption(field("size"), { label: "large" });
  // Three toppings, the middle one removed: the last is renumbered to toppings.1.
  const add = `${group("toppings")} [data-testid="add-item"]`;
  for (let i = 0; i < 3; i++) {
    await page.click(add);
    await page.waitForSelector(field("toppings." + i));
  }
  await page.fill(field("toppings.0"), "cheese");
  await page.fill(field("toppings.1"), "anchovies");
  await page.fill(field("toppings.2"), "olives");
  await page.click(`${group("toppings")} .array-item:nth-child(2) button[title="remove"]`);
  const left = await page.$$eval(`${group("toppings")} [data-field]`, (els) =>
    els.map((e) => [e.getAttribute("data-field"), e.value]));
  t.check("removing an item renumbers the ones after it", JSON.stringify(left) ===
          JSON.stringify([["toppings.0", "cheese"], ["toppings.1", "olives"]]), left);
  // ...and so do their labels (the first text of each item's label).
  const labels = await page.$$eval(`${group("toppings")} .array-item label`, (els) =>
    els.map((e) => e.firstChild.nodeValue));
  t.check("removing an item renumbers the labels after it", JSON.stringify(labels) ===
          JSON.stringify(["#0", "#1"]), labels);
  await page.fill(field("address.city"), "Lyon");
  await page.fill(field("address.geo.lat"), "45.76");
  await page.fill(field("address.geo.lon"), "4.84");
  await page.fill(field("extra"), "[1, 2]");
  await t.shot("form");

  // The optional gift is left alone: not sent, though its checkbox reads false (a gift of
  // {wrapped: false} would lack its required "to").
  t.check("the optional object is a group with a checkbox", kinds.gift && kinds.gift.kind === "object" &&
          kinds["gift.wrapped"] && kinds["gift.wrapped"].kind === "boolean", kinds.gift);
  const expected = { size: "large", toppings: ["cheese", "olives"],
    address: { city: "Lyon", geo: { lat: 45.76, lon: 4.84 } }, extra: [1, 2], gift: null };
  await page.click(tid("call"));
  await resultText(t, "Lyon");
  const echoed = await page.$eval(`${tid("result")} .block[data-type="text"] pre`, (el) => el.textContent).catch(() => null);
  let received = null;
  try { received = JSON.parse(echoed); } catch (e) { /* checked below */ }
  t.check("the tool received the form's values, typed (enum, list, nested numbers, the JSON field)",
          !!received && canon(received.order) === canon(expected), echoed);
  t.check("the header typed in the connect bar reached the server", !!received && received.team === params.headerValue,
          received && received.team);
  t.check("the result is not marked as an error", (await page.getAttribute(tid("result"), "data-is-error")) !== "true", null);

  // structuredContent as a tree: open at its root, nested objects folded until clicked.
  const root = `${tid("result")} .tree > details`;
  const summary = await page.textContent(`${root} > summary`).catch(() => null);
  t.check("structuredContent shows as a tree", summary === "structuredContent {2}", summary);
  const teamLeaf = await page.$$eval(`${root} > .leaf`, (els) => els.map((e) => e.textContent));
  t.check("the tree's top-level leaf shows its value", teamLeaf.includes('team: "' + params.headerValue + '"'), teamLeaf);
  const orderNode = `${root} > .tree > details`;
  t.check("a nested object starts folded", (await page.$eval(orderNode, (el) => el.open)) === false, null);
  await page.click(`${orderNode} > summary`);
  await page.click(`${orderNode} > .tree > details:has(> summary:text-is("address {2}")) > summary`);
  const city = await page.$$eval(`${orderNode} .leaf`, (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.textContent));
  t.check("opened, the nested objects show their leaves", city.includes('city: "Lyon"') && city.includes('size: "large"'), city);
  await t.shot("structured");

  // Raw JSON: the form's arguments as JSON, edited to what the form cannot send.
  await page.click(tid("raw-toggle"));
  await page.waitForSelector(tid("raw-json"), { state: "visible" });
  let raw = null;
  try { raw = JSON.parse(await page.inputValue(tid("raw-json"))); } catch (e) { /* checked below */ }
  const sent = Object.assign({}, expected);
  delete sent.gift;
  t.check("Raw JSON starts from the form's values (the untouched optional object left out)",
          canon(raw) === canon(sent), raw);
  t.check("the form's fields are hidden meanwhile", !(await page.isVisible(field("address.city"))), null);
  await page.fill(tid("raw-json"), JSON.stringify(Object.assign({}, sent, { size: "huge" })));
  await page.click(tid("call"));
  const refused = await t.until(async () => (await page.getAttribute(tid("result"), "data-is-error")) === "true", 15000);
  const errorText = (await page.textContent(tid("result"))) || "";
  t.check("an isError result is marked as one", refused && /isError/.test(errorText), errorText);
  t.check("the error says which argument", /size/.test(errorText) && /huge/.test(errorText), errorText);
  await t.shot("is-error");

  // Back to the form: filled in, the optional object is sent, its checkbox with it.
  await page.click(tid("raw-toggle"));
  await page.waitForSelector(field("gift.to"), { state: "visible" });
  await page.fill(field("gift.to"), "Ada");
  await page.check(field("gift.wrapped"));
  await page.click(tid("call"));
  await resultText(t, "Ada");
  const gifted = await page.$eval(`${tid("result")} .block[data-type="text"] pre`, (el) => el.textContent).catch(() => null);
  let gift = null;
  try { gift = JSON.parse(gifted).order.gift; } catch (e) { /* checked below */ }
  t.check("a filled-in optional object is sent whole", canon(gift) === canon({ to: "Ada", wrapped: true }), gifted);

  // An image block: an <img> the browser decoded (its natural size is the PNG's).
  await openTool(t, "pixel");
  await page.click(tid("call"));
  await page.waitForSelector(`${tid("result")} .block[data-type="image"] img`);
  const size = await t.until(async () => page.$eval(`${tid("result")} .block[data-type="image"] img`,
    (img) => img.complete && img.naturalWidth > 0 && [img.naturalWidth, img.naturalHeight]), 10000);
  t.check("the image renders at its own size", JSON.stringify(size) === "[6,4]", size);
  t.check("the image result is not an error", (await page.getAttribute(tid("result"), "data-is-error")) !== "true", null);
  await t.shot("image");
};
