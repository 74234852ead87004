import { Authorized, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { Role, type Provider } from "../../entities/index.js";
import { toGlobalId } from "../global-id.js";
import { credentialsSummary } from "../present.js";
import { ProviderCredentials, ProviderObject } from "../types/objects.js";

@Resolver(() => ProviderObject)
export class ProviderResolver {
  @FieldResolver(() => ID)
  id(@Root() provider: Provider) {
    return toGlobalId("Provider", provider.id);
  }

  @Authorized(Role.DEVELOPER)
  @FieldResolver(() => ProviderCredentials, { description: "What the provider holds, without its secrets. DEVELOPER or ADMIN." })
  credentials(@Root() provider: Provider) {
    return credentialsSummary(provider);
  }
}
