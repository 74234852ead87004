import { Parameter } from "../../entities/index.js";

/** The org's own parameters: set on neither a service nor an instance. */
const ORG_LEVEL = { sql: () => "t.service_id IS NULL AND t.instance_id IS NULL", params: [] };
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Resolver, Root, UseMiddleware } from "type-graphql";
import { AccessKey, App, Org, Provider, ProviderType, Role, DeploymentProfile } from "../../entities/index.js";
import type { AuditFilter } from "../../domain/audit-trail.js";
import { AuditEventFilter } from "../types/inputs.js";
import type { GraphQLContext } from "../context.js";
import { fromGlobalId, toGlobalId } from "../global-id.js";
import { unscopedOnly } from "../middleware.js";
import { ConnectionArgs } from "../types/common.js";
import { toConnection } from "../types/connection.js";
import { AccessKeyConnection, AppConnection, AuditEventConnection, MemberObject, OrgObject, ParameterConnection, ProviderConnection, ProviderObject } from "../types/objects.js";
import { DeploymentProfileConnection, DeploymentProfileMigrationConnection, PROFILES_DEPRECATION } from "../types/profiles.js";
import { byName, presentMember } from "../present.js";

/** The API's audit filter in the domain's terms: global ids become the key, user or object they name. */
function auditFilterOf(filter: AuditEventFilter | null | undefined): AuditFilter | null {
  if (!filter) return null;
  const actor = filter.actorId ? fromGlobalId(filter.actorId) : null;
  const target = filter.targetId ? fromGlobalId(filter.targetId) : null;
  return {
    action: filter.action,
    actor: !filter.actorId ? null : actor?.type === "AccessKey" ? { accessKeyId: actor.id } : actor?.type === "User" ? { userId: actor.id } : "unknown",
    target: !filter.targetId ? null : target ? { id: target.id } : "unknown",
    from: filter.from,
    to: filter.to,
  };
}

@Resolver(() => OrgObject)
export class OrgFields {
  @FieldResolver(() => ID)
  id(@Root() org: Org) {
    return toGlobalId("Org", org.id);
  }

  @FieldResolver(() => Role, { description: "The caller's role in this org." })
  viewerRole(@Ctx() ctx: GraphQLContext) {
    return ctx.actor.role;
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ProviderConnection, { description: "The org's providers, by name. DEVELOPER or ADMIN." })
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

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ProviderObject, { nullable: true, description: "The org's default provider of the type, if an admin set one. DEVELOPER or ADMIN." })
  defaultProvider(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Arg("type", () => ProviderType, { defaultValue: ProviderType.AWS }) type: ProviderType) {
    return ctx.services.providers.defaultOf(ctx, type);
  }

  @FieldResolver(() => AppConnection, { description: "The org's apps, by name." })
  async apps(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<App>("org.apps", { entity: App, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.apps", App, null, org.id));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("listing the org's access keys"))
  @FieldResolver(() => AccessKeyConnection, { description: "The org's access keys (org keys and members' personal keys), by name. ADMIN, unscoped key." })
  async accessKeys(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<AccessKey>("org.accessKeys", { entity: AccessKey, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.accessKeys", AccessKey, null, org.id));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("listing the org's members"))
  @FieldResolver(() => [MemberObject], { description: "The org's members and their roles, by email. ADMIN, unscoped key." })
  async members(@Root() org: Org, @Ctx() ctx: GraphQLContext) {
    return (await ctx.services.members.list(ctx)).map(presentMember);
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("reading the org's whole audit trail"))
  @FieldResolver(() => AuditEventConnection, { description: "The org's audit trail, newest first. ADMIN, unscoped key." })
  async auditEvents(
    @Root() org: Org,
    @Ctx() ctx: GraphQLContext,
    @Args() page: ConnectionArgs,
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter?: AuditEventFilter | null,
  ) {
    const { page: result, totalCount } = await ctx.services.auditTrail.list(ctx, auditFilterOf(filter), page);
    return toConnection(result, page, totalCount);
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => DeploymentProfileConnection, {
    description: "The org's legacy deployment profiles, by name; for a scoped key, those mapped to its apps' `default` stage or its stages. DEVELOPER or ADMIN.",
    deprecationReason: PROFILES_DEPRECATION,
  })
  async deploymentProfiles(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<DeploymentProfile>("org.deploymentProfiles", { entity: DeploymentProfile, ordering: byName }, null, org.id, page);
    return toConnection(result, page, () => ctx.loaders.count("org.deploymentProfiles", DeploymentProfile, null, org.id));
  }

  @Authorized(Role.ADMIN)
  @UseMiddleware(unscopedOnly("listing the org's deployment-profile migrations"))
  @FieldResolver(() => DeploymentProfileMigrationConnection, {
    description: "Each run of the deployment-profile migration, newest first: when, what triggered it, who, and its report. ADMIN, unscoped key.",
  })
  async deploymentProfileMigrations(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const { page: result, totalCount } = await ctx.services.profileMigration.runs(ctx, page);
    return toConnection(result, page, totalCount);
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ParameterConnection, { description: "The parameters set on the org itself (by an admin), by name: every service inherits them. DEVELOPER or ADMIN." })
  async parameters(@Root() org: Org, @Ctx() ctx: GraphQLContext, @Args() page: ConnectionArgs) {
    const result = await ctx.loaders.page<Parameter>("org.parameters", { entity: Parameter, ordering: byName, filter: ORG_LEVEL }, null, org.id, page, "org-level");
    return toConnection(result, page, () => ctx.loaders.count("org.parameters", Parameter, null, org.id, ORG_LEVEL, "org-level"));
  }
}
