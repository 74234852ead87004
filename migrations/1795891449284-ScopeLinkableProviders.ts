import { MigrationInterface, QueryRunner } from "typeorm";

export class ScopeLinkableProviders1795891449284 implements MigrationInterface {
    name = 'ScopeLinkableProviders1795891449284'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "scope_linkable_provider_ids" uuid array`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "scope_linkable_provider_ids"`);
    }

}
