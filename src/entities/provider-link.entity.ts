import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from "typeorm";
import { ProviderType } from "./enums.js";
import { Instance } from "./instance.entity.js";
import { Provider } from "./provider.entity.js";
import { Service } from "./service.entity.js";

/*
 * The primary key (target, provider_type) is what makes "at most one provider of a type per service /
 * per instance" a database rule; the composite foreign key to providers(id, type) keeps the stored
 * type honest.
 */

@Entity("service_provider_links")
@ForeignKey(() => Provider, ["providerId", "providerType"], ["id", "type"], { onDelete: "CASCADE" })
@Index(["providerId"])
export class ServiceProviderLink {
  @PrimaryColumn("uuid") @ForeignKey(() => Service, { onDelete: "CASCADE" }) serviceId!: string;
  @PrimaryColumn({ type: "enum", enum: ProviderType, enumName: "provider_type" }) providerType!: ProviderType;
  @Column("uuid") providerId!: string;
  @Column("uuid") orgId!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}

@Entity("instance_provider_links")
@ForeignKey(() => Provider, ["providerId", "providerType"], ["id", "type"], { onDelete: "CASCADE" })
@Index(["providerId"])
export class InstanceProviderLink {
  @PrimaryColumn("uuid") @ForeignKey(() => Instance, { onDelete: "CASCADE" }) instanceId!: string;
  @PrimaryColumn({ type: "enum", enum: ProviderType, enumName: "provider_type" }) providerType!: ProviderType;
  @Column("uuid") providerId!: string;
  @Column("uuid") orgId!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
