import type { StsAdapter } from "../../aws/sts.js";
import { CredentialKind, type Provider } from "../../entities/index.js";
import type { ProviderSecrets } from "../provider-secrets.js";
import { explainIfSts } from "../sts-errors.js";
import { awsAccessKey } from "./aws-access-key.js";
import { awsRole } from "./aws-role.js";
import type { CredentialKindDefinition, KindTools } from "./definition.js";
import { stripe } from "./stripe.js";
import { twilio } from "./twilio.js";

export * from "./definition.js";

/**
 * Every credential kind, by its enum value. Typed as a record over CredentialKind: adding an enum
 * value without a definition here, or a definition that lacks a piece, is a compile error.
 */
export type CredentialKindRegistry = { readonly [K in CredentialKind]: CredentialKindDefinition<K, any, any> };

export const CREDENTIAL_KINDS = {
  [CredentialKind.AWS_ROLE]: awsRole,
  [CredentialKind.AWS_ACCESS_KEY]: awsAccessKey,
  [CredentialKind.STRIPE_SECRET_KEY]: stripe,
  [CredentialKind.TWILIO_AUTH_TOKEN]: twilio,
} as const satisfies CredentialKindRegistry;

type Registered = typeof CREDENTIAL_KINDS;
type InputOf<D> = D extends CredentialKindDefinition<any, infer Input, any> ? Input : never;

/** Credentials as an admin enters them: exactly one kind, with that kind's input shape. */
export type CredentialsInput = { [K in CredentialKind]: { kind: K } & InputOf<Registered[K]> }[CredentialKind];

/** The definition of one kind (its input and secret types erased, for code that handles any kind). */
export function credentialKind(kind: CredentialKind): CredentialKindDefinition<CredentialKind, any, any> {
  return CREDENTIAL_KINDS[kind];
}

/** What a kind mints or verifies a provider with: the provider's secret opened on demand, STS, and STS's errors explained. */
export function kindTools(provider: Provider, secrets: ProviderSecrets, sts: StsAdapter): KindTools<any> {
  const limits = { timeoutMs: sts.options.timeoutMs, attempts: sts.options.maxAttempts };
  return {
    provider,
    secret: () => secrets.open(provider),
    sts,
    stsError: (error, durationSeconds) => explainIfSts(error, provider, { ...limits, durationSeconds }),
  };
}
