import { Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { AuditEvent } from "../../entities/index.js";
import type { GraphQLContext } from "../context.js";
import { toGlobalId } from "../global-id.js";
import { AccessKeyObject, AuditEventObject, UserObject } from "../types/objects.js";

@Resolver(() => AuditEventObject)
export class AuditEventFields {
  @FieldResolver(() => ID)
  id(@Root() event: AuditEvent) {
    return toGlobalId("AuditEvent", event.id);
  }

  @FieldResolver(() => AccessKeyObject, { nullable: true, description: "The key that acted (null for the server itself, or a key since deleted with its org)." })
  actorKey(@Root() event: AuditEvent, @Ctx() ctx: GraphQLContext) {
    return event.actorKeyId ? ctx.loaders.accessKey(event.actorKeyId) : null;
  }

  @FieldResolver(() => UserObject, { nullable: true, description: "The user behind a personal key." })
  actorUser(@Root() event: AuditEvent, @Ctx() ctx: GraphQLContext) {
    return event.actorUserId ? ctx.loaders.user(event.actorUserId) : null;
  }

  @FieldResolver(() => ID, { nullable: true, description: "The global id of the object acted on." })
  targetId(@Root() event: AuditEvent) {
    const type = event.targetType as Parameters<typeof toGlobalId>[0] | null;
    return type && event.targetId ? toGlobalId(type, event.targetId) : null;
  }
}
