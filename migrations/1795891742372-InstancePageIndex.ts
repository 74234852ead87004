import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A service's instances in page order (stage/region, then id): each service's page of the dashboard
 * is read off this index, however many instances the org has. The expression must stay the same as
 * the ordering in the instance list's SQL. Declared on the entity with synchronize: false (TypeORM
 * cannot describe expression indexes).
 */
export class InstancePageIndex1795891742372 implements MigrationInterface {
    name = 'InstancePageIndex1795891742372'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_instances_page" ON "instances" ("service_id", (stage || '/' || coalesce(region, '')), "id")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_instances_page"`);
    }
}
