import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/*
 * An STS endpoint on loopback that speaks the Query protocol as @aws-sdk/client-sts sends it: a
 * form-encoded POST signed with SigV4. It checks the signature against the secret keys it knows,
 * enforces each role's trust (caller account and external id) and MaxSessionDuration, answers with
 * STS's own XML shapes, and can be told to throttle, fail, answer slowly or never answer; it counts
 * the requests it holds at once, so a test can see whether callers reached it together.
 */

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

export interface Identity {
  account: string;
  arn: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RoleTrust {
  /** Accounts whose identities may assume the role. */
  trustedAccounts: string[];
  /** The sts:ExternalId condition; null means the trust policy has none (open to the confused deputy). */
  externalId: string | null;
  maxSessionDuration: number;
}

export interface StsCall {
  action: string;
  params: Record<string, string>;
  callerAccessKeyId: string;
  /** The region the request was signed for: which regional endpoint the client meant to call. */
  signingRegion: string;
  requestId: string;
  /** The error code STS answered with, or null on success. */
  error: string | null;
}

export const SERVER_IDENTITY = {
  accessKeyId: "AKIAFAKESERVER000001",
  secretAccessKey: "fakeServerSecretKey/fakeServerSecretKey00",
  account: "999999999999",
  arn: "arn:aws:iam::999999999999:user/providers-api",
};

const escapeXml = (value: string) => value.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
  }
}

export class FakeSts {
  readonly identities = new Map<string, Identity>();
  readonly roles = new Map<string, RoleTrust>();
  readonly calls: StsCall[] = [];
  /** Answer the next N requests with Throttling. */
  throttleNext = 0;
  /** Answer every request with this error until cleared. */
  failWith: { status: number; code: string; message: string } | null = null;
  /** Accept requests and never answer them. */
  hang = false;
  /** Wait this long before answering each request: a slow STS. */
  delayMs = 0;
  /** Requests received and not yet answered: whether callers reached STS together. */
  inFlight = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly hung: Array<{ res: http.ServerResponse; resume: () => void }> = [];
  url = "";

  constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.reset();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets roles, users, sessions and calls; the server's own identity stays. */
  reset(): void {
    this.identities.clear();
    this.roles.clear();
    this.calls.length = 0;
    this.throttleNext = 0;
    this.failWith = null;
    this.hang = false;
    this.delayMs = 0;
    this.identities.set(SERVER_IDENTITY.accessKeyId, SERVER_IDENTITY);
    for (const { res } of this.hung.splice(0)) res.socket?.destroy();
  }

  /** Stops hanging: the requests held so far are answered now, as if STS had only been slow. */
  release(): void {
    this.hang = false;
    for (const { resume } of this.hung.splice(0)) resume();
  }

  addRole(roleArn: string, trust: Partial<RoleTrust> = {}): void {
    this.roles.set(roleArn, { trustedAccounts: [SERVER_IDENTITY.account], externalId: null, maxSessionDuration: 3600, ...trust });
  }

  addUser(accessKeyId: string, secretAccessKey: string, account: string, userName: string): void {
    this.identities.set(accessKeyId, { account, arn: `arn:aws:iam::${account}:user/${userName}`, secretAccessKey });
  }

  callsOf(action: string): StsCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    const requestId = randomUUID();
    const call: StsCall = { action: params.Action ?? "", params, callerAccessKeyId: "", signingRegion: "", requestId, error: null };
    this.calls.push(call);
    this.inFlight++;
    res.once("close", () => this.inFlight--);
    if (this.hang) await new Promise<void>((resume) => this.hung.push({ res, resume }));
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    try {
      if (this.throttleNext > 0) {
        this.throttleNext--;
        throw new StsError(400, "Throttling", "Rate exceeded");
      }
      if (this.failWith) throw new StsError(this.failWith.status, this.failWith.code, this.failWith.message, this.failWith.status >= 500 ? "Receiver" : "Sender");
      const caller = this.authenticate(req, body);
      call.callerAccessKeyId = caller.accessKeyId;
      call.signingRegion = caller.region;
      if (params.Version !== "2011-06-15") throw new StsError(400, "InvalidAction", `Could not find operation ${params.Action} for version ${params.Version}`);
      const result = this.act(params, caller.identity);
      this.respond(res, 200, `<${params.Action}Response xmlns="${XMLNS}"><${params.Action}Result>${result}</${params.Action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${params.Action}Response>`);
    } catch (error) {
      const e = error instanceof StsError ? error : new StsError(500, "InternalFailure", (error as Error).message, "Receiver");
      call.error = e.code;
      this.respond(
        res,
        e.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  }

  private respond(res: http.ServerResponse, status: number, xml: string): void {
    res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": /<RequestId>([^<]+)</.exec(xml)?.[1] ?? "" });
    res.end(xml);
  }

  /** Recomputes the SigV4 signature from the secret key the caller's access key id names. */
  private authenticate(req: http.IncomingMessage, body: Buffer): { accessKeyId: string; identity: Identity; region: string } {
    const authorization = req.headers.authorization ?? "";
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) throw new StsError(400, "IncompleteSignature", "Authorization header requires a valid AWS4-HMAC-SHA256 signature.");
    const [, accessKeyId, date, region, signedHeaders, signature] = match;
    const identity = this.identities.get(accessKeyId);
    if (!identity) throw new StsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const url = new URL(req.url ?? "/", "http://localhost");
    const query = [...url.searchParams].map(([k, v]) => `${encode(k)}=${encode(v)}`).sort().join("&");
    const headers = signedHeaders
      .split(";")
      .map((name) => `${name}:${String(req.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`)
      .join("");
    const canonicalRequest = [req.method, url.pathname, query, headers, signedHeaders, sha256(body)].join("\n");
    const scope = `${date}/${region}/sts/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${identity.secretAccessKey}`, date), region), "sts"), "aws4_request");
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
      throw new StsError(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
    }
    if (identity.sessionToken && req.headers["x-amz-security-token"] !== identity.sessionToken) {
      throw new StsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    }
    return { accessKeyId, identity, region };
  }

  private act(params: Record<string, string>, caller: Identity): string {
    switch (params.Action) {
      case "GetCallerIdentity":
        return `<Arn>${escapeXml(caller.arn)}</Arn><UserId>AIDAFAKE${caller.account}</UserId><Account>${caller.account}</Account>`;
      case "AssumeRole":
        return this.assumeRole(params, caller);
      case "GetSessionToken": {
        if (caller.sessionToken) throw new StsError(403, "AccessDenied", "Cannot call GetSessionToken with session credentials");
        const duration = Number(params.DurationSeconds ?? 43_200);
        if (duration < 900 || duration > 129_600) throw new StsError(400, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint");
        return this.issue(caller.account, caller.arn, duration);
      }
      default:
        throw new StsError(400, "InvalidAction", `Could not find operation ${params.Action} for version ${params.Version}`);
    }
  }

  private assumeRole(params: Record<string, string>, caller: Identity): string {
    const role = this.roles.get(params.RoleArn);
    const denied = new StsError(403, "AccessDenied", `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`);
    if (!role || !role.trustedAccounts.includes(caller.account)) throw denied;
    if (role.externalId !== null && params.ExternalId !== role.externalId) throw denied;
    const sessionName = params.RoleSessionName ?? "";
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new StsError(400, "ValidationError", `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const duration = Number(params.DurationSeconds ?? 3600);
    if (duration < 900) throw new StsError(400, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
    if (duration > role.maxSessionDuration) {
      throw new StsError(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    const [, account, roleName] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(params.RoleArn)!;
    const assumedArn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    return `<AssumedRoleUser><AssumedRoleId>AROAFAKE${account}:${escapeXml(sessionName)}</AssumedRoleId><Arn>${escapeXml(assumedArn)}</Arn></AssumedRoleUser>${this.issue(account, assumedArn, duration)}`;
  }

  /** Mints a session the fake then accepts as a caller (with its token), as real STS does. */
  private issue(account: string, arn: string, durationSeconds: number): string {
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString("base64");
    const sessionToken = randomBytes(48).toString("base64");
    const expiration = new Date(Date.now() + durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    this.identities.set(accessKeyId, { account, arn, secretAccessKey, sessionToken });
    return `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secretAccessKey}</SecretAccessKey><SessionToken>${sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`;
  }
}
