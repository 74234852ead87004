/**
 * Errors the domain raises. The GraphQL layer turns UserError into a payload's `userErrors`
 * and the others into GraphQL errors carrying `code`; none of them ever carries a secret.
 */

/** An expected business failure: bad input, a name already taken. Nothing was changed. */
export class UserError extends Error {
  constructor(
    readonly code: string,
    readonly field: string[] | null,
    message: string,
  ) {
    super(message);
  }
}

/** Several UserErrors at once, so a form can show every bad field together. */
export class UserErrors extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => e.message).join(" "));
  }
}

/** A failure that is reported as a GraphQL error with `extensions.code`. */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The object does not exist, or belongs to an org the caller cannot see: the two look the same. */
export class NotFoundError extends CodedError {
  constructor(what: string) {
    super("NOT_FOUND", `${what} was not found.`);
  }
}

export class UnauthenticatedError extends CodedError {
  constructor(message = "Send a valid access key as `Authorization: Bearer <key>`.") {
    super("UNAUTHENTICATED", message);
  }
}

export class ForbiddenError extends CodedError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/**
 * The server cannot do the work now (the database is unreachable or its connections are all busy, or
 * an issuance could not be recorded): nothing was changed or handed out, and the same request may
 * simply be sent again. HTTP 503 where the transport allows.
 */
export class ServiceUnavailableError extends CodedError {
  constructor(message: string) {
    super("SERVICE_UNAVAILABLE", message, { retryable: true });
  }
}

/** Why the work left after the client went away was not started (nobody reads it). */
export class ClientGoneError extends CodedError {
  constructor() {
    super("CLIENT_DISCONNECTED", "The client disconnected; the rest of the operation was not run.");
  }
}
