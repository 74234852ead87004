import { randomUUID } from "node:crypto";
import type { RequestHandler, Response } from "express";
import { Kind, type OperationDefinitionNode } from "graphql";
import type { GraphQLContext } from "../graphql/context.js";
import { lineLogger, type Logger } from "../logger.js";
import type { Metrics } from "./metrics.js";
import type { RequestHooks } from "./request-hooks.js";

/*
 * One JSON log line and one metrics sample per request. The request id is the caller's
 * X-Request-Id when it is a plain token (so a CI log and ours can be matched), a new UUID otherwise,
 * and it is sent back in the answer.
 */

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The operation names a client may choose that are logged (for matching); never a metric label. */
const CLIENT_OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Probes and scrapes: at debug level, or they would drown the log. */
const QUIET_ROUTES = new Set(["/healthz", "/readyz", "/metrics", "/favicon.ico"]);

/**
 * What a request's "close" does besides its line, when the client went away before its answer was
 * written: set by the GraphQL context function (`res.locals.clientGone`).
 */
export type ClientGone = () => void;

/**
 * The request id middleware, the headers every answer carries, and the per-request line;
 * `res.locals.graphql` is set by the context function. One "close" listener per request does it all:
 * Node emits "close" once the answer is written as when the client goes away first
 * (`writableFinished` tells which).
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  const lines = lineLogger(logger);
  return (req, res, next) => {
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("X-Content-Type-Options", "nosniff");
    // Answers can carry deployment credentials: no browser or proxy may keep a copy.
    res.setHeader("Cache-Control", "no-store");
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const aborted = !res.writableFinished;
      report(aborted);
      if (aborted) (res.locals.clientGone as ClientGone | undefined)?.();
    });
    const report = (aborted: boolean) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const context = res.locals.graphql as GraphQLContext | undefined;
      const info = context?.operation;
      const path = req.originalUrl.split("?")[0];
      const operation = info?.label ?? routeLabel(req.baseUrl, req.route?.path, path, res);
      const outcome = aborted ? "CLIENT_CLOSED" : (info?.outcome ?? (res.statusCode < 400 ? "OK" : outcomeOfStatus(res)));
      metrics.request(operation, outcome, seconds);
      const line = {
        event: "request",
        requestId,
        method: req.method,
        path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
        operation,
        ...(info?.clientName ? { operationName: info.clientName } : {}),
        status: res.statusCode,
        outcome,
        durationMs: Math.round(seconds * 10_000) / 10,
        keyId: context?.actor.accessKeyId ?? (res.locals.keyId as string | undefined) ?? null,
        orgId: context?.actor.orgId ?? (res.locals.orgId as string | undefined) ?? null,
      };
      if (QUIET_ROUTES.has(path)) lines.debug(line, "request");
      else lines.info(line, "request");
    };
    next();
  };
}

/** Routes outside GraphQL are named by their pattern (never the path a caller typed: it is unbounded). */
function routeLabel(baseUrl: string, routePath: unknown, path: string, res: Response): string {
  if (typeof routePath === "string") return `${baseUrl}${routePath}`;
  if (path === "/graphql") return res.statusCode === 401 ? "graphql.unauthenticated" : "graphql";
  return QUIET_ROUTES.has(path) ? path : "other";
}

function outcomeOfStatus(res: Response): string {
  const code = res.locals.errorCode;
  if (typeof code === "string") return code;
  return `HTTP_${res.statusCode}`;
}

/** Names each GraphQL request's operation and outcome for the request line and metrics. */
export const operationHooks: RequestHooks = {
  requestDidStart({ contextValue, request }) {
    contextValue.operation.clientName = request.operationName && CLIENT_OPERATION_NAME.test(request.operationName) ? request.operationName : null;
  },
  didResolveOperation({ operation, contextValue }) {
    if (operation) contextValue.operation.label = labelOf(operation);
  },
  willSendResponse({ response, contextValue }) {
    const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
    const code = errors?.[0]?.extensions?.code;
    if (errors && errors.length > 0) contextValue.operation.outcome = typeof code === "string" ? code : "ERROR";
  },
};

/** `query.viewer` for one root field (aliases and repeats count once), `query.multiple` for more. */
function labelOf(operation: OperationDefinitionNode): string {
  const fields = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    fields.add(selection.kind === Kind.FIELD ? selection.name.value : "fragment");
  }
  fields.delete("__typename");
  const [only] = fields;
  return `${operation.operation}.${fields.size === 1 ? only : fields.size === 0 ? "__typename" : "multiple"}`;
}
