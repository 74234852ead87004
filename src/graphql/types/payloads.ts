import { Field, ID, Int, ObjectType } from "type-graphql";
import { Role } from "../../entities/index.js";
import { UserErrorObject } from "./common.js";
import { AccessKeyObject, AppObject, DeploymentCredentials, DeploymentParameter, DeploymentProfileMigrationObject, DeploymentWarningObject, InstanceObject, MemberObject, OrgObject, ParameterObject, ProviderObject, ProviderResolution, ServiceObject } from "./objects.js";

/* Payload fields are nullable: with userErrors, nothing else is returned. */

@ObjectType()
export abstract class Payload {
  @Field(() => [UserErrorObject], { description: "Empty on success." }) userErrors!: UserErrorObject[];
}

@ObjectType()
export class UpdateOrgSettingsPayload extends Payload {
  @Field(() => OrgObject, { nullable: true }) org?: unknown;
}

@ObjectType()
export class CreateAppPayload extends Payload {
  @Field(() => AppObject, { nullable: true }) app?: unknown;
}

@ObjectType()
export class CreateServicePayload extends Payload {
  @Field(() => ServiceObject, { nullable: true }) service?: unknown;
}

@ObjectType()
export class CreateInstancePayload extends Payload {
  @Field(() => InstanceObject, { nullable: true }) instance?: unknown;
}

@ObjectType()
export abstract class CatalogDeletionPayload extends Payload {
  @Field(() => Int, { nullable: true, description: "How many links of a provider went with it (the providers stay)." }) unlinkedProviderCount?: number;
}

@ObjectType()
export class DeleteAppPayload extends CatalogDeletionPayload {
  @Field(() => ID, { nullable: true }) deletedAppId?: string;
  @Field(() => Int, { nullable: true }) deletedServiceCount?: number;
  @Field(() => Int, { nullable: true }) deletedInstanceCount?: number;
}

@ObjectType()
export class DeleteServicePayload extends CatalogDeletionPayload {
  @Field(() => ID, { nullable: true }) deletedServiceId?: string;
  @Field(() => Int, { nullable: true }) deletedInstanceCount?: number;
}

@ObjectType()
export class DeleteInstancePayload extends CatalogDeletionPayload {
  @Field(() => ID, { nullable: true }) deletedInstanceId?: string;
}

@ObjectType()
export class ProviderPayload extends Payload {
  @Field(() => ProviderObject, { nullable: true }) provider?: unknown;
}

@ObjectType()
export class CreateProviderPayload extends ProviderPayload {}

@ObjectType()
export class UpdateProviderPayload extends ProviderPayload {}

@ObjectType()
export class DeleteProviderPayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedProviderId?: string;
  @Field(() => Int, { nullable: true, description: "How many services lost their link to the provider." }) unlinkedServiceCount?: number;
  @Field(() => Int, { nullable: true, description: "How many instances lost their link to the provider." }) unlinkedInstanceCount?: number;
}

@ObjectType()
export class SetDefaultProviderPayload extends ProviderPayload {
  @Field(() => ProviderObject, { nullable: true, description: "The provider that was the default of the type before." })
  previousDefault?: unknown;
}

@ObjectType()
export class UnsetDefaultProviderPayload extends Payload {
  @Field(() => OrgObject, { nullable: true }) org?: unknown;
  @Field(() => ProviderObject, { nullable: true, description: "The provider that was the default, if any." }) previousDefault?: unknown;
}

@ObjectType()
export class LinkProviderToServicePayload extends ProviderPayload {
  @Field(() => ServiceObject, { nullable: true }) service?: unknown;
  @Field(() => ProviderObject, { nullable: true, description: "The provider of the same type this link replaced." }) replacedProvider?: unknown;
}

@ObjectType()
export class UnlinkProviderFromServicePayload extends ProviderPayload {
  @Field(() => ServiceObject, { nullable: true }) service?: unknown;
}

@ObjectType()
export class LinkProviderToInstancePayload extends ProviderPayload {
  @Field(() => InstanceObject, { nullable: true }) instance?: unknown;
  @Field(() => ProviderObject, { nullable: true, description: "The provider of the same type this link replaced." }) replacedProvider?: unknown;
}

@ObjectType()
export class UnlinkProviderFromInstancePayload extends ProviderPayload {
  @Field(() => InstanceObject, { nullable: true }) instance?: unknown;
}

@ObjectType()
export class RotateExternalIdPayload extends ProviderPayload {}

@ObjectType()
export class VerifyProviderPayload extends ProviderPayload {
  @Field(() => String, { nullable: true, description: "The AWS account the credentials act in." }) accountId?: string;
  @Field(() => String, { nullable: true, description: "The ARN the credentials act as (for a role: the assumed-role session)." }) arn?: string;
  @Field(() => Boolean, {
    nullable: true,
    description: "For a role: true when STS refused to assume it without the external id, as it should. False means the trust policy is open to the confused-deputy problem. Null for access keys.",
  })
  externalIdEnforced?: boolean | null;
  @Field(() => [String], { nullable: true, description: "What an admin should fix, in sentences." }) warnings?: string[];
}

@ObjectType()
export class DeploymentCredentialsPayload extends Payload {
  @Field(() => DeploymentCredentials, { nullable: true, description: "Null when no provider applies: use local credentials." }) credentials?: unknown;
  @Field(() => ProviderResolution, { nullable: true, description: "The provider used and where it came from; null when none applies." }) resolution?: unknown;
  @Field(() => InstanceObject, { nullable: true, description: "The instance this deployment recorded (created on its first deployment)." }) instance?: unknown;
  @Field(() => Boolean, { nullable: true, description: "True when no provider applies and the deployment should use its local credentials." })
  useLocalCredentials?: boolean;
  @Field(() => [DeploymentWarningObject], {
    nullable: true,
    description: "Empty unless the deployment should know something: a stage its service never deployed (a typo?), a new service, or that it migrated the org's deployment profiles (DEPLOYMENT_PROFILES_MIGRATED).",
  })
  warnings?: unknown;
  @Field(() => DeploymentProfileMigrationObject, {
    nullable: true,
    description: "The migration of the org's legacy deployment profiles this request triggered (the org's first deployment while profiles were pending); null when it triggered none.",
  })
  profileMigration?: unknown;
}

@ObjectType()
export class CreateAccessKeyPayload extends Payload {
  @Field(() => AccessKeyObject, { nullable: true }) accessKey?: unknown;
  @Field(() => String, { nullable: true, description: "The key itself. Shown this once: only its hash is stored. Send it as `Authorization: Bearer <key>`." })
  token?: string;
}

@ObjectType()
export class RevokeAccessKeyPayload extends Payload {
  @Field(() => AccessKeyObject, { nullable: true, description: "The key, now revoked: the next request made with it fails." }) accessKey?: unknown;
}

@ObjectType()
export class MemberPayload extends Payload {
  @Field(() => MemberObject, { nullable: true }) member?: unknown;
}

@ObjectType()
export class AddMemberPayload extends MemberPayload {}

@ObjectType()
export class UpdateMemberRolePayload extends MemberPayload {
  @Field(() => Role, { nullable: true }) previousRole?: Role;
}

@ObjectType()
export class RemoveMemberPayload extends Payload {
  @Field(() => ID, { nullable: true }) removedUserId?: string;
  @Field(() => Int, { nullable: true, description: "How many of the member's personal keys were revoked with the membership." }) revokedKeyCount?: number;
}

@ObjectType()
export class ParameterPayload extends Payload {
  @Field(() => ParameterObject, { nullable: true }) parameter?: unknown;
}

@ObjectType()
export class CreateParameterPayload extends ParameterPayload {}

@ObjectType()
export class UpdateParameterPayload extends ParameterPayload {}

@ObjectType()
export class DeleteParameterPayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedParameterId?: string;
}

@ObjectType()
export class DeploymentParametersPayload extends Payload {
  @Field(() => [DeploymentParameter], { nullable: true, description: "The effective parameters, by name, secret values included." })
  parameters?: DeploymentParameter[];
}
