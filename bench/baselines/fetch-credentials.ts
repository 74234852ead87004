// The 10-line client `providers-api credentials` is compared with: one fetch, the credential_process JSON.
const [org, app, service, stage, region] = process.argv.slice(2);
const query = `mutation($input: DeploymentCredentialsInput!) { deploymentCredentials(input: $input) { credentials { ... on AwsDeploymentCredentials { accessKeyId secretAccessKey sessionToken expiration } } } }`;
fetch(`${process.env.PROVIDERS_API_URL}/graphql`, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${process.env.PROVIDERS_API_KEY}` },
  body: JSON.stringify({ query, variables: { input: { org, app, service, stage, region, type: "AWS" } } }),
})
  .then((r) => r.json() as Promise<any>)
  .then(({ data: { deploymentCredentials: { credentials: c } } }) => console.log(JSON.stringify({ Version: 1, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration })));
export {};
