import { Args, Authorized, Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { App, Role, Service } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { byName, loaded } from "../present.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { AppObject, OrgObject, ServiceConnection } from "../types/objects.js";
import { AppStageProfileObject, PROFILES_DEPRECATION } from "../types/profiles.js";

@Resolver(() => AppObject)
export class AppFields {
  @FieldResolver(() => ID)
  id(@Root() app: App) {
    return toGlobalId("App", app.id);
  }

  @FieldResolver(() => OrgObject)
  org(@Root() app: App, @Ctx() ctx: GraphQLContext) {
    return loaded(ctx.loaders.org(app.orgId), "The org");
  }

  @FieldResolver(() => ServiceConnection, { description: "The app's services, by name." })
  async services(@Root() app: App, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Service>("app.services", { entity: Service, ordering: byName }, "app_id", app.id, page);
    return toConnection(result, page, () => ctx.loaders.count("app.services", Service, "app_id", app.id));
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => [AppStageProfileObject], {
    description: "The app's legacy stage → deployment profile mappings, `default` first; for a scoped key, `default` and its stages. DEVELOPER or ADMIN.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  stageProfiles(@Root() app: App, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.stageProfiles(app.id);
  }
}
