import type {
  ApolloServerPlugin,
  GraphQLRequestContext,
  GraphQLRequestContextDidEncounterErrors,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestContextWillSendResponse,
  GraphQLRequestListener,
} from "@apollo/server";
import type { GraphQLContext } from "../graphql/context.js";

/**
 * What one concern of ours (limits, the request line, status codes, error logging) does at each
 * step of a GraphQL request. Plain synchronous functions: none of them waits on anything.
 */
export interface RequestHooks {
  requestDidStart?(request: GraphQLRequestContext<GraphQLContext>): void;
  didResolveOperation?(request: GraphQLRequestContextDidResolveOperation<GraphQLContext>): void;
  didEncounterErrors?(request: GraphQLRequestContextDidEncounterErrors<GraphQLContext>): void;
  willSendResponse?(request: GraphQLRequestContextWillSendResponse<GraphQLContext>): void;
}

/** Runs one step's hook of each concern in order; if some throw, the rest still run and the first error is thrown. */
function runAll<R>(hooks: Array<(request: R) => void>, request: R): void {
  let failure: { error: unknown } | undefined;
  for (const hook of hooks) {
    try {
      hook(request);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/**
 * All our request hooks as one Apollo plugin with one listener, made once for the server. Apollo
 * wraps every listener of every plugin in a promise at each step of each request (parsing,
 * validation, execution, the answer…) whether or not it has a hook there, so five plugins of ours
 * cost five times that on every request; one listener that calls the hooks in order costs it once.
 * The hooks run in the order given, as the plugins' did. At a step where a hook throws, the others
 * still run (as with Apollo's plugins, which it runs side by side) and the first error is thrown.
 */
export function requestHooksPlugin(hooks: RequestHooks[]): ApolloServerPlugin<GraphQLContext> {
  const present = <T>(hook: T | undefined): T[] => (hook ? [hook] : []);
  const starts = hooks.flatMap((h) => present(h.requestDidStart));
  const resolved = hooks.flatMap((h) => present(h.didResolveOperation));
  const errored = hooks.flatMap((h) => present(h.didEncounterErrors));
  const answering = hooks.flatMap((h) => present(h.willSendResponse));
  const listener: GraphQLRequestListener<GraphQLContext> = {
    didResolveOperation: async (request) => runAll(resolved, request),
    didEncounterErrors: async (request) => runAll(errored, request),
    willSendResponse: async (request) => runAll(answering, request),
  };
  return {
    async requestDidStart(request) {
      runAll(starts, request);
      return listener;
    },
  };
}
