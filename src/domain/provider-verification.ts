import type { StsAdapter } from "../aws/sts.js";
import { Provider } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { credentialKind, kindTools, type Verified } from "./credential-kinds/index.js";
import { UserError } from "./errors.js";
import type { ProviderSecrets } from "./provider-secrets.js";
import type { ProviderService } from "./providers.js";
import { assertUnscoped } from "./scope.js";
import { inTransaction } from "./transaction.js";

export interface ProviderVerification extends Verified {
  provider: Provider;
}

/** The dashboard's "test connection": whether a provider's credentials work, and (for roles) are safe. */
export class ProviderVerificationService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProviderService,
    private readonly secrets: ProviderSecrets,
    private readonly audit: AuditService,
    private readonly sts: StsAdapter,
  ) {}

  /** Verifies with the provider's kind, including the confused-deputy check for roles; audits either way. */
  async verify(ctx: RequestContext, providerId: string): Promise<ProviderVerification> {
    await assertUnscoped(ctx, "verifyProvider", "verifying a provider (it shows the role's account and ARN)");
    const provider = await this.providers.provider(ctx, providerId);
    try {
      const verification = await this.check(ctx, provider);
      const verifiedAt = new Date();
      await inTransaction(ctx, async (tx) => {
        // Kept on the provider only if its credentials are still the ones just tested: an update
        // made while STS answered must not inherit this verdict.
        await tx.em
          .createQueryBuilder()
          .update(Provider)
          .set({ verifiedAt, externalIdEnforced: verification.externalIdEnforced })
          .where("id = :id AND org_id = :orgId AND kind = :kind AND settings = :settings", {
            id: provider.id,
            orgId: tx.orgId,
            kind: provider.kind,
            settings: JSON.stringify(provider.settings),
          })
          .execute();
        await this.audit.record(tx, {
          action: "provider.verify",
          targetType: "Provider",
          targetId: provider.id,
          details: { accountId: verification.accountId, arn: verification.arn, externalIdEnforced: verification.externalIdEnforced },
        });
      });
      provider.verifiedAt = verifiedAt;
      provider.externalIdEnforced = verification.externalIdEnforced;
      return verification;
    } catch (error) {
      await this.audit.recordRefusal(ctx, "provider.verify", error, { providerId: provider.id, providerName: provider.name }, provider.id);
      throw error;
    }
  }

  private async check(ctx: RequestContext, provider: Provider): Promise<ProviderVerification> {
    const { verify } = credentialKind(provider.kind);
    if (!verify) {
      throw new UserError(
        "VERIFY_NOT_SUPPORTED",
        ["input", "providerId"],
        `Only AWS providers can be verified; "${provider.name}" is a ${provider.type} provider.`,
      );
    }
    const org = await this.catalog.org(ctx, ctx.orgId);
    return { provider, ...(await verify(kindTools(provider, this.secrets, this.sts), org.slug)) };
  }
}
