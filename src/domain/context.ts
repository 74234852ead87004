import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import { Role } from "../entities/index.js";

/** Who is calling: an access key (or the server itself), acting in exactly one org with one role. */
export interface Actor {
  /** Null when the server itself acts for the org, e.g. a CLI command run by an operator. */
  accessKeyId: string | null;
  accessKeyName: string;
  orgId: string;
  role: Role;
}

/** The server acting for an org on an operator's command: audited under the label, with no access key. */
export function serverActor(orgId: string, label: string): Actor {
  return { accessKeyId: null, accessKeyName: label, orgId, role: Role.ADMIN };
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
