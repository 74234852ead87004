import { expect } from "chai";
import { parse } from "graphql";
import pg from "pg";
import { MAX_NAMED, preparedNameOf } from "../src/db/prepared.js";
import { bootstrapOrg } from "../src/domain/bootstrap.js";
import { serverActor } from "../src/domain/context.js";
import { GraphQLContext } from "../src/graphql/context.js";
import { buildApiSchema } from "../src/graphql/schema.js";
import { COMPILE_AFTER_RUNS, compiledExecution } from "../src/http/execution.js";
import { eventually, executions, gql, newOrg, ok, type GraphQLResponse } from "./client.js";
import { createApp, createInstance, createKey, createProvider, createRoleProvider, createService, linkToInstance, linkToService, memberWithKey, ROLE_ARN } from "./fixtures.js";
import { startHarness } from "./harness.js";
import { harness } from "./setup.js";

/*
 * The SQL path (src/graphql/sql-path): a query document of the dashboard's subset that comes back is
 * answered by one statement. Its answers, errors and refusals must be the resolvers' to the byte, so
 * each case sends the same document and variables through both: as a document new to the server
 * (graphql-js runs its first runs, through the resolvers) and as one that came back.
 */

let fresh = 0;

/** The resolvers' answer: a document the server has not seen runs through graphql-js. */
function viaResolvers(key: string, text: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse> {
  return gql(key, `${text}\n# resolvers ${++fresh}`, variables);
}

const cameBack = new Set<string>();

/** The answer to a document that came back: the SQL path's, or (`sql` false) the resolvers' when these variables leave the subset. */
async function viaSql(key: string, text: string, variables: Record<string, unknown> = {}, sql = true): Promise<GraphQLResponse> {
  const query = `${text}\n# sql`;
  if (!cameBack.has(query)) {
    for (let i = 0; i < COMPILE_AFTER_RUNS; i++) await gql(key, query, variables);
    cameBack.add(query);
  }
  const before = await executions("sql");
  const answer = await gql(key, query, variables);
  expect(await executions("sql"), sql ? "answered by the SQL path" : "answered by the resolvers").to.equal(before + (sql ? 1 : 0));
  return answer;
}

/** Both paths' answers, compared as the JSON a client reads (key order included); the SQL path's is returned. */
async function same(key: string, text: string, variables: Record<string, unknown> = {}, sql = true): Promise<GraphQLResponse> {
  const expected = await viaResolvers(key, text, variables);
  const answer = await viaSql(key, text, variables, sql);
  expect(JSON.stringify(answer)).to.equal(JSON.stringify(expected));
  return answer;
}

const DASHBOARD = `query($slug: String!) { org(slug: $slug) { apps(first: 100) { nodes { name services(first: 100) { nodes { name
  instances(first: 100) { nodes { stage region effectiveProvider { source provider { name } } } } } } } } } }`;

const EVERYTHING = `query Page($slug: String!, $first: Int = 10, $withEdges: Boolean!, $skipCounts: Boolean!) {
  __typename
  org(slug: $slug) {
    __typename id name slug refuseNewStages refuseUnenforcedExternalId viewerRole
    ...OrgApps
    everything: apps(first: 100) { totalCount @skip(if: $skipCounts) nodes { name } }
  }
  again: org(slug: $slug) { slug ... on Org { name } }
}
fragment OrgApps on Org {
  apps(first: $first) {
    __typename totalCount @skip(if: $skipCounts)
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges @include(if: $withEdges) { __typename cursor node { id ... on App { name } } }
    nodes { ...AppFields }
  }
}
fragment AppFields on App {
  __typename id name
  services(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { __typename id name
    instances(first: $first) { edges { cursor node { __typename id stage region
      effectiveProvider { __typename source externalIdEnforced provider { __typename id name type kind isDefault } }
      stripe: effectiveProvider(type: STRIPE) { source provider { name type } }
      sameAgain: effectiveProvider(type: AWS) { provider { name } source }
      twilio: effectiveProvider(type: TWILIO) { source } } } } } }
}`;

/**
 * An org with every resolution source: an instance's own link, the stage-wide instance's link covering
 * a region, the service's link, the org's default, none (TWILIO), and a STRIPE link; an app without
 * services and a service without instances.
 */
async function sources(slug: string) {
  const { key, orgId } = await newOrg(slug);
  const fallback = await createRoleProvider(key, orgId, "fallback", ROLE_ARN("111111111111", "fallback"));
  await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: fallback });
  const shared = await createRoleProvider(key, orgId, "shared", ROLE_ARN("222222222222", "shared"));
  const own = await createRoleProvider(key, orgId, "own", ROLE_ARN("333333333333", "own"));
  const stageWide = await createRoleProvider(key, orgId, "stage-wide", ROLE_ARN("444444444444", "stage"));
  const billing = await createProvider(key, orgId, "billing", { stripe: { secretKey: "sk_test_abcdefghijklmnop1234" } });
  const web = await createApp(key, orgId, "web");
  await createApp(key, orgId, "empty");
  const front = await createService(key, web, "front");
  await linkToService(key, shared, front);
  await linkToInstance(key, own, await createInstance(key, front, "prod", "us-east-1"));
  await linkToInstance(key, stageWide, await createInstance(key, front, "prod", null));
  await createInstance(key, front, "prod", "eu-west-1");
  await createInstance(key, front, "dev", "us-east-1");
  const back = await createService(key, web, "back");
  await linkToService(key, billing, back);
  await createInstance(key, back, "dev", "us-east-1");
  await createService(key, web, "lonely");
  return { key, orgId };
}

describe("the SQL path", () => {
  it("takes its prepared statements' names from a budget of its own: pages clients make up cannot leave the hot statements unnamed", async () => {
    const { key } = await sources("names");
    // More distinct pages than the documents' budget (each alias makes another statement text).
    for (let i = 0; i <= MAX_NAMED.documents; i++) {
      const answer = await viaSql(key, `query($slug: String!) { org(slug: $slug) { page${i}: apps(first: 1) { totalCount } } }`, { slug: "names" });
      expect(answer.data.org[`page${i}`].totalCount, "a page past the budget still answers, unnamed").to.equal(2);
    }
    expect(preparedNameOf("SELECT 'a page no client sent yet'", "documents"), "the documents' budget is spent").to.equal(undefined);
    expect(preparedNameOf("SELECT 'a statement of the code new to this process'"), "the code's own budget is untouched").to.be.a("string");
  });

  it("answers the dashboard page as the resolvers do, every resolution source included, in one statement after the key's", async () => {
    const { key } = await sources("sources");
    const answer = await same(key, DASHBOARD, { slug: "sources" });
    const instances = answer.data.org.apps.nodes.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.nodes));
    expect(instances.map((i: any) => [i.stage, i.region, i.effectiveProvider?.source, i.effectiveProvider?.provider.name])).to.deep.equal([
      ["dev", "us-east-1", "ORG_DEFAULT", "fallback"],
      ["dev", "us-east-1", "SERVICE", "shared"],
      ["prod", null, "INSTANCE", "stage-wide"],
      ["prod", "eu-west-1", "INSTANCE", "stage-wide"],
      ["prod", "us-east-1", "INSTANCE", "own"],
    ]);
    const before = harness().statements.count;
    await viaSql(key, DASHBOARD, { slug: "sources" });
    expect(harness().statements.count - before, "the key, then the page").to.equal(2);
  });

  it("answers aliases, fragments, @include/@skip, __typename, ids, totalCount, pageInfo, edges and cursors, other provider types, as the resolvers do", async () => {
    const { key } = await sources("shapes");
    const full = await same(key, EVERYTHING, { slug: "shapes", withEdges: true, skipCounts: false });
    const web = full.data.org.apps.nodes.find((a: any) => a.name === "web");
    expect(web.services.nodes.map((s: any) => s.name), "two services of three, by name").to.deep.equal(["back", "front"]);
    expect(web.services.pageInfo.hasNextPage).to.equal(true);
    const front = web.services.nodes[1].instances.edges.map((e: any) => e.node);
    expect(front.map((i: any) => [i.stripe, i.twilio])).to.deep.equal(Array(4).fill([null, null]));
    expect(web.services.nodes[0].instances.edges[0].node.stripe).to.deep.equal({ source: "SERVICE", provider: { name: "billing", type: "STRIPE" } });
    expect(full.data.__typename).to.equal("Query");
    expect(full.data.again).to.deep.equal({ slug: "shapes", name: "shapes Inc." });
    const lean = await same(key, EVERYTHING, { slug: "shapes", withEdges: false, skipCounts: true, first: 1 });
    expect(lean.data.org.apps).to.not.have.property("edges");
    expect(lean.data.org.apps).to.not.have.property("totalCount");
    expect(lean.data.org.apps.pageInfo.hasNextPage).to.equal(true);
  });

  it("pages through with `after`, each path taking the other's cursors", async () => {
    const { key, orgId } = await newOrg("paging");
    for (const name of ["a", "b", "c", "d", "e"]) {
      const appId = await createApp(key, orgId, name);
      const serviceId = await createService(key, appId, "api");
      for (const stage of ["prod", "dev", "qa"]) await createInstance(key, serviceId, stage, "us-east-1");
      await createInstance(key, serviceId, "dev", null);
    }
    const PAGE = `query($slug: String!, $after: String, $instancesAfter: String) { org(slug: $slug) { apps(first: 2, after: $after) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name services(first: 1) { nodes {
        instances(first: 3, after: $instancesAfter) { pageInfo { hasNextPage endCursor } nodes { stage region } } } } } } } } }`;
    const names: string[] = [];
    let after: string | null = null;
    let instancesAfter: string | null = null;
    for (let page = 0; page < 3; page++) {
      const variables = { slug: "paging", after, instancesAfter };
      // Alternately: the resolvers' cursor taken to the SQL path, and the SQL path's to the resolvers.
      const expected = await viaResolvers(key, PAGE, variables);
      const answer = await viaSql(key, PAGE, variables);
      expect(JSON.stringify(answer)).to.equal(JSON.stringify(expected));
      const apps = (page % 2 === 0 ? answer : expected).data.org.apps;
      names.push(...apps.edges.map((e: any) => e.node.name));
      after = apps.pageInfo.endCursor;
      instancesAfter = apps.edges[0].node.services.nodes[0].instances.pageInfo.endCursor ?? null;
    }
    expect(names).to.deep.equal(["a", "b", "c", "d", "e"]);
    expect(after).to.be.a("string");
    const end = await same(key, PAGE, { slug: "paging", after, instancesAfter: null });
    expect(end.data.org.apps).to.deep.equal({ pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null }, edges: [] });
  });

  it("writes strings as JSON.stringify does: quotes, backslashes, control characters and non-ASCII in an org's name", async () => {
    const name = 'Ü "quoted" \\ back\nslash\t\u0001\u001f\u007f \u2028 é 𝄞';
    const { token } = await bootstrapOrg(harness().application.dataSource.manager, "quoted", name);
    const answer = await same(token, `query($slug: String!) { org(slug: $slug) { name slug apps(first: 1) { totalCount } } }`, { slug: "quoted" });
    expect(answer.data.org.name).to.equal(name);
  });

  it("answers a connection without nodes or edges (only totalCount, only pageInfo) for no, one and many rows", async () => {
    const { key, orgId } = await newOrg("counts");
    const PAGE = `query($slug: String!) { org(slug: $slug) { apps(first: 2) { totalCount } again: apps(first: 1) { pageInfo { hasPreviousPage } } } }`;
    for (const apps of [0, 1, 3]) {
      if (apps > 0) for (let i = (apps === 1 ? 0 : 1); i < apps; i++) await createApp(key, orgId, `app${i}`);
      const answer = await same(key, PAGE, { slug: "counts" });
      expect(answer.data.org).to.deep.equal({ apps: { totalCount: apps }, again: { pageInfo: { hasPreviousPage: false } } });
    }
  });

  it("answers an empty org, app and service as the resolvers do", async () => {
    const { key, orgId } = await newOrg("empty");
    const PAGE = `query($slug: String!) { org(slug: $slug) { apps(first: 5) { totalCount pageInfo { hasNextPage startCursor endCursor } nodes { name
      services(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name instances(first: 5) { totalCount pageInfo { endCursor } nodes { stage } } } } } } } } }`;
    expect((await same(key, PAGE, { slug: "empty" })).data.org.apps).to.deep.equal({
      totalCount: 0,
      pageInfo: { hasNextPage: false, startCursor: null, endCursor: null },
      nodes: [],
    });
    await createService(key, await createApp(key, orgId, "shop"), "api");
    await createApp(key, orgId, "bare");
    const answer = await same(key, PAGE, { slug: "empty" });
    expect(answer.data.org.apps.nodes.map((a: any) => a.services.totalCount)).to.deep.equal([0, 1]);
  });

  it("keeps a scoped key to its scope, and answers a member's key as the resolvers do", async () => {
    const { key, orgId } = await sources("scoped");
    const other = await createApp(key, orgId, "other");
    await createInstance(key, await createService(key, other, "front"), "prod", "us-east-1");
    for (const scope of [{ apps: ["web"], stages: ["prod*"] }, { services: ["front"] }, { stages: ["d*"] }]) {
      const { token } = await createKey(key, orgId, { role: "DEVELOPER", scope });
      const answer = await same(token, EVERYTHING, { slug: "scoped", withEdges: true, skipCounts: false });
      const apps = answer.data.org.apps.nodes;
      const instances = apps.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.edges.map((e: any) => e.node.stage)));
      if (scope.apps) expect(apps.map((a: any) => a.name)).to.deep.equal(["web"]);
      if (scope.services) expect(apps.flatMap((a: any) => a.services.nodes.map((s: any) => s.name))).to.deep.equal(["front", "front"]);
      if (scope.stages) expect(instances.every((stage: string) => stage.startsWith(scope.stages[0].replace("*", "")))).to.equal(true);
      expect(instances.length).to.be.greaterThan(0);
    }
    const member = await memberWithKey(key, orgId, "deployer@example.com", "DEPLOYER");
    const answer = await same(member.token, EVERYTHING, { slug: "scoped", withEdges: false, skipCounts: false });
    expect(answer.data.org.viewerRole).to.equal("DEPLOYER");
    expect(answer.data.org.apps.nodes.map((a: any) => a.name)).to.deep.equal(["empty", "other", "web"]);
  });

  it("answers another org's slug with null, and leaves a bad slug, `first` or `after` to the resolvers' refusal", async () => {
    const { key } = await sources("mine");
    await newOrg("theirs");
    expect((await same(key, DASHBOARD, { slug: "theirs" })).data).to.deep.equal({ org: null });
    expect((await same(key, DASHBOARD, { slug: "nobody" })).data).to.deep.equal({ org: null });
    const bad = await same(key, DASHBOARD, { slug: "Not A Slug" }, false);
    expect(bad.errors?.map((e) => e.extensions?.code)).to.deep.equal(["BAD_USER_INPUT"]);
    const PAGE = `query($first: Int!, $after: String) { org(slug: "mine") { apps(first: 1) { nodes { services(first: $first, after: $after) { nodes { name } } } } } }`;
    const forged = Buffer.from(JSON.stringify(["x", "not-a-uuid"])).toString("base64url");
    for (const variables of [{ first: 0 }, { first: 101 }, { first: 1, after: "garbage" }, { first: 1, after: forged }, { first: 1, after: "a!b" }, { first: 1, after: "A".repeat(1025) }]) {
      const refused = await same(key, PAGE, variables, false);
      expect(refused.errors?.[0].extensions?.code, JSON.stringify(variables)).to.equal("BAD_USER_INPUT");
    }
    const badVariable = await same(key, PAGE, { first: "many" }, false);
    expect(badVariable.status).to.equal(400);
  });

  it("leaves a document with any field outside the subset to the compiled resolvers, and picks a document's operation by name", async () => {
    const { key } = await sources("outside");
    const compiledBefore = await executions("compiled");
    for (const outside of [
      `query($slug: String!) { org(slug: $slug) { createdAt apps(first: 5) { nodes { name } } } }`,
      `query($slug: String!) { org(slug: $slug) { apps(first: 5) { nodes { name services(first: 5) { nodes { providers { name } } } } } } }`,
      `query($slug: String!) { org(slug: $slug) { apps(first: 5) { nodes { ... on Node { id } } } } }`,
      `query($slug: String!) { org(slug: $slug) { apps(first: 5) { nodes { name } } } viewer { __typename } }`,
    ]) {
      await same(key, outside, { slug: "outside" }, false);
    }
    expect(await executions("compiled"), "each ran compiled once it came back").to.equal(compiledBefore + 4);
    const TWO = `query Names($slug: String!) { org(slug: $slug) { apps(first: 5) { nodes { name } } } }
      query Roles($slug: String!) { org(slug: $slug) { createdAt } }`;
    const query = `${TWO}\n# two operations`;
    for (const [operationName, sql] of [["Names", true], ["Roles", false], ["Names", true]] as const) {
      const send = () =>
        fetch(`${harness().url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ query, operationName, variables: { slug: "outside" } }),
        }).then((r) => r.json() as Promise<GraphQLResponse>);
      const first = await send();
      for (let i = 1; i < COMPILE_AFTER_RUNS; i++) await send();
      const before = await executions("sql");
      expect(JSON.stringify(await send())).to.equal(JSON.stringify(first));
      expect(await executions("sql"), operationName).to.equal(before + (sql ? 1 : 0));
    }
  });

  it("answers 25 concurrent pages, above the pool size, as the resolvers answer one", async () => {
    const { key } = await sources("concurrent");
    const expected = await viaResolvers(key, EVERYTHING, { slug: "concurrent", withEdges: true, skipCounts: false });
    await viaSql(key, EVERYTHING, { slug: "concurrent", withEdges: true, skipCounts: false });
    expect(harness().config.databasePoolSize).to.be.lessThan(25);
    const before = await executions("sql");
    const answers = await Promise.all(Array.from({ length: 25 }, () => gql(key, `${EVERYTHING}\n# sql`, { slug: "concurrent", withEdges: true, skipCounts: false })));
    expect(await executions("sql")).to.equal(before + 25);
    for (const answer of answers) expect(JSON.stringify(answer)).to.equal(JSON.stringify(expected));
  });

  describe("when the database fails it", () => {
    let admin: pg.Client;
    beforeEach(async () => {
      admin = new pg.Client({ connectionString: harness().databaseUrl, application_name: "sql-path-test-admin" });
      await admin.connect();
    });
    afterEach(async () => {
      await admin.query("ROLLBACK").catch(() => {});
      await admin.end();
    });

    /** Sends the page while `instances` is locked, waits until the server's statement waits on the lock, then runs `meanwhile` before unlocking. */
    async function whileBlocked(send: () => Promise<GraphQLResponse>, meanwhile: (answer: Promise<GraphQLResponse>) => Promise<unknown>): Promise<GraphQLResponse> {
      await admin.query("BEGIN");
      await admin.query("LOCK TABLE instances IN ACCESS EXCLUSIVE MODE");
      const answer = send();
      // pg_stat_activity is read once per transaction and kept (this one holds the lock): each look
      // clears that snapshot first, or a look taken before the request arrived would never change.
      const waiting = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'providers-api' AND wait_event_type = 'Lock'";
      await eventually(async () => {
        await admin.query("SELECT pg_stat_clear_snapshot()");
        return (await admin.query(waiting)).rows.length > 0;
      }, "the request never waited for the locked table");
      await meanwhile(answer);
      await admin.query("ROLLBACK");
      return answer;
    }

    const terminateWaiting = async () => {
      await admin.query("SELECT pg_stat_clear_snapshot()");
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'providers-api' AND wait_event_type = 'Lock'");
    };

    it("answers a connection cut mid-statement as the resolvers do: the org null, SERVICE_UNAVAILABLE, 503; then recovers", async () => {
      const { key } = await sources("cut");
      const expected = await viaResolvers(key, DASHBOARD, { slug: "cut" });
      await viaSql(key, DASHBOARD, { slug: "cut" });
      const viaResolversCut = await whileBlocked(() => viaResolvers(key, DASHBOARD, { slug: "cut" }), terminateWaiting);
      const before = await executions("sql");
      const cut = await whileBlocked(() => gql(key, `${DASHBOARD}\n# sql`, { slug: "cut" }), terminateWaiting);
      expect(await executions("sql")).to.equal(before + 1);
      for (const answer of [viaResolversCut, cut]) {
        expect(answer.status).to.equal(503);
        expect(answer.data).to.deep.equal({ org: null });
        expect(new Set(answer.errors?.map((e) => JSON.stringify(e.extensions)))).to.deep.equal(new Set([JSON.stringify({ code: "SERVICE_UNAVAILABLE", retryable: true })]));
      }
      expect(cut.errors?.[0].path).to.deep.equal(["org"]);
      expect(JSON.stringify(cut)).to.not.match(/instances|terminat|SELECT/);
      expect(harness().logs.join("")).to.match(/the database could not serve a GraphQL operation/);
      expect(JSON.stringify(await viaSql(key, DASHBOARD, { slug: "cut" }))).to.equal(JSON.stringify(expected));
    });

    it("answers a statement timeout as the resolvers do: SERVICE_UNAVAILABLE, 503", async function () {
      this.timeout(60_000);
      const { key } = await sources("timeout");
      const short = await startHarness(harness().databaseUrl, { databaseStatementTimeoutMs: 1000, masterKey: harness().masterKey });
      const post = async (query: string) => {
        const response = await fetch(`${short.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ query, variables: { slug: "timeout" } }),
        });
        return { ...((await response.json()) as GraphQLResponse), status: response.status };
      };
      try {
        for (let i = 0; i < COMPILE_AFTER_RUNS; i++) await post(`${DASHBOARD}\n# sql`);
        // The lock is held until the answer comes: the statement waits out its timeout.
        const resolvers = await whileBlocked(() => post(`${DASHBOARD}\n# resolvers`), (answer) => answer);
        const sql = await whileBlocked(() => post(`${DASHBOARD}\n# sql`), (answer) => answer);
        expect(short.logs.join("")).to.match(/canceling statement due to statement timeout/);
        for (const answer of [resolvers, sql]) {
          expect(answer.status).to.equal(503);
          expect(answer.data).to.deep.equal({ org: null });
          expect(answer.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
        }
      } finally {
        await short.server.stop();
      }
    });

    it("a client that disconnects while its page's statement waits leaves the server serving, and the statement ends", async () => {
      const { key } = await sources("left");
      const expected = await viaSql(key, DASHBOARD, { slug: "left" });
      const runsBefore = await executions("sql");
      const client = new AbortController();
      const request = fetch(`${harness().url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: `${DASHBOARD}\n# sql`, variables: { slug: "left" } }),
        signal: client.signal,
      }).catch((error: Error) => error);
      const logged = (text: string) => harness().logs.some((line) => line.includes(text));
      await whileBlocked(
        () => request.then(() => ({}) as GraphQLResponse),
        async () => {
          client.abort();
          await eventually(() => logged("the client disconnected before its answer"), "the server never noticed the client had gone");
        },
      );
      expect(await request).to.be.instanceOf(Error);
      // The statement had started: it ends once the lock goes, and its answer is written to no one.
      await eventually(async () => (await executions("sql")) !== runsBefore, "the statement never ended");
      expect(JSON.stringify(await viaSql(key, DASHBOARD, { slug: "left" }))).to.equal(JSON.stringify(expected));
    });

    it("a client gone before the statement starts: CLIENT_DISCONNECTED at `org`, and no statement runs", async () => {
      const { orgId } = await sources("gone");
      // Gone before the statement: the executor answers CLIENT_DISCONNECTED at `org` without running it.
      const { application } = harness();
      const { executor } = await compiledExecution(await buildApiSchema()).load({ apollo: {} as never });
      const document = parse(DASHBOARD);
      const orgUuid = Buffer.from(orgId, "base64url").toString("utf8").split(":")[1];
      const gone = new AbortController();
      gone.abort();
      const context = new GraphQLContext(serverActor(orgUuid, "test"), application.dataSource, application.services, undefined, gone.signal);
      const run = () => executor!({ document, request: { query: DASHBOARD, variables: { slug: "gone" } }, context } as unknown as Parameters<NonNullable<typeof executor>>[0]);
      for (let i = 0; i < COMPILE_AFTER_RUNS; i++) await run();
      const before = harness().statements.count;
      const answer = await run();
      expect(harness().statements.count, "no statement ran").to.equal(before);
      expect(answer.data).to.deep.equal({ org: null });
      expect(answer.errors?.map((e) => [e.path, (e.originalError as { code?: string }).code])).to.deep.equal([[["org"], "CLIENT_DISCONNECTED"]]);
    });
  });
});
