import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { GRAPHIQL_CSP } from "../src/http/graphiql.js";
import { newOrg, type GraphQLResponse } from "./client.js";
import { createKey } from "./fixtures.js";
import { startHarness, withEveryConnectionTaken, type Harness } from "./harness.js";
import { harness } from "./setup.js";

/*
 * GraphiQL over HTTP: what the page needs from the server, checked without a browser. The same page in
 * a real Chromium (no console message, the key bar at work) is `npm run test:browser`.
 */

const ROOT = path.join(__dirname, "..", "..");
const APP_JS = readFileSync(path.join(ROOT, "src", "http", "graphiql", "app.js"), "utf8");
const KEY_CHECK = /var KEY_CHECK = "([^"]+)";/.exec(APP_JS)?.[1] ?? "";

async function page(url = harness().url) {
  const response = await fetch(`${url}/graphql`, { headers: { accept: "text/html,application/xhtml+xml" } });
  return { response, html: await response.text() };
}

/** The key bar's request, as app.js sends it. */
async function check(url: string, key: string): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: KEY_CHECK, operationName: "KeyCheck" }),
  });
  return { ...((await response.json()) as GraphQLResponse), status: response.status };
}

const directives = (policy: string) => new Map(policy.split(";").map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));

describe("GraphiQL over HTTP", () => {
  it("sends a policy that allows exactly the page's own files, its data: fonts and images, and no script but its files", async () => {
    const { response, html } = await page();
    expect(response.headers.get("content-security-policy")).to.equal(GRAPHIQL_CSP);
    const policy = directives(GRAPHIQL_CSP);
    expect(policy.get("default-src")).to.deep.equal(["'self'"]);
    expect(policy.has("script-src"), "scripts fall back to 'self'").to.equal(false);
    expect(policy.get("font-src")).to.deep.equal(["data:"]);
    expect(policy.get("img-src")).to.deep.equal(["'self'", "data:"]);
    expect(policy.get("style-src")).to.deep.equal(["'self'", "'unsafe-inline'"]);
    for (const name of ["object-src", "base-uri", "form-action", "frame-ancestors"]) expect(policy.get(name), name).to.deep.equal(["'none'"]);
    expect(GRAPHIQL_CSP).not.to.match(/https?:|\*|unsafe-eval/);
    // Every font the page's styles load is a data: URL, which font-src allows, and nothing else is.
    const css = await (await fetch(`${harness().url}/graphiql/graphiql.css`)).text();
    const fontFaces = css.match(/@font-face\{[^}]*\}/g) ?? [];
    expect(fontFaces).to.have.length(34);
    for (const face of fontFaces) expect([...face.matchAll(/url\(([a-z]+):/g)].map((m) => m[1])).to.deep.equal(["data"]);
    expect(html).not.to.match(/<script>|<style>|\son\w+=/);
  });

  it("serves every file the page names, with its type, and a favicon", async () => {
    const { html } = await page();
    const files = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(files).to.have.members(["/graphiql/favicon.svg", "/graphiql/graphiql.css", "/graphiql/app.css", "/graphiql/react.js", "/graphiql/react-dom.js", "/graphiql/graphiql.js", "/graphiql/app.js"]);
    expect(html).to.include('<link rel="icon" type="image/svg+xml" href="/graphiql/favicon.svg">');
    for (const file of files) {
      const response = await fetch(`${harness().url}${file}`);
      const type = file.endsWith(".js") ? /^text\/javascript/ : file.endsWith(".css") ? /^text\/css/ : /^image\/svg\+xml$/;
      expect([response.status, response.headers.get("content-type")], file).to.satisfy(([status, got]: [number, string]) => status === 200 && type.test(got));
      const body = await response.text();
      if (file.endsWith(".svg")) expect(body, file).to.match(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>\s*$/s);
      else expect(body.length, file).to.be.greaterThan(100);
    }
  });

  it("serves nothing but its named files under /graphiql/", async () => {
    for (const probe of ["/graphiql/..%2f..%2fpackage.json", "/graphiql/%2e%2e%2fapp.ts", "/graphiql/app.ts", "/graphiql/", "/graphiql/favicon.ico", `/graphiql/${"a".repeat(5000)}`]) {
      const response = await fetch(`${harness().url}${probe}`);
      expect(response.status, probe.slice(0, 40)).to.equal(404);
      expect(await response.text()).not.to.include('"name": "providers-api"');
    }
  });

  describe("the key bar's check", () => {
    // Wrong keys below would spend the suite server's failed-authentication allowance (20 a minute).
    let own: Harness;
    before(async () => {
      own = await startHarness(harness().databaseUrl, { authFailureLimit: 1000 });
    });
    after(async () => {
      await own?.server.stop();
    });

    it("names the key, its role and org, for any key: an admin key and a scoped developer key alike", async () => {
      expect(KEY_CHECK).to.match(/^query KeyCheck \{ viewer \{/);
      const { key, orgId } = await newOrg("acme");
      const admin = await check(own.url, key);
      expect([admin.status, admin.data]).to.deep.equal([
        200,
        { viewer: { accessKey: { name: "bootstrap admin key", role: "ADMIN", tokenHint: `${key.slice(0, 8)}…${key.slice(-4)}` }, memberships: [{ role: "ADMIN", org: { slug: "acme" } }] } },
      ]);
      const scoped = await createKey(key, orgId, { role: "DEVELOPER", name: "preview", scope: { apps: ["shop"], stages: ["pr-*"] } });
      const developer = await check(own.url, scoped.token);
      expect(developer.data?.viewer).to.deep.include({ memberships: [{ role: "DEVELOPER", org: { slug: "acme" } }] });
      expect(developer.data?.viewer.accessKey.name).to.equal("preview");
    });

    it("answers a wrong, over-long or malformed key with UNAUTHENTICATED and a sentence the bar shows", async () => {
      const { key } = await newOrg("acme");
      for (const bad of ["pvk_nope", `${key}x`, "x".repeat(5000), "pvk_%00'; --"]) {
        const answer = await check(own.url, bad);
        expect([answer.status, answer.errors?.[0].extensions?.code], bad.slice(0, 20)).to.deep.equal([401, "UNAUTHENTICATED"]);
        expect(answer.errors?.[0].message).to.match(/^[A-Z].*`Authorization: Bearer <key>`/);
      }
    });

    it("answers 30 concurrent checks (20 good keys, 10 wrong), above the pool of 10, each its own", async () => {
      const { key } = await newOrg("acme");
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => check(own.url, i % 3 === 2 ? `pvk_wrong${i}` : key)));
      answers.forEach((answer, i) => {
        if (i % 3 === 2) expect(answer.status, String(i)).to.equal(401);
        else expect(answer.data?.viewer.memberships, String(i)).to.deep.equal([{ role: "ADMIN", org: { slug: "acme" } }]);
      });
    });

    it("with every pool connection taken, the page still loads and the check says the database is unavailable", async function () {
      this.timeout(60_000);
      const { key } = await newOrg("acme");
      await withEveryConnectionTaken(harness().databaseUrl, async (url) => {
        expect((await page(url)).response.status).to.equal(200);
        expect((await fetch(`${url}/graphiql/favicon.svg`)).status).to.equal(200);
        const answer = await check(url, key);
        expect([answer.status, answer.errors?.[0].extensions?.code]).to.deep.equal([503, "SERVICE_UNAVAILABLE"]);
        expect(answer.errors?.[0].message).to.match(/Try again in a moment\.$/);
      });
    });
  });
});
