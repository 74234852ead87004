import { FieldResolver, ID, Resolver, Root } from "type-graphql";
import { User } from "../../entities/index.js";
import { toGlobalId } from "../global-id.js";
import { UserObject } from "../types/objects.js";

@Resolver(() => UserObject)
export class UserFields {
  @FieldResolver(() => ID)
  id(@Root() user: User) {
    return toGlobalId("User", user.id);
  }
}
