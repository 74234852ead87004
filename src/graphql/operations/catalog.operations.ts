import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { CreateAppInput, CreateInstanceInput, CreateServiceInput } from "../types/inputs.js";
import { CreateAppPayload, CreateInstancePayload, CreateServicePayload } from "../types/payloads.js";

@Resolver()
export class CatalogOperations {
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
