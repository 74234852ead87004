import { randomUUID } from "node:crypto";
import { CredentialKind, DeploymentProfile, type Instance, ProfileMigrationRun, Provider, ProviderType } from "../entities/index.js";
import { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { DEFAULT_STAGE } from "./deployment-profiles.js";
import type { LinkService } from "./links.js";
import type { ProviderService } from "./providers.js";
import { assertUnscoped } from "./scope.js";
import type { DeploymentWarning } from "./stage-warnings.js";
import { inTransaction } from "./transaction.js";
import { listPages, countByParent, type Page, type PageArgs } from "./pagination.js";

export type MigrationTrigger = "AUTOMATIC" | "MANUAL" | "CLI";

/** A profile's provider: made by this run, or one that already existed (reused). */
export interface MigratedProfile {
  profileId: string;
  profileName: string;
  providerId: string;
  providerName: string;
  /** Why an existing provider was reused, or why the new one is not named after the profile. */
  note: string | null;
}

export interface SkippedProfile {
  profileId: string;
  profileName: string;
  reason: "NO_ROLE_ARN" | "PROVIDER_DELETED";
  message: string;
}

export interface MigratedLink {
  target: "SERVICE" | "INSTANCE";
  appName: string;
  serviceId: string;
  serviceName: string;
  instanceId: string | null;
  /** The legacy stage the link comes from: `default` for a service link. */
  stage: string;
  region: string | null;
  profileName: string;
  providerId: string;
  providerName: string;
}

/**
 * A link the migration leaves alone although its mapping asks for it:
 * - UNLINKED_SINCE / REPLACED_SINCE: an earlier run did it (added it, or found it in place), and
 *   someone unlinked it or linked another provider since. A rerun adds only what no run has done.
 * - INSTANCE_LIMIT_REACHED: the stage-wide instance it goes on could not be made (MAX_INSTANCES_PER_ORG).
 */
export interface SkippedLink extends MigratedLink {
  reason: "UNLINKED_SINCE" | "REPLACED_SINCE" | "INSTANCE_LIMIT_REACHED";
  message: string;
  /** For UNLINKED_SINCE and REPLACED_SINCE: the run that did it. */
  earlierRunId: string | null;
}

/** A link the migration would add, where someone had already linked another provider by hand. */
export interface LinkConflict extends MigratedLink {
  linkedProviderId: string;
  linkedProviderName: string;
  message: string;
}

export interface MigrationReport {
  /** The run, as stored in profile_migration_runs and listed by Org.deploymentProfileMigrations. */
  runId: string;
  orgId: string;
  trigger: MigrationTrigger;
  providersCreated: MigratedProfile[];
  providersExisting: MigratedProfile[];
  profilesSkipped: SkippedProfile[];
  linksAdded: MigratedLink[];
  linksExisting: MigratedLink[];
  linksSkipped: SkippedLink[];
  conflicts: LinkConflict[];
}

export interface ProfileMigrationOptions {
  /**
   * Called after each step of a migration, inside its transaction. Tests use it to fail a run
   * half-way and prove that nothing of it stays.
   */
  afterStep?: (step: "profile" | "link", ctx: RequestContext) => void | Promise<void>;
}


const MAX_NAME = 64;

/** Whether the org (`org`, a placeholder) has profiles not yet migrated, as an SQL condition: one lookup on a partial index. */
export const pendingProfilesSql = (org: string) => `EXISTS (SELECT 1 FROM deployment_profiles WHERE org_id = ${org} AND migrated_at IS NULL)`;

/** Newest first: the ordering key counts down from the far future, to the millisecond. */
const NEWEST_FIRST = { sql: "lpad((9999999999999 - floor(extract(epoch from t.ran_at) * 1000))::bigint::text, 13, '0')" };

/** What an earlier run did on a target with a provider: the run, and when it ran. */
interface EarlierLink {
  runId: string;
  ranAt: Date;
}

const doneKey = (targetId: string, providerId: string) => `${targetId}/${providerId}`;

/**
 * The migration of legacy deployment profiles to providers, as the seed describes it: a provider
 * per profile with a role ARN, the app's `default`-stage provider on each of its services, each
 * stage's provider on the stage-wide instance of every service of the app (which covers every region,
 * deployed or not yet) and on the stage's regional instances. Hand-made links are never overwritten,
 * and a link an earlier run did is never done again: an admin who removed one keeps it removed.
 * Each run is one transaction, recorded with its report in profile_migration_runs.
 */
export class ProfileMigrationService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProviderService,
    private readonly links: LinkService,
    private readonly audit: AuditService,
    private readonly options: ProfileMigrationOptions = {},
  ) {}

  /** Whether the org has profiles not yet migrated: one lookup on a partial index. */
  async hasPending(ctx: RequestContext): Promise<boolean> {
    const [row] = await ctx.em.query(`SELECT ${pendingProfilesSql("$1")} AS pending`, [ctx.orgId]);
    return row.pending;
  }

  /**
   * The automatic path, for deploymentCredentials: migrates the org if profiles are pending, else
   * returns null after one indexed query. Concurrent callers in any process migrate it once.
   * `recordDeployment` records the deploying instance inside the run, after the org's lock is held,
   * so that the run links it too and names it as what triggered it; a caller that waited for the lock
   * and finds the org migrated records nothing here (its instance is then covered by the stage-wide
   * instance's link).
   */
  async migrateIfPending(ctx: RequestContext, recordDeployment?: (tx: RequestContext) => Promise<Instance>): Promise<MigrationReport | null> {
    if (!(await this.hasPending(ctx))) return null;
    return inTransaction(ctx, async (tx) => {
      await this.lockOrg(tx);
      // Another caller may have migrated the org while this one waited for the lock.
      if (!(await this.hasPending(tx))) return null;
      const instance = recordDeployment ? await recordDeployment(tx) : null;
      return this.run(tx, "AUTOMATIC", instance?.id ?? null);
    });
  }

  /** Migrates the org now (admins, the CLI); a repeat adds nothing an earlier run did, and says what it skipped. */
  async migrate(ctx: RequestContext, trigger: Exclude<MigrationTrigger, "AUTOMATIC">): Promise<MigrationReport> {
    // The migration links whole services: beyond any scope.
    await assertUnscoped(ctx, "migrateDeploymentProfiles", "migrating deployment profiles (it links whole services)");
    return inTransaction(ctx, async (tx) => {
      await this.lockOrg(tx);
      return this.run(tx, trigger, null);
    });
  }

  /** The org's runs, newest first, and their count, made only when asked for. */
  async runs(ctx: RequestContext, page: PageArgs): Promise<{ page: Page<ProfileMigrationRun>; totalCount: () => Promise<number> }> {
    const pages = await listPages<ProfileMigrationRun>(ctx.em, { entity: ProfileMigrationRun, orgId: ctx.orgId, ordering: NEWEST_FIRST, page });
    return {
      page: pages.get("")!,
      totalCount: async () => (await countByParent(ctx.em, ProfileMigrationRun, ctx.orgId, null)).get("")!,
    };
  }

  /** A transaction-scoped advisory lock per org: held until commit or rollback, across processes. */
  private async lockOrg(ctx: RequestContext): Promise<void> {
    await ctx.em.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/profiles/' || $1))", [ctx.orgId]);
  }

  private async run(ctx: RequestContext, trigger: MigrationTrigger, triggeringInstanceId: string | null): Promise<MigrationReport> {
    const report: MigrationReport = {
      runId: randomUUID(),
      orgId: ctx.orgId,
      trigger,
      providersCreated: [],
      providersExisting: [],
      profilesSkipped: [],
      linksAdded: [],
      linksExisting: [],
      linksSkipped: [],
      conflicts: [],
    };
    const profiles = await ctx.em.find(DeploymentProfile, { where: { orgId: ctx.orgId }, order: { name: "ASC" } });
    const providerOf = new Map<string, Provider>();
    for (const profile of profiles) {
      const provider = await this.migrateProfile(ctx, profile, report);
      if (provider) providerOf.set(profile.id, provider);
      await this.options.afterStep?.("profile", ctx);
    }
    const byId = new Map(profiles.map((p) => [p.id, p]));
    const mappings: Array<{ app_id: string; app_name: string; stage: string; profile_id: string }> = await ctx.em.query(
      `SELECT m.app_id, a.name AS app_name, m.stage, m.profile_id
         FROM app_stage_profiles m JOIN apps a ON a.id = m.app_id AND a.org_id = m.org_id
        WHERE m.org_id = $1
        ORDER BY a.name, m.stage`,
      [ctx.orgId],
    );
    const done = await this.earlierLinks(ctx);
    const doneNow: Array<{ target: "SERVICE" | "INSTANCE"; targetId: string; providerId: string }> = [];
    for (const mapping of mappings) {
      const provider = providerOf.get(mapping.profile_id);
      if (!provider) continue;
      const from = { appName: mapping.app_name, stage: mapping.stage, profileName: byId.get(mapping.profile_id)!.name, providerId: provider.id, providerName: provider.name };
      if (mapping.stage !== DEFAULT_STAGE) {
        const { refused } = await this.catalog.ensureStageWideInstances(ctx, mapping.app_id, mapping.stage, { fromDeploymentProfile: from.profileName });
        for (const service of refused) {
          report.linksSkipped.push({
            ...from,
            target: "INSTANCE",
            serviceId: service.id,
            serviceName: service.name,
            instanceId: null,
            region: null,
            reason: "INSTANCE_LIMIT_REACHED",
            earlierRunId: null,
            message: `The org has as many instances as the server allows (MAX_INSTANCES_PER_ORG), so "${service.name}" got no stage-wide ${mapping.stage} instance and "${provider.name}" covers only its existing ${mapping.stage} regions; deploying ${mapping.stage} to a new region uses what the service inherits. Raise the limit or delete unused instances, then run the migration again.`,
          });
        }
      }
      const targets = mapping.stage === DEFAULT_STAGE ? await this.servicesOf(ctx, mapping.app_id) : await this.instancesOf(ctx, mapping.app_id, mapping.stage);
      for (const target of targets) {
        const link = { ...target, ...from };
        if (await this.migrateLink(ctx, report, link, done)) doneNow.push({ target: link.target, targetId: link.instanceId ?? link.serviceId, providerId: link.providerId });
        await this.options.afterStep?.("link", ctx);
      }
    }
    await this.record(ctx, report, triggeringInstanceId, doneNow);
    await this.audit.record(ctx, {
      action: "profiles.migrate",
      targetType: "Org",
      targetId: ctx.orgId,
      details: {
        runId: report.runId,
        trigger,
        providersCreated: report.providersCreated.map((p) => p.providerId),
        providersExisting: report.providersExisting.map((p) => p.providerId),
        profilesSkipped: report.profilesSkipped.map((p) => p.profileId),
        linksAdded: report.linksAdded.length,
        linksExisting: report.linksExisting.length,
        linksSkipped: report.linksSkipped.map((l) => ({ target: l.target, id: l.instanceId ?? l.serviceId, provider: l.providerId, reason: l.reason })),
        conflicts: report.conflicts.map((c) => ({ target: c.target, id: c.instanceId ?? c.serviceId, wanted: c.providerId, linked: c.linkedProviderId })),
      },
    });
    return report;
  }

  /** The links earlier runs did, by target and provider. */
  private async earlierLinks(ctx: RequestContext): Promise<Map<string, EarlierLink>> {
    const rows: Array<{ target_id: string; provider_id: string; run_id: string; ran_at: Date }> = await ctx.em.query(
      `SELECT l.target_id, l.provider_id, l.run_id, r.ran_at FROM profile_migration_links l JOIN profile_migration_runs r ON r.id = l.run_id AND r.org_id = l.org_id
        WHERE l.org_id = $1`,
      [ctx.orgId],
    );
    return new Map(rows.map((r) => [doneKey(r.target_id, r.provider_id), { runId: r.run_id, ranAt: r.ran_at }]));
  }

  /** The run and the links it did, in the run's transaction: both commit with the run's changes, or neither. */
  private async record(
    ctx: RequestContext,
    report: MigrationReport,
    instanceId: string | null,
    doneNow: Array<{ target: "SERVICE" | "INSTANCE"; targetId: string; providerId: string }>,
  ): Promise<void> {
    const actor = AuditService.actorOf(ctx);
    const { orgId: _orgId, ...stored } = report;
    await ctx.em.query(
      `INSERT INTO profile_migration_runs (id, org_id, trigger, actor_key_id, actor_label, request_id, instance_id, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [report.runId, ctx.orgId, report.trigger, actor.actorKeyId, actor.actorLabel, actor.requestId ?? null, instanceId, JSON.stringify(stored)],
    );
    if (doneNow.length === 0) return;
    await ctx.em.query(
      `INSERT INTO profile_migration_links (org_id, target_id, provider_id, run_id, target)
       SELECT $1, t, p, $2, k FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS d(t, p, k)
       ON CONFLICT DO NOTHING`,
      [ctx.orgId, report.runId, doneNow.map((d) => d.targetId), doneNow.map((d) => d.providerId), doneNow.map((d) => d.target)],
    );
  }

  /** The profile's provider (made now, or existing), or null when the profile is skipped. */
  private async migrateProfile(ctx: RequestContext, profile: DeploymentProfile, report: MigrationReport): Promise<Provider | null> {
    const already = profile.migratedProviderId ? await ctx.em.findOneBy(Provider, { id: profile.migratedProviderId, orgId: ctx.orgId }) : null;
    if (profile.migratedAt && !already) {
      // Migrated before: skipped then for having no role ARN, or its provider was deleted since.
      report.profilesSkipped.push(skipped(profile));
      return null;
    }
    if (!profile.roleArn) {
      report.profilesSkipped.push(skipped(profile));
      await this.markMigrated(ctx, profile, null, { skipped: "NO_ROLE_ARN" });
      return null;
    }
    const entry = (provider: Provider, note: string | null): MigratedProfile => ({
      profileId: profile.id,
      profileName: profile.name,
      providerId: provider.id,
      providerName: provider.name,
      note,
    });
    if (already) {
      report.providersExisting.push(entry(already, "Made from this profile by an earlier migration."));
      if (!profile.migratedAt) await this.markMigrated(ctx, profile, already, { reused: true });
      return already;
    }
    const namesake = await ctx.em.findOneBy(Provider, { orgId: ctx.orgId, name: profile.name });
    if (namesake && namesake.kind === CredentialKind.AWS_ROLE && namesake.settings.roleArn === profile.roleArn) {
      report.providersExisting.push(entry(namesake, `A provider named "${namesake.name}" with the same role ARN already existed; it was reused.`));
      await this.markMigrated(ctx, profile, namesake, { reused: true });
      return namesake;
    }
    const name = namesake ? await this.freeName(ctx, profile.name) : profile.name;
    const provider = await this.providers.create(ctx, { name, credentials: { kind: CredentialKind.AWS_ROLE, roleArn: profile.roleArn } });
    // ProviderService.create audits the provider; markMigrated's profile.migrate event names the profile it came from.
    const note = namesake ? `The name "${profile.name}" belongs to another provider with different credentials, so this one is "${name}".` : null;
    report.providersCreated.push(entry(provider, note));
    await this.markMigrated(ctx, profile, provider, { created: true });
    return provider;
  }

  private async markMigrated(ctx: RequestContext, profile: DeploymentProfile, provider: Provider | null, details: Record<string, unknown>): Promise<void> {
    await ctx.em.query("UPDATE deployment_profiles SET migrated_at = now(), migrated_provider_id = $3 WHERE id = $1 AND org_id = $2", [
      profile.id,
      ctx.orgId,
      provider?.id ?? null,
    ]);
    await this.audit.record(ctx, {
      action: "profile.migrate",
      targetType: "DeploymentProfile",
      targetId: profile.id,
      details: { name: profile.name, providerId: provider?.id ?? null, ...details },
    });
  }

  /** `prod-profile`, then `prod-profile-2`, …: clearly from the profile, and free in the org. */
  private async freeName(ctx: RequestContext, base: string): Promise<string> {
    for (let n = 1; ; n++) {
      const suffix = n === 1 ? "-profile" : `-profile-${n}`;
      const name = base.slice(0, MAX_NAME - suffix.length).replace(/[ ._-]+$/, "") + suffix;
      if (!(await ctx.em.existsBy(Provider, { orgId: ctx.orgId, name }))) return name;
    }
  }

  private async servicesOf(ctx: RequestContext, appId: string) {
    const rows: Array<{ id: string; name: string }> = await ctx.em.query("SELECT id, name FROM services WHERE org_id = $1 AND app_id = $2 ORDER BY name", [
      ctx.orgId,
      appId,
    ]);
    return rows.map((r) => ({ target: "SERVICE" as const, serviceId: r.id, serviceName: r.name, instanceId: null, region: null }));
  }

  private async instancesOf(ctx: RequestContext, appId: string, stage: string) {
    const rows: Array<{ id: string; region: string | null; service_id: string; service_name: string }> = await ctx.em.query(
      `SELECT i.id, i.region, s.id AS service_id, s.name AS service_name
         FROM instances i JOIN services s ON s.id = i.service_id AND s.org_id = i.org_id
        WHERE i.org_id = $1 AND s.app_id = $2 AND i.stage = $3
        ORDER BY s.name, i.region NULLS FIRST`,
      [ctx.orgId, appId, stage],
    );
    return rows.map((r) => ({ target: "INSTANCE" as const, serviceId: r.service_id, serviceName: r.service_name, instanceId: r.id, region: r.region }));
  }

  /**
   * Adds the link unless the target already has an AWS provider (the same one is "existing", another
   * a conflict), or an earlier run did it already (then it is left as it is now, and reported as
   * skipped if someone changed it since). True when this run did it, for the record of done links.
   */
  private async migrateLink(ctx: RequestContext, report: MigrationReport, link: MigratedLink, done: Map<string, EarlierLink>): Promise<boolean> {
    const level = link.target === "SERVICE" ? "service" : "instance";
    const targetId = link.instanceId ?? link.serviceId;
    const where = link.target === "SERVICE" ? `The service "${link.serviceName}"` : `The ${link.stage}${link.region ? ` ${link.region}` : " stage-wide"} instance of "${link.serviceName}"`;
    const earlier = done.get(doneKey(targetId, link.providerId));
    if (earlier) {
      const current = await this.links.linkedProvider(ctx, level, targetId, ProviderType.AWS);
      if (current?.id === link.providerId) {
        report.linksExisting.push(link);
        return false;
      }
      const since = `the migration of ${earlier.ranAt.toISOString()} linked "${link.providerName}" there`;
      report.linksSkipped.push({
        ...link,
        earlierRunId: earlier.runId,
        ...(current
          ? { reason: "REPLACED_SINCE", message: `${where} has the provider "${current.name}": ${since}, and someone linked "${current.name}" instead since; it was kept.` }
          : { reason: "UNLINKED_SINCE", message: `${where} has no AWS provider: ${since}, and someone unlinked it since; it was not linked again. Link it by hand if it is wanted.` }),
      });
      return false;
    }
    const current = await this.links.linkUnlessLinked(ctx, level, targetId, { id: link.providerId, name: link.providerName, type: ProviderType.AWS }, {
      fromDeploymentProfile: link.profileName,
      stage: link.stage,
    });
    if (!current) report.linksAdded.push(link);
    else if (current.id === link.providerId) report.linksExisting.push(link);
    else {
      const by = done.has(doneKey(targetId, current.id)) ? "linked by an earlier migration (its stage was mapped to another profile since)" : "linked by hand";
      report.conflicts.push({
        ...link,
        linkedProviderId: current.id,
        linkedProviderName: current.name,
        message: `${where} already has the provider "${current.name}", ${by}; it was kept, and "${link.providerName}" (from the deployment profile "${link.profileName}") was not linked.`,
      });
      return false;
    }
    return true;
  }
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** What a deployment that triggered the migration is told (the CLI prints it on stderr). */
export function migrationWarning(report: MigrationReport): DeploymentWarning {
  const problems = report.conflicts.length + report.linksSkipped.length + report.profilesSkipped.length;
  return {
    code: "DEPLOYMENT_PROFILES_MIGRATED",
    message:
      `This deployment migrated the org's legacy deployment profiles to providers: ${plural(report.providersCreated.length, "provider")} created, ${plural(report.linksAdded.length, "link")} added` +
      (problems ? `, ${plural(problems, "item")} left for an admin (conflicts or skipped)` : "") +
      ". An admin can read the report in the org's deploymentProfileMigrations.",
    suggestedStage: null,
  };
}

function skipped(profile: DeploymentProfile): SkippedProfile {
  const common = { profileId: profile.id, profileName: profile.name };
  return profile.roleArn
    ? {
        ...common,
        reason: "PROVIDER_DELETED",
        message: `The provider made from the deployment profile "${profile.name}" was deleted after it was migrated; link another provider where it was used.`,
      }
    : {
        ...common,
        reason: "NO_ROLE_ARN",
        message: `The deployment profile "${profile.name}" has no AWS Access Role ARN, so no provider was made from it; its stages keep whatever they inherit.`,
      };
}
