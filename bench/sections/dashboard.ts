import { COMPILE_AFTER_RUNS } from "../../src/http/execution.js";
import type { Child } from "../lib/child.js";
import { fmt, type Section } from "../lib/env.js";
import { body, DASHBOARD } from "../lib/queries.js";
import { seedTree } from "../lib/seed.js";

let key = "";
/** Statements the API runs for one request, counted before any load (in-flight requests would add theirs). */
let statements = 0;
let baseline: Child;
const SLUG = "dashboard";

async function text(url: string, requestBody: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: requestBody,
  });
  return response.text();
}

/** The dashboard page (5 apps × 10 services × 10 instances with their effective providers) against one SQL statement. */
export const dashboard: Section = {
  name: "dashboard",
  async setup(env) {
    const org = await env.org(SLUG);
    key = org.key;
    await seedTree(env.dataSource, org.id, 5, 10, 10);
    baseline = await env.start("dashboard-sql", "baselines/dashboard-sql.js", { BASELINE_DATABASE_URL: env.databaseUrl });
    const request = body(DASHBOARD, { slug: SLUG });
    const theirs = await text(baseline.url, request);
    // The API compiles a query document once it comes back: its first answers and a compiled one must all match.
    let ours = "";
    for (let run = 0; run <= COMPILE_AFTER_RUNS; run++) {
      ours = await text(env.api.url, request);
      if (ours !== theirs) {
        const at = [...ours].findIndex((c, i) => c !== theirs[i]);
        throw new Error(`the dashboard baseline's JSON differs from the API's (run ${run + 1}) at byte ${at}: API …${ours.slice(at - 80, at + 80)}… baseline …${theirs.slice(at - 80, at + 80)}…`);
      }
    }
    statements = await env.statementsOf(() => env.graphql(key, DASHBOARD, { slug: SLUG }));
    if ((ours.match(/"stage"/g) ?? []).length !== 500) throw new Error("the dashboard page should show 500 instances");
  },
  async round(env) {
    const options = { connections: 20, duration: env.seconds, headers: { authorization: `Bearer ${key}` }, body: body(DASHBOARD, { slug: SLUG }) };
    return { api: await env.load(env.api.url, options), baseline: await env.load(baseline.url, options) };
  },
  async report(env, m) {
    return [
      {
        path: "Dashboard page, 500 instances with `effectiveProvider { source provider { name } }`, 20 connections",
        api: `${fmt.rps(m.api)}, p50 ${m.api.p50} ms, ${statements} statements`,
        baseline: `node:http + pg, one SQL, byte-identical JSON: ${fmt.rps(m.baseline)}, p50 ${m.baseline.p50} ms`,
        ratio: m.api.rps / m.baseline.rps,
        goal: { kind: "min", value: 0.5 },
      },
    ];
  },
};
