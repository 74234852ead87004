import { CredentialKind, ProviderType } from "../../entities/index.js";
import { check, rules, SESSION_DURATION } from "../validation.js";
import { durationWithin, type CredentialKindDefinition } from "./definition.js";

/** A long-lived AWS access key, stored sealed. */
export interface AwsAccessKeyKindInput {
  accessKeyId: string;
  secretAccessKey: string;
  issueSessionTokens?: boolean | null;
}

/** GetSessionToken accepts 900 s to 36 h. */
const SESSION_TOKEN_DURATION = { min: 900, max: 129_600 } as const;

export const awsAccessKey: CredentialKindDefinition<CredentialKind.AWS_ACCESS_KEY, AwsAccessKeyKindInput, { secretAccessKey: string }> = {
  kind: CredentialKind.AWS_ACCESS_KEY,
  type: ProviderType.AWS,
  inputPath: ["aws", "accessKey"],

  validate: (input, field) => [
    check(rules.accessKeyId, input.accessKeyId, field("accessKeyId")),
    check(rules.secretAccessKey, input.secretAccessKey, field("secretAccessKey")),
  ],

  // The access key id already names the key, so the secret half gets no hint.
  store: (input) => ({
    settings: { accessKeyId: input.accessKeyId, issueSessionTokens: input.issueSessionTokens ?? false },
    secret: { secretAccessKey: input.secretAccessKey },
  }),

  summary: (s) => ({ kind: CredentialKind.AWS_ACCESS_KEY, accessKeyId: s.accessKeyId, issueSessionTokens: s.issueSessionTokens ?? false }),

  /** The stored key itself, or a GetSessionToken session made with it when the provider asks for that. */
  async mint({ provider, secret, sts, stsError }, request) {
    const keys = { accessKeyId: provider.settings.accessKeyId!, secretAccessKey: secret().secretAccessKey };
    if (!provider.settings.issueSessionTokens) {
      return {
        credentials: { type: ProviderType.AWS, accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: null, expiration: null },
        details: { issuedAccessKeyId: keys.accessKeyId, longLived: true },
      };
    }
    const durationSeconds = durationWithin(
      request.durationSeconds,
      SESSION_TOKEN_DURATION,
      request.longestSession ? SESSION_DURATION.max : SESSION_DURATION.default,
    );
    try {
      const { session, requestId } = await sts.getSessionToken(keys, durationSeconds, request.region);
      return {
        credentials: { type: ProviderType.AWS, ...session },
        details: {
          sourceAccessKeyId: keys.accessKeyId,
          durationSeconds,
          stsRequestId: requestId,
          issuedAccessKeyId: session.accessKeyId,
          expiration: session.expiration.toISOString(),
        },
      };
    } catch (error) {
      throw stsError(error, durationSeconds);
    }
  },

  async verify({ provider, secret, sts, stsError }) {
    const keys = { accessKeyId: provider.settings.accessKeyId!, secretAccessKey: secret().secretAccessKey };
    const identity = await sts.getCallerIdentity(keys).catch((error) => Promise.reject(stsError(error)));
    return { accountId: identity.account, arn: identity.arn, externalIdEnforced: null, warnings: [] };
  },
};
