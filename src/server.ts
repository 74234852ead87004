import net, { type AddressInfo } from "node:net";
import path from "node:path";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import { loadMasterKeyFiles, type MasterKeys } from "./crypto/master-key-file.js";
import { StsAdapter } from "./aws/sts.js";
import { SecretBox } from "./crypto/secret-box.js";
import { databaseUrlProblem } from "./db/connection-problem.js";
import { assertMigrated, createDataSource, migrate, type StatementCounter } from "./db/data-source.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./db/embedded.js";
import { ProviderSecrets } from "./domain/provider-secrets.js";
import { Services } from "./domain/services.js";
import { buildApiSchema } from "./graphql/schema.js";
import { createHttpServer } from "./http/app.js";
import { Metrics } from "./http/metrics.js";
import { AuditSink } from "./db/audit-sink.js";
import { AuditSealer } from "./db/audit-sealer.js";
import type { Logger } from "./logger.js";

export const EMBEDDED_DATABASE = "providers";

/** The process's long-lived parts: the database (and the embedded server behind it), keys and services. */
export interface Application {
  dataSource: DataSource;
  services: Services;
  embedded: EmbeddedPostgres | null;
  metrics: Metrics;
  /** Seals the audit events this process (or a process that died before sealing) wrote. */
  sealer: AuditSealer;
  close(): Promise<void>;
}

/** Where the database is: DATABASE_URL, or the embedded PostgreSQL in the data folder. */
export async function openDatabase(config: Config, logger: Logger, command = "serve"): Promise<{ url: string; embedded: EmbeddedPostgres | null }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  logger.info({ dataDir: config.dataDir, port: config.embeddedPostgresPort }, "starting the embedded PostgreSQL");
  const embedded = await startEmbeddedPostgres(path.join(config.dataDir, "postgres"), config.embeddedPostgresPort, {
    log: (line) => logger.debug({ postgres: line }),
    warn: (message, details) => logger.warn(details, message),
    command,
  });
  return { url: await embedded.databaseUrl(EMBEDDED_DATABASE), embedded };
}

export async function masterKeysFor(config: Config): Promise<MasterKeys> {
  if (config.masterKey) return { current: config.masterKey, previous: config.previousMasterKeys };
  if (config.databaseUrl) {
    throw new ConfigError(
      "Invalid configuration: PROVIDERS_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 random bytes, e.g. `openssl rand -base64 32`); keep it safe, the secrets in the database cannot be read without it.",
    );
  }
  const files = await loadMasterKeyFiles(config.dataDir);
  return { current: files.current, previous: [...files.previous, ...config.previousMasterKeys] };
}

export async function openApplication(
  config: Config,
  logger: Logger,
  options: { statementCounter?: StatementCounter; migrate?: boolean; command?: string } = {},
): Promise<Application> {
  const masterKeys = await masterKeysFor(config);
  const { url, embedded } = await openDatabase(config, logger, options.command);
  const dataSource = createDataSource(url, {
    logger: options.statementCounter,
    poolSize: config.databasePoolSize,
    timeouts: {
      poolTimeoutMs: config.databasePoolTimeoutMs,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
    },
  });
  try {
    await dataSource.initialize().catch((error: unknown) => {
      throw (config.databaseUrl && databaseUrlProblem(error, config.databaseUrl)) || error;
    });
    if (options.migrate === false) {
      // The caller migrates (or knows better).
    } else if (config.databaseMigrations === "check") {
      await assertMigrated(dataSource);
    } else {
      const applied = await migrate(dataSource);
      if (applied.length > 0) logger.info({ migrations: applied }, "applied database migrations");
    }
    const secretBox = new SecretBox(masterKeys.current, masterKeys.previous);
    await ProviderSecrets.assertKeysAvailable(dataSource.manager, secretBox);
    const metrics = new Metrics();
    metrics.watchPool(dataSource);
    const auditSink = config.auditLogFile ? new AuditSink(config.auditLogFile) : null;
    if (auditSink) dataSource.subscribers.push(auditSink);
    const sts = new StsAdapter({
      region: config.awsRegion,
      timeoutMs: config.stsTimeoutMs,
      maxAttempts: config.stsMaxAttempts,
      observe: (observation) => metrics.sts(observation),
    });
    const services = new Services(secretBox, sts, { extraRegions: config.extraAwsRegions, maxInstancesPerOrg: config.maxInstancesPerOrg }, metrics);
    const sealer = new AuditSealer(url, logger, { statementTimeoutMs: config.databaseStatementTimeoutMs, connectTimeoutMs: config.databasePoolTimeoutMs });
    sealer.attach(dataSource);
    sealer.start();
    return {
      dataSource,
      services,
      embedded,
      metrics,
      sealer,
      async close() {
        await sealer.close();
        await dataSource.destroy();
        await auditSink?.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
}

/**
 * The database alone, for commands that read it and need no master key (`audit verify`). Refuses
 * to go on while migrations are pending, and changes nothing.
 */
export async function openDatabaseOnly(config: Config, logger: Logger, command: string): Promise<{ dataSource: DataSource; close(): Promise<void> }> {
  const { url, embedded } = await openDatabase(config, logger, command);
  const dataSource = createDataSource(url, { poolSize: 2 });
  try {
    await dataSource.initialize().catch((error: unknown) => {
      throw (config.databaseUrl && databaseUrlProblem(error, config.databaseUrl)) || error;
    });
    await assertMigrated(dataSource);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    async close() {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** Why PORT/HOST cannot be listened on, as one line naming the variable and the fix; null for anything else. */
function listenProblem(error: unknown, config: Config, variable = "PORT"): ConfigError | null {
  switch ((error as NodeJS.ErrnoException)?.code) {
    case "EADDRINUSE":
      return new ConfigError(`${variable} ${config.port} is already in use on ${config.host} by another process. Stop it, or set ${variable} to a free port.`);
    case "EACCES":
      return new ConfigError(`${variable} ${config.port} needs privileges this process does not have on ${config.host}. Set ${variable} to 1024 or above (and put a proxy in front).`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new ConfigError(`HOST ${config.host} is not an address of this machine. Set HOST to one of its addresses, 127.0.0.1, or 0.0.0.0.`);
    default:
      return null;
  }
}

/** Finds a taken PORT before any other work (the database, migrations): listens once and lets go. */
export async function assertPortAvailable(config: Config): Promise<void> {
  const probes: Array<[number, string]> = [[config.port, "PORT"]];
  if (config.metricsPort !== null) probes.push([config.metricsPort, "METRICS_PORT"]);
  for (const [port, variable] of probes) {
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once("error", (error) => reject(listenProblem(error, { ...config, port }, variable) ?? error));
      probe.listen(port, config.host, () => probe.close(() => resolve()));
    });
  }
}

export interface RunningServer {
  url: string;
  /** Where /metrics is served when METRICS_PORT gives it a port of its own; null: at `${url}/metrics`. */
  metricsUrl: string | null;
  /** Stops taking requests, lets in-flight ones finish (up to the grace period), then closes the application. */
  stop(): Promise<void>;
}

export async function startServer(application: Application, config: Config, logger: Logger): Promise<RunningServer> {
  const schema = await buildApiSchema();
  const { server, apollo } = await createHttpServer({
    schema,
    dataSource: application.dataSource,
    services: application.services,
    logger,
    shutdownGraceMs: config.shutdownGraceMs,
    limits: config.limits,
    trustProxy: config.trustProxy,
    authThrottle: { limit: config.authFailureLimit, windowSeconds: config.authFailureWindowSeconds },
    metrics: application.metrics,
    metricsOnApiPort: config.metricsPort === null,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(listenProblem(error, config) ?? error));
    server.listen(config.port, config.host, () => resolve());
  });
  const metricsServer =
    config.metricsPort === null
      ? null
      : await application.metrics.listen(config.metricsPort, config.host).catch((error: unknown) => {
          server.close();
          throw listenProblem(error, { ...config, port: config.metricsPort! }, "METRICS_PORT") ?? error;
        });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    metricsUrl: metricsServer ? `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${(metricsServer.address() as AddressInfo).port}/metrics` : null,
    async stop() {
      metricsServer?.close();
      await apollo.stop();
      await application.close();
    },
  };
}
