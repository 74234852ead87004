import { Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { ProfileMigrationRun, Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { presentStoredMigrationReport } from "../present.js";
import { AccessKeyObject, DeploymentProfileMigrationObject, InstanceObject } from "../types/objects.js";
import { DeploymentProfileMigrationReport } from "../types/profiles.js";

@Resolver(() => DeploymentProfileMigrationObject)
export class DeploymentProfileMigrationFields {
  @FieldResolver(() => ID)
  id(@Root() run: ProfileMigrationRun) {
    return toGlobalId("DeploymentProfileMigration", run.id);
  }

  @Authorized(Role.ADMIN)
  @FieldResolver(() => String, { description: "Who ran it, or whose deployment triggered it, as the audit trail names them. ADMIN." })
  actorLabel(@Root() run: ProfileMigrationRun) {
    return run.actorLabel;
  }

  @Authorized(Role.ADMIN)
  @FieldResolver(() => AccessKeyObject, { nullable: true, description: "The key that ran it or made the deployment that triggered it; null for the CLI. ADMIN." })
  actorKey(@Root() run: ProfileMigrationRun, @Ctx() ctx: GraphQLContext) {
    return run.actorKeyId ? ctx.loaders.accessKey(run.actorKeyId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: "The request it ran in (the X-Request-Id response header)." })
  requestId(@Root() run: ProfileMigrationRun) {
    return run.requestId;
  }

  @FieldResolver(() => InstanceObject, { nullable: true, description: "For AUTOMATIC: the instance whose deployment triggered it (null if deleted since, or outside a scoped key)." })
  deployment(@Root() run: ProfileMigrationRun, @Ctx() ctx: GraphQLContext) {
    return run.instanceId ? ctx.loaders.instance(run.instanceId) : null;
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => DeploymentProfileMigrationReport, { description: "What it did. DEVELOPER or ADMIN." })
  report(@Root() run: ProfileMigrationRun, @Ctx() ctx: GraphQLContext) {
    return presentStoredMigrationReport(ctx, run.report);
  }
}
