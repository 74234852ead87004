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
    userErrors { code field message }
  }
}`;

function graphqlUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.replace(/\/+$/, "").endsWith("/graphql")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/graphql`;
  return url.toString();
}

/** Asks the server for the deployment's AWS credentials and returns the credential_process JSON. */
export async function credentialProcessOutput(env: NodeJS.ProcessEnv, request: CredentialProcessRequest): Promise<string> {
  const base = env.PROVIDERS_API_URL;
  const key = env.PROVIDERS_API_KEY;
  if (!base) throw new CredentialProcessError("set PROVIDERS_API_URL to the server's URL, e.g. https://providers.example.com");
  if (!key) throw new CredentialProcessError("set PROVIDERS_API_KEY to an access key with the DEPLOYER role (or higher)");
  let endpoint: string;
  try {
    endpoint = graphqlUrl(base);
  } catch {
    throw new CredentialProcessError(`PROVIDERS_API_URL is not a URL: ${JSON.stringify(base)}`);
  }
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: MUTATION, variables: { input: { ...request, type: "AWS" } } }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new CredentialProcessError(`could not reach ${endpoint}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as {
    data?: { deploymentCredentials?: { credentials: Record<string, string | null> | null; useLocalCredentials: boolean | null; userErrors: Array<{ message: string }> } };
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  if (!body) throw new CredentialProcessError(`${endpoint} answered HTTP ${response.status} without a GraphQL response`);
  if (body.errors?.length) {
    throw new CredentialProcessError(body.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  }
  const payload = body.data?.deploymentCredentials;
  if (!payload) throw new CredentialProcessError("the server's answer has no deploymentCredentials");
  if (payload.userErrors.length) throw new CredentialProcessError(payload.userErrors.map((e) => e.message).join(" "));
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
