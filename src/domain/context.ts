import { AsyncLocalStorage } from "node:async_hooks";
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

/** A context that has handed out a child for a unit of work, while that work runs (see `RequestContext.within`). */
interface OpenUnit {
  parent: RequestContext;
  open: boolean;
  outer: OpenUnit | undefined;
}
const openUnits = new AsyncLocalStorage<OpenUnit>();

/** Thrown when work inside a unit of work reaches past its child context to the request's. */
export class ContextMisuseError extends Error {}

/**
 * Follows a request through every domain call; immutable. `em` is its entity manager: the pool's for
 * the request's context, a transaction's for the child context a unit of work hands out
 * (`within`, used by `inTransaction`).
 */
export class RequestContext {
  /**
   * Refusals made inside a transaction, written once it has ended: the transaction is rolled back,
   * and waiting for a second pool connection while holding the first deadlocks a busy pool.
   */
  readonly deferredAudits: Array<AuditEntry & AuditActor> = [];

  constructor(
    readonly actor: Actor,
    private readonly entityManager: EntityManager,
    readonly requestId: string = randomUUID(),
    /** Where a failure that must not change the answer (an audit write) is reported. */
    readonly logger: Logger = (fallbackLogger ??= createLogger("error")),
  ) {}

  get orgId(): string {
    return this.actor.orgId;
  }

  /**
   * The entity manager. Work running inside a unit of work opened on this context must use the child
   * it was handed: reaching this context's instead would read and write outside the transaction (no
   * rollback, and rows the transaction cannot see), so it throws.
   */
  get em(): EntityManager {
    for (let unit = openUnits.getStore(); unit; unit = unit.outer) {
      if (unit.open && unit.parent === this) {
        throw new ContextMisuseError("work inside a unit of work used the request's context: use the context the unit of work handed to it");
      }
    }
    return this.entityManager;
  }

  /** Whether this context's entity manager is in a transaction (a child of a unit of work, or one made on a transaction). */
  get inTransaction(): boolean {
    return this.entityManager.queryRunner?.isTransactionActive === true;
  }

  /**
   * Runs `work` with a new context on `em` (the same request: actor, request id, logger; nothing else
   * carried over), while this context refuses to be used from inside it. This context is unchanged.
   */
  async within<T>(em: EntityManager, work: (child: this) => Promise<T>): Promise<T> {
    const unit: OpenUnit = { parent: this, open: true, outer: openUnits.getStore() };
    try {
      const child = this.child(em);
      // A subclass that did not make its own child context would lose what it adds (the GraphQL loaders).
      if (Object.getPrototypeOf(child) !== Object.getPrototypeOf(this)) throw new ContextMisuseError(`${this.constructor.name} does not make its own child context`);
      return await openUnits.run(unit, () => work(child));
    } finally {
      unit.open = false;
    }
  }

  /** The same request on another entity manager; a subclass returns one of its own class, with its own per-request state. */
  protected child(em: EntityManager): this {
    return new RequestContext(this.actor, em, this.requestId, this.logger) as this;
  }
}
