import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { verifyAuditChain } from "../src/domain/audit-chain.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { gql, newOrg, ok } from "./client.js";
import { createProvider } from "./fixtures.js";
import { harness } from "./setup.js";

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) { credentials { __typename } userErrors { code } }
}`;

const CLI = path.resolve(__dirname, "..", "src", "cli.js");

/** An org whose deployments get a Stripe key (no STS involved), and its internal id. */
async function stripeOrg(slug: string): Promise<{ key: string; orgId: string }> {
  const { key, orgId } = await newOrg(slug);
  const providerId = await createProvider(key, orgId, "stripe", { stripe: { secretKey: "sk_test_chainChainChainChain1" } });
  await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
  return { key, orgId: fromGlobalId(orgId)!.id };
}

function deploy(key: string, org: string, stage: string) {
  return gql(key, DEPLOY, { input: { org, app: "shop", service: "api", stage, region: "us-east-1", type: "STRIPE" } });
}

/** As the test's superuser, with the audit triggers set aside for this one transaction: what an attacker with that power does. */
async function tamper(...statements: string[]): Promise<void> {
  await harness().application.dataSource.transaction(async (tx) => {
    await tx.query("SET LOCAL session_replication_role = replica");
    for (const statement of statements) await tx.query(statement);
  });
}

/** Once the sealer has chained every event written so far (it seals moments after each commit). */
const verify = async (orgId: string) => {
  await harness().application.sealer.idle();
  return verifyAuditChain(harness().application.dataSource.manager, orgId);
};
const idAt = async (orgId: string, seq: number): Promise<string> =>
  (await harness().application.dataSource.query("SELECT id FROM audit_events WHERE org_id = $1 AND seq = $2", [orgId, seq]))[0].id;

describe("the audit trail's hash chain", function () {
  this.timeout(60_000);

  it("stays one unbroken chain per org under concurrent deployments and refusals above the pool size", async () => {
    const acme = await stripeOrg("acme");
    const beta = await stripeOrg("beta");
    const results = await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => deploy(acme.key, "acme", `stage-${i}`)),
      ...Array.from({ length: 10 }, (_, i) => deploy(beta.key, "beta", `stage-${i}`)),
      // Refusals are audited on a write of their own, interleaved with the issuances.
      ...Array.from({ length: 5 }, () => deploy(acme.key, "no-such-org", "dev")),
    ]);
    expect(results.slice(0, 35).every((r) => r.data?.deploymentCredentials.credentials.__typename === "StripeDeploymentCredentials")).to.equal(true);
    expect(results.slice(35).every((r) => r.errors?.[0].extensions?.code === "NOT_FOUND")).to.equal(true);

    for (const org of [acme, beta]) {
      const report = await verify(org.orgId);
      expect(report.broken, JSON.stringify(report.broken)).to.equal(null);
      const [{ count, max, min }] = await harness().application.dataSource.query(
        "SELECT count(*)::int AS count, max(seq)::int AS max, min(seq)::int AS min FROM audit_events WHERE org_id = $1",
        [org.orgId],
      );
      expect(report.events).to.equal(count);
      expect([min, max]).to.deep.equal([1, count]);
      expect(report.head?.seq).to.equal(String(count));
    }
    const acmeIssued = await harness().application.dataSource.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND action = 'credentials.issue' AND outcome = 'SUCCESS'",
      [acme.orgId],
    );
    expect(acmeIssued[0].n).to.equal(25);
  });

  it("names an edited event as the first broken link", async () => {
    const { key, orgId } = await stripeOrg("acme");
    for (const stage of ["a", "b", "c"]) await deploy(key, "acme", stage);
    const edited = await idAt(orgId, 3);
    await tamper(`UPDATE audit_events SET details = details || '{"stage": "prod"}' WHERE id = '${edited}'`);
    const report = await verify(orgId);
    expect(report.broken?.seq).to.equal("3");
    expect(report.broken?.eventId).to.equal(edited);
    expect(report.broken?.reason).to.match(/does not match its hash: it was edited/);
  });

  it("names a removed event, a removed tail and an event forged into the chain", async () => {
    const { key, orgId } = await stripeOrg("acme");
    for (const stage of ["a", "b", "c", "d"]) await deploy(key, "acme", stage);
    const total = (await verify(orgId)).events;

    await tamper(`DELETE FROM audit_events WHERE org_id = '${orgId}' AND seq = ${total}`);
    let report = await verify(orgId);
    expect(report.broken?.seq).to.equal(String(total));
    expect(report.broken?.reason).to.include(`events #${total} to #${total} are missing: they were removed from the end`);

    await tamper(`DELETE FROM audit_events WHERE org_id = '${orgId}' AND seq = 2`);
    report = await verify(orgId);
    expect(report.broken?.seq).to.equal("2");
    expect(report.broken?.reason).to.match(/event #2 is missing: it was removed \(the chain goes on at #3/);

    // Appended after the head with the triggers off: its hash cannot be made without the chain's last hash and the right encoding.
    const other = await stripeOrg("beta");
    await deploy(other.key, "beta", "a");
    const head = (await verify(other.orgId)).head!;
    await tamper(
      `INSERT INTO audit_events (org_id, actor_label, action, outcome, details, seq, hash) VALUES ('${other.orgId}', 'nobody', 'credentials.issue', 'SUCCESS', '{}', ${Number(head.seq) + 1}, sha256('forged'))`,
    );
    report = await verify(other.orgId);
    expect(report.broken?.seq).to.equal(String(Number(head.seq) + 1));
    expect(report.broken?.reason).to.match(/does not match its hash/);
    expect(report.broken?.action).to.equal("credentials.issue");
  });

  it("names the first of two reordered events", async () => {
    const { key, orgId } = await stripeOrg("acme");
    for (const stage of ["a", "b", "c", "d"]) await deploy(key, "acme", stage);
    const [second, third] = [await idAt(orgId, 2), await idAt(orgId, 3)];
    await tamper(
      `UPDATE audit_events SET seq = -1 WHERE id = '${second}'`,
      `UPDATE audit_events SET seq = 2 WHERE id = '${third}'`,
      `UPDATE audit_events SET seq = 3 WHERE id = '${second}'`,
    );
    const report = await verify(orgId);
    expect(report.broken?.seq).to.equal("2");
    expect(report.broken?.eventId).to.equal(third);
  });

  it("refuses TRUNCATE, UPDATE, DELETE and a forged seq even to the table's owner", async () => {
    const { key, orgId } = await stripeOrg("acme");
    await deploy(key, "acme", "a");
    const db = harness().application.dataSource;
    const refusal = (sql: string) => db.query(sql).then(() => "done", (error: Error) => error.message);
    expect(await refusal("TRUNCATE audit_events")).to.equal("audit_events is append-only: TRUNCATE is not allowed");
    expect(await refusal("UPDATE audit_events SET action = 'x'")).to.equal("audit_events is append-only: UPDATE is not allowed");
    expect(await refusal("DELETE FROM audit_events")).to.equal("audit_events is append-only: DELETE is not allowed");
    expect(await refusal(`INSERT INTO audit_events (org_id, actor_label, action, outcome, details, seq, hash) VALUES ('${orgId}', 'x', 'x', 'SUCCESS', '{}', 99, '\\x00')`)).to.match(
      /seq and hash are set by the audit chain/,
    );
    expect(await refusal("TRUNCATE audit_chain_heads")).to.match(/audit_chain_heads only moves forward: TRUNCATE/);
    expect(await refusal("UPDATE audit_chain_heads SET seq = 1")).to.match(/only moves forward/);
    expect(await refusal("DELETE FROM audit_chain_heads")).to.match(/only moves forward: DELETE/);
    expect((await verify(orgId)).broken).to.equal(null);
  });

  it("`providers-api audit verify` prints each org's state and exits 3 when a chain is broken", async () => {
    const acme = await stripeOrg("acme");
    await stripeOrg("beta");
    for (const stage of ["a", "b"]) await deploy(acme.key, "acme", stage);
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [CLI, "audit", "verify", ...args], {
        env: { PATH: process.env.PATH, DATABASE_URL: harness().databaseUrl, LOG_LEVEL: "silent" },
      }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    await harness().application.sealer.idle();
    const intact = await run();
    expect(intact.code, intact.stderr).to.equal(0);
    expect(intact.stdout).to.match(/^acme: intact, \d+ event\(s\); head #\d+ [0-9a-f]{64}\nbeta: intact/);

    const edited = await idAt(acme.orgId, 2);
    await tamper(`UPDATE audit_events SET actor_label = 'someone else' WHERE id = '${edited}'`);
    const broken = await run();
    expect(broken.code).to.equal(3);
    expect(broken.stdout).to.include(`acme: BROKEN at #2 (event ${edited}, `);
    expect(broken.stdout).to.match(/\nbeta: intact/);
    expect(broken.stderr).to.include("1 audit chain(s) broken");

    expect((await run("--org", "beta")).code).to.equal(0);
    const unknown = await run("--org", "nobody");
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('there is no org "nobody"');
  });
});
