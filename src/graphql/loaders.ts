import DataLoader from "dataloader";
import { In, type EntityManager, type EntityTarget, type ObjectLiteral } from "typeorm";
import { AccessKey, App, AppStageProfile, DeploymentProfile, Instance, InstanceProviderLink, Membership, Org, ProfileMigrationRun, Provider, ProviderType, Service, ServiceProviderLink, User } from "../entities/index.js";
import { countByParent, listPages, type ListSpec, type Page, type PageArgs } from "../domain/pagination.js";
import { DEFAULT_STAGE } from "../domain/deployment-profiles.js";
import { resolveProviders, type Resolution, type ResolutionTarget } from "../domain/resolution.js";
import { resolveParameters, type EffectiveParameter, type ParameterTarget } from "../domain/parameter-resolution.js";
import type { AccessScope } from "../domain/context.js";
import type { ClientPresence } from "./context.js";
import { ClientGoneError } from "../domain/errors.js";
import { scopeCondition, scopeFilter, stageMatches, type ScopedEntity } from "../domain/scope.js";

const SCOPED_ENTITY = new Map<unknown, ScopedEntity>([
  [App, "app"],
  [Service, "service"],
  [Instance, "instance"],
  [DeploymentProfile, "deploymentProfile"],
]);

type Filter = NonNullable<ListSpec<ObjectLiteral>["filter"]>;

/** Both filters, numbering the second's parameters after the first's. */
function both(a: Filter | undefined, b: Filter | undefined): Filter | undefined {
  if (!a || !b) return a ?? b;
  return { sql: (n) => `${a.sql(n)} AND ${b.sql(n + a.params.length)}`, params: [...a.params, ...b.params] };
}

/** Postgres binds at most 65535 parameters; arrays count as one, but keep statements modest. */
const MAX_BATCH = 1000;

/**
 * Per-request DataLoaders. Every key is scoped to the caller's org by construction (the org id is
 * fixed when the loaders are made), so a batch can never mix tenants. A scoped key's apps, services
 * and instances outside its scope are left out of every lookup, list and count. Made anew for each
 * request and cleared after each mutation.
 */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  constructor(
    private readonly em: () => EntityManager,
    private readonly orgId: string,
    private readonly scope: AccessScope | null,
    /** Aborted when the client goes away: no batch starts after that. */
    private readonly signal: ClientPresence = { aborted: false },
  ) {}

  private scopeFilterOf(entity: unknown): Filter | undefined {
    const scopedEntity = SCOPED_ENTITY.get(entity);
    return scopedEntity ? scopeFilter(this.scope, scopedEntity) : undefined;
  }

  clear(): void {
    this.loaders.clear();
  }

  private get<K, V>(
    name: string,
    batch: (keys: readonly K[]) => Promise<Array<V | Error>>,
    cacheKeyFn?: (key: K) => string,
  ): DataLoader<K, V> {
    let loader = this.loaders.get(name) as DataLoader<K, V> | undefined;
    if (!loader) {
      // A query's work is its batches: a client that went away starts no more of them.
      const unlessGone = (keys: readonly K[]) => (this.signal.aborted ? Promise.reject(new ClientGoneError()) : batch(keys));
      loader = new DataLoader<K, V, string | K>(unlessGone, { maxBatchSize: MAX_BATCH, cacheKeyFn });
      this.loaders.set(name, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  }

  private byId<T extends ObjectLiteral & { id: string; orgId: string }>(entity: EntityTarget<T>, name: string) {
    return this.get<string, T | null>(`byId:${name}`, async (ids) => {
      const query = this.em()
        .getRepository(entity)
        .createQueryBuilder("t")
        .where("t.orgId = :orgId AND t.id IN (:...ids)", { orgId: this.orgId, ids });
      const scopedEntity = SCOPED_ENTITY.get(entity);
      const scoped = scopedEntity && scopeCondition(this.scope, scopedEntity, "t", (value) => {
        const name = `scope${Object.keys(query.getParameters()).length}`;
        query.setParameter(name, value);
        return `:${name}`;
      });
      if (scoped) query.andWhere(scoped);
      const rows = await query.getMany();
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  org(id: string): Promise<Org | null> {
    return id === this.orgId ? this.get<string, Org | null>("org", async (ids) => {
      const org = await this.em().findOneBy(Org, { id: this.orgId });
      return ids.map(() => org);
    }).load(id) : Promise.resolve(null);
  }
  app = (id: string) => this.byId(App, "app").load(id);
  service = (id: string) => this.byId(Service, "service").load(id);
  instance = (id: string) => this.byId(Instance, "instance").load(id);
  provider = (id: string) => this.byId(Provider, "provider").load(id);
  deploymentProfile = (id: string) => this.byId(DeploymentProfile, "deploymentProfile").load(id);
  accessKey = (id: string) => this.byId(AccessKey, "accessKey").load(id);
  profileMigrationRun = (id: string) => this.byId(ProfileMigrationRun, "profileMigrationRun").load(id);

  /**
   * A user by id. Users belong to no org, so this is reached only through ids read from the org's own
   * rows (a key's user, an event's actor, a membership), never from an id a caller sent.
   */
  user(id: string): Promise<User | null> {
    return this.get<string, User | null>("user", async (ids) => {
      const users = new Map((await this.em().findBy(User, { id: In([...ids]) })).map((u) => [u.id, u]));
      return ids.map((id) => users.get(id) ?? null);
    }).load(id);
  }

  /** A user's membership in this org; null for a user who is not (or no longer) a member. */
  membership(userId: string): Promise<Membership | null> {
    return this.get<string, Membership | null>("membership", async (userIds) => {
      const rows = await this.em().findBy(Membership, { orgId: this.orgId, userId: In([...userIds]) });
      const byUser = new Map(rows.map((m) => [m.userId, m]));
      return userIds.map((id) => byUser.get(id) ?? null);
    }).load(userId);
  }

  /** An app's legacy stage → profile mappings, the `default` stage first; a scoped key's stages and `default`. */
  stageProfiles(appId: string): Promise<AppStageProfile[]> {
    return this.get<string, AppStageProfile[]>("stageProfiles", async (appIds) => {
      const rows = await this.em()
        .createQueryBuilder(AppStageProfile, "m")
        .where("m.orgId = :orgId AND m.appId IN (:...appIds)", { orgId: this.orgId, appIds })
        .orderBy("m.stage")
        .getMany();
      const defaultFirst = (a: AppStageProfile, b: AppStageProfile) => Number(b.stage === DEFAULT_STAGE) - Number(a.stage === DEFAULT_STAGE);
      const stages = this.scope?.stages;
      const visible = stages ? rows.filter((r) => r.stage === DEFAULT_STAGE || stageMatches(stages, r.stage)) : rows;
      return appIds.map((id) => visible.filter((r) => r.appId === id).sort(defaultFirst));
    }).load(appId);
  }

  /** A page of the parent's children; all parents asked for in one tick share one statement. */
  page<T extends ObjectLiteral & { id: string }>(
    name: string,
    spec: Omit<ListSpec<T>, "orgId" | "parent" | "page">,
    parentColumn: string | null,
    parentId: string,
    page: PageArgs,
    filterKey = "",
  ): Promise<Page<T>> {
    return this.get<string, Page<T>>(`page:${name}:${page.first}:${page.after ?? ""}:${filterKey}`, async (parentIds) => {
      const pages = await listPages(this.em(), {
        ...spec,
        filter: both(spec.filter, this.scopeFilterOf(spec.entity)),
        orgId: this.orgId,
        page,
        parent: parentColumn ? { column: parentColumn, ids: parentIds } : undefined,
      });
      return parentIds.map((id) => pages.get(parentColumn ? id : "")!);
    }).load(parentId);
  }

  count(
    name: string,
    entity: EntityTarget<ObjectLiteral>,
    parentColumn: string | null,
    parentId: string,
    filter?: ListSpec<ObjectLiteral>["filter"],
    filterKey = "",
  ): Promise<number> {
    return this.get<string, number>(`count:${name}:${filterKey}`, async (parentIds) => {
      const parent = parentColumn ? { column: parentColumn, ids: parentIds } : null;
      const counts = await countByParent(this.em(), entity, this.orgId, parent, both(filter, this.scopeFilterOf(entity)));
      return parentIds.map((id) => counts.get(parentColumn ? id : "") ?? 0);
    }).load(parentId);
  }

  /** The providers linked to a service or an instance, at most one per type. */
  linkedProviders(level: "service" | "instance", targetId: string): Promise<Provider[]> {
    return this.get<string, Provider[]>(`linked:${level}`, async (targetIds) => {
      const column = level === "service" ? "serviceId" : "instanceId";
      // Links and their providers in one statement, not through the provider loader: a nested load
      // would batch (or hit the cache) differently depending on which I/O finished first.
      const { entities, raw } = await this.em()
        .getRepository(Provider)
        .createQueryBuilder("p")
        .innerJoin(level === "service" ? ServiceProviderLink : InstanceProviderLink, "l", "l.providerId = p.id")
        .addSelect(`l.${column}`, "l_target")
        .where(`p.orgId = :orgId AND l.orgId = :orgId AND l.${column} IN (:...ids)`, { orgId: this.orgId, ids: targetIds })
        .orderBy("l.providerType")
        .getRawAndEntities<{ p_id: string; l_target: string }>();
      const providers = new Map(entities.map((p) => [p.id, p]));
      const byTarget = new Map<string, Provider[]>(targetIds.map((id) => [id, []]));
      for (const row of raw) byTarget.get(row.l_target)!.push(providers.get(row.p_id)!);
      return targetIds.map((id) => byTarget.get(id)!);
    }).load(targetId);
  }

  /** The effective provider of a type for a service/stage/region; many targets, one statement per type. */
  resolution(type: ProviderType, target: ResolutionTarget): Promise<Resolution | null> {
    return this.get<ResolutionTarget, Resolution | null>(`resolution:${type}`, async (targets) => {
      const resolutions = await resolveProviders(this.em(), this.orgId, type, targets);
      for (const resolution of resolutions) if (resolution) this.byId(Provider, "provider").prime(resolution.provider.id, resolution.provider);
      return resolutions;
    }, (t) => `${t.serviceId}|${t.stage}|${t.region ?? ""}`).load(target);
  }

  /** The effective parameters of a service/stage/region; many targets, one statement. */
  effectiveParameters(target: ParameterTarget): Promise<EffectiveParameter[]> {
    return this.get<ParameterTarget, EffectiveParameter[]>("effectiveParameters", (targets) => resolveParameters(this.em(), this.orgId, targets), (t) =>
      `${t.serviceId}|${t.stage}|${t.region ?? ""}`,
    ).load(target);
  }
}
