import { MigrationInterface, QueryRunner } from "typeorm";

// The person's thumbs on a bot's message ('good' or 'bad'): null until then. Nullable with no default, so adding it
// changes only the catalog.

export class ResponseFeedback1796537947475 implements MigrationInterface {
    name = 'ResponseFeedback1796537947475'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages"
            ADD "response_feedback" character varying(4)
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages" DROP COLUMN "response_feedback"
        `);
    }

}
