import { CredentialKind, DeploymentProfile, Provider, ProviderType } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { RequestContext } from "./context.js";
import { DEFAULT_STAGE } from "./deployment-profiles.js";
import type { LinkService } from "./links.js";
import type { ProviderService } from "./providers.js";
import { assertUnscoped } from "./scope.js";
import { inTransaction } from "./transaction.js";

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

/** A link the migration would add, where someone had already linked another provider by hand. */
export interface LinkConflict extends MigratedLink {
  linkedProviderId: string;
  linkedProviderName: string;
  message: string;
}

export interface MigrationReport {
  orgId: string;
  trigger: MigrationTrigger;
  providersCreated: MigratedProfile[];
  providersExisting: MigratedProfile[];
  profilesSkipped: SkippedProfile[];
  linksAdded: MigratedLink[];
  linksExisting: MigratedLink[];
  conflicts: LinkConflict[];
}

export interface ProfileMigrationOptions {
  /**
   * Called after each step of a migration, inside its transaction. Tests use it to fail a run
   * half-way and prove that nothing of it stays.
   */
  afterStep?: (step: "profile" | "link") => void | Promise<void>;
}


const MAX_NAME = 64;

/**
 * The migration of legacy deployment profiles to providers, as the seed describes it: a provider
 * per profile with a role ARN, the app's `default`-stage provider on each of its services, each
 * stage's provider on the instances of that stage. Hand-made links are never overwritten.
 */
export class ProfileMigrationService {
  constructor(
    private readonly providers: ProviderService,
    private readonly links: LinkService,
    private readonly audit: AuditService,
    private readonly options: ProfileMigrationOptions = {},
  ) {}

  /** Whether the org has profiles not yet migrated: one lookup on a partial index. */
  async hasPending(ctx: RequestContext): Promise<boolean> {
    const [row] = await ctx.em.query(
      "SELECT EXISTS (SELECT 1 FROM deployment_profiles WHERE org_id = $1 AND migrated_at IS NULL) AS pending",
      [ctx.orgId],
    );
    return row.pending;
  }

  /**
   * The automatic path, for deploymentCredentials: migrates the org if profiles are pending, else
   * returns null after one indexed query. Concurrent callers in any process migrate it once.
   */
  async migrateIfPending(ctx: RequestContext): Promise<MigrationReport | null> {
    if (!(await this.hasPending(ctx))) return null;
    return inTransaction(ctx, async (tx) => {
      await this.lockOrg(tx);
      // Another caller may have migrated the org while this one waited for the lock.
      if (!(await this.hasPending(tx))) return null;
      return this.run(tx, "AUTOMATIC");
    });
  }

  /** Migrates the org now (admins, the CLI); a repeat changes nothing and reports what exists. */
  async migrate(ctx: RequestContext, trigger: Exclude<MigrationTrigger, "AUTOMATIC">): Promise<MigrationReport> {
    // The migration links whole services: beyond any scope.
    await assertUnscoped(ctx, "migrateDeploymentProfiles", "migrating deployment profiles (it links whole services)");
    return inTransaction(ctx, async (tx) => {
      await this.lockOrg(tx);
      return this.run(tx, trigger);
    });
  }

  /** A transaction-scoped advisory lock per org: held until commit or rollback, across processes. */
  private async lockOrg(ctx: RequestContext): Promise<void> {
    await ctx.em.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/profiles/' || $1))", [ctx.orgId]);
  }

  private async run(ctx: RequestContext, trigger: MigrationTrigger): Promise<MigrationReport> {
    const report: MigrationReport = {
      orgId: ctx.orgId,
      trigger,
      providersCreated: [],
      providersExisting: [],
      profilesSkipped: [],
      linksAdded: [],
      linksExisting: [],
      conflicts: [],
    };
    const profiles = await ctx.em.find(DeploymentProfile, { where: { orgId: ctx.orgId }, order: { name: "ASC" } });
    const providerOf = new Map<string, Provider>();
    for (const profile of profiles) {
      const provider = await this.migrateProfile(ctx, profile, report);
      if (provider) providerOf.set(profile.id, provider);
      await this.options.afterStep?.("profile");
    }
    const byId = new Map(profiles.map((p) => [p.id, p]));
    const mappings: Array<{ app_id: string; app_name: string; stage: string; profile_id: string }> = await ctx.em.query(
      `SELECT m.app_id, a.name AS app_name, m.stage, m.profile_id
         FROM app_stage_profiles m JOIN apps a ON a.id = m.app_id AND a.org_id = m.org_id
        WHERE m.org_id = $1
        ORDER BY a.name, m.stage`,
      [ctx.orgId],
    );
    for (const mapping of mappings) {
      const provider = providerOf.get(mapping.profile_id);
      if (!provider) continue;
      const profileName = byId.get(mapping.profile_id)!.name;
      const targets = mapping.stage === DEFAULT_STAGE ? await this.servicesOf(ctx, mapping.app_id) : await this.instancesOf(ctx, mapping.app_id, mapping.stage);
      for (const target of targets) {
        await this.migrateLink(ctx, report, { ...target, appName: mapping.app_name, stage: mapping.stage, profileName, providerId: provider.id, providerName: provider.name });
        await this.options.afterStep?.("link");
      }
    }
    await this.audit.record(ctx, {
      action: "profiles.migrate",
      targetType: "Org",
      targetId: ctx.orgId,
      details: {
        trigger,
        providersCreated: report.providersCreated.map((p) => p.providerId),
        providersExisting: report.providersExisting.map((p) => p.providerId),
        profilesSkipped: report.profilesSkipped.map((p) => p.profileId),
        linksAdded: report.linksAdded.length,
        linksExisting: report.linksExisting.length,
        conflicts: report.conflicts.map((c) => ({ target: c.target, id: c.instanceId ?? c.serviceId, wanted: c.providerId, linked: c.linkedProviderId })),
      },
    });
    return report;
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

  /** Adds the link unless the target already has an AWS provider: the same one is "existing", another a conflict. */
  private async migrateLink(ctx: RequestContext, report: MigrationReport, link: MigratedLink): Promise<void> {
    const current = await this.links.linkUnlessLinked(
      ctx,
      link.target === "SERVICE" ? "service" : "instance",
      link.instanceId ?? link.serviceId,
      { id: link.providerId, name: link.providerName, type: ProviderType.AWS },
      { fromDeploymentProfile: link.profileName, stage: link.stage },
    );
    if (!current) report.linksAdded.push(link);
    else if (current.id === link.providerId) report.linksExisting.push(link);
    else {
      const where = link.target === "SERVICE" ? `The service "${link.serviceName}"` : `The ${link.stage}${link.region ? ` ${link.region}` : ""} instance of "${link.serviceName}"`;
      report.conflicts.push({
        ...link,
        linkedProviderId: current.id,
        linkedProviderName: current.name,
        message: `${where} already has the provider "${current.name}", linked by hand; it was kept, and "${link.providerName}" (from the deployment profile "${link.profileName}") was not linked.`,
      });
    }
  }
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
