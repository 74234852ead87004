import http from "node:http";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import type { DataSource } from "typeorm";
import type { TrustProxy } from "../config.js";
import { CodedError, ServiceUnavailableError, UnauthenticatedError } from "../domain/errors.js";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../db/availability.js";
import { poolOf } from "../db/data-source.js";
import type { Services } from "../domain/services.js";
import { GraphQLContext } from "../graphql/context.js";
import type { Logger } from "../logger.js";
import type { AuthThrottleOptions } from "./auth-throttle.js";
import { RequestAuthenticator, WWW_AUTHENTICATE } from "./authenticate.js";
import { GRAPHIQL_CSP, GRAPHIQL_PAGE, graphiqlRouter, wantsGraphiQL } from "./graphiql.js";
import { compiledExecution } from "./execution.js";
import { CSRF_REFUSAL, isCsrfRefusal, requestErrorStatusHooks } from "./graphql-over-http.js";
import { Metrics } from "./metrics.js";
import { operationHooks, requestLog, type ClientGone } from "./request-log.js";
import { requestHooksPlugin, type RequestHooks } from "./request-hooks.js";
import { limitsHooks, parseOptions, responseSizeLimit, parseLimitError, validationRules, type QueryLimits } from "./limits.js";
import { SERVERLESS_PREFIX, serverlessRouter } from "./serverless/router.js";

export interface HttpDeps {
  schema: GraphQLSchema;
  dataSource: DataSource;
  services: Services;
  logger: Logger;
  shutdownGraceMs: number;
  limits: QueryLimits;
  /** The proxies whose X-Forwarded-For names the client; false: the socket's peer is the client. */
  trustProxy: TrustProxy;
  authThrottle: AuthThrottleOptions;
  /** The process's metrics; a server made without one counts into its own. */
  metrics?: Metrics;
  /** Serve GET /metrics on the API's port (default); false when METRICS_PORT gives it a port of its own. */
  metricsOnApiPort?: boolean;
}

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401 };

const INTERNAL_MESSAGE = "Something went wrong on the server. It has been logged with the request id; try again, and report it if it persists.";

/** Domain errors become GraphQL errors with a code; anything unexpected is logged and masked. */
function formatError(formatted: GraphQLFormattedError, error: unknown, limits: QueryLimits): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // A refusal before execution (a query limit) is a GraphQLError wrapping our own error.
  const original =
    unwrapped instanceof GraphQLError && unwrapped.originalError instanceof CodedError
      ? unwrapped.originalError
      : formatted.extensions?.code === "GRAPHQL_PARSE_FAILED"
        ? (parseLimitError(formatted.message, limits) ?? unwrapped)
        : unwrapped;
  if (original instanceof CodedError) {
    return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.code, ...original.details } };
  }
  if (isDatabaseUnavailable(original)) {
    return { message: DATABASE_UNAVAILABLE_MESSAGE, path: formatted.path, locations: formatted.locations, extensions: { code: "SERVICE_UNAVAILABLE", retryable: true } };
  }
  // graphql-js's and Apollo's own errors pass with their codes (GRAPHQL_VALIDATION_FAILED…); one that
  // Apollo marks internal (a failed context, a broken resolver result) never shows its words.
  const code = formatted.extensions?.code;
  if (code === "BAD_REQUEST" && isCsrfRefusal(formatted.message)) return { message: CSRF_REFUSAL, extensions: { code } };
  if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    message: INTERNAL_MESSAGE,
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
}

const isServiceUnavailable = (error: unknown) => error instanceof ServiceUnavailableError || isDatabaseUnavailable(error);

/** A request that failed because the server cannot work now answers HTTP 503, so clients and proxies retry. */
const serviceUnavailableHooks: RequestHooks = {
  willSendResponse({ errors, response }) {
    if (errors?.some((error) => isServiceUnavailable(unwrapResolverError(error)))) response.http.status = 503;
  },
};

function errorLogHooks(logger: Logger): RequestHooks {
  return {
    didEncounterErrors({ contextValue, errors }) {
      for (const error of errors) {
        const original = unwrapResolverError(error);
        // A request's own mistake (bad syntax, an unknown field) has a code; graphql-js's errors
        // during execution (a broken resolver result) have none, and are the server's fault.
        const code = original instanceof GraphQLError ? original.extensions?.code : undefined;
        if (original instanceof CodedError || (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR")) continue;
        if (isDatabaseUnavailable(original)) {
          // The driver's code and words, never the statement or its parameters.
          const { code, message } = original as { code?: string; message?: string };
          logger.warn({ requestId: contextValue?.requestId, path: error.path, code, reason: message }, "the database could not serve a GraphQL operation");
          continue;
        }
        // The message and stack of an unexpected error; never variables or headers.
        logger.error({ requestId: contextValue?.requestId, path: error.path, err: original }, "unexpected error in a GraphQL operation");
      }
    },
  };
}

/** /readyz answers within a second in every state: a probe must never wait on a stuck pool. */
const READINESS_BUDGET_MS = 900;

/**
 * Why the server cannot serve requests now, or null when it can: every pool connection busy with
 * requests queued for one, the database not answering (in time), or migrations pending.
 */
async function unreadiness(dataSource: DataSource, migrated: () => boolean, markMigrated: () => void): Promise<string | null> {
  // TypeORM keeps pg's pool as the driver's `master`; its counters tell a saturated pool without queueing on it.
  const pool = poolOf(dataSource);
  if (pool && pool.waitingCount > 0 && pool.idleCount === 0 && pool.totalCount >= pool.options.max) {
    return `all ${pool.options.max} database connections are busy and ${pool.waitingCount} requests are waiting for one`;
  }
  const check = async (): Promise<string | null> => {
    await dataSource.query("SELECT 1");
    if (migrated()) return null;
    if (await dataSource.showMigrations()) return "database migrations are pending; run `providers-api migrate`";
    markMigrated();
    return null;
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the database did not answer within ${READINESS_BUDGET_MS} ms`), READINESS_BUDGET_MS);
  });
  try {
    return await Promise.race([check().catch(() => "the database is not reachable"), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpServer {
  server: http.Server;
  apollo: ApolloServer<GraphQLContext>;
}

export async function createHttpServer(options: HttpDeps): Promise<HttpServer> {
  const deps = { ...options, metrics: options.metrics ?? new Metrics() };
  const app = express();
  app.disable("x-powered-by");
  // Every answer is no-store (below): an ETag would only cost a hash of each body.
  app.disable("etag");
  app.set("trust proxy", deps.trustProxy);
  const authenticator = new RequestAuthenticator(deps.dataSource, deps.authThrottle, deps.logger, deps.metrics);
  // Idle keep-alive connections stay open longer than a load balancer's idle timeout (60 s on AWS ALB):
  // with Node's 5 s, the server closes sockets a proxy is about to reuse, and that request fails
  // (a 502 behind the proxy). The drain plugin still closes them on stop.
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, app);
  const apollo = new ApolloServer<GraphQLContext>({
    // The schema, with an executor that compiles the operations clients repeat (see execution.ts).
    gateway: compiledExecution(deps.schema, (executor) => deps.metrics.execution(executor)),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // A request a browser could send cross-site without a preflight (a GET, a form or text/plain POST)
    // is refused before it is authenticated, so a page cannot spend the victim's failed-authentication
    // allowance. A request with an Authorization header is no such request: a page that sets one is
    // preflighted (this server answers no CORS preflight), and a browser adds one by itself only after
    // a Basic or Negotiate challenge, which this server never sends.
    csrfPrevention: { requestHeaders: ["authorization", "apollo-require-preflight", "x-apollo-operation-name"] },
    // The CLI drains and closes the database on SIGTERM itself.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatError(formatted, error, deps.limits),
    parseOptions: parseOptions(deps.limits),
    validationRules: validationRules(deps.limits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: deps.shutdownGraceMs }),
      ApolloServerPluginLandingPageDisabled(),
      // Nothing is cached (answers are no-store); Apollo's default cache-control plugin would still
      // run a hook on every field of every response.
      ApolloServerPluginCacheControlDisabled(),
      // Federation's inline traces: this server is no subgraph; the plugin would still run a hook per request.
      ApolloServerPluginInlineTraceDisabled(),
      requestHooksPlugin([limitsHooks(deps.limits, deps.logger), errorLogHooks(deps.logger), serviceUnavailableHooks, requestErrorStatusHooks, operationHooks]),
    ],
  });
  await apollo.start();

  /** The GraphQL endpoint's stack: the throttle, the body, the answer's size limit, Apollo. */
  const graphql = express.Router();
  // An address that failed to authenticate too often is refused before its key is even looked up.
  graphql.use((req, res, next) => {
    const retryAfter = authenticator.retryAfterSeconds(req);
    if (retryAfter === 0) return next();
    res.locals.errorCode = "TOO_MANY_FAILED_AUTHENTICATIONS";
    res.setHeader("Retry-After", String(retryAfter));
    res.status(429).json({
      errors: [
        {
          message: `Too many failed authentications from your address; try again in ${retryAfter} seconds, with a valid access key.`,
          extensions: { code: "TOO_MANY_FAILED_AUTHENTICATIONS", retryAfterSeconds: retryAfter },
        },
      ],
    });
  });

  graphql.use(
    express.json({ limit: "1mb" }),
    responseSizeLimit(deps.limits),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        try {
          const actor = await authenticator.actorOf(req, res);
          const client = { aborted: false };
          res.locals.clientGone = (() => {
            deps.logger.info({ requestId: res.locals.requestId }, "the client disconnected before its answer; nothing more is resolved for it");
            client.aborted = true;
          }) satisfies ClientGone;
          const context = new GraphQLContext(actor, deps.dataSource, deps.services, res.locals.requestId, client, deps.logger);
          res.locals.graphql = context;
          return context;
        } catch (error) {
          if (error instanceof UnauthenticatedError) {
            const status = HTTP_STATUS[error.code];
            const headers = status === 401 ? new HeaderMap([["www-authenticate", WWW_AUTHENTICATE]]) : undefined;
            throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status, headers } } });
          }
          if (isDatabaseUnavailable(error)) {
            deps.logger.warn({ requestId: res.locals.requestId, code: (error as { code?: string }).code, reason: (error as Error).message }, "the database could not authenticate a request");
            res.locals.errorCode = "SERVICE_UNAVAILABLE";
            throw new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, { extensions: { code: "SERVICE_UNAVAILABLE", retryable: true, http: { status: 503 } } });
          }
          deps.logger.error({ requestId: res.locals.requestId, err: error }, "unexpected error while authenticating a request");
          throw new GraphQLError(INTERNAL_MESSAGE, { extensions: { code: "INTERNAL_SERVER_ERROR", http: { status: 500 } } });
        }
      },
    }),
  );

  app.use(requestLog(deps.logger, deps.metrics));
  // The API's hot path: a POST to /graphql goes straight to its stack. No route below answers a POST
  // there (they are GETs, or other paths), so it meets the same handlers as before, without being
  // matched against each of the others first.
  app.use("/graphql", (req, res, next) => (req.method === "POST" ? graphql(req, res, next) : next()));

  if (deps.metricsOnApiPort !== false) app.get("/metrics", deps.metrics.handler());

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  let migrationsApplied = false;
  app.get("/readyz", async (_req, res) => {
    const reason = await unreadiness(deps.dataSource, () => migrationsApplied, () => (migrationsApplied = true));
    if (reason) res.status(503).json({ status: "unavailable", reason });
    else res.json({ status: "ready" });
  });

  app.use(SERVERLESS_PREFIX, serverlessRouter({ ...deps, authenticator }));

  app.use(graphiqlRouter());
  app.get("/graphql", (req, res, next) => {
    if (!wantsGraphiQL(req)) return next();
    res.setHeader("Content-Security-Policy", GRAPHIQL_CSP);
    res.type("html").send(GRAPHIQL_PAGE);
  });

  // Every other request to /graphql (a GET of a query, another method, a path below it).
  app.use("/graphql", (req, res, next) => (req.method === "POST" ? next() : graphql(req, res, next)));

  app.use((_req, res) => {
    res.status(404).json({ error: { code: "NOT_FOUND", message: `No such route. The API is at /graphql; health at /healthz and /readyz; the Serverless Framework routes under ${SERVERLESS_PREFIX}.` } });
  });

  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) deps.logger.error({ err: error, requestId: res.locals.requestId }, "unexpected error in an HTTP request");
    const message =
      error?.type === "entity.parse.failed"
        ? "The request body is not valid JSON."
        : error?.type === "entity.too.large"
          ? "The request body is larger than 1 MB."
          : status === 500
            ? "Something went wrong on the server. It has been logged with the request id."
            : "The request could not be read.";
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST" } }] });
  };
  app.use(onError);

  return { server, apollo };
}
