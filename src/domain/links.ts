import { Instance, InstanceProviderLink, Provider, Service, ServiceProviderLink } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import type { CatalogService } from "./catalog.js";
import type { RequestContext } from "./context.js";
import { UserError } from "./errors.js";
import type { ProviderService } from "./providers.js";
import { assertMayLinkProvider, assertUnscoped } from "./scope.js";

export interface LinkChange<T> {
  target: T;
  provider: Provider;
  /** The provider of the same type that was linked before and is no longer. */
  replacedProvider: Provider | null;
}

type LinkTable = {
  entity: typeof ServiceProviderLink | typeof InstanceProviderLink;
  column: "service_id" | "instance_id";
  table: string;
  noun: "service" | "instance";
  targetType: "Service" | "Instance";
};

const SERVICE_LINKS: LinkTable = { entity: ServiceProviderLink, column: "service_id", table: "service_provider_links", noun: "service", targetType: "Service" };
const INSTANCE_LINKS: LinkTable = { entity: InstanceProviderLink, column: "instance_id", table: "instance_provider_links", noun: "instance", targetType: "Instance" };

/**
 * Links providers to services and instances: at most one provider of a type on each. A scoped key
 * changes links only on instances inside its scope, and only with the providers an admin allowed
 * it; a service-wide link applies to every stage, so only an unscoped key changes one.
 */
export class LinkService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProviderService,
    private readonly audit: AuditService,
  ) {}

  async linkToService(ctx: RequestContext, providerId: string, serviceId: string): Promise<LinkChange<Service>> {
    await assertUnscoped(ctx, "linkProviderToService", "a service-wide link (it applies to every stage)");
    const service = await this.catalog.service(ctx, serviceId);
    return { target: service, ...(await this.link(ctx, SERVICE_LINKS, service.id, providerId)) };
  }

  async linkToInstance(ctx: RequestContext, providerId: string, instanceId: string): Promise<LinkChange<Instance>> {
    const instance = await this.catalog.instance(ctx, instanceId);
    return { target: instance, ...(await this.link(ctx, INSTANCE_LINKS, instance.id, providerId)) };
  }

  async unlinkFromService(ctx: RequestContext, providerId: string, serviceId: string): Promise<{ service: Service; provider: Provider }> {
    await assertUnscoped(ctx, "unlinkProviderFromService", "a service-wide link (it applies to every stage)");
    const service = await this.catalog.service(ctx, serviceId);
    const provider = await this.unlink(ctx, SERVICE_LINKS, service.id, providerId);
    return { service, provider };
  }

  async unlinkFromInstance(ctx: RequestContext, providerId: string, instanceId: string): Promise<{ instance: Instance; provider: Provider }> {
    const instance = await this.catalog.instance(ctx, instanceId);
    const provider = await this.unlink(ctx, INSTANCE_LINKS, instance.id, providerId);
    return { instance, provider };
  }

  /**
   * Links the provider unless the target already has one of its type: never replaces. Returns the
   * provider already linked (possibly this one), or null when this call added the link. The
   * deployment-profile migration uses it, so that links set by hand always win.
   */
  async linkUnlessLinked(
    ctx: RequestContext,
    level: "service" | "instance",
    targetId: string,
    provider: Pick<Provider, "id" | "name" | "type">,
    details: Record<string, unknown> = {},
  ): Promise<{ id: string; name: string } | null> {
    const links = level === "service" ? SERVICE_LINKS : INSTANCE_LINKS;
    const inserted: unknown[] = await ctx.em.query(
      `INSERT INTO ${links.table} (${links.column}, provider_type, provider_id, org_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (${links.column}, provider_type) DO NOTHING RETURNING provider_id`,
      [targetId, provider.type, provider.id, ctx.orgId],
    );
    if (inserted.length > 0) {
      await this.audit.record(ctx, {
        action: `link.${links.noun}`,
        targetType: links.targetType,
        targetId,
        details: { providerId: provider.id, providerName: provider.name, providerType: provider.type, replacedProviderId: null, ...details },
      });
      return null;
    }
    return this.linkedProvider(ctx, level, targetId, provider.type);
  }

  /** The provider of the type linked to the service or instance, or null. */
  async linkedProvider(ctx: RequestContext, level: "service" | "instance", targetId: string, type: Provider["type"]): Promise<{ id: string; name: string } | null> {
    const links = level === "service" ? SERVICE_LINKS : INSTANCE_LINKS;
    const [current]: Array<{ id: string; name: string }> = await ctx.em.query(
      `SELECT p.id, p.name FROM ${links.table} l JOIN providers p ON p.id = l.provider_id
        WHERE l.${links.column} = $1 AND l.provider_type = $2 AND l.org_id = $3`,
      [targetId, type, ctx.orgId],
    );
    return current ?? null;
  }

  /**
   * Replaces whatever provider of the same type was linked (the dashboard's "change provider"):
   * the existing link is locked first, and the upsert makes two racing links end with exactly one.
   */
  private async link(ctx: RequestContext, links: LinkTable, targetId: string, providerId: string) {
    const provider = await this.providers.provider(ctx, providerId);
    await assertMayLinkProvider(ctx, `link.${links.noun}`, provider);
    const [previous]: Array<{ provider_id: string; name: string }> = await ctx.em.query(
      `SELECT l.provider_id, p.name FROM ${links.table} l JOIN providers p ON p.id = l.provider_id
        WHERE l.${links.column} = $1 AND l.provider_type = $2 FOR UPDATE OF l`,
      [targetId, provider.type],
    );
    // Replacing a link removes the provider it had: a scoped key must be allowed that one too.
    if (previous && previous.provider_id !== provider.id) await assertMayLinkProvider(ctx, `link.${links.noun}`, { id: previous.provider_id, name: previous.name });
    await ctx.em.query(
      `INSERT INTO ${links.table} (${links.column}, provider_type, provider_id, org_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (${links.column}, provider_type) DO UPDATE SET provider_id = EXCLUDED.provider_id, created_at = now()`,
      [targetId, provider.type, provider.id, ctx.orgId],
    );
    const previousId = previous?.provider_id ?? null;
    const replacedProvider = previousId && previousId !== provider.id ? await ctx.em.findOneBy(Provider, { id: previousId, orgId: ctx.orgId }) : null;
    await this.audit.record(ctx, {
      action: `link.${links.noun}`,
      targetType: links.targetType,
      targetId,
      details: { providerId: provider.id, providerName: provider.name, providerType: provider.type, replacedProviderId: replacedProvider?.id ?? null },
    });
    return { provider, replacedProvider };
  }

  private async unlink(ctx: RequestContext, links: LinkTable, targetId: string, providerId: string): Promise<Provider> {
    const provider = await this.providers.provider(ctx, providerId);
    await assertMayLinkProvider(ctx, `unlink.${links.noun}`, provider);
    const [, removed]: [unknown, number] = await ctx.em.query(
      `DELETE FROM ${links.table} WHERE ${links.column} = $1 AND provider_id = $2 AND org_id = $3`,
      [targetId, provider.id, ctx.orgId],
    );
    if (removed === 0) {
      throw new UserError("NOT_LINKED", ["input", "providerId"], `The provider "${provider.name}" is not linked to this ${links.noun}; nothing was removed.`);
    }
    await this.audit.record(ctx, {
      action: `unlink.${links.noun}`,
      targetType: links.targetType,
      targetId,
      details: { providerId: provider.id, providerName: provider.name, providerType: provider.type },
    });
    return provider;
  }
}
