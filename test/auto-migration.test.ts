import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

const DEV_ARN = ROLE_ARN("111111111111", "legacy-dev");
const PROD_ARN = ROLE_ARN("222222222222", "legacy-prod");

const DEPLOY = `mutation($stage: String!) {
  deploymentCredentials(input: { org: "acme", app: "app1", service: "service1", stage: $stage, region: "us-east-1" }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId sessionToken } }
    resolution { source provider { name } }
    userErrors { code message }
  }
}`;

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
