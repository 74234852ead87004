import { MigrationInterface, QueryRunner } from "typeorm";

export class AuditEvents1795855759912 implements MigrationInterface {
    name = 'AuditEvents1795855759912'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TYPE "public"."audit_outcome" AS ENUM('SUCCESS', 'DENIED', 'FAILURE')`);
        await queryRunner.query(`CREATE TABLE "audit_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "request_id" text, "actor_key_id" uuid, "actor_label" text NOT NULL, "action" text NOT NULL, "target_type" text, "target_id" uuid, "outcome" "public"."audit_outcome" NOT NULL, "details" jsonb NOT NULL, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_47bbdc912fff5be200205720e3" ON "audit_events"  ("org_id", "occurred_at") `);
        // Append-only, enforced by the database: no role the API runs as can rewrite history.
        await queryRunner.query(`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        await queryRunner.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER audit_events_append_only ON "audit_events"`);
        await queryRunner.query(`DROP FUNCTION audit_events_append_only()`);
        await queryRunner.query(`DROP INDEX "public"."IDX_47bbdc912fff5be200205720e3"`);
        await queryRunner.query(`DROP TABLE "audit_events"`);
        await queryRunner.query(`DROP TYPE "public"."audit_outcome"`);
    }

}
