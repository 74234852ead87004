import { expect } from "chai";
import pg from "pg";
import { newOrg, ok } from "./client.js";
import { createApp, createKey, createProvider, createService, ROLE_ARN } from "./fixtures.js";
import { StsAdapter } from "../src/aws/sts.js";
import { poolOf } from "../src/db/data-source.js";
import { hashToken } from "../src/domain/access-key-tokens.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { startHarness, type Harness } from "./harness.js";
import { harness, sts } from "./setup.js";

/*
 * Under failure: a slow or hanging STS, more refusals and deployments than the pool has connections,
 * an audit store that refuses writes. The server keeps answering everyone, and every refusal is
 * audited. Nothing here measures time: it counts who reached STS together and what was recorded.
 */

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId } }
    instance { id }
    userErrors { code field message }
  }
}`;
const CREATE_APP = `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } userErrors { code } } }`;

interface Answer {
  status: number;
  data?: any;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POSTs to a given server (these tests run a second one, with a pool of 2, beside the suite's). */
async function post(url: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { ...((await response.json()) as object), status: response.status };
}

const target = (input: Record<string, unknown> = {}) => ({ input: { org: "acme", app: "app1", service: "service1", stage: "dev", region: "us-east-1", ...input } });

async function countAudits(): Promise<Record<string, number>> {
  const rows: Array<{ action: string; outcome: string; code: string | null; n: number }> = await harness().application.dataSource.query(
    "SELECT action, outcome, details->>'errorCode' AS code, count(*)::int AS n FROM audit_events GROUP BY 1, 2, 3",
  );
  return Object.fromEntries(rows.map((r) => [[r.action, r.outcome, r.code].filter(Boolean).join(" "), r.n]));
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** A role provider the fake STS knows, set as the org default. */
async function defaultRole(key: string, orgId: string): Promise<string> {
  const roleArn = ROLE_ARN("555555555555", "deploy");
  const id = await createProvider(key, orgId, "default", { aws: { role: { roleArn } } });
  const externalId = (await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id })).node
    .credentials.externalId;
  sts().addRole(roleArn, { externalId });
  await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id });
  return id;
}

describe("under failure", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
  });

  describe("STS holds nothing", () => {
    it("20 concurrent deployments of ONE instance all wait on STS together, and each is recorded once it answers", async () => {
      await defaultRole(key, orgId);
      await ok(key, DEPLOY, target()); // the instance exists: every deployment below stamps the same row
      sts().hang = true;
      const deployments = Array.from({ length: 20 }, () => post(harness().url, key, DEPLOY, target()));
      // All 20 at STS at once: no row lock or connection makes one wait for another's STS call, so
      // they take one STS latency together.
      await until(() => sts().inFlight === 20, "all 20 deployments wait on STS");
      sts().release();
      for (const result of await Promise.all(deployments)) expect(result.data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(1);
      expect((await countAudits())["credentials.issue SUCCESS"]).to.equal(21);
    });

    it("a deployment whose STS call fails leaves nothing behind but its audit event", async () => {
      await defaultRole(key, orgId);
      sts().failWith = { status: 503, code: "ServiceUnavailable", message: "Service unavailable" };
      const result = await post(harness().url, key, DEPLOY, target({ app: "brand-new", service: "api", stage: "qa" }));
      expect(result.errors?.[0].extensions).to.deep.include({ code: "STS_UNAVAILABLE", retryable: true });
      const [counts] = await harness().application.dataSource.query(
        "SELECT (SELECT count(*) FROM apps)::int AS apps, (SELECT count(*) FROM services)::int AS services, (SELECT count(*) FROM instances)::int AS instances",
      );
      expect(counts).to.deep.equal({ apps: 0, services: 0, instances: 0 });
      const events = await harness().application.dataSource.query("SELECT action, outcome, details FROM audit_events WHERE action LIKE 'credentials.%'");
      expect(events).to.have.length(1);
      expect(events[0]).to.deep.include({ action: "credentials.issue", outcome: "FAILURE" });
      expect(events[0].details).to.deep.include({ app: "brand-new", stage: "qa", errorCode: "STS_UNAVAILABLE", providerName: "default" });
    });
  });

  describe("a pool of 2 connections", () => {
    let small: Harness;

    before(async function () {
      this.timeout(60_000);
      // Same database as the suite's server; an STS timeout long enough that only release() ends the hang.
      small = await startHarness(harness().databaseUrl, { databasePoolSize: 2, stsTimeoutMs: 60_000 });
    });

    after(async function () {
      this.timeout(30_000);
      await small?.server.stop();
    });

    it("answers and audits 20 concurrent refusals of every kind, then serves others", async () => {
      const deployer = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
      const scopedDeployer = (await createKey(key, orgId, { role: "DEPLOYER", name: "preview ci", scope: { stages: ["feature-*"] } })).token;
      const scopedDeveloper = (await createKey(key, orgId, { role: "DEVELOPER", name: "shop dev", scope: { apps: ["shop"] } })).token;
      const refusals = Array.from({ length: 5 }, () => [
        // an unknown org: NOT_FOUND, audited by deploymentCredentials itself
        post(small.url, deployer, DEPLOY, target({ org: "nope" })).then((r) => ["NOT_FOUND", r.errors?.[0].extensions?.code]),
        // a stage outside the key's scope: FORBIDDEN
        post(small.url, scopedDeployer, DEPLOY, target({ stage: "prod" })).then((r) => ["FORBIDDEN", r.errors?.[0].extensions?.code]),
        // a role too low: refused by the auth checker, before any transaction
        post(small.url, deployer, CREATE_APP, { input: { orgId, name: "other" } }).then((r) => ["FORBIDDEN", r.errors?.[0].extensions?.code]),
        // outside the scope, found inside the mutation's transaction
        post(small.url, scopedDeveloper, CREATE_APP, { input: { orgId, name: "billing" } }).then((r) => ["FORBIDDEN", r.errors?.[0].extensions?.code]),
      ]).flat();
      for (const [expected, actual] of await Promise.all(refusals)) expect(actual).to.equal(expected);

      expect(await countAudits()).to.deep.include({
        "credentials.issue DENIED NOT_FOUND": 5,
        "credentials.issue DENIED FORBIDDEN": 5,
        "authorization.scope DENIED": 10,
        "authorization.role DENIED": 5,
      });
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM apps");
      expect(count, "no refused change stayed").to.equal(0);
      expect((await post(small.url, key, `{ viewer { orgs { slug } } }`)).data.viewer.orgs[0].slug).to.equal("acme");
    });

    it("20 deployments waiting on a hanging STS hold no connection: others are served and refused meanwhile, and all finish once STS answers", async () => {
      await defaultRole(key, orgId);
      const deployer = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
      sts().hang = true;
      const deployments = Array.from({ length: 20 }, (_, i) => post(small.url, deployer, DEPLOY, target({ stage: i % 2 ? "dev" : `pr-${i}` })));
      // All 20 are at STS at once, on a pool of 2: none of them holds a connection while it waits.
      await until(() => sts().inFlight === 20, "all 20 deployments wait on STS");

      expect((await post(small.url, key, `{ viewer { orgs { slug } } }`)).data.viewer.orgs[0].slug).to.equal("acme");
      expect((await post(small.url, deployer, DEPLOY, target({ org: "nope" }))).errors?.[0].extensions?.code).to.equal("NOT_FOUND");
      expect((await post(small.url, deployer, CREATE_APP, { input: { orgId, name: "x" } })).errors?.[0].extensions?.code).to.equal("FORBIDDEN");
      expect(await countAudits()).to.deep.include({ "credentials.issue DENIED NOT_FOUND": 1, "authorization.role DENIED": 1 });

      sts().release();
      for (const result of await Promise.all(deployments)) expect(result.data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      expect((await countAudits())["credentials.issue SUCCESS"]).to.equal(20);
    });

    it("25 concurrent deployments of one instance and of 25 instances, more than the pool has connections, are each recorded once", async () => {
      await defaultRole(key, orgId);
      const deployer = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
      // The instances exist: their deployments read and record without a transaction, each statement on a pooled connection.
      for (let i = 0; i < 25; i++) expect((await post(small.url, deployer, DEPLOY, target({ stage: `s${i}` }))).data.deploymentCredentials.userErrors).to.deep.equal([]);
      const oneInstance = Array.from({ length: 25 }, () => post(small.url, deployer, DEPLOY, target({ stage: "s0" })));
      const manyInstances = Array.from({ length: 25 }, (_, i) => post(small.url, deployer, DEPLOY, target({ stage: `s${i}` })));
      const results = await Promise.all([...oneInstance, ...manyInstances]);
      for (const result of results) expect(result.data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      const issued: Array<{ stage: string; n: number }> = await harness().application.dataSource.query(
        "SELECT i.stage, count(*)::int AS n FROM audit_events e JOIN instances i ON i.id = e.target_id WHERE e.action = 'credentials.issue' AND e.outcome = 'SUCCESS' GROUP BY i.stage",
      );
      const byStage = Object.fromEntries(issued.map((row) => [row.stage, row.n]));
      expect(byStage.s0).to.equal(1 + 25 + 1);
      for (let i = 1; i < 25; i++) expect(byStage[`s${i}`]).to.equal(2);
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(25);
      const pool = poolOf(small.application.dataSource)!;
      expect([pool.idleCount, pool.waitingCount], "every connection is back in the pool").to.deep.equal([pool.totalCount, 0]);
    });

    it("deployments whose record the database refuses give their connections back: 20 at once on a pool of 2, then the next one is served", async () => {
      await defaultRole(key, orgId);
      expect((await post(small.url, key, DEPLOY, target())).data.deploymentCredentials.userErrors).to.deep.equal([]);
      const db = harness().application.dataSource;
      await db.query(`CREATE FUNCTION test_refuse_issue_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.action = 'credentials.issue' AND NEW.outcome = 'SUCCESS' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
      await db.query("CREATE TRIGGER test_refuse_issue_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_issue_audit()");
      try {
        const refused = await Promise.all(Array.from({ length: 20 }, () => post(small.url, key, DEPLOY, target())));
        for (const result of refused) {
          expect([result.status, result.errors?.[0].extensions?.code]).to.deep.equal([503, "SERVICE_UNAVAILABLE"]);
          expect(JSON.stringify(result)).to.not.match(/ASIA/);
        }
      } finally {
        await db.query("DROP TRIGGER test_refuse_issue_audit ON audit_events");
        await db.query("DROP FUNCTION test_refuse_issue_audit()");
      }
      expect(await countAudits()).to.deep.include({ "credentials.issue FAILURE SERVICE_UNAVAILABLE": 20, "credentials.issue SUCCESS": 1 });
      const pool = poolOf(small.application.dataSource)!;
      expect([pool.idleCount, pool.waitingCount], "every connection is back in the pool").to.deep.equal([pool.totalCount, 0]);
      expect((await post(small.url, key, DEPLOY, target())).data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
    });
  });

  describe("refusals are audited with what the caller was told", () => {
    it("bad input is DENIED with the user error codes, a control character included", async () => {
      const ci = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
      const star = await post(harness().url, ci, DEPLOY, target({ stage: "*" }));
      expect(star.data.deploymentCredentials.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["INVALID_STAGE"]);
      const spaces = await post(harness().url, ci, DEPLOY, target({ stage: "prod", app: "no spaces", service: "and-this one" }));
      expect(spaces.data.deploymentCredentials.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["INVALID_NAME", "INVALID_NAME"]);
      const events = await harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = 'credentials.issue' ORDER BY occurred_at");
      expect(events.map((e: { outcome: string; details: Record<string, unknown> }) => [e.outcome, e.details.errorCode, e.details.errorCodes])).to.deep.equal([
        ["DENIED", "INVALID_STAGE", ["INVALID_STAGE"]],
        ["DENIED", "INVALID_NAME", ["INVALID_NAME", "INVALID_NAME"]],
      ]);
      // A control character is refused before any work, for every argument of every operation, and
      // audited without the value (test/hostile-input.test.ts has the rest).
      const nul = await post(harness().url, ci, DEPLOY, target({ stage: "prod\u0000" }));
      expect(nul.data.deploymentCredentials.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["INVALID_INPUT", ["input", "stage"]]]);
      const [rejected] = await harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = 'input.rejected'");
      expect(rejected).to.deep.include({ outcome: "DENIED" });
      expect(rejected.details).to.deep.include({ operation: "Mutation.deploymentCredentials", fields: ["input.stage"], errorCode: "INVALID_INPUT" });
    });

    it("when the audit store refuses a refusal's record, the caller still gets the original error and the failure is logged at error level", async () => {
      const ci = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
      const db = harness().application.dataSource;
      await db.query(`CREATE FUNCTION test_refuse_denied_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.outcome = 'DENIED' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
      await db.query("CREATE TRIGGER test_refuse_denied_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_denied_audit()");
      try {
        expect((await post(harness().url, ci, DEPLOY, target({ org: "nope" }))).errors?.[0].extensions?.code).to.equal("NOT_FOUND");
        expect((await post(harness().url, ci, CREATE_APP, { input: { orgId, name: "x" } })).errors?.[0].extensions?.code).to.equal("FORBIDDEN");
      } finally {
        await db.query("DROP TRIGGER test_refuse_denied_audit ON audit_events");
        await db.query("DROP FUNCTION test_refuse_denied_audit()");
      }
      const logged = harness()
        .logs.map((line) => JSON.parse(line))
        .filter((line) => line.msg === "could not write an audit event for a refused or failed request");
      expect(logged.map((l) => [l.level, l.action, l.outcome])).to.deep.equal([
        [50, "credentials.issue", "DENIED"],
        [50, "authorization.role", "DENIED"],
      ]);
      expect(logged[0].err.message).to.contain("audit store unavailable");
    });
  });

  describe("the database", () => {
    it("gives every connection a statement timeout and an idle-in-transaction timeout", async () => {
      const [statement] = await harness().application.dataSource.query("SHOW statement_timeout");
      const [idle] = await harness().application.dataSource.query("SHOW idle_in_transaction_session_timeout");
      expect([statement.statement_timeout, idle.idle_in_transaction_session_timeout]).to.deep.equal(["30s", "15s"]);
    });

    it("with every pool connection taken, answers SERVICE_UNAVAILABLE (503) once the pool timeout passes, and /readyz says not ready; then recovers", async function () {
      this.timeout(60_000);
      const tiny = await startHarness(harness().databaseUrl, { databasePoolSize: 2, databasePoolTimeoutMs: 300 });
      const held = [tiny.application.dataSource.createQueryRunner(), tiny.application.dataSource.createQueryRunner()];
      try {
        for (const runner of held) await runner.connect();
        const viewer = await post(tiny.url, key, `{ viewer { orgs { slug } } }`);
        expect(viewer.status).to.equal(503);
        expect(viewer.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
        expect(viewer.errors?.[0].message).to.match(/database connections are busy.*Try again/);
        const ready = await fetch(`${tiny.url}/readyz`);
        expect(ready.status).to.equal(503);
        expect(((await ready.json()) as { status: string }).status).to.equal("unavailable");
        expect((await fetch(`${tiny.url}/healthz`)).status, "alive, only not ready").to.equal(200);
      } finally {
        for (const runner of held) await runner.release();
      }
      try {
        expect((await post(tiny.url, key, `{ viewer { orgs { slug } } }`)).data.viewer.orgs[0].slug).to.equal("acme");
        expect((await fetch(`${tiny.url}/readyz`)).status).to.equal(200);
      } finally {
        await tiny.server.stop();
      }
    });

    it("authentication held past the statement timeout (its key's row locked) answers SERVICE_UNAVAILABLE (503), then the key works again", async function () {
      this.timeout(60_000);
      const short = await startHarness(harness().databaseUrl, { databaseStatementTimeoutMs: 300 });
      const { dataSource } = harness().application;
      // The key's last use is stale, so authenticating writes it, and waits for the row lock held here.
      await dataSource.query("UPDATE access_keys SET last_used_at = NULL WHERE token_hash = $1", [hashToken(key)]);
      const locker = dataSource.createQueryRunner();
      await locker.connect();
      try {
        await locker.startTransaction();
        await locker.query("SELECT id FROM access_keys WHERE token_hash = $1 FOR UPDATE", [hashToken(key)]);
        const held = await post(short.url, key, `{ viewer { orgs { slug } } }`);
        expect(held.status).to.equal(503);
        expect(held.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
        await locker.rollbackTransaction();
        const served = await post(short.url, key, `{ viewer { orgs { slug } } }`);
        expect(served.data.viewer.orgs[0].slug).to.equal("acme");
        const [row] = await dataSource.query("SELECT last_used_at FROM access_keys WHERE token_hash = $1", [hashToken(key)]);
        expect(row.last_used_at).to.be.instanceOf(Date);
        // The driver's words are logged (code 57014, statement cancelled), never the statement or the key's hash.
        const logged = short.logs.filter((line) => line.includes("the database could not authenticate a request")).map((line) => JSON.parse(line));
        expect(logged.map((line) => line.code)).to.deep.equal(["57014"]);
        expect(short.logs.join("")).to.not.match(/SELECT|token_hash/);
      } finally {
        await locker.release();
        await short.server.stop();
      }
    });

    it("recovers without a restart when its connections are cut, and when the database refuses connections for a while", async function () {
      this.timeout(60_000);
      await defaultRole(key, orgId);
      const name = new URL(harness().databaseUrl).pathname.slice(1);
      // On the server's maintenance database: a database cannot refuse connections to itself.
      const maintenance = new URL(harness().databaseUrl);
      maintenance.pathname = "/postgres";
      const admin = new pg.Client({ connectionString: maintenance.toString(), application_name: "failure-test-admin" });
      await admin.connect();
      const serverBackends = async () =>
        (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'providers-api'", [name])).rows[0].n as number;
      const cutEveryConnection = async () => {
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'providers-api'", [name]);
        await until(async () => (await serverBackends()) === 0, "the server's connections are gone");
      };
      try {
        // Warm the pool, then cut every connection it holds.
        await Promise.all(Array.from({ length: 5 }, () => post(harness().url, key, DEPLOY, target())));
        await cutEveryConnection();
        for (let i = 0; i < 3; i++) expect((await post(harness().url, key, DEPLOY, target())).data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);

        // The database refuses every new connection: answers are 503 with a plain sentence, never the driver's words.
        await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
        await cutEveryConnection();
        const down = await post(harness().url, key, `{ viewer { orgs { slug } } }`);
        expect(down.status).to.equal(503);
        expect(down.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
        expect(down.errors?.[0].message).to.equal(
          "The server cannot reach its database right now, or all its database connections are busy; nothing was changed. Try again in a moment.",
        );
        const ready = await fetch(`${harness().url}/readyz`);
        expect([ready.status, await ready.json()]).to.deep.equal([503, { status: "unavailable", reason: "the database is not reachable" }]);
      } finally {
        await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      expect((await fetch(`${harness().url}/readyz`)).status).to.equal(200);
      expect((await post(harness().url, key, DEPLOY, target())).data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      expect(harness().logs.join("")).to.not.match(/INSERT|SELECT/);
    });
  });

  describe("growth from input is bounded", () => {
    let limited: Harness;

    before(async function () {
      this.timeout(60_000);
      limited = await startHarness(harness().databaseUrl, { extraAwsRegions: ["zz-lab-1"], maxInstancesPerOrg: 3 });
    });

    after(async function () {
      this.timeout(30_000);
      await limited?.server.stop();
    });

    it("takes regions from the AWS SDK's list, plus those the operator allows; anything else is INVALID_REGION before any work", async () => {
      await defaultRole(key, orgId);
      for (const region of ["zz-1234x-1", "us-east-99", "eu-moon-1"]) {
        const refused = (await post(harness().url, key, DEPLOY, target({ region }))).data.deploymentCredentials;
        expect(refused.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field.join(".")]), region).to.deep.equal([["INVALID_REGION", "input.region"]]);
      }
      expect((await post(harness().url, key, DEPLOY, target({ region: "us-east-99" }))).data.deploymentCredentials.userErrors[0].message).to.match(/not an AWS region this server knows.*AWS_EXTRA_REGIONS/);
      expect(sts().calls, "STS is never asked for a refused region").to.have.length(0);
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(0);
      // An extra region only where the operator allowed it, and real regions of several partitions.
      expect((await post(harness().url, key, DEPLOY, target({ region: "zz-lab-1" }))).data.deploymentCredentials.userErrors[0].code).to.equal("INVALID_REGION");
      expect((await post(limited.url, key, DEPLOY, target({ region: "zz-lab-1" }))).data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      for (const region of ["eu-central-2", "us-gov-west-1", "cn-north-1"]) {
        expect((await post(harness().url, key, DEPLOY, target({ region }))).data.deploymentCredentials.credentials.accessKeyId, region).to.match(/^ASIA/);
      }
      const serviceId = await createService(key, await createApp(key, orgId, "web"), "site");
      const created = await post(harness().url, key, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } userErrors { code } } }`, {
        input: { serviceId, stage: "dev", region: "zz-1234x-1" },
      });
      expect(created.data.createInstance.userErrors).to.deep.equal([{ code: "INVALID_REGION" }]);
    });

    it("refuses a new instance past MAX_INSTANCES_PER_ORG, before calling STS and exactly at the limit under concurrency; existing ones still deploy", async () => {
      await defaultRole(key, orgId);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => post(limited.url, key, DEPLOY, target({ stage: `pr-${i}` }))));
      const issued = results.filter((r) => r.data.deploymentCredentials.credentials);
      const refused = results.filter((r) => !r.data.deploymentCredentials.credentials).map((r) => r.data.deploymentCredentials.userErrors[0]);
      expect(issued).to.have.length(3);
      expect(refused).to.have.length(9);
      for (const error of refused) {
        expect(error.code).to.equal("INSTANCE_LIMIT_REACHED");
        expect(error.message).to.match(/MAX_INSTANCES_PER_ORG = 3/);
      }
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(3);
      expect(await countAudits()).to.deep.include({ "credentials.issue SUCCESS": 3, "credentials.issue DENIED INSTANCE_LIMIT_REACHED": 9 });

      sts().calls.length = 0;
      expect((await post(limited.url, key, DEPLOY, target({ stage: "another" }))).data.deploymentCredentials.userErrors[0].code).to.equal("INSTANCE_LIMIT_REACHED");
      expect(sts().calls, "a refused new instance never reaches STS").to.have.length(0);
      const [{ stage }] = await harness().application.dataSource.query("SELECT stage FROM instances LIMIT 1");
      expect((await post(limited.url, key, DEPLOY, target({ stage }))).data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      const serviceId = (await harness().application.dataSource.query("SELECT id FROM services LIMIT 1"))[0].id;
      const created = await post(limited.url, key, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } userErrors { code } } }`, {
        input: { serviceId: Buffer.from(`Service:${serviceId}`).toString("base64url"), stage: "qa", region: "us-east-1" },
      });
      expect(created.data.createInstance.userErrors).to.deep.equal([{ code: "INSTANCE_LIMIT_REACHED" }]);
    });

    it("an org at MAX_INSTANCES_PER_ORG with deployment profiles: its first deployment, to an existing instance, migrates it and deploys; the stage-wide instance without room is reported", async () => {
      const appId = await createApp(key, orgId, "app1");
      const serviceId = await createService(key, appId, "service1");
      for (const [stage, region] of [["prod", "us-east-1"], ["prod", "eu-west-1"], ["dev", "us-east-1"]]) {
        const made = await ok(key, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { userErrors { code } } }`, { input: { serviceId, stage, region } });
        expect(made.createInstance.userErrors).to.deep.equal([]);
      }
      for (const [name, account, stage] of [["dev", "111111111111", "default"], ["prod", "222222222222", "prod"]]) {
        const roleArn = ROLE_ARN(account, `legacy-${name}`);
        sts().addRole(roleArn);
        const profile = await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, { input: { orgId, name, roleArn } });
        await ok(key, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { userErrors { code } } }`, {
          input: { appId, stage, deploymentProfileId: profile.createDeploymentProfile.deploymentProfile.id },
        });
      }
      const deployed = await post(limited.url, key, `mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) {
        credentials { ... on AwsDeploymentCredentials { accessKeyId } } resolution { provider { name } } userErrors { code message }
        profileMigration { report { linksAdded { instance { region } } linksSkipped { reason message } } } } }`, target({ stage: "prod" }));
      expect(deployed.errors, JSON.stringify(deployed.errors)).to.equal(undefined);
      const answer = deployed.data.deploymentCredentials;
      expect(answer.userErrors).to.deep.equal([]);
      expect(answer.resolution.provider.name).to.equal("prod");
      expect(answer.credentials.accessKeyId).to.match(/^ASIA/);
      expect(answer.profileMigration.report.linksAdded.map((l: any) => l.instance?.region ?? null)).to.deep.equal([null, "eu-west-1", "us-east-1"]);
      expect(answer.profileMigration.report.linksSkipped.map((l: any) => l.reason)).to.deep.equal(["INSTANCE_LIMIT_REACHED"]);
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(3);
    });

    it("keeps at most the configured number of regional STS clients, and an evicted region still works", async () => {
      const roleArn = ROLE_ARN("555555555555", "deploy");
      sts().addRole(roleArn);
      const adapter = new StsAdapter({ region: "us-east-1", timeoutMs: 4000, maxAttempts: 1, regionClients: 2 });
      const assume = (region: string) => adapter.assumeRole({ roleArn, externalId: null, sessionName: "lru", durationSeconds: 900, tags: [], region });
      for (const region of ["us-east-1", "eu-west-1", "ap-south-1", "us-east-1"]) await assume(region);
      expect(adapter.cachedRegions()).to.deep.equal(["us-east-1", "ap-south-1"]);
      expect(sts().callsOf("AssumeRole").map((c) => c.signingRegion)).to.deep.equal(["us-east-1", "eu-west-1", "ap-south-1", "us-east-1"]);
    });

    it("reads AWS_EXTRA_REGIONS and MAX_INSTANCES_PER_ORG, refusing values that are not region codes or whole numbers", () => {
      expect(loadConfig({ AWS_EXTRA_REGIONS: " ap-future-1, eu-later-2 ", MAX_INSTANCES_PER_ORG: "100" })).to.deep.include({
        extraAwsRegions: ["ap-future-1", "eu-later-2"],
        maxInstancesPerOrg: 100,
      });
      expect(() => loadConfig({ AWS_EXTRA_REGIONS: "us-east-1,not a region" })).to.throw(ConfigError, /AWS_EXTRA_REGIONS must be a comma-separated list of region codes/);
      expect(() => loadConfig({ MAX_INSTANCES_PER_ORG: "0" })).to.throw(ConfigError, /MAX_INSTANCES_PER_ORG must be a whole number/);
    });
  });
});
