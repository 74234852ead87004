import { ArgsType, Extensions, Field, GraphQLISODateTime, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { IsOptional, MaxLength } from "class-validator";
import { MAX_DESCRIPTION_LENGTH, MAX_VALUE_BYTES } from "../../domain/parameters.js";
import { ParameterSource } from "../../domain/parameter-resolution.js";
import { rules } from "../../domain/validation.js";
import type { FreeText } from "../middleware.js";
import { Follows, FormerlyNamed, Node } from "./common.js";
import { Connection } from "./connection.js";
import { InstanceObject, ServiceObject } from "./objects.js";
import { Payload } from "./payloads.js";

registerEnumType(ParameterSource, {
  name: "ParameterSource",
  description: "Where a parameter is set, and so where an effective value comes from.",
  valuesConfig: {
    INSTANCE: { description: "Set on the instance itself (or on its stage-wide instance)." },
    SERVICE: { description: "Set on the service: every stage inherits it." },
    ORG: { description: "Set on the org by an admin: every service inherits it." },
  },
});

@ObjectType("Parameter", {
  implements: Node,
  description: "A named value a deployment reads as `${param:NAME}`. A secret value is never readable here: only its hint is shown.",
})
export class ParameterType extends Node {
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

export const ParameterConnection = Connection("Parameter", ParameterType);

@ObjectType({ description: "A parameter as a deployment of an instance would read it, and where it comes from." })
export class EffectiveParameter {
  @Field() name!: string;
  @Field(() => ParameterType, { description: "The value that wins: the nearest one set." }) parameter!: unknown;
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

@ObjectType()
export class ParameterPayload extends Payload {
  @Field(() => ParameterType, { nullable: true }) parameter?: unknown;
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

@ArgsType()
export class EffectiveParametersArgs {
  @Field() @Follows(rules.stage) stage!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @Follows(rules.region) region?: string | null;
}
