import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { AccessKey, Org } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId } from "../global-id.js";
import { Node } from "../types/common.js";
import { OrgType, Viewer } from "../types/objects.js";

@Resolver()
export class QueryResolver {
  @Authorized()
  @Query(() => Viewer, { description: "The caller: its access key and the orgs it can act in." })
  async viewer(@Ctx() ctx: GraphQLContext) {
    return {
      // HTTP callers always carry a key; only server-side (CLI) contexts have none.
      accessKey: ctx.actor.accessKeyId ? await ctx.em.findOneByOrFail(AccessKey, { id: ctx.actor.accessKeyId }) : null,
      orgs: await ctx.em.findBy(Org, { id: ctx.orgId }),
    };
  }

  @Authorized()
  @Query(() => OrgType, { nullable: true, description: "An org the caller belongs to, by slug; null for any other." })
  org(@Ctx() ctx: GraphQLContext, @Arg("slug") slug: string) {
    return ctx.services.catalog.orgBySlug(ctx, slug);
  }

  @Authorized()
  @Query(() => Node, { nullable: true, description: "Any object by global ID; null when it does not exist or is not the caller's." })
  node(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    const parsed = fromGlobalId(id);
    if (!parsed) return null;
    const { loaders } = ctx;
    const load = {
      Org: () => loaders.org(parsed.id),
      App: () => loaders.app(parsed.id),
      Service: () => loaders.service(parsed.id),
      Instance: () => loaders.instance(parsed.id),
      Provider: () => loaders.provider(parsed.id),
      DeploymentProfile: () => loaders.deploymentProfile(parsed.id),
      AccessKey: () => ctx.em.findOneBy(AccessKey, { id: parsed.id, orgId: ctx.orgId }),
    }[parsed.type];
    return load ? load() : null;
  }
}
