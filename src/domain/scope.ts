import type { AccessScope, RequestContext } from "./context.js";
import { deny } from "./audit.js";

/**
 * Scopes limit a key to some apps, services and stage patterns. They only narrow what the key's role
 * allows: a check here never grants anything, it only refuses.
 */

export interface ScopeTarget {
  appName: string;
  serviceName?: string | null;
  stage?: string | null;
}

/** `feature-*` → /^feature-.*$/: `*` is any run of characters, everything else is literal. */
export function stagePatternToRegExp(pattern: string): string {
  return `^${pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`;
}

export function stageMatches(patterns: string[], stage: string): boolean {
  return patterns.some((p) => new RegExp(stagePatternToRegExp(p)).test(stage));
}

/**
 * Whether the scope admits the target. A field the target leaves out (an app without a service,
 * a service without a stage) is not checked: an app is visible to a key scoped to one of its services.
 */
export function isInScope(scope: AccessScope | null, target: ScopeTarget): boolean {
  if (!scope) return true;
  if (scope.apps && !scope.apps.includes(target.appName)) return false;
  if (scope.services && target.serviceName != null && !scope.services.includes(target.serviceName)) return false;
  if (scope.stages && target.stage != null && !stageMatches(scope.stages, target.stage)) return false;
  return true;
}

function describe(target: ScopeTarget): string {
  return [`app "${target.appName}"`, target.serviceName != null ? `service "${target.serviceName}"` : null, target.stage != null ? `stage "${target.stage}"` : null]
    .filter(Boolean)
    .join(", ");
}

/**
 * THE scope check for operations that name what they act on (deploymentCredentials calls this before
 * it resolves or mints anything). Passes silently when the caller's key admits the app, service and
 * stage; otherwise records a DENIED `authorization.scope` audit event outside the request's
 * transaction (so a rollback cannot erase it) and throws a FORBIDDEN error that names only what
 * the caller itself asked for. Role checks are separate (`@Authorized`); this only narrows.
 */
export async function assertInScope(ctx: RequestContext, target: ScopeTarget): Promise<void> {
  if (isInScope(ctx.actor.scope, target)) return;
  await deny(
    ctx,
    { action: "authorization.scope", details: { appName: target.appName, serviceName: target.serviceName ?? null, stage: target.stage ?? null } },
    `This access key's scope does not include ${describe(target)}. Ask an org admin for a key whose scope covers it.`,
  );
}

/**
 * SQL conditions that keep a scoped key's lists and lookups to what it may see. `alias` is the table
 * alias; `param(value)` binds a value and returns its placeholder.
 */
export function scopeCondition(
  scope: AccessScope | null,
  kind: "app" | "service" | "instance",
  alias: string,
  param: (value: unknown) => string,
): string | null {
  if (!scope) return null;
  const parts: string[] = [];
  const appName = { app: `${alias}.name`, service: `a.name`, instance: `a.name` }[kind];
  const serviceName = kind === "service" ? `${alias}.name` : kind === "instance" ? "s.name" : null;
  if (kind === "instance" && scope.stages) parts.push(`${alias}.stage ~ ANY(${param(scope.stages.map(stagePatternToRegExp))}::text[])`);
  const inner: string[] = [];
  if (scope.apps) inner.push(`${appName} = ANY(${param(scope.apps)}::text[])`);
  if (serviceName && scope.services) inner.push(`${serviceName} = ANY(${param(scope.services)}::text[])`);
  if (inner.length > 0) {
    if (kind === "app") parts.push(...inner);
    else if (kind === "service") parts.push(`EXISTS (SELECT 1 FROM apps a WHERE a.id = ${alias}.app_id AND ${inner.join(" AND ")})`);
    else parts.push(`EXISTS (SELECT 1 FROM services s JOIN apps a ON a.id = s.app_id WHERE s.id = ${alias}.service_id AND ${inner.join(" AND ")})`);
  }
  return parts.length > 0 ? `(${parts.join(" AND ")})` : null;
}

/** scopeCondition for pagination's positional filters ($n). */
export function scopeFilter(scope: AccessScope | null, kind: "app" | "service" | "instance"): { sql: (next: number) => string; params: unknown[] } | undefined {
  const params: unknown[] = [];
  if (!scopeCondition(scope, kind, "t", (v) => (params.push(v), "$0"))) return undefined;
  return {
    sql: (next) => {
      let n = next;
      return scopeCondition(scope, kind, "t", () => `$${n++}`)!;
    },
    params,
  };
}
