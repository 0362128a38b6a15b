import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// One person's own persistent menu on a Page (Graph's custom_user_settings), shown to them instead of the Page's.
@Entity('custom_user_settings')
export class CustomUserSettingsEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @PrimaryColumn({ type: 'varchar', length: 20 })
  psid: string;

  // The normalized libs/templates PersistentMenu[] (per locale).
  @Column({ name: 'persistent_menu', type: 'jsonb' })
  persistentMenu: unknown[];

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
