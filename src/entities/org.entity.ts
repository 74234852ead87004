import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/** The tenant: its id is the org_id every other table carries. */
@Entity("orgs")
export class Org {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column({ type: "text", unique: true }) slug!: string;
  @Column("text") name!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
