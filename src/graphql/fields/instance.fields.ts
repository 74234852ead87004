import { Args } from "type-graphql";
import { Parameter } from "../../entities/index.js";
import { byName, presentEffectiveParameter } from "../present.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { Arg, Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { Instance, ProviderType, Role } from "../../entities/index.js";
import { targetOf } from "../../domain/resolution.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { presentResolution, loaded } from "../present.js";
import { EffectiveParameterObject, InstanceObject, ParameterConnection, ProviderObject, ProviderResolution, ServiceObject } from "../types/objects.js";

@Resolver(() => InstanceObject)
export class InstanceFields {
  @FieldResolver(() => ID)
  id(@Root() instance: Instance) {
    return toGlobalId("Instance", instance.id);
  }

  @FieldResolver(() => ServiceObject)
  service(@Root() instance: Instance, @Ctx() ctx: GraphQLContext) {
    return loaded(ctx.loaders.service(instance.serviceId), "The service");
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => [ProviderObject], { description: "The providers linked to this instance itself, at most one per type. DEVELOPER or ADMIN." })
  providers(@Root() instance: Instance, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.linkedProviders("instance", instance.id);
  }

  @FieldResolver(() => ProviderResolution, {
    nullable: true,
    description: "The provider a deployment of this instance uses, and where it comes from. Null: no provider applies; use local credentials.",
  })
  async effectiveProvider(
    @Root() instance: Instance,
    @Ctx() ctx: GraphQLContext,
    @Arg("type", () => ProviderType, { defaultValue: ProviderType.AWS }) type: ProviderType,
  ) {
    return presentResolution(ctx, await ctx.loaders.resolution(type, targetOf(instance)));
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on this instance itself, by name. DEVELOPER or ADMIN." })
  async parameters(@Root() instance: Instance, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("instance.parameters", { entity: Parameter, ordering: byName }, "instance_id", instance.id, page);
    return toConnection(result, page, () => ctx.loaders.count("instance.parameters", Parameter, "instance_id", instance.id));
  }

  @FieldResolver(() => [EffectiveParameterObject], {
    description: "The parameters a deployment of this instance reads, by name: for each name the nearest value (instance, stage-wide instance, service, org) and where it comes from.",
  })
  async effectiveParameters(@Root() instance: Instance, @Ctx() ctx: GraphQLContext) {
    const effective = await ctx.loaders.effectiveParameters({ serviceId: instance.serviceId, stage: instance.stage, region: instance.region });
    return effective.map((e) => presentEffectiveParameter(ctx, e));
  }
}
