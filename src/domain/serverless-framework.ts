import { CredentialKind, Instance, Org, Provider, ProviderType, Role } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import type { DeploymentCredentialsService, IssuedDeployment } from "./deployment-credentials.js";
import { NotFoundError, UserError } from "./errors.js";
import type { LinkService } from "./links.js";
import type { DeployedParameter, ParameterService } from "./parameters.js";
import { ParameterSource } from "./parameter-resolution.js";
import { requireRole } from "./roles.js";
import { assertInScope } from "./scope.js";
import { inTransaction } from "./transaction.js";
import { check, ensureAll, rules } from "./validation.js";

/*
 * What the Serverless Framework v3 dashboard client (@serverless/dashboard-plugin with
 * @serverless/platform-client) asks the dashboard, answered from this server's own rules: the same
 * keys, the same resolution, the same credential issuance as deploymentCredentials. The client names
 * a service and an instance by slugs: `appName|{app}|serviceName|{service}` and
 * `appName|{app}|serviceName|{service}|stage|{stage}|region|{region}`.
 */

/** An instance as the framework names it: always regional (the framework always has a region). */
export interface FrameworkInstance {
  app: string;
  service: string;
  stage: string;
  region: string;
}

/** Longer than any valid slug (two 128-character names, a 64-character stage, a region and the labels). */
const SLUG_MAX = 400;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SERVICE_SLUG_LABELS = ["appName", "serviceName"];
const INSTANCE_SLUG_LABELS = ["appName", "serviceName", "stage", "region"];
const SLUG_FORMAT = "appName|<app>|serviceName|<service>|stage|<stage>|region|<region>";

/** Splits `label|value|label|value…` into values when the labels are exactly these, in order. */
function slugValues(slug: string, labels: string[]): string[] | null {
  if (slug.length > SLUG_MAX) return null;
  const parts = slug.split("|");
  if (parts.length !== labels.length * 2 || labels.some((label, i) => parts[i * 2] !== label)) return null;
  return labels.map((_, i) => parts[i * 2 + 1]);
}

/**
 * The instance a service slug and an instance slug name, checked before anything else looks at them:
 * a malformed slug, a name the API would refuse, or two slugs that disagree is a UserError naming it.
 */
export function parseInstanceSlugs(serviceSlug: string, instanceSlug: string): FrameworkInstance {
  const instance = parseInstanceSlug(instanceSlug);
  const service = slugValues(serviceSlug, SERVICE_SLUG_LABELS);
  if (!service) {
    throw new UserError("INVALID_SLUG", ["serviceSlug"], "The service slug must look like appName|<app>|serviceName|<service>, as the Serverless Framework sends it.");
  }
  if (service[0] !== instance.app || service[1] !== instance.service) {
    throw new UserError("INVALID_SLUG", ["serviceSlug"], "The service slug and the instance slug name different services.");
  }
  return instance;
}

export function parseInstanceSlug(instanceSlug: string): FrameworkInstance {
  const values = slugValues(instanceSlug, INSTANCE_SLUG_LABELS);
  if (!values) throw new UserError("INVALID_SLUG", ["instanceSlug"], `The instance slug must look like ${SLUG_FORMAT}, as the Serverless Framework sends it.`);
  const [app, service, stage, region] = values;
  ensureAll(
    check(rules.appOrServiceName, app, ["instanceSlug", "app"]),
    check(rules.appOrServiceName, service, ["instanceSlug", "service"]),
    check(rules.stage, stage, ["instanceSlug", "stage"]),
    check(rules.region, region, ["instanceSlug", "region"]),
  );
  return { app, service, stage, region };
}

/** A provider in the framework client's vocabulary. `providerDetails` never carries a stored secret. */
export interface FrameworkProvider {
  providerUid: string;
  providerName: "aws";
  providerType: "roleArn" | "accessKey";
  alias: string;
  isDefault: boolean;
  providerDetails: { roleArn?: string; accessKeyId?: string };
}

export function frameworkProvider(provider: Provider): FrameworkProvider {
  const role = provider.kind === CredentialKind.AWS_ROLE;
  return {
    providerUid: provider.id,
    providerName: "aws",
    providerType: role ? "roleArn" : "accessKey",
    alias: provider.name,
    isDefault: provider.isDefault,
    providerDetails: role ? { roleArn: provider.settings.roleArn } : { accessKeyId: provider.settings.accessKeyId },
  };
}

/**
 * A parameter as the framework reads it. `paramType` places it in the framework's own precedence
 * (--param, then serverless.yml's stage params, then "instances", then its default params, then
 * "services"): set on the instance or its stage-wide instance is the stage's; on the service or the org
 * is the service's.
 */
export interface FrameworkParameter {
  paramName: string;
  paramValue: string;
  paramType: "instances" | "services";
}

export const frameworkParameter = (parameter: DeployedParameter): FrameworkParameter => ({
  paramName: parameter.name,
  paramValue: parameter.value,
  paramType: parameter.source === ParameterSource.INSTANCE ? "instances" : "services",
});

/**
 * The Serverless Framework's dashboard calls, on top of the domain services. Every refusal that the
 * client would swallow (it falls back to local credentials on any error) is audited here, and the
 * checks that can refuse run before any transaction opens, so a refusal never holds a connection
 * while it writes its audit event.
 */
export class ServerlessFrameworkService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly credentials: DeploymentCredentialsService,
    private readonly links: LinkService,
    private readonly audit: AuditService,
    private readonly parameters: ParameterService,
  ) {}

  /** `GET /core/tenants/{org}`: the caller's org by slug; another org's slug is audited and not found. */
  async tenant(ctx: RequestContext, orgName: string): Promise<Org> {
    if (!rules.orgSlug.pattern.test(orgName)) throw new UserError(rules.orgSlug.code, ["org"], rules.orgSlug.message);
    const org = await this.catalog.orgBySlug(ctx, orgName);
    if (!org) return this.unknownOrg(ctx, { org: orgName });
    return org;
  }

  /** The caller's org by the uid `tenant` answered with; any other uid is audited and not found. */
  async org(ctx: RequestContext, orgUid: string): Promise<Org> {
    if (!UUID.test(orgUid)) throw new UserError("INVALID_ORG_UID", ["orgUid"], "The org uid is not one this server gave out: ask GET /core/tenants/{org} for it.");
    const org = orgUid === ctx.orgId ? await this.catalog.org(ctx, orgUid).catch(() => null) : null;
    if (!org) return this.unknownOrg(ctx, { orgUid });
    return org;
  }

  /**
   * The instance's AWS credentials, through deploymentCredentials' own issuance (records the
   * instance, resolves, mints, audits, fails closed, and holds no transaction across STS). The session is the longest the provider allows:
   * this client never refreshes. Null: no AWS provider applies (audited as credentials.local).
   */
  async instanceCredentials(ctx: RequestContext, orgUid: string, instance: FrameworkInstance): Promise<IssuedDeployment> {
    const org = await this.org(ctx, orgUid);
    // `issue` admits the caller (its org and its key's scope) from its own one read.
    return this.credentials.issue(ctx, { org: org.slug, ...instance, type: ProviderType.AWS, durationSeconds: null, longestSession: true });
  }

  /**
   * The instance's effective parameters for `${param:NAME}`, secret values opened: through the
   * parameters' own deployment read (the caller's org and key scope, audited as parameters.issue,
   * names never values). Nothing is created.
   */
  async instanceParameters(ctx: RequestContext, orgUid: string, instance: FrameworkInstance): Promise<FrameworkParameter[]> {
    const org = await this.org(ctx, orgUid);
    const parameters = await this.parameters.forDeployment(ctx, { org: org.slug, ...instance });
    return parameters.map(frameworkParameter);
  }

  /** The org's AWS providers, for the framework's onboarding: summaries only, for developers and admins. */
  async providers(ctx: RequestContext, orgUid: string): Promise<Provider[]> {
    await this.org(ctx, orgUid);
    await requireRole(ctx, Role.DEVELOPER, "serverless.providers");
    return ctx.em.find(Provider, { where: { orgId: ctx.orgId, type: ProviderType.AWS }, order: { name: "ASC" } });
  }

  /**
   * Links a provider to the instance the slug names (the onboarding's "use this provider here"),
   * creating the app, service and instance the first time, each with its usual audit event.
   */
  async linkToInstance(ctx: RequestContext, orgUid: string, target: FrameworkInstance, providerUid: unknown) {
    const org = await this.org(ctx, orgUid);
    if (typeof providerUid !== "string" || !UUID.test(providerUid)) {
      throw new UserError("INVALID_PROVIDER_UID", ["providerUid"], "Send the body {\"providerUid\": …} with a providerUid from GET /orgs/{orgUid}/providers.");
    }
    await requireRole(ctx, Role.DEVELOPER, "serverless.link");
    await assertInScope(ctx, { appName: target.app, serviceName: target.service, stage: target.stage });
    return inTransaction(ctx, async (tx) => {
      const instance = await this.ensureInstance(tx, org, target);
      return this.links.linkToInstance(tx, providerUid, instance.id);
    });
  }

  private async ensureInstance(ctx: RequestContext, org: Org, target: FrameworkInstance): Promise<Instance> {
    const [row]: Array<{ app_id: string | null; service_id: string | null }> = await ctx.em.query(
      `SELECT a.id AS app_id, s.id AS service_id
         FROM apps a LEFT JOIN services s ON s.app_id = a.id AND s.name = $3
        WHERE a.org_id = $1 AND a.name = $2`,
      [org.id, target.app, target.service],
    );
    const appId = row?.app_id ?? (await this.catalog.createApp(ctx, org.id, target.app)).id;
    const serviceId = row?.service_id ?? (await this.catalog.createService(ctx, appId, target.service)).id;
    return (
      (await this.catalog.findInstance(ctx, serviceId, target.stage, target.region)) ??
      (await this.catalog.createInstance(ctx, serviceId, target.stage, target.region))
    );
  }

  /** The client swallows this error: the audit trail is where an admin sees it. */
  private async unknownOrg(ctx: RequestContext, asked: Record<string, string>): Promise<never> {
    const error = new NotFoundError("The org");
    await this.audit.recordRefusal(ctx, "serverless.org", error, asked);
    throw error;
  }
}
