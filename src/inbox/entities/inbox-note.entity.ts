import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// A note the Page's people leave on a conversation for each other (the Page Inbox). Never shown to the person,
// never sent to a bot. Its thread's notes are read oldest first.
@Entity('inbox_notes')
@Index('inbox_notes_thread_idx', ['threadId', 'createdAt'])
export class InboxNoteEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  // The admin who wrote it (an account id); only they delete it.
  @Column({ name: 'author_user_id', type: 'varchar', length: 20 })
  authorUserId: string;

  @Column({ type: 'varchar', length: 2000 })
  text: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
