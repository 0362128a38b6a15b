import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// The first answer to a Send API call made with an Idempotency-Key, per (page, app). Inserted in the
// message's own transaction: a concurrent duplicate waits on the primary key, then finds the first answer.
@Entity('send_idempotency_keys')
@Index('send_idempotency_keys_created_idx', ['createdAt'])
export class SendIdempotencyKeyEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  // '' for a sender without an app (a hosted script).
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  @Column({ type: 'smallint' })
  status: number;

  @Column({ type: 'jsonb' })
  body: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
