import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { QueryFailedError } from "typeorm";
import { Writable } from "node:stream";
import { GRAPHQL_ACCEPT, gql, newOrg } from "./client.js";
import { ERROR_CODES, type ErrorCode } from "../src/domain/errors.js";
import { createLogger } from "../src/logger.js";
import { harness } from "./setup.js";

const ROOT = path.join(__dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith(".ts") ? [file] : [];
  });
}

/** Codes written in the source where an error is made: `code: …`, `new UserError("…"`, `super("…"`. */
function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(path.join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    const expressions = [
      ...[...text.matchAll(/\bcode: ([^,}\n]+)/g)].map((m) => m[1]),
      ...[...text.matchAll(/(?:new (?:UserError|CodedError)|super)\(\s*("[A-Z][A-Z_]+")/g)].map((m) => m[1]),
    ];
    for (const expression of expressions) for (const [, code] of expression.matchAll(/"([A-Z][A-Z_]{2,})"/g)) found.set(code, path.relative(ROOT, file));
  }
  return found;
}

function codesInDoc(): string[] {
  const doc = readFileSync(path.join(ROOT, "docs", "errors.md"), "utf8");
  return [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
}

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${harness().url}/graphql`, { method: "POST", headers: { "content-type": "application/json", accept: GRAPHQL_ACCEPT, ...headers }, body });
  return { status: response.status, body: (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

describe("error codes", () => {
  it("docs/errors.md lists exactly the codes of the registry, each once", () => {
    const documented = codesInDoc();
    expect(new Set(documented).size, "a code listed twice").to.equal(documented.length);
    expect([...documented].sort()).to.deep.equal(Object.keys(ERROR_CODES).sort());
  });

  it("every code the source can answer with is in the registry", () => {
    // Deployment warnings carry codes too, beside a success: they are not errors.
    const warnings = new Set(["NEW_STAGE", "NEW_SERVICE", "DEPLOYMENT_PROFILES_MIGRATED"]);
    const missing = [...codesInSource()].filter(([code]) => !(code in ERROR_CODES) && !warnings.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing).to.deep.equal([]);
    // The scan does find them: a broken pattern would pass the check above by finding nothing.
    expect([...codesInSource().keys()]).to.include.members(["NAME_TAKEN", "INVALID_STAGE", "STS_THROTTLED", "TOO_MANY_FAILED_AUTHENTICATIONS", "QUERY_TOO_COMPLEX"]);
  });

  it("the transport's codes answer as documented, with the documented HTTP status and a plain sentence", async () => {
    const { key } = await newOrg("acme");
    const auth = { authorization: `Bearer ${key}` };
    const cases: Array<[ErrorCode, string, Record<string, string>]> = [
      ["BAD_REQUEST", "{ not json", auth],
      ["GRAPHQL_PARSE_FAILED", JSON.stringify({ query: "{" }), auth],
      ["GRAPHQL_VALIDATION_FAILED", JSON.stringify({ query: "{ nope }" }), auth],
      ["OPERATION_RESOLUTION_FAILURE", JSON.stringify({ query: "query A { viewer { orgs { slug } } }", operationName: "B" }), auth],
      ["PERSISTED_QUERY_NOT_FOUND", JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "a".repeat(64) } } }), auth],
      ["UNAUTHENTICATED", JSON.stringify({ query: "{ viewer { orgs { slug } } }" }), {}],
    ];
    for (const [code, body, headers] of cases) {
      const { status, body: answer } = await post(body, headers);
      expect(answer.errors?.[0].extensions?.code, code).to.equal(code);
      expect(status, code).to.equal((ERROR_CODES[code] as { http?: number }).http);
      expect(answer.errors?.[0].message, code).to.match(/^[A-Z`].+/);
      expect(JSON.stringify(answer), code).not.to.match(/stacktrace|at \w+ \(|node_modules/);
    }
  });
});

describe("nothing internal reaches a caller or a log", () => {
  it("a database error in a resolver is masked for the caller and logged without its statement or parameters", async () => {
    const { key, orgId } = await newOrg("acme");
    const db = harness().application.dataSource;
    const [{ id: orgUuid }] = await db.query("SELECT id FROM orgs WHERE slug = 'acme'");
    await db.query("ALTER TABLE apps RENAME TO apps_moved_away");
    try {
      const result = await gql(key, `{ org(slug: "acme") { id apps { totalCount nodes { name } } } }`);
      expect(result.errors?.[0].extensions).to.deep.equal({ code: "INTERNAL_SERVER_ERROR" });
      expect(result.errors?.[0].message).to.match(/^Something went wrong on the server/);
      expect(JSON.stringify(result)).not.to.match(/relation|apps_moved|SELECT/);
    } finally {
      await db.query("ALTER TABLE apps_moved_away RENAME TO apps");
    }
    const logs = harness().logs.join("");
    const line = harness().logs.find((l) => l.includes("unexpected error in a GraphQL operation"))!;
    expect(line).to.contain("42P01"); // what an operator needs: the SQLSTATE and the driver's message
    expect(line).not.to.contain(orgUuid); // the statement's bound parameter
    expect(logs).not.to.match(/SELECT|FROM "apps"/);
    expect(orgId).to.be.a("string");
  });

  it("the logger drops the statement, the bound parameters and the driver's detail of any error it is given", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    let failure: unknown;
    try {
      await harness().application.dataSource.query("INSERT INTO orgs (slug, name) VALUES ($1, $2), ($1, $2)", ["dup-slug-param", "a name parameter"]);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(QueryFailedError);
    logger.error({ err: failure }, "failed");
    logger.error({ err: new Error("outer", { cause: failure }) }, "failed with a cause");
    const logged = lines.join("");
    expect(logged).to.contain("23505");
    expect(logged).not.to.match(/INSERT|dup-slug-param|a name parameter|Key \(slug\)/);
  });
});
