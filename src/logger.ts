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
