#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ApiClientError } from "./client/api.js";
import { credentialProcessOutput } from "./client/credential-process.js";
import { USAGE, UsageError } from "./cli-usage.js";

/*
 * The entry point loads only what a command needs. `credentials` runs on every AWS SDK credential
 * refresh (credential_process), so it is a plain HTTP client: no database, ORM, GraphQL or AWS SDK;
 * so is `parameters`.
 * Everything else is in commands.ts, imported on demand.
 */

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
  const output = await credentialProcessOutput(process.env, { ...target, sessionDurationSeconds: duration }, {
    ...client,
    warn: (message) => process.stderr.write(`providers-api credentials: warning: ${message}\n`),
  });
  process.stdout.write(`${output}\n`);
}

async function parameters(args: string[]): Promise<void> {
  const { FORMATS, parametersOutput } = await import("./client/parameters.js");
  type Format = (typeof FORMATS)[number];
  const { target, client, options } = deploymentArgs("parameters", args, { format: { type: "string", default: "env" } });
  if (!(FORMATS as readonly string[]).includes(options.format!)) throw new UsageError(`--format is one of ${FORMATS.join(", ")}`);
  const output = await parametersOutput(process.env, target, options.format as Format, client);
  process.stdout.write(output ? `${output}\n` : "");
}

async function main(argv: string[]): Promise<void> {
  const [command = "serve", ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  // Clients of the API: they need none of the server's configuration.
  if (command === "credentials") return credentials(rest);
  if (command === "parameters") return parameters(rest);
  const { runServerCommand } = await import("./commands.js");
  return runServerCommand(command, rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`providers-api: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  // A ConfigError (config.ts is not loaded for `credentials`) is one line naming the variable.
  const message = (error as Error)?.name === "ConfigError" ? (error as Error).message : error instanceof ApiClientError ? `providers-api ${process.argv[2]}: ${error.message}` : `providers-api: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
