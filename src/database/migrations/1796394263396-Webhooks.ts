import { MigrationInterface, QueryRunner } from "typeorm";

export class Webhooks1796394263396 implements MigrationInterface {
    name = 'Webhooks1796394263396'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "webhook_deliveries" (
                "id" uuid NOT NULL,
                "seq" BIGSERIAL NOT NULL,
                "event_id" uuid NOT NULL,
                "app_id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "thread_key" character varying(64) NOT NULL,
                "status" character varying(12) NOT NULL DEFAULT 'pending',
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "lease_until" TIMESTAMP WITH TIME ZONE,
                "last_error" text,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries" ("app_id", "thread_key", "seq")
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("status", "next_attempt_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "webhook_events" (
                "id" uuid NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "field" character varying(64) NOT NULL,
                "messaging" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_4cba37e6a0acb5e1fc49c34ebfd" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_events_page_idx" ON "webhook_events" ("page_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "webhook_attempts" (
                "id" uuid NOT NULL,
                "delivery_id" uuid NOT NULL,
                "attempt" integer NOT NULL,
                "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "status_code" integer,
                "latency_ms" integer NOT NULL,
                "error" text,
                "response_body" text,
                CONSTRAINT "PK_2de7e7887ad97de459adab62638" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" ("delivery_id", "attempt")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_attempts_delivery_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_attempts"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_events_page_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_events"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_due_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_order_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_deliveries"
        `);
    }

}
