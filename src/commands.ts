import "reflect-metadata";
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "./config.js";
import { finishRotation, loadMasterKeyFiles, rotationKey } from "./crypto/master-key-file.js";
import { keyIdOf } from "./crypto/secret-box.js";
import { leaveSignalsToCaller } from "./db/embedded.js";
import { bootstrapOrg } from "./domain/bootstrap.js";
import { RequestContext, serverActor } from "./domain/context.js";
import { Org } from "./entities/index.js";
import { rules } from "./domain/validation.js";
import { createLogger, type Logger } from "./logger.js";
import { buildApiSchema, SCHEMA_FILE } from "./graphql/schema.js";
import { assertPortAvailable, openApplication, startServer } from "./server.js";
import { UsageError } from "./cli-usage.js";

/*
 * The commands that run the server or work on its database. `cli.ts` loads this module only for
 * them, so that `providers-api credentials` (a plain HTTP client) starts without any of it.
 */

async function serve(config: Config, logger: Logger): Promise<void> {
  await assertPortAvailable(config);
  const application = await openApplication(config, logger);
  leaveSignalsToCaller();
  const server = await startServer(application, config, logger).catch(async (error) => {
    await application.close();
    throw error;
  });
  await application.embedded?.announce(server.url);
  logger.info({ url: `${server.url}/graphql` }, "providers-api is listening");
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining in-flight requests, then closing the database");
    server.stop().then(
      () => {
        logger.info("stopped cleanly");
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  // Every signal that ends the process stops the embedded PostgreSQL with it.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
}

async function bootstrap(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { org: { type: "string" }, name: { type: "string" } } });
  if (!values.org) throw new UsageError("bootstrap needs --org <slug>");
  if (!rules.orgSlug.pattern.test(values.org)) throw new UsageError(rules.orgSlug.message);
  const application = await openApplication(config, logger, { command: "bootstrap" });
  try {
    const { org, created, token } = await bootstrapOrg(application.dataSource.manager, values.org, values.name ?? values.org);
    process.stderr.write(
      created
        ? `Created org "${org.slug}" and an admin access key. Keep it safe: it is shown only now.\n`
        : `Org "${org.slug}" already exists; created another admin access key. Keep it safe: it is shown only now.\n`,
    );
    process.stdout.write(`${token}\n`);
  } finally {
    await application.close();
  }
}

async function migrateProfiles(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { org: { type: "string" } } });
  if (!values.org) throw new UsageError("migrate-profiles needs --org <slug>");
  const application = await openApplication(config, logger, { command: "migrate-profiles" });
  try {
    const org = await application.dataSource.manager.findOneBy(Org, { slug: values.org });
    if (!org) throw new Error(`there is no org "${values.org}"; check the slug (bootstrap --org creates one).`);
    const ctx = new RequestContext(serverActor(org.id, "providers-api migrate-profiles (CLI)"), application.dataSource.manager);
    const report = await application.services.profileMigration.migrate(ctx, "CLI");
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await application.close();
  }
}

async function rotateMasterKey(config: Config, logger: Logger): Promise<void> {
  const embedded = !config.masterKey;
  const effective = embedded
    ? await (async () => {
        const files = await loadMasterKeyFiles(config.dataDir);
        const next = await rotationKey(config.dataDir);
        return { ...config, masterKey: next, previousMasterKeys: [files.current, ...files.previous, ...config.previousMasterKeys] };
      })()
    : config;
  const application = await openApplication(effective, logger, { command: "rotate-master-key" });
  let count: { providers: number; parameters: number };
  try {
    count = await application.services.resealSecrets(application.dataSource.manager);
  } finally {
    await application.close();
  }
  if (embedded) await finishRotation(config.dataDir);
  process.stderr.write(
    `Re-sealed ${count.providers} provider secret(s) and ${count.parameters} parameter secret(s) with master key id ${keyIdOf(effective.masterKey!)}. ` +
      (embedded
        ? `The new key is ${config.dataDir}/master.key; the old one stays in master.key.previous until the next rotation.\n`
        : "Every server now needs only PROVIDERS_MASTER_KEY; remove the old key from PROVIDERS_PREVIOUS_MASTER_KEYS.\n"),
  );
}

/** Runs a server-side command; configuration comes from the environment. */
export async function runServerCommand(command: string, rest: string[]): Promise<void> {
  if (command === "emit-schema") {
    await buildApiSchema({ emit: true });
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    return;
  }
  const config = loadConfig();
  // Logs go to stderr for one-shot commands, so their stdout stays machine-readable.
  const logger = createLogger(config.logLevel, command === "serve" ? undefined : process.stderr);
  switch (command) {
    case "serve":
      return serve(config, logger);
    case "migrate": {
      const application = await openApplication(config, logger, { command: "migrate" });
      await application.close();
      process.stderr.write("The database is migrated.\n");
      return;
    }
    case "rotate-master-key":
      return rotateMasterKey(config, logger);
    case "bootstrap":
      return bootstrap(config, logger, rest);
    case "migrate-profiles":
      return migrateProfiles(config, logger, rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
