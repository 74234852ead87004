import type { AccessScope, RequestContext } from "./context.js";
import { deny } from "./audit.js";
import { DEFAULT_STAGE } from "./deployment-profiles.js";

/**
 * Scopes limit a key to some apps, services and stage patterns. They only narrow what the key's role
 * allows: a check here never grants anything, it only refuses.
 */

export interface ScopeTarget {
  appName: string;
  serviceName?: string | null;
  stage?: string | null;
}

/**
 * Whether a stage fits a glob pattern in which `*` is any run of characters and everything else is
 * literal. Greedy, without backtracking: each literal piece between stars is found at its earliest
 * place after the previous one, which is correct for `*`-only globs and takes time linear in the
 * stage per piece. (A regular expression of `*********x` took seconds per 40-character stage.)
 */
export function stageMatchesPattern(pattern: string, stage: string): boolean {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return pattern === stage;
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (stage.length < first.length + last.length || !stage.startsWith(first) || !stage.endsWith(last)) return false;
  let at = first.length;
  const end = stage.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    if (piece === "") continue;
    const found = stage.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

export function stageMatches(patterns: string[], stage: string): boolean {
  return patterns.some((p) => stageMatchesPattern(p, stage));
}

/**
 * The same pattern for SQL's LIKE (`*` → `%`, a run of `*` is one `%`; `%`, `_` and `\` are escaped,
 * though a valid pattern holds only letters, digits, hyphens and `*`). PostgreSQL's LIKE does not
 * backtrack exponentially: it gives up on an outer `%` once an inner one has run out of text.
 */
export function stagePatternToLike(pattern: string): string {
  return pattern.replace(/[\\%_]/g, "\\$&").replace(/\*+/g, "%");
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
 * Refuses a scoped key an operation that reaches beyond any scope: a service-wide link (it applies
 * to every stage), the org's defaults, provider administration, legacy profiles' administration.
 * Audited as DENIED `authorization.scope`, like every scope refusal.
 */
export async function assertUnscoped(ctx: RequestContext, operation: string, what: string): Promise<void> {
  if (!ctx.actor.scope) return;
  await deny(
    ctx,
    { action: "authorization.scope", details: { operation } },
    `This access key is scoped, and ${what} reaches beyond its scope. Use an unscoped key (or ask an org admin).`,
  );
}

/**
 * A scoped key links and unlinks only the providers an admin allowed for its scope when creating it
 * (`scope.linkableProviderIds`); none when it names none. Unscoped keys link any of the org's.
 */
export async function assertMayLinkProvider(ctx: RequestContext, operation: string, provider: { id: string; name: string }): Promise<void> {
  const scope = ctx.actor.scope;
  if (!scope || scope.linkableProviderIds?.includes(provider.id)) return;
  await deny(
    ctx,
    { action: "authorization.scope", targetType: "Provider", targetId: provider.id, details: { operation, providerName: provider.name } },
    `This access key's scope does not allow linking or unlinking the provider "${provider.name}". An org admin chooses the providers a scoped key may link when creating it.`,
  );
}

/**
 * SQL conditions that keep a scoped key's lists and lookups to what it may see. `alias` is the table
 * alias; `param(value)` binds a value and returns its placeholder.
 */
export type ScopedEntity = "app" | "service" | "instance" | "deploymentProfile";

export function scopeCondition(scope: AccessScope | null, entity: ScopedEntity, alias: string, param: (value: unknown) => string): string | null {
  if (!scope) return null;
  if (entity === "deploymentProfile") {
    // A legacy profile is seen through the app stages mapped to it: `default` (the app's every stage)
    // or a stage inside the scope. One mapped nowhere in the scope is not there for the key.
    const where = [`m.profile_id = ${alias}.id`];
    if (scope.apps) where.push(`a.name = ANY(${param(scope.apps)}::text[])`);
    if (scope.stages) where.push(`(m.stage = ${param(DEFAULT_STAGE)} OR m.stage LIKE ANY(${param(scope.stages.map(stagePatternToLike))}::text[]))`);
    return `EXISTS (SELECT 1 FROM app_stage_profiles m JOIN apps a ON a.id = m.app_id WHERE ${where.join(" AND ")})`;
  }
  const parts: string[] = [];
  const appName = { app: `${alias}.name`, service: `a.name`, instance: `a.name` }[entity];
  const serviceName = entity === "service" ? `${alias}.name` : entity === "instance" ? "s.name" : null;
  if (entity === "instance" && scope.stages) parts.push(`${alias}.stage LIKE ANY(${param(scope.stages.map(stagePatternToLike))}::text[])`);
  const inner: string[] = [];
  if (scope.apps) inner.push(`${appName} = ANY(${param(scope.apps)}::text[])`);
  if (serviceName && scope.services) inner.push(`${serviceName} = ANY(${param(scope.services)}::text[])`);
  if (inner.length > 0) {
    if (entity === "app") parts.push(...inner);
    else if (entity === "service") parts.push(`EXISTS (SELECT 1 FROM apps a WHERE a.id = ${alias}.app_id AND ${inner.join(" AND ")})`);
    else parts.push(`EXISTS (SELECT 1 FROM services s JOIN apps a ON a.id = s.app_id WHERE s.id = ${alias}.service_id AND ${inner.join(" AND ")})`);
  }
  return parts.length > 0 ? `(${parts.join(" AND ")})` : null;
}

/** scopeCondition for pagination's positional filters ($n). */
export function scopeFilter(scope: AccessScope | null, entity: ScopedEntity): { sql: (next: number) => string; params: unknown[] } | undefined {
  const params: unknown[] = [];
  if (!scopeCondition(scope, entity, "t", (v) => (params.push(v), "$0"))) return undefined;
  return {
    sql: (next) => {
      let n = next;
      return scopeCondition(scope, entity, "t", () => `$${n++}`)!;
    },
    params,
  };
}
