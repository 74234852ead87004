import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";

export enum AuditOutcome {
  SUCCESS = "SUCCESS",
  DENIED = "DENIED",
  FAILURE = "FAILURE",
}

/**
 * An append-only record of who did what. The database refuses UPDATE, DELETE and TRUNCATE on this
 * table (triggers in the migrations); it holds identifiers and labels, never a secret or a key.
 *
 * Each org's events form a hash chain: moments after the inserting transaction commits, the sealer
 * (src/db/audit-sealer.ts, the database function audit_seal_pending) gives the event the org's next
 * `seq` and `hash = sha256(previous hash || encoding of the event)` (see src/domain/audit-chain.ts),
 * so a removed, reordered or edited row is detectable. A column added here must be added to that
 * encoding (and to the sealing check in the append-only trigger).
 */
@Entity("audit_events")
@Index(["orgId", "occurredAt"])
@Index("UQ_audit_events_org_seq", ["orgId", "seq"], { unique: true })
// The events the sealer has still to chain, in the order it chains them: small, as they are sealed within moments.
@Index("IDX_audit_events_unsealed", ["orgId", "occurredAt", "id"], { where: `"seq" IS NULL` })
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
  /** The event's place in its org's chain (1, 2, …); null until the sealer chains it (pending). */
  @Column({ type: "bigint", nullable: true }) seq!: string | null;
  /** sha256(previous event's hash, or 32 zero bytes for the first || the event's encoding). */
  @Column({ type: "bytea", nullable: true }) hash!: Buffer | null;
}

/**
 * The last link of an org's audit chain, moved forward by each sealing: its row lock orders
 * concurrent sealers of one org, and it shows when events were cut off the chain's end.
 */
@Entity("audit_chain_heads")
export class AuditChainHead {
  @PrimaryColumn("uuid") orgId!: string;
  @Column("bigint") seq!: string;
  @Column("bytea") hash!: Buffer;
}
