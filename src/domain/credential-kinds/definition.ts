import type { StsAdapter } from "../../aws/sts.js";
import type { CredentialKind, Provider, ProviderSettings, ProviderType } from "../../entities/index.js";
import { UserError } from "../errors.js";

/*
 * What every credential kind must say about itself. One file per kind implements this, and the
 * registry (./index.ts) is typed as a record over CredentialKind: a kind that is missing, or that
 * leaves out a piece, does not compile. docs/adding-a-provider-type.md walks through adding one.
 */

/** Credentials handed to one deployment, by provider type. */
export type IssuedCredentials =
  | { type: ProviderType.AWS; accessKeyId: string; secretAccessKey: string; sessionToken: string | null; expiration: Date | null }
  | { type: ProviderType.STRIPE; secretKey: string }
  | { type: ProviderType.TWILIO; accountSid: string; authToken: string };

/** The deployment that credentials are minted for. */
export interface MintRequest {
  orgSlug: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
  /** What the deployment asked for; null for the kind's default. */
  durationSeconds: number | null;
  /** With no durationSeconds: the longest session the kind allows rather than its default (for a client that never refreshes). */
  longestSession: boolean;
}

/** What a kind gets to mint or verify with: its provider, its opened secret, and STS. */
export interface KindTools<Secret> {
  provider: Provider;
  /** Opens the provider's sealed secret; only minting and verifying call it. */
  secret(): Secret;
  sts: StsAdapter;
  /** Turns an STS failure into the coded error a caller reads (anything else passes through). */
  stsError(error: unknown, durationSeconds?: number): unknown;
}

export interface Minted {
  credentials: IssuedCredentials;
  /** What the audit trail says about this issuance: never a secret. */
  details: Record<string, unknown>;
}

export interface Verified {
  accountId: string;
  arn: string;
  /** For a role: whether STS refused to assume it without the external id. Null for access keys. */
  externalIdEnforced: boolean | null;
  warnings: string[];
}

export interface CredentialKindDefinition<K extends CredentialKind, Input, Secret> {
  readonly kind: K;
  /** The kind of account it gives access to: what a deployment asks for. */
  readonly type: ProviderType;
  /** Where its fields sit in the createProvider / updateProvider input, e.g. ["aws", "role"]. */
  readonly inputPath: readonly string[];
  /** Every check of an admin's input, passed ones as null; `field` names a field of this kind's input. */
  validate(input: Input, field: (name: string) => string[]): Array<UserError | null>;
  /**
   * What is kept in the clear (shown on the provider, with a hint of any secret: see secretHint) and
   * what is sealed. `previous` is the settings
   * of a provider of the same kind whose credentials are being replaced, else null.
   */
  store(input: Input, previous: ProviderSettings | null): { settings: ProviderSettings; secret: Secret };
  /** The non-secret summary shown on the provider: the fields of its ProviderCredentials member. */
  summary(settings: ProviderSettings): { kind: K } & Record<string, unknown>;
  /** Makes the credentials for one deployment. */
  mint(tools: KindTools<Secret>, request: MintRequest): Promise<Minted>;
  /** The dashboard's "test connection"; null where the kind cannot be checked without spending it. */
  verify: ((tools: KindTools<Secret>, orgSlug: string) => Promise<Verified>) | null;
}

/** `sk_live_…wxyz`: enough for a person to recognise a secret, too little to use it. */
export function secretHint(secret: string): string {
  const prefix = secret.match(/^[a-z]{2}_(?:test|live)_/)?.[0] ?? "";
  return `${prefix}…${secret.slice(-4)}`;
}

/**
 * The duration a deployment asked for, if it is within the kind's range; its default if it asked for
 * none. Outside the range: an INVALID_DURATION the deployment can act on.
 */
export function durationWithin(requested: number | null, range: { min: number; max: number }, fallback: number): number {
  if (requested === null) return fallback;
  if (!Number.isInteger(requested) || requested < range.min || requested > range.max) {
    throw new UserError(
      "INVALID_DURATION",
      ["input", "sessionDurationSeconds"],
      `The session duration must be a whole number of seconds from ${range.min} to ${range.max} for this provider (its maximum session duration); omit it for the default.`,
    );
  }
  return requested;
}
