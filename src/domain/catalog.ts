import { App, Instance, Org, Service } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";
import { NotFoundError, UserError } from "./errors.js";
import { assertInScope, isInScope } from "./scope.js";
import { check, ensureAll, rules } from "./validation.js";

const UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string }; code?: string })?.driverError?.code === UNIQUE_VIOLATION ||
    (error as { code?: string })?.code === UNIQUE_VIOLATION;
}

/**
 * The id of the row with these values, inserted when missing. An existing row is only read: an
 * upsert that rewrote it would hold its lock until the deployment's transaction ends (after the STS
 * call), and every deployment of one app would queue behind the others.
 */
async function findOrInsert(ctx: RequestContext, table: "apps" | "services", values: Record<string, string>): Promise<string> {
  const columns = Object.keys(values);
  const params = Object.values(values);
  const where = columns.map((c, i) => `${c} = $${i + 1}`).join(" AND ");
  const find = async () => ((await ctx.em.query(`SELECT id FROM ${table} WHERE ${where}`, params)) as Array<{ id: string }>)[0]?.id;
  const existing = await find();
  if (existing) return existing;
  const [inserted]: Array<{ id: string }> = await ctx.em.query(
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")}) ON CONFLICT DO NOTHING RETURNING id`,
    params,
  );
  // Nothing inserted: a concurrent deployment created it and has committed; a new statement sees it.
  return inserted?.id ?? (await find())!;
}

/** Where a deployment goes, by name. */
export interface DeploymentPlace {
  app: string;
  service: string;
  stage: string;
  region: string | null;
}

/**
 * Orgs, apps, services and instances: the things providers are linked to. Lookups apply the caller's
 * key scope: what lies outside it is not found, the same as what does not exist.
 */
export class CatalogService {
  constructor(private readonly audit: AuditService) {}

  async org(ctx: RequestContext, orgId: string): Promise<Org> {
    const org = orgId === ctx.orgId ? await ctx.em.findOneBy(Org, { id: orgId }) : null;
    if (!org) throw new NotFoundError("The org");
    return org;
  }

  /** The caller's org with that slug, or null: another org's slug looks like an unknown one. */
  async orgBySlug(ctx: RequestContext, slug: string): Promise<Org | null> {
    const org = await ctx.em.findOneBy(Org, { id: ctx.orgId });
    return org && org.slug === slug ? org : null;
  }

  async app(ctx: RequestContext, appId: string): Promise<App> {
    const app = await ctx.em.findOneBy(App, { id: appId, orgId: ctx.orgId });
    if (!app || !isInScope(ctx.actor.scope, { appName: app.name })) throw new NotFoundError("The app");
    return app;
  }

  async service(ctx: RequestContext, serviceId: string): Promise<Service> {
    const service = await ctx.em.findOneBy(Service, { id: serviceId, orgId: ctx.orgId });
    const app = service && ctx.actor.scope ? await ctx.em.findOneBy(App, { id: service.appId, orgId: ctx.orgId }) : null;
    if (!service || (ctx.actor.scope && !(app && isInScope(ctx.actor.scope, { appName: app.name, serviceName: service.name })))) {
      throw new NotFoundError("The service");
    }
    return service;
  }

  async instance(ctx: RequestContext, instanceId: string): Promise<Instance> {
    const instance = await ctx.em.findOneBy(Instance, { id: instanceId, orgId: ctx.orgId });
    if (!instance) throw new NotFoundError("The instance");
    if (ctx.actor.scope) {
      const service = await ctx.em.findOneBy(Service, { id: instance.serviceId, orgId: ctx.orgId });
      const app = service && (await ctx.em.findOneBy(App, { id: service.appId, orgId: ctx.orgId }));
      if (!service || !app || !isInScope(ctx.actor.scope, { appName: app.name, serviceName: service.name, stage: instance.stage })) {
        throw new NotFoundError("The instance");
      }
    }
    return instance;
  }

  async createApp(ctx: RequestContext, orgId: string, name: string): Promise<App> {
    await this.org(ctx, orgId);
    ensureAll(check(rules.appOrServiceName, name, ["input", "name"]));
    await assertInScope(ctx, { appName: name });
    if (await ctx.em.existsBy(App, { orgId, name })) {
      throw new UserError("NAME_TAKEN", ["input", "name"], `The org already has an app named "${name}".`);
    }
    const app = await ctx.em.save(ctx.em.create(App, { orgId, name }));
    await this.audit.record(ctx, { action: "app.create", targetType: "App", targetId: app.id, details: { name } });
    return app;
  }

  async createService(ctx: RequestContext, appId: string, name: string): Promise<Service> {
    const app = await this.app(ctx, appId);
    ensureAll(check(rules.appOrServiceName, name, ["input", "name"]));
    await assertInScope(ctx, { appName: app.name, serviceName: name });
    if (await ctx.em.existsBy(Service, { appId, name })) {
      throw new UserError("NAME_TAKEN", ["input", "name"], `The app "${app.name}" already has a service named "${name}".`);
    }
    const service = await ctx.em.save(ctx.em.create(Service, { orgId: ctx.orgId, appId, name }));
    await this.audit.record(ctx, { action: "service.create", targetType: "Service", targetId: service.id, details: { app: app.name, name } });
    return service;
  }

  async createInstance(ctx: RequestContext, serviceId: string, stage: string, region: string | null): Promise<Instance> {
    const service = await this.service(ctx, serviceId);
    ensureAll(
      check(rules.stage, stage, ["input", "stage"]),
      region === null ? null : check(rules.region, region, ["input", "region"]),
    );
    if (ctx.actor.scope) {
      const app = await this.app(ctx, service.appId);
      await assertInScope(ctx, { appName: app.name, serviceName: service.name, stage });
    }
    if (await this.findInstance(ctx, serviceId, stage, region)) {
      const where = region ? `stage "${stage}" in ${region}` : `stage "${stage}"`;
      throw new UserError("INSTANCE_EXISTS", ["input", "stage"], `The service already has an instance for ${where}.`);
    }
    const instance = await ctx.em.save(ctx.em.create(Instance, { orgId: ctx.orgId, serviceId, stage, region, lastDeployedAt: null }));
    await this.audit.record(ctx, { action: "instance.create", targetType: "Instance", targetId: instance.id, details: { service: service.name, stage, region } });
    return instance;
  }

  /** Checks the names a deployment gives, all at once, before anything reads or writes them. */
  checkDeploymentTarget(target: DeploymentPlace): void {
    ensureAll(
      check(rules.appOrServiceName, target.app, ["input", "app"]),
      check(rules.appOrServiceName, target.service, ["input", "service"]),
      check(rules.stage, target.stage, ["input", "stage"]),
      target.region === null ? null : check(rules.region, target.region, ["input", "region"]),
    );
  }

  /**
   * What a deployment finds before it writes anything: its service (null when never deployed) and
   * whether its instance exists yet. One read, no lock.
   */
  async lookUpDeployment(ctx: RequestContext, target: DeploymentPlace): Promise<{ serviceId: string | null; instanceExists: boolean }> {
    const [row]: Array<{ service_id: string; instance_id: string | null }> = await ctx.em.query(
      `SELECT s.id AS service_id, i.id AS instance_id
         FROM apps a
         JOIN services s ON s.app_id = a.id AND s.org_id = a.org_id AND s.name = $3
         LEFT JOIN instances i ON i.org_id = a.org_id AND i.service_id = s.id AND i.stage = $4 AND i.region IS NOT DISTINCT FROM $5
        WHERE a.org_id = $1 AND a.name = $2`,
      [ctx.orgId, target.app, target.service, target.stage, target.region],
    );
    return { serviceId: row?.service_id ?? null, instanceExists: Boolean(row?.instance_id) };
  }

  /**
   * Records a deployment of app/service to stage (and region): creates the app, service and instance
   * the first time a deployment names them, and stamps the instance's last_deployed_at. Each step is
   * one INSERT ... ON CONFLICT, so concurrent first deployments end with exactly one of each. Meant
   * for a short transaction: the instance's row stays locked until it commits.
   */
  async recordDeployment(ctx: RequestContext, target: DeploymentPlace): Promise<Instance> {
    this.checkDeploymentTarget(target);
    const appId = await findOrInsert(ctx, "apps", { org_id: ctx.orgId, name: target.app });
    const serviceId = await findOrInsert(ctx, "services", { org_id: ctx.orgId, app_id: appId, name: target.service });
    const conflict = target.region === null ? "(service_id, stage) WHERE region IS NULL" : "(service_id, stage, region) WHERE region IS NOT NULL";
    const [row]: Array<{ id: string }> = await ctx.em.query(
      `INSERT INTO instances (org_id, service_id, stage, region, last_deployed_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT ${conflict} DO UPDATE SET last_deployed_at = EXCLUDED.last_deployed_at RETURNING id`,
      [ctx.orgId, serviceId, target.stage, target.region],
    );
    return ctx.em.findOneByOrFail(Instance, { id: row.id, orgId: ctx.orgId });
  }

  findInstance(ctx: RequestContext, serviceId: string, stage: string, region: string | null): Promise<Instance | null> {
    return ctx.em
      .createQueryBuilder(Instance, "i")
      .where("i.orgId = :orgId AND i.serviceId = :serviceId AND i.stage = :stage", { orgId: ctx.orgId, serviceId, stage })
      .andWhere(region === null ? "i.region IS NULL" : "i.region = :region", { region })
      .getOne();
  }
}
