/**
 * Errors the domain raises. The GraphQL layer turns UserError into a payload's `userErrors`
 * and the others into GraphQL errors carrying `code`; none of them ever carries a secret.
 */

/** Where a caller meets a code: `extensions.code` of a GraphQL error, or `code` in a mutation's `userErrors`. */
type ErrorPlace = "error" | "userError";

/**
 * Every code a caller can be answered with, and what it asks of them. docs/errors.md lists exactly
 * these (test/errors.test.ts checks both ways, and that no code in the source is missing here); the
 * error classes take only these codes, so a new code cannot be thrown before it is written down.
 */
export const ERROR_CODES = {
  // Transport and GraphQL (before or around any resolver)
  BAD_REQUEST: { place: "error", http: 400, meaning: "The request body is not JSON, is over 1 MB, or is not a GraphQL request: send `{ query, variables }` as JSON. Or it is one a page on another site could make a browser send (a GET or a form or text/plain POST) and has no `Authorization` header: send the access key as `Authorization: Bearer <key>`." },
  GRAPHQL_PARSE_FAILED: { place: "error", http: 400, meaning: "The query is not valid GraphQL syntax." },
  GRAPHQL_VALIDATION_FAILED: { place: "error", http: 400, meaning: "The query asks for something the schema does not have (see schema/schema.graphql)." },
  OPERATION_RESOLUTION_FAILURE: { place: "error", http: 400, meaning: "`operationName` names no operation of the document." },
  PERSISTED_QUERY_NOT_FOUND: { place: "error", http: 200, meaning: "An automatic persisted query's hash is unknown to this server: send the query text with it." },
  QUERY_TOO_COMPLEX: { place: "error", http: 400, meaning: "The request is over a query limit (depth, aliases, tokens, directives or cost; `extensions.limit` names the setting) and nothing ran. Ask for less at once." },
  RESPONSE_TOO_LARGE: { place: "error", http: 400, meaning: "The answer would be larger than MAX_RESPONSE_BYTES and was not sent. Ask for a smaller page." },
  UNAUTHENTICATED: { place: "error", http: 401, meaning: "No access key, or one that is unknown, revoked or expired. Send a valid key as `Authorization: Bearer <key>`." },
  TOO_MANY_FAILED_AUTHENTICATIONS: { place: "error", http: 429, meaning: "Too many failed authentications from the caller's address; wait `retryAfterSeconds` (the Retry-After header) and use a valid key." },
  FORBIDDEN: { place: "error", http: 200, meaning: "The key's role or scope does not allow this; the refusal is in the audit trail. Use a key that may, or ask an org admin." },
  NOT_FOUND: { place: "error", http: 200, meaning: "The object does not exist, or is in another org or outside the key's scope: the three look the same." },
  BAD_USER_INPUT: { place: "error", http: 200, meaning: "An argument outside a mutation's input has the wrong form (a stage, region, slug, cursor, filter); `extensions.field` names it." },
  SERVICE_UNAVAILABLE: { place: "error", http: 503, meaning: "The database is unreachable or busy, or an issuance could not be recorded; nothing changed. Retry in a moment." },
  INTERNAL_SERVER_ERROR: { place: "error", http: 500, meaning: "A fault of the server, logged with the request id (the X-Request-Id header); report it if it persists." },
  CLIENT_DISCONNECTED: { place: "error", http: 200, meaning: "The client went away before the answer; the rest of the operation was not run. Nobody reads it but the log." },
  // AWS STS, for deployment credentials and verifyProvider
  STS_ACCESS_DENIED: { place: "error", http: 200, meaning: "AWS refused to let the server assume the role (or the access key lacks permission): an admin fixes the role's trust policy or the key's IAM policy." },
  SESSION_DURATION_TOO_LONG: { place: "error", http: 200, meaning: "The role allows shorter sessions than asked for: ask for a shorter sessionDurationSeconds, or raise the role's MaxSessionDuration." },
  STS_THROTTLED: { place: "error", http: 200, meaning: "AWS STS throttled every attempt (`retryable: true`). Retry shortly." },
  STS_UNAVAILABLE: { place: "error", http: 200, meaning: "AWS STS did not answer in STS_TIMEOUT_MS (`retryable: true`). Retry; an operator checks the network path to STS." },
  SERVER_AWS_CREDENTIALS_REJECTED: { place: "error", http: 200, meaning: "STS rejected the server's own AWS identity: an operator fixes it." },
  SERVER_AWS_CREDENTIALS_MISSING: { place: "error", http: 200, meaning: "The server has no AWS identity to assume roles with: an operator gives it one." },
  PROVIDER_CREDENTIALS_REJECTED: { place: "error", http: 200, meaning: "STS rejected the provider's stored access key (deactivated or deleted): an admin updates the provider." },
  STS_ERROR: { place: "error", http: 200, meaning: "STS refused the request for another reason, named in the message." },
  EXTERNAL_ID_NOT_ENFORCED: { place: "error", http: 200, meaning: "The org refuses credentials from roles assumable without their external id, and this provider's last verification found one: an admin fixes the trust policy and runs verifyProvider." },
  // A mutation's userErrors: nothing was changed
  INVALID_INPUT: { place: "userError", meaning: "A value has the wrong form, holds a control character or is too long; `field` names it." },
  RENAMED_FIELD_CONFLICT: { place: "userError", meaning: "A field and its deprecated former name were both given, with different values (docs/api-naming.md lists the renames). Send the new name alone." },
  REQUIRED_FIELD_MISSING: { place: "userError", meaning: "A required field was given under neither its name nor its deprecated former name; `field` names it." },
  INVALID_SLUG: { place: "userError", meaning: "An org slug is 1–39 lowercase letters, digits and hyphens." },
  INVALID_NAME: { place: "userError", meaning: "A name (provider, key, profile, app or service) does not fit its form; the message says which." },
  INVALID_STAGE: { place: "userError", meaning: "A stage is 1–64 letters, digits and hyphens." },
  INVALID_REGION: { place: "userError", meaning: "A region is an AWS region code such as us-east-1." },
  INVALID_ROLE_ARN: { place: "userError", meaning: "Not an IAM role ARN (arn:aws:iam::123456789012:role/name)." },
  INVALID_ACCESS_KEY_ID: { place: "userError", meaning: "Not an AWS access key id (AKIA… or ASIA…, 20 characters)." },
  INVALID_SECRET_ACCESS_KEY: { place: "userError", meaning: "Not an AWS secret access key (40 characters)." },
  INVALID_STRIPE_KEY: { place: "userError", meaning: "Not a Stripe secret or restricted key (sk_/rk_ live/test)." },
  INVALID_TWILIO_ACCOUNT_SID: { place: "userError", meaning: "Not a Twilio account SID (AC + 32 hex digits)." },
  INVALID_TWILIO_AUTH_TOKEN: { place: "userError", meaning: "Not a Twilio auth token (32 hex digits)." },
  INVALID_CREDENTIALS: { place: "userError", meaning: "Give exactly one kind of credentials: aws.role, aws.accessKey, stripe or twilio." },
  INVALID_SESSION_DURATION: { place: "userError", meaning: "A role provider's maximum session is 900–43200 seconds." },
  INVALID_DURATION: { place: "userError", meaning: "sessionDurationSeconds is outside what the provider's kind allows." },
  INVALID_SCOPE: { place: "userError", meaning: "A key's scope is malformed: an empty list, a bad app/service name or stage pattern, or a provider not in the org." },
  INVALID_EXPIRY: { place: "userError", meaning: "A key's expiry must be in the future." },
  INVALID_EMAIL: { place: "userError", meaning: "Not an email address." },
  NAME_TAKEN: { place: "userError", meaning: "The org (or app) already has one by that name." },
  INSTANCE_EXISTS: { place: "userError", meaning: "The service already has an instance for that stage and region." },
  NEW_STAGE_REFUSED: { place: "userError", meaning: "The org refuses new stages (Org.refuseNewStages) and the service has never had this one; the message names its stages and the nearest. Use a known stage, or ask an admin to add it or for a key with scope.mayCreateStages." },
  INSTANCE_LIMIT_REACHED: { place: "userError", meaning: "The org has as many instances as the server allows (MAX_INSTANCES_PER_ORG): deploy to an existing stage and region, or ask the operator." },
  WOULD_REMOVE_PROVIDER_LINKS: { place: "userError", meaning: "Deleting the app, service or instance would delete provider links with it: unlink them first, or pass force: true." },
  NOT_LINKED: { place: "userError", meaning: "The provider is not linked there; nothing was removed." },
  NOT_MAPPED: { place: "userError", meaning: "The app has no deployment profile for that stage; nothing was removed." },
  NOT_A_ROLE_PROVIDER: { place: "userError", meaning: "Only AWS role providers have an external id to rotate." },
  PROVIDER_TYPE_MISMATCH: { place: "userError", meaning: "A provider's credentials can only be replaced by credentials of the same type." },
  VERIFY_NOT_SUPPORTED: { place: "userError", meaning: "Only AWS providers can be verified." },
  ROLE_REQUIRED: { place: "userError", meaning: "An org key needs a role." },
  ROLE_NOT_ALLOWED: { place: "userError", meaning: "A personal key takes its member's role; give none." },
  ALREADY_REVOKED: { place: "userError", meaning: "The key was already revoked." },
  ALREADY_MEMBER: { place: "userError", meaning: "The person is already a member; change their role instead." },
  INVALID_ORG_UID: { place: "userError", meaning: "Serverless Framework routes: the org uid is not one this server gave out (GET /core/tenants/{org})." },
  INVALID_PROVIDER_UID: { place: "userError", meaning: "Serverless Framework routes: send a providerUid from GET /orgs/{orgUid}/providers." },
  INVALID_PARAMETER_NAME: { place: "userError", meaning: "A parameter name is 1–128 letters, digits, underscores, hyphens, dots and slashes." },
  INVALID_VALUE: { place: "userError", meaning: "A parameter value may hold no control characters but tab and line breaks." },
  VALUE_TOO_LARGE: { place: "userError", meaning: "A parameter value is at most 32 KiB of UTF-8." },
  INVALID_DESCRIPTION: { place: "userError", meaning: "A description is at most 1024 characters, without control characters but tab and line breaks." },
  NEW_VALUE_REQUIRED: { place: "userError", meaning: "Making a secret parameter plain needs a new value (the secret one is never revealed)." },
  LAST_ADMIN: { place: "userError", meaning: "The org's last admin cannot be demoted or removed; make another member an admin first." },
} as const satisfies Record<string, { place: ErrorPlace; http?: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected business failure: bad input, a name already taken. Nothing was changed. */
export class UserError extends Error {
  constructor(
    readonly code: ErrorCode,
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
    readonly code: ErrorCode,
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
