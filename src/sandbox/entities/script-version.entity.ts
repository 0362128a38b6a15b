import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// One upload of a Page's script. Immutable: a new upload is a new version.
@Entity('script_versions')
@Index('script_versions_page_version_uq', ['pageId', 'version'], { unique: true })
export class ScriptVersionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ type: 'int' })
  version: number;

  @Column({ type: 'text' })
  source: string;

  @Column({ name: 'subscribed_fields', type: 'text', array: true })
  subscribedFields: string[];

  @Column({ name: 'allowed_hosts', type: 'text', array: true, default: () => "'{}'" })
  allowedHosts: string[];

  // The Page's overrides of the sandbox limits (Partial<SandboxLimits>), checked by resolveLimits at upload.
  @Column({ type: 'jsonb', default: () => "'{}'" })
  limits: Record<string, number>;

  @Column({ name: 'created_by', type: 'varchar', length: 20 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
