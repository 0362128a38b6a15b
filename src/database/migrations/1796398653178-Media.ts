import { MigrationInterface, QueryRunner } from "typeorm";

export class Media1796398653178 implements MigrationInterface {
    name = 'Media1796398653178'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "media_objects" (
                "id" character varying(20) NOT NULL,
                "sha256" character(64) NOT NULL,
                "kind" character varying(8) NOT NULL,
                "mime" character varying(100) NOT NULL,
                "size" bigint NOT NULL,
                "variants" jsonb NOT NULL,
                "width" integer,
                "height" integer,
                "duration_ms" integer,
                "page_id" character varying(20) NOT NULL,
                "thread_id" character varying(20),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_6f25a90e781d66ee0c2515c11f7" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "media_objects_sha256_idx" ON "media_objects" ("sha256")
        `);
        await queryRunner.query(`
            ALTER TABLE "message_attachments"
            ADD "media_id" character varying(20)
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "message_attachments" DROP COLUMN "media_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."media_objects_sha256_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "media_objects"
        `);
    }

}
