import type { StsAdapter } from "../aws/sts.js";
import { Instance, Org, Provider, ProviderType } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { credentialKind, kindTools, type IssuedCredentials, type Minted } from "./credential-kinds/index.js";
import { NotFoundError } from "./errors.js";
import type { ProfileService } from "./profiles.js";
import type { ProviderService } from "./providers.js";
import { resolveProviders, targetOf, type Resolution } from "./resolution.js";
import { assertInScope } from "./scope.js";

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
}

/** What a deployment gets: its instance, the provider that applies and why, and the credentials. */
export interface IssuedDeployment {
  instance: Instance;
  /** Null: no provider applies; the deployment uses its local credentials. */
  resolution: Resolution | null;
  credentials: IssuedCredentials | null;
}

/**
 * Hands a deployment its credentials: authorizes, records the instance, resolves the provider, mints
 * the credentials and audits the issuance in the mutation's transaction, so nothing leaves the server
 * unless the audit record is committed. Refusals are audited with a write of their own, because the
 * mutation's transaction is rolled back.
 */
export class DeploymentCredentialsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProviderService,
    private readonly audit: AuditService,
    private readonly profiles: ProfileService,
    private readonly sts: StsAdapter,
  ) {}

  /**
   * The one place that decides whether the caller may get credentials for this target: the org must
   * be the caller's (another org's looks like an unknown one), and a scoped key must cover the app,
   * service and stage — so a preview pipeline's key can never mint prod credentials.
   */
  async assertMayDeploy(ctx: RequestContext, target: DeploymentTarget): Promise<Org> {
    const org = await this.catalog.orgBySlug(ctx, target.org);
    if (!org) throw new NotFoundError(`The org "${target.org}"`);
    await assertInScope(ctx, { appName: target.app, serviceName: target.service, stage: target.stage });
    return org;
  }

  async issue(ctx: RequestContext, request: DeploymentRequest): Promise<IssuedDeployment> {
    const where = { app: request.app, service: request.service, stage: request.stage, region: request.region, type: request.type };
    let provider: Provider | null = null;
    try {
      const org = await this.assertMayDeploy(ctx, request);
      const instance = await this.catalog.recordDeployment(ctx, request);
      // An org that still has legacy deployment profiles is migrated by its first deployment, after
      // the instance exists so that its stage's profile is linked to it too.
      await this.profiles.migrateIfPending(ctx);
      const [resolution] = await resolveProviders(ctx.em, ctx.orgId, request.type, [targetOf(instance)]);
      if (!resolution) {
        await this.audit.record(ctx, {
          action: "credentials.local",
          targetType: "Instance",
          targetId: instance.id,
          details: { ...where, useLocalCredentials: true },
        });
        return { instance, resolution: null, credentials: null };
      }
      provider = resolution.provider;
      const { credentials, details } = await this.mint(org, request, provider);
      await this.audit.record(ctx, {
        action: "credentials.issue",
        targetType: "Instance",
        targetId: instance.id,
        details: { ...where, providerId: provider.id, providerName: provider.name, kind: provider.kind, source: resolution.source, ...details },
      });
      return { instance, resolution, credentials };
    } catch (error) {
      await this.audit.recordRefusal(ctx, "credentials.issue", error, { ...where, ...(provider ? { providerId: provider.id, providerName: provider.name } : {}) });
      throw error;
    }
  }

  /** Makes the credentials for one deployment, and the audit details that describe them (never a secret). */
  private mint(org: Org, request: DeploymentRequest, provider: Provider): Promise<Minted> {
    return credentialKind(provider.kind).mint(kindTools(provider, (p) => this.providers.openSecret(p), this.sts), {
      orgSlug: org.slug,
      app: request.app,
      service: request.service,
      stage: request.stage,
      region: request.region,
      durationSeconds: request.durationSeconds,
    });
  }
}
