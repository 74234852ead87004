#!/usr/bin/env node
import "reflect-metadata";
import { parseArgs } from "node:util";
import { ApiClientError } from "./client/api.js";
import { credentialProcessOutput } from "./client/credential-process.js";
import { FORMATS, parametersOutput, type Format } from "./client/parameters.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { finishRotation, loadMasterKeyFiles, rotationKey } from "./crypto/master-key-file.js";
import { keyIdOf } from "./crypto/secret-box.js";
import { leaveSignalsToCaller } from "./db/embedded.js";
import { bootstrapOrg } from "./domain/access-keys.js";
import { RequestContext, serverActor } from "./domain/context.js";
import { Org } from "./entities/index.js";
import { rules } from "./domain/validation.js";
import { createLogger, type Logger } from "./logger.js";
import { buildApiSchema, SCHEMA_FILE } from "./graphql/schema.js";
import { openApplication, startServer } from "./server.js";

const USAGE = `Usage: providers-api <command> [options]

Commands:
  serve                          start the API server (the default)
  migrate                        apply pending database migrations and exit
  bootstrap --org <slug> [--name <name>]
                                 create the org (if needed) and an admin access key;
                                 the key is printed alone on the last line of stdout
  migrate-profiles --org <slug>  migrate the org's legacy deployment profiles to providers
                                 and print the report as JSON on stdout
  credentials --org <slug> --app <app> --service <service> --stage <stage> [--region <region>] [--duration <seconds>] [--insecure]
                                 print AWS credential_process JSON for that deployment; a client of
                                 the server at PROVIDERS_API_URL, with the key in PROVIDERS_API_KEY.
                                 Plain http is refused except to this machine, unless --insecure
  parameters --org <slug> --app <app> --service <service> --stage <stage> [--region <region>] [--format env|json|dotenv] [--insecure]
                                 print the deployment's effective parameters, secret values
                                 included (default format: env, \`export NAME='value'\` lines for
                                 eval in a POSIX shell); the same client settings as credentials
  rotate-master-key              re-seal every provider and parameter secret with the current master key. With
                                 DATABASE_URL: set PROVIDERS_MASTER_KEY to the new key and list the
                                 old one in PROVIDERS_PREVIOUS_MASTER_KEYS first. Embedded: a new
                                 key is generated in the data folder (stop the server first).
  emit-schema                    write schema/schema.graphql

Configuration comes from the environment; see the README.`;

class UsageError extends Error {}

async function serve(config: Config, logger: Logger): Promise<void> {
  const application = await openApplication(config, logger);
  leaveSignalsToCaller();
  const server = await startServer(application, config, logger).catch(async (error) => {
    await application.close();
    throw error;
  });
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
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

async function bootstrap(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { org: { type: "string" }, name: { type: "string" } } });
  if (!values.org) throw new UsageError("bootstrap needs --org <slug>");
  if (!rules.orgSlug.pattern.test(values.org)) throw new UsageError(rules.orgSlug.message);
  const application = await openApplication(config, logger);
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
  const application = await openApplication(config, logger);
  try {
    const org = await application.dataSource.manager.findOneBy(Org, { slug: values.org });
    if (!org) throw new Error(`there is no org "${values.org}"; check the slug (bootstrap --org creates one).`);
    const ctx = new RequestContext(serverActor(org.id, "providers-api migrate-profiles (CLI)"), application.dataSource.manager);
    const report = await application.services.profiles.migrate(ctx, "CLI");
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await application.close();
  }
}

/**
 * The deployment a client command names (--org --app --service --stage [--region]), whether plain http
 * to another machine is allowed (--insecure), and the command's own string options.
 */
function deploymentArgs(command: string, args: string[], extra: Record<string, { type: "string"; default?: string }>) {
  const { values } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      app: { type: "string" },
      service: { type: "string" },
      stage: { type: "string" },
      region: { type: "string" },
      insecure: { type: "boolean" },
      ...extra,
    },
  });
  const named = values as Record<string, string | undefined>;
  const missing = ["org", "app", "service", "stage"].filter((name) => !named[name]);
  if (missing.length > 0) throw new UsageError(`${command} needs ${missing.map((m) => `--${m}`).join(", ")}`);
  return {
    target: { org: named.org!, app: named.app!, service: named.service!, stage: named.stage!, region: named.region ?? null },
    client: { insecure: values.insecure === true },
    options: named,
  };
}

async function credentials(args: string[]): Promise<void> {
  const { target, client, options } = deploymentArgs("credentials", args, { duration: { type: "string" } });
  const duration = options.duration === undefined ? null : Number(options.duration);
  if (duration !== null && !Number.isInteger(duration)) throw new UsageError("--duration is a whole number of seconds");
  const output = await credentialProcessOutput(process.env, { ...target, durationSeconds: duration }, client);
  process.stdout.write(`${output}\n`);
}

async function parameters(args: string[]): Promise<void> {
  const { target, client, options } = deploymentArgs("parameters", args, { format: { type: "string", default: "env" } });
  if (!(FORMATS as readonly string[]).includes(options.format!)) throw new UsageError(`--format is one of ${FORMATS.join(", ")}`);
  const output = await parametersOutput(process.env, target, options.format as Format, client);
  process.stdout.write(output ? `${output}\n` : "");
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
  const application = await openApplication(effective, logger);
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

async function main(argv: string[]): Promise<void> {
  const [command = "serve", ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  if (command === "emit-schema") {
    await buildApiSchema({ emit: true });
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    return;
  }
  // A client of the API: it needs none of the server's configuration.
  if (command === "credentials") return credentials(rest);
  if (command === "parameters") return parameters(rest);
  const config = loadConfig();
  // Logs go to stderr for one-shot commands, so their stdout stays machine-readable.
  const logger = createLogger(config.logLevel, command === "serve" ? undefined : process.stderr);
  switch (command) {
    case "serve":
      return serve(config, logger);
    case "migrate": {
      const application = await openApplication(config, logger);
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

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`providers-api: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const message = error instanceof ConfigError ? error.message : error instanceof ApiClientError ? `providers-api ${process.argv[2]}: ${error.message}` : `providers-api: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
