import { MigrationInterface, QueryRunner } from "typeorm";

export class AccessControl1795855960360 implements MigrationInterface {
    name = 'AccessControl1795855960360'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "memberships" ("org_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" "public"."role" NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8a43e03ebb7e6f6486a1eab9392" PRIMARY KEY ("org_id", "user_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_7c1e2fdfed4f6838e0c05ae505" ON "memberships"  ("user_id") `);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "user_id" uuid`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "created_by_key_id" uuid`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "scope_apps" text array`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "scope_services" text array`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "scope_stages" text array`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "actor_user_id" uuid`);
        await queryRunner.query(`ALTER TABLE "access_keys" ALTER COLUMN "role" DROP NOT NULL`);
        // A personal key takes its member's role; an org key has its own: exactly one of the two.
        await queryRunner.query(`ALTER TABLE "access_keys" ADD CONSTRAINT "CHK_access_keys_personal_or_org" CHECK (("user_id" IS NULL) <> ("role" IS NULL))`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD CONSTRAINT "FK_9ad6c236dae9cfdaf7dd086ff5d" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD CONSTRAINT "FK_8c6a511c72951c42e008f5537dc" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD CONSTRAINT "FK_7c1e2fdfed4f6838e0c05ae5051" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_7c1e2fdfed4f6838e0c05ae5051"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_8c6a511c72951c42e008f5537dc"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP CONSTRAINT "FK_9ad6c236dae9cfdaf7dd086ff5d"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP CONSTRAINT "CHK_access_keys_personal_or_org"`);
        await queryRunner.query(`ALTER TABLE "access_keys" ALTER COLUMN "role" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "actor_user_id"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "scope_stages"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "scope_services"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "scope_apps"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "created_by_key_id"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "user_id"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_7c1e2fdfed4f6838e0c05ae505"`);
        await queryRunner.query(`DROP TABLE "memberships"`);
        await queryRunner.query(`DROP TABLE "users"`);
    }

}
