import { getVariableValues, locatedError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { queryPreparedOnPool } from "../../db/prepared.js";
import { ClientGoneError } from "../../domain/errors.js";
import type { GraphQLContext } from "../context.js";
import { OutsideSubset, StatementBuilder } from "./statement.js";
import { fitsSubset, type Fragments } from "./subset.js";

/*
 * The look-ahead SQL path: a query whose whole selection lies inside the dashboard's subset
 * (./subset.ts) is answered by ONE statement that builds the `data` JSON in PostgreSQL — no rows
 * materialised as entities, no resolver per field (on the dashboard page the resolvers' path was six
 * statements, ~1,100 entities and ~3,500 fields through resolvers: 28 ms of CPU; see
 * docs/performance.md). Everything the resolvers check holds here: the key was authenticated before
 * Apollo; `org` answers the caller's org only, by a valid slug; a scoped key's lists carry the same
 * conditions (src/domain/scope.ts); arguments the resolvers would refuse (a `first` out of bounds, an
 * `after` that is not a cursor of ours, a bad slug, a bad variable) send the request back to the
 * resolvers, which refuse it in their own words.
 */
export class SqlPage {
  private constructor(
    private readonly schema: GraphQLSchema,
    private readonly operation: OperationDefinitionNode,
    private readonly fragments: Fragments,
  ) {}

  /** The SQL path for the document's operation, or null when its selection reaches outside the subset. */
  static of(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SqlPage | null {
    const fragments: Fragments = {};
    for (const definition of document.definitions) if (definition.kind === "FragmentDefinition") fragments[definition.name.value] = definition;
    return fitsSubset(operation, fragments) ? new SqlPage(schema, operation, fragments) : null;
  }

  /**
   * The answer, or null when these variables take the request outside what this path answers alike
   * (the resolvers answer it). A failure of the statement is answered as the resolvers' path answers
   * it: each `org` null, with the error at its path (SERVICE_UNAVAILABLE for a database that cannot
   * serve, CLIENT_DISCONNECTED for a client gone before the statement started).
   */
  async run(ctx: GraphQLContext, variables: Record<string, unknown> | undefined): Promise<ExecutionResult | null> {
    const coerced = getVariableValues(this.schema, this.operation.variableDefinitions ?? [], variables ?? {});
    if (coerced.errors) return null;
    let statement;
    try {
      statement = new StatementBuilder(this.schema, this.fragments, coerced.coerced, ctx.actor).build(this.operation.selectionSet);
    } catch (error) {
      // OutsideSubset, or an argument graphql-js itself would refuse: the resolvers' path answers, in its words.
      if (!(error instanceof OutsideSubset)) ctx.logger.debug({ requestId: ctx.requestId, err: error }, "the SQL path left a query to the resolvers");
      return null;
    }
    try {
      if (ctx.signal.aborted) throw new ClientGoneError();
      // On the pool, without a TypeORM query runner around it: a query's context is never in a transaction.
      const [row] = await queryPreparedOnPool<{ data: string }>(ctx.dataSource, statement.text, statement.params, "documents");
      return { data: new AnswerText(row.data) as unknown as Record<string, unknown> };
    } catch (error) {
      const data: Record<string, unknown> = {};
      const failed: ExecutionResult["errors"] & unknown[] = [];
      for (const [key, nodes] of statement.roots) {
        const typename = nodes[0].name.value === "__typename";
        data[key] = typename ? "Query" : null;
        // A client that went away reads no answer: one error for the request log, not one per field.
        if (!typename && (failed.length === 0 || !(error instanceof ClientGoneError))) failed.push(locatedError(error, nodes, [key]));
      }
      return { data, errors: failed };
    }
  }
}

/**
 * `data` as the JSON text PostgreSQL wrote, written to the client as it is by `stringifyResult`: a page
 * of 500 instances is not parsed into ~3,000 objects only to be written back to the same text. Anything
 * else that serialises it (a test's executeOperation, another plugin) gets the parsed value.
 */
export class AnswerText {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * Apollo Server's `stringifyResult`: its own (JSON.stringify and a newline), except that an answer of
 * the SQL path — `data` alone, as text — is written around that text. The same bytes either way: the
 * text is JSON.stringify's form of the same value (see ./statement.ts), which test/sql-path.test.ts
 * checks against the resolvers' answers.
 */
export function stringifyResult(value: { data?: unknown; errors?: unknown; extensions?: unknown }): string {
  if (value.data instanceof AnswerText && value.errors === undefined && value.extensions === undefined) return `{"data":${value.data.text}}\n`;
  return `${JSON.stringify(value)}\n`;
}
