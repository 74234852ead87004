import { Parameter } from "../../entities/index.js";
import { byName, presentEffectiveParameter } from "../present.js";
import { Args, Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { Instance, Role, Service } from "../../entities/index.js";
import { assertInScope } from "../../domain/scope.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { byStageAndRegion, presentResolution, loaded } from "../present.js";
import { ConnectionArgs } from "../types/common.js";
import { EffectiveParametersArgs, EffectiveProviderArgs } from "../types/inputs.js";
import { toConnection } from "../types/connection.js";
import { AppObject, EffectiveParameterObject, InstanceConnection, ParameterConnection, ProviderObject, ProviderResolution, ServiceObject } from "../types/objects.js";

@Resolver(() => ServiceObject)
export class ServiceFields {
  @FieldResolver(() => ID)
  id(@Root() service: Service) {
    return toGlobalId("Service", service.id);
  }

  @FieldResolver(() => AppObject)
  app(@Root() service: Service, @Ctx() ctx: GraphQLContext) {
    return loaded(ctx.loaders.app(service.appId), "The app");
  }

  @FieldResolver(() => InstanceConnection, { description: "The service's instances, by stage and region." })
  async instances(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Instance>("service.instances", { entity: Instance, ordering: byStageAndRegion }, "service_id", service.id, page);
    return toConnection(result, page, () => ctx.loaders.count("service.instances", Instance, "service_id", service.id));
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => [ProviderObject], { description: "The providers linked to the service, at most one per type; its instances inherit them. DEVELOPER or ADMIN." })
  providers(@Root() service: Service, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.linkedProviders("service", service.id);
  }

  @FieldResolver(() => ProviderResolution, {
    nullable: true,
    description:
      "The provider a deployment of this service to the stage (and region) would use, and where it comes from, whether or not that instance exists yet. Null: use local credentials.",
  })
  async effectiveProvider(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() { stage, region, type }: EffectiveProviderArgs) {
    await assertStageInScope(ctx, service, stage);
    return presentResolution(ctx, await ctx.loaders.resolution(type, { serviceId: service.id, stage, region: region ?? null }));
  }

  @FieldResolver(() => ProviderResolution, {
    nullable: true,
    description: "The provider a deployment of this service to the stage (and region) would use. Null: use local credentials.",
    deprecationReason: "Use effectiveProvider(stage, region, type): the same answer, named like Instance.effectiveProvider.",
  })
  resolveProvider(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() args: EffectiveProviderArgs) {
    return this.effectiveProvider(service, ctx, args);
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on the service, by name; its instances inherit them. DEVELOPER or ADMIN." })
  async parameters(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("service.parameters", { entity: Parameter, ordering: byName }, "service_id", service.id, page);
    return toConnection(result, page, () => ctx.loaders.count("service.parameters", Parameter, "service_id", service.id));
  }

  @FieldResolver(() => [EffectiveParameterObject], {
    description: "The parameters a deployment of this service to the stage (and region) would read, whether or not that instance exists yet; by name.",
  })
  async effectiveParameters(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() { stage, region }: EffectiveParametersArgs) {
    await assertStageInScope(ctx, service, stage);
    const effective = await ctx.loaders.effectiveParameters({ serviceId: service.id, stage, region: region ?? null });
    return effective.map((e) => presentEffectiveParameter(ctx, e));
  }

  @FieldResolver(() => [EffectiveParameterObject], {
    description: "The parameters a deployment of this service to the stage (and region) would read; by name.",
    deprecationReason: "Use effectiveParameters(stage, region): the same answer, named like Instance.effectiveParameters.",
  })
  resolveParameters(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() args: EffectiveParametersArgs) {
    return this.effectiveParameters(service, ctx, args);
  }
}

/** A scoped key asks only about the stages of its scope, as it deploys only to them. */
async function assertStageInScope(ctx: GraphQLContext, service: Service, stage: string): Promise<void> {
  if (!ctx.actor.scope) return;
  const app = await loaded(ctx.loaders.app(service.appId), "The app");
  await assertInScope(ctx, { appName: app.name, serviceName: service.name, stage });
}
