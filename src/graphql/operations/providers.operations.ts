import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate, payloadOf } from "../middleware.js";
import { credentialsFrom } from "../present.js";
import { CreateProviderInput, ProviderIdInput, UnsetDefaultProviderInput, UpdateProviderInput } from "../types/inputs.js";
import { CreateProviderPayload, DeleteProviderPayload, SetDefaultProviderPayload, UnsetDefaultProviderPayload, UpdateProviderPayload, RotateExternalIdPayload, VerifyProviderPayload } from "../types/payloads.js";

@Resolver()
export class ProviderOperations {
  @Authorized(Role.ADMIN)
  @Mutation(() => CreateProviderPayload, { description: "Adds a provider to the org. Its secrets are encrypted before they are stored." })
  createProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateProviderInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      return { provider: await tx.services.providers.create(tx, { name: input.name, credentials: credentialsFrom(input, true) }) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateProviderPayload, { description: "Renames a provider and/or replaces its credentials. Links stay as they are." })
  updateProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateProviderInput) {
    return mutate(ctx, async (tx) => ({
      provider: await tx.services.providers.update(tx, idOf("Provider", input.providerId), { name: input.name, credentials: credentialsFrom(input) }),
    }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeleteProviderPayload, { description: "Deletes a provider and its links; says how many links went." })
  deleteProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    return mutate(ctx, async (tx) => {
      const deleted = await tx.services.providers.delete(tx, idOf("Provider", input.providerId));
      return { ...deleted, deletedProviderId: input.providerId };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetDefaultProviderPayload, {
    description: "Makes the provider the org's default of its type: used where nothing is linked to the instance or service. Never set implicitly.",
  })
  setDefaultProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    return mutate(ctx, (tx) => tx.services.providers.setDefault(tx, idOf("Provider", input.providerId)));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UnsetDefaultProviderPayload, { description: "Leaves the org without a default provider of the type." })
  unsetDefaultProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: UnsetDefaultProviderInput) {
    return mutate(ctx, async (tx) => {
      const org = await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      return { org, previousDefault: await tx.services.providers.unsetDefault(tx, input.type) };
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
    return mutate(ctx, async (tx) => ({ provider: await tx.services.providers.rotateExternalId(tx, idOf("Provider", input.providerId)) }));
  }
}
