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
    return mutate(ctx, async (tx) => ({
      deploymentProfile: await tx.services.profiles.createProfile(tx, idOf("Org", input.orgId), { name: input.name, roleArn: input.roleArn }),
    }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeleteDeploymentProfilePayload, {
    description: "Deletes a deployment profile and its stage mappings; providers and links made from it stay.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  deleteDeploymentProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeploymentProfileIdInput) {
    return mutate(ctx, async (tx) => {
      const { removedStageMappingCount } = await tx.services.profiles.deleteProfile(tx, idOf("DeploymentProfile", input.deploymentProfileId));
      return { deletedDeploymentProfileId: input.deploymentProfileId, removedStageMappingCount };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetAppStageProfilePayload, {
    description: "Maps an app's stage (or `default`) to a deployment profile, replacing the stage's previous one.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  setAppStageProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: SetAppStageProfileInput) {
    return mutate(ctx, async (tx) => {
      const stageProfile = await tx.services.profiles.setStageProfile(tx, idOf("App", input.appId), input.stage, idOf("DeploymentProfile", input.deploymentProfileId));
      return { stageProfile, app: await tx.services.catalog.app(tx, stageProfile.appId) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RemoveAppStageProfilePayload, { description: "Removes an app stage's deployment profile mapping.", deprecationReason: PROFILES_DEPRECATION })
  removeAppStageProfile(@Ctx() ctx: GraphQLContext, @Arg("input") input: RemoveAppStageProfileInput) {
    return mutate(ctx, async (tx) => {
      const appId = idOf("App", input.appId);
      await tx.services.profiles.removeStageProfile(tx, appId, input.stage);
      return { app: await tx.services.catalog.app(tx, appId) };
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
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      // The payload's migration (this run, as listed) is read once the unit has committed it: see
      // MigrateDeploymentProfilesPayloadFields.
      return { report: await tx.services.profileMigration.migrate(tx, "MANUAL") };
    });
  }
}
