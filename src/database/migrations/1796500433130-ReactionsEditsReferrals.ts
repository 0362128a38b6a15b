import { MigrationInterface, QueryRunner } from "typeorm";

export class ReactionsEditsReferrals1796500433130 implements MigrationInterface {
    name = 'ReactionsEditsReferrals1796500433130'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages"
            ADD "reactions" jsonb NOT NULL DEFAULT '{}'
        `);
        await queryRunner.query(`
            ALTER TABLE "messages"
            ADD "num_edit" smallint NOT NULL DEFAULT '0'
        `);
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "pending_ref" character varying(250)
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "pending_ref"
        `);
        await queryRunner.query(`
            ALTER TABLE "messages" DROP COLUMN "num_edit"
        `);
        await queryRunner.query(`
            ALTER TABLE "messages" DROP COLUMN "reactions"
        `);
    }

}
