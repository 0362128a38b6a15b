import { MigrationInterface, QueryRunner } from "typeorm";

// When the person revealed a coupon's code (ms): null until then. Nullable with no default, so adding it rewrites
// no row of messages.

export class CouponReveal1796527550197 implements MigrationInterface {
    name = 'CouponReveal1796527550197'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages"
            ADD "coupon_revealed_at" bigint
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "messages" DROP COLUMN "coupon_revealed_at"
        `);
    }

}
