import { MigrationInterface, QueryRunner } from "typeorm";

export class Personas1796501038680 implements MigrationInterface {
    name = 'Personas1796501038680'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "personas" (
                "id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "name" character varying(200) NOT NULL,
                "media_id" character varying(20) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_714aa5d028f8f3e6645e971cecd" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "personas_page_idx" ON "personas" ("page_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."personas_page_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "personas"
        `);
    }

}
