import type { EntityManager } from "typeorm";
import { AuditEvent } from "../entities/index.js";

/**
 * An audit event as one JSON object, the same in `providers-api audit export` and the audit file
 * (AUDIT_LOG_FILE): identifiers and labels only, as stored — never a secret, a key or a value.
 */
export function auditEventRecord(event: AuditEvent): Record<string, unknown> {
  return {
    type: "audit",
    id: event.id,
    orgId: event.orgId,
    occurredAt: event.occurredAt instanceof Date ? event.occurredAt.toISOString() : event.occurredAt,
    action: event.action,
    outcome: event.outcome,
    actor: { label: event.actorLabel, keyId: event.actorKeyId, userId: event.actorUserId },
    target: event.targetType || event.targetId ? { type: event.targetType, id: event.targetId } : null,
    requestId: event.requestId,
    details: event.details,
  };
}

const PAGE = 1000;

/**
 * The org's audit trail, oldest first, from `since` on: read a page at a time in the order of the
 * (org, occurred_at) index, so a trail of any length streams in constant memory.
 */
export async function* auditEventsOf(em: EntityManager, orgId: string, since: Date | null, pageSize = PAGE): AsyncGenerator<AuditEvent> {
  let afterId: string | null = null;
  for (;;) {
    const query = em
      .createQueryBuilder(AuditEvent, "e")
      .where("e.orgId = :orgId", { orgId })
      .orderBy("e.occurredAt", "ASC")
      .addOrderBy("e.id", "ASC")
      .take(pageSize);
    if (since) query.andWhere("e.occurredAt >= :since", { since });
    // The previous page's last row is the cursor as the database stores it: a JS Date would cut
    // occurred_at's microseconds and read the same rows again.
    if (afterId) query.andWhere("(e.occurredAt, e.id) > (SELECT a.occurred_at, a.id FROM audit_events a WHERE a.id = :afterId)", { afterId });
    const page = await query.getMany();
    for (const event of page) yield event;
    if (page.length < pageSize) return;
    afterId = page[page.length - 1].id;
  }
}
