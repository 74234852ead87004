import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";

/**
 * Checks an org's audit hash chain. The database links each event when its transaction commits
 * (migration AuditChain): seq = the org's previous seq + 1 and
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

export interface ChainReport {
  orgId: string;
  events: number;
  head: { seq: string; hash: string } | null;
  /** Null when the chain is intact. */
  broken: BrokenLink | null;
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
    const report = (events: number, link: BrokenLink | null): ChainReport => ({ orgId, events, head, broken: link });

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
    // Events the chain never sealed: written while its trigger was switched off.
    const [unsealed]: ChainRow[] = await tx.query(
      `SELECT ${FIELDS}, hash FROM audit_events WHERE org_id = $1 AND audit_events.seq IS NULL ORDER BY audit_events.occurred_at, audit_events.id LIMIT 1`,
      [orgId],
    );
    if (unsealed) {
      return report(events, broken(last + 1n, unsealed, `event ${unsealed.id} is not in the chain: it was written with the chain's trigger switched off.`));
    }
    return report(events, null);
  });
}
