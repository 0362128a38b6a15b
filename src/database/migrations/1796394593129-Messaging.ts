import { MigrationInterface, QueryRunner } from "typeorm";

export class Messaging1796394593129 implements MigrationInterface {
    name = 'Messaging1796394593129'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "messages" (
                "mid" character varying(64) NOT NULL,
                "thread_id" character varying(20) NOT NULL,
                "seq" bigint NOT NULL,
                "sender" character varying(8) NOT NULL,
                "app_id" character varying(20),
                "kind" character varying(16) NOT NULL,
                "timestamp" bigint NOT NULL,
                "content" jsonb NOT NULL,
                "client_message_id" character varying(64),
                CONSTRAINT "messages_client_id_uq" UNIQUE ("thread_id", "sender", "client_message_id"),
                CONSTRAINT "messages_thread_seq_uq" UNIQUE ("thread_id", "seq"),
                CONSTRAINT "PK_3e504219bb9b0237749f5991aab" PRIMARY KEY ("mid")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "threads" (
                "id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "user_id" character varying(20) NOT NULL,
                "psid" character varying(20) NOT NULL,
                "last_seq" bigint NOT NULL DEFAULT '0',
                "last_timestamp" bigint NOT NULL DEFAULT '0',
                "person_read_seq" bigint NOT NULL DEFAULT '0',
                "person_read_watermark" bigint NOT NULL DEFAULT '0',
                "person_delivered_watermark" bigint NOT NULL DEFAULT '0',
                "page_read_seq" bigint NOT NULL DEFAULT '0',
                "page_read_watermark" bigint NOT NULL DEFAULT '0',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "threads_page_psid_uq" UNIQUE ("page_id", "psid"),
                CONSTRAINT "threads_page_user_uq" UNIQUE ("page_id", "user_id"),
                CONSTRAINT "PK_d8a74804c34fc3900502cd27275" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "threads_user_idx" ON "threads" ("user_id", "last_timestamp")
        `);
        await queryRunner.query(`
            CREATE TABLE "user_event_cursors" (
                "user_id" character varying(20) NOT NULL,
                "last_cursor" bigint NOT NULL DEFAULT '0',
                CONSTRAINT "PK_3539b1157353f0c3a5d41edea79" PRIMARY KEY ("user_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "user_events" (
                "user_id" character varying(20) NOT NULL,
                "cursor" bigint NOT NULL,
                "type" character varying(16) NOT NULL,
                "payload" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_75d3129a30a228624013d2bd42e" PRIMARY KEY ("user_id", "cursor")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "user_events"
        `);
        await queryRunner.query(`
            DROP TABLE "user_event_cursors"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."threads_user_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "threads"
        `);
        await queryRunner.query(`
            DROP TABLE "messages"
        `);
    }

}
