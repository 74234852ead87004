import type { DataSource } from "typeorm";
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

/** The request context, plus what only the GraphQL layer needs. */
export class GraphQLContext extends RequestContext {
  readonly loaders: Loaders;
  /** One object for the request: Apollo runs each operation on a shallow copy of the context. */
  readonly operation: OperationReport = { label: "invalid", clientName: null, outcome: "OK" };

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
