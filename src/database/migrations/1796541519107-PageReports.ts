import { MigrationInterface, QueryRunner } from "typeorm";

// People's reports of their conversations with Pages, for the operators: listed newest first by status (or by Page
// and status, which also counts a Page's open ones), at most one open per thread.

export class PageReports1796541519107 implements MigrationInterface {
    name = 'PageReports1796541519107'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "page_reports" (
                "id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "thread_id" character varying(20) NOT NULL,
                "reporter_user_id" character varying(20) NOT NULL,
                "reason" character varying(16) NOT NULL,
                "details" character varying(1000),
                "reported_seq" bigint NOT NULL,
                "status" character varying(16) NOT NULL DEFAULT 'open',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "resolved_at" TIMESTAMP WITH TIME ZONE,
                "resolution" character varying(16),
                "resolution_note" character varying(1000),
                "resolved_by" character varying(80),
                CONSTRAINT "PK_eb5a32a0cffc530a965d5fa5b09" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "page_reports_page_status_idx" ON "page_reports" ("page_id", "status", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "page_reports_status_idx" ON "page_reports" ("status", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "page_reports_open_thread_uq" ON "page_reports" ("thread_id")
            WHERE status = 'open'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."page_reports_open_thread_uq"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."page_reports_status_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."page_reports_page_status_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "page_reports"
        `);
    }

}
