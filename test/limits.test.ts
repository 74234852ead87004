import { expect } from "chai";
import { getIntrospectionQuery } from "graphql";
import { ConfigError, loadConfig } from "../src/config.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { Loaders } from "../src/graphql/loaders.js";
import type { QueryLimits } from "../src/http/limits.js";
import { GRAPHQL_ACCEPT, gql, newOrg, ok, type GraphQLResponse } from "./client.js";
import { createApp, createInstance, createService, ROLE_ARN, createRoleProvider } from "./fixtures.js";
import { secondServer } from "./harness.js";
import { harness, sts } from "./setup.js";

/*
 * Every request's work is bounded before it runs. Each hostile request below is one the issue measured
 * taking seconds, gigabytes or the whole server; here each is refused before any resolver runs (no
 * statement beyond the access key's lookup), with one error naming the limit and its setting, and the
 * server goes on answering everyone else.
 */

const DEFAULTS = loadConfig({}).limits;

const README_TREE = `query {
  org(slug: "acme") {
    apps { nodes { name services { nodes { name
      instances { nodes { stage region effectiveProvider { source explanation provider { name } } } }
    } } } }
  }
}`;

const TREE_100 = `org(slug: "acme") { apps(first: 100) { nodes { services(first: 100) { nodes {
  instances(first: 100) { nodes { stage effectiveProvider { source provider { name } } } } } } } } }`;

const aliases = (count: number, selection: string) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(" ")} }`;

async function post(url: string, key: string, query: string): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: GRAPHQL_ACCEPT, authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return { ...((await response.json()) as GraphQLResponse), status: response.status };
}

/** A second HTTP server on the suite's database with other limits, so each limit can be reached alone. */
const serverWith = (limits: Partial<QueryLimits>) => secondServer(harness().application, { limits });

/** Statements a request ran beyond those of a request that resolves nothing (the access key's lookup). */
async function statementsBeyondAuthentication(send: () => Promise<unknown>): Promise<number> {
  const { statements } = harness();
  const before = statements.count;
  await post(harness().url, key, "{ __typename }");
  const baseline = statements.count - before;
  const start = statements.count;
  await send();
  return statements.count - start - baseline;
}

function expectRefused(result: GraphQLResponse, setting: string) {
  expect(result.status, JSON.stringify(result.errors)).to.equal(400);
  expect(result.data).to.equal(undefined);
  expect(result.errors).to.have.length(1);
  const [error] = result.errors!;
  expect(error.extensions).to.deep.equal({ code: "QUERY_TOO_COMPLEX", limit: setting });
  expect(error.message).to.match(/^The request was refused before it ran: .*limit of \d+ exceeded/);
  expect(error.message).to.include(setting);
  expect(JSON.stringify(error)).not.to.match(/stacktrace|\s+at\s/);
}

let key: string;

describe("bounded work per request", function () {
  this.timeout(60_000);

  beforeEach(async () => {
    ({ key } = await newOrg("acme"));
  });

  it("lets the README's dashboard tree, the bench's tree at first: 100 and GraphiQL's introspection through", async () => {
    const { orgId } = { orgId: (await ok(key, `{ org(slug: "acme") { id } }`)).org.id };
    const service = await createService(key, await createApp(key, orgId, "shop"), "api");
    await createInstance(key, service, "prod");
    const tree = await ok(key, README_TREE);
    expect(tree.org.apps.nodes[0].services.nodes[0].instances.nodes[0].stage).to.equal("prod");
    expect((await ok(key, `{ ${TREE_100} }`)).org.apps.nodes).to.have.length(1);
    const introspection = await ok(
      key,
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
    );
    expect(introspection.__schema.queryType.name).to.equal("Query");
  });

  it("refuses 10,000 aliases of viewer at the token limit, before any resolver runs", async () => {
    let result!: GraphQLResponse;
    const extra = await statementsBeyondAuthentication(async () => (result = await gql(key, aliases(10_000, "viewer { orgs { slug } }"))));
    expectRefused(result, "MAX_QUERY_TOKENS");
    expect(extra).to.equal(0);
  });

  it("refuses too many aliases, too deep a nesting and too many directives, each naming its setting", async () => {
    const server = await serverWith({ maxTokens: 1_000_000 });
    try {
      expectRefused(await post(server.url, key, aliases(10_000, "viewer { orgs { slug } }")), "MAX_QUERY_ALIASES");
      expectRefused(await post(server.url, key, aliases(2_000, "org(slug: \"acme\") { auditEvents(first: 100) { nodes { action outcome } } }")), "MAX_QUERY_ALIASES");
      expectRefused(await post(server.url, key, aliases(DEFAULTS.maxAliases + 1, "viewer { orgs { slug } }")), "MAX_QUERY_ALIASES");
      expect((await post(server.url, key, aliases(DEFAULTS.maxAliases, "viewer { orgs { slug } }"))).data).to.have.property(`a${DEFAULTS.maxAliases - 1}`);

      // org → apps → nodes → org → … : each round adds three levels.
      const nested = (rounds: number) => `{ viewer { orgs { ${"apps(first: 1) { nodes { org { ".repeat(rounds)}slug${" } } }".repeat(rounds)} } } }`;
      // viewer and orgs, three levels a round, then slug: 5 rounds are 18 levels, 6 are 21.
      expectRefused(await post(server.url, key, nested(6)), "MAX_QUERY_DEPTH");
      expectRefused(await post(server.url, key, nested(1000)), "MAX_QUERY_DEPTH");
      // 200,000 levels (600 kB) overflow graphql-js's recursive parser every time: the same refusal, no 500.
      expectRefused(await post(server.url, key, `{ viewer ${"{a".repeat(200_000)}${"}".repeat(200_000)}}`), "MAX_QUERY_DEPTH");
      expectRefused(await post(server.url, key, `{ viewer(x: ${"[".repeat(300_000)}${"]".repeat(300_000)}) { __typename } }`), "MAX_QUERY_DEPTH");
      expect((await post(server.url, key, nested(5))).errors).to.equal(undefined);

      const directives = (count: number) => `{ viewer { orgs { ${"slug @include(if: true) ".repeat(count)}} } }`;
      expectRefused(await post(server.url, key, directives(DEFAULTS.maxDirectives + 1)), "MAX_QUERY_DIRECTIVES");
      expectRefused(await post(server.url, key, directives(20_000)), "MAX_QUERY_DIRECTIVES");
      expect((await post(server.url, key, directives(DEFAULTS.maxDirectives))).data.viewer.orgs).to.deep.equal([{ slug: "acme" }]);
    } finally {
      await server.close();
    }
  });

  it("prices a connection's first as a multiplier: 100 aliases of the dashboard tree are refused by cost", async () => {
    const server = await serverWith({ maxTokens: 1_000_000, maxAliases: 1_000 });
    try {
      let result!: GraphQLResponse;
      const extra = await statementsBeyondAuthentication(async () => (result = await post(server.url, key, aliases(100, TREE_100))));
      expectRefused(result, "MAX_QUERY_COST");
      expect(result.errors![0].message).to.match(/Query cost limit of 20000000 exceeded, found \d{9,}/);
      expect(extra).to.equal(0);
      // The same tree once is fine; a page size passed as a variable counts as well.
      expect((await post(server.url, key, `{ ${TREE_100} }`)).errors).to.equal(undefined);
      const byVariable = await gql(key, `query($n: Int!) { a: org(slug: "acme") { apps(first: $n) { nodes { services(first: $n) { nodes { instances(first: $n) { nodes { stage } } } } } } } }`, { n: 1000 });
      expect(byVariable.errors?.[0].extensions).to.deep.equal({ code: "QUERY_TOO_COMPLEX", limit: "MAX_QUERY_COST" });
    } finally {
      await server.close();
    }
  });

  it("prices one query text again for each value of the variables its price depends on (page sizes, directives), however often it was priced before", async () => {
    const pages = `query($n: Int!, $slug: String!) { org(slug: $slug) { apps(first: $n) { nodes { services(first: $n) { nodes { instances(first: $n) { nodes { stage } } } } } } } }`;
    const refused = (result: GraphQLResponse) => expect(result.errors?.[0].extensions, JSON.stringify(result.errors)).to.deep.equal({ code: "QUERY_TOO_COMPLEX", limit: "MAX_QUERY_COST" });
    const accepted = (result: GraphQLResponse) => expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
    // A variable the price does not depend on ($slug) changes nothing; each page size is priced on its own.
    for (const round of [1, 2]) {
      accepted(await gql(key, pages, { n: 2, slug: "acme" }));
      refused(await gql(key, pages, { n: 1000, slug: "acme" }));
      accepted(await gql(key, pages, { n: 2, slug: `other${round}` }));
      refused(await gql(key, pages, { n: 1000, slug: `other${round}` }));
    }
    // A subtree a directive drops costs nothing, until the variable keeps it.
    const optional = `query($all: Boolean!) { org(slug: "acme") { slug apps(first: 1000) @include(if: $all) { nodes { services(first: 1000) { nodes { instances(first: 1000) { nodes { stage } } } } } } } }`;
    for (const _round of [1, 2]) {
      accepted(await gql(key, optional, { all: false }));
      refused(await gql(key, optional, { all: true }));
    }
    // A variable left out takes its default: priced apart from the same variable sent.
    const defaulted = `query($n: Int = 1000) { org(slug: "acme") { apps(first: $n) { nodes { services(first: $n) { nodes { instances(first: $n) { nodes { stage } } } } } } } }`;
    for (const _round of [1, 2]) {
      refused(await gql(key, defaulted));
      accepted(await gql(key, defaulted, { n: 1 }));
    }
  });

  it("refuses a fragment bomb (each fragment spreading the next twice) by cost, before pricing runs away", async () => {
    const fragments = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Org { slug ${i < 29 ? `...F${i + 1} ...F${i + 1}` : ""} }`).join(" ");
    let result!: GraphQLResponse;
    const extra = await statementsBeyondAuthentication(async () => (result = await gql(key, `{ viewer { orgs { ...F0 } } } ${fragments}`)));
    expectRefused(result, "MAX_QUERY_COST");
    expect(extra).to.equal(0);
  });

  it("caps the answer's size with a clear error", async () => {
    const server = await serverWith({ maxResponseBytes: 300 });
    try {
      expect((await post(server.url, key, "{ viewer { orgs { slug } } }")).data).to.deep.equal({ viewer: { orgs: [{ slug: "acme" }] } });
      const result = await post(server.url, key, aliases(20, "viewer { orgs { slug name } }"));
      expect(result.status).to.equal(400);
      expect(result.data).to.equal(undefined);
      expect(result.errors).to.have.length(1);
      expect(result.errors![0].extensions).to.deep.equal({ code: "RESPONSE_TOO_LARGE", limit: "MAX_RESPONSE_BYTES" });
      expect(result.errors![0].message).to.match(/^The answer would be \d+ bytes, over the limit of 300, so it was not sent\..*MAX_RESPONSE_BYTES/);
    } finally {
      await server.close();
    }
  });

  it("answers others while hostile requests arrive together", async () => {
    const hostile = [
      aliases(10_000, "viewer { orgs { slug } }"),
      aliases(100, TREE_100),
      aliases(2_000, `org(slug: "acme") { auditEvents(first: 100) { nodes { action } } }`),
      `{ ${"__typename ".repeat(50_000)}}`,
    ];
    const results = await Promise.all([...hostile, ...hostile].map((query) => gql(key, query)));
    for (const result of results) expectRefused(result, "MAX_QUERY_TOKENS");
    expect(await ok(key, "{ viewer { orgs { slug } } }")).to.deep.equal({ viewer: { orgs: [{ slug: "acme" }] } });
  });

  it("a query whose client went away starts no more database batches", async () => {
    const { key, orgId } = await newOrg("acme");
    const appId = await createApp(key, orgId, "shop");
    const em = harness().application.dataSource.manager;
    const org = fromGlobalId(orgId)!.id;
    const client = new AbortController();
    const loaders = new Loaders(() => em, org, null, client.signal);
    expect((await loaders.app(fromGlobalId(appId)!.id))?.name).to.equal("shop");
    client.abort();
    const fresh = new Loaders(() => em, org, null, client.signal);
    const before = harness().statements.count;
    const gone = await fresh.app(fromGlobalId(appId)!.id).then(
      () => null,
      (error: { code?: string }) => error,
    );
    expect(gone?.code).to.equal("CLIENT_DISCONNECTED");
    expect(harness().statements.count).to.equal(before);
  });

  it("stops resolving when the client disconnects: the rest of a mutation's fields never run", async () => {
    const orgId = (await ok(key, `{ org(slug: "acme") { id } }`)).org.id;
    const roleArn = ROLE_ARN("555555555555", "deploy");
    const providerId = await createRoleProvider(key, orgId, "default", roleArn);
    const externalId = (await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId })).node.credentials
      .externalId;
    sts().addRole(roleArn, { externalId });
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });

    // Five deployments in one mutation run one after another; the first waits on an STS that never answers.
    sts().hang = true;
    const deployments = Array.from(
      { length: 5 },
      (_, i) => `d${i}: deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: "s${i}", region: "us-east-1" }) { useLocalCredentials }`,
    );
    const client = new AbortController();
    const request = fetch(`${harness().url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: `mutation { ${deployments.join(" ")} }` }),
      signal: client.signal,
    }).catch((error: Error) => error);
    while (sts().callsOf("AssumeRole").length === 0) await new Promise((r) => setTimeout(r, 10));
    client.abort();
    expect(await request).to.be.instanceOf(Error);
    const logged = (text: string) => harness().logs.some((line) => line.includes(text));
    while (!logged("the client disconnected before its answer")) await new Promise((r) => setTimeout(r, 10));
    // Its request line says the client closed, once.
    const closed = harness()
      .logs.map((line) => JSON.parse(line))
      .filter((line) => line.event === "request" && line.outcome === "CLIENT_CLOSED");
    expect(closed.map((line) => line.operation)).to.deep.equal(["mutation.deploymentCredentials"]);

    // STS comes back; the first deployment ends, and the four after it are never started.
    sts().hang = false;
    sts().reset();
    sts().addRole(roleArn, { externalId });
    while (!logged("the operation stopped after its client disconnected")) await new Promise((r) => setTimeout(r, 10));
    const sessions = sts().callsOf("AssumeRole").map((call) => call.params.RoleSessionName);
    expect(sessions.filter((name) => /s[1-4]/.test(name))).to.deep.equal([]);
    const stages = await harness().application.dataSource.query("SELECT stage FROM instances ORDER BY stage");
    expect(stages.map((row: { stage: string }) => row.stage).filter((stage: string) => stage !== "s0")).to.deep.equal([]);
    expect(await ok(key, "{ viewer { orgs { slug } } }")).to.deep.equal({ viewer: { orgs: [{ slug: "acme" }] } });
  });

  it("reads each limit from its setting, refusing values that are not whole numbers of at least 1", () => {
    const limits = loadConfig({ MAX_QUERY_DEPTH: "20", MAX_QUERY_ALIASES: "5", MAX_QUERY_TOKENS: "300", MAX_QUERY_DIRECTIVES: "2", MAX_QUERY_COST: "1000", MAX_RESPONSE_BYTES: "4096" }).limits;
    expect(limits).to.deep.equal({ maxDepth: 20, maxAliases: 5, maxTokens: 300, maxDirectives: 2, maxCost: 1000, maxResponseBytes: 4096 });
    expect(() => loadConfig({ MAX_QUERY_ALIASES: "0" })).to.throw(ConfigError, "MAX_QUERY_ALIASES must be a whole number, at least 1");
    expect(() => loadConfig({ MAX_QUERY_COST: "lots" })).to.throw(ConfigError, /MAX_QUERY_COST/);
  });
});
