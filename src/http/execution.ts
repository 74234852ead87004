import type { ApolloServerOptionsWithGateway, BaseContext } from "@apollo/server";
import {
  execute,
  getNamedType,
  GraphQLError,
  isInputObjectType,
  printSchema,
  typeFromAST,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import type { GraphQLContext } from "../graphql/context.js";
import { SqlPage } from "../graphql/sql-path/index.js";

type Gateway = ApolloServerOptionsWithGateway<BaseContext>["gateway"];

/** How many times a document runs through graphql-js before it is compiled. */
export const COMPILE_AFTER_RUNS = 2;

/** What runs an operation that came back. */
interface CompiledOperation {
  /** One SQL statement for the whole answer (src/graphql/sql-path), when the selection lies inside its subset. */
  sql: SqlPage | null;
  /** graphql-jit's form, made when first needed (null: graphql-js answers, always). */
  jit: () => CompiledQuery | null;
}

interface DocumentState {
  runs: number;
  /** Compiled per operation name (a document may hold several operations); null: not compiled, ever. */
  compiled: Map<string | null, CompiledOperation | null>;
}

export type Executor = "sql" | "compiled" | "interpreted";

/**
 * graphql-jit's errors are GraphQLErrors by prototype only (no `extensions` unless the original error
 * had some, which Apollo's error formatting reads); each becomes graphql-js's own, as graphql-js makes it.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const converted = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  (converted as { locations?: GraphQLError["locations"] }).locations = error.locations;
  return converted;
}

/**
 * Which operations are compiled: queries whose variables are scalars and enums (or lists of them).
 * graphql-jit coerces an input object variable differently from graphql-js (it does not fill in its
 * fields' defaults), and mutations gain nothing: their cost is their work, not their few fields.
 */
function compilable(schema: GraphQLSchema, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== "query") return false;
  return (operation.variableDefinitions ?? []).every((definition) => {
    const type = typeFromAST(schema, definition.type);
    return type !== undefined && !isInputObjectType(getNamedType(type));
  });
}

function operationOf(document: DocumentNode, operationName: string | null): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition");
  return operationName === null ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
}

/**
 * Apollo Server's executor for a schema of this process, through its `gateway` interface (the one way
 * Apollo Server 5 takes an executor of one's own). A document runs through graphql-js the first
 * COMPILE_AFTER_RUNS times; from then on through graphql-jit's compiled form of it, which calls the
 * same resolvers without graphql-js's per-field interpretation (on the dashboard page, ~3,500 fields,
 * that interpretation and its garbage were a third of the CPU) — or, for a query whose whole
 * selection lies in the dashboard's subset, through the SQL path (src/graphql/sql-path): one statement
 * and no resolver, falling back to the compiled form when the request's arguments would be refused.
 *
 * Only documents Apollo has parsed and validated reach here, after the query limits (depth, aliases,
 * tokens, cost). A document is compiled only once it has come back: a client sending ever new
 * documents costs no compilation, while the operations a dashboard repeats are compiled once. The
 * compiled forms hang off Apollo's own document cache (a WeakMap keyed by the parsed document it
 * keeps), so they are bounded by that cache and dropped with its entries. A variable graphql-jit
 * refuses is answered by graphql-js, so a bad variable gets graphql-js's own words on either path.
 */
export function compiledExecution(schema: GraphQLSchema, observe: (executor: Executor) => void = () => {}): Gateway {
  const documents = new WeakMap<DocumentNode, DocumentState>();
  const compiledFor = (document: DocumentNode, operationName: string | null): CompiledOperation | null => {
    let state = documents.get(document);
    if (!state) documents.set(document, (state = { runs: 0, compiled: new Map() }));
    if (state.runs < COMPILE_AFTER_RUNS) {
      state.runs++;
      return null;
    }
    if (!state.compiled.has(operationName)) {
      const operation = operationOf(document, operationName);
      state.compiled.set(operationName, operation && operation.operation === "query" ? { sql: SqlPage.of(schema, document, operation), jit: jitOnce(document, operation, operationName) } : null);
    }
    return state.compiled.get(operationName) ?? null;
  };
  const jitOnce = (document: DocumentNode, operation: OperationDefinitionNode, operationName: string | null) => {
    let jit: CompiledQuery | null | undefined;
    return () => {
      if (jit === undefined) {
        const compiled = compilable(schema, operation) ? compileQuery(schema, document, operationName ?? undefined) : null;
        // A document graphql-jit cannot compile (none that Apollo validated, so far) stays with graphql-js.
        jit = compiled && isCompiledQuery(compiled) ? compiled : null;
      }
      return jit;
    };
  };
  const interpret = (document: DocumentNode, contextValue: unknown, variableValues: Record<string, unknown> | undefined, operationName: string | null) => {
    observe("interpreted");
    return execute({ schema, document, contextValue, variableValues, operationName });
  };
  return {
    async load() {
      return {
        executor: async ({ document, request, context }) => {
          const operationName = request.operationName ?? null;
          const operation = compiledFor(document, operationName);
          if (operation?.sql) {
            const answer = await operation.sql.run(context as GraphQLContext, request.variables);
            if (answer) {
              observe("sql");
              return answer;
            }
          }
          const compiled = operation?.jit();
          if (!compiled) return interpret(document, context, request.variables, operationName);
          const result: ExecutionResult = await compiled.query(undefined, context, request.variables ?? {});
          // Variables graphql-jit refuses although they fit (errors and no data at all): graphql-js
          // answers instead, in its own words.
          if (result.errors && !("data" in result)) return interpret(document, context, request.variables, operationName);
          observe("compiled");
          if (!result.errors) return result;
          // A client that went away reads no answer: its first error is kept (the request log names it),
          // not one per field left unrun (500 on a dashboard page), each made and formatted for no one.
          const errors = (context as { signal?: AbortSignal }).signal?.aborted ? result.errors.slice(0, 1) : result.errors;
          return { ...result, errors: errors.map(asGraphQLError) };
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async stop() {},
  };
}
