import { randomUUID } from "node:crypto";
import { CredentialKind, InstanceProviderLink, Provider, ProviderType, ServiceProviderLink } from "../entities/index.js";
import { credentialKind, type CredentialsInput } from "./credential-kinds/index.js";
import { newExternalId } from "./credential-kinds/aws-role.js";
import type { RequestContext } from "./context.js";
import { NotFoundError, UserError } from "./errors.js";
import { check, ensureAll, rules } from "./validation.js";
import { isUniqueViolation } from "./catalog.js";
import { AuditService } from "./audit.js";
import type { ProviderSecrets } from "./provider-secrets.js";
import { assertUnscoped } from "./scope.js";

/** What a scoped key is told when it tries to administer providers: they serve every stage. */
const ORG_WIDE = "administering providers (they serve every app and stage)";

export interface DeletedProvider {
  providerId: string;
  unlinkedServiceCount: number;
  unlinkedInstanceCount: number;
}

/** Checks an admin's credentials by their kind's rules, all at once; `base` is where the kind's fields sit. */
function validateCredentials(input: CredentialsInput, base: string[]): void {
  ensureAll(...credentialKind(input.kind).validate(input, (name) => [...base, name]));
}

export class ProviderService {
  constructor(
    private readonly secrets: ProviderSecrets,
    private readonly audit: AuditService,
  ) {}

  async provider(ctx: RequestContext, providerId: string): Promise<Provider> {
    const provider = await ctx.em.findOneBy(Provider, { id: providerId, orgId: ctx.orgId });
    if (!provider) throw new NotFoundError("The provider");
    return provider;
  }

  async create(ctx: RequestContext, input: { name: string; credentials: CredentialsInput }): Promise<Provider> {
    await assertUnscoped(ctx, "createProvider", ORG_WIDE);
    const nameError = check(rules.name, input.name, ["input", "name"]);
    if (nameError) throw nameError;
    validateCredentials(input.credentials, ["input", ...credentialKind(input.credentials.kind).inputPath]);
    await this.ensureNameFree(ctx, input.name, null);
    const provider = ctx.em.create(Provider, {
      id: randomUUID(),
      orgId: ctx.orgId,
      name: input.name,
      isDefault: false,
    });
    this.applyCredentials(provider, input.credentials);
    const saved = await this.save(ctx, provider);
    await this.recordChange(ctx, "provider.create", saved, {});
    return saved;
  }

  async update(ctx: RequestContext, providerId: string, changes: { name?: string | null; credentials?: CredentialsInput | null }): Promise<Provider> {
    await assertUnscoped(ctx, "updateProvider", ORG_WIDE);
    const provider = await this.provider(ctx, providerId);
    if (changes.name != null) {
      const nameError = check(rules.name, changes.name, ["input", "name"]);
      if (nameError) throw nameError;
      await this.ensureNameFree(ctx, changes.name, provider.id);
      provider.name = changes.name;
    }
    if (changes.credentials) {
      const path = ["input", ...credentialKind(changes.credentials.kind).inputPath];
      validateCredentials(changes.credentials, path);
      if (credentialKind(changes.credentials.kind).type !== provider.type) {
        throw new UserError(
          "PROVIDER_TYPE_MISMATCH",
          path.slice(0, 2),
          `This is a ${provider.type} provider; its credentials can only be replaced by ${provider.type} credentials. Create a new provider for another type.`,
        );
      }
      this.applyCredentials(provider, changes.credentials);
    }
    const saved = await this.save(ctx, provider);
    await this.recordChange(ctx, "provider.update", saved, { renamed: changes.name != null, credentialsReplaced: Boolean(changes.credentials) });
    return saved;
  }

  /** Deletes the provider and every link to it, saying how many of each went. */
  async delete(ctx: RequestContext, providerId: string): Promise<DeletedProvider> {
    await assertUnscoped(ctx, "deleteProvider", ORG_WIDE);
    const provider = await this.provider(ctx, providerId);
    const unlinkedServiceCount = await ctx.em.countBy(ServiceProviderLink, { providerId: provider.id, orgId: ctx.orgId });
    const unlinkedInstanceCount = await ctx.em.countBy(InstanceProviderLink, { providerId: provider.id, orgId: ctx.orgId });
    await ctx.em.delete(Provider, { id: provider.id, orgId: ctx.orgId });
    await this.recordChange(ctx, "provider.delete", provider, { unlinkedServiceCount, unlinkedInstanceCount });
    return { providerId: provider.id, unlinkedServiceCount, unlinkedInstanceCount };
  }

  /** Makes the provider its type's org default, replacing any previous one. Returns that previous one. */
  async setDefault(ctx: RequestContext, providerId: string): Promise<{ provider: Provider; previousDefault: Provider | null }> {
    await assertUnscoped(ctx, "setDefaultProvider", "changing the org's default provider (it serves every app and stage)");
    const provider = await this.provider(ctx, providerId);
    const previousDefault = await this.defaultOf(ctx, provider.type);
    if (previousDefault?.id === provider.id) return { provider, previousDefault: null };
    if (previousDefault) await ctx.em.update(Provider, { id: previousDefault.id, orgId: ctx.orgId }, { isDefault: false });
    await ctx.em.update(Provider, { id: provider.id, orgId: ctx.orgId }, { isDefault: true });
    provider.isDefault = true;
    if (previousDefault) previousDefault.isDefault = false;
    await this.recordChange(ctx, "provider.setDefault", provider, { previousDefaultId: previousDefault?.id ?? null });
    return { provider, previousDefault };
  }

  async unsetDefault(ctx: RequestContext, type: ProviderType): Promise<Provider | null> {
    await assertUnscoped(ctx, "unsetDefaultProvider", "changing the org's default provider (it serves every app and stage)");
    const previousDefault = await this.defaultOf(ctx, type);
    if (previousDefault) {
      await ctx.em.update(Provider, { id: previousDefault.id, orgId: ctx.orgId }, { isDefault: false });
      previousDefault.isDefault = false;
      await this.recordChange(ctx, "provider.unsetDefault", previousDefault, {});
    }
    return previousDefault;
  }

  /**
   * Gives a role provider a new external id. Sessions fail until the role's trust policy names the new
   * one, which is the point when the old one may have leaked.
   */
  async rotateExternalId(ctx: RequestContext, providerId: string): Promise<Provider> {
    await assertUnscoped(ctx, "rotateExternalId", ORG_WIDE);
    const provider = await this.provider(ctx, providerId);
    if (provider.kind !== CredentialKind.AWS_ROLE) {
      throw new UserError("NOT_A_ROLE_PROVIDER", ["input", "providerId"], `Only AWS role providers have an external id; "${provider.name}" holds ${provider.kind}.`);
    }
    provider.settings = { ...provider.settings, externalId: newExternalId() };
    const saved = await ctx.em.save(provider);
    await this.audit.record(ctx, { action: "provider.rotate_external_id", targetType: "Provider", targetId: provider.id, details: { providerName: provider.name } });
    return saved;
  }

  defaultOf(ctx: RequestContext, type: ProviderType): Promise<Provider | null> {
    return ctx.em.findOneBy(Provider, { orgId: ctx.orgId, type, isDefault: true });
  }

  /** Audits a change by the provider's id, name, type and kind: never its credentials. */
  private recordChange(ctx: RequestContext, action: string, provider: Provider, details: Record<string, unknown>) {
    return this.audit.record(ctx, {
      action,
      targetType: "Provider",
      targetId: provider.id,
      details: { name: provider.name, type: provider.type, kind: provider.kind, ...details },
    });
  }

  private applyCredentials(provider: Provider, credentials: CredentialsInput): void {
    const keepSettings = provider.kind === credentials.kind ? provider.settings : null;
    const kind = credentialKind(credentials.kind);
    const { settings, secret } = kind.store(credentials, keepSettings);
    provider.kind = credentials.kind;
    provider.type = kind.type;
    provider.settings = settings;
    this.secrets.seal(provider, secret);
    // A verification describes the credentials it tested: new ones are unverified until verified again.
    provider.verifiedAt = null;
    provider.externalIdEnforced = null;
  }

  private async ensureNameFree(ctx: RequestContext, name: string, exceptId: string | null): Promise<void> {
    const existing = await ctx.em.findOneBy(Provider, { orgId: ctx.orgId, name });
    if (existing && existing.id !== exceptId) {
      throw new UserError("NAME_TAKEN", ["input", "name"], `The org already has a provider named "${name}"; choose another name.`);
    }
  }

  private async save(ctx: RequestContext, provider: Provider): Promise<Provider> {
    try {
      return await ctx.em.save(provider);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new UserError("NAME_TAKEN", ["input", "name"], `The org already has a provider named "${provider.name}"; choose another name.`);
      }
      throw error;
    }
  }
}
