import { LRUCache } from "lru-cache";
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";

/*
 * The STS adapter: the only module that imports @aws-sdk. The server's own identity comes from the
 * standard AWS credential chain, and the SDK itself honours AWS_ENDPOINT_URL_STS. Throttling and
 * transient failures are retried by the SDK's standard retry strategy (exponential backoff with
 * jitter); the whole call, retries included, is bounded by the configured timeout.
 */

export interface StsOptions {
  region: string;
  timeoutMs: number;
  maxAttempts: number;
  /** Told of every call when it ends (metrics). */
  observe?: (observation: StsObservation) => void;
  /** How many regions' clients are kept (least recently used go first); default REGION_CLIENTS. */
  regionClients?: number;
}

/** One STS call as it ended: how long it took with its retries, how many attempts, and how it failed. */
export interface StsObservation {
  operation: "AssumeRole" | "GetSessionToken" | "GetCallerIdentity";
  seconds: number;
  attempts: number;
  /** Null when it succeeded. */
  failure: StsFailureReason | null;
}

/** More than the regions of every AWS partition together: in practice nothing is ever evicted. */
const REGION_CLIENTS = 64;

export interface AwsKeyPair {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | null;
}

export interface AwsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleRequest {
  roleArn: string;
  /** Null asks without an external id: only the confused-deputy check does that. */
  externalId: string | null;
  sessionName: string;
  durationSeconds: number;
  tags: Array<{ key: string; value: string }>;
  /** The regional STS endpoint to call (the deployment's region); null for the server's own region. */
  region?: string | null;
}

export interface CallerIdentity {
  account: string;
  arn: string;
}

/** What went wrong, in terms the domain can explain to an admin. */
export enum StsFailureReason {
  ACCESS_DENIED = "ACCESS_DENIED",
  DURATION_TOO_LONG = "DURATION_TOO_LONG",
  THROTTLED = "THROTTLED",
  UNAVAILABLE = "UNAVAILABLE",
  CREDENTIALS_REJECTED = "CREDENTIALS_REJECTED",
  NO_SERVER_CREDENTIALS = "NO_SERVER_CREDENTIALS",
  OTHER = "OTHER",
}

export class StsFailure extends Error {
  constructor(
    readonly reason: StsFailureReason,
    /** STS's error code, e.g. AccessDenied; null when STS never answered. */
    readonly awsCode: string | null,
    readonly requestId: string | null,
    message: string,
  ) {
    super(message);
  }
}

const THROTTLING = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled"]);
const REJECTED = new Set(["InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "IncompleteSignature"]);
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function toStsFailure(error: unknown): StsFailure {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { requestId?: string; httpStatusCode?: number } };
  const name = e?.name ?? "Error";
  const requestId = e?.$metadata?.requestId ?? null;
  const message = e?.message ?? String(error);
  if (name === "AbortError" || name === "TimeoutError" || (e?.code && NETWORK.has(e.code))) {
    return new StsFailure(StsFailureReason.UNAVAILABLE, null, null, message);
  }
  if (name === "CredentialsProviderError") return new StsFailure(StsFailureReason.NO_SERVER_CREDENTIALS, null, null, message);
  if (name === "AccessDenied") return new StsFailure(StsFailureReason.ACCESS_DENIED, name, requestId, message);
  if (name === "ValidationError" && /DurationSeconds/.test(message) && /MaxSessionDuration/.test(message)) {
    return new StsFailure(StsFailureReason.DURATION_TOO_LONG, name, requestId, message);
  }
  if (THROTTLING.has(name) || e?.$metadata?.httpStatusCode === 429) return new StsFailure(StsFailureReason.THROTTLED, name, requestId, message);
  if (REJECTED.has(name)) return new StsFailure(StsFailureReason.CREDENTIALS_REJECTED, name, requestId, message);
  if ((e?.$metadata?.httpStatusCode ?? 0) >= 500) return new StsFailure(StsFailureReason.UNAVAILABLE, name, requestId, message);
  return new StsFailure(StsFailureReason.OTHER, name, requestId, message);
}

export class StsAdapter {
  /** One client per region for the server's own identity: STS is called at the deployment's regional endpoint. */
  private readonly serverClients: LRUCache<string, STSClient>;

  constructor(readonly options: StsOptions = { region: "us-east-1", timeoutMs: 10_000, maxAttempts: 3 }) {
    // Bounded whatever regions callers name. An evicted client is not destroyed: a call may still be
    // using it, and its idle sockets close by themselves.
    this.serverClients = new LRUCache({ max: options.regionClients ?? REGION_CLIENTS });
  }

  /** The regions whose clients are kept now, most recently used first. */
  cachedRegions(): string[] {
    return [...this.serverClients.keys()];
  }

  /** sts:AssumeRole with the server's own identity. */
  async assumeRole(request: AssumeRoleRequest): Promise<{ session: AwsSession; assumedRoleArn: string; requestId: string | null }> {
    const output = await this.send("AssumeRole", null, request.region ?? null, (client, abortSignal) =>
      client.send(
        new AssumeRoleCommand({
          RoleArn: request.roleArn,
          RoleSessionName: request.sessionName,
          DurationSeconds: request.durationSeconds,
          ...(request.externalId !== null ? { ExternalId: request.externalId } : {}),
          ...(request.tags.length > 0 ? { Tags: request.tags.map((t) => ({ Key: t.key, Value: t.value })) } : {}),
        }),
        { abortSignal },
      ),
    );
    return {
      session: sessionOf(output.Credentials),
      assumedRoleArn: output.AssumedRoleUser?.Arn ?? "",
      requestId: output.$metadata.requestId ?? null,
    };
  }

  /** sts:GetSessionToken made with a stored long-lived key. */
  async getSessionToken(keys: AwsKeyPair, durationSeconds: number, region: string | null = null): Promise<{ session: AwsSession; requestId: string | null }> {
    const output = await this.send("GetSessionToken", keys, region, (client, abortSignal) => client.send(new GetSessionTokenCommand({ DurationSeconds: durationSeconds }), { abortSignal }));
    return { session: sessionOf(output.Credentials), requestId: output.$metadata.requestId ?? null };
  }

  /** sts:GetCallerIdentity as the given keys (or the server itself). */
  async getCallerIdentity(keys: AwsKeyPair | null): Promise<CallerIdentity & { requestId: string | null }> {
    const output = await this.send("GetCallerIdentity", keys, null, (client, abortSignal) => client.send(new GetCallerIdentityCommand({}), { abortSignal }));
    return { account: output.Account ?? "", arn: output.Arn ?? "", requestId: output.$metadata.requestId ?? null };
  }

  private async send<T extends { $metadata: { attempts?: number } }>(
    operation: StsObservation["operation"],
    keys: AwsKeyPair | null,
    regionOrNull: string | null,
    call: (client: STSClient, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { maxAttempts } = this.options;
    const region = regionOrNull ?? this.options.region;
    let client = keys ? null : this.serverClients.get(region);
    if (!client) {
      client = new STSClient({
        region,
        maxAttempts,
        ...(keys ? { credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken ?? undefined } } : {}),
      });
      if (!keys) this.serverClients.set(region, client);
    }
    // The whole call, retries included, is aborted at the timeout. Its timer is cleared when the call
    // ends: AbortSignal.timeout's would stay armed for the whole timeout after every call, thousands
    // of them at a few hundred deployments a second, each firing on a finished call.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException("The STS call timed out", "TimeoutError")), this.options.timeoutMs);
    const started = process.hrtime.bigint();
    const observe = (attempts: number | undefined, failure: StsFailureReason | null) =>
      this.options.observe?.({ operation, seconds: Number(process.hrtime.bigint() - started) / 1e9, attempts: attempts ?? 1, failure });
    try {
      const output = await call(client, timeout.signal);
      observe(output.$metadata.attempts, null);
      return output;
    } catch (error) {
      const failure = toStsFailure(error);
      observe((error as { $metadata?: { attempts?: number } })?.$metadata?.attempts, failure.reason);
      throw failure;
    } finally {
      clearTimeout(timer);
      if (keys) client.destroy();
    }
  }
}

function sessionOf(credentials: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined): AwsSession {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
    throw new StsFailure(StsFailureReason.OTHER, null, null, "STS answered without complete credentials");
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: credentials.Expiration,
  };
}
