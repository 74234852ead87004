import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { runCli } from "./cli-process.js";
import { gql, newOrg, ok } from "./client.js";
import { addMember, createKey, createRoleProvider, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

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

describe("an org that refuses new stages (Org.refuseNewStages)", () => {
  const ROLE = ROLE_ARN("222222222222", "deploy");
  const DEPLOY_WITH_CREDENTIALS = `mutation($input: DeploymentCredentialsInput!) {
    deploymentCredentials(input: $input) {
      instance { stage region }
      credentials { ... on AwsDeploymentCredentials { accessKeyId } }
      warnings { code suggestedStage }
      userErrors { code field message }
    }
  }`;
  const SETTINGS = `mutation($input: UpdateOrgSettingsInput!) { updateOrgSettings(input: $input) { org { refuseNewStages } userErrors { code message } } }`;
  let admin: string;
  let orgId: string;
  let deployer: string;

  const attempt = (key: string, stage: string, region: string | null = "us-east-1", service = "api") =>
    gql(key, DEPLOY_WITH_CREDENTIALS, { input: { org: "acme", app: "shop", service, stage, region, type: "AWS" } });
  const payloadOf = async (key: string, stage: string, region?: string | null, service?: string) => {
    const result = await attempt(key, stage, region, service);
    expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
    return result.data.deploymentCredentials;
  };
  const setRefuseNewStages = (key: string, value: boolean) => gql(key, SETTINGS, { input: { orgId, refuseNewStages: value } });
  const instanceStages = async () =>
    (await harness().application.dataSource.query("SELECT stage, region FROM instances ORDER BY created_at")).map((r: { stage: string; region: string | null }) => `${r.stage}/${r.region}`);
  const refusals = (action: string) =>
    harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1 AND details->>'errorCode' = 'NEW_STAGE_REFUSED'", [action]);

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    const providerId = await createRoleProvider(admin, orgId, "dev", ROLE);
    const { node } = await ok(admin, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId });
    sts().addRole(ROLE, { externalId: node.credentials.externalId });
    await ok(admin, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: providerId });
    ({ token: deployer } = await createKey(admin, orgId, { role: "DEPLOYER", name: "ci" }));
    expect((await payloadOf(deployer, "prod")).credentials.accessKeyId).to.match(/^ASIA/);
    expect((await payloadOf(deployer, "dev")).credentials.accessKeyId).to.match(/^ASIA/);
  });

  it("is off by default: a typo still deploys, with its warning", async () => {
    expect((await ok(admin, `{ org(slug: "acme") { refuseNewStages } }`)).org.refuseNewStages).to.equal(false);
    const typo = await payloadOf(deployer, "prdo");
    expect(typo.credentials.accessKeyId).to.match(/^ASIA/);
    expect(typo.warnings).to.deep.equal([{ code: "NEW_STAGE", suggestedStage: "prod" }]);
  });

  it("on: a new stage is refused with its known stages and the nearest, audited, nothing created and STS not called", async () => {
    expect((await setRefuseNewStages(admin, true)).data.updateOrgSettings.org.refuseNewStages).to.equal(true);
    const callsBefore = sts().callsOf("AssumeRole").length;
    const refused = await payloadOf(deployer, "prdo");
    expect(refused.credentials).to.equal(null);
    expect(refused.instance).to.equal(null);
    expect(refused.userErrors).to.have.length(1);
    expect(refused.userErrors[0]).to.deep.include({ code: "NEW_STAGE_REFUSED", field: ["input", "stage"] });
    expect(refused.userErrors[0].message).to.equal(
      'Service "api" has never had stage "prdo", and the org refuses new stages: did you mean prod? its stages are prod, dev. Use a known stage, or ask an org admin to add this one (createInstance) or for a key that may create stages (scope.mayCreateStages).',
    );
    // A new service has no stage yet: its first deployment adds one too.
    const newService = await payloadOf(deployer, "prod", "us-east-1", "web");
    expect(newService.userErrors[0].code).to.equal("NEW_STAGE_REFUSED");
    expect(newService.userErrors[0].message).to.include("it has no stage yet");
    expect(sts().callsOf("AssumeRole").length).to.equal(callsBefore);
    expect(await instanceStages()).to.deep.equal(["prod/us-east-1", "dev/us-east-1"]);
    const audited = await refusals("credentials.issue");
    expect(audited.map((e: { outcome: string; details: { stage: string } }) => [e.outcome, e.details.stage])).to.have.deep.members([
      ["DENIED", "prdo"],
      ["DENIED", "prod"],
    ]);
    // Known stages keep deploying, a new region of a known stage included (the stage is not new).
    expect((await payloadOf(deployer, "prod")).credentials.accessKeyId).to.match(/^ASIA/);
    const region = await payloadOf(deployer, "prod", "eu-west-1");
    expect(region.userErrors).to.deep.equal([]);
    expect(region.credentials.accessKeyId).to.match(/^ASIA/);
    // Off again: the typo deploys as before.
    await setRefuseNewStages(admin, false);
    expect((await payloadOf(deployer, "prdo")).warnings).to.deep.equal([{ code: "NEW_STAGE", suggestedStage: "prod" }]);
  });

  it("on: an org key with scope.mayCreateStages, or an admin, adds stages; a developer's createInstance is refused and audited", async () => {
    await setRefuseNewStages(admin, true);
    const created = await ok(
      admin,
      `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token accessKey { mayCreateStages scope { apps } } userErrors { code } } }`,
      { input: { orgId, name: "release ci", role: "DEPLOYER", scope: { mayCreateStages: true } } },
    );
    // The flag alone limits nothing: the key is unscoped.
    expect(created.createAccessKey.accessKey).to.deep.equal({ mayCreateStages: true, scope: null });
    const allowed = await payloadOf(created.createAccessKey.token, "int");
    expect(allowed.credentials.accessKeyId).to.match(/^ASIA/);
    expect(allowed.warnings).to.deep.equal([{ code: "NEW_STAGE", suggestedStage: null }]);
    // Once the stage exists, any key deploys to it.
    expect((await payloadOf(deployer, "int")).credentials.accessKeyId).to.match(/^ASIA/);
    expect((await payloadOf(admin, "qa")).credentials.accessKeyId).to.match(/^ASIA/);

    const { token: developer } = await createKey(admin, orgId, { role: "DEVELOPER", name: "dev ci" });
    const serviceId = (await ok(admin, `{ org(slug: "acme") { apps(first: 1) { nodes { services(first: 1) { nodes { id } } } } } }`)).org.apps.nodes[0].services.nodes[0].id;
    const CREATE_INSTANCE = `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { stage } userErrors { code message } } }`;
    const refused = (await ok(developer, CREATE_INSTANCE, { input: { serviceId, stage: "Prod", region: null } })).createInstance;
    expect(refused.instance).to.equal(null);
    expect(refused.userErrors[0].code).to.equal("NEW_STAGE_REFUSED");
    expect(refused.userErrors[0].message).to.include("did you mean prod?");
    expect(await refusals("instance.create")).to.have.length(1);
    // The stage-wide instance of a known stage is no new stage; an admin adds a new one.
    expect((await ok(developer, CREATE_INSTANCE, { input: { serviceId, stage: "prod", region: null } })).createInstance.userErrors).to.deep.equal([]);
    expect((await ok(admin, CREATE_INSTANCE, { input: { serviceId, stage: "staging", region: null } })).createInstance.userErrors).to.deep.equal([]);
    expect(await instanceStages()).to.include.members(["int/us-east-1", "qa/us-east-1", "prod/null", "staging/null"]);
    expect(await instanceStages()).not.to.include("Prod/null");
  });

  it("only an admin changes the setting, and each change is audited with before and after; a personal key cannot carry the flag", async () => {
    const { token: developer } = await createKey(admin, orgId, { role: "DEVELOPER", name: "dev" });
    const denied = await setRefuseNewStages(developer, true);
    expect(denied.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");
    expect((await ok(admin, `{ org(slug: "acme") { refuseNewStages } }`)).org.refuseNewStages).to.equal(false);
    await setRefuseNewStages(admin, true);
    const [event] = await harness().application.dataSource.query("SELECT details FROM audit_events WHERE action = 'org.updateSettings'");
    expect(event.details.before).to.deep.equal({ refuseNewStages: false });
    expect(event.details.after).to.deep.equal({ refuseNewStages: true });

    const userId = await addMember(admin, orgId, "ada@example.com", "DEVELOPER");
    const personal = await ok(admin, `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token userErrors { code field } } }`, {
      input: { orgId, name: "ada", userId, scope: { mayCreateStages: true } },
    });
    expect(personal.createAccessKey).to.deep.equal({ token: null, userErrors: [{ code: "INVALID_SCOPE", field: ["input", "scope", "mayCreateStages"] }] });
  });

  it("names at most ten stages, whatever the service has, and never one outside a scoped key's reach", async () => {
    await setRefuseNewStages(admin, true);
    await harness().application.dataSource.query(
      `INSERT INTO instances (org_id, service_id, stage, region)
       SELECT s.org_id, s.id, 'pr-' || n, NULL FROM services s, generate_series(1, 3000) n WHERE s.name = 'api'`,
    );
    const refused = await payloadOf(deployer, "pr-30000");
    const message: string = refused.userErrors[0].message;
    expect(message).to.match(/did you mean pr-3000\? its stages are pr-3000(, [a-z0-9-]+){9} and 2992 more\. Use a known stage/);
    expect(message.length).to.be.below(500);
    const preview = (
      await ok(admin, `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token accessKey { mayCreateStages scope { stages mayCreateStages } } } }`, {
        input: { orgId, name: "preview", role: "DEPLOYER", scope: { stages: ["pr-*"] } },
      })
    ).createAccessKey;
    expect(preview.accessKey).to.deep.equal({ mayCreateStages: false, scope: { stages: ["pr-*"], mayCreateStages: false } });
    const scoped = (await payloadOf(preview.token, "pr-x")).userErrors[0].message;
    expect(scoped).not.to.match(/\bprod\b|\bdev\b/);
    expect(scoped).to.include("and 2990 more");
  });

  it("hostile stage names are refused as names first, never stored nor echoed raw", async () => {
    await setRefuseNewStages(admin, true);
    for (const stage of ["", "pr od", "prod\u0000", "x".repeat(5000), "../prod", "prod'; DROP TABLE instances; --", "prod\u001b[31m"]) {
      const result = await attempt(deployer, stage);
      expect(result.status).to.be.below(500);
      const codes = result.data?.deploymentCredentials?.userErrors?.map((e: { code: string }) => e.code) ?? result.errors?.map((e) => e.extensions?.code);
      expect(codes, JSON.stringify(stage.slice(0, 20))).to.have.length.greaterThan(0);
      expect(codes).not.to.include("NEW_STAGE_REFUSED");
      const messages = [...(result.data?.deploymentCredentials?.userErrors ?? []), ...(result.errors ?? [])].map((e: { message: string }) => e.message).join(" ");
      expect(messages).not.to.include("\u001b");
    }
    expect(await instanceStages()).to.deep.equal(["prod/us-east-1", "dev/us-east-1"]);
  });

  it("concurrent first deployments of a new stage, at and above the pool size, while an admin flips the setting", async () => {
    const { token: releaser } = await createKey(admin, orgId, { role: "DEPLOYER", name: "release", scope: { mayCreateStages: true } });
    const poolSize = harness().config.databasePoolSize;
    for (const count of [poolSize, poolSize * 3]) {
      const stage = `wave-${count}`;
      const callsBefore = sts().callsOf("AssumeRole").length;
      const flips = Array.from({ length: 6 }, (_, i) => setRefuseNewStages(admin, i % 2 === 0));
      const [answers, releases] = await Promise.all([
        Promise.all(Array.from({ length: count }, () => attempt(deployer, stage))),
        Promise.all(Array.from({ length: 2 }, () => attempt(releaser, stage))),
        Promise.all(flips),
      ]);
      const all = [...answers, ...releases];
      for (const answer of all) expect(answer.errors, JSON.stringify(answer.errors)).to.equal(undefined);
      const issued = all.filter((a) => a.data.deploymentCredentials.credentials);
      const refused = answers.filter((a) => a.data.deploymentCredentials.userErrors.length > 0);
      // Every answer is one or the other: credentials, or the refusal naming the stage.
      expect(issued.length + refused.length).to.equal(all.length);
      for (const answer of refused) expect(answer.data.deploymentCredentials.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["NEW_STAGE_REFUSED"]);
      // The key that may create stages is never refused; STS was asked once per issuance and never for a refusal.
      for (const release of releases) expect(release.data.deploymentCredentials.credentials.accessKeyId).to.match(/^ASIA/);
      expect(sts().callsOf("AssumeRole").length - callsBefore).to.equal(issued.length);
      const [{ n }] = await harness().application.dataSource.query("SELECT count(*)::int AS n FROM instances WHERE stage = $1", [stage]);
      expect(n).to.equal(1);
      const [{ denied }] = await harness().application.dataSource.query(
        "SELECT count(*)::int AS denied FROM audit_events WHERE action = 'credentials.issue' AND outcome = 'DENIED' AND details->>'stage' = $1",
        [stage],
      );
      expect(denied).to.equal(refused.length);
    }
    const [{ flips }] = await harness().application.dataSource.query("SELECT count(*)::int AS flips FROM audit_events WHERE action = 'org.updateSettings'");
    expect(flips).to.equal(12);
  });

  it("the credentials command: exit 1, the refusal on one line of stderr, nothing on stdout", async function () {
    this.timeout(30_000);
    await setRefuseNewStages(admin, true);
    const result = await runCli(["credentials", "--org", "acme", "--app", "shop", "--service", "api", "--stage", "Prod", "--region", "us-east-1"], {
      PROVIDERS_API_URL: harness().url,
      PROVIDERS_API_KEY: deployer,
    });
    expect(result.status).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.equal(
      'providers-api credentials: Service "api" has never had stage "Prod", and the org refuses new stages: did you mean prod? its stages are prod, dev. Use a known stage, or ask an org admin to add this one (createInstance) or for a key that may create stages (scope.mayCreateStages).\n',
    );
  });
});
