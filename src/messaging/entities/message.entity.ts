import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';

export type MessageSender = 'person' | 'page';
export type MessageKind = 'message' | 'postback';

// One message of a thread. `content` is the normalized libs/templates MessageContent, or {postback}.
@Entity('messages')
@Unique('messages_thread_seq_uq', ['threadId', 'seq'])
// A person's retry carries the same client_message_id: the second insert fails here and writes nothing.
@Unique('messages_client_id_uq', ['threadId', 'sender', 'clientMessageId'])
export class MessageEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  mid: string;

  @Column({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'varchar', length: 8 })
  sender: MessageSender;

  @Column({ name: 'app_id', type: 'varchar', length: 20, nullable: true })
  appId: string | null;

  @Column({ type: 'varchar', length: 16 })
  kind: MessageKind;

  @Column({ type: 'bigint' })
  timestamp: string;

  @Column({ type: 'jsonb' })
  content: Record<string, unknown>;

  // Each side's one reaction, an emoji: {person?, page?}.
  @Column({ type: 'jsonb', default: {} })
  reactions: { person?: string; page?: string };

  // How many times the person edited this message's text (Messenger allows 5).
  @Column({ name: 'num_edit', type: 'smallint', default: 0 })
  numEdit: number;

  // When the person tapped "Reveal code" on this coupon (ms); null until then. Set once: the bots hear it once.
  @Column({ name: 'coupon_revealed_at', type: 'bigint', nullable: true })
  couponRevealedAt: string | null;

  // The person's answer to this customer feedback request ({submitted_at, feedback_screens}); null until then. Set
  // once: the bots hear it once.
  @Column({ type: 'jsonb', nullable: true })
  feedback: Record<string, unknown> | null;

  // The person's thumbs on a bot's message: 'good' or 'bad'; null until then (response_feedback).
  @Column({ name: 'response_feedback', type: 'varchar', length: 4, nullable: true })
  responseFeedback: string | null;

  @Column({ name: 'client_message_id', type: 'varchar', length: 64, nullable: true })
  clientMessageId: string | null;
}
