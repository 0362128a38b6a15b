import { MigrationInterface, QueryRunner } from "typeorm";

export class HostedScripts1796397932748 implements MigrationInterface {
    name = 'HostedScripts1796397932748'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "page_scripts" (
                "page_id" character varying(20) NOT NULL,
                "app_id" character varying(20) NOT NULL,
                "active_version_id" uuid,
                "consecutive_failures" integer NOT NULL DEFAULT '0',
                "paused_at" TIMESTAMP WITH TIME ZONE,
                "paused_reason" text,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_a61a825eb3d58ceb02f2a556a18" PRIMARY KEY ("page_id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "page_scripts_app_uq" ON "page_scripts" ("app_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "script_logs" (
                "id" BIGSERIAL NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "version_id" uuid NOT NULL,
                "delivery_id" uuid,
                "level" character varying(8) NOT NULL,
                "message" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_4fb29564e613b79f10a13b57c8d" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "script_logs_version_idx" ON "script_logs" ("version_id", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "script_logs_page_idx" ON "script_logs" ("page_id", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "script_store" (
                "page_id" character varying(20) NOT NULL,
                "key" character varying(256) NOT NULL,
                "value" jsonb NOT NULL,
                "bytes" integer NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_f8e312feb1e8004adbf4fe9db36" PRIMARY KEY ("page_id", "key")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "script_versions" (
                "id" uuid NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "version" integer NOT NULL,
                "source" text NOT NULL,
                "subscribed_fields" text array NOT NULL,
                "allowed_hosts" text array NOT NULL DEFAULT '{}',
                "limits" jsonb NOT NULL DEFAULT '{}',
                "created_by" character varying(20) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_05494fb2a8bc305d461b06dcb63" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "script_versions_page_version_uq" ON "script_versions" ("page_id", "version")
        `);
        await queryRunner.query(`
            ALTER TABLE "apps"
            ADD "hosted" boolean NOT NULL DEFAULT false
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries"
            ADD "target" character varying(8) NOT NULL DEFAULT 'webhook'
        `);
        await queryRunner.query(`
            CREATE INDEX "webhook_deliveries_script_due_idx" ON "webhook_deliveries" ("next_attempt_at")
            WHERE target = 'script'
                AND status = 'pending'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."webhook_deliveries_script_due_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries" DROP COLUMN "target"
        `);
        await queryRunner.query(`
            ALTER TABLE "apps" DROP COLUMN "hosted"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."script_versions_page_version_uq"
        `);
        await queryRunner.query(`
            DROP TABLE "script_versions"
        `);
        await queryRunner.query(`
            DROP TABLE "script_store"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."script_logs_page_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."script_logs_version_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "script_logs"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."page_scripts_app_uq"
        `);
        await queryRunner.query(`
            DROP TABLE "page_scripts"
        `);
    }

}
