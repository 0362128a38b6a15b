import { MigrationInterface, QueryRunner } from "typeorm";

export class ClaimIndexes1796432719505 implements MigrationInterface {
    name = 'ClaimIndexes1796432719505'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_due_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_batch_idx"
        `);
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
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_retry_batch_idx" ON "webhook_deliveries" ("batch_id")
            WHERE status = 'pending'
                AND batch_id IS NOT NULL
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_retry_batch_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_held_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_unclaimed_idx"
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_batch_idx" ON "webhook_deliveries" USING btree ("batch_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("status", "next_attempt_at")
        `);
    }

}
