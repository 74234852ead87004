import path from "node:path";
import { DataSource, type Logger as TypeOrmLogger } from "typeorm";
import { entities } from "../entities/index.js";
import { SnakeNamingStrategy } from "../entities/naming-strategy.js";

/** Counts statements; tests and benchmarks read it to prove batching. */
export class StatementCounter implements TypeOrmLogger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const migrationsGlob = path.join(__dirname, "..", "..", "migrations", "*.js");

/** How long things may wait on the database; unset, PostgreSQL's and pg's defaults (no limit) apply. */
export interface DatabaseTimeouts {
  /** Waiting for a free pool connection (or a new one to open); past it the query fails, see `isDatabaseUnavailable`. */
  poolTimeoutMs?: number;
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
}

export function createDataSource(url: string, options: { logger?: TypeOrmLogger; poolSize?: number; timeouts?: DatabaseTimeouts } = {}): DataSource {
  const timeouts = options.timeouts ?? {};
  return new DataSource({
    type: "postgres",
    url,
    entities,
    migrations: [migrationsGlob],
    migrationsTransactionMode: "each",
    namingStrategy: new SnakeNamingStrategy(),
    uuidExtension: "pgcrypto",
    installExtensions: false,
    synchronize: false,
    logging: options.logger ? ["query"] : false,
    logger: options.logger,
    poolSize: options.poolSize ?? 10,
    applicationName: "providers-api",
    // A request never waits for a connection for ever, and no statement or forgotten transaction
    // keeps one for ever: each becomes an error the API answers as SERVICE_UNAVAILABLE.
    connectTimeoutMS: timeouts.poolTimeoutMs,
    extra: {
      statement_timeout: timeouts.statementTimeoutMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
      // Notices a peer that vanished without closing the connection.
      keepAlive: true,
    },
  });
}

/** What pg's pool says of itself: connections open, idle, and requests waiting for one. */
export interface PgPoolState {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max: number };
}

/** The pg pool TypeORM's Postgres driver keeps as its `master`; undefined before it is initialized. */
export function poolOf(dataSource: DataSource): PgPoolState | undefined {
  return (dataSource.driver as unknown as { master?: PgPoolState }).master;
}

/** Applies pending migrations, one transaction each, and refuses to go on if entities and tables disagree. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: "each" });
  await assertNoDrift(dataSource);
  return applied.map((m) => m.name);
}

/**
 * For a server whose database role may not change the schema (DATABASE_MIGRATIONS=check): refuses to
 * go on while a migration is pending or entities and tables disagree, instead of applying anything.
 */
export async function assertMigrated(dataSource: DataSource): Promise<void> {
  if (await dataSource.showMigrations()) {
    throw new Error(
      "database migrations are pending: run `providers-api migrate` as the database owner first, then try again.",
    );
  }
  await assertNoDrift(dataSource);
}

async function assertNoDrift(dataSource: DataSource): Promise<void> {
  const drift = await dataSource.driver.createSchemaBuilder().log();
  if (drift.upQueries.length > 0) {
    throw new Error(
      `the database schema differs from the code after migrating (${drift.upQueries.length} statements); ` +
        `first: ${drift.upQueries[0].query}`,
    );
  }
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Tables the server's role reads but never writes (the audit trail only gets new events). */
const READ_ONLY_TABLES = ["audit_chain_heads", "migrations"];
const APPEND_ONLY_TABLES = ["audit_events"];

/**
 * Gives the server's own database role what it needs and no more: read and write on the domain's
 * tables, INSERT and SELECT only on the audit trail, SELECT on the chain heads and migrations. It
 * must not own the tables or be a superuser, or it could switch the audit triggers off. Run by the
 * owner after each migration (`providers-api migrate --server-role <role>`); running it again is safe.
 */
export async function grantServerRole(dataSource: DataSource, role: string): Promise<void> {
  if (!ROLE_NAME.test(role)) throw new Error(`"${role}" is not a plain PostgreSQL role name (lower-case letters, digits and _).`);
  await dataSource.transaction(async (tx) => {
    const [found]: Array<{ rolsuper: boolean; rolbypassrls: boolean; is_owner: boolean }> = await tx.query(
      "SELECT rolsuper, rolbypassrls, rolname = current_user OR pg_has_role(rolname, current_user, 'MEMBER') AS is_owner FROM pg_roles WHERE rolname = $1",
      [role],
    );
    if (!found) throw new Error(`there is no database role "${role}"; create it first (CREATE ROLE ${role} LOGIN PASSWORD '…').`);
    if (found.rolsuper || found.is_owner) {
      throw new Error(`the role "${role}" is a superuser or owns the tables: it could switch the audit triggers off. Give the server a plain role of its own.`);
    }
    const quoted = `"${role}"`;
    await tx.query(`GRANT USAGE ON SCHEMA public TO ${quoted}`);
    await tx.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${quoted}`);
    const limited = [...READ_ONLY_TABLES, ...APPEND_ONLY_TABLES].map((t) => `"${t}"`).join(", ");
    await tx.query(`REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ${limited} FROM ${quoted}`);
    await tx.query(`REVOKE INSERT ON ${READ_ONLY_TABLES.map((t) => `"${t}"`).join(", ")} FROM ${quoted}`);
  });
}
