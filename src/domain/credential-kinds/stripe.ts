import { CredentialKind, ProviderType } from "../../entities/index.js";
import { check, rules } from "../validation.js";
import { secretHint, type CredentialKindDefinition } from "./definition.js";

/** A Stripe secret (or restricted) key, stored sealed and handed to deployments as it is. */
export interface StripeKindInput {
  secretKey: string;
}

export const stripe: CredentialKindDefinition<CredentialKind.STRIPE_SECRET_KEY, StripeKindInput, { secretKey: string }> = {
  kind: CredentialKind.STRIPE_SECRET_KEY,
  type: ProviderType.STRIPE,
  inputPath: ["stripe"],
  validate: (input, field) => [check(rules.stripeSecretKey, input.secretKey, field("secretKey"))],
  store: (input) => ({ settings: { secretHint: secretHint(input.secretKey) }, secret: { secretKey: input.secretKey } }),
  summary: (s) => ({ kind: CredentialKind.STRIPE_SECRET_KEY, secretKeyHint: s.secretHint }),
  mint: async ({ provider, secret }) => ({
    credentials: { type: ProviderType.STRIPE, secretKey: secret().secretKey },
    details: { secretHint: provider.settings.secretHint },
  }),
  // Stripe has no "who am I" call that leaves no trace; nothing to verify.
  verify: null,
};
