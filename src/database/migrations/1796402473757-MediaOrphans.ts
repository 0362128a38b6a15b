import { MigrationInterface, QueryRunner } from "typeorm";

export class MediaOrphans1796402473757 implements MigrationInterface {
    name = 'MediaOrphans1796402473757'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "media_objects"
            ADD "referenced" boolean NOT NULL DEFAULT true
        `);
        await queryRunner.query(`
            CREATE INDEX "media_objects_unreferenced_idx" ON "media_objects" ("created_at")
            WHERE NOT referenced
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."media_objects_unreferenced_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "media_objects" DROP COLUMN "referenced"
        `);
    }

}
