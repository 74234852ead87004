import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { AccessKey, Membership, Org, Role, User } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId } from "../global-id.js";
import { NotFoundError } from "../../domain/errors.js";
import { hasRole } from "../middleware.js";
import { Node } from "../types/common.js";
import { OrgType, Viewer } from "../types/objects.js";

const nullWhenNotFound = (error: unknown) => {
  if (error instanceof NotFoundError) return null;
  throw error;
};

@Resolver()
export class QueryResolver {
  @Authorized()
  @Query(() => Viewer, { description: "The caller: its access key, its user (for a personal key), its orgs and its role in each." })
  async viewer(@Ctx() ctx: GraphQLContext) {
    const org = await ctx.em.findOneByOrFail(Org, { id: ctx.orgId });
    const user = ctx.actor.userId ? await ctx.em.findOneBy(User, { id: ctx.actor.userId }) : null;
    let memberships = [{ org, role: ctx.actor.role }];
    if (user) {
      const rows = await ctx.em.findBy(Membership, { userId: user.id });
      const orgs = new Map((await ctx.em.findBy(Org, rows.map((m) => ({ id: m.orgId })))).map((o) => [o.id, o]));
      memberships = rows.map((m) => ({ org: orgs.get(m.orgId)!, role: m.role })).sort((a, b) => a.org.slug.localeCompare(b.org.slug));
    }
    return {
      // HTTP callers always carry a key; only server-side (CLI) contexts have none.
      accessKey: ctx.actor.accessKeyId ? await ctx.em.findOneByOrFail(AccessKey, { id: ctx.actor.accessKeyId }) : null,
      user,
      orgs: [org],
      memberships,
    };
  }

  @Authorized()
  @Query(() => OrgType, { nullable: true, description: "An org the caller belongs to, by slug; null for any other." })
  org(@Ctx() ctx: GraphQLContext, @Arg("slug") slug: string) {
    return ctx.services.catalog.orgBySlug(ctx, slug);
  }

  @Authorized()
  @Query(() => Node, {
    nullable: true,
    description: "Any object by global ID; null when it does not exist, is not the caller's, or is beyond the caller's role or key scope.",
  })
  async node(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    const parsed = fromGlobalId(id);
    if (!parsed) return null;
    const { loaders, actor } = ctx;
    const load = {
      Org: () => loaders.org(parsed.id),
      App: () => loaders.app(parsed.id),
      Service: () => loaders.service(parsed.id),
      Instance: () => loaders.instance(parsed.id),
      Provider: async () => (hasRole(actor.role, Role.DEVELOPER) ? loaders.provider(parsed.id) : null),
      DeploymentProfile: async () => (hasRole(actor.role, Role.DEVELOPER) ? loaders.deploymentProfile(parsed.id) : null),
      Parameter: async () => (hasRole(actor.role, Role.DEVELOPER) ? ctx.services.parameters.parameter(ctx, parsed.id).catch(nullWhenNotFound) : null),
      AccessKey: async () => {
        const key = await ctx.em.findOneBy(AccessKey, { id: parsed.id, orgId: ctx.orgId });
        return key && (hasRole(actor.role, Role.ADMIN) || key.id === actor.accessKeyId || (key.userId && key.userId === actor.userId)) ? key : null;
      },
      User: async () => {
        if (!hasRole(actor.role, Role.DEVELOPER) && parsed.id !== actor.userId) return null;
        const member = await ctx.em.existsBy(Membership, { orgId: ctx.orgId, userId: parsed.id });
        return member ? ctx.em.findOneBy(User, { id: parsed.id }) : null;
      },
    }[parsed.type as string];
    return load ? load() : null;
  }
}
