import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  type GraphQLInputObjectType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { buildApiSchema } from "../src/graphql/schema.js";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createKey, createParameter, createProvider, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

/*
 * The naming rule of the contract (docs/api-naming.md), checked on the schema wherever a machine can
 * check it, and the renames it caused, checked over HTTP: either name works, both with different
 * values are refused, and an error names the field the client sent.
 */

/** Names that belong to another system: they keep that system's spelling and type, and nothing of ours takes them. */
const FOREIGN: Record<string, string> = {
  accessKeyId: "String", // an AWS access key's id
  externalId: "String", // the sts:ExternalId of a role's trust policy
  accountId: "String", // an AWS account
  requestId: "String", // a request's X-Request-Id
  expiration: "DateTimeISO", // when an AWS session ends (credential_process's Expiration)
};

/** `…Id` names that say the part an object plays rather than its type. */
const ROLES = new Set(["owner", "actor", "target", "key"]);
/** Words before an id's subject that say what became of it: `deletedProviderId`. */
const STATE = /^(deleted|removed|linkable)(?=[A-Z])/;
/** Input values never read back, not even as a hint. */
const WRITE_ONLY = new Set(["secretAccessKey"]);
/** A field computed from arguments is named after what it returns, not after the computing. */
const VERBS = /^(resolve|get|fetch|find|list|compute|calculate|load|lookup|search|query)(?=[A-Z]|$)/;
const MUTATION_VERBS = /^(create|update|delete|set|unset|link|unlink|add|remove|revoke|rotate|verify|migrate)(?=[A-Z])/;
/** Mutations the product contract names as nouns; every CI client calls them by these names. */
const CONTRACT_NOUNS = new Set(["deploymentCredentials", "deploymentParameters"]);

interface Place {
  where: string;
  owner: GraphQLNamedType;
  name: string;
  type: string;
  kind: "field" | "argument" | "inputField";
  deprecationReason: string | null | undefined;
}

function placesOf(schema: GraphQLSchema): Place[] {
  const out: Place[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.push({ where: `${type.name}.${field.name}`, owner: type, name: field.name, type: getNamedType(field.type).name, kind: "field", deprecationReason: field.deprecationReason });
        for (const arg of field.args) {
          const where = `${type.name}.${field.name}(${arg.name})`;
          out.push({ where, owner: type, name: arg.name, type: getNamedType(arg.type).name, kind: "argument", deprecationReason: arg.deprecationReason ?? field.deprecationReason });
        }
      }
    }
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.push({ where: `${type.name}.${field.name}`, owner: type, name: field.name, type: getNamedType(field.type).name, kind: "inputField", deprecationReason: field.deprecationReason });
      }
    }
  }
  return out;
}

const upperFirst = (s: string) => s[0].toUpperCase() + s.slice(1);
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

/** The object an input writes: CreateParameterInput → Parameter, UpdateOrgSettingsInput → Org, AwsRoleInput → AwsRoleCredentials. */
function counterpartOf(input: GraphQLInputObjectType, schema: GraphQLSchema): GraphQLObjectType | null {
  const base = input.name.replace(/Input$/, "");
  const candidates = [base, `${base}Credentials`];
  const written = /^(?:Create|Update)([A-Z]\w*)$/.exec(base);
  if (written) {
    const words = written[1].split(/(?=[A-Z])/);
    for (let n = words.length; n > 0; n--) candidates.push(words.slice(0, n).join(""));
  }
  for (const name of candidates) {
    const type = schema.getType(name);
    if (type && isObjectType(type)) return type;
  }
  return null;
}

/** Every place where the schema breaks the naming rule, as `Type.field: why`. Deprecated names are exempt: they are the old ones. */
export function namingViolations(schema: GraphQLSchema): string[] {
  const violations: string[] = [];
  const flag = (place: Place, why: string) => violations.push(`${place.where}: ${why}`);
  const places = placesOf(schema);
  const current = places.filter((p) => !p.deprecationReason);
  const node = schema.getType("Node") as GraphQLInterfaceType | undefined;
  const nodeTypes = new Set(node ? schema.getPossibleTypes(node).map((t) => t.name) : []);
  const names = new Set(current.map((p) => p.name));

  for (const place of current) {
    const { name, type } = place;
    if (name in FOREIGN) {
      if (type !== FOREIGN[name]) flag(place, `${name} is another system's name for a ${FOREIGN[name]}; give this ${type} another name`);
      continue;
    }
    const aboutForeign = Object.keys(FOREIGN).some((foreign) => name.endsWith(upperFirst(foreign))); // rotateExternalId
    if (/(Id|Ids)$/.test(name) && !aboutForeign) {
      if (type !== "ID") flag(place, `a name ending in Id holds an ID, not a ${type}`);
      const subject = lowerFirst(name.replace(/Ids?$/, "").replace(STATE, ""));
      if (!ROLES.has(subject) && !nodeTypes.has(upperFirst(subject))) flag(place, `${subject} is neither a Node type nor a role (${[...ROLES].join(", ")})`);
    } else if (type === "ID" && name !== "id") {
      flag(place, "an ID's name is `id` or ends in Id (or Ids)");
    }
    if (type === "Int" && !/(Count|Seconds)$/.test(name) && !(place.kind === "argument" && name === "first")) {
      flag(place, "an Int is a count (…Count), a duration (…Seconds) or a page size (first)");
    }
    if (/Seconds$/.test(name) && type !== "Int") flag(place, "a duration in seconds is an Int");
    if (/Duration/.test(name) && !/DurationSeconds$/.test(name)) flag(place, "a duration's name ends in DurationSeconds");
    const bounded = /^(?:max|min)([A-Z]\w*)$/.exec(name);
    if (bounded && !names.has(lowerFirst(bounded[1]))) {
      flag(place, `a bound is named after what it bounds, but nothing is named ${lowerFirst(bounded[1])}`);
    }
    if (type === "DateTimeISO" && !/At$/.test(name) && !(/Filter$/.test(place.owner.name) && (name === "from" || name === "to"))) {
      flag(place, "an instant's name ends in At (a filter's bounds are from and to)");
    }
    if (place.kind === "field" && place.owner.name !== "Mutation" && VERBS.test(name)) {
      flag(place, "a field is named after what it returns, not after a verb");
    }
    if (place.kind === "field" && place.owner.name === "Mutation" && !MUTATION_VERBS.test(name) && !CONTRACT_NOUNS.has(name)) {
      flag(place, "a mutation's name starts with its verb");
    }
  }

  // A value written through an input is read back under the same name (or as <name>Hint when secret).
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isInputObjectType(type)) continue;
    const counterpart = counterpartOf(type, schema);
    if (!counterpart) continue;
    const readable = counterpart.getFields();
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (field.deprecationReason || named.name === "ID" || isInputObjectType(named) || WRITE_ONLY.has(field.name)) continue;
      const back = readable[field.name] ?? readable[`${field.name}Hint`];
      if (!back) violations.push(`${type.name}.${field.name}: written here, but ${counterpart.name} reads it back under another name`);
      else if (back.name === field.name && getNamedType(back.type).name !== named.name) {
        violations.push(`${type.name}.${field.name}: a ${named.name} here, a ${getNamedType(back.type).name} on ${counterpart.name}`);
      }
    }
  }

  // A deprecation says what to use instead, and that exists.
  const mutations = new Set(Object.keys(schema.getMutationType()?.getFields() ?? {}));
  for (const place of places.filter((p) => p.deprecationReason && p.kind !== "argument")) {
    const use = /^Use (\w+)/.exec(place.deprecationReason!);
    const siblings = current.filter((p) => p.owner === place.owner && p.kind === place.kind).map((p) => p.name);
    const named = use ? siblings.includes(use[1]) : [...place.deprecationReason!.matchAll(/\w+/g)].some(([word]) => mutations.has(word));
    if (!named) flag(place, `its deprecation reason ("${place.deprecationReason}") names nothing to use instead`);
  }
  return violations;
}

describe("the naming rule (docs/api-naming.md)", () => {
  it("the schema follows it wherever a machine can tell", async () => {
    expect(namingViolations(await buildApiSchema())).to.deep.equal([]);
  });

  it("calls a stage's instance with no region the stage-wide instance, in the schema, the README and docs/", async () => {
    const schema = await buildApiSchema();
    const descriptions: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      descriptions.push(type.description ?? "");
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          descriptions.push(field.description ?? "", ...("args" in field ? field.args.map((a: { description?: string | null }) => a.description ?? "") : []));
        }
      }
    }
    const root = path.join(__dirname, "..", "..");
    const docs = ["README.md", ...readdirSync(path.join(root, "docs")).map((f) => path.join("docs", f))].map((f) => [f, readFileSync(path.join(root, f), "utf8")]);
    const other = /stage-only|stage only|\(component\)|component instance/i;
    expect(descriptions.filter((d) => other.test(d))).to.deep.equal([]);
    expect(docs.filter(([, text]) => other.test(text)).map(([file]) => file)).to.deep.equal([]);
    const region = (schema.getType("Instance") as GraphQLObjectType).getFields().region.description;
    expect(region).to.contain("stage-wide instance");
  });

  it("the check finds each kind of break, on the names the schema had before the rule", () => {
    const before = buildSchema(`
      scalar DateTimeISO
      interface Node { id: ID! }
      type Provider implements Node { id: ID! }
      type AccessKey implements Node { id: ID! }
      type Parameter implements Node { id: ID! isSecret: Boolean! }
      type Service implements Node { id: ID! resolveProvider(stage: String!): Provider deployedOn: DateTimeISO }
      type AwsDeploymentCredentials { accessKeyId: String! expiration: DateTimeISO }
      type DeleteProviderPayload { deletedProviderId: String }
      type AwsRoleCredentials { maxSessionDurationSeconds: Int! }
      input CreateParameterInput { ownerId: ID! secret: Boolean }
      input RevokeAccessKeyInput { accessKeyId: ID! }
      input AuditEventFilter { actor: ID from: DateTimeISO }
      input DeploymentCredentialsInput { durationSeconds: Int sessionLength: Int }
      type Query { node(id: ID!): Node providers(first: Int!): [Provider!]! }
      type Mutation { deploymentCredentials: String providerDelete: String revokeAccessKey(input: RevokeAccessKeyInput): String gone: String @deprecated(reason: "Gone.") }
    `);
    expect(namingViolations(before).map((v) => v.split(":")[0]).sort()).to.deep.equal(
      [
        "AuditEventFilter.actor",
        "AwsRoleCredentials.maxSessionDurationSeconds",
        "CreateParameterInput.secret",
        "DeleteProviderPayload.deletedProviderId",
        "DeploymentCredentialsInput.sessionLength",
        "Mutation.gone",
        "Mutation.providerDelete",
        "RevokeAccessKeyInput.accessKeyId",
        "Service.deployedOn",
        "Service.resolveProvider",
      ].sort(),
    );
  });
});

const REVOKE_NEW = `mutation($input: RevokeAccessKeyInput!) { revokeAccessKey(input: $input) { accessKey { id revokedAt } userErrors { code field message } } }`;
const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) { credentials { ... on AwsDeploymentCredentials { accessKeyId expiration } } resolution { source } userErrors { code field message } }
}`;
const AUDIT = `query($filter: AuditEventFilter) { org(slug: "acme") { auditEvents(filter: $filter) { totalCount nodes { action } } } }`;
const CREATE_PARAMETER = `mutation($input: CreateParameterInput!) { createParameter(input: $input) { parameter { id isSecret valueHint } userErrors { code field message } } }`;
const UPDATE_PARAMETER = `mutation($input: UpdateParameterInput!) { updateParameter(input: $input) { parameter { isSecret value } userErrors { code field message } } }`;

async function auditRows(action: string): Promise<Array<{ outcome: string; details: Record<string, any> }>> {
  return harness().application.dataSource.query("SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY occurred_at, id", [action]);
}

async function instanceCount(): Promise<number> {
  const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM instances");
  return count;
}

describe("renamed fields: either name, never two values", () => {
  let admin: string;
  let orgId: string;

  beforeEach(async () => {
    ({ key: admin, orgId } = await newOrg("acme"));
  });

  describe("revokeAccessKey(input: { keyId }), formerly accessKeyId", () => {
    it("revokes by either name, or by both with the same value, and the revoked key stops working", async () => {
      for (const input of [(id: string) => ({ keyId: id }), (id: string) => ({ accessKeyId: id }), (id: string) => ({ keyId: id, accessKeyId: id })]) {
        const key = await createKey(admin, orgId, { role: "DEPLOYER" });
        const result = (await ok(admin, REVOKE_NEW, { input: input(key.id) })).revokeAccessKey;
        expect(result.userErrors).to.deep.equal([]);
        expect(result.accessKey.id).to.equal(key.id);
        expect((await gql(key.token, "{ viewer { orgs { slug } } }")).errors?.[0].extensions?.code).to.equal("UNAUTHENTICATED");
      }
    });

    it("refuses two different keys, and no key at all, with a code naming keyId; revokes nothing and audits the refusal", async () => {
      const [one, two] = [await createKey(admin, orgId, { role: "DEPLOYER" }), await createKey(admin, orgId, { role: "DEPLOYER" })];
      const both = (await ok(admin, REVOKE_NEW, { input: { keyId: one.id, accessKeyId: two.id } })).revokeAccessKey;
      expect(both.accessKey).to.equal(null);
      expect(both.userErrors).to.have.length(1);
      expect(both.userErrors[0]).to.deep.include({ code: "RENAMED_FIELD_CONFLICT", field: ["input", "keyId"] });
      expect(both.userErrors[0].message).to.match(/input\.keyId and its deprecated former name accessKeyId were given different values; send keyId alone\./);
      for (const input of [{}, { keyId: null }, { accessKeyId: null, keyId: null }]) {
        const none = (await ok(admin, REVOKE_NEW, { input })).revokeAccessKey;
        expect(none.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["REQUIRED_FIELD_MISSING", ["input", "keyId"]]]);
      }
      for (const key of [one, two]) expect((await ok(key.token, "{ viewer { orgs { slug } } }")).viewer.orgs).to.deep.equal([{ slug: "acme" }]);
      const refused = await auditRows("input.rejected");
      expect(refused.map((r) => [r.outcome, r.details.errorCode, r.details.operation])).to.deep.equal([
        ["DENIED", "RENAMED_FIELD_CONFLICT", "Mutation.revokeAccessKey"],
        ["DENIED", "REQUIRED_FIELD_MISSING", "Mutation.revokeAccessKey"],
        ["DENIED", "REQUIRED_FIELD_MISSING", "Mutation.revokeAccessKey"],
        ["DENIED", "REQUIRED_FIELD_MISSING", "Mutation.revokeAccessKey"],
      ]);
      expect(JSON.stringify(refused)).not.to.contain(one.id.slice(4));
    });

    it("names the field the client sent in an error about it, each request its own, when many revoke the same key at once (above the pool size)", async () => {
      const key = await createKey(admin, orgId, { role: "DEPLOYER" });
      const callers = harness().config.databasePoolSize * 2;
      const results = await Promise.all(
        Array.from({ length: callers }, (_, i) => ok(admin, REVOKE_NEW, { input: i % 2 === 0 ? { keyId: key.id } : { accessKeyId: key.id } }).then((r) => ({ i, r: r.revokeAccessKey }))),
      );
      expect(results.filter(({ r }) => r.userErrors.length === 0)).to.have.length(1);
      for (const { i, r } of results.filter(({ r }) => r.userErrors.length > 0)) {
        expect(r.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["ALREADY_REVOKED", ["input", i % 2 === 0 ? "keyId" : "accessKeyId"]]]);
      }
    });

    it("checks a hostile value under the former name like any other, naming that name", async () => {
      const result = (await ok(admin, REVOKE_NEW, { input: { accessKeyId: `x\u0000` } })).revokeAccessKey;
      expect(result.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["INVALID_INPUT", ["input", "accessKeyId"]]]);
      const huge = (await ok(admin, REVOKE_NEW, { input: { keyId: "k".repeat(100_000), accessKeyId: "k".repeat(100_000) } })).revokeAccessKey;
      expect(huge.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["INVALID_INPUT", "INVALID_INPUT"]);
    });
  });

  describe("deploymentCredentials(input: { sessionDurationSeconds }), formerly durationSeconds", () => {
    let roleArn: string;

    beforeEach(async () => {
      roleArn = ROLE_ARN("555555555555", "deploy");
      const provider = await createProvider(admin, orgId, "dev", { aws: { role: { roleArn, maxSessionDurationSeconds: 7200 } } });
      const externalId = (await ok(admin, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: provider })).node
        .credentials.externalId;
      sts().addRole(roleArn, { externalId, maxSessionDuration: 3600 });
      await ok(admin, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: provider });
    });

    const deploy = (extra: Record<string, unknown>) => gql(admin, DEPLOY, { input: { org: "acme", app: "shop", service: "api", stage: "dev", region: "us-east-1", ...extra } });

    it("asks STS for the seconds given under either name, or both when equal, each concurrent deployment its own (above the pool size)", async () => {
      const asks = Array.from({ length: harness().config.databasePoolSize * 2 }, (_, i) => 900 + i * 60);
      const inputs = asks.map((s, i) => (i % 3 === 0 ? { sessionDurationSeconds: s } : i % 3 === 1 ? { durationSeconds: s } : { sessionDurationSeconds: s, durationSeconds: s }));
      const results = await Promise.all(inputs.map((input, i) => deploy({ ...input, stage: `s${i}` })));
      for (const result of results) expect(result.data.deploymentCredentials.userErrors).to.deep.equal([]);
      const asked = new Map(sts().callsOf("AssumeRole").map((c) => [c.params.RoleSessionName.split(".").pop(), Number(c.params.DurationSeconds)]));
      expect(asks.map((_, i) => asked.get(`s${i}`))).to.deep.equal(asks);
    });

    it("refuses two different durations before anything else: no STS call, no instance, the refusal audited", async () => {
      const result = await deploy({ sessionDurationSeconds: 900, durationSeconds: 1800 });
      expect(result.data.deploymentCredentials.credentials).to.equal(null);
      expect(result.data.deploymentCredentials.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([
        ["RENAMED_FIELD_CONFLICT", ["input", "sessionDurationSeconds"]],
      ]);
      expect(sts().calls).to.deep.equal([]);
      expect(await instanceCount()).to.equal(0);
      expect((await auditRows("input.rejected")).map((r) => r.details.operation)).to.deep.equal(["Mutation.deploymentCredentials"]);
    });

    it("names the field the client sent when the duration is out of range, or when STS refuses it", async () => {
      for (const name of ["sessionDurationSeconds", "durationSeconds"]) {
        const outOfRange = await deploy({ [name]: 100 });
        expect(outOfRange.data.deploymentCredentials.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["INVALID_DURATION", ["input", name]]]);
        const tooLong = await deploy({ [name]: 5400 }); // within the provider's 7200, beyond the role's 3600
        expect(tooLong.errors?.[0].extensions?.code).to.equal("SESSION_DURATION_TOO_LONG");
        expect(tooLong.errors?.[0].message).to.match(/sessionDurationSeconds/);
      }
    });

    it("answers the same under either name when STS is down", async () => {
      sts().failWith = { status: 503, code: "ServiceUnavailable", message: "down" };
      const [byNew, byOld] = [await deploy({ sessionDurationSeconds: 900 }), await deploy({ durationSeconds: 900 })];
      expect(byNew.errors?.[0].extensions?.code).to.equal("STS_UNAVAILABLE");
      const { stsRequestId: _new, ...answer } = byNew.errors![0].extensions!;
      const { stsRequestId: _old, ...formerly } = byOld.errors![0].extensions!;
      expect(formerly).to.deep.equal(answer);
    });
  });

  describe("parameters: isSecret, formerly secret", () => {
    it("seals with either name and refuses two different answers", async () => {
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      const sealed = (await ok(admin, CREATE_PARAMETER, { input: { ownerId: serviceId, name: "TOKEN", value: "a-secret-value-0001", isSecret: true } })).createParameter;
      expect(sealed.parameter.isSecret).to.equal(true);
      const plain = (await ok(admin, CREATE_PARAMETER, { input: { ownerId: serviceId, name: "URL", value: "https://example.com" } })).createParameter;
      expect(plain.parameter.isSecret).to.equal(false);
      const both = (await ok(admin, CREATE_PARAMETER, { input: { ownerId: serviceId, name: "X", value: "v", isSecret: true, secret: false } })).createParameter;
      expect(both.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).to.deep.equal([["RENAMED_FIELD_CONFLICT", ["input", "isSecret"]]]);
      expect(both.parameter).to.equal(null);

      const made = (await ok(admin, UPDATE_PARAMETER, { input: { parameterId: sealed.parameter.id, isSecret: false, value: "now-public" } })).updateParameter;
      expect(made.parameter).to.deep.equal({ isSecret: false, value: "now-public" });
      const resealed = (await ok(admin, UPDATE_PARAMETER, { input: { parameterId: sealed.parameter.id, secret: true } })).updateParameter;
      expect(resealed.parameter).to.deep.equal({ isSecret: true, value: null });
      const refused = (await ok(admin, UPDATE_PARAMETER, { input: { parameterId: sealed.parameter.id, isSecret: false } })).updateParameter;
      expect(refused.userErrors.map((e: { code: string }) => e.code)).to.deep.equal(["NEW_VALUE_REQUIRED"]);
    });
  });

  describe("auditEvents(filter: { actorId, targetId }), formerly actor and target", () => {
    it("filters alike under either name, and refuses two different ids as BAD_USER_INPUT naming the field", async () => {
      const providerId = await createRoleProvider(admin, orgId, "dev", ROLE_ARN("111111111111", "deploy"));
      const other = await createRoleProvider(admin, orgId, "prod", ROLE_ARN("111111111111", "prod"));
      const { id: keyId, token } = await createKey(admin, orgId, { role: "ADMIN" });
      await ok(token, `mutation($id: ID!) { updateProvider(input: { providerId: $id, name: "dev2" }) { userErrors { code } } }`, { id: providerId });
      const byNew = (await ok(admin, AUDIT, { filter: { actorId: keyId, targetId: providerId } })).org.auditEvents;
      expect(byNew.nodes).to.deep.equal([{ action: "provider.update" }]);
      expect((await ok(admin, AUDIT, { filter: { actor: keyId, target: providerId } })).org.auditEvents).to.deep.equal(byNew);
      expect((await ok(admin, AUDIT, { filter: { actorId: keyId, actor: keyId } })).org.auditEvents).to.deep.equal(byNew);

      const conflict = await gql(admin, AUDIT, { filter: { targetId: providerId, target: other } });
      expect(conflict.errors?.[0].extensions).to.deep.equal({ code: "BAD_USER_INPUT", field: ["filter", "targetId"] });
      expect(conflict.errors?.[0].message).to.match(/filter\.targetId and its deprecated former name target were given different values/);
    });
  });

  describe("Service.effectiveProvider and effectiveParameters, formerly resolveProvider and resolveParameters", () => {
    it("answer exactly as the former names, for a stage never deployed and for a deployed one, under a scoped key too", async () => {
      const dev = await createRoleProvider(admin, orgId, "dev", ROLE_ARN("111111111111", "dev"));
      const prod = await createRoleProvider(admin, orgId, "prod", ROLE_ARN("111111111111", "prod"));
      const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
      await linkToService(admin, dev, serviceId);
      await linkToInstance(admin, prod, await createInstance(admin, serviceId, "prod", null));
      await createParameter(admin, serviceId, "URL", "https://dev.example.com");
      const both = `query($id: ID!, $stage: String!) { node(id: $id) { ... on Service {
        effectiveProvider(stage: $stage, region: "eu-west-1") { source explanation provider { name } }
        resolveProvider(stage: $stage, region: "eu-west-1") { source explanation provider { name } }
        effectiveParameters(stage: $stage) { name source parameter { value } }
        resolveParameters(stage: $stage) { name source parameter { value } } } } }`;
      const scoped = (await createKey(admin, orgId, { role: "DEVELOPER", scope: { stages: ["feature-*"] } })).token;
      for (const stage of ["feature-x", "prod"]) {
        const service = (await ok(admin, both, { id: serviceId, stage })).node;
        expect(service.effectiveProvider).to.deep.equal(service.resolveProvider);
        expect(service.effectiveParameters).to.deep.equal(service.resolveParameters);
        expect(service.effectiveProvider.provider.name).to.equal(stage === "prod" ? "prod" : "dev");
      }
      const inScope = (await ok(scoped, both, { id: serviceId, stage: "feature-x" })).node;
      expect(inScope.effectiveProvider).to.deep.equal(inScope.resolveProvider);
      const outside = await gql(scoped, `query($id: ID!) { node(id: $id) { ... on Service { effectiveProvider(stage: "prod") { source } } } }`, { id: serviceId });
      const formerly = await gql(scoped, `query($id: ID!) { node(id: $id) { ... on Service { resolveProvider(stage: "prod") { source } } } }`, { id: serviceId });
      expect(outside.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
      expect(formerly.errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    });
  });
});
