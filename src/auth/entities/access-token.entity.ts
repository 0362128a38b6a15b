import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type TokenKind = 'person' | 'page';

// Only the SHA-256 of a token is stored; the token itself is shown once.
@Entity('access_tokens')
@Index('access_tokens_page_app_idx', ['pageId', 'appId'])
export class AccessTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'varchar', length: 8 })
  kind: TokenKind;

  @Column({ name: 'user_id', type: 'varchar', length: 20, nullable: true })
  userId: string | null;

  @Column({ name: 'page_id', type: 'varchar', length: 20, nullable: true })
  pageId: string | null;

  @Column({ name: 'app_id', type: 'varchar', length: 20, nullable: true })
  appId: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
