import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { isLoopbackHost } from "../src/client/api.js";
import { gql, newOrg, ok } from "./client.js";
import { createKey, createRoleProvider, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";


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

const VERIFY = `mutation($id: ID!) { verifyProvider(input: { providerId: $id }) { externalIdEnforced userErrors { code } } }`;
const PROVIDER = `query($id: ID!) { node(id: $id) { ... on Provider { verification { verifiedAt externalIdEnforced } credentials { ... on AwsRoleCredentials { externalId } } } } }`;
const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) { credentials { __typename } resolution { externalIdEnforced explanation } }
}`;
const SETTINGS = `mutation($input: UpdateOrgSettingsInput!) { updateOrgSettings(input: $input) { org { refuseUnenforcedExternalId } userErrors { code } } }`;
const TARGET = { org: "acme", app: "shop", service: "api", stage: "prod", region: "us-east-1" };

describe("trust in a role that does not enforce its external id", function () {
  this.timeout(30_000);
  const roleArn = ROLE_ARN("222222222222", "deploy");

  async function openRole() {
    const { key, orgId } = await newOrg("acme");
    const providerId = await createRoleProvider(key, orgId, "prod", roleArn);
    await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    sts().addRole(roleArn); // trusts the server's account, with no sts:ExternalId condition
    return { key, orgId, providerId };
  }
  const auditOf = (action: string) =>
    harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY seq", [action]) as Promise<
      Array<{ outcome: string; details: Record<string, any> }>
    >;

  it("shows on the provider and in every resolution, and credentials are still issued while the org allows it", async () => {
    const { key, providerId } = await openRole();
    expect((await ok(key, PROVIDER, { id: providerId })).node.verification).to.equal(null);
    expect((await ok(key, VERIFY, { id: providerId })).verifyProvider.externalIdEnforced).to.equal(false);
    const { verification } = (await ok(key, PROVIDER, { id: providerId })).node;
    expect(verification.externalIdEnforced).to.equal(false);
    expect(Date.parse(verification.verifiedAt)).to.be.closeTo(Date.now(), 60_000);

    const deployed = (await ok(key, DEPLOY, { input: { ...TARGET, type: "AWS" } })).deploymentCredentials;
    expect(deployed.credentials.__typename).to.equal("AwsDeploymentCredentials");
    expect(deployed.resolution.externalIdEnforced).to.equal(false);
    expect(deployed.resolution.explanation).to.include(`Warning: when last verified (${verification.verifiedAt})`);
    const tree = await ok(
      key,
      `{ org(slug: "acme") { apps { nodes { services { nodes { resolveProvider(stage: "dev") { externalIdEnforced explanation }
         instances { nodes { effectiveProvider { externalIdEnforced explanation } } } } } } } } }`,
    );
    const service = tree.org.apps.nodes[0].services.nodes[0];
    for (const resolution of [service.resolveProvider, service.instances.nodes[0].effectiveProvider]) {
      expect(resolution.externalIdEnforced).to.equal(false);
      expect(resolution.explanation).to.match(/could be assumed without the external id/);
    }
  });

  it("an org setting refuses to issue for it, with a clear code, audited; enforcing the external id and verifying again lifts it", async () => {
    const { key, orgId, providerId } = await openRole();
    await ok(key, VERIFY, { id: providerId });
    const developer = await createKey(key, orgId, { role: "DEVELOPER" });
    const byDeveloper = await gql(developer.token, SETTINGS, { input: { orgId, refuseUnenforcedExternalId: true } });
    expect(byDeveloper.errors?.[0].extensions?.code).to.equal("FORBIDDEN");

    const set = (await ok(key, SETTINGS, { input: { orgId, refuseUnenforcedExternalId: true } })).updateOrgSettings;
    expect(set).to.deep.equal({ org: { refuseUnenforcedExternalId: true }, userErrors: [] });
    expect((await auditOf("org.updateSettings"))[0].details).to.deep.equal({ before: { refuseUnenforcedExternalId: false }, after: { refuseUnenforcedExternalId: true } });
    // Left out: unchanged.
    expect((await ok(key, SETTINGS, { input: { orgId } })).updateOrgSettings.org.refuseUnenforcedExternalId).to.equal(true);

    sts().reset();
    sts().addRole(roleArn);
    const refused = await gql(key, DEPLOY, { input: { ...TARGET, type: "AWS" } });
    expect(refused.errors?.[0].extensions?.code).to.equal("EXTERNAL_ID_NOT_ENFORCED");
    expect(refused.errors?.[0].message).to.match(/add the condition "StringEquals": \{ "sts:ExternalId"/);
    expect(sts().callsOf("AssumeRole")).to.have.length(0);
    const [denied] = (await auditOf("credentials.issue")).slice(-1);
    expect(denied.outcome).to.equal("DENIED");
    expect(denied.details.errorCode).to.equal("EXTERNAL_ID_NOT_ENFORCED");

    // The admin fixes the trust policy and verifies again: credentials flow, without a warning.
    const externalId = (await ok(key, PROVIDER, { id: providerId })).node.credentials.externalId;
    sts().addRole(roleArn, { externalId });
    expect((await ok(key, VERIFY, { id: providerId })).verifyProvider.externalIdEnforced).to.equal(true);
    const deployed = (await ok(key, DEPLOY, { input: { ...TARGET, type: "AWS" } })).deploymentCredentials;
    expect(deployed.credentials.__typename).to.equal("AwsDeploymentCredentials");
    expect(deployed.resolution.externalIdEnforced).to.equal(true);
    expect(deployed.resolution.explanation).not.to.include("Warning");
  });

  it("a verification that raced with a replacement of the credentials is not kept", async () => {
    const { key, providerId } = await openRole();
    sts().hang = true;
    const verifying = ok(key, VERIFY, { id: providerId });
    while ((sts() as unknown as { hung: unknown[] }).hung.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await ok(key, `mutation($input: UpdateProviderInput!) { updateProvider(input: $input) { userErrors { code } } }`, {
      input: { providerId, aws: { role: { roleArn: ROLE_ARN("222222222222", "other") } } },
    });
    sts().release();
    expect((await verifying).verifyProvider.externalIdEnforced).to.equal(false);
    expect((await ok(key, PROVIDER, { id: providerId })).node.verification).to.equal(null);
  });

  it("replacing the credentials forgets the verification: the new role is unverified", async () => {
    const { key, providerId } = await openRole();
    await ok(key, VERIFY, { id: providerId });
    await ok(key, `mutation($input: UpdateProviderInput!) { updateProvider(input: $input) { userErrors { code } } }`, {
      input: { providerId, aws: { role: { roleArn: ROLE_ARN("222222222222", "other") } } },
    });
    expect((await ok(key, PROVIDER, { id: providerId })).node.verification).to.equal(null);
    sts().addRole(ROLE_ARN("222222222222", "other"));
    const deployed = (await ok(key, DEPLOY, { input: { ...TARGET, type: "AWS" } })).deploymentCredentials;
    expect(deployed.credentials.__typename).to.equal("AwsDeploymentCredentials");
    expect(deployed.resolution.externalIdEnforced).to.equal(null);
    expect(deployed.resolution.explanation).not.to.include("Warning");
  });
});
