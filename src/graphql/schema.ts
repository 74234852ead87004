import path from "node:path";
import { isObjectType, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker, withCheckedArguments } from "./middleware.js";
import { AppResolver, InstanceResolver, ServiceResolver } from "./resolvers/catalog.resolver.js";
import { CredentialsMutations } from "./resolvers/credentials.resolver.js";
import { CatalogMutations, LinkMutations, ProviderMutations } from "./resolvers/mutation.resolver.js";
import { OrgResolver } from "./resolvers/org.resolver.js";
import {
  AppProfilesResolver,
  AppStageProfileResolver,
  DeploymentProfileResolver,
  MigratedDeploymentProfileResolver,
  MigratedProviderLinkResolver,
  OrgProfilesResolver,
  ProfileMutations,
  ProviderLinkConflictResolver,
  SkippedDeploymentProfileResolver,
} from "./resolvers/profiles.resolver.js";
import { ProviderResolver } from "./resolvers/provider.resolver.js";
import { AccessKeyResolver, AccessKeyScopeResolver, AccessMutations, AuditEventResolver, UserResolver } from "./resolvers/access.resolver.js";
import { QueryResolver, ViewerResolver } from "./resolvers/query.resolver.js";

export const resolvers = [
  QueryResolver,
  ViewerResolver,
  OrgResolver,
  AppResolver,
  ServiceResolver,
  InstanceResolver,
  ProviderResolver,
  AccessKeyResolver,
  AccessKeyScopeResolver,
  UserResolver,
  AuditEventResolver,
  CatalogMutations,
  ProviderMutations,
  LinkMutations,
  OrgProfilesResolver,
  AppProfilesResolver,
  DeploymentProfileResolver,
  AppStageProfileResolver,
  MigratedDeploymentProfileResolver,
  SkippedDeploymentProfileResolver,
  MigratedProviderLinkResolver,
  ProviderLinkConflictResolver,
  ProfileMutations,
  CredentialsMutations,
  AccessMutations,
] as const;

export const SCHEMA_FILE = path.join(__dirname, "..", "..", "..", "schema", "schema.graphql");

/**
 * Builds the schema; `emit` writes schema/schema.graphql, which is committed and reviewed. No global
 * middleware and no per-field plugin hook: either would wrap every field of every response (an async
 * call per field, thousands on a dashboard page), so what needs it — argument checking, and a mutation
 * not starting for a client that went away — wraps the resolvers of the fields that take arguments alone.
 */
export async function buildApiSchema(options: { emit?: boolean } = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    validate: { forbidUnknownValues: false },
    authChecker,
    authMode: "error",
    emitSchemaFile: options.emit ? { path: SCHEMA_FILE, sortedSchema: true } : false,
  });
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length > 0 && field.resolve) field.resolve = withCheckedArguments(field, field.resolve, type === schema.getMutationType());
    }
  }
  return schema;
}
