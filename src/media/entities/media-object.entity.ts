import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// One upload (by a person into a thread, or by a bot for a page). Bytes live in MediaStorage under the
// sha256; two uploads of the same file are two rows over one stored copy.
@Entity('media_objects')
@Index('media_objects_sha256_idx', ['sha256'])
// The orphan collector's scan: old uploads no message has used.
@Index('media_objects_unreferenced_idx', ['createdAt'], { where: 'NOT referenced' })
export class MediaObjectEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'varchar', length: 8 })
  kind: string;

  @Column({ type: 'varchar', length: 100 })
  mime: string;

  @Column({ type: 'bigint' })
  size: string;

  // [{name, key, mime, size, width?, height?}] as MediaProcessor stored them.
  @Column({ type: 'jsonb' })
  variants: unknown;

  @Column({ type: 'int', nullable: true })
  width: number | null;

  @Column({ type: 'int', nullable: true })
  height: number | null;

  @Column({ name: 'duration_ms', type: 'int', nullable: true })
  durationMs: number | null;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  // Null for a bot's upload (reusable across the page's threads).
  @Column({ name: 'thread_id', type: 'varchar', length: 20, nullable: true })
  threadId: string | null;

  // Set when a message uses the row (or a bot sends it by URL). New uploads are inserted with false; rows from
  // before the column existed default to true, so the orphan collector never takes them.
  @Column({ type: 'boolean', default: true })
  referenced: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
