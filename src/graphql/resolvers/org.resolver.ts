import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Resolver, Root, UseMiddleware } from "type-graphql";
import { In } from "typeorm";
import { AccessKey, App, Membership, Org, Provider, ProviderType, Role, User } from "../../entities/index.js";
import { AuditEventFilter } from "../types/inputs.js";
import { auditEventsOf, presentMember } from "./access.resolver.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { unscopedOnly } from "../middleware.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { AccessKeyConnection, AppConnection, AuditEventConnection, MemberType, OrgType, ProviderConnection, ProviderObject } from "../types/objects.js";

const byName = { sql: "t.name" };

@Resolver(() => OrgType)
export class OrgResolver {
  @FieldResolver(() => ID)
  id(@Root() org: Org) {
    return toGlobalId("Org", org.id);
  }

  @FieldResolver(() => Role, { description: "The caller's role in this org." })
  viewerRole(@Ctx() ctx: GraphQLContext) {
    return ctx.actor.role;
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ProviderConnection, { description: "The org's providers, by name. DEVELOPER or ADMIN." })
  async providers(
    @Root() org: Org,
    @Ctx() ctx: GraphQLContext,
    @Args() page: ConnectionArgs,
    @Arg("type", () => ProviderType, { nullable: true }) type?: ProviderType | null,
  ) {
    const filter = type ? { sql: (n: number) => `t.type = $${n}`, params: [type] } : undefined;
    const result = await ctx.loaders.page<Provider>("org.providers", { entity: Provider, ordering: byName, filter }, null, org.id, page, type ?? "");
    return toConnection(result, page, () => ctx.loaders.count("org.providers", Provider, null, org.id, filter, type ?? ""));
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ProviderObject, { nullable: true, description: "The org's default provider of the type, if an admin set one. DEVELOPER or ADMIN." })
  defaultProvider(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Arg("type", () => ProviderType, { defaultValue: ProviderType.AWS }) type: ProviderType) {
    return ctx.services.providers.defaultOf(ctx, type);
  }

  @FieldResolver(() => AppConnection, { description: "The org's apps, by name." })
  async apps(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<App>("org.apps", { entity: App, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.apps", App, null, org.id));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("listing the org's access keys"))
  @FieldResolver(() => AccessKeyConnection, { description: "The org's access keys (org keys and members' personal keys), by name. ADMIN, unscoped key." })
  async accessKeys(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<AccessKey>("org.accessKeys", { entity: AccessKey, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.accessKeys", AccessKey, null, org.id));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("listing the org's members"))
  @FieldResolver(() => [MemberType], { description: "The org's members and their roles, by email. ADMIN, unscoped key." })
  async members(@Root() org: Org, @Ctx() ctx: GraphQLContext) {
    const memberships = await ctx.em.findBy(Membership, { orgId: org.id });
    const users = memberships.length ? await ctx.em.findBy(User, { id: In(memberships.map((m) => m.userId)) }) : [];
    const byId = new Map(users.map((u) => [u.id, u]));
    return memberships
      .map((membership) => presentMember({ membership, user: byId.get(membership.userId)! }))
      .sort((a, b) => a.user.email.localeCompare(b.user.email));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("reading the org's whole audit trail"))
  @FieldResolver(() => AuditEventConnection, { description: "The org's audit trail, newest first. ADMIN, unscoped key." })
  auditEvents(
    @Root() org: Org,
    @Ctx() ctx: GraphQLContext,
    @Args() page: ConnectionArgs,
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter?: AuditEventFilter | null,
  ) {
    return auditEventsOf(ctx, org.id, filter, page);
  }
}

export { byName };
