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

/** Applies pending migrations, one transaction each, and refuses to go on if entities and tables disagree. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: "each" });
  const drift = await dataSource.driver.createSchemaBuilder().log();
  if (drift.upQueries.length > 0) {
    throw new Error(
      `the database schema differs from the code after migrating (${drift.upQueries.length} statements); ` +
        `first: ${drift.upQueries[0].query}`,
    );
  }
  return applied.map((m) => m.name);
}
