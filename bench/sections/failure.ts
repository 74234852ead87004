import { fmt, type BenchEnv, type Section } from "../lib/env.js";
import { body, DEPLOY, TRIVIAL } from "../lib/queries.js";

/*
 * Under failure: the trivial authenticated query while 50 deployments wait on an STS that does not
 * answer, beside the same query on the idle server, in the same round. A deployment holds no database
 * connection while STS answers, so the other callers should barely notice.
 */

const ROLE_ARN = "arn:aws:iam::333333333333:role/bench-failure";
const SLUG = "failure";
const WAITING = 50;
let key = "";
/** STS requests still held when each round's load ended: the deployments were waiting throughout. */
const heldAtEnd: number[] = [];

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting until ${what}`);
}

export const failure: Section = {
  name: "failure",
  async setup(env: BenchEnv) {
    const org = await env.org(SLUG);
    key = org.key;
    const created = await env.graphql(
      key,
      `mutation($org: ID!) { createProvider(input: { orgId: $org, name: "bench", aws: { role: { roleArn: "${ROLE_ARN}" } } }) {
        provider { id credentials { ... on AwsRoleCredentials { externalId } } } } }`,
      { org: Buffer.from(`Org:${org.id}`).toString("base64url") },
    );
    const provider = created.createProvider.provider;
    await env.graphql(key, `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: provider.id });
    await env.sts.call("addRole", { roleArn: ROLE_ARN, externalId: provider.credentials.externalId });
    if (env.seconds >= 9) console.log("  warning: the failure section's deployments give up after STS_TIMEOUT_MS (10 s); keep BENCH_SECONDS below 9");
  },
  async round(env) {
    const options = { connections: 20, duration: env.seconds, headers: { authorization: `Bearer ${key}` }, body: body(TRIVIAL) };
    const idle = await env.load(env.api.url, options);
    await env.sts.call("hang");
    let deployments: Array<Promise<unknown>> = [];
    try {
      deployments = Array.from({ length: WAITING }, (_, i) =>
        fetch(`${env.api.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: body(DEPLOY, { input: { org: SLUG, app: "bench", service: "api", stage: `s${i % 10}`, region: "us-east-1", type: "AWS" } }),
        }).then((response) => response.text()),
      );
      await until(`${WAITING} deployments wait on STS`, async () => (await env.sts.call<number>("inFlight")) >= WAITING);
      const failing = await env.load(env.api.url, options);
      heldAtEnd.push(await env.sts.call<number>("inFlight"));
      return { idle, failing };
    } finally {
      await env.sts.call("release");
      await Promise.allSettled(deployments);
    }
  },
  async report(_env, m) {
    return [
      {
        path: `Trivial query while ${WAITING} deployments wait on a hanging STS (requests/s), 20 connections`,
        api: `${fmt.rps(m.failing)}, p99 ${m.failing.p99} ms (STS requests still held at the end: ${heldAtEnd.join(", ")})`,
        baseline: `the same query on the idle server: ${fmt.rps(m.idle)}, p99 ${m.idle.p99} ms`,
        ratio: m.failing.rps / m.idle.rps,
        goal: { kind: "min", value: 0.8 },
      },
      {
        path: `Trivial query while ${WAITING} deployments wait on a hanging STS (p99 latency)`,
        api: `p99 ${m.failing.p99} ms`,
        baseline: `idle: p99 ${m.idle.p99} ms`,
        ratio: m.failing.p99 / Math.max(m.idle.p99, 1),
        goal: { kind: "max", value: 2 },
      },
    ];
  },
};
