import type { ProviderType } from "../entities/index.js";
import type { ProviderSource } from "./resolution.js";

/** How one deployment's request for credentials ended. */
export enum IssuanceOutcome {
  /** Credentials left the server. */
  ISSUED = "ISSUED",
  /** No provider applies: the deployment was told to use its local credentials. */
  LOCAL = "LOCAL",
  /** Refused: authorization, scope, input, or STS refusing the role. */
  DENIED = "DENIED",
  /** Failed: STS or the database unavailable, or anything unexpected. */
  FAILED = "FAILED",
}

export interface IssuanceObservation {
  type: ProviderType;
  /** Null when no provider applied, or the request ended before resolution. */
  source: ProviderSource | null;
  outcome: IssuanceOutcome;
}

/**
 * What the domain tells whoever watches the process (metrics) about its work. The domain knows no
 * metrics library; the HTTP layer's Prometheus registry implements this.
 */
export interface DomainObserver {
  credentials(observation: IssuanceObservation): void;
}

export const IGNORING_OBSERVER: DomainObserver = { credentials() {} };
