import { NotFoundError } from "../domain/errors.js";
import { UUID } from "../domain/validation.js";

/** The object types that have global IDs: one list, so a type added to it is also decoded. */
const NODE_TYPES = ["Org", "App", "Service", "Instance", "Provider", "AccessKey", "User", "AuditEvent", "DeploymentProfile", "DeploymentProfileMigration", "Parameter"] as const;
export type NodeTypeName = (typeof NODE_TYPES)[number];

const NODE_TYPE_NAMES: ReadonlySet<string> = new Set<NodeTypeName>(NODE_TYPES);

/** Opaque to clients: base64url of "Type:uuid". */
export function toGlobalId(type: NodeTypeName, id: string): string {
  return Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
}

/**
 * Decodes a global ID; a malformed one is simply not found. The type must be one of ours, so that
 * `constructor` or `toString` never reach a lookup keyed by type.
 */
export function fromGlobalId(globalId: string): { type: NodeTypeName; id: string } | null {
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  const separator = decoded.indexOf(":");
  const type = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  return separator > 0 && NODE_TYPE_NAMES.has(type) && UUID.test(id) ? { type: type as NodeTypeName, id } : null;
}

/** The uuid behind a global ID of the expected type, or NOT_FOUND naming what was asked for. */
export function idOf(expected: NodeTypeName, globalId: string): string {
  const parsed = fromGlobalId(globalId);
  if (!parsed || parsed.type !== expected) throw new NotFoundError(`The ${expected.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()} ${JSON.stringify(globalId)}`);
  return parsed.id;
}
