import { Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { DeploymentProfile } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { ProviderObject } from "../types/objects.js";
import { DeploymentProfileObject } from "../types/profiles.js";

@Resolver(() => DeploymentProfileObject)
export class DeploymentProfileFields {
  @FieldResolver(() => ID)
  id(@Root() profile: DeploymentProfile) {
    return toGlobalId("DeploymentProfile", profile.id);
  }

  @FieldResolver(() => ProviderObject, { nullable: true, description: "The provider that stands for this profile since the migration." })
  migratedProvider(@Root() profile: DeploymentProfile, @Ctx() ctx: GraphQLContext) {
    return profile.migratedProviderId ? ctx.loaders.provider(profile.migratedProviderId) : null;
  }
}
