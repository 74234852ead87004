import pino, { type Logger } from "pino";

/**
 * What TypeORM and pg hang on a database error besides its message and code: the statement, its
 * bound parameters (a provider's sealed secret, a key's hash, a caller's input) and the driver's
 * detail, which quotes row values ("Key (name)=(prod) already exists").
 */
const DATABASE_DETAIL = ["query", "parameters", "driverError", "detail", "where", "internalQuery", "hint", "table", "column", "constraint"];

/** pino's error serializer, less whatever an error carries of a statement or its data (down its causes). */
export function serializeError(error: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== "object") return serialized;
  for (const key of DATABASE_DETAIL) delete serialized[key];
  const cause = serialized.cause;
  if (cause && typeof cause === "object") serialized.cause = serializeError(cause);
  return serialized;
}

/** The fields any log line could carry a secret in; every line goes through this but the request line (`lineLogger`). */
const SECRET_FIELDS = ["authorization", "token", "sessionToken", "secret", "secretKey", "secretAccessKey"];
const REDACTED = {
  // pino matches whole names (a `secret*` pattern would match nothing), at the top or one level down.
  paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`), "*.headers.authorization"],
  censor: "[redacted]",
};

/**
 * Structured logs on stdout. Anything that could carry a secret is redacted by path, an error never
 * brings its SQL along (serializeError), and the code never logs request bodies, variables or
 * provider rows in the first place.
 *
 * On stdout, lines are written asynchronously (a write of whatever has gathered, not a system call
 * per line, which every request would wait on), and pino writes what is left synchronously when the
 * process exits: after a SIGTERM's drain (`serve` exits through process.exit) as after an uncaught
 * exception. Another destination (stderr for one-shot commands, a test's stream) is written as given.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "providers-api" },
      serializers: { err: serializeError },
      redact: REDACTED,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * The same logger without redaction, for a line whose every field the code fills from values it
 * chose or checked (the request line: ids, a route, an operation label, a status, a duration), so
 * no secret can reach it and matching every field against the redacted paths would only cost every
 * request. Nothing else may log through it; `test/observability.test.ts` pins the request line's
 * fields.
 */
export function lineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

export type { Logger };

/**
 * Node's process warnings become JSON log lines instead of free text on stderr, so the log is JSON
 * alone. A DeprecationWarning is a library's business (pg's, raised inside TypeORM's schema check at
 * every start), so it is logged at debug; any other warning (the AWS SDK's notice about the Node
 * version, a listener leak) at warn.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    const { name, message, code } = warning as Error & { code?: string };
    const line = { warning: { name, code, message } };
    if (name === "DeprecationWarning") logger.debug(line, "process warning");
    else logger.warn(line, "process warning");
  });
}
