import { MigrationInterface, QueryRunner } from "typeorm";

export class PullServedAt1796439592743 implements MigrationInterface {
    name = 'PullServedAt1796439592743'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries"
            ADD "served_at" TIMESTAMP WITH TIME ZONE
        `);
        // Until now a pull delivery's attempts counted only its servings: those already served stay acknowledgeable.
        await queryRunner.query(`
            UPDATE "webhook_deliveries" SET "served_at" = now() WHERE "status" = 'pull' AND "attempts" > 0
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries" DROP COLUMN "served_at"
        `);
    }

}
