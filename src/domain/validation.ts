import { UserError, UserErrors, type ErrorCode } from "./errors.js";

/*
 * The shapes of the values the API accepts. Each rule carries the code and the sentence a caller
 * sees when a value does not fit; the GraphQL inputs and the CLI use the same rules.
 */
export interface Rule {
  pattern: RegExp;
  code: ErrorCode;
  message: string;
}

export const rules = {
  orgSlug: {
    pattern: /^[a-z0-9](?:[a-z0-9-]{0,37}[a-z0-9])?$/,
    code: "INVALID_SLUG",
    message: "An org slug is 1–39 lowercase letters, digits and hyphens, and starts and ends with a letter or digit.",
  },
  name: {
    pattern: /^(?=.{1,64}$)[A-Za-z0-9](?:[A-Za-z0-9 ._-]*[A-Za-z0-9])?$/,
    code: "INVALID_NAME",
    message: "A name is 1–64 letters, digits, spaces, dots, underscores or hyphens, and starts and ends with a letter or digit.",
  },
  appOrServiceName: {
    pattern: /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
    code: "INVALID_NAME",
    message: "An app or service name is 1–128 letters, digits and hyphens, starting with a letter (as in serverless.yml).",
  },
  stage: {
    pattern: /^[A-Za-z0-9-]{1,64}$/,
    code: "INVALID_STAGE",
    message: "A stage is 1–64 letters, digits and hyphens, like the Serverless Framework's.",
  },
  /** The shape only: whether the region exists is CatalogService's question (the SDK's region list). */
  region: {
    pattern: /^[a-z]{2,4}(?:-[a-z]+){1,3}-\d{1,2}$/,
    code: "INVALID_REGION",
    message: "A region is an AWS region code such as us-east-1 or eu-central-2.",
  },
  roleArn: {
    pattern: /^arn:aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?:iam::\d{12}:role\/(?:[\x21-\x7e]{0,510}\/)?[\w+=,.@-]{1,64}$/,
    code: "INVALID_ROLE_ARN",
    message: "A role ARN looks like arn:aws:iam::123456789012:role/deploy (12-digit account id, role name of 1–64 characters).",
  },
  accessKeyId: {
    pattern: /^(?:AKIA|ASIA)[A-Z2-7]{16}$/,
    code: "INVALID_ACCESS_KEY_ID",
    message: "An AWS access key id is 20 characters starting with AKIA, such as AKIAIOSFODNN7EXAMPLE.",
  },
  secretAccessKey: {
    pattern: /^[A-Za-z0-9/+]{40}$/,
    code: "INVALID_SECRET_ACCESS_KEY",
    message: "An AWS secret access key is 40 characters of letters, digits, / and +.",
  },
  stripeSecretKey: {
    pattern: /^(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{10,247}$/,
    code: "INVALID_STRIPE_KEY",
    message: "A Stripe secret key starts with sk_live_, sk_test_, rk_live_ or rk_test_.",
  },
  twilioAccountSid: {
    pattern: /^AC[0-9a-f]{32}$/,
    code: "INVALID_TWILIO_ACCOUNT_SID",
    message: "A Twilio account SID is AC followed by 32 lowercase hex digits.",
  },
  parameterName: {
    pattern: /^[A-Za-z0-9_.\/-]{1,128}$/,
    code: "INVALID_PARAMETER_NAME",
    message: "A parameter name is 1–128 letters, digits, underscores, hyphens, dots and slashes, as `${param:NAME}` in serverless.yml accepts.",
  },
  twilioAuthToken: {
    pattern: /^[0-9a-f]{32}$/,
    code: "INVALID_TWILIO_AUTH_TOKEN",
    message: "A Twilio auth token is 32 lowercase hex digits.",
  },
} satisfies Record<string, Rule>;

export function check(rule: Rule, value: string, field: string[]): UserError | null {
  return rule.pattern.test(value) ? null : new UserError(rule.code, field, rule.message);
}

/** Throws every failed check at once (checks that passed are null), so a form can show all bad fields together. */
export function ensureAll(...checks: Array<UserError | null>): void {
  const failed = checks.filter((e): e is UserError => e !== null);
  if (failed.length > 0) throw new UserErrors(failed);
}

/** A row id as PostgreSQL prints a uuid: what global ids and cursors must carry before they reach SQL. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const SESSION_DURATION = { min: 900, max: 43_200, default: 3600 } as const;
