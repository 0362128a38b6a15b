import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// An app connected to a page, and the webhook fields the page sends it (Graph's subscribed_apps).
@Entity('page_apps')
@Index('page_apps_app_idx', ['appId'])
export class PageAppEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @Column({ name: 'subscribed_fields', type: 'text', array: true, default: () => "'{}'" })
  subscribedFields: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
