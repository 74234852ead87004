import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { MigratedProfile } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { ProviderObject } from "../types/objects.js";
import { DeploymentProfileObject, MigratedDeploymentProfile } from "../types/profiles.js";

@Resolver(() => MigratedDeploymentProfile)
export class MigratedDeploymentProfileFields {
  @FieldResolver(() => DeploymentProfileObject, { nullable: true })
  profile(@Root() entry: MigratedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(entry.profileId);
  }

  @FieldResolver(() => ProviderObject)
  provider(@Root() entry: MigratedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(entry.providerId);
  }
}
