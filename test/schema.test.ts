import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { buildSchema, lexicographicSortSchema, printSchema } from "graphql";
import { getMetadataStorage } from "type-graphql";
import type { GraphQLContext } from "../src/graphql/context.js";
import { mutate } from "../src/graphql/middleware.js";
import { buildApiSchema, SCHEMA_FILE } from "../src/graphql/schema.js";

/**
 * The mutations that keep no transaction across a call to the outside (STS) or write nothing, and so
 * answer through `payloadOf` and open their units of work in the domain. Any other mutation runs
 * through `mutate`.
 */
const OWN_TRANSACTIONS = ["deploymentCredentials", "deploymentParameters", "verifyProvider"];

/**
 * How a compiled mutation resolver reaches the unit of work (`(0, middleware_js_1.mutate)(ctx, …)`),
 * and whether the work it hands `mutate` touches the request's `ctx` rather than the child it is given.
 */
function unitOfWorkOf(method: unknown): { via: "mutate" | "payloadOf" | null; usesRequestContext: boolean } {
  const source = String(method);
  const call = /\b(mutate|payloadOf)\)?\(ctx\b/.exec(source);
  if (!call) return { via: null, usesRequestContext: false };
  const via = call[1] as "mutate" | "payloadOf";
  return { via, usesRequestContext: via === "mutate" && /\bctx\b/.test(source.slice(call.index + call[0].length)) };
}

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
    const outside = storage.mutations.filter((m) => unitOfWorkOf((m.target.prototype as Record<string, unknown>)[m.methodName]).via === null).map((m) => m.schemaName);
    expect(outside, "a mutation that does not call mutate(ctx, …) or payloadOf(ctx, …)").to.deep.equal([]);
  });

  it("lets only the mutations that manage their own transactions skip mutate, and no mutation's work use the request's context", () => {
    const storage = getMetadataStorage();
    const ways = storage.mutations.map((m) => ({ name: m.schemaName, ...unitOfWorkOf((m.target.prototype as Record<string, unknown>)[m.methodName]) }));
    expect(ways.filter((w) => w.via !== "mutate").map((w) => w.name).sort(), "mutations outside mutate(ctx, …)").to.deep.equal(OWN_TRANSACTIONS);
    expect(ways.filter((w) => w.usesRequestContext).map((w) => w.name), "mutations whose work uses ctx instead of its child context").to.deep.equal([]);
  });

  it("tells a mutation in the unit of work from one outside it, or one whose work reaches past its child context", () => {
    type Input = { orgId: string; name: string };
    const samples = {
      inside: (ctx: GraphQLContext, input: Input) => mutate(ctx, async (tx) => ({ app: await tx.services.catalog.createApp(tx, input.orgId, input.name) })),
      outside: async (ctx: GraphQLContext, input: Input) => ({ app: await ctx.services.catalog.createApp(ctx, input.orgId, input.name), userErrors: [] }),
      leaking: (ctx: GraphQLContext, input: Input) => mutate(ctx, async () => ({ app: await ctx.services.catalog.createApp(ctx, input.orgId, input.name) })),
    };
    expect(Object.fromEntries(Object.entries(samples).map(([name, sample]) => [name, unitOfWorkOf(sample)]))).to.deep.equal({
      inside: { via: "mutate", usesRequestContext: false },
      outside: { via: null, usesRequestContext: false },
      leaking: { via: "mutate", usesRequestContext: true },
    });
  });

  it("gives no GraphQL class the name of a domain or entity type: each layer names things its own way", async () => {
    // The TypeScript sources: interfaces and types leave nothing behind in the compiled code.
    const src = path.resolve(__dirname, "..", "..", "src");
    const exported = new Set<string>();
    for (const folder of ["domain", "entities"]) {
      for (const file of await readdir(path.join(src, folder), { recursive: true })) {
        if (!file.endsWith(".ts")) continue;
        const text = await readFile(path.join(src, folder, file), "utf8");
        for (const [, name] of text.matchAll(/^export (?:declare )?(?:abstract )?(?:interface|class|type|enum|const|function) (\w+)/gm)) exported.add(name);
      }
    }
    await buildApiSchema();
    const storage = getMetadataStorage();
    const classes = [...storage.objectTypes, ...storage.inputTypes, ...storage.argumentTypes, ...storage.interfaceTypes].map((t) => t.target.name);
    expect(classes.length).to.be.greaterThan(50);
    expect([...new Set(classes.filter((name) => exported.has(name)))].sort()).to.deep.equal([]);
  });
});
