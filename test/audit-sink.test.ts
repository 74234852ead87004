import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { AuditSink } from "../src/db/audit-sink.js";
import { auditEventsOf } from "../src/domain/audit-export.js";
import { AuditService } from "../src/domain/audit.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createProvider } from "./fixtures.js";
import { harness } from "./setup.js";

/** The audit file device: what it writes is exactly what the database committed. */
describe("the audit file (AUDIT_LOG_FILE)", () => {
  let dir: string;
  let sink: AuditSink;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "providers-api-audit-"));
    sink = new AuditSink(path.join(dir, "audit.jsonl"));
    harness().application.dataSource.subscribers.push(sink);
  });

  afterEach(async () => {
    const subscribers = harness().application.dataSource.subscribers;
    subscribers.splice(subscribers.indexOf(sink), 1);
    await sink.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  const written = async () =>
    (await readFile(path.join(dir, "audit.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));

  const event = (orgId: string, action: string) => ({ orgId, actorLabel: "test", action });

  it("appends committed events, and never those of a transaction or savepoint that rolled back", async () => {
    const { key, orgId: orgGlobalId } = await newOrg("acme");
    const orgId = fromGlobalId(orgGlobalId)!.id;
    await createApp(key, orgGlobalId, "committed-app");
    const db = harness().application.dataSource;
    await db
      .transaction(async (em) => {
        await AuditService.write(em, event(orgId, "rolled.back"));
        throw new Error("roll back");
      })
      .catch(() => undefined);
    await db.transaction(async (em) => {
      await AuditService.write(em, event(orgId, "outer.kept"));
      await em
        .transaction(async (inner) => {
          await AuditService.write(inner, event(orgId, "savepoint.rolled.back"));
          throw new Error("roll back the savepoint");
        })
        .catch(() => undefined);
      await em.transaction(async (inner) => AuditService.write(inner, event(orgId, "savepoint.kept")));
    });
    await AuditService.write(db.manager, event(orgId, "outside.any.transaction"));
    await sink.close();
    const actions = (await written()).map((line) => line.action);
    expect(actions).to.include("app.create");
    expect(actions.filter((a) => a !== "app.create")).to.deep.equal(["outer.kept", "savepoint.kept", "outside.any.transaction"]);
    const [{ count }] = await db.query("SELECT count(*)::int AS count FROM audit_events");
    expect(actions).to.have.length(count);
  });

  it("concurrent writers above the pool size each get their own line, whole", async () => {
    const { orgId: orgGlobalId } = await newOrg("acme");
    const orgId = fromGlobalId(orgGlobalId)!.id;
    const db = harness().application.dataSource;
    const writers = harness().config.databasePoolSize * 3;
    await Promise.all(Array.from({ length: writers }, (_, i) => db.transaction((em) => AuditService.write(em, event(orgId, `concurrent.${i}`)))));
    await sink.close();
    const lines = await written();
    expect(lines.filter((line) => line.action.startsWith("concurrent.")).map((line) => line.action).sort()).to.deep.equal(
      Array.from({ length: writers }, (_, i) => `concurrent.${i}`).sort(),
    );
  });

  it("writes each deployment's event, which its own statement inserts, once, as stored: new instances, redeployments, above the pool size", async () => {
    const { key, orgId: orgGlobalId } = await newOrg("acme");
    const orgId = fromGlobalId(orgGlobalId)!.id;
    const providerId = await createProvider(key, orgGlobalId, "stripe", { stripe: { secretKey: "sk_test_sinkSinkSinkSinkSink1" } });
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    const deploy = (stage: string) =>
      gql(key, `mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) { credentials { __typename } } }`, {
        input: { org: "acme", app: "shop", service: "api", stage, region: "us-east-1", type: "STRIPE" },
      });
    const writers = harness().config.databasePoolSize * 2 + 1;
    // New instances (a transaction each, for the instance limit's lock), then redeployments of them (none).
    for (const round of ["new", "again"]) {
      const results = await Promise.all(Array.from({ length: writers }, (_, i) => deploy(`stage-${i}`)));
      expect(results.every((r) => r.data?.deploymentCredentials.credentials.__typename === "StripeDeploymentCredentials"), round).to.equal(true);
    }
    await sink.close();
    const stored: Array<{ id: string; occurred_at: Date; target_id: string; request_id: string }> = await harness().application.dataSource.query(
      "SELECT id, occurred_at, target_id, request_id FROM audit_events WHERE org_id = $1 AND action = 'credentials.issue' ORDER BY id",
      [orgId],
    );
    expect(stored).to.have.length(writers * 2);
    const lines = (await written()).filter((line) => line.action === "credentials.issue").sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(lines.map((line) => [line.id, line.occurredAt, line.target.id, line.requestId, line.orgId, line.outcome])).to.deep.equal(
      stored.map((row) => [row.id, row.occurred_at.toISOString(), row.target_id, row.request_id, orgId, "SUCCESS"]),
    );
  });

  it("export pages through a trail longer than a page, in order, with nothing twice", async () => {
    const { orgId: orgGlobalId } = await newOrg("acme");
    const orgId = fromGlobalId(orgGlobalId)!.id;
    const db = harness().application.dataSource;
    // Events written in one statement share their timestamp: the id breaks the tie.
    await db.transaction(async (em) => {
      for (let i = 0; i < 23; i++) await AuditService.write(em, event(orgId, `bulk.${i}`));
    });
    const seen: string[] = [];
    for await (const e of auditEventsOf(db.manager, orgId, null, 5)) seen.push(e.id);
    const [{ count }] = await db.query("SELECT count(*)::int AS count FROM audit_events WHERE org_id = $1", [orgId]);
    expect(seen).to.have.length(count);
    expect(new Set(seen).size).to.equal(seen.length);
  });
});
