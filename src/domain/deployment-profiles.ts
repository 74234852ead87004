import { AppStageProfile, DeploymentProfile } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import { isUniqueViolation } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { NotFoundError, UserError } from "./errors.js";
import { assertUnscoped } from "./scope.js";
import { check, ensureAll, rules } from "./validation.js";

/** Profiles map stages of whole apps to roles: beyond any scope. */
const ORG_WIDE = "administering deployment profiles (they map whole apps to roles)";

/** The stage name under which a legacy app kept its default stage's profile. */
export const DEFAULT_STAGE = "default";

/**
 * The legacy deployment-profile API, kept working for clients that have not moved to providers: a
 * profile names an AWS role, and an app maps its stages (or `default`) to profiles. Their migration
 * to providers is in profile-migration.ts.
 */
export class DeploymentProfileService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly audit: AuditService,
  ) {}

  async profile(ctx: RequestContext, profileId: string): Promise<DeploymentProfile> {
    const profile = await ctx.em.findOneBy(DeploymentProfile, { id: profileId, orgId: ctx.orgId });
    if (!profile) throw new NotFoundError("The deployment profile");
    return profile;
  }

  async createProfile(ctx: RequestContext, orgId: string, input: { name: string; roleArn?: string | null }): Promise<DeploymentProfile> {
    await assertUnscoped(ctx, "createDeploymentProfile", ORG_WIDE);
    await this.catalog.org(ctx, orgId);
    const roleArn = input.roleArn || null;
    ensureAll(check(rules.name, input.name, ["input", "name"]), roleArn === null ? null : check(rules.roleArn, roleArn, ["input", "roleArn"]));
    const taken = () => new UserError("NAME_TAKEN", ["input", "name"], `The org already has a deployment profile named "${input.name}"; choose another name.`);
    if (await ctx.em.existsBy(DeploymentProfile, { orgId: ctx.orgId, name: input.name })) throw taken();
    let profile: DeploymentProfile;
    try {
      profile = await ctx.em.save(ctx.em.create(DeploymentProfile, { orgId: ctx.orgId, name: input.name, roleArn, migratedAt: null, migratedProviderId: null }));
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    await this.audit.record(ctx, { action: "profile.create", targetType: "DeploymentProfile", targetId: profile.id, details: { name: profile.name, roleArn } });
    return profile;
  }

  /** Deletes the profile and its stage mappings; providers and links made from it stay. */
  async deleteProfile(ctx: RequestContext, profileId: string): Promise<{ profile: DeploymentProfile; removedStageMappingCount: number }> {
    await assertUnscoped(ctx, "deleteDeploymentProfile", ORG_WIDE);
    const profile = await this.profile(ctx, profileId);
    const removedStageMappingCount = await ctx.em.countBy(AppStageProfile, { profileId: profile.id, orgId: ctx.orgId });
    await ctx.em.delete(DeploymentProfile, { id: profile.id, orgId: ctx.orgId });
    await this.audit.record(ctx, {
      action: "profile.delete",
      targetType: "DeploymentProfile",
      targetId: profile.id,
      details: { name: profile.name, removedStageMappingCount },
    });
    return { profile, removedStageMappingCount };
  }

  /**
   * Maps an app's stage (or `default`) to a profile, replacing the stage's previous mapping. The
   * profile becomes pending again, so the next migration applies the new mapping too.
   */
  async setStageProfile(ctx: RequestContext, appId: string, stage: string, profileId: string): Promise<AppStageProfile> {
    await assertUnscoped(ctx, "setAppStageProfile", ORG_WIDE);
    const app = await this.catalog.app(ctx, appId);
    const stageError = check(rules.stage, stage, ["input", "stage"]);
    if (stageError) throw stageError;
    const profile = await this.profile(ctx, profileId);
    await ctx.em.query(
      `INSERT INTO app_stage_profiles (org_id, app_id, stage, profile_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (app_id, stage) DO UPDATE SET profile_id = EXCLUDED.profile_id`,
      [ctx.orgId, app.id, stage, profile.id],
    );
    await ctx.em.update(DeploymentProfile, { id: profile.id, orgId: ctx.orgId }, { migratedAt: null });
    const mapping = await ctx.em.findOneByOrFail(AppStageProfile, { appId: app.id, stage, orgId: ctx.orgId });
    await this.audit.record(ctx, {
      action: "profile.stage.set",
      targetType: "App",
      targetId: app.id,
      details: { app: app.name, stage, profileId: profile.id, profile: profile.name },
    });
    return mapping;
  }

  async removeStageProfile(ctx: RequestContext, appId: string, stage: string): Promise<void> {
    await assertUnscoped(ctx, "removeAppStageProfile", ORG_WIDE);
    const app = await this.catalog.app(ctx, appId);
    const mapping = await ctx.em.findOneBy(AppStageProfile, { appId: app.id, stage, orgId: ctx.orgId });
    if (!mapping) {
      throw new UserError("NOT_MAPPED", ["input", "stage"], `The app "${app.name}" has no deployment profile for the stage "${stage}"; nothing was removed.`);
    }
    await ctx.em.delete(AppStageProfile, { id: mapping.id, orgId: ctx.orgId });
    await this.audit.record(ctx, { action: "profile.stage.remove", targetType: "App", targetId: app.id, details: { app: app.name, stage } });
  }
}
