import { Role } from "../entities/index.js";
import { deny } from "./audit.js";
import type { RequestContext } from "./context.js";

/** ADMIN ⊃ DEVELOPER ⊃ DEPLOYER: each role may do what the ones below it may. Used by the auth checker, the domain and node(). */
export const ROLE_RANK: Record<Role, number> = { [Role.DEPLOYER]: 1, [Role.DEVELOPER]: 2, [Role.ADMIN]: 3 };

export const hasRole = (actual: Role, needed: Role): boolean => ROLE_RANK[actual] >= ROLE_RANK[needed];

/**
 * Where the domain decides on a role (callers outside GraphQL, where `@Authorized` does this, and
 * rules that depend on what is acted on): refuses a key whose role is below `needed` with the same
 * DENIED `authorization.role` audit event and FORBIDDEN error, and `message` when the rule has its own.
 */
export async function requireRole(ctx: RequestContext, needed: Role, operation: string, message?: string): Promise<void> {
  if (hasRole(ctx.actor.role, needed)) return;
  await deny(
    ctx,
    { action: "authorization.role", details: { operation, requiredRoles: [needed] } },
    message ?? `This needs the ${needed} role (or higher); the access key has ${ctx.actor.role}.`,
  );
}

/** Whether `actual` is enough for any one of `roles` (what `@Authorized(...roles)` asks). */
export const hasAnyRole = (actual: Role, roles: readonly Role[]): boolean => roles.some((role) => hasRole(actual, role));
