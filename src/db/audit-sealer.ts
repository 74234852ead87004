import pg from "pg";
import type { DataSource, EntityManager, EntitySubscriberInterface, InsertEvent, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from "typeorm";
import { AuditEvent } from "../entities/index.js";
import type { Logger } from "../logger.js";

/** Events one sealing transaction chains at most (the next batch follows at once). */
export const SEAL_BATCH = 1000;
/** How often each process looks for events nobody sealed (a writer that died between its commit and its sealing). */
export const SWEEP_INTERVAL_MS = 10_000;
const RETRY_FIRST_MS = 200;
const RETRY_LAST_MS = 5_000;
/** Orgs sealed at once; the sealer's pool has as many connections. */
const PARALLEL = 2;

const ORGS_WRITTEN = "auditSealerOrgs";
const sealers = new WeakMap<DataSource, AuditSealer>();

/**
 * Chains committed audit events into their org's hash chain (migration AuditSealer). Writers insert
 * events unsealed, so a commit waits for no chain lock; this seals an org's pending events in order, a
 * batch per short transaction, right after the writing transaction commits (kicks are coalesced: one
 * sealing serves every event committed meanwhile), at start-up and every SWEEP_INTERVAL_MS, so events
 * a crashed process left unsealed are sealed by whichever process runs next. Any number of processes
 * may seal the same org at once: the head row's lock orders them and an event is sealed once.
 *
 * It has a small pool of its own, so sealing neither waits behind requests for a connection nor counts
 * as a request's statement, and a failure (the database gone) is retried with backoff until it passes.
 */
export class AuditSealer {
  private readonly pool: pg.Pool;
  private readonly due = new Set<string>();
  private draining: Promise<void> | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    url: string,
    private readonly logger: Logger,
    options: { statementTimeoutMs?: number; connectTimeoutMs?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: PARALLEL,
      application_name: "providers-api audit sealer",
      statement_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: options.connectTimeoutMs,
      keepAlive: true,
    });
    // An idle connection the server closed (restart, pg_terminate_backend): the next query opens another.
    this.pool.on("error", (error) => this.logger.warn({ err: { message: error.message } }, "the audit sealer's idle database connection failed"));
  }

  /** Seals this data source's writes from now on: its transactions' events are kicked at commit (see `AuditSealKicks`). */
  attach(dataSource: DataSource): void {
    sealers.set(dataSource, this);
    dataSource.subscribers.push(new AuditSealKicks());
  }

  /** Seals what is pending now (events left by others), then every SWEEP_INTERVAL_MS. */
  start(): void {
    this.sweeping = this.sweep();
    this.sweeper = setInterval(() => (this.sweeping = this.sweep()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** The org has committed events to seal: seals them soon, once for any number of kicks meanwhile. */
  kick(orgId: string): void {
    if (this.closed) return;
    this.due.add(orgId);
    this.schedule();
  }

  /** Kicks every org that has unsealed events. */
  async sweep(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ org_id: string }>("SELECT DISTINCT org_id FROM audit_events WHERE seq IS NULL");
      for (const row of rows) this.kick(row.org_id);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, "could not look for unsealed audit events; the next sweep tries again");
    }
  }

  /** Resolves once everything kicked (and found by a sweep under way) is sealed, retrying failures meanwhile. */
  async idle(): Promise<void> {
    await this.sweeping;
    for (;;) {
      if (this.draining) await this.draining;
      else if (this.retry) await new Promise((resolve) => setTimeout(resolve, RETRY_FIRST_MS));
      else return;
    }
  }

  /** Seals what was kicked (the last writes of this process), then stops. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.due.size > 0) this.schedule();
    while (this.draining) await this.draining;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.pool.end();
  }

  private schedule(): void {
    if (this.draining || this.retry) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.due.size > 0 && !this.retry && !this.closed) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.due.size > 0) {
      const orgs = [...this.due];
      this.due.clear();
      const failed: string[] = [];
      let lastError: unknown;
      for (let i = 0; i < orgs.length; i += PARALLEL * 8) {
        await Promise.all(
          orgs.slice(i, i + PARALLEL * 8).map((org) =>
            this.sealOrg(org).catch((error: unknown) => {
              failed.push(org);
              lastError = error;
            }),
          ),
        );
      }
      if (failed.length > 0) {
        for (const org of failed) this.due.add(org);
        const delay = Math.min(RETRY_LAST_MS, RETRY_FIRST_MS * 2 ** this.failures++);
        this.logger.warn(
          { err: { message: (lastError as Error).message, code: (lastError as { code?: string }).code }, orgs: failed.length, retryInMs: delay },
          "could not seal audit events into their chain; retrying (the events are stored, only their sealing waits)",
        );
        if (!this.closed) {
          this.retry = setTimeout(() => {
            this.retry = null;
            this.schedule();
          }, delay);
          this.retry.unref();
        }
        return;
      }
      this.failures = 0;
    }
  }

  /** Seals all of the org's committed pending events, a batch per transaction. */
  private async sealOrg(orgId: string): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<{ sealed: number }>("SELECT audit_seal_pending($1, $2) AS sealed", [orgId, SEAL_BATCH]);
      if (rows[0].sealed < SEAL_BATCH) return;
    }
  }
}

/**
 * Says that `em` has written an audit event of the org: kicks the sealer at once outside a transaction
 * (the statement has committed), or when the transaction commits.
 */
function auditWritten(em: EntityManager, orgId: string): void {
  const sealer = sealers.get(em.connection);
  if (!sealer) return;
  if (em.queryRunner?.isTransactionActive) noteWritten(em.queryRunner, orgId);
  else sealer.kick(orgId);
}

function noteWritten(runner: QueryRunner, orgId: string): void {
  ((runner.data[ORGS_WRITTEN] as Set<string> | undefined) ?? (runner.data[ORGS_WRITTEN] = new Set<string>())).add(orgId);
}

/**
 * Kicks the sealer when a transaction that inserted audit events commits. A savepoint rolled back
 * keeps its orgs: a kick with nothing to seal costs one indexed look.
 */
class AuditSealKicks implements EntitySubscriberInterface<AuditEvent> {
  listenTo() {
    return AuditEvent;
  }

  afterInsert(event: InsertEvent<AuditEvent>): void {
    auditWritten(event.manager, event.entity.orgId);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const orgs = runner.data[ORGS_WRITTEN] as Set<string> | undefined;
    if (!orgs || runner.isTransactionActive) return;
    delete runner.data[ORGS_WRITTEN];
    const sealer = sealers.get(event.connection);
    for (const org of orgs) sealer?.kick(org);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) delete event.queryRunner.data[ORGS_WRITTEN];
  }
}
