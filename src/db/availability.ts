/*
 * Whether an error means "the database cannot do this now" rather than "this request is wrong": the
 * pool had no free connection in time, the server is unreachable or restarting, a connection was cut,
 * a statement or an idle transaction ran past its timeout. The API answers those SERVICE_UNAVAILABLE
 * (retryable, HTTP 503) with a plain sentence, never the driver's words.
 */

/** SQLSTATEs of a connection lost or refused, resources exhausted, or a statement cancelled by its timeout. */
const UNAVAILABLE_STATES = /^(08...|53...|57P0[1-4]|57014|25P03)$/;
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** What pg and pg-pool say when they give up waiting or lose a connection: they set no code. */
const DRIVER_MESSAGES = [
  "timeout exceeded when trying to connect",
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
  "is not currently accepting connections",
  "the database system is starting up",
  "the database system is shutting down",
];

export const DATABASE_UNAVAILABLE_MESSAGE =
  "The server cannot reach its database right now, or all its database connections are busy; nothing was changed. Try again in a moment.";

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && (UNAVAILABLE_STATES.test(e.code) || NETWORK_CODES.has(e.code))) return true;
    if (typeof e.message === "string" && DRIVER_MESSAGES.some((m) => (e!.message as string).includes(m))) return true;
    // TypeORM wraps the driver's error; an AggregateError (both IPv4 and IPv6 refused) lists them.
    const nested = e.driverError ?? e.cause ?? (e as { errors?: unknown[] }).errors?.[0];
    e = nested as typeof e;
  }
  return false;
}
