import { MigrationInterface, QueryRunner } from "typeorm";

export class AccountLinkingTokensExpiresIndex1796537226707 implements MigrationInterface {
    name = 'AccountLinkingTokensExpiresIndex1796537226707'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "account_linking_tokens_expires_idx" ON "account_linking_tokens" ("expires_at")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."account_linking_tokens_expires_idx"
        `);
    }

}
