import { MigrationInterface, QueryRunner } from "typeorm";

export class RefuseNewStages1795902174845 implements MigrationInterface {
    name = 'RefuseNewStages1795902174845'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "orgs" ADD "refuse_new_stages" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "access_keys" ADD "scope_may_create_stages" boolean NOT NULL DEFAULT false`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "access_keys" DROP COLUMN "scope_may_create_stages"`);
        await queryRunner.query(`ALTER TABLE "orgs" DROP COLUMN "refuse_new_stages"`);
    }

}
