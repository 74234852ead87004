import ipaddr from "ipaddr.js";

/*
 * `providers-api credentials`: a client of the HTTP API that prints what the AWS CLI and SDKs expect
 * from a `credential_process` (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
 */

export interface CredentialProcessRequest {
  org: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
  durationSeconds: number | null;
}

/** Problems a person must fix (no server, a rejected key, no provider): printed as one sentence. */
export class CredentialProcessError extends Error {}

const MUTATION = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } }
    useLocalCredentials
    warnings { code message }
    userErrors { code field message }
  }
}`;

export interface CredentialProcessOptions {
  /** Allow plain http to a host other than this machine (`--insecure`). */
  insecure?: boolean;
  /**
   * Told each warning the server gave (a stage the service never deployed, a typo?). Never written to
   * stdout: the AWS SDK reads stdout as the credentials' JSON.
   */
  warn?: (message: string) => void;
}

/** localhost or a loopback address, as the URL names it: no name is resolved, so DNS cannot change the answer. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === "loopback";
}

function graphqlUrl(base: string, options: CredentialProcessOptions): string {
  const url = new URL(base);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CredentialProcessError(`PROVIDERS_API_URL must be an https:// URL (http:// only to this machine); it is ${JSON.stringify(base)}`);
  }
  // The key goes out in a header and credentials come back in the body: over plain http anyone on the path reads both.
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && !options.insecure) {
    throw new CredentialProcessError(
      `refusing to send the access key over plain http to ${url.host}: anyone on the network path could read it and the credentials. Use https://, or pass --insecure if that network is private and trusted.`,
    );
  }
  if (!url.pathname.replace(/\/+$/, "").endsWith("/graphql")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/graphql`;
  return url.toString();
}

/** Asks the server for the deployment's AWS credentials and returns the credential_process JSON. */
export async function credentialProcessOutput(env: NodeJS.ProcessEnv, request: CredentialProcessRequest, options: CredentialProcessOptions = {}): Promise<string> {
  const base = env.PROVIDERS_API_URL;
  const key = env.PROVIDERS_API_KEY;
  if (!base) throw new CredentialProcessError("set PROVIDERS_API_URL to the server's URL, e.g. https://providers.example.com");
  if (!key) throw new CredentialProcessError("set PROVIDERS_API_KEY to an access key with the DEPLOYER role (or higher)");
  let endpoint: string;
  try {
    endpoint = graphqlUrl(base, options);
  } catch (error) {
    if (error instanceof CredentialProcessError) throw error;
    throw new CredentialProcessError(`PROVIDERS_API_URL is not a URL: ${JSON.stringify(base)}`);
  }
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: MUTATION, variables: { input: { ...request, type: "AWS" } } }),
      signal: AbortSignal.timeout(60_000),
      // A redirect could lead the key somewhere the checks above never saw.
      redirect: "manual",
    });
  } catch (error) {
    throw new CredentialProcessError(`could not reach ${endpoint}: ${(error as Error).message}`);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new CredentialProcessError(
      `${endpoint} answered with a redirect (HTTP ${response.status}) to ${response.headers.get("location") ?? "nowhere"}; set PROVIDERS_API_URL to the server's own address`,
    );
  }
  const body = (await response.json().catch(() => null)) as {
    data?: { deploymentCredentials?: { credentials: Record<string, string | null> | null; useLocalCredentials: boolean | null; warnings?: Array<{ code: string; message: string }> | null; userErrors: Array<{ message: string }> } };
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  if (!body) throw new CredentialProcessError(`${endpoint} answered HTTP ${response.status} without a GraphQL response`);
  if (body.errors?.length) {
    throw new CredentialProcessError(body.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  }
  const payload = body.data?.deploymentCredentials;
  if (!payload) throw new CredentialProcessError("the server's answer has no deploymentCredentials");
  if (payload.userErrors.length) throw new CredentialProcessError(payload.userErrors.map((e) => e.message).join(" "));
  for (const warning of payload.warnings ?? []) options.warn?.(`${warning.code}: ${warning.message}`);
  const credentials = payload.credentials;
  if (!credentials) {
    throw new CredentialProcessError("no AWS provider applies to this service and stage: use local credentials (or ask an admin to link a provider)");
  }
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { SessionToken: credentials.sessionToken } : {}),
    ...(credentials.expiration ? { Expiration: credentials.expiration } : {}),
  });
}
