import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { isLoopbackHost } from "../src/client/api.js";
import { newOrg } from "./client.js";
import { createKey, createRoleProvider, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";
import { ok } from "./client.js";

const CLI = path.resolve(__dirname, "..", "src", "cli.js");
const run = promisify(execFile);

/** Runs `providers-api credentials` for acme/shop/api/prod against `url`; resolves to its exit code and output. */
async function credentialsCli(url: string, key: string, ...extra: string[]) {
  return run(process.execPath, [CLI, "credentials", "--org", "acme", "--app", "shop", "--service", "api", "--stage", "prod", ...extra], {
    env: { PATH: process.env.PATH, PROVIDERS_API_URL: url, PROVIDERS_API_KEY: key },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe("the credentials CLI and plain http", function () {
  this.timeout(30_000);

  it("knows loopback hosts by their written address, without resolving names", () => {
    for (const host of ["localhost", "127.0.0.1", "127.8.9.10", "[::1]", "::1", "[::ffff:127.0.0.1]"]) expect(isLoopbackHost(host), host).to.equal(true);
    for (const host of ["0.0.0.0", "10.0.0.1", "example.com", "localhost.example.com", "127.0.0.1.nip.io", "[::]"]) expect(isLoopbackHost(host), host).to.equal(false);
  });

  it("refuses plain http to another host before sending anything, and goes ahead with --insecure", async () => {
    const { key, orgId } = await newOrg("acme");
    const providerId = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    sts().addRole(ROLE_ARN("222222222222", "deploy"));
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    const { token } = await createKey(key, orgId, { role: "DEPLOYER" });
    // 0.0.0.0 is not a loopback address, yet a connection to it reaches this machine: the test stays on loopback.
    const remote = harness().url.replace("127.0.0.1", "0.0.0.0");

    const refused = await credentialsCli(remote, token);
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.equal("");
    expect(refused.stderr).to.match(/refusing to send the access key over plain http to 0\.0\.0\.0:\d+.*--insecure/);
    expect(refused.stderr).not.to.include(token);
    expect(sts().callsOf("AssumeRole")).to.have.length(0);

    const insecure = await credentialsCli(remote, token, "--insecure");
    expect(insecure.code, insecure.stderr).to.equal(0);
    expect(JSON.parse(insecure.stdout).AccessKeyId).to.match(/^ASIA/);

    const loopback = await credentialsCli(harness().url, token);
    expect(loopback.code, loopback.stderr).to.equal(0);

    const notHttp = await credentialsCli("ftp://providers.example.com", token);
    expect(notHttp.code).to.equal(1);
    expect(notHttp.stderr).to.include("PROVIDERS_API_URL must be an https:// URL");
  });
});
