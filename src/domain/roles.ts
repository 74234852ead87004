import { Role } from "../entities/index.js";

/** ADMIN ⊃ DEVELOPER ⊃ DEPLOYER: each role may do what the ones below it may. */
const RANK: Record<Role, number> = { [Role.DEPLOYER]: 1, [Role.DEVELOPER]: 2, [Role.ADMIN]: 3 };

/** Whether a caller with `actual` may do what needs `needed`. */
export const hasRole = (actual: Role, needed: Role): boolean => RANK[actual] >= RANK[needed];

/** Whether `actual` is enough for any one of `roles` (what `@Authorized(...roles)` asks). */
export const hasAnyRole = (actual: Role, roles: readonly Role[]): boolean => roles.some((role) => hasRole(actual, role));
