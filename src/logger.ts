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

/**
 * Structured logs on stdout. Anything that could carry a secret is redacted by path, an error never
 * brings its SQL along (serializeError), and the code never logs request bodies, variables or
 * provider rows in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "providers-api" },
      serializers: { err: serializeError },
      redact: {
        paths: ["authorization", "*.authorization", "headers.authorization", "*.headers.authorization", "token", "*.token", "secret*", "*.secret*"],
        censor: "[redacted]",
      },
    },
    destination,
  );
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
