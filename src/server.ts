import type { AddressInfo } from "node:net";
import path from "node:path";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import { loadMasterKeyFiles, type MasterKeys } from "./crypto/master-key-file.js";
import { StsAdapter } from "./aws/sts.js";
import { SecretBox } from "./crypto/secret-box.js";
import { createDataSource, migrate, type StatementCounter } from "./db/data-source.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./db/embedded.js";
import { ProviderSecrets } from "./domain/provider-secrets.js";
import { Services } from "./domain/services.js";
import { buildApiSchema } from "./graphql/schema.js";
import { createHttpServer } from "./http/app.js";
import type { Logger } from "./logger.js";

export const EMBEDDED_DATABASE = "providers";

/** The process's long-lived parts: the database (and the embedded server behind it), keys and services. */
export interface Application {
  dataSource: DataSource;
  services: Services;
  embedded: EmbeddedPostgres | null;
  close(): Promise<void>;
}

/** Where the database is: DATABASE_URL, or the embedded PostgreSQL in the data folder. */
export async function openDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded: EmbeddedPostgres | null }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  logger.info({ dataDir: config.dataDir, port: config.embeddedPostgresPort }, "starting the embedded PostgreSQL");
  const embedded = await startEmbeddedPostgres(path.join(config.dataDir, "postgres"), config.embeddedPostgresPort, (line) =>
    logger.debug({ postgres: line }),
  );
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
  options: { statementCounter?: StatementCounter; migrate?: boolean } = {},
): Promise<Application> {
  const masterKeys = await masterKeysFor(config);
  const { url, embedded } = await openDatabase(config, logger);
  const dataSource = createDataSource(url, { logger: options.statementCounter, poolSize: config.databasePoolSize });
  try {
    await dataSource.initialize();
    if (options.migrate !== false) {
      const applied = await migrate(dataSource);
      if (applied.length > 0) logger.info({ migrations: applied }, "applied database migrations");
    }
    const secretBox = new SecretBox(masterKeys.current, masterKeys.previous);
    await ProviderSecrets.assertKeysAvailable(dataSource.manager, secretBox);
    return {
      dataSource,
      services: new Services(secretBox, new StsAdapter({ region: config.awsRegion, timeoutMs: config.stsTimeoutMs, maxAttempts: config.stsMaxAttempts })),
      embedded,
      async close() {
        await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
}

export interface RunningServer {
  url: string;
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    async stop() {
      await apollo.stop();
      await application.close();
    },
  };
}
