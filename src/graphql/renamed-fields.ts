import { isDeepStrictEqual } from "node:util";
import { getNamedType, getNullableType, GraphQLList, isInputObjectType, type GraphQLInputField, type GraphQLInputObjectType, type GraphQLInputType } from "graphql";
import type { UserErrorValue } from "./middleware.js";
import type { FormerName } from "./types/common.js";

/**
 * Input fields renamed under the naming rule (see `FormerlyNamed`): a value sent under the former
 * name is moved to the new one, so resolvers read only the new name. `sent` remembers, by the new
 * field's path, the path the client used, so that an error about the value names what it sent.
 */
export interface Renamed {
  errors: UserErrorValue[];
  sent: Map<string, string[]>;
}

const formerNameOf = (field: GraphQLInputField) => field.extensions?.formerName as FormerName | undefined;

/** Whether any input object reachable from the type has a renamed field (decided once per field, at start-up). */
export function hasRenamedFields(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((field) => formerNameOf(field) !== undefined || hasRenamedFields(field.type, seen));
}

/** Per input type, once: its renamed fields, and the fields that lead to one (the only ones worth walking into). */
interface Plan {
  renamed: Array<[string, FormerName]>;
  walked: GraphQLInputField[];
}
const plans = new WeakMap<GraphQLInputObjectType, Plan>();

function planOf(type: GraphQLInputObjectType): Plan {
  let plan = plans.get(type);
  if (!plan) {
    const fields = Object.values(type.getFields());
    plan = {
      renamed: fields.flatMap((field) => (formerNameOf(field) ? [[field.name, formerNameOf(field)!] as [string, FormerName]] : [])),
      walked: fields.filter((field) => hasRenamedFields(field.type)),
    };
    plans.set(type, plan);
  }
  return plan;
}

/**
 * The value with every former name moved to its new one. Two different values under the two names,
 * or a required field under neither, go to `out.errors`; the same value under both is one value.
 */
export function withNewNames(type: GraphQLInputType, value: unknown, path: string[], out: Renamed): unknown {
  if (value === null || value === undefined) return value;
  const named = getNullableType(type);
  if (named instanceof GraphQLList) return Array.isArray(value) ? value.map((item, i) => withNewNames(named.ofType, item, [...path, String(i)], out)) : value;
  if (!isInputObjectType(named)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const plan = planOf(named);
  for (const [name, former] of plan.renamed) {
    const [current, old] = [copy[name], copy[former.name]];
    const given = (v: unknown) => v !== undefined && v !== null;
    const at = [...path, name].join(".");
    if (given(current) && given(old) && !isDeepStrictEqual(current, old)) {
      out.errors.push({
        code: "RENAMED_FIELD_CONFLICT",
        field: [...path, name],
        message: `${at} and its deprecated former name ${former.name} were given different values; send ${name} alone.`,
      });
    } else if (!given(current) && old !== undefined) {
      copy[name] = old;
      out.sent.set(at, [...path, former.name]);
    }
    delete copy[former.name];
    if (former.required && !given(copy[name])) {
      out.errors.push({ code: "REQUIRED_FIELD_MISSING", field: [...path, name], message: `${at} is required (formerly named ${former.name}).` });
    }
  }
  for (const field of plan.walked) {
    if (copy[field.name] !== undefined) copy[field.name] = withNewNames(field.type, copy[field.name], [...path, field.name], out);
  }
  return copy;
}

/** A field path in the client's own names: `input.sessionDurationSeconds` stays `input.durationSeconds` for a client that sent that. */
export function asSent(field: string[] | null, sent: ReadonlyMap<string, string[]>): string[] | null {
  if (!field) return field;
  for (let end = field.length; end > 0; end--) {
    const former = sent.get(field.slice(0, end).join("."));
    if (former) return [...former, ...field.slice(end)];
  }
  return field;
}
