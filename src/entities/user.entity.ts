import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/**
 * A person. Users are global (one person may belong to several orgs), so this is the one table
 * without an org_id: under Citus it is a reference table. What a user may do lives in Membership.
 */
@Entity("users")
export class User {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column({ type: "text", unique: true }) email!: string;
  @Column("text") name!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
