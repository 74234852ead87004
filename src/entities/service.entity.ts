import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { App } from "./app.entity.js";

@Entity("services")
@Index(["appId", "name"], { unique: true })
@Index(["orgId"])
export class Service {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") orgId!: string;
  @Column("uuid") @ForeignKey(() => App, { onDelete: "CASCADE" }) appId!: string;
  @Column("text") name!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
