/*
 * `providers-api credentials`: a client of the HTTP API that prints what the AWS CLI and SDKs expect
 * from a `credential_process` (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
 */
import { ApiClientError, callMutation, type ApiClientOptions } from "./api.js";

export interface CredentialProcessRequest {
  org: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
  sessionDurationSeconds: number | null;
}

export interface CredentialProcessOptions extends ApiClientOptions {
  /**
   * Told each warning the server gave (a stage the service never deployed, a typo?). Never written to
   * stdout: the AWS SDK reads stdout as the credentials' JSON.
   */
  warn?: (message: string) => void;
}

const MUTATION = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } }
    useLocalCredentials
    warnings { code message }
    userErrors { code field message }
  }
}`;

/** Asks the server for the deployment's AWS credentials and returns the credential_process JSON. */
export async function credentialProcessOutput(env: NodeJS.ProcessEnv, request: CredentialProcessRequest, options: CredentialProcessOptions = {}): Promise<string> {
  const payload = await callMutation<{
    credentials: Record<string, string | null> | null;
    warnings?: Array<{ code: string; message: string }>;
    userErrors: Array<{ message: string }>;
  }>(env, { query: MUTATION, variables: { input: { ...request, type: "AWS" } }, field: "deploymentCredentials" }, options);
  for (const warning of payload.warnings ?? []) options.warn?.(`${warning.code}: ${warning.message}`);
  const credentials = payload.credentials;
  if (!credentials) {
    throw new ApiClientError("no AWS provider applies to this service and stage: use local credentials (or ask an admin to link a provider)");
  }
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { SessionToken: credentials.sessionToken } : {}),
    ...(credentials.expiration ? { Expiration: credentials.expiration } : {}),
  });
}
