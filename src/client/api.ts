import ipaddr from "ipaddr.js";

/*
 * The HTTP client behind the CLI's client commands (`credentials`, `parameters`): one GraphQL mutation
 * against the server at PROVIDERS_API_URL, with the key in PROVIDERS_API_KEY.
 */

/** Problems a person must fix (no server, a rejected key, a refused deployment): printed as one sentence. */
export class ApiClientError extends Error {}

export interface ApiClientOptions {
  /** Allow plain http to a host other than this machine (`--insecure`). */
  insecure?: boolean;
}

/** localhost or a loopback address, as the URL names it: no name is resolved, so DNS cannot change the answer. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === "loopback";
}

function graphqlUrl(base: string, options: ApiClientOptions): string {
  const url = new URL(base);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ApiClientError(`PROVIDERS_API_URL must be an https:// URL (http:// only to this machine); it is ${JSON.stringify(base)}`);
  }
  // The key goes out in a header and credentials come back in the body: over plain http anyone on the path reads both.
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && !options.insecure) {
    throw new ApiClientError(
      `refusing to send the access key over plain http to ${url.host}: anyone on the network path could read it and the credentials. Use https://, or pass --insecure if that network is private and trusted.`,
    );
  }
  if (!url.pathname.replace(/\/+$/, "").endsWith("/graphql")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/graphql`;
  return url.toString();
}

/**
 * Runs the mutation and returns the payload of its one field, or throws an ApiClientError naming every
 * GraphQL error and userError in the answer.
 */
export async function callMutation<T extends { userErrors: Array<{ message: string }> }>(
  env: NodeJS.ProcessEnv,
  request: { query: string; variables: Record<string, unknown>; field: string },
  options: ApiClientOptions = {},
): Promise<T> {
  const base = env.PROVIDERS_API_URL;
  const key = env.PROVIDERS_API_KEY;
  if (!base) throw new ApiClientError("set PROVIDERS_API_URL to the server's URL, e.g. https://providers.example.com");
  if (!key) throw new ApiClientError("set PROVIDERS_API_KEY to an access key with the DEPLOYER role (or higher)");
  let endpoint: string;
  try {
    endpoint = graphqlUrl(base, options);
  } catch (error) {
    if (error instanceof ApiClientError) throw error;
    throw new ApiClientError(`PROVIDERS_API_URL is not a URL: ${JSON.stringify(base)}`);
  }
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: request.query, variables: request.variables }),
      signal: AbortSignal.timeout(60_000),
      // A redirect could lead the key somewhere the checks above never saw.
      redirect: "manual",
    });
  } catch (error) {
    throw new ApiClientError(`could not reach ${endpoint}: ${(error as Error).message}`);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new ApiClientError(
      `${endpoint} answered with a redirect (HTTP ${response.status}) to ${response.headers.get("location") ?? "nowhere"}; set PROVIDERS_API_URL to the server's own address`,
    );
  }
  const body = (await response.json().catch(() => null)) as {
    data?: Record<string, T | null>;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  if (!body) throw new ApiClientError(`${endpoint} answered HTTP ${response.status} without a GraphQL response`);
  if (body.errors?.length) {
    throw new ApiClientError(body.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  }
  const payload = body.data?.[request.field];
  if (!payload) throw new ApiClientError(`the server's answer has no ${request.field}`);
  if (payload.userErrors.length) throw new ApiClientError(payload.userErrors.map((e) => e.message).join(" "));
  return payload;
}
