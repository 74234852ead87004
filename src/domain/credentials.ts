import { createHash } from "node:crypto";
import { StsAdapter, StsFailure, StsFailureKind, type AwsKeyPair } from "../aws/sts.js";
import { AuditOutcome, CredentialKind, Instance, Org, Provider, ProviderType } from "../entities/index.js";
import type { ProfileService } from "./profiles.js";
import { assertInScope } from "./scope.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { CodedError, NotFoundError, UserError } from "./errors.js";
import type { ProviderService } from "./providers.js";
import { resolveProviders, targetOf, type Resolution } from "./resolution.js";
import { SESSION_DURATION } from "./validation.js";

/** What a deployment names: the scope a key may be limited to. */
export interface DeploymentTarget {
  org: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
}

export interface DeploymentRequest extends DeploymentTarget {
  type: ProviderType;
  durationSeconds: number | null;
  /**
   * With no durationSeconds: the longest session the provider allows instead of the default hour,
   * for a client that never refreshes its credentials (the Serverless Framework's dashboard client).
   */
  longestSession?: boolean;
}

export type IssuedCredentials =
  | { type: ProviderType.AWS; accessKeyId: string; secretAccessKey: string; sessionToken: string | null; expiration: Date | null }
  | { type: ProviderType.STRIPE; secretKey: string }
  | { type: ProviderType.TWILIO; accountSid: string; authToken: string };

export interface DeploymentCredentials {
  instance: Instance;
  /** Null: no provider applies; the deployment uses its local credentials. */
  resolution: Resolution | null;
  credentials: IssuedCredentials | null;
}

export interface ProviderVerification {
  provider: Provider;
  accountId: string;
  arn: string;
  /** For a role: whether STS refused to assume it without the external id. Null for access keys. */
  externalIdEnforced: boolean | null;
  warnings: string[];
}

/** GetSessionToken accepts 900 s to 36 h. */
const SESSION_TOKEN_DURATION = { min: 900, max: 129_600 } as const;

const SESSION_NAME_MAX = 64;

/**
 * A RoleSessionName that names org, service and stage in CloudTrail and is always valid for STS
 * (2–64 of [\w+=,.@-]): other characters become "-", and a name too long keeps its start and ends
 * with a hash of the whole, so two long names still differ.
 */
export function roleSessionName(org: string, service: string, stage: string): string {
  const full = [org, service, stage].map((part) => part.replace(/[^\w+=,.@-]/g, "-")).join(".");
  if (full.length <= SESSION_NAME_MAX) return full.padEnd(2, "-");
  const hash = createHash("sha256").update(`${org}\0${service}\0${stage}`).digest("hex").slice(0, 8);
  return `${full.slice(0, SESSION_NAME_MAX - hash.length - 1)}-${hash}`;
}

/** An STS failure as an error whose code a program branches on and whose sentence tells an admin what to fix. */
function explain(failure: StsFailure, provider: Provider, context: { durationSeconds?: number; timeoutMs: number; attempts: number }): CodedError {
  const details = { stsRequestId: failure.requestId, stsErrorCode: failure.awsCode };
  const role = provider.settings.roleArn;
  switch (failure.kind) {
    case StsFailureKind.ACCESS_DENIED:
      return new CodedError(
        "STS_ACCESS_DENIED",
        role
          ? `AWS refused to let this server assume ${role} for the provider "${provider.name}". An admin must check the role's trust policy: it must trust this server's AWS account and require sts:ExternalId to equal the provider's external id (shown on the provider; rotating it needs the policy updated too).`
          : `AWS refused the request made with the provider "${provider.name}"'s access key. An admin must check that key's IAM permissions.`,
        details,
      );
    case StsFailureKind.DURATION_TOO_LONG:
      return new CodedError(
        "SESSION_DURATION_TOO_LONG",
        `The role ${role} allows shorter sessions than the ${context.durationSeconds} seconds asked for. Ask for a shorter durationSeconds, or have an admin raise the role's MaxSessionDuration in IAM (or lower the provider's maxSessionDurationSeconds to match the role).`,
        details,
      );
    case StsFailureKind.THROTTLED:
      return new CodedError(
        "STS_THROTTLED",
        `AWS STS is throttling requests; ${context.attempts} attempts with backoff did not get through. Try again in a moment.`,
        { ...details, retryable: true },
      );
    case StsFailureKind.UNAVAILABLE:
      return new CodedError(
        "STS_UNAVAILABLE",
        `AWS STS did not answer within ${context.timeoutMs} ms. Try again; if it persists, an operator should check the server's network path to STS (and AWS_ENDPOINT_URL_STS).`,
        { ...details, retryable: true },
      );
    case StsFailureKind.CREDENTIALS_REJECTED:
      return role
        ? new CodedError(
            "SERVER_AWS_CREDENTIALS_REJECTED",
            "AWS STS rejected this server's own AWS credentials. An operator must fix the server's AWS identity (AWS_ACCESS_KEY_ID / AWS_PROFILE / instance role).",
            details,
          )
        : new CodedError(
            "PROVIDER_CREDENTIALS_REJECTED",
            `AWS STS rejected the access key stored in the provider "${provider.name}": it may be deactivated or deleted. An admin must update the provider with a working key.`,
            details,
          );
    case StsFailureKind.NO_SERVER_CREDENTIALS:
      return new CodedError(
        "SERVER_AWS_CREDENTIALS_MISSING",
        "This server has no AWS identity to assume roles with. An operator must give it one through the standard AWS credential chain (environment, profile or instance role).",
        details,
      );
    case StsFailureKind.OTHER:
      return new CodedError("STS_ERROR", `AWS STS refused the request (${failure.awsCode ?? "no error code"}): ${failure.message}`, details);
  }
}

const refusalOutcome = (error: unknown) =>
  error instanceof UserError || (error instanceof CodedError && ["NOT_FOUND", "FORBIDDEN", "STS_ACCESS_DENIED"].includes(error.code))
    ? AuditOutcome.DENIED
    : AuditOutcome.FAILURE;

const errorCodeOf = (error: unknown) => (error instanceof UserError || error instanceof CodedError ? error.code : "INTERNAL_ERROR");

/**
 * Hands a deployment its credentials: authorizes, records the instance, resolves the provider, mints
 * the credentials and audits the issuance in the mutation's transaction, so nothing leaves the server
 * unless the audit record is committed. Refusals are audited with a write of their own, because the
 * mutation's transaction is rolled back.
 */
export class DeploymentCredentialsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProviderService,
    private readonly audit: AuditService,
    private readonly profiles: ProfileService,
    private readonly sts: StsAdapter,
  ) {}

  /**
   * The one place that decides whether the caller may get credentials for this target: the org must
   * be the caller's (another org's looks like an unknown one), and a scoped key must cover the app,
   * service and stage — so a preview pipeline's key can never mint prod credentials.
   */
  async assertMayDeploy(ctx: RequestContext, target: DeploymentTarget): Promise<Org> {
    const org = await this.catalog.orgBySlug(ctx, target.org);
    if (!org) throw new NotFoundError(`The org "${target.org}"`);
    await assertInScope(ctx, { appName: target.app, serviceName: target.service, stage: target.stage });
    return org;
  }

  async issue(ctx: RequestContext, request: DeploymentRequest): Promise<DeploymentCredentials> {
    const where = { app: request.app, service: request.service, stage: request.stage, region: request.region, type: request.type };
    let provider: Provider | null = null;
    try {
      const org = await this.assertMayDeploy(ctx, request);
      const instance = await this.catalog.recordDeployment(ctx, request);
      // An org that still has legacy deployment profiles is migrated by its first deployment, after
      // the instance exists so that its stage's profile is linked to it too.
      await this.profiles.migrateIfPending(ctx);
      const [resolution] = await resolveProviders(ctx.em, ctx.orgId, request.type, [targetOf(instance)]);
      if (!resolution) {
        await this.audit.record(ctx, {
          action: "credentials.local",
          targetType: "Instance",
          targetId: instance.id,
          details: { ...where, useLocalCredentials: true },
        });
        return { instance, resolution: null, credentials: null };
      }
      provider = resolution.provider;
      const { credentials, details } = await this.mint(ctx, org, request, provider);
      await this.audit.record(ctx, {
        action: "credentials.issue",
        targetType: "Instance",
        targetId: instance.id,
        details: { ...where, providerId: provider.id, providerName: provider.name, kind: provider.kind, source: resolution.source, ...details },
      });
      return { instance, resolution, credentials };
    } catch (error) {
      await this.recordRefusal(ctx, "credentials.issue", error, { ...where, ...(provider ? { providerId: provider.id, providerName: provider.name } : {}) });
      throw error;
    }
  }

  /** The dashboard's "test connection", including the confused-deputy check for roles. */
  async verify(ctx: RequestContext, providerId: string): Promise<ProviderVerification> {
    const provider = await this.providers.provider(ctx, providerId);
    try {
      const verification = await this.check(ctx, provider);
      await this.audit.record(ctx, {
        action: "provider.verify",
        targetType: "Provider",
        targetId: provider.id,
        details: { accountId: verification.accountId, arn: verification.arn, externalIdEnforced: verification.externalIdEnforced },
      });
      return verification;
    } catch (error) {
      await this.recordRefusal(ctx, "provider.verify", error, { providerId: provider.id, providerName: provider.name }, provider.id);
      throw error;
    }
  }

  private async check(ctx: RequestContext, provider: Provider): Promise<ProviderVerification> {
    const failure = (error: unknown) => (error instanceof StsFailure ? explain(error, provider, this.limits()) : error);
    switch (provider.kind) {
      case CredentialKind.AWS_ROLE: {
        const org = await this.catalog.org(ctx, ctx.orgId);
        const request = {
          roleArn: provider.settings.roleArn!,
          sessionName: roleSessionName(org.slug, "verify", provider.name),
          durationSeconds: SESSION_DURATION.min,
          tags: [],
        };
        const identity = await this.sts
          .assumeRole({ ...request, externalId: provider.settings.externalId ?? null })
          .then(({ session }) => this.sts.getCallerIdentity(session))
          .catch((error) => Promise.reject(failure(error)));
        let externalIdEnforced: boolean;
        try {
          await this.sts.assumeRole({ ...request, externalId: null });
          externalIdEnforced = false;
        } catch (error) {
          if (!(error instanceof StsFailure && error.kind === StsFailureKind.ACCESS_DENIED)) throw failure(error);
          externalIdEnforced = true;
        }
        return {
          provider,
          accountId: identity.account,
          arn: identity.arn,
          externalIdEnforced,
          warnings: externalIdEnforced
            ? []
            : [
                `The role ${provider.settings.roleArn} can be assumed without the external id, so anyone this role trusts could use it on your behalf (the confused-deputy problem). Add the condition "StringEquals": { "sts:ExternalId": "<the provider's external id>" } to its trust policy.`,
              ],
        };
      }
      case CredentialKind.AWS_ACCESS_KEY: {
        const identity = await this.sts.getCallerIdentity(this.keysOf(provider)).catch((error) => Promise.reject(failure(error)));
        return { provider, accountId: identity.account, arn: identity.arn, externalIdEnforced: null, warnings: [] };
      }
      default:
        throw new UserError(
          "VERIFY_NOT_SUPPORTED",
          ["input", "providerId"],
          `Only AWS providers can be verified; "${provider.name}" is a ${provider.type} provider.`,
        );
    }
  }

  /** Makes the credentials for one deployment, and the audit details that describe them (never a secret). */
  private async mint(
    ctx: RequestContext,
    org: Org,
    request: DeploymentRequest,
    provider: Provider,
  ): Promise<{ credentials: IssuedCredentials; details: Record<string, unknown> }> {
    const settings = provider.settings;
    switch (provider.kind) {
      case CredentialKind.AWS_ROLE: {
        const max = settings.maxSessionDurationSeconds ?? SESSION_DURATION.default;
        const durationSeconds = this.duration(request.durationSeconds, { min: SESSION_DURATION.min, max }, request.longestSession ? max : Math.min(SESSION_DURATION.default, max));
        const sessionName = roleSessionName(org.slug, request.service, request.stage);
        const tags = settings.sessionTags
          ? [
              { key: "org", value: org.slug },
              { key: "app", value: request.app },
              { key: "service", value: request.service },
              { key: "stage", value: request.stage },
              ...(request.region ? [{ key: "region", value: request.region }] : []),
            ]
          : [];
        try {
          const { session, requestId, assumedRoleArn } = await this.sts.assumeRole({
            roleArn: settings.roleArn!,
            externalId: settings.externalId ?? null,
            sessionName,
            durationSeconds,
            tags,
            region: request.region,
          });
          return {
            credentials: { type: ProviderType.AWS, ...session },
            details: {
              roleArn: settings.roleArn,
              assumedRoleArn,
              sessionName,
              durationSeconds,
              sessionTags: tags.length > 0,
              stsRequestId: requestId,
              issuedAccessKeyId: session.accessKeyId,
              expiration: session.expiration.toISOString(),
            },
          };
        } catch (error) {
          throw error instanceof StsFailure ? explain(error, provider, { ...this.limits(), durationSeconds }) : error;
        }
      }
      case CredentialKind.AWS_ACCESS_KEY: {
        const keys = this.keysOf(provider);
        if (!settings.issueSessionTokens) {
          return {
            credentials: { type: ProviderType.AWS, accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: null, expiration: null },
            details: { issuedAccessKeyId: keys.accessKeyId, longLived: true },
          };
        }
        const durationSeconds = this.duration(
          request.durationSeconds,
          SESSION_TOKEN_DURATION,
          request.longestSession ? SESSION_DURATION.max : SESSION_DURATION.default,
        );
        try {
          const { session, requestId } = await this.sts.getSessionToken(keys, durationSeconds, request.region);
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
          throw error instanceof StsFailure ? explain(error, provider, { ...this.limits(), durationSeconds }) : error;
        }
      }
      case CredentialKind.STRIPE_SECRET_KEY:
        return { credentials: { type: ProviderType.STRIPE, secretKey: this.providers.openSecret(provider).secretKey! }, details: { secretHint: settings.secretHint } };
      case CredentialKind.TWILIO_AUTH_TOKEN:
        return {
          credentials: { type: ProviderType.TWILIO, accountSid: settings.accountSid!, authToken: this.providers.openSecret(provider).authToken! },
          details: { accountSid: settings.accountSid, secretHint: settings.secretHint },
        };
    }
  }

  private duration(requested: number | null, range: { min: number; max: number }, fallback: number): number {
    if (requested === null) return fallback;
    if (!Number.isInteger(requested) || requested < range.min || requested > range.max) {
      throw new UserError(
        "INVALID_DURATION",
        ["input", "durationSeconds"],
        `durationSeconds must be a whole number from ${range.min} to ${range.max} for this provider (its maximum session duration); omit it for the default.`,
      );
    }
    return requested;
  }

  private keysOf(provider: Provider): AwsKeyPair {
    return { accessKeyId: provider.settings.accessKeyId!, secretAccessKey: this.providers.openSecret(provider).secretAccessKey! };
  }

  private limits() {
    return { timeoutMs: this.sts.options.timeoutMs, attempts: this.sts.options.maxAttempts };
  }

  /** Outside the mutation's transaction, which is about to be rolled back. */
  private async recordRefusal(ctx: RequestContext, action: string, error: unknown, details: Record<string, unknown>, targetId: string | null = null) {
    await this.audit.recordApart(ctx, {
      action,
      targetType: targetId ? "Provider" : null,
      targetId,
      outcome: refusalOutcome(error),
      details: {
        ...details,
        errorCode: errorCodeOf(error),
        ...(error instanceof CodedError && error.details.stsRequestId ? { stsRequestId: error.details.stsRequestId } : {}),
      },
    });
  }
}
