import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/**
 * A person. Users are global (one person may belong to several orgs), so this is the one table
 * without an org_id: under Citus it is a reference table. What a user may do lives in Membership.
 * It holds nothing one org sets that another could read: the email is the whole identity.
 */
@Entity("users")
export class User {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column({ type: "text", unique: true }) email!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
