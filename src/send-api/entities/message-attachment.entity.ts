import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// An uploaded attachment (Attachment Upload API): for now the reference to its URL; the media
// pipeline will add the stored copy.
@Entity('message_attachments')
@Index('message_attachments_page_idx', ['pageId'])
export class MessageAttachmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'app_id', type: 'varchar', length: 20, nullable: true })
  appId: string | null;

  @Column({ type: 'varchar', length: 16 })
  type: string;

  @Column({ type: 'text' })
  url: string;

  // The stored copy (src/media media_objects.id).
  @Column({ name: 'media_id', type: 'varchar', length: 20, nullable: true })
  mediaId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
