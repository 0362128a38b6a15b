import { MigrationInterface, QueryRunner } from "typeorm";

export class AccountLinking1796527404988 implements MigrationInterface {
    name = 'AccountLinking1796527404988'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "account_links" (
                "thread_id" character varying(20) NOT NULL,
                "linked_at" bigint NOT NULL,
                CONSTRAINT "PK_d770ad39db8ea0fe57a835df018" PRIMARY KEY ("thread_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "account_linking_tokens" (
                "token_hash" character varying(64) NOT NULL,
                "thread_id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "expires_at" bigint NOT NULL,
                "completed_at" bigint,
                CONSTRAINT "PK_b977222255676c617bab070903a" PRIMARY KEY ("token_hash")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "account_linking_tokens_thread_idx" ON "account_linking_tokens" ("thread_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."account_linking_tokens_thread_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "account_linking_tokens"
        `);
        await queryRunner.query(`
            DROP TABLE "account_links"
        `);
    }

}
