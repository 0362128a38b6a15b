import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// Everything a person's devices are told, in order: the cursor is per person, gap-free (see UserEventCursorEntity).
// WebSocket catch-up and long-poll both read `WHERE user_id = $1 AND cursor > $2 ORDER BY cursor`.
@Entity('user_events')
// The pruner deletes by age.
@Index('user_events_created_idx', ['createdAt'])
export class UserEventEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 20 })
  userId: string;

  @PrimaryColumn({ type: 'bigint' })
  cursor: string;

  @Column({ type: 'varchar', length: 16 })
  type: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
