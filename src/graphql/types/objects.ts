import { createUnionType, Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { GraphQLJSONObject } from "graphql-scalars";
import { AuditOutcome, CredentialKind, ProviderType, Role } from "../../entities/index.js";
import { AccessKeyKind } from "../../domain/access-keys.js";
import { ProviderSource } from "../../domain/resolution.js";
import { ParameterSource } from "../../domain/parameter-resolution.js";
import { Node } from "./common.js";
import { Connection } from "./connection.js";

/*
 * `simpleResolvers: true` on the types a page repeats (instances, services, apps, their providers and
 * connections): their stored fields are read as plain properties, without a type-graphql resolver per
 * field (an object and a call each, ~3,500 on a dashboard page). Such a type's @Field may carry no
 * middleware or @Authorized, which simple resolvers would skip (test/schema.test.ts checks that), and
 * a field whose value is a promise needs `simple: false`: the compiled executor waits for a promise a
 * resolver returns, not for one a plain property holds.
 */

@ObjectType("Org", { implements: Node, simpleResolvers: true, description: "An organization: the owner of providers, apps and keys." })
export class OrgObject extends Node {
  @Field() slug!: string;
  @Field() name!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field({
    description:
      "Whether deploymentCredentials refuses (EXTERNAL_ID_NOT_ENFORCED) a role provider whose last verification found it can be assumed without its external id. Set with updateOrgSettings.",
  })
  refuseUnenforcedExternalId!: boolean;
  @Field({
    description:
      "Whether a deployment or createInstance to a stage its service has never had is refused (NEW_STAGE_REFUSED), unless the caller is an admin or an org key with scope.mayCreateStages. Off by default. Set with updateOrgSettings.",
  })
  refuseNewStages!: boolean;
}

@ObjectType("DeploymentWarning", { description: "Something a deployment should know although it got its credentials." })
export class DeploymentWarningObject {
  @Field({ description: "NEW_STAGE: the service never deployed to this stage before. NEW_SERVICE: the service's first deployment." }) code!: string;
  @Field({ description: "A sentence for the person deploying." }) message!: string;
  @Field(() => String, { nullable: true, description: "For NEW_STAGE: the known stage this name is close to (a typo?), such as prod for Prod or prdo." })
  suggestedStage!: string | null;
}

@ObjectType("App", { implements: Node, simpleResolvers: true, description: "A group of services, as in serverless.yml's `app`." })
export class AppObject extends Node {
  @Field() name!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType("Service", { implements: Node, simpleResolvers: true, description: "A service of an app; providers linked here are inherited by its instances." })
export class ServiceObject extends Node {
  @Field() name!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType("Instance", { implements: Node, simpleResolvers: true, description: "A service deployed to a stage and region, or the stage-wide instance: the stage with no region, covering every region of it." })
export class InstanceObject extends Node {
  @Field() stage!: string;
  @Field(() => String, { nullable: true, description: "Null for the stage-wide instance, which covers every region of its stage." })
  region!: string | null;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "When deployment credentials were last issued for it." })
  lastDeployedAt!: Date | null;
}

@ObjectType({ description: "An AWS role the server assumes for each deployment." })
export class AwsRoleCredentials {
  @Field() roleArn!: string;
  @Field({ description: "Put this in the role's trust policy as the sts:ExternalId condition." }) externalId!: string;
  @Field(() => Int) maxSessionDurationSeconds!: number;
  @Field({ description: "Whether sessions carry org/app/service/stage/region session tags." }) sessionTags!: boolean;
}

@ObjectType({ description: "A stored AWS access key; the secret access key is never shown." })
export class AwsAccessKeyCredentials {
  @Field() accessKeyId!: string;
  @Field({ description: "Whether deployments get a short-lived GetSessionToken session instead of the stored key." })
  issueSessionTokens!: boolean;
}

@ObjectType({ description: "A stored Stripe secret key; only a hint of it is shown." })
export class StripeCredentials {
  @Field({ description: "e.g. sk_live_…a1b2" }) secretKeyHint!: string;
}

@ObjectType({ description: "A stored Twilio auth token; only a hint of it is shown." })
export class TwilioCredentials {
  @Field() accountSid!: string;
  @Field() authTokenHint!: string;
}

/** Each kind's summary type: a record over the kinds, so a new kind without one does not compile. */
const CREDENTIALS_SUMMARY_TYPES: Record<CredentialKind, new () => object> = {
  [CredentialKind.AWS_ROLE]: AwsRoleCredentials,
  [CredentialKind.AWS_ACCESS_KEY]: AwsAccessKeyCredentials,
  [CredentialKind.STRIPE_SECRET_KEY]: StripeCredentials,
  [CredentialKind.TWILIO_AUTH_TOKEN]: TwilioCredentials,
};

export const ProviderCredentials = createUnionType({
  name: "ProviderCredentials",
  description: "A non-secret summary of a provider's credentials.",
  types: () => [AwsRoleCredentials, AwsAccessKeyCredentials, StripeCredentials, TwilioCredentials] as const,
  resolveType: (value: object) => CREDENTIALS_SUMMARY_TYPES[(value as { kind: CredentialKind }).kind],
});

@ObjectType("Provider", { implements: Node, simpleResolvers: true, description: "An org's credentials for one account. Secrets are never readable." })
export class ProviderObject extends Node {
  @Field() name!: string;
  @Field(() => ProviderType) type!: ProviderType;
  @Field(() => CredentialKind) kind!: CredentialKind;
  @Field({ description: "Whether this is the org's default provider of its type (used where nothing is linked)." }) isDefault!: boolean;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime) updatedAt!: Date;
}

@ObjectType({ description: "What verifyProvider last found about a provider's credentials." })
export class ProviderVerificationState {
  @Field(() => GraphQLISODateTime) verifiedAt!: Date;
  @Field(() => Boolean, {
    nullable: true,
    description: "For a role: false when it could be assumed without the external id (anyone the role trusts could use it). Null for an access key.",
  })
  externalIdEnforced!: boolean | null;
}

@ObjectType({ simpleResolvers: true, description: "The provider a deployment would use, and why." })
export class ProviderResolution {
  @Field(() => ProviderObject) provider!: unknown;
  @Field(() => ProviderSource) source!: ProviderSource;
  // A promise (loaded only when selected): read through a resolver, which waits for it (see above).
  @Field(() => InstanceObject, { nullable: true, simple: false, description: "For INSTANCE: the instance whose link applies." }) instance!: unknown;
  @Field({ description: "Why this provider applies, in a sentence for a dashboard; it warns when the provider's role does not enforce its external id." })
  explanation!: string;
  @Field(() => Boolean, {
    nullable: true,
    description: "The provider's last verification: false when its role could be assumed without the external id; null when not verified since its credentials were set, or not a role.",
  })
  externalIdEnforced!: boolean | null;
}

@ObjectType({ description: "AWS credentials for one deployment: what `credential_process` and the AWS SDKs take." })
export class AwsDeploymentCredentials {
  @Field() accessKeyId!: string;
  @Field() secretAccessKey!: string;
  @Field(() => String, { nullable: true, description: "Null for a provider's long-lived access key." }) sessionToken!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: "When the session ends; null for a long-lived key." }) expiration!: Date | null;
}

@ObjectType({ description: "The Stripe secret key of the provider that applies." })
export class StripeDeploymentCredentials {
  @Field() secretKey!: string;
}

@ObjectType({ description: "The Twilio account and auth token of the provider that applies." })
export class TwilioDeploymentCredentials {
  @Field() accountSid!: string;
  @Field() authToken!: string;
}

/** Each provider type's deployment credentials: a record over the types, so a new type without one does not compile. */
const DEPLOYMENT_CREDENTIALS_TYPES: Record<ProviderType, new () => object> = {
  [ProviderType.AWS]: AwsDeploymentCredentials,
  [ProviderType.STRIPE]: StripeDeploymentCredentials,
  [ProviderType.TWILIO]: TwilioDeploymentCredentials,
};

export const DeploymentCredentials = createUnionType({
  name: "DeploymentCredentials",
  description: "Credentials handed to one deployment, by provider type.",
  types: () => [AwsDeploymentCredentials, StripeDeploymentCredentials, TwilioDeploymentCredentials] as const,
  resolveType: (value: object) => DEPLOYMENT_CREDENTIALS_TYPES[(value as { type: ProviderType }).type],
});

registerEnumType(AccessKeyKind, {
  name: "AccessKeyKind",
  valuesConfig: {
    PERSONAL: { description: "Acts as its user, with the user's role in the org." },
    ORG: { description: "Belongs to the org (for CI), with a role of its own." },
  },
});
registerEnumType(AuditOutcome, { name: "AuditOutcome", description: "How an audited action ended." });

export enum MigrationTrigger {
  AUTOMATIC = "AUTOMATIC",
  MANUAL = "MANUAL",
  CLI = "CLI",
}
registerEnumType(MigrationTrigger, {
  name: "DeploymentProfileMigrationTrigger",
  description: "What started a migration: the org's first deployment credentials after profiles exist, an admin, or the CLI.",
});


@ObjectType("User", { implements: Node, description: "A person who can be a member of orgs, known by email alone (nothing one org sets is visible to another)." })
export class UserObject extends Node {
  @Field() email!: string;
}

@ObjectType("Member", { description: "A user's membership in an org." })
export class MemberObject {
  @Field(() => UserObject) user!: unknown;
  @Field(() => Role) role!: Role;
  @Field(() => GraphQLISODateTime) joinedAt!: Date;
}

@ObjectType({ description: "What a key is limited to. A null list means any; a scope only narrows the key's role." })
export class AccessKeyScope {
  @Field(() => [String], { nullable: true, description: "App names." }) apps!: string[] | null;
  @Field(() => [String], { nullable: true, description: "Service names." }) services!: string[] | null;
  @Field(() => [String], { nullable: true, description: "Stage patterns; `*` matches any characters, e.g. `feature-*`." }) stages!: string[] | null;
  @Field(() => [ProviderObject], { nullable: true, description: "The providers the key may link to instances inside its scope (null: none)." })
  linkableProviders!: unknown[] | null;
  @Field({ description: "Whether the key may add a stage to a service when the org refuses new stages; the same as AccessKey.mayCreateStages, which an unscoped key shows too." })
  mayCreateStages!: boolean;
}

@ObjectType("AccessKey", { implements: Node, description: "An API key. Its secret is shown once, at creation." })
export class AccessKeyObject extends Node {
  @Field() name!: string;
  @Field({ description: "The key's prefix and last characters, to tell keys apart." }) tokenHint!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) expiresAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType({ description: "The caller's role in one of its orgs." })
export class ViewerMembership {
  @Field(() => OrgObject) org!: unknown;
  @Field(() => Role) role!: Role;
}

@ObjectType({ description: "The caller." })
export class Viewer {
  @Field(() => AccessKeyObject, { description: "The access key this request was made with." }) accessKey!: unknown;
  @Field(() => UserObject, { nullable: true, description: "The user a personal key acts as; null for an org key." }) user!: unknown;
  @Field(() => [OrgObject], { description: "The orgs the caller can act in." }) orgs!: unknown[];
  @Field(() => [ViewerMembership], { description: "The caller's role in each of its orgs." }) memberships!: ViewerMembership[];
}

@ObjectType("AuditEvent", { description: "One entry of the org's append-only audit trail. Never holds a secret or a key." })
export class AuditEventObject {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLISODateTime) occurredAt!: Date;
  @Field({ description: "e.g. provider.create, link.service, member.add, accessKey.revoke, authorization.role" }) action!: string;
  @Field(() => AuditOutcome) outcome!: AuditOutcome;
  @Field({ description: "Who acted, for a person: the user and key name, or the org key's name." }) actorLabel!: string;
  @Field(() => String, { nullable: true, description: "What kind of object was acted on: Provider, Service, Instance, User, AccessKey…" }) targetType!: string | null;
  @Field(() => String, { nullable: true, description: "The request the action was part of (the X-Request-Id response header)." }) requestId!: string | null;
  @Field(() => GraphQLJSONObject, { description: "Identifiers and labels describing the action." }) details!: Record<string, unknown>;
}

@ObjectType("DeploymentProfileMigration", {
  implements: Node,
  description: "One run of the deployment-profile migration: when, what triggered it, who, and its report. Runs that did not commit left nothing.",
})
export class DeploymentProfileMigrationObject extends Node {
  @Field(() => GraphQLISODateTime) ranAt!: Date;
  @Field(() => MigrationTrigger, { description: "AUTOMATIC: a deployment (see `deployment`); MANUAL: migrateDeploymentProfiles; CLI: providers-api migrate-profiles." })
  trigger!: MigrationTrigger;
}

export const ProviderConnection = Connection("Provider", ProviderObject);
export const AppConnection = Connection("App", AppObject);
export const ServiceConnection = Connection("Service", ServiceObject);
export const InstanceConnection = Connection("Instance", InstanceObject);
export const AccessKeyConnection = Connection("AccessKey", AccessKeyObject);
export const AuditEventConnection = Connection("AuditEvent", AuditEventObject);

@ObjectType("Parameter", {
  implements: Node,
  description: "A named value a deployment reads as `${param:NAME}`. A secret value is never readable here: only its hint is shown.",
})
export class ParameterObject extends Node {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field({ description: "Whether the value is secret: sealed at rest, shown only as a hint, handed only to deployments." }) isSecret!: boolean;
  @Field(() => String, { nullable: true, description: "The value of a plain parameter; null for a secret one." }) value!: string | null;
  @Field(() => String, { nullable: true, description: "For a secret: e.g. `…a1b2` (nothing of a value shorter than 16 characters)." })
  valueHint!: string | null;
  @Field(() => ParameterSource, { description: "What the parameter is set on: the org, a service or an instance." }) level!: ParameterSource;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime) updatedAt!: Date;
}

export const ParameterConnection = Connection("Parameter", ParameterObject);

@ObjectType("EffectiveParameter", { description: "A parameter as a deployment of an instance would read it, and where it comes from." })
export class EffectiveParameterObject {
  @Field() name!: string;
  @Field(() => ParameterObject, { description: "The value that wins: the nearest one set." }) parameter!: unknown;
  @Field(() => ParameterSource) source!: ParameterSource;
  @Field(() => InstanceObject, { nullable: true, description: "For INSTANCE: the instance it is set on (the stage-wide one when it covers this region)." })
  instance!: unknown;
  @Field(() => ServiceObject, { nullable: true, description: "For SERVICE: the service it is set on." }) service!: unknown;
  @Field({ description: "Why this value applies, in a sentence for a dashboard." }) explanation!: string;
}

@ObjectType({ description: "A parameter handed to a deployment, secret values included." })
export class DeploymentParameter {
  @Field() name!: string;
  @Field() value!: string;
  @Field() isSecret!: boolean;
  @Field(() => ParameterSource) source!: ParameterSource;
}
