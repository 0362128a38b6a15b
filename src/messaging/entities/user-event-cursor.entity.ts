import { Column, Entity, PrimaryColumn } from 'typeorm';

// The last cursor handed out per person. It is bumped by an upsert in the event's transaction, so the row lock
// makes cursors commit in order: a reader never sees cursor n+1 before n (a bigserial would allow that).
@Entity('user_event_cursors')
export class UserEventCursorEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 20 })
  userId: string;

  @Column({ name: 'last_cursor', type: 'bigint', default: 0 })
  lastCursor: string;
}
