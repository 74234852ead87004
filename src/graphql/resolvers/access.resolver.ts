import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { AccessKey, AuditEvent, Role, User } from "../../entities/index.js";
import { kindOf, scopeOf, AccessKeyKind } from "../../domain/access-keys.js";
import type { AccessScope } from "../../domain/context.js";
import type { MemberView } from "../../domain/members.js";
import type { GraphQLContext } from "../context.js";
import { idOf, toGlobalId } from "../global-id.js";
import { mutate } from "../middleware.js";
import { AddMemberInput, CreateAccessKeyInput, RemoveMemberInput, RevokeAccessKeyInput, UpdateMemberRoleInput } from "../types/inputs.js";
import { AccessKeyScope, AccessKeyType, AuditEventType, ProviderObject, UserType } from "../types/objects.js";
import {
  AddMemberPayload,
  CreateAccessKeyPayload,
  RemoveMemberPayload,
  RevokeAccessKeyPayload,
  UpdateMemberRolePayload,
} from "../types/payloads.js";

export const presentMember = (view: MemberView) => ({ user: view.user, role: view.membership.role, joinedAt: view.membership.createdAt });

@Resolver()
export class AccessMutations {
  @Authorized()
  @Mutation(() => CreateAccessKeyPayload, {
    description: "Creates an org key (admins) or a personal key (admins for any member, a member for themselves). The key is returned once.",
  })
  createAccessKey(@Ctx() ctx: GraphQLContext, @Arg("input") input: CreateAccessKeyInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      const { key, token } = await ctx.services.accessKeys.create(ctx, {
        name: input.name,
        userId: input.userId ? idOf("User", input.userId) : null,
        role: input.role ?? null,
        expiresAt: input.expiresAt ?? null,
        scope: input.scope
          ? {
              apps: input.scope.apps ?? null,
              services: input.scope.services ?? null,
              stages: input.scope.stages ?? null,
              linkableProviderIds: input.scope.linkableProviderIds?.map((id) => idOf("Provider", id)) ?? null,
            }
          : null,
      });
      return { accessKey: key, token };
    });
  }

  @Authorized()
  @Mutation(() => RevokeAccessKeyPayload, { description: "Revokes a key (admins: any; members: their own personal keys). It stops working on the next request." })
  revokeAccessKey(@Ctx() ctx: GraphQLContext, @Arg("input") input: RevokeAccessKeyInput) {
    return mutate(ctx, async () => ({ accessKey: await ctx.services.accessKeys.revoke(ctx, idOf("AccessKey", input.accessKeyId)) }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => AddMemberPayload, { description: "Adds a person, by email, to the org with a role." })
  addMember(@Ctx() ctx: GraphQLContext, @Arg("input") input: AddMemberInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      return { member: presentMember(await ctx.services.members.add(ctx, { email: input.email, role: input.role })) };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateMemberRolePayload, { description: "Changes a member's role. The org's last admin cannot be demoted." })
  updateMemberRole(@Ctx() ctx: GraphQLContext, @Arg("input") input: UpdateMemberRoleInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      const updated = await ctx.services.members.updateRole(ctx, idOf("User", input.userId), input.role);
      return { member: presentMember(updated), previousRole: updated.previousRole };
    });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RemoveMemberPayload, { description: "Removes a member and revokes their personal keys in the org. The last admin cannot be removed." })
  removeMember(@Ctx() ctx: GraphQLContext, @Arg("input") input: RemoveMemberInput) {
    return mutate(ctx, async () => {
      await ctx.services.catalog.org(ctx, idOf("Org", input.orgId));
      const removed = await ctx.services.members.remove(ctx, idOf("User", input.userId));
      return { removedUserId: input.userId, revokedKeyCount: removed.revokedKeyCount };
    });
  }
}

@Resolver(() => AccessKeyType)
export class AccessKeyResolver {
  @FieldResolver(() => ID)
  id(@Root() key: AccessKey) {
    return toGlobalId("AccessKey", key.id);
  }

  @FieldResolver(() => AccessKeyKind)
  kind(@Root() key: AccessKey) {
    return kindOf(key);
  }

  @FieldResolver(() => Role, { nullable: true, description: "What the key may do: an org key's own role, or a personal key's member's current role (null once they left)." })
  async role(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    if (key.role) return key.role;
    return (await ctx.loaders.membership(key.userId!))?.role ?? null;
  }

  @FieldResolver(() => UserType, { nullable: true, description: "The user a personal key acts as." })
  user(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    return key.userId ? ctx.loaders.user(key.userId) : null;
  }

  @FieldResolver(() => AccessKeyType, { nullable: true, description: "The key that created this one; null for keys made with the CLI." })
  createdBy(@Root() key: AccessKey, @Ctx() ctx: GraphQLContext) {
    return key.createdByKeyId ? ctx.loaders.accessKey(key.createdByKeyId) : null;
  }

  @FieldResolver(() => AccessKeyScope, { nullable: true, description: "Null: the key is not limited to some apps, services or stages." })
  scope(@Root() key: AccessKey) {
    return scopeOf(key);
  }
}

@Resolver(() => AccessKeyScope)
export class AccessKeyScopeResolver {
  @FieldResolver(() => [ProviderObject], { nullable: true })
  async linkableProviders(@Root() scope: AccessScope, @Ctx() ctx: GraphQLContext) {
    if (!scope.linkableProviderIds) return null;
    // A provider deleted since the key was made is simply gone from the list.
    const providers = await Promise.all(scope.linkableProviderIds.map((id) => ctx.loaders.provider(id)));
    return providers.filter((p) => p !== null);
  }
}

@Resolver(() => UserType)
export class UserResolver {
  @FieldResolver(() => ID)
  id(@Root() user: User) {
    return toGlobalId("User", user.id);
  }
}

@Resolver(() => AuditEventType)
export class AuditEventResolver {
  @FieldResolver(() => ID)
  id(@Root() event: AuditEvent) {
    return toGlobalId("AuditEvent", event.id);
  }

  @FieldResolver(() => AccessKeyType, { nullable: true, description: "The key that acted (null for the server itself, or a key since deleted with its org)." })
  actorKey(@Root() event: AuditEvent, @Ctx() ctx: GraphQLContext) {
    return event.actorKeyId ? ctx.loaders.accessKey(event.actorKeyId) : null;
  }

  @FieldResolver(() => UserType, { nullable: true, description: "The user behind a personal key." })
  actorUser(@Root() event: AuditEvent, @Ctx() ctx: GraphQLContext) {
    return event.actorUserId ? ctx.loaders.user(event.actorUserId) : null;
  }

  @FieldResolver(() => ID, { nullable: true, description: "The global id of the object acted on." })
  targetId(@Root() event: AuditEvent) {
    const type = event.targetType as Parameters<typeof toGlobalId>[0] | null;
    return type && event.targetId ? toGlobalId(type, event.targetId) : null;
  }
}
