import { CredentialKind, ProviderType } from "../../entities/index.js";
import { check, rules } from "../validation.js";
import { secretHint, type CredentialKindDefinition } from "./definition.js";

/** A Twilio account SID (shown) and its auth token (stored sealed). */
export interface TwilioKindInput {
  accountSid: string;
  authToken: string;
}

export const twilio: CredentialKindDefinition<CredentialKind.TWILIO_AUTH_TOKEN, TwilioKindInput, { authToken: string }> = {
  kind: CredentialKind.TWILIO_AUTH_TOKEN,
  type: ProviderType.TWILIO,
  inputPath: ["twilio"],
  validate: (input, field) => [
    check(rules.twilioAccountSid, input.accountSid, field("accountSid")),
    check(rules.twilioAuthToken, input.authToken, field("authToken")),
  ],
  store: (input) => ({
    settings: { accountSid: input.accountSid, secretHint: secretHint(input.authToken) },
    secret: { authToken: input.authToken },
  }),
  summary: (s) => ({ kind: CredentialKind.TWILIO_AUTH_TOKEN, accountSid: s.accountSid, authTokenHint: s.secretHint }),
  mint: async ({ provider, secret }) => ({
    credentials: { type: ProviderType.TWILIO, accountSid: provider.settings.accountSid!, authToken: secret().authToken },
    details: { accountSid: provider.settings.accountSid, secretHint: provider.settings.secretHint },
  }),
  verify: null,
};
