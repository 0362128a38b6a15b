import { MigrationInterface, QueryRunner } from "typeorm";

export class ScriptLogSource1796494881864 implements MigrationInterface {
    name = 'ScriptLogSource1796494881864'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "script_logs"
            ADD "source" character varying(8) NOT NULL DEFAULT 'script'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "script_logs" DROP COLUMN "source"
        `);
    }

}
