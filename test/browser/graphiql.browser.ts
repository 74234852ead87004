import { existsSync } from "node:fs";
import { expect } from "chai";
import { chromium, type Browser, type Page } from "playwright-core";
import { newOrg } from "../client.js";
import { harness } from "../setup.js";

/*
 * GraphiQL in a real Chromium: `npm run test:browser` (not part of `npm test` nor CI, see README).
 * It fails, never skips, when Chromium is missing.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Headless Chromium as root, on a machine without outside network: no sandbox, no background traffic.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

interface Watched {
  page: Page;
  /** Every console message, page error, failed request and 4xx/5xx answer, in order. */
  problems: string[];
  /** The operation of each POST to /graphql, with its status. */
  posts: string[];
  /** Each request the page made, with its status and type. */
  loaded: Map<string, string>;
}

async function open(browser: Browser): Promise<Watched> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const watched: Watched = { page, problems: [], posts: [], loaded: new Map() };
  page.on("console", (message) => watched.problems.push(`console ${message.type()}: ${message.text().slice(0, 300)}`));
  page.on("pageerror", (error) => watched.problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => watched.problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on("response", async (response) => {
    const url = new URL(response.url());
    watched.loaded.set(url.pathname, `${response.status()} ${response.headers()["content-type"] ?? ""}`);
    if (response.status() >= 400) watched.problems.push(`HTTP ${response.status()}: ${url.pathname}`);
    if (response.request().method() === "POST" && url.pathname === "/graphql") {
      const { query } = JSON.parse(response.request().postData() ?? "{}") as { query?: string };
      watched.posts.push(`${/query (\w+)/.exec(query ?? "")?.[1] ?? "anonymous"} ${response.status()}`);
    }
  });
  return watched;
}

async function useKey(page: Page, key: string): Promise<string> {
  await page.fill("#access-key", key);
  await page.click("#key-bar button");
  // Selectors, not waitForFunction: the page's policy forbids the eval that one would need.
  await page.waitForSelector('#key-status:not([data-state="checking"])');
  return (await page.textContent("#key-status")) ?? "";
}

describe("GraphiQL in Chromium", function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  after(async () => {
    await browser?.close();
  });

  it("loads without a key: no console message, every asset and the favicon served, no request that could only fail", async () => {
    const { page, problems, posts, loaded } = await open(browser);
    await page.goto(`${harness().url}/graphql`, { waitUntil: "networkidle" });
    await page.waitForSelector(".graphiql-container");
    expect(problems).to.deep.equal([]);
    expect(await page.textContent("#key-status")).to.equal("No key: paste an access key (pvk_…) to use the API.");
    expect(posts, "no schema request without a key").to.deep.equal([]);
    expect(loaded.get("/graphiql/favicon.svg")).to.equal("200 image/svg+xml");
    for (const asset of ["graphiql.css", "app.css", "react.js", "react-dom.js", "graphiql.js", "app.js"]) {
      expect(loaded.get(`/graphiql/${asset}`), asset).to.match(/^200 /);
    }
    // The fonts graphiql.css brings are in use, not blocked.
    // Browser-side code as text: this project compiles without the DOM's types.
    const fonts: string[] = await page.evaluate(`document.fonts.ready.then(() => [...document.fonts].map((font) => font.family + " " + font.status))`);
    expect(fonts.filter((font) => font.endsWith(" error"))).to.deep.equal([]);
    expect(fonts).to.include.members(["Roboto loaded"]);
  });

  it("a working key: the bar names the key, its role and org; the schema loads and a query runs; a reload checks it again", async () => {
    const { key } = await newOrg("acme");
    const { page, problems, posts } = await open(browser);
    await page.goto(`${harness().url}/graphql`, { waitUntil: "networkidle" });
    expect(await useKey(page, key)).to.equal(`Key “bootstrap admin key” (${key.slice(0, 8)}…${key.slice(-4)}): ADMIN in acme.`);
    await page.click(".graphiql-execute-button");
    await page.locator(".graphiql-response").filter({ hasText: '"slug": "acme"' }).waitFor();
    expect(posts).to.have.members(["KeyCheck 200", "IntrospectionQuery 200", "anonymous 200"]);
    // A dialog styles itself inline (why the policy allows inline styles, and only styles).
    await page.click('[aria-label="Open settings dialog"]');
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.reload({ waitUntil: "networkidle" });
    await page.waitForSelector('#key-status[data-state="ok"]');
    expect(await page.inputValue("#access-key")).to.equal(key);
    expect(problems).to.deep.equal([]);
  });

  it("a wrong key: the bar says why at once, the key is not kept, and no schema request follows", async () => {
    await newOrg("acme");
    const { page, problems, posts } = await open(browser);
    await page.goto(`${harness().url}/graphql`, { waitUntil: "networkidle" });
    const wrong = `pvk_${"x".repeat(49)}`;
    expect(await useKey(page, wrong)).to.equal(
      "Key not accepted: UNAUTHENTICATED: The access key is not valid. Send a key created by this server as `Authorization: Bearer <key>`.",
    );
    await page.waitForLoadState("networkidle");
    expect(posts).to.deep.equal(["KeyCheck 401"]);
    expect(await page.evaluate(`sessionStorage.getItem("providers-api.accessKey")`)).to.equal(null);
    // Chromium logs every 4xx answer to the console; the check's 401 is the one line, and the bar shows it.
    expect(problems).to.deep.equal(["HTTP 401: /graphql", "console error: Failed to load resource: the server responded with a status of 401 (Unauthorized)"]);
  });

  it("the server gone: the bar says the key could not be checked", async () => {
    const { page } = await open(browser);
    await page.goto(`${harness().url}/graphql`, { waitUntil: "networkidle" });
    await page.route("**/graphql", (route) => route.abort("connectionrefused"));
    expect(await useKey(page, "pvk_whatever")).to.match(/^Could not check the key: /);
  });
});
