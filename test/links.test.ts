import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness } from "./setup.js";

describe("links", () => {
  let key: string;
  let orgId: string;
  let serviceId: string;
  let instanceId: string;
  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
    serviceId = await createService(key, await createApp(key, orgId, "app1"), "api");
    instanceId = await createInstance(key, serviceId, "prod");
  });

  it("linking a second provider of a type replaces the first and says which", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    expect(await linkToService(key, dev, serviceId)).to.deep.equal({ replacedProvider: null, userErrors: [] });
    expect(await linkToService(key, prod, serviceId)).to.deep.equal({ replacedProvider: { name: "dev" }, userErrors: [] });
    expect(await linkToInstance(key, dev, instanceId)).to.deep.equal({ replacedProvider: null, userErrors: [] });
    expect(await linkToInstance(key, prod, instanceId)).to.deep.equal({ replacedProvider: { name: "dev" }, userErrors: [] });
    const data = await ok(key, `query($s: ID!, $i: ID!) { s: node(id: $s) { ... on Service { providers { name } } } i: node(id: $i) { ... on Instance { providers { name } } } }`, {
      s: serviceId,
      i: instanceId,
    });
    expect(data).to.deep.equal({ s: { providers: [{ name: "prod" }] }, i: { providers: [{ name: "prod" }] } });
  });

  it("racing links of the same type end with exactly one", async () => {
    const providers = await Promise.all(["a", "b", "c", "d"].map((n, i) => createRoleProvider(key, orgId, n, ROLE_ARN(`${i + 1}`.repeat(12), "deploy"))));
    const results = await Promise.all(providers.map((p) => linkToService(key, p, serviceId)));
    expect(results.every((r) => r.userErrors.length === 0)).to.equal(true);
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM service_provider_links");
    expect(count).to.equal(1);
  });

  it("the database itself refuses two providers of one type on a service", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    await linkToService(key, dev, serviceId);
    const db = harness().application.dataSource;
    const [ids] = await db.query("SELECT id FROM services");
    const [prodRow] = await db.query("SELECT id, org_id FROM providers WHERE name = 'prod'");
    let refused: unknown;
    await db
      .query("INSERT INTO service_provider_links (service_id, provider_type, provider_id, org_id) VALUES ($1, 'AWS', $2, $3)", [ids.id, prodRow.id, prodRow.org_id])
      .catch((e: unknown) => (refused = e));
    expect(String(refused)).to.match(/duplicate key/);
    let mistyped: unknown;
    await db
      .query("UPDATE service_provider_links SET provider_type = 'STRIPE'")
      .catch((e: unknown) => (mistyped = e));
    expect(String(mistyped)).to.match(/foreign key/);
    void prod;
  });

  it("unlinks, and says so plainly when the provider was not linked", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    await linkToInstance(key, dev, instanceId);
    const UNLINK = `mutation($input: InstanceProviderInput!) { unlinkProviderFromInstance(input: $input) { instance { providers { name } } provider { name } userErrors { code field message } } }`;
    const first = (await ok(key, UNLINK, { input: { providerId: dev, instanceId } })).unlinkProviderFromInstance;
    expect(first).to.deep.equal({ instance: { providers: [] }, provider: { name: "dev" }, userErrors: [] });
    const second = (await ok(key, UNLINK, { input: { providerId: dev, instanceId } })).unlinkProviderFromInstance;
    expect(second.userErrors).to.have.length(1);
    expect(second.userErrors[0]).to.include({ code: "NOT_LINKED" });
    const SERVICE_UNLINK = `mutation($input: ServiceProviderInput!) { unlinkProviderFromService(input: $input) { userErrors { code } } }`;
    expect((await ok(key, SERVICE_UNLINK, { input: { providerId: dev, serviceId } })).unlinkProviderFromService.userErrors[0].code).to.equal("NOT_LINKED");
  });

  it("cannot link another org's provider, nor link to another org's service", async () => {
    const other = await newOrg("other");
    const foreignProvider = await createRoleProvider(other.key, other.orgId, "theirs", ROLE_ARN("999999999999", "deploy"));
    const mine = await createRoleProvider(key, orgId, "mine", ROLE_ARN("111111111111", "deploy"));
    const LINK = `mutation($input: ServiceProviderInput!) { linkProviderToService(input: $input) { userErrors { code } } }`;
    const a = await gql(key, LINK, { input: { providerId: foreignProvider, serviceId } });
    const b = await gql(other.key, LINK, { input: { providerId: mine, serviceId } });
    expect([a.errors?.[0].extensions?.code, b.errors?.[0].extensions?.code]).to.deep.equal(["NOT_FOUND", "NOT_FOUND"]);
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM service_provider_links");
    expect(count).to.equal(0);
  });

  it("validates stages and regions of new instances, and refuses duplicates", async () => {
    const CREATE = `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { stage } userErrors { code field } } }`;
    const bad = await ok(key, CREATE, { input: { serviceId, stage: "pr_1", region: "moon-1" } });
    expect(bad.createInstance).to.deep.equal({
      instance: null,
      userErrors: [
        { code: "INVALID_STAGE", field: ["input", "stage"] },
        { code: "INVALID_REGION", field: ["input", "region"] },
      ],
    });
    const dup = await ok(key, CREATE, { input: { serviceId, stage: "prod", region: "us-east-1" } });
    expect(dup.createInstance.userErrors[0].code).to.equal("INSTANCE_EXISTS");
    const stageOnly = await ok(key, CREATE, { input: { serviceId, stage: "prod" } });
    expect(stageOnly.createInstance).to.deep.equal({ instance: { stage: "prod" }, userErrors: [] });
    const badApp = await ok(key, `mutation($org: ID!) { createApp(input: { orgId: $org, name: "9 lives" }) { app { id } userErrors { code field } } }`, { org: orgId });
    expect(badApp.createApp).to.deep.equal({ app: null, userErrors: [{ code: "INVALID_NAME", field: ["input", "name"] }] });
  });

  it("pages through instances with cursors", async () => {
    for (const stage of ["a", "b", "c", "d"]) await createInstance(key, serviceId, stage);
    const PAGE = `query($id: ID!, $after: String) { node(id: $id) { ... on Service { instances(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { stage } } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await ok(key, PAGE, { id: serviceId, after })).node.instances;
      expect(page.totalCount).to.equal(5);
      seen.push(...page.nodes.map((n: any) => n.stage));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).to.deep.equal(["a", "b", "c", "d", "prod"]);
    const badCursor = await gql(key, PAGE, { id: serviceId, after: "nonsense" });
    expect(badCursor.errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
    const tooMany = await gql(key, `query($id: ID!) { node(id: $id) { ... on Service { instances(first: 1000) { totalCount } } } }`, { id: serviceId });
    expect(tooMany.errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
  });
});
