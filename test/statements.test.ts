import { expect } from "chai";
import { newOrg, ok } from "./client.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { createApp, createInstance, createKey, createParameter, createRoleProvider, createService, createTrustedRoleProvider, linkToInstance, linkToService, memberWithKey, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";
import { COMPILE_AFTER_RUNS } from "../src/http/execution.js";

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

  it("the dashboard page is two statements once it comes back (the key, then the SQL path's one); six on its first runs: key, org, apps, services, instances, providers", async () => {
    const { key, orgId } = await newOrg("acme");
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    for (let a = 0; a < 2; a++) {
      const appId = await createApp(key, orgId, `app${a}`);
      for (let s = 0; s < 2; s++) {
        const serviceId = await createService(key, appId, `service${s}`);
        if (s === 0) await linkToService(key, dev, serviceId);
        for (let i = 0; i < 2; i++) {
          const instanceId = await createInstance(key, serviceId, `stage${i}`, "us-east-1");
          if (i === 0) await linkToInstance(key, prod, instanceId);
        }
      }
    }
    // A document new to the server runs through the resolvers (graphql-js) its first COMPILE_AFTER_RUNS times.
    const page = `${DASHBOARD}\n# statements`;
    const counts: number[] = [];
    for (let run = 0; run <= COMPILE_AFTER_RUNS; run++) {
      const before = harness().statements.count;
      await ok(key, page, { slug: "acme" });
      counts.push(harness().statements.count - before);
    }
    expect(counts.slice(1)).to.deep.equal([...Array(COMPILE_AFTER_RUNS - 1).fill(6), 2]);
    const data = await ok(key, page, { slug: "acme" });
    const sources = data.org.apps.nodes.flatMap((a: any) => a.services.nodes.flatMap((s: any) => s.instances.nodes.map((i: any) => i.effectiveProvider?.source ?? null)));
    expect(sources).to.deep.equal(["INSTANCE", "SERVICE", "INSTANCE", null, "INSTANCE", "SERVICE", "INSTANCE", null]);
  });
});

describe("statements per deployment", () => {
  const DEPLOY = `mutation($stage: String!) { deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: $stage, region: "us-east-1" }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId } } warnings { code } userErrors { code } } }`;

  it("a deployment is three statements, none of them held across the STS call", async () => {
    const { key, orgId } = await newOrg("acme");
    const roleArn = ROLE_ARN("222222222222", "deploy");
    const providerId = await createRoleProvider(key, orgId, "prod", roleArn);
    const { node } = await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId });
    sts().addRole(roleArn, { externalId: node.credentials.externalId });
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    // The key; one read of the org, its pending profile migration, the service and instance by name and
    // the resolution with its provider; then, after STS, one statement: the app/service/instance upsert
    // with its audit event.
    expect(await statementsOf(() => ok(key, DEPLOY, { stage: "prod" }))).to.equal(3);
    // An org that refuses new stages pays nothing more for a redeployment, even with a key that may not add stages.
    await ok(key, `mutation($org: ID!) { updateOrgSettings(input: { orgId: $org, refuseNewStages: true }) { userErrors { code } } }`, { org: orgId });
    const { token: deployer } = await createKey(key, orgId, { role: "DEPLOYER", name: "ci" });
    await ok(deployer, `{ viewer { orgs { slug } } }`); // settles the key's last-used write
    expect(await statementsOf(() => ok(deployer, DEPLOY, { stage: "prod" }))).to.equal(3);
    await ok(key, `mutation($org: ID!) { updateOrgSettings(input: { orgId: $org, refuseNewStages: false }) { userErrors { code } } }`, { org: orgId });
    // The first deployment of a stage creates its instance in that same statement (the read before STS
    // counts the org's instances too), and pays three more for the org's instance limit: a transaction
    // (BEGIN, the org's lock, COMMIT) around the statement, which counts again under the lock.
    const before = harness().statements.count;
    const first = await ok(key, DEPLOY, { stage: "new-stage" });
    expect(first.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
    expect(first.deploymentCredentials.warnings.map((w: any) => w.code)).to.deep.equal(["NEW_STAGE"]);
    expect(harness().statements.count - before).to.equal(6);
    // Each issuance is recorded, against the instance that statement made or stamped.
    const events = await harness().application.dataSource.query(
      "SELECT e.action, e.outcome, i.stage, e.actor_label FROM audit_events e JOIN instances i ON i.id = e.target_id WHERE e.action = 'credentials.issue' ORDER BY e.occurred_at",
    );
    expect(events.map((e: any) => [e.action, e.outcome, e.stage])).to.deep.equal([
      ["credentials.issue", "SUCCESS", "prod"],
      ["credentials.issue", "SUCCESS", "prod"],
      ["credentials.issue", "SUCCESS", "prod"],
      ["credentials.issue", "SUCCESS", "prod"],
      ["credentials.issue", "SUCCESS", "new-stage"],
    ]);
    expect(events[0].actor_label).to.include("bootstrap admin key");
  });
});

describe("statements per deployment's parameters and per Serverless Framework deployment", () => {
  const PARAMETERS = `mutation { deploymentParameters(input: { org: "acme", app: "shop", service: "api", stage: "prod", region: "us-east-1" }) {
    parameters { name value } userErrors { code } } }`;
  const serverless = (orgUid: string, path = "") =>
    `${harness().url}/sls/v1/orgs/${orgUid}/services/${encodeURI("appName|shop|serviceName|api")}/instances/${encodeURI("appName|shop|serviceName|api|stage|prod|region|us-east-1")}${path}`;

  it("a deployment's parameters are six statements (the key, the org with the place, the values, the audit record in its transaction); the Serverless Framework's routes read the org by uid first", async () => {
    const { key, orgId } = await newOrg("acme");
    const { id: providerId } = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    const serviceId = await createService(key, await createApp(key, orgId, "shop"), "api");
    await createParameter(key, await createInstance(key, serviceId, "prod", "us-east-1"), "DB_URL", "postgres://prod");
    const { token: deployer } = await createKey(key, orgId, { role: "DEPLOYER", name: "ci" });
    await ok(deployer, `{ viewer { orgs { slug } } }`); // settles the key's last-used write
    const parameters = async () => expect((await ok(deployer, PARAMETERS)).deploymentParameters.parameters).to.deep.equal([{ name: "DB_URL", value: "postgres://prod" }]);
    // The audit record is an entity insert (AUDIT_LOG_FILE's sink sees it), which TypeORM wraps in
    // START TRANSACTION … COMMIT: three of the six.
    expect(await statementsOf(parameters)).to.equal(6);

    const orgUid = fromGlobalId(orgId)!.id;
    const get = async (url: string) => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${deployer}` } });
      expect(response.status).to.equal(200);
      return response.json() as Promise<any>;
    };
    expect(await statementsOf(async () => expect((await get(serverless(orgUid, "/params"))).result).to.have.length(1))).to.equal(7);
    // The key, the org by uid, the deployment's one read and its record (the instance exists).
    expect(await statementsOf(async () => expect((await get(serverless(orgUid))).result[0].providerDetails.accessKeyId).to.match(/^ASIA/))).to.equal(4);
  });
});

/**
 * An org where each of `members` admins acts with a personal key of their own: creates an app and a CI
 * key. So each audit event and each key has its own actor key, user and creator to load.
 */
async function orgWithActivity(slug: string, members: number): Promise<string> {
  const { key, orgId } = await newOrg(slug);
  for (let m = 0; m < members; m++) {
    const member = await memberWithKey(key, orgId, `admin${m}@${slug}.example.com`, "ADMIN");
    await createApp(member.token, orgId, `app${m}`);
    await createKey(member.token, orgId, { name: `ci ${m}`, role: "DEPLOYER" });
  }
  return key;
}

const AUDIT_EVENTS = `query($slug: String!) { org(slug: $slug) { auditEvents(first: 100) { totalCount nodes {
  action actorKey { name role user { email } createdBy { name } } actorUser { email } } } } }`;

const ACCESS_KEYS = `query($slug: String!) { org(slug: $slug) { accessKeys(first: 100) { totalCount nodes {
  name kind role user { email } createdBy { name user { email } } } } } }`;

describe("batched loading of the admin lists", () => {
  it("the statements for Org.auditEvents with each event's actor key and user do not grow with the page", async () => {
    const smallKey = await orgWithActivity("small", 1);
    const largeKey = await orgWithActivity("large", 6);
    const small = await statementsOf(() => ok(smallKey, AUDIT_EVENTS, { slug: "small" }));
    const large = await statementsOf(() => ok(largeKey, AUDIT_EVENTS, { slug: "large" }));
    const events = (await ok(largeKey, AUDIT_EVENTS, { slug: "large" })).org.auditEvents.nodes;
    // addMember, createAccessKey (personal), createApp, createAccessKey (CI) per member.
    expect(events).to.have.length(6 * 4);
    expect(new Set(events.map((e: any) => e.actorUser?.email).filter(Boolean)).size).to.equal(6);
    expect(large, `small page: ${small} statements, large page: ${large}`).to.equal(small);
  });

  it("the statements for Org.accessKeys with each key's role, user and creator do not grow with the page", async () => {
    const smallKey = await orgWithActivity("small", 1);
    const largeKey = await orgWithActivity("large", 6);
    const small = await statementsOf(() => ok(smallKey, ACCESS_KEYS, { slug: "small" }));
    const large = await statementsOf(() => ok(largeKey, ACCESS_KEYS, { slug: "large" }));
    const keys = (await ok(largeKey, ACCESS_KEYS, { slug: "large" })).org.accessKeys.nodes;
    // The bootstrap key, and a personal and a CI key per member; each CI key was made by its member's personal key.
    expect(keys).to.have.length(1 + 6 * 2);
    const ci = keys.filter((k: any) => k.kind === "ORG" && k.name.startsWith("ci "));
    expect(ci.map((k: any) => k.createdBy.user.email).sort()).to.deep.equal([0, 1, 2, 3, 4, 5].map((m) => `admin${m}@large.example.com`));
    expect(keys.filter((k: any) => k.kind === "PERSONAL").every((k: any) => k.role === "ADMIN" && k.user.email)).to.equal(true);
    expect(large, `small page: ${small} statements, large page: ${large}`).to.equal(small);
  });
  it("the statements for Org.deploymentProfileMigrations with each run's report, key and deployment do not grow with the page", async () => {
    const RUNS = `query($slug: String!) { org(slug: $slug) { deploymentProfileMigrations(first: 50) { totalCount nodes { id trigger actorLabel actorKey { name } deployment { stage region }
      report { providersCreated { provider { name } } providersExisting { profile { name } provider { name } }
        linksAdded { target service { name } instance { stage region } provider { name } } linksExisting { service { name } instance { region } provider { name } }
        linksSkipped { reason link { provider { name } } earlierMigration { id } } } } } } }`;
    /** An org with legacy profiles, migrated by `runs` runs: the first by a deployment, then by hand, each after a new stage mapping. */
    const orgWithRuns = async (slug: string, runs: number) => {
      const { key, orgId } = await newOrg(slug);
      const appId = await createApp(key, orgId, "app1");
      const serviceId = await createService(key, appId, "service1");
      await createInstance(key, serviceId, "prod", "eu-west-1");
      const profile = async (name: string, account: string) => {
        const arn = ROLE_ARN(account, name);
        sts().addRole(arn);
        return (await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, { input: { orgId, name, roleArn: arn } }))
          .createDeploymentProfile.deploymentProfile.id;
      };
      const map = (stage: string, deploymentProfileId: string) =>
        ok(key, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { userErrors { code } } }`, { input: { appId, stage, deploymentProfileId } });
      await map("default", await profile("dev", "111111111111"));
      const prod = await profile("prod", "222222222222");
      await map("prod", prod);
      await ok(key, `mutation { deploymentCredentials(input: { org: "${slug}", app: "app1", service: "service1", stage: "prod", region: "us-east-1" }) { userErrors { code } } }`);
      for (let run = 1; run < runs; run++) {
        await map(`stage${run}`, prod);
        await ok(key, `mutation($org: ID!) { migrateDeploymentProfiles(input: { orgId: $org }) { userErrors { code } } }`, { org: orgId });
      }
      return key;
    };
    // Two runs at least, so that both pages hold a run of each kind (the automatic one creates, the manual ones reuse).
    const smallKey = await orgWithRuns("small", 2);
    const largeKey = await orgWithRuns("large", 7);
    const small = await statementsOf(() => ok(smallKey, RUNS, { slug: "small" }));
    const large = await statementsOf(() => ok(largeKey, RUNS, { slug: "large" }));
    const runs = (await ok(largeKey, RUNS, { slug: "large" })).org.deploymentProfileMigrations;
    expect(runs.totalCount).to.equal(7);
    expect(runs.nodes.map((r: any) => r.trigger)).to.deep.equal(["MANUAL", "MANUAL", "MANUAL", "MANUAL", "MANUAL", "MANUAL", "AUTOMATIC"]);
    expect(runs.nodes[0].report.linksAdded.map((l: any) => l.instance.stage)).to.deep.equal(["stage6"]);
    expect(large, `small page: ${small} statements, large page: ${large}`).to.equal(small);
  });
});
