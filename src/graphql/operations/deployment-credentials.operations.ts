import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { payloadOf } from "../middleware.js";
import { presentResolution } from "../present.js";
import { DeploymentCredentialsInput } from "../types/inputs.js";
import { DeploymentCredentialsPayload } from "../types/payloads.js";

@Resolver()
export class DeploymentCredentialsOperations {
  @Authorized(Role.DEPLOYER)
  @Mutation(() => DeploymentCredentialsPayload, {
    description:
      "What a CI pipeline calls before deploying: records the instance (creating app, service and instance on first use), resolves the provider and returns fresh credentials. `credentials: null` with `useLocalCredentials: true` means no provider applies.",
  })
  deploymentCredentials(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeploymentCredentialsInput) {
    // No transaction around it: the service keeps none open across its STS call.
    return payloadOf(ctx, async () => {
      const issued = await ctx.services.credentials.issue(ctx, {
        org: input.org,
        app: input.app,
        service: input.service,
        stage: input.stage,
        region: input.region ?? null,
        type: input.type,
        durationSeconds: input.sessionDurationSeconds ?? null,
      });
      return {
        credentials: issued.credentials,
        resolution: presentResolution(ctx, issued.resolution),
        instance: issued.instance,
        useLocalCredentials: issued.credentials === null,
        warnings: issued.warnings,
        profileMigration: issued.profileMigration ? ctx.loaders.profileMigrationRun(issued.profileMigration.runId) : null,
      };
    });
  }
}
