import { MigrationInterface, QueryRunner } from "typeorm";

export class ThreadBlockedAt1796539743704 implements MigrationInterface {
    name = 'ThreadBlockedAt1796539743704'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "blocked_at" bigint
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "blocked_at"
        `);
    }

}
