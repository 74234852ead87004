import { ParameterSource, type EffectiveParameter } from "../domain/parameter-resolution.js";
import { ProviderType, type Provider } from "../entities/index.js";
import { ProviderSource, type Resolution } from "../domain/resolution.js";
import { NotFoundError, UserError } from "../domain/errors.js";
import type { MemberView } from "../domain/members.js";
import type { MigratedLink, MigrationReport } from "../domain/profile-migration.js";
import { credentialKind, CREDENTIAL_KINDS, type CredentialsInput } from "../domain/credential-kinds/index.js";
import type { CredentialsInputFields } from "./types/inputs.js";
import type { GraphQLContext } from "./context.js";

/** The non-secret summary of a provider's credentials, as its kind shows it. */
export function credentialsSummary(provider: Provider) {
  return credentialKind(provider.kind).summary(provider.settings);
}

/** "aws.role, aws.accessKey, stripe or twilio": where each kind's fields go, for the error that asks for one. */
const KIND_PATHS = Object.values(CREDENTIAL_KINDS)
  .map((kind) => kind.inputPath.join("."))
  .join(", ")
  .replace(/, ([^,]*)$/, " or $1");

/**
 * Reads the one credential kind out of a createProvider / updateProvider input, wherever each kind's
 * fields sit (its inputPath). None at all is fine for an update (a rename), and refused where
 * `required`; so is a group such as `aws: {}` that names no kind inside it.
 */
export function credentialsFrom(input: CredentialsInputFields, required: true): CredentialsInput;
export function credentialsFrom(input: CredentialsInputFields, required?: false): CredentialsInput | null;
export function credentialsFrom(input: CredentialsInputFields, required = false): CredentialsInput | null {
  const at = (path: readonly string[]) => path.reduce<any>((value, key) => value?.[key], input);
  const kinds = Object.values(CREDENTIAL_KINDS);
  const given = kinds.filter((kind) => at(kind.inputPath) != null);
  const emptyGroup = kinds.some((kind) => at(kind.inputPath.slice(0, 1)) != null && !given.some((g) => g.inputPath[0] === kind.inputPath[0]));
  if (given.length > 1 || (required && given.length === 0) || emptyGroup) {
    throw new UserError(
      "INVALID_CREDENTIALS",
      ["input"],
      `Give exactly one kind of credentials: ${KIND_PATHS}.`,
    );
  }
  // The GraphQL input classes give each kind's fields their shape; the kind's validate checks the values.
  return given[0] ? ({ kind: given[0].kind, ...at(given[0].inputPath) } as CredentialsInput) : null;
}

const typeNames: Record<ProviderType, string> = { AWS: "AWS", STRIPE: "Stripe", TWILIO: "Twilio" };

/** Why a resolution applies, in a sentence; with a warning when its role does not enforce its external id. */
function explain({ provider, source, stageWide }: Resolution): string {
  const name = `"${provider.name}"`;
  const why =
    source === ProviderSource.INSTANCE
      ? stageWide
        ? `${name} is linked to the stage-wide instance of this stage, which covers every region.`
        : `${name} is linked to this instance.`
      : source === ProviderSource.SERVICE
        ? `Nothing is linked to the instance, so it inherits ${name} from the service.`
        : `Nothing is linked to the instance or the service, so the org's default ${typeNames[provider.type]} provider ${name} applies.`;
  const warning =
    provider.externalIdEnforced === false
      ? ` Warning: when last verified (${provider.verifiedAt?.toISOString()}), its role could be assumed without the external id, so anyone the role trusts could use it; an admin should require sts:ExternalId in the role's trust policy and verify again.`
      : "";
  return why + warning;
}

/** A resolution as the API shows it: with the instance whose link applies, and a sentence saying why. */
export function presentResolution(ctx: GraphQLContext, resolution: Resolution | null) {
  if (!resolution) return null;
  const { provider, source, instanceId } = resolution;
  return {
    provider,
    source,
    externalIdEnforced: provider.externalIdEnforced,
    // Getters: the instance is loaded, and the sentence written, only for a query that selects them
    // (a dashboard page of 500 instances selects neither).
    get instance() {
      return instanceId ? ctx.loaders.instance(instanceId) : null;
    },
    get explanation() {
      return explain(resolution);
    },
  };
}

/** Lists by name: matches the (org or parent, name, id) indexes, so each page is read off one. */
export const byName = { sql: "t.name" };

/** Instances by stage and region: matches the index IDX_instances_page, so each service's page is read off it. */
export const byStageAndRegion = { sql: "t.stage || '/' || coalesce(t.region, '')" };

/** A parent that must exist (a field whose type is non-null), or NOT_FOUND. */
export async function loaded<T>(value: Promise<T | null>, what: string): Promise<T> {
  const found = await value;
  if (!found) throw new NotFoundError(what);
  return found;
}

/** A membership as the API shows a member. */
export const presentMember = (view: MemberView) => ({ user: view.user, role: view.membership.role, joinedAt: view.membership.createdAt });

/** An effective parameter as the API shows it: where it is set, and a sentence saying why it applies. */
export function presentEffectiveParameter(ctx: GraphQLContext, { parameter, source, stageWide }: EffectiveParameter) {
  const explanation = {
    [ParameterSource.INSTANCE]: stageWide ? "Set on the stage-wide instance of this stage, which covers every region." : "Set on this instance.",
    [ParameterSource.SERVICE]: "Not set on the instance, so it inherits the service's value.",
    [ParameterSource.ORG]: "Not set on the instance or the service, so the org's value applies.",
  }[source];
  return {
    name: parameter.name,
    parameter,
    source,
    instance: parameter.instanceId ? ctx.loaders.instance(parameter.instanceId) : null,
    service: source === ParameterSource.SERVICE ? ctx.loaders.service(parameter.serviceId!) : null,
    explanation,
  };
}

/**
 * A run's stored report as the API shows it: entries whose provider, service or instance has been
 * deleted since are left out (their non-null fields could not be answered; the audit trail keeps
 * them). Every lookup is queued before any is awaited, so a page of runs costs one batch per loader.
 */
export async function presentStoredMigrationReport(ctx: GraphQLContext, stored: Record<string, unknown>) {
  const report = stored as unknown as MigrationReport;
  const { loaders } = ctx;
  const exists = (value: Promise<unknown>) => value.then((found) => found !== null);
  const linkExists = (link: MigratedLink) =>
    Promise.all([exists(loaders.service(link.serviceId)), link.instanceId ? exists(loaders.instance(link.instanceId)) : true, exists(loaders.provider(link.providerId))]).then((all) =>
      all.every(Boolean),
    );
  const keep = async <T>(entries: T[] | undefined, test: (entry: T) => Promise<boolean>) => {
    const list = entries ?? [];
    const kept = await Promise.all(list.map(test));
    return list.filter((_, i) => kept[i]);
  };
  const [providersCreated, providersExisting, linksAdded, linksExisting, linksSkipped, conflicts] = await Promise.all([
    keep(report.providersCreated, (p) => exists(loaders.provider(p.providerId))),
    keep(report.providersExisting, (p) => exists(loaders.provider(p.providerId))),
    keep(report.linksAdded, linkExists),
    keep(report.linksExisting, linkExists),
    keep(report.linksSkipped, linkExists),
    keep(report.conflicts, (c) => Promise.all([linkExists(c), exists(loaders.provider(c.linkedProviderId))]).then(([link, linked]) => link && linked)),
  ]);
  return { ...report, providersCreated, providersExisting, profilesSkipped: report.profilesSkipped ?? [], linksAdded, linksExisting, linksSkipped, conflicts };
}
