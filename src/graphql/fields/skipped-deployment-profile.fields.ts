import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { SkippedProfile } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { DeploymentProfileObject, SkippedDeploymentProfile } from "../types/profiles.js";

@Resolver(() => SkippedDeploymentProfile)
export class SkippedDeploymentProfileFields {
  @FieldResolver(() => DeploymentProfileObject, { nullable: true })
  profile(@Root() entry: SkippedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(entry.profileId);
  }
}
