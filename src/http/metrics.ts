import http from "node:http";
import type { RequestHandler } from "express";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DataSource } from "typeorm";
import { poolOf, type PgPoolState } from "../db/data-source.js";
import type { StsObservation } from "../aws/sts.js";
import type { DomainObserver, IssuanceObservation } from "../domain/observer.js";

/*
 * The process's Prometheus metrics. Labels take values from closed sets only (root fields of the
 * schema, error codes of our own, provider types and sources), never anything a caller chooses
 * freely or could use: no org, key, provider or stage names, so a scrape shows how the server
 * behaves and nothing about whose credentials it holds, and a caller cannot grow the label space.
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];


export class Metrics implements DomainObserver {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: "providers_api_requests_total",
    help: "API requests by operation (the root field asked for, or the HTTP route) and outcome (OK or the error code).",
    labelNames: ["operation", "outcome"] as const,
    registers: [this.registry],
  });

  private readonly requestDuration = new Histogram({
    name: "providers_api_request_duration_seconds",
    help: "Time from a request's arrival to its answer's last byte, by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly issuances = new Counter({
    name: "providers_api_credentials_total",
    help: "Deployment credential requests by provider type, where the provider came from (NONE: no provider applied) and outcome (ISSUED, LOCAL, DENIED, FAILED).",
    labelNames: ["type", "source", "outcome"] as const,
    registers: [this.registry],
  });

  private readonly stsDuration = new Histogram({
    name: "providers_api_sts_call_duration_seconds",
    help: "STS calls, retries included, by operation and outcome (OK or the failure kind).",
    labelNames: ["operation", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly stsRetries = new Counter({
    name: "providers_api_sts_retries_total",
    help: "STS attempts beyond the first of each call (throttling and transient failures), by operation.",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  private readonly stsFailures = new Counter({
    name: "providers_api_sts_failures_total",
    help: "STS calls that failed after their retries, by operation and failure kind.",
    labelNames: ["operation", "kind"] as const,
    registers: [this.registry],
  });

  private readonly authFailures = new Counter({
    name: "providers_api_authentication_failures_total",
    help: "Requests refused because their access key was missing, unknown, revoked or expired.",
    registers: [this.registry],
  });

  private readonly authThrottled = new Counter({
    name: "providers_api_authentication_throttled_total",
    help: "Requests refused (429) because their address failed to authenticate too often.",
    registers: [this.registry],
  });

  private readonly executions = new Counter({
    name: "providers_api_graphql_executions_total",
    help: "GraphQL operations run, by executor: sql (one statement, for a query document that came back and fits the SQL path), compiled (graphql-jit, for one that came back) or interpreted (graphql-js).",
    labelNames: ["executor"] as const,
    registers: [this.registry],
  });

  /*
   * The series each request adds to, by operation and outcome (closed sets, so the map stays small):
   * looked up once, rather than prom-client hashing the labels on every request.
   */
  private readonly requestSeries = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<"operation" | "outcome"> }>();
  private readonly executionSeries = new Map<string, Counter.Internal>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "providers_api_" });
  }

  /** Pool gauges read the pool when scraped. Called once the data source is initialized. */
  watchPool(dataSource: DataSource): void {
    const gauge = (name: string, help: string, read: (p: PgPoolState) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = poolOf(dataSource);
          this.set(p ? read(p) : 0);
        },
      });
    gauge("providers_api_db_pool_in_use", "Database connections lent to a request right now.", (p) => p.totalCount - p.idleCount);
    gauge("providers_api_db_pool_idle", "Open database connections waiting for work.", (p) => p.idleCount);
    gauge("providers_api_db_pool_waiting", "Requests waiting for a database connection.", (p) => p.waitingCount);
  }

  request(operation: string, outcome: string, seconds: number): void {
    const key = `${operation} ${outcome}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = { count: this.requests.labels({ operation, outcome }), duration: this.requestDuration.labels({ operation, outcome }) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  credentials(observation: IssuanceObservation): void {
    this.issuances.inc({ type: observation.type, source: observation.source ?? "NONE", outcome: observation.outcome });
  }

  sts(observation: StsObservation): void {
    const outcome = observation.failure ?? "OK";
    this.stsDuration.observe({ operation: observation.operation, outcome }, observation.seconds);
    if (observation.attempts > 1) this.stsRetries.inc({ operation: observation.operation }, observation.attempts - 1);
    // The label stays "kind" (dashboards and alerts query it); in the code it is the failure's reason.
    if (observation.failure) this.stsFailures.inc({ operation: observation.operation, kind: observation.failure });
  }

  execution(executor: "sql" | "compiled" | "interpreted"): void {
    let series = this.executionSeries.get(executor);
    if (!series) this.executionSeries.set(executor, (series = this.executions.labels({ executor })));
    series.inc();
  }

  authenticationFailed(): void {
    this.authFailures.inc();
  }

  authenticationThrottled(): void {
    this.authThrottled.inc();
  }

  /** /metrics alone on a port of its own (METRICS_PORT), so it can stay inside the network. */
  async listen(port: number, host: string): Promise<http.Server> {
    const server = http.createServer(async (req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("Only GET /metrics is served on this port.\n");
        return;
      }
      try {
        const body = await this.registry.metrics();
        res.writeHead(200, { "Content-Type": this.registry.contentType, "Cache-Control": "no-store" }).end(body);
      } catch {
        res.writeHead(500, { "Content-Type": "text/plain" }).end("The metrics could not be collected.\n");
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }

  /** GET /metrics in the Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res, next) => {
      try {
        res.setHeader("Content-Type", this.registry.contentType);
        res.send(await this.registry.metrics());
      } catch (error) {
        next(error);
      }
    };
  }
}
