import { UpdateOrgSettingsInput, CreateAppInput, CreateInstanceInput, CreateServiceInput } from "../types/inputs.js";
import { UpdateOrgSettingsPayload, CreateAppPayload, CreateInstancePayload, CreateServicePayload } from "../types/payloads.js";
import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";

@Resolver()
export class CatalogOperations {
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
