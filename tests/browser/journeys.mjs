// The officer web app in a real browser: Debian's Chromium driven by playwright-core.
//
//   node journeys.mjs http://127.0.0.1:8080             run the journeys (CHROMIUM=path)
//   node journeys.mjs http://127.0.0.1:8080 --screenshots  also write docs/screenshots/*.png
//
// Journeys: search → facet → clause → add to basket → export DOCX with the keyboard only;
// language switching; search without JavaScript; with PUBLISHER_TOKEN set, a publisher signs
// in, drafts a clause, watches the live anonymisation preview, saves, publishes and withdraws. Every page visited is checked with axe-core
// (WCAG 2.1 A/AA rules: no serious or critical violation), and the run fails on any request
// to another host and on any console error (a CSP violation is one).
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const here = dirname(fileURLToPath(import.meta.url));

const base = process.argv[2];
const screenshots = process.argv.includes("--screenshots");
if (!base) {
  console.error("usage: node journeys.mjs <base URL> [--screenshots]");
  process.exit(2);
}
const origin = new URL(base).origin;
const problems = [];
const checked = new Set();
// Form posts the journey expects to be refused (400 with the form shown again): Chromium
// logs each as a console error, which is not a problem then.
let expectedRefusals = 0;

function fail(message) {
  throw new Error(message);
}

function watch(page) {
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) {
      problems.push(`request to another host: ${url}`);
    }
  });
  page.on("console", (message) => {
    if (expectedRefusals > 0 && /status of 400/.test(message.text())) {
      expectedRefusals -= 1;
      return;
    }
    if (message.type() === "error") problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
}

/** Runs axe-core on the page once per path; serious and critical violations fail. */
async function axe(page, label) {
  const key = new URL(page.url()).pathname + "|" + label;
  if (checked.has(key)) return;
  checked.add(key);
  // Evaluated through the DevTools protocol, so the page's CSP (no inline script) stays on.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of violations) {
    console.log(`  axe ${label}: ${v.impact} ${v.id} at ${v.nodes.join(", ")}`);
  }
  if (bad.length) problems.push(`axe on ${label}: ${bad.map((v) => v.id).join(", ")}`);
  console.log(`axe ${label}: ${violations.length} violations, ${bad.length} serious or critical`);
}

/** Presses Tab until the focused element matches `selector` (keyboard-only navigation). */
async function tabTo(page, selector, limit = 120) {
  for (let i = 0; i < limit; i++) {
    const matches = await page.evaluate(
      (s) => document.activeElement && document.activeElement.matches(s),
      selector,
    );
    if (matches) return;
    await page.keyboard.press("Tab");
  }
  fail(`Tab never reached ${selector} on ${page.url()}`);
}

async function shoot(page, name) {
  if (!screenshots) return;
  const folder = join(here, "..", "..", "docs", "screenshots");
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: false });
}

async function keyboardJourney(browser) {
  const context = await browser.newContext({ locale: "sv-SE", acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/`);
  if (!page.url().endsWith("/sv/")) fail(`Accept-Language sv did not lead to /sv/: ${page.url()}`);
  await axe(page, "search (empty)");

  // Search with the keyboard: skip link first, then the search box.
  await page.keyboard.press("Tab");
  const skip = await page.evaluate(() => document.activeElement.getAttribute("href"));
  if (skip !== "#main") fail(`the first Tab stop is not the skip link but ${skip}`);
  await tabTo(page, "#q");
  await page.keyboard.type("återtagande");
  await Promise.all([page.waitForURL(/q=%C3%A5tertagande|q=återtagande/), page.keyboard.press("Enter")]);
  const found = await page.locator("ol.hits > li").count();
  if (found === 0) fail("the Swedish take-back search found nothing");
  await axe(page, "search results");
  await shoot(page, "search");

  // A facet, chosen with the space bar (the script submits on change).
  await tabTo(page, 'input[name="kind"][value="CONTRACT_PERFORMANCE_CLAUSE"]');
  await Promise.all([page.waitForURL(/kind=CONTRACT_PERFORMANCE_CLAUSE/), page.keyboard.press("Space")]);
  const checkedBox = await page.locator('input[name="kind"][value="CONTRACT_PERFORMANCE_CLAUSE"]').isChecked();
  if (!checkedBox) fail("the facet is not checked after reloading");

  // Open the first hit, read its evidence, put it in the basket.
  await tabTo(page, "ol.hits > li h3 a");
  await Promise.all([page.waitForURL(/\/sv\/clauses\//), page.keyboard.press("Enter")]);
  const evidence = await page.locator("#evidence + p").innerText();
  if (!/upphandling/.test(evidence)) fail(`no evidence sentence: ${evidence}`);
  await axe(page, "clause");
  await shoot(page, "clause");
  await tabTo(page, "form.add button");
  await page.keyboard.press("Enter");
  // Back on the same page after the redirect, which now says the clause is in the basket.
  await page.locator(".in-basket").first().waitFor();

  // Two more clauses, added from the hit list.
  for (const query of ["energi", "arbetsvillkor"]) {
    await page.goto(`${base}/sv/?q=${encodeURIComponent(query)}`);
    await tabTo(page, "ol.hits form.add button");
    await page.keyboard.press("Enter");
    await page.locator("ol.hits .in-basket").first().waitFor();
  }

  // The basket: three clauses; weigh nothing; download the Word document.
  await tabTo(page, 'a[href="/sv/basket"]');
  await Promise.all([page.waitForURL(/\/sv\/basket$/), page.keyboard.press("Enter")]);
  const items = await page.locator("ol.basket > li").count();
  if (items !== 3) fail(`the basket holds ${items} clauses, not 3`);
  await axe(page, "basket");
  await shoot(page, "basket");
  await tabTo(page, 'a[href="/sv/basket/tender.docx"]');
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  const path = await download.path();
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 2).toString() !== "PK" || bytes.length < 2000) fail("the download is no DOCX");
  if (!download.suggestedFilename().endsWith(".docx")) fail(`file name ${download.suggestedFilename()}`);
  console.log(`keyboard journey: ${found} hits, 3 clauses in the basket, DOCX of ${bytes.length} bytes`);

  await page.goto(`${base}/sv/basket/print`);
  await axe(page, "printable page");
  await context.close();
}

async function languageJourney(browser) {
  const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/en/?q=energy`);
  for (const [name, code] of [["Suomi", "fi"], ["Dansk", "da"], ["Norsk bokmål", "nb"], ["Svenska", "sv"], ["English", "en"]]) {
    await Promise.all([page.waitForURL(new RegExp(`/${code}/\\?q=energy`)), page.getByRole("link", { name, exact: true }).click()]);
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== code) fail(`after choosing ${name} the page is in ${lang}`);
    await axe(page, `search in ${code}`);
  }
  for (const path of ["/en/templates", "/en/statistics", "/en/sign-in"]) {
    await page.goto(`${base}${path}`);
    await axe(page, path);
    if (path === "/en/templates") {
      await shoot(page, "templates");
      await page.locator("ol.hits h3 a").first().click();
      await page.waitForURL(/\/en\/templates\/.+/);
      await axe(page, "template");
    }
    if (path === "/en/statistics") await shoot(page, "statistics");
  }
  // The not-found page (its 404 is the one console error expected, so it is not watched).
  const missing = await context.newPage();
  const response = await missing.goto(`${base}/en/no-such-page`);
  if (response.status() !== 404) fail(`a missing page answers ${response.status()}`);
  await axe(missing, "not found");
  await context.close();
}

async function graphiqlJourney(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/graphiql`);
  await page.locator(".graphiql-container").waitFor();
  // The schema arrives by introspection: the documentation explorer lists the query type.
  await page.getByRole("button", { name: /Show Documentation Explorer/i }).click();
  await page.getByText("Query", { exact: true }).first().waitFor();
  console.log("GraphiQL loaded offline and introspected the schema");
  await context.close();
}

async function publisherJourney(browser, token) {
  const context = await browser.newContext({ locale: "nb-NO", viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/nb/sign-in`);
  await axe(page, "sign-in");
  await page.locator("#token").fill(token);
  await Promise.all([page.waitForURL(/\/nb\/$/), page.getByRole("button", { name: /Logg inn/ }).click()]);
  await page.getByRole("link", { name: "Min organisasjon" }).click();
  await page.waitForURL(/\/nb\/mine$/);
  await axe(page, "my organisation");
  await page.getByRole("link", { name: "Nytt kriterium" }).first().click();
  await page.waitForURL(/\/nb\/mine\/new$/);
  await axe(page, "new clause");

  // The editor refuses a missing title at the field and keeps the rest.
  await page.locator("#f-text").fill(
    "Leverandøren skal ta tilbake [100 %] av utstyret. Kontaktperson Kari Nordmann, kari.nordmann@kommune.no, svarer på spørsmål.",
  );
  // The live preview marks the address and the name while typing (no save).
  await page.locator("#anon-preview mark.finding", { hasText: "kari.nordmann@kommune.no" }).waitFor();
  await page.locator("#anon-preview mark.finding", { hasText: "Kari Nordmann" }).waitFor();
  await shoot(page, "editor-preview");
  expectedRefusals += 1;
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Opprett utkastet" }).click()]);
  if ((await page.locator("#f-title[aria-invalid=true]").count()) !== 1) fail("a missing title is not marked at the field");
  await axe(page, "new clause (refused)");
  const kept = await page.locator("#f-text").inputValue();
  if (!kept.includes("Kari Nordmann")) fail("the refused form lost the text");
  if (expectedRefusals !== 0) fail("the form without a title was not refused");

  await page.locator("#f-title").fill("Tilbaketaking av IT-utstyr");
  await page.locator("#f-verification").fill("Signert plan for tilbaketaking eller tilsvarende.");
  await page.locator("#f-followUp").fill("Årlig rapport om mottatte enheter.");
  await page.locator("#f-kind").selectOption("CONTRACT_PERFORMANCE_CLAUSE");
  await page.locator("#f-ambitionLevel").selectOption("CORE");
  await page.locator("#f-environmentalImpacts-CIRC_ECON").check();
  // The CPV finder looks the code up by its digits and adds it to the field.
  await page.locator("#f-cpvCodes-find").fill("3021310");
  await page.locator('#f-cpvCodes-found button[data-code="30213100-6"]').click();
  if ((await page.locator("#f-cpvCodes").inputValue()) !== "30213100-6") fail("the CPV finder did not add the code");
  await Promise.all([page.waitForURL(/\/nb\/mine\/[0-9a-f-]+\?notice=created/), page.getByRole("button", { name: "Opprett utkastet" }).click()]);
  await axe(page, "edit clause");

  await Promise.all([page.waitForURL(/notice=published/), page.getByRole("button", { name: /Publiser versjon 1/ }).click()]);
  const published = await page.getByRole("link", { name: "versjon 1" }).first().getAttribute("href");
  await page.goto(`${base}${published}`);
  const text = await page.locator("main").innerText();
  if (text.includes("kari.nordmann") || text.includes("Kari Nordmann")) fail("the published clause shows the contact person");

  await page.goBack();
  await page.locator("#f-reason").fill("Erstattet av et nyere krav.");
  await Promise.all([page.waitForURL(/notice=withdrawn/), page.getByRole("button", { name: "Trekk tilbake kriteriet" }).click()]);
  console.log("publisher journey: drafted, previewed, published and withdrew a clause");
  await context.close();
}

async function noScriptJourney(browser) {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "da-DK" });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/da/`);
  await page.locator("#q").fill("tilbagetagning");
  await Promise.all([page.waitForURL(/q=tilbagetagning/), page.locator("#q").press("Enter")]);
  const hits = await page.locator("ol.hits > li").count();
  if (hits === 0) fail("the search without JavaScript found nothing");
  await page.locator('input[name="language"][value="DA"]').check();
  await Promise.all([page.waitForURL(/language=DA/), page.getByRole("button", { name: "Anvend filtre" }).click()]);
  await page.locator("ol.hits form.add button").first().click();
  await page.locator("ol.hits .in-basket").first().waitFor();
  await page.goto(`${base}/da/basket`);
  const items = await page.locator("ol.basket > li").count();
  if (items !== 1) fail(`without JavaScript the basket holds ${items} clauses`);
  console.log(`no-script journey: ${hits} hits, basket filled`);
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
let code = 0;
try {
  await keyboardJourney(browser);
  await languageJourney(browser);
  await noScriptJourney(browser);
  await graphiqlJourney(browser);
  if (process.env.PUBLISHER_TOKEN) {
    await publisherJourney(browser, process.env.PUBLISHER_TOKEN);
  } else {
    console.log("publisher journey skipped: PUBLISHER_TOKEN is not set");
  }
  if (problems.length) {
    code = 1;
    for (const p of problems) console.log(`PROBLEM ${p}`);
  } else {
    console.log(`journeys passed (${checked.size} pages checked with axe)`);
  }
} catch (error) {
  code = 1;
  console.log(`FAILED ${error.stack || error}`);
  for (const p of problems) console.log(`PROBLEM ${p}`);
} finally {
  await browser.close();
}
process.exit(code);
