import pino, { type Logger } from "pino";

/**
 * Structured logs on stdout. Anything that could carry a secret is redacted by path, and the code
 * never logs request bodies, variables or provider rows in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "providers-api" },
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
