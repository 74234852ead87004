import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { Instance } from "./instance.entity.js";
import { Org } from "./org.entity.js";
import { Service } from "./service.entity.js";

/**
 * A named value a deployment reads as `${param:NAME}`, set on an instance, a service, or the org
 * itself (neither set). A secret value is sealed by the SecretBox and only its hint is kept in the
 * clear; a plain value is stored as it is. The partial unique indexes make "one value of a name per
 * owner" a database rule, so two racing creations end with exactly one.
 */
@Entity("parameters")
@Index("UQ_parameters_org_name", ["orgId", "name"], { unique: true, where: "service_id IS NULL AND instance_id IS NULL" })
@Index("UQ_parameters_service_name", ["serviceId", "name"], { unique: true, where: "service_id IS NOT NULL" })
@Index("UQ_parameters_instance_name", ["instanceId", "name"], { unique: true, where: "instance_id IS NOT NULL" })
@Check("CHK_parameters_one_owner", `num_nonnulls("service_id", "instance_id") <= 1`)
@Check(
  "CHK_parameters_value_or_sealed",
  `("is_secret" AND "value" IS NULL AND "value_ciphertext" IS NOT NULL AND "value_key_id" IS NOT NULL) OR (NOT "is_secret" AND "value" IS NOT NULL AND "value_ciphertext" IS NULL AND "value_key_id" IS NULL)`,
)
export class Parameter {
  // Generated before the insert: the sealed value is bound to the row's id.
  @PrimaryColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column({ type: "uuid", nullable: true }) @ForeignKey(() => Service, { onDelete: "CASCADE" }) serviceId!: string | null;
  @Column({ type: "uuid", nullable: true }) @ForeignKey(() => Instance, { onDelete: "CASCADE" }) instanceId!: string | null;
  @Column("text") name!: string;
  @Column({ type: "text", nullable: true }) description!: string | null;
  @Column("boolean") isSecret!: boolean;
  /** The value of a plain parameter; null for a secret one. */
  @Column({ type: "text", nullable: true }) value!: string | null;
  /** For a secret: enough for a person to recognise it, too little to use it. */
  @Column({ type: "text", nullable: true }) valueHint!: string | null;
  @Column({ type: "text", nullable: true }) valueKeyId!: string | null;
  @Column({ type: "bytea", nullable: true }) valueCiphertext!: Buffer | null;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @UpdateDateColumn({ type: "timestamptz" }) updatedAt!: Date;
}
