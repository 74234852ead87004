import { MigrationInterface, QueryRunner } from "typeorm";

export class ServerPresence1795893774589 implements MigrationInterface {
    name = 'ServerPresence1795893774589'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "server_presence" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "hostname" text NOT NULL, "pid" integer NOT NULL, "url" text, "key_ids" text array NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7d24167750b2ae4fcdb2e836b72" PRIMARY KEY ("id"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "server_presence"`);
    }

}
