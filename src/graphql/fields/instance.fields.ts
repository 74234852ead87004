import { Arg, Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { Instance, ProviderType, Role } from "../../entities/index.js";
import { targetOf } from "../../domain/resolution.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { presentResolution, loaded } from "../present.js";
import { InstanceObject, ProviderObject, ProviderResolution, ServiceObject } from "../types/objects.js";

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
}
