import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";

/**
 * Checks an org's audit hash chain. An event is stored unsealed when its transaction commits, and the
 * sealer (src/db/audit-sealer.ts, migration AuditSealer) links it moments later: seq = the org's
 * previous seq + 1 and
 *   hash = sha256(previous hash, or 32 zero bytes for the first event || encoding(event, seq)),
 * where the encoding is "providers-api/audit-event/v1" followed by each field as
 * "<byte length>:<utf-8 text>" ("~" for null) in the order of FIELDS below. This module rebuilds the
 * encoding on its own from the stored fields, so a row edited, removed or moved without recomputing
 * every later hash breaks the chain at that row.
 */

export const GENESIS = Buffer.alloc(32);
const VERSION = "providers-api/audit-event/v1";

/** The fields in encoding order, each as the text the database hashed (aliases shadow the columns: qualify them in ORDER BY). */
const FIELDS = `id::text AS id, org_id::text AS org_id, seq::text AS seq,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  request_id, actor_key_id::text AS actor_key_id, actor_user_id::text AS actor_user_id, actor_label, action,
  target_type, target_id::text AS target_id, outcome::text AS outcome, details::text AS details`;

type ChainRow = Record<"id" | "org_id" | "seq" | "occurred_at" | "actor_label" | "action" | "outcome" | "details", string> &
  Record<"request_id" | "actor_key_id" | "actor_user_id" | "target_type" | "target_id", string | null> & { hash: Buffer | null };

const ENCODED: Array<keyof ChainRow> = [
  "id",
  "org_id",
  "seq",
  "occurred_at",
  "request_id",
  "actor_key_id",
  "actor_user_id",
  "actor_label",
  "action",
  "target_type",
  "target_id",
  "outcome",
  "details",
];

const field = (value: string | null) => (value === null ? "~" : `${Buffer.byteLength(value, "utf8")}:${value}`);

export function linkHash(previous: Buffer, row: ChainRow): Buffer {
  const encoding = VERSION + ENCODED.map((name) => field(row[name] as string | null)).join("");
  return createHash("sha256").update(previous).update(encoding, "utf8").digest();
}

export interface BrokenLink {
  /** The position in the chain where it breaks (the first one that does not check out). */
  seq: string;
  /** The event found there, if any. */
  eventId: string | null;
  action: string | null;
  occurredAt: string | null;
  reason: string;
}

/**
 * How long an event may wait for its sealing before verification flags it: each process seals what
 * it wrote right after the commit, and every process sweeps for what others left every 10 s.
 */
export const PENDING_LIMIT_SECONDS = 60;

/** Committed events the sealer has not chained yet. */
export interface PendingEvents {
  events: number;
  /** The oldest one, and how long ago it happened (its transaction began), by the database's clock. */
  oldest: { eventId: string; action: string; occurredAt: string; ageSeconds: number } | null;
  /** The oldest has waited longer than PENDING_LIMIT_SECONDS: no process is sealing this org's events. */
  overdue: boolean;
}

export interface ChainReport {
  orgId: string;
  /** Sealed events checked. */
  events: number;
  head: { seq: string; hash: string } | null;
  /** Null when the chain is intact. */
  broken: BrokenLink | null;
  pending: PendingEvents;
}

const BATCH = 1000;

/**
 * Walks the org's chain in seq order, in batches (bounded memory), in one repeatable-read snapshot
 * so events committed meanwhile neither appear half nor count as missing.
 */
export async function verifyAuditChain(em: EntityManager, orgId: string): Promise<ChainReport> {
  return em.transaction("REPEATABLE READ", async (tx) => {
    const broken = (seq: string | bigint, row: ChainRow | null, reason: string): BrokenLink => ({
      seq: String(seq),
      eventId: row?.id ?? null,
      action: row?.action ?? null,
      occurredAt: row?.occurred_at ?? null,
      reason,
    });
    const [headRow]: Array<{ seq: string; hash: Buffer }> = await tx.query("SELECT seq::text AS seq, hash FROM audit_chain_heads WHERE org_id = $1", [orgId]);
    const head = headRow ? { seq: headRow.seq, hash: headRow.hash.toString("hex") } : null;
    const [waiting]: Array<{ events: number; id: string | null; action: string | null; occurred_at: string | null; age: number | null }> = await tx.query(
      `SELECT p.events, o.id, o.action, to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
              extract(epoch FROM statement_timestamp() - o.occurred_at)::float AS age
         FROM (SELECT count(*)::int AS events FROM audit_events WHERE org_id = $1 AND seq IS NULL) p
         LEFT JOIN LATERAL (SELECT id::text, action, occurred_at FROM audit_events
                             WHERE org_id = $1 AND seq IS NULL ORDER BY occurred_at, id LIMIT 1) o ON true`,
      [orgId],
    );
    const oldest = waiting.id ? { eventId: waiting.id, action: waiting.action!, occurredAt: waiting.occurred_at!, ageSeconds: Math.floor(waiting.age!) } : null;
    const pending: PendingEvents = { events: waiting.events, oldest, overdue: oldest !== null && oldest.ageSeconds > PENDING_LIMIT_SECONDS };
    const report = (events: number, link: BrokenLink | null): ChainReport => ({ orgId, events, head, broken: link, pending });

    let expected = 1n;
    let previous: Buffer = GENESIS;
    let events = 0;
    for (;;) {
      const rows: ChainRow[] = await tx.query(
        `SELECT ${FIELDS}, hash FROM audit_events WHERE org_id = $1 AND audit_events.seq >= $2 ORDER BY audit_events.seq LIMIT ${BATCH}`,
        [orgId, expected.toString()],
      );
      for (const row of rows) {
        events++;
        const seq = BigInt(row.seq);
        if (seq !== expected) {
          return report(events, broken(expected, null, `event #${expected} is missing: it was removed (the chain goes on at #${seq}, event ${row.id}).`));
        }
        if (!row.hash || !linkHash(previous, row).equals(row.hash)) {
          return report(
            events,
            broken(seq, row, `event #${seq} does not match its hash: it was edited, or moved here from another place in the chain, or an event before it was replaced.`),
          );
        }
        previous = row.hash;
        expected++;
      }
      if (rows.length < BATCH) break;
    }
    const last = expected - 1n;
    if (!head && last > 0n) return report(events, broken(last, null, "the chain's head record is missing: it was removed."));
    if (head && BigInt(head.seq) > last) {
      return report(events, broken(last + 1n, null, `events #${last + 1n} to #${head.seq} are missing: they were removed from the end of the chain.`));
    }
    if (head && (BigInt(head.seq) !== last || !previous.equals(headRow.hash))) {
      return report(events, broken(head.seq, null, `the chain's head record (#${head.seq}) does not match its last event (#${last}): it was edited.`));
    }
    return report(events, null);
  });
}
