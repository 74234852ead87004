import { bootstrapOrg } from "../src/domain/bootstrap.js";
import { harness } from "./setup.js";

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

/** What current GraphQL clients accept: a request error is then a 400 (an application/json-only client gets 200). */
export const GRAPHQL_ACCEPT = "application/graphql-response+json, application/json;q=0.9";

/** POSTs an operation to the running server over real HTTP, as a current GraphQL client does. */
export async function gql<T = any>(key: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${harness().url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: GRAPHQL_ACCEPT, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  return { ...body, status: response.status };
}

/** Like gql, but fails the test on any GraphQL error. */
export async function ok<T = any>(key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await gql<T>(key, query, variables);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** Creates an org and returns an admin key and the org's global id. */
export async function newOrg(slug: string): Promise<{ key: string; orgId: string }> {
  const { token } = await bootstrapOrg(harness().application.dataSource.manager, slug, `${slug} Inc.`);
  const data = await ok(token, `query($slug: String!) { org(slug: $slug) { id } }`, { slug });
  return { key: token, orgId: data.org.id };
}

/** How many operations the suite's server has run on an executor (its Prometheus counter, read off /metrics). */
export async function executions(executor: "sql" | "compiled" | "interpreted"): Promise<number> {
  const text = await (await fetch(`${harness().url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`providers_api_graphql_executions_total{executor="${executor}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Looks every 10 ms until `holds` does; after 10 s fails with `never`, a sentence of what never happened. */
export async function eventually(holds: () => boolean | Promise<boolean>, never: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await holds()); ) {
    if (Date.now() > deadline) throw new Error(never);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
