import { MigrationInterface, QueryRunner } from "typeorm";

export class WebhookEventsNoPageIndex1796458306178 implements MigrationInterface {
    name = 'WebhookEventsNoPageIndex1796458306178'
    // No query reads webhook_events by page; the index only cost every message an insert. CONCURRENTLY, so a
    // live deploy's outbox writes don't queue behind the drop's lock.
    transaction = false

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX CONCURRENTLY IF EXISTS "public"."webhook_events_page_idx"
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_events_page_idx" ON "webhook_events" USING btree ("page_id", "created_at")
        `);
    }

}
