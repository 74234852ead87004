import { expect } from "chai";
import { serverAudits } from "graphql-http";
import { withEveryConnectionTaken } from "./harness.js";
import { newOrg } from "./client.js";
import { harness } from "./setup.js";

/*
 * The GraphQL-over-HTTP spec, checked by graphql-http's own audit against the real server, and what
 * the audit does not cover: GET without a preflight header, and a request error's status by Accept.
 */

const LEGACY = "application/json";
const MODERN = "application/graphql-response+json";

interface Sent {
  status: number;
  type: string | null;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function send(url: string, init: RequestInit & { key?: string | null; accept?: string | null }): Promise<Sent> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  if (init.accept) headers.set("accept", init.accept);
  const response = await fetch(url, { ...init, headers });
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as Sent["body"] };
}

const post = (key: string | null, accept: string | null, body: unknown, url = `${harness().url}/graphql`) =>
  send(url, { method: "POST", key, accept, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const getQuery = (key: string | null, query: string, headers: Record<string, string> = {}) =>
  send(`${harness().url}/graphql?query=${encodeURIComponent(query)}`, { key, headers });

/** Request errors: the request is well-formed, its document or variables are refused before anything runs. */
const REQUEST_ERRORS: Array<[string, unknown, string]> = [
  ["a parse failure", { query: "{" }, "GRAPHQL_PARSE_FAILED"],
  ["a validation failure", { query: "{ viewer { nope } }" }, "GRAPHQL_VALIDATION_FAILED"],
  ["a variable that does not coerce", { query: "query($id: ID!) { node(id: $id) { id } }", variables: { id: null } }, "BAD_USER_INPUT"],
  ["an operationName naming no operation", { query: "query A { __typename }", operationName: "B" }, "OPERATION_RESOLUTION_FAILURE"],
  ["a query over a limit", { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { orgs { slug } }`).join(" ")} }` }, "QUERY_TOO_COMPLEX"],
];

describe("GraphQL over HTTP", () => {
  it("passes graphql-http's whole server audit: no error, no warning, no notice", async function () {
    this.timeout(120_000);
    const { key } = await newOrg("acme");
    // Every operation of this API needs a key; without one the audit only measures 401s.
    const withKey = (input: string | URL | Request, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${key}`);
      return fetch(input, { ...init, headers });
    };
    const audits = serverAudits({ url: `${harness().url}/graphql`, fetchFn: withKey });
    expect(audits.length).to.be.greaterThan(50);
    const failed: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${result.status} ${result.id} ${result.name}: ${result.reason}`);
    }
    expect(failed).to.deep.equal([]);
  });

  describe("a request error's status follows what the client accepts", () => {
    for (const [what, body, code] of REQUEST_ERRORS) {
      it(`${what}: 200 in application/json, 400 in application/graphql-response+json`, async () => {
        const { key } = await newOrg("acme");
        for (const [accept, status, type] of [
          [null, 200, LEGACY],
          ["*/*", 200, LEGACY],
          [LEGACY, 200, LEGACY],
          [`${MODERN}, ${LEGACY};q=0.9`, 400, MODERN],
          [MODERN, 400, MODERN],
        ] as const) {
          const answer = await post(key, accept, body);
          expect([answer.status, answer.type, answer.body.errors?.[0]?.extensions?.code], `Accept: ${accept}`).to.deep.equal([status, `${type}; charset=utf-8`, code]);
          expect(answer.body.data, `Accept: ${accept}`).to.equal(undefined);
        }
      });
    }

    it("a request that is not a GraphQL request stays 400 whatever the client accepts", async () => {
      const { key } = await newOrg("acme");
      for (const accept of [null, LEGACY, MODERN]) {
        for (const body of [{}, { query: 1 }, { query: "{ __typename }", variables: "x" }]) {
          const answer = await post(key, accept, body);
          expect([answer.status, answer.body.errors?.[0]?.extensions?.code], `${accept} ${JSON.stringify(body)}`).to.deep.equal([400, "BAD_REQUEST"]);
        }
      }
    });

    it("an error while running is 200 either way, and a refused key 401 either way", async () => {
      const { key } = await newOrg("acme");
      for (const accept of [LEGACY, MODERN]) {
        const missing = await post(key, accept, { query: `{ node(id: "T3JnOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==") { id } }` });
        expect([missing.status, missing.body.data], accept).to.deep.equal([200, { node: null }]);
        const refused = await post("pvk_nope", accept, { query: "{" });
        expect([refused.status, refused.body.errors?.[0]?.extensions?.code], accept).to.deep.equal([401, "UNAUTHENTICATED"]);
      }
    });

    it("hostile Accept headers get an answer in a type they accept, or 406, never a 500", async () => {
      const { key } = await newOrg("acme");
      // About 6 KB: within Node's 16 KB of headers.
      const many = Array.from({ length: 500 }, (_, i) => `a/x${i};q=0.${i % 10}`).join(",");
      for (const [accept, status] of [
        ["text/html", 406],
        [`${many}, ${MODERN}`, 400],
        [`${many}, */*;q=0.1`, 200],
        ["application/json;q=0, application/graphql-response+json;q=0", 406],
        [";;;,,,", 406],
      ] as const) {
        const answer = await fetch(`${harness().url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}`, accept },
          body: JSON.stringify({ query: "{" }),
        });
        expect(answer.status, accept.slice(0, 40)).to.equal(status);
        await answer.arrayBuffer();
      }
    });

    it(`keeps each of 30 concurrent requests' status and type its own (above the pool of 10)`, async () => {
      const { key } = await newOrg("acme");
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? post(key, LEGACY, { query: "{" }) : i % 3 === 1 ? post(key, MODERN, { query: "{" }) : getQuery(key, "{ viewer { orgs { slug } } }"))),
      );
      answers.forEach((answer, i) => {
        const expected = i % 3 === 0 ? [200, LEGACY] : i % 3 === 1 ? [400, MODERN] : [200, LEGACY];
        expect([answer.status, answer.type], String(i)).to.deep.equal([expected[0], `${expected[1]}; charset=utf-8`]);
      });
    });

    it("never turns an outage into 200: with every pool connection taken, a legacy client's request error is 503", async function () {
      this.timeout(60_000);
      const { key } = await newOrg("acme");
      await withEveryConnectionTaken(harness().databaseUrl, async (url) => {
        const down = await post(key, LEGACY, { query: "{" }, `${url}/graphql`);
        expect([down.status, down.body.errors?.[0]?.extensions?.code]).to.deep.equal([503, "SERVICE_UNAVAILABLE"]);
        // The refusal of a keyless GET needs no database.
        const keyless = await send(`${url}/graphql?query=${encodeURIComponent("{ __typename }")}`, {});
        expect([keyless.status, keyless.body.errors?.[0]?.extensions?.code]).to.deep.equal([400, "BAD_REQUEST"]);
      });
    });
  });

  describe("GET", () => {
    it("needs only the key: a plain GET with Authorization answers the query", async () => {
      const { key } = await newOrg("acme");
      const answer = await getQuery(key, "{ viewer { orgs { slug } } }");
      expect([answer.status, answer.body]).to.deep.equal([200, { data: { viewer: { orgs: [{ slug: "acme" }] } } }]);
      const withVariables = await send(
        `${harness().url}/graphql?query=${encodeURIComponent("query($slug: String!) { org(slug: $slug) { slug } }")}&variables=${encodeURIComponent(JSON.stringify({ slug: "acme" }))}`,
        { key },
      );
      expect(withVariables.body).to.deep.equal({ data: { org: { slug: "acme" } } });
    });

    it("refuses a mutation with 405", async () => {
      const { key } = await newOrg("acme");
      const answer = await getQuery(key, `mutation { createApp(input: { orgId: "x", name: "shop" }) { userErrors { code } } }`);
      expect(answer.status).to.equal(405);
    });

    it("refuses what a cross-site page could send (a keyless GET, a text/plain or form POST) before authentication, with a sentence naming the header", async () => {
      const { key } = await newOrg("acme");
      const refusals = [
        () => getQuery(null, "{ viewer { orgs { slug } } }"),
        () => send(`${harness().url}/graphql`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: "{ __typename }" }) }),
        () => send(`${harness().url}/graphql`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "query=%7B__typename%7D" }),
      ];
      // Twice the failed-authentication limit (20): none of them counts as a failed authentication.
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => refusals[i % refusals.length]()));
      for (const answer of answers) {
        expect([answer.status, answer.body.errors?.[0]]).to.deep.equal([
          400,
          { message: "Refused as a possible cross-site request: send your access key as `Authorization: Bearer <key>`, on a GET as on a POST.", extensions: { code: "BAD_REQUEST" } },
        ]);
      }
      expect(harness().logs.join("")).not.to.include("authentication failed");
      expect((await getQuery(key, "{ viewer { orgs { slug } } }")).status).to.equal(200);
    });
  });
});
