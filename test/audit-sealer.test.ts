import { expect } from "chai";
import pg from "pg";
import type { DataSource } from "typeorm";
import { createDataSource } from "../src/db/data-source.js";
import { PENDING_LIMIT_SECONDS, verifyAuditChain } from "../src/domain/audit-chain.js";
import { AuditService } from "../src/domain/audit.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { createLogger } from "../src/logger.js";
import { openApplication, type Application } from "../src/server.js";
import { runCli } from "./cli-process.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createProvider } from "./fixtures.js";
import { harness } from "./setup.js";

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) { credentials { __typename } userErrors { code } }
}`;

async function stripeOrg(slug: string): Promise<{ key: string; orgGlobalId: string; orgId: string }> {
  const { key, orgId } = await newOrg(slug);
  const providerId = await createProvider(key, orgId, "stripe", { stripe: { secretKey: "sk_test_sealerSealerSealer1" } });
  await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
  return { key, orgGlobalId: orgId, orgId: fromGlobalId(orgId)!.id };
}

const deploy = (key: string, org: string, stage: string) =>
  gql(key, DEPLOY, { input: { org, app: "shop", service: "api", stage, region: "us-east-1", type: "STRIPE" } });

const db = () => harness().application.dataSource;
const verify = (orgId: string) => verifyAuditChain(db().manager, orgId);

async function chainOf(orgId: string): Promise<{ count: number; sealed: number; seqs: number[] }> {
  const rows: Array<{ seq: string | null }> = await db().query("SELECT seq FROM audit_events WHERE org_id = $1 ORDER BY seq", [orgId]);
  const seqs = rows.filter((r) => r.seq !== null).map((r) => Number(r.seq));
  return { count: rows.length, sealed: seqs.length, seqs };
}

/**
 * Holds the org's chain head locked, as a sealer does while it seals: every sealing of the org waits
 * (and the events written meanwhile stay pending) until `run` is done.
 */
async function whileSealingWaits<T>(orgId: string, run: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: harness().databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    const { rowCount } = await client.query("SELECT 1 FROM audit_chain_heads WHERE org_id = $1 FOR UPDATE", [orgId]);
    if (rowCount !== 1) throw new Error("the org has no chain head yet: seal one event first");
    return await run();
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

/** Writes events the way a server does, from a process that has no sealer: one that dies right after its commits. */
async function writeWithoutSealing(orgId: string, count: number): Promise<void> {
  const dying: DataSource = createDataSource(harness().databaseUrl, { poolSize: 4 });
  await dying.initialize();
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) => AuditService.write(dying.manager, { orgId, actorLabel: "a process that died", action: "app.create", details: { i } })),
    );
  } finally {
    await dying.destroy();
  }
}

async function anotherServerProcess(): Promise<Application> {
  return openApplication(harness().config, createLogger("silent"), { migrate: false });
}

const cliEnv = () => ({ DATABASE_URL: harness().databaseUrl, PROVIDERS_MASTER_KEY: harness().masterKey.toString("base64"), LOG_LEVEL: "warn" });

describe("the audit sealer (events stored at commit, chained moments later)", function () {
  this.timeout(90_000);

  it("chains every event of many concurrent deployments and changes of one org, above the pool size, contiguously", async () => {
    const acme = await stripeOrg("acme");
    const results = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => deploy(acme.key, "acme", `stage-${i % 25}`)),
      ...Array.from({ length: 10 }, (_, i) => gql(acme.key, `mutation($org: ID!) { createApp(input: { orgId: $org, name: "app-${i}" }) { app { id } } }`, { org: acme.orgGlobalId })),
      ...Array.from({ length: 5 }, () => deploy(acme.key, "no-such-org", "dev")),
    ]);
    expect(results.slice(0, 40).every((r) => r.data?.deploymentCredentials.credentials.__typename === "StripeDeploymentCredentials")).to.equal(true);
    expect(results.slice(40, 50).every((r) => r.data?.createApp.app.id)).to.equal(true);

    await harness().application.sealer.idle();
    const { count, sealed, seqs } = await chainOf(acme.orgId);
    expect(count).to.equal(2 + 40 + 10 + 5);
    expect(sealed).to.equal(count);
    expect(seqs).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
    const report = await verify(acme.orgId);
    expect(report.broken, JSON.stringify(report.broken)).to.equal(null);
    expect([report.events, report.head?.seq, report.pending.events]).to.deep.equal([count, String(count), 0]);
  });

  it("reports events not sealed yet as pending, not broken, while the trail, the export and the file still show them", async () => {
    const acme = await stripeOrg("acme");
    await harness().application.sealer.idle();
    const before = (await verify(acme.orgId)).events;
    await whileSealingWaits(acme.orgId, async () => {
      expect((await deploy(acme.key, "acme", "pending")).data?.deploymentCredentials.credentials.__typename).to.equal("StripeDeploymentCredentials");
      const report = await verify(acme.orgId);
      expect(report.broken).to.equal(null);
      expect(report.events).to.equal(before);
      expect(report.pending.events).to.equal(1);
      expect(report.pending.oldest?.action).to.equal("credentials.issue");
      expect(report.pending.overdue).to.equal(false);

      const trail = await ok(acme.key, `{ org(slug: "acme") { auditEvents(first: 1) { nodes { action details } } } }`);
      expect(trail.org.auditEvents.nodes[0]).to.deep.include({ action: "credentials.issue" });
      expect(trail.org.auditEvents.nodes[0].details.stage).to.equal("pending");

      const exported = await runCli(["audit", "export", "--org", "acme"], cliEnv());
      expect(exported.status, exported.stderr).to.equal(0);
      const lines = exported.stdout.trim().split("\n").map((line) => JSON.parse(line));
      expect(lines.at(-1)).to.deep.include({ action: "credentials.issue" });

      const verified = await runCli(["audit", "verify", "--org", "acme"], cliEnv());
      expect(verified.status, verified.stderr).to.equal(0);
      expect(verified.stdout).to.match(new RegExp(`^acme: intact, ${before} event\\(s\\); head #${before} [0-9a-f]{64}; 1 pending \\(not sealed yet, the oldest for \\d+ s\\)\\n$`));
    });
    await harness().application.sealer.idle();
    const report = await verify(acme.orgId);
    expect([report.broken, report.events, report.pending.events]).to.deep.equal([null, before + 1, 0]);
  });

  it("flags events left unsealed for too long, and `audit verify` exits 4 until they are sealed", async () => {
    const acme = await stripeOrg("acme");
    await harness().application.sealer.idle();
    await whileSealingWaits(acme.orgId, async () => {
      // An event whose transaction began long ago and that nobody sealed since.
      await db().query(
        `INSERT INTO audit_events (org_id, actor_label, action, outcome, details, occurred_at) VALUES ($1, 'x', 'app.create', 'SUCCESS', '{}', now() - make_interval(secs => $2))`,
        [acme.orgId, PENDING_LIMIT_SECONDS + 30],
      );
      const report = await verify(acme.orgId);
      expect(report.broken).to.equal(null);
      expect(report.pending.overdue).to.equal(true);
      expect(report.pending.oldest?.ageSeconds).to.be.at.least(PENDING_LIMIT_SECONDS + 30);
      const verified = await runCli(["audit", "verify"], cliEnv());
      expect(verified.status).to.equal(4);
      expect(verified.stdout).to.match(/^acme: UNSEALED for too long: 1 event\(s\) wait for their sealing, the oldest \(event [0-9a-f-]{36}, app\.create at .*\) for \d+ s;/);
      expect(verified.stdout).to.match(/\nacme: intact, \d+ event\(s\); head #\d+ [0-9a-f]{64}; 1 pending/);
      expect(verified.stderr).to.include("1 org(s) have audit events unsealed for more than 60 s");
    });
    await harness().application.sealer.sweep();
    await harness().application.sealer.idle();
    expect((await verify(acme.orgId)).pending.events).to.equal(0);
    expect((await runCli(["audit", "verify"], cliEnv())).status).to.equal(0);
  });

  it("seals at start-up what a process that died before sealing left pending", async () => {
    const acme = await stripeOrg("acme");
    await harness().application.sealer.idle();
    const before = (await verify(acme.orgId)).events;
    await writeWithoutSealing(acme.orgId, 30);
    let report = await verify(acme.orgId);
    expect([report.broken, report.events, report.pending.events]).to.deep.equal([null, before, 30]);

    const next = await anotherServerProcess();
    try {
      await next.sealer.idle();
    } finally {
      await next.close();
    }
    report = await verify(acme.orgId);
    expect([report.broken, report.events, report.pending.events]).to.deep.equal([null, before + 30, 0]);
    expect((await chainOf(acme.orgId)).seqs).to.deep.equal(Array.from({ length: before + 30 }, (_, i) => i + 1));
  });

  it("two servers sealing the same org at once seal each event once, in one chain", async () => {
    const acme = await stripeOrg("acme");
    await harness().application.sealer.idle();
    await writeWithoutSealing(acme.orgId, 60);
    const other = await anotherServerProcess();
    try {
      await Promise.all([
        // Both sealers, and sealing calls of their own in parallel with small batches, on the same org.
        (harness().application.sealer.kick(acme.orgId), harness().application.sealer.idle()),
        (other.sealer.kick(acme.orgId), other.sealer.idle()),
        ...Array.from({ length: 6 }, () => db().query("SELECT audit_seal_pending($1, 7)", [acme.orgId])),
      ]);
    } finally {
      await other.close();
    }
    const { count, seqs } = await chainOf(acme.orgId);
    expect(seqs).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
    const report = await verify(acme.orgId);
    expect([report.broken, report.events, report.pending.events]).to.deep.equal([null, count, 0]);
  });

  it("never seals an event whose transaction rolled back, and leaves no gap for it", async () => {
    const acme = await stripeOrg("acme");
    await harness().application.sealer.idle();
    const before = (await chainOf(acme.orgId)).count;
    const attempts = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) =>
        db().transaction(async (tx) => {
          await AuditService.write(tx, { orgId: acme.orgId, actorLabel: "test", action: i % 2 ? "kept" : "rolled.back", details: { i } });
          if (i % 2 === 0) throw new Error("roll back");
        }),
      ),
    );
    expect(attempts.filter((a) => a.status === "rejected")).to.have.length(12);
    await harness().application.sealer.sweep();
    await harness().application.sealer.idle();
    const rows: Array<{ action: string; seq: string }> = await db().query("SELECT action, seq FROM audit_events WHERE org_id = $1 ORDER BY seq", [acme.orgId]);
    expect(rows.filter((r) => r.action === "rolled.back")).to.deep.equal([]);
    expect(rows.filter((r) => r.action === "kept")).to.have.length(12);
    expect(rows.map((r) => Number(r.seq))).to.deep.equal(Array.from({ length: before + 12 }, (_, i) => i + 1));
    expect((await verify(acme.orgId)).broken).to.equal(null);
  });

  it("keeps detecting a sealed event edited afterwards", async () => {
    const acme = await stripeOrg("acme");
    await createApp(acme.key, acme.orgGlobalId, "shop");
    await harness().application.sealer.idle();
    const [{ id }] = await db().query("SELECT id FROM audit_events WHERE org_id = $1 AND action = 'app.create'", [acme.orgId]);
    const refusal = await db().query("UPDATE audit_events SET seq = NULL, hash = NULL WHERE id = $1", [id]).then(
      () => "done",
      (error: Error) => error.message,
    );
    expect(refusal).to.equal("audit_events is append-only: UPDATE is not allowed");
    await db().transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(`UPDATE audit_events SET details = '{"name": "other"}' WHERE id = $1`, [id]);
    });
    const report = await verify(acme.orgId);
    expect(report.broken?.eventId).to.equal(id);
    expect(report.broken?.reason).to.match(/does not match its hash/);
  });

  it("rides out the database dropping its connection mid-sealing, and seals once it is back", async () => {
    const acme = await stripeOrg("acme");
    const sealer = harness().application.sealer;
    await sealer.idle();
    harness().logs.length = 0;
    await whileSealingWaits(acme.orgId, async () => {
      for (const stage of ["a", "b", "c"]) await deploy(acme.key, "acme", stage);
      // The sealer is now inside its transaction, waiting for the head: its connection goes away.
      const admin = new pg.Client({ connectionString: harness().databaseUrl });
      await admin.connect();
      try {
        for (let i = 0; i < 100; i++) {
          const { rows } = await admin.query(
            "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'providers-api audit sealer' AND wait_event_type = 'Lock'",
          );
          if (rows.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await admin.end();
      }
    });
    await sealer.idle();
    expect(harness().logs.some((line) => line.includes("could not seal audit events into their chain; retrying"))).to.equal(true);
    const report = await verify(acme.orgId);
    expect([report.broken, report.pending.events]).to.deep.equal([null, 0]);
    // And it goes on sealing as before.
    await deploy(acme.key, "acme", "d");
    await sealer.idle();
    expect((await verify(acme.orgId)).pending.events).to.equal(0);
  });
});
