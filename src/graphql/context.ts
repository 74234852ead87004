import type { DataSource } from "typeorm";
import type { Logger } from "../logger.js";
import { RequestContext, type Actor } from "../domain/context.js";
import type { Services } from "../domain/services.js";
import { Loaders } from "./loaders.js";

/** The request context, plus what only the GraphQL layer needs. */
export class GraphQLContext extends RequestContext {
  readonly loaders: Loaders;

  constructor(
    actor: Actor,
    readonly dataSource: DataSource,
    readonly services: Services,
    requestId?: string,
    /** Aborted when the client goes away: nothing more is resolved for it. */
    readonly signal: AbortSignal = new AbortController().signal,
    logger?: Logger,
  ) {
    super(actor, dataSource.manager, requestId, logger);
    this.loaders = new Loaders(() => this.em, actor.orgId, actor.scope, signal);
  }
}
