import { MigrationInterface, QueryRunner } from "typeorm";

export class PageDelivered1796409229246 implements MigrationInterface {
    name = 'PageDelivered1796409229246'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "page_delivered_seq" bigint NOT NULL DEFAULT '0'
        `);
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "page_delivered_watermark" bigint NOT NULL DEFAULT '0'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "page_delivered_watermark"
        `);
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "page_delivered_seq"
        `);
    }

}
