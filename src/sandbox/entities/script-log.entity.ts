import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

// console output and invocation outcomes, bounded per invocation by the runtime and per Page by retention.
@Entity('script_logs')
@Index('script_logs_page_idx', ['pageId', 'id'])
@Index('script_logs_version_idx', ['versionId', 'id'])
export class ScriptLogEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'version_id', type: 'uuid' })
  versionId: string;

  @Column({ name: 'delivery_id', type: 'uuid', nullable: true })
  deliveryId: string | null;

  @Column({ type: 'varchar', length: 8 })
  level: string;

  // 'script' (what it printed) or 'platform' (how a run ended, pauses, activations): a script can print any text,
  // so a reader tells the platform's own lines by this, never by their wording.
  @Column({ type: 'varchar', length: 8, default: 'script' })
  source: string;

  @Column({ type: 'text' })
  message: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
