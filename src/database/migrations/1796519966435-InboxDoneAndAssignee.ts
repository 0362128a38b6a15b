import { MigrationInterface, QueryRunner } from "typeorm";

// The Page Inbox's folders and assignment: the seq a conversation was marked done at, and which admin has it.
// Nullable, no default and no index: adding them rewrites nothing, and the inbox filters the Page's threads it reads.
export class InboxDoneAndAssignee1796519966435 implements MigrationInterface {
    name = 'InboxDoneAndAssignee1796519966435'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "page_done_seq" bigint
        `);
        await queryRunner.query(`
            ALTER TABLE "threads"
            ADD "assignee_user_id" character varying(20)
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "assignee_user_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "threads" DROP COLUMN "page_done_seq"
        `);
    }

}
