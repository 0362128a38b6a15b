import { MigrationInterface, QueryRunner } from "typeorm";

export class Registry1796392635173 implements MigrationInterface {
    name = 'Registry1796392635173'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "users" (
                "id" character varying(20) NOT NULL,
                "username" character varying(32) NOT NULL,
                "password_hash" text NOT NULL,
                "name" character varying(100) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"),
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "app_subscriptions" (
                "app_id" character varying(20) NOT NULL,
                "object" character varying(32) NOT NULL,
                "callback_url" text NOT NULL,
                "fields" jsonb NOT NULL DEFAULT '[]',
                "active" boolean NOT NULL DEFAULT true,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_d15d45873c744a0bee967cc9291" PRIMARY KEY ("app_id", "object")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "apps" (
                "id" character varying(20) NOT NULL,
                "name" character varying(100) NOT NULL,
                "owner_id" character varying(20) NOT NULL,
                "require_appsecret_proof" boolean NOT NULL DEFAULT false,
                "suspended_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_c5121fda0f8268f1f7f84134e19" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "apps_owner_idx" ON "apps" ("owner_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "access_tokens" (
                "token_hash" character(64) NOT NULL,
                "kind" character varying(8) NOT NULL,
                "user_id" character varying(20),
                "page_id" character varying(20),
                "app_id" character varying(20),
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_9bbf8c3c1a897742f78d50e729b" PRIMARY KEY ("token_hash")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "access_tokens_page_app_idx" ON "access_tokens" ("page_id", "app_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "app_secrets" (
                "id" uuid NOT NULL,
                "app_id" character varying(20) NOT NULL,
                "secret_hash" character(64) NOT NULL,
                "secret_sealed" text NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_bfcdc1066e2265da09890961d83" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "app_secrets_app_idx" ON "app_secrets" ("app_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "page_admins" (
                "page_id" character varying(20) NOT NULL,
                "user_id" character varying(20) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_eb1027beb7c72aeac73d56187f6" PRIMARY KEY ("page_id", "user_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "page_admins_user_idx" ON "page_admins" ("user_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "page_apps" (
                "page_id" character varying(20) NOT NULL,
                "app_id" character varying(20) NOT NULL,
                "subscribed_fields" text array NOT NULL DEFAULT '{}',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_1f4364e16d85f58c9d381c94c1c" PRIMARY KEY ("page_id", "app_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "page_apps_app_idx" ON "page_apps" ("app_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "pages" (
                "id" character varying(20) NOT NULL,
                "name" character varying(100) NOT NULL,
                "category" character varying(100),
                "created_by" character varying(20) NOT NULL,
                "suspended_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_8f21ed625aa34c8391d636b7d3b" PRIMARY KEY ("id")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "pages"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."page_apps_app_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "page_apps"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."page_admins_user_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "page_admins"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."app_secrets_app_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "app_secrets"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."access_tokens_page_app_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "access_tokens"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."apps_owner_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "apps"
        `);
        await queryRunner.query(`
            DROP TABLE "app_subscriptions"
        `);
        await queryRunner.query(`
            DROP TABLE "users"
        `);
    }

}
