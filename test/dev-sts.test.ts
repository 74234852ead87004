import { randomBytes } from "node:crypto";
import net from "node:net";
import os from "node:os";
import { expect } from "chai";
import { postGraphQL, runCli, startCli, startServing } from "./cli-process.js";
import { createTestDatabase, freePort } from "./harness.js";

/*
 * `providers-api dev-sts` as a user runs it: a child process whose printed settings a second child, the
 * server, is started with; a real deployment goes through both and the AWS SDK's credential_process reader.
 */

const startDevSts = (args: string[]) => startCli(["dev-sts", ...args], "Ctrl-C stops it.", {});

/** The `export NAME=value` lines it printed, as an environment; `unset` lines leave those names out. */
function settingsOf(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^\s+export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe("providers-api dev-sts", function () {
  this.timeout(180_000);

  it("prints the settings a server needs, and a whole deployment goes through it: bootstrap, provider, verify, credential_process", async () => {
    const stsPort = await freePort();
    const sts = await startDevSts(["--port", String(stsPort)]);
    const database = await createTestDatabase();
    let server: Awaited<ReturnType<typeof startServing>> | undefined;
    try {
      expect(sts.stdout()).to.match(/^providers-api dev-sts: a local STS test double on http:\/\/127\.0\.0\.1:\d+ \(127\.0\.0\.1 only\)\. THIS IS NOT AWS/);
      const settings = settingsOf(sts.stdout());
      expect(Object.keys(settings).sort()).to.deep.equal(["AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_SECRET_ACCESS_KEY"]);
      expect(settings.AWS_ENDPOINT_URL_STS).to.equal(`http://127.0.0.1:${stsPort}`);
      expect(sts.stdout()).to.include("arn:aws:iam::111111111111:role/deploy");

      const port = await freePort();
      const env = { ...settings, DATABASE_URL: database.url, PROVIDERS_MASTER_KEY: randomBytes(32).toString("base64"), PORT: String(port), LOG_LEVEL: "info" };
      server = await startServing(env);
      expect(server.output()).to.include("providers-api is listening");
      const boot = await runCli(["bootstrap", "--org", "acme"], env);
      expect(boot.status, boot.stderr).to.equal(0);
      const key = boot.stdout.trim().split("\n").at(-1)!;
      const call = async (query: string, variables: Record<string, unknown> = {}) => {
        const answer = await postGraphQL(port, key, query, variables);
        expect(answer.errors, JSON.stringify(answer.errors)).to.equal(undefined);
        return answer.data;
      };
      const orgId = (await call(`{ org(slug: "acme") { id } }`)).org.id;
      const providerId = (
        await call(`mutation($org: ID!) { createProvider(input: { orgId: $org, name: "dev", aws: { role: { roleArn: "arn:aws:iam::111111111111:role/deploy" } } }) { provider { id } } }`, {
          org: orgId,
        })
      ).createProvider.provider.id;
      // The dashboard's "test connection", confused-deputy check included: the role needs its external id.
      const verified = (await call(`mutation($id: ID!) { verifyProvider(input: { providerId: $id }) { accountId arn externalIdEnforced userErrors { code } } }`, { id: providerId }))
        .verifyProvider;
      expect(verified).to.deep.include({ accountId: "111111111111", externalIdEnforced: true, userErrors: [] });
      await call(`mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });

      const credentials = await runCli(["credentials", "--org", "acme", "--app", "shop", "--service", "api", "--stage", "dev", "--region", "eu-west-1"], {
        PROVIDERS_API_URL: `http://127.0.0.1:${port}`,
        PROVIDERS_API_KEY: key,
      });
      expect(credentials.status, credentials.stderr).to.equal(0);
      const issued = JSON.parse(credentials.stdout);
      expect(issued).to.include({ Version: 1 });
      expect(issued.AccessKeyId).to.match(/^ASIA[0-9A-F]{16}$/);
      // Each STS request is one line on its stderr, naming the role and the session.
      expect(sts.stderr()).to.match(/^providers-api dev-sts: AssumeRole arn:aws:iam::111111111111:role\/deploy as acme\.api\.dev: ok$/m);
      expect(sts.stderr()).to.match(/^providers-api dev-sts: AssumeRole arn:aws:iam::111111111111:role\/deploy as [^:]+: AccessDenied$/m);
    } finally {
      server?.child.kill("SIGTERM");
      if (server) await server.exited;
      await database.drop();
      sts.child.kill("SIGINT");
    }
    expect(await sts.exited).to.equal(0);
    expect(sts.stderr()).to.match(/providers-api dev-sts: SIGINT: stopping\nproviders-api dev-sts: stopped\n$/);
  });

  it("listens on loopback only, stops cleanly on SIGTERM, and a port in use is one line", async () => {
    const port = await freePort();
    const sts = await startDevSts(["--port", String(port)]);
    try {
      const busy = await runCli(["dev-sts", "--port", String(port)], {});
      expect(busy.status).to.equal(1);
      expect(busy.stdout).to.equal("");
      expect(busy.stderr).to.equal(`providers-api: dev-sts: port ${port} on 127.0.0.1 is already in use by another process; stop it, or pass --port <another port>.\n`);
      // Any of this machine's other addresses refuses the connection.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((address) => address && !address.internal && address.family === "IPv4")
        .map((address) => address!.address);
      for (const address of external) {
        const refused = await new Promise<string>((resolve) => {
          const socket = net.connect({ host: address, port }, () => (socket.destroy(), resolve("connected")));
          socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
        });
        expect(refused, address).to.equal("ECONNREFUSED");
      }
      const loopback = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve("connected")));
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
      expect(loopback).to.equal("connected");
    } finally {
      sts.child.kill("SIGTERM");
    }
    expect(await sts.exited).to.equal(0);
    expect(sts.stderr()).to.include("SIGTERM: stopping");
  });

  it("its usage errors are one line and exit 2", async () => {
    for (const [args, line] of [
      [["--port", "abc"], 'providers-api: dev-sts: --port "abc" is not a port; give a whole number from 1 to 65535'],
      [["--port", "70000"], 'providers-api: dev-sts: --port "70000" is not a port; give a whole number from 1 to 65535'],
      [["--prot", "4599"], "providers-api: dev-sts: unknown flag --prot; did you mean --port?"],
    ] as const) {
      const result = await runCli(["dev-sts", ...args], {});
      expect(result.status).to.equal(2);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.equal(`${line}\n`);
    }
  });
});
