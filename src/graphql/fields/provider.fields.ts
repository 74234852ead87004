import { Authorized, FieldResolver, ID, Resolver, Root, UseMiddleware } from "type-graphql";
import { Role, type Provider } from "../../entities/index.js";
import { toGlobalId } from "../global-id.js";
import { unscopedOnly } from "../middleware.js";
import { credentialsSummary } from "../present.js";
import { ProviderCredentials, ProviderObject, ProviderVerificationState } from "../types/objects.js";

@Resolver(() => ProviderObject)
export class ProviderFields {
  @FieldResolver(() => ID)
  id(@Root() provider: Provider) {
    return toGlobalId("Provider", provider.id);
  }

  @Authorized(Role.DEVELOPER)
  @UseMiddleware(unscopedOnly("reading what a provider holds (role ARN, external id, key id)"))
  @FieldResolver(() => ProviderCredentials, {
    description: "What the provider holds, without its secrets. DEVELOPER or ADMIN, with an unscoped key: a scoped key sees providers by name, type and kind only.",
  })
  credentials(@Root() provider: Provider) {
    return credentialsSummary(provider);
  }

  @Authorized(Role.DEVELOPER)
  @UseMiddleware(unscopedOnly("reading what a provider's verification found"))
  @FieldResolver(() => ProviderVerificationState, {
    nullable: true,
    description: "What verifyProvider last found (null: not verified since the credentials were set). DEVELOPER or ADMIN, with an unscoped key.",
  })
  verification(@Root() provider: Provider) {
    return provider.verifiedAt ? { verifiedAt: provider.verifiedAt, externalIdEnforced: provider.externalIdEnforced } : null;
  }
}
