import "reflect-metadata";
import { performance } from "node:perf_hooks";
import { bootstrapOrg } from "../src/domain/bootstrap.js";
import { resolveProviders, type ResolutionTarget } from "../src/domain/resolution.js";
import { Org, ProviderType } from "../src/entities/index.js";
import { StsAdapter } from "../src/aws/sts.js";
import { createTestDatabase, startHarness, type Harness } from "../test/harness.js";
import { FakeSts, SERVER_IDENTITY } from "../test/sts/fake-sts-server.js";

/*
 * Measures, side by side in one run:
 *   1. the dashboard's tree query (apps → services → instances → effectiveProvider) on a small and a
 *      large org: statements and time per request;
 *   2. resolving the effective provider of N instances batched (what the DataLoader does) against one
 *      call per instance (what a naive resolver would do);
 *   3. deploymentCredentials for an AWS role over HTTP (authenticate, record the deployment, resolve,
 *      AssumeRole, audit, commit) against the bare AssumeRole call it wraps, both on the loopback STS.
 * Figures print; nothing here asserts a time.
 */

async function graphql(h: Harness, key: string, query: string, variables: object = {}) {
  const response = await fetch(`${h.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function seed(h: Harness, slug: string, apps: number, services: number, instances: number) {
  const { token, org } = await bootstrapOrg(h.application.dataSource.manager, slug, slug);
  const db = h.application.dataSource;
  const [dev] = await db.query(
    `INSERT INTO providers (org_id, name, type, kind, settings) VALUES ($1, 'dev', 'AWS', 'AWS_ROLE', '{"roleArn":"arn:aws:iam::111111111111:role/d"}') RETURNING id`,
    [org.id],
  );
  const [prod] = await db.query(
    `INSERT INTO providers (org_id, name, type, kind, settings) VALUES ($1, 'prod', 'AWS', 'AWS_ROLE', '{"roleArn":"arn:aws:iam::222222222222:role/p"}') RETURNING id`,
    [org.id],
  );
  await db.query(
    `WITH a AS (INSERT INTO apps (org_id, name) SELECT $1, 'app' || g FROM generate_series(1, $2) g RETURNING id),
          s AS (INSERT INTO services (org_id, app_id, name) SELECT $1, a.id, 'svc' || g FROM a, generate_series(1, $3) g RETURNING id),
          sl AS (INSERT INTO service_provider_links (service_id, provider_type, provider_id, org_id) SELECT s.id, 'AWS', $5, $1 FROM s),
          i AS (INSERT INTO instances (org_id, service_id, stage, region)
                SELECT $1, s.id, CASE WHEN g = 1 THEN 'prod' ELSE 'stage' || g END, 'us-east-1' FROM s, generate_series(1, $4) g RETURNING id, stage)
     INSERT INTO instance_provider_links (instance_id, provider_type, provider_id, org_id) SELECT i.id, 'AWS', $6, $1 FROM i WHERE i.stage = 'prod'`,
    [org.id, apps, services, instances, dev.id, prod.id],
  );
  return { token, org };
}

const TREE = `query($slug: String!) { org(slug: $slug) { apps(first: 100) { nodes { services(first: 100) { nodes {
  instances(first: 100) { nodes { stage effectiveProvider { source provider { name } } } } } } } } } }`;

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
}

async function main() {
  const fakeSts = new FakeSts();
  process.env.AWS_ENDPOINT_URL_STS = await fakeSts.start();
  process.env.AWS_ACCESS_KEY_ID = SERVER_IDENTITY.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = SERVER_IDENTITY.secretAccessKey;
  const database = await createTestDatabase();
  const h = await startHarness(database.url);
  try {
    const small = await seed(h, "small", 1, 1, 2);
    const large = await seed(h, "large", 10, 10, 10);
    const rows: string[] = [];
    for (const [label, org, slug] of [["small (2 instances)", small, "small"], ["large (1000 instances)", large, "large"]] as const) {
      await graphql(h, org.token, TREE, { slug });
      const before = h.statements.count;
      await graphql(h, org.token, TREE, { slug });
      const statements = h.statements.count - before;
      const ms = await timeIt(10, () => graphql(h, org.token, TREE, { slug }));
      rows.push(`  ${label.padEnd(24)} ${String(statements).padStart(4)} statements  ${ms.toFixed(1).padStart(8)} ms/request`);
    }
    console.log("tree query: org { apps { services { instances { effectiveProvider } } } }");
    console.log(rows.join("\n"));

    const em = h.application.dataSource.manager;
    const largeOrg = await em.findOneByOrFail(Org, { slug: "large" });
    const instances: ResolutionTarget[] = (
      await em.query("SELECT service_id, stage, region FROM instances WHERE org_id = $1", [largeOrg.id])
    ).map((r: any) => ({ serviceId: r.service_id, stage: r.stage, region: r.region }));
    const batched = await timeIt(5, () => resolveProviders(em, largeOrg.id, ProviderType.AWS, instances));
    const oneByOne = await timeIt(1, () => Promise.all(instances.map((t) => resolveProviders(em, largeOrg.id, ProviderType.AWS, [t]))));
    console.log(`\neffective provider of ${instances.length} instances:`);
    console.log(`  batched (one call)        ${batched.toFixed(1).padStart(8)} ms`);
    console.log(`  one call per instance     ${oneByOne.toFixed(1).padStart(8)} ms`);
    console.log(`  ratio                     ${(oneByOne / batched).toFixed(1).padStart(8)} × faster batched`);

    const roleArn = "arn:aws:iam::222222222222:role/bench";
    const created = await graphql(h, large.token, `mutation($org: ID!) { createProvider(input: { orgId: $org, name: "bench", aws: { role: { roleArn: "${roleArn}" } } }) {
      provider { id credentials { ... on AwsRoleCredentials { externalId } } } } }`, { org: Buffer.from(`Org:${large.org.id}`).toString("base64url") });
    const provider = created.createProvider.provider;
    fakeSts.addRole(roleArn, { externalId: provider.credentials.externalId });
    await graphql(h, large.token, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: provider.id });
    const DEPLOY = `mutation($stage: String!) { deploymentCredentials(input: { org: "large", app: "bench", service: "api", stage: $stage, region: "us-east-1" }) {
      credentials { ... on AwsDeploymentCredentials { accessKeyId } } } }`;
    let n = 0;
    const viaApi = await timeIt(50, () => graphql(h, large.token, DEPLOY, { stage: `s${n++ % 5}` }));
    const adapter = new StsAdapter({ region: "us-east-1", timeoutMs: 10_000, maxAttempts: 1 });
    const bare = await timeIt(50, () =>
      adapter.assumeRole({ roleArn, externalId: provider.credentials.externalId, sessionName: "bench", durationSeconds: 3600, tags: [] }),
    );
    console.log(`\ndeployment credentials for an AWS role (loopback STS):`);
    console.log(`  deploymentCredentials     ${viaApi.toFixed(1).padStart(8)} ms/request`);
    console.log(`  bare AssumeRole           ${bare.toFixed(1).padStart(8)} ms/call`);
    console.log(`  ratio                     ${(viaApi / bare).toFixed(1).padStart(8)} × the bare STS call`);
  } finally {
    await h.server.stop();
    await database.drop();
    await fakeSts.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
