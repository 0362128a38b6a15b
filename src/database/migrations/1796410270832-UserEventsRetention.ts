import { MigrationInterface, QueryRunner } from "typeorm";

export class UserEventsRetention1796410270832 implements MigrationInterface {
    name = 'UserEventsRetention1796410270832'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "user_events_created_idx" ON "user_events" ("created_at")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."user_events_created_idx"
        `);
    }

}
