import { MigrationInterface, QueryRunner } from "typeorm";

export class DeliveryEventIndex1796437609854 implements MigrationInterface {
    name = 'DeliveryEventIndex1796437609854'
    // On a live deploy the table holds all its history: build the index without blocking the outbox's writes.
    transaction = false

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_event_idx" ON "webhook_deliveries" ("event_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."webhook_deliveries_event_idx"
        `);
    }

}
