import { IsNull, type EntityManager } from "typeorm";
import { AccessKey, Membership, Role } from "../entities/index.js";
import { generateToken, hashToken, tokenHintOf } from "./access-key-tokens.js";
import { deny, type AuditService } from "./audit.js";
import { hasRole } from "./roles.js";
import type { AccessScope, RequestContext } from "./context.js";
import { NotFoundError, UserError, UserErrors } from "./errors.js";
import { check, rules } from "./validation.js";

export interface AccessKeyFields {
  orgId: string;
  name: string;
  /** Set for an org key; null for a personal key, which takes its user's role. */
  role: Role | null;
  userId?: string | null;
  createdByKeyId?: string | null;
  expiresAt?: Date | null;
  scope?: AccessScope | null;
  /** An org key that may add stages when the org refuses new ones. */
  mayCreateStages?: boolean;
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
      tokenHint: tokenHintOf(token),
      expiresAt: fields.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      scopeApps: fields.scope?.apps ?? null,
      scopeServices: fields.scope?.services ?? null,
      scopeStages: fields.scope?.stages ?? null,
      scopeLinkableProviderIds: fields.scope?.linkableProviderIds ?? null,
      scopeMayCreateStages: fields.mayCreateStages ?? false,
    }),
  );
  return { key, token };
}

export enum AccessKeyKind {
  PERSONAL = "PERSONAL",
  ORG = "ORG",
}

export const accessKeyKindOf = (key: AccessKey): AccessKeyKind => (key.userId ? AccessKeyKind.PERSONAL : AccessKeyKind.ORG);

export function scopeOf(key: Pick<AccessKey, "scopeApps" | "scopeServices" | "scopeStages" | "scopeLinkableProviderIds">): AccessScope | null {
  if (!key.scopeApps && !key.scopeServices && !key.scopeStages && !key.scopeLinkableProviderIds) return null;
  return { apps: key.scopeApps, services: key.scopeServices, stages: key.scopeStages, linkableProviderIds: key.scopeLinkableProviderIds };
}

/**
 * What a stage pattern may look like: a stage's characters and `*`, at most MAX_WILDCARDS of them and
 * never two in a row. Matching is linear anyway (src/domain/scope.ts); the limit keeps patterns
 * readable and the work per request small.
 */
const STAGE_PATTERN = /^[A-Za-z0-9*-]{1,64}$/;
export const MAX_WILDCARDS = 3;

export function isValidStagePattern(pattern: string): boolean {
  return STAGE_PATTERN.test(pattern) && !pattern.includes("**") && pattern.split("*").length - 1 <= MAX_WILDCARDS;
}

const SCOPE_LISTS = ["apps", "services", "stages", "linkableProviderIds"] as const;

function validateScope(scope: AccessScope | null): UserError[] {
  if (!scope) return [];
  const errors: UserError[] = [];
  for (const field of SCOPE_LISTS) {
    const values = scope[field];
    if (values === null) continue;
    const path = ["input", "scope", field];
    if (values.length === 0 || values.length > 100) {
      errors.push(
        field === "linkableProviderIds"
          ? new UserError("INVALID_SCOPE", path, "Give 1–100 providers the key may link, or leave linkableProviderIds out: then it links none.")
          : new UserError("INVALID_SCOPE", path, `Give 1–100 ${field}, or leave ${field} out for any; an empty list would admit nothing.`),
      );
    } else if (field === "stages") {
      if (!values.every(isValidStagePattern)) {
        errors.push(
          new UserError(
            "INVALID_SCOPE",
            path,
            `A stage pattern is 1–64 letters, digits, hyphens and at most ${MAX_WILDCARDS} single \`*\` wildcards, such as \`feature-*\` or \`prod\`.`,
          ),
        );
      }
    } else if (field !== "linkableProviderIds" && !values.every((v) => rules.appOrServiceName.pattern.test(v))) {
      errors.push(new UserError("INVALID_SCOPE", path, rules.appOrServiceName.message));
    }
  }
  return errors;
}

/** Every provider a scope allows must be one of the org's (another org's looks like an unknown one). */
async function unknownProviders(ctx: RequestContext, scope: AccessScope | null): Promise<UserError | null> {
  const ids = [...new Set(scope?.linkableProviderIds ?? [])];
  if (ids.length === 0) return null;
  const [{ n }]: Array<{ n: number }> = await ctx.em.query("SELECT count(*)::int AS n FROM providers WHERE org_id = $1 AND id = ANY($2::uuid[])", [ctx.orgId, ids]);
  return n === ids.length
    ? null
    : new UserError("INVALID_SCOPE", ["input", "scope", "linkableProviderIds"], "A provider in linkableProviderIds was not found in this org; give the ids of the org's providers.");
}

export interface NewAccessKey {
  name: string;
  /** Set: a personal key for that member. Null: an org key with `role`. */
  userId: string | null;
  role: Role | null;
  expiresAt: Date | null;
  scope: AccessScope | null;
  /** An org key may be let add stages when the org refuses new ones (Org.refuseNewStages). */
  mayCreateStages: boolean;
}

/** Creating and revoking access keys. Who may: admins for any key; a member for their own personal keys. */
export class AccessKeyService {
  constructor(private readonly audit: AuditService) {}

  async key(ctx: RequestContext, keyId: string): Promise<AccessKey> {
    const key = await ctx.em.findOneBy(AccessKey, { id: keyId, orgId: ctx.orgId });
    if (!key) throw new NotFoundError("The access key");
    return key;
  }

  async create(ctx: RequestContext, input: NewAccessKey): Promise<{ key: AccessKey; token: string }> {
    const { actor } = ctx;
    const personal = input.userId !== null;
    if (personal) {
      const membership = await ctx.em.findOneBy(Membership, { orgId: ctx.orgId, userId: input.userId! });
      if (!membership) throw new NotFoundError("The member");
    }
    if (!hasRole(actor.role, Role.ADMIN) && !(personal && input.userId === actor.userId)) {
      await deny(ctx, { action: "accessKey.create", details: { personal } }, "Only an org admin creates org keys and other members' keys; a member may create personal keys for themselves.");
    }
    if (actor.scope) {
      await deny(ctx, { action: "accessKey.create", details: { personal } }, "A scoped access key cannot create keys: the new key could reach beyond its scope. Use an unscoped key.");
    }
    const errors = validateScope(input.scope);
    const unknown = errors.length === 0 ? await unknownProviders(ctx, input.scope) : null;
    if (unknown) errors.push(unknown);
    const nameError = check(rules.name, input.name, ["input", "name"]);
    if (nameError) errors.push(nameError);
    if (personal && input.role) {
      errors.push(new UserError("ROLE_NOT_ALLOWED", ["input", "role"], "A personal key acts with its member's role; leave role out (change the member's role instead)."));
    }
    if (personal && input.mayCreateStages) {
      errors.push(
        new UserError(
          "INVALID_SCOPE",
          ["input", "scope", "mayCreateStages"],
          "Only an org key may carry mayCreateStages; a personal key acts as its member (an admin member may add stages anyway). Leave it out, or make an org key.",
        ),
      );
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
      mayCreateStages: input.mayCreateStages,
    });
    await this.audit.record(ctx, {
      action: "accessKey.create",
      targetType: "AccessKey",
      targetId: issued.key.id,
      details: { name: input.name, personal, userId: input.userId, role: issued.key.role, expiresAt: input.expiresAt, scope: input.scope, mayCreateStages: input.mayCreateStages },
    });
    return issued;
  }

  /** Revokes the key; the next request made with it fails, on every server process. */
  async revoke(ctx: RequestContext, keyId: string): Promise<AccessKey> {
    const key = await this.key(ctx, keyId);
    const own = key.userId !== null && key.userId === ctx.actor.userId;
    if (!hasRole(ctx.actor.role, Role.ADMIN) && !own) {
      await deny(ctx, { action: "accessKey.revoke", targetType: "AccessKey", targetId: key.id }, "Only an org admin revokes other keys; a member may revoke their own personal keys.");
    }
    const alreadyRevoked = () => new UserError("ALREADY_REVOKED", ["input", "keyId"], `The key "${key.name}" was already revoked.`);
    if (key.revokedAt) throw alreadyRevoked();
    key.revokedAt = new Date();
    // Only the first of concurrent revocations changes the row (and is audited); the others wait for it and find it revoked.
    const { affected } = await ctx.em.update(AccessKey, { id: key.id, orgId: ctx.orgId, revokedAt: IsNull() }, { revokedAt: key.revokedAt });
    if (affected === 0) throw alreadyRevoked();
    await this.audit.record(ctx, { action: "accessKey.revoke", targetType: "AccessKey", targetId: key.id, details: { name: key.name } });
    return key;
  }
}
