import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate, payloadOf } from "../middleware.js";
import { presentResolution } from "../present.js";
import { DeploymentCredentialsInput, ProviderIdInput } from "../types/inputs.js";
import { DeploymentCredentialsPayload, RotateExternalIdPayload, VerifyProviderPayload } from "../types/payloads.js";

@Resolver()
export class CredentialsMutations {
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
        durationSeconds: input.durationSeconds ?? null,
      });
      return {
        credentials: issued.credentials,
        resolution: presentResolution(ctx, issued.resolution),
        instance: issued.instance,
        useLocalCredentials: issued.credentials === null,
      };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => VerifyProviderPayload, {
    description: "Tests an AWS provider: gets a session (or uses the key), reports the account and ARN, and checks that a role cannot be assumed without its external id.",
  })
  verifyProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    // No transaction around it: nothing is held across the STS calls, and the audit event is one insert.
    return payloadOf(ctx, () => ctx.services.verification.verify(ctx, idOf("Provider", input.providerId)));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RotateExternalIdPayload, {
    description: "Gives an AWS role provider a new external id. Deployments fail until the role's trust policy names the new one.",
  })
  rotateExternalId(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    return mutate(ctx, async () => ({ provider: await ctx.services.providers.rotateExternalId(ctx, idOf("Provider", input.providerId)) }));
  }
}
