import type { DataSource, EntityManager } from "typeorm";
import type { Logger } from "../logger.js";
import { RequestContext, type Actor } from "../domain/context.js";
import type { Services } from "../domain/services.js";
import { Loaders } from "./loaders.js";

/** What the request log and metrics say of a request's operation (see src/http/request-log.ts). */
export interface OperationReport {
  /** A closed set: `query.viewer`, `mutation.deploymentCredentials`, `query.multiple`, `invalid`. */
  label: string;
  /** The operation name the client chose: logged for matching, never a metric label. */
  clientName: string | null;
  /** OK, or the code of the first error. */
  outcome: string;
}

/**
 * Whether the client that sent the request has gone away (nothing more is resolved for it). An
 * AbortSignal is one; a request's is a plain flag set by the request log's "close" listener, which
 * costs no AbortController and no listener of its own per request.
 */
export interface ClientPresence {
  readonly aborted: boolean;
}

/** The request context, plus what only the GraphQL layer needs. Immutable, like the request context. */
export class GraphQLContext extends RequestContext {
  /** Read through this context's entity manager: a unit of work's child has its own, reading through its transaction. */
  readonly loaders: Loaders;

  constructor(
    actor: Actor,
    readonly dataSource: DataSource,
    readonly services: Services,
    requestId?: string,
    /** Aborted when the client goes away: nothing more is resolved for it. */
    readonly signal: ClientPresence = { aborted: false },
    logger?: Logger,
    /** The pool's entity manager for a request; a transaction's for a unit of work's child. */
    em: EntityManager = dataSource.manager,
    /** One object for the request, its children included: Apollo runs each operation on a shallow copy of the context. */
    readonly operation: OperationReport = { label: "invalid", clientName: null, outcome: "OK" },
  ) {
    super(actor, em, requestId, logger);
    this.loaders = new Loaders(() => this.em, actor.orgId, actor.scope, signal);
  }

  /** The same request in a unit of work: the transaction's entity manager and fresh loaders over it. */
  protected override child(em: EntityManager): this {
    return new GraphQLContext(this.actor, this.dataSource, this.services, this.requestId, this.signal, this.logger, em, this.operation) as this;
  }
}
