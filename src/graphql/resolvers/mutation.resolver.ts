import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { credentialsFrom } from "../present.js";
import {
  CreateAppInput,
  CreateInstanceInput,
  CreateProviderInput,
  CreateServiceInput,
  UpdateOrgSettingsInput,
  InstanceProviderInput,
  ProviderIdInput,
  ServiceProviderInput,
  UnsetDefaultProviderInput,
  UpdateProviderInput,
} from "../types/inputs.js";
import {
  CreateAppPayload,
  CreateInstancePayload,
  CreateProviderPayload,
  CreateServicePayload,
  UpdateOrgSettingsPayload,
  DeleteProviderPayload,
  LinkProviderToInstancePayload,
  LinkProviderToServicePayload,
  SetDefaultProviderPayload,
  UnlinkProviderFromInstancePayload,
  UnlinkProviderFromServicePayload,
  UnsetDefaultProviderPayload,
  UpdateProviderPayload,
} from "../types/payloads.js";

/** Thin resolvers: authorize (decorator), call one domain method inside the mutation's transaction, return. */
@Resolver()
export class CatalogMutations {
  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateOrgSettingsPayload, { description: "Changes the org's settings; each one left out stays as it is. Audited." })
  updateOrgSettings(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateOrgSettingsInput) {
    return mutate(ctx, async () => ({
      org: await ctx.services.catalog.updateSettings(ctx, idOf("Org", input.orgId), { refuseUnenforcedExternalId: input.refuseUnenforcedExternalId }),
    }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateAppPayload)
  createApp(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateAppInput) {
    return mutate(ctx, async () => ({ app: await ctx.services.catalog.createApp(ctx, idOf("Org", input.orgId), input.name) }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateServicePayload)
  createService(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateServiceInput) {
    return mutate(ctx, async () => ({ service: await ctx.services.catalog.createService(ctx, idOf("App", input.appId), input.name) }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateInstancePayload)
  createInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateInstanceInput) {
    return mutate(ctx, async () => ({
      instance: await ctx.services.catalog.createInstance(ctx, idOf("Service", input.serviceId), input.stage, input.region ?? null),
    }));
  }
}

@Resolver()
export class ProviderMutations {
  @Authorized(Role.ADMIN)
  @Mutation(() => CreateProviderPayload, { description: "Adds a provider to the org. Its secrets are encrypted before they are stored." })
  createProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateProviderInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      return { provider: await ctx.services.providers.create(ctx, { name: input.name, credentials: credentialsFrom(input, true) }) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateProviderPayload, { description: "Renames a provider and/or replaces its credentials. Links stay as they are." })
  updateProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateProviderInput) {
    return mutate(ctx, async () => ({
      provider: await ctx.services.providers.update(ctx, idOf("Provider", input.providerId), { name: input.name, credentials: credentialsFrom(input) }),
    }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeleteProviderPayload, { description: "Deletes a provider and its links; says how many links went." })
  deleteProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    return mutate(ctx, async () => {
      const deleted = await ctx.services.providers.delete(ctx, idOf("Provider", input.providerId));
      return { ...deleted, deletedProviderId: input.providerId };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetDefaultProviderPayload, {
    description: "Makes the provider the org's default of its type: used where nothing is linked to the instance or service. Never set implicitly.",
  })
  setDefaultProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: ProviderIdInput) {
    return mutate(ctx, () => ctx.services.providers.setDefault(ctx, idOf("Provider", input.providerId)));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UnsetDefaultProviderPayload, { description: "Leaves the org without a default provider of the type." })
  unsetDefaultProvider(@Ctx() ctx: GraphQLContext, @Arg("input") input: UnsetDefaultProviderInput) {
    return mutate(ctx, async () => {
      const org = await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      return { org, previousDefault: await ctx.services.providers.unsetDefault(ctx, input.type) };
    });
  }
}

@Resolver()
export class LinkMutations {
  @Authorized(Role.DEVELOPER)
  @Mutation(() => LinkProviderToServicePayload, { description: "Links a provider to a service, replacing the service's provider of the same type." })
  linkProviderToService(@Ctx() ctx: GraphQLContext, @Arg("input") input: ServiceProviderInput) {
    return mutate(ctx, async () => {
      const change = await ctx.services.links.linkToService(ctx, idOf("Provider", input.providerId), idOf("Service", input.serviceId));
      return { service: change.target, provider: change.provider, replacedProvider: change.replacedProvider };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UnlinkProviderFromServicePayload)
  unlinkProviderFromService(@Ctx() ctx: GraphQLContext, @Arg("input") input: ServiceProviderInput) {
    return mutate(ctx, () => ctx.services.links.unlinkFromService(ctx, idOf("Provider", input.providerId), idOf("Service", input.serviceId)));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => LinkProviderToInstancePayload, { description: "Links a provider to an instance (overriding the service's), replacing the instance's provider of the same type." })
  linkProviderToInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: InstanceProviderInput) {
    return mutate(ctx, async () => {
      const change = await ctx.services.links.linkToInstance(ctx, idOf("Provider", input.providerId), idOf("Instance", input.instanceId));
      return { instance: change.target, provider: change.provider, replacedProvider: change.replacedProvider };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UnlinkProviderFromInstancePayload)
  unlinkProviderFromInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: InstanceProviderInput) {
    return mutate(ctx, () => ctx.services.links.unlinkFromInstance(ctx, idOf("Provider", input.providerId), idOf("Instance", input.instanceId)));
  }
}
