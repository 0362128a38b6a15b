import { Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// A Page's hosted bot: its internal app (the outbox's delivery target), the active version and the breaker.
@Entity('page_scripts')
@Index('page_scripts_app_uq', ['appId'], { unique: true })
export class PageScriptEntity {
  @PrimaryColumn({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @Column({ name: 'active_version_id', type: 'uuid', nullable: true })
  activeVersionId: string | null;

  @Column({ name: 'consecutive_failures', type: 'int', default: 0 })
  consecutiveFailures: number;

  // Set by the breaker; deliveries stay pending until an activation clears it.
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true })
  pausedAt: Date | null;

  @Column({ name: 'paused_reason', type: 'text', nullable: true })
  pausedReason: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
