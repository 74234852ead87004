import http from "node:http";
import { expect } from "chai";
import pg from "pg";
import { generateToken } from "../src/domain/access-key-tokens.js";
import { issueAccessKey } from "../src/domain/access-keys.js";
import { Role } from "../src/entities/index.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createParameter, createProvider, createService, createTrustedRoleProvider, externalIdOf, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { secondServer } from "./harness.js";
import { harness, sts } from "./setup.js";

/*
 * The Serverless Framework v3 dashboard routes over real HTTP, called the way
 * @serverless/platform-client 4.5.1 calls them: slugs through encodeURI (so `|` arrives as %7C),
 * `authorization: Bearer <key>`, and `Content-Type: application/json` even on a GET.
 */

const serviceSlug = (app: string, service: string) => `appName|${app}|serviceName|${service}`;
const instanceSlug = (app: string, service: string, stage: string, region: string) => `${serviceSlug(app, service)}|stage|${stage}|region|${region}`;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(method: string, path: string, key: string | null, body?: unknown): Promise<Answer> {
  const response = await fetch(`${harness().url}/sls/v1${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text: a test asserts on it
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

const get = (path: string, key: string | null) => call("GET", path, key);

/** The provider call exactly as the framework makes it. */
function providersOf(key: string, orgUid: string, stage: string, options: { app?: string; service?: string; region?: string } = {}) {
  const app = options.app ?? "shop";
  const service = options.service ?? "api";
  const region = options.region ?? "us-east-1";
  return get(`/orgs/${orgUid}/services/${encodeURI(serviceSlug(app, service))}/instances/${encodeURI(instanceSlug(app, service, stage, region))}`, key);
}

/** The parameters call exactly as the framework makes it. */
function paramsOf(key: string, orgUid: string, stage: string, region = "us-east-1") {
  return get(`/orgs/${orgUid}/services/${encodeURI(serviceSlug("shop", "api"))}/instances/${encodeURI(instanceSlug("shop", "api", stage, region))}/params`, key);
}

const byName = (result: Array<{ paramName: string }>) => [...result].sort((a, b) => a.paramName.localeCompare(b.paramName));

async function roleProvider(key: string, orgId: string, name: string, account: string, options: { maxSessionDurationSeconds?: number } = {}) {
  const provider = await createTrustedRoleProvider(key, orgId, name, account, options);
  return { ...provider, uid: fromGlobalId(provider.id)!.id };
}

async function auditEvents(action: string): Promise<Array<{ outcome: string; details: Record<string, any>; actor_label: string }>> {
  return harness().application.dataSource.query("SELECT outcome, details, actor_label FROM audit_events WHERE action = $1 ORDER BY occurred_at, id", [action]);
}

async function counts(): Promise<{ apps: number; services: number; instances: number; links: number }> {
  const [row] = await harness().application.dataSource.query(
    `SELECT (SELECT count(*) FROM apps)::int AS apps, (SELECT count(*) FROM services)::int AS services,
            (SELECT count(*) FROM instances)::int AS instances, (SELECT count(*) FROM instance_provider_links)::int AS links`,
  );
  return row;
}

describe("Serverless Framework dashboard routes (/sls/v1)", () => {
  let admin: string;
  let orgId: string;
  let orgUid: string;
  let deployer: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    orgUid = fromGlobalId(orgId)!.id;
    ({ token: deployer } = await issueAccessKey(harness().application.dataSource.manager, { orgId: orgUid, name: "ci", role: Role.DEPLOYER }));
  });

  describe("GET /core/tenants/{org}", () => {
    it("answers the caller's org with the orgUid the other routes take", async () => {
      const answer = await get("/core/tenants/acme", deployer);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.include({ orgUid, orgName: "acme", tenantName: "acme" });
    });

    it("another org's name is not found, exactly like an unknown one, and both are audited and logged", async () => {
      await newOrg("other");
      for (const org of ["other", "nope"]) {
        const answer = await get(`/core/tenants/${org}`, deployer);
        expect(answer.status).to.equal(404);
        expect(answer.body).to.deep.include({ name: "NOT_FOUND", statusCode: 404, message: "The org was not found." });
      }
      expect((await auditEvents("serverless.org")).map((e) => [e.outcome, e.details.org, e.actor_label])).to.deep.equal([
        ["DENIED", "other", 'org key "ci" (DEPLOYER)'],
        ["DENIED", "nope", 'org key "ci" (DEPLOYER)'],
      ]);
      expect(harness().logs.join("")).to.match(/serverless framework request refused: The org was not found/);
    });

    it("no key, a malformed key or a revoked one is 401 in the client's error shape", async () => {
      const { token, id } = await createKey(admin, orgId, { role: "DEPLOYER" });
      await ok(admin, `mutation($id: ID!) { revokeAccessKey(input: { accessKeyId: $id }) { userErrors { code } } }`, { id });
      for (const key of [null, "not-a-key", token]) {
        const answer = await get("/core/tenants/acme", key);
        expect(answer.status).to.equal(401);
        expect(answer.body).to.include({ name: "UNAUTHENTICATED" });
        expect(answer.body.message).to.be.a("string").and.not.empty;
      }
    });
  });

  describe("GET /orgs/{orgUid}/services/{serviceSlug}/instances/{instanceSlug}", () => {
    it("the seed scenario: prod gets a session of the prod role, any other stage the dev role's, with the alias the framework prints", async () => {
      const dev = await roleProvider(admin, orgId, "dev", "111111111111");
      const prod = await roleProvider(admin, orgId, "prod", "222222222222");
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, dev.id, serviceId);
      await linkToInstance(admin, prod.id, await createInstance(admin, serviceId, "prod", "us-east-1"));

      const prodAnswer = await providersOf(deployer, orgUid, "prod");
      expect(prodAnswer.status).to.equal(200);
      expect(prodAnswer.body.result).to.have.length(1);
      const [winner] = prodAnswer.body.result;
      expect(winner).to.deep.include({ providerUid: prod.uid, providerName: "aws", providerType: "roleArn", alias: "prod", source: "INSTANCE" });
      const [assume] = sts().callsOf("AssumeRole");
      expect(winner.providerDetails).to.deep.include({ roleArn: prod.roleArn });
      expect(winner.providerDetails.accessKeyId).to.match(/^ASIA/);
      expect(winner.providerDetails.secretAccessKey).to.be.a("string").and.not.empty;
      expect(winner.providerDetails.sessionToken).to.be.a("string").and.not.empty;
      expect(assume.params.RoleArn).to.equal(prod.roleArn);

      const qa = await providersOf(deployer, orgUid, "qa");
      expect(qa.body.result.map((p: { alias: string; source: string }) => [p.alias, p.source])).to.deep.equal([["dev", "SERVICE"]]);

      // The same issuance as deploymentCredentials: the same audit events, by the same key.
      const issued = await auditEvents("credentials.issue");
      expect(issued.map((e) => [e.outcome, e.details.stage, e.details.providerName, e.details.source, e.actor_label])).to.deep.equal([
        ["SUCCESS", "prod", "prod", "INSTANCE", 'org key "ci" (DEPLOYER)'],
        ["SUCCESS", "qa", "dev", "SERVICE", 'org key "ci" (DEPLOYER)'],
      ]);
      expect(issued[0].details.issuedAccessKeyId).to.equal(winner.providerDetails.accessKeyId);
      const everything = JSON.stringify(await harness().application.dataSource.query("SELECT * FROM audit_events")) + harness().logs.join("");
      expect(everything).to.not.include(winner.providerDetails.secretAccessKey);
      expect(everything).to.not.include(winner.providerDetails.sessionToken);
    });

    it("asks for the longest session the provider allows, since the framework never refreshes", async () => {
      const long = await roleProvider(admin, orgId, "long", "111111111111", { maxSessionDurationSeconds: 43_200 });
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, long.id, serviceId);
      await providersOf(deployer, orgUid, "dev");
      const plain = await roleProvider(admin, orgId, "plain", "222222222222");
      await linkToService(admin, plain.id, serviceId);
      await providersOf(deployer, orgUid, "dev");
      expect(sts().callsOf("AssumeRole").map((c) => c.params.DurationSeconds)).to.deep.equal(["43200", "3600"]);
    });

    it("no provider: an empty result, a new instance, and the fallback to local credentials audited and logged", async () => {
      const answer = await providersOf(deployer, orgUid, "dev", { app: "fresh" });
      expect(answer).to.deep.include({ status: 200, body: { result: [] } });
      expect(await counts()).to.deep.include({ apps: 1, services: 1, instances: 1 });
      expect((await auditEvents("credentials.local")).map((e) => e.details.useLocalCredentials)).to.deep.equal([true]);
      expect(harness().logs.join("")).to.match(/no AWS provider applies; the client falls back to local credentials/);
    });

    it("a key scoped away from the stage is refused before anything is recorded or minted, and the refusal is audited", async () => {
      const prod = await roleProvider(admin, orgId, "prod", "222222222222");
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, prod.id, serviceId);
      const { token: preview } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] }, name: "preview" });
      const before = await counts();

      const refused = await providersOf(preview, orgUid, "prod");
      expect(refused.status).to.equal(403);
      expect(refused.body).to.include({ name: "FORBIDDEN" });
      expect(refused.body.message).to.match(/scope does not include .*stage "prod"/);
      expect(sts().calls).to.have.length(0);
      expect(await counts()).to.deep.equal(before);
      expect((await auditEvents("authorization.scope")).map((e) => [e.outcome, e.details.stage])).to.deep.equal([["DENIED", "prod"]]);

      const allowed = await providersOf(preview, orgUid, "feature-1");
      expect(allowed.body.result.map((p: { alias: string }) => p.alias)).to.deep.equal(["prod"]);
    });

    it("another org's uid is not found and audited; a uid that is not one is a 400", async () => {
      const { key: otherKey } = await newOrg("other");
      const otherUid = (await get("/core/tenants/other", otherKey)).body.orgUid;
      const answer = await providersOf(deployer, otherUid, "dev");
      expect(answer.status).to.equal(404);
      expect((await auditEvents("serverless.org")).map((e) => e.details.orgUid)).to.deep.equal([otherUid]);
      const bad = await providersOf(deployer, "acme", "dev");
      expect(bad.status).to.equal(400);
      expect(bad.body).to.include({ name: "INVALID_ORG_UID" });
      expect((await counts()).instances).to.equal(0);
    });

    it("hostile slugs are a 400 (or 404 for a path that is not a route) naming the problem, never a 500, and nothing is written", async () => {
      const good = encodeURI(serviceSlug("shop", "api"));
      const cases: Array<[string, string, number]> = [
        [good, encodeURI("appName|shop|serviceName|api|stage|dev"), 400],
        [good, encodeURI("appName|shop|serviceName|api|stage|dev|region|us-east-1|extra|x"), 400],
        [good, encodeURI("serviceName|api|appName|shop|stage|dev|region|us-east-1"), 400],
        [good, encodeURI(instanceSlug("shop", "api", "dev;DROP TABLE apps", "us-east-1")), 400],
        [good, encodeURI(instanceSlug("shop", "api", "dév", "us-east-1")), 400],
        [good, encodeURI(instanceSlug("shop", "api", "dev", "mars-1")), 400],
        [good, encodeURI(instanceSlug("shop", "api", "dev\u0000", "us-east-1")), 400],
        [good, encodeURIComponent(instanceSlug("shop", "api", "a/../../b", "us-east-1")), 400],
        [good, encodeURI(instanceSlug("shop", "api", "x".repeat(5000), "us-east-1")), 400],
        [good, encodeURI(instanceSlug("sh|op", "api", "dev", "us-east-1")), 400],
        [encodeURI(serviceSlug("other", "api")), encodeURI(instanceSlug("shop", "api", "dev", "us-east-1")), 400],
        [encodeURI("appName|shop"), encodeURI(instanceSlug("shop", "api", "dev", "us-east-1")), 400],
        [good, "appName%7Cshop%E0%A4%A", 400],
        [good, encodeURI(instanceSlug("shop", "api", "a/b", "us-east-1")), 404],
      ];
      for (const [service, instance, status] of cases) {
        const answer = await get(`/orgs/${orgUid}/services/${service}/instances/${instance}`, deployer);
        expect(answer.status, instance.slice(0, 80)).to.equal(status);
        expect(answer.body, instance.slice(0, 80)).to.have.property("message").that.is.a("string").and.not.empty;
        expect(answer.body.name).to.be.a("string");
        expect(JSON.stringify(answer.body)).to.not.match(/at .*\.js:\d+/);
      }
      expect(await counts()).to.deep.equal({ apps: 0, services: 0, instances: 0, links: 0 });
      expect(sts().calls).to.have.length(0);
    });

    it("checks the slugs before the key: a bad slug costs no database work", async () => {
      harness().statements.count = 0;
      const answer = await get(`/orgs/${orgUid}/services/x/instances/y`, "pvk_whatever");
      expect(answer.status).to.equal(400);
      expect(harness().statements.count).to.equal(0);
    });

    it("STS throttling that does not stop and an STS that never answers are a 503 with Retry-After; a refused role is a 502; all audited", async function () {
      this.timeout(20_000);
      const role = await roleProvider(admin, orgId, "prod", "222222222222");
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, role.id, serviceId);

      sts().throttleNext = 100;
      const throttled = await providersOf(deployer, orgUid, "dev");
      expect(throttled.status).to.equal(503);
      expect(throttled.body).to.include({ name: "STS_THROTTLED" });
      expect(throttled.headers.get("retry-after")).to.equal("5");

      sts().reset();
      sts().addRole(role.roleArn, { externalId: await externalIdOf(admin, role.id) });
      sts().hang = true;
      const hanging = await providersOf(deployer, orgUid, "dev");
      expect(hanging.status).to.equal(503);
      expect(hanging.body).to.include({ name: "STS_UNAVAILABLE" });
      expect(hanging.body.message).to.match(/did not answer within/);

      sts().reset();
      sts().addRole(role.roleArn, { externalId: "someone-else" });
      const denied = await providersOf(deployer, orgUid, "dev");
      expect(denied.status).to.equal(502);
      expect(denied.body).to.include({ name: "STS_ACCESS_DENIED" });
      expect(denied.body.message).to.match(/trust policy/);

      expect((await auditEvents("credentials.issue")).map((e) => [e.outcome, e.details.errorCode])).to.deep.equal([
        ["FAILURE", "STS_THROTTLED"],
        ["FAILURE", "STS_UNAVAILABLE"],
        ["DENIED", "STS_ACCESS_DENIED"],
      ]);
    });

    it("more concurrent deployments than the pool has connections all get their session, on one instance", async function () {
      this.timeout(30_000);
      const role = await roleProvider(admin, orgId, "prod", "222222222222");
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, role.id, serviceId);
      const n = harness().config.databasePoolSize + 5;
      const answers = await Promise.all(Array.from({ length: n }, () => providersOf(deployer, orgUid, "dev")));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(n).fill(200));
      expect(new Set(answers.map((a) => a.body.result[0].providerDetails.accessKeyId)).size).to.equal(n);
      expect((await counts()).instances).to.equal(1);
      expect(await auditEvents("credentials.issue")).to.have.length(n);
    });

    it("more concurrent deployments than the pool has connections while STS throttles: every one a 503 the plugin shows, each audited", async function () {
      this.timeout(60_000);
      const role = await roleProvider(admin, orgId, "prod", "222222222222");
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, role.id, serviceId);
      sts().throttleNext = 10_000;
      const n = harness().config.databasePoolSize + 5;
      const answers = await Promise.all(Array.from({ length: n }, () => providersOf(deployer, orgUid, "dev")));
      expect(answers.map((a) => [a.status, a.body.name])).to.deep.equal(Array(n).fill([503, "STS_THROTTLED"]));
      expect((await auditEvents("credentials.issue")).map((e) => e.outcome)).to.deep.equal(Array(n).fill("FAILURE"));
      sts().throttleNext = 0;
      expect((await providersOf(deployer, orgUid, "dev")).status).to.equal(200);
    });

    it("more concurrent refusals than the pool has connections are all refused and audited, and the server still answers", async function () {
      this.timeout(30_000);
      const { token: preview } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] }, name: "preview" });
      const n = harness().config.databasePoolSize * 2;
      const answers = await Promise.all(Array.from({ length: n }, () => providersOf(preview, orgUid, "prod")));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(n).fill(403));
      expect(await auditEvents("authorization.scope")).to.have.length(n);
      expect((await get("/core/tenants/acme", deployer)).status).to.equal(200);
    });

    it("the database gone is a 503 the plugin can show, and the routes work again once it is back", async function () {
      this.timeout(30_000);
      const url = new URL(harness().databaseUrl);
      const database = url.pathname.slice(1);
      url.pathname = "/postgres";
      const adminDb = new pg.Client({ connectionString: url.toString() });
      await adminDb.connect();
      try {
        await adminDb.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
        await adminDb.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database]);
        const answer = await get("/core/tenants/acme", deployer);
        expect(answer.status).to.equal(503);
        expect(answer.body).to.include({ name: "SERVICE_UNAVAILABLE" });
      } finally {
        await adminDb.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
        await adminDb.end();
      }
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 200; attempt++) status = (await get("/core/tenants/acme", deployer)).status;
      expect(status).to.equal(200);
    });
  });

  describe("an org that refuses new stages (refuseNewStages)", () => {
    const SETTINGS = `mutation($input: UpdateOrgSettingsInput!) { updateOrgSettings(input: $input) { org { refuseNewStages } userErrors { code } } }`;
    const PRDO_REFUSED =
      'Service "api" has never had stage "prdo", and the org refuses new stages: did you mean prod? its stages are prod, dev. ' +
      "Use a known stage, or ask an org admin to add this one (createInstance) or for a key that may create stages (scope.mayCreateStages).";
    const stageRefusals = async (action: string) => (await auditEvents(action)).filter((e) => e.details.errorCode === "NEW_STAGE_REFUSED");
    const assumeRoleCalls = () => sts().callsOf("AssumeRole").length;
    let role: { id: string; uid: string };

    beforeEach(async () => {
      role = await roleProvider(admin, orgId, "dev", "222222222222");
      await linkToService(admin, role.id, await createService(admin, await createApp(admin, orgId, "shop"), "api"));
      for (const stage of ["prod", "dev"]) expect((await providersOf(deployer, orgUid, stage)).status).to.equal(200);
      expect((await ok(admin, SETTINGS, { input: { orgId, refuseNewStages: true } })).updateOrgSettings.org.refuseNewStages).to.equal(true);
    });

    it("a new stage is a 403 in the client's error shape naming the known stages, audited as DENIED, nothing created and STS not called", async () => {
      const before = await counts();
      const calls = assumeRoleCalls();
      const refused = await providersOf(deployer, orgUid, "prdo");
      expect(refused.status).to.equal(403);
      expect(refused.body).to.deep.include({ name: "NEW_STAGE_REFUSED", code: "NEW_STAGE_REFUSED", statusCode: 403, message: PRDO_REFUSED });
      expect(refused.body.requestId).to.be.a("string").and.not.equal("");
      expect(refused.headers.get("www-authenticate")).to.equal(null);
      // A new service has no stage yet: the framework's first deploy of it is refused too.
      const newService = await providersOf(deployer, orgUid, "prod", { service: "web" });
      expect([newService.status, newService.body.name]).to.deep.equal([403, "NEW_STAGE_REFUSED"]);
      expect(newService.body.message).to.include("it has no stage yet");
      expect(assumeRoleCalls()).to.equal(calls);
      expect(await counts()).to.deep.equal(before);
      expect((await stageRefusals("credentials.issue")).map((e) => [e.outcome, e.details.service, e.details.stage, e.actor_label])).to.deep.equal([
        ["DENIED", "api", "prdo", 'org key "ci" (DEPLOYER)'],
        ["DENIED", "web", "prod", 'org key "ci" (DEPLOYER)'],
      ]);

      // The onboarding's link to a new stage creates that instance: refused alike for a developer, audited, nothing kept.
      const { token: developer } = await createKey(admin, orgId, { role: "DEVELOPER", name: "dev" });
      const link = await call("POST", `/orgs/${orgUid}/instances/${encodeURI(instanceSlug("shop", "api", "prdo", "us-east-1"))}`, developer, { providerUid: role.uid });
      expect([link.status, link.body.name]).to.deep.equal([403, "NEW_STAGE_REFUSED"]);
      expect(link.body.message).to.include("did you mean prod?");
      expect((await stageRefusals("instance.create")).map((e) => [e.outcome, e.details.stage])).to.deep.equal([["DENIED", "prdo"]]);
      expect(await counts()).to.deep.equal(before);
    });

    it("the refusal's log line names the request, key, instance, status and code, since the framework swallows the error", async () => {
      const refused = await providersOf(deployer, orgUid, "prdo");
      const lines = harness()
        .logs.map((line) => JSON.parse(line))
        .filter((line) => typeof line.msg === "string" && line.msg.startsWith("serverless framework request refused"));
      expect(lines).to.have.length(1);
      expect(lines[0]).to.deep.include({
        msg: `serverless framework request refused: ${PRDO_REFUSED}`,
        requestId: refused.body.requestId,
        method: "GET",
        key: "ci",
        app: "shop",
        service: "api",
        stage: "prdo",
        region: "us-east-1",
        status: 403,
        code: "NEW_STAGE_REFUSED",
      });
    });

    it("a key with scope.mayCreateStages adds the stage and gets its session; then any key deploys to it", async () => {
      const { token: release } = await createKey(admin, orgId, { role: "DEPLOYER", name: "release", scope: { mayCreateStages: true } });
      const allowed = await providersOf(release, orgUid, "int");
      expect(allowed.status).to.equal(200);
      expect(allowed.body.result[0].providerDetails.accessKeyId).to.match(/^ASIA/);
      expect((await counts()).instances).to.equal(3);
      expect((await providersOf(deployer, orgUid, "int")).status).to.equal(200);
      expect(await stageRefusals("credentials.issue")).to.deep.equal([]);
    });

    it("a known stage in a new region is no new stage: its session is issued and the instance recorded", async () => {
      const calls = assumeRoleCalls();
      const region = await providersOf(deployer, orgUid, "prod", { region: "eu-west-1" });
      expect(region.status).to.equal(200);
      expect(region.body.result[0].providerDetails.accessKeyId).to.match(/^ASIA/);
      expect(assumeRoleCalls()).to.equal(calls + 1);
      expect((await counts()).instances).to.equal(3);
    });

    it("more concurrent requests for one new stage than the pool has connections: each refused and audited, nothing created, STS not called", async function () {
      this.timeout(30_000);
      const before = await counts();
      const calls = assumeRoleCalls();
      const n = harness().config.databasePoolSize * 2 + 1;
      const answers = await Promise.all(Array.from({ length: n }, () => providersOf(deployer, orgUid, "prdo")));
      expect(answers.map((a) => [a.status, a.body.name, a.body.message])).to.deep.equal(Array(n).fill([403, "NEW_STAGE_REFUSED", PRDO_REFUSED]));
      expect(await counts()).to.deep.equal(before);
      expect(assumeRoleCalls()).to.equal(calls);
      expect((await stageRefusals("credentials.issue")).map((e) => e.outcome)).to.deep.equal(Array(n).fill("DENIED"));
      expect((await providersOf(deployer, orgUid, "prod")).status).to.equal(200);
    });
  });

  describe("GET …/instances/{instanceSlug}/params", () => {
    it("the instance's effective parameters, secret values opened, nearest wins, typed for the framework's precedence, audited by name only", async () => {
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      const prodId = await createInstance(admin, serviceId, "prod", "us-east-1");
      const qaWide = await createInstance(admin, serviceId, "qa", null);
      await createParameter(admin, orgId, "region", "org-wide");
      await createParameter(admin, serviceId, "dbUrl", "postgres://service");
      await createParameter(admin, serviceId, "apiToken", "service-token-value", { secret: true });
      await createParameter(admin, prodId, "apiToken", "prod-token-value", { secret: true });
      await createParameter(admin, qaWide, "dbUrl", "postgres://qa");

      const prod = await paramsOf(deployer, orgUid, "prod");
      expect(prod.status).to.equal(200);
      expect(byName(prod.body.result)).to.deep.equal([
        { paramName: "apiToken", paramValue: "prod-token-value", paramType: "instances" },
        { paramName: "dbUrl", paramValue: "postgres://service", paramType: "services" },
        { paramName: "region", paramValue: "org-wide", paramType: "services" },
      ]);
      const qa = await paramsOf(deployer, orgUid, "qa");
      expect(byName(qa.body.result)).to.deep.equal([
        { paramName: "apiToken", paramValue: "service-token-value", paramType: "services" },
        { paramName: "dbUrl", paramValue: "postgres://qa", paramType: "instances" },
        { paramName: "region", paramValue: "org-wide", paramType: "services" },
      ]);

      const issued = await auditEvents("parameters.issue");
      expect(issued.map((e) => [e.outcome, e.details.stage, e.actor_label])).to.deep.equal([
        ["SUCCESS", "prod", 'org key "ci" (DEPLOYER)'],
        ["SUCCESS", "qa", 'org key "ci" (DEPLOYER)'],
      ]);
      const everything = JSON.stringify(await harness().application.dataSource.query("SELECT * FROM audit_events")) + harness().logs.join("");
      expect(everything).to.not.include("prod-token-value");
      expect(everything).to.not.include("service-token-value");
    });

    it("a key scoped away from the stage gets no value (403, audited); another org's uid is 404; a bad slug is 400", async () => {
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await createParameter(admin, serviceId, "apiToken", "service-token-value", { secret: true });
      const { token: preview } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] }, name: "preview" });
      const refused = await paramsOf(preview, orgUid, "prod");
      expect([refused.status, refused.body.name]).to.deep.equal([403, "FORBIDDEN"]);
      expect(JSON.stringify(refused.body)).to.not.include("service-token-value");
      expect((await auditEvents("authorization.scope")).map((e) => e.details.stage)).to.deep.equal(["prod"]);
      expect((await paramsOf(preview, orgUid, "feature-1")).body.result.map((p: { paramName: string }) => p.paramName)).to.deep.equal(["apiToken"]);

      const { key: otherKey } = await newOrg("other");
      const otherUid = (await get("/core/tenants/other", otherKey)).body.orgUid;
      expect((await paramsOf(deployer, otherUid, "prod")).status).to.equal(404);
      const bad = await get(`/orgs/${orgUid}/services/${encodeURI(serviceSlug("shop", "api"))}/instances/${encodeURI("appName|shop|serviceName|api|stage|p r o d|region|us-east-1")}/params`, deployer);
      expect([bad.status, bad.body.name]).to.deep.equal([400, "INVALID_STAGE"]);
    });
  });

  describe("onboarding: GET /orgs/{orgUid}/providers and POST /orgs/{orgUid}/instances/{instanceSlug}", () => {
    it("a developer lists the AWS providers without any secret, and links one to an instance the slug names", async () => {
      const prod = await roleProvider(admin, orgId, "prod", "222222222222");
      await createProvider(admin, orgId, "keys", { aws: { accessKey: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } } });
      await createProvider(admin, orgId, "payments", { stripe: { secretKey: "sk_test_abcdefghijklmnop" } });
      const { token: developer } = await createKey(admin, orgId, { role: "DEVELOPER", name: "dev" });

      const list = await get(`/orgs/${orgUid}/providers`, developer);
      expect(list.status).to.equal(200);
      expect(list.body.result.map((p: any) => [p.alias, p.providerType, p.providerDetails])).to.deep.equal([
        ["keys", "accessKey", { accessKeyId: "AKIAIOSFODNN7EXAMPLE" }],
        ["prod", "roleArn", { roleArn: prod.roleArn }],
      ]);
      expect(JSON.stringify(list.body)).to.not.include("wJalrXUtnFEMI");

      const slug = instanceSlug("shop", "api", "prod", "eu-west-1");
      const linked = await call("POST", `/orgs/${orgUid}/instances/${encodeURI(slug)}`, developer, { providerUid: prod.uid });
      expect(linked.status).to.equal(200);
      expect(linked.body).to.deep.include({ providerUid: prod.uid, linkType: "instance", linkUid: slug });
      expect(await counts()).to.deep.equal({ apps: 1, services: 1, instances: 1, links: 1 });
      const answer = await providersOf(deployer, orgUid, "prod", { region: "eu-west-1" });
      expect(answer.body.result.map((p: any) => [p.alias, p.source])).to.deep.equal([["prod", "INSTANCE"]]);
      expect((await auditEvents("link.instance")).map((e) => e.details.providerName)).to.deep.equal(["prod"]);
    });

    it("a deployer may neither list nor link (audited); bad bodies and other orgs' providers are refused and change nothing", async () => {
      const prod = await roleProvider(admin, orgId, "prod", "222222222222");
      const slug = encodeURI(instanceSlug("shop", "api", "prod", "us-east-1"));
      expect((await get(`/orgs/${orgUid}/providers`, deployer)).status).to.equal(403);
      expect((await call("POST", `/orgs/${orgUid}/instances/${slug}`, deployer, { providerUid: prod.uid })).status).to.equal(403);
      expect((await auditEvents("authorization.role")).map((e) => e.details.operation)).to.deep.equal(["serverless.providers", "serverless.link"]);

      const { key: otherAdmin, orgId: otherOrg } = await newOrg("other");
      const foreign = fromGlobalId(await createProvider(otherAdmin, otherOrg, "theirs", { aws: { role: { roleArn: ROLE_ARN("333333333333", "x") } } }))!.id;
      const cases: Array<[unknown, number, string]> = [
        [{ providerUid: foreign }, 404, "NOT_FOUND"],
        [{ providerUid: "prod" }, 400, "INVALID_PROVIDER_UID"],
        [{}, 400, "INVALID_PROVIDER_UID"],
        ["{not json", 400, "BAD_REQUEST"],
        [{ providerUid: prod.uid, padding: "x".repeat(10_000) }, 413, "BAD_REQUEST"],
      ];
      for (const [body, status, name] of cases) {
        const answer = await call("POST", `/orgs/${orgUid}/instances/${slug}`, admin, body);
        expect([answer.status, answer.body.name], JSON.stringify(body).slice(0, 40)).to.deep.equal([status, name]);
      }
      expect(await counts()).to.deep.equal({ apps: 0, services: 0, instances: 0, links: 0 });
    });
  });

  it("failed authentications here count toward the same per-address throttle as /graphql's", async () => {
    const { port, close } = await secondServer(harness().application, { authThrottle: { limit: 3, windowSeconds: 60 } });
    const from = (path: string, key: string | null, method = "GET") =>
      new Promise<{ status: number; retryAfter?: string; body: any }>((resolve, reject) => {
        const request = http.request(
          { host: "127.0.0.1", port, path, method, localAddress: "127.0.0.5", agent: false, headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) } },
          (response) => {
            let text = "";
            response.on("data", (chunk) => (text += chunk));
            response.on("end", () => resolve({ status: response.statusCode!, retryAfter: response.headers["retry-after"], body: JSON.parse(text) }));
          },
        );
        request.on("error", reject);
        request.end(method === "POST" ? JSON.stringify({ query: "{ viewer { orgs { slug } } }" }) : undefined);
      });
    try {
      for (const key of [null, "pvk_bad", generateToken()]) expect((await from("/sls/v1/core/tenants/acme", key)).status).to.equal(401);
      const refused = await from("/sls/v1/core/tenants/acme", deployer);
      expect(refused.status).to.equal(429);
      expect(refused.body).to.include({ name: "TOO_MANY_FAILED_AUTHENTICATIONS" });
      expect(Number(refused.retryAfter)).to.be.within(1, 60);
      expect((await from("/graphql", deployer, "POST")).status).to.equal(429);
    } finally {
      await close();
    }
  });

  it("an unknown route under the prefix answers in the client's error shape", async () => {
    const answer = await get("/orgs/x/nothing", deployer);
    expect(answer.status).to.equal(404);
    expect(answer.body).to.include({ name: "NOT_FOUND" });
  });
});
