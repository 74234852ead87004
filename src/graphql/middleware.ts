import type { ValidationError } from "class-validator";
import type { GraphQLFieldResolver } from "graphql";
import { ArgumentValidationError, type AuthChecker, type MiddlewareFn } from "type-graphql";
import { assertUnscoped } from "../domain/scope.js";
import { Role } from "../entities/index.js";
import { deny } from "../domain/audit.js";
import { UserError, UserErrors } from "../domain/errors.js";
import { inTransaction } from "../domain/transaction.js";
import type { GraphQLContext } from "./context.js";

const RANK: Record<Role, number> = { [Role.DEPLOYER]: 1, [Role.DEVELOPER]: 2, [Role.ADMIN]: 3 };

export const hasRole = (actual: Role, needed: Role): boolean => RANK[actual] >= RANK[needed];

/**
 * `@Authorized(Role.DEVELOPER)` admits developers and admins. Every query and mutation carries
 * `@Authorized` (a test walks the schema to prove it); without a valid key no request gets this far.
 * A refusal is audited (so that no rollback erases it) before FORBIDDEN is thrown.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = async ({ context, info }, roles) => {
  if (roles.length === 0) return true;
  const needed = Math.min(...roles.map((r) => RANK[r]));
  if (RANK[context.actor.role] >= needed) return true;
  return deny(
    context,
    { action: "authorization.role", details: { operation: `${info.parentType.name}.${info.fieldName}`, requiredRoles: roles } },
    `This needs the ${roles.join(" or ")} role (or higher); the access key has ${context.actor.role}.`,
  );
};

/**
 * `@UseMiddleware(unscopedOnly("…"))` on a field a scoped key may not read, whatever its role: what
 * a provider holds, the org-wide administration lists. Refused and audited like a role refusal.
 */
export const unscopedOnly =
  (what: string): MiddlewareFn<GraphQLContext> =>
  async ({ context, info }, next) => {
    await assertUnscoped(context, `${info.parentType.name}.${info.fieldName}`, what);
    return next();
  };

export interface UserErrorValue {
  code: string;
  field: string[] | null;
  message: string;
}

const toValue = (error: UserError): UserErrorValue => ({ code: error.code, field: error.field, message: error.message });

function flatten(errors: ValidationError[], path: string[]): UserErrorValue[] {
  return errors.flatMap((error) => {
    const field = [...path, error.property];
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      code: "INVALID_INPUT",
      field,
      message: `${field.slice(1).join(".") || field.join(".")}: ${message}.`,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Wraps a mutation's resolver: an argument that fails its input class's constraints (type-graphql
 * validates them inside the resolver) answers with userErrors, like any bad value.
 */
export function withInputValidationAsUserErrors<TSource, TArgs extends Record<string, unknown>>(
  resolve: GraphQLFieldResolver<TSource, GraphQLContext, TArgs>,
): GraphQLFieldResolver<TSource, GraphQLContext, TArgs> {
  return async (source, args, context, info) => {
    try {
      return await resolve(source, args, context, info);
    } catch (error) {
      if (error instanceof ArgumentValidationError) {
        // Mutations take one argument, `input`: paths start with it, as the domain's do.
        const argumentNames = Object.keys(args);
        return { userErrors: flatten(error.extensions.validationErrors as ValidationError[], argumentNames.length === 1 ? argumentNames : []) };
      }
      throw error;
    }
  };
}

/**
 * Runs one mutation as one transaction that follows the context down (see `inTransaction`): an
 * expected failure rolls everything back and becomes the payload's userErrors.
 */
export function mutate<T extends object>(ctx: GraphQLContext, work: () => Promise<T>): Promise<T | { userErrors: UserErrorValue[] }> {
  return payloadOf(ctx, () => inTransaction(ctx, work));
}

/**
 * The payload of a mutation that manages its own transactions (deploymentCredentials keeps none open
 * across its STS call): an expected failure becomes the payload's userErrors.
 */
export async function payloadOf<T extends object>(ctx: GraphQLContext, work: () => Promise<T>): Promise<T | { userErrors: UserErrorValue[] }> {
  try {
    return { userErrors: [], ...(await work()) };
  } catch (error) {
    return { userErrors: userErrorsOf(error) };
  } finally {
    ctx.loaders.clear();
  }
}

/** An expected failure's userErrors; anything else is thrown on. */
function userErrorsOf(error: unknown): UserErrorValue[] {
  if (error instanceof UserError) return [toValue(error)];
  if (error instanceof UserErrors) return error.errors.map(toValue);
  throw error;
}
