import { MigrationInterface, QueryRunner } from "typeorm";

export class GatewayHealth1796395700482 implements MigrationInterface {
    name = 'GatewayHealth1796395700482'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "webhook_endpoints" (
                "app_id" character varying(20) NOT NULL,
                "failing_since" TIMESTAMP WITH TIME ZONE,
                "warned_at" TIMESTAMP WITH TIME ZONE,
                "paused_at" TIMESTAMP WITH TIME ZONE,
                "pause_reason" text,
                "last_probe_at" TIMESTAMP WITH TIME ZONE,
                "ramp_limit" integer,
                "last_success_at" TIMESTAMP WITH TIME ZONE,
                "last_error_at" TIMESTAMP WITH TIME ZONE,
                "last_error" text,
                CONSTRAINT "PK_031af7d1320c4377dbe756cd5fd" PRIMARY KEY ("app_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "app_subscriptions"
            ADD "inactive_reason" text
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_attempts"
            ADD "batch_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries"
            ADD "batch_id" uuid
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_batch_idx" ON "webhook_deliveries" ("batch_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_app_status_idx" ON "webhook_deliveries" ("app_id", "status", "seq")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_app_status_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_batch_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries" DROP COLUMN "batch_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_attempts" DROP COLUMN "batch_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "app_subscriptions" DROP COLUMN "inactive_reason"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_endpoints"
        `);
    }

}
