import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { toGlobalId } from "../src/graphql/global-id.js";
import { harness } from "./setup.js";

const DELETE_APP = `mutation($input: DeleteAppInput!) { deleteApp(input: $input) { deletedAppId deletedServiceCount deletedInstanceCount unlinkedProviderCount userErrors { code field message } } }`;
const DELETE_SERVICE = `mutation($input: DeleteServiceInput!) { deleteService(input: $input) { deletedServiceId deletedInstanceCount unlinkedProviderCount userErrors { code field message } } }`;
const DELETE_INSTANCE = `mutation($input: DeleteInstanceInput!) { deleteInstance(input: $input) { deletedInstanceId unlinkedProviderCount userErrors { code field message } } }`;
const DEPLOY = `mutation($stage: String!) { deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: $stage, region: "us-east-1" }) {
  instance { id } warnings { code } userErrors { code } } }`;

const count = async (sql: string): Promise<number> => (await harness().application.dataSource.query(sql))[0].count;
const rows = () =>
  Promise.all(["apps", "services", "instances", "service_provider_links", "instance_provider_links", "providers"].map((t) => count(`SELECT count(*)::int AS count FROM ${t}`)));
const auditOf = (action: string) => harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1", [action]);

describe("deleting apps, services and instances", () => {
  let key: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key, orgId } = await newOrg("acme"));
  });

  it("a mistyped stage's instance is deleted, audited, and the stage is new again", async () => {
    await ok(key, DEPLOY, { stage: "prod" });
    const typo = (await ok(key, DEPLOY, { stage: "Prod" })).deploymentCredentials.instance.id;
    const answer = (await ok(key, DELETE_INSTANCE, { input: { instanceId: typo } })).deleteInstance;
    expect(answer).to.deep.equal({ deletedInstanceId: typo, unlinkedProviderCount: 0, userErrors: [] });
    expect(await count("SELECT count(*)::int AS count FROM instances WHERE stage = 'Prod'")).to.equal(0);
    expect(await auditOf("instance.delete")).to.deep.equal([
      { outcome: "SUCCESS", details: { app: "shop", service: "api", stage: "Prod", force: false, deletedServiceCount: 0, deletedInstanceCount: 1, unlinkedProviderCount: 0 } },
    ]);
    const again = await gql(key, DELETE_INSTANCE, { input: { instanceId: typo } });
    expect(again.errors?.[0].extensions?.code).to.equal("NOT_FOUND");
    expect((await ok(key, DEPLOY, { stage: "Prod" })).deploymentCredentials.warnings).to.deep.equal([{ code: "NEW_STAGE" }]);
  });

  it("refuses while provider links would go, naming them; with force deletes them too and says how many", async () => {
    const dev = await createRoleProvider(key, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("222222222222", "deploy"));
    const appId = await createApp(key, orgId, "shop");
    const serviceId = await createService(key, appId, "api");
    await linkToService(key, dev, serviceId);
    const prodInstance = await createInstance(key, serviceId, "prod", "us-east-1");
    await linkToInstance(key, prod, prodInstance);
    await createInstance(key, serviceId, "dev", null);
    const before = await rows();

    for (const [query, input] of [
      [DELETE_INSTANCE, { instanceId: prodInstance }],
      [DELETE_SERVICE, { serviceId }],
      [DELETE_APP, { appId }],
    ] as const) {
      const refused = Object.values(await ok(key, query, { input }))[0] as { userErrors: Array<{ code: string; field: string[]; message: string }> };
      expect(refused.userErrors).to.have.length(1);
      expect(refused.userErrors[0]).to.deep.include({ code: "WOULD_REMOVE_PROVIDER_LINKS", field: ["input", "force"] });
      expect(refused.userErrors[0].message).to.include("prod (AWS) on the instance prod/us-east-1").and.include("force: true");
    }
    expect(await rows(), "nothing was deleted").to.deep.equal(before);

    const service = (await ok(key, DELETE_SERVICE, { input: { serviceId, force: true } })).deleteService;
    expect(service).to.deep.equal({ deletedServiceId: serviceId, deletedInstanceCount: 2, unlinkedProviderCount: 2, userErrors: [] });
    expect(await rows()).to.deep.equal([1, 0, 0, 0, 0, 2]);
    const app = (await ok(key, DELETE_APP, { input: { appId } })).deleteApp;
    expect(app).to.deep.equal({ deletedAppId: appId, deletedServiceCount: 0, deletedInstanceCount: 0, unlinkedProviderCount: 0, userErrors: [] });
    expect(await rows()).to.deep.equal([0, 0, 0, 0, 0, 2]);
    expect((await auditOf("service.delete"))[0].details).to.deep.include({ force: true, unlinkedProviderCount: 2, deletedInstanceCount: 2 });
  });

  it("hostile and foreign ids, a scoped key, a DEPLOYER: refused with a code, nothing deleted", async () => {
    await ok(key, DEPLOY, { stage: "prod" });
    const preview = (await ok(key, DEPLOY, { stage: "pr-1" })).deploymentCredentials.instance.id;
    const prodId = (await ok(key, DEPLOY, { stage: "prod" })).deploymentCredentials.instance.id;
    const before = await rows();
    for (const instanceId of ["", "garbage", "x".repeat(10_000), "SW5zdGFuY2U6bm90LWEtdXVpZA==", orgId]) {
      const result = await gql(key, DELETE_INSTANCE, { input: { instanceId } });
      expect(result.status).to.be.below(500);
      expect(result.data?.deleteInstance.userErrors[0].code ?? result.errors?.[0].extensions?.code, instanceId.slice(0, 20)).to.be.a("string");
    }
    const badForce = await gql(key, DELETE_INSTANCE, { input: { instanceId: preview, force: "yes" } });
    expect(badForce.status).to.equal(400);
    const scoped = (await createKey(key, orgId, { role: "DEVELOPER", name: "preview", scope: { apps: ["shop"], stages: ["pr-*"] } })).token;
    expect((await gql(scoped, DELETE_INSTANCE, { input: { instanceId: prodId } })).errors?.[0].extensions?.code).to.equal("NOT_FOUND");
    // The app holds a prod instance outside the key's stages: the whole app is not the key's to delete.
    const [{ id: appUuid }] = await harness().application.dataSource.query("SELECT id FROM apps");
    const refused = await gql(scoped, DELETE_APP, { input: { appId: toGlobalId("App", appUuid) } });
    expect(refused.status).to.be.below(500);
    expect(refused.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");
    expect(refused.errors?.[0]?.message).to.include('stage "prod"');
    const deployer = (await createKey(key, orgId, { role: "DEPLOYER", name: "ci" })).token;
    expect((await gql(deployer, DELETE_INSTANCE, { input: { instanceId: preview } })).errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect(await rows()).to.deep.equal(before);
    // The scoped key may delete what its scope covers.
    expect((await ok(scoped, DELETE_INSTANCE, { input: { instanceId: preview } })).deleteInstance.userErrors).to.deep.equal([]);
  });

  it("a delete racing deployments of the same instance: never a 500, never half a state", async function () {
    this.timeout(60_000);
    for (let round = 0; round < 6; round++) {
      const instanceId = (await ok(key, DEPLOY, { stage: "race" })).deploymentCredentials.instance.id;
      const deploys = Array.from({ length: 6 }, () => gql(key, DEPLOY, { stage: "race" }));
      const deletion = gql(key, DELETE_INSTANCE, { input: { instanceId, force: true } });
      for (const result of await Promise.all([...deploys, deletion])) {
        expect(result.status, JSON.stringify(result.errors)).to.be.below(500);
        for (const error of result.errors ?? []) expect(error.extensions?.code, error.message).to.be.oneOf(["SERVICE_UNAVAILABLE"]);
      }
      expect((await deletion).data.deleteInstance.userErrors).to.deep.equal([]);
      // At most one instance of the stage, and nothing pointing at a row that is gone.
      expect(await count("SELECT count(*)::int AS count FROM instances WHERE stage = 'race'")).to.be.at.most(1);
      expect(await count("SELECT count(*)::int AS count FROM instances i LEFT JOIN services s ON s.id = i.service_id WHERE s.id IS NULL")).to.equal(0);
      await ok(key, DEPLOY, { stage: "race" });
    }
  });
});
