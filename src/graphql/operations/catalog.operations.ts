import { UpdateOrgSettingsInput, CreateAppInput, CreateInstanceInput, CreateServiceInput, DeleteAppInput, DeleteInstanceInput, DeleteServiceInput } from "../types/inputs.js";
import {
  UpdateOrgSettingsPayload,
  CreateAppPayload,
  CreateInstancePayload,
  CreateServicePayload,
  DeleteAppPayload,
  DeleteInstancePayload,
  DeleteServicePayload,
} from "../types/payloads.js";
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
    return mutate(ctx, async (tx) => ({
      org: await tx.services.catalog.updateSettings(tx, idOf("Org", input.orgId), {
        refuseUnenforcedExternalId: input.refuseUnenforcedExternalId,
        refuseNewStages: input.refuseNewStages,
      }),
    }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateAppPayload)
  createApp(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateAppInput) {
    return mutate(ctx, async (tx) => ({ app: await tx.services.catalog.createApp(tx, idOf("Org", input.orgId), input.name) }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateServicePayload)
  createService(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateServiceInput) {
    return mutate(ctx, async (tx) => ({ service: await tx.services.catalog.createService(tx, idOf("App", input.appId), input.name) }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateInstancePayload)
  createInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateInstanceInput) {
    return mutate(ctx, async (tx) => ({
      instance: await tx.services.catalog.createInstance(tx, idOf("Service", input.serviceId), input.stage, input.region ?? null),
    }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => DeleteAppPayload, { description: "Deletes an app with its services and instances (and, with force, their provider links). Audited." })
  deleteApp(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeleteAppInput) {
    return mutate(ctx, async (tx) => ({ ...(await tx.services.catalog.deleteApp(tx, idOf("App", input.appId), input.force)), deletedAppId: input.appId }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => DeleteServicePayload, { description: "Deletes a service with its instances (and, with force, their provider links). Audited." })
  deleteService(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeleteServiceInput) {
    return mutate(ctx, async (tx) => ({ ...(await tx.services.catalog.deleteService(tx, idOf("Service", input.serviceId), input.force)), deletedServiceId: input.serviceId }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => DeleteInstancePayload, {
    description: "Deletes an instance, such as one a mistyped stage created (and, with force, its provider links). A later deployment to it creates it again. Audited.",
  })
  deleteInstance(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeleteInstanceInput) {
    return mutate(ctx, async (tx) => ({ ...(await tx.services.catalog.deleteInstance(tx, idOf("Instance", input.instanceId), input.force)), deletedInstanceId: input.instanceId }));
  }
}
