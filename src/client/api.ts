/*
 * The HTTP client behind the CLI's client commands (`credentials`, `parameters`): one GraphQL mutation
 * against the server at PROVIDERS_API_URL, with the key in PROVIDERS_API_KEY.
 */

/** Problems a person must fix (no server, a rejected key, a refused deployment): printed as one sentence. */
export class ApiClientError extends Error {}

function graphqlUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.replace(/\/+$/, "").endsWith("/graphql")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/graphql`;
  return url.toString();
}

/**
 * Runs the mutation and returns the payload of its one field, or throws an ApiClientError naming every
 * GraphQL error and userError in the answer.
 */
export async function callMutation<T extends { userErrors: Array<{ message: string }> }>(
  env: NodeJS.ProcessEnv,
  query: string,
  variables: Record<string, unknown>,
  field: string,
): Promise<T> {
  const base = env.PROVIDERS_API_URL;
  const key = env.PROVIDERS_API_KEY;
  if (!base) throw new ApiClientError("set PROVIDERS_API_URL to the server's URL, e.g. https://providers.example.com");
  if (!key) throw new ApiClientError("set PROVIDERS_API_KEY to an access key with the DEPLOYER role (or higher)");
  let endpoint: string;
  try {
    endpoint = graphqlUrl(base);
  } catch {
    throw new ApiClientError(`PROVIDERS_API_URL is not a URL: ${JSON.stringify(base)}`);
  }
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new ApiClientError(`could not reach ${endpoint}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as {
    data?: Record<string, T | null>;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  if (!body) throw new ApiClientError(`${endpoint} answered HTTP ${response.status} without a GraphQL response`);
  if (body.errors?.length) {
    throw new ApiClientError(body.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  }
  const payload = body.data?.[field];
  if (!payload) throw new ApiClientError(`the server's answer has no ${field}`);
  if (payload.userErrors.length) throw new ApiClientError(payload.userErrors.map((e) => e.message).join(" "));
  return payload;
}
