import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromProcess } from "@aws-sdk/credential-providers";
import { expect } from "chai";
import { issueAccessKey } from "../src/domain/access-keys.js";
import { Role } from "../src/entities/index.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createProvider, createService, createTrustedRoleProvider, externalIdOf, linkToInstance, linkToService } from "./fixtures.js";
import { harness, sts } from "./setup.js";
import { SERVER_IDENTITY } from "../src/dev-sts/fake-sts-server.js";

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    credentials {
      __typename
      ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration }
      ... on StripeDeploymentCredentials { secretKey }
      ... on TwilioDeploymentCredentials { accountSid authToken }
    }
    resolution { source provider { name } }
    instance { id stage region lastDeployedAt service { name app { name } } }
    useLocalCredentials
    userErrors { code field message }
  }
}`;

const VERIFY = `mutation($id: ID!) { verifyProvider(input: { providerId: $id }) { accountId arn externalIdEnforced warnings userErrors { code message } } }`;
const ROTATE = `mutation($id: ID!) { rotateExternalId(input: { providerId: $id }) { provider { credentials { ... on AwsRoleCredentials { externalId } } } userErrors { code message } } }`;

const USER_KEY = { accessKeyId: "AKIAUSERKEYAAAAAAAAA", secretAccessKey: "userSecretKey0userSecretKey0userSecretK+" };

type Target = { org?: string; app?: string; service?: string; stage: string; region?: string | null; type?: string; durationSeconds?: number };

async function deploy(key: string, target: Target) {
  return gql(key, DEPLOY, { input: { org: "acme", app: "app1", service: "service1", region: "us-east-1", ...target } });
}

async function deployed(key: string, target: Target) {
  const result = await deploy(key, target);
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data.deploymentCredentials;
}

async function setDefault(key: string, providerId: string): Promise<void> {
  await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
}

async function deployerKey(orgGlobalId: string): Promise<string> {
  const { token } = await issueAccessKey(harness().application.dataSource.manager, {
    orgId: fromGlobalId(orgGlobalId)!.id,
    name: "ci",
    role: Role.DEPLOYER,
  });
  return token;
}

async function auditEvents(action?: string): Promise<Array<{ action: string; outcome: string; target_id: string | null; details: Record<string, any>; actor_label: string }>> {
  return harness().application.dataSource.query(
    `SELECT action, outcome, target_id, details, actor_label FROM audit_events ${action ? "WHERE action = $1" : ""} ORDER BY occurred_at, id`,
    action ? [action] : [],
  );
}

describe("deploymentCredentials", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
  });

  describe("the seed scenarios, end to end", () => {
    it("dev on the service, prod on the prod instance: prod gets a prod-role session, every other stage a dev-role session", async () => {
      const dev = await createTrustedRoleProvider(key, orgId, "dev", "111111111111");
      const prod = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
      const serviceId = await createService(key, await createApp(key, orgId, "app1"), "service1");
      await linkToService(key, dev.id, serviceId);
      await linkToInstance(key, prod.id, await createInstance(key, serviceId, "prod", "us-east-1"));
      const ci = await deployerKey(orgId);

      const prodDeploy = await deployed(ci, { stage: "prod" });
      expect(prodDeploy.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
      expect(prodDeploy.credentials.__typename).to.equal("AwsDeploymentCredentials");
      expect(prodDeploy.credentials.accessKeyId).to.match(/^ASIA/);
      expect(prodDeploy.instance).to.deep.include({ stage: "prod", region: "us-east-1" });
      expect(prodDeploy.instance.lastDeployedAt).to.be.a("string");
      const [assume] = sts().callsOf("AssumeRole");
      expect(assume.callerAccessKeyId).to.equal(SERVER_IDENTITY.accessKeyId);
      expect(assume.params).to.deep.include({
        RoleArn: prod.roleArn,
        ExternalId: await externalIdOf(key, prod.id),
        RoleSessionName: "acme.service1.prod",
        DurationSeconds: "3600",
      });
      expect(Object.keys(assume.params).some((k) => k.startsWith("Tags."))).to.equal(false);

      // The credentials are a real session: STS knows them as the assumed prod role.
      const { accessKeyId, secretAccessKey, sessionToken } = prodDeploy.credentials;
      const client = new STSClient({ region: "us-east-1", credentials: { accessKeyId, secretAccessKey, sessionToken } });
      const identity = await client.send(new GetCallerIdentityCommand({}));
      client.destroy();
      expect(identity.Arn).to.equal("arn:aws:sts::222222222222:assumed-role/deploy/acme.service1.prod");

      for (const stage of ["dev", "int"]) {
        const result = await deployed(ci, { stage });
        expect(result.resolution).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
        expect(sts().callsOf("AssumeRole").at(-1)!.params.RoleArn).to.equal(dev.roleArn);
      }
    });

    it("preview on the service, prod on the prod instance: a new feature-x stage gets preview, prod gets prod", async () => {
      const preview = await createTrustedRoleProvider(key, orgId, "preview", "333333333333");
      const prod = await createTrustedRoleProvider(key, orgId, "prod", "444444444444");
      const serviceId = await createService(key, await createApp(key, orgId, "app1"), "service1");
      await linkToService(key, preview.id, serviceId);
      await linkToInstance(key, prod.id, await createInstance(key, serviceId, "prod", "eu-west-1"));

      const feature = await deployed(key, { stage: "feature-x", region: "eu-west-1" });
      expect(feature.resolution).to.deep.equal({ source: "SERVICE", provider: { name: "preview" } });
      expect(feature.instance).to.deep.include({ stage: "feature-x", region: "eu-west-1" });
      const prodDeploy = await deployed(key, { stage: "prod", region: "eu-west-1" });
      expect(prodDeploy.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
      expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([preview.roleArn, prod.roleArn]);
    });

    it("no provider anywhere: no credentials, 'use local credentials', and the app, service and instance now exist", async () => {
      const result = await deployed(key, { app: "fresh-app", service: "api", stage: "dev", region: null });
      expect(result).to.deep.include({ credentials: null, resolution: null, useLocalCredentials: true, userErrors: [] });
      expect(result.instance).to.deep.include({ stage: "dev", region: null, service: { name: "api", app: { name: "fresh-app" } } });
      expect(sts().calls).to.have.length(0);
      // A second deployment reuses the same instance.
      const again = await deployed(key, { app: "fresh-app", service: "api", stage: "dev", region: null });
      expect(again.instance.id).to.equal(result.instance.id);
      expect((await auditEvents("credentials.local")).map((e) => e.details.useLocalCredentials)).to.deep.equal([true, true]);
    });

    it("concurrent first deployments of one stage create exactly one app, service and instance", async () => {
      const results = await Promise.all(Array.from({ length: 6 }, () => deployed(key, { app: "race", service: "svc", stage: "dev" })));
      expect(new Set(results.map((r) => r.instance.id)).size).to.equal(1);
      const [counts] = await harness().application.dataSource.query(
        "SELECT (SELECT count(*) FROM apps)::int AS apps, (SELECT count(*) FROM services)::int AS services, (SELECT count(*) FROM instances)::int AS instances",
      );
      expect(counts).to.deep.equal({ apps: 1, services: 1, instances: 1 });
    });

    it("a deployment in flight does not hold up another deployment of the same app", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "shared", "555555555555");
      await setDefault(key, role.id);
      await deployed(key, { app: "mono", service: "first", stage: "dev" });
      // The first deployment's AssumeRole gets no answer: its transaction stays open, with its locks.
      sts().hang = true;
      let firstSettled = false;
      const first = deploy(key, { app: "mono", service: "first", stage: "qa" }).finally(() => (firstSettled = true));
      while (sts().callsOf("AssumeRole").length < 2) await new Promise((r) => setTimeout(r, 10));
      sts().hang = false;
      const second = await deployed(key, { app: "mono", service: "second", stage: "qa" });
      expect(second.credentials.accessKeyId).to.be.a("string");
      expect(firstSettled, "the second deployment finished while the first still waited for STS").to.equal(false);
      sts().reset();
      await first;
    });
  });

  describe("AWS role sessions", () => {
    it("sends the duration asked for and session tags where the provider enables them", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "tagged", "555555555555", { maxSessionDurationSeconds: 7200, sessionTags: true });
      await setDefault(key, role.id);
      const result = await deployed(key, { stage: "qa", region: "eu-central-1", durationSeconds: 5400 });
      expect(result.resolution.source).to.equal("ORG_DEFAULT");
      const { params } = sts().callsOf("AssumeRole")[0];
      expect(params.DurationSeconds).to.equal("5400");
      const tags = Object.fromEntries([1, 2, 3, 4, 5].map((n) => [params[`Tags.member.${n}.Key`], params[`Tags.member.${n}.Value`]]));
      expect(tags).to.deep.equal({ org: "acme", app: "app1", service: "service1", stage: "qa", region: "eu-central-1" });
    });

    it("calls STS at the deployment's regional endpoint, and at the server's region for a stage-only deployment", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "regional", "555555555555");
      await setDefault(key, role.id);
      await deployed(key, { stage: "qa", region: "ap-southeast-2" });
      await deployed(key, { stage: "qa", region: "eu-west-1" });
      await deployed(key, { stage: "component", region: null });
      expect(sts().callsOf("AssumeRole").map((c) => c.signingRegion)).to.deep.equal(["ap-southeast-2", "eu-west-1", harness().config.awsRegion]);
    });

    it("keeps the session name valid for STS, and distinct, whatever the names' length", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555");
      await setDefault(key, role.id);
      const longService = `s${"x".repeat(120)}a`;
      const otherLongService = `s${"x".repeat(120)}b`;
      await deployed(key, { service: longService, stage: "feature-very-long-branch-name-for-a-preview-1234" });
      await deployed(key, { service: otherLongService, stage: "feature-very-long-branch-name-for-a-preview-1234" });
      await deployed(key, { service: "a", stage: "b" });
      const names = sts().callsOf("AssumeRole").map((c) => c.params.RoleSessionName);
      for (const name of names) expect(name).to.match(/^[\w+=,.@-]{2,64}$/);
      expect(names[0]).to.have.length(64).and.match(/^acme\.sxxx/);
      expect(names[0]).to.not.equal(names[1]);
      expect(names[2]).to.equal("acme.a.b");
      expect(sts().calls.every((c) => c.error === null)).to.equal(true);
    });

    it("refuses a duration outside 900..the provider's maximum with a userError, before calling STS", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555", { maxSessionDurationSeconds: 3600 });
      await setDefault(key, role.id);
      for (const durationSeconds of [100, 7200]) {
        const result = await deployed(key, { stage: "dev", durationSeconds });
        expect(result.credentials).to.equal(null);
        expect(result.userErrors).to.have.length(1);
        expect(result.userErrors[0]).to.deep.include({ code: "INVALID_DURATION", field: ["input", "durationSeconds"] });
        expect(result.userErrors[0].message).to.match(/900 to 3600/);
      }
      expect(sts().calls).to.have.length(0);
    });

    it("a role whose MaxSessionDuration is shorter than asked gives a clear error", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555", { maxSessionDurationSeconds: 43_200, roleMax: 3600 });
      await setDefault(key, role.id);
      const result = await deploy(key, { stage: "dev", durationSeconds: 7200 });
      expect(result.errors?.[0].extensions?.code).to.equal("SESSION_DURATION_TOO_LONG");
      expect(result.errors?.[0].message).to.match(/MaxSessionDuration/);
    });

    it("access denied (the trust policy names another external id) tells the admin what to check, is audited, and leaves nothing half-written", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555");
      sts().addRole(role.roleArn, { externalId: "something-else" });
      await setDefault(key, role.id);
      const result = await deploy(key, { app: "new-app", stage: "dev" });
      const error = result.errors![0];
      expect(error.extensions?.code).to.equal("STS_ACCESS_DENIED");
      expect(error.message).to.match(/trust policy/).and.match(/external id/);
      expect(result.data?.deploymentCredentials ?? null).to.equal(null);
      const [refusal] = await auditEvents("credentials.issue");
      expect(refusal).to.deep.include({ outcome: "DENIED" });
      expect(refusal.details).to.deep.include({ errorCode: "STS_ACCESS_DENIED", stsRequestId: sts().calls[0].requestId, providerName: "default", stage: "dev" });
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM apps WHERE name = 'new-app'");
      expect(count).to.equal(0);
    });

    it("retries throttling with backoff and then succeeds", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555");
      await setDefault(key, role.id);
      sts().throttleNext = 2;
      const result = await deployed(key, { stage: "dev" });
      expect(result.credentials.accessKeyId).to.match(/^ASIA/);
      expect(sts().callsOf("AssumeRole").map((c) => c.error)).to.deep.equal(["Throttling", "Throttling", null]);
    });

    it("reports throttling that does not stop as retryable", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555");
      await setDefault(key, role.id);
      sts().throttleNext = 100;
      const result = await deploy(key, { stage: "dev" });
      expect(result.errors?.[0].extensions).to.deep.include({ code: "STS_THROTTLED", retryable: true });
      expect(sts().callsOf("AssumeRole")).to.have.length(3);
      expect((await auditEvents("credentials.issue"))[0]).to.deep.include({ outcome: "FAILURE" });
    });

    it("an STS that never answers fails the request within the configured timeout, as retryable", async function () {
      this.timeout(15_000);
      const role = await createTrustedRoleProvider(key, orgId, "default", "555555555555");
      await setDefault(key, role.id);
      sts().hang = true;
      const result = await deploy(key, { stage: "dev" });
      expect(result.errors?.[0].extensions).to.deep.include({ code: "STS_UNAVAILABLE", retryable: true });
      expect(result.errors?.[0].message).to.match(/did not answer within 4000 ms/);
    });
  });

  describe("access keys, Stripe and Twilio", () => {
    it("an access-key provider hands out its stored key, or a GetSessionToken session made with it", async () => {
      sts().addUser(USER_KEY.accessKeyId, USER_KEY.secretAccessKey, "666666666666", "deployer");
      const stored = await createProvider(key, orgId, "stored", { aws: { accessKey: USER_KEY } });
      const sessions = await createProvider(key, orgId, "sessions", { aws: { accessKey: { ...USER_KEY, issueSessionTokens: true } } });
      const serviceId = await createService(key, await createApp(key, orgId, "app1"), "service1");
      await linkToService(key, stored, serviceId);
      await linkToInstance(key, sessions, await createInstance(key, serviceId, "prod", "us-east-1"));

      const dev = await deployed(key, { stage: "dev" });
      expect(dev.credentials).to.deep.equal({ __typename: "AwsDeploymentCredentials", ...USER_KEY, sessionToken: null, expiration: null });
      expect(sts().calls).to.have.length(0);

      const prod = await deployed(key, { stage: "prod", durationSeconds: 1800 });
      expect(prod.credentials.accessKeyId).to.match(/^ASIA/);
      expect(prod.credentials.secretAccessKey).to.not.equal(USER_KEY.secretAccessKey);
      expect(prod.credentials.sessionToken).to.be.a("string");
      const [call] = sts().callsOf("GetSessionToken");
      expect(call.callerAccessKeyId).to.equal(USER_KEY.accessKeyId);
      expect(call.params.DurationSeconds).to.equal("1800");
    });

    it("Stripe and Twilio providers hand out their stored secret through the same mutation", async () => {
      const serviceId = await createService(key, await createApp(key, orgId, "app1"), "service1");
      const stripe = await createProvider(key, orgId, "stripe", { stripe: { secretKey: "sk_test_abcdefghijklmnop" } });
      const twilio = await createProvider(key, orgId, "twilio", { twilio: { accountSid: `AC${"a".repeat(32)}`, authToken: "b".repeat(32) } });
      await linkToService(key, stripe, serviceId);
      await linkToService(key, twilio, serviceId);
      expect((await deployed(key, { stage: "dev", type: "STRIPE" })).credentials).to.deep.equal({
        __typename: "StripeDeploymentCredentials",
        secretKey: "sk_test_abcdefghijklmnop",
      });
      expect((await deployed(key, { stage: "dev", type: "TWILIO" })).credentials).to.deep.equal({
        __typename: "TwilioDeploymentCredentials",
        accountSid: `AC${"a".repeat(32)}`,
        authToken: "b".repeat(32),
      });
      expect((await deployed(key, { stage: "dev" })).useLocalCredentials).to.equal(true);
    });
  });

  describe("audit and authorization", () => {
    it("audits each issuance with caller, instance, provider, source, STS request id, key id and expiry, and never a secret", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
      const serviceId = await createService(key, await createApp(key, orgId, "app1"), "service1");
      await linkToService(key, role.id, serviceId);
      const ci = await deployerKey(orgId);
      const result = await deployed(ci, { stage: "prod" });
      const [event] = await auditEvents("credentials.issue");
      expect(event.outcome).to.equal("SUCCESS");
      expect(event.actor_label).to.equal('org key "ci" (DEPLOYER)');
      expect(event.target_id).to.equal(fromGlobalId(result.instance.id)!.id);
      expect(event.details).to.deep.include({
        providerId: fromGlobalId(role.id)!.id,
        providerName: "prod",
        source: "SERVICE",
        stage: "prod",
        stsRequestId: sts().calls[0].requestId,
        issuedAccessKeyId: result.credentials.accessKeyId,
        expiration: result.credentials.expiration,
      });
      const everything = JSON.stringify(await harness().application.dataSource.query("SELECT * FROM audit_events"));
      expect(everything).to.not.include(result.credentials.secretAccessKey);
      expect(everything).to.not.include(result.credentials.sessionToken);
      const logs = harness().logs.join("");
      expect(logs).to.not.include(result.credentials.secretAccessKey);
      expect(logs).to.not.include(result.credentials.sessionToken);
    });

    it("hands out no credentials when the audit record cannot be written: a retryable 503, the instance not recorded, the cause logged", async () => {
      const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
      await setDefault(key, role.id);
      const db = harness().application.dataSource;
      await db.query(`CREATE FUNCTION test_refuse_issue_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.action = 'credentials.issue' AND NEW.outcome = 'SUCCESS' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
      await db.query("CREATE TRIGGER test_refuse_issue_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_issue_audit()");
      try {
        const result = await deploy(key, { stage: "dev" });
        expect(result.status).to.equal(503);
        expect(result.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
        expect(result.errors?.[0].message).to.match(/not handed out\. Try again/);
        expect(result.data?.deploymentCredentials ?? null).to.equal(null);
        expect(JSON.stringify(result)).to.not.match(/ASIA/);
        expect(sts().callsOf("AssumeRole")).to.have.length(1);
        const [{ count }] = await db.query("SELECT count(*)::int AS count FROM instances");
        expect(count, "the instance is recorded with its issuance, or not at all").to.equal(0);
        const logged = harness().logs.map((line) => JSON.parse(line)).find((line) => line.msg.startsWith("could not record an issuance"));
        expect(logged).to.deep.include({ level: 50 });
        expect(logged.err.message).to.contain("audit store unavailable");
        // The failure itself is audited, on its own, once the issuance's transaction has rolled back.
        expect((await auditEvents("credentials.issue")).map((e) => [e.outcome, e.details.errorCode])).to.deep.equal([["FAILURE", "SERVICE_UNAVAILABLE"]]);
      } finally {
        await db.query("DROP TRIGGER test_refuse_issue_audit ON audit_events");
        await db.query("DROP FUNCTION test_refuse_issue_audit()");
      }
    });

    it("another org's slug is NOT_FOUND, like an unknown one, and the refusal is audited", async () => {
      await newOrg("other");
      const ci = await deployerKey(orgId);
      for (const org of ["other", "nope"]) {
        const result = await deploy(ci, { org, stage: "dev" });
        expect(result.errors?.[0].extensions?.code).to.equal("NOT_FOUND");
      }
      expect((await auditEvents("credentials.issue")).map((e) => [e.outcome, e.details.errorCode])).to.deep.equal([
        ["DENIED", "NOT_FOUND"],
        ["DENIED", "NOT_FOUND"],
      ]);
    });

    it("bad names come back as userErrors naming the field", async () => {
      const result = await deployed(key, { app: "no spaces", stage: "dev/../prod", region: "mars-1" });
      expect(result.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field.join(".")])).to.deep.equal([
        ["INVALID_NAME", "input.app"],
        ["INVALID_STAGE", "input.stage"],
        ["INVALID_REGION", "input.region"],
      ]);
    });
  });
});

describe("verifyProvider and rotateExternalId", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
  });

  it("reports the account and ARN, and that the role cannot be assumed without its external id", async () => {
    const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    const result = (await ok(key, VERIFY, { id: role.id })).verifyProvider;
    expect(result).to.deep.include({ accountId: "222222222222", externalIdEnforced: true, warnings: [], userErrors: [] });
    expect(result.arn).to.match(/^arn:aws:sts::222222222222:assumed-role\/deploy\//);
    expect(sts().callsOf("AssumeRole").map((c) => c.params.ExternalId ?? null)).to.deep.equal([await externalIdOf(key, role.id), null]);
    expect((await auditEvents("provider.verify"))[0]).to.deep.include({ outcome: "SUCCESS" });
  });

  it("warns of the confused-deputy problem when the trust policy has no external id condition", async () => {
    const role = await createTrustedRoleProvider(key, orgId, "open role v2", "222222222222");
    sts().addRole(role.roleArn, { externalId: null });
    const result = (await ok(key, VERIFY, { id: role.id })).verifyProvider;
    expect(result.externalIdEnforced).to.equal(false);
    expect(result.warnings[0]).to.match(/confused-deputy/).and.match(/sts:ExternalId/);
    // A provider name with a space still makes a session name STS accepts.
    expect(sts().callsOf("AssumeRole").map((c) => [c.params.RoleSessionName, c.error])).to.deep.equal([
      ["acme.verify.open-role-v2", null],
      ["acme.verify.open-role-v2", null],
    ]);
  });

  it("verifies an access key with GetCallerIdentity", async () => {
    sts().addUser(USER_KEY.accessKeyId, USER_KEY.secretAccessKey, "666666666666", "deployer");
    const id = await createProvider(key, orgId, "keys", { aws: { accessKey: USER_KEY } });
    const result = (await ok(key, VERIFY, { id })).verifyProvider;
    expect(result).to.deep.include({ accountId: "666666666666", arn: "arn:aws:iam::666666666666:user/deployer", externalIdEnforced: null });
  });

  it("an access key STS does not accept (a wrong secret fails the SigV4 check) is reported as rejected", async () => {
    sts().addUser(USER_KEY.accessKeyId, "anotherSecretKey0anotherSecretKey0anoth+", "666666666666", "deployer");
    const id = await createProvider(key, orgId, "keys", { aws: { accessKey: USER_KEY } });
    const result = await gql(key, VERIFY, { id });
    expect(result.errors?.[0].extensions?.code).to.equal("PROVIDER_CREDENTIALS_REJECTED");
    expect(sts().calls[0].error).to.equal("SignatureDoesNotMatch");
  });

  it("a role that cannot be assumed fails verification with the trust-policy error, audited", async () => {
    const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    sts().addRole(role.roleArn, { trustedAccounts: ["123456789012"] });
    const result = await gql(key, VERIFY, { id: role.id });
    expect(result.errors?.[0].extensions?.code).to.equal("STS_ACCESS_DENIED");
    expect((await auditEvents("provider.verify"))[0]).to.deep.include({ outcome: "DENIED" });
  });

  it("rotating the external id changes it, is audited, is admin-only, and the old id stops working", async () => {
    const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    await setDefault(key, role.id);
    const before = await externalIdOf(key, role.id);
    const ci = await deployerKey(orgId);
    expect((await gql(ci, ROTATE, { id: role.id })).errors?.[0].extensions?.code).to.equal("FORBIDDEN");

    const rotated = (await ok(key, ROTATE, { id: role.id })).rotateExternalId;
    const after = rotated.provider.credentials.externalId;
    expect(after).to.be.a("string").and.not.equal(before);
    expect(await auditEvents("provider.rotate_external_id")).to.have.length(1);
    // The role's trust policy still names the old id, so deployments are refused until it is updated.
    expect((await deploy(ci, { stage: "dev" })).errors?.[0].extensions?.code).to.equal("STS_ACCESS_DENIED");
    sts().addRole(role.roleArn, { externalId: after });
    expect((await deployed(ci, { stage: "dev" })).credentials.accessKeyId).to.match(/^ASIA/);
  });

  it("a Stripe provider has no external id to rotate", async () => {
    const id = await createProvider(key, orgId, "stripe", { stripe: { secretKey: "sk_test_abcdefghijklmnop" } });
    expect((await ok(key, ROTATE, { id })).rotateExternalId.userErrors[0].code).to.equal("NOT_A_ROLE_PROVIDER");
  });
});

describe("providers-api credentials (credential_process)", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "providers-api-cp-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    delete process.env.PROVIDERS_API_URL;
    delete process.env.PROVIDERS_API_KEY;
  });

  const cli = path.resolve(__dirname, "..", "src", "cli.js");

  it("prints credential_process JSON that the AWS SDK's fromProcess reads", async function () {
    this.timeout(30_000);
    const { key, orgId } = await newOrg("acme");
    const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    await setDefault(key, role.id);
    process.env.PROVIDERS_API_URL = harness().url;
    process.env.PROVIDERS_API_KEY = await deployerKey(orgId);
    const config = path.join(dir, "config");
    await writeFile(
      config,
      `[profile deploy]\ncredential_process = ${process.execPath} ${cli} credentials --org acme --app app1 --service service1 --stage prod --region us-east-1\n`,
    );
    await writeFile(path.join(dir, "credentials"), "");
    const credentials = await fromProcess({ profile: "deploy", configFilepath: config, filepath: path.join(dir, "credentials") })();
    expect(credentials.accessKeyId).to.match(/^ASIA/);
    expect(credentials.sessionToken).to.be.a("string");
    expect(credentials.expiration).to.be.instanceOf(Date);
    expect(sts().callsOf("AssumeRole")[0].params.RoleSessionName).to.equal("acme.service1.prod");
    const client = new STSClient({ region: "us-east-1", credentials });
    expect((await client.send(new GetCallerIdentityCommand({}))).Account).to.equal("222222222222");
    client.destroy();
  });

  it("loads only an HTTP client: no database driver, ORM, GraphQL server, AWS SDK or entities", async function () {
    this.timeout(30_000);
    const { key, orgId } = await newOrg("acme");
    const role = await createTrustedRoleProvider(key, orgId, "prod", "222222222222");
    await setDefault(key, role.id);
    // A preloaded script records every module the process loaded, as it exits.
    const recorder = path.join(dir, "record-modules.js");
    const loaded = path.join(dir, "modules.json");
    await writeFile(recorder, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["-r", recorder, cli, "credentials", "--org", "acme", "--app", "app1", "--service", "service1", "--stage", "prod", "--region", "us-east-1"],
      { env: { ...process.env, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: await deployerKey(orgId) } },
    );
    expect(JSON.parse(stdout).AccessKeyId).to.match(/^ASIA/);
    const modules = (JSON.parse(await readFile(loaded, "utf8")) as string[]).filter((m) => m !== recorder);
    const packages = new Set(modules.map((m) => /[\\/]node_modules[\\/]((@[^\\/]+[\\/])?[^\\/]+)/.exec(m)?.[1].replace("\\", "/")).filter(Boolean));
    for (const heavy of ["typeorm", "pg", "@apollo/server", "graphql", "type-graphql", "@aws-sdk/client-sts", "express", "reflect-metadata", "pino"]) {
      expect(packages.has(heavy), `the credentials command loaded ${heavy}`).to.equal(false);
    }
    const own = modules.filter((m) => !m.includes("node_modules")).map((m) => path.relative(path.resolve(__dirname, ".."), m));
    expect(own.sort()).to.deep.equal(
      [
        path.join("src", "cli.js"),
        path.join("src", "cli-usage.js"),
        path.join("src", "nearest-name.js"),
        path.join("src", "client", "api.js"),
        path.join("src", "client", "credential-process.js"),
      ].sort(),
    );
  });

  it("says plainly when no provider applies, and exits non-zero", async function () {
    this.timeout(30_000);
    const { key } = await newOrg("acme");
    const run = promisify(execFile);
    const failure = await run(process.execPath, [cli, "credentials", "--org", "acme", "--app", "app1", "--service", "svc", "--stage", "dev"], {
      env: { ...process.env, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: key },
    }).then(
      () => null,
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(failure?.code).to.equal(1);
    expect(failure?.stdout).to.equal("");
    expect(failure?.stderr).to.match(/use local credentials/);
  });
});
