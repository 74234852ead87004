import type { DataSource } from "typeorm";
import { queryPreparedOnPool } from "../db/prepared.js";
import type { Role } from "../entities/index.js";
import { hashToken, isWellFormedToken } from "./access-key-tokens.js";
import { scopeOf } from "./access-keys.js";
import type { Actor } from "./context.js";
import { UnauthenticatedError } from "./errors.js";

/** How stale `last_used_at` may get before a request writes it again. */
const LAST_USED_RESOLUTION = "60 seconds";

const INVALID_KEY = "The access key is not valid: it is unknown, revoked or expired. Ask an org admin for a new one.";

/*
 * One statement on every request: the key by its hash (unique index), a personal key's membership
 * role and user, and — at most once a minute per key — the key's last use, written in the same
 * statement (a row lock only on the rare request that writes).
 */
const AUTHENTICATE = `
WITH k AS (
  SELECT k.id, k.name, k.org_id, k.user_id, COALESCE(k.role, m.role) AS role, u.email AS user_email,
         k.scope_apps, k.scope_services, k.scope_stages, k.scope_linkable_provider_ids, k.scope_may_create_stages
    FROM access_keys k
    LEFT JOIN memberships m ON k.user_id IS NOT NULL AND m.org_id = k.org_id AND m.user_id = k.user_id
    LEFT JOIN users u ON u.id = k.user_id
   WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
), touched AS (
  UPDATE access_keys SET last_used_at = now()
   WHERE id = (SELECT id FROM k WHERE role IS NOT NULL)
     AND (last_used_at IS NULL OR last_used_at < now() - interval '${LAST_USED_RESOLUTION}')
)
SELECT * FROM k`;

interface AuthenticatedRow {
  id: string;
  name: string;
  org_id: string;
  user_id: string | null;
  role: Role | null;
  user_email: string | null;
  scope_apps: string[] | null;
  scope_services: string[] | null;
  scope_stages: string[] | null;
  scope_linkable_provider_ids: string[] | null;
  scope_may_create_stages: boolean;
}

/**
 * The actor behind a bearer token; every failure looks the same to the caller. The key (and a
 * personal key's membership) is read from the database on every request, never cached, so a
 * revocation, an expiry or a removed member takes effect on the next request on every process.
 */
export async function authenticate(dataSource: DataSource, token: string): Promise<Actor> {
  if (!isWellFormedToken(token)) throw new UnauthenticatedError("The access key is not valid. Send a key created by this server as `Authorization: Bearer <key>`.");
  const [key] = await queryPreparedOnPool<AuthenticatedRow>(dataSource, AUTHENTICATE, [hashToken(token)]);
  // A personal key whose member was removed has no role left.
  if (!key?.role) throw new UnauthenticatedError(INVALID_KEY);
  return {
    accessKeyId: key.id,
    accessKeyName: key.name,
    orgId: key.org_id,
    role: key.role,
    userId: key.user_id,
    userEmail: key.user_email,
    scope: scopeOf({
      scopeApps: key.scope_apps,
      scopeServices: key.scope_services,
      scopeStages: key.scope_stages,
      scopeLinkableProviderIds: key.scope_linkable_provider_ids,
    }),
    mayCreateStages: key.scope_may_create_stages,
  };
}
