import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { Role } from "./enums.js";
import { Org } from "./org.entity.js";

/** A bearer credential for the API. Only the SHA-256 of the token is stored. */
@Entity("access_keys")
@Index(["orgId"])
export class AccessKey {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column("text") name!: string;
  @Column({ type: "enum", enum: Role, enumName: "role" }) role!: Role;
  @Column({ type: "bytea", unique: true }) tokenHash!: Buffer;
  /** The token's public prefix and last characters, so a person can tell keys apart. */
  @Column("text") tokenHint!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @Column({ type: "timestamptz", nullable: true }) expiresAt!: Date | null;
  @Column({ type: "timestamptz", nullable: true }) revokedAt!: Date | null;
  @Column({ type: "timestamptz", nullable: true }) lastUsedAt!: Date | null;
}
