import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// One Log In tap: the token the business's login page gets, stored only as its SHA-256. It names the thread
// (so the Page's bot can ask whose it is) until it expires, and completes the link once.
@Entity('account_linking_tokens')
@Index('account_linking_tokens_thread_idx', ['threadId'])
// The worker's sweep of expired tokens (AccountLinkingService.deleteExpiredTokens).
@Index('account_linking_tokens_expires_idx', ['expiresAt'])
export class AccountLinkingTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  // Epoch ms.
  @Column({ name: 'expires_at', type: 'bigint' })
  expiresAt: string;

  // When the login page sent the person back (linked or not); a token completes once.
  @Column({ name: 'completed_at', type: 'bigint', nullable: true })
  completedAt: string | null;
}
