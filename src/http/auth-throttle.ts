import ipaddr from "ipaddr.js";
import { RateLimiterMemory } from "rate-limiter-flexible";

export interface AuthThrottleOptions {
  /** Failed authentications one client address may make per window. */
  limit: number;
  windowSeconds: number;
}

/**
 * The client an address stands for. IPv4-mapped IPv6 is its IPv4 address; other IPv6 addresses
 * count per /64, the block one host is usually given, so a host cannot step through its own block
 * to get fresh tries.
 */
export function clientOf(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return "unknown";
  const ip = ipaddr.process(address);
  if (ip.kind() === "ipv4") return ip.toString();
  return `${ip.toNormalizedString().split(":").slice(0, 4).join(":")}::/64`;
}

/**
 * Counts failed authentications per client address (fixed window, in this process's memory): past
 * the limit the address is refused until its window ends, whatever key it sends, before any key is
 * looked up. A count lives at most one window, so memory is bounded by the number of addresses
 * that fail within a window. Each process counts on its own: behind a load balancer an address gets
 * the limit once per process.
 *
 * The check before every request reads only the addresses already refused, kept apart from the
 * counts: a synchronous lookup, and none at all while no address is refused (the usual case), so a
 * request with a valid key pays nothing for the throttle. Counting happens only on a failure.
 */
export class AuthThrottle {
  private readonly limiter: RateLimiterMemory;
  /** Addresses at the limit, with the end of their window (ms since the epoch); each leaves when its window ends. */
  private readonly refusedUntil = new Map<string, number>();

  constructor(readonly options: AuthThrottleOptions) {
    this.limiter = new RateLimiterMemory({ points: options.limit, duration: options.windowSeconds, keyPrefix: "auth-failures" });
  }

  /** Whether any address is refused now: while none is, a request need not even name its client. */
  get refusingAny(): boolean {
    return this.refusedUntil.size > 0;
  }

  /** Whole seconds until the client may try again; 0 when it is not refused. */
  retryAfterSeconds(client: string): number {
    const until = this.refusedUntil.get(client);
    if (until === undefined) return 0;
    const ms = until - Date.now();
    if (ms <= 0) {
      this.refusedUntil.delete(client);
      return 0;
    }
    return Math.max(1, Math.ceil(ms / 1000));
  }

  /** Counts one failure; returns how many the client has made in its window. */
  async recordFailure(client: string): Promise<number> {
    const state = await this.limiter.penalty(client, 1);
    if (state.consumedPoints >= this.options.limit && !this.refusedUntil.has(client)) {
      const until = Date.now() + state.msBeforeNext;
      this.refusedUntil.set(client, until);
      // The entry goes when its window ends, whether or not the address comes back.
      setTimeout(() => {
        if (this.refusedUntil.get(client) === until) this.refusedUntil.delete(client);
      }, state.msBeforeNext).unref();
    }
    return state.consumedPoints;
  }
}
