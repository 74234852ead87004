import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { postGraphQL, runCli, startServing, type CliResult } from "./cli-process.js";
import { newOrg } from "./client.js";
import { freePort } from "./harness.js";
import { harness } from "./setup.js";

/*
 * What an operator runs into, tried the way an operator does: the real CLI as a child process, its
 * stderr and exit code. Each failure is one line that names what to change; each recoverable state
 * (a crashed server's PostgreSQL, a clone in a folder only root can enter) just works.
 */

const MASTER_KEY = randomBytes(32).toString("base64");

function expectOneLine(result: CliResult, pattern: RegExp) {
  expect(result.status, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(pattern);
  expect(result.stderr).not.to.match(/\n\s+at\s/);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function postmasterOf(dataDir: string): Promise<{ pid: number; port: number }> {
  const lines = (await readFile(path.join(dataDir, "postgres", "pg", "postmaster.pid"), "utf8")).split("\n");
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

describe("operator failures", function () {
  this.timeout(240_000);

  describe("DATABASE_URL and PORT", () => {
    const withUrl = (databaseUrl: string) => runCli(["migrate"], { DATABASE_URL: databaseUrl, PROVIDERS_MASTER_KEY: MASTER_KEY });
    const real = () => new URL(harness().databaseUrl);

    it("a database that does not exist: one line naming DATABASE_URL and how to create it", async () => {
      const url = real();
      url.pathname = "/no_such_database_here";
      expectOneLine(await withUrl(url.toString()), /^DATABASE_URL: PostgreSQL at 127\.0\.0\.1:\d+ has no database "no_such_database_here"\. Create it \(`createdb no_such_database_here`\)/);
    });

    it("a port nothing listens on: one line naming DATABASE_URL, without the password", async () => {
      const port = await freePort();
      const result = await withUrl(`postgres://someone:s3cret-Passw0rd@127.0.0.1:${port}/db`);
      expectOneLine(result, new RegExp(`^DATABASE_URL: nothing accepts connections at 127\\.0\\.0\\.1:${port}\\. Check the host and port in DATABASE_URL`));
      expect(result.stderr + result.stdout).not.to.include("s3cret-Passw0rd");
    });

    it("a user the database does not know: one line naming DATABASE_URL and the user", async () => {
      const url = real();
      url.username = "no_such_role_here";
      url.password = url.password || "";
      expectOneLine(await withUrl(url.toString()), /^DATABASE_URL: .*user "no_such_role_here"/);
    });

    it("an unparsable or non-PostgreSQL URL: one line, without echoing the value", async () => {
      for (const value of ["postgres//root@127.0.0.1/db?password=hunter22", "http://root:hunter22@127.0.0.1/db"]) {
        const result = await withUrl(value);
        expectOneLine(result, /^Invalid configuration: DATABASE_URL must be a PostgreSQL URL such as postgres:\/\/user:password@host:5432\/database\.$/);
        expect(result.stderr).not.to.include("hunter22");
      }
    });

    it("a taken PORT is reported before the database is even tried", async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", () => resolve()));
      const port = (holder.address() as net.AddressInfo).port;
      try {
        // The database is unreachable too: had it been tried first, its line would be the one printed.
        const result = await runCli(["serve"], { PORT: String(port), DATABASE_URL: `postgres://root@127.0.0.1:${await freePort()}/db`, PROVIDERS_MASTER_KEY: MASTER_KEY });
        expectOneLine(result, new RegExp(`^PORT ${port} is already in use on 127\\.0\\.0\\.1 by another process\\. Stop it, or set PORT to a free port\\.$`));
      } finally {
        holder.close();
      }
    });
  });

  describe("the embedded PostgreSQL", () => {
    let dataDir: string;
    const running: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];

    beforeEach(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), "providers-api-operator-"));
    });

    afterEach(async () => {
      for (const child of running.splice(0)) child.kill("SIGTERM");
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    });

    it("names a second server on the same folder, stops the PostgreSQL a killed server left, and stops its own on exit", async () => {
      const env = { PROVIDERS_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), LOG_LEVEL: "info" };
      const firstPort = await freePort();
      const first = await startServing({ ...env, PORT: String(firstPort) });
      running.push(first.child);
      expect(first.output()).to.include("providers-api is listening");
      const firstPostgres = await postmasterOf(dataDir);

      // A second server on the same folder, even on other ports, is told who holds it.
      const second = await runCli(["serve"], { ...env, PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(await freePort()) });
      expectOneLine(
        second,
        new RegExp(
          `^providers-api: the data folder ${dataDir} is in use by another providers-api process: \`serve\` \\(pid ${first.child.pid}, serving http://127\\.0\\.0\\.1:${firstPort}\\), ` +
            `whose embedded PostgreSQL \\(pid ${firstPostgres.pid}\\) listens on port ${firstPostgres.port}\\. Stop it first, or give this one another PROVIDERS_DATA_DIR\\.$`,
        ),
      );
      // …and a one-shot command still uses the running server's PostgreSQL.
      const boot = await runCli(["bootstrap", "--org", "acme"], env);
      expect(boot.status, boot.stderr).to.equal(0);

      // kill -9: the server cannot stop its PostgreSQL, which stays behind.
      first.child.kill("SIGKILL");
      await first.exited;
      expect(alive(firstPostgres.pid)).to.equal(true);

      const third = await startServing({ ...env, PORT: String(await freePort()) });
      running.push(third.child);
      expect(third.output()).to.include("providers-api is listening");
      expect(third.output()).to.include("stopping the embedded PostgreSQL left running by a providers-api process that is gone");
      expect(third.output()).to.include(`"postgresPid":${firstPostgres.pid}`);
      expect(alive(firstPostgres.pid)).to.equal(false);
      const thirdPostgres = await postmasterOf(dataDir);
      expect(thirdPostgres.pid).not.to.equal(firstPostgres.pid);
      // Its data survived: the org bootstrapped before the crash is still there.
      const again = await runCli(["bootstrap", "--org", "acme"], env);
      expect(again.stderr).to.include('Org "acme" already exists');

      third.child.kill("SIGTERM");
      expect(await third.exited).to.equal(0);
      expect(alive(thirdPostgres.pid)).to.equal(false);
      await stat(path.join(dataDir, "postgres", "owner.json")).then(
        () => expect.fail("the owner file outlived the server"),
        (error: NodeJS.ErrnoException) => expect(error.code).to.equal("ENOENT"),
      );
    });

    it("runs from a clone in a folder only its owner can enter (mode 0700), data folder inside the clone", async () => {
      // A clone: the built code and its node_modules (hard links: no copy), under a 0700 folder.
      const clone = path.join(dataDir, "clone");
      await mkdir(clone);
      const root = path.join(__dirname, "..", "..");
      await promisify(execFile)("cp", ["-al", path.join(root, "dist"), path.join(root, "node_modules"), path.join(root, "package.json"), clone]);
      expect((await stat(dataDir)).mode & 0o777).to.equal(0o700);
      const where = { cli: path.join(clone, "dist", "src", "cli.js"), cwd: clone };
      const env = { EMBEDDED_POSTGRES_PORT: String(await freePort()), LOG_LEVEL: "info" };

      const server = await startServing({ ...env, PORT: String(await freePort()) }, where);
      running.push(server.child);
      expect(server.output()).to.include("providers-api is listening");
      if (process.getuid?.() === 0) {
        // As root PostgreSQL runs as `postgres`: the folders in its way got the traverse bit only.
        expect(server.output()).to.include("let the postgres user pass through");
        expect((await stat(dataDir)).mode & 0o777).to.equal(0o701);
      }
      const boot = await runCli(["bootstrap", "--org", "acme"], env, where);
      expect(boot.status, boot.stderr).to.equal(0);
      expect((await stat(path.join(clone, ".data", "master.key"))).mode & 0o777).to.equal(0o600);
      server.child.kill("SIGTERM");
      expect(await server.exited).to.equal(0);
    });
  });

  describe("rotate-master-key while a server serves", () => {
    const STRIPE = "sk_live_rotationWhileServing0001";
    const DEPLOY = `mutation { deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: "prod", type: STRIPE }) {
      credentials { ... on StripeDeploymentCredentials { secretKey } } } }`;
    const stripeProvider = async (port: number, key: string, orgId: string, name: string, secretKey: string) => {
      const created = await postGraphQL(port, key, `mutation($org: ID!, $name: String!, $secret: String!) {
        createProvider(input: { orgId: $org, name: $name, stripe: { secretKey: $secret } }) { provider { id } } }`, { org: orgId, name, secret: secretKey });
      return created.data.createProvider.provider.id as string;
    };
    const setDefault = (port: number, key: string, id: string) =>
      postGraphQL(port, key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id });
    let dataDir: string;
    const running: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];

    beforeEach(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), "providers-api-rotate-"));
    });

    afterEach(async () => {
      for (const child of running.splice(0)) child.kill("SIGTERM");
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    });

    it("embedded: the serving server takes up the new key, and no deployment fails, rotation after rotation", async () => {
      const env = { PROVIDERS_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), LOG_LEVEL: "info" };
      const port = await freePort();
      const server = await startServing({ ...env, PORT: String(port) });
      running.push(server.child);
      expect(server.output()).to.include("providers-api is listening");
      const boot = await runCli(["bootstrap", "--org", "acme"], env);
      const key = boot.stdout.trim().split("\n").at(-1)!;
      const orgId = (await postGraphQL(port, key, `{ org(slug: "acme") { id } }`)).data.org.id;
      await setDefault(port, key, await stripeProvider(port, key, orgId, "stripe", STRIPE));
      expect((await postGraphQL(port, key, DEPLOY)).data.deploymentCredentials.credentials).to.deep.equal({ secretKey: STRIPE });

      const first = await runCli(["rotate-master-key"], env);
      expect(first.status, first.stderr).to.equal(0);
      expect(first.stderr).to.match(/Re-sealed 1 provider secret\(s\)/);
      expect(await postGraphQL(port, key, DEPLOY)).to.deep.equal({ data: { deploymentCredentials: { credentials: { secretKey: STRIPE } } } });
      expect(server.output()).to.include("took up master keys a rotation wrote into the data folder");

      // A secret written after the rotation, and a second rotation: still nothing fails, here or after a restart.
      await setDefault(port, key, await stripeProvider(port, key, orgId, "stripe-2", `${STRIPE}2`));
      const second = await runCli(["rotate-master-key"], env);
      expect(second.status, second.stderr).to.equal(0);
      expect(await postGraphQL(port, key, DEPLOY)).to.deep.equal({ data: { deploymentCredentials: { credentials: { secretKey: `${STRIPE}2` } } } });
      server.child.kill("SIGTERM");
      expect(await server.exited).to.equal(0);
      const restarted = await startServing({ ...env, PORT: String(port) });
      running.push(restarted.child);
      expect(restarted.output()).to.include("providers-api is listening");
      expect(await postGraphQL(port, key, DEPLOY)).to.deep.equal({ data: { deploymentCredentials: { credentials: { secretKey: `${STRIPE}2` } } } });
    });

    it("DATABASE_URL: refused, naming the server, while a live server lacks the new key; done once it has it", async () => {
      const { key, orgId } = await newOrg("acme");
      const oldKey = harness().masterKey.toString("base64");
      const newKey = randomBytes(32).toString("base64");
      const port = await freePort();
      const env = { DATABASE_URL: harness().databaseUrl, PORT: String(port), LOG_LEVEL: "info" };
      const server = await startServing({ ...env, PROVIDERS_MASTER_KEY: oldKey });
      running.push(server.child);
      expect(server.output()).to.include("providers-api is listening");
      await setDefault(port, key, await stripeProvider(port, key, orgId, "stripe", STRIPE));

      const rotate = { DATABASE_URL: harness().databaseUrl, PROVIDERS_MASTER_KEY: newKey, PROVIDERS_PREVIOUS_MASTER_KEYS: oldKey };
      const refused = await runCli(["rotate-master-key"], rotate);
      expectOneLine(
        refused,
        new RegExp(
          `^providers-api: rotate-master-key refused, nothing was re-sealed: 1 live server\\(s\\) do not hold the new master key id [0-9a-f]{16}: ` +
            `pid ${server.child.pid} on ${os.hostname()} \\(http://127\\.0\\.0\\.1:${port}\\), seen \\d+ s ago\\. Restart each with the new key in PROVIDERS_MASTER_KEY`,
        ),
      );
      const [{ secret_key_id: before }] = await harness().application.dataSource.query("SELECT secret_key_id FROM providers WHERE name = 'stripe'");
      expect(await postGraphQL(port, key, DEPLOY)).to.deep.equal({ data: { deploymentCredentials: { credentials: { secretKey: STRIPE } } } });

      // The documented order: restart with both keys, then rotate.
      server.child.kill("SIGTERM");
      expect(await server.exited).to.equal(0);
      const restarted = await startServing({ ...env, PROVIDERS_MASTER_KEY: newKey, PROVIDERS_PREVIOUS_MASTER_KEYS: oldKey });
      running.push(restarted.child);
      const done = await runCli(["rotate-master-key"], rotate);
      expect(done.status, done.stderr).to.equal(0);
      const [{ secret_key_id: after }] = await harness().application.dataSource.query("SELECT secret_key_id FROM providers WHERE name = 'stripe'");
      expect(after).not.to.equal(before);
      expect(await postGraphQL(port, key, DEPLOY)).to.deep.equal({ data: { deploymentCredentials: { credentials: { secretKey: STRIPE } } } });
    });
  });
});
