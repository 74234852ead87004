import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { issueAccessKey } from "../src/domain/access-keys.js";
import { authenticate } from "../src/domain/authentication.js";
import { RequestContext } from "../src/domain/context.js";
import { ProfileMigrationService, type MigrationReport } from "../src/domain/profile-migration.js";
import { CatalogService } from "../src/domain/catalog.js";
import { serverActor } from "../src/domain/context.js";
import { Role } from "../src/entities/index.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

const DEV_ARN = ROLE_ARN("111111111111", "deploy");
const PROD_ARN = ROLE_ARN("222222222222", "deploy");

const LINK = `target stage profileName service { name } instance { stage region } provider { name }`;
const MIGRATE = `mutation($org: ID!) { migrateDeploymentProfiles(input: { orgId: $org }) {
  userErrors { code field message }
  report {
    trigger
    providersCreated { profileName note provider { name credentials { ... on AwsRoleCredentials { roleArn externalId } } } }
    providersExisting { profileName note provider { name } }
    profilesSkipped { profileName reason message }
    linksAdded { ${LINK} }
    linksExisting { ${LINK} }
    conflicts { message link { ${LINK} } linkedProvider { name } }
  }
} }`;
const RERUN = `mutation($org: ID!) { migrateDeploymentProfiles(input: { orgId: $org }) {
  userErrors { code message }
  migration { id trigger }
  report {
    linksAdded { ${LINK} }
    linksExisting { ${LINK} }
    linksSkipped { reason message earlierMigration { id } link { ${LINK} } }
    conflicts { message }
  }
} }`;
const RUNS = `query($first: Int = 50, $after: String) { org(slug: "acme") { deploymentProfileMigrations(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id ranAt trigger actorLabel actorKey { name } requestId deployment { stage region }
    report { providersCreated { provider { name } } linksAdded { ${LINK} } linksSkipped { reason } } }
} } }`;
const EFFECTIVE = `query($id: ID!) { node(id: $id) { ... on Instance { providers { name } effectiveProvider { source provider { name } } } } }`;
const SERVICE_PROVIDERS = `query($id: ID!) { node(id: $id) { ... on Service { providers { name } resolveProvider(stage: "int", region: "us-east-1") { source provider { name } } } } }`;
const PROFILES = `query { org(slug: "acme") { deploymentProfiles { totalCount nodes { name roleArn migratedAt migratedProvider { name } } } } }`;

async function createProfile(key: string, orgId: string, name: string, roleArn: string | null = null): Promise<string> {
  const data = await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } userErrors { code message } } }`, {
    input: { orgId, name, roleArn },
  });
  if (data.createDeploymentProfile.userErrors.length) throw new Error(JSON.stringify(data.createDeploymentProfile.userErrors));
  return data.createDeploymentProfile.deploymentProfile.id;
}

async function mapStage(key: string, appId: string, stage: string, deploymentProfileId: string) {
  const data = await ok(key, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { stageProfile { stage } userErrors { code message } } }`, {
    input: { appId, stage, deploymentProfileId },
  });
  expect(data.setAppStageProfile.userErrors).to.deep.equal([]);
}

async function migrate(key: string, orgId: string) {
  const data = await ok(key, MIGRATE, { org: orgId });
  expect(data.migrateDeploymentProfiles.userErrors).to.deep.equal([]);
  return data.migrateDeploymentProfiles.report;
}

const effective = async (key: string, instanceId: string) => (await ok(key, EFFECTIVE, { id: instanceId })).node;
const names = (entries: Array<{ provider: { name: string } }>) => entries.map((e) => e.provider.name);

async function count(table: string): Promise<number> {
  const [row] = await harness().application.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`);
  return row.n;
}

async function auditActions(): Promise<string[]> {
  const rows: Array<{ action: string }> = await harness().application.dataSource.query("SELECT action FROM audit_events ORDER BY occurred_at, action");
  return rows.map((r) => r.action);
}

/** A domain context for the org, acting with the given key, on the pool (the service opens its own transaction). */
async function contextFor(key: string): Promise<RequestContext> {
  const { dataSource } = harness().application;
  return new RequestContext(await authenticate(dataSource, key), dataSource.manager);
}

describe("migrating from deployment profiles", () => {
  let key: string;
  let orgId: string;
  let appId: string;
  let serviceId: string;
  let devEast: string;
  let prodEast: string;
  let prodEu: string;

  /** The seed's example: app1 with service1, its `default` stage on the dev profile and `prod` on the prod profile. */
  async function seedExample(options: { devArn?: string | null } = {}) {
    const dev = await createProfile(key, orgId, "dev", options.devArn === undefined ? DEV_ARN : options.devArn);
    const prod = await createProfile(key, orgId, "prod", PROD_ARN);
    await mapStage(key, appId, "default", dev);
    await mapStage(key, appId, "prod", prod);
    return { dev, prod };
  }

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
    appId = await createApp(key, orgId, "app1");
    serviceId = await createService(key, appId, "service1");
    devEast = await createInstance(key, serviceId, "dev", "us-east-1");
    prodEast = await createInstance(key, serviceId, "prod", "us-east-1");
    prodEu = await createInstance(key, serviceId, "prod", "eu-west-1");
  });

  it("reproduces the seed's example: a provider per profile, default → service, prod → the prod instances", async () => {
    await seedExample();
    for (const instance of [devEast, prodEast, prodEu]) expect((await effective(key, instance)).effectiveProvider).to.equal(null);
    const stageProfiles = await ok(key, `query($id: ID!) { node(id: $id) { ... on App { stageProfiles { stage isDefaultStage profile { name } } } } }`, { id: appId });
    expect(stageProfiles.node.stageProfiles).to.deep.equal([
      { stage: "default", isDefaultStage: true, profile: { name: "dev" } },
      { stage: "prod", isDefaultStage: false, profile: { name: "prod" } },
    ]);

    const report = await migrate(key, orgId);
    expect(report.trigger).to.equal("MANUAL");
    expect(report.providersCreated.map((p: any) => [p.profileName, p.provider.name, p.provider.credentials.roleArn])).to.deep.equal([
      ["dev", "dev", DEV_ARN],
      ["prod", "prod", PROD_ARN],
    ]);
    expect(report.providersCreated[0].provider.credentials.externalId).to.be.a("string").with.length.greaterThan(20);
    expect(report.linksAdded).to.deep.equal([
      { target: "SERVICE", stage: "default", profileName: "dev", service: { name: "service1" }, instance: null, provider: { name: "dev" } },
      // The stage-wide prod instance, made by the migration: it covers prod in every region, new ones too.
      { target: "INSTANCE", stage: "prod", profileName: "prod", service: { name: "service1" }, instance: { stage: "prod", region: null }, provider: { name: "prod" } },
      { target: "INSTANCE", stage: "prod", profileName: "prod", service: { name: "service1" }, instance: { stage: "prod", region: "eu-west-1" }, provider: { name: "prod" } },
      { target: "INSTANCE", stage: "prod", profileName: "prod", service: { name: "service1" }, instance: { stage: "prod", region: "us-east-1" }, provider: { name: "prod" } },
    ]);
    expect(report).to.deep.include({ providersExisting: [], profilesSkipped: [], linksExisting: [], conflicts: [] });

    const service = (await ok(key, SERVICE_PROVIDERS, { id: serviceId })).node;
    expect(service.providers).to.deep.equal([{ name: "dev" }]);
    expect(service.resolveProvider).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
    expect(await effective(key, devEast)).to.deep.equal({ providers: [], effectiveProvider: { source: "SERVICE", provider: { name: "dev" } } });
    for (const instance of [prodEast, prodEu]) {
      expect(await effective(key, instance)).to.deep.equal({ providers: [{ name: "prod" }], effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });
    }

    // The profiles stay readable, marked as migrated.
    const profiles = (await ok(key, PROFILES)).org.deploymentProfiles;
    expect(profiles.totalCount).to.equal(2);
    expect(profiles.nodes.map((p: any) => [p.name, p.roleArn, p.migratedProvider?.name, typeof p.migratedAt])).to.deep.equal([
      ["dev", DEV_ARN, "dev", "string"],
      ["prod", PROD_ARN, "prod", "string"],
    ]);
    const actions = await auditActions();
    expect(actions.filter((a) => a === "provider.create")).to.have.length(2);
    expect(actions.filter((a) => a === "link.service")).to.have.length(1);
    expect(actions.filter((a) => a === "link.instance")).to.have.length(3); // prod's two regions and its stage-wide instance
    expect(actions.filter((a) => a === "profile.migrate")).to.have.length(2);
    expect(actions).to.include("profiles.migrate");
  });

  it("skips profiles without a role ARN and says so; their stages keep what they inherit", async () => {
    const { prod } = await seedExample();
    const legacy = await createProfile(key, orgId, "legacy");
    const qa = await createInstance(key, serviceId, "qa", "us-east-1");
    await mapStage(key, appId, "qa", legacy);
    void prod;

    const report = await migrate(key, orgId);
    expect(report.profilesSkipped).to.have.length(1);
    expect(report.profilesSkipped[0]).to.deep.include({ profileName: "legacy", reason: "NO_ROLE_ARN" });
    expect(report.profilesSkipped[0].message).to.match(/no AWS Access Role ARN/);
    expect(names(report.providersCreated)).to.deep.equal(["dev", "prod"]);
    expect(await count("providers")).to.equal(2);
    expect(await effective(key, qa)).to.deep.equal({ providers: [], effectiveProvider: { source: "SERVICE", provider: { name: "dev" } } });
    const legacyRow = (await ok(key, PROFILES)).org.deploymentProfiles.nodes.find((p: any) => p.name === "legacy");
    expect(legacyRow).to.deep.include({ roleArn: null, migratedProvider: null });
    expect(legacyRow.migratedAt).to.be.a("string");
  });

  it("a default stage whose profile has no ARN leaves the service without a provider", async () => {
    await seedExample({ devArn: null });
    const report = await migrate(key, orgId);
    expect(report.profilesSkipped.map((p: any) => p.profileName)).to.deep.equal(["dev"]);
    expect(report.linksAdded.map((l: any) => l.target)).to.deep.equal(["INSTANCE", "INSTANCE", "INSTANCE"]); // prod: stage-wide, eu-west-1, us-east-1
    expect((await effective(key, devEast)).effectiveProvider).to.equal(null);
  });

  it("running it again changes nothing and reports what already exists", async () => {
    await seedExample();
    await migrate(key, orgId);
    const before = { providers: await count("providers"), services: await count("service_provider_links"), instances: await count("instance_provider_links") };

    const again = await migrate(key, orgId);
    expect(again.providersCreated).to.deep.equal([]);
    expect(again.linksAdded).to.deep.equal([]);
    expect(again.conflicts).to.deep.equal([]);
    expect(names(again.providersExisting)).to.deep.equal(["dev", "prod"]);
    expect(again.linksExisting.map((l: any) => [l.target, l.provider.name])).to.deep.equal([
      ["SERVICE", "dev"],
      ["INSTANCE", "prod"], // the stage-wide prod instance
      ["INSTANCE", "prod"],
      ["INSTANCE", "prod"],
    ]);
    expect({ providers: await count("providers"), services: await count("service_provider_links"), instances: await count("instance_provider_links") }).to.deep.equal(before);
    expect(await harness().application.services.profileMigration.migrateIfPending(await contextFor(key))).to.equal(null);
  });

  it("never overwrites links set by hand; the report names each conflict", async () => {
    const manual = await createRoleProvider(key, orgId, "manual", ROLE_ARN("999999999999", "hand-made"));
    await linkToService(key, manual, serviceId);
    await linkToInstance(key, manual, prodEast);
    await seedExample();

    const report = await migrate(key, orgId);
    expect(report.conflicts.map((c: any) => [c.link.target, c.link.instance?.region ?? null, c.link.provider.name, c.linkedProvider.name])).to.deep.equal([
      ["SERVICE", null, "dev", "manual"],
      ["INSTANCE", "us-east-1", "prod", "manual"],
    ]);
    expect(report.conflicts[0].message).to.match(/service "service1" already has the provider "manual", linked by hand; it was kept/);
    expect(report.linksAdded.map((l: any) => [l.target, l.instance?.region])).to.deep.equal([
      ["INSTANCE", null], // the stage-wide prod instance
      ["INSTANCE", "eu-west-1"],
    ]);
    expect(await effective(key, prodEast)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "manual" } } });
    expect(await effective(key, devEast)).to.deep.include({ effectiveProvider: { source: "SERVICE", provider: { name: "manual" } } });
    expect(await effective(key, prodEu)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });
  });

  it("reuses a provider that already has the profile's name and ARN, and renames around one that does not", async () => {
    await createRoleProvider(key, orgId, "dev", DEV_ARN);
    await createRoleProvider(key, orgId, "prod", ROLE_ARN("333333333333", "other"));
    await seedExample();

    const report = await migrate(key, orgId);
    expect(report.providersExisting.map((p: any) => [p.profileName, p.provider.name])).to.deep.equal([["dev", "dev"]]);
    expect(report.providersExisting[0].note).to.match(/same role ARN already existed; it was reused/);
    expect(report.providersCreated.map((p: any) => [p.profileName, p.provider.name, p.provider.credentials.roleArn])).to.deep.equal([["prod", "prod-profile", PROD_ARN]]);
    expect(report.providersCreated[0].note).to.match(/belongs to another provider with different credentials/);
    expect(await count("providers")).to.equal(3);
    expect(await effective(key, prodEast)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "prod-profile" } } });
  });

  it("runs by itself on the first deployment credentials, and is one indexed query once nothing is pending", async () => {
    const { statements, application } = harness();
    const ctx = await contextFor(key);
    statements.count = 0;
    expect(await application.services.profileMigration.migrateIfPending(ctx)).to.equal(null);
    expect(statements.count).to.equal(1);

    await seedExample();
    const report = (await application.services.profileMigration.migrateIfPending(ctx)) as MigrationReport;
    expect(report.trigger).to.equal("AUTOMATIC");
    expect(report.providersCreated.map((p) => p.providerName)).to.deep.equal(["dev", "prod"]);
    expect(await effective(key, prodEast)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });

    statements.count = 0;
    expect(await application.services.profileMigration.migrateIfPending(ctx)).to.equal(null);
    expect(statements.count).to.equal(1);
    const [event] = await application.dataSource.query("SELECT actor_label, details FROM audit_events WHERE action = 'profiles.migrate'");
    expect(event.actor_label).to.match(/^org key "bootstrap admin key"/);
    expect(event.details.trigger).to.equal("AUTOMATIC");

    // A stage mapped after the migration makes the org pending again; the next run applies it.
    const staging = await createInstance(key, serviceId, "staging", "us-east-1");
    const prodProfile = (await ok(key, `query { org(slug: "acme") { deploymentProfiles { nodes { id name } } } }`)).org.deploymentProfiles.nodes.find((p: any) => p.name === "prod").id;
    await mapStage(key, appId, "staging", prodProfile);
    const next = (await application.services.profileMigration.migrateIfPending(ctx)) as MigrationReport;
    expect(next.providersCreated).to.deep.equal([]);
    expect(next.linksAdded.map((l) => [l.stage, l.region, l.providerName])).to.deep.equal([
      ["staging", null, "prod"], // the stage-wide staging instance
      ["staging", "us-east-1", "prod"],
    ]);
    expect(await effective(key, staging)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });
  });

  it("two concurrent callers on separate connections migrate the org once", async () => {
    await seedExample();
    const { application } = harness();
    const actor = (await contextFor(key)).actor;
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstIsInside!: () => void;
    const firstInside = new Promise<void>((resolve) => (firstIsInside = resolve));
    // The first caller pauses inside its migration, holding the lock, until the second waits on it.
    const paused = new ProfileMigrationService(application.services.catalog, application.services.providers, application.services.links, application.services.audit, {
      afterStep: async () => {
        firstIsInside();
        await firstMayFinish;
      },
    });
    const inTransaction = (service: ProfileMigrationService) =>
      application.dataSource.transaction((em) => service.migrateIfPending(new RequestContext(actor, em)));

    const first = inTransaction(paused);
    await firstInside;
    const second = inTransaction(application.services.profileMigration);
    for (;;) {
      const [row] = await application.dataSource.query(`SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      if (row.n > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    releaseFirst();
    const [a, b] = await Promise.all([first, second]);

    expect(a?.providersCreated.map((p) => p.providerName)).to.deep.equal(["dev", "prod"]);
    expect(b).to.equal(null);
    expect(await count("providers")).to.equal(2);
    expect(await count("instance_provider_links")).to.equal(3); // prod's two regions and its stage-wide instance
    expect((await auditActions()).filter((x) => x === "profiles.migrate")).to.have.length(1);
  });

  it("a failure half-way leaves nothing half-done", async () => {
    await seedExample();
    const { application } = harness();
    let links = 0;
    const failing = new ProfileMigrationService(application.services.catalog, application.services.providers, application.services.links, application.services.audit, {
      afterStep: (step) => {
        if (step === "link" && ++links === 2) throw new Error("the database went away");
      },
    });
    const ctx = await contextFor(key);
    const auditBefore = await count("audit_events");
    let failure: unknown;
    await failing.migrate(ctx, "MANUAL").catch((error) => (failure = error));
    expect((failure as Error)?.message).to.equal("the database went away");

    expect(await count("providers")).to.equal(0);
    expect(await count("service_provider_links")).to.equal(0);
    expect(await count("instance_provider_links")).to.equal(0);
    expect(await count("audit_events")).to.equal(auditBefore);
    expect(await application.services.profileMigration.hasPending(ctx)).to.equal(true);

    const report = (await application.services.profileMigration.migrateIfPending(ctx)) as MigrationReport;
    expect(report.linksAdded).to.have.length(4); // the service, and prod's stage-wide instance and two regions
  });

  it("checks its input and keeps the legacy writes to admins", async () => {
    const bad = await ok(key, `mutation($org: ID!) { createDeploymentProfile(input: { orgId: $org, name: "dev", roleArn: "arn:aws:iam::12:role/x" }) { deploymentProfile { id } userErrors { code field message } } }`, {
      org: orgId,
    });
    expect(bad.createDeploymentProfile.deploymentProfile).to.equal(null);
    expect(bad.createDeploymentProfile.userErrors).to.have.length(1);
    expect(bad.createDeploymentProfile.userErrors[0]).to.deep.include({ code: "INVALID_ROLE_ARN", field: ["input", "roleArn"] });

    const dev = await createProfile(key, orgId, "dev", DEV_ARN);
    const again = await ok(key, `mutation($org: ID!) { createDeploymentProfile(input: { orgId: $org, name: "dev" }) { userErrors { code } } }`, { org: orgId });
    expect(again.createDeploymentProfile.userErrors).to.deep.equal([{ code: "NAME_TAKEN" }]);

    const badStage = await ok(key, `mutation($app: ID!, $p: ID!) { setAppStageProfile(input: { appId: $app, stage: "no stage!", deploymentProfileId: $p }) { userErrors { code field } } }`, {
      app: appId,
      p: dev,
    });
    expect(badStage.setAppStageProfile.userErrors).to.deep.equal([{ code: "INVALID_STAGE", field: ["input", "stage"] }]);
    const missing = await ok(key, `mutation($app: ID!) { removeAppStageProfile(input: { appId: $app, stage: "prod" }) { userErrors { code } } }`, { app: appId });
    expect(missing.removeAppStageProfile.userErrors).to.deep.equal([{ code: "NOT_MAPPED" }]);

    const { token } = await issueAccessKey(harness().application.dataSource.manager, { orgId: fromGlobalId(orgId)!.id, name: "dev laptop", role: Role.DEVELOPER });
    const denied = await gql(token, MIGRATE, { org: orgId });
    expect(denied.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    const deniedDelete = await gql(token, `mutation($p: ID!) { deleteDeploymentProfile(input: { deploymentProfileId: $p }) { userErrors { code } } }`, { p: dev });
    expect(deniedDelete.errors?.[0].extensions?.code).to.equal("FORBIDDEN");

    await mapStage(key, appId, "default", dev);
    const deleted = await ok(key, `mutation($p: ID!) { deleteDeploymentProfile(input: { deploymentProfileId: $p }) { deletedDeploymentProfileId removedStageMappingCount userErrors { code } } }`, {
      p: dev,
    });
    expect(deleted.deleteDeploymentProfile).to.deep.equal({ deletedDeploymentProfileId: dev, removedStageMappingCount: 1, userErrors: [] });
    expect((await ok(key, PROFILES)).org.deploymentProfiles.totalCount).to.equal(0);
  });

  it("marks the legacy API deprecated, with the reason, and the migration not", async () => {
    const data = await ok(key, `{ __type(name: "Mutation") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`);
    const byName = new Map(data.__type.fields.map((f: any) => [f.name, f]));
    for (const name of ["createDeploymentProfile", "deleteDeploymentProfile", "setAppStageProfile", "removeAppStageProfile"]) {
      expect(byName.get(name)).to.deep.include({ isDeprecated: true, deprecationReason: "Deployment profiles are replaced by providers; run migrateDeploymentProfiles" });
    }
    expect(byName.get("migrateDeploymentProfiles")).to.deep.include({ isDeprecated: false });
  });

  it("another org cannot see or migrate this org's profiles", async () => {
    const dev = await createProfile(key, orgId, "dev", DEV_ARN);
    const other = await newOrg("other");
    expect((await ok(other.key, `query($id: ID!) { node(id: $id) { id } }`, { id: dev })).node).to.equal(null);
    const foreign = await gql(other.key, MIGRATE, { org: orgId });
    expect(foreign.errors?.[0].extensions?.code).to.equal("NOT_FOUND");
    expect(await count("providers")).to.equal(0);
  });

  it("providers-api migrate-profiles --org prints the report as JSON and audits the server as the actor", async () => {
    await seedExample();
    const { databaseUrl, masterKey } = harness();
    const cli = path.join(__dirname, "..", "src", "cli.js");
    const { stdout } = await promisify(execFile)(process.execPath, [cli, "migrate-profiles", "--org", "acme"], {
      env: { ...process.env, DATABASE_URL: databaseUrl, PROVIDERS_MASTER_KEY: masterKey.toString("base64"), LOG_LEVEL: "silent" },
    });
    const report = JSON.parse(stdout);
    expect(report.trigger).to.equal("CLI");
    expect(report.providersCreated.map((p: { providerName: string }) => p.providerName)).to.deep.equal(["dev", "prod"]);
    expect(report.linksAdded).to.have.length(4); // the service, and prod's stage-wide instance and two regions
    const [event] = await harness().application.dataSource.query("SELECT actor_key_id, actor_label FROM audit_events WHERE action = 'profiles.migrate'");
    expect(event).to.deep.equal({ actor_key_id: null, actor_label: "providers-api migrate-profiles (CLI)" });
    expect(await effective(key, prodEast)).to.deep.include({ effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });
  });
  it("a rerun adds only what no earlier run did: links an admin unlinked or replaced stay as the admin left them, and the report says why", async () => {
    await seedExample();
    const first = (await ok(key, RERUN, { org: orgId })).migrateDeploymentProfiles;
    expect(first.report.linksAdded).to.have.length(4);
    const providerIds = Object.fromEntries(
      (await ok(key, `{ org(slug: "acme") { providers { nodes { id name } } } }`)).org.providers.nodes.map((p: any) => [p.name, p.id]),
    );
    await ok(key, `mutation($input: ServiceProviderInput!) { unlinkProviderFromService(input: $input) { userErrors { code } } }`, { input: { providerId: providerIds.dev, serviceId } });
    await ok(key, `mutation($input: InstanceProviderInput!) { unlinkProviderFromInstance(input: $input) { userErrors { code } } }`, { input: { providerId: providerIds.prod, instanceId: prodEast } });
    const manual = await createRoleProvider(key, orgId, "manual", ROLE_ARN("999999999999", "hand-made"));
    await linkToInstance(key, manual, prodEu);
    const links = { services: await count("service_provider_links"), instances: await count("instance_provider_links") };

    for (let run = 0; run < 2; run++) {
      const again = (await ok(key, RERUN, { org: orgId })).migrateDeploymentProfiles;
      expect(again.userErrors).to.deep.equal([]);
      expect(again.report.linksAdded, "a repeat adds nothing").to.deep.equal([]);
      expect(again.report.conflicts).to.deep.equal([]);
      expect(again.report.linksExisting.map((l: any) => [l.target, l.instance?.region])).to.deep.equal([["INSTANCE", null]]);
      expect(again.report.linksSkipped.map((l: any) => [l.reason, l.link.target, l.link.instance?.region ?? null, l.link.provider.name])).to.deep.equal([
        ["UNLINKED_SINCE", "SERVICE", null, "dev"],
        ["REPLACED_SINCE", "INSTANCE", "eu-west-1", "prod"],
        ["UNLINKED_SINCE", "INSTANCE", "us-east-1", "prod"],
      ]);
      for (const skipped of again.report.linksSkipped) expect(skipped.earlierMigration.id).to.equal(first.migration.id);
      expect(again.report.linksSkipped[0].message).to.match(/^The service "service1" has no AWS provider: the migration of .+ linked "dev" there, and someone unlinked it since; it was not linked again/);
      expect(again.report.linksSkipped[1].message).to.match(/has the provider "manual": .*someone linked "manual" instead since; it was kept/);
      expect({ services: await count("service_provider_links"), instances: await count("instance_provider_links") }).to.deep.equal(links);
    }
    // As the admin left it: prod us-east-1 inherits the stage-wide prod link, eu-west-1 keeps manual, dev has nothing.
    expect(await effective(key, prodEast)).to.deep.equal({ providers: [], effectiveProvider: { source: "INSTANCE", provider: { name: "prod" } } });
    expect((await effective(key, prodEu)).effectiveProvider).to.deep.equal({ source: "INSTANCE", provider: { name: "manual" } });
    expect((await effective(key, devEast)).effectiveProvider).to.equal(null);
  });

  it("a stage-wide instance past MAX_INSTANCES_PER_ORG is not made: the regional links are, and the report says what to do", async () => {
    await seedExample();
    const { application } = harness();
    const { audit, providers, links } = application.services;
    // The org has its three instances: exactly the limit.
    const limited = new ProfileMigrationService(new CatalogService(audit, { extraRegions: [], maxInstancesPerOrg: 3 }), providers, links, audit);
    const report = await limited.migrate(await contextFor(key), "MANUAL");
    expect(report.linksAdded.map((l) => [l.target, l.region])).to.deep.equal([
      ["SERVICE", null],
      ["INSTANCE", "eu-west-1"],
      ["INSTANCE", "us-east-1"],
    ]);
    expect(report.linksSkipped.map((l) => [l.reason, l.serviceName, l.stage, l.instanceId])).to.deep.equal([["INSTANCE_LIMIT_REACHED", "service1", "prod", null]]);
    expect(report.linksSkipped[0].message).to.match(/MAX_INSTANCES_PER_ORG.*Raise the limit or delete unused instances, then run the migration again/);
    expect(await count("instances")).to.equal(3);
    // With room again, a rerun makes and links it, and does not touch what the first run did.
    const rerun = await application.services.profileMigration.migrate(await contextFor(key), "MANUAL");
    expect(rerun.linksAdded.map((l) => [l.target, l.region])).to.deep.equal([["INSTANCE", null]]);
    expect(rerun.linksSkipped).to.deep.equal([]);
  });

  it("the database gone half-way through an automatic run: nothing of it stays, not even the deployment's instance, and the next deployment migrates", async () => {
    await seedExample();
    const { application } = harness();
    const { catalog, audit, providers, links } = application.services;
    const instancesBefore = await count("instances");
    let linksDone = 0;
    // The run's own connection is cut by the server after its second link: the database went away.
    const cut = new ProfileMigrationService(catalog, providers, links, audit, {
      afterStep: async (step, ctx) => {
        if (step === "link" && ++linksDone === 2) await ctx.em.query("SELECT pg_terminate_backend(pg_backend_pid())");
      },
    });
    const ctx = await contextFor(key);
    const place = { app: "app1", service: "service1", stage: "qa", region: "eu-central-1" };
    let failure: unknown;
    await cut.migrateIfPending(ctx, (tx) => catalog.recordDeployment(tx, place)).catch((error) => (failure = error));
    expect(String(failure)).to.match(/terminat|Connection/i);

    for (const table of ["providers", "service_provider_links", "instance_provider_links", "profile_migration_runs", "profile_migration_links"]) expect(await count(table), table).to.equal(0);
    expect(await count("instances")).to.equal(instancesBefore);
    expect(await application.services.profileMigration.hasPending(await contextFor(key))).to.equal(true);

    sts().addRole(PROD_ARN);
    const deployed = await ok(key, `mutation { deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: "prod", region: "ap-south-1" }) {
      resolution { source provider { name } } profileMigration { trigger } } }`);
    expect(deployed.deploymentCredentials).to.deep.equal({ resolution: { source: "INSTANCE", provider: { name: "prod" } }, profileMigration: { trigger: "AUTOMATIC" } });
    expect(await count("profile_migration_runs")).to.equal(1);
  });
});

describe("the record of migration runs", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
    const appId = await createApp(key, orgId, "app1");
    const serviceId = await createService(key, appId, "service1");
    await createInstance(key, serviceId, "prod", "eu-west-1");
    for (const [name, roleArn, stage] of [["dev", DEV_ARN, "default"], ["prod", PROD_ARN, "prod"]]) {
      await mapStage(key, appId, stage, await createProfile(key, orgId, name, roleArn));
      sts().addRole(roleArn);
    }
  });

  /** An automatic run (a deployment), a manual one, then one from the CLI. */
  async function threeRuns() {
    const deployed = await ok(key, `mutation { deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: "prod", region: "us-east-1" }) { profileMigration { id } } }`);
    const manual = (await ok(key, RERUN, { org: orgId })).migrateDeploymentProfiles.migration;
    const { application } = harness();
    const em = application.dataSource.manager;
    await application.services.profileMigration.migrate(new RequestContext(serverActor(fromGlobalId(orgId)!.id, "providers-api migrate-profiles (CLI)"), em), "CLI");
    return { automatic: deployed.deploymentCredentials.profileMigration.id as string, manual: manual.id as string };
  }

  it("lists every run on the org, newest first and paginated, with what and who triggered it, under global ids node() answers", async () => {
    const { automatic, manual } = await threeRuns();
    const page1 = (await ok(key, RUNS, { first: 2 })).org.deploymentProfileMigrations;
    expect(page1.totalCount).to.equal(3);
    expect(page1.pageInfo.hasNextPage).to.equal(true);
    expect(page1.nodes.map((n: any) => n.trigger)).to.deep.equal(["CLI", "MANUAL"]);
    expect(page1.nodes[0]).to.deep.include({ actorLabel: "providers-api migrate-profiles (CLI)", actorKey: null, deployment: null });
    expect(page1.nodes[1]).to.deep.include({ id: manual, actorKey: { name: "bootstrap admin key" }, deployment: null });
    const page2 = (await ok(key, RUNS, { first: 2, after: page1.pageInfo.endCursor })).org.deploymentProfileMigrations;
    expect(page2.pageInfo.hasNextPage).to.equal(false);
    expect(page2.nodes).to.have.length(1);
    const [auto] = page2.nodes;
    expect(auto).to.deep.include({ id: automatic, trigger: "AUTOMATIC", actorKey: { name: "bootstrap admin key" }, deployment: { stage: "prod", region: "us-east-1" } });
    expect(auto.actorLabel).to.match(/^org key "bootstrap admin key"/);
    expect(auto.requestId).to.be.a("string");
    expect(auto.report.providersCreated.map((p: any) => p.provider.name)).to.deep.equal(["dev", "prod"]);
    // The stage-wide prod instance, the deploying us-east-1 one and the eu-west-1 one, and the service.
    expect(auto.report.linksAdded.map((l: any) => [l.target, l.instance?.region ?? null])).to.deep.equal([
      ["SERVICE", null],
      ["INSTANCE", null],
      ["INSTANCE", "eu-west-1"],
      ["INSTANCE", "us-east-1"],
    ]);

    // Opaque global ids of their own type, not the table's uuids.
    for (const id of [automatic, manual]) {
      expect(id).to.not.match(/^[0-9a-f-]{36}$/);
      expect(fromGlobalId(id)?.type).to.equal("DeploymentProfileMigration");
    }
    const NODE = `query($id: ID!) { node(id: $id) { id ... on DeploymentProfileMigration { trigger } } }`;
    expect((await ok(key, NODE, { id: automatic })).node).to.deep.equal({ id: automatic, trigger: "AUTOMATIC" });
    const developer = await createKey(key, orgId, { role: "DEVELOPER", name: "dev laptop" });
    expect((await ok(developer.token, NODE, { id: automatic })).node).to.equal(null);
    const listed = await gql(developer.token, RUNS);
    expect(listed.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    const other = await newOrg("other");
    expect((await ok(other.key, NODE, { id: automatic })).node).to.equal(null);
  });

  it("refuses a cursor it did not issue and a page size out of range, with a sentence", async () => {
    await threeRuns();
    const forged = await gql(key, RUNS, { after: Buffer.from(JSON.stringify(["x", "not-a-uuid"])).toString("base64url") });
    expect(forged.errors?.[0].extensions?.code).to.equal("BAD_USER_INPUT");
    expect(forged.errors?.[0].message).to.match(/cursor/);
    for (const first of [0, 101]) {
      const result = await gql(key, RUNS, { first });
      expect(result.errors?.[0].extensions?.code, String(first)).to.equal("BAD_USER_INPUT");
    }
  });

  it("a run read back later leaves out what was deleted since", async () => {
    const { automatic } = await threeRuns();
    const instances = (await ok(key, `{ org(slug: "acme") { apps { nodes { services { nodes { instances { nodes { id region } } } } } } } }`)).org.apps.nodes[0].services.nodes[0].instances.nodes;
    const eu = instances.find((i: any) => i.region === "eu-west-1").id;
    const deleted = await ok(key, `mutation($id: ID!) { deleteInstance(input: { instanceId: $id, force: true }) { userErrors { code } } }`, { id: eu });
    expect(deleted.deleteInstance.userErrors).to.deep.equal([]);
    const run = (await ok(key, `query($id: ID!) { node(id: $id) { ... on DeploymentProfileMigration { report { linksAdded { instance { region } } } } } }`, { id: automatic })).node;
    expect(run.report.linksAdded.map((l: any) => l.instance?.region ?? null)).to.deep.equal([null, null, "us-east-1"]);
  });
});
