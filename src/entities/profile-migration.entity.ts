import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import { Instance } from "./instance.entity.js";
import { Org } from "./org.entity.js";
import { Provider } from "./provider.entity.js";

/**
 * One run of the deployment-profile migration: what started it, who, and its report, readable
 * through the API afterwards. Written in the run's own transaction, so a run that did not commit
 * left no row either.
 */
@Entity("profile_migration_runs")
@Index(["orgId", "ranAt"])
export class ProfileMigrationRun {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @CreateDateColumn({ type: "timestamptz" }) ranAt!: Date;
  /** AUTOMATIC (a deployment), MANUAL (an admin through the API) or CLI. */
  @Column("text") trigger!: string;
  /** The access key that ran it or whose deployment triggered it; null for the CLI. */
  @Column({ type: "uuid", nullable: true }) actorKeyId!: string | null;
  /** Who, as the audit trail names them. */
  @Column("text") actorLabel!: string;
  @Column({ type: "text", nullable: true }) requestId!: string | null;
  /** For AUTOMATIC: the instance whose deployment triggered the run; null otherwise or since deleted. */
  @Column({ type: "uuid", nullable: true }) @ForeignKey(() => Instance, { onDelete: "SET NULL" }) instanceId!: string | null;
  /** The report, with ids (never a secret): the API presents them as objects. */
  @Column("jsonb") report!: Record<string, unknown>;
}

/**
 * A link the migration has done once — added, or found in place with the same provider — on a
 * service or an instance (`targetId`). A later run leaves it alone even after an admin removed or
 * replaced it: a rerun adds only what no earlier run has done.
 */
@Entity("profile_migration_links")
@Index(["runId"])
@Index(["providerId"])
export class ProfileMigrationLink {
  @PrimaryColumn("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @PrimaryColumn("uuid") targetId!: string;
  @PrimaryColumn("uuid") @ForeignKey(() => Provider, { onDelete: "CASCADE" }) providerId!: string;
  @Column("uuid") @ForeignKey(() => ProfileMigrationRun, { onDelete: "CASCADE" }) runId!: string;
  /** SERVICE or INSTANCE. */
  @Column("text") target!: string;
}
