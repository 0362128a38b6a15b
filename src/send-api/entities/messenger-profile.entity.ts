import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// A Page's Messenger Profile: the normalized libs/templates MessengerProfileSettings, one row per Page.
@Entity('messenger_profiles')
export class MessengerProfileEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ type: 'jsonb' })
  settings: Record<string, unknown>;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
