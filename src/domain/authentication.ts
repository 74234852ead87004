import type { EntityManager } from "typeorm";
import { AccessKey, Membership, User } from "../entities/index.js";
import { hashToken, isWellFormedToken } from "./access-key-tokens.js";
import { scopeOf } from "./access-keys.js";
import type { Actor } from "./context.js";
import { UnauthenticatedError } from "./errors.js";

/** How stale `last_used_at` may get before a request writes it again. */
const LAST_USED_RESOLUTION_MS = 60_000;

const INVALID_KEY = "The access key is not valid: it is unknown, revoked or expired. Ask an org admin for a new one.";

/**
 * The actor behind a bearer token; every failure looks the same to the caller. The key (and a
 * personal key's membership) is read from the database on every request, never cached, so a
 * revocation, an expiry or a removed member takes effect on the next request on every process.
 */
export async function authenticate(em: EntityManager, token: string): Promise<Actor> {
  if (!isWellFormedToken(token)) throw new UnauthenticatedError("The access key is not valid. Send a key created by this server as `Authorization: Bearer <key>`.");
  const key = await em.findOneBy(AccessKey, { tokenHash: hashToken(token) });
  const now = Date.now();
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= now)) throw new UnauthenticatedError(INVALID_KEY);
  let role = key.role;
  let user: User | null = null;
  if (key.userId) {
    const membership = await em.findOneBy(Membership, { orgId: key.orgId, userId: key.userId });
    user = await em.findOneBy(User, { id: key.userId });
    role = membership?.role ?? null;
  }
  if (!role) throw new UnauthenticatedError(INVALID_KEY);
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await em.update(AccessKey, { id: key.id }, { lastUsedAt: new Date(now) });
  }
  return {
    accessKeyId: key.id,
    accessKeyName: key.name,
    orgId: key.orgId,
    role,
    userId: user?.id ?? null,
    userEmail: user?.email ?? null,
    scope: scopeOf(key),
  };
}
