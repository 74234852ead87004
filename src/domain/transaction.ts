import { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";

/** Serialization failure and deadlock: the transaction is run again from the start. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 3;

/**
 * Runs `work` as one transaction that follows the context down (`ctx.em` is the transaction's while
 * it runs), or joins the transaction the context is already in. A serialization failure or deadlock
 * runs it again. Refusals audited inside it are written after it has ended and its connection is back
 * in the pool, so no request ever waits for a second connection while holding one.
 */
export async function inTransaction<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T> {
  if (ctx.em.queryRunner?.isTransactionActive) return work();
  const outer = ctx.em;
  try {
    for (let attempt = 1; ; attempt++) {
      // A retried attempt makes its own refusals again.
      ctx.deferredAudits.length = 0;
      try {
        return await outer.transaction(async (em) => {
          ctx.em = em;
          try {
            return await work();
          } finally {
            ctx.em = outer;
          }
        });
      } catch (error) {
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (!code || !RETRYABLE.has(code) || attempt === MAX_ATTEMPTS) throw error;
      }
    }
  } finally {
    await AuditService.flushDeferred(ctx);
  }
}
