import { randomUUID } from "node:crypto";
import http from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import type { DataSource } from "typeorm";
import { hashToken } from "../domain/access-key-tokens.js";
import { authenticate } from "../domain/authentication.js";
import type { TrustProxy } from "../config.js";
import { CodedError, UnauthenticatedError } from "../domain/errors.js";
import type { Services } from "../domain/services.js";
import { GraphQLContext } from "../graphql/context.js";
import type { Logger } from "../logger.js";
import { AuthThrottle, clientOf, type AuthThrottleOptions } from "./auth-throttle.js";
import { GRAPHIQL_PAGE, graphiqlRouter, wantsGraphiQL } from "./graphiql.js";
import { limitsPlugin, parseOptions, tokenLimitError, validationRules, type QueryLimits } from "./limits.js";

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
}

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401 };

/** Domain errors become GraphQL errors with a code; anything unexpected is logged and masked. */
function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // A refusal before execution (a query limit) is a GraphQLError wrapping our own error.
  const original =
    unwrapped instanceof GraphQLError && unwrapped.originalError instanceof CodedError
      ? unwrapped.originalError
      : formatted.extensions?.code === "GRAPHQL_PARSE_FAILED"
        ? (tokenLimitError(formatted.message) ?? unwrapped)
        : unwrapped;
  if (original instanceof CodedError) {
    return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.code, ...original.details } };
  }
  const code = formatted.extensions?.code;
  if (original instanceof GraphQLError || (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR")) {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    message: "Something went wrong on the server. It has been logged with the request id; try again, and report it if it persists.",
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
}

function loggingPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof CodedError || original instanceof GraphQLError) continue;
            // The message and stack of an unexpected error; never variables or headers.
            logger.error({ requestId: contextValue?.requestId, path: error.path, err: original }, "unexpected error in a GraphQL operation");
          }
        },
      };
    },
  };
}

export interface HttpServer {
  server: http.Server;
  apollo: ApolloServer<GraphQLContext>;
}

export async function createHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", deps.trustProxy);
  const throttle = new AuthThrottle(deps.authThrottle);
  // Idle keep-alive connections stay open longer than a load balancer's idle timeout (60 s on AWS ALB):
  // with Node's 5 s, the server closes sockets a proxy is about to reuse, and that request fails
  // (a 502 behind the proxy). The drain plugin still closes them on stop.
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, app);
  const apollo = new ApolloServer<GraphQLContext>({
    schema: deps.schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The CLI drains and closes the database on SIGTERM itself.
    stopOnTerminationSignals: false,
    formatError,
    parseOptions: parseOptions(deps.limits),
    validationRules: validationRules(deps.limits),
    plugins: [
      limitsPlugin(deps.limits, deps.logger),
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: deps.shutdownGraceMs }),
      ApolloServerPluginLandingPageDisabled(),
      // Nothing is cached (answers are no-store); Apollo's default cache-control plugin would still
      // run a hook on every field of every response.
      ApolloServerPluginCacheControlDisabled(),
      loggingPlugin(deps.logger),
    ],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("X-Content-Type-Options", "nosniff");
    // Answers can carry deployment credentials: no browser or proxy may keep a copy.
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    try {
      await deps.dataSource.query("SELECT 1");
      if (await deps.dataSource.showMigrations()) {
        res.status(503).json({ status: "unavailable", reason: "database migrations are pending; run `providers-api migrate`" });
        return;
      }
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable", reason: "the database is not reachable" });
    }
  });

  app.use(graphiqlRouter());
  app.get("/graphql", (req, res, next) => {
    if (!wantsGraphiQL(req)) return next();
    res.setHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.type("html").send(GRAPHIQL_PAGE);
  });

  // An address that failed to authenticate too often is refused before its key is even looked up.
  app.use("/graphql", async (req, res, next) => {
    const retryAfter = await throttle.retryAfterSeconds(clientOf(req.ip));
    if (retryAfter === 0) return next();
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

  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const header = req.headers.authorization ?? "";
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        try {
          if (!match) throw new UnauthenticatedError();
          const actor = await authenticate(deps.dataSource.manager, match[1]);
          // "close" before the answer is written means the client went away.
          const disconnected = new AbortController();
          res.once("close", () => {
            if (res.writableFinished) return;
            deps.logger.info({ requestId: res.locals.requestId }, "the client disconnected before its answer; nothing more is resolved for it");
            disconnected.abort();
          });
          return new GraphQLContext(actor, deps.dataSource, deps.services, res.locals.requestId, disconnected.signal, deps.logger);
        } catch (error) {
          if (error instanceof UnauthenticatedError) {
            const client = clientOf(req.ip);
            const failures = await throttle.recordFailure(client);
            // Never the key: a prefix of its hash lets an admin match a revoked key's hash, nothing more.
            const keyHashPrefix = match ? hashToken(match[1]).toString("hex").slice(0, 12) : null;
            deps.logger.warn({ requestId: res.locals.requestId, client, keyHashPrefix, failures }, "authentication failed");
            if (failures === deps.authThrottle.limit) {
              deps.logger.warn(
                { client, limit: deps.authThrottle.limit, windowSeconds: deps.authThrottle.windowSeconds },
                "client address refused for the rest of its window after too many failed authentications",
              );
            }
            throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: HTTP_STATUS[error.code] } } });
          }
          throw error;
        }
      },
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: { code: "NOT_FOUND", message: "No such route. The API is at /graphql; health at /healthz and /readyz." } });
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
