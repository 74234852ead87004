import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { Role } from "../entities/index.js";

/** Who is calling: an access key, acting in exactly one org with one role. */
export interface Actor {
  accessKeyId: string;
  accessKeyName: string;
  orgId: string;
  role: Role;
}

/**
 * Follows a request through every domain call. `em` is the request's entity manager: the pool's,
 * or the mutation's transaction while one is open.
 */
export class RequestContext {
  constructor(
    readonly actor: Actor,
    public em: EntityManager,
    readonly requestId: string = randomUUID(),
  ) {}

  get orgId(): string {
    return this.actor.orgId;
  }
}
