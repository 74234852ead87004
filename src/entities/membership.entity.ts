import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from "typeorm";
import { Role } from "./enums.js";
import { Org } from "./org.entity.js";
import { User } from "./user.entity.js";

/** A user's role in an org. An org always keeps at least one ADMIN member once it has any member. */
@Entity("memberships")
@Index(["userId"])
export class Membership {
  @PrimaryColumn("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @PrimaryColumn("uuid") @ForeignKey(() => User, { onDelete: "CASCADE" }) userId!: string;
  @Column({ type: "enum", enum: Role, enumName: "role" }) role!: Role;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
