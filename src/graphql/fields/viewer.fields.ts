import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../context.js";
import type { Actor } from "../../domain/context.js";
import { AccessKeyObject, OrgObject, UserObject, Viewer, ViewerMembership } from "../types/objects.js";

@Resolver(() => Viewer)
export class ViewerFields {
  @FieldResolver(() => AccessKeyObject)
  accessKey(@Root() actor: Actor, @Ctx() ctx: GraphQLContext) {
    // HTTP callers always carry a key; only server-side (CLI) contexts have none.
    return actor.accessKeyId ? ctx.loaders.accessKey(actor.accessKeyId) : null;
  }

  @FieldResolver(() => UserObject, { nullable: true })
  user(@Root() actor: Actor, @Ctx() ctx: GraphQLContext) {
    return actor.userId ? ctx.loaders.user(actor.userId) : null;
  }

  @FieldResolver(() => [OrgObject])
  async orgs(@Root() actor: Actor, @Ctx() ctx: GraphQLContext) {
    return [await ctx.loaders.org(actor.orgId)];
  }

  @FieldResolver(() => [ViewerMembership])
  memberships(@Ctx() ctx: GraphQLContext) {
    return ctx.services.members.orgsOfCaller(ctx);
  }
}
