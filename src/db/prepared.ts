import { createHash } from "node:crypto";
import type { Pool } from "pg";
import type { DataSource, EntityManager } from "typeorm";
import { poolOf } from "./data-source.js";

/**
 * Where a statement's text comes from, each with its own budget of names, so that texts made from
 * clients' documents (the SQL path: one per distinct page a client sends) can never use up the names of
 * the code's own few hot statements (authentication, a deployment's read and record), which would then
 * run unnamed, parsed and planned on every request.
 */
export type StatementSource = "code" | "documents";

/** More texts than each source has in practice: past it a text is still run, unnamed. */
export const MAX_NAMED: Record<StatementSource, number> = { code: 64, documents: 64 };
const names: Record<StatementSource, Map<string, string>> = { code: new Map(), documents: new Map() };

/** The statement's name, or undefined once its source's MAX_NAMED texts have one. */
export function preparedNameOf(text: string, source: StatementSource = "code"): string | undefined {
  const named = names[source];
  let name = named.get(text);
  if (name === undefined && named.size < MAX_NAMED[source]) {
    name = `providers_api_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
    named.set(text, name);
  }
  return name;
}

/**
 * Runs one of the statements every request (or every deployment) sends as a named prepared statement:
 * PostgreSQL parses and plans it once per connection (and after five runs keeps a generic plan)
 * instead of on every request. Planning the deployment's one read took longer than running it.
 * pg keeps prepared statements per connection by name, and the name is the text's hash, so a name
 * always means one text. Only for a few fixed texts whose result columns are listed (a `SELECT *` of a
 * table would fail once a migration changed that table under a running server).
 */
export function queryPrepared<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[]): Promise<T[]> {
  // Outside a transaction nothing ties the statement to a connection: see queryPreparedOnPool.
  if (!em.queryRunner && poolOf(em.connection)) return queryPreparedOnPool<T>(em.connection, text, params);
  return queryPreparedOnRunner<T>(em, text, params);
}

/** `queryPrepared` through the entity manager's TypeORM query runner: inside a transaction, on its connection. */
function queryPreparedOnRunner<T>(em: EntityManager, text: string, params: unknown[], source: StatementSource = "code"): Promise<T[]> {
  const name = preparedNameOf(text, source);
  if (name === undefined) return em.query(text, params);
  // pg takes a query config wherever it takes a text, and TypeORM hands the query to pg as it is.
  return em.query({ name, text } as unknown as string, params);
}

/**
 * The same, sent on the pool itself instead of through a TypeORM query runner: for the statements
 * outside a transaction (authentication, a deployment's read and its record), where the runner's own work (a runner
 * object, its connection promise and listeners, its query events, the result's wrapping) cost more
 * than the statement's. The pool is TypeORM's, so the connection limit, the wait for a connection
 * (its timeout), the statement timeout and the reconnection after the database comes back are the
 * same; the statement still counts in TypeORM's logger (the statement counters of tests and bench).
 * A failure is pg's own error, which TypeORM would only have wrapped (isDatabaseUnavailable reads
 * both alike). Outside a transaction only: the pool lends any connection.
 */
export async function queryPreparedOnPool<T = Record<string, unknown>>(
  dataSource: DataSource,
  text: string,
  params: unknown[],
  source: StatementSource = "code",
): Promise<T[]> {
  const pool = poolOf(dataSource) as unknown as Pool | undefined;
  // Not connected (yet, or any more): TypeORM's runner answers with its own error, as it always did.
  if (!pool) return queryPreparedOnRunner<T>(dataSource.manager, text, params, source);
  const name = preparedNameOf(text, source);
  dataSource.logger.logQuery(text, params);
  const result = await pool.query<T & object>(name === undefined ? { text, values: params } : { name, text, values: params });
  return result.rows;
}
