import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Role } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { idOf } from "../global-id.js";
import { mutate } from "../middleware.js";
import { AddMemberInput, RemoveMemberInput, UpdateMemberRoleInput } from "../types/inputs.js";
import { AddMemberPayload, RemoveMemberPayload, UpdateMemberRolePayload } from "../types/payloads.js";
import { presentMember } from "../present.js";

@Resolver()
export class MemberOperations {
  @Authorized(Role.ADMIN)
  @Mutation(() => AddMemberPayload, { description: "Adds a person, by email, to the org with a role." })
  addMember(@Ctx() ctx: GraphQLContext, @Arg("input") input: AddMemberInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      return { member: presentMember(await tx.services.members.add(tx, { email: input.email, role: input.role })) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateMemberRolePayload, { description: "Changes a member's role. The org's last admin cannot be demoted." })
  updateMemberRole(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateMemberRoleInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      const updated = await tx.services.members.updateRole(tx, idOf("User", input.userId), input.role);
      return { member: presentMember(updated), previousRole: updated.previousRole };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RemoveMemberPayload, { description: "Removes a member and revokes their personal keys in the org. The last admin cannot be removed." })
  removeMember(@Ctx() ctx: GraphQLContext, @Arg("input") input: RemoveMemberInput) {
    return mutate(ctx, async (tx) => {
      await tx.services.catalog.org(tx, idOf("Org", input.orgId));
      const removed = await tx.services.members.remove(tx, idOf("User", input.userId));
      return { removedUserId: input.userId, revokedKeyCount: removed.revokedKeyCount };
    });
  }
}
