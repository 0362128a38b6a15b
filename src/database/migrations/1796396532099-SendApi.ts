import { MigrationInterface, QueryRunner } from "typeorm";

export class SendApi1796396532099 implements MigrationInterface {
    name = 'SendApi1796396532099'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "message_attachments" (
                "id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "app_id" character varying(20),
                "type" character varying(16) NOT NULL,
                "url" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_e5085d973567c61e9306f10f95b" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "message_attachments_page_idx" ON "message_attachments" ("page_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "messenger_profiles" (
                "page_id" character varying(20) NOT NULL,
                "settings" jsonb NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_b9dee492c4ab7fb621a4d32d704" PRIMARY KEY ("page_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "send_idempotency_keys" (
                "page_id" character varying(20) NOT NULL,
                "app_id" character varying(20) NOT NULL,
                "key" character varying(255) NOT NULL,
                "status" smallint NOT NULL,
                "body" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_7a54a52be3fb9563fb0a2c2f6e6" PRIMARY KEY ("page_id", "app_id", "key")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "send_idempotency_keys_created_idx" ON "send_idempotency_keys" ("created_at")
        `);
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "person_last_at" bigint NOT NULL DEFAULT '0'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "person_last_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."send_idempotency_keys_created_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "send_idempotency_keys"
        `);
        await queryRunner.query(`
            DROP TABLE "messenger_profiles"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."message_attachments_page_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "message_attachments"
        `);
    }

}
