import type { RequestContext } from "./context.js";

const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 3;

/**
 * Runs work as one transaction that follows the context down (ctx.em is the transaction's manager
 * while it runs). A serialization failure or deadlock runs it again; any other error rolls it back
 * and is thrown. The GraphQL mutations and the Serverless Framework routes both go through here.
 */
export async function inTransaction<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T> {
  const outside = ctx.em;
  for (let attempt = 1; ; attempt++) {
    try {
      return await outside.connection.transaction(async (em) => {
        ctx.em = em;
        try {
          return await work();
        } finally {
          ctx.em = outside;
        }
      });
    } catch (error) {
      const code = (error as { driverError?: { code?: string } }).driverError?.code;
      if (!code || !RETRYABLE.has(code) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}
