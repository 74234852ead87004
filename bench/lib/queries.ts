/** The dashboard page: every app's services and instances with the provider each would deploy with. */
export const dashboardQuery = (apps: number, services: number, instances: number) =>
  `query($slug: String!) { org(slug: $slug) { apps(first: ${apps}) { nodes { name services(first: ${services}) { nodes { name ` +
  `instances(first: ${instances}) { nodes { stage region effectiveProvider { source provider { name } } } } } } } } } }`;

export const DASHBOARD = dashboardQuery(100, 100, 100);

export const TRIVIAL = "{ viewer { __typename } }";

export const DEPLOY = `mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) {
  credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } } userErrors { code message } } }`;

export const body = (query: string, variables: object = {}) => JSON.stringify({ query, variables });
