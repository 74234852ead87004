import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { SecretBox } from "../src/crypto/secret-box.js";
import { Provider } from "../src/entities/index.js";
import { createLogger } from "../src/logger.js";
import { openApplication } from "../src/server.js";
import { postGraphQL, runCli, startServing } from "./cli-process.js";
import { freePort, testConfig } from "./harness.js";

const STRIPE_KEY = "sk_test_rotationRotationRotation1";

const run = runCli;

describe("the command line", function () {
  this.timeout(180_000);

  it("stops on a bad configuration with one line that names the variable", async () => {
    const result = await run(["serve"], { PORT: "eighty", PROVIDERS_MASTER_KEY: "short" });
    expect(result.status).to.equal(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^Invalid configuration: .*PORT.*PROVIDERS_MASTER_KEY must be the base64 encoding of exactly 32 random bytes/);
    const noKey = await run(["migrate"], { DATABASE_URL: "postgres://root@127.0.0.1:1/none" });
    expect(noKey.status).to.equal(1);
    expect(noKey.stderr.trim()).to.match(/^Invalid configuration: PROVIDERS_MASTER_KEY is required when DATABASE_URL is set/);
    const usage = await run(["bootstrap"], {});
    expect(usage.status).to.equal(2);
    expect(usage.stderr).to.include("bootstrap needs --org <slug>");
  });

  it("runs on the embedded PostgreSQL: bootstrap, serve, SIGTERM, and keeps its data across restarts", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "providers-api-cli-"));
    const env = { PROVIDERS_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), LOG_LEVEL: "info" };
    try {
      const boot = await run(["bootstrap", "--org", "acme"], env);
      expect(boot.status, boot.stderr).to.equal(0);
      const token = boot.stdout.trim().split("\n").at(-1)!;
      expect(token).to.match(/^pvk_[0-9A-Za-z]{49}$/);
      expect((await stat(path.join(dataDir, "master.key"))).mode & 0o777).to.equal(0o600);

      const port = await freePort();
      const serving = await startServing({ ...env, PORT: String(port) });
      const { child: server, exited } = serving;
      expect(serving.output()).to.include("providers-api is listening");

      const call = (query: string, variables: Record<string, unknown> = {}) => postGraphQL(port, token, query, variables);
      const orgId = (await call(`{ org(slug: "acme") { id } }`)).data.org.id;
      const created = await call(`mutation($org: ID!) { createProvider(input: { orgId: $org, name: "stripe", stripe: { secretKey: "${STRIPE_KEY}" } }) { provider { id } } }`, {
        org: orgId,
      });
      expect(created.data.createProvider.provider.id).to.be.a("string");

      // The README's order: bootstrap while the server runs uses the server's PostgreSQL as it is.
      const whileServing = await run(["bootstrap", "--org", "beta"], env);
      expect(whileServing.status, whileServing.stderr).to.equal(0);
      const betaKey = whileServing.stdout.trim().split("\n").at(-1)!;
      const beta = await postGraphQL(port, betaKey, "{ viewer { orgs { slug } } }");
      expect(beta).to.deep.equal({ data: { viewer: { orgs: [{ slug: "beta" }] } } });

      // A request in flight when SIGTERM arrives still gets its answer.
      const inFlight = postGraphQL(port, token, "{ viewer { orgs { slug } } }");
      await new Promise((r) => setTimeout(r, 5));
      server.kill("SIGTERM");
      const answer = await inFlight;
      expect(answer).to.deep.equal({ data: { viewer: { orgs: [{ slug: "acme" }] } } });
      expect(await exited).to.equal(0);
      expect(serving.output()).to.include("stopped cleanly");
      expect(serving.output()).not.to.include(token);

      // The second start finds the same database and key: bootstrap adds a key to the existing org.
      const again = await run(["bootstrap", "--org", "acme"], env);
      expect(again.status, again.stderr).to.equal(0);
      expect(again.stderr).to.include('Org "acme" already exists');

      // Rotating the master key re-seals the secret with a new key kept in the data folder.
      const oldKey = await readFile(path.join(dataDir, "master.key"), "utf8");
      const rotated = await run(["rotate-master-key"], env);
      expect(rotated.status, rotated.stderr).to.equal(0);
      expect(rotated.stderr).to.match(/Re-sealed 1 provider secret\(s\) and 0 parameter secret\(s\) with master key id [0-9a-f]{16}/);
      expect(await readFile(path.join(dataDir, "master.key.previous"), "utf8")).to.equal(oldKey);
      const newKey = await readFile(path.join(dataDir, "master.key"), "utf8");
      expect(newKey).not.to.equal(oldKey);
      expect((await stat(path.join(dataDir, "master.key"))).mode & 0o777).to.equal(0o600);
      const application = await openApplication(
        { ...testConfig(), dataDir, embeddedPostgresPort: Number(env.EMBEDDED_POSTGRES_PORT), masterKey: Buffer.from(newKey.trim(), "base64") },
        createLogger("silent"),
      );
      try {
        const stripe = await application.dataSource.manager.findOneByOrFail(Provider, { name: "stripe" });
        expect(stripe.secretKeyId).to.equal(new SecretBox(Buffer.from(newKey.trim(), "base64")).currentKeyId);
        expect(application.services.secrets.open(stripe)).to.deep.equal({ secretKey: STRIPE_KEY });
      } finally {
        await application.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
