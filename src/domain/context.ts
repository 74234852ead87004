import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import { Role } from "../entities/index.js";
import { createLogger, type Logger } from "../logger.js";
import type { AuditActor, AuditEntry } from "./audit.js";

/** What a key is limited to; null in a field means "any". A scope only narrows the role. */
export interface AccessScope {
  apps: string[] | null;
  services: string[] | null;
  /** Glob patterns: `*` matches any run of characters, e.g. `feature-*`. */
  stages: string[] | null;
  /**
   * The providers the key may link to (and unlink from) instances inside its scope, chosen by an
   * admin. Unlike the fields above, null means none: a scoped key never links what nobody allowed.
   */
  linkableProviderIds: string[] | null;
}

/**
 * Who is calling: an access key (or the server itself), acting in exactly one org with one role. A personal key carries
 * its user (and the user's membership role); an org key has no user.
 */
export interface Actor {
  /** Null when the server itself acts for the org, e.g. a CLI command run by an operator. */
  accessKeyId: string | null;
  accessKeyName: string;
  orgId: string;
  role: Role;
  userId: string | null;
  userEmail: string | null;
  /** Null: the key is not limited to some apps, services or stages. */
  scope: AccessScope | null;
  /** An org key an admin let add stages when the org refuses new ones (its scope's mayCreateStages). */
  mayCreateStages: boolean;
}

/** The server acting for an org on an operator's command: audited under the label, with no access key. */
export function serverActor(orgId: string, label: string): Actor {
  return { accessKeyId: null, accessKeyName: label, orgId, role: Role.ADMIN, userId: null, userEmail: null, scope: null, mayCreateStages: false };
}

let fallbackLogger: Logger | undefined;

/**
 * Follows a request through every domain call. `em` is the request's entity manager: the pool's,
 * or the mutation's transaction while one is open.
 */
export class RequestContext {
  /**
   * Refusals made inside a transaction, written once it has ended: the transaction is rolled back,
   * and waiting for a second pool connection while holding the first deadlocks a busy pool.
   */
  readonly deferredAudits: Array<AuditEntry & AuditActor> = [];

  constructor(
    readonly actor: Actor,
    public em: EntityManager,
    readonly requestId: string = randomUUID(),
    /** Where a failure that must not change the answer (an audit write) is reported. */
    readonly logger: Logger = (fallbackLogger ??= createLogger("error")),
  ) {}

  get orgId(): string {
    return this.actor.orgId;
  }
}
