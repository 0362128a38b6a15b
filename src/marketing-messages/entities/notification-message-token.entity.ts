import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

// One person's opt-in to one topic of a Page's marketing messages (Messenger's notification_messages). The token
// the Page's apps send to is stored as its SHA-256 (the lookup key) and an AES-256-GCM sealed copy under
// SECRETS_KEY, as app secrets are: Meta hands the token back (stop and resume webhooks, the token list), so the
// platform must be able to; no plaintext is kept.
@Entity('notification_message_tokens')
// One token per person and topic: a second opt-in answers the first while it lives.
@Unique('notification_message_tokens_topic_uq', ['threadId', 'title'])
@Unique('notification_message_tokens_hash_uq', ['tokenHash'])
// The Page's token list (GET /{page}/notification_message_tokens), oldest first.
@Index('notification_message_tokens_page_idx', ['pageId', 'createdAt', 'id'])
export class NotificationMessageTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  // The opt-in request the person tapped (the latest one, for a renewed token).
  @Column({ type: 'varchar', length: 64 })
  mid: string;

  // The topic: the request's title (Meta's topic_title; at most 65 characters).
  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  payload: string;

  // DAILY, WEEKLY or MONTHLY when the request set one (deprecated by Meta); null: the default cap.
  @Column({ type: 'varchar', length: 8, nullable: true })
  frequency: string | null;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'token_sealed', type: 'text' })
  tokenSealed: string;

  // active, or stopped by the person (who may resume).
  @Column({ type: 'varchar', length: 8 })
  status: 'active' | 'stopped';

  // Epoch ms: when this token was minted, when it stops working, the last marketing message sent with it.
  @Column({ name: 'created_at', type: 'bigint' })
  createdAt: string;

  @Column({ name: 'expires_at', type: 'bigint' })
  expiresAt: string;

  @Column({ name: 'last_sent_at', type: 'bigint', nullable: true })
  lastSentAt: string | null;

  // The token replaced an expired one of the same topic (the webhook's user_token_status REFRESHED).
  @Column({ type: 'boolean', default: false })
  refreshed: boolean;
}
