import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

// One Messenger messaging item, written in the same transaction as what caused it. Read only by id (its
// deliveries point at it), so its primary key is its only index: every message writes one row here.
@Entity('webhook_events')
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
