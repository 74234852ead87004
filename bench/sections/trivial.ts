import type { Child } from "../lib/child.js";
import { fmt, type BenchEnv, type Section } from "../lib/env.js";
import { body, TRIVIAL } from "../lib/queries.js";

let key = "";
/** Statements the API runs for one request, counted before any load (in-flight requests would add theirs). */
let statements = 0;
let bare: Child;
let oneSelect: Child;

/** `{ viewer { __typename } }` with a valid key, against the bare stack without and with one SELECT. */
export const trivial: Section = {
  name: "trivial",
  async setup(env: BenchEnv) {
    key = (await env.org("trivial")).key;
    bare = await env.start("apollo-bare", "baselines/apollo-bare.js");
    oneSelect = await env.start("apollo-one-select", "baselines/apollo-bare.js", { BASELINE_DATABASE_URL: env.databaseUrl });
    statements = await env.statementsOf(() => env.graphql(key, TRIVIAL));
  },
  async round(env) {
    const options = { connections: 20, duration: env.seconds, headers: { authorization: `Bearer ${key}` }, body: body(TRIVIAL) };
    return {
      api: await env.load(env.api.url, options),
      bare: await env.load(bare.url, options),
      oneSelect: await env.load(oneSelect.url, options),
    };
  },
  async report(env, m) {
    return [
      {
        path: "Trivial authenticated query `{ viewer { __typename } }`, 20 connections",
        api: `${fmt.rps(m.api)}, p99 ${m.api.p99} ms, ${statements} statement(s)`,
        baseline: `Apollo Server 5 + type-graphql + one indexed SELECT: ${fmt.rps(m.oneSelect)} (no DB: ${fmt.rps(m.bare)}, ${(m.api.rps / m.bare.rps).toFixed(2)}×)`,
        ratio: m.api.rps / m.oneSelect.rps,
        goal: { kind: "min", value: 0.8 },
      },
    ];
  },
};
