import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { addMember, createApp, createInstance, createKey, createParameter, createRoleProvider, createService, linkToInstance, linkToService, memberWithKey, ROLE_ARN } from "./fixtures.js";
import { fromGlobalId, toGlobalId, type NodeTypeName } from "../src/graphql/global-id.js";
import { harness } from "./setup.js";

/*
 * The tenant-isolation suite. It reads the schema by introspection, so an operation added later is
 * covered without anyone remembering to add it here: every query and mutation that takes an ID
 * (as an argument or inside its input) is called with another org's IDs, under every kind of key,
 * and must answer exactly as it does for an ID that does not exist — and change nothing. Deprecated
 * operations are walked too: they are still callable. A renamed input field (docs/api-naming.md) is
 * walked under each of its names, one at a time: sent together with different ids they are refused
 * before anything is looked up, which would prove nothing.
 */

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface InputValue {
  name: string;
  type: TypeRef;
  defaultValue: string | null;
  isDeprecated?: boolean;
  deprecationReason?: string | null;
}
interface FieldInfo {
  name: string;
  args: InputValue[];
  type: TypeRef;
}
interface TypeInfo {
  kind: string;
  name: string;
  fields: FieldInfo[] | null;
  inputFields: InputValue[] | null;
  enumValues: Array<{ name: string }> | null;
  possibleTypes: Array<{ name: string }> | null;
}

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
const INTROSPECTION = `{ __schema {
  queryType { name } mutationType { name }
  types { kind name possibleTypes { name } enumValues(includeDeprecated: true) { name }
    fields(includeDeprecated: true) { name type { ${TYPE_REF} } args(includeDeprecated: true) { name defaultValue type { ${TYPE_REF} } } }
    inputFields(includeDeprecated: true) { name defaultValue isDeprecated deprecationReason type { ${TYPE_REF} } } }
} }`;

/** A sample for each scalar the API takes; a new scalar fails the suite until it gets one. */
const SAMPLES: Record<string, (id: () => string) => unknown> = {
  ID: (id) => id(),
  String: () => "x",
  Int: () => 1,
  Float: () => 1,
  Boolean: () => false,
  DateTimeISO: () => new Date(Date.now() + 86_400_000).toISOString(),
};

const NODE_TYPES: NodeTypeName[] = ["Org", "App", "Service", "Instance", "Provider", "AccessKey", "User", "DeploymentProfile", "Parameter"];

const named = (ref: TypeRef): TypeRef => (ref.ofType ? named(ref.ofType) : ref);
const required = (ref: TypeRef) => ref.kind === "NON_NULL";
const isList = (ref: TypeRef): boolean => ref.kind === "LIST" || (ref.kind === "NON_NULL" && isList(ref.ofType!));

/** The node type an ID argument names, from its name (`providerId` → Provider, `keyId` → AccessKey); null: could be any. */
function nodeTypeOf(name: string): NodeTypeName | null {
  const match = /^(\w+)Id$/.exec(name);
  if (!match) return null;
  if (match[1] === "key") return "AccessKey";
  const type = (match[1][0].toUpperCase() + match[1].slice(1)) as NodeTypeName;
  return NODE_TYPES.includes(type) ? type : null;
}

const startsWith = (path: string[], prefix: string[]) => prefix.every((p, i) => path[i] === p);

class Schema {
  readonly types: Map<string, TypeInfo>;
  constructor(raw: { types: TypeInfo[] }) {
    this.types = new Map(raw.types.map((t) => [t.name, t]));
  }

  /** Every path to an ID inside the arguments (through input objects, required or not). */
  idSlots(args: InputValue[], path: string[] = [], seen = new Set<string>()): Array<{ path: string[]; name: string }> {
    return args.flatMap((arg) => {
      const type = named(arg.type);
      if (type.name === "ID") return [{ path: [...path, arg.name], name: arg.name }];
      if (type.kind === "INPUT_OBJECT" && !seen.has(type.name!)) {
        return this.idSlots(this.types.get(type.name!)!.inputFields!, [...path, arg.name], new Set([...seen, type.name!]));
      }
      return [];
    });
  }

  /** A valid-looking value for every required argument, and for every optional one that leads to an ID. */
  valueFor(ref: TypeRef, ids: (path: string[], name: string) => string, path: string[], name: string, slot: string[] = []): unknown {
    const type = named(ref);
    let value: unknown;
    switch (type.kind) {
      case "SCALAR":
        value = SAMPLES[type.name!]?.(() => ids(path, name));
        if (value === undefined) throw new Error(`The isolation suite has no sample value for scalar ${type.name}; add one.`);
        break;
      case "ENUM":
        value = this.types.get(type.name!)!.enumValues![0].name;
        break;
      case "INPUT_OBJECT":
        value = this.inputValue(this.types.get(type.name!)!.inputFields!, ids, path, slot);
        break;
    }
    return isList(ref) ? [value] : value;
  }

  /** A renamed field goes under one name only: its former name when that is the slot under test, else its own. */
  inputValue(fields: InputValue[], ids: (path: string[], name: string) => string, path: string[], slot: string[] = []): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const underTest = (field: InputValue) => startsWith(slot, [...path, field.name]);
    for (const field of fields) {
      if (field.isDeprecated && !underTest(field)) continue;
      if (fields.some((f) => f.isDeprecated && underTest(f) && f.deprecationReason?.startsWith(`Use ${field.name}:`))) continue;
      const leadsToId = this.idSlots([field]).length > 0;
      if ((required(field.type) && field.defaultValue === null) || leadsToId) {
        out[field.name] = this.valueFor(field.type, ids, [...path, field.name], field.name, slot);
      }
    }
    return out;
  }

  /** A selection of everything reachable without required arguments, a few levels deep. */
  selection(ref: TypeRef, depth: number): string {
    const type = this.types.get(named(ref).name!)!;
    if (type.kind === "SCALAR" || type.kind === "ENUM") return "";
    if (depth === 0) return "{ __typename }";
    const own = (type.fields ?? [])
      .filter((f) => f.args.every((a) => !required(a.type) || a.defaultValue !== null))
      .map((f) => `${f.name} ${this.selection(f.type, depth - 1)}`);
    const fragments = (type.possibleTypes ?? []).map((p) => `... on ${p.name} ${this.selection({ kind: "OBJECT", name: p.name, ofType: null }, depth - 1)}`);
    return `{ __typename ${own.join(" ")} ${fragments.join(" ")} }`;
  }
}

const GRAPHQL_TYPE = (ref: TypeRef): string =>
  ref.kind === "NON_NULL" ? `${GRAPHQL_TYPE(ref.ofType!)}!` : ref.kind === "LIST" ? `[${GRAPHQL_TYPE(ref.ofType!)}]` : ref.name!;

async function snapshot(orgIds: string[], userIds: string[]): Promise<string[]> {
  const db = harness().application.dataSource;
  const tables: Array<{ table_name: string }> = await db.query(
    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY 1",
  );
  const rows: string[] = [];
  for (const { table_name } of tables) {
    // last_used_at moves whenever a key is used; audit events (and their chain's head) are appended by the refusals themselves.
    const appended = table_name === "audit_events" || table_name === "audit_chain_heads";
    const result: Array<{ row: string }> = await db.query(
      `SELECT (to_jsonb(t) - 'last_used_at')::text AS row FROM "${table_name}" t WHERE org_id = ANY($1::uuid[]) ${appended ? "AND false" : ""} ORDER BY 1`,
      [orgIds],
    );
    rows.push(...result.map((r) => `${table_name}: ${r.row}`));
  }
  const orgs: Array<{ row: string }> = await db.query("SELECT to_jsonb(o)::text AS row FROM orgs o WHERE id = ANY($1::uuid[]) ORDER BY 1", [orgIds]);
  const users: Array<{ row: string }> = await db.query("SELECT to_jsonb(u)::text AS row FROM users u WHERE id = ANY($1::uuid[]) ORDER BY 1", [userIds]);
  return [...rows, ...orgs.map((r) => `orgs: ${r.row}`), ...users.map((r) => `users: ${r.row}`)];
}

/** One org's objects, every one of them with a name that says whose it is. */
async function populate(slug: string) {
  const { key, orgId } = await newOrg(slug);
  const provider = await createRoleProvider(key, orgId, `${slug}-provider`, ROLE_ARN("111111111111", `${slug}-role`));
  const app = await createApp(key, orgId, `${slug}app`);
  const service = await createService(key, app, `${slug}svc`);
  const instance = await createInstance(key, service, `${slug}stage`);
  await linkToService(key, provider, service);
  await linkToInstance(key, provider, instance);
  const member = await memberWithKey(key, orgId, `${slug}@example.com`, "ADMIN");
  const orgKey = await createKey(key, orgId, { role: "DEPLOYER", name: `${slug} ci` });
  const profile = await ok(key, `mutation($input: CreateDeploymentProfileInput!) { createDeploymentProfile(input: $input) { deploymentProfile { id } } }`, {
    input: { orgId, name: `${slug}-profile`, roleArn: ROLE_ARN("111111111111", `${slug}-legacy`) },
  });
  const migration = await ok(key, `mutation($orgId: ID!) { migrateDeploymentProfiles(input: { orgId: $orgId }) { migration { id } } }`, { orgId });
  // One parameter on each level; the service's is secret, and its value must never show up in an answer.
  await createParameter(key, orgId, `${slug}_ORG_PARAM`, `${slug}-org-value`);
  const parameter = await createParameter(key, service, `${slug}_TOKEN`, `${slug}-secret-parameter-value`, { secret: true });
  await createParameter(key, instance, `${slug}_URL`, `${slug}-instance-value`);
  const ids: Record<NodeTypeName, string> = {
    Org: orgId,
    App: app,
    Service: service,
    Instance: instance,
    Provider: provider,
    AccessKey: orgKey.id,
    User: member.userId,
    AuditEvent: toGlobalId("AuditEvent", randomUUID()),
    DeploymentProfile: profile.createDeploymentProfile.deploymentProfile.id,
    DeploymentProfileMigration: migration.migrateDeploymentProfiles.migration.id,
    Parameter: parameter,
  };
  return { key, orgId, ids, member };
}

describe("tenant isolation, walked from the schema", function () {
  this.timeout(120_000);

  it("every ID-taking query and mutation answers another org's IDs exactly as unknown IDs, for every kind of key, and changes nothing", async () => {
    const victim = await populate("victim");
    const attacker = await populate("attacker");
    // A person in both orgs: their key for one org must not reach the other.
    await addMember(victim.key, victim.orgId, "attacker@example.com", "ADMIN");
    const callers: Record<string, string> = {
      "org ADMIN key": attacker.key,
      "ADMIN personal key (also an admin of the other org)": attacker.member.token,
      "DEVELOPER key": (await createKey(attacker.key, attacker.orgId, { role: "DEVELOPER" })).token,
      "DEPLOYER key": (await createKey(attacker.key, attacker.orgId, { role: "DEPLOYER" })).token,
      "scoped DEPLOYER key": (await createKey(attacker.key, attacker.orgId, { role: "DEPLOYER", scope: { apps: ["attackerapp"], stages: ["attacker*"] } })).token,
      // May link its own org's provider on its own instances: the link paths run past the scope checks.
      "scoped DEVELOPER key": (
        await createKey(attacker.key, attacker.orgId, { role: "DEVELOPER", scope: { apps: ["attackerapp"], stages: ["attacker*"], linkableProviderIds: [attacker.ids.Provider] } })
      ).token,
    };

    const raw = (await ok(attacker.key, INTROSPECTION)).__schema;
    const schema = new Schema(raw);
    const victimRows = await snapshot([victim.orgId, attacker.orgId].map((id) => fromGlobalId(id)!.id), [fromGlobalId(victim.ids.User)!.id, fromGlobalId(attacker.ids.User)!.id]);
    const secrets = [
      ...Object.values(victim.ids).flatMap((id) => [id, fromGlobalId(id)?.id ?? id]).filter((id) => !id.startsWith(toGlobalId("AuditEvent", "").slice(0, 8))),
      "victim",
    ];

    const covered: string[] = [];
    for (const [rootName, operation] of [
      [raw.queryType.name, "query"],
      [raw.mutationType.name, "mutation"],
    ] as const) {
      for (const field of schema.types.get(rootName)!.fields!) {
        const slots = schema.idSlots(field.args);
        if (slots.length === 0) continue;
        covered.push(`${operation}.${field.name}`);
        const argList = field.args.map((a) => `$${a.name}: ${GRAPHQL_TYPE(a.type)}`).join(", ");
        const query = `${operation}(${argList}) { result: ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(", ")}) ${schema.selection(field.type, 3)} }`;

        for (const slot of slots) {
          const type = nodeTypeOf(slot.name);
          for (const targetType of type ? [type] : NODE_TYPES) {
            const foreign = victim.ids[targetType];
            const unknown = toGlobalId(targetType, randomUUID());
            const variables = (value: string) => {
              const ids = (path: string[], name: string) => (path.join(".") === slot.path.join(".") ? value : attacker.ids[nodeTypeOf(name) ?? targetType]);
              const vars: Record<string, unknown> = {};
              for (const arg of field.args) {
                if (required(arg.type) || schema.idSlots([arg]).length > 0) vars[arg.name] = schema.valueFor(arg.type, ids, [arg.name], arg.name, slot.path);
              }
              return vars;
            };
            for (const [caller, key] of Object.entries(callers)) {
              const label = `${operation} ${field.name} with another org's ${targetType} as ${slot.path.join(".")}, by ${caller}`;
              const withForeign = JSON.stringify(await gql(key, query, variables(foreign))).replaceAll(foreign, "<ID>");
              const withUnknown = JSON.stringify(await gql(key, query, variables(unknown))).replaceAll(unknown, "<ID>");
              expect(withForeign, label).to.equal(withUnknown);
              for (const secret of secrets) expect(withForeign, `${label} leaked ${secret}`).not.to.contain(secret);
            }
          }
        }
      }
    }

    expect(await snapshot([victim.orgId, attacker.orgId].map((id) => fromGlobalId(id)!.id), [fromGlobalId(victim.ids.User)!.id, fromGlobalId(attacker.ids.User)!.id])).to.deep.equal(
      victimRows,
    );
    // The walk reached what the schema has today (and will reach what it gets tomorrow).
    for (const name of [
      "query.node",
      "mutation.createProvider",
      "mutation.linkProviderToInstance",
      "mutation.revokeAccessKey",
      "mutation.removeMember",
      "mutation.createAccessKey",
      "mutation.setAppStageProfile",
      "mutation.migrateDeploymentProfiles",
      "mutation.verifyProvider",
      "mutation.rotateExternalId",
      "mutation.deleteApp",
      "mutation.deleteService",
      "mutation.deleteInstance",
      "mutation.createParameter",
      "mutation.updateParameter",
      "mutation.deleteParameter",
    ]) {
      expect(covered).to.include(name);
    }
  });
});
