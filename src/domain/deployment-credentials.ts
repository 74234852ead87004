import type { DataSource, EntityManager } from "typeorm";
import type { StsAdapter } from "../aws/sts.js";
import { AuditOutcome, Instance, Org, Provider, ProviderType } from "../entities/index.js";
import { errorCodesOf, refusalOutcome, type AuditService } from "./audit.js";
import { queryPrepared } from "../db/prepared.js";
import { entityFromRow, selectColumns } from "../db/rows.js";
import { deploymentPlaceSql, type CatalogService, type FoundPlace, type PlaceRow } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { credentialKind, kindTools, type IssuedCredentials, type Minted } from "./credential-kinds/index.js";
import { CodedError, NotFoundError, ServiceUnavailableError, UserError, UserErrors } from "./errors.js";
import { migrationWarning, pendingProfilesSql, type MigrationReport, type ProfileMigrationService } from "./profile-migration.js";
import type { ProviderSecrets } from "./provider-secrets.js";
import { resolutionSql, resolutionsOf, type ProviderSource, type Resolution, type ResolutionRow } from "./resolution.js";
import { assertInScope } from "./scope.js";
import { IGNORING_OBSERVER, IssuanceOutcome, type DomainObserver } from "./observer.js";
import { assertStageMayBeAdded, newStageWarning, type DeploymentWarning } from "./stage-warnings.js";
import { inTransaction } from "./transaction.js";

export type { IssuedCredentials } from "./credential-kinds/index.js";

/** What a deployment names: the scope a key may be limited to. */
export interface DeploymentTarget {
  org: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
}

export interface DeploymentRequest extends DeploymentTarget {
  type: ProviderType;
  durationSeconds: number | null;
  /**
   * With no durationSeconds: the longest session the provider allows instead of the default hour,
   * for a client that never refreshes its credentials (the Serverless Framework's dashboard client).
   */
  longestSession?: boolean;
}

/** What a deployment gets: its instance, the provider that applies and why, and the credentials. */
export interface IssuedDeployment {
  instance: Instance;
  /** Null: no provider applies; the deployment uses its local credentials. */
  resolution: Resolution | null;
  credentials: IssuedCredentials | null;
  /**
   * A new stage (a typo of a known one?) or a new service, or the org's deployment profiles migrated
   * by this request: the deployment went ahead, but should know.
   */
  warnings: DeploymentWarning[];
  /** The migration of the org's deployment profiles this request triggered, if it did. */
  profileMigration: MigrationReport | null;
}

/** Everything a deployment reads before it calls STS, from one statement (see `lookUp`). */
interface DeploymentLookup extends FoundPlace {
  /** The caller's org, whatever slug the request named (null: it was deleted). */
  org: Org | null;
  /** The org still has legacy deployment profiles to migrate. */
  profilesPending: boolean;
  /** When the instance is new: how many the org has (the instance limit is checked before STS). */
  instanceCount: number | null;
  resolution: Resolution | null;
}

/**
 * The deployment's one read before STS: the caller's org, whether it has profiles to migrate, the
 * place (service, instance, and the known stages and the org's instance count when the instance is
 * new) and the provider that applies, by the rules of `resolutionSql` for the place found.
 * $1 org, $2 provider type, $3 app, $4 service, $5 stage, $6 region.
 */
const lookUpSqlOf = (em: EntityManager) => `
WITH place AS (${deploymentPlaceSql({ org: "$1", app: "$3", service: "$4", stage: "$5", region: "$6" })}),
     target AS (SELECT place.service_id, $5::text, $6::text, 1::bigint FROM (SELECT) one LEFT JOIN place ON true)
SELECT ${selectColumns(em.connection.getMetadata(Org), "o", "org_")},
       ${pendingProfilesSql("$1")} AS profiles_pending,
       place.service_id, place.existing_instance_id, place.known_stages,
       CASE WHEN place.existing_instance_id IS NULL THEN (SELECT count(*)::int FROM instances WHERE org_id = $1) END AS instance_count,
       resolution.*
  FROM orgs o
  LEFT JOIN place ON true
  LEFT JOIN (${resolutionSql(em, "target")}) resolution ON true
 WHERE o.id = $1`;

/**
 * The caller's org and a deployment's place by name, for a deployment that needs no provider (its
 * parameters). $1 org, $2 app, $3 service, $4 stage, $5 region.
 */
const admitPlaceSqlOf = (em: EntityManager) => `
SELECT ${selectColumns(em.connection.getMetadata(Org), "o", "org_")}, place.service_id, place.existing_instance_id, place.known_stages
  FROM orgs o
  LEFT JOIN (${deploymentPlaceSql({ org: "$1", app: "$2", service: "$3", stage: "$4", region: "$5" })}) place ON true
 WHERE o.id = $1`;

/** A statement's text written once per data source: the text is its prepared statement's key, looked up on every request. */
function textOnce(texts: WeakMap<DataSource, string>, em: EntityManager, write: (em: EntityManager) => string): string {
  let text = texts.get(em.connection);
  if (text === undefined) texts.set(em.connection, (text = write(em)));
  return text;
}
const lookUpTexts = new WeakMap<DataSource, string>();
const admitPlaceTexts = new WeakMap<DataSource, string>();

/**
 * An org that asked for it gets no credentials from a role whose last verification found that it can
 * be assumed without the external id: whoever else the role trusts could act as this org's deployments.
 */
function assertTrusted(org: Org, provider: Provider): void {
  if (!org.refuseUnenforcedExternalId || provider.externalIdEnforced !== false) return;
  throw new CodedError(
    "EXTERNAL_ID_NOT_ENFORCED",
    `The org refuses credentials from roles that do not require their external id, and the provider "${provider.name}" was last verified${
      provider.verifiedAt ? ` (${provider.verifiedAt.toISOString()})` : ""
    } as assumable without it. An admin must add the condition "StringEquals": { "sts:ExternalId": "<the provider's external id>" } to the role's trust policy and run verifyProvider again.`,
  );
}

/**
 * Hands a deployment its credentials in three steps, so that nothing is held while STS answers (a
 * slow STS must not become a stopped server, nor queue deployments of one instance behind each other):
 *   1. short reads: authorize, check the names, find the service and resolve the provider;
 *   2. mint the credentials (the STS call) with no connection, transaction or lock held;
 *   3. one statement records the instance and the issuance's audit event (atomic, no transaction held open).
 * Fail-closed: credentials leave the server only once step 3 has committed; if it fails, the caller
 * gets a retryable error. A refusal or failure leaves nothing behind but its own audit event.
 */
export class DeploymentCredentialsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly secrets: ProviderSecrets,
    private readonly audit: AuditService,
    private readonly profileMigration: ProfileMigrationService,
    private readonly sts: StsAdapter,
    private readonly observer: DomainObserver = IGNORING_OBSERVER,
  ) {}

  /**
   * `admit` and the deployment's place (see `CatalogService.lookUpDeployment`), from one read: for a
   * deployment's parameters, which need no provider. No lock, no transaction.
   */
  async admitPlace(ctx: RequestContext, target: DeploymentTarget): Promise<FoundPlace> {
    const [row] = await queryPrepared(ctx.em, textOnce(admitPlaceTexts, ctx.em, admitPlaceSqlOf), [ctx.orgId, target.app, target.service, target.stage, target.region]);
    await this.admit(ctx, target, row ? entityFromRow<Org>(ctx.em.connection.getMetadata(Org), row, "org_") : null);
    return this.catalog.placeOf(ctx, target, row?.service_id ? (row as unknown as PlaceRow) : undefined);
  }

  /**
   * The one place that decides whether the caller may get credentials (or parameters) for this
   * target, given the caller's org as read (null: none): the org must be the caller's (another org's
   * looks like an unknown one), and a scoped key must cover the app, service and stage — so a preview
   * pipeline's key can never mint prod credentials.
   */
  private async admit(ctx: RequestContext, target: DeploymentTarget, org: Org | null): Promise<Org> {
    if (!org || org.slug !== target.org) throw new NotFoundError(`The org "${target.org}"`);
    await assertInScope(ctx, { appName: target.app, serviceName: target.service, stage: target.stage });
    return org;
  }

  async issue(ctx: RequestContext, request: DeploymentRequest): Promise<IssuedDeployment> {
    const where = { app: request.app, service: request.service, stage: request.stage, region: request.region, type: request.type };
    let provider: Provider | null = null;
    let source: ProviderSource | null = null;
    try {
      // The names first: a stage is checked before a scope's pattern is matched against it.
      this.catalog.checkDeploymentTarget(request);
      let found = await this.lookUp(ctx, request);
      const org = await this.admit(ctx, request, found.org);
      // A stage the service never had, in an org that refuses new stages, is refused before anything is
      // recorded (the profile migration below included) or STS is asked for anything. No statement: the
      // org, the key and the known stages came with the one read.
      if (!found.instanceExists) assertStageMayBeAdded(ctx.actor, org, request, found.knownStages);
      const stageWarning = found.instanceExists ? null : newStageWarning(request, found.serviceId !== null, found.knownStages);
      // An org that still has legacy deployment profiles is migrated by its first deployment, with
      // the instance recorded inside the run so that it is linked too and named as the trigger. That
      // is org-wide work the deployment only triggers: it commits before STS is asked, and stays even
      // if the STS call below fails. The read is made again: the run may have linked and created.
      const migration = found.profilesPending
        ? await this.profileMigration.migrateIfPending(ctx, async (tx) => {
            // A redeployment makes no instance: an org at its instance limit still deploys what it has.
            const { instanceExists } = await this.catalog.lookUpDeployment(tx, request);
            return this.catalog.recordDeployment(tx, request, !instanceExists);
          })
        : null;
      if (found.profilesPending) found = await this.lookUp(ctx, request);
      const { instanceExists, instanceCount, resolution } = found;
      // A new stage or region past the org's limit is refused before STS is asked for anything.
      if (instanceCount !== null) this.catalog.assertRoomBeside(instanceCount);
      const warnings = [...(migration ? [migrationWarning(migration)] : []), ...(stageWarning ? [stageWarning] : [])];
      if (!resolution) {
        const instance = await this.recordIssued(ctx, request, !instanceExists, "credentials.local", { ...where, useLocalCredentials: true });
        this.observe(ctx, request, { outcome: IssuanceOutcome.LOCAL, source: null, provider: null });
        return { instance, resolution: null, credentials: null, warnings, profileMigration: migration };
      }
      provider = resolution.provider;
      source = resolution.source;
      assertTrusted(org, provider);
      const { credentials, details } = await this.mint(org, request, provider);
      const instance = await this.recordIssued(ctx, request, !instanceExists, "credentials.issue", {
        ...where,
        providerId: provider.id,
        providerName: provider.name,
        kind: provider.kind,
        source: resolution.source,
        ...details,
      });
      this.observe(ctx, request, { outcome: IssuanceOutcome.ISSUED, source: resolution.source, provider });
      return { instance, resolution, credentials, warnings, profileMigration: migration };
    } catch (error) {
      await this.audit.recordRefusal(ctx, "credentials.issue", error, { ...where, ...(provider ? { providerId: provider.id, providerName: provider.name } : {}) });
      const denied = refusalOutcome(error) === AuditOutcome.DENIED;
      this.observe(ctx, request, { outcome: denied ? IssuanceOutcome.DENIED : IssuanceOutcome.FAILED, source, provider, code: errorCodesOf(error).errorCode });
      throw error;
    }
  }

  /** Step 1 in one statement (see `lookUpSqlOf`): no lock, no transaction. */
  private async lookUp(ctx: RequestContext, request: DeploymentRequest): Promise<DeploymentLookup> {
    const [row] = await queryPrepared(ctx.em, textOnce(lookUpTexts, ctx.em, lookUpSqlOf), [ctx.orgId, request.type, request.app, request.service, request.stage, request.region]);
    if (!row) return { org: null, profilesPending: false, serviceId: null, instanceExists: false, knownStages: [], instanceCount: null, resolution: null };
    const place = this.catalog.placeOf(ctx, request, row.service_id ? (row as unknown as PlaceRow) : undefined);
    return {
      ...place,
      org: entityFromRow<Org>(ctx.em.connection.getMetadata(Org), row, "org_"),
      profilesPending: row.profiles_pending as boolean,
      instanceCount: row.instance_count as number | null,
      resolution: resolutionsOf(ctx.em, [row as ResolutionRow])[0],
    };
  }

  /** One log line and the metrics for each request for credentials: names and ids, never a secret. */
  private observe(
    ctx: RequestContext,
    request: DeploymentRequest,
    how: { outcome: IssuanceOutcome; source: ProviderSource | null; provider: Provider | null; code?: string },
  ): void {
    this.observer.credentials({ type: request.type, source: how.source, outcome: how.outcome });
    const line = {
      event: "credentials",
      requestId: ctx.requestId,
      orgId: ctx.orgId,
      keyId: ctx.actor.accessKeyId,
      app: request.app,
      service: request.service,
      stage: request.stage,
      region: request.region,
      type: request.type,
      outcome: how.outcome,
      source: how.source,
      providerId: how.provider?.id ?? null,
      ...(how.code ? { code: how.code } : {}),
    };
    const failed = how.outcome === IssuanceOutcome.FAILED || how.outcome === IssuanceOutcome.DENIED;
    if (failed) ctx.logger.warn(line, "deployment credentials refused");
    else ctx.logger.info(line, how.outcome === IssuanceOutcome.LOCAL ? "no provider applies: local credentials" : "deployment credentials issued");
  }

  /**
   * Step 3: the deployment's instance (created on first use) and its audit event, in one statement
   * (in a short transaction with the instance limit's lock and count when the instance is new).
   * Nothing is handed out unless it commits; a write that fails for any reason but the caller's input
   * becomes a retryable error, and the cause is logged.
   */
  private async recordIssued(ctx: RequestContext, request: DeploymentRequest, newInstance: boolean, action: string, details: Record<string, unknown>): Promise<Instance> {
    try {
      const event = this.audit.eventOf(ctx, { action, targetType: "Instance", details });
      // One statement writes the instance and its event, so they commit together. Only a new instance
      // needs a transaction around it: the org's lock and count that keep it within the instance limit.
      const record = (on: RequestContext) => this.catalog.recordDeployment(on, request, newInstance, event);
      return await (newInstance ? inTransaction(ctx, record) : record(ctx));
    } catch (error) {
      if (error instanceof UserError || error instanceof UserErrors || error instanceof CodedError) throw error;
      ctx.logger.error({ requestId: ctx.requestId, action, err: { message: (error as Error).message } }, "could not record an issuance; its credentials were not handed out");
      throw new ServiceUnavailableError("The credentials could not be recorded in the audit trail, so they were not handed out. Try again in a moment.");
    }
  }

  /** Makes the credentials for one deployment, and the audit details that describe them (never a secret). */
  private mint(org: Org, request: DeploymentRequest, provider: Provider): Promise<Minted> {
    return credentialKind(provider.kind).mint(kindTools(provider, this.secrets, this.sts), {
      orgSlug: org.slug,
      app: request.app,
      service: request.service,
      stage: request.stage,
      region: request.region,
      durationSeconds: request.durationSeconds,
      longestSession: request.longestSession ?? false,
    });
  }
}
