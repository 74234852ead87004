import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { Org } from "./org.entity.js";

@Entity("apps")
@Index(["orgId", "name"], { unique: true })
export class App {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") @ForeignKey(() => Org, { onDelete: "CASCADE" }) orgId!: string;
  @Column("text") name!: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
}
