import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { App } from "./app.entity.js";
import { Org } from "./org.entity.js";
import { Provider } from "./provider.entity.js";

/**
 * The legacy model, kept apart from providers: what an org had before them. A profile is pending
 * migration while `migrated_at` is null; the partial index makes "anything pending for this org?"
 * one cheap lookup on every deployment.
 */
@Entity("deployment_profiles")
@Index(["orgId", "name"], { unique: true })
@Index("IDX_deployment_profiles_pending", ["orgId"], { where: "migrated_at IS NULL" })
export class DeploymentProfile {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column("text") name!: string;
  /** The AWS Access Role ARN; a profile without one is skipped by the migration. */
  @Column({ type: "text", nullable: true }) roleArn!: string | null;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @Column({ type: "timestamptz", nullable: true }) migratedAt!: Date | null;
  /** The provider the migration made (or reused) for this profile; null when skipped or since deleted. */
  @Column({ type: "uuid", nullable: true }) @ForeignKey(() => Provider, { onDelete: "SET NULL" }) migratedProviderId!: string | null;
}

/** An app's stage mapped to a profile; the literal stage `default` is the app's default stage. */
@Entity("app_stage_profiles")
@Index(["appId", "stage"], { unique: true })
@Index(["profileId"])
@Index(["orgId"])
export class AppStageProfile {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") orgId!: string;
  @Column("uuid") @ForeignKey(() => App, { onDelete: "CASCADE" }) appId!: string;
  @Column("text") stage!: string;
  @Column("uuid") @ForeignKey(() => DeploymentProfile, { onDelete: "CASCADE" }) profileId!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
