import type { RequestHandler } from "express";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { GraphQLError, Kind, visit, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationContext, type ValidationRule, type ValueNode } from "graphql";
import { getComplexity, simpleEstimator, type ComplexityEstimator } from "graphql-query-complexity";
import { CodedError } from "../domain/errors.js";
import type { RequestHooks } from "./request-hooks.js";
import type { Logger } from "../logger.js";

/*
 * Every request's work is bounded before any resolver runs, by maintained libraries rather than rules
 * of our own: graphql-js's parser stops at a token count, GraphQL Armor's rules count depth, aliases and
 * directives, and graphql-query-complexity prices the operation with its variables, a connection's
 * `first` multiplying what is asked of each item. While it runs, a client that goes away stops it (see
 * graphql/middleware.ts and the loaders), and an answer larger than the cap is replaced by an error.
 */

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxResponseBytes: number;
}

/** Each limit's setting, named in the error a refused request gets. */
const SETTINGS = {
  depth: "MAX_QUERY_DEPTH",
  aliases: "MAX_QUERY_ALIASES",
  tokens: "MAX_QUERY_TOKENS",
  directives: "MAX_QUERY_DIRECTIVES",
  cost: "MAX_QUERY_COST",
  responseBytes: "MAX_RESPONSE_BYTES",
} as const;

/** A request over one of the limits: refused with HTTP 400 before anything ran. */
export class QueryLimitError extends CodedError {
  constructor(setting: string, what: string) {
    super(
      "QUERY_TOO_COMPLEX",
      `The request was refused before it ran: ${what} Ask for less in one request (fewer aliases, smaller \`first\`, less nesting), or have the operator raise ${setting}.`,
      { limit: setting },
    );
  }
}

const asGraphQLError = (error: CodedError) => new GraphQLError(error.message, { originalError: error, extensions: { http: { status: 400 } } });

/**
 * Armor's rules report through our callback: one error per request even when several limits are
 * exceeded at once (the first found), worded like every other refusal.
 */
function armorOptions(n: number, setting: string) {
  const reported = new WeakSet<ValidationContext>();
  return {
    n,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        if (!context || reported.has(context)) return;
        reported.add(context);
        context.reportError(asGraphQLError(new QueryLimitError(setting, error.message.replace(/^Syntax Error: /, ""))));
      },
    ],
  };
}

export function validationRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ ...armorOptions(limits.maxDepth, SETTINGS.depth), flattenFragments: true, ignoreIntrospection: false }),
    maxAliasesRule(armorOptions(limits.maxAliases, SETTINGS.aliases)),
    maxDirectivesRule(armorOptions(limits.maxDirectives, SETTINGS.directives)),
  ];
}

/** graphql-js's own parser stops counting at the limit, so a huge document costs no more than a small one. */
export function parseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/** The parser's words for the token limit, which Apollo reports as a plain syntax error. */
const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more th[ae][nt] (\d+) tokens/;
/**
 * graphql-js parses nesting by recursion: a document nested thousands deep (possible only where
 * MAX_QUERY_TOKENS is raised far above its default) overflows the stack inside the parser, before the
 * depth rule can see it; Apollo reports that as a syntax error too. How deep the stack reaches depends
 * on whether V8 has optimised the parser yet, so the same document may fail here or at the depth rule.
 */
const STACK_OVERFLOW_MESSAGE = /Maximum call stack size exceeded/;

/** A limit the parser hit (tokens, or nesting too deep for it), as the same refusal the other limits give; null for any other error. */
export function parseLimitError(message: string, limits: QueryLimits): QueryLimitError | null {
  const match = TOKEN_LIMIT_MESSAGE.exec(message);
  if (match) return new QueryLimitError(SETTINGS.tokens, `Token limit of ${match[1]} exceeded.`);
  if (STACK_OVERFLOW_MESSAGE.test(message)) return new QueryLimitError(SETTINGS.depth, `Depth limit of ${limits.maxDepth} exceeded: the document nests deeper than the parser can follow.`);
  return null;
}

/**
 * A connection's `first` multiplies the cost of what each item asks for, so nesting pages multiplies
 * as the database work does; every other field costs 1 plus its children.
 */
const connectionEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === "number" ? 1 + Math.max(args.first, 0) * childComplexity : undefined;

/** What pricing found for one document with some values of its cost variables. */
type Priced = number | "TOO_MANY_NODES";

/** Prices kept per document (for different `first` values, say); past it they are priced afresh. */
const PRICES_PER_DOCUMENT = 32;
/** The longest key a price is kept under: the values of `first` and of directives are short. */
const MAX_PRICE_KEY = 512;

/**
 * The variables a document's price can depend on: those given to a `first` argument (the
 * connection estimator multiplies by it) or to a directive (`@include(if: $x)` drops a subtree).
 * Every other variable leaves the price as it is.
 */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (value: ValueNode) => {
    if (value.kind === Kind.VARIABLE) names.add(value.name.value);
    else if (value.kind === Kind.LIST) value.values.forEach(collect);
    else if (value.kind === Kind.OBJECT) value.fields.forEach((field) => collect(field.value));
  };
  visit(document, {
    Field: (node) => node.arguments?.forEach((argument) => argument.name.value === "first" && collect(argument.value)),
    Directive: (node) => node.arguments?.forEach((argument) => collect(argument.value)),
  });
  return [...names].sort();
}

/**
 * Prices a request's operation, reusing the price of an earlier request with the same document
 * (Apollo hands every request of one query text the same parsed and validated document) and the same
 * values of the variables the price depends on: a hot operation is priced once, not on every request.
 * Bounded: the documents are those Apollo keeps, and each keeps a few prices of short values.
 */
class PriceCache {
  private readonly documents = new WeakMap<DocumentNode, { variables: string[]; prices: Map<string, Priced> }>();
  private readonly estimators = [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })];

  /** Undefined when the variables do not fit the operation (execution says so in its own words). */
  priceOf(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string): Priced | undefined {
    let known = this.documents.get(document);
    if (!known) this.documents.set(document, (known = { variables: costVariables(document), prices: new Map() }));
    // A variable left out (its default applies) and one sent as null price differently.
    const key = JSON.stringify([operationName ?? null, ...known.variables.map((name) => (Object.hasOwn(variables, name) ? [variables[name]] : []))]);
    const cached = known.prices.get(key);
    if (cached !== undefined) return cached;
    let priced: Priced;
    try {
      priced = getComplexity({ schema, query: document, variables, operationName, estimators: this.estimators });
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      // Pricing stops at its own node budget: a document that expands past it (fragments spread
      // over and over) is refused as too costly rather than run unpriced.
      if (!/maximum allowed number of nodes/.test(error.message)) return undefined;
      priced = "TOO_MANY_NODES";
    }
    if (key.length <= MAX_PRICE_KEY) {
      if (known.prices.size >= PRICES_PER_DOCUMENT) known.prices.clear();
      known.prices.set(key, priced);
    }
    return priced;
  }
}

export function limitsHooks(limits: QueryLimits, logger: Logger): RequestHooks {
  const prices = new PriceCache();
  return {
    didResolveOperation({ request, document, schema }) {
      const cost = prices.priceOf(schema, document, request.variables, request.operationName ?? undefined);
      if (cost === "TOO_MANY_NODES") {
        throw asGraphQLError(new QueryLimitError(SETTINGS.cost, `Query cost limit of ${limits.maxCost} exceeded: with its fragments spread, the query has more than 10000 fields, too many to price.`));
      }
      if (cost !== undefined && cost > limits.maxCost) {
        throw asGraphQLError(new QueryLimitError(SETTINGS.cost, `Query cost limit of ${limits.maxCost} exceeded, found ${cost} (each connection's \`first\` multiplies what its items ask for).`));
      }
    },
    willSendResponse({ response, contextValue }) {
      if (contextValue?.signal.aborted) {
        logger.info({ requestId: contextValue.requestId }, "the operation stopped after its client disconnected; the fields left were not run");
        return;
      }
      if (response.body.kind !== "single") return;
      // A refused request gets the limit's error alone, not graphql-js's own "Validation aborted." after it.
      const refusal = response.body.singleResult.errors?.find((error) => error.extensions?.code === "QUERY_TOO_COMPLEX");
      if (refusal) response.body.singleResult.errors = [refusal];
    },
  };
}

/**
 * An answer larger than the cap is replaced by an error. Checked on the JSON Apollo has already
 * written (serialising the result a second time to measure it would cost every request as much again),
 * and only counted in bytes when its length says it could be over.
 */
export function responseSizeLimit(limits: QueryLimits): RequestHandler {
  return (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      // UTF-8 takes at most 3 bytes for each UTF-16 unit of a string.
      if (typeof body !== "string" || body.length * 3 <= limits.maxResponseBytes) return send(body);
      const size = Buffer.byteLength(body);
      if (size <= limits.maxResponseBytes) return send(body);
      const message =
        `The answer would be ${size} bytes, over the limit of ${limits.maxResponseBytes}, so it was not sent. ` +
        `Ask for less in one request (a smaller \`first\`, fewer fields, then the next page), or have the operator raise ${SETTINGS.responseBytes}.`;
      res.status(400);
      return send(`${JSON.stringify({ errors: [{ message, extensions: { code: "RESPONSE_TOO_LARGE", limit: SETTINGS.responseBytes } }] })}\n`);
    };
    next();
  };
}
