import type { EntityManager } from "typeorm";
import { AuditEvent, AuditOutcome } from "../entities/index.js";
import type { RequestContext } from "./context.js";

export interface AuditEntry {
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  outcome?: AuditOutcome;
  /** Identifiers and labels only: never a secret, a key or a token. */
  details?: Record<string, unknown>;
}

/** Writes audit events. Inside a mutation they share its transaction: no record, no change. */
export class AuditService {
  /** Records within the context's transaction (or the pool, outside one). */
  record(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.write(ctx.em, AuditService.eventOf(ctx, entry));
  }

  /**
   * Records on a connection of its own, outside the context's transaction: for a refusal, whose
   * mutation is about to be rolled back.
   */
  recordApart(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.write(ctx.em.dataSource.manager, AuditService.eventOf(ctx, entry));
  }

  private static eventOf(ctx: RequestContext, entry: AuditEntry) {
    return {
      orgId: ctx.orgId,
      requestId: ctx.requestId,
      actorKeyId: ctx.actor.accessKeyId,
      actorLabel: ctx.actor.accessKeyId ? `access key "${ctx.actor.accessKeyName}" (${ctx.actor.role})` : ctx.actor.accessKeyName,
      ...entry,
    };
  }

  static write(
    em: EntityManager,
    event: AuditEntry & { orgId: string; requestId?: string | null; actorKeyId?: string | null; actorLabel: string },
  ): Promise<AuditEvent> {
    return em.save(
      em.create(AuditEvent, {
        orgId: event.orgId,
        requestId: event.requestId ?? null,
        actorKeyId: event.actorKeyId ?? null,
        actorLabel: event.actorLabel,
        action: event.action,
        targetType: event.targetType ?? null,
        targetId: event.targetId ?? null,
        outcome: event.outcome ?? AuditOutcome.SUCCESS,
        details: event.details ?? {},
      }),
    );
  }
}
