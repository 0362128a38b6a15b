import { MigrationInterface, QueryRunner } from "typeorm";

// Handover idle timeout: when control of a thread last changed, and a partial index for the sweep that expires it
// (only controlled threads; not on last_timestamp, which every message moves).
export class HandoverIdleTimeout1796518429250 implements MigrationInterface {
    name = 'HandoverIdleTimeout1796518429250'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "owner_since" bigint
        `);
        // Threads controlled before this: their clock starts now, so none expires at the first sweep after the
        // deploy because its control changed at a time nobody recorded.
        await queryRunner.query(`
            UPDATE "threads" SET "owner_since" = (extract(epoch FROM now()) * 1000)::bigint
            WHERE owner_app_id IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "threads_owner_since_idx" ON "threads" ("owner_since")
            WHERE owner_app_id IS NOT NULL
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."threads_owner_since_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "owner_since"
        `);
    }

}
