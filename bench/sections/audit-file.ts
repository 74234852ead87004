import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Child } from "../lib/child.js";
import { fmt, type Section } from "../lib/env.js";
import type { LoadResult } from "../lib/load.js";
import { body, DEPLOY } from "../lib/queries.js";
import { deployKey, deployTarget } from "./deploy.js";

let withFile: Child;
let plain: Child;
let dir = "";

const spread = () => {
  let n = 0;
  return () => body(DEPLOY, { input: { ...deployTarget, stage: `a${n++ % 20}`, type: "AWS" } });
};

/**
 * The cost of AUDIT_LOG_FILE: deploymentCredentials on two fresh copies of the API (same database, same
 * STS), one of which also appends every audit event to a file.
 * Needs the deploy section's org (run together: BENCH_ONLY=deploy,audit-file).
 */
export const auditFile: Section = {
  name: "audit-file",
  async setup(env) {
    if (!deployKey()) throw new Error("the audit-file section needs the deploy section's org: BENCH_ONLY=deploy,audit-file");
    dir = await mkdtemp(path.join(os.tmpdir(), "providers-bench-audit-"));
    // Two fresh copies, alike but for the file, so neither is warmer than the other (the main API has
    // run every other section), loaded in turn, in alternating order.
    plain = await env.start("providers-api (no audit file)", "servers/api.js", env.apiEnv);
    withFile = await env.start("providers-api+audit-file", "servers/api.js", { ...env.apiEnv, AUDIT_LOG_FILE: path.join(dir, "audit.jsonl") });
  },
  async round(env, round) {
    const headers = { authorization: `Bearer ${deployKey()}` };
    const d = env.seconds;
    const run = (server: Child) => env.load(server.url, { connections: 20, duration: d, headers, bodies: spread() });
    if (round % 2 === 1) {
      const first = await run(plain);
      return { plain: first, file: await run(withFile) };
    }
    const file = await run(withFile);
    return { file, plain: await run(plain) };
  },
  async report(_env, m: Record<string, LoadResult>) {
    await rm(dir, { recursive: true, force: true });
    return [
      {
        path: "`deploymentCredentials` with AUDIT_LOG_FILE, 20 connections (a few percent at most)",
        api: `with the file: ${fmt.rps(m.file)}, p99 ${m.file.p99} ms`,
        baseline: `without: ${fmt.rps(m.plain)}, p99 ${m.plain.p99} ms`,
        ratio: m.file.rps / m.plain.rps,
        goal: { kind: "min", value: 0.95 },
      },
    ];
  },
};
