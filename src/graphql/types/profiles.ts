import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType, UseMiddleware } from "type-graphql";
import { IsOptional, MaxLength } from "class-validator";
import { unscopedOnly } from "../middleware.js";
import { rules } from "../../domain/validation.js";
import { Follows, Node } from "./common.js";
import { Connection } from "./connection.js";
import { AppObject, DeploymentProfileMigrationObject, MigrationTrigger } from "./objects.js";
import { Payload } from "./payloads.js";

/** Why the legacy API is still here, shown wherever it is used. */
export const PROFILES_DEPRECATION = "Deployment profiles are replaced by providers; run migrateDeploymentProfiles";

enum LinkTarget {
  SERVICE = "SERVICE",
  INSTANCE = "INSTANCE",
}
enum ProfileSkipReason {
  NO_ROLE_ARN = "NO_ROLE_ARN",
  PROVIDER_DELETED = "PROVIDER_DELETED",
}
registerEnumType(LinkTarget, { name: "ProviderLinkTarget", description: "Whether a link is on a service or on an instance." });
registerEnumType(ProfileSkipReason, { name: "DeploymentProfileSkipReason", description: "Why no provider came from a deployment profile." });
enum LinkSkipReason {
  UNLINKED_SINCE = "UNLINKED_SINCE",
  REPLACED_SINCE = "REPLACED_SINCE",
  INSTANCE_LIMIT_REACHED = "INSTANCE_LIMIT_REACHED",
}
registerEnumType(LinkSkipReason, {
  name: "ProviderLinkSkipReason",
  description: "Why a migration left a link of its mapping alone.",
  valuesConfig: {
    UNLINKED_SINCE: { description: "An earlier run did this link and someone unlinked it since: a rerun does not link it again." },
    REPLACED_SINCE: { description: "An earlier run did this link and someone linked another provider there since: that one stays." },
    INSTANCE_LIMIT_REACHED: { description: "The stage-wide instance the link goes on could not be made: the org has as many instances as the server allows." },
  },
});

@ObjectType("DeploymentProfile", {
  implements: Node,
  description: `Legacy: an AWS Access Role ARN that apps mapped their stages to, before providers. ${PROFILES_DEPRECATION}.`,
})
export class DeploymentProfileObject extends Node {
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: "Profiles without one are skipped by the migration. Unscoped keys only, like a provider's credentials." })
  @UseMiddleware(unscopedOnly("reading a deployment profile's role ARN"))
  roleArn!: string | null;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "When the migration handled this profile; null while it is pending." })
  migratedAt!: Date | null;
}

@ObjectType("AppStageProfile", { description: "Legacy: an app's stage (or its `default` stage) mapped to a deployment profile." })
export class AppStageProfileObject {
  @Field({ description: "The stage name; `default` is the app's default stage, which the migration puts on every service." }) stage!: string;
}

export const DeploymentProfileConnection = Connection("DeploymentProfile", DeploymentProfileObject);

@ObjectType({ description: "A deployment profile and the provider that now stands for it." })
export class MigratedDeploymentProfile {
  @Field() profileName!: string;
  @Field(() => String, { nullable: true, description: "Why an existing provider was reused, or why the new one has another name." }) note!: string | null;
}

@ObjectType({ description: "A deployment profile the migration made no provider from." })
export class SkippedDeploymentProfile {
  @Field() profileName!: string;
  @Field(() => ProfileSkipReason) reason!: ProfileSkipReason;
  @Field() message!: string;
}

@ObjectType({ description: "A link to a provider, from an app's stage mapping: `default` → the service, any other stage → its instances." })
export class MigratedProviderLink {
  @Field(() => LinkTarget) target!: LinkTarget;
  @Field({ description: "The legacy stage the link comes from (`default` for a service link)." }) stage!: string;
  @Field() profileName!: string;
}

@ObjectType({ description: "A link of the migration's mapping that this run left alone, and why: a rerun adds only what no earlier run has done." })
export class SkippedProviderLink {
  @Field(() => LinkSkipReason) reason!: LinkSkipReason;
  @Field({ description: "What happened and what an admin can do, in a sentence." }) message!: string;
}

@ObjectType({ description: "A link the migration left alone: the target already had another AWS provider, linked by hand." })
export class ProviderLinkConflict {
  @Field() message!: string;
}

@ObjectType({
  description:
    "What a migration of deployment profiles did. A repeat adds nothing an earlier run did: it lists what exists, and what it skipped and why. " +
    "In a run read back later (DeploymentProfileMigration.report), entries whose provider, service or instance was deleted since are left out; the audit trail keeps them.",
})
export class DeploymentProfileMigrationReport {
  @Field(() => MigrationTrigger) trigger!: MigrationTrigger;
  @Field(() => [MigratedDeploymentProfile]) providersCreated!: unknown[];
  @Field(() => [MigratedDeploymentProfile], { description: "Providers that already stood for a profile and were reused." }) providersExisting!: unknown[];
  @Field(() => [SkippedDeploymentProfile]) profilesSkipped!: unknown[];
  @Field(() => [MigratedProviderLink]) linksAdded!: unknown[];
  @Field(() => [MigratedProviderLink], { description: "Links that were already there, with the same provider." }) linksExisting!: unknown[];
  @Field(() => [ProviderLinkConflict], { description: "Links set by hand to another provider; never overwritten." }) conflicts!: unknown[];
  @Field(() => [SkippedProviderLink], { description: "Links of the mapping this run did not add, with the reason: an earlier run did them and someone changed them since, or the instance limit." })
  linksSkipped!: unknown[];
}

export const DeploymentProfileMigrationConnection = Connection("DeploymentProfileMigration", DeploymentProfileMigrationObject);

@InputType()
export class CreateDeploymentProfileInput {
  @Field(() => ID) orgId!: string;
  @Field() @Follows(rules.name) name!: string;
  @Field(() => String, { nullable: true, description: "The AWS Access Role ARN; a profile without one is skipped by the migration." })
  @IsOptional()
  @MaxLength(2048)
  roleArn?: string | null;
}

@InputType()
export class DeploymentProfileIdInput {
  @Field(() => ID) deploymentProfileId!: string;
}

@InputType()
export class SetAppStageProfileInput {
  @Field(() => ID) appId!: string;
  @Field({ description: "A stage, or `default` for the app's default stage." }) @Follows(rules.stage) stage!: string;
  @Field(() => ID) deploymentProfileId!: string;
}

@InputType()
export class RemoveAppStageProfileInput {
  @Field(() => ID) appId!: string;
  @Field() @Follows(rules.stage) stage!: string;
}

@InputType()
export class MigrateDeploymentProfilesInput {
  @Field(() => ID) orgId!: string;
}

@ObjectType()
export class CreateDeploymentProfilePayload extends Payload {
  @Field(() => DeploymentProfileObject, { nullable: true }) deploymentProfile?: unknown;
}

@ObjectType()
export class DeleteDeploymentProfilePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedDeploymentProfileId?: string;
  @Field(() => Int, { nullable: true, description: "How many app stage mappings went with it. Providers and links made from it stay." })
  removedStageMappingCount?: number;
}

@ObjectType()
export class SetAppStageProfilePayload extends Payload {
  @Field(() => AppObject, { nullable: true }) app?: unknown;
  @Field(() => AppStageProfileObject, { nullable: true }) stageProfile?: unknown;
}

@ObjectType()
export class RemoveAppStageProfilePayload extends Payload {
  @Field(() => AppObject, { nullable: true }) app?: unknown;
}

@ObjectType()
export class MigrateDeploymentProfilesPayload extends Payload {
  @Field(() => DeploymentProfileMigrationReport, { nullable: true }) report?: unknown;
  @Field(() => DeploymentProfileMigrationObject, { nullable: true, description: "This run, as Org.deploymentProfileMigrations lists it." }) migration?: unknown;
}
