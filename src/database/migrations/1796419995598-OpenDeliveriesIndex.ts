import { MigrationInterface, QueryRunner } from "typeorm";

export class OpenDeliveriesIndex1796419995598 implements MigrationInterface {
    name = 'OpenDeliveriesIndex1796419995598'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_open_idx" ON "webhook_deliveries" ("app_id", "thread_key", "seq")
            WHERE status IN ('pending', 'in_flight')
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_open_idx"
        `);
    }

}
