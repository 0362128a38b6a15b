import { MigrationInterface, QueryRunner } from "typeorm";

export class MarketingMessages1796537138032 implements MigrationInterface {
    name = 'MarketingMessages1796537138032'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "notification_message_tokens" (
                "id" uuid NOT NULL,
                "thread_id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "mid" character varying(64) NOT NULL,
                "title" text NOT NULL,
                "payload" text NOT NULL,
                "frequency" character varying(8),
                "timezone" character varying(64) NOT NULL,
                "token_hash" character varying(64) NOT NULL,
                "token_sealed" text NOT NULL,
                "status" character varying(8) NOT NULL,
                "created_at" bigint NOT NULL,
                "expires_at" bigint NOT NULL,
                "last_sent_at" bigint,
                "refreshed" boolean NOT NULL DEFAULT false,
                CONSTRAINT "notification_message_tokens_hash_uq" UNIQUE ("token_hash"),
                CONSTRAINT "notification_message_tokens_topic_uq" UNIQUE ("thread_id", "title"),
                CONSTRAINT "PK_abba61b0103f3a91c14127248d9" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "notification_message_tokens_page_idx" ON "notification_message_tokens" ("page_id", "created_at", "id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."notification_message_tokens_page_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "notification_message_tokens"
        `);
    }

}
