import { MigrationInterface, QueryRunner } from "typeorm";

// The person's answer to a customer feedback template ({submitted_at, feedback_screens}): null until then. Nullable
// with no default, so adding it changes only the catalog.

export class CustomerFeedback1796537082291 implements MigrationInterface {
    name = 'CustomerFeedback1796537082291'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages"
            ADD "feedback" jsonb
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages" DROP COLUMN "feedback"
        `);
    }

}
