import { Field, ID, InputType, Int } from "type-graphql";
import { IsOptional, MaxLength, ValidateNested } from "class-validator";
import { ProviderType } from "../../entities/index.js";

/*
 * Inputs carry shapes; the domain's rules (src/domain/validation.ts) check values and answer with
 * userErrors. The length caps here only stop oversized requests before they reach the domain.
 */

@InputType()
export class CreateAppInput {
  @Field(() => ID) orgId!: string;
  @Field() @MaxLength(256) name!: string;
}

@InputType()
export class CreateServiceInput {
  @Field(() => ID) appId!: string;
  @Field() @MaxLength(256) name!: string;
}

@InputType()
export class CreateInstanceInput {
  @Field(() => ID) serviceId!: string;
  @Field() @MaxLength(256) stage!: string;
  @Field(() => String, { nullable: true, description: "Omit for a stage-only (component) instance." })
  @IsOptional()
  @MaxLength(64)
  region?: string | null;
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
  @Field() @MaxLength(256) name!: string;
}

@InputType({ description: "Rename a provider and/or replace its credentials (with credentials of the same type)." })
export class UpdateProviderInput extends CredentialsInputFields {
  @Field(() => ID) providerId!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(256) name?: string | null;
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
  @Field(() => String, { nullable: true, description: "The AWS region; omit for a stage-only (component) service." })
  @IsOptional()
  @MaxLength(64)
  region?: string | null;
  @Field(() => ProviderType, { defaultValue: ProviderType.AWS }) type!: ProviderType;
  @Field(() => Int, { nullable: true, description: "How long AWS session credentials last: 900 up to the provider's maximum. Default 3600 (or the maximum, if lower)." })
  durationSeconds?: number | null;
}
