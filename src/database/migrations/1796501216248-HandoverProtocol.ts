import { MigrationInterface, QueryRunner } from "typeorm";

export class HandoverProtocol1796501216248 implements MigrationInterface {
    name = 'HandoverProtocol1796501216248'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "owner_app_id" character varying(20)
        `);
        await queryRunner.query(`
            ALTER TABLE "page_apps"
            ADD "handover_role" character varying(16)
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "page_apps_primary_uq" ON "page_apps" ("page_id")
            WHERE handover_role = 'primary'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."page_apps_primary_uq"
        `);
        await queryRunner.query(`
            ALTER TABLE "page_apps" DROP COLUMN "handover_role"
        `);
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "owner_app_id"
        `);
    }

}
