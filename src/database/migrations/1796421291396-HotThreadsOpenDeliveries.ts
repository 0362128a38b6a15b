import { MigrationInterface, QueryRunner } from "typeorm";

export class HotThreadsOpenDeliveries1796421291396 implements MigrationInterface {
    name = 'HotThreadsOpenDeliveries1796421291396'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."threads_user_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_order_idx"
        `);
        await queryRunner.query(`
            CREATE INDEX "threads_user_idx" ON "threads" ("user_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_open_idx" ON "webhook_deliveries" ("app_id", "thread_key", "seq")
            WHERE status IN ('pending', 'in_flight')
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_open_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."threads_user_idx"
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries" USING btree ("app_id", "thread_key", "seq")
        `);
        await queryRunner.query(`
            CREATE INDEX "threads_user_idx" ON "threads" USING btree ("user_id", "last_timestamp")
        `);
    }

}
