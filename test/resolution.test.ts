import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";

const EFFECTIVE = `query($id: ID!) { node(id: $id) { ... on Instance { stage region effectiveProvider { source explanation provider { name } instance { stage region } } } } }`;
const RESOLVE = `query($id: ID!, $stage: String!, $region: String) {
  node(id: $id) { ... on Service { resolveProvider(stage: $stage, region: $region) { source provider { name } } } }
}`;

async function effective(key: string, instanceId: string) {
  return (await ok(key, EFFECTIVE, { id: instanceId })).node.effectiveProvider;
}

async function resolveStage(key: string, serviceId: string, stage: string, region: string | null = "us-east-1") {
  return (await ok(key, RESOLVE, { id: serviceId, stage, region })).node.resolveProvider;
}

describe("effective provider resolution (the seed's scenarios, over HTTP)", () => {
  let key: string;
  let orgId: string;
  let serviceId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
    const appId = await createApp(key, orgId, "app1");
    serviceId = await createService(key, appId, "service1");
  });

  it("dev on the service and prod on the prod instances: prod deploys with prod, every other stage with dev", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    const prodEast = await createInstance(key, serviceId, "prod", "us-east-1");
    const prodWest = await createInstance(key, serviceId, "prod", "us-west-2");
    const devEast = await createInstance(key, serviceId, "dev", "us-east-1");
    const intEast = await createInstance(key, serviceId, "int", "us-east-1");
    await linkToService(key, dev, serviceId);
    await linkToInstance(key, prod, prodEast);
    await linkToInstance(key, prod, prodWest);

    for (const instance of [prodEast, prodWest]) {
      expect(await effective(key, instance)).to.deep.include({ source: "INSTANCE", provider: { name: "prod" } });
    }
    for (const instance of [devEast, intEast]) {
      const resolution = await effective(key, instance);
      expect(resolution).to.deep.include({ source: "SERVICE", provider: { name: "dev" }, instance: null });
      expect(resolution.explanation).to.match(/inherits "dev" from the service/);
    }
    // A stage deployed for the first time, with no instance yet, inherits from the service too.
    expect(await resolveStage(key, serviceId, "qa")).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
    expect(await resolveStage(key, serviceId, "prod")).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
  });

  it("preview on the service and prod on the prod instance: feature-x gets preview, prod gets prod", async () => {
    const preview = await createRoleProvider(key, orgId, "preview", ROLE_ARN("333333333333", "ci"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("444444444444", "ci"));
    const prodInstance = await createInstance(key, serviceId, "prod", "eu-west-1");
    await linkToService(key, preview, serviceId);
    await linkToInstance(key, prod, prodInstance);

    expect(await resolveStage(key, serviceId, "feature-x", "eu-west-1")).to.deep.equal({ source: "SERVICE", provider: { name: "preview" } });
    expect(await resolveStage(key, serviceId, "prod", "eu-west-1")).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
    const featureX = await createInstance(key, serviceId, "feature-x", "eu-west-1");
    expect(await effective(key, featureX)).to.deep.include({ source: "SERVICE", provider: { name: "preview" } });
  });

  it("no provider anywhere: null, meaning the deployment uses local credentials", async () => {
    const instance = await createInstance(key, serviceId, "dev", "us-east-1");
    expect(await effective(key, instance)).to.equal(null);
    expect(await resolveStage(key, serviceId, "anything")).to.equal(null);
  });

  it("the org default applies only where nothing is linked, and only once an admin sets it", async () => {
    const fallback = await createRoleProvider(key, orgId, "fallback", ROLE_ARN("555555555555", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("666666666666", "deploy"));
    const dev = await createInstance(key, serviceId, "dev");
    const prodInstance = await createInstance(key, serviceId, "prod");
    await linkToInstance(key, prod, prodInstance);
    // Creating providers never makes one the default.
    expect(await effective(key, dev)).to.equal(null);

    const set = await ok(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { provider { isDefault } previousDefault { name } userErrors { code } } }`, {
      id: fallback,
    });
    expect(set.setDefaultProvider).to.deep.equal({ provider: { isDefault: true }, previousDefault: null, userErrors: [] });
    expect(await effective(key, dev)).to.deep.include({ source: "ORG_DEFAULT", provider: { name: "fallback" } });
    expect(await effective(key, prodInstance)).to.deep.include({ source: "INSTANCE", provider: { name: "prod" } });

    const unset = await ok(key, `mutation($org: ID!) { unsetDefaultProvider(input: { orgId: $org, type: AWS }) { previousDefault { name } } }`, { org: orgId });
    expect(unset.unsetDefaultProvider.previousDefault).to.deep.equal({ name: "fallback" });
    expect(await effective(key, dev)).to.equal(null);
  });

  it("a stage-wide instance (no region) covers every region of its stage that has no link of its own", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    const prodEu = await createRoleProvider(key, orgId, "prod-eu", ROLE_ARN("777777777777", "deploy"));
    await linkToService(key, dev, serviceId);
    const prodStage = await createInstance(key, serviceId, "prod", null);
    await linkToInstance(key, prod, prodStage);
    const prodEast = await createInstance(key, serviceId, "prod", "us-east-1");
    const prodFrankfurt = await createInstance(key, serviceId, "prod", "eu-central-1");
    await linkToInstance(key, prodEu, prodFrankfurt);

    const east = await effective(key, prodEast);
    expect(east).to.deep.include({ source: "INSTANCE", provider: { name: "prod" }, instance: { stage: "prod", region: null } });
    expect(east.explanation).to.match(/stage-wide/);
    expect(await effective(key, prodFrankfurt)).to.deep.include({ source: "INSTANCE", provider: { name: "prod-eu" } });
    expect(await resolveStage(key, serviceId, "prod", "ap-south-1")).to.deep.equal({ source: "INSTANCE", provider: { name: "prod" } });
    expect(await resolveStage(key, serviceId, "staging", "ap-south-1")).to.deep.equal({ source: "SERVICE", provider: { name: "dev" } });
  });

  it("resolves each provider type on its own", async () => {
    const aws = await createRoleProvider(key, orgId, "aws", ROLE_ARN("111111111111", "deploy"));
    const stripe = await ok(key, `mutation($org: ID!) { createProvider(input: { orgId: $org, name: "stripe", stripe: { secretKey: "sk_test_abcdefghijklmnop" } }) { provider { id } } }`, {
      org: orgId,
    });
    await linkToService(key, aws, serviceId);
    await linkToService(key, stripe.createProvider.provider.id, serviceId);
    const instance = await createInstance(key, serviceId, "dev");
    const data = await ok(key, `query($id: ID!) { node(id: $id) { ... on Instance {
      aws: effectiveProvider { provider { name } } stripe: effectiveProvider(type: STRIPE) { provider { name } } twilio: effectiveProvider(type: TWILIO) { source } } } }`, {
      id: instance,
    });
    expect(data.node).to.deep.equal({ aws: { provider: { name: "aws" } }, stripe: { provider: { name: "stripe" } }, twilio: null });
  });

  it("another org's service is not found, the same as an unknown one", async () => {
    const other = await newOrg("other");
    const foreign = await gql(other.key, RESOLVE, { id: serviceId, stage: "prod" });
    expect(foreign.data?.node).to.equal(null);
  });
});
