import { MigrationInterface, QueryRunner } from "typeorm";

export class DeploymentProfiles1795855899327 implements MigrationInterface {
    name = 'DeploymentProfiles1795855899327'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "deployment_profiles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "name" text NOT NULL, "role_arn" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "migrated_at" TIMESTAMP WITH TIME ZONE, "migrated_provider_id" uuid, CONSTRAINT "PK_0441fe392c7a23b15eaaf958da2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_deployment_profiles_pending" ON "deployment_profiles"  ("org_id") WHERE migrated_at IS NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_47c8c6a0907d8200c22212f5a9" ON "deployment_profiles"  ("org_id", "name") `);
        await queryRunner.query(`CREATE TABLE "app_stage_profiles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "app_id" uuid NOT NULL, "stage" text NOT NULL, "profile_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a2b4346dd69c44cac079e6c3fb3" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_5df18f3d8a6b84bbe12cfd8c0c" ON "app_stage_profiles"  ("org_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_b011b91cb45151bc479fab28e3" ON "app_stage_profiles"  ("profile_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_1e590d9cfcc6170f883875533d" ON "app_stage_profiles"  ("app_id", "stage") `);
        await queryRunner.query(`ALTER TABLE "deployment_profiles" ADD CONSTRAINT "FK_f33f91f0bf7ddbf935a15e9c70f" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deployment_profiles" ADD CONSTRAINT "FK_388892a02006bc27612920a5ac5" FOREIGN KEY ("migrated_provider_id") REFERENCES "providers"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "app_stage_profiles" ADD CONSTRAINT "FK_693baaa057d200e795266c8ee88" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "app_stage_profiles" ADD CONSTRAINT "FK_b011b91cb45151bc479fab28e33" FOREIGN KEY ("profile_id") REFERENCES "deployment_profiles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_stage_profiles" DROP CONSTRAINT "FK_b011b91cb45151bc479fab28e33"`);
        await queryRunner.query(`ALTER TABLE "app_stage_profiles" DROP CONSTRAINT "FK_693baaa057d200e795266c8ee88"`);
        await queryRunner.query(`ALTER TABLE "deployment_profiles" DROP CONSTRAINT "FK_388892a02006bc27612920a5ac5"`);
        await queryRunner.query(`ALTER TABLE "deployment_profiles" DROP CONSTRAINT "FK_f33f91f0bf7ddbf935a15e9c70f"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_1e590d9cfcc6170f883875533d"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_b011b91cb45151bc479fab28e3"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_5df18f3d8a6b84bbe12cfd8c0c"`);
        await queryRunner.query(`DROP TABLE "app_stage_profiles"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_47c8c6a0907d8200c22212f5a9"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_deployment_profiles_pending"`);
        await queryRunner.query(`DROP TABLE "deployment_profiles"`);
    }

}
