import { MigrationInterface, QueryRunner } from "typeorm";

export class DeliveryEventIndex1796437609854 implements MigrationInterface {
    name = 'DeliveryEventIndex1796437609854'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" ("event_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_event_idx"
        `);
    }

}
