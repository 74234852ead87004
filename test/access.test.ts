import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { addMember, createApp, createInstance, createKey, createRoleProvider, createService, linkToInstance, linkToService, memberWithKey, ROLE_ARN } from "./fixtures.js";
import { harness } from "./setup.js";

const code = (result: { errors?: Array<{ extensions?: { code?: string } }> }) => result.errors?.[0]?.extensions?.code;

const CREATE_PROVIDER = `mutation($input: CreateProviderInput!) { createProvider(input: $input) { provider { id } userErrors { code } } }`;
const CREATE_APP = `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } userErrors { code } } }`;
const LINK_SERVICE = `mutation($input: ServiceProviderInput!) { linkProviderToService(input: $input) { service { id } userErrors { code } } }`;
const ORG_PROVIDERS = `query($slug: String!) { org(slug: $slug) { providers { nodes { name credentials { __typename } } } } }`;
const ORG_KEYS = `query($slug: String!) { org(slug: $slug) { accessKeys { nodes { name } } } }`;
const ORG_MEMBERS = `query($slug: String!) { org(slug: $slug) { members { user { email } role } } }`;
const ORG_AUDIT = `query($slug: String!, $filter: AuditEventFilter, $first: Int, $after: String) {
  org(slug: $slug) { auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { action outcome actorLabel targetType targetId requestId details actorKey { id } actorUser { email } }
  } } }`;
const EFFECTIVE = `query($id: ID!) { node(id: $id) { ... on Instance { stage effectiveProvider { source provider { name } } } } }`;
const REVOKE = `mutation($id: ID!) { revokeAccessKey(input: { accessKeyId: $id }) { accessKey { revokedAt } userErrors { code message } } }`;
const UPDATE_ROLE = `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { member { role } previousRole userErrors { code field message } } }`;
const REMOVE_MEMBER = `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId revokedKeyCount userErrors { code field message } } }`;

async function auditEvents(key: string, filter: Record<string, unknown> = {}, first = 100) {
  return (await ok(key, ORG_AUDIT, { slug: "acme", filter, first })).org.auditEvents;
}

describe("access control", () => {
  let admin: string;
  let orgId: string;
  let providerId: string;
  let serviceId: string;
  let instanceId: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    providerId = await createRoleProvider(admin, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    instanceId = await createInstance(admin, serviceId, "dev");
    await linkToService(admin, providerId, serviceId);
  });

  describe("roles", () => {
    it("a DEPLOYER reads the resolution it deploys with, and is refused providers, catalog changes and admin lists", async () => {
      const { token } = await createKey(admin, orgId, { role: "DEPLOYER" });
      expect((await ok(token, EFFECTIVE, { id: instanceId })).node.effectiveProvider).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
      expect(code(await gql(token, ORG_PROVIDERS, { slug: "acme" }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, CREATE_APP, { input: { orgId, name: "other" } }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, LINK_SERVICE, { input: { providerId, serviceId } }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, ORG_KEYS, { slug: "acme" }))).to.equal("FORBIDDEN");
      expect((await ok(token, `query($id: ID!) { node(id: $id) { id } }`, { id: providerId })).node).to.equal(null);
    });

    it("a DEVELOPER reads provider summaries, links providers and creates apps, and is refused provider, key, member and audit management", async () => {
      const { token } = await createKey(admin, orgId, { role: "DEVELOPER" });
      expect((await ok(token, ORG_PROVIDERS, { slug: "acme" })).org.providers.nodes).to.deep.equal([{ name: "dev", credentials: { __typename: "AwsRoleCredentials" } }]);
      expect((await ok(token, CREATE_APP, { input: { orgId, name: "other" } })).createApp.userErrors).to.deep.equal([]);
      const other = await createInstance(token, serviceId, "int");
      expect((await linkToInstance(token, providerId, other)).userErrors).to.deep.equal([]);
      expect(code(await gql(token, CREATE_PROVIDER, { input: { orgId, name: "x", aws: { role: { roleArn: ROLE_ARN("222222222222", "x") } } } }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, ORG_KEYS, { slug: "acme" }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, ORG_MEMBERS, { slug: "acme" }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, ORG_AUDIT, { slug: "acme" }))).to.equal("FORBIDDEN");
      expect(code(await gql(token, `mutation($org: ID!) { addMember(input: { orgId: $org, email: "x@example.com", role: ADMIN }) { userErrors { code } } }`, { org: orgId }))).to.equal(
        "FORBIDDEN",
      );
      const orgKey = await gql(token, `mutation($org: ID!) { createAccessKey(input: { orgId: $org, name: "ci", role: ADMIN }) { token userErrors { code } } }`, { org: orgId });
      expect(code(orgKey)).to.equal("FORBIDDEN");
    });

    it("every refusal is audited as DENIED, naming the operation and the key but never the key itself", async () => {
      const { token, id } = await createKey(admin, orgId, { role: "DEPLOYER", name: "ci deployer" });
      await gql(token, CREATE_APP, { input: { orgId, name: "other" } });
      const events = await auditEvents(admin, { action: "authorization.role" });
      expect(events.nodes).to.have.length(1);
      expect(events.nodes[0]).to.deep.include({ outcome: "DENIED", actorKey: { id } });
      expect(events.nodes[0].details).to.deep.equal({ operation: "Mutation.createApp", requiredRoles: ["DEVELOPER"] });
      expect(events.nodes[0].actorLabel).to.contain("ci deployer");
      expect(JSON.stringify(events)).not.to.contain(token);
    });
  });

  describe("members", () => {
    it("a personal key acts with its member's role, and a role change applies on the next request", async () => {
      const { userId, token } = await memberWithKey(admin, orgId, "dev@example.com", "DEVELOPER");
      expect(code(await gql(token, ORG_KEYS, { slug: "acme" }))).to.equal("FORBIDDEN");
      const promoted = await ok(admin, UPDATE_ROLE, { input: { orgId, userId, role: "ADMIN" } });
      expect(promoted.updateMemberRole).to.deep.include({ member: { role: "ADMIN" }, previousRole: "DEVELOPER", userErrors: [] });
      expect((await ok(token, ORG_KEYS, { slug: "acme" })).org.accessKeys.nodes.length).to.be.greaterThan(0);
    });

    it("viewer shows the user, their orgs and their role in each", async () => {
      const other = await newOrg("other");
      const { token } = await memberWithKey(admin, orgId, "ada@example.com", "DEVELOPER");
      await addMember(other.key, other.orgId, "ada@example.com", "DEPLOYER");
      const viewer = (await ok(token, `{ viewer { user { email } accessKey { kind role } orgs { slug } memberships { org { slug } role } } }`)).viewer;
      expect(viewer).to.deep.equal({
        user: { email: "ada@example.com" },
        accessKey: { kind: "PERSONAL", role: "DEVELOPER" },
        orgs: [{ slug: "acme" }],
        memberships: [
          { org: { slug: "acme" }, role: "DEVELOPER" },
          { org: { slug: "other" }, role: "DEPLOYER" },
        ],
      });
    });

    it("the org's last admin can be neither demoted nor removed", async () => {
      const { userId: first, token: firstKey } = await memberWithKey(admin, orgId, "first@example.com", "ADMIN");
      const demote = await ok(firstKey, UPDATE_ROLE, { input: { orgId, userId: first, role: "DEVELOPER" } });
      expect(demote.updateMemberRole.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["LAST_ADMIN"]);
      const remove = await ok(admin, REMOVE_MEMBER, { input: { orgId, userId: first } });
      expect(remove.removeMember.userErrors).to.deep.equal([{ code: "LAST_ADMIN", field: ["input", "userId"], message: "This is the org's last admin; make another member an admin first." }]);

      const second = await addMember(admin, orgId, "second@example.com", "ADMIN");
      expect((await ok(firstKey, UPDATE_ROLE, { input: { orgId, userId: first, role: "DEVELOPER" } })).updateMemberRole.userErrors).to.deep.equal([]);
      const members = (await ok(admin, ORG_MEMBERS, { slug: "acme" })).org.members;
      expect(members).to.deep.equal([
        { user: { email: "first@example.com" }, role: "DEVELOPER" },
        { user: { email: "second@example.com" }, role: "ADMIN" },
      ]);
      expect((await ok(admin, REMOVE_MEMBER, { input: { orgId, userId: second } })).removeMember.userErrors[0].code).to.equal("LAST_ADMIN");
    });

    it("removing a member revokes their personal keys at once", async () => {
      const { userId, token } = await memberWithKey(admin, orgId, "leaver@example.com", "DEVELOPER");
      expect((await ok(token, `{ viewer { user { email } } }`)).viewer.user.email).to.equal("leaver@example.com");
      const removed = await ok(admin, REMOVE_MEMBER, { input: { orgId, userId } });
      expect(removed.removeMember).to.deep.include({ revokedKeyCount: 1, userErrors: [] });
      const after = await gql(token, `{ viewer { user { email } } }`);
      expect(after.status).to.equal(401);
      expect(code(after)).to.equal("UNAUTHENTICATED");
    });

    it("bad member input comes back as userErrors", async () => {
      const data = await ok(admin, `mutation($org: ID!) { addMember(input: { orgId: $org, email: "not-an-email", role: DEVELOPER }) { member { role } userErrors { code field } } }`, {
        org: orgId,
      });
      expect(data.addMember).to.deep.equal({ member: null, userErrors: [{ code: "INVALID_EMAIL", field: ["input", "email"] }] });
      await addMember(admin, orgId, "dup@example.com", "DEVELOPER");
      const again = await ok(admin, `mutation($org: ID!) { addMember(input: { orgId: $org, email: "DUP@example.com", role: ADMIN }) { userErrors { code } } }`, { org: orgId });
      expect(again.addMember.userErrors).to.deep.equal([{ code: "ALREADY_MEMBER" }]);
    });
  });

  describe("access keys", () => {
    it("a new key has the recognisable format, is shown once, and records its creator and role", async () => {
      const { token, id } = await createKey(admin, orgId, { role: "DEPLOYER", name: "github actions" });
      expect(token).to.match(/^pvk_[0-9A-Za-z]{49}$/);
      const node = (await ok(admin, `query($id: ID!) { node(id: $id) { ... on AccessKey { name kind role tokenHint createdBy { name } scope { apps } } } }`, { id })).node;
      expect(node).to.deep.include({ name: "github actions", kind: "ORG", role: "DEPLOYER", createdBy: { name: "bootstrap admin key" }, scope: null });
      expect(node.tokenHint).to.equal(`${token.slice(0, 8)}…${token.slice(-4)}`);
      expect(JSON.stringify(await ok(admin, ORG_KEYS, { slug: "acme" }))).not.to.contain(token);
    });

    it("a revoked key stops working on the very next request, on every server process", async () => {
      const { token, id } = await createKey(admin, orgId, { role: "DEVELOPER" });
      const { openApplication, startServer } = await import("../src/server.js");
      const { createLogger } = await import("../src/logger.js");
      const logger = createLogger("silent");
      const second = await openApplication(harness().config, logger, { migrate: false });
      const server = await startServer(second, { ...harness().config, port: 0 }, logger);
      try {
        const viaSecond = async () => {
          const response = await fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({ query: "{ viewer { accessKey { name } } }" }),
          });
          return response.status;
        };
        expect(await viaSecond()).to.equal(200);
        expect((await ok(admin, REVOKE, { id })).revokeAccessKey.userErrors).to.deep.equal([]);
        expect(await viaSecond()).to.equal(401);
        expect((await gql(token, "{ viewer { accessKey { name } } }")).status).to.equal(401);
      } finally {
        await server.stop();
      }
    });

    it("an expired key stops working", async () => {
      const { token, id } = await createKey(admin, orgId, { role: "DEVELOPER", expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect((await gql(token, "{ viewer { accessKey { name } } }")).status).to.equal(200);
      const { fromGlobalId } = await import("../src/graphql/global-id.js");
      await harness().application.dataSource.query("UPDATE access_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [fromGlobalId(id)!.id]);
      expect(code(await gql(token, "{ viewer { accessKey { name } } }"))).to.equal("UNAUTHENTICATED");
    });

    it("members create and revoke their own personal keys, but not org keys or other members' keys", async () => {
      const { userId, token } = await memberWithKey(admin, orgId, "me@example.com", "DEVELOPER");
      const other = await memberWithKey(admin, orgId, "you@example.com", "DEVELOPER");
      const mine = await createKey(token, orgId, { userId, name: "second laptop" });
      expect((await ok(mine.token, `{ viewer { user { email } } }`)).viewer.user.email).to.equal("me@example.com");
      expect(code(await gql(token, `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token } }`, { input: { orgId, name: "x", userId: other.userId } }))).to.equal(
        "FORBIDDEN",
      );
      const othersKeyId = (await ok(other.token, `{ viewer { accessKey { id } } }`)).viewer.accessKey.id;
      expect(code(await gql(token, REVOKE, { id: othersKeyId }))).to.equal("FORBIDDEN");
      expect((await ok(token, REVOKE, { id: mine.id })).revokeAccessKey.userErrors).to.deep.equal([]);
      expect((await gql(mine.token, `{ viewer { user { email } } }`)).status).to.equal(401);
    });

    it("bad key input comes back as userErrors", async () => {
      const CREATE = `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token userErrors { code field } } }`;
      const noRole = await ok(admin, CREATE, { input: { orgId, name: "ci" } });
      expect(noRole.createAccessKey).to.deep.equal({ token: null, userErrors: [{ code: "ROLE_REQUIRED", field: ["input", "role"] }] });
      const bad = await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEPLOYER", expiresAt: "2001-01-01T00:00:00Z", scope: { stages: ["prod/*"], apps: [] } } });
      expect(bad.createAccessKey.userErrors).to.deep.equal([
        { code: "INVALID_SCOPE", field: ["input", "scope", "apps"] },
        { code: "INVALID_SCOPE", field: ["input", "scope", "stages"] },
        { code: "INVALID_EXPIRY", field: ["input", "expiresAt"] },
      ]);
      const { id } = await createKey(admin, orgId, { role: "DEPLOYER" });
      await ok(admin, REVOKE, { id });
      expect((await ok(admin, REVOKE, { id })).revokeAccessKey.userErrors[0].code).to.equal("ALREADY_REVOKED");
    });
  });

  describe("scopes", () => {
    let prodId: string;
    let featureId: string;
    let otherServiceId: string;

    beforeEach(async () => {
      prodId = await createInstance(admin, serviceId, "prod");
      featureId = await createInstance(admin, serviceId, "feature-x");
      otherServiceId = await createService(admin, await createApp(admin, orgId, "billing"), "worker");
    });

    it("a preview key sees only its app and its stage pattern: everything else is not found or left out", async () => {
      const { token } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { apps: ["shop"], stages: ["feature-*"] } });
      expect((await ok(token, EFFECTIVE, { id: featureId })).node).to.deep.equal({ stage: "feature-x", effectiveProvider: { source: "SERVICE", provider: { name: "dev" } } });
      expect((await ok(token, EFFECTIVE, { id: prodId })).node).to.equal(null);
      expect((await ok(token, `query($id: ID!) { node(id: $id) { id } }`, { id: otherServiceId })).node).to.equal(null);
      const tree = await ok(token, `{ org(slug: "acme") { apps { totalCount nodes { name services { nodes { name instances { totalCount nodes { stage } } } } } } } }`);
      const resolvePreview = `query($id: ID!, $stage: String!) { node(id: $id) { ... on Service { resolveProvider(stage: $stage) { provider { name } } } } }`;
      expect((await ok(token, resolvePreview, { id: serviceId, stage: "feature-new" })).node.resolveProvider).to.deep.equal({ provider: { name: "dev" } });
      expect(code(await gql(token, resolvePreview, { id: serviceId, stage: "prod" }))).to.equal("FORBIDDEN");
      expect(tree.org.apps).to.deep.equal({
        totalCount: 1,
        nodes: [{ name: "shop", services: { nodes: [{ name: "api", instances: { totalCount: 1, nodes: [{ stage: "feature-x" }] } }] } }],
      });
    });

    it("a scope narrows a DEVELOPER key's changes too: outside it, things are not found or refused", async () => {
      const { token } = await createKey(admin, orgId, { role: "DEVELOPER", scope: { services: ["api"], stages: ["feature-*", "dev"], linkableProviderIds: [providerId] } });
      expect((await linkToInstance(token, providerId, featureId)).userErrors).to.deep.equal([]);
      expect(code(await gql(token, `mutation($input: InstanceProviderInput!) { linkProviderToInstance(input: $input) { userErrors { code } } }`, { input: { providerId, instanceId: prodId } }))).to.equal("NOT_FOUND");
      const create = await gql(token, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } } }`, { input: { serviceId, stage: "prod", region: "eu-west-1" } });
      expect(code(create), JSON.stringify(create)).to.equal("FORBIDDEN");
      expect(create.errors![0].message).to.contain('stage "prod"');
      expect(await createInstance(token, serviceId, "feature-y")).to.be.a("string");
      const appId = (await ok(token, `query($id: ID!) { node(id: $id) { ... on Service { app { id } } } }`, { id: serviceId })).node.app.id;
      const service = await gql(token, `mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }`, { input: { appId, name: "web" } });
      expect(code(service)).to.equal("FORBIDDEN");
    });

    it("a scoped admin key cannot mint keys, which could reach beyond its scope", async () => {
      const { token } = await createKey(admin, orgId, { role: "ADMIN", scope: { stages: ["feature-*"] } });
      const result = await gql(token, `mutation($org: ID!) { createAccessKey(input: { orgId: $org, name: "wider", role: DEPLOYER }) { token } }`, { org: orgId });
      expect(code(result)).to.equal("FORBIDDEN");
      expect(result.data?.createAccessKey ?? null).to.equal(null);
    });

    it("assertInScope passes what the scope admits and refuses the rest with an audited FORBIDDEN", async () => {
      const { assertInScope } = await import("../src/domain/scope.js");
      const { RequestContext } = await import("../src/domain/context.js");
      const { fromGlobalId } = await import("../src/graphql/global-id.js");
      const { token, id } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { apps: ["shop"], services: ["api"], stages: ["feature-*"] } });
      const actor = { accessKeyId: fromGlobalId(id)!.id, accessKeyName: "preview", orgId: fromGlobalId(orgId)!.id, role: "DEPLOYER" as never, userId: null, userEmail: null, scope: { apps: ["shop"], services: ["api"], stages: ["feature-*"], linkableProviderIds: null }, mayCreateStages: false };
      const ctx = new RequestContext(actor, harness().application.dataSource.manager);
      await assertInScope(ctx, { appName: "shop", serviceName: "api", stage: "feature-42" });
      for (const target of [{ appName: "shop", serviceName: "api", stage: "prod" }, { appName: "billing", serviceName: "api", stage: "feature-1" }, { appName: "shop", serviceName: "web", stage: "feature-1" }]) {
        const error = await assertInScope(ctx, target).then(() => null, (e: unknown) => e as { code: string });
        expect(error?.code, JSON.stringify(target)).to.equal("FORBIDDEN");
      }
      const denied = await auditEvents(admin, { action: "authorization.scope" });
      expect(denied.totalCount).to.equal(3);
      expect(denied.nodes.map((n: { details: { stage: string } }) => n.details.stage).sort()).to.deep.equal(["feature-1", "feature-1", "prod"]);
      expect(JSON.stringify(denied)).not.to.contain(token);
    });
  });

  describe("audit trail", () => {
    it("records every change to providers, links, defaults, members and keys, in the change's own transaction", async () => {
      const { userId, token } = await memberWithKey(admin, orgId, "ada@example.com", "ADMIN");
      await ok(token, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
      await ok(token, `mutation($org: ID!) { unsetDefaultProvider(input: { orgId: $org, type: AWS }) { userErrors { code } } }`, { org: orgId });
      await ok(token, `mutation($id: ID!) { updateProvider(input: { providerId: $id, name: "dev2" }) { userErrors { code } } }`, { id: providerId });
      await linkToInstance(token, providerId, instanceId);
      await ok(token, `mutation($input: InstanceProviderInput!) { unlinkProviderFromInstance(input: $input) { userErrors { code } } }`, { input: { providerId, instanceId } });
      await ok(token, `mutation($input: ServiceProviderInput!) { unlinkProviderFromService(input: $input) { userErrors { code } } }`, { input: { providerId, serviceId } });
      await ok(token, `mutation($id: ID!) { deleteProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
      await ok(token, UPDATE_ROLE, { input: { orgId, userId, role: "ADMIN" } });

      const mine = await auditEvents(admin, { actor: userId });
      expect(mine.nodes.map((n: { action: string }) => n.action).reverse()).to.deep.equal([
        "provider.setDefault",
        "provider.unsetDefault",
        "provider.update",
        "link.instance",
        "unlink.instance",
        "unlink.service",
        "provider.delete",
        "member.updateRole",
      ]);
      expect(mine.nodes.every((n: { actorUser: unknown; outcome: string }) => n.outcome === "SUCCESS")).to.equal(true);
      expect(mine.nodes[0].actorUser).to.deep.equal({ email: "ada@example.com" });
      expect(mine.nodes[0].actorLabel).to.contain("ada@example.com");

      const all = (await auditEvents(admin)).nodes.map((n: { action: string }) => n.action);
      for (const action of ["provider.create", "app.create", "service.create", "instance.create", "link.service", "member.add", "accessKey.create"]) expect(all).to.include(action);

      const providerEvents = await auditEvents(admin, { target: providerId });
      expect(providerEvents.nodes.map((n: { action: string }) => n.action)).to.deep.equal(["provider.delete", "provider.update", "provider.unsetDefault", "provider.setDefault", "provider.create"]);
      expect((await auditEvents(admin, { action: "provider." })).totalCount).to.equal(5);
    });

    it("a change that fails leaves no audit record: the record shares its transaction", async () => {
      const before = (await auditEvents(admin)).totalCount;
      const dup = await ok(admin, CREATE_APP, { input: { orgId, name: "shop" } });
      expect(dup.createApp.userErrors).to.deep.equal([{ code: "NAME_TAKEN" }]);
      expect((await auditEvents(admin)).totalCount).to.equal(before);
    });

    it("pages newest first and filters by time", async () => {
      const all = await auditEvents(admin);
      expect(all.totalCount).to.be.greaterThan(3);
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: { nodes: Array<{ action: string; targetId: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = (
          await ok(admin, ORG_AUDIT, { slug: "acme", first: 2, after })
        ).org.auditEvents;
        seen.push(...page.nodes.map((n) => `${n.action}:${n.targetId}`));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).to.deep.equal(all.nodes.map((n: { action: string; targetId: string }) => `${n.action}:${n.targetId}`));
      expect(all.nodes[0].action).to.equal("link.service");
      expect((await auditEvents(admin, { from: new Date(Date.now() + 60_000).toISOString() })).totalCount).to.equal(0);
      expect((await auditEvents(admin, { to: new Date(Date.now() + 60_000).toISOString() })).totalCount).to.equal(all.totalCount);
    });

    it("the database refuses to rewrite or delete audit events", async () => {
      const db = harness().application.dataSource;
      const update = await db.query("UPDATE audit_events SET action = 'x'").then(() => null, (e: Error) => e.message);
      const remove = await db.query("DELETE FROM audit_events").then(() => null, (e: Error) => e.message);
      expect(update).to.match(/append-only/);
      expect(remove).to.match(/append-only/);
    });
  });

  describe("keys are never stored, logged or audited in plaintext", () => {
    it("leaves only the SHA-256 of each key in the database, and the key in no log line or audit event", async () => {
      const { createHash } = await import("node:crypto");
      const orgKey = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] } });
      const personal = await memberWithKey(admin, orgId, "ada@example.com", "DEVELOPER");
      const tokens = [admin, orgKey.token, personal.token];
      // Use every key: successes, refusals, bad input, a revoked key, a malformed header.
      for (const token of tokens) {
        await gql(token, EFFECTIVE, { id: instanceId });
        await gql(token, CREATE_PROVIDER, { input: { orgId, name: "no", aws: { role: { roleArn: "bad" } } } });
        await gql(token, ORG_AUDIT, { slug: "acme" });
      }
      await ok(admin, REVOKE, { id: orgKey.id });
      await gql(orgKey.token, EFFECTIVE, { id: instanceId });
      await gql(`${orgKey.token.slice(0, -1)}x`, EFFECTIVE, { id: instanceId });

      const db = harness().application.dataSource;
      const tables: Array<{ tablename: string }> = await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
      let everything = "";
      for (const { tablename } of tables) {
        const rows: Array<{ row: string }> = await db.query(`SELECT to_jsonb(t)::text AS row FROM "${tablename}" t`);
        everything += rows.map((r) => r.row).join("\n");
      }
      const hashes: Array<{ hash: Buffer }> = await db.query("SELECT token_hash AS hash FROM access_keys");
      const logs = harness().logs.join("");
      const audit = JSON.stringify(await auditEvents(admin));
      expect(everything).to.contain("authorization.role");
      for (const token of tokens) {
        const secretPart = token.slice(4, 4 + 43);
        expect(everything, "database").not.to.contain(secretPart);
        expect(logs, "logs").not.to.contain(secretPart);
        expect(audit, "audit events").not.to.contain(secretPart);
        const hash = createHash("sha256").update(token).digest();
        expect(hashes.some((h) => h.hash.equals(hash))).to.equal(true);
      }
    });
  });
});
