import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { AppStageProfile } from "../../entities/index.js";
import { DEFAULT_STAGE } from "../../domain/deployment-profiles.js";
import type { GraphQLContext } from "../context.js";
import { AppStageProfileObject, DeploymentProfileObject } from "../types/profiles.js";

@Resolver(() => AppStageProfileObject)
export class AppStageProfileFields {
  @FieldResolver({ description: "Whether this is the app's `default` stage." })
  isDefaultStage(@Root() mapping: AppStageProfile): boolean {
    return mapping.stage === DEFAULT_STAGE;
  }

  @FieldResolver(() => DeploymentProfileObject)
  profile(@Root() mapping: AppStageProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(mapping.profileId);
  }
}
