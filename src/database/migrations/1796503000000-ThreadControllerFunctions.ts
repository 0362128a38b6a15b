import { MigrationInterface, QueryRunner } from "typeorm";

// Handover protocol: who controls a thread, as PL/pgSQL functions rather than inline SQL. Inline, the lookup added
// three relations to every outbox statement's plan (~0.35 ms of planning per unprepared statement, measured with
// pgbench); a PL/pgSQL function's own queries are planned once per session, and a page without a primary receiver
// costs one probe of page_apps_primary_uq. Hand-written: TypeORM does not generate functions.
export class ThreadControllerFunctions1796503000000 implements MigrationInterface {
    name = 'ThreadControllerFunctions1796503000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // The app controlling a thread whose owner_app_id is p_owner: that owner when it is the Page Inbox or an app
        // still connected with a role, else (idle) the primary receiver; NULL when the page has no primary.
        await queryRunner.query(`
            CREATE FUNCTION thread_controller(p_page varchar, p_owner varchar) RETURNS varchar
            LANGUAGE plpgsql STABLE AS $$
            DECLARE
                v_primary varchar;
            BEGIN
                SELECT app_id INTO v_primary FROM page_apps WHERE page_id = p_page AND handover_role = 'primary';
                IF v_primary IS NULL THEN
                    RETURN NULL;
                END IF;
                IF p_owner = '263902037430900' OR EXISTS (
                    SELECT 1 FROM page_apps WHERE page_id = p_page AND app_id = p_owner AND handover_role IS NOT NULL) THEN
                    RETURN p_owner;
                END IF;
                RETURN v_primary;
            END $$
        `);
        // The same, for the thread of PSID p_psid on the page.
        await queryRunner.query(`
            CREATE FUNCTION thread_controller_by_psid(p_page varchar, p_psid varchar) RETURNS varchar
            LANGUAGE plpgsql STABLE AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM page_apps WHERE page_id = p_page AND handover_role = 'primary') THEN
                    RETURN NULL;
                END IF;
                RETURN thread_controller(p_page, (SELECT owner_app_id FROM threads WHERE page_id = p_page AND psid = p_psid));
            END $$
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP FUNCTION thread_controller_by_psid(varchar, varchar)`);
        await queryRunner.query(`DROP FUNCTION thread_controller(varchar, varchar)`);
    }

}
