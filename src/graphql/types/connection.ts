import { Field, Int, ObjectType, type ClassType } from "type-graphql";
import { encodeCursor, type Page, type PageArgs } from "../../domain/pagination.js";
import { PageInfo } from "./common.js";

export interface ConnectionValue<T> {
  readonly edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  readonly pageInfo: PageInfo;
  /**
   * Counted only when asked for: a getter, because type-graphql's field resolver reads the property
   * (it does not call a function-valued one, as plain graphql-js would). `edges` and `pageInfo` are
   * getters for the same reason: their cursors are built only when a query selects them.
   */
  readonly totalCount: Promise<number>;
}

/** A Relay connection type for the node class, named `${name}Connection` with `${name}Edge`. */
export function Connection<TNode extends object>(name: string, node: ClassType<TNode>) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field() cursor!: string;
    @Field(() => node) node!: TNode;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [node], { description: "The nodes of `edges`, for clients that do not need cursors." }) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    // A promise (counted only when selected): read through a resolver, which waits for it (see objects.ts).
    @Field(() => Int, { simple: false, description: "How many there are in all." }) totalCount!: number;
  }
  return ConnectionType;
}

/** Cursors are encoded only for the edges and page info a query asks for. */
export function toConnection<T extends { id: string }>(page: Page<T>, args: PageArgs, totalCount: () => Promise<number>): ConnectionValue<T> {
  const cursor = (i: number) => encodeCursor(page.sortValues[i], page.items[i].id);
  const last = page.items.length - 1;
  return {
    get edges() {
      return page.items.map((node, i) => ({ cursor: cursor(i), node }));
    },
    nodes: page.items,
    get pageInfo() {
      return {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: Boolean(args.after),
        startCursor: last >= 0 ? cursor(0) : null,
        endCursor: last >= 0 ? cursor(last) : null,
      };
    },
    get totalCount() {
      return totalCount();
    },
  };
}
