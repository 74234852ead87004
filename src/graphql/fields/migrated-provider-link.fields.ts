import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { MigratedLink } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { InstanceObject, ProviderObject, ServiceObject } from "../types/objects.js";
import { MigratedProviderLink } from "../types/profiles.js";

@Resolver(() => MigratedProviderLink)
export class MigratedProviderLinkFields {
  @FieldResolver(() => ServiceObject)
  service(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.service(link.serviceId);
  }

  @FieldResolver(() => InstanceObject, { nullable: true, description: "Null for a service link, and for a stage-wide instance the migration could not make (INSTANCE_LIMIT_REACHED)." })
  instance(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return link.instanceId ? ctx.loaders.instance(link.instanceId) : null;
  }

  @FieldResolver(() => ProviderObject, { description: "The provider from the stage's deployment profile." })
  provider(@Root() link: MigratedLink, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(link.providerId);
  }
}
