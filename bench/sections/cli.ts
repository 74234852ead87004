import { spawnSync } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Section } from "../lib/env.js";
import { median } from "../lib/load.js";
import { deployKey, deployTarget } from "./deploy.js";

const DIST = path.join(__dirname, "..", "..");
const RUNS = 7;

/** Wall time of one process run to its end, in ms; throws if it fails. */
function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return ms;
}

/** `providers-api credentials` (the credential_process) against a 10-line fetch script and `node -e 0`. */
export const cli: Section = {
  name: "cli",
  async report(env) {
    if (!deployKey()) throw new Error("the cli section needs the deploy section");
    const clientEnv = { PROVIDERS_API_URL: env.api.url, PROVIDERS_API_KEY: deployKey() };
    const target = [deployTarget.org, deployTarget.app, deployTarget.service, "prod", deployTarget.region];
    const runs = { cli: [] as number[], help: [] as number[], fetch: [] as number[], node: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      runs.cli.push(
        timed(
          [path.join(DIST, "src", "cli.js"), "credentials", "--org", target[0], "--app", target[1], "--service", target[2], "--stage", target[3], "--region", target[4]],
          clientEnv,
        ),
      );
      runs.help.push(timed([path.join(DIST, "src", "cli.js"), "--help"], {}));
      runs.fetch.push(timed([path.join(DIST, "bench", "baselines", "fetch-credentials.js"), ...target], clientEnv));
      runs.node.push(timed(["-e", "0"], {}));
    }
    const [cliMs, helpMs, fetchMs, nodeMs] = [median(runs.cli), median(runs.help), median(runs.fetch), median(runs.node)];
    return [
      {
        path: "`providers-api credentials` (credential_process), per call",
        api: `${cliMs.toFixed(0)} ms (\`--help\` alone ${helpMs.toFixed(0)} ms)`,
        baseline: `10-line fetch script: ${fetchMs.toFixed(0)} ms; \`node -e 0\`: ${nodeMs.toFixed(0)} ms`,
        ratio: cliMs / fetchMs,
        goal: { kind: "max", value: 1.5 },
      },
    ];
  },
};
