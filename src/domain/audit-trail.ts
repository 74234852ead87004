import { AuditEvent } from "../entities/index.js";
import type { RequestContext } from "./context.js";
import { countByParent, listPages, type Page, type PageArgs } from "./pagination.js";

/** Every given condition must hold. An actor or target that names nothing ("unknown") matches nothing. */
export interface AuditFilter {
  /** An action such as provider.create, or a prefix ending in a dot such as `provider.`. */
  action?: string | null;
  /** What that key did, or that user with any of their keys. */
  actor?: { accessKeyId: string } | { userId: string } | "unknown" | null;
  target?: { id: string } | "unknown" | null;
  from?: Date | null;
  to?: Date | null;
}

/** Newest first: the ordering key counts down from the far future, to the millisecond JS dates keep. */
const FAR_FUTURE_MS = 9_999_999_999_999;
const newestFirst = {
  sql: `lpad((${FAR_FUTURE_MS} - floor(extract(epoch from t.occurred_at) * 1000))::bigint::text, 13, '0')`,
};

/** The SQL for an audit filter. */
function auditFilter(filter: AuditFilter | null | undefined) {
  const conditions: Array<(n: number) => string> = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    const index = conditions.length;
    conditions.push((n) => sql(`$${n + index}`));
  };
  if (filter?.action) {
    if (filter.action.endsWith(".")) add((p) => `starts_with(t.action, ${p})`, filter.action);
    else add((p) => `t.action = ${p}`, filter.action);
  }
  const { actor, target } = filter ?? {};
  if (actor === "unknown") add((p) => `${p}::boolean`, false);
  else if (actor && "accessKeyId" in actor) add((p) => `t.actor_key_id = ${p}::uuid`, actor.accessKeyId);
  else if (actor) add((p) => `t.actor_user_id = ${p}::uuid`, actor.userId);
  if (target === "unknown") add((p) => `${p}::boolean`, false);
  else if (target) add((p) => `t.target_id = ${p}::uuid`, target.id);
  if (filter?.from) add((p) => `t.occurred_at >= ${p}`, filter.from);
  if (filter?.to) add((p) => `t.occurred_at < ${p}`, filter.to);
  if (conditions.length === 0) return undefined;
  return { sql: (n: number) => conditions.map((c) => c(n)).join(" AND "), params };
}

/** Reading the audit trail, as the org's admins do (writing it is AuditService's). */
export class AuditTrailService {
  /** A page of the caller's org's events, newest first, and their count, made only when asked for. */
  async list(ctx: RequestContext, filter: AuditFilter | null | undefined, page: PageArgs): Promise<{ page: Page<AuditEvent>; totalCount: () => Promise<number> }> {
    const sqlFilter = auditFilter(filter);
    const pages = await listPages<AuditEvent>(ctx.em, { entity: AuditEvent, orgId: ctx.orgId, ordering: newestFirst, filter: sqlFilter, page });
    return {
      page: pages.get("")!,
      totalCount: async () => (await countByParent(ctx.em, AuditEvent, ctx.orgId, null, sqlFilter)).get("")!,
    };
  }
}
