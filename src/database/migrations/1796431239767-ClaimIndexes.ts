import { MigrationInterface, QueryRunner } from "typeorm";

export class ClaimIndexes1796431239767 implements MigrationInterface {
    name = 'ClaimIndexes1796431239767'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_unclaimed_idx" ON "webhook_deliveries" ("app_id", "seq")
            WHERE status = 'pending'
                AND batch_id IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_held_idx" ON "webhook_deliveries" ("app_id", "thread_key", "seq")
            WHERE status = 'in_flight'
                OR (
                    status = 'pending'
                    AND batch_id IS NOT NULL
                )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_held_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_unclaimed_idx"
        `);
    }

}
