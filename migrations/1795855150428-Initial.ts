import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795855150428 implements MigrationInterface {
    name = 'Initial1795855150428'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "orgs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "slug" text NOT NULL, "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_ed4cb7ee9ca5967c101d13bea4a" UNIQUE ("slug"), CONSTRAINT "PK_9eed8bfad4c9e0dc8648e090efe" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TYPE "public"."role" AS ENUM('ADMIN', 'DEVELOPER', 'DEPLOYER')`);
        await queryRunner.query(`CREATE TABLE "access_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "name" text NOT NULL, "role" "public"."role" NOT NULL, "token_hash" bytea NOT NULL, "token_hint" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_5b5b1faa493232a15cb01d7dde2" UNIQUE ("token_hash"), CONSTRAINT "PK_acdb83140f2654f870d92236303" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_0409613dfc52472bcb1a721eb2" ON "access_keys"  ("org_id") `);
        await queryRunner.query(`CREATE TABLE "apps" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c5121fda0f8268f1f7f84134e19" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_1d9b0f9a608bfbdebcae6af9a9" ON "apps"  ("org_id", "name") `);
        await queryRunner.query(`CREATE TABLE "services" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "app_id" uuid NOT NULL, "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ba2d347a3168a296416c6c5ccb2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_1cde87d283c408140fc80a1305" ON "services"  ("org_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_9b150d07052c70447357d5f74c" ON "services"  ("app_id", "name") `);
        await queryRunner.query(`CREATE TABLE "instances" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "service_id" uuid NOT NULL, "stage" text NOT NULL, "region" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_deployed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_11862209053330b4765f7f54178" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_4db20d67406d19154d15e18fe9" ON "instances"  ("org_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_instances_stage_region" ON "instances"  ("service_id", "stage", "region") WHERE region IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_instances_stage_only" ON "instances"  ("service_id", "stage") WHERE region IS NULL`);
        await queryRunner.query(`CREATE TYPE "public"."provider_type" AS ENUM('AWS', 'STRIPE', 'TWILIO')`);
        await queryRunner.query(`CREATE TYPE "public"."credential_kind" AS ENUM('AWS_ROLE', 'AWS_ACCESS_KEY', 'STRIPE_SECRET_KEY', 'TWILIO_AUTH_TOKEN')`);
        await queryRunner.query(`CREATE TABLE "providers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "name" text NOT NULL, "type" "public"."provider_type" NOT NULL, "kind" "public"."credential_kind" NOT NULL, "settings" jsonb NOT NULL, "secret_key_id" text, "secret_ciphertext" bytea, "is_default" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_providers_id_type" UNIQUE ("id", "type"), CONSTRAINT "PK_af13fc2ebf382fe0dad2e4793aa" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_providers_default_per_type" ON "providers"  ("org_id", "type") WHERE is_default`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_37e18cbac81899490668c9446e" ON "providers"  ("org_id", "name") `);
        await queryRunner.query(`CREATE TABLE "service_provider_links" ("service_id" uuid NOT NULL, "provider_type" "public"."provider_type" NOT NULL, "provider_id" uuid NOT NULL, "org_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_99e4770ed41f9aaf26e603a842b" PRIMARY KEY ("service_id", "provider_type"))`);
        await queryRunner.query(`CREATE INDEX "IDX_f07cdd0c15c2fe9f19bb8f20cb" ON "service_provider_links"  ("provider_id") `);
        await queryRunner.query(`CREATE TABLE "instance_provider_links" ("instance_id" uuid NOT NULL, "provider_type" "public"."provider_type" NOT NULL, "provider_id" uuid NOT NULL, "org_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3c093b7964c71ab4dbeba565bf6" PRIMARY KEY ("instance_id", "provider_type"))`);
        await queryRunner.query(`CREATE INDEX "IDX_d7d3dcac27d6b4068c0ff3837c" ON "instance_provider_links"  ("provider_id") `);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD CONSTRAINT "FK_0409613dfc52472bcb1a721eb28" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "apps" ADD CONSTRAINT "FK_be4d1e0f38fbf8ef856120efc20" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "services" ADD CONSTRAINT "FK_f255df2080f93ed4c77156424f5" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "instances" ADD CONSTRAINT "FK_2f839a7d41cbcb008c1fb99531b" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "providers" ADD CONSTRAINT "FK_1fb3e0b7ad392bd573508811fb2" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "service_provider_links" ADD CONSTRAINT "FK_b8c5888e51e04a4b0d585fbdf40" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "service_provider_links" ADD CONSTRAINT "FK_4159543f4eeeb0a806d4476cc46" FOREIGN KEY ("provider_id", "provider_type") REFERENCES "providers"("id","type") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "instance_provider_links" ADD CONSTRAINT "FK_5cc943da98ea87c7afb786dfcc9" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "instance_provider_links" ADD CONSTRAINT "FK_3db016ee523a3fb622b848609b4" FOREIGN KEY ("provider_id", "provider_type") REFERENCES "providers"("id","type") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "instance_provider_links" DROP CONSTRAINT "FK_3db016ee523a3fb622b848609b4"`);
        await queryRunner.query(`ALTER TABLE "instance_provider_links" DROP CONSTRAINT "FK_5cc943da98ea87c7afb786dfcc9"`);
        await queryRunner.query(`ALTER TABLE "service_provider_links" DROP CONSTRAINT "FK_4159543f4eeeb0a806d4476cc46"`);
        await queryRunner.query(`ALTER TABLE "service_provider_links" DROP CONSTRAINT "FK_b8c5888e51e04a4b0d585fbdf40"`);
        await queryRunner.query(`ALTER TABLE "providers" DROP CONSTRAINT "FK_1fb3e0b7ad392bd573508811fb2"`);
        await queryRunner.query(`ALTER TABLE "instances" DROP CONSTRAINT "FK_2f839a7d41cbcb008c1fb99531b"`);
        await queryRunner.query(`ALTER TABLE "services" DROP CONSTRAINT "FK_f255df2080f93ed4c77156424f5"`);
        await queryRunner.query(`ALTER TABLE "apps" DROP CONSTRAINT "FK_be4d1e0f38fbf8ef856120efc20"`);
        await queryRunner.query(`ALTER TABLE "access_keys" DROP CONSTRAINT "FK_0409613dfc52472bcb1a721eb28"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_d7d3dcac27d6b4068c0ff3837c"`);
        await queryRunner.query(`DROP TABLE "instance_provider_links"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_f07cdd0c15c2fe9f19bb8f20cb"`);
        await queryRunner.query(`DROP TABLE "service_provider_links"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_37e18cbac81899490668c9446e"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_providers_default_per_type"`);
        await queryRunner.query(`DROP TABLE "providers"`);
        await queryRunner.query(`DROP TYPE "public"."credential_kind"`);
        await queryRunner.query(`DROP TYPE "public"."provider_type"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_instances_stage_only"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_instances_stage_region"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_4db20d67406d19154d15e18fe9"`);
        await queryRunner.query(`DROP TABLE "instances"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_9b150d07052c70447357d5f74c"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_1cde87d283c408140fc80a1305"`);
        await queryRunner.query(`DROP TABLE "services"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_1d9b0f9a608bfbdebcae6af9a9"`);
        await queryRunner.query(`DROP TABLE "apps"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_0409613dfc52472bcb1a721eb2"`);
        await queryRunner.query(`DROP TABLE "access_keys"`);
        await queryRunner.query(`DROP TYPE "public"."role"`);
        await queryRunner.query(`DROP TABLE "orgs"`);
    }

}
