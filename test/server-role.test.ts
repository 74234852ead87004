import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { expect } from "chai";
import pg from "pg";
import { grantServerRole } from "../src/db/data-source.js";
import { verifyAuditChain } from "../src/domain/audit-chain.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { createLogger } from "../src/logger.js";
import { openApplication, startServer, type RunningServer } from "../src/server.js";
import { newOrg } from "./client.js";
import { testConfig } from "./harness.js";
import { harness } from "./setup.js";

const CLI = path.resolve(__dirname, "..", "src", "cli.js");

/** The README's setup: the owner migrates and grants, the server runs as a role that may only add to the audit trail. */
describe("the server as a database role that may only insert into and read the audit trail", function () {
  this.timeout(120_000);
  const role = `providers_api_server_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  let server: RunningServer | undefined;
  const logs: string[] = [];

  const roleUrl = () => {
    const url = new URL(harness().databaseUrl);
    url.username = role;
    url.password = password;
    return url.toString();
  };
  const asRole = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: roleUrl() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    await harness().application.dataSource.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
  });
  after(async () => {
    await server?.stop();
    await harness().application.dataSource.query(`DROP OWNED BY "${role}"`);
    await harness().application.dataSource.query(`DROP ROLE "${role}"`);
  });

  it("works for deployments while TRUNCATE, DISABLE TRIGGER, session_replication_role, UPDATE and DELETE are refused", async () => {
    const migrated = await promisify(execFile)(process.execPath, [CLI, "migrate", "--server-role", role], {
      env: { PATH: process.env.PATH, DATABASE_URL: harness().databaseUrl, PROVIDERS_MASTER_KEY: harness().masterKey.toString("base64"), LOG_LEVEL: "silent" },
    });
    expect(migrated.stderr).to.include(`the role "${role}" may use it`);

    const logger = createLogger("info", new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }));
    const config = testConfig({ databaseUrl: roleUrl(), masterKey: harness().masterKey, databaseMigrations: "check" });
    const application = await openApplication(config, logger);
    server = await startServer(application, config, logger);

    const { key, orgId } = await newOrg("acme");
    const call = async (query: string, variables: Record<string, unknown> = {}) =>
      (await fetch(`${server!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      }).then((r) => r.json())) as any;
    const created = await call(`mutation($org: ID!) { createProvider(input: { orgId: $org, name: "stripe", stripe: { secretKey: "sk_test_restrictedRestricted1" } }) { provider { id } } }`, {
      org: orgId,
    });
    await call(`mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: created.data.createProvider.provider.id });
    const deployments = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(`mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) { credentials { __typename } } }`, {
          input: { org: i < 10 ? "acme" : "nobody", app: "shop", service: "api", stage: `s${i}`, region: "us-east-1", type: "STRIPE" },
        }),
      ),
    );
    expect(deployments.slice(0, 10).map((d) => d.data?.deploymentCredentials.credentials.__typename)).to.deep.equal(Array(10).fill("StripeDeploymentCredentials"));
    expect(deployments.slice(10).map((d) => d.errors?.[0].extensions.code)).to.deep.equal(["NOT_FOUND", "NOT_FOUND"]);
    const ready = await fetch(`${server.url}/readyz`).then((r) => r.json());
    expect(ready).to.deep.equal({ status: "ready" });

    const refused = (sql: string) => asRole((client) => client.query(sql).then(() => "done", (error: Error) => error.message));
    expect(await refused("TRUNCATE audit_events")).to.equal("permission denied for table audit_events");
    expect(await refused("ALTER TABLE audit_events DISABLE TRIGGER ALL")).to.equal("must be owner of table audit_events");
    expect(await refused("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")).to.equal("must be owner of table audit_events");
    expect(await refused("SET session_replication_role = replica")).to.equal('permission denied to set parameter "session_replication_role"');
    expect(await refused("UPDATE audit_events SET action = 'nothing happened'")).to.equal("permission denied for table audit_events");
    expect(await refused("DELETE FROM audit_events")).to.equal("permission denied for table audit_events");
    expect(await refused("UPDATE audit_chain_heads SET seq = seq + 1")).to.equal("permission denied for table audit_chain_heads");
    expect(await refused("DELETE FROM migrations")).to.equal("permission denied for table migrations");
    expect(await refused("CREATE TRIGGER t BEFORE INSERT ON audit_events EXECUTE FUNCTION audit_events_append_only()")).to.equal(
      "permission denied for table audit_events",
    );

    // Sealed by the role's own server: the sealing function runs as the tables' owner.
    await application.sealer.idle();
    const report = await verifyAuditChain(harness().application.dataSource.manager, fromGlobalId(orgId)!.id);
    expect(report.broken).to.equal(null);
    expect(report.events).to.equal(14); // provider.create, provider.setDefault, 10 issuances, 2 refusals
    expect(report.pending.events).to.equal(0);
    // The role may run the sealing function, which updates what the role itself may not.
    const sealedByRole = await asRole(async (client) => {
      await client.query("BEGIN");
      await client.query("INSERT INTO audit_events (org_id, actor_label, action, outcome, details) VALUES ($1, 'role test', 'test.seal', 'SUCCESS', '{}')", [report.orgId]);
      const { rows } = await client.query("SELECT audit_seal_pending($1, 10) AS sealed", [report.orgId]);
      await client.query("COMMIT");
      return rows[0].sealed;
    });
    expect(sealedByRole).to.equal(1);
    const after = await verifyAuditChain(harness().application.dataSource.manager, report.orgId);
    expect([after.broken, after.events, after.pending.events]).to.deep.equal([null, 15, 0]);
    expect(logs.filter((line) => JSON.parse(line).level >= 50)).to.deep.equal([]);
  });

  it("with DATABASE_MIGRATIONS=check, refuses to start while a migration is pending instead of applying it", async () => {
    const db = harness().application.dataSource;
    const [last] = await db.query("SELECT timestamp, name FROM migrations ORDER BY id DESC LIMIT 1");
    await db.query("DELETE FROM migrations WHERE name = $1", [last.name]);
    try {
      const config = testConfig({ databaseUrl: roleUrl(), masterKey: harness().masterKey, databaseMigrations: "check" });
      const failure = await openApplication(config, createLogger("silent")).then(
        async (application) => (await application.close(), null),
        (error: Error) => error.message,
      );
      expect(failure).to.equal("database migrations are pending: run `providers-api migrate` as the database owner first, then try again.");
    } finally {
      await db.query("INSERT INTO migrations (timestamp, name) VALUES ($1, $2)", [last.timestamp, last.name]);
    }
  });

  it("will not grant to a superuser or to the owner itself", async () => {
    const [{ current_user: owner }] = await harness().application.dataSource.query("SELECT current_user");
    const refusal = await grantServerRole(harness().application.dataSource, owner).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refusal).to.match(/is a superuser or owns the tables: it could switch the audit triggers off/);
    const badName = await grantServerRole(harness().application.dataSource, 'x"; DROP TABLE orgs; --').then(
      () => null,
      (error: Error) => error.message,
    );
    expect(badName).to.match(/is not a plain PostgreSQL role name/);
  });
});
