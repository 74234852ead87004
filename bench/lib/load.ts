import autocannon from "autocannon";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests answered in the run. */
  total: number;
  /** The server process's CPU time per answered request, in ms (its database's not included). */
  cpuMs?: number;
  /** PostgreSQL's CPU time per answered request, in ms (every postgres process on the machine; see bench/lib/postgres-cpu.ts). */
  dbCpuMs?: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds; bounded so a bench run stays a few minutes. */
  duration: number;
  headers?: Record<string, string>;
  /** A GraphQL-style JSON body, the same for every request... */
  body?: string;
  /** ...or a new one per request (e.g. to spread deployments over several instances). */
  bodies?: () => string;
}

/** Loads a loopback URL with autocannon for a bounded time; non-2xx answers and socket errors count as errors. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error(`the bench only loads loopback servers, not ${url.hostname}`);
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: options.body,
    requests: options.bodies ? [{ method: "POST", setupRequest: (req: any) => ({ ...req, body: options.bodies!() }) }] : undefined,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
