import type { EntityMetadata } from "typeorm";

/*
 * Entities read by hand-written SQL (a page per parent, a batch of resolutions): every column of the
 * entity selected under a prefixed alias, and the row turned back into an instance of the entity class.
 * The pg driver already returns each column as the entity holds it (Date, Buffer, parsed JSON).
 */

/** `alias."column" AS "<prefix>property"` for every column of the entity. */
export function selectColumns(metadata: EntityMetadata, alias: string, prefix = ""): string {
  return metadata.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.propertyName}"`).join(", ");
}

/** The entity whose columns were selected with `selectColumns` under `prefix`. */
export function entityFromRow<T>(metadata: EntityMetadata, row: Record<string, unknown>, prefix = ""): T {
  const entity = metadata.create() as Record<string, unknown>;
  for (const column of metadata.columns) entity[column.propertyName] = row[`${prefix}${column.propertyName}`];
  return entity as T;
}
