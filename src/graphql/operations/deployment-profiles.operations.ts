import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { CreateDeploymentProfileInput, CreateDeploymentProfilePayload, DeleteDeploymentProfilePayload, DeploymentProfileIdInput, MigrateDeploymentProfilesInput, MigrateDeploymentProfilesPayload, PROFILES_DEPRECATION, RemoveAppStageProfileInput, RemoveAppStageProfilePayload, SetAppStageProfileInput, SetAppStageProfilePayload } from "../types/profiles.js";

@Resolver()
export class DeploymentProfileOperations {
  @Authorized(Role.ADMIN)
  @Mutation(() => CreateDeploymentProfilePayload, { description: "Enters (or imports) a legacy deployment profile.", deprecationReason: PROFILES_DEPRECATION })
  createDeploymentProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateDeploymentProfileInput) {
    return mutate(ctx, async () => ({
      deploymentProfile: await ctx.services.profiles.createProfile(ctx, idOf("Org", input.orgId), { name: input.name, roleArn: input.roleArn }),
    }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeleteDeploymentProfilePayload, {
    description: "Deletes a deployment profile and its stage mappings; providers and links made from it stay.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  deleteDeploymentProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeploymentProfileIdInput) {
    return mutate(ctx, async () => {
      const { removedStageMappingCount } = await ctx.services.profiles.deleteProfile(ctx, idOf("DeploymentProfile", input.deploymentProfileId));
      return { deletedDeploymentProfileId: input.deploymentProfileId, removedStageMappingCount };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetAppStageProfilePayload, {
    description: "Maps an app's stage (or `default`) to a deployment profile, replacing the stage's previous one.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  setAppStageProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: SetAppStageProfileInput) {
    return mutate(ctx, async () => {
      const stageProfile = await ctx.services.profiles.setStageProfile(ctx, idOf("App", input.appId), input.stage, idOf("DeploymentProfile", input.deploymentProfileId));
      return { stageProfile, app: await ctx.services.catalog.app(ctx, stageProfile.appId) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RemoveAppStageProfilePayload, { description: "Removes an app stage's deployment profile mapping.", deprecationReason: PROFILES_DEPRECATION })
  removeAppStageProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: RemoveAppStageProfileInput) {
    return mutate(ctx, async () => {
      const appId = idOf("App", input.appId);
      await ctx.services.profiles.removeStageProfile(ctx, appId, input.stage);
      return { app: await ctx.services.catalog.app(ctx, appId) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => MigrateDeploymentProfilesPayload, {
    description:
      "Replaces the org's deployment profiles with providers and links, as the seed describes, and reports what it did. " +
      "Safe to repeat: a rerun adds only what no earlier run did (a link an admin removed after a migration stays removed), and reports what it skipped and why; links set by hand are never overwritten. " +
      "It also runs by itself on the org's first deployment credentials. Every run is listed by Org.deploymentProfileMigrations.",
  })
  migrateDeploymentProfiles(@Ctx() ctx: GraphQLContext, @Arg("input") input: MigrateDeploymentProfilesInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      const report = await ctx.services.profileMigration.migrate(ctx, "MANUAL");
      return {
        report,
        // A getter: read once the unit of work has committed the run, and only when selected.
        get migration() {
          return ctx.loaders.profileMigrationRun(report.runId);
        },
      };
    });
  }
}
