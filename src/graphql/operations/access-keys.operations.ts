import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { CreateAccessKeyInput, RevokeAccessKeyInput } from "../types/inputs.js";
import { CreateAccessKeyPayload, RevokeAccessKeyPayload } from "../types/payloads.js";

@Resolver()
export class AccessKeyOperations {
  @Authorized()
  @Mutation(() => CreateAccessKeyPayload, {
    description: "Creates an org key (admins) or a personal key (admins for any member, a member for themselves). The key is returned once.",
  })
  createAccessKey(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateAccessKeyInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      const { key, token } = await tx.services.accessKeys.create(tx, {
        name: input.name,
        userId: input.userId ? idOf("User", input.userId) : null,
        role: input.role ?? null,
        expiresAt: input.expiresAt ?? null,
        scope: input.scope
          ? {
              apps: input.scope.apps ?? null,
              services: input.scope.services ?? null,
              stages: input.scope.stages ?? null,
              linkableProviderIds: input.scope.linkableProviderIds?.map((id) => idOf("Provider", id)) ?? null,
            }
          : null,
        mayCreateStages: input.scope?.mayCreateStages ?? false,
      });
      return { accessKey: key, token };
    });
  }

  @Authorized()
  @Mutation(() => RevokeAccessKeyPayload, { description: "Revokes a key (admins: any; members: their own personal keys). It stops working on the next request." })
  revokeAccessKey(@Ctx() ctx: GraphQLContext, @Arg("input") input: RevokeAccessKeyInput) {
    return mutate(ctx, async (tx) => ({ accessKey: await tx.services.accessKeys.revoke(tx, idOf("AccessKey", input.keyId)) }));
  }
}
