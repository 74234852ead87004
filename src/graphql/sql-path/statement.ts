import {
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DirectiveNode,
  type FieldNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import type { Actor } from "../../domain/context.js";
import { decodeCursor } from "../../domain/pagination.js";
import { precedenceSql } from "../../domain/resolution.js";
import { scopeCondition } from "../../domain/scope.js";
import { rules } from "../../domain/validation.js";
import { SUBSET, typeUnder, type FieldSpec, type Fragments, type ListSpec } from "./subset.js";

/** These variables take the request outside what the SQL path answers alike (a bad argument): the resolvers answer, with their error. */
export class OutsideSubset extends Error {}

/** The most fields one object of the answer may have here: its text is one concatenation in SQL. */
const MAX_KEYS = 50;
/** ConnectionArgs' bounds (src/graphql/types/common.ts). */
const FIRST_MIN = 1;
const FIRST_MAX = 100;
const AFTER_MAX_LENGTH = 1024;
const AFTER_CHARACTERS = /^[A-Za-z0-9_-]*$/;

/** Response key → the field nodes selected under it, in the order graphql-js answers them. */
type Fields = Map<string, FieldNode[]>;

/** The statement for one request: its text (one per shape of the request) and its parameters. */
export interface Statement {
  text: string;
  params: unknown[];
  /** The root fields (response key → nodes), for answering a failure. */
  roots: Fields;
}

/**
 * base64url (no padding) of a UTF-8 text, as `Buffer#toString("base64url")` writes it: PostgreSQL's
 * base64 pads with `=` and breaks lines every 76 characters.
 */
const base64url = (text: string) => `translate(encode(convert_to(${text}, 'UTF8'), 'base64'), E'+/=\\n', '-_')`;

/*
 * The answer is written as JSON text in SQL, exactly as JSON.stringify writes it (no white space;
 * `to_json(text)` escapes a string as JSON.stringify does: quotes, backslashes and control characters,
 * the latter as \b \f \n \r \t or lowercase \u00xx), so it goes to the client as PostgreSQL wrote it,
 * without being parsed into objects and written again (see `stringifyResult` in ./index.ts). Every
 * expression below is non-null JSON text.
 */

/** A value of SQL as JSON text: a string, number, boolean or null. */
const json = (expression: string) => `coalesce(to_json(${expression})::text, 'null')`;

/** A string that needs no escaping (base64url, a type name) as JSON text. */
const plainString = (expression: string) => `('"' || ${expression} || '"')`;

/** `toGlobalId` (src/graphql/global-id.ts) in SQL. */
const globalId = (type: string, id: string) => plainString(base64url(`'${type}:' || ${id}::text`));

/** `encodeCursor` (src/domain/pagination.ts) in SQL: base64url of JSON.stringify([sortValue, id]). */
const cursor = (row: string) => base64url(`'[' || to_json(${row}.__sort)::text || ',"' || ${row}.id::text || '"]'`);

/** A JSON array of the page's shown rows, in page order. */
const jsonArray = (element: string, row: string, shown: string) => `('[' || coalesce(string_agg(${element}, ',' ORDER BY ${row}.__n) ${shown}, '') || ']')`;

/**
 * Builds the one statement that answers a query of the subset, for these (coerced) variables: the
 * JSON text of `data`, built over per-parent pages, each `first + 1` rows off the same index and in the same
 * order as the resolvers' pages (src/domain/pagination.ts), the resolution by the precedence of
 * src/domain/resolution.ts, a scoped key's conditions those of src/domain/scope.ts.
 */
export class StatementBuilder {
  private readonly params: unknown[] = [];
  private aliases = 0;
  /** The org's placeholder: every row read is the caller's org's. */
  private readonly org: string;
  /** A page's row alias → the joins its fields added to the page (an instance's resolutions). */
  private readonly joins = new Map<string, string[]>();
  /** A resolution's alias (its provider's row) → the SQL of its source. */
  private readonly sources = new Map<string, string>();
  /** `${row}:${type}` → the alias of that row's resolution of that type, joined once however often it is selected. */
  private readonly resolved = new Map<string, string>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Fragments,
    private readonly variables: Record<string, unknown>,
    private readonly actor: Pick<Actor, "orgId" | "role" | "scope">,
  ) {
    this.org = this.bind(actor.orgId, "uuid");
  }

  build(selectionSet: SelectionSetNode): Statement {
    const roots = this.collect([selectionSet]);
    const text = `SELECT ${this.object("Query", roots, "")} AS data`;
    return { text, params: this.params, roots };
  }

  private bind(value: unknown, cast?: string): string {
    this.params.push(value);
    return `$${this.params.length}${cast ? `::${cast}` : ""}`;
  }

  private alias(): string {
    return `c${++this.aliases}`;
  }

  /** graphql-js's CollectFields for an object type: fragments (already checked to be on the type) merged, @skip/@include applied. */
  private collect(sets: readonly SelectionSetNode[], fields: Fields = new Map(), visited = new Set<string>()): Fields {
    for (const set of sets) {
      for (const selection of set.selections) {
        if (!this.included(selection)) continue;
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const nodes = fields.get(key);
          if (nodes) nodes.push(selection);
          else fields.set(key, [selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          this.collect([selection.selectionSet], fields, visited);
        } else if (!visited.has(selection.name.value)) {
          visited.add(selection.name.value);
          this.collect([this.fragments[selection.name.value].selectionSet], fields, visited);
        }
      }
    }
    return fields;
  }

  private included(node: { directives?: readonly DirectiveNode[] }): boolean {
    if (!node.directives?.length) return true;
    if (getDirectiveValues(GraphQLSkipDirective, node, this.variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, this.variables)?.if !== false;
  }

  private subfields(nodes: readonly FieldNode[]): Fields {
    return this.collect(nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : [])));
  }

  private args(type: string, node: FieldNode): Record<string, unknown> {
    const field = (this.schema.getType(type) as GraphQLObjectType).getFields()[node.name.value];
    return getArgumentValues(field, node, this.variables);
  }

  /**
   * The JSON text of an object of the selected fields, in selection order; `value` answers a field of
   * the subset by its spec, as JSON text. Response keys and type names are GraphQL names: no quoting needed.
   */
  private jsonObject(type: string, fields: Fields, value: (spec: FieldSpec, nodes: FieldNode[], key: string) => string): string {
    if (fields.size > MAX_KEYS) throw new OutsideSubset();
    if (fields.size === 0) return "'{}'";
    const pairs = [...fields].map(([key, nodes], i) => {
      const name = nodes[0].name.value;
      return `'${i === 0 ? "{" : ","}"${key}":' || ${name === "__typename" ? `'"${type}"'` : `(${value(SUBSET[type][name], nodes, key)})`}`;
    });
    return `(${pairs.join(" || ")} || '}')`;
  }

  /** An object of the subset read off the row `row` (Query has none; ProviderResolution's is its provider `p` and its precedence). */
  private object(type: string, fields: Fields, row: string): string {
    return this.jsonObject(type, fields, (spec, nodes) => {
      switch (spec.kind) {
        case "column":
          return json(`${row}.${spec.column}`);
        case "id":
          return globalId(spec.type, `${row}.id`);
        case "org":
          return this.orgField(nodes);
        case "connection":
          return this.connection(type, spec.list, nodes, row);
        case "resolution":
          return this.resolution(type, nodes, row);
        case "provider":
          return this.object("Provider", this.subfields(nodes), row);
        case "source":
          return json(this.sources.get(row)!);
        case "viewerRole":
          return json(this.bind(this.actor.role, "text"));
        default:
          throw new Error(`${type} has no field of kind ${spec.kind} outside a connection`);
      }
    });
  }

  /** Query.org(slug): the caller's org when the slug is its own, else null (`CatalogService.orgBySlug`). */
  private orgField(nodes: FieldNode[]): string {
    const { slug } = this.args("Query", nodes[0]) as { slug: string };
    // OrgArgs' rule: anything else is the resolvers' BAD_USER_INPUT (or hostile-input refusal) to give.
    if (!rules.orgSlug.pattern.test(slug)) throw new OutsideSubset();
    const row = this.alias();
    return `coalesce((SELECT ${this.object("Org", this.subfields(nodes), row)} FROM orgs ${row} WHERE ${row}.id = ${this.org} AND ${row}.slug = ${this.bind(slug, "text")}), 'null')`;
  }

  /** A page of the parent's children as a connection (`listPages` and `toConnection`). */
  private connection(parentType: string, list: ListSpec, nodes: FieldNode[], parent: string): string {
    const { first, after } = this.args(parentType, nodes[0]) as { first: number; after?: string | null };
    if (!Number.isInteger(first) || first < FIRST_MIN || first > FIRST_MAX) throw new OutsideSubset();
    let position: [string, string] | null = null;
    if (after) {
      if (after.length > AFTER_MAX_LENGTH || !AFTER_CHARACTERS.test(after)) throw new OutsideSubset();
      try {
        position = decodeCursor(after);
      } catch {
        throw new OutsideSubset();
      }
    }
    // Under a parent, the org is a filter, not an index condition: the parent's index (IDX_instances_page
    // for instances) gives each page in order, where a bitmap of the org's index read every row of the org per parent.
    const where = list.parentColumn ? [`t.${list.parentColumn} = ${parent}.id`, `t.org_id IS NOT DISTINCT FROM ${this.org}`] : [`t.org_id = ${this.org}`];
    const scoped = scopeCondition(this.actor.scope, list.scope, "t", (value) => this.bind(value));
    if (scoped) where.push(scoped);
    const counted = [...where];
    if (position) where.push(`(${list.ordering.sql}, t.id) > (${this.bind(position[0], "text")}, ${this.bind(position[1], "uuid")})`);
    const limit = this.bind(first, "int");
    const row = this.alias();
    const order = `${list.ordering.sql}, t.id`;
    const page = `SELECT ${list.columns.map((c) => `t.${c}`).join(", ")}, (${list.ordering.sql}) AS __sort, row_number() OVER (ORDER BY ${order}) AS __n
      FROM ${list.table} t WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ${limit} + 1`;
    const shown = `FILTER (WHERE ${row}.__n <= ${limit})`;
    this.joins.set(row, []);
    const connectionType = `${list.node}Connection`;
    const fields = this.subfields(nodes);
    const connection = this.jsonObject(connectionType, fields, (spec, inner) => {
      const under = typeUnder(connectionType, spec)!;
      switch (spec.kind) {
        case "totalCount":
          return `(SELECT count(*) FROM ${list.table} t WHERE ${counted.join(" AND ")})::text`;
        case "nodes":
          return jsonArray(this.object(under, this.subfields(inner), row), row, shown);
        case "edges": {
          const edge = this.jsonObject(under, this.subfields(inner), (edgeSpec, edgeNodes) =>
            edgeSpec.kind === "cursor" ? plainString(cursor(row)) : this.object(typeUnder(under, edgeSpec)!, this.subfields(edgeNodes), row),
          );
          return jsonArray(edge, row, shown);
        }
        case "pageInfo":
          return this.jsonObject("PageInfo", this.subfields(inner), (infoSpec) => {
            switch (infoSpec.kind) {
              case "hasNextPage":
                return `CASE WHEN count(*) > ${limit} THEN 'true' ELSE 'false' END`;
              case "hasPreviousPage":
                return after ? "'true'" : "'false'";
              case "startCursor":
                return `coalesce(${plainString(`(array_agg(${cursor(row)} ORDER BY ${row}.__n) ${shown})[1]`)}, 'null')`;
              default:
                return `coalesce(${plainString(`(array_agg(${cursor(row)} ORDER BY ${row}.__n DESC) ${shown})[1]`)}, 'null')`;
            }
          });
        default:
          throw new Error(`${connectionType} has no field of kind ${spec.kind}`);
      }
    });
    // GROUP BY (): one row however many the page has, also when no aggregate is selected (`{ totalCount }`).
    // The joins its rows' fields added come after the page's LIMIT: they read the page's rows alone.
    return `(SELECT ${connection} FROM (${page}) ${row} ${this.joins.get(row)!.join("\n")} GROUP BY ())`;
  }

  /**
   * Instance.effectiveProvider(type): the provider by the precedence of `resolveProviders`, or null
   * when none applies or the one found is not the org's (`resolutionsOf`). Its links are joined to the
   * page of instances, each by its key: one join over the page's rows, where a subquery per instance
   * was planned alone and read the org-wide link tables once per instance (a page cost more the more
   * rows other orgs had; docs/performance.md).
   */
  private resolution(parentType: string, nodes: FieldNode[], instance: string): string {
    const { type } = this.args(parentType, nodes[0]) as { type: string };
    const joins = this.joins.get(instance);
    if (!joins) throw new Error("Instance.effectiveProvider outside a page of instances");
    let resolution = this.resolved.get(`${instance}:${type}`);
    if (!resolution) {
      resolution = this.alias();
      const precedence = precedenceSql(this.org, this.bind(type, "provider_type"), { ownInstance: `${instance}.id`, target: instance, prefix: `${resolution}_` });
      joins.push(`${precedence.joins}
          LEFT JOIN providers ${resolution} ON ${resolution}.id = ${precedence.providerId} AND ${resolution}.org_id = ${this.org}`);
      this.sources.set(resolution, precedence.source);
      this.resolved.set(`${instance}:${type}`, resolution);
    }
    return `CASE WHEN ${resolution}.id IS NULL THEN 'null' ELSE ${this.object("ProviderResolution", this.subfields(nodes), resolution)} END`;
  }
}
