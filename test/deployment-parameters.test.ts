import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse as parseDotenv } from "dotenv";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createParameter, createService } from "./fixtures.js";
import { harness } from "./setup.js";

const DEPLOY = `mutation($input: DeploymentParametersInput!) { deploymentParameters(input: $input) { parameters { name value isSecret source } userErrors { code field message } } }`;
const SECRET = "s3cr3t-value-that-must-never-leak-0123456789";

const auditOf = async (action: string) =>
  (await harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY occurred_at, id", [action])) as Array<{
    outcome: string;
    details: Record<string, any>;
  }>;

const target = (overrides: Record<string, unknown> = {}) => ({ org: "acme", app: "shop", service: "api", stage: "prod", region: "us-east-1", ...overrides });

describe("deploymentParameters", () => {
  let admin: string;
  let orgId: string;
  let serviceId: string;
  let deployer: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    const prod = await createInstance(admin, serviceId, "prod", "us-east-1");
    await createParameter(admin, orgId, "REGION_DEFAULT", "us-east-1");
    await createParameter(admin, serviceId, "DB_URL", "postgres://dev");
    await createParameter(admin, prod, "DB_URL", "postgres://prod");
    await createParameter(admin, serviceId, "API_TOKEN", SECRET, { secret: true });
    deployer = (await createKey(admin, orgId, { role: "DEPLOYER", name: "ci" })).token;
  });

  it("hands a DEPLOYER the effective parameters, secret values included, and audits their names and sources, never a value", async () => {
    const payload = (await ok(deployer, DEPLOY, { input: target() })).deploymentParameters;
    expect(payload).to.deep.equal({
      userErrors: [],
      parameters: [
        { name: "API_TOKEN", value: SECRET, isSecret: true, source: "SERVICE" },
        { name: "DB_URL", value: "postgres://prod", isSecret: false, source: "INSTANCE" },
        { name: "REGION_DEFAULT", value: "us-east-1", isSecret: false, source: "ORG" },
      ],
    });
    const [event] = await auditOf("parameters.issue");
    expect(event.outcome).to.equal("SUCCESS");
    expect(event.details.parameters.map((p: any) => [p.name, p.source, p.secret])).to.deep.equal([
      ["API_TOKEN", "SERVICE", true],
      ["DB_URL", "INSTANCE", false],
      ["REGION_DEFAULT", "ORG", false],
    ]);
    expect(JSON.stringify(event)).not.to.contain("never-leak");
    expect(JSON.stringify(event)).not.to.contain("postgres://");
    expect(harness().logs.join("\n")).not.to.contain("never-leak");
  });

  it("is asked beside deploymentCredentials in one request, and a service never deployed gets the org's values and creates nothing", async () => {
    const both = await ok(
      deployer,
      `mutation($input: DeploymentParametersInput!) {
        deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: "feature-x", region: "us-east-1" }) { useLocalCredentials }
        deploymentParameters(input: $input) { parameters { name source } }
      }`,
      { input: target({ stage: "feature-x" }) },
    );
    expect(both.deploymentCredentials.useLocalCredentials).to.equal(true);
    expect(both.deploymentParameters.parameters.map((p: any) => [p.name, p.source])).to.deep.equal([
      ["API_TOKEN", "SERVICE"],
      ["DB_URL", "SERVICE"],
      ["REGION_DEFAULT", "ORG"],
    ]);
    const fresh = (await ok(deployer, DEPLOY, { input: target({ app: "newapp", service: "newsvc" }) })).deploymentParameters.parameters;
    expect(fresh).to.deep.equal([{ name: "REGION_DEFAULT", value: "us-east-1", isSecret: false, source: "ORG" }]);
    const [{ n }] = await harness().application.dataSource.query("SELECT count(*)::int AS n FROM apps WHERE name = 'newapp'");
    expect(n).to.equal(0);
  });

  it("a scoped key is refused beyond its scope, another org is NOT_FOUND like an unknown one, bad names are userErrors; each refusal is audited", async () => {
    const preview = (await createKey(admin, orgId, { role: "DEPLOYER", scope: { apps: ["shop"], stages: ["feature-*"] } })).token;
    expect((await ok(preview, DEPLOY, { input: target({ stage: "feature-x" }) })).deploymentParameters.parameters).to.have.length(3);
    const refused = await gql(preview, DEPLOY, { input: target() });
    expect(refused.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect(refused.data?.deploymentParameters ?? null).to.equal(null);
    expect(JSON.stringify(refused)).not.to.contain("postgres://");
    await newOrg("other");
    for (const org of ["other", "nope"]) expect((await gql(deployer, DEPLOY, { input: target({ org }) })).errors?.[0].extensions?.code).to.equal("NOT_FOUND");
    const bad = (await ok(deployer, DEPLOY, { input: target({ stage: "prod; DROP TABLE parameters", region: "mars-1" }) })).deploymentParameters;
    expect(bad.parameters).to.equal(null);
    expect(bad.userErrors.map((e: any) => [e.code, e.field])).to.deep.equal([
      ["INVALID_STAGE", ["input", "stage"]],
      ["INVALID_REGION", ["input", "region"]],
    ]);
    expect((await auditOf("parameters.issue")).map((e) => [e.outcome, e.details.errorCode ?? null])).to.deep.equal([
      ["SUCCESS", null],
      ["DENIED", "FORBIDDEN"],
      ["DENIED", "NOT_FOUND"],
      ["DENIED", "NOT_FOUND"],
      ["DENIED", "INVALID_STAGE"],
    ]);
    expect((await auditOf("authorization.scope")).map((e) => e.outcome)).to.deep.equal(["DENIED"]);
  });

  it("hands out no values when the audit record cannot be written (fail-closed)", async () => {
    const db = harness().application.dataSource;
    await db.query(`CREATE FUNCTION test_refuse_parameters_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.action = 'parameters.issue' AND NEW.outcome = 'SUCCESS' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
    await db.query("CREATE TRIGGER test_refuse_parameters_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_parameters_audit()");
    try {
      const result = await gql(deployer, DEPLOY, { input: target() });
      expect(result.status).to.equal(503);
      expect(result.errors?.[0].extensions).to.deep.equal({ code: "SERVICE_UNAVAILABLE", retryable: true });
      expect(result.errors?.[0].message).to.match(/not handed out\. Try again/);
      expect(result.data?.deploymentParameters ?? null).to.equal(null);
      expect(JSON.stringify(result)).not.to.contain("never-leak");
      expect(JSON.stringify(result)).not.to.contain("postgres://");
    } finally {
      await db.query("DROP TRIGGER test_refuse_parameters_audit ON audit_events");
      await db.query("DROP FUNCTION test_refuse_parameters_audit()");
    }
    expect((await auditOf("parameters.issue")).map((e) => e.outcome)).to.deep.equal(["FAILURE"]);
  });

  it("serves concurrent deployments and refusals well above the pool size without waiting on the pool", async () => {
    const poolSize = harness().config.databasePoolSize;
    const preview = (await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] } })).token;
    const calls = Array.from({ length: poolSize * 3 }, (_, i) => (i % 2 === 0 ? gql(deployer, DEPLOY, { input: target() }) : gql(preview, DEPLOY, { input: target() })));
    const results = await Promise.all(calls);
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result.data?.deploymentParameters.parameters, JSON.stringify(result.errors)).to.have.length(3);
      else expect(result.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    });
    const outcomes = (await auditOf("parameters.issue")).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === "SUCCESS")).to.have.length(poolSize * 3 / 2);
    expect(outcomes.filter((o) => o === "DENIED")).to.have.length(poolSize * 3 / 2);
  });
});

describe("providers-api parameters (a client for CI steps)", function () {
  this.timeout(120_000);
  const cli = path.resolve(__dirname, "..", "src", "cli.js");
  const run = promisify(execFile);
  let dir: string;
  let deployer: string;
  let admin: string;
  let serviceId: string;

  // Values a shell or a dotenv parser would love to misread.
  const HOSTILE: Record<string, string> = {
    QUOTES: `it's "quoted" and 'single'`,
    NEWLINES: "line one\nline two\n\nline four",
    DOLLARS: "$HOME ${PATH} $(touch MARKER) `touch MARKER` \\$",
    BACKSLASH_N: "literal \\n and \\r, not a newline",
    SPACES: "  padded  ",
    "db.url": "#not a comment = still the value",
    EMPTY: "",
    "/prod/key": SECRET,
  };

  const cliRun = (args: string[]) =>
    run(process.execPath, [cli, "parameters", "--org", "acme", "--app", "shop", "--service", "api", "--stage", "prod", ...args], {
      env: { PATH: process.env.PATH, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: deployer },
      cwd: dir,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "providers-api-parameters-"));
    let orgId: string;
    ({ key: admin, orgId } = await newOrg("acme"));
    serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    for (const [name, value] of Object.entries(HOSTILE)) await createParameter(admin, serviceId, name, value, { secret: name === "/prod/key" });
    deployer = (await createKey(admin, orgId, { role: "DEPLOYER" })).token;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  const asEnvironment = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_");

  it("--format env prints export lines a POSIX shell reads back exactly, running nothing", async () => {
    const { code, stdout, stderr } = await cliRun(["--format", "env"]);
    expect(code, stderr).to.equal(0);
    const shell = await run("sh", ["-c", 'eval "$1"; exec "$2" -e "process.stdout.write(JSON.stringify(process.env))"', "sh", stdout, process.execPath], {
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    const environment = JSON.parse(shell.stdout);
    for (const [name, value] of Object.entries(HOSTILE)) expect(environment[asEnvironment(name)], name).to.equal(value);
    expect(existsSync(path.join(dir, "MARKER"))).to.equal(false);
  });

  it("--format dotenv prints a file the dotenv package reads back exactly; --format json the values by their own names", async () => {
    const dotenv = await cliRun(["--format", "dotenv"]);
    expect(dotenv.code, dotenv.stderr).to.equal(0);
    expect(parseDotenv(dotenv.stdout)).to.deep.equal(Object.fromEntries(Object.entries(HOSTILE).map(([name, value]) => [asEnvironment(name), value])));
    const json = await cliRun(["--format", "json"]);
    expect(json.code, json.stderr).to.equal(0);
    expect(JSON.parse(json.stdout)).to.deep.equal(HOSTILE);
    expect(json.stderr).to.equal("");
  });

  it("refuses, on stderr and with nothing on stdout, what it cannot print faithfully or may not get", async () => {
    const usage = await cliRun(["--format", "yaml"]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.equal('providers-api: parameters: --format "yaml" is not a format; it is one of env, json, dotenv\n');
    const foreign = await run(process.execPath, [cli, "parameters", "--org", "other", "--app", "shop", "--service", "api", "--stage", "prod"], {
      env: { PATH: process.env.PATH, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: deployer },
    }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(foreign?.code).to.equal(1);
    expect(foreign?.stdout).to.equal("");
    expect(foreign?.stderr).to.match(/^providers-api parameters: NOT_FOUND: The org "other" was not found\.\n$/);

    await createParameter(admin, serviceId, "ALL_QUOTES", "' \" `");
    const unquotable = await cliRun(["--format", "dotenv"]);
    expect(unquotable.code).to.equal(1);
    expect(unquotable.stdout).to.equal("");
    expect(unquotable.stderr).to.contain('the value of "ALL_QUOTES" cannot be written in dotenv format');
    await createParameter(admin, serviceId, "db_url", "clash");
    const clash = await cliRun(["--format", "env"]);
    expect(clash.code).to.equal(1);
    expect(clash.stdout).to.equal("");
    expect(clash.stderr).to.contain('the parameters "db.url" and "db_url" would both be the variable db_url');
  });
});
