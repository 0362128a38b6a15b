import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// A Page's persona (Messenger's Personas API): a name and picture its bot can send as, e.g. a human agent.
// Deleting one sets deleted_at: messages sent as it keep the name and picture they were sent with.
@Entity('personas')
@Index('personas_page_idx', ['pageId'])
export class PersonaEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  // The picture, fetched from profile_picture_url into the media pipeline (src/media media_objects.id).
  @Column({ name: 'media_id', type: 'varchar', length: 20 })
  mediaId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
