import { FieldResolver, ID, Resolver, Root } from "type-graphql";
import type { AccessKey, Provider } from "../../entities/index.js";
import { toGlobalId } from "../global-id.js";
import { credentialsSummary } from "../present.js";
import { AccessKeyType, ProviderCredentials, ProviderObject } from "../types/objects.js";

@Resolver(() => ProviderObject)
export class ProviderResolver {
  @FieldResolver(() => ID)
  id(@Root() provider: Provider) {
    return toGlobalId("Provider", provider.id);
  }

  @FieldResolver(() => ProviderCredentials, { description: "What the provider holds, without its secrets." })
  credentials(@Root() provider: Provider) {
    return credentialsSummary(provider);
  }
}

@Resolver(() => AccessKeyType)
export class AccessKeyResolver {
  @FieldResolver(() => ID)
  id(@Root() key: AccessKey) {
    return toGlobalId("AccessKey", key.id);
  }
}
