import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { buildSchema, lexicographicSortSchema, printSchema } from "graphql";
import { getMetadataStorage } from "type-graphql";
import { buildApiSchema, SCHEMA_FILE } from "../src/graphql/schema.js";

describe("the schema", () => {
  it("matches the committed schema/schema.graphql (run `npm run schema` and review the diff)", async () => {
    const built = printSchema(lexicographicSortSchema(await buildApiSchema()));
    const committed = printSchema(lexicographicSortSchema(buildSchema(await readFile(SCHEMA_FILE, "utf8"))));
    expect(committed).to.equal(built);
  });

  it("puts @Authorized on every query and mutation, so none is open by accident", async () => {
    const schema = await buildApiSchema();
    const storage = getMetadataStorage();
    const authorized = new Set(storage.authorizedFields.map((f) => `${f.target.name}.${f.fieldName}`));
    const roots = [...storage.queries, ...storage.mutations];
    const fields = [...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())];
    expect(roots.length).to.equal(fields.length);
    const open = roots.filter((r) => !authorized.has(`${r.target.name}.${r.methodName}`)).map((r) => r.schemaName);
    expect(open).to.deep.equal([]);
  });

  it("runs every mutation through the unit of work (mutate), or through payloadOf for one that manages its own transactions", () => {
    const storage = getMetadataStorage();
    expect(storage.mutations.length).to.be.greaterThan(0);
    const outside = storage.mutations
      .filter((m) => {
        const source = String((m.target.prototype as Record<string, unknown>)[m.methodName]);
        // Compiled, the call reads `(0, middleware_js_1.mutate)(ctx, …)`.
        return !/\b(?:mutate|payloadOf)\)?\(ctx\b/.test(source);
      })
      .map((m) => m.schemaName);
    expect(outside, "a mutation that does not call mutate(ctx, …) or payloadOf(ctx, …)").to.deep.equal([]);
  });

  it("reads plain properties (simpleResolvers) only on types none of whose fields carries a middleware or @Authorized", async () => {
    await buildApiSchema();
    const storage = getMetadataStorage();
    const simple = storage.objectTypes.filter((t) => t.simpleResolvers);
    expect(simple.map((t) => t.name)).to.include.members(["Instance", "Service", "App", "Provider", "ProviderResolution", "InstanceConnection"]);
    const onSimpleType = (target: Function) => simple.some((t) => t.target === target || t.target.prototype instanceof target);
    const guarded = [...storage.middlewares, ...storage.authorizedFields].map((m) => ({ target: m.target, field: m.fieldName }));
    // The check sees field middlewares at all: a deployment profile's roleArn carries one.
    expect(guarded.map((g) => `${g.target.name}.${g.field}`)).to.include("DeploymentProfileObject.roleArn");
    expect(guarded.filter((g) => onSimpleType(g.target)).map((g) => `${g.target.name}.${g.field}`)).to.deep.equal([]);
  });
});
