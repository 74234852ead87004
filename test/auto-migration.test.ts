import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

const DEV_ARN = ROLE_ARN("111111111111", "legacy-dev");
const PROD_ARN = ROLE_ARN("222222222222", "legacy-prod");

const DEPLOY = `mutation($stage: String!, $region: String = "us-east-1") {
  deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: $stage, region: $region }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId sessionToken } }
    resolution { source provider { name } }
    userErrors { code message }
  }
}`;

/** The same, with what a deployment is told about the migration it triggered. */
const DEPLOY_TOLD = `mutation($stage: String!, $region: String = "us-east-1") {
  deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: $stage, region: $region }) {
    resolution { source provider { name } }
    warnings { code message }
    profileMigration { id trigger deployment { stage region } }
    userErrors { code message }
  }
}`;

const RUNS = `{ org(slug: "acme") { deploymentProfileMigrations { totalCount nodes { id trigger actorLabel deployment { stage region } report { providersCreated { provider { name } } } } } } }`;


async function legacySetup(key: string, orgId: string): Promise<void> {
  const appId = await createApp(key, orgId, "app1");
  await createService(key, appId, "service1");
  for (const [name, roleArn, stage] of [["dev", DEV_ARN, "default"], ["prod", PROD_ARN, "prod"]]) {
    const created = await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, {
      input: { orgId, name, roleArn },
    });
    await ok(key, `mutation($input: SetAppStageProfileInput!) { setAppStageProfile(input: $input) { userErrors { code } } }`, {
      input: { appId, stage, deploymentProfileId: created.createDeploymentProfile.deploymentProfile.id },
    });
    sts().addRole(roleArn); // a legacy role: trusts the server's account, no external id condition yet
  }
}

describe("deployments keep working through the move from deployment profiles", () => {
  it("the first deployment of an org with profiles migrates it, and deploys prod with the prod profile's role", async () => {
    const { key, orgId } = await newOrg("acme");
    await legacySetup(key, orgId);

    const prod = (await ok(key, DEPLOY, { stage: "prod" })).deploymentCredentials;
    expect(prod.userErrors).to.deep.equal([]);
    expect(prod.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
    expect(prod.credentials.sessionToken).to.be.a("string").and.not.be.empty;
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([PROD_ARN]);

    const preview = (await ok(key, DEPLOY, { stage: "feature-x" })).deploymentCredentials;
    expect(preview.resolution).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([PROD_ARN, DEV_ARN]);

    const runs = await harness().application.dataSource.query("SELECT details FROM audit_events WHERE action = 'profiles.migrate'");
    expect(runs).to.have.length(1);
    const profiles = await gql(key, `{ org(slug: "acme") { deploymentProfiles { nodes { name migratedProvider { name } } } } }`);
    expect(profiles.data.org.deploymentProfiles.nodes).to.deep.equal([
      { name: "dev", migratedProvider: { name: "dev" } },
      { name: "prod", migratedProvider: { name: "prod" } },
    ]);
  });
});

describe("the automatic migration under concurrency", () => {
  it("12 concurrent first deployments of a legacy org (above the pool size) migrate it exactly once, and each deploys with the prod profile's role", async () => {
    const { key, orgId } = await newOrg("acme");
    await legacySetup(key, orgId);
    const results = await Promise.all(Array.from({ length: 12 }, () => gql(key, DEPLOY, { stage: "prod" })));
    for (const result of results) {
      expect(result.errors).to.equal(undefined);
      expect(result.data.deploymentCredentials.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
    }
    const runs = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM audit_events WHERE action = 'profiles.migrate'");
    expect(runs[0].count).to.equal(1);
    const [{ providers }] = await harness().application.dataSource.query("SELECT count(*)::int AS providers FROM providers");
    expect(providers).to.equal(2);
  });
});

describe("the automatic migration with stages deployed at once", () => {
  /** Which provider each stage's deployments got, and that every one got credentials from it. */
  async function deployAtOnce(key: string, stages: string[]) {
    const results = await Promise.all(stages.map((stage) => gql(key, DEPLOY_TOLD, { stage })));
    results.forEach((result, i) => {
      expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
      expect(result.data.deploymentCredentials.userErrors).to.deep.equal([]);
      expect(result.data.deploymentCredentials.resolution.provider.name, `${stages[i]} (#${i})`).to.equal(stages[i] === "prod" ? "prod" : "dev");
    });
    return results.map((r) => r.data.deploymentCredentials);
  }

  for (const count of [10, 24]) {
    it(`${count} concurrent first deployments to prod, dev and a preview stage (${count === 10 ? "the pool size" : "above the pool size"}): prod gets prod's account, the others dev's; one run, told to exactly one`, async () => {
      const { key, orgId } = await newOrg("acme");
      await legacySetup(key, orgId);
      const stages = Array.from({ length: count }, (_, i) => ["dev", "prod", "feature-x"][i % 3]);
      const answers = await deployAtOnce(key, stages);

      const told = answers.filter((a) => a.profileMigration !== null);
      expect(told).to.have.length(1);
      expect(told[0].profileMigration.trigger).to.equal("AUTOMATIC");
      expect(told[0].warnings.map((w: { code: string }) => w.code)).to.include("DEPLOYMENT_PROFILES_MIGRATED");
      expect(answers.filter((a) => a.warnings.some((w: { code: string }) => w.code === "DEPLOYMENT_PROFILES_MIGRATED"))).to.have.length(1);
      // The run names the deployment that triggered it: the one told.
      expect(told[0].profileMigration.deployment).to.deep.include({ region: "us-east-1" });

      // Each stage's credentials came from its own account.
      const issued = sts().callsOf("AssumeRole").map((call) => call.params.RoleArn);
      expect(issued).to.have.length(count);
      expect(issued.filter((arn) => arn === PROD_ARN)).to.have.length(stages.filter((s) => s === "prod").length);
      expect(issued.filter((arn) => arn === DEV_ARN)).to.have.length(stages.filter((s) => s !== "prod").length);

      const runs = (await ok(key, RUNS)).org.deploymentProfileMigrations;
      expect(runs.totalCount).to.equal(1);
      expect(runs.nodes[0].id).to.equal(told[0].profileMigration.id);
      const [{ providers }] = await harness().application.dataSource.query("SELECT count(*)::int AS providers FROM providers");
      expect(providers).to.equal(2);
    });
  }

  it("after the migration, prod deployed to a new region resolves to prod (the stage-wide instance), not the service's dev", async () => {
    const { key, orgId } = await newOrg("acme");
    await legacySetup(key, orgId);
    // The first deployment is dev: prod has never been deployed when the migration runs.
    const first = (await ok(key, DEPLOY_TOLD, { stage: "dev" })).deploymentCredentials;
    expect(first.resolution).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
    expect(first.profileMigration.deployment).to.deep.equal({ stage: "dev", region: "us-east-1" });

    for (const region of ["us-east-1", "eu-central-1", "ap-southeast-2"]) {
      const prod = (await ok(key, DEPLOY_TOLD, { stage: "prod", region })).deploymentCredentials;
      expect(prod.resolution, region).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
      expect(prod.profileMigration).to.equal(null);
      expect(prod.warnings.map((w: { code: string }) => w.code)).to.not.include("DEPLOYMENT_PROFILES_MIGRATED");
    }
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([DEV_ARN, PROD_ARN, PROD_ARN, PROD_ARN]);
    // A component service (stage-only) deploys prod the same way.
    const stageOnly = await gql(key, `mutation { deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: "prod" }) { resolution { source provider { name } } } }`);
    expect(stageOnly.data.deploymentCredentials.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
  });

  it("STS failing after the migration committed: the deployment fails, the migration stays, and the retry deploys with prod's role", async () => {
    const { key, orgId } = await newOrg("acme");
    await legacySetup(key, orgId);
    sts().failWith = { status: 503, code: "ServiceUnavailable", message: "Service is unavailable" };
    const failed = await gql(key, DEPLOY_TOLD, { stage: "prod" });
    expect(failed.errors?.[0].extensions?.code).to.equal("STS_UNAVAILABLE");

    const runs = (await ok(key, RUNS)).org.deploymentProfileMigrations;
    expect(runs.totalCount).to.equal(1);
    expect(runs.nodes[0]).to.deep.include({ trigger: "AUTOMATIC", deployment: { stage: "prod", region: "us-east-1" } });
    expect(runs.nodes[0].actorLabel).to.match(/^org key "bootstrap admin key"/);
    expect(runs.nodes[0].report.providersCreated.map((p: any) => p.provider.name)).to.deep.equal(["dev", "prod"]);

    sts().failWith = null;
    const retry = (await ok(key, DEPLOY_TOLD, { stage: "prod" })).deploymentCredentials;
    expect(retry.resolution).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
    expect(retry.profileMigration).to.equal(null);
    expect((await ok(key, RUNS)).org.deploymentProfileMigrations.totalCount).to.equal(1);
  });
  it("the credentials command prints the migration it triggered on stderr, and only the credential_process JSON on stdout", async function () {
    this.timeout(30_000);
    const { key, orgId } = await newOrg("acme");
    await legacySetup(key, orgId);
    const cli = path.resolve(__dirname, "..", "src", "cli.js");
    const run = () =>
      promisify(execFile)(process.execPath, [cli, "credentials", "--org", "acme", "--app", "app1", "--service", "service1", "--stage", "prod", "--region", "us-east-1"], {
        env: { PATH: process.env.PATH, PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: key },
      });
    const first = await run();
    expect(JSON.parse(first.stdout)).to.include.keys("Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration");
    expect(first.stdout).to.not.include("DEPLOYMENT_PROFILES_MIGRATED");
    expect(first.stderr).to.match(/^providers-api credentials: warning: DEPLOYMENT_PROFILES_MIGRATED: This deployment migrated the org's legacy deployment profiles to providers: 2 providers created, 3 links added\. An admin can read the report/m);
    const second = await run();
    expect(JSON.parse(second.stdout).AccessKeyId).to.be.a("string");
    expect(second.stderr).to.not.include("DEPLOYMENT_PROFILES_MIGRATED");
  });
});
