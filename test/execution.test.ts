import { expect } from "chai";
import { buildSchema, getIntrospectionQuery, parse, type GraphQLObjectType } from "graphql";
import pg from "pg";
import { ClientGoneError } from "../src/domain/errors.js";
import { COMPILE_AFTER_RUNS, compiledExecution } from "../src/http/execution.js";
import { executions as runs, gql, newOrg, ok, type GraphQLResponse } from "./client.js";
import { createApp, createInstance, createKey, createProvider, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness } from "./setup.js";

/*
 * The compiled executor (src/http/execution.ts): a query document that comes back runs through
 * graphql-jit instead of graphql-js. Every answer, error and refusal must be the same on both paths,
 * so each case here runs the same document through both and compares the whole answers.
 */

const TREE = `query($slug: String!, $first: Int!) {
  org(slug: $slug) { slug viewerRole
    apps(first: $first) { totalCount pageInfo { hasNextPage endCursor } nodes { name
      services(first: $first) { totalCount edges { cursor node { name providers { name type }
        instances(first: $first) { nodes { id stage region
          effectiveProvider { source explanation externalIdEnforced provider { name credentials { __typename ... on AwsRoleCredentials { roleArn } } } instance { stage region } }
          other: effectiveProvider(type: STRIPE) { source provider { name } } } } } } } } }
  }
}`;

let documents = 0;

/**
 * The first runs of a document new to the server (interpreted), then two compiled ones; all answers.
 * A comment makes the document new (Apollo caches documents by their text), and is returned with it.
 */
async function bothPaths(key: string, text: string, variables: Record<string, unknown> = {}): Promise<{ interpreted: GraphQLResponse[]; compiled: GraphQLResponse[]; query: string }> {
  const query = `${text}\n# document ${++documents}`;
  const before = await runs("compiled");
  const interpreted: GraphQLResponse[] = [];
  for (let i = 0; i < COMPILE_AFTER_RUNS; i++) interpreted.push(await gql(key, query, variables));
  const compiled: GraphQLResponse[] = [];
  for (let i = 0; i < 2; i++) compiled.push(await gql(key, query, variables));
  expect(await runs("compiled"), "the document ran compiled once it came back").to.equal(before + 2);
  return { interpreted, compiled, query };
}

async function tree(slug: string) {
  const { key, orgId } = await newOrg(slug);
  const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
  const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
  await createProvider(key, orgId, "billing", { stripe: { secretKey: "sk_test_abcdefghijklmnop1234" } });
  for (const app of ["web", "api"]) {
    const appId = await createApp(key, orgId, app);
    for (const service of ["front", "back"]) {
      const serviceId = await createService(key, appId, service);
      if (service === "front") await linkToService(key, dev, serviceId);
      const prodId = await createInstance(key, serviceId, "prod", "us-east-1");
      await linkToInstance(key, prod, prodId);
      await createInstance(key, serviceId, "dev", "eu-west-1");
      await createInstance(key, serviceId, "preview", null);
    }
  }
  return { key, orgId };
}

describe("the compiled executor", () => {
  it("answers a repeated dashboard query exactly as graphql-js does: lists, cursors, counts, unions, resolutions", async () => {
    const { key } = await tree("compiled");
    const { interpreted, compiled } = await bothPaths(key, TREE, { slug: "compiled", first: 3 });
    expect(interpreted[0].errors).to.equal(undefined);
    const instances = interpreted[0].data.org.apps.nodes.flatMap((a: any) => a.services.edges.flatMap((e: any) => e.node.instances.nodes));
    expect(instances).to.have.length(12);
    expect(new Set(instances.map((i: any) => i.effectiveProvider?.source ?? "LOCAL"))).to.deep.equal(new Set(["INSTANCE", "SERVICE", "LOCAL"]));
    for (const answer of [...interpreted, ...compiled]) expect(answer).to.deep.equal(interpreted[0]);
  });

  it("answers GraphiQL's introspection query, and __type and __typename, alike on both paths", async () => {
    const { key } = await newOrg("introspection");
    const schema = await bothPaths(key, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(schema.interpreted[0].errors).to.equal(undefined);
    expect(schema.interpreted[0].data.__schema.types.map((t: { name: string }) => t.name)).to.include.members(["Instance", "ProviderResolution", "Node"]);
    for (const answer of [...schema.interpreted, ...schema.compiled]) expect(answer).to.deep.equal(schema.interpreted[0]);
    const type = await bothPaths(key, `{ __typename viewer { __typename } __type(name: "Instance") { name fields { name type { kind name ofType { name } } } } }`);
    expect(type.interpreted[0].data.__type.name).to.equal("Instance");
    for (const answer of [...type.interpreted, ...type.compiled]) expect(answer).to.deep.equal(type.interpreted[0]);
  });

  it("gives the same errors and refusals on both paths: a role refused and audited, a missing object, a bad argument", async () => {
    const { key, orgId } = await tree("refusals");
    const { token: deployer } = await createKey(key, orgId, { role: "DEPLOYER" });
    const REFUSED = `query($slug: String!) { org(slug: $slug) { slug defaultProvider { name } apps(first: 1) { nodes { name } } } }`;
    const refused = await bothPaths(deployer, REFUSED, { slug: "refusals" });
    expect(refused.interpreted[0].errors?.map((e) => e.extensions?.code)).to.deep.equal(["FORBIDDEN"]);
    expect(refused.interpreted[0].data.org.apps.nodes).to.deep.equal([{ name: "api" }]);
    for (const answer of [...refused.interpreted, ...refused.compiled]) expect(answer).to.deep.equal(refused.interpreted[0]);
    const audited = await ok(key, `query($slug: String!) { org(slug: $slug) { auditEvents(first: 10, filter: { action: "authorization.role" }) { totalCount } } }`, { slug: "refusals" });
    expect(audited.org.auditEvents.totalCount, "each refusal audited, compiled or not").to.equal(COMPILE_AFTER_RUNS + 2);

    const MISSING = `query($id: ID!) { node(id: $id) { id ... on Instance { stage service { name } } } }`;
    const missing = await bothPaths(key, MISSING, { id: "SW5zdGFuY2U6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw" });
    expect(missing.interpreted[0].data).to.deep.equal({ node: null });
    for (const answer of [...missing.interpreted, ...missing.compiled]) expect(answer).to.deep.equal(missing.interpreted[0]);

    const PAGE = `query($slug: String!, $first: Int!) { org(slug: $slug) { apps(first: $first) { nodes { name } } } }`;
    const tooMany = await bothPaths(key, PAGE, { slug: "refusals", first: 1000 });
    expect(tooMany.interpreted[0].errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
    for (const answer of [...tooMany.interpreted, ...tooMany.compiled]) expect(answer).to.deep.equal(tooMany.interpreted[0]);
  });

  it("hostile input: bad variables and control characters get graphql-js's words and our refusal on a compiled document too", async () => {
    const { key } = await tree("hostile");
    // createdAt keeps the document off the SQL path (test/sql-path.test.ts has its own hostile input).
    const PAGE = `query($slug: String!, $first: Int!) { org(slug: $slug) { createdAt apps(first: $first) { nodes { name } } } }`;
    const { query } = await bothPaths(key, PAGE, { slug: "hostile", first: 1 });
    // The document is compiled now: each bad input below meets the compiled path.
    for (const variables of [{ slug: "hostile", first: "many" }, { slug: "hostile" }, { slug: ["hostile"], first: 1 }, { slug: "hostile", first: 2 ** 40 }]) {
      const before = await runs("interpreted");
      const answer = await gql(key, query, variables);
      expect(answer.status, JSON.stringify(variables)).to.equal(400);
      expect(answer.errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
      expect(answer.errors?.[0].message).to.match(/^Variable "\$(first|slug)"/);
      expect(await runs("interpreted"), "graphql-js answered the bad variables").to.equal(before + 1);
    }
    const before = await runs("compiled");
    const control = await gql(key, query, { slug: "hos\u0000tile", first: 1 });
    expect(await runs("compiled"), "refused on the compiled path").to.equal(before + 1);
    expect(control.errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
    expect(control.errors?.[0].message).to.match(/control character/);
    expect(control.data).to.deep.equal({ org: null });
  });

  it("compiles only what comes back: a client sending ever new documents runs each through graphql-js", async () => {
    const { key } = await tree("distinct");
    const compiledBefore = await runs("compiled");
    const interpretedBefore = await runs("interpreted");
    for (let i = 0; i < 12; i++) {
      const data = await ok(key, `query($slug: String!) { org(slug: $slug) { a${i}: apps(first: ${i + 1}) { totalCount } } }`, { slug: "distinct" });
      expect(data.org[`a${i}`].totalCount).to.equal(2);
    }
    expect(await runs("compiled")).to.equal(compiledBefore);
    expect(await runs("interpreted")).to.equal(interpretedBefore + 12);
  });

  it("mutations and queries with input object variables stay with graphql-js", async () => {
    const { key, orgId } = await tree("mutations");
    const before = await runs("compiled");
    for (let i = 0; i < COMPILE_AFTER_RUNS + 2; i++) {
      const data = await ok(key, `mutation($input: CreateAppInput!) { createApp(input: $input) { app { name } userErrors { code } } }`, { input: { orgId, name: `app-${i}` } });
      expect(data.createApp).to.deep.equal({ app: { name: `app-${i}` }, userErrors: [] });
      const events = await ok(key, `query($slug: String!, $filter: AuditEventFilter) { org(slug: $slug) { auditEvents(first: 1, filter: $filter) { totalCount } } }`, {
        slug: "mutations",
        filter: { action: "app.create" },
      });
      expect(events.org.auditEvents.totalCount).to.equal(i + 3); // two apps from tree()
    }
    expect(await runs("compiled")).to.equal(before);
  });

  it("answers concurrent compiled pages above the pool size the same as one interpreted page", async () => {
    const { key } = await tree("concurrent");
    const { interpreted, query } = await bothPaths(key, TREE, { slug: "concurrent", first: 3 });
    const pool = harness().config.databasePoolSize;
    const answers = await Promise.all(Array.from({ length: pool * 3 }, () => gql(key, query, { slug: "concurrent", first: 3 })));
    for (const answer of answers) expect(answer).to.deep.equal(interpreted[0]);
  });

  it("a database failure inside a compiled run is masked and logged like an interpreted one", async () => {
    const { key } = await tree("failing");
    const { interpreted, query } = await bothPaths(key, TREE, { slug: "failing", first: 3 });
    const admin = new pg.Client({ connectionString: harness().databaseUrl });
    await admin.connect();
    try {
      // The resolution's statement fails (its table is gone for a moment); everything before it works.
      await admin.query("ALTER TABLE service_provider_links RENAME TO service_provider_links_away");
      const logsBefore = harness().logs.length;
      const compiledBefore = await runs("compiled");
      const failed = await gql(key, query, { slug: "failing", first: 3 });
      expect(await runs("compiled")).to.equal(compiledBefore + 1);
      expect(failed.errors?.length).to.be.greaterThan(0);
      for (const error of failed.errors!) {
        expect(error.extensions).to.deep.equal({ code: "INTERNAL_SERVER_ERROR" });
        expect(error.message).to.match(/^Something went wrong on the server/);
      }
      expect(JSON.stringify(failed)).to.not.match(/service_provider_links|SELECT|relation/);
      expect(harness().logs.slice(logsBefore).join("")).to.match(/unexpected error in a GraphQL operation/);
    } finally {
      await admin.query("ALTER TABLE service_provider_links_away RENAME TO service_provider_links");
      await admin.end();
    }
    expect(await gql(key, query, { slug: "failing", first: 3 })).to.deep.equal(interpreted[0]);
  });

  it("a client that went away gets one error from a compiled run, not one per field left unrun", async () => {
    const schema = buildSchema("type Query { items: [Item!]! } type Item { name: String }");
    (schema.getQueryType()!.getFields().items.resolve as unknown) = () => Array.from({ length: 50 }, (_, i) => ({ i }));
    ((schema.getType("Item") as GraphQLObjectType).getFields().name.resolve as unknown) = () => Promise.reject(new ClientGoneError());
    const executed: string[] = [];
    const { executor } = await compiledExecution(schema, (path) => executed.push(path)).load({ apollo: {} as never });
    const document = parse("{ items { name } }");
    const run = async (aborted: boolean) => {
      const client = new AbortController();
      if (aborted) client.abort();
      const request = { document, request: { query: "{ items { name } }" }, context: { signal: client.signal } };
      return executor!(request as unknown as Parameters<NonNullable<typeof executor>>[0]);
    };
    for (let i = 0; i < COMPILE_AFTER_RUNS; i++) expect((await run(false)).errors).to.have.length(50);
    const present = await run(false);
    const gone = await run(true);
    expect(executed).to.deep.equal([...Array(COMPILE_AFTER_RUNS).fill("interpreted"), "compiled", "compiled"]);
    expect(present.errors, "a client still there gets every error").to.have.length(50);
    expect(gone.errors).to.have.length(1);
    expect(gone.errors![0].originalError).to.be.instanceOf(ClientGoneError);
    expect(gone.errors![0].path).to.deep.equal(["items", 0, "name"]);
  });
});
