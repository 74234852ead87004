import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/** The tenant: its id is the org_id every other table carries. */
@Entity("orgs")
export class Org {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column({ type: "text", unique: true }) slug!: string;
  @Column("text") name!: string;
  /** Refuse deployment credentials from a role provider whose last verification found the external id not enforced. */
  @Column({ type: "boolean", default: false }) refuseUnenforcedExternalId!: boolean;
  /**
   * Refuse a deployment (or createInstance) to a stage its service has never had, unless the caller may
   * create stages (an admin, or an org key whose scope says mayCreateStages): typos do not become stages.
   */
  @Column({ type: "boolean", default: false }) refuseNewStages!: boolean;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
