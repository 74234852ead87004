import type { EntityManager } from "typeorm";
import { entityFromRow, selectColumns } from "../db/rows.js";
import { Instance, Provider, ProviderType } from "../entities/index.js";

export enum ProviderSource {
  INSTANCE = "INSTANCE",
  SERVICE = "SERVICE",
  ORG_DEFAULT = "ORG_DEFAULT",
}

/** Where a deployment of service/stage/region would get its credentials from. */
export interface ResolutionTarget {
  /** Null for a service never deployed: nothing is linked to it, so only the org default can apply. */
  serviceId: string | null;
  stage: string;
  region: string | null;
}

export interface Resolution {
  provider: Provider;
  source: ProviderSource;
  /** For INSTANCE: the instance whose link applies (the stage-wide one when no regional link exists). */
  instanceId: string | null;
  /** True when that instance is the stage-wide one (no region) covering a regional target. */
  stageWide: boolean;
}

/**
 * The effective provider of a type, with its provider row, for many targets in one statement:
 *   1. the provider linked to the instance (service, stage, region);
 *   2. for a regional target, the provider linked to the stage-wide instance (service, stage, no region);
 *   3. the provider linked to the service;
 *   4. the org's default provider of the type, where an admin set one;
 *   otherwise none: the deployment uses its local credentials.
 * A stage that has never been deployed resolves like any other: it inherits from the service.
 */
export async function resolveProviders(
  em: EntityManager,
  orgId: string,
  type: ProviderType,
  targets: readonly ResolutionTarget[],
): Promise<Array<Resolution | null>> {
  if (targets.length === 0) return [];
  return resolve(em, "unnest($3::uuid[], $4::text[], $5::text[]) WITH ORDINALITY", [
    orgId,
    type,
    targets.map((t) => t.serviceId),
    targets.map((t) => t.stage),
    targets.map((t) => t.region),
  ]);
}

/**
 * A resolution's columns in a row of `resolutionSql`: `provider_id`, `source`, `instance_id`, `stage_wide`
 * and the provider's, prefixed `p_`.
 */
export type ResolutionRow = { provider_id: string | null; source: ProviderSource | null; instance_id: string | null; stage_wide: boolean } & Record<string, unknown>;

/**
 * The precedence above, written once: the joins that find each level's link for the target (an alias,
 * `t` unless `target` names another, with `service_id`, `stage` and `region` columns), in an org and for
 * a provider type given as SQL expressions, and the expressions over them that say which applies. The
 * provider's id is the candidate's alone: a caller joins `providers` on it and the org, and a provider
 * not found there resolves for nothing. `ownInstance`: the id of the org's instance that is the target
 * itself, when the caller has it (a page of instances): its link is then read by that id, without
 * finding the instance again by service, stage and region — the same link either way. `prefix` goes
 * before each join's alias, so that one statement can resolve a target more than once. Each join finds
 * at most one row (a primary key or unique index each): the target's rows are never multiplied.
 */
export function precedenceSql(org: string, type: string, options: { ownInstance?: string; target?: string; prefix?: string } = {}) {
  const { ownInstance, target: t = "t", prefix = "" } = options;
  const [il, sl, svl, d] = ["il", "sl", "svl", "d"].map((alias) => `${prefix}${alias}`);
  const own = ownInstance
    ? `LEFT JOIN instance_provider_links ${il} ON ${il}.instance_id = ${ownInstance} AND ${il}.provider_type = ${type}`
    : `-- The regional instance's link (a stage-wide target has none) and the stage-wide instance's:
           -- equalities each unique index answers, and no OR, which would make the planner read every
           -- instance of the org.
           LEFT JOIN LATERAL (
             SELECT l.instance_id, l.provider_id FROM instances i JOIN instance_provider_links l ON l.instance_id = i.id AND l.provider_type = ${type}
              WHERE ${t}.region IS NOT NULL AND i.org_id = ${org} AND i.service_id = ${t}.service_id AND i.stage = ${t}.stage AND i.region = ${t}.region
           ) ${il} ON true`;
  return {
    joins: `${own}
           LEFT JOIN LATERAL (
             SELECT l.instance_id, l.provider_id FROM instances i JOIN instance_provider_links l ON l.instance_id = i.id AND l.provider_type = ${type}
              WHERE ${ownInstance ? `${t}.region IS NOT NULL AND ${il}.provider_id IS NULL AND ` : ""}i.org_id = ${org} AND i.service_id = ${t}.service_id AND i.stage = ${t}.stage AND i.region IS NULL
           ) ${sl} ON true
           LEFT JOIN service_provider_links ${svl} ON ${svl}.service_id = ${t}.service_id AND ${svl}.provider_type = ${type} AND ${svl}.org_id = ${org}
           LEFT JOIN providers ${d} ON ${d}.org_id = ${org} AND ${d}.type = ${type} AND ${d}.is_default`,
    providerId: `COALESCE(${il}.provider_id, ${sl}.provider_id, ${svl}.provider_id, ${d}.id)`,
    source: `CASE WHEN ${il}.provider_id IS NOT NULL OR ${sl}.provider_id IS NOT NULL THEN 'INSTANCE'
                     WHEN ${svl}.provider_id IS NOT NULL THEN 'SERVICE'
                     WHEN ${d}.id IS NOT NULL THEN 'ORG_DEFAULT' END`,
    instanceId: `CASE WHEN ${il}.provider_id IS NOT NULL THEN ${il}.instance_id ELSE ${sl}.instance_id END`,
    stageWide: `(${t}.region IS NOT NULL AND ${il}.provider_id IS NULL AND ${sl}.provider_id IS NOT NULL)`,
  };
}

/**
 * The precedence above as one query, for the targets `targets` yields as (service_id, stage, region,
 * ord) — a set-returning expression, or the name of a CTE of the statement it is part of; $1 is the
 * org and $2 the provider type. One row per target, in `ord` order (see `resolutionsOf`). Each provider's
 * columns come once, on the first target it resolves for (the others carry its id alone): a page of 500
 * instances sharing a provider is 500 short rows, not 500 copies of it.
 */
export function resolutionSql(em: EntityManager, targets: string): string {
  const precedence = precedenceSql("$1", "$2");
  return `SELECT r.ord, r.provider_id, r.source, r.instance_id, r.stage_wide, ${selectColumns(em.connection.getMetadata(Provider), "p", "p_")}
       FROM (
         SELECT t.ord,
                ${precedence.providerId} AS provider_id,
                row_number() OVER (PARTITION BY ${precedence.providerId} ORDER BY t.ord) = 1 AS first_of_provider,
                ${precedence.source} AS source,
                ${precedence.instanceId} AS instance_id,
                ${precedence.stageWide} AS stage_wide
           FROM ${targets} AS t(service_id, stage, region, ord)
           ${precedence.joins}
       ) r
       LEFT JOIN providers p ON p.id = r.provider_id AND p.org_id = $1 AND r.first_of_provider`;
}

/**
 * The resolutions in rows of `resolutionSql`, in `ord` order (null: none applies), one Provider object
 * per provider however many targets it resolves for. A provider's first row carries its columns; none
 * there: not the org's provider, so it resolves for none of its targets.
 */
export function resolutionsOf(em: EntityManager, rows: readonly ResolutionRow[]): Array<Resolution | null> {
  const metadata = em.connection.getMetadata(Provider);
  const providers = new Map<string, Provider | null>();
  return rows.map((row) => {
    const id = row.provider_id;
    if (!id || !row.source) return null;
    if (!providers.has(id)) providers.set(id, row.p_id ? entityFromRow<Provider>(metadata, row, "p_") : null);
    const found = providers.get(id);
    return found ? { provider: found, source: row.source, instanceId: row.instance_id, stageWide: row.stage_wide } : null;
  });
}

/** The precedence above, in one statement, for the targets `targets` yields (see `resolutionSql`). */
async function resolve(em: EntityManager, targets: string, params: unknown[]): Promise<Array<Resolution | null>> {
  const rows: ResolutionRow[] = await em.query(`${resolutionSql(em, targets)} ORDER BY r.ord`, params);
  return resolutionsOf(em, rows);
}

export const targetOf = (instance: Instance): ResolutionTarget => ({
  serviceId: instance.serviceId,
  stage: instance.stage,
  region: instance.region,
});
