import type { DataSource } from "typeorm";
import type { Child } from "./child.js";
import type { LoadOptions, LoadResult } from "./load.js";

/** What every section gets: the database, the running API and loopback STS, and how to load them. */
export interface BenchEnv {
  databaseUrl: string;
  /** The environment the API runs with (database, master key, STS): another copy of it can be started. */
  apiEnv: NodeJS.ProcessEnv;
  /** For seeding (the API has migrated the database before any section runs). */
  dataSource: DataSource;
  api: Child;
  sts: Child;
  /** Seconds per load run. */
  seconds: number;
  /** Starts a baseline (or any other server) in its own process; stopped at the end of the run. */
  start(name: string, script: string, env?: NodeJS.ProcessEnv): Promise<Child>;
  /** A GraphQL request to the API; throws on errors. */
  graphql(key: string, query: string, variables?: object): Promise<any>;
  /** The statements the API ran for one call of `fn`. */
  statementsOf(fn: () => Promise<unknown>): Promise<number>;
  /** Loads `${url}/graphql` (or the URL as given when `path` is ""). */
  load(url: string, options: Omit<LoadOptions, "url">, path?: string): Promise<LoadResult>;
  /** Creates an org with an admin key. */
  org(slug: string): Promise<{ id: string; key: string }>;
}

export interface Goal {
  /** "min": the ratio must be at least `value` (throughput); "max": at most (latency, memory, time). */
  kind: "min" | "max";
  value: number;
}

export interface Row {
  path: string;
  api: string;
  baseline: string;
  ratio: number;
  goal: Goal;
}

export interface Section {
  name: string;
  /** Seeds data and starts baselines. */
  setup?(env: BenchEnv): Promise<void>;
  /** One round of load; results by key. Each key's median over the rounds goes to `report`. */
  round?(env: BenchEnv, round: number): Promise<Record<string, LoadResult>>;
  /** The table's rows; sections without rounds do their measuring here. */
  report(env: BenchEnv, medians: Record<string, LoadResult>): Promise<Row[]>;
}

export const fmt = {
  rps: (r: LoadResult) => {
    const cpu = r.cpuMs === undefined || Number.isNaN(r.cpuMs) ? "" : `${r.cpuMs.toFixed(2)} ms CPU`;
    const db = r.dbCpuMs === undefined || Number.isNaN(r.dbCpuMs) ? "" : `${r.dbCpuMs.toFixed(2)} ms PostgreSQL`;
    return `${r.rps.toFixed(r.rps < 100 ? 1 : 0)} req/s${cpu || db ? ` (${[cpu, db].filter(Boolean).join(" + ")} each)` : ""}`;
  },
  lat: (r: LoadResult) => `p50 ${r.p50} ms, p99 ${r.p99} ms`,
  mb: (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`,
};
