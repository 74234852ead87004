import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";

/** More statement texts than the code has hot statements: past it a text is still run, unnamed. */
const MAX_NAMED = 64;
const names = new Map<string, string>();

/**
 * Runs one of the statements every request (or every deployment) sends as a named prepared statement:
 * PostgreSQL parses and plans it once per connection (and after five runs keeps a generic plan)
 * instead of on every request. Planning the deployment's one read took longer than running it.
 * pg keeps prepared statements per connection by name, and the name is the text's hash, so a name
 * always means one text. Only for a few fixed texts whose result columns are listed (a `SELECT *` of a
 * table would fail once a migration changed that table under a running server).
 */
export function queryPrepared<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[]): Promise<T[]> {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMED) return em.query(text, params);
    name = `providers_api_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
    names.set(text, name);
  }
  // pg takes a query config wherever it takes a text, and TypeORM hands the query to pg as it is.
  return em.query({ name, text } as unknown as string, params);
}
