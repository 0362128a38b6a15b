import { MigrationInterface, QueryRunner } from "typeorm";

const INDEXES = ['threads_page_done_assignee_idx', 'threads_page_inbox_assignee_idx', 'threads_page_done_idx', 'threads_page_inbox_idx'];

// The Page Inbox's list read off indexes (ThreadEntity): one per folder, and one per folder by assignee, on the
// minute of the thread's last activity (activity_minute), which a message rewrites only when the minute turns, so
// its thread update stays HOT. Not in one transaction: the backfill goes in batches of rows (each its own
// commit, so a live deploy's appends wait on a batch, not on the whole table), and a plain CREATE INDEX would hold
// every message's thread update for the whole build: CONCURRENTLY. A build that fails (or a deploy stopped
// meanwhile) leaves an invalid index of its name, which IF NOT EXISTS would keep: that one is dropped and built
// again, as is one of these names on other columns (a database that ran this branch's earlier last_timestamp
// version). Every step can run again. A process of the previous release that appends after its batch ran (a
// rolling deploy) leaves the thread's minute behind, or unset on a thread's first message (then the thread is out
// of the list), until the thread's next message.
export class InboxListByMinute1796532575999 implements MigrationInterface {
    name = 'InboxListByMinute1796532575999'
    transaction = false

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD IF NOT EXISTS "activity_minute" bigint
        `);
        // Threads without a message (last_seq 0, last_timestamp 0) stay null: they are not in the list.
        for (let after = ''; ; ) {
            const [{ last }]: { last: string | null }[] = await queryRunner.query(`
                WITH b AS (SELECT id FROM threads WHERE id > $1 ORDER BY id LIMIT 5000),
                u AS (
                    UPDATE threads t SET activity_minute = t.last_timestamp / 60000 FROM b
                     WHERE t.id = b.id AND t.last_seq > 0 AND t.activity_minute IS DISTINCT FROM t.last_timestamp / 60000)
                SELECT max(id) AS last FROM b
            `, [after]);
            if (last === null) break;
            after = last;
        }
        const stale: { name: string }[] = await queryRunner.query(`
            SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE c.relname = ANY($1) AND (NOT i.indisvalid OR pg_get_indexdef(i.indexrelid) NOT LIKE '%activity_minute)%')
        `, [INDEXES]);
        for (const { name } of stale) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."${name}"`);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_done_assignee_idx" ON "threads" ("page_id", "assignee_user_id", "activity_minute")
            WHERE activity_minute IS NOT NULL
                AND page_done_seq IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_inbox_assignee_idx" ON "threads" ("page_id", "assignee_user_id", "activity_minute")
            WHERE activity_minute IS NOT NULL
                AND page_done_seq IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_done_idx" ON "threads" ("page_id", "activity_minute")
            WHERE activity_minute IS NOT NULL
                AND page_done_seq IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_page_inbox_idx" ON "threads" ("page_id", "activity_minute")
            WHERE activity_minute IS NOT NULL
                AND page_done_seq IS NULL
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        for (const name of [...INDEXES].reverse()) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."${name}"`);
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN IF EXISTS "activity_minute"
        `);
    }

}
