import { Field, Int, ObjectType, type ClassType } from "type-graphql";
import type { Page, PageArgs } from "../../domain/pagination.js";
import { PageInfo } from "./common.js";

export interface ConnectionValue<T> {
  edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  pageInfo: PageInfo;
  /**
   * Counted only when asked for: a getter, because type-graphql's field resolver reads the property
   * (it does not call a function-valued one, as plain graphql-js would).
   */
  readonly totalCount: Promise<number>;
}

/** A Relay connection type for the node class, named `${name}Connection` with `${name}Edge`. */
export function Connection<TNode extends object>(name: string, node: ClassType<TNode>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => node) node!: TNode;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [node], { description: "The nodes of `edges`, for clients that do not need cursors." }) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int, { description: "How many there are in all." }) totalCount!: number;
  }
  return ConnectionType;
}

export function toConnection<T>(page: Page<T>, args: PageArgs, totalCount: () => Promise<number>): ConnectionValue<T> {
  return {
    edges: page.items.map((node, i) => ({ cursor: page.cursors[i], node })),
    nodes: page.items,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: Boolean(args.after),
      startCursor: page.cursors[0] ?? null,
      endCursor: page.cursors.at(-1) ?? null,
    },
    get totalCount() {
      return totalCount();
    },
  };
}
