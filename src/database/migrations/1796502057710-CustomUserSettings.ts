import { MigrationInterface, QueryRunner } from "typeorm";

export class CustomUserSettings1796502057710 implements MigrationInterface {
    name = 'CustomUserSettings1796502057710'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "custom_user_settings" (
                "page_id" character varying(20) NOT NULL,
                "psid" character varying(20) NOT NULL,
                "persistent_menu" jsonb NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_3984e2220fe45611daaf33f47bd" PRIMARY KEY ("page_id", "psid")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "custom_user_settings"
        `);
    }

}
