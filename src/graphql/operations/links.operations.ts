import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { InstanceProviderInput, ServiceProviderInput } from "../types/inputs.js";
import { LinkProviderToInstancePayload, LinkProviderToServicePayload, UnlinkProviderFromInstancePayload, UnlinkProviderFromServicePayload } from "../types/payloads.js";

@Resolver()
export class LinkOperations {
  @Authorized(Role.DEVELOPER)
  @Mutation(() => LinkProviderToServicePayload, { description: "Links a provider to a service, replacing the service's provider of the same type." })
  linkProviderToService(@Ctx() ctx: GraphQLContext, @Arg("input") input: ServiceProviderInput) {
    return mutate(ctx, async (tx) => {
      const change = await tx.services.links.linkToService(tx, idOf("Provider", input.providerId), idOf("Service", input.serviceId));
      return { service: change.target, provider: change.provider, replacedProvider: change.replacedProvider };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UnlinkProviderFromServicePayload)
  unlinkProviderFromService(@Ctx() ctx: GraphQLContext, @Arg("input") input: ServiceProviderInput) {
    return mutate(ctx, (tx) => tx.services.links.unlinkFromService(tx, idOf("Provider", input.providerId), idOf("Service", input.serviceId)));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => LinkProviderToInstancePayload, { description: "Links a provider to an instance (overriding the service's), replacing the instance's provider of the same type." })
  linkProviderToInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: InstanceProviderInput) {
    return mutate(ctx, async (tx) => {
      const change = await tx.services.links.linkToInstance(tx, idOf("Provider", input.providerId), idOf("Instance", input.instanceId));
      return { instance: change.target, provider: change.provider, replacedProvider: change.replacedProvider };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UnlinkProviderFromInstancePayload)
  unlinkProviderFromInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: InstanceProviderInput) {
    return mutate(ctx, (tx) => tx.services.links.unlinkFromInstance(tx, idOf("Provider", input.providerId), idOf("Instance", input.instanceId)));
  }
}
