import type { ValidationError } from "class-validator";
import { getNullableType, GraphQLID, GraphQLList, isInputObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLInputType } from "graphql";
import { ArgumentValidationError, type AuthChecker, type MiddlewareFn } from "type-graphql";
import { assertUnscoped } from "../domain/scope.js";
import { Role } from "../entities/index.js";
import { deny } from "../domain/audit.js";
import { hasAnyRole } from "../domain/roles.js";
import { ClientGoneError, CodedError, UserError, UserErrors, type ErrorCode } from "../domain/errors.js";
import { inTransaction } from "../domain/transaction.js";
import type { GraphQLContext } from "./context.js";
import { asSent, hasRenamedFields, withNewNames, type Renamed } from "./renamed-fields.js";

/**
 * `@Authorized(Role.DEVELOPER)` admits developers and admins. Every query and mutation carries
 * `@Authorized` (a test walks the schema to prove it); without a valid key no request gets this far.
 * A refusal is audited (so that no rollback erases it) before FORBIDDEN is thrown.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = async ({ context, info }, roles) => {
  if (roles.length === 0) return true;
  if (hasAnyRole(context.actor.role, roles)) return true;
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
  code: ErrorCode;
  field: string[] | null;
  message: string;
}

const toValue = (error: UserError): UserErrorValue => ({ code: error.code, field: error.field, message: error.message });

/** A constraint that carries a rule's code (see `follows`) answers with that code and the rule's sentence. */
function flatten(errors: ValidationError[], path: string[]): UserErrorValue[] {
  return errors.flatMap((error) => {
    const field = [...path, error.property];
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => {
      const code = (error.contexts?.[constraint] as { code?: ErrorCode } | undefined)?.code;
      return code ? { code, field, message } : { code: "INVALID_INPUT" as const, field, message: `${field.slice(1).join(".") || field.join(".")}: ${message}.` };
    });
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * No argument of this API holds control characters besides tab and line breaks (a parameter's value
 * may be several lines; a NUL reaches PostgreSQL as an error), nor is longer than a parameter's value.
 */
const MAX_STRING = 32_768;
const MAX_ID = 256;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LINE_BREAKS_AND_TABS = /[\t\n\r]/g;

/**
 * An input field of free text (a parameter's value or description), marked with
 * `@Extensions({ freeText: { maxLength } })`: it may hold line breaks and tabs, and has its own cap.
 */
export interface FreeText {
  maxLength: number;
}

/**
 * Every string in the arguments, by the argument's GraphQL type, that no field of this API accepts:
 * control characters anywhere, a string longer than MAX_STRING or an ID longer than MAX_ID.
 */
function hostileValues(type: GraphQLInputType, value: unknown, field: string[], out: UserErrorValue[], freeText?: FreeText): void {
  if (value === null || value === undefined) return;
  const named = getNullableType(type);
  if (named instanceof GraphQLList) {
    if (Array.isArray(value)) value.forEach((item, i) => hostileValues(named.ofType, item, [...field, String(i)], out));
  } else if (isInputObjectType(named)) {
    for (const [name, inner] of Object.entries(named.getFields())) {
      hostileValues(inner.type, (value as Record<string, unknown>)[name], [...field, name], out, inner.extensions?.freeText as FreeText | undefined);
    }
  } else if (typeof value === "string") {
    const max = freeText?.maxLength ?? (named === GraphQLID ? MAX_ID : MAX_STRING);
    if (CONTROL.test(freeText ? value.replace(LINE_BREAKS_AND_TABS, "") : value) || value.length > max) {
      out.push({
        code: "INVALID_INPUT" as const,
        field,
        message: `${field.join(".")}: holds a control character or is longer than ${max} characters; no value of this API does. Send plain text.`,
      });
    }
  }
}

const NOTHING_RENAMED: ReadonlyMap<string, string[]> = new Map();

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as Promise<unknown> | null)?.then === "function";

/**
 * Wraps the resolver of a field that takes arguments, so that its input is checked before any other
 * work: hostile strings (see hostileValues) are refused and audited as `input.rejected`; then
 * type-graphql validates the input classes (inside the resolver). A mutation answers a bad value
 * with userErrors, like any bad value; any other field with a BAD_USER_INPUT error naming the
 * argument. Only fields with arguments are wrapped: a global middleware would cost a call per field.
 */
export function withCheckedArguments<TSource, TArgs extends Record<string, unknown>>(
  field: GraphQLField<TSource, GraphQLContext, TArgs>,
  resolve: GraphQLFieldResolver<TSource, GraphQLContext, TArgs>,
  isMutation: boolean,
): GraphQLFieldResolver<TSource, GraphQLContext, TArgs> {
  const renames = field.args.some((arg) => hasRenamedFields(arg.type));
  const refuse = (errors: UserErrorValue[]) => {
    if (isMutation) return { userErrors: errors };
    throw new CodedError("BAD_USER_INPUT", errors.map((e) => e.message).join(" "), { field: errors[0].field });
  };
  const onError = (error: unknown, args: TArgs, sent: ReadonlyMap<string, string[]>) => {
    if (error instanceof CodedError && Array.isArray(error.details.field)) error.details.field = asSent(error.details.field as string[], sent);
    if (!(error instanceof ArgumentValidationError)) throw error;
    // Mutations take one argument, `input`: paths start with it, as the domain's do.
    const argumentNames = Object.keys(args);
    const errors = flatten(error.extensions.validationErrors as ValidationError[], argumentNames.length === 1 ? argumentNames : []);
    return refuse(errors.map((e) => ({ ...e, field: asSent(e.field, sent) })));
  };
  /** A payload's userErrors name the fields the client sent. */
  const inClientNames = (result: unknown, sent: ReadonlyMap<string, string[]>) => {
    const userErrors = (result as { userErrors?: UserErrorValue[] } | null)?.userErrors;
    if (!Array.isArray(userErrors)) return result;
    return { ...(result as object), userErrors: userErrors.map((e) => ({ ...e, field: asSent(e.field, sent) })) };
  };
  return (source, args, context, info) => {
    // A client that went away starts no more of its mutations (they run one after another, and each
    // may call STS); a query stops at its next loader batch.
    if (isMutation && context.signal.aborted) throw new ClientGoneError();
    const refused: UserErrorValue[] = [];
    for (const arg of field.args) hostileValues(arg.type, args[arg.name], [arg.name], refused);
    // Most fields have no renamed input: they pay for nothing here.
    let callArgs = args;
    let sent: ReadonlyMap<string, string[]> = NOTHING_RENAMED;
    if (renames && refused.length === 0) {
      const renamed: Renamed = { errors: refused, sent: new Map() };
      callArgs = Object.fromEntries(field.args.map((arg) => [arg.name, withNewNames(arg.type, args[arg.name], [arg.name], renamed)]).filter(([, v]) => v !== undefined)) as TArgs;
      sent = renamed.sent;
    }
    if (refused.length > 0) {
      const operation = `${info.parentType.name}.${info.fieldName}`;
      return context.services.audit
        .recordRefusal(context, "input.rejected", new UserErrors(refused.map((e) => new UserError(e.code, e.field, e.message))), {
          operation,
          fields: refused.map((e) => e.field!.join(".")),
        })
        .then(() => refuse(refused));
    }
    try {
      const result = resolve(source, callArgs, context, info);
      if (sent.size === 0) return isPromise(result) ? result.catch((error) => onError(error, callArgs, sent)) : result;
      return isPromise(result) ? result.then((r) => inClientNames(r, sent), (error) => onError(error, callArgs, sent)) : inClientNames(result, sent);
    } catch (error) {
      return onError(error, callArgs, sent);
    }
  };
}

/**
 * Runs one mutation as one unit of work (see `inTransaction`): `work` gets a child context, `tx`,
 * whose entity manager and loaders are the transaction's, and does everything through it. An
 * expected failure rolls everything back and becomes the payload's userErrors.
 */
export function mutate<T extends object>(ctx: GraphQLContext, work: (tx: GraphQLContext) => Promise<T>): Promise<T | { userErrors: UserErrorValue[] }> {
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
