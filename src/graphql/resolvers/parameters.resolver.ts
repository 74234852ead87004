import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { Instance, Org, Parameter, Role, Service } from "../../entities/index.js";
import { NotFoundError } from "../../domain/errors.js";
import { ParameterSource, sourceOf, type EffectiveParameter as Effective } from "../../domain/parameter-resolution.js";
import { assertInScope } from "../../domain/scope.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId, idOf, toGlobalId } from "../global-id.js";
import { mutate, payloadOf } from "../middleware.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { InstanceType, OrgType, ServiceType } from "../types/objects.js";
import {
  CreateParameterInput,
  CreateParameterPayload,
  DeleteParameterPayload,
  DeploymentParametersInput,
  DeploymentParametersPayload,
  EffectiveParameter,
  ParameterConnection,
  ParameterIdInput,
  ParameterType,
  UpdateParameterInput,
  UpdateParameterPayload,
} from "../types/parameters.js";

const byName = { sql: "t.name", valueOf: (row: { name: string }) => row.name };
const ORG_LEVEL = { sql: () => "t.service_id IS NULL AND t.instance_id IS NULL", params: [] };

/** An effective value as the API shows it: where it is set, and a sentence saying why it applies. */
function present(ctx: GraphQLContext, { parameter, source, stageWide }: Effective) {
  const explanation = {
    [ParameterSource.INSTANCE]: stageWide ? "Set on the stage-wide instance of this stage, which covers every region." : "Set on this instance.",
    [ParameterSource.SERVICE]: "Not set on the instance, so it inherits the service's value.",
    [ParameterSource.ORG]: "Not set on the instance or the service, so the org's value applies.",
  }[source];
  return {
    name: parameter.name,
    parameter,
    source,
    instance: parameter.instanceId ? ctx.loaders.instance(parameter.instanceId) : null,
    service: source === ParameterSource.SERVICE ? ctx.loaders.service(parameter.serviceId!) : null,
    explanation,
  };
}

@Resolver(() => ParameterType)
export class ParameterResolver {
  @FieldResolver(() => ID)
  id(@Root() parameter: Parameter) {
    return toGlobalId("Parameter", parameter.id);
  }

  @FieldResolver(() => ParameterSource)
  level(@Root() parameter: Parameter) {
    return sourceOf(parameter);
  }

  @FieldResolver(() => ServiceType, { nullable: true, description: "The service it is set on; null for one set on an instance or the org." })
  service(@Root() parameter: Parameter, @Ctx() ctx: GraphQLContext) {
    return parameter.serviceId ? ctx.loaders.service(parameter.serviceId) : null;
  }

  @FieldResolver(() => InstanceType, { nullable: true, description: "The instance it is set on; null for one set on a service or the org." })
  instance(@Root() parameter: Parameter, @Ctx() ctx: GraphQLContext) {
    return parameter.instanceId ? ctx.loaders.instance(parameter.instanceId) : null;
  }
}

@Resolver(() => OrgType)
export class OrgParametersResolver {
  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on the org itself (by an admin), by name: every service inherits them. DEVELOPER or ADMIN." })
  async parameters(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("org.parameters", { entity: Parameter, ordering: byName, filter: ORG_LEVEL }, null, org.id, page, "org-level");
    return toConnection(result, page, () => ctx.loaders.count("org.parameters", Parameter, null, org.id, ORG_LEVEL, "org-level"));
  }
}

@Resolver(() => ServiceType)
export class ServiceParametersResolver {
  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on the service, by name; its instances inherit them. DEVELOPER or ADMIN." })
  async parameters(@Root() service: Service, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("service.parameters", { entity: Parameter, ordering: byName }, "service_id", service.id, page);
    return toConnection(result, page, () => ctx.loaders.count("service.parameters", Parameter, "service_id", service.id));
  }

  @FieldResolver(() => [EffectiveParameter], {
    description: "The parameters a deployment of this service to the stage (and region) would read, whether or not that instance exists yet; by name.",
  })
  async resolveParameters(
    @Root() service: Service,
    @Ctx() ctx: GraphQLContext,
    @Arg("stage") stage: string,
    @Arg("region", () => String, { nullable: true }) region: string | null,
  ) {
    if (ctx.actor.scope) {
      const app = await ctx.loaders.app(service.appId);
      if (!app) throw new NotFoundError("The app");
      await assertInScope(ctx, { appName: app.name, serviceName: service.name, stage });
    }
    const effective = await ctx.loaders.effectiveParameters({ serviceId: service.id, stage, region: region ?? null });
    return effective.map((e) => present(ctx, e));
  }
}

@Resolver(() => InstanceType)
export class InstanceParametersResolver {
  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on this instance itself, by name. DEVELOPER or ADMIN." })
  async parameters(@Root() instance: Instance, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("instance.parameters", { entity: Parameter, ordering: byName }, "instance_id", instance.id, page);
    return toConnection(result, page, () => ctx.loaders.count("instance.parameters", Parameter, "instance_id", instance.id));
  }

  @FieldResolver(() => [EffectiveParameter], {
    description: "The parameters a deployment of this instance reads, by name: for each name the nearest value (instance, stage-wide instance, service, org) and where it comes from.",
  })
  async effectiveParameters(@Root() instance: Instance, @Ctx() ctx: GraphQLContext) {
    const effective = await ctx.loaders.effectiveParameters({ serviceId: instance.serviceId, stage: instance.stage, region: instance.region });
    return effective.map((e) => present(ctx, e));
  }
}

/** Thin resolvers: authorize (decorator), call one domain method, return. */
@Resolver()
export class ParameterMutations {
  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateParameterPayload, {
    description: "Sets a parameter on an org (ADMIN only), a service or an instance. A name already set there is refused (NAME_TAKEN): change it with updateParameter.",
  })
  createParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateParameterInput) {
    return mutate(ctx, async () => {
      const owner = fromGlobalId(input.ownerId);
      if (!owner) throw new NotFoundError("The org, service or instance");
      const { ownerId: _ownerId, ...values } = input;
      return { parameter: await ctx.services.parameters.create(ctx, owner, values) };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UpdateParameterPayload, { description: "Replaces a parameter's value, description or secrecy. Its name and owner stay." })
  updateParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateParameterInput) {
    return mutate(ctx, async () => ({
      parameter: await ctx.services.parameters.update(ctx, idOf("Parameter", input.parameterId), { value: input.value, description: input.description, secret: input.secret }),
    }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => DeleteParameterPayload, { description: "Deletes a parameter; an inherited value of the same name applies again." })
  deleteParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: ParameterIdInput) {
    return mutate(ctx, async () => {
      await ctx.services.parameters.delete(ctx, idOf("Parameter", input.parameterId));
      return { deletedParameterId: input.parameterId };
    });
  }

  @Authorized(Role.DEPLOYER)
  @Mutation(() => DeploymentParametersPayload, {
    description:
      "What a CI step calls before deploying (alone, or beside deploymentCredentials in the same request): the effective parameters of the service/stage/region, secret values included. Audited by name, never by value; creates nothing.",
  })
  deploymentParameters(@Ctx() ctx: GraphQLContext, @Arg("input") input: DeploymentParametersInput) {
    return payloadOf(ctx, async () => ({
      parameters: await ctx.services.parameters.forDeployment(ctx, { org: input.org, app: input.app, service: input.service, stage: input.stage, region: input.region ?? null }),
    }));
  }
}
