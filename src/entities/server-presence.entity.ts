import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

/**
 * A serving process, as it announces itself every few seconds: where it runs and which master keys it
 * can open secrets with. `rotate-master-key` reads it so as never to re-seal secrets with a key a live
 * server does not have. Not tenant data: it has no org.
 */
@Entity("server_presence")
export class ServerPresence {
  @PrimaryGeneratedColumn("uuid") id!: string;
  @Column("text") hostname!: string;
  @Column("integer") pid!: number;
  @Column({ type: "text", nullable: true }) url!: string | null;
  /** Ids (keyIdOf) of every master key the process holds: never the keys. */
  @Column({ type: "text", array: true }) keyIds!: string[];
  @Column({ type: "timestamptz", default: () => "now()" }) startedAt!: Date;
  @Column({ type: "timestamptz", default: () => "now()" }) seenAt!: Date;
}
