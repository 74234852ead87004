import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from "typeorm";
import { Service } from "./service.entity.js";

/** A service deployed to a stage and a region, or the stage-wide instance: the stage with no region, covering every region of it. */
@Entity("instances")
@Index("UQ_instances_stage_only", ["serviceId", "stage"], { unique: true, where: "region IS NULL" })
@Index("UQ_instances_stage_region", ["serviceId", "stage", "region"], { unique: true, where: "region IS NOT NULL" })
@Index(["orgId"])
// (service_id, stage/region, id), made by the InstancePageIndex migration: an expression TypeORM cannot declare.
@Index("IDX_instances_page", { synchronize: false })
export class Instance {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("uuid") orgId!: string;
  @Column("uuid") @ForeignKey(() => Service, { onDelete: "CASCADE" }) serviceId!: string;
  @Column("text") stage!: string;
  @Column({ type: "text", nullable: true }) region!: string | null;
  @CreateDateColumn({ type: "timestamptz" }) createdAt!: Date;
  @Column({ type: "timestamptz", nullable: true }) lastDeployedAt!: Date | null;
}
