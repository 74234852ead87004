import { Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { Parameter } from "../../entities/index.js";
import { ParameterSource, sourceOf } from "../../domain/parameter-resolution.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { InstanceObject, ParameterObject, ServiceObject } from "../types/objects.js";

@Resolver(() => ParameterObject)
export class ParameterFields {
  @FieldResolver(() => ID)
  id(@Root() parameter: Parameter) {
    return toGlobalId("Parameter", parameter.id);
  }

  @FieldResolver(() => ParameterSource)
  level(@Root() parameter: Parameter) {
    return sourceOf(parameter);
  }

  @FieldResolver(() => ServiceObject, { nullable: true, description: "The service it is set on; null for one set on an instance or the org." })
  service(@Root() parameter: Parameter, @Ctx() ctx: GraphQLContext) {
    return parameter.serviceId ? ctx.loaders.service(parameter.serviceId) : null;
  }

  @FieldResolver(() => InstanceObject, { nullable: true, description: "The instance it is set on; null for one set on a service or the org." })
  instance(@Root() parameter: Parameter, @Ctx() ctx: GraphQLContext) {
    return parameter.instanceId ? ctx.loaders.instance(parameter.instanceId) : null;
  }
}
