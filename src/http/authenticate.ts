import type { Request, Response } from "express";
import type { DataSource } from "typeorm";
import { hashToken } from "../domain/access-key-tokens.js";
import { authenticate } from "../domain/authentication.js";
import type { Actor } from "../domain/context.js";
import { UnauthenticatedError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "./metrics.js";
import { AuthThrottle, clientOf, type AuthThrottleOptions } from "./auth-throttle.js";

/**
 * Who sent an HTTP request, by its `Authorization: Bearer <key>`: the one way every route (GraphQL
 * and the Serverless Framework's) authenticates, so all of them share one failed-authentication
 * throttle per client address.
 */
/**
 * The challenge every 401 carries (RFC 9110 §11.6.1 requires one; RFC 6750 names the scheme): a client
 * learns to send `Authorization: Bearer <key>`. Never `Basic`, which would make a browser prompt for a
 * password and then add an Authorization header to cross-site requests by itself.
 */
export const WWW_AUTHENTICATE = 'Bearer realm="providers-api"';

export class RequestAuthenticator {
  private readonly throttle: AuthThrottle;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: AuthThrottleOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.throttle = new AuthThrottle(options);
  }

  /** Whole seconds an address that failed too often must wait; 0 when it may try. Checked before any key is looked up. */
  retryAfterSeconds(req: Request): number {
    if (!this.throttle.refusingAny) return 0;
    const seconds = this.throttle.retryAfterSeconds(clientOf(req.ip));
    if (seconds > 0) this.metrics.authenticationThrottled();
    return seconds;
  }

  /** The actor; on failure the attempt is counted against the client's address, logged, and UnauthenticatedError thrown. */
  async actorOf(req: Request, res: Response): Promise<Actor> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1] ?? null;
    try {
      if (!token) throw new UnauthenticatedError();
      return await authenticate(this.dataSource, token);
    } catch (error) {
      if (error instanceof UnauthenticatedError) {
        this.metrics.authenticationFailed();
        res.locals.errorCode = error.code;
        const client = clientOf(req.ip);
        const failures = await this.throttle.recordFailure(client);
        // Never the key: a prefix of its hash lets an admin match a revoked key's hash, nothing more.
        const keyHashPrefix = token ? hashToken(token).toString("hex").slice(0, 12) : null;
        this.logger.warn({ requestId: res.locals.requestId, client, keyHashPrefix, failures }, "authentication failed");
        if (failures === this.options.limit) {
          this.logger.warn(
            { client, limit: this.options.limit, windowSeconds: this.options.windowSeconds },
            "client address refused for the rest of its window after too many failed authentications",
          );
        }
      }
      throw error;
    }
  }
}
