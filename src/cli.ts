#!/usr/bin/env node
import { parseArgs } from "node:util";
import { CredentialProcessError, credentialProcessOutput } from "./client/credential-process.js";
import { USAGE, UsageError } from "./cli-usage.js";

/*
 * The entry point loads only what a command needs. `credentials` runs on every AWS SDK credential
 * refresh (credential_process), so it is a plain HTTP client: no database, ORM, GraphQL or AWS SDK.
 * Everything else is in commands.ts, imported on demand.
 */

async function credentials(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      app: { type: "string" },
      service: { type: "string" },
      stage: { type: "string" },
      region: { type: "string" },
      duration: { type: "string" },
      insecure: { type: "boolean" },
    },
  });
  const missing = (["org", "app", "service", "stage"] as const).filter((name) => !values[name]);
  if (missing.length > 0) throw new UsageError(`credentials needs ${missing.map((m) => `--${m}`).join(", ")}`);
  const duration = values.duration === undefined ? null : Number(values.duration);
  if (duration !== null && !Number.isInteger(duration)) throw new UsageError("--duration is a whole number of seconds");
  const output = await credentialProcessOutput(process.env, {
    org: values.org!,
    app: values.app!,
    service: values.service!,
    stage: values.stage!,
    region: values.region ?? null,
    durationSeconds: duration,
  }, { insecure: values.insecure === true, warn: (message) => process.stderr.write(`providers-api credentials: warning: ${message}\n`) });
  process.stdout.write(`${output}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command = "serve", ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  // A client of the API: it needs none of the server's configuration.
  if (command === "credentials") return credentials(rest);
  const { runServerCommand } = await import("./commands.js");
  return runServerCommand(command, rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`providers-api: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  // A ConfigError (config.ts is not loaded for `credentials`) is one line naming the variable.
  const message = (error as Error)?.name === "ConfigError" ? (error as Error).message : error instanceof CredentialProcessError ? `providers-api credentials: ${error.message}` : `providers-api: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
