import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { loadConfig, type Config } from "../src/config.js";
import { StatementCounter } from "../src/db/data-source.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../src/db/embedded.js";
import { buildApiSchema } from "../src/graphql/schema.js";
import { createHttpServer } from "../src/http/app.js";
import type { AuthThrottleOptions } from "../src/http/auth-throttle.js";
import type { QueryLimits } from "../src/http/limits.js";
import { createLogger } from "../src/logger.js";
import { openApplication, startServer, type Application, type RunningServer } from "../src/server.js";

/** Everything a test needs: the server's URL, its application, a statement counter and captured logs. */
export interface Harness {
  url: string;
  databaseUrl: string;
  masterKey: Buffer;
  application: Application;
  server: RunningServer;
  statements: StatementCounter;
  logs: string[];
  config: Config;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A uniquely named database for this run: on DATABASE_URL's server when it is set, otherwise on an
 * embedded PostgreSQL in a temporary folder. Dropped (and the embedded server stopped) at the end.
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `providers_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "providers-api-test-"));
  let embedded: EmbeddedPostgres;
  try {
    embedded = await startEmbeddedPostgres(dir, await freePort());
  } catch (error) {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw error;
  }
  return {
    url: await embedded.databaseUrl(name),
    async drop() {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: undefined,
    dataDir: path.join(os.tmpdir(), "providers-api-unused"),
    embeddedPostgresPort: 0,
    masterKey: randomBytes(32),
    previousMasterKeys: [],
    logLevel: "debug",
    shutdownGraceMs: 2000,
    databasePoolSize: 10,
    databaseMigrations: "apply",
    databasePoolTimeoutMs: 5_000,
    databaseStatementTimeoutMs: 30_000,
    databaseIdleInTransactionTimeoutMs: 15_000,
    awsRegion: "us-east-1",
    extraAwsRegions: [],
    maxInstancesPerOrg: 5_000,
    // Short enough that the "STS never answers" test ends quickly, long enough for throttling backoff.
    stsTimeoutMs: 4000,
    stsMaxAttempts: 3,
    limits: loadConfig({}).limits,
    trustProxy: false,
    authFailureLimit: 20,
    authFailureWindowSeconds: 60,
    metricsPort: null,
    auditLogFile: null,
    ...overrides,
  };
}

export async function startHarness(databaseUrl: string, overrides: Partial<Config> = {}): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger("debug", sink);
  const config = testConfig({ databaseUrl, ...overrides });
  const statements = new StatementCounter();
  const application = await openApplication(config, logger, { statementCounter: statements });
  const server = await startServer(application, config, logger);
  return { url: server.url, databaseUrl, masterKey: config.masterKey!, application, server, statements, logs, config };
}

/**
 * A second HTTP server on an application that is already open (the suite's: same pool, same statement
 * counter), with other query limits or another failed-authentication allowance, so one of them can be
 * reached alone. `close` stops it without closing the application.
 */
export async function secondServer(
  application: Application,
  options: { limits?: Partial<QueryLimits>; authThrottle?: AuthThrottleOptions } = {},
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const { server, apollo } = await createHttpServer({
    schema: await buildApiSchema(),
    dataSource: application.dataSource,
    services: application.services,
    logger: createLogger("silent"),
    shutdownGraceMs: 1000,
    limits: { ...loadConfig({}).limits, ...options.limits },
    trustProxy: false,
    authThrottle: options.authThrottle ?? { limit: 20, windowSeconds: 60 },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => apollo.stop() };
}

/**
 * A second server on the same database with a pool of 2, both connections held while `run` goes: every
 * request that needs the database waits out the pool timeout (300 ms) and is answered 503.
 */
export async function withEveryConnectionTaken(databaseUrl: string, run: (url: string) => Promise<void>): Promise<void> {
  const tiny = await startHarness(databaseUrl, { databasePoolSize: 2, databasePoolTimeoutMs: 300 });
  const held = [tiny.application.dataSource.createQueryRunner(), tiny.application.dataSource.createQueryRunner()];
  try {
    for (const runner of held) await runner.connect();
    await run(tiny.url);
  } finally {
    for (const runner of held) await runner.release();
    await tiny.server.stop();
  }
}

/** Every row of every table, as text: what a database dump would show. */
export async function dumpDatabase(dataSource: { query(sql: string): Promise<any> }): Promise<string> {
  const tables: Array<{ tablename: string }> = await dataSource.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const rows: Array<{ row: string }> = await dataSource.query(`SELECT t::text AS row FROM "${tablename}" t`);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join("\n");
}
