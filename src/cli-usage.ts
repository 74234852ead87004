import { parseArgs } from "node:util";
import { nearestName } from "./nearest-name.js";

/** The command line's help text and flag parsing; shared by the client and the server commands, and loads nothing heavy. */
export const USAGE = `Usage: providers-api <command> [options]

Commands:
  serve                          start the API server (the default)
  migrate [--server-role <role>] apply pending database migrations and exit; with --server-role, then
                                 grant that database role what the server needs and no more (run it
                                 as the owner; serve as the role with DATABASE_MIGRATIONS=check)
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
                                 old one in PROVIDERS_PREVIOUS_MASTER_KEYS on every server first.
                                 Embedded: a new key is generated in the data folder, and a running
                                 server takes it up.
  audit export --org <slug> [--since <ISO date>] [--format jsonl]
                                 stream the org's audit trail, oldest first, one JSON object a
                                 line on stdout (for a SIEM)
  audit verify [--org <slug>]    check each org's audit hash chain (or one org's) and name the first
                                 broken link; exits with status 3 when a chain is broken, 4 when
                                 events have waited over a minute for their sealing
  emit-schema                    write schema/schema.graphql
  dev-sts [--port <port>]        for trying deployments on a laptop without AWS: start an STS test
                                 double on 127.0.0.1 (port 4599 by default; it is NOT AWS) that accepts
                                 any role, and print the settings a server needs to use it

Configuration comes from the environment; see the README.`;

/** A command used wrongly: one line naming the problem, exit code 2. */
export class UsageError extends Error {}

/** A flag a command takes: a string with a placeholder for messages (`--org <slug>`), or a switch. */
export type Flag = { type: "string"; value: string; required?: true; default?: string } | { type: "boolean" };
export type Flags = Record<string, Flag>;

export type FlagValues<F extends Flags> = { [K in keyof F]: F[K] extends { type: "boolean" } ? boolean | undefined : F[K] extends { required: true } | { default: string } ? string : string | undefined };

/** Every command (and `audit` subcommand) the CLI knows, for "did you mean". */
export const COMMANDS = ["serve", "migrate", "bootstrap", "migrate-profiles", "credentials", "parameters", "rotate-master-key", "audit", "emit-schema", "dev-sts", "help"] as const;

/** A user's text quoted for a one-line message: JSON-escaped (no control character reaches the terminal), at most 60 characters. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function flagList(flags: Flags): string {
  const names = Object.keys(flags).map((name) => `--${name}`);
  return names.length ? `it takes ${names.join(", ")}` : "it takes no flags (settings are environment variables such as PORT; see the README)";
}

/** `unknown command "servre"; did you mean serve?` — one line, for the CLI's own commands or a command's subcommands. */
export function unknownCommand(given: string, known: readonly string[], of = ""): UsageError {
  const suggestion = nearestName(given, known);
  return new UsageError(
    `unknown ${of ? `${of} subcommand` : "command"} ${quoted(given)}; ${suggestion ? `did you mean ${suggestion}?` : `the ${of ? `${of} subcommands` : "commands"} are ${known.join(", ")}`} (--help lists them)`,
  );
}

/**
 * Parses a command's flags with node:util's parseArgs. Every misuse — an unknown flag, a flag without its
 * value or with one it does not take, a stray argument, a missing required flag — is a UsageError of one
 * line that names it and, for an unknown flag, the closest flag the command takes.
 */
export function parseFlags<F extends Flags>(command: string, flags: F, args: readonly string[]): FlagValues<F> {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [name, flag.type === "string" && flag.default !== undefined ? { type: "string" as const, default: flag.default } : { type: flag.type }]),
  );
  // Read leniently first, to name the first problem the way a person wrote it; then strictly.
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "positional") throw new UsageError(`${command}: unexpected argument ${quoted(token.value)}; ${flagList(flags)}`);
    if (token.kind !== "option") continue;
    const flag = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (!flag) {
      const suggestion = nearestName(token.name, Object.keys(flags));
      throw new UsageError(`${command}: unknown flag ${quoted(token.rawName).slice(1, -1)}; ${suggestion ? `did you mean --${suggestion}?` : flagList(flags)}`);
    }
    if (flag.type === "boolean" && token.value !== undefined) throw new UsageError(`${command}: --${token.name} takes no value (write --${token.name} alone)`);
    if (flag.type === "string" && token.value === undefined) throw new UsageError(`${command}: --${token.name} needs a value: --${token.name} ${flag.value}`);
    if (flag.type === "string" && !token.inlineValue && token.value!.startsWith("-")) {
      throw new UsageError(`${command}: --${token.name} needs a value: --${token.name} ${flag.value} (write --${token.name}=${quoted(token.value!).slice(1, -1)} if that is the value)`);
    }
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split("\n")[0]}`);
  }
  const missing = Object.entries(flags).filter(([name, flag]) => flag.type === "string" && flag.required && !values[name]);
  if (missing.length > 0) throw new UsageError(`${command} needs ${missing.map(([name, flag]) => `--${name} ${(flag as { value: string }).value}`).join(", ")}`);
  return values as FlagValues<F>;
}
