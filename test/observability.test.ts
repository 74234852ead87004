import { expect } from "chai";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createProvider, createService, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness, sts } from "./setup.js";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }>;
}

const DEPLOY = `mutation($input: DeploymentCredentialsInput!) {
  deploymentCredentials(input: $input) { credentials { __typename } resolution { source } userErrors { code } }
}`;

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const response = await fetch(`${harness().url}/metrics`);
  expect(response.status).to.equal(200);
  expect(response.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  // A real Prometheus text-format parser (a port of Prometheus's own): it throws on a malformed exposition.
  const families = parsePrometheusTextFormat(text) as Family[];
  return { text, families: new Map(families.map((family) => [family.name, family])) };
}

/** The value of one sample (a counter or gauge), 0 when the labels have not been seen yet. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  const match = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return match ? Number(match.value ?? match.count) : 0;
}


async function roleOrg(): Promise<{ key: string; orgId: string }> {
  const org = await newOrg("acme");
  const roleArn = ROLE_ARN("111111111111", "deploy");
  const providerId = await createProvider(org.key, org.orgId, "dev", { aws: { role: { roleArn } } });
  const externalId = (
    await ok(org.key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId })
  ).node.credentials.externalId;
  sts().addRole(roleArn, { externalId });
  await linkToService(org.key, providerId, await createService(org.key, await createApp(org.key, org.orgId, "app1"), "service1"));
  return org;
}

const TARGET = { org: "acme", app: "app1", service: "service1", stage: "prod", region: "us-east-1" };

/** The JSON lines the server logged since the test began. */
function logLines(): Array<Record<string, any>> {
  return harness()
    .logs.join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe("metrics", () => {
  it("a deployment moves the request, credentials and STS counters; a refusal and a failed authentication move theirs", async () => {
    const { key } = await roleOrg();
    const before = (await scrape()).families;

    expect((await ok(key, DEPLOY, { input: TARGET })).deploymentCredentials.resolution).to.deep.equal({ source: "SERVICE" });
    // Throttled once, then issued: one retry.
    sts().throttleNext = 1;
    expect((await ok(key, DEPLOY, { input: TARGET })).deploymentCredentials.credentials).to.deep.equal({ __typename: "AwsDeploymentCredentials" });
    // Refused: an org that is not the caller's.
    expect((await gql(key, DEPLOY, { input: { ...TARGET, org: "globex" } })).errors?.[0].extensions?.code).to.equal("NOT_FOUND");
    // STS down: a failure of its kind.
    sts().failWith = { status: 503, code: "ServiceUnavailable", message: "down" };
    expect((await gql(key, DEPLOY, { input: TARGET })).errors?.[0].extensions?.code).to.match(/^STS_/);
    sts().failWith = null;
    expect((await gql("pvk_notakey", `{ viewer { __typename } }`)).status).to.equal(401);

    const after = (await scrape()).families;
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta("providers_api_credentials_total", { type: "AWS", source: "SERVICE", outcome: "ISSUED" })).to.equal(2);
    expect(delta("providers_api_credentials_total", { type: "AWS", source: "NONE", outcome: "DENIED" })).to.equal(1);
    expect(delta("providers_api_credentials_total", { type: "AWS", source: "SERVICE", outcome: "FAILED" })).to.equal(1);
    expect(delta("providers_api_requests_total", { operation: "mutation.deploymentCredentials", outcome: "OK" })).to.equal(2);
    expect(delta("providers_api_requests_total", { operation: "mutation.deploymentCredentials", outcome: "NOT_FOUND" })).to.equal(1);
    expect(delta("providers_api_requests_total", { operation: "graphql.unauthenticated", outcome: "UNAUTHENTICATED" })).to.equal(1);
    // The parser folds a labelled histogram's series together, so latencies are checked for their family only.
    expect(after.get("providers_api_request_duration_seconds")?.type).to.equal("HISTOGRAM");
    expect(after.get("providers_api_sts_call_duration_seconds")?.type).to.equal("HISTOGRAM");
    expect(delta("providers_api_sts_retries_total", { operation: "AssumeRole" })).to.be.at.least(1);
    expect(delta("providers_api_sts_failures_total", { operation: "AssumeRole", kind: "UNAVAILABLE" })).to.equal(1);
    expect(delta("providers_api_authentication_failures_total")).to.equal(1);
    for (const gauge of ["providers_api_db_pool_in_use", "providers_api_db_pool_idle", "providers_api_db_pool_waiting"]) {
      expect(after.get(gauge)?.type).to.equal("GAUGE");
    }
    // Process metrics come along.
    expect(sample(after, "providers_api_process_resident_memory_bytes")).to.be.greaterThan(0);
  });

  it("holds nothing a caller could use, and a caller cannot grow its label space", async () => {
    const { key } = await roleOrg();
    await ok(key, DEPLOY, { input: TARGET });
    // Hostile: client-chosen operation names and aliases never become labels.
    for (let i = 0; i < 20; i++) {
      await gql(key, `query Probe${i}Secret { a${i}: viewer { __typename } b: viewer { __typename } }`);
    }
    await gql(key, `query { nope${"x".repeat(50)} }`);
    const { text, families } = await scrape();
    for (const forbidden of [key, "111111111111", "Probe", "nope", "Secret"]) expect(text, forbidden).to.not.include(forbidden);
    const labelValues = [...families.values()].flatMap((family) => family.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    for (const name of ["acme", "app1", "service1", "dev", "prod", "us-east-1"]) expect(labelValues, name).to.not.include(name);
    const operations = [...new Set(families.get("providers_api_requests_total")!.metrics.map((m) => m.labels!.operation))];
    expect(operations).to.include.members(["query.viewer", "mutation.deploymentCredentials", "invalid"]);
    // Only names the schema defines (or "invalid"), whatever the callers sent.
    for (const operation of operations) expect(operation).to.match(/^(invalid|graphql(\.unauthenticated)?|\/[\w/:.-]+|other|(query|mutation)\.[A-Za-z_]+)$/);
  });

  it("answers scrapes while deployments exceed the pool and STS hangs", async () => {
    const { key } = await roleOrg();
    sts().hang = true;
    const deployments = Array.from({ length: harness().config.databasePoolSize + 5 }, () => gql(key, DEPLOY, { input: TARGET }));
    // Every deployment reaches STS (none holds a connection while it waits), and scrapes still answer.
    while (sts().inFlight < harness().config.databasePoolSize + 5) await new Promise((resolve) => setTimeout(resolve, 20));
    const { families } = await scrape();
    expect(sample(families, "providers_api_db_pool_waiting")).to.equal(0);
    sts().release();
    for (const result of await Promise.all(deployments)) expect(result.errors).to.equal(undefined);
  });
});

describe("request logs", () => {
  it("one JSON line per request: the caller's request id (echoed back), operation, key id, org, duration, outcome — never the key", async () => {
    const { key } = await roleOrg();
    harness().logs.length = 0;
    const response = await fetch(`${harness().url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-request-id": "ci-run-42.step_7" },
      body: JSON.stringify({ query: DEPLOY, variables: { input: TARGET }, operationName: null }),
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get("x-request-id")).to.equal("ci-run-42.step_7");
    await new Promise((resolve) => setImmediate(resolve));
    const lines = logLines();
    const requests = lines.filter((line) => line.event === "request" && line.requestId === "ci-run-42.step_7");
    expect(requests).to.have.length(1);
    const [line] = requests;
    expect(line).to.include({ operation: "mutation.deploymentCredentials", outcome: "OK", status: 200, method: "POST", path: "/graphql" });
    expect(line.keyId).to.be.a("string");
    expect(line.orgId).to.be.a("string");
    expect(line.durationMs).to.be.a("number").and.to.be.at.least(0);
    const issuance = lines.filter((l) => l.event === "credentials" && l.requestId === "ci-run-42.step_7");
    expect(issuance).to.have.length(1);
    expect(issuance[0]).to.include({ outcome: "ISSUED", source: "SERVICE", type: "AWS", stage: "prod", app: "app1", service: "service1" });
    const all = harness().logs.join("");
    expect(all).to.not.include(key);
    expect(all).to.not.include(key.slice(4, 30));
  });

  it("a refusal is a warn line with its code; a request id that is not a plain token is replaced", async () => {
    const { key } = await roleOrg();
    harness().logs.length = 0;
    for (const hostile of ["has space", "x".repeat(129), "semi;colon", "a\"b"]) {
      const response = await fetch(`${harness().url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-request-id": hostile },
        body: JSON.stringify({ query: DEPLOY, variables: { input: { ...TARGET, org: "globex" } } }),
      });
      const id = response.headers.get("x-request-id")!;
      expect(id).to.not.equal(hostile);
      expect(id).to.match(/^[0-9a-f-]{36}$/);
    }
    await new Promise((resolve) => setImmediate(resolve));
    const refusals = logLines().filter((l) => l.event === "credentials");
    expect(refusals).to.have.length(4);
    for (const line of refusals) expect(line).to.include({ outcome: "DENIED", code: "NOT_FOUND", level: 40 });
    expect(harness().logs.join("")).to.not.include("has space");
  });
});
