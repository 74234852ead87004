import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { App, Instance, ProviderType, Role, Service } from "../../entities/index.js";
import { NotFoundError } from "../../domain/errors.js";
import { targetOf } from "../../domain/resolution.js";
import { assertInScope } from "../../domain/scope.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { presentResolution } from "../present.js";
import { ConnectionArgs } from "../types/common.js";
import { ResolveProviderArgs } from "../types/inputs.js";
import { toConnection } from "../types/connection.js";
import { AppType, InstanceConnection, InstanceType, OrgType, ProviderObject, ProviderResolution, ServiceConnection, ServiceType } from "../types/objects.js";
import { byName } from "./org.resolver.js";

/** Matches the index IDX_instances_page, so each service's page is read off it. */
const byStageAndRegion = { sql: "t.stage || '/' || coalesce(t.region, '')" };

async function loaded<T>(value: Promise<T | null>, what: string): Promise<T> {
  const found = await value;
  if (!found) throw new NotFoundError(what);
  return found;
}

@Resolver(() => AppType)
export class AppResolver {
  @FieldResolver(() => ID)
  id(@Root() app: App) {
    return toGlobalId("App", app.id);
  }

  @FieldResolver(() => OrgType)
  org(@Root() app: App, @Ctx() ctx: GraphQLContext) {
    return loaded(ctx.loaders.org(app.orgId), "The org");
  }

  @FieldResolver(() => ServiceConnection, { description: "The app's services, by name." })
  async services(@Root() app: App, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Service>("app.services", { entity: Service, ordering: byName }, "app_id", app.id, page);
    return toConnection(result, page, () => ctx.loaders.count("app.services", Service, "app_id", app.id));
  }
}

@Resolver(() => ServiceType)
export class ServiceResolver {
  @FieldResolver(() => ID)
  id(@Root() service: Service) {
    return toGlobalId("Service", service.id);
  }

  @FieldResolver(() => AppType)
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
    description: "The provider a deployment of this service to the stage (and region) would use, whether or not that instance exists yet. Null: use local credentials.",
  })
  async resolveProvider(
    @Root() service: Service,
    @Ctx() ctx: GraphQLContext,
    @Args() { stage, region, type }: ResolveProviderArgs,
  ) {
    if (ctx.actor.scope) {
      const app = await loaded(ctx.loaders.app(service.appId), "The app");
      await assertInScope(ctx, { appName: app.name, serviceName: service.name, stage });
    }
    return presentResolution(ctx, await ctx.loaders.resolution(type, { serviceId: service.id, stage, region: region ?? null }));
  }
}

@Resolver(() => InstanceType)
export class InstanceResolver {
  @FieldResolver(() => ID)
  id(@Root() instance: Instance) {
    return toGlobalId("Instance", instance.id);
  }

  @FieldResolver(() => ServiceType)
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
