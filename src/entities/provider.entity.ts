import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from "typeorm";
import { CredentialKind, ProviderType } from "./enums.js";
import { Org } from "./org.entity.js";

/** Non-secret settings of a provider, shown to anyone who may see the provider. */
export interface ProviderSettings {
  roleArn?: string;
  externalId?: string;
  maxSessionDurationSeconds?: number;
  accessKeyId?: string;
  issueSessionTokens?: boolean;
  sessionTags?: boolean;
  accountSid?: string;
  secretHint?: string;
}

/**
 * An org's credentials for one cloud account. The secret part is sealed by the SecretBox before it
 * reaches this row; it is never mapped to GraphQL.
 */
@Entity("providers")
@Index(["orgId", "name"], { unique: true })
@Index("UQ_providers_default_per_type", ["orgId", "type"], { unique: true, where: "is_default" })
@Unique("UQ_providers_id_type", ["id", "type"])
export class Provider {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column("text") name!: string;
  @Column({ type: "enum", enum: ProviderType, enumName: "provider_type" }) type!: ProviderType;
  @Column({ type: "enum", enum: CredentialKind, enumName: "credential_kind" }) kind!: CredentialKind;
  @Column({ type: "jsonb" }) settings!: ProviderSettings;
  @Column({ type: "text", nullable: true }) secretKeyId!: string | null;
  @Column({ type: "bytea", nullable: true }) secretCiphertext!: Buffer | null;
  @Column({ type: "boolean", default: false }) isDefault!: boolean;
  /** When `verifyProvider` last succeeded on these credentials; null until then, and again once they are replaced. */
  @Column({ type: "timestamptz", nullable: true }) verifiedAt!: Date | null;
  /** What that verification found for a role: false when the role could be assumed without the external id. Null for access keys or when unverified. */
  @Column({ type: "boolean", nullable: true }) externalIdEnforced!: boolean | null;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @UpdateDateColumn({ type: "timestamptz" }) updatedAt!: Date;
}
