import { createWriteStream, type WriteStream } from "node:fs";
import type { EntitySubscriberInterface, InsertEvent, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from "typeorm";
import { auditEventRecord } from "../domain/audit-export.js";
import { AuditEvent } from "../entities/index.js";

interface Pending {
  /** The transaction depth (savepoint level) the event was inserted at. */
  depth: number;
  event: AuditEvent;
}

const PENDING = "auditSinkPending";

/** TypeORM's query runners count savepoint levels, but do not declare it on the interface. */
const depthOf = (runner: object): number => (runner as { transactionDepth?: number }).transactionDepth ?? 1;

/**
 * Appends every audit event to a file (or stdout) as a JSON line once its transaction has committed,
 * like Vault's file audit device: an event of a transaction that rolls back (to a savepoint, or as a
 * whole) is never written. Lines are buffered by the stream; a deployment never waits on the disk.
 */
export class AuditSink implements EntitySubscriberInterface<AuditEvent> {
  private readonly out: NodeJS.WritableStream | WriteStream;

  constructor(readonly target: string) {
    this.out = target === "stdout" ? process.stdout : createWriteStream(target, { flags: "a", mode: 0o600 });
  }

  listenTo() {
    return AuditEvent;
  }

  afterInsert(event: InsertEvent<AuditEvent>): void {
    // No runner: an insert of our own SQL outside a transaction (see announceInsert), already committed.
    const runner: QueryRunner | undefined = event.queryRunner;
    if (!runner?.isTransactionActive) return this.write([event.entity]);
    const pending: Pending[] = (runner.data[PENDING] ??= []);
    pending.push({ depth: depthOf(runner), event: event.entity });
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const pending: Pending[] | undefined = runner.data[PENDING];
    if (!pending || pending.length === 0) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: its events now belong to the enclosing level.
      const depth = depthOf(runner);
      for (const entry of pending) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    runner.data[PENDING] = [];
    this.write(pending.map((entry) => entry.event));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const pending: Pending[] | undefined = runner.data[PENDING];
    if (!pending) return;
    const depth = runner.isTransactionActive ? (depthOf(runner)) : 0;
    runner.data[PENDING] = pending.filter((entry) => entry.depth <= depth);
  }

  private write(events: AuditEvent[]): void {
    for (const event of events) this.out.write(`${JSON.stringify(auditEventRecord(event))}\n`);
  }

  async close(): Promise<void> {
    if (this.out === process.stdout) return;
    await new Promise<void>((resolve) => (this.out as WriteStream).end(resolve));
  }
}

