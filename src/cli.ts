#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ApiClientError } from "./client/api.js";
import { credentialProcessOutput } from "./client/credential-process.js";
import { COMMANDS, type Flags, parseFlags, quoted, unknownCommand, USAGE, UsageError } from "./cli-usage.js";
import { nearestName } from "./nearest-name.js";

/*
 * The entry point loads only what a command needs. `credentials` runs on every AWS SDK credential
 * refresh (credential_process), so it is a plain HTTP client: no database, ORM, GraphQL or AWS SDK;
 * so is `parameters`.
 * Everything else is in commands.ts, imported on demand.
 */

/** The deployment a client command names, and whether plain http to another machine is allowed. */
const DEPLOYMENT_FLAGS = {
  org: { type: "string", value: "<slug>", required: true },
  app: { type: "string", value: "<app>", required: true },
  service: { type: "string", value: "<service>", required: true },
  stage: { type: "string", value: "<stage>", required: true },
  region: { type: "string", value: "<region>" },
  insecure: { type: "boolean" },
} as const satisfies Flags;

function deploymentArgs<F extends Flags>(command: string, args: string[], extra: F) {
  const values = parseFlags(command, { ...DEPLOYMENT_FLAGS, ...extra }, args);
  return {
    target: { org: values.org, app: values.app, service: values.service, stage: values.stage, region: values.region ?? null },
    client: { insecure: values.insecure === true },
    options: values,
  };
}

async function credentials(args: string[]): Promise<void> {
  const { target, client, options } = deploymentArgs("credentials", args, { duration: { type: "string", value: "<seconds>" } } as const);
  const duration = options.duration === undefined ? null : Number(options.duration);
  if (duration !== null && (!/^\d+$/.test(options.duration!) || !Number.isSafeInteger(duration))) {
    throw new UsageError(`credentials: --duration ${quoted(options.duration!)} is not a number of seconds; give a whole number such as 3600`);
  }
  const output = await credentialProcessOutput(process.env, { ...target, sessionDurationSeconds: duration }, {
    ...client,
    warn: (message) => process.stderr.write(`providers-api credentials: warning: ${message}\n`),
  });
  process.stdout.write(`${output}\n`);
}

async function parameters(args: string[]): Promise<void> {
  const { FORMATS, parametersOutput } = await import("./client/parameters.js");
  type Format = (typeof FORMATS)[number];
  const { target, client, options } = deploymentArgs("parameters", args, { format: { type: "string", value: "env|json|dotenv", default: "env" } } as const);
  if (!(FORMATS as readonly string[]).includes(options.format)) {
    const suggestion = nearestName(options.format, FORMATS);
    throw new UsageError(`parameters: --format ${quoted(options.format)} is not a format; ${suggestion ? `did you mean ${suggestion}? ` : ""}it is one of ${FORMATS.join(", ")}`);
  }
  const output = await parametersOutput(process.env, target, options.format as Format, client);
  process.stdout.write(output ? `${output}\n` : "");
}

async function main(argv: string[]): Promise<void> {
  const [command = "serve", ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help" || rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  // Clients of the API: they need none of the server's configuration.
  if (command === "credentials") return credentials(rest);
  if (command === "parameters") return parameters(rest);
  // A development tool: it needs none of the server's configuration either.
  if (command === "dev-sts") return (await import("./dev-sts/command.js")).devSts(rest);
  if (!(COMMANDS as readonly string[]).includes(command)) throw unknownCommand(command, COMMANDS);
  const { runServerCommand } = await import("./commands.js");
  return runServerCommand(command, rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`providers-api: ${error.message}\n`);
    process.exit(2);
  }
  // A ConfigError (config.ts is not loaded for `credentials`) is one line naming the variable.
  const message = (error as Error)?.name === "ConfigError" ? (error as Error).message : error instanceof ApiClientError ? `providers-api ${process.argv[2]}: ${error.message}` : `providers-api: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
