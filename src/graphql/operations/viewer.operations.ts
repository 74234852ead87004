import { Args, Authorized, Ctx, ID, Query, Resolver, Arg } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId, type NodeTypeName } from "../global-id.js";
import { NotFoundError } from "../../domain/errors.js";
import { hasRole } from "../../domain/roles.js";
import { Node } from "../types/common.js";
import { OrgArgs } from "../types/inputs.js";
import type { Actor } from "../../domain/context.js";
import { OrgObject, Viewer } from "../types/objects.js";

const nullWhenNotFound = (error: unknown) => {
  if (error instanceof NotFoundError) return null;
  throw error;
};

@Resolver()
export class ViewerOperations {
  @Authorized()
  @Query(() => Viewer, { description: "The caller: its access key, its user (for a personal key), its orgs and its role in each." })
  viewer(@Ctx() ctx: GraphQLContext): Actor {
    // The authenticated actor; the key, user and orgs are loaded only when a field asks for them.
    return ctx.actor;
  }

  @Authorized()
  @Query(() => OrgObject, { nullable: true, description: "An org the caller belongs to, by slug; null for any other." })
  org(@Ctx() ctx: GraphQLContext, @Args() { slug }: OrgArgs) {
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
    // A Map, not an object literal: only the types listed here are looked up, never a prototype's member.
    const loadByType = new Map<NodeTypeName, () => Promise<unknown>>([
      ["Org", () => loaders.org(parsed.id)],
      ["App", () => loaders.app(parsed.id)],
      ["Service", () => loaders.service(parsed.id)],
      ["Instance", () => loaders.instance(parsed.id)],
      ["Provider", async () => (hasRole(actor.role, Role.DEVELOPER) ? loaders.provider(parsed.id) : null)],
      ["DeploymentProfile", async () => (hasRole(actor.role, Role.DEVELOPER) ? loaders.deploymentProfile(parsed.id) : null)],
      ["DeploymentProfileMigration", async () => (hasRole(actor.role, Role.ADMIN) && !actor.scope ? loaders.profileMigrationRun(parsed.id) : null)],
      ["Parameter", async () => (hasRole(actor.role, Role.DEVELOPER) ? ctx.services.parameters.parameter(ctx, parsed.id).catch(nullWhenNotFound) : null)],
      [
        "AccessKey",
        async () => {
          const key = await loaders.accessKey(parsed.id);
          return key && (hasRole(actor.role, Role.ADMIN) || key.id === actor.accessKeyId || (key.userId && key.userId === actor.userId)) ? key : null;
        },
      ],
      [
        "User",
        async () => {
          if (!hasRole(actor.role, Role.DEVELOPER) && parsed.id !== actor.userId) return null;
          return (await loaders.membership(parsed.id)) ? loaders.user(parsed.id) : null;
        },
      ],
    ]);
    const load = loadByType.get(parsed.type);
    return load ? load() : null;
  }
}
