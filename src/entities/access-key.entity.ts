import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { Role } from "./enums.js";
import { Org } from "./org.entity.js";
import { User } from "./user.entity.js";

/**
 * A bearer credential for the API. Only the SHA-256 of the token is stored.
 * A personal key (user_id set) acts with its user's membership role in the key's org; an org key
 * (user_id null, for CI) has a role of its own. Either may carry a scope, which only narrows.
 */
@Entity("access_keys")
@Check("CHK_access_keys_personal_or_org", `("user_id" IS NULL) <> ("role" IS NULL)`)
@Index(["orgId"])
export class AccessKey {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column("text") name!: string;
  /** Null for a personal key: it takes its user's role in the org at each request. */
  @Column({ type: "enum", enum: Role, enumName: "role", nullable: true }) role!: Role | null;
  @Column({ type: "uuid", nullable: true }) @ForeignKey(() => User, { onDelete: "CASCADE" }) userId!: string | null;
  /** The key that created this one (null for keys made by the CLI). */
  @Column({ type: "uuid", nullable: true }) createdByKeyId!: string | null;
  /** App names the key is limited to; null: any app. */
  @Column({ type: "text", array: true, nullable: true }) scopeApps!: string[] | null;
  /** Service names the key is limited to; null: any service. */
  @Column({ type: "text", array: true, nullable: true }) scopeServices!: string[] | null;
  /** Stage glob patterns (`feature-*`, `prod`) the key is limited to; null: any stage. */
  @Column({ type: "text", array: true, nullable: true }) scopeStages!: string[] | null;
  /** Providers a scoped key may link to instances in its scope; null: none. Ignored without a scope. */
  @Column({ type: "uuid", array: true, nullable: true }) scopeLinkableProviderIds!: string[] | null;
  /** An org key that may add a stage to a service when its org refuses new stages (Org.refuseNewStages). */
  @Column({ type: "boolean", default: false }) scopeMayCreateStages!: boolean;
  @Column({ type: "bytea", unique: true }) tokenHash!: Buffer;
  /** The token's public prefix and last characters, so a person can tell keys apart. */
  @Column("text") tokenHint!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @Column({ type: "timestamptz", nullable: true }) expiresAt!: Date | null;
  @Column({ type: "timestamptz", nullable: true }) revokedAt!: Date | null;
  @Column({ type: "timestamptz", nullable: true }) lastUsedAt!: Date | null;
}
