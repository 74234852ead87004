import type { Child } from "../lib/child.js";
import { fmt, type Section } from "../lib/env.js";
import type { LoadResult } from "../lib/load.js";
import { body, DEPLOY } from "../lib/queries.js";

const ROLE_ARN = "arn:aws:iam::222222222222:role/bench";
const SLUG = "deploy";
export const deployTarget = { org: SLUG, app: "bench", service: "api", region: "us-east-1" };
let key = "";
/** Statements the API runs for one request, counted before any load (in-flight requests would add theirs). */
let statements = 0;
let baseline: Child;

/** The deploy org's admin key, once set up: its default provider is an AWS role the loopback STS trusts. */
export const deployKey = () => key;

const spread = () => {
  let n = 0;
  // 20 stages: concurrent deployments of different instances, as 20 CI pipelines would make.
  return () => body(DEPLOY, { input: { ...deployTarget, stage: `s${n++ % 20}`, type: "AWS" } });
};
const oneInstance = body(DEPLOY, { input: { ...deployTarget, stage: "prod", type: "AWS" } });

/** deploymentCredentials for an AWS role against a direct AssumeRole on the same loopback STS, also with STS answering in 200 ms. */
export const deploy: Section = {
  name: "deploy",
  async setup(env) {
    const org = await env.org(SLUG);
    key = org.key;
    const orgGlobalId = Buffer.from(`Org:${org.id}`).toString("base64url");
    const created = await env.graphql(
      key,
      `mutation($org: ID!) { createProvider(input: { orgId: $org, name: "bench", aws: { role: { roleArn: "${ROLE_ARN}" } } }) {
        provider { id credentials { ... on AwsRoleCredentials { externalId } } } userErrors { message } } }`,
      { org: orgGlobalId },
    );
    const provider = created.createProvider.provider;
    await env.graphql(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: provider.id });
    await env.sts.call("addRole", { roleArn: ROLE_ARN, externalId: provider.credentials.externalId });
    baseline = await env.start("sts-direct", "baselines/sts-direct.js", { BASELINE_ROLE_ARN: ROLE_ARN, BASELINE_EXTERNAL_ID: provider.credentials.externalId });
    const check = await env.graphql(key, DEPLOY, { input: { ...deployTarget, stage: "prod", type: "AWS" } });
    statements = await env.statementsOf(() => env.graphql(key, DEPLOY, { input: { ...deployTarget, stage: "s1", type: "AWS" } }));
    if (!check.deploymentCredentials.credentials?.accessKeyId) throw new Error(`deploymentCredentials failed: ${JSON.stringify(check)}`);
  },
  async round(env) {
    const headers = { authorization: `Bearer ${key}` };
    const d = env.seconds;
    const results: Record<string, LoadResult> = {
      apiC1: await env.load(env.api.url, { connections: 1, duration: d, headers, bodies: spread() }),
      baseC1: await env.load(baseline.url, { connections: 1, duration: d, body: "{}" }, ""),
      apiC20: await env.load(env.api.url, { connections: 20, duration: d, headers, bodies: spread() }),
      baseC20: await env.load(baseline.url, { connections: 20, duration: d, body: "{}" }, ""),
    };
    await env.sts.call("delay", 200);
    try {
      results.apiSlow = await env.load(env.api.url, { connections: 20, duration: d, headers, bodies: spread() });
      results.apiSlowOne = await env.load(env.api.url, { connections: 20, duration: d, headers, body: oneInstance });
      results.baseSlow = await env.load(baseline.url, { connections: 20, duration: d, body: "{}" }, "");
    } finally {
      await env.sts.call("delay", 0);
    }
    return results;
  },
  async report(env, m) {
    return [
      {
        path: "`deploymentCredentials`, AWS role, loopback STS, 1 connection",
        api: `${fmt.rps(m.apiC1)}, p50 ${m.apiC1.p50} ms, ${statements} statements`,
        baseline: `direct @aws-sdk/client-sts AssumeRole: ${fmt.rps(m.baseC1)}`,
        ratio: m.apiC1.rps / m.baseC1.rps,
        goal: { kind: "min", value: 0.5 },
      },
      {
        path: "the same, 20 connections (20 instances)",
        api: `${fmt.rps(m.apiC20)}, p99 ${m.apiC20.p99} ms`,
        baseline: `${fmt.rps(m.baseC20)}`,
        ratio: m.apiC20.rps / m.baseC20.rps,
        goal: { kind: "min", value: 0.5 },
      },
      {
        path: "the same, STS answering in 200 ms, 20 connections",
        api: `${fmt.rps(m.apiSlow)}, p99 ${m.apiSlow.p99} ms`,
        baseline: `${fmt.rps(m.baseSlow)} (ideal 100)`,
        ratio: m.apiSlow.rps / m.baseSlow.rps,
        goal: { kind: "min", value: 0.9 },
      },
      {
        path: "the same, all 20 connections deploying one instance",
        api: `${fmt.rps(m.apiSlowOne)}, p99 ${m.apiSlowOne.p99} ms`,
        baseline: `${fmt.rps(m.baseSlow)}`,
        ratio: m.apiSlowOne.rps / m.baseSlow.rps,
        goal: { kind: "min", value: 0.9 },
      },
    ];
  },
};
