import { ArgsType, Extensions, Field, GraphQLISODateTime, ID, InputType, Int } from "type-graphql";
import { ArrayMaxSize, IsOptional, Matches, MaxLength, ValidateNested } from "class-validator";
import { ProviderType, Role } from "../../entities/index.js";
import { MAX_DESCRIPTION_LENGTH, MAX_VALUE_BYTES } from "../../domain/parameters.js";
import { rules } from "../../domain/validation.js";
import type { FreeText } from "../middleware.js";
import { Follows, FormerlyNamed } from "./common.js";

/*
 * Inputs carry shapes, and the values whose form the domain fixes follow its rules
 * (src/domain/validation.ts, through `Follows`): type-graphql checks them before any resolver runs,
 * with the rule's code and sentence. deploymentCredentials keeps only length caps: the domain checks
 * its names itself, first, so that a refused deployment is audited with the code it got.
 */

@InputType()
export class UpdateOrgSettingsInput {
  @Field(() => ID) orgId!: string;
  @Field(() => Boolean, {
    nullable: true,
    description: "Refuse deployment credentials from a role provider whose last verification found it assumable without its external id. Left out: unchanged.",
  })
  refuseUnenforcedExternalId?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      "Refuse (NEW_STAGE_REFUSED) a deployment or createInstance to a stage its service has never had, unless the caller is an admin or an org key with scope.mayCreateStages. Left out: unchanged.",
  })
  refuseNewStages?: boolean | null;
}

@InputType()
export class CreateAppInput {
  @Field(() => ID) orgId!: string;
  @Field() @Follows(rules.appOrServiceName) name!: string;
}

@InputType()
export class CreateServiceInput {
  @Field(() => ID) appId!: string;
  @Field() @Follows(rules.appOrServiceName) name!: string;
}

@InputType()
export class CreateInstanceInput {
  @Field(() => ID) serviceId!: string;
  @Field() @Follows(rules.stage) stage!: string;
  @Field(() => String, { nullable: true, description: "Omit for the stage-wide instance, which covers every region of the stage." })
  @IsOptional()
  @Follows(rules.region)
  region?: string | null;
}

@InputType({ description: "Deletes an app with its services and instances. Refused while provider links would go with it, unless force." })
export class DeleteAppInput {
  @Field(() => ID) appId!: string;
  @Field({ defaultValue: false, description: "Delete even though provider links go with it; the payload says how many." }) force!: boolean;
}

@InputType({ description: "Deletes a service with its instances. Refused while provider links would go with it, unless force." })
export class DeleteServiceInput {
  @Field(() => ID) serviceId!: string;
  @Field({ defaultValue: false, description: "Delete even though provider links go with it; the payload says how many." }) force!: boolean;
}

@InputType({ description: "Deletes an instance (a stage, or a stage in one region), such as a typo's. Refused while provider links would go with it, unless force." })
export class DeleteInstanceInput {
  @Field(() => ID) instanceId!: string;
  @Field({ defaultValue: false, description: "Delete even though provider links go with it; the payload says how many." }) force!: boolean;
}

@InputType({ description: "An AWS role that the server assumes, with an external id it generates." })
export class AwsRoleInput {
  @Field() @MaxLength(2048) roleArn!: string;
  @Field(() => Int, { nullable: true, description: "900–43200; at most the role's own MaxSessionDuration. Default 3600." })
  maxSessionDurationSeconds?: number | null;
  @Field({ nullable: true, description: "Tag each session with org, app, service, stage and region. Default false." })
  sessionTags?: boolean;
}

@InputType({ description: "A long-lived AWS access key, stored encrypted." })
export class AwsAccessKeyInput {
  @Field() @MaxLength(128) accessKeyId!: string;
  @Field() @MaxLength(128) secretAccessKey!: string;
  @Field({ nullable: true, description: "Hand out GetSessionToken sessions made with the key instead of the key itself. Default false." })
  issueSessionTokens?: boolean;
}

@InputType({ description: "Exactly one of `role` or `accessKey`." })
export class AwsCredentialsInput {
  @Field(() => AwsRoleInput, { nullable: true }) @IsOptional() @ValidateNested() role?: AwsRoleInput | null;
  @Field(() => AwsAccessKeyInput, { nullable: true }) @IsOptional() @ValidateNested() accessKey?: AwsAccessKeyInput | null;
}

@InputType()
export class StripeCredentialsInput {
  @Field() @MaxLength(512) secretKey!: string;
}

@InputType()
export class TwilioCredentialsInput {
  @Field() @MaxLength(128) accountSid!: string;
  @Field() @MaxLength(128) authToken!: string;
}

@InputType()
export class CredentialsInputFields {
  @Field(() => AwsCredentialsInput, { nullable: true }) @IsOptional() @ValidateNested() aws?: AwsCredentialsInput | null;
  @Field(() => StripeCredentialsInput, { nullable: true }) @IsOptional() @ValidateNested() stripe?: StripeCredentialsInput | null;
  @Field(() => TwilioCredentialsInput, { nullable: true }) @IsOptional() @ValidateNested() twilio?: TwilioCredentialsInput | null;
}

@InputType({ description: "A name and exactly one kind of credentials: aws.role, aws.accessKey, stripe or twilio." })
export class CreateProviderInput extends CredentialsInputFields {
  @Field(() => ID) orgId!: string;
  @Field() @Follows(rules.name) name!: string;
}

@InputType({ description: "Rename a provider and/or replace its credentials (with credentials of the same type)." })
export class UpdateProviderInput extends CredentialsInputFields {
  @Field(() => ID) providerId!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @Follows(rules.name) name?: string | null;
}

@InputType()
export class ProviderIdInput {
  @Field(() => ID) providerId!: string;
}

@InputType()
export class UnsetDefaultProviderInput {
  @Field(() => ID) orgId!: string;
  @Field(() => ProviderType) type!: ProviderType;
}

@InputType()
export class ServiceProviderInput {
  @Field(() => ID) providerId!: string;
  @Field(() => ID) serviceId!: string;
}

@InputType()
export class InstanceProviderInput {
  @Field(() => ID) providerId!: string;
  @Field(() => ID) instanceId!: string;
}

@InputType({ description: "The deployment asking for credentials: what a CI pipeline is about to deploy, and where." })
export class DeploymentCredentialsInput {
  @Field({ description: "The org's slug." }) @MaxLength(64) org!: string;
  @Field({ description: "The app; created on its first deployment." }) @MaxLength(256) app!: string;
  @Field({ description: "The service; created on its first deployment." }) @MaxLength(256) service!: string;
  @Field({ description: "The stage, e.g. prod or feature-x." }) @MaxLength(256) stage!: string;
  @Field(() => String, { nullable: true, description: "The AWS region; omit for the stage-wide instance (a service deployed per stage, not per region)." })
  @IsOptional()
  @MaxLength(64)
  region?: string | null;
  @Field(() => ProviderType, { defaultValue: ProviderType.AWS }) type!: ProviderType;
  @Field(() => Int, {
    nullable: true,
    description: "How long the AWS session lasts, in seconds: 900 up to the provider's maxSessionDurationSeconds. Default 3600 (or the maximum, if lower).",
  })
  @FormerlyNamed("durationSeconds", { type: () => Int, why: "the same seconds, named like the provider's maxSessionDurationSeconds, which bounds them." })
  sessionDurationSeconds?: number | null;
}

@InputType({ description: "Limits a key to some apps, services and stage patterns. Leave a list out for any; a scope only narrows the key's role." })
export class AccessKeyScopeInput {
  @Field(() => [String], { nullable: true, description: "App names." }) @IsOptional() @ArrayMaxSize(100) apps?: string[] | null;
  @Field(() => [String], { nullable: true, description: "Service names." }) @IsOptional() @ArrayMaxSize(100) services?: string[] | null;
  @Field(() => [String], { nullable: true, description: "Stage patterns such as `prod` or `feature-*`: at most 3 `*`, each any run of characters." })
  @IsOptional()
  @ArrayMaxSize(100)
  stages?: string[] | null;
  @Field(() => [ID], {
    nullable: true,
    description: "Providers the key may link to (and unlink from) instances inside its scope. Leave out: it links none. A scoped key never changes a service's links or the org's defaults.",
  })
  @IsOptional()
  @ArrayMaxSize(100)
  linkableProviderIds?: string[] | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      "An org key only: it may deploy to (and createInstance for) a stage its service has never had when the org refuses new stages (Org.refuseNewStages). Unlike the lists, it widens what the key may do, and alone it limits nothing. Default false.",
  })
  mayCreateStages?: boolean | null;
}

@InputType({ description: "An org key (give `role`, usually DEPLOYER for CI) or a personal key for a member (give `userId`, no role)." })
export class CreateAccessKeyInput {
  @Field(() => ID) orgId!: string;
  @Field() @Follows(rules.name) name!: string;
  @Field(() => ID, { nullable: true, description: "A member: the key acts as them, with their role. Omit for an org key." })
  userId?: string | null;
  @Field(() => Role, { nullable: true, description: "An org key's role. Omit for a personal key." }) role?: Role | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "When the key stops working. Omit for no expiry." }) expiresAt?: Date | null;
  @Field(() => AccessKeyScopeInput, { nullable: true }) @IsOptional() @ValidateNested() scope?: AccessKeyScopeInput | null;
}

@InputType()
export class RevokeAccessKeyInput {
  @Field(() => ID, { nullable: true, description: "The key to revoke: an AccessKey's `id` (a key of this API, not an AWS access key). Required." })
  @FormerlyNamed("accessKeyId", {
    type: () => ID,
    required: true,
    why: "the same AccessKey id; `accessKeyId` is AWS's name for an AWS access key's id elsewhere in this schema.",
  })
  keyId!: string;
}

@InputType()
export class AddMemberInput {
  @Field(() => ID) orgId!: string;
  @Field() @MaxLength(320) email!: string;
  @Field(() => Role) role!: Role;
}

@InputType()
export class UpdateMemberRoleInput {
  @Field(() => ID) orgId!: string;
  @Field(() => ID) userId!: string;
  @Field(() => Role) role!: Role;
}

@InputType()
export class RemoveMemberInput {
  @Field(() => ID) orgId!: string;
  @Field(() => ID) userId!: string;
}

@InputType({ description: "Every given condition must hold." })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: "An action such as provider.create, or a prefix ending in a dot such as `provider.`." })
  @IsOptional()
  @Matches(/^[a-z][A-Za-z_.]{0,127}$/, { message: "is an action such as provider.create, or a prefix ending in a dot such as provider." })
  action?: string | null;
  @Field(() => ID, { nullable: true, description: "An AccessKey or User id: what that key, or that user with any of their keys, did." })
  @FormerlyNamed("actor", { type: () => ID, why: "the same id; a field holding an id ends in Id." })
  actorId?: string | null;
  @Field(() => ID, { nullable: true, description: "The id of the object acted on (an event's `targetId`): a Provider, Service, Instance, User, AccessKey…" })
  @FormerlyNamed("target", { type: () => ID, why: "the same id, named like AuditEvent.targetId." })
  targetId?: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "From this time, inclusive." }) from?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "Before this time." }) to?: Date | null;
}

@ArgsType()
export class OrgArgs {
  @Field({ description: "The org's slug." }) @Follows(rules.orgSlug) slug!: string;
}

@ArgsType()
export class EffectiveProviderArgs {
  @Field() @Follows(rules.stage) stage!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @Follows(rules.region) region?: string | null;
  @Field(() => ProviderType, { defaultValue: ProviderType.AWS }) type!: ProviderType;
}

// Values and descriptions may span lines (PEM keys, JSON); the domain checks their size and characters.
const VALUE_TEXT: FreeText = { maxLength: MAX_VALUE_BYTES };
const DESCRIPTION_TEXT: FreeText = { maxLength: MAX_DESCRIPTION_LENGTH };

@InputType({ description: "A parameter to set on an org (ADMIN only), a service or an instance." })
export class CreateParameterInput {
  @Field(() => ID, { description: "The org, service or instance the parameter is set on." }) ownerId!: string;
  @Field({ description: "Letters, digits, `_`, `-`, `.` and `/`, at most 128." }) @Follows(rules.parameterName) name!: string;
  @Field({ description: `At most ${MAX_VALUE_BYTES} bytes (UTF-8); no control characters other than tab and line breaks.` })
  @Extensions({ freeText: VALUE_TEXT })
  value!: string;
  @Field(() => String, { nullable: true }) @Extensions({ freeText: DESCRIPTION_TEXT }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: "Seal the value: it is then shown only as a hint, and handed only to deployments. Default false." })
  @FormerlyNamed("secret", { type: () => Boolean, why: "the same flag, named like Parameter.isSecret, which reads it back." })
  isSecret?: boolean | null;
}

@InputType({ description: "Replace a parameter's value, description, or secrecy. A secret becomes plain only with a new value." })
export class UpdateParameterInput {
  @Field(() => ID) parameterId!: string;
  @Field(() => String, { nullable: true }) @Extensions({ freeText: VALUE_TEXT }) value?: string | null;
  @Field(() => String, { nullable: true, description: "An empty string removes it." }) @Extensions({ freeText: DESCRIPTION_TEXT }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: "Seal the value, or (with a new value) make it plain. Left out: unchanged." })
  @FormerlyNamed("secret", { type: () => Boolean, why: "the same flag, named like Parameter.isSecret, which reads it back." })
  isSecret?: boolean | null;
}

@InputType()
export class ParameterIdInput {
  @Field(() => ID) parameterId!: string;
}

@InputType({ description: "The deployment whose parameters a CI step reads: the same names as deploymentCredentials." })
export class DeploymentParametersInput {
  @Field({ description: "The org's slug." }) @MaxLength(64) org!: string;
  @Field() @MaxLength(256) app!: string;
  @Field() @MaxLength(256) service!: string;
  @Field() @MaxLength(256) stage!: string;
  @Field(() => String, { nullable: true, description: "Omit for the stage-wide instance (a service deployed per stage, not per region)." }) @IsOptional() @MaxLength(64) region?: string | null;
}

@ArgsType()
export class EffectiveParametersArgs {
  @Field() @Follows(rules.stage) stage!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @Follows(rules.region) region?: string | null;
}
