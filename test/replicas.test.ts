import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { newOrg, ok } from "./client.js";
import { postGraphQL, runCli, startServing, type ServingCli } from "./cli-process.js";
import { createApp, createService, memberWithKey, createKey, ROLE_ARN } from "./fixtures.js";
import { freePort } from "./harness.js";
import { harness, sts } from "./setup.js";
import { SERVER_IDENTITY } from "../src/dev-sts/fake-sts-server.js";

/*
 * Three server processes on one PostgreSQL behave as one: nothing a request depends on is kept in a
 * process (keys, members and the profile migration are read from, and decided in, the database).
 */

const VIEWER = `{ viewer { __typename } }`;
const DEPLOY = `mutation($stage: String!) {
  deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: $stage, region: "us-east-1" }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId } }
    resolution { source provider { name } }
  }
}`;

interface Replica {
  port: number;
  metricsPort: number | null;
  serving: ServingCli;
}

describe("several replicas on one database", function () {
  this.timeout(180_000);
  const replicas: Replica[] = [];
  let auditDir: string;

  before(async () => {
    auditDir = await mkdtemp(path.join(os.tmpdir(), "providers-api-replicas-"));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // The third keeps /metrics on a port of its own, as behind a load balancer.
      const metricsPort = i === 2 ? await freePort() : null;
      const serving = await startServing({
        DATABASE_URL: harness().databaseUrl,
        PROVIDERS_MASTER_KEY: harness().masterKey.toString("base64"),
        PORT: String(port),
        ...(metricsPort ? { METRICS_PORT: String(metricsPort) } : {}),
        AUDIT_LOG_FILE: path.join(auditDir, `audit-${i}.jsonl`),
        LOG_LEVEL: "info",
        AWS_ENDPOINT_URL_STS: process.env.AWS_ENDPOINT_URL_STS,
        AWS_ACCESS_KEY_ID: SERVER_IDENTITY.accessKeyId,
        AWS_SECRET_ACCESS_KEY: SERVER_IDENTITY.secretAccessKey,
        AWS_REGION: "us-east-1",
      });
      expect(serving.output(), serving.output()).to.include("providers-api is listening");
      replicas.push({ port, metricsPort, serving });
    }
  });

  after(async () => {
    for (const { serving } of replicas) {
      serving.child.kill("SIGTERM");
      await serving.exited;
    }
    await rm(auditDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  const on = (i: number, key: string, query: string, variables: Record<string, unknown> = {}) => postGraphQL(replicas[i].port, key, query, variables);

  it("a key revoked through one replica is refused by the others on their next request", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const ci = await createKey(admin, orgId, { role: "DEPLOYER", name: "ci" });
    for (let i = 0; i < 3; i++) expect((await on(i, ci.token, VIEWER)).data.viewer.__typename).to.be.a("string");
    const revoked = await on(1, admin, `mutation($id: ID!) { revokeAccessKey(input: { accessKeyId: $id }) { userErrors { code } } }`, { id: ci.id });
    expect(revoked.data.revokeAccessKey.userErrors).to.deep.equal([]);
    for (const i of [0, 2]) expect((await on(i, ci.token, VIEWER)).errors[0].extensions.code).to.equal("UNAUTHENTICATED");
  });

  it("a member removed through one replica loses access on all of them", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const { userId, token } = await memberWithKey(admin, orgId, "dev@acme.test", "DEVELOPER");
    for (let i = 0; i < 3; i++) expect((await on(i, token, VIEWER)).errors).to.equal(undefined);
    const removed = await on(2, admin, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { userErrors { code } } }`, { input: { orgId, userId } });
    expect(removed.data.removeMember.userErrors).to.deep.equal([]);
    for (const i of [0, 1]) expect((await on(i, token, VIEWER)).errors[0].extensions.code).to.equal("UNAUTHENTICATED");
  });

  it("concurrent first deployments of a legacy org, spread over the three, migrate it exactly once", async () => {
    const { key, orgId } = await newOrg("acme");
    const appId = await createApp(key, orgId, "app1");
    await createService(key, appId, "service1");
    for (const [name, account, stage] of [["dev", "111111111111", "default"], ["prod", "222222222222", "prod"]]) {
      const roleArn = ROLE_ARN(account, `legacy-${name}`);
      const created = await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, {
        input: { orgId, name, roleArn },
      });
      await ok(key, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { userErrors { code } } }`, {
        input: { appId, stage, deploymentProfileId: created.createDeploymentProfile.deploymentProfile.id },
      });
      sts().addRole(roleArn);
    }
    // More deployments than one replica's pool, all at once, round-robin over the replicas, to prod,
    // dev and a preview stage mixed: whichever replica migrates, each stage gets its own account.
    const stages = Array.from({ length: 24 }, (_, i) => ["prod", "dev", "feature-x", "prod"][i % 4]);
    const results = await Promise.all(stages.map((stage, i) => on(i % 3, key, DEPLOY, { stage })));
    results.forEach((result, i) => {
      expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
      expect(result.data.deploymentCredentials.resolution.provider.name).to.equal(stages[i] === "prod" ? "prod" : "dev");
    });
    // After the migration, the app's default stage profile applies to every other stage.
    expect((await on(1, key, DEPLOY, { stage: "dev" })).data.deploymentCredentials.resolution.provider.name).to.equal("dev");
    const db = harness().application.dataSource;
    const [{ runs }] = await db.query("SELECT count(*)::int AS runs FROM audit_events WHERE action = 'profiles.migrate'");
    expect(runs).to.equal(1);
    const [{ providers }] = await db.query("SELECT count(*)::int AS providers FROM providers");
    expect(providers).to.equal(2);
    const assumed: string[] = sts().callsOf("AssumeRole").map((call) => call.params.RoleArn.split(":")[4]);
    expect(assumed.filter((account) => account === "222222222222")).to.have.length(stages.filter((s) => s === "prod").length);
    expect(assumed.filter((account) => account === "111111111111")).to.have.length(stages.filter((s) => s !== "prod").length + 1); // + the dev deployment after
    // Every replica took part, and each says so in its metrics.
    for (const replica of replicas) {
      const url = replica.metricsPort ? `http://127.0.0.1:${replica.metricsPort}/metrics` : `http://127.0.0.1:${replica.port}/metrics`;
      const text = await (await fetch(url)).text();
      expect(text).to.match(/providers_api_credentials_total\{type="AWS",source="(SERVICE|INSTANCE)",outcome="ISSUED"\} [1-9]/);
    }
  });

  it("a replica with METRICS_PORT keeps /metrics off the API's port", async () => {
    const third = replicas[2];
    expect((await fetch(`http://127.0.0.1:${third.port}/metrics`)).status).to.equal(404);
    expect((await fetch(`http://127.0.0.1:${third.metricsPort}/metrics`)).status).to.equal(200);
    expect((await fetch(`http://127.0.0.1:${third.metricsPort}/graphql`)).status).to.equal(404);
  });

  it("each replica's stdout is JSON lines alone, and its audit file holds the events it committed", async () => {
    for (const { serving } of replicas) {
      const lines = serving.output().split("\n").filter(Boolean);
      expect(lines.length).to.be.greaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line), line).to.not.throw();
      expect(serving.output()).to.not.include("DeprecationWarning:");
    }
    const { key } = await newOrg("acme");
    const created = await on(0, key, `mutation { createApp(input: { orgId: "${(await ok(key, `{ org(slug: "acme") { id } }`)).org.id}", name: "from-replica-0" }) { app { id } } }`);
    expect(created.errors).to.equal(undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const written = (await readFile(path.join(auditDir, "audit-0.jsonl"), "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line));
    const app = written.find((event) => event.action === "app.create" && event.details?.name === "from-replica-0");
    expect(app, JSON.stringify(written.slice(-3))).to.not.equal(undefined);
    expect(app).to.include.keys("id", "orgId", "occurredAt", "action", "outcome", "actor", "target", "requestId", "details");
  });

  it("audit export streams an org's trail from the database, oldest first, filtered by --since", async () => {
    const { key, orgId } = await newOrg("acme");
    for (let i = 0; i < 5; i++) await createApp(key, orgId, `app-${i}`);
    const env = { DATABASE_URL: harness().databaseUrl, PROVIDERS_MASTER_KEY: harness().masterKey.toString("base64"), LOG_LEVEL: "warn" };
    const all = await runCli(["audit", "export", "--org", "acme"], env);
    expect(all.status, all.stderr).to.equal(0);
    const events = all.stdout.trim().split("\n").map((line) => JSON.parse(line));
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM audit_events WHERE org_id = $1", [events[0].orgId]);
    expect(events).to.have.length(count);
    expect(events.filter((e) => e.action === "app.create").map((e) => e.details.name)).to.deep.equal(["app-0", "app-1", "app-2", "app-3", "app-4"]);
    const times = events.map((e) => e.occurredAt);
    expect([...times].sort()).to.deep.equal(times);
    const later = await runCli(["audit", "export", "--org", "acme", "--since", times[times.length - 1]], env);
    expect(later.stdout.trim().split("\n").length).to.be.lessThan(events.length + 1).and.at.least(1);

    const badSince = await runCli(["audit", "export", "--org", "acme", "--since", "yesterday"], env);
    expect(badSince.status).to.equal(2);
    expect(badSince.stderr).to.include("--since");
    const badFormat = await runCli(["audit", "export", "--org", "acme", "--format", "csv"], env);
    expect(badFormat.status).to.equal(2);
    const unknown = await runCli(["audit", "export", "--org", "nobody"], env);
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr.trim()).to.match(/there is no org "nobody"/);
    expect(unknown.stdout).to.equal("");
  });
});
