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
 */
export class AuthThrottle {
  private readonly limiter: RateLimiterMemory;

  constructor(readonly options: AuthThrottleOptions) {
    this.limiter = new RateLimiterMemory({ points: options.limit, duration: options.windowSeconds, keyPrefix: "auth-failures" });
  }

  /** Whole seconds until the client may try again; 0 when it is not refused. */
  async retryAfterSeconds(client: string): Promise<number> {
    const state = await this.limiter.get(client);
    if (!state || state.consumedPoints < this.options.limit) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  /** Counts one failure; returns how many the client has made in its window. */
  async recordFailure(client: string): Promise<number> {
    const state = await this.limiter.penalty(client, 1);
    return state.consumedPoints;
  }
}
