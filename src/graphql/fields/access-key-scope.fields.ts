import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { AccessScope } from "../../domain/context.js";
import type { GraphQLContext } from "../context.js";
import { AccessKeyScope, ProviderObject } from "../types/objects.js";

@Resolver(() => AccessKeyScope)
export class AccessKeyScopeFields {
  @FieldResolver(() => [ProviderObject], { nullable: true })
  async linkableProviders(@Root() scope: AccessScope, @Ctx() ctx: GraphQLContext) {
    if (!scope.linkableProviderIds) return null;
    // A provider deleted since the key was made is simply gone from the list.
    const providers = await Promise.all(scope.linkableProviderIds.map((id) => ctx.loaders.provider(id)));
    return providers.filter((p) => p !== null);
  }
}
