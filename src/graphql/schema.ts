import path from "node:path";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker, inputValidationAsUserErrors } from "./middleware.js";
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
import {
  InstanceParametersResolver,
  OrgParametersResolver,
  ParameterMutations,
  ParameterResolver,
  ServiceParametersResolver,
} from "./resolvers/parameters.resolver.js";
import { ProviderResolver } from "./resolvers/provider.resolver.js";
import { AccessKeyResolver, AccessMutations, AuditEventResolver, UserResolver } from "./resolvers/access.resolver.js";
import { QueryResolver } from "./resolvers/query.resolver.js";

export const resolvers = [
  QueryResolver,
  OrgResolver,
  AppResolver,
  ServiceResolver,
  InstanceResolver,
  ProviderResolver,
  AccessKeyResolver,
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
  ParameterResolver,
  OrgParametersResolver,
  ServiceParametersResolver,
  InstanceParametersResolver,
  ParameterMutations,
] as const;

export const SCHEMA_FILE = path.join(__dirname, "..", "..", "..", "schema", "schema.graphql");

/** Builds the schema; `emit` writes schema/schema.graphql, which is committed and reviewed. */
export function buildApiSchema(options: { emit?: boolean } = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    validate: { forbidUnknownValues: false },
    authChecker,
    authMode: "error",
    globalMiddlewares: [inputValidationAsUserErrors],
    emitSchemaFile: options.emit ? { path: SCHEMA_FILE, sortedSchema: true } : false,
  });
}
