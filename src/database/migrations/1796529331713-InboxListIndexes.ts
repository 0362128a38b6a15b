import { MigrationInterface, QueryRunner } from "typeorm";

// The Page Inbox's list read off indexes (ThreadEntity): one per folder, and one per folder by assignee. A live
// deploy's threads table holds every conversation, and a plain CREATE INDEX would hold every message's thread update
// for the whole build: CONCURRENTLY, so outside a transaction. A build that fails (or a deploy stopped meanwhile)
// leaves an invalid index of its name, which IF NOT EXISTS would keep: that one is dropped and built again.
export class InboxListIndexes1796529331713 implements MigrationInterface {
    name = 'InboxListIndexes1796529331713'
    transaction = false

    public async up(queryRunner: QueryRunner): Promise<void> {
        const invalid: { name: string }[] = await queryRunner.query(`
            SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE NOT i.indisvalid AND c.relname IN
                ('threads_page_done_assignee_idx', 'threads_page_inbox_assignee_idx', 'threads_page_done_idx', 'threads_page_inbox_idx')
        `);
        for (const { name } of invalid) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."${name}"`);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_done_assignee_idx" ON "threads" (
                "page_id",
                "assignee_user_id",
                "last_timestamp",
                "created_at",
                "id"
            )
            WHERE last_seq > 0
                AND page_done_seq IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_inbox_assignee_idx" ON "threads" (
                "page_id",
                "assignee_user_id",
                "last_timestamp",
                "created_at",
                "id"
            )
            WHERE last_seq > 0
                AND page_done_seq IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_done_idx" ON "threads" ("page_id", "last_timestamp", "created_at", "id")
            WHERE last_seq > 0
                AND page_done_seq IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_inbox_idx" ON "threads" ("page_id", "last_timestamp", "created_at", "id")
            WHERE last_seq > 0
                AND page_done_seq IS NULL
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."threads_page_inbox_idx"
        `);
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."threads_page_done_idx"
        `);
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."threads_page_inbox_assignee_idx"
        `);
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."threads_page_done_assignee_idx"
        `);
    }

}
