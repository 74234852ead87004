import { MigrationInterface, QueryRunner } from "typeorm";

export class ProfileMigrationRuns1795901717926 implements MigrationInterface {
    name = 'ProfileMigrationRuns1795901717926'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "profile_migration_runs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "ran_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "trigger" text NOT NULL, "actor_key_id" uuid, "actor_label" text NOT NULL, "request_id" text, "instance_id" uuid, "report" jsonb NOT NULL, CONSTRAINT "PK_303f55debc7e85c1b4e4e45a68d" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_c3afe81d5c0db17f671f54e498" ON "profile_migration_runs"  ("org_id", "ran_at") `);
        await queryRunner.query(`CREATE TABLE "profile_migration_links" ("org_id" uuid NOT NULL, "target_id" uuid NOT NULL, "provider_id" uuid NOT NULL, "run_id" uuid NOT NULL, "target" text NOT NULL, CONSTRAINT "PK_07985585663c1b89917d7601a97" PRIMARY KEY ("org_id", "target_id", "provider_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_d6b175a99900543d0b085bb0a0" ON "profile_migration_links"  ("provider_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_4962fee7dc9a13798ee88171a1" ON "profile_migration_links"  ("run_id") `);
        await queryRunner.query(`ALTER TABLE "profile_migration_runs" ADD CONSTRAINT "FK_e055303af4ab476c25ba82feaaa" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "profile_migration_runs" ADD CONSTRAINT "FK_65e2336ce3f7b6ece4b595755c4" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "profile_migration_links" ADD CONSTRAINT "FK_8fc4f015d73416e860ae41d0238" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "profile_migration_links" ADD CONSTRAINT "FK_d6b175a99900543d0b085bb0a0f" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "profile_migration_links" ADD CONSTRAINT "FK_4962fee7dc9a13798ee88171a1b" FOREIGN KEY ("run_id") REFERENCES "profile_migration_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "profile_migration_links" DROP CONSTRAINT "FK_4962fee7dc9a13798ee88171a1b"`);
        await queryRunner.query(`ALTER TABLE "profile_migration_links" DROP CONSTRAINT "FK_d6b175a99900543d0b085bb0a0f"`);
        await queryRunner.query(`ALTER TABLE "profile_migration_links" DROP CONSTRAINT "FK_8fc4f015d73416e860ae41d0238"`);
        await queryRunner.query(`ALTER TABLE "profile_migration_runs" DROP CONSTRAINT "FK_65e2336ce3f7b6ece4b595755c4"`);
        await queryRunner.query(`ALTER TABLE "profile_migration_runs" DROP CONSTRAINT "FK_e055303af4ab476c25ba82feaaa"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_4962fee7dc9a13798ee88171a1"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_d6b175a99900543d0b085bb0a0"`);
        await queryRunner.query(`DROP TABLE "profile_migration_links"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_c3afe81d5c0db17f671f54e498"`);
        await queryRunner.query(`DROP TABLE "profile_migration_runs"`);
    }

}
