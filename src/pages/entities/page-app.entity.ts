import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// An app connected to a page, and the webhook fields the page sends it (Graph's subscribed_apps).
@Entity('page_apps')
@Index('page_apps_app_idx', ['appId'])
// Handover protocol: at most one primary receiver per page.
@Index('page_apps_primary_uq', ['pageId'], { unique: true, where: `handover_role = 'primary'` })
export class PageAppEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @Column({ name: 'subscribed_fields', type: 'text', array: true, default: () => "'{}'" })
  subscribedFields: string[];

  // Handover protocol: 'primary' (owns idle threads, may take control), 'secondary', or none. A page with a primary
  // routes each thread's events to its owner and the other apps' copies to `standby`; without one, every app gets
  // every event, as before.
  @Column({ name: 'handover_role', type: 'varchar', length: 16, nullable: true })
  handoverRole: 'primary' | 'secondary' | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
