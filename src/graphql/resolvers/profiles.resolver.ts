import { Args, Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { App, AppStageProfile, DeploymentProfile, Org, Role } from "../../entities/index.js";
import { DEFAULT_STAGE } from "../../domain/deployment-profiles.js";
import type { LinkConflict, MigratedLink, MigratedProfile, SkippedProfile } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { idOf, toGlobalId } from "../global-id.js";
import { mutate } from "../middleware.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { AppType, InstanceType, OrgType, ProviderObject, ServiceType } from "../types/objects.js";
import {
  AppStageProfileType,
  CreateDeploymentProfileInput,
  CreateDeploymentProfilePayload,
  DeleteDeploymentProfilePayload,
  DeploymentProfileConnection,
  DeploymentProfileIdInput,
  DeploymentProfileType,
  MigratedDeploymentProfile,
  MigratedProviderLink,
  MigrateDeploymentProfilesInput,
  MigrateDeploymentProfilesPayload,
  ProviderLinkConflict,
  PROFILES_DEPRECATION,
  RemoveAppStageProfileInput,
  RemoveAppStageProfilePayload,
  SetAppStageProfileInput,
  SetAppStageProfilePayload,
  SkippedDeploymentProfile,
} from "../types/profiles.js";
import { byName } from "./org.resolver.js";

@Resolver(() => OrgType)
export class OrgProfilesResolver {
  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => DeploymentProfileConnection, {
    description: "The org's legacy deployment profiles, by name; for a scoped key, those mapped to its apps' `default` stage or its stages. DEVELOPER or ADMIN.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  async deploymentProfiles(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<DeploymentProfile>("org.deploymentProfiles", { entity: DeploymentProfile, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.deploymentProfiles", DeploymentProfile, null, org.id));
  }
}

@Resolver(() => AppType)
export class AppProfilesResolver {
  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => [AppStageProfileType], {
    description: "The app's legacy stage → deployment profile mappings, `default` first; for a scoped key, `default` and its stages. DEVELOPER or ADMIN.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  stageProfiles(@Root() app: App, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.stageProfiles(app.id);
  }
}

@Resolver(() => DeploymentProfileType)
export class DeploymentProfileResolver {
  @FieldResolver(() => ID)
  id(@Root() profile: DeploymentProfile) {
    return toGlobalId("DeploymentProfile", profile.id);
  }

  @FieldResolver(() => ProviderObject, { nullable: true, description: "The provider that stands for this profile since the migration." })
  migratedProvider(@Root() profile: DeploymentProfile, @Ctx() ctx: GraphQLContext) {
    return profile.migratedProviderId ? ctx.loaders.provider(profile.migratedProviderId) : null;
  }
}

@Resolver(() => AppStageProfileType)
export class AppStageProfileResolver {
  @FieldResolver({ description: "Whether this is the app's `default` stage." })
  isDefaultStage(@Root() mapping: AppStageProfile): boolean {
    return mapping.stage === DEFAULT_STAGE;
  }

  @FieldResolver(() => DeploymentProfileType)
  profile(@Root() mapping: AppStageProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(mapping.profileId);
  }
}

@Resolver(() => MigratedDeploymentProfile)
export class MigratedDeploymentProfileResolver {
  @FieldResolver(() => DeploymentProfileType, { nullable: true })
  profile(@Root() entry: MigratedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(entry.profileId);
  }

  @FieldResolver(() => ProviderObject)
  provider(@Root() entry: MigratedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(entry.providerId);
  }
}

@Resolver(() => SkippedDeploymentProfile)
export class SkippedDeploymentProfileResolver {
  @FieldResolver(() => DeploymentProfileType, { nullable: true })
  profile(@Root() entry: SkippedProfile, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.deploymentProfile(entry.profileId);
  }
}

@Resolver(() => MigratedProviderLink)
export class MigratedProviderLinkResolver {
  @FieldResolver(() => ServiceType)
  service(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.service(link.serviceId);
  }

  @FieldResolver(() => InstanceType, { nullable: true, description: "Null for a service link." })
  instance(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return link.instanceId ? ctx.loaders.instance(link.instanceId) : null;
  }

  @FieldResolver(() => ProviderObject, { description: "The provider from the stage's deployment profile." })
  provider(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(link.providerId);
  }
}

@Resolver(() => ProviderLinkConflict)
export class ProviderLinkConflictResolver {
  @FieldResolver(() => MigratedProviderLink, { description: "The link the migration would have added." })
  link(@Root() conflict: LinkConflict): MigratedLink {
    return conflict;
  }

  @FieldResolver(() => ProviderObject, { description: "The provider linked by hand, which stays." })
  linkedProvider(@Root() conflict: LinkConflict, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(conflict.linkedProviderId);
  }
}

/** Thin resolvers over DeploymentProfileService and ProfileMigrationService: authorize, one domain call in the mutation's transaction, return. */
@Resolver()
export class ProfileMutations {
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
      "Safe to repeat; links set by hand are never overwritten. It also runs by itself on the org's first deployment credentials.",
  })
  migrateDeploymentProfiles(@Ctx() ctx: GraphQLContext, @Arg("input") input: MigrateDeploymentProfilesInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      return { report: await ctx.services.profileMigration.migrate(ctx, "MANUAL") };
    });
  }
}
