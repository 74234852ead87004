import { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";

/** Serialization failure and deadlock: the transaction is run again from the start. */
const RETRYABLE = new Set(["40001", "40P01"]);
export const MAX_ATTEMPTS = 3;

/** Whether PostgreSQL undid a transaction that may simply be run again (a serialization failure or a deadlock). */
export function isRetryable(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string } }).driverError?.code;
  return code !== undefined && RETRYABLE.has(code);
}

/**
 * The unit of work: runs `work` in one transaction, handing it a child context whose `em` is the
 * transaction's (and, for GraphQL, whose loaders read through it); the caller's context is not changed,
 * and refuses to be used from inside the work. A context already in a transaction is handed to `work`
 * itself: the work joins that transaction.
 *
 * A serialization failure or deadlock runs the work again in a new transaction with a new child, so
 * nothing of the failed attempt (its writes, its loaders' cache, its kept refusals) carries over.
 * Refusals audited inside it are written after it has ended and its connection is back in the pool,
 * so no request ever waits for a second connection while holding one.
 */
export async function inTransaction<C extends RequestContext, T>(ctx: C, work: (tx: C) => Promise<T>): Promise<T> {
  if (ctx.inTransaction) return work(ctx);
  let last: C | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ctx.em.transaction((em) =>
          ctx.within(em, (tx) => {
            last = tx;
            return work(tx);
          }),
        );
      } catch (error) {
        if (!isRetryable(error) || attempt === MAX_ATTEMPTS) throw error;
      }
    }
  } finally {
    // The last attempt's refusals (a retried attempt makes its own again), on the caller's connection.
    if (last) await AuditService.flushDeferred(last, ctx);
  }
}
