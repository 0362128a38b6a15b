import { MigrationInterface, QueryRunner } from "typeorm";

// The Page Inbox's notes: what its people leave on a conversation for each other (never the person's or a bot's),
// read per thread, oldest first.

export class InboxNotes1796522098665 implements MigrationInterface {
    name = 'InboxNotes1796522098665'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "inbox_notes" (
                "id" character varying(20) NOT NULL,
                "thread_id" character varying(20) NOT NULL,
                "page_id" character varying(20) NOT NULL,
                "author_user_id" character varying(20) NOT NULL,
                "text" character varying(2000) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_124f5244621b10752efa516a286" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "inbox_notes_thread_idx" ON "inbox_notes" ("thread_id", "created_at")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."inbox_notes_thread_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "inbox_notes"
        `);
    }

}
