import path from "node:path";
import type { QueryLimits } from "./http/limits.js";
import { cleanEnv, makeValidator, str, EnvError, EnvMissingError } from "envalid";
import { nearestName } from "./nearest-name.js";
import ipaddr from "ipaddr.js";
import { rules } from "./domain/validation.js";

/** A configuration problem, reported as one line a person can act on. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const masterKey = makeValidator<Buffer>((value) => {
  const key = Buffer.from(value, "base64");
  if (key.length !== 32 || key.toString("base64") !== value.replace(/\s/g, "")) {
    throw new EnvError("must be the base64 encoding of exactly 32 random bytes (generate one with `openssl rand -base64 32`)");
  }
  return key;
});

/** Express's "trust proxy" names: the ranges proxy-addr knows by name. */
const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * Which proxies may say who the client is (X-Forwarded-For), as express's "trust proxy" takes it:
 * false (none: the client is the socket's peer), a number of hops, or addresses / CIDR ranges /
 * loopback, linklocal, uniquelocal. `true` (trust any sender) is refused: then every client could
 * name itself anything and walk past the failed-authentication throttle.
 */
export type TrustProxy = false | number | string[];

const trustProxy = makeValidator<TrustProxy>((value) => {
  const text = value.trim();
  if (text === "" || text === "false") return false;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(",").map((entry) => entry.trim());
  const valid = (entry: string) => {
    if (NAMED_RANGES.has(entry) || ipaddr.isValid(entry)) return true;
    try {
      ipaddr.parseCIDR(entry);
      return true;
    } catch {
      return false;
    }
  };
  if (!entries.every(valid)) {
    throw new EnvError(
      "must be false, a number of proxy hops (1 for one proxy in front), or a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal); `true` would let any client name its own address",
    );
  }
  return entries;
});

/** Never echoes the value: a database URL can carry a password. */
const postgresUrl = makeValidator<string>((value) => {
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch {
    // reported below
  }
  if (!parsed || !["postgres:", "postgresql:"].includes(parsed.protocol) || !parsed.hostname) {
    throw new EnvError("must be a PostgreSQL URL such as postgres://user:password@host:5432/database");
  }
  return value;
});

/** The value as a person typed it, for a message: JSON-quoted, at most 40 characters. Only for settings that are no secret. */
const shown = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);

/** A TCP port; the message says what one looks like. */
const tcpPort = makeValidator<number>((value) => {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 65535) {
    throw new EnvError(`must be a whole number from 1 to 65535 (a TCP port), not ${shown(value)}`);
  }
  return Number(value);
});

/** A whole number of `unit` (if any), at least `min`; the message says so. */
const wholeNumber = (min: number, unit = "") =>
  makeValidator<number>((value) => {
    const number = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < min) {
      throw new EnvError(`must be a whole number${unit ? ` of ${unit}` : ""}, at least ${min}, not ${shown(value)}`);
    }
    return number;
  });

/** One of a closed set of words; the message lists them, and names the nearest when one is close. */
const oneOf = <T extends string>(choices: readonly T[]) =>
  makeValidator<T>((value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    const suggestion = nearestName(value, choices);
    throw new EnvError(`must be one of ${choices.join(", ")}, not ${shown(value)}${suggestion ? ` (did you mean ${suggestion}?)` : ""}`);
  });

/** Every variable the server reads; exported so a test can check each one's message. */
export const specs = {
  PORT: tcpPort({ default: 4000, desc: "HTTP port" }),
  HOST: str({ default: "127.0.0.1", desc: "interface to listen on; 0.0.0.0 in a container" }),
  DATABASE_URL: postgresUrl({ default: undefined, desc: "PostgreSQL URL; unset starts the embedded PostgreSQL" }),
  PROVIDERS_DATA_DIR: str({ default: ".data", desc: "folder for the embedded PostgreSQL and its generated master key" }),
  EMBEDDED_POSTGRES_PORT: tcpPort({ default: 54329, desc: "port of the embedded PostgreSQL (never 5432)" }),
  PROVIDERS_MASTER_KEY: masterKey({ default: undefined, desc: "base64 of 32 bytes that encrypt provider secrets" }),
  PROVIDERS_PREVIOUS_MASTER_KEYS: str({ default: "", desc: "comma-separated old master keys, still accepted for decryption" }),
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"])({ default: "info" }),
  SHUTDOWN_GRACE_MS: wholeNumber(0, "milliseconds")({ default: 10_000, desc: "how long SIGTERM waits for in-flight requests" }),
  DATABASE_MIGRATIONS: oneOf(["apply", "check"])({ default: "apply", desc: "apply pending migrations at start-up, or only check that none is pending" }),
  DATABASE_POOL_SIZE: wholeNumber(2)({ default: 10, desc: "database connections per process" }),
  DATABASE_POOL_TIMEOUT_MS: wholeNumber(1, "milliseconds")({ default: 5_000, desc: "the longest a request waits for a free database connection before it is answered SERVICE_UNAVAILABLE" }),
  DATABASE_STATEMENT_TIMEOUT_MS: wholeNumber(1, "milliseconds")({ default: 30_000, desc: "the longest one SQL statement may run (PostgreSQL's statement_timeout)" }),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: wholeNumber(1, "milliseconds")({
    default: 15_000,
    desc: "the longest a connection may sit idle inside a transaction before PostgreSQL ends it (idle_in_transaction_session_timeout)",
  }),
  AWS_REGION: str({ default: "us-east-1", desc: "region of the STS endpoint the server calls with its own AWS identity" }),
  STS_TIMEOUT_MS: wholeNumber(1, "milliseconds")({ default: 10_000, desc: "the longest one STS call may take, retries included, before the request fails" }),
  AWS_EXTRA_REGIONS: str({ default: "", desc: "comma-separated regions to accept besides the AWS SDK's list, e.g. one AWS opened after this release" }),
  MAX_INSTANCES_PER_ORG: wholeNumber(1)({ default: 5_000, desc: "the most instances (service, stage, region) one org may have" }),
  STS_MAX_ATTEMPTS: wholeNumber(1)({ default: 3, desc: "how many times an STS call is tried when STS throttles or fails transiently" }),
  MAX_QUERY_DEPTH: wholeNumber(1)({ default: 20, desc: "deepest nesting of fields one operation may have" }),
  MAX_QUERY_ALIASES: wholeNumber(1)({ default: 30, desc: "aliases one operation may use" }),
  MAX_QUERY_TOKENS: wholeNumber(1)({ default: 2000, desc: "tokens one GraphQL document may have" }),
  MAX_QUERY_DIRECTIVES: wholeNumber(1)({ default: 50, desc: "directives one operation may use" }),
  MAX_QUERY_COST: wholeNumber(1)({ default: 20_000_000, desc: "highest cost of one operation, a connection's `first` multiplying its items' cost" }),
  MAX_RESPONSE_BYTES: wholeNumber(1)({ default: 16 * 1024 * 1024, desc: "largest answer sent, in bytes" }),
  TRUST_PROXY: trustProxy({ default: false, desc: "the proxies whose X-Forwarded-For names the client (express's trust proxy)" }),
  AUTH_FAILURE_LIMIT: wholeNumber(1)({ default: 20, desc: "failed authentications a client address may make per window before it is refused" }),
  METRICS_PORT: tcpPort({ default: undefined, desc: "a port of its own for GET /metrics (on HOST); unset: /metrics is on PORT" }),
  AUDIT_LOG_FILE: str({ default: "", desc: "a file every committed audit event is appended to as a JSON line, or `stdout`; empty: none" }),
  AUTH_FAILURE_WINDOW_SECONDS: wholeNumber(1, "seconds")({ default: 60, desc: "the window AUTH_FAILURE_LIMIT counts over, and the longest a refused address waits" }),
};

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  masterKey: Buffer | undefined;
  previousMasterKeys: Buffer[];
  logLevel: string;
  shutdownGraceMs: number;
  databasePoolSize: number;
  /** "check": the server's role may not change the schema; the owner runs `providers-api migrate`. */
  databaseMigrations: "apply" | "check";
  databasePoolTimeoutMs: number;
  databaseStatementTimeoutMs: number;
  databaseIdleInTransactionTimeoutMs: number;
  awsRegion: string;
  extraAwsRegions: string[];
  maxInstancesPerOrg: number;
  stsTimeoutMs: number;
  stsMaxAttempts: number;
  limits: QueryLimits;
  trustProxy: TrustProxy;
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  /** Null: /metrics is served on the API's port. */
  metricsPort: number | null;
  /** Null: no audit file; "stdout" or a path. */
  auditLogFile: string | null;
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const clean = cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      for (const [name, error] of Object.entries(errors)) {
        const reason = error instanceof EnvMissingError ? "is required" : (error as Error).message;
        problems.push(`${name} ${reason}`);
      }
    },
  });
  const extraAwsRegions = (clean.AWS_EXTRA_REGIONS ?? "").split(",").map((r) => r.trim()).filter(Boolean);
  if (problems.length === 0) {
    if (clean.EMBEDDED_POSTGRES_PORT === 5432 && !clean.DATABASE_URL) {
      problems.push("EMBEDDED_POSTGRES_PORT must not be 5432, where the machine's own PostgreSQL listens; use another free port, such as the default 54329");
    }
    if (clean.METRICS_PORT !== undefined && clean.METRICS_PORT === clean.PORT) problems.push(`METRICS_PORT must differ from PORT (${clean.PORT}); unset it to serve /metrics on PORT`);
    if (extraAwsRegions.some((region) => !rules.region.pattern.test(region))) {
      problems.push("AWS_EXTRA_REGIONS must be a comma-separated list of region codes such as ap-southeast-7");
    }
  }
  const previousMasterKeys: Buffer[] = [];
  for (const value of (env.PROVIDERS_PREVIOUS_MASTER_KEYS ?? "").split(",").map((v) => v.trim()).filter(Boolean)) {
    try {
      previousMasterKeys.push(masterKey()._parse(value));
    } catch {
      problems.push("PROVIDERS_PREVIOUS_MASTER_KEYS must be a comma-separated list of base64-encoded 32-byte keys");
      break;
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join("; ")}.`);
  return {
    port: clean.PORT,
    host: clean.HOST,
    databaseUrl: clean.DATABASE_URL,
    dataDir: path.resolve(clean.PROVIDERS_DATA_DIR),
    embeddedPostgresPort: clean.EMBEDDED_POSTGRES_PORT,
    masterKey: clean.PROVIDERS_MASTER_KEY,
    previousMasterKeys,
    logLevel: clean.LOG_LEVEL,
    shutdownGraceMs: clean.SHUTDOWN_GRACE_MS,
    databasePoolSize: clean.DATABASE_POOL_SIZE,
    databaseMigrations: clean.DATABASE_MIGRATIONS as "apply" | "check",
    databasePoolTimeoutMs: clean.DATABASE_POOL_TIMEOUT_MS,
    databaseStatementTimeoutMs: clean.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseIdleInTransactionTimeoutMs: clean.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    awsRegion: clean.AWS_REGION,
    extraAwsRegions,
    maxInstancesPerOrg: clean.MAX_INSTANCES_PER_ORG,
    stsTimeoutMs: clean.STS_TIMEOUT_MS,
    stsMaxAttempts: clean.STS_MAX_ATTEMPTS,
    limits: {
      maxDepth: clean.MAX_QUERY_DEPTH,
      maxAliases: clean.MAX_QUERY_ALIASES,
      maxTokens: clean.MAX_QUERY_TOKENS,
      maxDirectives: clean.MAX_QUERY_DIRECTIVES,
      maxCost: clean.MAX_QUERY_COST,
      maxResponseBytes: clean.MAX_RESPONSE_BYTES,
    },
    trustProxy: clean.TRUST_PROXY,
    authFailureLimit: clean.AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: clean.AUTH_FAILURE_WINDOW_SECONDS,
    metricsPort: clean.METRICS_PORT ?? null,
    auditLogFile: clean.AUDIT_LOG_FILE.trim() === "" ? null : clean.AUDIT_LOG_FILE.trim() === "stdout" ? "stdout" : path.resolve(clean.AUDIT_LOG_FILE.trim()),
  };
}
