import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// One Messenger messaging item, written in the same transaction as what caused it.
@Entity('webhook_events')
@Index('webhook_events_page_idx', ['pageId', 'createdAt'])
export class WebhookEventEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ type: 'varchar', length: 64 })
  field: string;

  @Column({ type: 'jsonb' })
  messaging: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
