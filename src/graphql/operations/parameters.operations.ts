import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import { NotFoundError } from "../../domain/errors.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId, idOf } from "../global-id.js";
import { mutate, payloadOf } from "../middleware.js";
import { CreateParameterInput, DeploymentParametersInput, ParameterIdInput, UpdateParameterInput } from "../types/inputs.js";
import { CreateParameterPayload, DeleteParameterPayload, DeploymentParametersPayload, UpdateParameterPayload } from "../types/payloads.js";

/** Thin resolvers: authorize (decorator), call one domain method, return. */
@Resolver()
export class ParameterOperations {
  @Authorized(Role.DEVELOPER)
  @Mutation(() => CreateParameterPayload, {
    description: "Sets a parameter on an org (ADMIN only), a service or an instance. A name already set there is refused (NAME_TAKEN): change it with updateParameter.",
  })
  createParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateParameterInput) {
    return mutate(ctx, async (tx) => {
      const owner = fromGlobalId(input.ownerId);
      if (!owner) throw new NotFoundError("The org, service or instance");
      const { name, value, description, isSecret } = input;
      return { parameter: await tx.services.parameters.create(tx, owner, { name, value, description, secret: isSecret ?? false }) };
    });
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => UpdateParameterPayload, { description: "Replaces a parameter's value, description or secrecy. Its name and owner stay." })
  updateParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateParameterInput) {
    return mutate(ctx, async (tx) => ({
      parameter: await tx.services.parameters.update(tx, idOf("Parameter", input.parameterId), { value: input.value, description: input.description, secret: input.isSecret }),
    }));
  }

  @Authorized(Role.DEVELOPER)
  @Mutation(() => DeleteParameterPayload, { description: "Deletes a parameter; an inherited value of the same name applies again." })
  deleteParameter(@Ctx() ctx: GraphQLContext, @Arg("input") input: ParameterIdInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.parameters.delete(tx, idOf("Parameter", input.parameterId));
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
