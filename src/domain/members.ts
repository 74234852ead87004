import { In } from "typeorm";
import { Membership, Org, Role, User } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";
import { NotFoundError, UserError } from "./errors.js";
import { assertUnscoped } from "./scope.js";

/** A member's role reaches every app and stage: only an unscoped key changes who is a member. */
const ORG_WIDE = "managing the org's members (a role reaches every app and stage)";

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,63}$/;

export interface MemberView {
  user: User;
  membership: Membership;
}

/** Users in orgs, with a role each. An org that has admin members never loses its last one. */
export class MemberService {
  constructor(private readonly audit: AuditService) {}

  async member(ctx: RequestContext, userId: string): Promise<MemberView> {
    const membership = await ctx.em.findOneBy(Membership, { orgId: ctx.orgId, userId });
    const user = membership ? await ctx.em.findOneBy(User, { id: userId }) : null;
    if (!membership || !user) throw new NotFoundError("The member");
    return { user, membership };
  }

  /** The org's members, by email. */
  async list(ctx: RequestContext): Promise<MemberView[]> {
    const memberships = await ctx.em.findBy(Membership, { orgId: ctx.orgId });
    const users = memberships.length ? await ctx.em.findBy(User, { id: In(memberships.map((m) => m.userId)) }) : [];
    const byId = new Map(users.map((u) => [u.id, u]));
    return memberships.map((membership) => ({ membership, user: byId.get(membership.userId)! })).sort((a, b) => a.user.email.localeCompare(b.user.email));
  }

  /**
   * The orgs the caller acts in, with its role in each, by slug: a personal key's user's every
   * membership; an org key's one org and role.
   */
  async orgsOfCaller(ctx: RequestContext): Promise<Array<{ org: Org; role: Role }>> {
    const { actor } = ctx;
    if (!actor.userId) return [{ org: await ctx.em.findOneByOrFail(Org, { id: actor.orgId }), role: actor.role }];
    const rows = await ctx.em.findBy(Membership, { userId: actor.userId });
    const orgs = new Map((await ctx.em.findBy(Org, rows.map((m) => ({ id: m.orgId })))).map((o) => [o.id, o]));
    return rows.map((m) => ({ org: orgs.get(m.orgId)!, role: m.role })).sort((a, b) => a.org.slug.localeCompare(b.org.slug));
  }

  /** Adds the person with that email (creating the user on first sight) to the caller's org. */
  async add(ctx: RequestContext, input: { email: string; role: Role }): Promise<MemberView> {
    await assertUnscoped(ctx, "addMember", ORG_WIDE);
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new UserError("INVALID_EMAIL", ["input", "email"], "Give the member's email address, such as ada@example.com.");
    await ctx.em.query("INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO NOTHING", [email]);
    const user = await ctx.em.findOneByOrFail(User, { email });
    if (await ctx.em.existsBy(Membership, { orgId: ctx.orgId, userId: user.id })) {
      throw new UserError("ALREADY_MEMBER", ["input", "email"], `${email} is already a member of the org; change their role with updateMemberRole.`);
    }
    const membership = await ctx.em.save(ctx.em.create(Membership, { orgId: ctx.orgId, userId: user.id, role: input.role }));
    await this.audit.record(ctx, { action: "member.add", targetType: "User", targetId: user.id, details: { email, role: input.role } });
    return { user, membership };
  }

  async updateRole(ctx: RequestContext, userId: string, role: Role): Promise<MemberView & { previousRole: Role }> {
    await assertUnscoped(ctx, "updateMemberRole", ORG_WIDE);
    await this.lockMembers(ctx);
    const view = await this.member(ctx, userId);
    const previousRole = view.membership.role;
    if (previousRole === Role.ADMIN && role !== Role.ADMIN) await this.ensureNotLastAdmin(ctx, ["input", "role"]);
    view.membership.role = role;
    await ctx.em.update(Membership, { orgId: ctx.orgId, userId }, { role });
    await this.audit.record(ctx, { action: "member.updateRole", targetType: "User", targetId: userId, details: { email: view.user.email, previousRole, role } });
    return { ...view, previousRole };
  }

  /** Removes the member and revokes their personal keys in this org. */
  async remove(ctx: RequestContext, userId: string): Promise<MemberView & { revokedKeyCount: number }> {
    await assertUnscoped(ctx, "removeMember", ORG_WIDE);
    await this.lockMembers(ctx);
    const view = await this.member(ctx, userId);
    if (view.membership.role === Role.ADMIN) await this.ensureNotLastAdmin(ctx, ["input", "userId"]);
    await ctx.em.delete(Membership, { orgId: ctx.orgId, userId });
    const [, revokedKeyCount]: [unknown, number] = await ctx.em.query(
      "UPDATE access_keys SET revoked_at = now() WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
      [ctx.orgId, userId],
    );
    await this.audit.record(ctx, {
      action: "member.remove",
      targetType: "User",
      targetId: userId,
      details: { email: view.user.email, role: view.membership.role, revokedKeyCount },
    });
    return { ...view, revokedKeyCount };
  }

  /** Serializes membership changes per org, so two admins demoting each other cannot leave none. */
  private async lockMembers(ctx: RequestContext): Promise<void> {
    await ctx.em.createQueryBuilder(Org, "o").setLock("pessimistic_write").where("o.id = :id", { id: ctx.orgId }).getOne();
  }

  private async ensureNotLastAdmin(ctx: RequestContext, field: string[]): Promise<void> {
    const admins = await ctx.em.countBy(Membership, { orgId: ctx.orgId, role: Role.ADMIN });
    if (admins <= 1) {
      throw new UserError("LAST_ADMIN", field, "This is the org's last admin; make another member an admin first.");
    }
  }
}
