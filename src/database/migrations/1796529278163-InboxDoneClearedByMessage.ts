import { MigrationInterface, QueryRunner } from "typeorm";

// A conversation is done while page_done_seq is set: from now on the person's next message clears it (the message's
// own thread update), where it used to stay and the list checked for a later message of theirs on every read. The
// conversations that came back that way before this are cleared here, once. A process of the previous release that
// appends after this ran (a rolling deploy) leaves its thread done until the person writes again or it is refiled.
export class InboxDoneClearedByMessage1796529278163 implements MigrationInterface {
    name = 'InboxDoneClearedByMessage1796529278163'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            UPDATE "threads" t SET "page_done_seq" = NULL
            WHERE t.page_done_seq IS NOT NULL AND EXISTS (
                SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.seq > t.page_done_seq AND m.sender = 'person')
        `);
    }

    public async down(): Promise<void> {
        // Nothing to undo: the previous release reads a cleared page_done_seq as not done, which these are.
    }

}
