import { expect } from "chai";
import { gql, newOrg } from "./client.js";
import { startHarness } from "./harness.js";
import { harness } from "./setup.js";

describe("HTTP surface", () => {
  it("refuses operations without a valid key with UNAUTHENTICATED and status 401", async () => {
    const { key } = await newOrg("acme");
    for (const bad of [null, "pvk_nope", key.slice(0, -1) + (key.endsWith("A") ? "B" : "A"), `${key}x`]) {
      const result = await gql(bad, `{ viewer { orgs { slug } } }`);
      expect(result.status, String(bad)).to.equal(401);
      expect(result.errors?.[0].extensions?.code).to.equal("UNAUTHENTICATED");
      expect(result.data).to.equal(undefined);
    }
    const fine = await gql(key, `{ viewer { orgs { slug viewerRole } accessKey { name role tokenHint } } }`);
    expect(fine.data.viewer.orgs).to.deep.equal([{ slug: "acme", viewerRole: "ADMIN" }]);
    expect(fine.data.viewer.accessKey.tokenHint).to.equal(`${key.slice(0, 8)}…${key.slice(-4)}`);
  });

  it("every 401 names the Bearer scheme in WWW-Authenticate, on /graphql and the Serverless routes; other answers carry none", async () => {
    // Its wrong keys would spend the suite server's failed-authentication allowance (20 a minute).
    const own = await startHarness(harness().databaseUrl, { authFailureLimit: 1000 });
    try {
      const { key } = await newOrg("acme");
      const ask = (path: string, token: string | null, init: RequestInit = {}) =>
        fetch(`${own.url}${path}`, {
          ...init,
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
        });
      const query = { method: "POST", body: JSON.stringify({ query: "{ viewer { __typename } }" }) };
      for (const bad of [null, "pvk_nope", `${key}x`]) {
        for (const answer of [await ask("/graphql", bad, query), await ask("/sls/v1/core/tenants/acme", bad)]) {
          expect(answer.status, `${answer.url} ${bad}`).to.equal(401);
          expect(answer.headers.get("www-authenticate"), answer.url).to.equal('Bearer realm="providers-api"');
        }
      }
      const fine = await ask("/graphql", key, query);
      expect(fine.status).to.equal(200);
      expect(fine.headers.get("www-authenticate")).to.equal(null);
      const notFound = await ask("/sls/v1/core/tenants/nope", key);
      expect(notFound.status).to.equal(404);
      expect(notFound.headers.get("www-authenticate")).to.equal(null);
    } finally {
      await own.server.stop();
    }
  });

  it("a revoked or expired key stops working on the next request", async () => {
    const { key } = await newOrg("acme");
    expect((await gql(key, `{ viewer { orgs { slug } } }`)).status).to.equal(200);
    await harness().application.dataSource.query("UPDATE access_keys SET expires_at = now() - interval '1 second'");
    expect((await gql(key, `{ viewer { orgs { slug } } }`)).status).to.equal(401);
  });

  it("serves GraphiQL to a browser from local files, without a key", async () => {
    const page = await fetch(`${harness().url}/graphql`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('id="access-key"');
    const scripts = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.every((s) => s.startsWith("/graphiql/")), "no CDN").to.equal(true);
    for (const asset of scripts) {
      const response = await fetch(`${harness().url}${asset}`);
      expect(response.status, asset).to.equal(200);
      expect((await response.arrayBuffer()).byteLength, asset).to.be.greaterThan(100);
    }
    expect(page.headers.get("content-security-policy")).to.include("default-src 'self'");
  });

  it("answers GET queries, health and readiness", async () => {
    const { key } = await newOrg("acme");
    const get = await fetch(`${harness().url}/graphql?query=${encodeURIComponent("{ viewer { orgs { slug } } }")}`, {
      headers: { authorization: `Bearer ${key}`, "apollo-require-preflight": "true" },
    });
    expect(await get.json()).to.deep.equal({ data: { viewer: { orgs: [{ slug: "acme" }] } } });
    expect(get.headers.get("cache-control")).to.equal("no-store");
    // Nothing is kept, so nothing is revalidated: no ETag (a hash of every answer) either.
    expect(get.headers.get("etag")).to.equal(null);
    expect(await (await fetch(`${harness().url}/healthz`)).json()).to.deep.equal({ status: "ok" });
    const ready = await fetch(`${harness().url}/readyz`);
    expect([ready.status, await ready.json()]).to.deep.equal([200, { status: "ready" }]);
  });

  it("answers malformed requests with a clear 4xx, never a stack trace", async () => {
    const { key } = await newOrg("acme");
    const badJson = await fetch(`${harness().url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: "{ not json",
    });
    const body = await badJson.text();
    expect(badJson.status).to.equal(400);
    expect(body).to.include("not valid JSON");
    expect(body).not.to.match(/at \w+ \(|node_modules/);
    const unknownRoute = await fetch(`${harness().url}/nope`);
    expect(unknownRoute.status).to.equal(404);
    const invalid = await gql(key, `{ viewer { nope } }`);
    expect(invalid.status).to.equal(400);
    expect(invalid.errors?.[0].extensions).to.deep.equal({ code: "GRAPHQL_VALIDATION_FAILED" });
    expect(JSON.stringify(invalid)).not.to.include("stacktrace");
  });
});
