import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { gql, newOrg } from "./client.js";
import { createKey } from "./fixtures.js";
import { harness } from "./setup.js";

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    instance { id stage region }
    useLocalCredentials
    warnings { code message suggestedStage }
    userErrors { code field message }
  }
}`;

async function deploy(key: string, stage: string, extra: Record<string, unknown> = {}) {
  const result = await gql(key, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage, region: "us-east-1", type: "AWS", ...extra } });
  expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
  expect(result.data.deploymentCredentials.userErrors).to.deep.equal([]);
  return result.data.deploymentCredentials;
}

describe("a deployment to a stage its service never deployed", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
  });

  it("says so, and names the known stage a typo was close to (case-insensitive)", async () => {
    const first = await deploy(key, "prod");
    expect(first.warnings).to.have.length(1);
    expect(first.warnings[0]).to.deep.include({ code: "NEW_SERVICE", suggestedStage: null });
    expect(first.warnings[0].message).to.include('first deployment of service "api"');
    expect((await deploy(key, "prod")).warnings).to.deep.equal([]);
    expect((await deploy(key, "prod", { region: "eu-west-1" })).warnings, "a new region of a known stage").to.deep.equal([]);

    for (const typo of ["Prod", "prdo", "PROD", "prod1"]) {
      const answer = await deploy(key, typo);
      expect(answer.warnings, typo).to.have.length(1);
      expect(answer.warnings[0].code).to.equal("NEW_STAGE");
      expect(answer.warnings[0].suggestedStage, typo).to.equal("prod");
      expect(answer.warnings[0].message).to.include(`stage "${typo}"; did you mean prod?`);
    }
    // Far from every known stage: no suggestion, but the known stages are named.
    const staging = await deploy(key, "staging");
    expect(staging.warnings[0].suggestedStage).to.equal(null);
    expect(staging.warnings[0].message).not.to.include("did you mean");
    expect(staging.warnings[0].message).to.include("Its known stages: PROD, Prod, prdo, prod, prod1.");
  });

  it("does not name stages outside a scoped key's reach", async () => {
    await deploy(key, "prod");
    await deploy(key, "pr-1");
    const { token } = await createKey(key, orgId, { role: "DEPLOYER", name: "preview ci", scope: { apps: ["shop"], stages: ["pr-*"] } });
    const answer = await deploy(token, "pr-2");
    expect(answer.warnings[0].code).to.equal("NEW_STAGE");
    expect(answer.warnings[0].suggestedStage).to.equal("pr-1");
    expect(answer.warnings[0].message).not.to.include("prod");
  });

  it("many first deployments of one new stage at once: one instance, each told, no error", async () => {
    await deploy(key, "dev");
    const answers = await Promise.all(Array.from({ length: 16 }, () => deploy(key, "Dev")));
    expect(new Set(answers.map((a) => a.instance.id)).size).to.equal(1);
    // Each one that found no instance is told; one that started after another committed finds it.
    const told = answers.filter((a) => a.warnings.length > 0);
    expect(told.length).to.be.at.least(1);
    for (const answer of told) expect(answer.warnings.map((w: { code: string; suggestedStage: string }) => [w.code, w.suggestedStage])).to.deep.equal([["NEW_STAGE", "dev"]]);
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances WHERE stage = 'Dev'");
    expect(count).to.equal(1);
  });

  it("hostile stage names are refused with a code, never warned about or stored", async () => {
    await deploy(key, "prod");
    for (const stage of ["", "pr od", "prod\u0000", "x".repeat(5000), "../prod"]) {
      const result = await gql(key, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage, region: "us-east-1", type: "AWS" } });
      expect(result.status, stage.slice(0, 20)).to.be.below(500);
      const payload = result.data?.deploymentCredentials;
      if (payload) {
        expect(payload.userErrors[0].code).to.be.a("string");
        expect(payload.warnings).to.equal(null);
      } else {
        expect(result.errors?.[0]?.extensions?.code).to.be.a("string");
      }
    }
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
    expect(count).to.equal(1);
  });

  it("the credentials command prints the warning on stderr and keeps stdout to the credential_process JSON", async function () {
    this.timeout(30_000);
    await deploy(key, "prod");
    const cli = path.resolve(__dirname, "..", "src", "cli.js");
    // No provider applies: the command fails, but only after the server answered with its warning.
    const failure = await promisify(execFile)(process.execPath, [cli, "credentials", "--org", "acme", "--app", "shop", "--service", "api", "--stage", "Prod", "--region", "us-east-1"], {
      env: { PATH: process.env.PATH, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: key },
    }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.stdout).to.equal("");
    expect(failure?.stderr).to.match(/^providers-api credentials: warning: NEW_STAGE: .*did you mean prod\?/m);
  });
});
