import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

const DEPLOY = `mutation($app: String!, $stage: String!) {
  deploymentCredentials(input: { org: "acme", app: $app, service: "api", stage: $stage, region: "us-east-1" }) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId } }
    resolution { provider { name } }
    userErrors { code }
  }
}`;

describe("a scoped CI key and deployment credentials", () => {
  it("a preview pipeline's key gets preview credentials and can never mint prod's", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const preview = await createRoleProvider(admin, orgId, "preview", ROLE_ARN("333333333333", "deploy"));
    const prod = await createRoleProvider(admin, orgId, "prod", ROLE_ARN("444444444444", "deploy"));
    const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    await linkToService(admin, preview, serviceId);
    await linkToInstance(admin, prod, await createInstance(admin, serviceId, "prod"));
    for (const [roleArn, id] of [[ROLE_ARN("333333333333", "deploy"), preview], [ROLE_ARN("444444444444", "deploy"), prod]]) {
      const externalId = (await ok(admin, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id })).node
        .credentials.externalId;
      sts().addRole(roleArn, { externalId });
    }
    const { token } = await createKey(admin, orgId, { role: "DEPLOYER", name: "preview ci", scope: { apps: ["shop"], stages: ["feature-*", "pr-*"] } });

    const allowed = (await ok(token, DEPLOY, { app: "shop", stage: "feature-x" })).deploymentCredentials;
    expect(allowed.resolution).to.deep.equal({ provider: { name: "preview" } });
    expect(allowed.credentials.accessKeyId).to.be.a("string");

    for (const [app, stage] of [["shop", "prod"], ["billing", "feature-x"]]) {
      const refused = await gql(token, DEPLOY, { app, stage });
      expect(refused.errors?.[0].extensions?.code, `${app}/${stage}`).to.equal("FORBIDDEN");
      expect(refused.data?.deploymentCredentials ?? null).to.equal(null);
    }
    // Only the allowed deployment reached STS, and nothing was recorded for the refused ones.
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([ROLE_ARN("333333333333", "deploy")]);
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM apps WHERE name = 'billing'");
    expect(count).to.equal(0);
    const denied = await harness().application.dataSource.query("SELECT action FROM audit_events WHERE outcome = 'DENIED' ORDER BY occurred_at");
    expect(denied.map((d: { action: string }) => d.action)).to.include("authorization.scope");
  });
});
