import type { EntityManager, EntityMetadata, InsertEvent, ObjectLiteral } from "typeorm";

/*
 * Entities read by hand-written SQL (a page per parent, a batch of resolutions): every column of the
 * entity selected under a prefixed alias, and the row turned back into an instance of the entity class.
 * The pg driver already returns each column as the entity holds it (Date, Buffer, parsed JSON).
 */

/** Each entity's column lists, by alias and prefix (a few of each, all written in the code). */
const selected = new WeakMap<EntityMetadata, Map<string, string>>();

/** `alias."column" AS "<prefix>property"` for every column of the entity. */
export function selectColumns(metadata: EntityMetadata, alias: string, prefix = ""): string {
  let lists = selected.get(metadata);
  if (!lists) selected.set(metadata, (lists = new Map()));
  const key = `${alias}\0${prefix}`;
  let list = lists.get(key);
  if (list === undefined) lists.set(key, (list = metadata.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.propertyName}"`).join(", ")));
  return list;
}

/** The entity whose columns were selected with `selectColumns` under `prefix`. */
export function entityFromRow<T>(metadata: EntityMetadata, row: Record<string, unknown>, prefix = ""): T {
  const entity = metadata.create() as Record<string, unknown>;
  for (const column of metadata.columns) entity[column.propertyName] = row[`${prefix}${column.propertyName}`];
  return entity as T;
}

/** The SQL type a parameter for the column is cast to, so `INSERT … SELECT $n` needs no inference. */
function sqlTypeOf(column: EntityMetadata["columns"][number]): string {
  if (column.type === "enum") return `"${column.enumName}"`;
  if (typeof column.type !== "string") throw new Error(`no SQL type for ${column.propertyName}`);
  return column.type;
}

/**
 * For `INSERT INTO table (<columns>) SELECT <values> …`: the entity's given fields as column names and
 * cast parameters, appended to `params`.
 */
export function insertValues(metadata: EntityMetadata, fields: Record<string, unknown>, params: unknown[]): { columns: string[]; values: string[] } {
  const columns: string[] = [];
  const values: string[] = [];
  for (const column of metadata.columns) {
    if (!(column.propertyName in fields)) continue;
    const value = fields[column.propertyName];
    params.push(column.type === "jsonb" ? JSON.stringify(value) : value);
    columns.push(`"${column.databaseName}"`);
    values.push(`$${params.length}::${sqlTypeOf(column)}`);
  }
  return { columns, values };
}

/**
 * A row a statement of our own SQL inserted, told to the subscribers that listen to its entity as
 * TypeORM tells them of its own inserts (with no query runner outside a transaction: it has committed).
 * The audit file and the audit sealer learn of a deployment's event this way.
 */
export function announceInsert<T extends ObjectLiteral>(em: EntityManager, entity: T): void {
  const metadata = em.connection.getMetadata(entity.constructor);
  const event = { connection: em.connection, queryRunner: em.queryRunner, manager: em, entity, metadata } as InsertEvent<T>;
  for (const subscriber of em.connection.subscribers) {
    const target = subscriber.listenTo?.();
    if (target === undefined || target === metadata.target) subscriber.afterInsert?.(event);
  }
}
