/** The dashboard page: every app's services and instances with the provider each would deploy with. */
export const dashboardQuery = (apps: number, services: number, instances: number) =>
  `query($slug: String!) { org(slug: $slug) { apps(first: ${apps}) { nodes { name services(first: ${services}) { nodes { name ` +
  `instances(first: ${instances}) { nodes { stage region effectiveProvider { source provider { name } } } } } } } } } }`;

export const DASHBOARD = dashboardQuery(100, 100, 100);

export const TRIVIAL = "{ viewer { __typename } }";

export const DEPLOY = `mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) {
  credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } } userErrors { code message } } }`;

export const body = (query: string, variables: object = {}) => JSON.stringify({ query, variables });

/** POSTs a GraphQL request to the API at `url` with `key`, and returns its data (a GraphQL error throws). */
export async function postGraphql(url: string, key: string, query: string, variables: object = {}): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as { data?: any; errors?: unknown };
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}
