import type { EntityManager } from "typeorm";
import { Parameter } from "../entities/index.js";

/** Where a parameter is set, and so where an effective value comes from. */
export enum ParameterSource {
  INSTANCE = "INSTANCE",
  SERVICE = "SERVICE",
  ORG = "ORG",
}

/** A deployment of service/stage/region; a service that does not exist yet (null) gets the org's values only. */
export interface ParameterTarget {
  serviceId: string | null;
  stage: string;
  region: string | null;
}

export interface EffectiveParameter {
  parameter: Parameter;
  source: ParameterSource;
  /** True when the value is set on the stage-wide instance (no region) covering a regional target. */
  stageWide: boolean;
}

export const sourceOf = (parameter: Pick<Parameter, "instanceId" | "serviceId">): ParameterSource =>
  parameter.instanceId ? ParameterSource.INSTANCE : parameter.serviceId ? ParameterSource.SERVICE : ParameterSource.ORG;

/**
 * The effective parameters of many targets in one statement. For each name, the nearest value wins:
 *   1. set on the instance (service, stage, region);
 *   2. for a regional target, set on the stage-wide instance (service, stage, no region);
 *   3. set on the service;
 *   4. set on the org (only where an admin set one).
 * The same precedence as providers (resolution.ts), applied per name: the effective set is the union
 * of the four levels. A stage never deployed resolves like any other: it inherits from the service.
 * Each target's list is ordered by name.
 */
export async function resolveParameters(em: EntityManager, orgId: string, targets: readonly ParameterTarget[]): Promise<EffectiveParameter[][]> {
  if (targets.length === 0) return [];
  const metadata = em.connection.getMetadata(Parameter);
  const columns = metadata.columns.map((c) => `p."${c.databaseName}" AS "${c.propertyName}"`).join(", ");
  const rows: Array<Record<string, unknown> & { __ord: string; __stage_wide: boolean }> = await em.query(
    `SELECT DISTINCT ON (t.ord, p.name) t.ord AS "__ord", (p.instance_id IS NOT NULL AND p.instance_id = si.id) AS "__stage_wide", ${columns}
       FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS t(service_id, stage, region, ord)
       LEFT JOIN instances i
              ON i.org_id = $1 AND i.service_id = t.service_id AND i.stage = t.stage
             AND (i.region = t.region OR (i.region IS NULL AND t.region IS NULL))
       LEFT JOIN instances si
              ON t.region IS NOT NULL AND si.org_id = $1 AND si.service_id = t.service_id AND si.stage = t.stage AND si.region IS NULL
       JOIN parameters p
         ON p.org_id = $1
        AND (p.instance_id = i.id OR p.instance_id = si.id OR p.service_id = t.service_id OR (p.service_id IS NULL AND p.instance_id IS NULL))
      ORDER BY t.ord, p.name,
               CASE WHEN p.instance_id = i.id THEN 0 WHEN p.instance_id = si.id THEN 1 WHEN p.service_id IS NOT NULL THEN 2 ELSE 3 END`,
    [orgId, targets.map((t) => t.serviceId), targets.map((t) => t.stage), targets.map((t) => t.region)],
  );
  const results: EffectiveParameter[][] = targets.map(() => []);
  for (const { __ord, __stage_wide, ...fields } of rows) {
    const parameter = em.create(Parameter, fields as never) as Parameter;
    results[Number(__ord) - 1].push({ parameter, source: sourceOf(parameter), stageWide: __stage_wide });
  }
  return results;
}
