import path from "node:path";
import { isObjectType, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker, withCheckedArguments } from "./middleware.js";
import { AccessKeyOperations } from "./operations/access-keys.operations.js";
import { CatalogOperations } from "./operations/catalog.operations.js";
import { DeploymentCredentialsOperations } from "./operations/deployment-credentials.operations.js";
import { DeploymentProfileOperations } from "./operations/deployment-profiles.operations.js";
import { LinkOperations } from "./operations/links.operations.js";
import { MemberOperations } from "./operations/members.operations.js";
import { ParameterOperations } from "./operations/parameters.operations.js";
import { ProviderOperations } from "./operations/providers.operations.js";
import { ViewerOperations } from "./operations/viewer.operations.js";
import { AccessKeyScopeFields } from "./fields/access-key-scope.fields.js";
import { AccessKeyFields } from "./fields/access-key.fields.js";
import { AppStageProfileFields } from "./fields/app-stage-profile.fields.js";
import { AppFields } from "./fields/app.fields.js";
import { AuditEventFields } from "./fields/audit-event.fields.js";
import { DeploymentProfileFields } from "./fields/deployment-profile.fields.js";
import { DeploymentProfileMigrationFields } from "./fields/deployment-profile-migration.fields.js";
import { InstanceFields } from "./fields/instance.fields.js";
import { MigrateDeploymentProfilesPayloadFields } from "./fields/migrate-deployment-profiles-payload.fields.js";
import { MigratedDeploymentProfileFields } from "./fields/migrated-deployment-profile.fields.js";
import { MigratedProviderLinkFields } from "./fields/migrated-provider-link.fields.js";
import { OrgFields } from "./fields/org.fields.js";
import { ParameterFields } from "./fields/parameter.fields.js";
import { ProviderLinkConflictFields } from "./fields/provider-link-conflict.fields.js";
import { ProviderFields } from "./fields/provider.fields.js";
import { ServiceFields } from "./fields/service.fields.js";
import { SkippedDeploymentProfileFields } from "./fields/skipped-deployment-profile.fields.js";
import { SkippedProviderLinkFields } from "./fields/skipped-provider-link.fields.js";
import { UserFields } from "./fields/user.fields.js";
import { ViewerFields } from "./fields/viewer.fields.js";

/** Queries and mutations, one class per feature (operations/), and field resolvers, one class per type (fields/). */
export const resolvers = [
  AccessKeyOperations,
  CatalogOperations,
  DeploymentCredentialsOperations,
  DeploymentProfileOperations,
  LinkOperations,
  MemberOperations,
  ParameterOperations,
  ProviderOperations,
  ViewerOperations,
  AccessKeyScopeFields,
  AccessKeyFields,
  AppStageProfileFields,
  AppFields,
  AuditEventFields,
  DeploymentProfileFields,
  DeploymentProfileMigrationFields,
  InstanceFields,
  MigrateDeploymentProfilesPayloadFields,
  MigratedDeploymentProfileFields,
  MigratedProviderLinkFields,
  OrgFields,
  ParameterFields,
  ProviderLinkConflictFields,
  ProviderFields,
  ServiceFields,
  SkippedDeploymentProfileFields,
  SkippedProviderLinkFields,
  UserFields,
  ViewerFields,
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
