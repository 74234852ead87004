import { expect } from "chai";
import { COMMANDS, USAGE } from "../src/cli-usage.js";
import { ConfigError, loadConfig, specs } from "../src/config.js";
import { runCli, type CliResult } from "./cli-process.js";

/*
 * The command line used wrongly, as a person or a CI script does: the real CLI as a child process.
 * Every usage error is exit 2 and one line on stderr that names the problem (and the flag or command
 * meant, when one is close); stdout stays empty, so a credential_process reader never parses an error.
 */

function expectUsageError(result: CliResult, line: string | RegExp) {
  expect(result.status, result.stderr).to.equal(2);
  expect(result.stdout).to.equal("");
  const lines = result.stderr.split("\n").filter(Boolean);
  expect(lines, result.stderr).to.have.length(1);
  if (typeof line === "string") expect(lines[0]).to.equal(line);
  else expect(lines[0]).to.match(line);
  expect(result.stderr).not.to.include("Usage:");
}

const DEPLOY = ["--org", "acme", "--app", "shop", "--service", "api", "--stage", "dev"];

describe("the command line's usage errors", function () {
  this.timeout(120_000);

  it("an unknown flag: one line naming it and the flag meant, exit 2, nothing on stdout", async () => {
    const env = { PROVIDERS_API_URL: "http://127.0.0.1:1", PROVIDERS_API_KEY: "pvk_x" };
    expectUsageError(await runCli(["credentials", ...DEPLOY, "--regin", "eu-west-1"], env), "providers-api: credentials: unknown flag --regin; did you mean --region?");
    expectUsageError(await runCli(["parameters", ...DEPLOY, "--fromat", "json"], env), "providers-api: parameters: unknown flag --fromat; did you mean --format?");
    expectUsageError(await runCli(["bootstrap", "--orgs", "acme"], {}), "providers-api: bootstrap: unknown flag --orgs; did you mean --org?");
    expectUsageError(await runCli(["audit", "export", "--org", "acme", "--snice", "2026-01-01"], {}), "providers-api: audit export: unknown flag --snice; did you mean --since?");
    expectUsageError(await runCli(["migrate", "--server-rol", "api"], {}), "providers-api: migrate: unknown flag --server-rol; did you mean --server-role?");
    // Nothing close: the flags the command takes instead of a guess.
    expectUsageError(
      await runCli(["credentials", ...DEPLOY, "--zzzzzz"], env),
      "providers-api: credentials: unknown flag --zzzzzz; it takes --org, --app, --service, --stage, --region, --insecure, --duration",
    );
    expectUsageError(await runCli(["serve", "--port", "5000"], {}), /^providers-api: serve: unknown flag --port; it takes no flags \(settings are environment variables such as PORT/);
  });

  it("a missing required flag or value: one line naming each, exit 2 — before the configuration is read", async () => {
    expectUsageError(await runCli(["credentials", "--org", "acme", "--app", "shop"], {}), "providers-api: credentials needs --service <service>, --stage <stage>");
    expectUsageError(await runCli(["bootstrap"], {}), "providers-api: bootstrap needs --org <slug>");
    // A bad environment does not hide the usage error behind a configuration one.
    expectUsageError(await runCli(["bootstrap"], { PORT: "abc" }), "providers-api: bootstrap needs --org <slug>");
    expectUsageError(await runCli(["migrate-profiles", "--org"], {}), "providers-api: migrate-profiles: --org needs a value: --org <slug>");
    expectUsageError(await runCli(["credentials", "--org", "--app", "shop"], {}), 'providers-api: credentials: --org needs a value: --org <slug> (write --org=--app if that is the value)');
    expectUsageError(await runCli(["credentials", ...DEPLOY, "--insecure=yes"], {}), "providers-api: credentials: --insecure takes no value (write --insecure alone)");
    expectUsageError(await runCli(["credentials", ...DEPLOY, "extra"], {}), /^providers-api: credentials: unexpected argument "extra"; it takes --org, /);
    expectUsageError(await runCli(["audit"], {}), "providers-api: audit needs a subcommand: verify, export");
  });

  it("an unknown command or subcommand: one line with the one meant, or the list", async () => {
    expectUsageError(await runCli(["credentails", ...DEPLOY], {}), 'providers-api: unknown command "credentails"; did you mean credentials? (--help lists them)');
    expectUsageError(await runCli(["servre"], { PORT: "abc" }), 'providers-api: unknown command "servre"; did you mean serve? (--help lists them)');
    expectUsageError(await runCli(["audit", "exprot"], {}), 'providers-api: unknown audit subcommand "exprot"; did you mean export? (--help lists them)');
    expectUsageError(await runCli(["xyzzy"], {}), `providers-api: unknown command "xyzzy"; the commands are ${COMMANDS.join(", ")} (--help lists them)`);
  });

  it("a bad value of a flag: one line saying what a valid one looks like", async () => {
    expectUsageError(await runCli(["credentials", ...DEPLOY, "--duration", "1.5"], {}), 'providers-api: credentials: --duration "1.5" is not a number of seconds; give a whole number such as 3600');
    expectUsageError(await runCli(["parameters", ...DEPLOY, "--format", "jsn"], {}), 'providers-api: parameters: --format "jsn" is not a format; did you mean json? it is one of env, json, dotenv');
    expectUsageError(await runCli(["audit", "export", "--org", "acme", "--format", "csv"], {}), /^providers-api: audit export: --format "csv" is not a format; the one format is jsonl/);
  });

  it("hostile arguments are quoted, bounded and never reach the terminal raw", async () => {
    const hostile = `--\u001b[31m${"x".repeat(5000)}`;
    const result = await runCli(["credentials", ...DEPLOY, hostile], {});
    expect(result.status).to.equal(2);
    expect(result.stderr).not.to.include("\u001b");
    expect(result.stderr.length).to.be.below(400);
    const command = await runCli([`\u0007${"y".repeat(5000)}`], {});
    expect(command.status).to.equal(2);
    expect(command.stderr).not.to.include("\u0007");
    expect(command.stderr.length).to.be.below(400);
  });

  it("--help anywhere prints the usage on stdout and exits 0; the usage names every command", async () => {
    const help = await runCli(["credentials", "--help"], {});
    expect(help.status).to.equal(0);
    expect(help.stdout.trim()).to.equal(USAGE);
    for (const command of COMMANDS.filter((c) => c !== "help")) expect(USAGE).to.match(new RegExp(`^  ${command}\\b`, "m"));
  });
});

describe("configuration errors", () => {
  /** A bad value for every variable the server validates, and what the message must say a valid value is. */
  const BAD: Record<string, [string, RegExp]> = {
    PORT: ["abc", /^PORT must be a whole number from 1 to 65535 \(a TCP port\), not "abc"$/],
    EMBEDDED_POSTGRES_PORT: ["70000", /^EMBEDDED_POSTGRES_PORT must be a whole number from 1 to 65535 \(a TCP port\), not "70000"$/],
    METRICS_PORT: ["0", /^METRICS_PORT must be a whole number from 1 to 65535/],
    DATABASE_URL: ["mysql://x", /^DATABASE_URL must be a PostgreSQL URL such as postgres:\/\/user:password@host:5432\/database$/],
    PROVIDERS_MASTER_KEY: ["short", /^PROVIDERS_MASTER_KEY must be the base64 encoding of exactly 32 random bytes/],
    PROVIDERS_PREVIOUS_MASTER_KEYS: ["short", /^PROVIDERS_PREVIOUS_MASTER_KEYS must be a comma-separated list of base64-encoded 32-byte keys$/],
    LOG_LEVEL: ["wran", /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "wran" \(did you mean warn\?\)$/],
    DATABASE_MIGRATIONS: ["yes", /^DATABASE_MIGRATIONS must be one of apply, check, not "yes"$/],
    SHUTDOWN_GRACE_MS: ["-1", /^SHUTDOWN_GRACE_MS must be a whole number of milliseconds, at least 0, not "-1"$/],
    DATABASE_POOL_SIZE: ["1", /^DATABASE_POOL_SIZE must be a whole number, at least 2, not "1"$/],
    DATABASE_POOL_TIMEOUT_MS: ["5s", /^DATABASE_POOL_TIMEOUT_MS must be a whole number of milliseconds, at least 1, not "5s"$/],
    DATABASE_STATEMENT_TIMEOUT_MS: ["0", /^DATABASE_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds, at least 1/],
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: ["1.5", /^DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS must be a whole number of milliseconds, at least 1/],
    STS_TIMEOUT_MS: ["ten", /^STS_TIMEOUT_MS must be a whole number of milliseconds, at least 1, not "ten"$/],
    STS_MAX_ATTEMPTS: ["0", /^STS_MAX_ATTEMPTS must be a whole number, at least 1/],
    AWS_EXTRA_REGIONS: ["Mars 1", /^AWS_EXTRA_REGIONS must be a comma-separated list of region codes such as ap-southeast-7$/],
    MAX_INSTANCES_PER_ORG: ["lots", /^MAX_INSTANCES_PER_ORG must be a whole number, at least 1, not "lots"$/],
    MAX_QUERY_DEPTH: ["0", /^MAX_QUERY_DEPTH must be a whole number, at least 1/],
    MAX_QUERY_ALIASES: ["0", /^MAX_QUERY_ALIASES must be a whole number, at least 1/],
    MAX_QUERY_TOKENS: ["1e3", /^MAX_QUERY_TOKENS must be a whole number, at least 1, not "1e3"$/],
    MAX_QUERY_DIRECTIVES: ["-5", /^MAX_QUERY_DIRECTIVES must be a whole number, at least 1/],
    MAX_QUERY_COST: ["0x10", /^MAX_QUERY_COST must be a whole number, at least 1/],
    MAX_RESPONSE_BYTES: ["16MB", /^MAX_RESPONSE_BYTES must be a whole number, at least 1, not "16MB"$/],
    TRUST_PROXY: ["true", /^TRUST_PROXY must be false, a number of proxy hops \(1 for one proxy in front\), or a comma-separated list/],
    AUTH_FAILURE_LIMIT: ["0", /^AUTH_FAILURE_LIMIT must be a whole number, at least 1/],
    AUTH_FAILURE_WINDOW_SECONDS: ["a minute", /^AUTH_FAILURE_WINDOW_SECONDS must be a whole number of seconds, at least 1, not "a minute"$/],
  };
  /** Free text: any value is one (a path, a host name, a region the SDK resolves). */
  const FREE_TEXT = ["HOST", "PROVIDERS_DATA_DIR", "AWS_REGION", "AUDIT_LOG_FILE"];

  const problemOf = (name: string, value: string) => {
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).to.match(/^Invalid configuration: .*\.$/);
      return message.replace(/^Invalid configuration: /, "").replace(/\.$/, "");
    }
    throw new Error(`${name}=${value} was accepted`);
  };

  it("every variable's message says what a valid value looks like", () => {
    for (const [name, [value, says]] of Object.entries(BAD)) expect(problemOf(name, value), name).to.match(says);
  });

  it("covers every variable the server validates", () => {
    expect([...Object.keys(BAD), ...FREE_TEXT].sort()).to.deep.equal(Object.keys(specs).sort());
  });

  it("never echoes a secret's value, and bounds what it echoes", () => {
    expect(problemOf("PROVIDERS_MASTER_KEY", "hunter2-secret")).not.to.include("hunter2");
    expect(problemOf("DATABASE_URL", "mysql://u:hunter2@h/db")).not.to.include("hunter2");
    const long = problemOf("PORT", "9".repeat(10_000));
    expect(long.length).to.be.below(120);
  });

  it("as the CLI prints it: one line on stderr, exit 1, nothing on stdout", async () => {
    const result = await runCli(["migrate"], { PORT: "abc", LOG_LEVEL: "wran" });
    expect(result.status).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.equal(
      'Invalid configuration: PORT must be a whole number from 1 to 65535 (a TCP port), not "abc"; LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "wran" (did you mean warn?).\n',
    );
  });
});
