import type { EntityManager } from "typeorm";
import { AuditEvent, AuditOutcome } from "../entities/index.js";
import type { RequestContext } from "./context.js";
import { CodedError, ForbiddenError, UserError } from "./errors.js";

export interface AuditEntry {
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  outcome?: AuditOutcome;
  /** Identifiers and labels only: never a secret, a key or a token. */
  details?: Record<string, unknown>;
}

export interface AuditActor {
  orgId: string;
  requestId?: string | null;
  actorKeyId?: string | null;
  actorUserId?: string | null;
  actorLabel: string;
}

const refusalOutcome = (error: unknown) =>
  error instanceof UserError || (error instanceof CodedError && ["NOT_FOUND", "FORBIDDEN", "STS_ACCESS_DENIED"].includes(error.code))
    ? AuditOutcome.DENIED
    : AuditOutcome.FAILURE;

const errorCodeOf = (error: unknown) => (error instanceof UserError || error instanceof CodedError ? error.code : "INTERNAL_ERROR");

/** Writes audit events. Inside a mutation they share its transaction: no record, no change. */
export class AuditService {
  /** Records within the context's transaction (or the pool, outside one). */
  record(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.write(ctx.em, { ...AuditService.actorOf(ctx), ...entry });
  }

  /**
   * Records on a connection of its own, outside the context's transaction: for a refusal, whose
   * mutation is about to be rolled back.
   */
  recordApart(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.writeApart(ctx, entry);
  }

  /**
   * Records a refused or failed attempt apart from the context's transaction, which is about to be
   * rolled back: DENIED for the caller's mistake or a refusal, FAILURE for the server's or AWS's.
   */
  recordRefusal(ctx: RequestContext, action: string, error: unknown, details: Record<string, unknown>, targetId: string | null = null): Promise<AuditEvent> {
    return this.recordApart(ctx, {
      action,
      targetType: targetId ? "Provider" : null,
      targetId,
      outcome: refusalOutcome(error),
      details: {
        ...details,
        errorCode: errorCodeOf(error),
        ...(error instanceof CodedError && error.details.stsRequestId ? { stsRequestId: error.details.stsRequestId } : {}),
      },
    });
  }

  private static writeApart(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.write(ctx.em.connection.manager, { ...AuditService.actorOf(ctx), ...entry });
  }

  /** Records a DENIED event apart from the request's transaction, then throws FORBIDDEN. */
  static async deny(ctx: RequestContext, entry: Omit<AuditEntry, "outcome">, message: string): Promise<never> {
    await AuditService.writeApart(ctx, { ...entry, outcome: AuditOutcome.DENIED });
    throw new ForbiddenError(message);
  }

  /** Who acted, as the audit trail names them: the key's id and name (never the key) and its user. */
  static actorOf(ctx: RequestContext): AuditActor {
    const { actor } = ctx;
    const who = actor.userEmail ? `${actor.userEmail} with personal key` : "org key";
    return {
      orgId: ctx.orgId,
      requestId: ctx.requestId,
      actorKeyId: actor.accessKeyId,
      actorUserId: actor.userId,
      // The server acting on an operator's command has no key: its label says what ran.
      actorLabel: actor.accessKeyId ? `${who} "${actor.accessKeyName}" (${actor.role})` : actor.accessKeyName,
    };
  }

  static write(em: EntityManager, event: AuditEntry & AuditActor): Promise<AuditEvent> {
    return em.save(
      em.create(AuditEvent, {
        orgId: event.orgId,
        requestId: event.requestId ?? null,
        actorKeyId: event.actorKeyId ?? null,
        actorUserId: event.actorUserId ?? null,
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

/**
 * Refuses an authorization: records a DENIED event on the pool, outside the request's transaction
 * (the refusal rolls the transaction back, the record must stay), then throws FORBIDDEN.
 */
export const deny = AuditService.deny;
