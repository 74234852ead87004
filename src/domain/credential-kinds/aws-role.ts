import { createHash, randomBytes } from "node:crypto";
import { StsFailure, StsFailureReason } from "../../aws/sts.js";
import { CredentialKind, ProviderType } from "../../entities/index.js";
import { UserError } from "../errors.js";
import { check, rules, SESSION_DURATION } from "../validation.js";
import { durationWithin, type CredentialKindDefinition } from "./definition.js";

/** An AWS role that the server assumes with its own identity and an external id it generates. */
export interface AwsRoleKindInput {
  roleArn: string;
  maxSessionDurationSeconds?: number | null;
  sessionTags?: boolean | null;
}

export function newExternalId(): string {
  return randomBytes(24).toString("base64url");
}

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

export const awsRole: CredentialKindDefinition<CredentialKind.AWS_ROLE, AwsRoleKindInput, null> = {
  kind: CredentialKind.AWS_ROLE,
  type: ProviderType.AWS,
  inputPath: ["aws", "role"],

  validate(input, field) {
    const duration = input.maxSessionDurationSeconds;
    return [
      check(rules.roleArn, input.roleArn, field("roleArn")),
      duration != null && (!Number.isInteger(duration) || duration < SESSION_DURATION.min || duration > SESSION_DURATION.max)
        ? new UserError(
            "INVALID_SESSION_DURATION",
            field("maxSessionDurationSeconds"),
            `The maximum session duration is a whole number of seconds from ${SESSION_DURATION.min} to ${SESSION_DURATION.max}, and no more than the role's own MaxSessionDuration.`,
          )
        : null,
    ];
  },

  store(input, previous) {
    return {
      settings: {
        roleArn: input.roleArn,
        // A new role keeps the external id its trust policy already names.
        externalId: previous?.externalId ?? newExternalId(),
        maxSessionDurationSeconds: input.maxSessionDurationSeconds ?? SESSION_DURATION.default,
        sessionTags: input.sessionTags ?? false,
      },
      secret: null,
    };
  },

  summary: (s) => ({
    kind: CredentialKind.AWS_ROLE,
    roleArn: s.roleArn,
    externalId: s.externalId,
    maxSessionDurationSeconds: s.maxSessionDurationSeconds,
    sessionTags: s.sessionTags ?? false,
  }),

  async mint({ provider, sts, stsError }, request) {
    const settings = provider.settings;
    const max = settings.maxSessionDurationSeconds ?? SESSION_DURATION.default;
    const durationSeconds = durationWithin(
      request.durationSeconds,
      { min: SESSION_DURATION.min, max },
      request.longestSession ? max : Math.min(SESSION_DURATION.default, max),
    );
    const sessionName = roleSessionName(request.orgSlug, request.service, request.stage);
    const tags = settings.sessionTags
      ? [
          { key: "org", value: request.orgSlug },
          { key: "app", value: request.app },
          { key: "service", value: request.service },
          { key: "stage", value: request.stage },
          ...(request.region ? [{ key: "region", value: request.region }] : []),
        ]
      : [];
    try {
      const { session, requestId, assumedRoleArn } = await sts.assumeRole({
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
      throw stsError(error, durationSeconds);
    }
  },

  /** Assumes the role, then tries again without the external id: the confused-deputy check. */
  async verify({ provider, sts, stsError }, orgSlug) {
    const request = {
      roleArn: provider.settings.roleArn!,
      sessionName: roleSessionName(orgSlug, "verify", provider.name),
      durationSeconds: SESSION_DURATION.min,
      tags: [],
    };
    const identity = await sts
      .assumeRole({ ...request, externalId: provider.settings.externalId ?? null })
      .then(({ session }) => sts.getCallerIdentity(session))
      .catch((error) => Promise.reject(stsError(error)));
    let externalIdEnforced: boolean;
    try {
      await sts.assumeRole({ ...request, externalId: null });
      externalIdEnforced = false;
    } catch (error) {
      if (!(error instanceof StsFailure && error.reason === StsFailureReason.ACCESS_DENIED)) throw stsError(error);
      externalIdEnforced = true;
    }
    return {
      accountId: identity.account,
      arn: identity.arn,
      externalIdEnforced,
      warnings: externalIdEnforced
        ? []
        : [
            `The role ${provider.settings.roleArn} can be assumed without the external id, so anyone this role trusts could use it on your behalf (the confused-deputy problem). Add the condition "StringEquals": { "sts:ExternalId": "<the provider's external id>" } to its trust policy.`,
          ],
    };
  },
};
