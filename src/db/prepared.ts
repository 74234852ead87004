import { createHash } from "node:crypto";
import { QueryFailedError, type EntityManager } from "typeorm";

/** More statement texts than the code has hot statements: past it a text is still run, unnamed. */
const MAX_NAMED = 64;
const names = new Map<string, string>();

/** The parts of pg's pool and client a prepared statement runs on. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  on(event: "error", listener: (error: Error) => void): void;
  removeListener(event: "error", listener: (error: Error) => void): void;
}
interface PgPool {
  connect(): Promise<PgClient & { release(error?: Error): void }>;
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
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMED) return em.query(text, params);
    name = `providers_api_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
    names.set(text, name);
  }
  const pool = (em.connection.driver as unknown as { master?: PgPool }).master;
  // In a transaction the statement must run on its connection, through TypeORM's query runner; pg
  // takes a query config wherever it takes a text, and TypeORM hands the query to pg as it is.
  if (em.queryRunner || !pool) return em.query({ name, text } as unknown as string, params);
  return onPool<T>(em, pool, name, text, params);
}

/**
 * A statement outside any transaction, straight on a pooled connection: what TypeORM's query runner
 * does for it (take a connection, count the statement, wrap a failure in QueryFailedError, give the
 * connection back) without the runner, its entity manager and its query events, which no subscriber
 * of ours listens to (the audit sink listens to inserts of entities, never to raw statements).
 */
async function onPool<T>(em: EntityManager, pool: PgPool, name: string, text: string, params: unknown[]): Promise<T[]> {
  const client = await pool.connect();
  // A connection that breaks while it is out is given back broken, so the pool discards it.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  em.connection.logger.logQuery(text, params);
  try {
    return (await client.query({ name, text, values: params })).rows as T[];
  } catch (error) {
    em.connection.logger.logQueryError(error as Error, text, params);
    throw new QueryFailedError(text, params, error as Error);
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}
