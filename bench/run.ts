import "reflect-metadata";
import os from "node:os";
import path from "node:path";
import { bootstrapOrg } from "../src/domain/bootstrap.js";
import type { Child } from "./lib/child.js";
import { fmt, type BenchEnv, type Row } from "./lib/env.js";
import { load, median, type LoadResult } from "./lib/load.js";
import { postgresCpuMs } from "./lib/postgres-cpu.js";
import { postGraphql } from "./lib/queries.js";
import { withBenchStack } from "./lib/stack.js";
import { sections } from "./sections/index.js";

/*
 * `npm run bench`: providers-api and its baselines, side by side in one run on this machine, each
 * server in its own process, loaded over loopback by autocannon for BENCH_SECONDS (default 4) per run,
 * BENCH_ROUNDS (default 3) rounds; the table shows each key's median over the rounds and the ratio
 * to its baseline. The API's resident memory is printed after each round. Nothing here asserts a time.
 *
 *   BENCH_ONLY=trivial,dashboard   run some sections (names in bench/sections/index.ts)
 *   BENCH_CPU_PROF=dir             write the API's CPU profile (node --cpu-prof) to dir
 */

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());

const goalText = (row: Row) => `${row.goal.kind === "min" ? "≥" : "≤"} ${row.goal.value}×`;
const met = (row: Row) => (row.goal.kind === "min" ? row.ratio >= row.goal.value : row.ratio <= row.goal.value);

async function main() {
  await withBenchStack(async ({ database, dataSource, sts, apiEnv, start, children }) => {
    // CPU time per request is far steadier than throughput on a machine shared with other work.
    const cpuOf = (url: string) => children.find((c) => c.url === url)?.call<number>("cpu");
    const profileDir = process.env.BENCH_CPU_PROF;
    const api = await start(
      "providers-api",
      "servers/api.js",
      apiEnv,
      // --expose-gc: between rounds the bench collects garbage before reading what the server retains.
      // The young generation's size operators are told to use (docs/operations.md, `npm start`); BENCH_API_FLAGS to try others.
      ["--expose-gc", ...(process.env.BENCH_API_FLAGS ?? "--max-semi-space-size=4").split(" ").filter(Boolean), ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profileDir)}`] : [])],
    );
    // autocannon stops at the deadline with requests still in flight; the next run must not share the
    // server with them. Settled: the API ran no statement for 300 ms.
    const settle = async () => {
      for (let last = -1, count = await api.call<number>("statements"); count !== last; ) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        [last, count] = [count, await api.call<number>("statements")];
      }
    };
    const env: BenchEnv = {
      databaseUrl: database.url,
      apiEnv,
      dataSource,
      api,
      sts,
      seconds,
      start: (name, script, childEnv) => start(name, script, childEnv),
      graphql: (key, query, variables = {}) => postGraphql(api.url, key, query, variables),
      async statementsOf(fn) {
        await fn(); // settles one-off writes such as a key's last use
        const before = await api.call<number>("statements");
        await fn();
        return (await api.call<number>("statements")) - before;
      },
      async load(url, options, urlPath = "/graphql") {
        const cpuBefore = await cpuOf(url);
        const dbBefore = postgresCpuMs();
        const result = await load({ ...options, url: `${url}${urlPath}` });
        const dbAfter = postgresCpuMs();
        const cpuAfter = await cpuOf(url);
        if (cpuBefore !== undefined && cpuAfter !== undefined && result.total > 0) result.cpuMs = (cpuAfter - cpuBefore) / 1000 / result.total;
        if (dbBefore !== undefined && dbAfter !== undefined && result.total > 0) result.dbCpuMs = (dbAfter - dbBefore) / result.total;
        if (result.errors > 0) console.log(`  warning: ${result.errors} failed requests loading ${url}${urlPath}`);
        await settle();
        return result;
      },
      async org(slug) {
        const { org, token } = await bootstrapOrg(dataSource.manager, slug, slug);
        return { id: org.id, key: token };
      },
    };

    const chosen = sections.filter((s) => !only || only.includes(s.name));
    for (const section of chosen) {
      console.log(`setting up ${section.name}`);
      await section.setup?.(env);
    }
    type Memory = { rss: number; rssRightAfterGc: number; peak: number; heapUsed: number; heapTotal: number; external: number };
    const before = await api.call<Memory>("collected");
    await api.call("resetPeak");
    console.log(`API before load: RSS ${fmt.mb(before.rss)} (${fmt.mb(before.rssRightAfterGc)} right after a full GC), V8 heap ${fmt.mb(before.heapUsed)} used`);
    const results = new Map<string, Array<Record<string, LoadResult>>>();
    const afterRounds: number[] = [];
    const heapAfterRounds: number[] = [];
    const rightAfterGcRounds: number[] = [];
    const loaded = chosen.filter((s) => s.round);
    // The peak of each section's load, so the peak row can say which load made it.
    let peak = 0;
    const peakBySection = new Map<string, number>();
    for (let round = 1; loaded.length > 0 && round <= rounds; round++) {
      for (const section of loaded) {
        await api.call("resetPeak");
        const r = await section.round!(env, round);
        const sectionPeak = (await api.rss()).peak;
        peak = Math.max(peak, sectionPeak);
        peakBySection.set(section.name, Math.max(peakBySection.get(section.name) ?? 0, sectionPeak));
        results.set(section.name, [...(results.get(section.name) ?? []), r]);
        console.log(
          `round ${round} ${section.name}: ${Object.entries(r).map(([k, v]) => `${k} ${v.rps.toFixed(1)} req/s ${v.cpuMs?.toFixed(2) ?? "?"} ms CPU${v.dbCpuMs === undefined ? "" : ` + ${v.dbCpuMs.toFixed(2)} ms PostgreSQL`}`).join(", ")}; ` +
            `API peak RSS ${fmt.mb(sectionPeak)}`,
        );
      }
      const loadedRss = (await api.rss()).rss;
      const { rss, rssRightAfterGc, heapUsed, heapTotal, external } = await api.call<Memory>("collected");
      afterRounds.push(rss);
      heapAfterRounds.push(heapUsed);
      rightAfterGcRounds.push(rssRightAfterGc);
      console.log(
        `round ${round}: API RSS ${fmt.mb(loadedRss)} at the end of the load, ${fmt.mb(rssRightAfterGc)} right after a full GC, ` +
          `${fmt.mb(rss)} once V8 released the freed pages (V8 heap ${fmt.mb(heapUsed)} used of ${fmt.mb(heapTotal)}, ${fmt.mb(external)} outside it)`,
      );
    }
    const rows: Row[] = [];
    for (const section of chosen) {
      const perRound = results.get(section.name) ?? [];
      const medians: Record<string, LoadResult> = {};
      for (const key of Object.keys(perRound[0] ?? {})) {
        const all = perRound.map((r) => r[key]);
        medians[key] = {
          rps: median(all.map((r) => r.rps)),
          p50: median(all.map((r) => r.p50)),
          p99: median(all.map((r) => r.p99)),
          errors: all.reduce((n, r) => n + r.errors, 0),
          total: all.reduce((n, r) => n + r.total, 0),
          cpuMs: median(all.map((r) => r.cpuMs ?? NaN)),
          dbCpuMs: median(all.map((r) => r.dbCpuMs ?? NaN)),
        };
      }
      rows.push(...(await section.report(env, medians)));
    }
    if (afterRounds.length > 0) {
      const after = afterRounds[afterRounds.length - 1];
      rows.push({
        path: "Server memory (RSS once a full GC's pages are released) under these loads: after / before",
        api:
          `before ${fmt.mb(before.rss)}, after each round ${afterRounds.map(fmt.mb).join(" → ")} (right after the GC: ${[before.rssRightAfterGc, ...rightAfterGcRounds].map(fmt.mb).join(" → ")}; ` +
          `V8 heap used ${[before.heapUsed, ...heapAfterRounds].map(fmt.mb).join(" → ")})`,
        baseline: "—",
        ratio: after / before.rss,
        goal: { kind: "max", value: 1.2 },
      });
      rows.push({
        path: "Server memory: peak RSS during the rounds / 250 MB",
        api: `peak ${fmt.mb(peak)} (by load: ${[...peakBySection].map(([name, p]) => `${name} ${fmt.mb(p)}`).join(", ")})`,
        baseline: "—",
        ratio: peak / (250 * 1024 * 1024),
        goal: { kind: "max", value: 1 },
      });
    }

    const cpus = os.cpus();
    const [{ server_version: pgVersion }] = await dataSource.query("SHOW server_version");
    console.log(
      `\n${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${fmt.mb(os.totalmem())} memory, Node ${process.version}, ` +
        `PostgreSQL ${pgVersion}; ${seconds} s per run, ${rounds} rounds, medians\n`,
    );
    console.log("| Path | providers-api | Baseline, same machine and database | Ratio | Goal | Met |");
    console.log("|---|---|---|---|---|---|");
    for (const row of rows) {
      console.log(`| ${row.path} | ${row.api} | ${row.baseline} | ${row.ratio.toFixed(2)}× | ${goalText(row)} | ${met(row) ? "yes" : "**no**"} |`);
    }
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
