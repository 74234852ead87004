import "reflect-metadata";
import os from "node:os";
import path from "node:path";
import { bootstrapOrg } from "../src/domain/bootstrap.js";
import type { Child } from "./lib/child.js";
import { load, median } from "./lib/load.js";
import { DEPLOY, postGraphql } from "./lib/queries.js";
import { withBenchStack } from "./lib/stack.js";

/*
 * Two builds of the API side by side, for a before/after pair on a machine shared with other work:
 *
 *   node dist/bench/side-by-side.js /path/to/before/worktree /path/to/after/worktree
 *
 * Both APIs (each worktree's own dist/bench/servers/api.js, built) run at once on one database
 * (migrated by this build: the two must agree on the schema) and one loopback STS, and the deployment
 * load alternates between them in short runs (SIDE_SECONDS, default 3, at 20 connections and at 1,
 * SIDE_ROUNDS rounds, default 8, the order swapped each round), so a burst of load from elsewhere hits
 * both alike. It prints each run's CPU per deployment and, per round, after/before: the median of those
 * ratios is the figure to quote. `npm run bench` runs one build at a time, minutes apart.
 */

const rounds = Number(process.env.SIDE_ROUNDS ?? 8);
const seconds = Number(process.env.SIDE_SECONDS ?? 3);
const ROLE_ARN = "arn:aws:iam::222222222222:role/bench";

async function main() {
  const trees = process.argv.slice(2);
  if (trees.length !== 2) throw new Error("usage: node dist/bench/side-by-side.js <before worktree> <after worktree>");
  await withBenchStack(async ({ dataSource, sts, apiEnv, start }) => {
    const apis: Child[] = [];
    for (const [i, tree] of trees.entries()) {
      const script = path.relative(path.join(__dirname), path.join(path.resolve(tree), "dist", "bench", "servers", "api.js"));
      apis.push(await start(i === 0 ? "before" : "after", script, apiEnv, ["--max-semi-space-size=4"]));
    }

    const { org, token: key } = await bootstrapOrg(dataSource.manager, "deploy", "deploy");
    const graphql = (query: string, variables: object) => postGraphql(apis[0].url, key, query, variables);
    const orgId = Buffer.from(`Org:${org.id}`).toString("base64url");
    const { provider } = (
      await graphql(
        `mutation($org: ID!) { createProvider(input: { orgId: $org, name: "bench", aws: { role: { roleArn: "${ROLE_ARN}" } } }) {
          provider { id credentials { ... on AwsRoleCredentials { externalId } } } } }`,
        { org: orgId },
      )
    ).createProvider;
    await graphql(`mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { userErrors { code } } }`, { id: provider.id });
    await sts.call("addRole", { roleArn: ROLE_ARN, externalId: provider.credentials.externalId });
    // The 20 instances exist before any load: every run measures redeployments, as the bench's rounds after its first do.
    const target = { org: "deploy", app: "bench", service: "api", region: "us-east-1", type: "AWS" };
    for (let stage = 0; stage < 20; stage++) await graphql(DEPLOY, { input: { ...target, stage: `s${stage}` } });
    let n = 0;
    const bodies = () => JSON.stringify({ query: DEPLOY, variables: { input: { ...target, stage: `s${n++ % 20}` } } });
    const headers = { authorization: `Bearer ${key}` };
    const run = async (api: Child, connections: number, duration: number) => {
      const before = await api.call<number>("cpu");
      const result = await load({ url: `${api.url}/graphql`, connections, duration, headers, bodies });
      const cpuMs = ((await api.call<number>("cpu")) - before) / 1000 / Math.max(1, result.total);
      // The requests still in flight at the deadline finish before the other API's run.
      await new Promise((resolve) => setTimeout(resolve, 400));
      if (result.errors > 0) console.log(`  warning: ${result.errors} failed requests on ${api.name}`);
      return { cpuMs, rps: result.rps };
    };
    for (const api of apis) await run(api, 20, 2); // warm-up: JIT, pools, prepared statements

    const cpu: Record<string, number[]> = {};
    for (let round = 0; round < rounds; round++) {
      for (const connections of [20, 1]) {
        for (const api of round % 2 ? [...apis].reverse() : apis) {
          const { cpuMs, rps } = await run(api, connections, seconds);
          (cpu[`${api.name} c${connections}`] ??= []).push(cpuMs);
          console.log(`round ${round} ${api.name.padEnd(6)} ${connections} connection(s): ${rps.toFixed(1)} req/s, ${cpuMs.toFixed(2)} ms CPU each (load average ${os.loadavg()[0].toFixed(1)})`);
        }
      }
    }
    for (const connections of [20, 1]) {
      const before = cpu[`before c${connections}`];
      const after = cpu[`after c${connections}`];
      const ratios = after.map((ms, i) => ms / before[i]);
      console.log(
        `${connections} connection(s): CPU per deployment, medians ${median(before).toFixed(2)} → ${median(after).toFixed(2)} ms; after/before by round ${ratios.map((r) => r.toFixed(2)).join(" ")}, median ${median(ratios).toFixed(2)}`,
      );
    }
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
