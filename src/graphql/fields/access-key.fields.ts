import { Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { AccessKey, Role } from "../../entities/index.js";
import { accessKeyKindOf, scopeOf, AccessKeyKind } from "../../domain/access-keys.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { AccessKeyScope, AccessKeyObject, UserObject } from "../types/objects.js";

@Resolver(() => AccessKeyObject)
export class AccessKeyFields {
  @FieldResolver(() => ID)
  id(@Root() key: AccessKey) {
    return toGlobalId("AccessKey", key.id);
  }

  @FieldResolver(() => AccessKeyKind)
  kind(@Root() key: AccessKey) {
    return accessKeyKindOf(key);
  }

  @FieldResolver(() => Role, { nullable: true, description: "What the key may do: an org key's own role, or a personal key's member's current role (null once they left)." })
  async role(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    if (key.role) return key.role;
    return (await ctx.loaders.membership(key.userId!))?.role ?? null;
  }

  @FieldResolver(() => UserObject, { nullable: true, description: "The user a personal key acts as." })
  user(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    return key.userId ? ctx.loaders.user(key.userId) : null;
  }

  @FieldResolver(() => AccessKeyObject, { nullable: true, description: "The key that created this one; null for keys made with the CLI." })
  createdBy(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    return key.createdByKeyId ? ctx.loaders.accessKey(key.createdByKeyId) : null;
  }

  @FieldResolver(() => Boolean, {
    description: "Whether this org key may add a stage to a service when the org refuses new stages (set with createAccessKey's scope.mayCreateStages).",
  })
  mayCreateStages(@Root() key: AccessKey) {
    return key.scopeMayCreateStages;
  }

  @FieldResolver(() => AccessKeyScope, { nullable: true, description: "Null: the key is not limited to some apps, services or stages." })
  scope(@Root() key: AccessKey) {
    const scope = scopeOf(key);
    return scope && { ...scope, mayCreateStages: key.scopeMayCreateStages };
  }
}
