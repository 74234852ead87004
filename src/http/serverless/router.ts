import express, { type ErrorRequestHandler, type Request, type Response } from "express";
import type { DataSource } from "typeorm";
import { RequestContext } from "../../domain/context.js";
import { CodedError, UserError, UserErrors } from "../../domain/errors.js";
import { frameworkProvider, parseInstanceSlug, parseInstanceSlugs, type FrameworkInstance } from "../../domain/serverless-framework.js";
import type { Services } from "../../domain/services.js";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../../db/availability.js";
import type { Logger } from "../../logger.js";
import { WWW_AUTHENTICATE, type RequestAuthenticator } from "../authenticate.js";

/**
 * The routes the Serverless Framework v3 dashboard client calls, under one prefix that its plugin
 * (serverless-plugin/index.js) sets as both the `core` and the `providers` domain. Shapes are the
 * ones @serverless/dashboard-plugin 7.2.3 reads; errors are `{ message, name, statusCode }`, which
 * @serverless/platform-client turns into an Error with that message and status.
 */
export const SERVERLESS_PREFIX = "/sls/v1";

export interface ServerlessRouterDeps {
  dataSource: DataSource;
  services: Services;
  logger: Logger;
  authenticator: RequestAuthenticator;
}

/**
 * STS failures: 503 when trying again may help (with Retry-After), 502 when an admin must fix something upstream.
 * Input errors are 400, except NEW_STAGE_REFUSED: the request is well formed and the same one succeeds
 * with a key that may create stages, so it is the org's policy refusing this caller (403), not bad input.
 */
const STATUS_OF_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  TOO_MANY_FAILED_AUTHENTICATIONS: 429,
  FORBIDDEN: 403,
  NEW_STAGE_REFUSED: 403,
  NOT_FOUND: 404,
  SERVICE_UNAVAILABLE: 503,
  STS_THROTTLED: 503,
  STS_UNAVAILABLE: 503,
  SERVER_AWS_CREDENTIALS_REJECTED: 503,
  SERVER_AWS_CREDENTIALS_MISSING: 503,
  STS_ACCESS_DENIED: 502,
  SESSION_DURATION_TOO_LONG: 502,
  PROVIDER_CREDENTIALS_REJECTED: 502,
  STS_ERROR: 502,
};

const RETRY_AFTER_SECONDS = 5;

interface ErrorBody {
  message: string;
  name: string;
  code: string;
  statusCode: number;
  requestId: string;
  details?: Record<string, unknown>;
}

function errorBody(error: unknown, requestId: string): ErrorBody {
  const body = (statusCode: number, code: string, message: string, details?: Record<string, unknown>): ErrorBody => ({
    message,
    name: code,
    code,
    statusCode,
    requestId,
    ...(details ? { details } : {}),
  });
  if (error instanceof UserErrors) {
    return body(STATUS_OF_CODE[error.errors[0].code] ?? 400, error.errors[0].code, error.message, { fields: error.errors.map((e) => ({ code: e.code, field: e.field, message: e.message })) });
  }
  if (error instanceof UserError) return body(STATUS_OF_CODE[error.code] ?? 400, error.code, error.message, { fields: [{ code: error.code, field: error.field, message: error.message }] });
  if (error instanceof CodedError) return body(STATUS_OF_CODE[error.code] ?? 400, error.code, error.message, Object.keys(error.details).length ? error.details : undefined);
  if (isDatabaseUnavailable(error)) return body(503, "SERVICE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE, { retryable: true });
  const status = (error as { status?: number })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const type = (error as { type?: string }).type;
    const message =
      type === "entity.parse.failed"
        ? "The request body is not valid JSON."
        : type === "entity.too.large"
          ? "The request body is too large."
          : error instanceof URIError || /decode/i.test((error as Error).message ?? "")
            ? "The request path is not valid URI encoding."
            : "The request could not be read.";
    return body(status, "BAD_REQUEST", message);
  }
  return body(500, "INTERNAL_SERVER_ERROR", "Something went wrong on the server. It has been logged with the request id; try again, and report it if it persists.");
}

export function serverlessRouter(deps: ServerlessRouterDeps): express.Router {
  const router = express.Router();
  const { services, logger } = deps;

  /** The request's context: authenticated only after its arguments were checked. */
  async function contextOf(req: Request, res: Response): Promise<RequestContext> {
    const retryAfterSeconds = deps.authenticator.retryAfterSeconds(req);
    if (retryAfterSeconds > 0) {
      throw new CodedError(
        "TOO_MANY_FAILED_AUTHENTICATIONS",
        `Too many failed authentications from your address; try again in ${retryAfterSeconds} seconds, with a valid access key.`,
        { retryAfterSeconds },
      );
    }
    const actor = await deps.authenticator.actorOf(req, res);
    res.locals.actor = actor;
    return new RequestContext(actor, deps.dataSource.manager, res.locals.requestId, logger);
  }

  const params = (req: Request) => req.params as Record<string, string>;
  const instanceOf = (req: Request): FrameworkInstance => {
    const { serviceSlug, instanceSlug } = params(req);
    return parseInstanceSlugs(serviceSlug, instanceSlug);
  };

  router.get("/core/tenants/:org", async (req, res) => {
    const ctx = await contextOf(req, res);
    const org = await services.serverless.tenant(ctx, params(req).org);
    res.json({ orgUid: org.id, orgName: org.slug, tenantName: org.slug, title: org.name });
  });

  router.get("/orgs/:orgUid/services/:serviceSlug/instances/:instanceSlug", async (req, res) => {
    const instance = instanceOf(req);
    res.locals.asked = instance;
    const ctx = await contextOf(req, res);
    const issued = await services.serverless.instanceCredentials(ctx, params(req).orgUid, instance);
    if (!issued.resolution || !issued.credentials || issued.credentials.type !== "AWS") {
      // The client then deploys with whatever local credentials it finds, and says nothing.
      logger.info({ requestId: ctx.requestId, ...instance, key: ctx.actor.accessKeyName }, "serverless framework: no AWS provider applies; the client falls back to local credentials");
      res.json({ result: [] });
      return;
    }
    const { provider, source } = issued.resolution;
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = issued.credentials;
    res.json({
      result: [
        {
          ...frameworkProvider(provider),
          source,
          providerDetails: {
            ...frameworkProvider(provider).providerDetails,
            accessKeyId,
            secretAccessKey,
            sessionToken,
            expiration: expiration?.toISOString() ?? null,
          },
        },
      ],
    });
  });

  router.get("/orgs/:orgUid/services/:serviceSlug/instances/:instanceSlug/params", async (req, res) => {
    const instance = instanceOf(req);
    res.locals.asked = instance;
    const ctx = await contextOf(req, res);
    res.json({ result: await services.serverless.instanceParameters(ctx, params(req).orgUid, instance) });
  });

  router.get("/orgs/:orgUid/providers", async (req, res) => {
    const ctx = await contextOf(req, res);
    const providers = await services.serverless.providers(ctx, params(req).orgUid);
    res.json({ result: providers.map(frameworkProvider) });
  });

  router.post("/orgs/:orgUid/instances/:instanceSlug", express.json({ limit: "4kb" }), async (req, res) => {
    const instance = parseInstanceSlug(params(req).instanceSlug);
    res.locals.asked = instance;
    const ctx = await contextOf(req, res);
    const providerUid = (req.body as { providerUid?: unknown } | undefined)?.providerUid;
    const change = await services.serverless.linkToInstance(ctx, params(req).orgUid, instance, providerUid);
    res.json({
      providerUid: change.provider.id,
      linkType: "instance",
      linkUid: params(req).instanceSlug,
      replacedProviderUid: change.replacedProvider?.id ?? null,
    });
  });

  router.use((_req, res) => {
    res.status(404).json(errorBody(new CodedError("NOT_FOUND", `No such route. The Serverless Framework routes are under ${SERVERLESS_PREFIX}.`), res.locals.requestId));
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const body = errorBody(error, res.locals.requestId);
    const where = { requestId: body.requestId, method: req.method, route: req.route?.path ?? null, key: res.locals.actor?.accessKeyName ?? null, ...res.locals.asked };
    if (body.statusCode === 500) logger.error({ ...where, err: error }, "unexpected error in a Serverless Framework route");
    // The framework swallows every error of the provider call and deploys with local credentials:
    // this log line and the audit trail are where the refusal stays visible.
    else logger.warn({ ...where, status: body.statusCode, code: body.code }, `serverless framework request refused: ${body.message}`);
    if (body.statusCode === 401) res.setHeader("WWW-Authenticate", WWW_AUTHENTICATE);
    if (body.statusCode === 503 || body.statusCode === 429) res.setHeader("Retry-After", String(body.details?.retryAfterSeconds ?? RETRY_AFTER_SECONDS));
    res.status(body.statusCode).json(body);
  };
  router.use(onError);
  return router;
}
