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
  durationSeconds: number | null;
}

const MUTATION = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) {
    credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } }
    useLocalCredentials
    userErrors { code field message }
  }
}`;

/** Asks the server for the deployment's AWS credentials and returns the credential_process JSON. */
export async function credentialProcessOutput(env: NodeJS.ProcessEnv, request: CredentialProcessRequest, options: ApiClientOptions = {}): Promise<string> {
  const payload = await callMutation<{ credentials: Record<string, string | null> | null; userErrors: Array<{ message: string }> }>(
    env,
    { query: MUTATION, variables: { input: { ...request, type: "AWS" } }, field: "deploymentCredentials" },
    options,
  );
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
