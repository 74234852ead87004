import { once } from "node:events";
import "reflect-metadata";
import type { EntityManager } from "typeorm";
import { loadConfig, type Config } from "./config.js";
import { finishRotation, loadMasterKeyFiles, rotationKey } from "./crypto/master-key-file.js";
import { keyIdOf } from "./crypto/secret-box.js";
import { leaveSignalsToCaller } from "./db/embedded.js";
import { liveServers, Presence, PRESENCE_INTERVAL_MS, PRESENCE_TIMEOUT_MS } from "./db/presence.js";
import { bootstrapOrg } from "./domain/bootstrap.js";
import { RequestContext, serverActor } from "./domain/context.js";
import { Org } from "./entities/index.js";
import { auditEventRecord, auditEventsOf } from "./domain/audit-export.js";
import { rules } from "./domain/validation.js";
import { createLogger, logProcessWarnings, type Logger } from "./logger.js";
import { buildApiSchema, SCHEMA_FILE } from "./graphql/schema.js";
import { assertPortAvailable, openApplication, openDatabaseOnly, startServer } from "./server.js";
import { grantServerRole } from "./db/data-source.js";
import { PENDING_LIMIT_SECONDS, verifyAuditChain } from "./domain/audit-chain.js";
import { COMMANDS, type Flags, type FlagValues, parseFlags, quoted, unknownCommand, UsageError } from "./cli-usage.js";

/*
 * TypeORM's start-up schema check runs its queries side by side on one pg client, which pg 8 warns
 * about on every start. An operator can do nothing about it, and it would push a command's one-line
 * error off its own line; every other warning is printed as Node prints it.
 */
const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "DeprecationWarning" && warning.message.includes("client is already executing a query")) return;
  for (const listener of printWarning) listener(warning);
});

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
  const secretBox = application.services.secretBox;
  const presence = await Presence.announce(application.dataSource, {
    url: server.url,
    keyIds: () => secretBox.keyIds(),
    // Embedded: a rotation writes its new key into the data folder first; take it up before saying which keys this server holds.
    beforeBeat: config.masterKey
      ? undefined
      : async () => {
          const files = await loadMasterKeyFiles(config.dataDir);
          const before = secretBox.keyIds();
          secretBox.adopt(files.current, [...files.previous, ...config.previousMasterKeys]);
          const added = secretBox.keyIds().filter((id) => !before.includes(id));
          if (added.length > 0) logger.info({ keyIds: added, currentKeyId: secretBox.currentKeyId }, "took up master keys a rotation wrote into the data folder");
        },
    onError: (error) => logger.warn({ err: error }, "could not announce this server's presence"),
  });
  logger.info({ url: `${server.url}/graphql` }, "providers-api is listening");
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining in-flight requests, then closing the database");
    presence
      .withdraw()
      .catch((error) => logger.warn({ err: error }, "could not withdraw this server's presence"))
      .then(() => server.stop())
      .then(
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

const bootstrap = command({ org: { type: "string", value: "<slug>", required: true }, name: { type: "string", value: "<name>" } }, async (config, logger, values) => {
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
});

const migrateProfiles = command({ org: { type: "string", value: "<slug>", required: true } }, async (config, logger, values) => {
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
});

const migrate = command({ "server-role": { type: "string", value: "<role>" } }, async (config, logger, values) => {
  const application = await openApplication({ ...config, databaseMigrations: "apply" }, logger, { command: "migrate" });
  try {
    if (values["server-role"] !== undefined) await grantServerRole(application.dataSource, values["server-role"]);
  } finally {
    await application.close();
  }
  process.stderr.write(
    values["server-role"] !== undefined
      ? `The database is migrated, and the role "${values["server-role"]}" may use it (INSERT and SELECT only on the audit trail).\n`
      : "The database is migrated.\n",
  );
});

const auditExport = command(
  { org: { type: "string", value: "<slug>", required: true }, since: { type: "string", value: "<ISO date>" }, format: { type: "string", value: "jsonl", default: "jsonl" } },
  async (config, logger, values) => {
  if (values.format !== "jsonl") throw new UsageError(`audit export: --format ${quoted(values.format)} is not a format; the one format is jsonl (one JSON object a line)`);
  const since = values.since === undefined ? null : new Date(values.since);
  if (since && (Number.isNaN(since.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(values.since!))) {
    throw new UsageError(`audit export: --since ${quoted(values.since!)} is not a date; give an ISO 8601 date or time such as 2026-11-01 or 2026-11-01T12:00:00Z`);
  }
  if (!rules.orgSlug.pattern.test(values.org)) throw new UsageError(rules.orgSlug.message);
  const database = await openDatabaseOnly(config, logger, "audit export");
  try {
    const org = await database.dataSource.manager.findOneBy(Org, { slug: values.org });
    if (!org) throw new Error(`there is no org "${values.org}"; check the slug (bootstrap --org creates one).`);
    let count = 0;
    for await (const event of auditEventsOf(database.dataSource.manager, org.id, since)) {
      // Respect a slow reader (a pipe to a SIEM shipper): wait for stdout to drain before reading on.
      if (!process.stdout.write(`${JSON.stringify(auditEventRecord(event))}\n`)) await once(process.stdout, "drain");
      count++;
    }
    process.stderr.write(`Exported ${count} audit event(s) of org "${org.slug}".\n`);
  } finally {
    await database.close();
  }
  },
);

/** Exit status of `audit verify` when a chain is broken (1 is for "could not check"). */
const CHAIN_BROKEN = 3;
/** …and when every chain is intact but events have waited too long for their sealing. */
const SEALING_OVERDUE = 4;

const auditVerify = command({ org: { type: "string", value: "<slug>" } }, async (config, logger, values) => {
  if (values.org !== undefined && !rules.orgSlug.pattern.test(values.org)) throw new UsageError(rules.orgSlug.message);
  const database = await openDatabaseOnly(config, logger, "audit verify");
  try {
    const orgs: Array<{ id: string; slug: string }> = await database.dataSource.query(
      `SELECT id, slug FROM orgs ${values.org === undefined ? "" : "WHERE slug = $1"} ORDER BY slug`,
      values.org === undefined ? [] : [values.org],
    );
    if (values.org !== undefined && orgs.length === 0) throw new Error(`there is no org "${values.org}"; check the slug.`);
    let brokenCount = 0;
    let overdueCount = 0;
    for (const org of orgs) {
      const report = await verifyAuditChain(database.dataSource.manager, org.id);
      const { pending } = report;
      if (pending.overdue) {
        overdueCount++;
        const { eventId, action, occurredAt, ageSeconds } = pending.oldest!;
        process.stdout.write(
          `${org.slug}: UNSEALED for too long: ${pending.events} event(s) wait for their sealing, the oldest (event ${eventId}, ${action} at ${occurredAt}) for ${ageSeconds} s; ` +
            `a running server seals them within seconds: is one running?\n`,
        );
      }
      if (report.broken) {
        brokenCount++;
        const { seq, eventId, action, occurredAt, reason } = report.broken;
        const found = eventId ? ` (event ${eventId}, ${action} at ${occurredAt})` : "";
        process.stdout.write(`${org.slug}: BROKEN at #${seq}${found}: ${reason}\n`);
      } else {
        const head = report.head ? `; head #${report.head.seq} ${report.head.hash}` : "";
        const waiting = pending.events > 0 ? `; ${pending.events} pending (not sealed yet, the oldest for ${pending.oldest!.ageSeconds} s)` : "";
        process.stdout.write(`${org.slug}: intact, ${report.events} event(s)${head}${waiting}\n`);
      }
    }
    if (brokenCount > 0) {
      process.stderr.write(`${brokenCount} audit chain(s) broken: the audit trail was tampered with outside the server.\n`);
      process.exitCode = CHAIN_BROKEN;
    } else if (overdueCount > 0) {
      process.stderr.write(`${overdueCount} org(s) have audit events unsealed for more than ${PENDING_LIMIT_SECONDS} s: start a server (it seals them at start-up), or see its log for why it cannot.\n`);
      process.exitCode = SEALING_OVERDUE;
    }
  } finally {
    await database.close();
  }
});

/**
 * Re-sealing with a key a live server does not hold would fail that server's every deployment that opens
 * a secret. Embedded servers take up the key from the data folder within a beat, so this waits for them;
 * servers given their keys in the environment cannot, so this refuses at once, naming them.
 */
async function untilServersHold(em: EntityManager, keyId: string, embedded: boolean): Promise<void> {
  const deadline = Date.now() + (embedded ? 2 * PRESENCE_INTERVAL_MS + 1000 : 0);
  for (;;) {
    const missing = (await liveServers(em)).filter((server) => !server.keyIds.includes(keyId));
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      const list = missing.map((s) => `pid ${s.pid} on ${s.hostname}${s.url ? ` (${s.url})` : ""}, seen ${s.secondsAgo} s ago`).join("; ");
      throw new Error(
        `rotate-master-key refused, nothing was re-sealed: ${missing.length} live server(s) do not hold the new master key id ${keyId}: ${list}. ` +
          (embedded
            ? "They did not take it up from the data folder in time; check they can read it, or stop them, then run this again."
            : "Restart each with the new key in PROVIDERS_MASTER_KEY and the old one in PROVIDERS_PREVIOUS_MASTER_KEYS, then run this again.") +
          ` A server stopped without saying so drops out after ${PRESENCE_TIMEOUT_MS / 1000} s.`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const rotateMasterKey = command({}, async (config, logger) => {
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
    await untilServersHold(application.dataSource.manager, keyIdOf(effective.masterKey!), embedded);
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
});

/** A command that reads its flags before anything else, then runs with the configuration. */
type Runner = (config: Config, logger: Logger) => Promise<void>;
type Command = (name: string, args: string[]) => Runner;

function command<F extends Flags>(flags: F, run: (config: Config, logger: Logger, values: FlagValues<F>) => Promise<void>): Command {
  return (name, args) => {
    const values = parseFlags(name, flags, args);
    return (config, logger) => run(config, logger, values);
  };
}

/** `audit <subcommand>`: one entry per subcommand. */
const AUDIT_COMMANDS: Record<string, Command> = { verify: auditVerify, export: auditExport };

const SERVER_COMMANDS: Record<string, Command> = {
  serve: command({}, serve),
  migrate,
  "rotate-master-key": rotateMasterKey,
  bootstrap,
  "migrate-profiles": migrateProfiles,
  audit: (_name, [subcommand, ...rest]) => {
    const run = subcommand !== undefined && Object.hasOwn(AUDIT_COMMANDS, subcommand) ? AUDIT_COMMANDS[subcommand] : undefined;
    if (run) return run(`audit ${subcommand}`, rest);
    throw subcommand === undefined ? new UsageError(`audit needs a subcommand: ${Object.keys(AUDIT_COMMANDS).join(", ")}`) : unknownCommand(subcommand, Object.keys(AUDIT_COMMANDS), "audit");
  },
};

/**
 * Runs a server-side command. Its flags are read first, so that a usage error is reported as one (exit 2)
 * whatever the environment holds; configuration comes from the environment.
 */
export async function runServerCommand(name: string, rest: string[]): Promise<void> {
  if (name === "emit-schema") {
    parseFlags(name, {}, rest);
    await buildApiSchema({ emit: true });
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    return;
  }
  const build = Object.hasOwn(SERVER_COMMANDS, name) ? SERVER_COMMANDS[name] : undefined;
  if (!build) throw unknownCommand(name, COMMANDS);
  const run = build(name, rest);
  const config = loadConfig();
  // Logs go to stderr for one-shot commands, so their stdout stays machine-readable.
  const logger = createLogger(config.logLevel, name === "serve" ? undefined : process.stderr);
  logProcessWarnings(logger);
  return run(config, logger);
}
