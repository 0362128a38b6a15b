import { MigrationInterface, QueryRunner } from "typeorm";

// The Page Inbox's name search (`q`, lower(name) LIKE '%…%') off a trigram index on people's names. pg_trgm is a
// trusted extension (a role with CREATE on the database may create it without superuser); Debian's packages and the
// official image ship it, and PGlite loads it (src/database/embedded-postgres.ts). TypeORM cannot describe this
// index (an expression, GIN, an operator class): UserEntity names it with synchronize false, and this migration is
// written by hand. Not in a transaction, as InboxListByMinute: a plain CREATE INDEX would hold every signup for the
// whole build: CONCURRENTLY. A build that fails leaves an invalid index of its name, which IF NOT EXISTS would keep:
// that one is dropped and built again. Every step can run again. No GIN pending list (fastupdate off): a signup
// writes its name's trigrams at once, where new names would wait in a list that every search reads through, and
// that the planner costs, until a vacuum: enough of them and it stops choosing the index.
export class PersonNameSearch1796536988088 implements MigrationInterface {
    name = 'PersonNameSearch1796536988088'
    transaction = false

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
        const stale: { name: string }[] = await queryRunner.query(`
            SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE c.relname = 'users_name_trgm_idx' AND NOT i.indisvalid
        `);
        for (const { name } of stale) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."${name}"`);
        await queryRunner.query(`
            CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_name_trgm_idx" ON "users" USING gin (lower("name") gin_trgm_ops)
            WITH (fastupdate = off)
        `);
        // The planner's estimate of how many names a pattern matches comes from this expression's statistics,
        // which only ANALYZE gathers (autovacuum would, later).
        await queryRunner.query(`ANALYZE "users"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."users_name_trgm_idx"`);
        // The extension stays: it may have been there before, and other things may use it.
    }

}
