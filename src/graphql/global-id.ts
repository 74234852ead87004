import { NotFoundError } from "../domain/errors.js";

/** The object types that have global IDs. */
export type NodeTypeName = "Org" | "App" | "Service" | "Instance" | "Provider" | "AccessKey" | "User" | "AuditEvent" | "DeploymentProfile" | "Parameter";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque to clients: base64url of "Type:uuid". */
export function toGlobalId(type: NodeTypeName, id: string): string {
  return Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
}

/** Decodes a global ID; a malformed one is simply not found. */
export function fromGlobalId(globalId: string): { type: NodeTypeName; id: string } | null {
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  const separator = decoded.indexOf(":");
  const type = decoded.slice(0, separator) as NodeTypeName;
  const id = decoded.slice(separator + 1);
  return separator > 0 && UUID.test(id) ? { type, id } : null;
}

/** The uuid behind a global ID of the expected type, or NOT_FOUND naming what was asked for. */
export function idOf(expected: NodeTypeName, globalId: string): string {
  const parsed = fromGlobalId(globalId);
  if (!parsed || parsed.type !== expected) throw new NotFoundError(`The ${expected.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()} ${JSON.stringify(globalId)}`);
  return parsed.id;
}
