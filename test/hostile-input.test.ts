import { expect } from "chai";
import { gql, newOrg, ok, type GraphQLResponse } from "./client.js";
import { createApp, createInstance, createKey, createService } from "./fixtures.js";
import { toGlobalId } from "../src/graphql/global-id.js";
import { harness } from "./setup.js";

/*
 * The hostile inputs an attacker with a valid key sent: each must get a clear error with a code
 * before any other work (never an internal error, never SQL in a log line), and change nothing.
 */

const DEPLOY = `mutation($stage: String!, $app: String = "shop") {
  deploymentCredentials(input: { org: "acme", app: $app, service: "api", stage: $stage, region: "us-east-1" }) { useLocalCredentials userErrors { code field } }
}`;
const RESOLVE = `query($id: ID!, $stage: String!, $region: String) { node(id: $id) { ... on Service { resolveProvider(stage: $stage, region: $region) { source } } } }`;

function expectNoInternalError(result: GraphQLResponse, label: string) {
  expect(result.status, label).to.equal(200);
  expect(JSON.stringify(result.errors ?? []), label).not.to.contain("INTERNAL_SERVER_ERROR");
}

const badUserInput = (result: GraphQLResponse) => result.errors?.map((e) => e.extensions?.code);

async function auditRows(action: string) {
  return harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY occurred_at, id", [action]);
}

describe("hostile input", () => {
  let admin: string;
  let orgId: string;
  let serviceId: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
  });

  it("a NUL in any argument is refused with a code naming the argument, audited without the value, and nothing reaches the database", async () => {
    const attempts: Array<[string, string, Record<string, unknown>]> = [
      ["deployment", DEPLOY, { stage: "prod\u0000" }],
      ["resolveProvider", RESOLVE, { id: serviceId, stage: "prod\u0000" }],
      ["org", `query($slug: String!) { org(slug: $slug) { id } }`, { slug: "acme\u0000" }],
      ["node", `query($id: ID!) { node(id: $id) { id } }`, { id: `${serviceId}\u0000` }],
      ["createInstance", `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } userErrors { code field } } }`, { input: { serviceId, stage: "prod\u0000" } }],
      ["addMember", `mutation($input: AddMemberInput!) { addMember(input: $input) { userErrors { code field } } }`, { input: { orgId, email: "a\u0000@example.com", role: "DEPLOYER" } }],
      ["auditEvents", `query($action: String) { org(slug: "acme") { auditEvents(filter: { action: $action }) { totalCount } } }`, { action: "provider.\u0000" }],
    ];
    for (const [label, query, variables] of attempts) {
      const result = await gql(admin, query, variables);
      expectNoInternalError(result, label);
      const payload = result.data && Object.values(result.data)[0];
      const userErrors = (payload as { userErrors?: Array<{ code: string }> } | null)?.userErrors;
      if (userErrors) expect(userErrors.map((e) => e.code), label).to.deep.equal(["INVALID_INPUT"]);
      else expect(badUserInput(result), label).to.deep.equal(["BAD_USER_INPUT"]);
    }
    const rejected = await auditRows("input.rejected");
    expect(rejected.map((r: { details: { operation: string } }) => r.details.operation)).to.deep.equal([
      "Mutation.deploymentCredentials",
      "Service.resolveProvider",
      "Query.org",
      "Query.node",
      "Mutation.createInstance",
      "Mutation.addMember",
      "Org.auditEvents",
    ]);
    expect(JSON.stringify(rejected)).not.to.match(/prod|acme\\u|example\.com/);
    for (const row of rejected) expect([row.outcome, row.details.errorCode]).to.deep.equal(["DENIED", "INVALID_INPUT"]);
    const [{ instances, users }] = await harness().application.dataSource.query("SELECT (SELECT count(*)::int FROM instances) AS instances, (SELECT count(*)::int FROM users) AS users");
    expect({ instances, users }).to.deep.equal({ instances: 0, users: 0 });
    expect(harness().logs.join("")).not.to.contain("unexpected error");
  });

  it("stage `*` is refused as a bad stage before the scope is matched, and audited as DENIED INVALID_STAGE", async () => {
    const { token } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] } });
    const star = await ok(token, DEPLOY, { stage: "*" });
    expect(star.deploymentCredentials.userErrors).to.deep.equal([{ code: "INVALID_STAGE", field: ["input", "stage"] }]);
    const [event] = await auditRows("credentials.issue");
    expect([event.outcome, event.details.errorCode]).to.deep.equal(["DENIED", "INVALID_STAGE"]);
    expect(await auditRows("authorization.scope")).to.deep.equal([]);
  });

  it("resolveProvider's stage and region are checked like a deployment's, before the scope", async () => {
    const { token } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] } });
    for (const [stage, region] of [["x".repeat(65), null], ["*", null], ["prod;drop", null], ["feature-x", "nowhere"]]) {
      const result = await gql(token, RESOLVE, { id: serviceId, stage, region });
      expectNoInternalError(result, `${stage} ${region}`);
      expect(badUserInput(result), `${stage} ${region}`).to.deep.equal(["BAD_USER_INPUT"]);
      expect(result.errors?.[0].message).to.match(/stage is|region is/i);
    }
    expect((await ok(token, RESOLVE, { id: serviceId, stage: "feature-x", region: "eu-west-1" })).node.resolveProvider).to.equal(null);
    expect(await auditRows("authorization.scope")).to.deep.equal([]);
  });

  it("a forged `after` cursor is BAD_USER_INPUT, and no SQL or parameter reaches the log", async () => {
    const forged = [
      Buffer.from(JSON.stringify(["shop", "not-a-uuid"])).toString("base64url"),
      Buffer.from(JSON.stringify(["sh\u0000op", "00000000-0000-4000-8000-000000000000"])).toString("base64url"),
      Buffer.from(JSON.stringify({ a: 1 })).toString("base64url"),
      "not base64!",
      "A".repeat(2000),
    ];
    for (const after of forged) {
      const result = await gql(admin, `query($after: String) { org(slug: "acme") { apps(after: $after) { totalCount } } }`, { after });
      expectNoInternalError(result, after.slice(0, 30));
      expect(badUserInput(result), after.slice(0, 30)).to.deep.equal(["BAD_USER_INPUT"]);
    }
    const logs = harness().logs.join("");
    expect(logs).not.to.match(/SELECT|not-a-uuid|parameters/);
  });

  it("a global id whose type is `constructor`, `toString` or `__proto__` is not found, never graphql-js internals", async () => {
    const uuid = "00000000-0000-4000-8000-000000000000";
    for (const type of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      const id = toGlobalId(type as never, uuid);
      const node = await gql(admin, `query($id: ID!) { node(id: $id) { __typename id } }`, { id });
      expect(node, type).to.deep.include({ data: { node: null } });
      expect(node.errors, type).to.equal(undefined);
      const link = await gql(admin, `mutation($input: InstanceProviderInput!) { linkProviderToInstance(input: $input) { userErrors { code } } }`, {
        input: { providerId: id, instanceId: id },
      });
      expect(link.errors?.[0].extensions?.code, type).to.equal("NOT_FOUND");
    }
    const long = await gql(admin, `query($id: ID!) { node(id: $id) { id } }`, { id: "A".repeat(300) });
    expect(badUserInput(long)).to.deep.equal(["BAD_USER_INPUT"]);
  });

  it("names, stages and regions of mutations are checked before any lookup, with the domain's codes", async () => {
    const unknownService = toGlobalId("Service", "00000000-0000-4000-8000-000000000000");
    const create = await ok(admin, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } userErrors { code field } } }`, {
      input: { serviceId: unknownService, stage: "*", region: "mars-1" },
    });
    // An unknown service would be NOT_FOUND: the bad values were refused first.
    expect(create.createInstance.userErrors).to.deep.equal([
      { code: "INVALID_STAGE", field: ["input", "stage"] },
      { code: "INVALID_REGION", field: ["input", "region"] },
    ]);
    const app = await ok(admin, `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } userErrors { code field } } }`, { input: { orgId, name: "9lives" } });
    expect(app.createApp.userErrors).to.deep.equal([{ code: "INVALID_NAME", field: ["input", "name"] }]);
    expect(await createInstance(admin, serviceId, "feature-x")).to.be.a("string");
  });
});
