import { Arg, Args, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { App, Org, Provider, ProviderType, Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { AppConnection, OrgType, ProviderConnection, ProviderObject } from "../types/objects.js";

const byName = { sql: "t.name", valueOf: (row: { name: string }) => row.name };

@Resolver(() => OrgType)
export class OrgResolver {
  @FieldResolver(() => ID)
  id(@Root() org: Org) {
    return toGlobalId("Org", org.id);
  }

  @FieldResolver(() => Role, { description: "The caller's role in this org." })
  viewerRole(@Ctx() ctx: GraphQLContext) {
    return ctx.actor.role;
  }

  @FieldResolver(() => ProviderConnection, { description: "The org's providers, by name." })
  async providers(
    @Root() org: Org,
    @Ctx() ctx: GraphQLContext,
    @Args() page: ConnectionArgs,
    @Arg("type", () => ProviderType, { nullable: true }) type?: ProviderType | null,
  ) {
    const filter = type ? { sql: (n: number) => `t.type = $${n}`, params: [type] } : undefined;
    const result = await ctx.loaders.page<Provider>("org.providers", { entity: Provider, ordering: byName, filter }, null, org.id, page, type ?? "");
    return toConnection(result, page, () => ctx.loaders.count("org.providers", Provider, null, org.id, filter, type ?? ""));
  }

  @FieldResolver(() => ProviderObject, { nullable: true, description: "The org's default provider of the type, if an admin set one." })
  defaultProvider(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Arg("type", () => ProviderType, { defaultValue: ProviderType.AWS }) type: ProviderType) {
    return ctx.services.providers.defaultOf(ctx, type);
  }

  @FieldResolver(() => AppConnection, { description: "The org's apps, by name." })
  async apps(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<App>("org.apps", { entity: App, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.apps", App, null, org.id));
  }
}

export { byName };
