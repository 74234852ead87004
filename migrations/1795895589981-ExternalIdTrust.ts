import { MigrationInterface, QueryRunner } from "typeorm";

export class ExternalIdTrust1795895589981 implements MigrationInterface {
    name = 'ExternalIdTrust1795895589981'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "orgs" ADD "refuse_unenforced_external_id" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "providers" ADD "verified_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "providers" ADD "external_id_enforced" boolean`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "providers" DROP COLUMN "external_id_enforced"`);
        await queryRunner.query(`ALTER TABLE "providers" DROP COLUMN "verified_at"`);
        await queryRunner.query(`ALTER TABLE "orgs" DROP COLUMN "refuse_unenforced_external_id"`);
    }

}
