import { createHash, randomInt } from "node:crypto";
import type { EntityManager } from "typeorm";
import { AccessKey, Membership, Org, Role } from "../entities/index.js";
import { deny, type AuditService } from "./audit.js";
import type { AccessScope, Actor, RequestContext } from "./context.js";
import { NotFoundError, UnauthenticatedError, UserError, UserErrors } from "./errors.js";
import { check, rules } from "./validation.js";

const PREFIX = "pvk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 43 base62 characters carry 256 bits of randomness. */
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = new RegExp(`^${PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function crc32(text: string): number {
  let crc = ~0;
  for (const byte of Buffer.from(text, "utf8")) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function base62(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * `pvk_` + 256 random bits in base62 + a CRC32 checksum, like GitHub's `ghp_` tokens: a secret
 * scanner can recognise a leaked key by its prefix and tell it from random text by its checksum.
 */
export function generateToken(): string {
  let random = "";
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(62)];
  return PREFIX + random + base62(crc32(random), CHECKSUM_LENGTH);
}

export function isWellFormedToken(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const random = token.slice(PREFIX.length, PREFIX.length + RANDOM_LENGTH);
  return token.slice(-CHECKSUM_LENGTH) === base62(crc32(random), CHECKSUM_LENGTH);
}

export const hashToken = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

const hintOf = (token: string) => `${token.slice(0, PREFIX.length + 4)}…${token.slice(-4)}`;

export interface AccessKeyFields {
  orgId: string;
  name: string;
  /** Set for an org key; null for a personal key, which takes its user's role. */
  role: Role | null;
  userId?: string | null;
  createdByKeyId?: string | null;
  expiresAt?: Date | null;
  scope?: AccessScope | null;
}

/** A new key; the token is returned once and only its hash is kept. */
export async function issueAccessKey(em: EntityManager, fields: AccessKeyFields): Promise<{ key: AccessKey; token: string }> {
  const token = generateToken();
  const key = await em.save(
    em.create(AccessKey, {
      orgId: fields.orgId,
      name: fields.name,
      role: fields.role,
      userId: fields.userId ?? null,
      createdByKeyId: fields.createdByKeyId ?? null,
      tokenHash: hashToken(token),
      tokenHint: hintOf(token),
      expiresAt: fields.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      scopeApps: fields.scope?.apps ?? null,
      scopeServices: fields.scope?.services ?? null,
      scopeStages: fields.scope?.stages ?? null,
    }),
  );
  return { key, token };
}

export enum AccessKeyKind {
  PERSONAL = "PERSONAL",
  ORG = "ORG",
}

export const kindOf = (key: AccessKey): AccessKeyKind => (key.userId ? AccessKeyKind.PERSONAL : AccessKeyKind.ORG);

export function scopeOf(key: Pick<AccessKey, "scopeApps" | "scopeServices" | "scopeStages">): AccessScope | null {
  if (!key.scopeApps && !key.scopeServices && !key.scopeStages) return null;
  return { apps: key.scopeApps, services: key.scopeServices, stages: key.scopeStages };
}

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
         k.scope_apps, k.scope_services, k.scope_stages
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
}

/**
 * The actor behind a bearer token; every failure looks the same to the caller. The key (and a
 * personal key's membership) is read from the database on every request, never cached, so a
 * revocation, an expiry or a removed member takes effect on the next request on every process.
 */
export async function authenticate(em: EntityManager, token: string): Promise<Actor> {
  if (!isWellFormedToken(token)) throw new UnauthenticatedError("The access key is not valid. Send a key created by this server as `Authorization: Bearer <key>`.");
  const [key]: AuthenticatedRow[] = await em.query(AUTHENTICATE, [hashToken(token)]);
  // A personal key whose member was removed has no role left.
  if (!key?.role) throw new UnauthenticatedError(INVALID_KEY);
  return {
    accessKeyId: key.id,
    accessKeyName: key.name,
    orgId: key.org_id,
    role: key.role,
    userId: key.user_id,
    userEmail: key.user_email,
    scope: scopeOf({ scopeApps: key.scope_apps, scopeServices: key.scope_services, scopeStages: key.scope_stages }),
  };
}

/** Creates the org if needed and an admin key for it: how an operator starts, or recovers access. */
export async function bootstrapOrg(
  em: EntityManager,
  slug: string,
  name: string,
): Promise<{ org: Org; created: boolean; token: string }> {
  return em.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/bootstrap/' || $1))", [slug]);
    let org = await tx.findOneBy(Org, { slug });
    const created = !org;
    if (!org) org = await tx.save(tx.create(Org, { slug, name }));
    const { token } = await issueAccessKey(tx, { orgId: org.id, name: "bootstrap admin key", role: Role.ADMIN });
    return { org, created, token };
  });
}

const STAGE_PATTERN = /^[A-Za-z0-9*-]{1,64}$/;

function validateScope(scope: AccessScope | null): UserError[] {
  if (!scope) return [];
  const errors: UserError[] = [];
  const lists: Array<[keyof AccessScope, string[] | null]> = [["apps", scope.apps], ["services", scope.services], ["stages", scope.stages]];
  for (const [field, values] of lists) {
    if (values === null) continue;
    const path = ["input", "scope", field];
    if (values.length === 0 || values.length > 100) {
      errors.push(new UserError("INVALID_SCOPE", path, `Give 1–100 ${field}, or leave ${field} out for any; an empty list would admit nothing.`));
    } else if (field === "stages") {
      if (!values.every((v) => STAGE_PATTERN.test(v))) {
        errors.push(new UserError("INVALID_SCOPE", path, "A stage pattern is 1–64 letters, digits, hyphens and `*` wildcards, such as `feature-*` or `prod`."));
      }
    } else if (!values.every((v) => rules.appOrServiceName.pattern.test(v))) {
      errors.push(new UserError("INVALID_SCOPE", path, rules.appOrServiceName.message));
    }
  }
  return errors;
}

export interface CreateAccessKeyInput {
  name: string;
  /** Set: a personal key for that member. Null: an org key with `role`. */
  userId: string | null;
  role: Role | null;
  expiresAt: Date | null;
  scope: AccessScope | null;
}

/** Creating and revoking access keys. Who may: admins for any key; a member for their own personal keys. */
export class AccessKeyService {
  constructor(private readonly audit: AuditService) {}

  async key(ctx: RequestContext, keyId: string): Promise<AccessKey> {
    const key = await ctx.em.findOneBy(AccessKey, { id: keyId, orgId: ctx.orgId });
    if (!key) throw new NotFoundError("The access key");
    return key;
  }

  async create(ctx: RequestContext, input: CreateAccessKeyInput): Promise<{ key: AccessKey; token: string }> {
    const { actor } = ctx;
    const personal = input.userId !== null;
    if (personal) {
      const membership = await ctx.em.findOneBy(Membership, { orgId: ctx.orgId, userId: input.userId! });
      if (!membership) throw new NotFoundError("The member");
    }
    if (actor.role !== Role.ADMIN && !(personal && input.userId === actor.userId)) {
      await deny(ctx, { action: "accessKey.create", details: { personal } }, "Only an org admin creates org keys and other members' keys; a member may create personal keys for themselves.");
    }
    if (actor.scope) {
      await deny(ctx, { action: "accessKey.create", details: { personal } }, "A scoped access key cannot create keys: the new key could reach beyond its scope. Use an unscoped key.");
    }
    const errors = validateScope(input.scope);
    const nameError = check(rules.name, input.name, ["input", "name"]);
    if (nameError) errors.push(nameError);
    if (personal && input.role) {
      errors.push(new UserError("ROLE_NOT_ALLOWED", ["input", "role"], "A personal key acts with its member's role; leave role out (change the member's role instead)."));
    }
    if (!personal && !input.role) {
      errors.push(new UserError("ROLE_REQUIRED", ["input", "role"], "An org key needs a role; CI keys are usually DEPLOYER."));
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      errors.push(new UserError("INVALID_EXPIRY", ["input", "expiresAt"], "The expiry must be in the future; leave it out for a key that does not expire."));
    }
    if (errors.length > 0) throw new UserErrors(errors);
    const issued = await issueAccessKey(ctx.em, {
      orgId: ctx.orgId,
      name: input.name,
      role: personal ? null : input.role,
      userId: input.userId,
      createdByKeyId: actor.accessKeyId,
      expiresAt: input.expiresAt,
      scope: input.scope,
    });
    await this.audit.record(ctx, {
      action: "accessKey.create",
      targetType: "AccessKey",
      targetId: issued.key.id,
      details: { name: input.name, personal, userId: input.userId, role: issued.key.role, expiresAt: input.expiresAt, scope: input.scope },
    });
    return issued;
  }

  /** Revokes the key; the next request made with it fails, on every server process. */
  async revoke(ctx: RequestContext, keyId: string): Promise<AccessKey> {
    const key = await this.key(ctx, keyId);
    const own = key.userId !== null && key.userId === ctx.actor.userId;
    if (ctx.actor.role !== Role.ADMIN && !own) {
      await deny(ctx, { action: "accessKey.revoke", targetType: "AccessKey", targetId: key.id }, "Only an org admin revokes other keys; a member may revoke their own personal keys.");
    }
    if (key.revokedAt) throw new UserError("ALREADY_REVOKED", ["input", "accessKeyId"], `The key "${key.name}" was already revoked.`);
    key.revokedAt = new Date();
    await ctx.em.update(AccessKey, { id: key.id, orgId: ctx.orgId }, { revokedAt: key.revokedAt });
    await this.audit.record(ctx, { action: "accessKey.revoke", targetType: "AccessKey", targetId: key.id, details: { name: key.name } });
    return key;
  }
}
