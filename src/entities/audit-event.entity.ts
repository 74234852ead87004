import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

export enum AuditOutcome {
  SUCCESS = "SUCCESS",
  DENIED = "DENIED",
  FAILURE = "FAILURE",
}

/**
 * An append-only record of who did what. The database refuses UPDATE and DELETE on this table
 * (a trigger in the migration); it holds identifiers and labels, never a secret or a key.
 */
@Entity("audit_events")
@Index(["orgId", "occurredAt"])
export class AuditEvent {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") orgId!: string;
  @CreateDateColumn({ type: "timestamptz" }) occurredAt!: Date;
  @Column({ type: "text", nullable: true }) requestId!: string | null;
  /** The access key that acted (its id, never the key), or null for the server itself (CLI, automatic steps). */
  @Column({ type: "uuid", nullable: true }) actorKeyId!: string | null;
  /** The user behind a personal key, if any. */
  @Column({ type: "uuid", nullable: true }) actorUserId!: string | null;
  @Column("text") actorLabel!: string;
  /** e.g. provider.create, link.service, credentials.issue */
  @Column("text") action!: string;
  @Column({ type: "text", nullable: true }) targetType!: string | null;
  @Column({ type: "uuid", nullable: true }) targetId!: string | null;
  @Column({ type: "enum", enum: AuditOutcome, enumName: "audit_outcome" }) outcome!: AuditOutcome;
  @Column({ type: "jsonb" }) details!: Record<string, unknown>;
}
