import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { LinkConflict, MigratedLink } from "../../domain/profile-migration.js";
import type { GraphQLContext } from "../context.js";
import { ProviderObject } from "../types/objects.js";
import { MigratedProviderLink, ProviderLinkConflict } from "../types/profiles.js";

@Resolver(() => ProviderLinkConflict)
export class ProviderLinkConflictFields {
  @FieldResolver(() => MigratedProviderLink, { description: "The link the migration would have added." })
  link(@Root() conflict: LinkConflict): MigratedLink {
    return conflict;
  }

  @FieldResolver(() => ProviderObject, { description: "The provider linked by hand, which stays." })
  linkedProvider(@Root() conflict: LinkConflict, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.provider(conflict.linkedProviderId);
  }
}
