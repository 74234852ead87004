import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { SecretBox } from "../src/crypto/secret-box.js";
import { Parameter } from "../src/entities/index.js";
import { createLogger } from "../src/logger.js";
import { openApplication } from "../src/server.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createParameter, createService } from "./fixtures.js";
import { dumpDatabase, testConfig } from "./harness.js";
import { harness } from "./setup.js";

const code = (result: { errors?: Array<{ extensions?: { code?: string } }> }) => result.errors?.[0]?.extensions?.code;

const CREATE = `mutation($input: CreateParameterInput!) { createParameter(input: $input) { parameter { id name value valueHint isSecret level } userErrors { code field message } } }`;
const UPDATE = `mutation($input: UpdateParameterInput!) { updateParameter(input: $input) { parameter { id name value valueHint isSecret description } userErrors { code field message } } }`;
const DELETE = `mutation($id: ID!) { deleteParameter(input: { parameterId: $id }) { deletedParameterId userErrors { code field message } } }`;
const EFFECTIVE = `query($id: ID!) { node(id: $id) { ... on Instance { effectiveParameters {
  name source explanation parameter { value valueHint isSecret } instance { stage region } service { name } } } } }`;
const RESOLVE = `query($id: ID!, $stage: String!, $region: String) { node(id: $id) { ... on Service { resolveParameters(stage: $stage, region: $region) {
  name source parameter { value } } } } }`;
const DEPLOY = `mutation($input: DeploymentParametersInput!) { deploymentParameters(input: $input) { parameters { name value isSecret source } userErrors { code field message } } }`;
const AUDIT = `query { org(slug: "acme") { auditEvents(first: 100) { nodes { action outcome targetType details } } } }`;

const SECRET = "s3cr3t-value-that-must-never-leak-0123456789";


const byName = (list: Array<{ name: string }>): Record<string, any> => Object.fromEntries(list.map((p) => [p.name, p]));

describe("parameters", () => {
  let admin: string;
  let orgId: string;
  let serviceId: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
    serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
  });

  describe("resolution", () => {
    it("the effective set is the union of instance, stage-wide instance, service and org; the nearest value wins per name and says where it is from", async () => {
      const prodRegional = await createInstance(admin, serviceId, "prod", "eu-west-1");
      const prodStage = await createInstance(admin, serviceId, "prod", null);
      const dev = await createInstance(admin, serviceId, "dev", "eu-west-1");
      await createParameter(admin, orgId, "LOG_LEVEL", "warn");
      await createParameter(admin, orgId, "ORG_ONLY", "org");
      await createParameter(admin, serviceId, "LOG_LEVEL", "info");
      await createParameter(admin, serviceId, "DB_URL", "postgres://dev");
      await createParameter(admin, prodStage, "DB_URL", "postgres://prod");
      await createParameter(admin, prodStage, "REGIONAL", "stage-wide");
      await createParameter(admin, prodRegional, "REGIONAL", "eu-west-1 only");

      const prod = byName((await ok(admin, EFFECTIVE, { id: prodRegional })).node.effectiveParameters);
      expect(Object.keys(prod)).to.deep.equal(["DB_URL", "LOG_LEVEL", "ORG_ONLY", "REGIONAL"]);
      expect(prod.REGIONAL).to.deep.include({ source: "INSTANCE", instance: { stage: "prod", region: "eu-west-1" }, service: null, explanation: "Set on this instance." });
      expect(prod.REGIONAL.parameter.value).to.equal("eu-west-1 only");
      expect(prod.DB_URL).to.deep.include({ source: "INSTANCE", instance: { stage: "prod", region: null } });
      expect(prod.DB_URL.explanation).to.match(/stage-wide instance/);
      expect(prod.DB_URL.parameter.value).to.equal("postgres://prod");
      expect(prod.LOG_LEVEL).to.deep.include({ source: "SERVICE", service: { name: "api" }, instance: null });
      expect(prod.LOG_LEVEL.parameter.value).to.equal("info");
      expect(prod.ORG_ONLY).to.deep.include({ source: "ORG", service: null, instance: null });

      const devParams = byName((await ok(admin, EFFECTIVE, { id: dev })).node.effectiveParameters);
      expect(Object.fromEntries(Object.values(devParams).map((p: any) => [p.name, [p.source, p.parameter.value]]))).to.deep.equal({
        DB_URL: ["SERVICE", "postgres://dev"],
        LOG_LEVEL: ["SERVICE", "info"],
        ORG_ONLY: ["ORG", "org"],
      });
    });

    it("a stage never deployed resolves through resolveParameters like any instance: it inherits from the service and the org", async () => {
      await createParameter(admin, serviceId, "DB_URL", "postgres://preview");
      const prod = await createInstance(admin, serviceId, "prod", "us-east-1");
      await createParameter(admin, prod, "DB_URL", "postgres://prod");
      const feature = (await ok(admin, RESOLVE, { id: serviceId, stage: "feature-x", region: "us-east-1" })).node.resolveParameters;
      expect(feature).to.deep.equal([{ name: "DB_URL", source: "SERVICE", parameter: { value: "postgres://preview" } }]);
      const prodResolved = (await ok(admin, RESOLVE, { id: serviceId, stage: "prod", region: "us-east-1" })).node.resolveParameters;
      expect(prodResolved).to.deep.equal([{ name: "DB_URL", source: "INSTANCE", parameter: { value: "postgres://prod" } }]);
      // Nothing was created by asking.
      const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
      expect(count).to.equal(1);
    });

    it("deleting the nearer value lets the inherited one apply again", async () => {
      const prod = await createInstance(admin, serviceId, "prod");
      await createParameter(admin, serviceId, "DB_URL", "service");
      const override = await createParameter(admin, prod, "DB_URL", "instance");
      expect((await ok(admin, DELETE, { id: override })).deleteParameter).to.deep.equal({ deletedParameterId: override, userErrors: [] });
      const effective = (await ok(admin, EFFECTIVE, { id: prod })).node.effectiveParameters;
      expect(effective.map((p: any) => [p.name, p.source, p.parameter.value])).to.deep.equal([["DB_URL", "SERVICE", "service"]]);
    });
  });

  describe("secrets", () => {
    it("a secret value is sealed at rest, shown only as a hint, and never in a response, a log line or the audit trail", async () => {
      const prod = await createInstance(admin, serviceId, "prod");
      const created = (await ok(admin, CREATE, { input: { ownerId: serviceId, name: "API_TOKEN", value: SECRET, secret: true } })).createParameter;
      expect(created.parameter).to.deep.include({ value: null, valueHint: "…6789", isSecret: true, level: "SERVICE" });
      const short = (await ok(admin, CREATE, { input: { ownerId: serviceId, name: "PIN", value: "4321", secret: true } })).createParameter;
      expect(short.parameter.valueHint).to.equal("…");
      await ok(admin, UPDATE, { input: { parameterId: created.parameter.id, value: `${SECRET}-2`, description: "rotated" } });

      const lists = await ok(admin, `query($s: ID!, $i: ID!) {
        s: node(id: $s) { ... on Service { parameters { nodes { name value valueHint } } } }
        i: node(id: $i) { ... on Instance { effectiveParameters { parameter { value valueHint } } } } }`, { s: serviceId, i: prod });
      expect(lists.s.parameters.nodes).to.deep.equal([
        { name: "API_TOKEN", value: null, valueHint: "…89-2" },
        { name: "PIN", value: null, valueHint: "…" },
      ]);
      const audit = JSON.stringify(await ok(admin, AUDIT));
      expect(audit).to.contain("API_TOKEN");
      const dump = await dumpDatabase(harness().application.dataSource);
      expect(dump).to.contain("API_TOKEN"); // the dump is real
      for (const haystack of [JSON.stringify(lists), audit, dump, harness().logs.join("\n")]) {
        expect(haystack).not.to.contain("never-leak");
        expect(haystack).not.to.contain("4321");
        expect(haystack).not.to.contain(Buffer.from("never-leak").toString("hex"));
      }
      // Only a deployment gets the value.
      const deployed = (await ok(admin, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage: "prod" } })).deploymentParameters.parameters;
      expect(byName(deployed).API_TOKEN).to.deep.equal({ name: "API_TOKEN", value: `${SECRET}-2`, isSecret: true, source: "SERVICE" });
    });

    it("a sealed value is bound to its row, owner and name: moved to another service or renamed in the database, it does not open", async () => {
      const other = await createService(admin, await createApp(admin, orgId, "billing"), "api");
      await createParameter(admin, serviceId, "API_TOKEN", SECRET, { secret: true });
      const { application } = harness();
      const em = application.dataSource.manager;
      const row = await em.findOneByOrFail(Parameter, { name: "API_TOKEN" });
      expect(application.services.parameters.openValue(row)).to.equal(SECRET);
      expect(row.valueKeyId).to.equal(new SecretBox(harness().masterKey).currentKeyId);
      await em.query("UPDATE parameters SET service_id = $1 WHERE id = $2", [fromGlobalId(other)!.id, row.id]);
      const moved = await em.findOneByOrFail(Parameter, { id: row.id });
      expect(() => application.services.parameters.openValue(moved)).to.throw(/failed authentication/);
      expect(() => application.services.parameters.openValue(em.create(Parameter, { ...row, name: "OTHER" }))).to.throw(/failed authentication/);
      // A deployment of the service it was moved to gets an error, never the value.
      const refused = await gql(admin, DEPLOY, { input: { org: "acme", app: "billing", service: "api", stage: "prod" } });
      expect(JSON.stringify(refused)).not.to.contain("never-leak");
      expect(refused.data?.deploymentParameters ?? null).to.equal(null);
    });

    it("turning a secret plain needs a new value (the old one is never revealed); turning a plain value secret seals it", async () => {
      const id = await createParameter(admin, serviceId, "API_TOKEN", SECRET, { secret: true });
      const refused = (await ok(admin, UPDATE, { input: { parameterId: id, secret: false } })).updateParameter;
      expect(refused.userErrors).to.deep.equal([
        { code: "NEW_VALUE_REQUIRED", field: ["input", "value"], message: `"API_TOKEN" is secret: to make it plain, give it a new value too (its secret value is never revealed).` },
      ]);
      expect(JSON.stringify(refused)).not.to.contain("never-leak");
      const plain = (await ok(admin, UPDATE, { input: { parameterId: id, secret: false, value: "public" } })).updateParameter.parameter;
      expect(plain).to.deep.include({ value: "public", valueHint: null, isSecret: false });
      const sealed = (await ok(admin, UPDATE, { input: { parameterId: id, secret: true } })).updateParameter.parameter;
      expect(sealed).to.deep.include({ value: null, valueHint: "…", isSecret: true });
      const deployed = (await ok(admin, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage: "dev" } })).deploymentParameters.parameters;
      expect(deployed).to.deep.equal([{ name: "API_TOKEN", value: "public", isSecret: true, source: "SERVICE" }]);
    });

    it("rotate-master-key re-seals secret parameters with the providers' secrets, after which the old key is no longer needed", async () => {
      await createParameter(admin, serviceId, "API_TOKEN", SECRET, { secret: true });
      await createParameter(admin, serviceId, "PLAIN", "plain");
      const logger = createLogger("silent");
      const newKey = randomBytes(32);
      const rotating = await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: newKey, previousMasterKeys: [harness().masterKey] }), logger);
      try {
        expect(await rotating.services.resealSecrets(rotating.dataSource.manager)).to.deep.equal({ providers: 0, parameters: 1 });
        expect(await rotating.services.resealSecrets(rotating.dataSource.manager)).to.deep.equal({ providers: 0, parameters: 0 });
      } finally {
        await rotating.close();
      }
      let refusal: Error | undefined;
      await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: harness().masterKey }), logger).then(
        (app) => app.close(),
        (error: Error) => (refusal = error),
      );
      expect(refusal?.message).to.match(/sealed with master key id [0-9a-f]{16}.*PROVIDERS_MASTER_KEY/);
      const after = await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: newKey }), logger);
      try {
        const row = await after.dataSource.manager.findOneByOrFail(Parameter, { name: "API_TOKEN" });
        expect(row.valueKeyId).to.equal(new SecretBox(newKey).currentKeyId);
        expect(after.services.parameters.openValue(row)).to.equal(SECRET);
      } finally {
        await after.close();
      }
    });
  });

  describe("access and audit", () => {
    it("a DEVELOPER manages service and instance parameters but not the org's; a DEPLOYER manages none; every change is audited by name", async () => {
      const developer = (await createKey(admin, orgId, { role: "DEVELOPER" })).token;
      const deployer = (await createKey(admin, orgId, { role: "DEPLOYER" })).token;
      const id = await createParameter(developer, serviceId, "DB_URL", "postgres://one");
      expect((await ok(developer, UPDATE, { input: { parameterId: id, value: "postgres://two" } })).updateParameter.userErrors).to.deep.equal([]);
      expect(code(await gql(developer, CREATE, { input: { ownerId: orgId, name: "ORG", value: "x" } }))).to.equal("FORBIDDEN");
      const orgLevel = await createParameter(admin, orgId, "ORG", "x");
      expect(code(await gql(developer, UPDATE, { input: { parameterId: orgLevel, value: "y" } }))).to.equal("FORBIDDEN");
      expect(code(await gql(developer, DELETE, { id: orgLevel }))).to.equal("FORBIDDEN");
      expect(code(await gql(deployer, CREATE, { input: { ownerId: serviceId, name: "X", value: "x" } }))).to.equal("FORBIDDEN");
      expect(code(await gql(deployer, DELETE, { id }))).to.equal("FORBIDDEN");
      expect(code(await gql(deployer, `query($id: ID!) { node(id: $id) { ... on Service { parameters { nodes { name } } } } }`, { id: serviceId }))).to.equal("FORBIDDEN");
      expect((await ok(developer, DELETE, { id })).deleteParameter.userErrors).to.deep.equal([]);

      const events = (await ok(admin, AUDIT)).org.auditEvents.nodes.filter((e: any) => e.action.startsWith("parameter.") || e.outcome === "DENIED");
      const changes = events.filter((e: any) => e.action.startsWith("parameter.")).map((e: any) => [e.action, e.details.name, e.details.level]);
      expect(changes).to.deep.equal([
        ["parameter.delete", "DB_URL", "SERVICE"],
        ["parameter.create", "ORG", "ORG"],
        ["parameter.update", "DB_URL", "SERVICE"],
        ["parameter.create", "DB_URL", "SERVICE"],
      ]);
      expect(events.filter((e: any) => e.outcome === "DENIED")).to.have.length(6);
      expect(JSON.stringify(events)).not.to.contain("postgres://");
    });

    it("a scoped DEVELOPER key changes parameters only on instances in its scope: never service-wide or org-wide ones", async () => {
      const billing = await createService(admin, await createApp(admin, orgId, "billing"), "api");
      const prod = await createInstance(admin, serviceId, "prod");
      const feature = await createInstance(admin, serviceId, "feature-x");
      const scoped = (await createKey(admin, orgId, { role: "DEVELOPER", scope: { apps: ["shop"], stages: ["feature-*"] } })).token;
      const scopedAdmin = (await createKey(admin, orgId, { role: "ADMIN", scope: { apps: ["shop"] } })).token;
      const featureParam = await createParameter(scoped, feature, "X", "1");
      expect((await ok(scoped, UPDATE, { input: { parameterId: featureParam, value: "2" } })).updateParameter.userErrors).to.deep.equal([]);
      expect(code(await gql(scoped, CREATE, { input: { ownerId: serviceId, name: "X", value: "1" } }))).to.equal("FORBIDDEN");
      const serviceParam = await createParameter(admin, serviceId, "Y", "service");
      expect(code(await gql(scoped, UPDATE, { input: { parameterId: serviceParam, value: "changed" } }))).to.equal("FORBIDDEN");
      expect(code(await gql(scoped, DELETE, { id: serviceParam }))).to.equal("FORBIDDEN");
      const prodParam = await createParameter(admin, prod, "X", "prod");
      for (const ownerId of [billing, prod]) expect(code(await gql(scoped, CREATE, { input: { ownerId, name: "X", value: "2" } }))).to.equal("NOT_FOUND");
      expect(code(await gql(scoped, UPDATE, { input: { parameterId: prodParam, value: "changed" } }))).to.equal("NOT_FOUND");
      expect((await ok(scoped, `query($id: ID!) { node(id: $id) { id } }`, { id: prodParam })).node).to.equal(null);
      expect(code(await gql(scopedAdmin, CREATE, { input: { ownerId: orgId, name: "ORG", value: "x" } }))).to.equal("FORBIDDEN");
      expect(code(await gql(scoped, RESOLVE, { id: serviceId, stage: "prod", region: null }))).to.equal("FORBIDDEN");
      const values = await harness().application.dataSource.query("SELECT name, value FROM parameters ORDER BY name, value");
      expect(values).to.deep.equal([{ name: "X", value: "2" }, { name: "X", value: "prod" }, { name: "Y", value: "service" }]);
      const refusals = await harness().application.dataSource.query("SELECT details->>'operation' AS operation FROM audit_events WHERE action = 'authorization.scope' ORDER BY occurred_at, id");
      expect(refusals.map((r: any) => r.operation)).to.deep.equal(["createParameter", "updateParameter", "deleteParameter", "createParameter", null]);
    });
  });

  describe("hostile input", () => {
    const attempt = async (input: Record<string, unknown>) => {
      const result = await gql(admin, CREATE, { input: { ownerId: serviceId, name: "OK", value: "v", ...input } });
      expect(result.status, JSON.stringify(result)).to.equal(200);
      return result.data!.createParameter.userErrors.map((e: any) => e.code);
    };

    it("refuses bad names, oversized values and control characters with a code and a sentence, and stores nothing", async () => {
      for (const name of ["", "has space", "ünïcode", "a".repeat(129), "semi;colon", "quote'", "$(id)", "new\nline", "x".repeat(300)]) {
        expect(await attempt({ name }), JSON.stringify(name)).to.have.length(1);
      }
      expect(await attempt({ name: "a/b.c-d_e" })).to.deep.equal([]);
      expect(await attempt({ name: "x".repeat(128) })).to.deep.equal([]);
      expect(await attempt({ name: "BIG", value: "é".repeat(16_385) })).to.deep.equal(["VALUE_TOO_LARGE"]);
      expect(await attempt({ name: "BIGGER", value: "x".repeat(40_000) })).to.deep.equal(["INVALID_INPUT"]);
      expect(await attempt({ name: "MAX", value: "x".repeat(32_768) })).to.deep.equal([]);
      // Control characters are refused before any other work, like in every argument; what only a parameter
      // value can get wrong (an unpaired surrogate) by the domain.
      for (const value of ["nul\u0000byte", "escape\u001b[31m", "bell\u0007", "c1\u0085"]) {
        expect(await attempt({ name: "CTRL", value }), JSON.stringify(value)).to.deep.equal(["INVALID_INPUT"]);
      }
      expect(await attempt({ name: "CTRL", value: "lone\ud800surrogate" })).to.deep.equal(["INVALID_VALUE"]);
      expect(await attempt({ name: "MULTILINE", value: "-----BEGIN KEY-----\r\nabc\tdef\n-----END KEY-----\n" })).to.deep.equal([]);
      expect(await attempt({ name: "DESC", description: "bad\u0000" })).to.deep.equal(["INVALID_INPUT"]);
      expect(await attempt({ name: "DESC", description: "d".repeat(1025) })).to.deep.equal(["INVALID_INPUT"]);
      const names = (await harness().application.dataSource.query("SELECT name FROM parameters ORDER BY name")).map((r: any) => r.name);
      expect(names).to.deep.equal(["MAX", "MULTILINE", "a/b.c-d_e", "x".repeat(128)].sort());
      // A body past the server's limit is refused before any work, with a sentence.
      const huge = await gql(admin, CREATE, { input: { ownerId: serviceId, name: "HUGE", value: "x".repeat(1_100_000) } });
      expect(huge.status).to.equal(413);
      expect(huge.errors?.[0].message).to.match(/larger than 1 MB/);
    });

    it("a name set twice on one owner is NAME_TAKEN; the same name on another owner is fine", async () => {
      const prod = await createInstance(admin, serviceId, "prod");
      await createParameter(admin, serviceId, "DB_URL", "a");
      expect(await attempt({ name: "DB_URL" })).to.deep.equal(["NAME_TAKEN"]);
      expect(await createParameter(admin, prod, "DB_URL", "b")).to.be.a("string");
    });
  });

  describe("concurrency", () => {
    it("concurrent creations of one name (above the pool size) end with exactly one, the rest NAME_TAKEN, never a 500", async () => {
      const attempts = 25;
      const results = await Promise.all(
        Array.from({ length: attempts }, (_, i) => gql(admin, CREATE, { input: { ownerId: serviceId, name: "RACE", value: `value-${i}`, secret: i % 2 === 0 } })),
      );
      for (const result of results) expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
      const winners = results.filter((r) => r.data!.createParameter.parameter);
      expect(winners).to.have.length(1);
      expect(results.flatMap((r) => r.data!.createParameter.userErrors.map((e: any) => e.code))).to.deep.equal(Array(attempts - 1).fill("NAME_TAKEN"));
      const rows = await harness().application.dataSource.query("SELECT id FROM parameters WHERE name = 'RACE'");
      expect(rows).to.deep.equal([{ id: (await harness().application.dataSource.manager.findOneByOrFail(Parameter, { name: "RACE" })).id }]);
      const creations = await harness().application.dataSource.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'parameter.create'");
      expect(creations).to.deep.equal([{ n: 1 }]);
    });

    it("concurrent updates of one parameter are serialised: every one applies, the last one stays, each audited", async () => {
      const id = await createParameter(admin, serviceId, "COUNTER", "0", { secret: true });
      const results = await Promise.all(Array.from({ length: 15 }, (_, i) => gql(admin, UPDATE, { input: { parameterId: id, value: `v${i}` } })));
      for (const result of results) expect(result.data?.updateParameter.userErrors, JSON.stringify(result)).to.deep.equal([]);
      const deployed = (await ok(admin, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage: "dev" } })).deploymentParameters.parameters;
      expect(deployed[0].value).to.match(/^v\d+$/);
      const [{ n }] = await harness().application.dataSource.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'parameter.update'");
      expect(n).to.equal(15);
    });
  });
});
