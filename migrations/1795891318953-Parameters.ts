import { MigrationInterface, QueryRunner } from "typeorm";

export class Parameters1795891318953 implements MigrationInterface {
    name = 'Parameters1795891318953'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "parameters" ("id" uuid NOT NULL, "org_id" uuid NOT NULL, "service_id" uuid, "instance_id" uuid, "name" text NOT NULL, "description" text, "is_secret" boolean NOT NULL, "value" text, "value_hint" text, "value_key_id" text, "value_ciphertext" bytea, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_parameters_value_or_sealed" CHECK (("is_secret" AND "value" IS NULL AND "value_ciphertext" IS NOT NULL AND "value_key_id" IS NOT NULL) OR (NOT "is_secret" AND "value" IS NOT NULL AND "value_ciphertext" IS NULL AND "value_key_id" IS NULL)), CONSTRAINT "CHK_parameters_one_owner" CHECK (num_nonnulls("service_id", "instance_id") <= 1), CONSTRAINT "PK_6b03a26baa3161f87fa87588859" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_parameters_instance_name" ON "parameters"  ("instance_id", "name") WHERE instance_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_parameters_service_name" ON "parameters"  ("service_id", "name") WHERE service_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_parameters_org_name" ON "parameters"  ("org_id", "name") WHERE service_id IS NULL AND instance_id IS NULL`);
        await queryRunner.query(`ALTER TABLE "parameters" ADD CONSTRAINT "FK_fc612e240c9298ea168f80bcfcb" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "parameters" ADD CONSTRAINT "FK_4ad9c0a501cfe76f36312300c98" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "parameters" ADD CONSTRAINT "FK_7b5a8c42830ae7f82965411f9cf" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "parameters" DROP CONSTRAINT "FK_7b5a8c42830ae7f82965411f9cf"`);
        await queryRunner.query(`ALTER TABLE "parameters" DROP CONSTRAINT "FK_4ad9c0a501cfe76f36312300c98"`);
        await queryRunner.query(`ALTER TABLE "parameters" DROP CONSTRAINT "FK_fc612e240c9298ea168f80bcfcb"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_parameters_org_name"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_parameters_service_name"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_parameters_instance_name"`);
        await queryRunner.query(`DROP TABLE "parameters"`);
    }

}
