import { ArgsType, Extensions, Field, ID, Int, InterfaceType, ObjectType, registerEnumType } from "type-graphql";
import { Matches, Max, MaxLength, Min, type ValidationOptions } from "class-validator";
import type { Rule } from "../../domain/validation.js";
import { AccessKey, App, CredentialKind, DeploymentProfile, Instance, Org, Parameter, ProfileMigrationRun, Provider, ProviderType, Role, Service, User } from "../../entities/index.js";
import { ProviderSource } from "../../domain/resolution.js";
import { ParameterSource } from "../../domain/parameter-resolution.js";

registerEnumType(ProviderType, { name: "ProviderType", description: "The kind of account a provider gives access to." });
registerEnumType(CredentialKind, { name: "CredentialKind", description: "How a provider holds its credentials." });
registerEnumType(Role, { name: "Role", description: "What a caller may do in an org: ADMIN ⊃ DEVELOPER ⊃ DEPLOYER." });
registerEnumType(ProviderSource, {
  name: "ProviderSource",
  description: "Where an effective provider comes from.",
  valuesConfig: {
    INSTANCE: { description: "Linked to the instance itself (or to its stage-wide instance)." },
    SERVICE: { description: "Inherited from the service." },
    ORG_DEFAULT: { description: "The org's default provider of the type, set by an admin." },
  },
});
registerEnumType(ParameterSource, {
  name: "ParameterSource",
  description: "Where a parameter is set, and so where an effective value comes from.",
  valuesConfig: {
    INSTANCE: { description: "Set on the instance itself (or on its stage-wide instance)." },
    SERVICE: { description: "Set on the service: every stage inherits it." },
    ORG: { description: "Set on the org by an admin: every service inherits it." },
  },
});

const NODE_TYPE_NAMES = new Map<unknown, string>([
  [Org, "Org"],
  [App, "App"],
  [Service, "Service"],
  [Instance, "Instance"],
  [Provider, "Provider"],
  [AccessKey, "AccessKey"],
  [DeploymentProfile, "DeploymentProfile"],
  [User, "User"],
  [Parameter, "Parameter"],
  [ProfileMigrationRun, "DeploymentProfileMigration"],
]);

@InterfaceType({
  description: "An object with a global ID, fetchable with `node(id)`.",
  resolveType: (value: object) => NODE_TYPE_NAMES.get(value.constructor),
})
export abstract class Node {
  @Field(() => ID, { description: "Opaque global ID." })
  id!: string;
}

/**
 * An input field that must follow one of the domain's rules (src/domain/validation.ts), checked by
 * type-graphql before the resolver runs, answering with the rule's code and sentence.
 */
export const Follows = (rule: Rule, options: ValidationOptions = {}) => Matches(rule.pattern, { message: rule.message, context: { code: rule.code }, ...options });

/** What `FormerlyNamed` records on the new field, for `withCheckedArguments` to read. */
export interface FormerName {
  name: string;
  required: boolean;
}

/**
 * An input field renamed under the naming rule (docs/api-naming.md), without breaking a client that
 * sends the old name: the old name is declared here as a second field of the same type, deprecated
 * with a reason naming the new one. Both are optional in the schema; `withCheckedArguments` takes a
 * value sent under either (the same value under both is fine), refuses two different ones
 * (RENAMED_FIELD_CONFLICT) and, for a `required` field, neither (REQUIRED_FIELD_MISSING); an error
 * about the value names the field the client sent.
 */
export function FormerlyNamed(formerName: string, options: { type: Parameters<typeof Field>[0]; why: string; required?: boolean }): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    Field(options.type, { nullable: true, description: `The former name of \`${name}\`.`, deprecationReason: `Use ${name}: ${options.why}` })(prototype, formerName);
    Extensions({ formerName: { name: formerName, required: options.required ?? false } satisfies FormerName })(prototype, property);
  };
}

@ObjectType({ description: "Relay page information." })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { defaultValue: 50, description: "How many items, 1–100." })
  @Min(1)
  @Max(100)
  first!: number;

  @Field(() => String, { nullable: true, description: "The `endCursor` of the previous page." })
  @MaxLength(1024)
  @Matches(/^[A-Za-z0-9_-]*$/, { message: "is not a cursor this server issued; pass an `endCursor` from a previous page" })
  after?: string | null;
}

@ObjectType("UserError", { description: "An expected failure of a mutation: nothing was changed." })
export class UserErrorObject {
  @Field({ description: "A stable code a program can branch on, e.g. INVALID_STAGE or NAME_TAKEN." })
  code!: string;
  @Field(() => [String], { nullable: true, description: "The path of the input field at fault." })
  field!: string[] | null;
  @Field({ description: "What is wrong and how to fix it, for a person." })
  message!: string;
}
