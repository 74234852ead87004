import { expect } from "chai";
import { newOrg, ok } from "./client.js";
import { createApp, createInstance, createParameter, createRoleProvider, createService, linkToInstance, linkToService, memberWithKey, ROLE_ARN } from "./fixtures.js";
import { harness } from "./setup.js";

const TREE = `query($slug: String!) {
  org(slug: $slug) {
    apps(first: 100) { totalCount nodes { name services(first: 100) { totalCount nodes { name providers { name }
      instances(first: 100) { nodes { stage region providers { name } effectiveProvider { source provider { name } instance { stage } } } } } } } }
  }
}`;

/** Builds apps × services × instances with links at every level, and counts the statements of one tree query. */
async function statementsForTree(slug: string, apps: number, services: number, instances: number): Promise<{ statements: number; leaves: number }> {
  const { key, orgId } = await newOrg(slug);
  const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
  const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
  for (let a = 0; a < apps; a++) {
    const appId = await createApp(key, orgId, `app${a}`);
    for (let s = 0; s < services; s++) {
      const serviceId = await createService(key, appId, `service${s}`);
      if (s % 2 === 0) await linkToService(key, dev, serviceId);
      for (let i = 0; i < instances; i++) {
        const instanceId = await createInstance(key, serviceId, i === 0 ? "prod" : `stage${i}`, "us-east-1");
        if (i === 0) await linkToInstance(key, prod, instanceId);
      }
    }
  }
  await ok(key, `{ viewer { orgs { slug } } }`); // settles the key's last-used write
  const before = harness().statements.count;
  const data = await ok(key, TREE, { slug });
  const statements = harness().statements.count - before;
  const leaves = data.org.apps.nodes.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.nodes));
  const sources = new Set(leaves.map((l: any) => l.effectiveProvider?.source ?? "LOCAL"));
  expect(leaves).to.have.length(apps * services * instances);
  if (apps * services * instances > 4) expect([...sources].sort()).to.deep.equal(["INSTANCE", "LOCAL", "SERVICE"]);
  return { statements, leaves: leaves.length };
}

describe("batched loading", () => {
  it("the statements for org { apps { services { instances { effectiveProvider } } } } do not grow with the page", async () => {
    const small = await statementsForTree("small", 1, 1, 1);
    const large = await statementsForTree("large", 3, 3, 4);
    expect(large.leaves).to.equal(36);
    expect(small.statements).to.be.greaterThan(0);
    expect(large.statements, `small page: ${small.statements} statements, large page: ${large.statements}`).to.equal(small.statements);
  });

  it("a dashboard page of every instance's effective parameters costs the same statements whatever its size", async () => {
    const PARAMETERS_TREE = `query($slug: String!) {
      org(slug: $slug) { parameters(first: 10) { nodes { name } }
        apps(first: 10) { nodes { services(first: 10) { nodes { parameters(first: 10) { nodes { name } }
          instances(first: 10) { nodes { stage parameters(first: 10) { nodes { name } }
            effectiveParameters { name source explanation parameter { value valueHint isSecret level } instance { stage region } service { name } } } } } } } }
      }
    }`;
    const pageOf = async (slug: string, apps: number, services: number, instances: number) => {
      const { key, orgId } = await newOrg(slug);
      await createParameter(key, orgId, "ORG_WIDE", "org");
      for (let a = 0; a < apps; a++) {
        const appId = await createApp(key, orgId, `app${a}`);
        for (let s = 0; s < services; s++) {
          const serviceId = await createService(key, appId, `service${s}`);
          await createParameter(key, serviceId, "DB_URL", `postgres://${a}-${s}`);
          await createParameter(key, serviceId, "TOKEN", `secret-${a}-${s}-0123456789abcdef`, { secret: true });
          const stageWide = await createInstance(key, serviceId, "prod", null);
          await createParameter(key, stageWide, "DB_URL", "postgres://prod");
          for (let i = 1; i < instances; i++) {
            const instanceId = await createInstance(key, serviceId, i === 1 ? "prod" : `stage${i}`, "us-east-1");
            if (i % 2 === 0) await createParameter(key, instanceId, "TOKEN", "plain override");
          }
        }
      }
      await ok(key, `{ viewer { orgs { slug } } }`); // settles the key's last-used write
      const before = harness().statements.count;
      const data = await ok(key, PARAMETERS_TREE, { slug });
      const statements = harness().statements.count - before;
      const leaves = data.org.apps.nodes.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.nodes));
      expect(leaves).to.have.length(apps * services * instances);
      const sources = new Set(leaves.flatMap((l: any) => l.effectiveParameters.map((p: any) => p.source)));
      expect([...sources].sort()).to.deep.equal(["INSTANCE", "ORG", "SERVICE"]);
      return statements;
    };
    const small = await pageOf("small", 1, 1, 3);
    const large = await pageOf("large", 3, 3, 4);
    expect(large, `small page: ${small} statements, large page: ${large} statements`).to.equal(small);
  });
});

/** The statements the server ran for one request (made twice: the first settles one-off writes such as a new instance). */
async function statementsOf(request: () => Promise<unknown>): Promise<number> {
  await request();
  const before = harness().statements.count;
  await request();
  return harness().statements.count - before;
}

const DASHBOARD = `query($slug: String!) { org(slug: $slug) { apps(first: 100) { nodes { name services(first: 100) { nodes { name
  instances(first: 100) { nodes { stage region effectiveProvider { source provider { name } } } } } } } } } }`;

/*
 * The hot paths' statement counts, pinned: a change that adds a round trip to one of them fails here
 * rather than only in `npm run bench`.
 */
describe("statements per request on the hot paths", () => {
  it("a trivial authenticated query is one statement: the key, its member's role and its last use together", async () => {
    const { key, orgId } = await newOrg("acme");
    const member = await memberWithKey(key, orgId, "dev@example.com", "DEVELOPER");
    expect(await statementsOf(() => ok(key, "{ viewer { __typename } }"))).to.equal(1);
    expect(await statementsOf(() => ok(member.token, "{ viewer { __typename } }"))).to.equal(1);
    // The last use is still written (at most once a minute), within that one statement.
    const [row] = await harness().application.dataSource.query("SELECT last_used_at FROM access_keys WHERE user_id IS NOT NULL");
    expect(row.last_used_at).to.be.instanceOf(Date);
  });

  it("the dashboard page is six statements: key, org, apps, services, instances, providers", async () => {
    const { key, orgId } = await newOrg("acme");
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    for (let a = 0; a < 2; a++) {
      const appId = await createApp(key, orgId, `app${a}`);
      for (let s = 0; s < 2; s++) {
        const serviceId = await createService(key, appId, `service${s}`);
        if (s === 0) await linkToService(key, dev, serviceId);
        for (let i = 0; i < 2; i++) await createInstance(key, serviceId, `stage${i}`, "us-east-1");
      }
    }
    expect(await statementsOf(() => ok(key, DASHBOARD, { slug: "acme" }))).to.equal(6);
    const data = await ok(key, DASHBOARD, { slug: "acme" });
    const sources = data.org.apps.nodes.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.nodes.map((i: any) => i.effectiveProvider?.source ?? null)));
    expect(sources).to.deep.equal(["SERVICE", "SERVICE", null, null, "SERVICE", "SERVICE", null, null]);
  });
});
