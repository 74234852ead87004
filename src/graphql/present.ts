import { CredentialKind, ProviderType, type Provider } from "../entities/index.js";
import { ProviderSource, type Resolution } from "../domain/resolution.js";
import { UserError } from "../domain/errors.js";
import type { CredentialsInput } from "../domain/providers.js";
import type { CredentialsInputFields } from "./types/inputs.js";
import type { GraphQLContext } from "./context.js";

/** The non-secret summary of a provider's credentials. */
export function credentialsSummary(provider: Provider) {
  const s = provider.settings;
  switch (provider.kind) {
    case CredentialKind.AWS_ROLE:
      return { kind: provider.kind, roleArn: s.roleArn, externalId: s.externalId, maxSessionDurationSeconds: s.maxSessionDurationSeconds, sessionTags: s.sessionTags ?? false };
    case CredentialKind.AWS_ACCESS_KEY:
      return { kind: provider.kind, accessKeyId: s.accessKeyId, issueSessionTokens: s.issueSessionTokens ?? false };
    case CredentialKind.STRIPE_SECRET_KEY:
      return { kind: provider.kind, secretKeyHint: s.secretHint };
    case CredentialKind.TWILIO_AUTH_TOKEN:
      return { kind: provider.kind, accountSid: s.accountSid, authTokenHint: s.secretHint };
  }
}

/**
 * Reads the one credential kind out of a createProvider / updateProvider input. None at all is
 * fine for an update (a rename), and refused where `required`.
 */
export function credentialsFrom(input: CredentialsInputFields, required: true): CredentialsInput;
export function credentialsFrom(input: CredentialsInputFields, required?: false): CredentialsInput | null;
export function credentialsFrom(input: CredentialsInputFields, required = false): CredentialsInput | null {
  const given: CredentialsInput[] = [];
  if (input.aws?.role) given.push({ kind: CredentialKind.AWS_ROLE, ...input.aws.role });
  if (input.aws?.accessKey) given.push({ kind: CredentialKind.AWS_ACCESS_KEY, ...input.aws.accessKey });
  if (input.stripe) given.push({ kind: CredentialKind.STRIPE_SECRET_KEY, ...input.stripe });
  if (input.twilio) given.push({ kind: CredentialKind.TWILIO_AUTH_TOKEN, ...input.twilio });
  if (given.length > 1 || (required && given.length === 0) || (input.aws && !input.aws.role && !input.aws.accessKey)) {
    throw new UserError(
      "INVALID_CREDENTIALS",
      ["input"],
      "Give exactly one kind of credentials: aws.role, aws.accessKey, stripe or twilio.",
    );
  }
  return given[0] ?? null;
}

const typeNames: Record<ProviderType, string> = { AWS: "AWS", STRIPE: "Stripe", TWILIO: "Twilio" };

/** A resolution as the API shows it: with the instance whose link applies, and a sentence saying why. */
export function presentResolution(ctx: GraphQLContext, resolution: Resolution | null) {
  if (!resolution) return null;
  const { provider, source, instanceId, stageWide } = resolution;
  const name = `"${provider.name}"`;
  const explanation = {
    [ProviderSource.INSTANCE]:
      stageWide
        ? `${name} is linked to the stage-wide instance of this stage, which covers every region.`
        : `${name} is linked to this instance.`,
    [ProviderSource.SERVICE]: `Nothing is linked to the instance, so it inherits ${name} from the service.`,
    [ProviderSource.ORG_DEFAULT]: `Nothing is linked to the instance or the service, so the org's default ${typeNames[provider.type]} provider ${name} applies.`,
  }[source];
  return {
    provider,
    source,
    instance: instanceId ? ctx.loaders.instance(instanceId) : null,
    explanation,
  };
}
