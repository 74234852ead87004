import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createRoleProvider, createService, externalIdOf, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

/*
 * The escape a scoped DEVELOPER key made before scopes covered providers and links: it read prod's
 * role ARN and external id, linked prod to its own feature-x instance, deployed feature-x with prod's
 * role, and replaced the service-wide link so that stage dev (outside its scope) deployed with prod.
 * Each step is driven here exactly as an attacker would, over HTTP, and must be refused and audited.
 */

const DEV_ROLE = ROLE_ARN("111111111111", "dev");
const PROD_ROLE = ROLE_ARN("222222222222", "prod");
const PREVIEW_ROLE = ROLE_ARN("333333333333", "preview");

const DEPLOY = `mutation($stage: String!) {
  deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: $stage, region: "us-east-1" }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId } }
    resolution { provider { name } source }
    userErrors { code }
  }
}`;
const CREDENTIALS = `query($id: ID!) { node(id: $id) { ... on Provider { name credentials { ... on AwsRoleCredentials { roleArn externalId } } } } }`;
const LINK_INSTANCE = `mutation($input: InstanceProviderInput!) { linkProviderToInstance(input: $input) { replacedProvider { name } userErrors { code } } }`;
const UNLINK_INSTANCE = `mutation($input: InstanceProviderInput!) { unlinkProviderFromInstance(input: $input) { userErrors { code } } }`;
const LINK_SERVICE = `mutation($input: ServiceProviderInput!) { linkProviderToService(input: $input) { replacedProvider { name } userErrors { code } } }`;
const UNLINK_SERVICE = `mutation($input: ServiceProviderInput!) { unlinkProviderFromService(input: $input) { userErrors { code } } }`;
const SET_DEFAULT = `mutation($input: ProviderIdInput!) { setDefaultProvider(input: $input) { provider { name } userErrors { code } } }`;

async function deniedScopeEvents(): Promise<Array<{ operation: string; target_id: string | null }>> {
  return harness().application.dataSource.query(
    `SELECT details->>'operation' AS operation, target_id FROM audit_events WHERE outcome = 'DENIED' AND action = 'authorization.scope' ORDER BY occurred_at, id`,
  );
}

async function links(): Promise<string[]> {
  const rows: Array<{ link: string }> = await harness().application.dataSource.query(
    `SELECT 'service ' || s.name || ' → ' || p.name AS link FROM service_provider_links l JOIN services s ON s.id = l.service_id JOIN providers p ON p.id = l.provider_id
     UNION ALL
     SELECT 'instance ' || i.stage || ' → ' || p.name FROM instance_provider_links l JOIN instances i ON i.id = l.instance_id JOIN providers p ON p.id = l.provider_id
     ORDER BY 1`,
  );
  return rows.map((r) => r.link);
}

describe("a scoped key cannot escape its scope through providers and links", () => {
  let admin: string;
  let orgId: string;
  let ids: { dev: string; prod: string; preview: string; service: string; prodInstance: string; featureX: string; featureY: string };

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    const dev = await createRoleProvider(admin, orgId, "dev", DEV_ROLE);
    const prod = await createRoleProvider(admin, orgId, "prod", PROD_ROLE);
    const preview = await createRoleProvider(admin, orgId, "preview", PREVIEW_ROLE);
    const service = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    await linkToService(admin, dev, service);
    const prodInstance = await createInstance(admin, service, "prod");
    await linkToInstance(admin, prod, prodInstance);
    const featureX = await createInstance(admin, service, "feature-x");
    const featureY = await createInstance(admin, service, "feature-y");
    await linkToInstance(admin, dev, featureY);
    ids = { dev, prod, preview, service, prodInstance, featureX, featureY };
    for (const [roleArn, id] of [[DEV_ROLE, dev], [PROD_ROLE, prod], [PREVIEW_ROLE, preview]]) sts().addRole(roleArn, { externalId: await externalIdOf(admin, id) });
  });

  it("a feature-* DEVELOPER key: reading prod's role, linking prod to feature-x, deploying with it and replacing the service link are each refused and audited", async () => {
    const { token: scoped } = await createKey(admin, orgId, {
      role: "DEVELOPER",
      name: "preview pipeline",
      scope: { apps: ["shop"], stages: ["feature-*"], linkableProviderIds: [ids.preview] },
    });
    const prodExternalId = await externalIdOf(admin, ids.prod);

    // 1. Reading prod's role ARN and external id: refused. Summaries (name, type, kind) stay readable.
    const read = await gql(scoped, CREDENTIALS, { id: ids.prod });
    expect(read.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    const listed = await gql(scoped, `{ org(slug: "acme") { providers { nodes { name type kind credentials { ... on AwsRoleCredentials { roleArn } } } } } }`);
    expect(listed.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    for (const answer of [read, listed]) {
      expect(JSON.stringify(answer)).not.to.contain(PROD_ROLE);
      expect(JSON.stringify(answer)).not.to.contain(prodExternalId);
    }
    const summaries = (await ok(scoped, `{ org(slug: "acme") { providers { nodes { name type kind } } } }`)).org.providers.nodes;
    expect(summaries.map((p: { name: string }) => p.name)).to.deep.equal(["dev", "preview", "prod"]);

    // 2. Linking prod to its own feature-x instance: refused, nothing linked.
    const linked = await gql(scoped, LINK_INSTANCE, { input: { providerId: ids.prod, instanceId: ids.featureX } });
    expect(linked.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect(linked.errors?.[0].message).to.contain('"prod"');

    // 3. Deploying feature-x: it gets what the admin set up (dev, from the service), never prod's role.
    const deployed = (await ok(scoped, DEPLOY, { stage: "feature-x" })).deploymentCredentials;
    expect(deployed.resolution).to.deep.equal({ provider: { name: "dev" }, source: "SERVICE" });
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([DEV_ROLE]);

    // 4. Replacing (or removing) the service-wide link, which stage dev inherits: refused.
    const replaced = await gql(scoped, LINK_SERVICE, { input: { providerId: ids.prod, serviceId: ids.service } });
    expect(replaced.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    const unlinked = await gql(scoped, UNLINK_SERVICE, { input: { providerId: ids.dev, serviceId: ids.service } });
    expect(unlinked.errors?.[0].extensions?.code).to.equal("FORBIDDEN");

    // Nothing changed: dev still deploys with dev, for everyone.
    expect(await links()).to.deep.equal(["instance feature-y → dev", "instance prod → prod", "service api → dev"]);
    const dev = (await ok(admin, DEPLOY, { stage: "dev" })).deploymentCredentials;
    expect(dev.resolution).to.deep.equal({ provider: { name: "dev" }, source: "SERVICE" });

    // Every refusal is in the audit trail, naming the operation (and the provider it was about).
    const denied = await deniedScopeEvents();
    // Every step refused and audited; events written in the same instant have no order to check.
    expect(denied.map((d) => d.operation).sort()).to.deep.equal(
      [
        // node(prod), then each of the three providers listed.
        ...Array(4).fill("Provider.credentials"),
        "link.instance",
        "linkProviderToService",
        "unlinkProviderFromService",
      ].sort(),
    );
    const { id: prodUuid } = (await harness().application.dataSource.query("SELECT id FROM providers WHERE name = 'prod'"))[0];
    expect(denied.find((d) => d.operation === "link.instance")?.target_id).to.equal(prodUuid);
  });

  it("a scoped key links and unlinks the providers an admin allowed, on instances in its scope only, and never replaces one it was not allowed", async () => {
    const { token: scoped } = await createKey(admin, orgId, {
      role: "DEVELOPER",
      scope: { stages: ["feature-*"], linkableProviderIds: [ids.preview] },
    });
    const allowed = (await ok(scoped, LINK_INSTANCE, { input: { providerId: ids.preview, instanceId: ids.featureX } })).linkProviderToInstance;
    expect(allowed).to.deep.equal({ replacedProvider: null, userErrors: [] });
    const deployed = (await ok(scoped, DEPLOY, { stage: "feature-x" })).deploymentCredentials;
    expect(deployed.resolution).to.deep.equal({ provider: { name: "preview" }, source: "INSTANCE" });

    // feature-y has dev, which the key was not allowed: replacing it would remove dev.
    const replace = await gql(scoped, LINK_INSTANCE, { input: { providerId: ids.preview, instanceId: ids.featureY } });
    expect(replace.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect(replace.errors?.[0].message).to.contain('"dev"');
    const unlinkDev = await gql(scoped, UNLINK_INSTANCE, { input: { providerId: ids.dev, instanceId: ids.featureY } });
    expect(unlinkDev.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    // prod's instance is outside the scope: it does not exist for the key.
    const outside = await gql(scoped, LINK_INSTANCE, { input: { providerId: ids.preview, instanceId: ids.prodInstance } });
    expect(outside.errors?.[0].extensions?.code).to.equal("NOT_FOUND");

    const unlinked = (await ok(scoped, UNLINK_INSTANCE, { input: { providerId: ids.preview, instanceId: ids.featureX } })).unlinkProviderFromInstance;
    expect(unlinked.userErrors).to.deep.equal([]);
    expect(await links()).to.deep.equal(["instance feature-y → dev", "instance prod → prod", "service api → dev"]);
    expect((await deniedScopeEvents()).map((d) => d.operation).sort()).to.deep.equal(["link.instance", "unlink.instance"]);
  });

  it("a scoped key without allowed providers links none; a scoped ADMIN key changes no default, provider, member or profile", async () => {
    const { token: developer } = await createKey(admin, orgId, { role: "DEVELOPER", scope: { stages: ["feature-*"] } });
    const none = await gql(developer, LINK_INSTANCE, { input: { providerId: ids.preview, instanceId: ids.featureX } });
    expect(none.errors?.[0].extensions?.code).to.equal("FORBIDDEN");

    const { token: scopedAdmin } = await createKey(admin, orgId, { role: "ADMIN", scope: { stages: ["feature-*"] } });
    const attempts: Array<[string, Record<string, unknown>]> = [
      [SET_DEFAULT, { input: { providerId: ids.prod } }],
      [`mutation($input: UnsetDefaultProviderInput!) { unsetDefaultProvider(input: $input) { userErrors { code } } }`, { input: { orgId, type: "AWS" } }],
      [`mutation($input: UpdateProviderInput!) { updateProvider(input: $input) { userErrors { code } } }`, { input: { providerId: ids.prod, aws: { role: { roleArn: ROLE_ARN("999999999999", "mine") } } } }],
      [`mutation($input: ProviderIdInput!) { deleteProvider(input: $input) { userErrors { code } } }`, { input: { providerId: ids.prod } }],
      [`mutation($input: ProviderIdInput!) { verifyProvider(input: $input) { userErrors { code } } }`, { input: { providerId: ids.prod } }],
      [`mutation($input: AddMemberInput!) { addMember(input: $input) { userErrors { code } } }`, { input: { orgId, email: "mallory@example.com", role: "ADMIN" } }],
      [`mutation($input: MigrateDeploymentProfilesInput!) { migrateDeploymentProfiles(input: $input) { userErrors { code } } }`, { input: { orgId } }],
      [`{ org(slug: "acme") { auditEvents { totalCount } } }`, {}],
    ];
    for (const [query, variables] of attempts) {
      const refused = await gql(scopedAdmin, query, variables);
      expect(refused.errors?.[0].extensions?.code, query).to.equal("FORBIDDEN");
    }
    const [{ defaults }] = await harness().application.dataSource.query("SELECT count(*)::int AS defaults FROM providers WHERE is_default");
    expect(defaults).to.equal(0);
    expect((await deniedScopeEvents()).map((d) => d.operation)).to.deep.equal([
      "link.instance",
      "setDefaultProvider",
      "unsetDefaultProvider",
      "updateProvider",
      "deleteProvider",
      "verifyProvider",
      "addMember",
      "migrateDeploymentProfiles",
      "Org.auditEvents",
    ]);
  });

  it("an unscoped DEVELOPER key keeps today's rights: it reads credentials and links any provider anywhere", async () => {
    const { token } = await createKey(admin, orgId, { role: "DEVELOPER" });
    expect((await ok(token, CREDENTIALS, { id: ids.prod })).node.credentials.roleArn).to.equal(PROD_ROLE);
    expect((await ok(token, LINK_SERVICE, { input: { providerId: ids.preview, serviceId: ids.service } })).linkProviderToService.replacedProvider).to.deep.equal({ name: "dev" });
    expect((await ok(token, LINK_INSTANCE, { input: { providerId: ids.prod, instanceId: ids.featureX } })).linkProviderToInstance.userErrors).to.deep.equal([]);
    expect(await deniedScopeEvents()).to.deep.equal([]);
  });

  it("an admin names the providers a scoped key may link; another org's or an unknown one is refused, and the key shows them", async () => {
    const other = await newOrg("other");
    const foreign = await createRoleProvider(other.key, other.orgId, "theirs", ROLE_ARN("555555555555", "theirs"));
    const CREATE = `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) {
      accessKey { scope { stages linkableProviders { name } } } userErrors { code field } } }`;
    const refused = (await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEVELOPER", scope: { stages: ["feature-*"], linkableProviderIds: [ids.preview, foreign] } } }))
      .createAccessKey;
    expect(refused.userErrors).to.deep.equal([{ code: "INVALID_SCOPE", field: ["input", "scope", "linkableProviderIds"] }]);
    const made = (await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEVELOPER", scope: { stages: ["feature-*"], linkableProviderIds: [ids.preview] } } })).createAccessKey;
    expect(made.accessKey.scope).to.deep.equal({ stages: ["feature-*"], linkableProviders: [{ name: "preview" }] });
  });
});

describe("legacy deployment profiles under roles and scopes", () => {
  it("are readable by DEVELOPER and above only, and a scoped key sees those of its stages, without role ARNs", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const appId = await createApp(admin, orgId, "shop");
    const profileIds: Record<string, string> = {};
    for (const [name, stage] of [["legacy-default", "default"], ["legacy-prod", "prod"], ["legacy-preview", "feature-x"]]) {
      const made = await ok(admin, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, {
        input: { orgId, name, roleArn: ROLE_ARN("222222222222", name) },
      });
      profileIds[name] = made.createDeploymentProfile.deploymentProfile.id;
      await ok(admin, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { userErrors { code } } }`, {
        input: { appId, stage, deploymentProfileId: profileIds[name] },
      });
    }
    const PROFILES = `{ org(slug: "acme") { deploymentProfiles { totalCount nodes { name } } apps { nodes { stageProfiles { stage profile { name } } } } } }`;

    const deployer = (await createKey(admin, orgId, { role: "DEPLOYER" })).token;
    for (const query of [`{ org(slug: "acme") { deploymentProfiles { nodes { name } } } }`, `{ org(slug: "acme") { apps { nodes { stageProfiles { stage } } } } }`]) {
      const refused = await gql(deployer, query);
      expect(refused.errors?.map((e) => e.extensions?.code), query).to.deep.equal(["FORBIDDEN"]);
      expect(JSON.stringify(refused)).not.to.contain("legacy-prod");
    }
    expect((await ok(deployer, `query($id: ID!) { node(id: $id) { id } }`, { id: profileIds["legacy-prod"] })).node).to.equal(null);

    const developer = (await createKey(admin, orgId, { role: "DEVELOPER" })).token;
    const all = (await ok(developer, PROFILES)).org;
    expect(all.deploymentProfiles.nodes.map((p: { name: string }) => p.name)).to.deep.equal(["legacy-default", "legacy-preview", "legacy-prod"]);

    const scoped = (await createKey(admin, orgId, { role: "DEVELOPER", scope: { stages: ["feature-*"] } })).token;
    const seen = (await ok(scoped, PROFILES)).org;
    expect(seen.deploymentProfiles).to.deep.equal({ totalCount: 2, nodes: [{ name: "legacy-default" }, { name: "legacy-preview" }] });
    expect(seen.apps.nodes[0].stageProfiles).to.deep.equal([
      { stage: "default", profile: { name: "legacy-default" } },
      { stage: "feature-x", profile: { name: "legacy-preview" } },
    ]);
    expect((await ok(scoped, `query($id: ID!) { node(id: $id) { id } }`, { id: profileIds["legacy-prod"] })).node).to.equal(null);
    const arn = await gql(scoped, `{ org(slug: "acme") { deploymentProfiles { nodes { name roleArn } } } }`);
    expect(arn.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect(JSON.stringify(arn)).not.to.contain("arn:aws");
  });
});
