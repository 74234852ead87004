import { queryPrepared } from "../db/prepared.js";
import { announceInsert, entityFromRow, insertValues, selectColumns } from "../db/rows.js";
import { App, AuditEvent, Instance, Org, Service } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";
import { NotFoundError, UserError } from "./errors.js";
import { assertInScope, assertUnscoped, isInScope } from "./scope.js";
import { check, ensureAll, rules } from "./validation.js";
import { assertStageMayBeAdded, mayCreateStages } from "./stage-warnings.js";
import { isKnownAwsRegion } from "../aws/regions.js";

const UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string }; code?: string })?.driverError?.code === UNIQUE_VIOLATION ||
    (error as { code?: string })?.code === UNIQUE_VIOLATION;
}

/**
 * One statement that finds or creates the app and the service, creates the instance or stamps its
 * last_deployed_at, and writes the audit event about it when one is given. An existing app or service
 * is only read, never rewritten (a rewrite would lock it until the transaction ends, and deployments of
 * one app would queue behind each other). $1 org, $2 app, $3 service, $4 stage, $5 region.
 * With `room` (the placeholder of the org's instance limit), a new instance is created only while the
 * org has fewer instances than that, and the count is returned as `__instances` (the row's instance
 * columns are null when it was refused).
 */
const recordDeploymentSql = (conflict: string, audit: string | null, returning: string, room: string | null) => `
WITH found_app AS (SELECT id FROM apps WHERE org_id = $1 AND name = $2),
     new_app AS (INSERT INTO apps (org_id, name) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM found_app)
                 ON CONFLICT DO NOTHING RETURNING id),
     app AS (SELECT id FROM found_app UNION ALL SELECT id FROM new_app),
     found_service AS (SELECT s.id FROM services s JOIN app ON s.app_id = app.id WHERE s.org_id = $1 AND s.name = $3),
     new_service AS (INSERT INTO services (org_id, app_id, name) SELECT $1, app.id, $3 FROM app WHERE NOT EXISTS (SELECT 1 FROM found_service)
                     ON CONFLICT DO NOTHING RETURNING id),
     service AS (SELECT id FROM found_service UNION ALL SELECT id FROM new_service),${room ? `
     room AS (SELECT count(*)::int AS count FROM instances WHERE org_id = $1),` : ""}
     instance AS (INSERT INTO instances (org_id, service_id, stage, region, last_deployed_at) SELECT $1, service.id, $4, $5, now() FROM service${room ? `
                   WHERE (SELECT count FROM room) < ${room}
                      OR EXISTS (SELECT 1 FROM instances WHERE org_id = $1 AND service_id = service.id AND stage = $4 AND region IS NOT DISTINCT FROM $5)` : ""}
                  ON CONFLICT ${conflict} DO UPDATE SET last_deployed_at = EXCLUDED.last_deployed_at
                  RETURNING *)${audit ? `,
     audit AS (${audit} RETURNING id, occurred_at)` : ""}
SELECT ${returning}${audit ? ", (SELECT id FROM audit) AS __audit_id, (SELECT occurred_at FROM audit) AS __audit_at" : ""}${room ? ", room.count AS __instances FROM room LEFT JOIN instance ON true" : " FROM instance"}`;

/** The stages a service has had, in any region, the oldest first: a text[] (null for none). */
const knownStagesSql = (org: string, service: string) => `(SELECT array_agg(k.stage ORDER BY k.first) FROM (SELECT stage, min(created_at) AS first FROM instances
   WHERE org_id = ${org} AND service_id = ${service} GROUP BY stage) k)`;

/** `recordDeploymentSql`'s texts by shape (see `recordDeployment`): a handful in practice, bounded whatever happens. */
const recordTexts = new Map<string, string>();
const MAX_RECORD_TEXTS = 64;

/** A statement sees what had committed when it began; a concurrent first deployment may need one more. */
const RECORD_ATTEMPTS = 3;

/** Where a deployment goes, by name. */
export interface DeploymentPlace {
  app: string;
  service: string;
  stage: string;
  region: string | null;
}

/**
 * A deployment's place by name, as a query of at most one row: its service (no row when the app or the
 * service was never deployed), its instance, and, only when the instance is new, the stages the service
 * has deployed (any region, the oldest first). `p` names the placeholders of the values.
 */
export const deploymentPlaceSql = (p: Record<keyof DeploymentPlace | "org", string>) => `
SELECT s.id AS service_id, i.id AS existing_instance_id,
       CASE WHEN i.id IS NULL THEN ${knownStagesSql("a.org_id", "s.id")} END AS known_stages
  FROM apps a
  JOIN services s ON s.app_id = a.id AND s.org_id = a.org_id AND s.name = ${p.service}::text
  LEFT JOIN instances i ON i.org_id = a.org_id AND i.service_id = s.id AND i.stage = ${p.stage}::text AND i.region IS NOT DISTINCT FROM ${p.region}::text
 WHERE a.org_id = ${p.org}::uuid AND a.name = ${p.app}::text`;

/** A row of `deploymentPlaceSql`. */
export interface PlaceRow {
  service_id: string;
  existing_instance_id: string | null;
  known_stages: string[] | null;
}

/** What a deployment finds of its place before it writes anything. */
export interface FoundPlace {
  /** Null: the service was never deployed. */
  serviceId: string | null;
  instanceExists: boolean;
  /** When the instance is new: the stages its service has deployed that the caller's key may see, oldest first. */
  knownStages: string[];
}

/** What deleting an app, a service or an instance took with it. */
export interface CatalogDeletion {
  deletedServiceCount: number;
  deletedInstanceCount: number;
  /** Links of a provider to the deleted services and instances: the providers themselves stay. */
  unlinkedProviderCount: number;
}

/** What a deletion starts from: exactly one of them. */
type DeletionRoot = { app: App } | { service: Service; app: App } | { instance: Instance; service: Service; app: App };

/** The org's switches an admin changes with updateOrgSettings. */
const ORG_SETTINGS = ["refuseUnenforcedExternalId", "refuseNewStages"] as const;
type OrgSetting = (typeof ORG_SETTINGS)[number];

/** What the catalog accepts beyond the shape of a name: operator settings. */
export interface CatalogLimits {
  /** Regions to accept besides the AWS SDK's list (AWS_EXTRA_REGIONS). */
  extraRegions: readonly string[];
  /** The most instances one org may have (MAX_INSTANCES_PER_ORG): a deployment creates one per new stage and region. */
  maxInstancesPerOrg: number;
}

export const DEFAULT_CATALOG_LIMITS: CatalogLimits = { extraRegions: [], maxInstancesPerOrg: 5_000 };

/**
 * Orgs, apps, services and instances: the things providers are linked to. Lookups apply the caller's
 * key scope: what lies outside it is not found, the same as what does not exist.
 */
export class CatalogService {
  constructor(
    private readonly audit: AuditService,
    private readonly limits: CatalogLimits = DEFAULT_CATALOG_LIMITS,
  ) {}

  async org(ctx: RequestContext, orgId: string): Promise<Org> {
    const org = orgId === ctx.orgId ? await ctx.em.findOneBy(Org, { id: orgId }) : null;
    if (!org) throw new NotFoundError("The org");
    return org;
  }

  /** Changes the org's settings (each one left out stays), audited with what each one given was and is. */
  async updateSettings(ctx: RequestContext, orgId: string, changes: Partial<Record<OrgSetting, boolean | null>>): Promise<Org> {
    await assertUnscoped(ctx, "updateOrgSettings", "changing the org's settings (they apply to every app and stage)");
    const org = await this.org(ctx, orgId);
    const given = ORG_SETTINGS.filter((name) => changes[name] != null);
    const settingsOf = () => Object.fromEntries(given.map((name) => [name, org[name]])) as Partial<Record<OrgSetting, boolean>>;
    const before = settingsOf();
    for (const name of given) org[name] = changes[name]!;
    const after = settingsOf();
    if (given.length > 0) await ctx.em.update(Org, { id: org.id }, after);
    await this.audit.record(ctx, { action: "org.updateSettings", targetType: "Org", targetId: org.id, details: { before, after } });
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
    ensureAll(check(rules.stage, stage, ["input", "stage"]), this.checkRegion(region, ["input", "region"]));
    const app = ctx.actor.scope ? await this.app(ctx, service.appId) : null;
    if (app) await assertInScope(ctx, { appName: app.name, serviceName: service.name, stage });
    if (await this.findInstance(ctx, serviceId, stage, region)) {
      const where = region ? `stage "${stage}" in ${region}` : `stage "${stage}"`;
      throw new UserError("INSTANCE_EXISTS", ["input", "stage"], `The service already has an instance for ${where}.`);
    }
    if (!mayCreateStages(ctx.actor)) await this.assertStageMayBeAdded(ctx, service, app, stage, region);
    await this.assertRoomForInstance(ctx);
    const instance = await ctx.em.save(ctx.em.create(Instance, { orgId: ctx.orgId, serviceId, stage, region, lastDeployedAt: null }));
    await this.audit.record(ctx, { action: "instance.create", targetType: "Instance", targetId: instance.id, details: { service: service.name, stage, region } });
    return instance;
  }

  /** createInstance's check of Org.refuseNewStages, for a caller that may not add stages; a refusal is audited. */
  private async assertStageMayBeAdded(ctx: RequestContext, service: Service, app: App | null, stage: string, region: string | null): Promise<void> {
    const [row]: Array<{ refuse_new_stages: boolean; stages: string[] | null }> = await ctx.em.query(
      `SELECT o.refuse_new_stages, ${knownStagesSql("$1", "$2")} AS stages FROM orgs o WHERE o.id = $1`,
      [ctx.orgId, service.id],
    );
    const knownStages = (row?.stages ?? []).filter((known) => !app || isInScope(ctx.actor.scope, { appName: app.name, serviceName: service.name, stage: known }));
    try {
      assertStageMayBeAdded(ctx.actor, { refuseNewStages: row?.refuse_new_stages ?? false }, { service: service.name, stage }, knownStages);
    } catch (error) {
      await this.audit.recordRefusal(ctx, "instance.create", error, { service: service.name, stage, region });
      throw error;
    }
  }

  /** Deletes an app with its services, instances and their provider links (see `deleteWithLinks`). */
  async deleteApp(ctx: RequestContext, appId: string, force: boolean): Promise<CatalogDeletion> {
    return this.deleteWithLinks(ctx, { app: await this.app(ctx, appId) }, force);
  }

  async deleteService(ctx: RequestContext, serviceId: string, force: boolean): Promise<CatalogDeletion> {
    const service = await this.service(ctx, serviceId);
    const app = await ctx.em.findOneByOrFail(App, { id: service.appId, orgId: ctx.orgId });
    return this.deleteWithLinks(ctx, { service, app }, force);
  }

  async deleteInstance(ctx: RequestContext, instanceId: string, force: boolean): Promise<CatalogDeletion> {
    const instance = await this.instance(ctx, instanceId);
    const service = await ctx.em.findOneByOrFail(Service, { id: instance.serviceId, orgId: ctx.orgId });
    const app = await ctx.em.findOneByOrFail(App, { id: service.appId, orgId: ctx.orgId });
    return this.deleteWithLinks(ctx, { instance, service, app }, force);
  }

  /**
   * Deletes an app, service or instance and everything under it, in the caller's transaction. Its
   * rows are locked first (FOR UPDATE), so a link or service being added concurrently either is
   * counted here or waits and then finds its target gone: no link is lost without being counted.
   * While provider links would go, it is refused unless `force` — the links are how deployments get
   * their credentials, so they must not disappear unnoticed. A scoped key must cover every stage it
   * would delete. Audited with what went.
   */
  private async deleteWithLinks(ctx: RequestContext, root: DeletionRoot, force: boolean): Promise<CatalogDeletion> {
    const [typeName, id, label] =
      "instance" in root
        ? (["Instance", root.instance.id, `The instance ${root.service.name}/${root.instance.stage}${root.instance.region ? `/${root.instance.region}` : ""}`] as const)
        : "service" in root
          ? (["Service", root.service.id, `The service "${root.service.name}"`] as const)
          : (["App", root.app.id, `The app "${root.app.name}"`] as const);
    const org = ctx.orgId;
    const appId = root.app.id;
    const serviceId = "service" in root ? root.service.id : null;
    const instanceId = "instance" in root ? root.instance.id : null;
    if (!serviceId) await ctx.em.query("SELECT 1 FROM apps WHERE org_id = $1 AND id = $2 FOR UPDATE", [org, appId]);
    const services: Array<{ id: string; name: string }> = instanceId
      ? []
      : await ctx.em.query("SELECT id, name FROM services WHERE org_id = $1 AND app_id = $2 AND ($3::uuid IS NULL OR id = $3) ORDER BY id FOR UPDATE", [org, appId, serviceId]);
    const instances: Array<{ id: string; stage: string; service_name: string }> = await ctx.em.query(
      `SELECT i.id, i.stage, s.name AS service_name FROM instances i JOIN services s ON s.id = i.service_id AND s.org_id = i.org_id
        WHERE i.org_id = $1 AND s.app_id = $2 AND ($3::uuid IS NULL OR s.id = $3) AND ($4::uuid IS NULL OR i.id = $4) ORDER BY i.id FOR UPDATE OF i`,
      [org, appId, serviceId, instanceId],
    );
    for (const service of services) await assertInScope(ctx, { appName: root.app.name, serviceName: service.name });
    for (const instance of instances) await assertInScope(ctx, { appName: root.app.name, serviceName: instance.service_name, stage: instance.stage });
    const links: Array<{ provider: string; type: string; target: string }> = await ctx.em.query(
      `SELECT p.name AS provider, p.type, 'service ' || s.name AS target FROM service_provider_links l JOIN providers p ON p.id = l.provider_id JOIN services s ON s.id = l.service_id
        WHERE l.org_id = $1 AND l.service_id = ANY($2::uuid[])
       UNION ALL
       SELECT p.name, p.type, 'instance ' || i.stage || COALESCE('/' || i.region, '') FROM instance_provider_links l JOIN providers p ON p.id = l.provider_id JOIN instances i ON i.id = l.instance_id
        WHERE l.org_id = $1 AND l.instance_id = ANY($3::uuid[])
       ORDER BY 3, 1`,
      [org, services.map((s) => s.id), instances.map((i) => i.id)],
    );
    if (links.length > 0 && !force) {
      const named = links.slice(0, 5).map((l) => `${l.provider} (${l.type}) on the ${l.target}`).join(", ");
      throw new UserError(
        "WOULD_REMOVE_PROVIDER_LINKS",
        ["input", "force"],
        `${label} has ${links.length} provider link(s) that would be deleted with it: ${named}${links.length > 5 ? ", …" : ""}. Unlink them first, or pass force: true to delete them too.`,
      );
    }
    const table = { App: "apps", Service: "services", Instance: "instances" }[typeName];
    // The links, instances and services under it go by the foreign keys' ON DELETE CASCADE.
    await ctx.em.query(`DELETE FROM ${table} WHERE org_id = $1 AND id = $2`, [org, id]);
    const deletion: CatalogDeletion = { deletedServiceCount: services.length, deletedInstanceCount: instances.length, unlinkedProviderCount: links.length };
    await this.audit.record(ctx, {
      action: `${typeName.toLowerCase()}.delete`,
      targetType: typeName,
      targetId: id,
      details: { app: root.app.name, service: "service" in root ? root.service.name : null, stage: "instance" in root ? root.instance.stage : null, force, ...deletion },
    });
    return deletion;
  }

  /** Checks the names a deployment gives, all at once, before anything reads or writes them. */
  checkDeploymentTarget(target: DeploymentPlace): void {
    ensureAll(
      check(rules.appOrServiceName, target.app, ["input", "app"]),
      check(rules.appOrServiceName, target.service, ["input", "service"]),
      check(rules.stage, target.stage, ["input", "stage"]),
      this.checkRegion(target.region, ["input", "region"]),
    );
  }

  /** A region must be a real AWS region (the SDK's list) or one the operator allowed; null is no region. */
  private checkRegion(region: string | null, field: string[]): UserError | null {
    if (region === null) return null;
    const shape = check(rules.region, region, field);
    if (shape || isKnownAwsRegion(region) || this.limits.extraRegions.includes(region)) return shape;
    return new UserError(
      "INVALID_REGION",
      field,
      `"${region}" is not an AWS region this server knows, such as us-east-1 or eu-central-2. A region newer than the server's AWS SDK can be allowed by its operator with AWS_EXTRA_REGIONS.`,
    );
  }

  /**
   * Refuses a new instance when the org has as many as the server allows. Inside a transaction:
   * concurrent creations in the org wait for each other (the org's lock) so that none overshoots.
   */
  async assertRoomForInstance(ctx: RequestContext): Promise<void> {
    await this.lockInstances(ctx);
    const [{ count }]: Array<{ count: number }> = await ctx.em.query("SELECT count(*)::int AS count FROM instances WHERE org_id = $1", [ctx.orgId]);
    this.assertRoomBeside(count);
  }

  /** Makes the org's instance creations wait for each other until the caller's transaction ends. */
  private async lockInstances(ctx: RequestContext): Promise<void> {
    await ctx.em.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/instances/' || $1))", [ctx.orgId]);
  }

  /** Refuses a new instance beside the org's `count`, when that is as many as the server allows. */
  assertRoomBeside(count: number): void {
    if (count < this.limits.maxInstancesPerOrg) return;
    throw new UserError(
      "INSTANCE_LIMIT_REACHED",
      ["input", "stage"],
      `The org has ${count} instances, the most this server allows (MAX_INSTANCES_PER_ORG = ${this.limits.maxInstancesPerOrg}); a new stage or region cannot be added. Deploy to an existing one, or ask the server's operator to raise the limit.`,
    );
  }

  /**
   * Makes sure each service of the app has the stage-wide instance of the stage (no region: it covers
   * every region, those deployed and those to come), for the deployment-profile migration. Missing
   * ones count against the org's instance limit, under its lock: services past the limit get none and
   * are returned in `refused`. Each one made is audited.
   */
  async ensureStageWideInstances(ctx: RequestContext, appId: string, stage: string, details: Record<string, unknown>): Promise<{ refused: Array<{ id: string; name: string }> }> {
    const missingSql = `SELECT s.id, s.name FROM services s
       WHERE s.org_id = $1 AND s.app_id = $2
         AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.org_id = $1 AND i.service_id = s.id AND i.stage = $3 AND i.region IS NULL)
       ORDER BY s.name, s.id`;
    if ((await ctx.em.query(missingSql, [ctx.orgId, appId, stage])).length === 0) return { refused: [] };
    await ctx.em.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/instances/' || $1))", [ctx.orgId]);
    // Read again under the lock: a concurrent deployment may have made one meanwhile.
    const missing: Array<{ id: string; name: string }> = await ctx.em.query(missingSql, [ctx.orgId, appId, stage]);
    const [{ count }]: Array<{ count: number }> = await ctx.em.query("SELECT count(*)::int AS count FROM instances WHERE org_id = $1", [ctx.orgId]);
    const room = Math.max(0, this.limits.maxInstancesPerOrg - count);
    const made: Array<{ id: string; service_id: string }> = await ctx.em.query(
      `INSERT INTO instances (org_id, service_id, stage, region, last_deployed_at) SELECT $1, s, $3, NULL, NULL FROM unnest($2::uuid[]) AS s
       ON CONFLICT (service_id, stage) WHERE region IS NULL DO NOTHING RETURNING id, service_id`,
      [ctx.orgId, missing.slice(0, room).map((s) => s.id), stage],
    );
    const names = new Map(missing.map((s) => [s.id, s.name]));
    for (const instance of made) {
      await this.audit.record(ctx, {
        action: "instance.create",
        targetType: "Instance",
        targetId: instance.id,
        details: { service: names.get(instance.service_id), stage, region: null, ...details },
      });
    }
    return { refused: missing.slice(room) };
  }

  /**
   * What a deployment finds before it writes anything: its service (null when never deployed) and
   * whether its instance exists yet; when it does not, the stages the service has deployed (any region,
   * the oldest first) as far as the caller's key may see them — a key limited to preview stages does not learn that prod
   * exists. One read, no lock; a redeployment does not list the stages.
   */
  async lookUpDeployment(ctx: RequestContext, target: DeploymentPlace): Promise<FoundPlace> {
    const rows: PlaceRow[] = await ctx.em.query(`SELECT * FROM (${deploymentPlaceSql({ org: "$1", app: "$2", service: "$3", stage: "$4", region: "$5" })}) place`, [
      ctx.orgId,
      target.app,
      target.service,
      target.stage,
      target.region,
    ]);
    return this.placeOf(ctx, target, rows[0]);
  }

  /** A row of `deploymentPlaceSql` (or none: the service was never deployed), with the stages the caller's key may see. */
  placeOf(ctx: RequestContext, target: DeploymentPlace, row: PlaceRow | undefined): FoundPlace {
    const knownStages = (row?.known_stages ?? []).filter((stage) => isInScope(ctx.actor.scope, { appName: target.app, serviceName: target.service, stage }));
    return { serviceId: row?.service_id ?? null, instanceExists: Boolean(row?.existing_instance_id), knownStages };
  }

  /**
   * Records a deployment of app/service to stage (and region): creates the app, service and instance
   * the first time a deployment names them, and stamps the instance's last_deployed_at, in one
   * statement of INSERT ... ON CONFLICT steps, so concurrent first deployments end with exactly one of
   * each. Given an audit event, writes it about the instance in that same statement: both or neither.
   * Inside a transaction, the instance's row stays locked until it commits.
   * `mayCreate`: the caller found no instance, so this may add one, and the org's instance limit is
   * checked under the org's lock (one statement more, which a redeployment does not pay; call it in a
   * transaction): past the limit, nothing is recorded and INSTANCE_LIMIT_REACHED is thrown.
   */
  async recordDeployment(ctx: RequestContext, target: DeploymentPlace, mayCreate = true, audit?: Partial<AuditEvent>): Promise<Instance> {
    this.checkDeploymentTarget(target);
    if (mayCreate) await this.lockInstances(ctx);
    const conflict = target.region === null ? "(service_id, stage) WHERE region IS NULL" : "(service_id, stage, region) WHERE region IS NOT NULL";
    const metadata = ctx.em.connection.getMetadata(Instance);
    const params: unknown[] = [ctx.orgId, target.app, target.service, target.stage, target.region];
    // The event is about the instance this statement records: its id is known only inside it.
    const { targetId: _targetId, ...event } = audit ?? {};
    const auditColumns = audit ? insertValues(ctx.em.connection.getMetadata(AuditEvent), event, params) : null;
    // The limit is counted in the statement after the lock: one that began before it could miss an
    // instance a concurrent deployment committed while this one waited.
    const room = mayCreate ? `$${params.push(this.limits.maxInstancesPerOrg)}::int` : null;
    // The text follows from the region's presence, the limit's check and the event's columns (their
    // placeholders and casts follow from the columns): kept per shape, so that a deployment neither
    // rewrites nor rehashes a few kilobytes of SQL to find its prepared statement.
    const shape = `${target.region === null}/${room}/${auditColumns?.columns.join(",") ?? ""}`;
    let sql = recordTexts.get(shape);
    if (sql === undefined) {
      const auditInsert = auditColumns
        ? `INSERT INTO audit_events (${auditColumns.columns.join(", ")}, target_id) SELECT ${auditColumns.values.join(", ")}, instance.id FROM instance`
        : null;
      sql = recordDeploymentSql(conflict, auditInsert, selectColumns(metadata, "instance"), room);
      if (recordTexts.size < MAX_RECORD_TEXTS) recordTexts.set(shape, sql);
    }
    for (let attempt = 1; ; attempt++) {
      const [row] = await queryPrepared(ctx.em, sql, params);
      if (row?.id) {
        // The event's subscribers (the audit sealer, AUDIT_LOG_FILE) see the entity's inserts only: this one is told.
        if (audit) announceInsert(ctx.em, Object.assign(new AuditEvent(), event, { id: row.__audit_id, occurredAt: row.__audit_at, targetId: row.id }));
        return entityFromRow<Instance>(metadata, row);
      }
      if (row) this.assertRoomBeside(row.__instances as number);
      // Nothing: a concurrent deployment created the app or service after this statement began (its
      // insert did nothing and the snapshot could not see the row). The next statement sees it.
      if (attempt === RECORD_ATTEMPTS) throw new Error("the deployment's app and service could not be found or created");
    }
  }

  findInstance(ctx: RequestContext, serviceId: string, stage: string, region: string | null): Promise<Instance | null> {
    return ctx.em
      .createQueryBuilder(Instance, "i")
      .where("i.orgId = :orgId AND i.serviceId = :serviceId AND i.stage = :stage", { orgId: ctx.orgId, serviceId, stage })
      .andWhere(region === null ? "i.region IS NULL" : "i.region = :region", { region })
      .getOne();
  }
}
