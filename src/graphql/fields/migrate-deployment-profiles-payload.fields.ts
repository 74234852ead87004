import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { MigrationReport } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { MigrateDeploymentProfilesPayload } from "../types/profiles.js";

@Resolver(() => MigrateDeploymentProfilesPayload)
export class MigrateDeploymentProfilesPayloadFields {
  /** The run the mutation made, read through the request's loaders once its unit of work has committed it. */
  @FieldResolver()
  migration(@Root() payload: { report?: MigrationReport }, @Ctx() ctx: GraphQLContext) {
    return payload.report ? ctx.loaders.profileMigrationRun(payload.report.runId) : null;
  }
}
