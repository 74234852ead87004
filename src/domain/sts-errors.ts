import { StsFailure, StsFailureReason } from "../aws/sts.js";
import type { Provider } from "../entities/index.js";
import { CodedError } from "./errors.js";

/** What an STS call was allowed: the duration asked for, and the adapter's timeout and attempts. */
export interface StsLimits {
  durationSeconds?: number;
  timeoutMs: number;
  attempts: number;
}

/** An STS failure as an error whose code a program branches on and whose sentence tells an admin what to fix. */
export function explainStsFailure(failure: StsFailure, provider: Provider, context: StsLimits): CodedError {
  const details = { stsRequestId: failure.requestId, stsErrorCode: failure.awsCode };
  const role = provider.settings.roleArn;
  switch (failure.reason) {
    case StsFailureReason.ACCESS_DENIED:
      return new CodedError(
        "STS_ACCESS_DENIED",
        role
          ? `AWS refused to let this server assume ${role} for the provider "${provider.name}". An admin must check the role's trust policy: it must trust this server's AWS account and require sts:ExternalId to equal the provider's external id (shown on the provider; rotating it needs the policy updated too).`
          : `AWS refused the request made with the provider "${provider.name}"'s access key. An admin must check that key's IAM permissions.`,
        details,
      );
    case StsFailureReason.DURATION_TOO_LONG:
      return new CodedError(
        "SESSION_DURATION_TOO_LONG",
        `The role ${role} allows shorter sessions than the ${context.durationSeconds} seconds asked for. Ask for a shorter session (sessionDurationSeconds), or have an admin raise the role's MaxSessionDuration in IAM (or lower the provider's maxSessionDurationSeconds to match the role).`,
        details,
      );
    case StsFailureReason.THROTTLED:
      return new CodedError(
        "STS_THROTTLED",
        `AWS STS is throttling requests; ${context.attempts} attempts with backoff did not get through. Try again in a moment.`,
        { ...details, retryable: true },
      );
    case StsFailureReason.UNAVAILABLE:
      return new CodedError(
        "STS_UNAVAILABLE",
        `AWS STS did not answer within ${context.timeoutMs} ms. Try again; if it persists, an operator should check the server's network path to STS (and AWS_ENDPOINT_URL_STS).`,
        { ...details, retryable: true },
      );
    case StsFailureReason.CREDENTIALS_REJECTED:
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
    case StsFailureReason.NO_SERVER_CREDENTIALS:
      return new CodedError(
        "SERVER_AWS_CREDENTIALS_MISSING",
        "This server has no AWS identity to assume roles with. An operator must give it one through the standard AWS credential chain (environment, profile or instance role).",
        details,
      );
    case StsFailureReason.OTHER:
      return new CodedError("STS_ERROR", `AWS STS refused the request (${failure.awsCode ?? "no error code"}): ${failure.message}`, details);
  }
}

/** An STS failure explained; any other error as it is. */
export function explainIfSts(error: unknown, provider: Provider, context: StsLimits): unknown {
  return error instanceof StsFailure ? explainStsFailure(error, provider, context) : error;
}
