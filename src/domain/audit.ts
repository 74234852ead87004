import type { EntityManager } from "typeorm";
import { AuditEvent, AuditOutcome } from "../entities/index.js";
import type { RequestContext } from "./context.js";
import { CodedError, ForbiddenError, UserError, UserErrors } from "./errors.js";

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

/**
 * Control characters as visible escapes: a refused value (a stage with a NUL, say) is recorded as it
 * was sent, and jsonb, which rejects \u0000, cannot lose the refusal over it.
 */
function printable(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (Array.isArray(value)) return value.map(printable);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k) as string, printable(v)]));
  }
  return value;
}

/** Bad input and authorization are refusals (DENIED); a dependency or the server failing is a FAILURE. */
/** DENIED for a refusal of the caller's request (input, authorization, AWS refusing the role); FAILURE for anything else. */
export const refusalOutcome = (error: unknown) =>
  error instanceof UserError || error instanceof UserErrors || (error instanceof CodedError && ["NOT_FOUND", "FORBIDDEN", "STS_ACCESS_DENIED", "EXTERNAL_ID_NOT_ENFORCED"].includes(error.code))
    ? AuditOutcome.DENIED
    : AuditOutcome.FAILURE;

/** The code the caller saw, and every code when several inputs were refused at once. */
export function errorCodesOf(error: unknown): { errorCode: string; errorCodes?: string[] } {
  if (error instanceof UserErrors) return { errorCode: error.errors[0]?.code ?? "INVALID_INPUT", errorCodes: error.errors.map((e) => e.code) };
  return { errorCode: error instanceof UserError || error instanceof CodedError ? error.code : "INTERNAL_ERROR" };
}

/** Writes audit events. Inside a mutation they share its transaction: no record, no change. */
export class AuditService {
  /** Records within the context's transaction (or the pool, outside one). */
  record(ctx: RequestContext, entry: AuditEntry): Promise<AuditEvent> {
    return AuditService.write(ctx.em, { ...AuditService.actorOf(ctx), ...entry });
  }

  /**
   * Records a refused or failed attempt so that no rollback erases it (see `refuse`): DENIED for the
   * caller's mistake or a refusal, with the codes the caller was told; FAILURE for the server's or AWS's.
   */
  recordRefusal(ctx: RequestContext, action: string, error: unknown, details: Record<string, unknown>, targetId: string | null = null): Promise<void> {
    return AuditService.refuse(ctx, {
      action,
      targetType: targetId ? "Provider" : null,
      targetId,
      outcome: refusalOutcome(error),
      details: {
        ...details,
        ...errorCodesOf(error),
        ...(error instanceof CodedError && error.details.stsRequestId ? { stsRequestId: error.details.stsRequestId } : {}),
      },
    });
  }

  /**
   * Records a refusal or failure, which must outlive the rollback of the request's work. Inside a
   * transaction it is kept on the context and written when the transaction has ended (see
   * `inTransaction`), never on a second connection while the first is held. A record that cannot
   * be written is logged at error level and does not replace the caller's answer.
   */
  private static async refuse(ctx: RequestContext, entry: AuditEntry): Promise<void> {
    const event = { ...AuditService.actorOf(ctx), ...entry };
    if (ctx.inTransaction) ctx.deferredAudits.push(event);
    else await AuditService.writeOrLog(ctx, event);
  }

  /** Writes the refusals a unit of work's context kept back, through `to`, a context outside that transaction. */
  static async flushDeferred(from: RequestContext, to: RequestContext): Promise<void> {
    for (const event of from.deferredAudits.splice(0)) await AuditService.writeOrLog(to, event);
  }

  private static async writeOrLog(ctx: RequestContext, event: AuditEntry & AuditActor): Promise<void> {
    try {
      await AuditService.write(ctx.em, event);
    } catch (error) {
      ctx.logger.error(
        { requestId: ctx.requestId, action: event.action, outcome: event.outcome, err: { message: (error as Error).message, code: (error as { code?: string }).code } },
        "could not write an audit event for a refused or failed request",
      );
    }
  }

  /** Records a DENIED event that survives the request's rollback (see `refuse`), then throws FORBIDDEN. */
  static async deny(ctx: RequestContext, entry: Omit<AuditEntry, "outcome">, message: string): Promise<never> {
    await AuditService.refuse(ctx, { ...entry, outcome: AuditOutcome.DENIED });
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
    // One INSERT: outside a transaction it commits alone, without TypeORM wrapping it in one of its own.
    return em.save(em.create(AuditEvent, AuditService.fieldsOf(event)), { transaction: false });
  }

  /** The event's row, as the entity's properties: the one place an entry becomes what is stored. */
  static fieldsOf(event: AuditEntry & AuditActor): Partial<AuditEvent> {
    return {
      orgId: event.orgId,
      requestId: event.requestId ?? null,
      actorKeyId: event.actorKeyId ?? null,
      actorUserId: event.actorUserId ?? null,
      actorLabel: event.actorLabel,
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      outcome: event.outcome ?? AuditOutcome.SUCCESS,
      details: printable(event.details ?? {}) as Record<string, unknown>,
    };
  }

  /** The caller's event as stored, for a statement that writes it together with what it records. */
  eventOf(ctx: RequestContext, entry: AuditEntry): Partial<AuditEvent> {
    return AuditService.fieldsOf({ ...AuditService.actorOf(ctx), ...entry });
  }

}

/**
 * Refuses an authorization: records a DENIED event that the request's rollback cannot erase (see
 * `AuditService.refuse`), then throws FORBIDDEN.
 */
export const deny = AuditService.deny;
