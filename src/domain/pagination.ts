import type { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import { entityFromRow, selectColumns } from "../db/rows.js";
import { CodedError } from "./errors.js";
import { UUID } from "./validation.js";

export interface PageArgs {
  first: number;
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Each item's ordering value as the database computed it; a cursor is made of it only when asked for. */
  sortValues: string[];
  hasNextPage: boolean;
}

/**
 * How a list is ordered: an SQL expression over the table alias `t` (text). An index on
 * (parent column, expression, id) lets each parent's page be read off the index.
 */
export interface Ordering {
  sql: string;
}

export interface ListSpec<T> {
  entity: EntityTarget<T>;
  orgId: string;
  ordering: Ordering;
  /** Lists several parents' children in one statement; without it, the org's rows. */
  parent?: { column: string; ids: readonly string[] };
  /** Extra SQL condition over `t`, with parameters numbered after the ones this helper uses. */
  filter?: { sql: (nextParam: number) => string; params: unknown[] };
  page: PageArgs;
}

export const encodeCursor = (sortValue: string, id: string) => Buffer.from(JSON.stringify([sortValue, id])).toString("base64url");

/** Sort values are names, stages and regions, and padded numbers: short, printable. */
const SORT_VALUE = /^[^\p{Cc}]{0,300}$/u;

/**
 * A cursor is a client's string: it is checked to be what this server issues (a sort value and a
 * uuid) before either reaches SQL, where a forged id would fail the uuid cast as an internal error.
 */
export function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && SORT_VALUE.test(value[0]) && typeof value[1] === "string" && UUID.test(value[1])) {
      return value as [string, string];
    }
  } catch {
    // fall through to the error below
  }
  throw new CodedError("BAD_USER_INPUT", "The `after` cursor is not one this server issued; pass an `endCursor` from a previous page.");
}

/**
 * Keyset pagination, batched: one statement returns a page for each parent, ordered by the ordering
 * and then id, so pages stay stable while rows are added. Each parent's page is its own LIMITed
 * subquery (LATERAL), so the database reads first + 1 rows per parent off the index instead of
 * sorting every child of every parent.
 */
export async function listPages<T extends ObjectLiteral & { id: string }>(em: EntityManager, spec: ListSpec<T>): Promise<Map<string, Page<T>>> {
  const metadata = em.connection.getMetadata(spec.entity);
  const params: unknown[] = [spec.orgId];
  const where = [`t.org_id = $1`];
  if (spec.parent) {
    params.push(spec.parent.ids);
    where.push(`t."${spec.parent.column}" = p.id`);
  }
  if (spec.page.after) {
    const [sortValue, id] = decodeCursor(spec.page.after);
    params.push(sortValue, id);
    where.push(`(${spec.ordering.sql}, t.id) > ($${params.length - 1}::text, $${params.length}::uuid)`);
  }
  if (spec.filter) {
    where.push(spec.filter.sql(params.length + 1));
    params.push(...spec.filter.params);
  }
  params.push(spec.page.first + 1);
  const page = `SELECT ${selectColumns(metadata, "t")}, (${spec.ordering.sql}) AS "__sort" FROM "${metadata.tableName}" t
    WHERE ${where.join(" AND ")} ORDER BY ${spec.ordering.sql}, t.id LIMIT $${params.length}`;
  const rows: Array<Record<string, unknown>> = await em.query(
    spec.parent
      ? `SELECT x.*, p.id AS "__parent" FROM unnest($2::uuid[]) WITH ORDINALITY AS p(id, n)
           CROSS JOIN LATERAL (${page}) x ORDER BY p.n, x."__sort", x."id"`
      : page,
    params,
  );
  const pages = new Map<string, Page<T>>();
  for (const key of spec.parent?.ids ?? [""]) pages.set(key, { items: [], sortValues: [], hasNextPage: false });
  for (const row of rows) {
    const page = pages.get(spec.parent ? String(row.__parent) : "")!;
    if (page.items.length === spec.page.first) {
      page.hasNextPage = true;
      continue;
    }
    page.items.push(entityFromRow<T>(metadata, row));
    page.sortValues.push(String(row.__sort));
  }
  return pages;
}

/** Counts each parent's rows in one statement. */
export async function countByParent(
  em: EntityManager,
  entity: EntityTarget<ObjectLiteral>,
  orgId: string,
  parent: { column: string; ids: readonly string[] } | null,
  filter?: ListSpec<ObjectLiteral>["filter"],
): Promise<Map<string, number>> {
  const table = em.connection.getMetadata(entity).tableName;
  const counts = new Map<string, number>();
  if (!parent) {
    const where = filter ? ` AND ${filter.sql(2)}` : "";
    const [row] = await em.query(`SELECT count(*)::int AS n FROM "${table}" t WHERE org_id = $1${where}`, [orgId, ...(filter?.params ?? [])]);
    counts.set("", row.n);
    return counts;
  }
  for (const id of parent.ids) counts.set(id, 0);
  const where = filter ? ` AND ${filter.sql(3)}` : "";
  const rows = await em.query(
    `SELECT t."${parent.column}" AS parent, count(*)::int AS n FROM "${table}" t
     WHERE t.org_id = $1 AND t."${parent.column}" = ANY($2::uuid[])${where} GROUP BY 1`,
    [orgId, parent.ids, ...(filter?.params ?? [])],
  );
  for (const row of rows) counts.set(row.parent, row.n);
  return counts;
}
