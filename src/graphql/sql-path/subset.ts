import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { ScopedEntity } from "../../domain/scope.js";
import type { NodeTypeName } from "../global-id.js";
import { byName, byStageAndRegion } from "../present.js";

/*
 * The part of the schema the SQL path answers (see ./index.ts): the dashboard's tree and what a client
 * of it asks alongside. Every field here is answered in SQL exactly as its resolver answers it; a
 * document that selects anything else anywhere is answered by the resolvers.
 */

/** A list the SQL path pages: the table, its parent, its order (the same as its resolver's) and its scope. */
export interface ListSpec {
  table: string;
  /** The columns a node of it may show (its id first). */
  columns: readonly string[];
  /** The column naming its parent; none: the org's rows. */
  parentColumn: string | null;
  ordering: { sql: string };
  scope: ScopedEntity;
  /** The node's and the connection's type names. */
  node: NodeTypeName;
}

export const LISTS = {
  apps: { table: "apps", columns: ["id", "name"], parentColumn: null, ordering: byName, scope: "app", node: "App" },
  services: { table: "services", columns: ["id", "name"], parentColumn: "app_id", ordering: byName, scope: "service", node: "Service" },
  instances: {
    table: "instances",
    columns: ["id", "service_id", "stage", "region"],
    parentColumn: "service_id",
    ordering: byStageAndRegion,
    scope: "instance",
    node: "Instance",
  },
} as const satisfies Record<string, ListSpec>;

export type FieldSpec =
  /** A column of the row. */
  | { kind: "column"; column: string }
  /** The row's global id. */
  | { kind: "id"; type: NodeTypeName }
  /** A connection of the row's children (or of the org's rows). */
  | { kind: "connection"; list: ListSpec }
  /** Query.org(slug). */
  | { kind: "org" }
  /** Instance.effectiveProvider(type). */
  | { kind: "resolution" }
  /** ProviderResolution.provider: the resolution's provider row. */
  | { kind: "provider" }
  /** A connection's own fields. */
  | { kind: "totalCount" | "pageInfo" | "nodes" | "edges" | "cursor" | "node" }
  /** PageInfo's fields. */
  | { kind: "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor" }
  /** ProviderResolution.source. */
  | { kind: "source" }
  /** Org.viewerRole: the caller's role. */
  | { kind: "viewerRole" };

const column = (name: string): FieldSpec => ({ kind: "column", column: name });

function connectionTypes(list: ListSpec): Record<string, Record<string, FieldSpec>> {
  return {
    [`${list.node}Connection`]: { totalCount: { kind: "totalCount" }, pageInfo: { kind: "pageInfo" }, nodes: { kind: "nodes" }, edges: { kind: "edges" } },
    [`${list.node}Edge`]: { cursor: { kind: "cursor" }, node: { kind: "node" } },
  };
}

/** By object type, the fields the SQL path answers (and `__typename` on each). */
export const SUBSET: Record<string, Record<string, FieldSpec>> = {
  Query: { org: { kind: "org" } },
  Org: {
    id: { kind: "id", type: "Org" },
    name: column("name"),
    slug: column("slug"),
    refuseUnenforcedExternalId: column("refuse_unenforced_external_id"),
    refuseNewStages: column("refuse_new_stages"),
    viewerRole: { kind: "viewerRole" },
    apps: { kind: "connection", list: LISTS.apps },
  },
  App: { id: { kind: "id", type: "App" }, name: column("name"), services: { kind: "connection", list: LISTS.services } },
  Service: { id: { kind: "id", type: "Service" }, name: column("name"), instances: { kind: "connection", list: LISTS.instances } },
  Instance: { id: { kind: "id", type: "Instance" }, stage: column("stage"), region: column("region"), effectiveProvider: { kind: "resolution" } },
  ProviderResolution: { source: { kind: "source" }, externalIdEnforced: column("external_id_enforced"), provider: { kind: "provider" } },
  Provider: { id: { kind: "id", type: "Provider" }, name: column("name"), type: column("type"), kind: column("kind"), isDefault: column("is_default") },
  PageInfo: { hasNextPage: { kind: "hasNextPage" }, hasPreviousPage: { kind: "hasPreviousPage" }, startCursor: { kind: "startCursor" }, endCursor: { kind: "endCursor" } },
  ...connectionTypes(LISTS.apps),
  ...connectionTypes(LISTS.services),
  ...connectionTypes(LISTS.instances),
};

/** The type each field of the subset leads to (for the selections under it). */
export function typeUnder(parentType: string, spec: FieldSpec): string | null {
  switch (spec.kind) {
    case "org":
      return "Org";
    case "connection":
      return `${spec.list.node}Connection`;
    case "resolution":
      return "ProviderResolution";
    case "provider":
      return "Provider";
    case "pageInfo":
      return "PageInfo";
    case "edges":
      return parentType.replace(/Connection$/, "Edge");
    case "nodes":
      return parentType.replace(/Connection$/, "");
    case "node":
      return parentType.replace(/Edge$/, "");
    default:
      return null;
  }
}

export type Fragments = Record<string, FragmentDefinitionNode>;

/**
 * Whether every selection of the query, under every branch (whatever its @include/@skip), lies inside
 * the subset: known fields, fragments on exactly the type they sit in, no directive but @include and
 * @skip. Apollo has validated the document, so names, arguments and types are the schema's.
 */
export function fitsSubset(operation: OperationDefinitionNode, fragments: Fragments): boolean {
  if (operation.operation !== "query") return false;
  let org = false;
  const fits = (type: string, set: SelectionSetNode, spread: ReadonlySet<string>): boolean =>
    set.selections.every((selection) => {
      if (selection.directives?.some((d) => d.name.value !== "include" && d.name.value !== "skip")) return false;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        return (!selection.typeCondition || selection.typeCondition.name.value === type) && fits(type, selection.selectionSet, spread);
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        if (!fragment || spread.has(fragment.name.value) || fragment.typeCondition.name.value !== type) return false;
        if (fragment.directives?.length) return false;
        return fits(type, fragment.selectionSet, new Set([...spread, fragment.name.value]));
      }
      const name = selection.name.value;
      if (name === "__typename") return true;
      const spec = SUBSET[type]?.[name];
      if (!spec) return false;
      if (spec.kind === "org") org = true;
      const under = typeUnder(type, spec);
      if (!under) return !selection.selectionSet;
      return selection.selectionSet !== undefined && fits(under, selection.selectionSet, spread);
    });
  return fits("Query", operation.selectionSet, new Set()) && org;
}
