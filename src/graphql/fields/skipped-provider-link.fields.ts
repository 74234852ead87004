import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { MigratedLink, SkippedLink } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { DeploymentProfileMigrationObject } from "../types/objects.js";
import { MigratedProviderLink, SkippedProviderLink } from "../types/profiles.js";

@Resolver(() => SkippedProviderLink)
export class SkippedProviderLinkFields {
  @FieldResolver(() => MigratedProviderLink, { description: "The link the mapping asks for." })
  link(@Root() skipped: SkippedLink): MigratedLink {
    return skipped;
  }

  @FieldResolver(() => DeploymentProfileMigrationObject, { nullable: true, description: "For UNLINKED_SINCE and REPLACED_SINCE: the run that did the link." })
  earlierMigration(@Root() skipped: SkippedLink, @Ctx() ctx: GraphQLContext) {
    return skipped.earlierRunId ? ctx.loaders.profileMigrationRun(skipped.earlierRunId) : null;
  }
}
